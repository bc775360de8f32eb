// Package reaper ends the standalone ECS tasks that ran past the max
// lifetime their own resource tag gives them: the "Stopping tasks" part of
// DESIGN.md, for the api source.
//
// Stopping someone's task takes two opt-ins:
//   - the task's: a resource tag (ECS_UPTIME_MAX_LIFETIME_TAG, by default
//     ecs-uptime:max-lifetime) whose value is a positive Go duration such
//     as 6h, set by aws ecs run-task --tags or propagated from the task
//     definition;
//   - the process's: ECS_UPTIME_STOP_TASKS=true (Policy.Stop), and an IAM
//     policy allowing ecs:StopTask only on tasks that carry that tag.
//
// Without the second, a task past its tag gets one event titled
// "would stop …" and a log line, and nothing is stopped (the dry run, the
// default). With both, it gets an event titled "stopping …", one StopTask
// whose reason says why ("ecs-uptime: ran 26h03m, over its max lifetime
// 24h"), and, once ECS accepted it, an event titled "stopped …".
//
// The safety rules:
//   - A task is only ever considered while the source lists it RUNNING, at
//     its uptime as the uptime.Tracker measured it (never younger than it
//     really is, see DESIGN.md), and only once that uptime reaches the tag's
//     duration.
//   - A service's task is never stopped, even with the tag (propagated from
//     a task definition a service shares with one-offs), and even with
//     ECS_UPTIME_SERVICE_TASKS=judge (which judges it for the thresholds
//     only; under report, the default, the reaper never sees it: it is
//     uptime.TaskUptime.ReportOnly): its group is
//     service:NAME (uptime.Task.Service), or its startedBy is ecs-svc/…, the
//     ID ECS gives a service's deployment. Either marks it; a one-off
//     started by hand with such a startedBy is left running, the safe side
//     of the mistake. Such a task is logged once, with no event: a
//     service's tasks come and go with every deployment, and an event for
//     each would be noise about nothing to do.
//   - A tag value that is not a positive Go duration ("6 hours", "", "0",
//     "-1h") never acts; it is reported once per task and value (log line
//     and event), so that the task's owner learns the tag does nothing.
//   - Exactly one accepted StopTask per task: ECS takes a while to stop a
//     task (SIGTERM, then SIGKILL after its stop timeout), and the task may
//     still be listed for a cycle or two; it is not asked again. A StopTask
//     ECS refuses (access denied, throttled past the SDK's retries, a
//     timeout) is logged once and tried again each cycle until ECS accepts
//     it, with no second "stopping" event; the acceptance is logged with the
//     number of refusals and gets the "stopped" event.
//   - Events are sent once, with a log line that says the same: an event
//     the Agent does not get is a send error (the Runner logs it) and is
//     not sent again, and an Agent that is away holds no stop.
//   - Shutdown is not a refusal: once the context is done no StopTask
//     starts and none is counted as refused; a stop cut short is asked
//     again by the next process (with its own "stopping" event: the state
//     lives in memory only).
//   - What the reaper remembers per task ARN (events sent, stop accepted,
//     refusals, bad tag reported) is forgotten when a read that covered
//     the task no longer lists it, but kept for the tasks of a partial
//     read's unread parts (uptime.Cycle.Held): they come back later and
//     must not be announced or stopped twice.
//
// The reaper is a pipeline stage (uptime.Stage): it turns each cycle into
// events and stop requests (uptime.StopRequest). The uptime.Pipeline writes
// the cycle's signals first, then, per request, the "stopping" event, the
// StopTask (through the api source) and what came of it. It knows nothing
// about the ECS API nor about DogStatsD lines.
package reaper

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/lifetime"
)

// Policy is what the process opted in to.
type Policy struct {
	// Stop calls StopTask (ECS_UPTIME_STOP_TASKS=true); false only reports
	// what would be stopped.
	Stop bool
	// Tag is the key of the max-lifetime resource tag
	// (ECS_UPTIME_MAX_LIFETIME_TAG), named in events and logs. The source
	// reads its value into uptime.Task.MaxLifetimeTag.
	Tag string
}

// Reaper is the stage that reports, or asks to stop, the tasks past their
// max-lifetime tag. It is not safe for concurrent use; the pipeline calls
// Judge once per cycle.
type Reaper struct {
	policy Policy
	log    *slog.Logger
	tasks  map[string]*state // task ARN → what was done about it
}

// state is what the reaper did about one task.
type state struct {
	badTag      string // the tag value reported as not a duration
	badReported bool
	service     bool // a service's task carrying the tag: logged
	announced   bool // "would stop" or "stopping" sent
	stopped     bool // ECS accepted the StopTask
	refusals    int  // StopTasks refused in a row
}

// New returns a Reaper that acts on the tasks past their max-lifetime tag
// as p says, and logs to log (slog.Default when nil). It panics on an empty
// p.Tag: that is a wiring mistake, not configuration (the config package
// refuses an empty ECS_UPTIME_MAX_LIFETIME_TAG).
func New(p Policy, log *slog.Logger) *Reaper {
	if p.Tag == "" {
		panic("reaper.New: empty Policy.Tag")
	}
	if log == nil {
		log = slog.Default()
	}
	return &Reaper{policy: p, log: log, tasks: map[string]*state{}}
}

// Judge adds to s, for each task of c that carries the max-lifetime tag,
// what to report or stop (see the package doc): events, and a stop
// request per task to stop with its "stopping" event. A task the cycle
// reports only (uptime.TaskUptime.ReportOnly) is left alone, and its
// state kept.
func (r *Reaper) Judge(c *uptime.Cycle, s *uptime.Signals) {
	r.forget(c)
	for i := range c.Tasks {
		if c.Tasks[i].Task.HasMaxLifetimeTag && !c.Tasks[i].ReportOnly {
			r.reap(c.At, c.Tasks[i], s)
		}
	}
}

// forget drops the state of the tasks that c neither lists nor holds.
func (r *Reaper) forget(c *uptime.Cycle) {
	if len(r.tasks) == 0 {
		return
	}
	keep := make(map[string]bool, len(c.Tasks)+len(c.Held))
	for _, tu := range c.Tasks {
		keep[tu.Task.ARN] = true
	}
	for _, arn := range c.Held {
		keep[arn] = true
	}
	for arn := range r.tasks {
		if !keep[arn] {
			delete(r.tasks, arn)
		}
	}
}

// reap judges one task carrying the tag.
func (r *Reaper) reap(at time.Time, tu uptime.TaskUptime, s *uptime.Signals) {
	t := tu.Task
	st := r.tasks[t.ARN]
	if st == nil {
		st = &state{}
		r.tasks[t.ARN] = st
	}
	event := func(title, text string, alert uptime.Alert, at time.Time) uptime.Event {
		return uptime.Event{Title: title, Text: text, Alert: alert, Key: t.ARN, At: at, About: uptime.Subject{Task: t}}
	}
	if service := serviceOf(t); service != "" {
		if !st.service {
			st.service = true
			r.taskLog(t).Info("task belongs to a service: its max-lifetime tag is ignored, a service's task is never stopped",
				slog.String("service", service))
		}
		return
	}
	limit, ok := parseMaxLifetime(t.MaxLifetimeTag)
	if !ok {
		if st.badReported && st.badTag == t.MaxLifetimeTag {
			return
		}
		st.badReported, st.badTag = true, t.MaxLifetimeTag
		r.taskLog(t).Warn("max-lifetime tag is not a positive Go duration such as 6h or 90m; this task is never stopped while it holds that value")
		s.Events = append(s.Events, event("bad max-lifetime tag on ECS task "+lifetime.Name(t),
			fmt.Sprintf("ECS task %s carries the tag %s with the value %q, not a positive Go duration such as 6h or 90m.\n"+
				"ecs-uptime never stops this task while the tag holds that value.\n%s",
				lifetime.Name(t), r.policy.Tag, t.MaxLifetimeTag, lifetime.Details(t)),
			uptime.AlertWarning, at))
		return
	}
	st.badReported = false
	if tu.Uptime < limit || st.stopped || (st.announced && !r.policy.Stop) {
		return
	}
	log := r.taskLog(t).With(slog.Duration("uptime", tu.Uptime), slog.Duration("max_lifetime", limit))
	title := func(verb string) string {
		return fmt.Sprintf("%s ECS task %s: ran %s, max lifetime %s", verb, lifetime.Name(t), lifetime.Age(tu.Uptime), lifetime.Age(limit))
	}
	over := fmt.Sprintf("ECS task %s has run %s, over its max lifetime %s (tag %s=%s).\n",
		lifetime.Name(t), lifetime.Age(tu.Uptime), lifetime.Age(limit), r.policy.Tag, t.MaxLifetimeTag)
	used := lifetime.UsageAndDetails(t, tu.Uptime) // its size and use, where known, then its details
	if !r.policy.Stop {
		st.announced = true
		log.Warn("task is past its max lifetime; not stopping it: ECS_UPTIME_STOP_TASKS is not true")
		s.Events = append(s.Events, event(title("would stop"),
			over+"Not stopped: ECS_UPTIME_STOP_TASKS is not true, so ecs-uptime only reports what it would stop.\n"+used,
			uptime.AlertWarning, at))
		return
	}
	reason := Reason(tu.Uptime, limit)
	req := uptime.StopRequest{Task: *t, Reason: reason}
	if !st.announced {
		req.Announce = []uptime.Event{event(title("stopping"),
			over+fmt.Sprintf("Asking ECS to stop it (StopTask, reason %q).\n", reason)+used,
			uptime.AlertInfo, at)}
	}
	req.Done = func(ctx context.Context, err error) []uptime.Event {
		// Announced once asked: a request that shutdown kept from going
		// out announces nothing, and the next process asks again.
		if !st.announced {
			st.announced = true
			log.Warn("task is past its max lifetime; stopping it", slog.String("reason", reason))
		}
		switch {
		case err == nil:
			st.stopped = true
			log.Info("ECS accepted the stop", slog.Int("refused_before", st.refusals))
			st.refusals = 0
			return []uptime.Event{event(title("stopped"),
				over+"ECS accepted the stop: it stops the task's containers (SIGTERM, then SIGKILL after their stop timeout).\n"+used,
				uptime.AlertError, time.Time{})}
		case ctx.Err() != nil:
			log.Info("shutting down before ECS answered the stop; the next run asks again", slog.Any("error", err))
		default:
			st.refusals++
			if st.refusals == 1 {
				log.Error("ECS refused to stop the task; trying again every cycle until it accepts", slog.Any("error", err))
			}
		}
		return nil
	}
	s.Stops = append(s.Stops, req)
}

// taskLog is the logger of the lines about t.
func (r *Reaper) taskLog(t *uptime.Task) *slog.Logger {
	return r.log.With(slog.String("task_arn", t.ARN), slog.String("task", lifetime.Name(t)),
		slog.String("cluster", t.Cluster), slog.String("started_by", t.StartedBy),
		slog.String("tag", r.policy.Tag), slog.String("tag_value", t.MaxLifetimeTag))
}

// serviceOf returns the service a task belongs to, or "" for a standalone
// task: its group's service name or, failing that, its ecs-svc/… startedBy.
func serviceOf(t *uptime.Task) string {
	if t.Service != "" {
		return t.Service
	}
	if strings.HasPrefix(t.StartedBy, "ecs-svc/") {
		return t.StartedBy
	}
	return ""
}

// parseMaxLifetime reads a max-lifetime tag value: a positive Go duration.
func parseMaxLifetime(v string) (time.Duration, bool) {
	d, err := time.ParseDuration(v)
	return d, err == nil && d > 0
}

// Reason is the StopTask reason for a task that ran up, over its max
// lifetime limit: "ecs-uptime: ran 26h03m, over its max lifetime 24h". ECS
// keeps it as the stopped task's stoppedReason (at most 255 characters);
// lifetime.Age keeps it under 80 whatever the durations, which is why the
// tag's own text (up to 256 characters) is not quoted.
func Reason(up, limit time.Duration) string {
	return fmt.Sprintf("ecs-uptime: ran %s, over its max lifetime %s", lifetime.Age(up), lifetime.Age(limit))
}
