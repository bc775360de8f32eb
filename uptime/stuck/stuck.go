// Package stuck judges the tasks that sit in a status other than RUNNING and
// STOPPED: the "Task lifecycle" part of DESIGN.md, for the api source. A
// task stuck in PROVISIONING or PENDING (no capacity, an image that cannot
// be pulled) or in DEACTIVATING or DEPROVISIONING (a role or a network
// interface deleted under it) holds capacity, addresses or money while
// nothing runs.
//
// Each cycle, for every task of uptime.Cycle.Others in such a status, a
// Watch gives:
//   - the gauge ecs.task.status_age: seconds since the task's createdAt
//     while it is on its way to run (PROVISIONING, PENDING, ACTIVATING),
//     since its stoppingAt once it is on its way to stop (DEACTIVATING,
//     STOPPING, DEPROVISIONING; a status ECS adds later is aged from
//     stoppingAt when the task has one, else from createdAt). A task
//     without that time (ECS always gives both) is aged from when the Watch
//     first saw it in the status. A time in the future is age 0;
//   - with Policy.After set, the service check ecs.task.stuck: CRITICAL
//     once that age reaches After, OK before; and one event per onset,
//     "ECS task db-migrate:42 (…/5c2f0b9e…) stuck in PROVISIONING for
//     1h05m", with the task's size where known;
//   - one last OK check when the task leaves the status (to another one, to
//     RUNNING, to STOPPED, or out of the reads altogether), so that a
//     monitor resolves at once rather than at no-data.
//
// Both the gauge and the check carry the ecs_task_status tag: each status
// a task sits in is a series of its own, with its own onset. A task of a
// part a read could not see (uptime.Cycle.Held) keeps its state and sends
// nothing. A Watch starts with no memory: a restarted process announces a
// task already stuck once. It knows nothing about DogStatsD (an
// uptime.Output writes the signals) and keeps no clock: the cycle's time
// is the one the uptime.Tracker stamped.
package stuck

import (
	"fmt"
	"sort"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/lifetime"
)

// Policy is what counts as stuck.
type Policy struct {
	// After is the time in one status at which ecs.task.stuck turns
	// CRITICAL (ECS_UPTIME_STUCK_AFTER); zero sends no check and no event,
	// the gauge alone.
	After time.Duration
}

// Watch is the stage that judges the tasks in a status other than RUNNING
// and STOPPED. It is not safe for concurrent use; the pipeline calls Judge
// once per cycle.
type Watch struct {
	policy Policy
	tasks  map[string]*state // task ARN → its current status and what was sent about it
}

// state is what the Watch knows of one task in its current status.
type state struct {
	task      uptime.Task // as last seen in the status, for the tags of its last OK
	status    string
	firstSeen time.Time // when the Watch first saw it in the status
	critical  bool      // the onset was announced
}

// New returns a Watch for p.
func New(p Policy) *Watch { return &Watch{policy: p, tasks: map[string]*state{}} }

// Transitional reports whether a task is in a status the Watch judges: one
// its source gives (api) other than RUNNING, STOPPED and DELETED.
func Transitional(t *uptime.Task) bool { return !t.Running() && !t.Stopped() }

// Judge adds the cycle's gauges, checks and onset events to s, and the last
// OK of each task that left its status (uptime.Stage).
func (w *Watch) Judge(c *uptime.Cycle, s *uptime.Signals) {
	now := map[string]bool{} // tasks in a status the Watch judges, this cycle
	for i := range c.Others {
		t := &c.Others[i]
		if !Transitional(t) {
			continue
		}
		now[t.ARN] = true
		st := w.tasks[t.ARN]
		if st != nil && st.status != t.Status {
			w.leave(st, "now "+t.Status, s)
			st = nil
		}
		if st == nil {
			st = &state{status: t.Status, firstSeen: c.At}
			w.tasks[t.ARN] = st
		}
		st.task = *t
		w.judge(c.At, t, st, s)
	}
	w.forget(c, now, s)
}

// judge sends the gauge and, with a threshold, the check and the onset
// event of one task in its status.
func (w *Watch) judge(at time.Time, t *uptime.Task, st *state, s *uptime.Signals) {
	age := max(at.Sub(since(t, st)), 0)
	about := uptime.Subject{Task: t, Status: t.Status}
	s.Gauges = append(s.Gauges, uptime.Gauge{Name: uptime.MetricTaskStatusAge, Value: age.Seconds(), About: about})
	if w.policy.After <= 0 {
		return
	}
	status, rel := uptime.OK, "under"
	if age >= w.policy.After {
		status, rel = uptime.Critical, "over"
	}
	msg := fmt.Sprintf("task %s in %s for %s, %s %s", lifetime.Name(t), t.Status, lifetime.Age(age), rel, lifetime.Age(w.policy.After))
	s.Checks = append(s.Checks, uptime.Check{Name: uptime.CheckTaskStuck, Status: status, Message: msg, About: about})
	if status != uptime.Critical || st.critical {
		return
	}
	st.critical = true
	s.Events = append(s.Events, uptime.Event{
		Title: fmt.Sprintf("ECS task %s stuck in %s for %s", lifetime.Name(t), t.Status, lifetime.Age(age)),
		Text:  "CRITICAL: " + msg + "\n" + sinceLine(t) + lifetime.UsageAndDetails(t, ran(at, t)),
		Alert: uptime.AlertError, Key: t.ARN, At: at, About: uptime.Subject{Task: t},
	})
}

// leave sends the last OK of a task that left the status st is about,
// with the task's tags as they were in it.
func (w *Watch) leave(st *state, how string, s *uptime.Signals) {
	if w.policy.After <= 0 {
		return
	}
	t := st.task
	s.Checks = append(s.Checks, uptime.Check{Name: uptime.CheckTaskStuck, Status: uptime.OK,
		Message: fmt.Sprintf("task %s left %s: %s", lifetime.Name(&t), st.status, how),
		About:   uptime.Subject{Task: &t, Status: st.status}})
}

// forget ends the state of every task no longer in a status the Watch
// judges: its last OK, then nothing more. A held task keeps its state.
func (w *Watch) forget(c *uptime.Cycle, now map[string]bool, s *uptime.Signals) {
	var left []string
	for arn := range w.tasks {
		if !now[arn] {
			left = append(left, arn)
		}
	}
	if len(left) == 0 {
		return
	}
	sort.Strings(left) // the signals' order is the same from one run to the next
	where := make(map[string]string, len(c.Tasks)+len(c.Others)+len(c.Held))
	for _, arn := range c.Held {
		where[arn] = "held"
	}
	for i := range c.Tasks {
		where[c.Tasks[i].Task.ARN] = "now " + uptime.StatusRunning
	}
	for i := range c.Others {
		where[c.Others[i].ARN] = "now " + c.Others[i].Status
	}
	for _, arn := range left {
		how, ok := where[arn]
		switch {
		case how == "held":
			continue
		case !ok:
			how = "no longer listed"
		}
		w.leave(w.tasks[arn], how, s)
		delete(w.tasks, arn)
	}
}

// since is when the task entered the part of its lifecycle it is in:
// createdAt on its way to run, stoppingAt on its way to stop; for a task
// without it, when the Watch first saw it in the status.
func since(t *uptime.Task, st *state) time.Time {
	var from time.Time
	switch t.Status {
	case "PROVISIONING", "PENDING", "ACTIVATING":
		from = t.CreatedAt
	case "DEACTIVATING", "STOPPING", "DEPROVISIONING":
		from = t.StoppingAt
	default:
		from = t.StoppingAt
		if from.IsZero() {
			from = t.CreatedAt
		}
	}
	if from.IsZero() {
		return st.firstSeen
	}
	return from
}

// sinceLine says when the task was created, started and began to stop, as
// far as ECS gave it.
func sinceLine(t *uptime.Task) string {
	line := ""
	for _, tm := range []struct {
		what string
		at   time.Time
	}{{"created", t.CreatedAt}, {"started", t.StartedAt}, {"stopping since", t.StoppingAt}} {
		if tm.at.IsZero() {
			continue
		}
		if line != "" {
			line += ", "
		}
		line += tm.what + " " + tm.at.UTC().Format(time.RFC3339)
	}
	if line == "" {
		return ""
	}
	return line + "\n"
}

// ran is how long the task has run, and holds what it runs on: from its
// start to now; 0 for a task that never started.
func ran(at time.Time, t *uptime.Task) time.Duration {
	if t.StartedAt.IsZero() {
		return 0
	}
	return max(at.Sub(t.StartedAt), 0)
}
