// Package kind is the first policy stage: it scopes judgement to the tasks
// that should end (DESIGN.md, One-offs and service tasks). A service's task
// running for weeks is normal; a one-off (a migration, a CI job, a task run
// by hand or on a schedule) that runs on was forgotten. Every source sets
// each task's uptime.Kind; ECS_UPTIME_SERVICE_TASKS says what becomes of a
// service's tasks, and a task whose kind its source is still learning
// (uptime.Task.KindPending: the docker source, until the task's own
// metadata answers or has failed for 3 intervals) is reported but not
// judged yet, so that a restarted host daemon does not alert on every
// service task while it learns their kinds.
//
// It marks the tasks that the later stages report but must not judge
// (uptime.TaskUptime.ReportOnly) and takes the skipped ones out of the
// cycle. It knows no output and keeps no state.
package kind

import (
	"slices"

	"ecs-uptime/uptime"
)

// Policy is what becomes of a service's tasks (ECS_UPTIME_SERVICE_TASKS).
type Policy string

// Policies.
const (
	// Report sends a service task's gauges (and the singleton watch counts
	// it) but judges nothing: no ecs.task.lifetime check, no threshold
	// event, no stop. The default.
	Report Policy = "report"
	// Judge treats a service's task as a one-off.
	Judge Policy = "judge"
	// Skip sends nothing at all for a service's task: no series, no
	// custom-metric cost.
	Skip Policy = "skip"
)

// Scope is the stage (uptime.Stage) that applies a Policy (the zero
// Policy is Report). It must come first: the stages after it read what it
// marked, and a skipped task must have no gauge.
type Scope struct {
	Services Policy
}

// Judge marks the cycle's tasks that are reported only and, with Skip,
// takes a service's tasks out of c (a new slice: c.Tasks is never filtered
// in place). It adds no signal.
func (s Scope) Judge(c *uptime.Cycle, _ *uptime.Signals) {
	skipped := 0
	for i := range c.Tasks {
		t := &c.Tasks[i]
		switch {
		case t.Task.Kind == uptime.KindService && s.Services == Skip:
			skipped++
		case t.Task.Kind == uptime.KindService && s.Services != Judge:
			t.ReportOnly = true
		case t.Task.Kind == uptime.KindUnknown && t.Task.KindPending:
			t.ReportOnly = true
		}
	}
	if s.Services == Skip && slices.ContainsFunc(c.Others, func(t uptime.Task) bool { return t.Kind == uptime.KindService }) {
		// A service's task on its way to run or to stop sends nothing
		// either (no status age, no stuck check, no stop record).
		c.Others = slices.DeleteFunc(slices.Clone(c.Others), func(t uptime.Task) bool { return t.Kind == uptime.KindService })
	}
	if skipped == 0 {
		return
	}
	kept := make([]uptime.TaskUptime, 0, len(c.Tasks)-skipped)
	for _, t := range c.Tasks {
		if t.Task.Kind != uptime.KindService {
			kept = append(kept, t)
		}
	}
	c.Tasks = kept
}
