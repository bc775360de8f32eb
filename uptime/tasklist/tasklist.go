// Package tasklist picks, orders and writes what `ecs-uptime tasks` lists:
// from one scan's tasks it keeps those a Filter asks for (status, kind,
// family, age), orders them oldest first, and writes them as a table for
// people or as JSON or CSV for programs.
//
// It reads no source and keeps no clock: the command scans (uptime/ecsapi)
// and hands it the tasks and the time. It stops nothing.
package tasklist

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"ecs-uptime/uptime"
)

// Statuses a Filter takes: running lists the tasks whose Running() is
// true; stuck those in a status other than RUNNING and STOPPED; all both.
// A STOPPED task is never listed.
const (
	StatusRunning = "running"
	StatusStuck   = "stuck"
	StatusAll     = "all"
)

// Kinds a Filter takes. Standalone counts a task of unknown kind in: the
// one-off that should have ended is what the command is for.
const (
	KindStandalone = "standalone"
	KindService    = "service"
	KindAll        = "all"
)

// Statuses and Kinds list the values a Filter takes, the default first.
var (
	Statuses = []string{StatusRunning, StatusStuck, StatusAll}
	Kinds    = []string{KindStandalone, KindService, KindAll}
)

// Filter says which tasks to list. Its zero value lists every running
// standalone task.
type Filter struct {
	Status    string        // one of Statuses; "" is StatusRunning
	Kind      string        // one of Kinds; "" is KindStandalone
	Family    string        // only this task definition family; "" for any
	OlderThan time.Duration // only tasks at least this old; 0 for any age
}

// Check reports a field that holds no accepted value.
func (f Filter) Check() error {
	switch {
	case f.Status != "" && !slices.Contains(Statuses, f.Status):
		return fmt.Errorf("status %q: want %s", f.Status, oneOf(Statuses))
	case f.Kind != "" && !slices.Contains(Kinds, f.Kind):
		return fmt.Errorf("kind %q: want %s", f.Kind, oneOf(Kinds))
	case f.OlderThan < 0:
		return fmt.Errorf("older-than %s: want 0 or more", f.OlderThan)
	case strings.ContainsAny(f.Family, ":/"):
		return fmt.Errorf("family %q: want a task definition family alone, without revision or ARN (db-migrate, not db-migrate:42)", f.Family)
	}
	return nil
}

func oneOf(values []string) string {
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// Row is a listed task with its age.
type Row struct {
	Task *uptime.Task // in the slice given to Select
	// Since is when the age starts: the task's startedAt while it runs;
	// in another status, as DESIGN.md's Task lifecycle counts the status
	// age, its createdAt before it runs (PROVISIONING, PENDING,
	// ACTIVATING) and its stoppingAt after. Zero when the source gave no
	// such time: the age is unknown.
	Since time.Time
	// Age is the time from Since to the scan, never negative (a start in
	// the future, clock skew, is 0).
	Age time.Duration
}

// KnownAge reports whether the row's age is known (Since is set).
func (r *Row) KnownAge() bool { return !r.Since.IsZero() }

// beforeRunning are the statuses of a task that has not run yet.
var beforeRunning = []string{"PROVISIONING", "PENDING", "ACTIVATING"}

// since returns when a task's age starts (see Row.Since).
func since(t *uptime.Task) time.Time {
	switch {
	case t.Running():
		return t.StartedAt
	case slices.Contains(beforeRunning, t.Status):
		return t.CreatedAt
	case !t.StoppingAt.IsZero():
		return t.StoppingAt
	case !t.StartedAt.IsZero():
		// A later status without stoppingAt: ECS sets it, but the
		// task's start bounds the status age better than its creation.
		return t.StartedAt
	}
	return t.CreatedAt
}

// Select returns the tasks f asks for, each with its age at now, oldest
// first; each Row points into tasks, which it does not change (ties by ARN, so that the order is the same every run; a task of
// unknown age last). A task of unknown age is left out by OlderThan.
func Select(tasks []uptime.Task, f Filter, now time.Time) []Row {
	var rows []Row
	for i := range tasks {
		t := &tasks[i]
		if !f.wants(t) {
			continue
		}
		r := Row{Task: t, Since: since(t)}
		if r.KnownAge() {
			r.Age = max(now.Sub(r.Since), 0)
		}
		if f.OlderThan > 0 && (!r.KnownAge() || r.Age < f.OlderThan) {
			continue
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b Row) int {
		if a.KnownAge() != b.KnownAge() {
			if a.KnownAge() {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Age, a.Age), strings.Compare(a.Task.ARN, b.Task.ARN))
	})
	return rows
}

// wants reports whether f lists t, age aside.
func (f Filter) wants(t *uptime.Task) bool {
	switch f.Status {
	case StatusRunning, "":
		if !t.Running() {
			return false
		}
	case StatusStuck:
		if t.Running() || t.Status == uptime.StatusStopped {
			return false
		}
	case StatusAll:
		if t.Status == uptime.StatusStopped {
			return false
		}
	}
	switch f.Kind {
	case KindStandalone, "":
		if t.Kind == uptime.KindService {
			return false
		}
	case KindService:
		if t.Kind != uptime.KindService {
			return false
		}
	}
	return f.Family == "" || t.Family == f.Family
}

// Age formats an age for the table: seconds under a minute ("42s"),
// minutes and seconds under an hour ("5m07s"), hours and minutes under two
// days ("26h03m"), days and hours beyond ("3d04h"). Each part is cut, not
// rounded: an age is never shown older than it is.
func Age(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", d/time.Minute, d%time.Minute/time.Second)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, d%time.Hour/time.Minute)
	}
	day := 24 * time.Hour
	return fmt.Sprintf("%dd%02dh", d/day, d%day/time.Hour)
}
