package uptime

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// clock is a settable time source for the Tracker.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func ctr(id string, running bool, startedAgo time.Duration) Container {
	c := Container{Name: id, RuntimeName: "ecs-" + id, ID: id, Image: "app:1", Running: running}
	if startedAgo >= 0 {
		c.StartedAt = t0.Add(-startedAgo)
	}
	return c
}

const never = -1 // a container that has not started (PULLED, CREATED)

func task(arn string, cs ...Container) Task {
	return Task{ARN: arn, Family: "fam", Revision: "1", Containers: cs}
}

func uptimes(c Cycle) map[string]time.Duration {
	m := map[string]time.Duration{}
	for _, t := range c.Tasks {
		m[t.Task.ARN] = t.Uptime
		for _, cu := range t.Containers {
			m[t.Task.ARN+"/"+cu.Container.ID] = cu.Uptime
		}
	}
	return m
}

func TestTrackerRules(t *testing.T) {
	tests := []struct {
		name  string
		tasks []Task
		want  map[string]time.Duration
	}{
		{
			name:  "task age is its earliest start; each container its own",
			tasks: []Task{task("a", ctr("c1", true, 2*time.Hour), ctr("c2", true, time.Hour))},
			want:  map[string]time.Duration{"a": 2 * time.Hour, "a/c1": 2 * time.Hour, "a/c2": time.Hour},
		},
		{
			name:  "an exited init container marks the task's start but has no series",
			tasks: []Task{task("a", ctr("init", false, 26*time.Hour+30*time.Second), ctr("app", true, 26*time.Hour))},
			want:  map[string]time.Duration{"a": 26*time.Hour + 30*time.Second, "a/app": 26 * time.Hour},
		},
		{
			name:  "containers not started yet are ignored",
			tasks: []Task{task("a", ctr("pulled", false, never), ctr("app", true, time.Minute))},
			want:  map[string]time.Duration{"a": time.Minute, "a/app": time.Minute},
		},
		{
			name:  "a task with no running container is not reported",
			tasks: []Task{task("a", ctr("done", false, time.Hour)), task("b", ctr("x", true, time.Second))},
			want:  map[string]time.Duration{"b": time.Second, "b/x": time.Second},
		},
		{
			name:  "a task whose containers are still being created is not reported",
			tasks: []Task{task("a", ctr("created", false, never))},
			want:  map[string]time.Duration{},
		},
		{
			name:  "a task with zero containers is not reported",
			tasks: []Task{task("a")},
			want:  map[string]time.Duration{},
		},
		{
			name:  "a start in the future reports 0, never negative",
			tasks: []Task{task("a", Container{ID: "skewed", Running: true, StartedAt: t0.Add(3 * time.Second)})},
			want:  map[string]time.Duration{"a": 0, "a/skewed": 0},
		},
		{
			name:  "several tasks",
			tasks: []Task{task("b", ctr("x", true, 5*time.Second)), task("a", ctr("y", true, 7*time.Second))},
			want:  map[string]time.Duration{"a": 7 * time.Second, "a/y": 7 * time.Second, "b": 5 * time.Second, "b/x": 5 * time.Second},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{now: t0}
			got := uptimes(NewTracker(clk.Now, slog.New(slog.DiscardHandler)).Observe(tc.tasks))
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, w := range tc.want {
				if g, ok := got[k]; !ok || g != w {
					t.Errorf("%s: got %v (present %v), want %v", k, g, ok, w)
				}
			}
		})
	}
}

func TestTrackerCycleIsSortedAndStamped(t *testing.T) {
	clk := &clock{now: t0}
	c := NewTracker(clk.Now, nil).Observe([]Task{task("c", ctr("1", true, 1)), task("a", ctr("2", true, 1)), task("b", ctr("3", true, 1))})
	if !c.At.Equal(t0) {
		t.Errorf("At = %v, want %v", c.At, t0)
	}
	var arns []string
	for _, tu := range c.Tasks {
		arns = append(arns, tu.Task.ARN)
	}
	if strings.Join(arns, ",") != "a,b,c" {
		t.Errorf("tasks in order %v, want a,b,c", arns)
	}
}

// A restarted container must never make the task look younger, and the
// container series itself starts again from the new start.
func TestTrackerRestartKeepsTaskAge(t *testing.T) {
	clk := &clock{now: t0}
	tr := NewTracker(clk.Now, nil)
	tr.Observe([]Task{task("a", ctr("app", true, 10*time.Hour))})

	clk.now = t0.Add(time.Minute)
	restarted := task("a", Container{ID: "app", Running: true, StartedAt: t0.Add(30 * time.Second)})
	got := uptimes(tr.Observe([]Task{restarted}))
	if want := 10*time.Hour + time.Minute; got["a"] != want {
		t.Errorf("task uptime after restart = %v, want %v", got["a"], want)
	}
	if got["a/app"] != 30*time.Second {
		t.Errorf("container uptime after restart = %v, want 30s", got["a/app"])
	}
}

// Once a read no longer lists a task, its memory goes: a new task that reuses
// nothing starts fresh, and the map does not grow forever.
func TestTrackerForgetsGoneTasks(t *testing.T) {
	clk := &clock{now: t0}
	tr := NewTracker(clk.Now, nil)
	tr.Observe([]Task{task("a", ctr("x", true, time.Hour)), task("b", ctr("y", true, time.Hour))})
	tr.Observe([]Task{task("b", ctr("y", true, time.Hour))})
	if _, ok := tr.starts["a"]; ok || len(tr.starts) != 1 {
		t.Fatalf("tracker still remembers %v, want only b", tr.starts)
	}
	// A task listed with no running container is still remembered: a
	// container restart policy may start it again.
	tr.Observe([]Task{task("b", ctr("y", false, time.Hour))})
	if _, ok := tr.starts["b"]; !ok {
		t.Fatal("tracker forgot a task that is still listed")
	}
}

func TestTrackerWarnsOnceAboutSkew(t *testing.T) {
	var logs bytes.Buffer
	clk := &clock{now: t0}
	tr := NewTracker(clk.Now, slog.New(slog.NewTextHandler(&logs, nil)))
	future := task("a", Container{ID: "x", Running: true, StartedAt: t0.Add(5 * time.Second)})
	for range 3 {
		tr.Observe([]Task{future})
		clk.now = clk.now.Add(time.Second)
	}
	if n := strings.Count(logs.String(), "clock skew"); n != 1 {
		t.Fatalf("logged skew %d times, want once:\n%s", n, logs.String())
	}
	clk.now = t0.Add(10 * time.Second)
	if got := uptimes(tr.Observe([]Task{future}))["a"]; got != 5*time.Second {
		t.Fatalf("once the clock caught up, uptime = %v, want 5s", got)
	}
}
