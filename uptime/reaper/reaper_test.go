package reaper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/reaper"
)

const tagKey = "ecs-uptime:max-lifetime"

// arn returns a task ARN of the prod cluster whose ID starts with id.
func arn(id string) string {
	return "arn:aws:ecs:eu-west-1:123456789012:task/prod/" + id + strings.Repeat("0", 32-len(id))
}

// oneOff is a standalone task started by a CI job, carrying the tag with
// value v.
func oneOff(id, v string) uptime.Task {
	return uptime.Task{ARN: arn(id), Family: "db-migrate", Revision: "42", Cluster: "prod", Region: "eu-west-1",
		Account: "123456789012", StartedBy: "ci/deploy-1234", MaxLifetimeTag: v, HasMaxLifetimeTag: true}
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// at is a cycle at t0 plus n minutes in which each task has run its given
// uptime plus n minutes.
func at(n int, tasks ...uptime.TaskUptime) uptime.Cycle {
	c := uptime.Cycle{At: t0.Add(time.Duration(n) * time.Minute)}
	for _, tu := range tasks {
		tu.Uptime += time.Duration(n) * time.Minute
		c.Tasks = append(c.Tasks, tu)
	}
	return c
}

// recorder is the first stage, the Output and the Stopper of a pipeline
// around the reaper, so that it records the order of everything done.
type recorder struct {
	calls    []string
	texts    []string                 // event texts, in order
	refuse   map[string][]error       // task ARN → errors for its next StopTasks, then nil
	onStop   func(uptime.Task) error  // if set, StopTask's answer instead
	deadline []time.Duration          // how long each StopTask's context had left
	writeErr error                    // what Write returns
	events   []uptime.Event           // in order
	tasks    map[string][]uptime.Task // event title → task
}

// Judge stands for the stages before the reaper (the gauges).
func (r *recorder) Judge(c *uptime.Cycle, _ *uptime.Signals) {
	r.calls = append(r.calls, fmt.Sprintf("send %d task(s)", len(c.Tasks)))
}

func (r *recorder) StopTask(ctx context.Context, t uptime.Task, reason string) error {
	r.calls = append(r.calls, "StopTask "+t.ARN+" "+reason)
	if d, ok := ctx.Deadline(); ok {
		r.deadline = append(r.deadline, time.Until(d))
	}
	if r.onStop != nil {
		return r.onStop(t)
	}
	if errs := r.refuse[t.ARN]; len(errs) > 0 {
		r.refuse[t.ARN] = errs[1:]
		return errs[0]
	}
	return nil
}

func (r *recorder) Write(_ context.Context, s *uptime.Signals) error {
	for _, e := range s.Events {
		r.calls = append(r.calls, fmt.Sprintf("event %s %s", e.Alert, e.Title))
		r.texts = append(r.texts, e.Text)
		r.events = append(r.events, e)
		if r.tasks == nil {
			r.tasks = map[string][]uptime.Task{}
		}
		r.tasks[e.Title] = append(r.tasks[e.Title], *e.About.Task)
		if e.Key != e.About.Task.ARN {
			r.calls = append(r.calls, "event key "+e.Key+" is not the task ARN")
		}
	}
	return r.writeErr
}

// reaped is the pipeline of the reaper with policy p, rec around it.
func reaped(rec *recorder, p reaper.Policy, log *slog.Logger) *uptime.Pipeline {
	return &uptime.Pipeline{Stages: []uptime.Stage{rec, reaper.New(p, log)}, Output: rec, Stopper: rec}
}

// logs is a JSON log that tests read back line by line.
type logs struct{ buf bytes.Buffer }

func (l *logs) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(&l.buf, nil)) }

// lines returns "LEVEL message" per line, in order.
func (l *logs) lines(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, rec := range l.records(t) {
		out = append(out, fmt.Sprintf("%s %s", rec["level"], rec["msg"]))
	}
	return out
}

func (l *logs) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(l.buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

const (
	wouldStop = "WARN task is past its max lifetime; not stopping it: ECS_UPTIME_STOP_TASKS is not true"
	stopping  = "WARN task is past its max lifetime; stopping it"
	accepted  = "INFO ECS accepted the stop"
	refused   = "ERROR ECS refused to stop the task; trying again every cycle until it accepts"
	badTag    = "WARN max-lifetime tag is not a positive Go duration such as 6h or 90m; this task is never stopped while it holds that value"
	ofService = "INFO task belongs to a service: its max-lifetime tag is ignored, a service's task is never stopped"
	shutdown  = "INFO shutting down before ECS answered the stop; the next run asks again"
)

// Three cycles, one task each: what the reaper does, in order with the
// wrapped Sink's sends, and what it logs.
func TestSendActsOncePerTask(t *testing.T) {
	a := arn("5c2f0b9e")
	name := "db-migrate:42 (…/5c2f0b9e…)"
	service := oneOff("5c2f0b9e", "24h")
	service.Service = "web"
	svcDeploy := oneOff("5c2f0b9e", "24h")
	svcDeploy.StartedBy = "ecs-svc/1234567890123456789"
	untagged := oneOff("5c2f0b9e", "1h")
	untagged.HasMaxLifetimeTag = false
	sends := func(calls ...[]string) []string {
		var out []string
		for _, c := range calls {
			out = append(out, "send 1 task(s)")
			out = append(out, c...)
		}
		return out
	}
	tests := []struct {
		name      string
		stop      bool
		task      uptime.Task
		up        time.Duration // at the first cycle; one minute more each cycle
		wantCalls []string
		wantLogs  []string
	}{
		{"dry run: would stop, once", false, oneOff("5c2f0b9e", "24h"), 26*time.Hour + 3*time.Minute,
			sends([]string{"event warning would stop ECS task " + name + ": ran 26h03m, max lifetime 24h"}, nil, nil),
			[]string{wouldStop}},
		{"stop: stopping, one StopTask, stopped", true, oneOff("5c2f0b9e", "24h"), 26*time.Hour + 3*time.Minute,
			sends([]string{
				"event info stopping ECS task " + name + ": ran 26h03m, max lifetime 24h",
				"StopTask " + a + " ecs-uptime: ran 26h03m, over its max lifetime 24h",
				"event error stopped ECS task " + name + ": ran 26h03m, max lifetime 24h",
			}, nil, nil),
			[]string{stopping, accepted}},
		{"stop: reached on the second cycle, at exactly its tag", true, oneOff("5c2f0b9e", "6h"), 6*time.Hour - time.Minute,
			sends(nil, []string{
				"event info stopping ECS task " + name + ": ran 6h, max lifetime 6h",
				"StopTask " + a + " ecs-uptime: ran 6h, over its max lifetime 6h",
				"event error stopped ECS task " + name + ": ran 6h, max lifetime 6h",
			}, nil),
			[]string{stopping, accepted}},
		{"stop: a tag in minutes says its duration", true, oneOff("5c2f0b9e", "90m"), 2 * time.Hour,
			sends([]string{
				"event info stopping ECS task " + name + ": ran 2h, max lifetime 1h30m",
				"StopTask " + a + " ecs-uptime: ran 2h, over its max lifetime 1h30m",
				"event error stopped ECS task " + name + ": ran 2h, max lifetime 1h30m",
			}, nil, nil),
			[]string{stopping, accepted}},
		{"under its tag: nothing", true, oneOff("5c2f0b9e", "24h"), 23*time.Hour + 57*time.Minute,
			sends(nil, nil, nil), nil},
		{"no tag: nothing", true, untagged, 26 * time.Hour,
			sends(nil, nil, nil), nil},
		{"a service's task (group service:web): never stopped, logged once", true, service, 26 * time.Hour,
			sends(nil, nil, nil), []string{ofService}},
		{"a service's task (startedBy ecs-svc/…): never stopped, logged once", true, svcDeploy, 26 * time.Hour,
			sends(nil, nil, nil), []string{ofService}},
		{"a service's task in a dry run: no would-stop", false, service, 26 * time.Hour,
			sends(nil, nil, nil), []string{ofService}},
	}
	for _, bad := range []string{"6 hours", "", "-1h", "0", "0s", " 6h", "6"} {
		for _, stop := range []bool{false, true} {
			tests = append(tests, struct {
				name      string
				stop      bool
				task      uptime.Task
				up        time.Duration
				wantCalls []string
				wantLogs  []string
			}{fmt.Sprintf("bad tag %q (stop %v): reported once, never acts", bad, stop), stop, oneOff("5c2f0b9e", bad), 1000 * time.Hour,
				sends([]string{"event warning bad max-lifetime tag on ECS task " + name}, nil, nil),
				[]string{badTag}})
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			var l logs
			s := reaped(rec, reaper.Policy{Stop: tc.stop, Tag: tagKey}, l.logger())
			for i := range 3 {
				if err := s.Send(context.Background(), at(i, uptime.TaskUptime{Task: &tc.task, Uptime: tc.up})); err != nil {
					t.Fatalf("Send %d: %v", i, err)
				}
			}
			if !slices.Equal(rec.calls, tc.wantCalls) {
				t.Errorf("calls\n got %q\nwant %q", rec.calls, tc.wantCalls)
			}
			if got := l.lines(t); !slices.Equal(got, tc.wantLogs) {
				t.Errorf("logs\n got %q\nwant %q", got, tc.wantLogs)
			}
			for _, d := range rec.deadline {
				if d <= 0 || d > 30*time.Second {
					t.Errorf("StopTask's context had %s left, want a bound of at most 30s", d)
				}
			}
			for i, e := range rec.events {
				if e.Title == "" || strings.ContainsAny(e.Title, "\n|") {
					t.Errorf("event %d title %q: want one line", i, e.Title)
				}
			}
		})
	}
}

// Each event text says the uptime, the max lifetime, the tag, the cluster,
// the ARN and startedBy, and the events before the stop carry the cycle's
// time.
func TestEventTexts(t *testing.T) {
	task := oneOff("5c2f0b9e", "1440m")
	details := "\ntask_arn: " + task.ARN + "\ncluster: prod\nstarted_by: ci/deploy-1234"
	over := "ECS task db-migrate:42 (…/5c2f0b9e…) has run 26h03m, over its max lifetime 24h (tag ecs-uptime:max-lifetime=1440m).\n"
	used := "\n1 vCPU, 2 GB: 26.1 vCPU-hours, 52.1 GB-hours"
	sized := func(t uptime.Task, cpu, mem string) uptime.Task {
		t.CPU, t.Memory = cpu, mem
		return t
	}
	tests := []struct {
		name  string
		stop  bool
		task  uptime.Task
		want  []string
		times []time.Time
	}{
		{"would stop", false, task, []string{
			over + "Not stopped: ECS_UPTIME_STOP_TASKS is not true, so ecs-uptime only reports what it would stop." + details,
		}, []time.Time{t0}},
		{"stopping and stopped", true, task, []string{
			over + `Asking ECS to stop it (StopTask, reason "ecs-uptime: ran 26h03m, over its max lifetime 24h").` + details,
			over + "ECS accepted the stop: it stops the task's containers (SIGTERM, then SIGKILL after their stop timeout)." + details,
		}, []time.Time{t0, {}}},
		{"with a task-level size: its size and use before the details", true, sized(task, "1024", "2048"), []string{
			over + `Asking ECS to stop it (StopTask, reason "ecs-uptime: ran 26h03m, over its max lifetime 24h").` + used + details,
			over + "ECS accepted the stop: it stops the task's containers (SIGTERM, then SIGKILL after their stop timeout)." + used + details,
		}, []time.Time{t0, {}}},
		{"would stop, sized", false, sized(task, "256", "512"), []string{
			over + "Not stopped: ECS_UPTIME_STOP_TASKS is not true, so ecs-uptime only reports what it would stop.\n0.25 vCPU, 0.5 GB: 6.5 vCPU-hours, 13.0 GB-hours" + details,
		}, []time.Time{t0}},
		{"bad tag", true, oneOff("5c2f0b9e", "6 hours"), []string{
			`ECS task db-migrate:42 (…/5c2f0b9e…) carries the tag ecs-uptime:max-lifetime with the value "6 hours", not a positive Go duration such as 6h or 90m.` +
				"\necs-uptime never stops this task while the tag holds that value." + details,
		}, []time.Time{t0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			s := reaped(rec, reaper.Policy{Stop: tc.stop, Tag: tagKey}, slog.New(slog.DiscardHandler))
			if err := s.Send(context.Background(), at(0, uptime.TaskUptime{Task: &tc.task, Uptime: 26*time.Hour + 3*time.Minute})); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rec.texts, tc.want) {
				t.Errorf("texts\n got %q\nwant %q", rec.texts, tc.want)
			}
			for i, e := range rec.events {
				if i < len(tc.times) && !e.At.Equal(tc.times[i]) {
					t.Errorf("event %q at %v, want %v", e.Title, e.At, tc.times[i])
				}
				if got := rec.tasks[e.Title]; len(got) != 1 || got[0].ARN != tc.task.ARN {
					t.Errorf("event %q went with tasks %v, want the task itself (its tags and ARN)", e.Title, got)
				}
			}
		})
	}
}

// A StopTask ECS refuses is logged once, tried again each cycle with no
// second "stopping" event, and, once accepted, gets the "stopped" event and
// a log line with the number of refusals. A refusal is no send error.
func TestRefusedStopIsRetriedAndLoggedOnce(t *testing.T) {
	denied := errors.New("operation error ECS: StopTask, AccessDeniedException: not authorized to perform: ecs:StopTask")
	tests := []struct {
		name   string
		errs   []error
		cycles int
	}{
		{"refused twice, then accepted", []error{denied, denied}, 4},
		{"a StopTask cut short by its own timeout is a refusal", []error{context.DeadlineExceeded}, 3},
		{"refused every cycle: logged once, asked every cycle", []error{denied, denied, denied, denied}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			task := oneOff("5c2f0b9e", "24h")
			other := oneOff("7a1d", "24h")
			rec := &recorder{refuse: map[string][]error{task.ARN: slices.Clone(tc.errs)}}
			var l logs
			s := reaped(rec, reaper.Policy{Stop: true, Tag: tagKey}, l.logger())
			for i := range tc.cycles {
				c := at(i, uptime.TaskUptime{Task: &task, Uptime: 25 * time.Hour}, uptime.TaskUptime{Task: &other, Uptime: 25 * time.Hour})
				if err := s.Send(context.Background(), c); err != nil {
					t.Fatalf("Send %d = %v, want nil: a refused stop is no send error", i, err)
				}
			}
			count := func(prefix string) int {
				n := 0
				for _, c := range rec.calls {
					if strings.HasPrefix(c, prefix) {
						n++
					}
				}
				return n
			}
			acceptedAt := len(tc.errs) // the cycle of the call that is accepted
			wantStops := min(acceptedAt+1, tc.cycles)
			wantStopped := 0
			if acceptedAt < tc.cycles {
				wantStopped = 1
			}
			if got := count("StopTask " + task.ARN); got != wantStops {
				t.Errorf("%d StopTask calls for the refused task, want %d (one per cycle until accepted)", got, wantStops)
			}
			if got := count("event info stopping ECS task db-migrate:42 (…/5c2f0b9e…)"); got != 1 {
				t.Errorf("%d stopping events, want 1", got)
			}
			if got := count("event error stopped ECS task db-migrate:42 (…/5c2f0b9e…)"); got != wantStopped {
				t.Errorf("%d stopped events, want %d", got, wantStopped)
			}
			if got := count("StopTask " + other.ARN); got != 1 {
				t.Errorf("%d StopTask calls for the other task, want 1: a refusal of one task holds no other", got)
			}
			var refusals, acceptances []map[string]any
			for _, r := range l.records(t) {
				switch fmt.Sprintf("%s %s", r["level"], r["msg"]) {
				case refused:
					refusals = append(refusals, r)
				case accepted:
					if r["task_arn"] == task.ARN {
						acceptances = append(acceptances, r)
					}
				}
			}
			if len(refusals) != 1 || refusals[0]["task_arn"] != task.ARN || refusals[0]["error"] != tc.errs[0].Error() {
				t.Errorf("refusal log lines %v, want one naming the task and the error", refusals)
			}
			if len(acceptances) != wantStopped {
				t.Fatalf("acceptance log lines %v, want %d", acceptances, wantStopped)
			}
			if wantStopped == 1 && acceptances[0]["refused_before"] != float64(len(tc.errs)) {
				t.Errorf("acceptance logged refused_before=%v, want %d", acceptances[0]["refused_before"], len(tc.errs))
			}
		})
	}
}

// What the reaper did about a task is kept while the task lies in an
// unread part of the source (Cycle.Held) and forgotten once a read that
// covered it no longer lists it.
func TestHeldTasksKeepTheirState(t *testing.T) {
	past := oneOff("5c2f0b9e", "24h")
	bad := oneOff("7a1d", "6 hours")
	tests := []struct {
		name      string
		stop      bool
		held      bool
		wantCalls int // reaper calls (events and StopTasks) on the third cycle
	}{
		{"dry run, held", false, true, 0},
		{"dry run, gone: announced again if it comes back", false, false, 2},
		{"stop, held: not stopped twice", true, true, 0},
		{"stop, gone: a task that comes back is a task again", true, false, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			s := reaped(rec, reaper.Policy{Stop: tc.stop, Tag: tagKey}, slog.New(slog.DiscardHandler))
			both := []uptime.TaskUptime{{Task: &past, Uptime: 25 * time.Hour}, {Task: &bad, Uptime: 25 * time.Hour}}
			if err := s.Send(context.Background(), at(0, both...)); err != nil {
				t.Fatal(err)
			}
			c := at(1)
			if tc.held {
				c.Unread = []uptime.Unread{{Region: "eu-west-1", Cluster: "prod", Err: errors.New("throttled")}}
				c.Held = []string{past.ARN, bad.ARN}
			}
			if err := s.Send(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			before := len(rec.calls)
			if err := s.Send(context.Background(), at(2, both...)); err != nil {
				t.Fatal(err)
			}
			got := rec.calls[before+1:] // after the third cycle's send
			if len(got) != tc.wantCalls {
				t.Errorf("third cycle: %q, want %d reaper calls", got, tc.wantCalls)
			}
		})
	}
}

// A task's tags can change while it runs (aws ecs tag-resource): a bad
// value is reported once per value, and a good one acts at once.
func TestTagValueChanges(t *testing.T) {
	var calls []string
	rec := &recorder{}
	s := reaped(rec, reaper.Policy{Stop: true, Tag: tagKey}, slog.New(slog.DiscardHandler))
	for i, v := range []string{"6 hours", "6 hours", "6hrs", "6h", "6h"} {
		before := len(rec.calls)
		if err := s.Send(context.Background(), at(i, uptime.TaskUptime{Task: new(oneOff("5c2f0b9e", v)), Uptime: 7 * time.Hour})); err != nil {
			t.Fatal(err)
		}
		for _, c := range rec.calls[before+1:] {
			c, _, _ = strings.Cut(c, " ECS task") // the titles are checked elsewhere
			calls = append(calls, v+": "+c)
		}
	}
	want := []string{
		"6 hours: event warning bad max-lifetime tag on",
		"6hrs: event warning bad max-lifetime tag on",
		"6h: event info stopping",
		"6h: StopTask " + arn("5c2f0b9e") + " ecs-uptime: ran 7h03m, over its max lifetime 6h",
		"6h: event error stopped",
	}
	if !slices.Equal(calls, want) {
		t.Errorf("calls\n got %q\nwant %q", calls, want)
	}
}

// Shutdown is not a refusal: a StopTask cut short by the process's context
// is not logged as refused, starts no further stop and sends no further
// event, and the cycle is no send failure. A cycle whose context is done
// before the reaper's turn does nothing.
func TestShutdownMidCycle(t *testing.T) {
	first, second := oneOff("1111", "24h"), oneOff("2222", "24h")
	cycle := at(0, uptime.TaskUptime{Task: &first, Uptime: 25 * time.Hour}, uptime.TaskUptime{Task: &second, Uptime: 25 * time.Hour})
	t.Run("during the first StopTask", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rec := &recorder{onStop: func(uptime.Task) error {
			cancel() // SIGTERM while the request is in flight
			return fmt.Errorf("operation error ECS: StopTask: %w", context.Canceled)
		}}
		var l logs
		s := reaped(rec, reaper.Policy{Stop: true, Tag: tagKey}, l.logger())
		if err := s.Send(ctx, cycle); err != nil {
			t.Fatalf("Send = %v, want nil: shutting down is no send failure", err)
		}
		want := []string{
			"send 2 task(s)",
			"event info stopping ECS task db-migrate:42 (…/11110000…): ran 25h, max lifetime 24h",
			"StopTask " + first.ARN + " ecs-uptime: ran 25h, over its max lifetime 24h",
		}
		if !slices.Equal(rec.calls, want) {
			t.Errorf("calls\n got %q\nwant %q", rec.calls, want)
		}
		if got := l.lines(t); !slices.Equal(got, []string{stopping, shutdown}) {
			t.Errorf("logs %q, want the stopping and the shutdown lines, no refusal", got)
		}
	})
	t.Run("before the reaper's turn", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rec := &recorder{}
		s := reaped(rec, reaper.Policy{Stop: true, Tag: tagKey}, slog.New(slog.DiscardHandler))
		if err := s.Send(ctx, cycle); err != nil {
			t.Fatal(err)
		}
		if want := []string{"send 2 task(s)"}; !slices.Equal(rec.calls, want) {
			t.Errorf("calls %q, want %q", rec.calls, want)
		}
	})
}

// The output's error is returned, and the stops go on without it: an
// Agent that is away holds no stop. An event that could not be written is
// not written again.
func TestSendErrors(t *testing.T) {
	agentAway := errors.New("send to dogstatsd: connection refused")
	rec := &recorder{writeErr: agentAway}
	s := reaped(rec, reaper.Policy{Stop: true, Tag: tagKey}, slog.New(slog.DiscardHandler))
	task := oneOff("5c2f0b9e", "24h")
	for i := range 2 {
		err := s.Send(context.Background(), at(i, uptime.TaskUptime{Task: &task, Uptime: 25 * time.Hour}))
		if !errors.Is(err, agentAway) {
			t.Errorf("Send %d = %v, want it to wrap the output's %v", i, err, agentAway)
		}
	}
	stops, events := 0, 0
	for _, c := range rec.calls {
		switch {
		case strings.HasPrefix(c, "StopTask "):
			stops++
		case strings.HasPrefix(c, "event "):
			events++
		}
	}
	if stops != 1 || events != 2 {
		t.Errorf("%d StopTasks and %d events over two cycles, want 1 and 2 (stopping, stopped): %q", stops, events, rec.calls)
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		up, limit time.Duration
		want      string
	}{
		{26*time.Hour + 3*time.Minute + 59*time.Second, 24 * time.Hour, "ecs-uptime: ran 26h03m, over its max lifetime 24h"},
		{90 * time.Minute, 90 * time.Minute, "ecs-uptime: ran 1h30m, over its max lifetime 1h30m"},
		{45*time.Second + 500*time.Millisecond, time.Nanosecond, "ecs-uptime: ran 45s, over its max lifetime 0s"},
		{math.MaxInt64, math.MaxInt64, "ecs-uptime: ran 2562047h47m, over its max lifetime 2562047h47m"},
	}
	for _, tc := range tests {
		got := reaper.Reason(tc.up, tc.limit)
		if got != tc.want {
			t.Errorf("Reason(%s, %s) = %q, want %q", tc.up, tc.limit, got, tc.want)
		}
		if len(got) >= 255 {
			t.Errorf("Reason(%s, %s) is %d characters, want under ECS's 255", tc.up, tc.limit, len(got))
		}
	}
}

func TestNewPanicsOnAnEmptyTag(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "empty Policy.Tag") {
			t.Errorf("panic %v, want one saying empty Policy.Tag", r)
		}
	}()
	reaper.New(reaper.Policy{}, nil)
}

// A task the cycle reports only is never considered, past its tag or with
// a bad one, and what was done about it before is kept: judged again, it is
// not stopped twice.
func TestReportOnlyTasksAreLeftAlone(t *testing.T) {
	past := oneOff("5c2f0b9e", "24h")
	bad := oneOff("7a1d", "6 hours")
	var l logs
	rec := &recorder{}
	s := reaped(rec, reaper.Policy{Stop: true, Tag: tagKey}, l.logger())
	both := func(reportOnly bool) []uptime.TaskUptime {
		return []uptime.TaskUptime{{Task: &past, Uptime: 25 * time.Hour, ReportOnly: reportOnly}, {Task: &bad, Uptime: 25 * time.Hour, ReportOnly: reportOnly}}
	}
	for n := range 2 {
		if err := s.Send(context.Background(), at(n, both(true)...)); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"send 2 task(s)", "send 2 task(s)"}; !slices.Equal(rec.calls, want) {
		t.Errorf("reported-only tasks: %q, want %q", rec.calls, want)
	}
	if lines := l.lines(t); len(lines) != 0 {
		t.Errorf("logged %q, want nothing", lines)
	}
	// Judged: acted on; reported only again, then judged: nothing twice.
	rec.calls = nil
	for n, reportOnly := range []bool{false, true, false} {
		if err := s.Send(context.Background(), at(2+n, both(reportOnly)...)); err != nil {
			t.Fatal(err)
		}
	}
	var acts []string
	for _, c := range rec.calls {
		if !strings.HasPrefix(c, "send ") {
			acts = append(acts, c)
		}
	}
	if len(acts) != 4 || !strings.HasPrefix(acts[0], "event warning bad max-lifetime tag") || !strings.HasPrefix(acts[1], "event info stopping") ||
		!strings.HasPrefix(acts[2], "StopTask "+past.ARN) || !strings.HasPrefix(acts[3], "event error stopped") {
		t.Errorf("judged, reported only, judged: %q; want the bad-tag event and one stop, once", acts)
	}
}
