// Package stoprecord keeps a record of every judged task that ends: the
// "stopped after" event of DESIGN.md (Task lifecycle, api source). ECS
// forgets a stopped task within about an hour; once a forgotten migration
// is finally stopped, the event keeps how long it ran, why it stopped and
// how each of its containers ended.
//
// A task is judged when an earlier stage of the same cycle said something
// about it: an event about it (a threshold crossed, a max-lifetime event,
// a stuck onset, a bad max-lifetime tag), a singleton onset naming it
// (uptime.Event.Tasks), a service check about it that is not OK (a
// threshold crossed, stuck), or a stop request. A Record is the stage that
// runs last, so that it reads the signals of every other; it remembers
// the ARNs of the judged tasks and, when one of them reaches STOPPED
// (uptime.Cycle.Others), sends one event:
//
//	ECS task db-migrate:42 (…/5c2f0b9e…) stopped after 26h03m
//
// with its run (startedAt to stoppedAt), stopCode, stoppedReason, each
// container's exit code and reason, its size and use where known and its
// details; alert type error, as DESIGN.md gives every "stopped" event. A judged task that leaves the reads without being seen
// STOPPED (ECS purged it first) is forgotten without a word; one of a part
// a read could not see (uptime.Cycle.Held) is kept. A Record starts with
// no memory: a task judged before a restart is judged again by the stage
// that judged it (a non-OK check at the least) or has no record.
package stoprecord

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/lifetime"
)

// Record is the stage that sends the "stopped after" event of judged
// tasks. It is not safe for concurrent use; the pipeline calls Judge once
// per cycle.
type Record struct {
	judged map[string]bool // task ARNs
}

// New returns a Record that knows of no judged task.
func New() *Record { return &Record{judged: map[string]bool{}} }

// Judge notes the tasks the signals so far judged, then adds one event for
// each judged task that the cycle sees STOPPED (uptime.Stage).
func (r *Record) Judge(c *uptime.Cycle, s *uptime.Signals) {
	r.note(s)
	if len(r.judged) == 0 {
		return
	}
	listed := make(map[string]bool, len(c.Tasks)+len(c.Others)+len(c.Held))
	for _, arn := range c.Held {
		listed[arn] = true
	}
	for i := range c.Tasks {
		listed[c.Tasks[i].Task.ARN] = true
	}
	for i := range c.Others {
		t := &c.Others[i]
		listed[t.ARN] = true
		if r.judged[t.ARN] && t.Stopped() {
			delete(r.judged, t.ARN)
			s.Events = append(s.Events, Event(c.At, t))
		}
	}
	for arn := range r.judged {
		if !listed[arn] {
			delete(r.judged, arn)
		}
	}
}

// note remembers the tasks the cycle's signals so far are about.
func (r *Record) note(s *uptime.Signals) {
	for _, e := range s.Events {
		if e.About.Task != nil {
			r.judged[e.About.Task.ARN] = true
		}
		for _, arn := range e.Tasks {
			r.judged[arn] = true
		}
	}
	for _, c := range s.Checks {
		if c.About.Task != nil && c.Status != uptime.OK {
			r.judged[c.About.Task.ARN] = true
		}
	}
	for _, st := range s.Stops {
		r.judged[st.Task.ARN] = true
	}
}

// Event is the "stopped after" event of a stopped task, at the cycle's
// time at.
func Event(at time.Time, t *uptime.Task) uptime.Event {
	var how uptime.Ending
	if t.Ending != nil {
		how = *t.Ending
	}
	end := how.StoppedAt
	if end.IsZero() {
		end = at
	}
	var b strings.Builder
	var ran time.Duration
	title := fmt.Sprintf("ECS task %s stopped before it started", lifetime.Name(t))
	if t.StartedAt.IsZero() {
		b.WriteString("never ran")
		if !t.CreatedAt.IsZero() {
			fmt.Fprintf(&b, ": created %s", stamp(t.CreatedAt))
		}
	} else {
		ran = max(end.Sub(t.StartedAt), 0)
		title = fmt.Sprintf("ECS task %s stopped after %s", lifetime.Name(t), lifetime.Age(ran))
		fmt.Fprintf(&b, "ran %s: started %s", lifetime.Age(ran), stamp(t.StartedAt))
	}
	if !how.StoppedAt.IsZero() {
		fmt.Fprintf(&b, ", stopped %s", stamp(how.StoppedAt))
	}
	b.WriteByte('\n')
	if how.StopCode != "" {
		fmt.Fprintf(&b, "stop code: %s\n", how.StopCode)
	}
	if how.StoppedReason != "" {
		fmt.Fprintf(&b, "stopped reason: %s\n", how.StoppedReason)
	}
	for _, e := range how.Exits {
		fmt.Fprintf(&b, "container %s: ", e.Name)
		if e.ExitCode == nil {
			b.WriteString("no exit code")
		} else {
			b.WriteString("exit code " + strconv.Itoa(*e.ExitCode))
		}
		if e.Reason != "" {
			b.WriteString(", " + e.Reason)
		}
		b.WriteByte('\n')
	}
	b.WriteString(lifetime.UsageAndDetails(t, ran))
	return uptime.Event{Title: title, Text: b.String(), Alert: uptime.AlertError, Key: t.ARN, At: at, About: uptime.Subject{Task: t}}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
