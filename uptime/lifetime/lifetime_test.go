package lifetime

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime"
)

const arn = "arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f0b9e8d7a4e31a6f0c1d2e3b4a596"

func at(up time.Duration) uptime.Cycle {
	return uptime.Cycle{At: time.Now(), Tasks: []uptime.TaskUptime{{
		Task: &uptime.Task{ARN: arn, Family: "db-migrate", Revision: "42", Cluster: "prod"}, Uptime: up}}}
}

// step is one cycle: the task's uptime and what the verdict must be.
type step struct {
	up       time.Duration
	check    bool
	state    State
	announce bool
	stop     bool
}

func TestJudgeTransitions(t *testing.T) {
	h := time.Hour
	tests := []struct {
		name   string
		policy Policy
		steps  []step
	}{
		{"OK to WARNING to CRITICAL, one event per crossing", Policy{Warning: 20 * h, Critical: 24 * h}, []step{
			{up: h, check: true, state: OK},
			{up: 20*h - time.Second, check: true, state: OK},
			{up: 20 * h, check: true, state: Warning, announce: true},
			{up: 21 * h, check: true, state: Warning},
			{up: 24 * h, check: true, state: Critical, announce: true},
			{up: 26 * h, check: true, state: Critical},
			{up: 27 * h, check: true, state: Critical},
		}},
		{"default: critical only", Policy{Critical: 24 * h}, []step{
			{up: 23 * h, check: true, state: OK},
			{up: 25 * h, check: true, state: Critical, announce: true},
			{up: 25*h + time.Second, check: true, state: Critical},
		}},
		{"warning only (critical 0)", Policy{Warning: 20 * h}, []step{
			{up: 30 * h, check: true, state: Warning, announce: true},
			{up: 31 * h, check: true, state: Warning},
		}},
		{"thresholds off: no check, no event", Policy{}, []step{
			{up: 100 * h, state: OK},
			{up: 200 * h, state: OK},
		}},
		{"started past critical: announced once (restarted sidecar)", Policy{Warning: 20 * h, Critical: 24 * h}, []step{
			{up: 26 * h, check: true, state: Critical, announce: true},
			{up: 26*h + time.Second, check: true, state: Critical},
		}},
		{"max lifetime shorter than age at start acts on the first cycle", Policy{Critical: 24 * h, MaxLifetime: 2 * h}, []step{
			{up: 26 * h, check: true, state: Critical, announce: true, stop: true},
		}},
		{"max lifetime reached at exactly its value", Policy{MaxLifetime: 24 * h}, []step{
			{up: 24*h - time.Second, state: OK},
			{up: 24 * h, state: OK, stop: true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := NewJudge(tc.policy)
			for i, s := range tc.steps {
				vs := j.Verdicts(at(s.up))
				if len(vs) != 1 {
					t.Fatalf("step %d: %d verdicts, want 1", i, len(vs))
				}
				v := vs[0]
				if v.Check != s.check || v.State != s.state || v.Announce != s.announce || v.Stop != s.stop {
					t.Errorf("step %d (%s): check %v state %v announce %v stop %v, want %v %v %v %v",
						i, s.up, v.Check, v.State, v.Announce, v.Stop, s.check, s.state, s.announce, s.stop)
				}
			}
		})
	}
}

// A task that leaves and comes back (same ARN) is announced again; a
// second task is judged on its own.
func TestJudgeForgetsTasksThatLeave(t *testing.T) {
	j := NewJudge(Policy{Critical: 24 * time.Hour})
	if !j.Verdicts(at(25 * time.Hour))[0].Announce {
		t.Fatal("first CRITICAL not announced")
	}
	j.Verdicts(uptime.Cycle{})
	if !j.Verdicts(at(25 * time.Hour))[0].Announce {
		t.Error("CRITICAL of a task seen again after it left not announced")
	}
	other := at(30 * time.Hour)
	other.Tasks[0].Task.ARN += "x"
	two := uptime.Cycle{Tasks: append(at(25*time.Hour).Tasks, other.Tasks...)}
	vs := j.Verdicts(two)
	if vs[0].Announce || !vs[1].Announce {
		t.Errorf("announce = %v, %v; want false for the known task, true for the new one", vs[0].Announce, vs[1].Announce)
	}
}

func TestMessages(t *testing.T) {
	j := NewJudge(Policy{Warning: 20 * time.Hour, Critical: 24 * time.Hour, MaxLifetime: 24 * time.Hour})
	v := j.Verdicts(at(26*time.Hour + 3*time.Minute + 59*time.Second))[0]
	for _, c := range []struct{ name, got, want string }{
		{"message", v.Message, "task db-migrate:42 (…/5c2f0b9e…) has run 26h03m, over 24h"},
		{"title", v.EventTitle(), "ECS task db-migrate:42 (…/5c2f0b9e…) running for 26h03m"},
		{"text", v.EventText(), "CRITICAL: task db-migrate:42 (…/5c2f0b9e…) has run 26h03m, over 24h\ntask_arn: " + arn + "\ncluster: prod"},
		{"stop", v.StopText(24 * time.Hour), "stopping: max lifetime 24h reached\ntask db-migrate:42 (…/5c2f0b9e…) has run 26h03m\ntask_arn: " + arn + "\ncluster: prod"},
		{"warning", j.Verdicts(at(21 * time.Hour))[0].Message, "task db-migrate:42 (…/5c2f0b9e…) has run 21h, over 20h"},
		{"ok", j.Verdicts(at(90 * time.Minute))[0].Message, "task db-migrate:42 (…/5c2f0b9e…) has run 1h30m, under 20h"},
	} {
		if c.got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.name, c.got, c.want)
		}
	}
	if off := NewJudge(Policy{}).Verdicts(at(time.Hour))[0].Message; strings.Contains(off, "under") {
		t.Errorf("message with no threshold %q names one", off)
	}
}

// A task with a task-level size gets its size and use in the threshold and
// max-lifetime events, before the details.
func TestMessagesWithSize(t *testing.T) {
	j := NewJudge(Policy{Critical: 24 * time.Hour, MaxLifetime: 24 * time.Hour})
	c := at(26*time.Hour + 3*time.Minute)
	c.Tasks[0].Task.CPU, c.Tasks[0].Task.Memory = "1024", "2048"
	v := j.Verdicts(c)[0]
	use := "1 vCPU, 2 GB: 26.1 vCPU-hours, 52.1 GB-hours\ntask_arn: " + arn + "\ncluster: prod"
	if got, want := v.EventText(), "CRITICAL: task db-migrate:42 (…/5c2f0b9e…) has run 26h03m, over 24h\n"+use; got != want {
		t.Errorf("text\n got %q\nwant %q", got, want)
	}
	if got, want := v.StopText(24*time.Hour), "stopping: max lifetime 24h reached\ntask db-migrate:42 (…/5c2f0b9e…) has run 26h03m\n"+use; got != want {
		t.Errorf("stop text\n got %q\nwant %q", got, want)
	}
}

func TestUsage(t *testing.T) {
	h := time.Hour
	for _, c := range []struct {
		name, cpu, mem string
		ran            time.Duration
		want           string
	}{
		{"the contract's example", "1024", "2048", 26*h + 3*time.Minute, "1 vCPU, 2 GB: 26.1 vCPU-hours, 52.1 GB-hours"},
		{"the smallest Fargate size, ten minutes", "256", "512", 10 * time.Minute, "0.25 vCPU, 0.5 GB: 0.04 vCPU-hours, 0.08 GB-hours"},
		{"a large one", "16384", "122880", 100 * h, "16 vCPU, 120 GB: 1600.0 vCPU-hours, 12000.0 GB-hours"},
		{"units that are no round size", "300", "1000", h, "0.29 vCPU, 0.98 GB: 0.29 vCPU-hours, 0.98 GB-hours"},
		{"as a task definition may write it", "1 vCPU", "2 GB", 2 * h, "1 vCPU, 2 GB: 2.0 vCPU-hours, 4.0 GB-hours"},
		{"without a space, another case", "0.5vcpu", "1gb", 2 * h, "0.5 vCPU, 1 GB: 1.0 vCPU-hours, 2.0 GB-hours"},
		{"not run yet: the size alone", "1024", "2048", 0, "1 vCPU, 2 GB"},
		{"memory only", "", "4096", h, "4 GB: 4.0 GB-hours"},
		{"cpu only", "2048", "", h, "2 vCPU: 2.0 vCPU-hours"},
		{"no task-level size (EC2)", "", "", h, ""},
		{"a size in no known form", "lots", "many", h, ""},
		{"zero or negative", "0", "-1", h, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Usage(&uptime.Task{CPU: c.cpu, Memory: c.mem}, c.ran); got != c.want {
				t.Errorf("Usage(%q, %q, %v) = %q, want %q", c.cpu, c.mem, c.ran, got, c.want)
			}
		})
	}
}

func TestAge(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"}, {1500 * time.Millisecond, "1s"}, {90 * time.Second, "1m30s"}, {45 * time.Minute, "45m"},
		{24 * time.Hour, "24h"}, {26*time.Hour + 3*time.Minute + 59*time.Second, "26h03m"}, {100 * time.Hour, "100h"},
	} {
		if got := Age(c.d); got != c.want {
			t.Errorf("Age(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestJudgeKeepsHeldTasks(t *testing.T) {
	j := NewJudge(Policy{Critical: 24 * time.Hour})
	if !j.Verdicts(at(25 * time.Hour))[0].Announce {
		t.Fatal("first CRITICAL not announced")
	}
	// A partial read that could not see the task's cluster holds it.
	j.Verdicts(uptime.Cycle{Held: []string{arn}})
	if j.Verdicts(at(25 * time.Hour))[0].Announce {
		t.Error("CRITICAL announced again after a cycle that only held the task (its cluster was unread)")
	}
}

// A task reported only (a service's task under report, or one whose kind
// is still being learnt) gets no check, no event and no stop however old;
// once judged, it announces its state as a newly seen task would.
func TestJudgeReportOnly(t *testing.T) {
	j := NewJudge(Policy{Warning: 20 * time.Hour, Critical: 24 * time.Hour, MaxLifetime: 24 * time.Hour})
	var logs strings.Builder
	j.Log = slog.New(slog.NewTextHandler(&logs, nil))
	c := at(30 * time.Hour)
	c.Tasks[0].ReportOnly = true
	c.Tasks[0].Task.Kind, c.Tasks[0].Task.Service = uptime.KindService, "web"
	for range 2 {
		var s uptime.Signals
		j.Judge(&c, &s)
		if len(s.Checks)+len(s.Events) > 0 || s.Exit != nil {
			t.Fatalf("reported-only task: checks %v, events %v, exit %v; want none", s.Checks, s.Events, s.Exit)
		}
		if v := j.Verdicts(c)[0]; v.Check || v.Announce || v.Stop || v.State != Critical {
			t.Fatalf("reported-only verdict %+v, want its state and no check, announce or stop", v)
		}
	}
	// The max lifetime that does not apply is said once, not silently.
	if n := strings.Count(logs.String(), "ECS_UPTIME_MAX_LIFETIME does not apply"); n != 1 || !strings.Contains(logs.String(), "service=web") {
		t.Errorf("max lifetime on a reported-only service task logged %d times, want once naming the service:\n%s", n, logs.String())
	}
	c.Tasks[0].ReportOnly = false
	var s uptime.Signals
	j.Judge(&c, &s)
	if len(s.Checks) != 1 || s.Checks[0].Status != Critical || len(s.Events) != 1 || s.Exit == nil {
		t.Errorf("judged at last: checks %v, events %v, exit %v; want CRITICAL, its stop event and the exit", s.Checks, s.Events, s.Exit)
	}
}
