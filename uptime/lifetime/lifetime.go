// Package lifetime turns a task's uptime into the ecs.task.lifetime
// verdict of DESIGN.md: a state (OK, WARNING, CRITICAL) against the
// configured thresholds, the message a human reads on a phone, whether the
// state is a new crossing worth one event, and whether the task has reached
// its maximum lifetime.
//
// A Judge is the pipeline stage (uptime.Stage) that turns the verdicts into
// signals: the service check, the crossing events, and the max-lifetime
// stop. It knows nothing about DogStatsD (an uptime.Output writes the
// signals) and keeps no clock: uptimes come from the uptime.Tracker.
package lifetime

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"ecs-uptime/uptime"
)

// State is a service-check status (uptime.Status).
type State = uptime.Status

// States.
const (
	OK       = uptime.OK
	Warning  = uptime.Warning
	Critical = uptime.Critical
)

// Policy holds the thresholds; a zero duration turns that threshold off.
type Policy struct {
	Warning     time.Duration // ECS_UPTIME_WARNING
	Critical    time.Duration // ECS_UPTIME_CRITICAL
	MaxLifetime time.Duration // ECS_UPTIME_MAX_LIFETIME (own task, ecs mode)
}

// Checks reports whether the service check is sent at all: only when at
// least one threshold is set.
func (p Policy) Checks() bool { return p.Warning > 0 || p.Critical > 0 }

// State returns the state of a task of that uptime. A threshold is reached
// at exactly its value.
func (p Policy) State(up time.Duration) State {
	switch {
	case p.Critical > 0 && up >= p.Critical:
		return Critical
	case p.Warning > 0 && up >= p.Warning:
		return Warning
	}
	return OK
}

// Verdict is what one task's uptime amounts to in one cycle.
type Verdict struct {
	Task    uptime.TaskUptime
	Check   bool   // send the service check (a threshold is set)
	State   State  // the service-check status
	Message string // the service-check message
	// Announce is set when the state is a crossing not announced yet
	// (OK→WARNING, →CRITICAL, or a non-OK state first seen since start):
	// send one event with EventTitle and EventText.
	Announce bool
	// Stop is set when the task reached the maximum lifetime: send the
	// stop event (EventTitle, StopText) and end the process.
	Stop bool
}

// Judge applies a Policy cycle after cycle and remembers, per task ARN,
// the last state it announced, so that each crossing gives one event. It
// starts with no memory: a restarted sidecar announces a non-OK state once.
// A Judge is not safe for concurrent use; the pipeline calls it once per
// cycle.
type Judge struct {
	Policy Policy
	// Log gets the one line that says a max lifetime does not apply to a
	// service's task (slog.Default when nil).
	Log       *slog.Logger
	announced map[string]State
	unstopped map[string]bool // task ARNs whose max lifetime was said not to apply
}

// NewJudge returns a Judge for p.
func NewJudge(p Policy) *Judge {
	return &Judge{Policy: p, announced: map[string]State{}, unstopped: map[string]bool{}}
}

// Judge adds the signals of one cycle to s (uptime.Stage): per task, the
// ecs.task.lifetime check when a threshold is set, and one event per
// crossing; when a task reached the max lifetime, the stop event instead
// of a crossing event, and s.Exit (wrapping uptime.ErrStop). A task the
// cycle reports only (uptime.TaskUptime.ReportOnly: a service's task under
// ECS_UPTIME_SERVICE_TASKS=report) gets none of these.
func (j *Judge) Judge(c *uptime.Cycle, s *uptime.Signals) {
	for i, v := range j.Verdicts(*c) {
		about := uptime.Subject{Task: c.Tasks[i].Task} // Verdicts keeps the cycle's order
		if t := v.Task; t.ReportOnly && t.Task.Kind == uptime.KindService && j.Policy.MaxLifetime > 0 && !j.unstopped[t.Task.ARN] {
			// Said once, not silently: whoever set the max lifetime
			// meant it to stop this task.
			j.unstopped[t.Task.ARN] = true
			log := j.Log
			if log == nil {
				log = slog.Default()
			}
			log.Warn("ECS_UPTIME_MAX_LIFETIME does not apply to this task: it belongs to a service, and ECS_UPTIME_SERVICE_TASKS=report judges nothing about a service's task; set ECS_UPTIME_SERVICE_TASKS=judge for the max lifetime to stop it",
				slog.String("task_arn", t.Task.ARN), slog.String("service", t.Task.Service), slog.Duration("max_lifetime", j.Policy.MaxLifetime))
		}
		if v.Check {
			s.Checks = append(s.Checks, uptime.Check{Name: uptime.CheckTaskLifetime, Status: v.State, Message: v.Message, About: about})
		}
		switch {
		case v.Stop:
			// One event, the stop, rather than a crossing event followed
			// by it: the stop says the state and pages once.
			s.Events = append(s.Events, uptime.Event{Title: v.EventTitle(), Text: v.StopText(j.Policy.MaxLifetime),
				Alert: uptime.AlertError, Key: v.Task.Task.ARN, At: s.At, About: about})
			if s.Exit == nil {
				s.Exit = fmt.Errorf("task %s reached the max lifetime %s after %s: %w",
					v.Task.Task.ARN, Age(j.Policy.MaxLifetime), Age(v.Task.Uptime), uptime.ErrStop)
			}
		case v.Announce:
			alert := uptime.AlertWarning
			if v.State == Critical {
				alert = uptime.AlertError
			}
			s.Events = append(s.Events, uptime.Event{Title: v.EventTitle(), Text: v.EventText(),
				Alert: alert, Key: v.Task.Task.ARN, At: s.At, About: about})
		}
	}
}

// Verdicts returns the verdicts of one cycle, one per task, in the cycle's
// order, and forgets the tasks the cycle no longer lists (but not those it
// holds: a partial read says nothing about them). A task the cycle reports
// only (uptime.TaskUptime.ReportOnly) gets a verdict with its state and
// message but no Check, Announce nor Stop.
func (j *Judge) Verdicts(c uptime.Cycle) []Verdict {
	out := make([]Verdict, 0, len(c.Tasks))
	seen := make(map[string]bool, len(c.Tasks)+len(c.Held))
	for _, arn := range c.Held {
		seen[arn] = true
	}
	for _, t := range c.Tasks {
		seen[t.Task.ARN] = true
		st := j.Policy.State(t.Uptime)
		v := Verdict{Task: t, State: st, Message: j.message(t, st)}
		if t.ReportOnly {
			// Reported, not judged: no check, no event, no stop, and no
			// crossing remembered, so that a task judged later (its kind
			// learnt) announces its state then.
			out = append(out, v)
			continue
		}
		v.Check = j.Policy.Checks()
		if prev := j.announced[t.Task.ARN]; st > prev {
			v.Announce = true
		}
		j.announced[t.Task.ARN] = max(st, j.announced[t.Task.ARN])
		v.Stop = j.Policy.MaxLifetime > 0 && t.Uptime >= j.Policy.MaxLifetime
		out = append(out, v)
	}
	for arn := range j.announced {
		if !seen[arn] {
			delete(j.announced, arn)
		}
	}
	for arn := range j.unstopped {
		if !seen[arn] {
			delete(j.unstopped, arn)
		}
	}
	return out
}

func (j *Judge) message(t uptime.TaskUptime, st State) string {
	switch st {
	case Critical:
		return fmt.Sprintf("task %s has run %s, over %s", Name(t.Task), Age(t.Uptime), Age(j.Policy.Critical))
	case Warning:
		return fmt.Sprintf("task %s has run %s, over %s", Name(t.Task), Age(t.Uptime), Age(j.Policy.Warning))
	}
	// OK names the next threshold the task will cross.
	limit := j.Policy.Warning
	if limit == 0 {
		limit = j.Policy.Critical
	}
	if limit == 0 {
		return fmt.Sprintf("task %s has run %s", Name(t.Task), Age(t.Uptime))
	}
	return fmt.Sprintf("task %s has run %s, under %s", Name(t.Task), Age(t.Uptime), Age(limit))
}

// EventTitle is the title of the events about v's task:
// "ECS task db-migrate:42 running for 26h03m".
func (v Verdict) EventTitle() string {
	return fmt.Sprintf("ECS task %s running for %s", Name(v.Task.Task), Age(v.Task.Uptime))
}

// EventText is the text of a crossing event: the state and message, then
// the task's size and use where known, its full ARN and cluster on lines
// of their own.
func (v Verdict) EventText() string {
	return v.State.String() + ": " + v.Message + "\n" + UsageAndDetails(v.Task.Task, v.Task.Uptime)
}

// StopText is the text of the event sent when the maximum lifetime ends
// the task.
func (v Verdict) StopText(max time.Duration) string {
	return fmt.Sprintf("stopping: max lifetime %s reached\ntask %s has run %s\n%s", Age(max), Name(v.Task.Task), Age(v.Task.Uptime), UsageAndDetails(v.Task.Task, v.Task.Uptime))
}

// UsageAndDetails are the lines that end an event text about a task that
// has run for ran: its Usage, when the task has a task-level size, then
// its Details.
func UsageAndDetails(t *uptime.Task, ran time.Duration) string {
	if u := Usage(t, ran); u != "" {
		return u + "\n" + Details(t)
	}
	return Details(t)
}

// Usage gives a task's task-level size and what it used in ran, as the
// vCPU-hours and GB-hours Fargate bills: "1 vCPU, 2 GB: 26.1 vCPU-hours,
// 52.1 GB-hours"; the size alone when ran is not positive (a task that
// has not run), and "" for a task without a task-level size (an EC2 task
// sized per container) or with one in no form ECS gives. ECS gives the
// size in CPU units (1024 a vCPU) and MiB ("1024", "2048"), or as a task
// definition may ("1 vCPU", "2 GB"); one of the two alone is given alone.
func Usage(t *uptime.Task, ran time.Duration) string {
	vcpu, okCPU := size(t.CPU, 1024, "vcpu")
	gb, okMem := size(t.Memory, 1024, "gb")
	if !okCPU && !okMem {
		return ""
	}
	var sizes, used []string
	hours := ran.Hours()
	if okCPU {
		sizes = append(sizes, amount(vcpu)+" vCPU")
		used = append(used, hoursOf(vcpu*hours)+" vCPU-hours")
	}
	if okMem {
		sizes = append(sizes, amount(gb)+" GB")
		used = append(used, hoursOf(gb*hours)+" GB-hours")
	}
	if ran <= 0 {
		return strings.Join(sizes, ", ")
	}
	return strings.Join(sizes, ", ") + ": " + strings.Join(used, ", ")
}

// size reads a task-level size: a number of units (per whole) or a
// number followed by the unit name ("1 vCPU", "2GB"), in wholes.
func size(v string, per float64, unit string) (float64, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	divide := per
	if n := len(v) - len(unit); n > 0 && strings.EqualFold(v[n:], unit) {
		v, divide = strings.TrimSpace(v[:n]), 1
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) || math.IsInf(f, 0) {
		return 0, false
	}
	return f / divide, true
}

// amount writes a size with at most two decimals: "0.25", "1", "0.5".
func amount(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

// hoursOf writes a use with one decimal ("26.1"), two under one ("0.04").
func hoursOf(f float64) string {
	if f < 1 {
		return strconv.FormatFloat(f, 'f', 2, 64)
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

// Details are the lines that end every event text about a task: its full
// ARN, then its cluster, service and startedBy where known, each on a line
// of its own.
func Details(t *uptime.Task) string {
	var b strings.Builder
	fmt.Fprintf(&b, "task_arn: %s", t.ARN)
	if t.Cluster != "" {
		fmt.Fprintf(&b, "\ncluster: %s", t.Cluster)
	}
	if t.Service != "" {
		fmt.Fprintf(&b, "\nservice: %s", t.Service)
	}
	if t.StartedBy != "" {
		fmt.Fprintf(&b, "\nstarted_by: %s", t.StartedBy)
	}
	return b.String()
}

// Name is how messages name a task: "db-migrate:42 (…/5c2f0a1b…)", the
// family and revision, then the start of the task ID so that two tasks of
// one family can be told apart on a phone screen.
func Name(t *uptime.Task) string {
	id := t.ARN[strings.LastIndexByte(t.ARN, '/')+1:]
	short := id
	if len(id) > 8 {
		short = id[:8] + "…"
	}
	name := t.Family
	if t.Revision != "" {
		name += ":" + t.Revision
	}
	if name == "" {
		return "…/" + short
	}
	return name + " (…/" + short + ")"
}

// Age formats a duration for people, to the minute past an hour:
// "26h03m", "45m10s", "24h", "90s" stays "1m30s".
func Age(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
	case d >= time.Hour:
		d = d.Truncate(time.Minute)
		h, m := d/time.Hour, (d%time.Hour)/time.Minute
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%02dm", h, m)
	case d >= time.Minute:
		d = d.Truncate(time.Second)
		m, s := d/time.Minute, (d%time.Minute)/time.Second
		if s == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return d.Truncate(time.Second).String()
}
