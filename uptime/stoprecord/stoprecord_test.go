package stoprecord

import (
	"slices"
	"testing"
	"time"

	"ecs-uptime/uptime"
)

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

const (
	arnA = "arn:aws:ecs:eu-west-1:123456789012:task/jobs/aaaaaaaa5c2f0b9e8d7a4e31a6f0c1d2"
	arnB = "arn:aws:ecs:eu-west-1:123456789012:task/jobs/bbbbbbbb7a1b2c3d4e5f60718293a4b5"
	arnC = "arn:aws:ecs:eu-west-1:123456789012:task/jobs/cccccccc9f8e7d6c5b4a39281706f5e4"
)

func code(n int) *int { return &n }

func task(arn, status string) uptime.Task {
	return uptime.Task{ARN: arn, Family: "db-migrate", Revision: "42", Cluster: "jobs", Region: "eu-west-1", Status: status,
		StartedAt: t0.Add(-26*time.Hour - 3*time.Minute), CreatedAt: t0.Add(-27 * time.Hour)}
}

func stopped(arn string) uptime.Task {
	t := task(arn, "STOPPED")
	t.Ending = &uptime.Ending{StoppedAt: t0, StopCode: "EssentialContainerExited", StoppedReason: "Essential container in task exited",
		Exits: []uptime.ContainerExit{{Name: "app", ExitCode: code(0)}}}
	return t
}

// judged are the signals of an earlier stage about a task.
type judged func(t *uptime.Task, s *uptime.Signals)

var (
	event = func(t *uptime.Task, s *uptime.Signals) {
		s.Events = append(s.Events, uptime.Event{Title: "x", About: uptime.Subject{Task: t}})
	}
	singletonOnset = func(t *uptime.Task, s *uptime.Signals) {
		s.Events = append(s.Events, uptime.Event{Title: "2 tasks", About: uptime.Subject{Family: t.Family}, Tasks: []string{t.ARN}})
	}
	check = func(st uptime.Status) judged {
		return func(t *uptime.Task, s *uptime.Signals) {
			s.Checks = append(s.Checks, uptime.Check{Name: uptime.CheckTaskLifetime, Status: st, About: uptime.Subject{Task: t}})
		}
	}
	stop = func(t *uptime.Task, s *uptime.Signals) { s.Stops = append(s.Stops, uptime.StopRequest{Task: *t}) }
	// a family's check and event without task ARNs judges no task
	familyCheck = func(t *uptime.Task, s *uptime.Signals) {
		s.Checks = append(s.Checks, uptime.Check{Name: uptime.CheckFamilySingleton, Status: uptime.Critical, About: uptime.Subject{Family: t.Family}})
	}
)

// step is one cycle: the running tasks and others, the held ARNs, the
// signals earlier stages added, and the ARNs whose record it must send.
type step struct {
	running, others []uptime.Task
	held            []string
	signals         map[string]judged // by task ARN
	want            []string
}

func TestRecord(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"every kind of judgement, then STOPPED: one record each, once", []step{
			{running: []uptime.Task{task(arnA, "RUNNING"), task(arnB, "RUNNING")}, others: []uptime.Task{task(arnC, "PENDING")},
				signals: map[string]judged{arnA: event, arnB: check(uptime.Warning), arnC: check(uptime.Critical)}},
			{others: []uptime.Task{stopped(arnA), stopped(arnB), stopped(arnC)}, want: []string{arnA, arnB, arnC}},
			{others: []uptime.Task{stopped(arnA), stopped(arnB)}},
		}},
		{"a singleton onset names its tasks; a stop request judges its task", []step{
			{running: []uptime.Task{task(arnA, "RUNNING"), task(arnB, "RUNNING")}, signals: map[string]judged{arnA: singletonOnset, arnB: stop}},
			{running: []uptime.Task{task(arnA, "RUNNING")}, others: []uptime.Task{task(arnB, "DEACTIVATING")}},
			{others: []uptime.Task{stopped(arnA), stopped(arnB)}, want: []string{arnA, arnB}},
		}},
		{"judged and STOPPED in the same cycle: recorded at once", []step{
			{others: []uptime.Task{stopped(arnA)}, signals: map[string]judged{arnA: event}, want: []string{arnA}},
		}},
		{"OK checks and a family's signals judge nobody", []step{
			{running: []uptime.Task{task(arnA, "RUNNING"), task(arnB, "RUNNING")}, signals: map[string]judged{arnA: check(uptime.OK), arnB: familyCheck}},
			{others: []uptime.Task{stopped(arnA), stopped(arnB)}},
		}},
		{"held while its part is unread, recorded when it comes back STOPPED", []step{
			{running: []uptime.Task{task(arnA, "RUNNING")}, signals: map[string]judged{arnA: event}},
			{held: []string{arnA}},
			{others: []uptime.Task{stopped(arnA)}, want: []string{arnA}},
		}},
		{"gone from the reads without being seen STOPPED: forgotten", []step{
			{running: []uptime.Task{task(arnA, "RUNNING")}, signals: map[string]judged{arnA: event}},
			{},
			{others: []uptime.Task{stopped(arnA)}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New()
			for i, st := range tc.steps {
				c := &uptime.Cycle{At: t0.Add(time.Duration(i) * time.Minute), Others: st.others, Held: st.held}
				for _, rt := range st.running {
					c.Tasks = append(c.Tasks, uptime.TaskUptime{Task: &rt})
				}
				var s uptime.Signals
				each := func(fn func(*uptime.Task)) {
					for j := range c.Tasks {
						fn(c.Tasks[j].Task)
					}
					for j := range c.Others {
						fn(&c.Others[j])
					}
				}
				each(func(t *uptime.Task) {
					if j := st.signals[t.ARN]; j != nil {
						j(t, &s)
					}
				})
				before := len(s.Events)
				r.Judge(c, &s)
				var got []string
				for _, e := range s.Events[before:] {
					got = append(got, e.Key)
					if e.About.Task == nil || e.About.Task.ARN != e.Key || !e.About.Task.Stopped() || e.Alert != uptime.AlertError || !e.At.Equal(c.At) {
						t.Errorf("cycle %d: record %+v: want it about the stopped task, keyed by its ARN, error, at the cycle's time", i, e)
					}
				}
				if !slices.Equal(got, st.want) {
					t.Errorf("cycle %d: records for %v, want %v", i, got, st.want)
				}
			}
			if len(r.judged) != 0 {
				t.Errorf("still remembers %v after every task ended", r.judged)
			}
		})
	}
}

func TestEvent(t *testing.T) {
	for _, tc := range []struct {
		name        string
		task        func() uptime.Task
		title, text string
	}{
		{"a judged migration stopped by the reaper, with a size and two containers", func() uptime.Task {
			t := stopped(arnA)
			t.Ending.StopCode, t.Ending.StoppedReason = "UserInitiated", "ecs-uptime: ran 26h03m, over its max lifetime 24h"
			t.CPU, t.Memory, t.StartedBy = "1024", "2048", "ci/deploy-7"
			t.Ending.Exits = []uptime.ContainerExit{{Name: "init", ExitCode: code(0)}, {Name: "app", ExitCode: code(143), Reason: "stopped by SIGTERM"}}
			return t
		},
			"ECS task db-migrate:42 (…/aaaaaaaa…) stopped after 26h03m",
			"ran 26h03m: started 2026-12-02T06:57:00Z, stopped 2026-12-03T09:00:00Z\n" +
				"stop code: UserInitiated\nstopped reason: ecs-uptime: ran 26h03m, over its max lifetime 24h\n" +
				"container init: exit code 0\ncontainer app: exit code 143, stopped by SIGTERM\n" +
				"1 vCPU, 2 GB: 26.1 vCPU-hours, 52.1 GB-hours\n" +
				"task_arn: " + arnA + "\ncluster: jobs\nstarted_by: ci/deploy-7"},
		{"never started: stuck in PROVISIONING, then stopped", func() uptime.Task {
			t := stopped(arnB)
			t.StartedAt = time.Time{}
			t.Ending.StopCode, t.Ending.StoppedReason = "TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
			t.Ending.Exits = []uptime.ContainerExit{{Name: "app", Reason: "CannotPullContainerError: ref not found"}}
			t.CPU, t.Memory = "256", "512"
			return t
		},
			"ECS task db-migrate:42 (…/bbbbbbbb…) stopped before it started",
			"never ran: created 2026-12-02T06:00:00Z, stopped 2026-12-03T09:00:00Z\n" +
				"stop code: TaskFailedToStart\nstopped reason: CannotPullContainerError: pull image manifest has been retried 5 time(s)\n" +
				"container app: no exit code, CannotPullContainerError: ref not found\n" +
				"0.25 vCPU, 0.5 GB\n" +
				"task_arn: " + arnB + "\ncluster: jobs"},
		{"no stoppedAt, no size, no exits: the cycle's time ends its run", func() uptime.Task {
			t := task(arnC, "STOPPED")
			return t
		},
			"ECS task db-migrate:42 (…/cccccccc…) stopped after 26h03m",
			"ran 26h03m: started 2026-12-02T06:57:00Z\ntask_arn: " + arnC + "\ncluster: jobs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := tc.task()
			e := Event(t0, &task)
			if e.Title != tc.title {
				t.Errorf("title\n got %q\nwant %q", e.Title, tc.title)
			}
			if e.Text != tc.text {
				t.Errorf("text\n got %q\nwant %q", e.Text, tc.text)
			}
		})
	}
}
