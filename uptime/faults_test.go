package uptime

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The host clock steps backwards under a running Runner (NTP correcting a
// fast clock, a VM restored from a snapshot). Every cycle is still sent;
// the uptime follows the clock (now minus the remembered start), is never
// negative, reads 0 only while the clock is before the task's start, comes
// back to the task's real age once the clock is right, and the skew is
// logged once when it begins and once when it ends.
func TestRunnerClockJumpsBackwards(t *testing.T) {
	type step struct {
		now  time.Time
		want time.Duration
	}
	started := t0.Add(-time.Hour)
	tests := []struct {
		name  string
		steps []step
		logs  []string // in order
	}{
		{
			name: "back by less than the task's age",
			steps: []step{
				{t0, time.Hour},
				{t0.Add(-10 * time.Minute), 50 * time.Minute},
				{t0.Add(-10*time.Minute + time.Second), 50*time.Minute + time.Second},
			},
		},
		{
			name: "back to before the task started, then right again",
			steps: []step{
				{t0, time.Hour},
				{t0.Add(-2 * time.Hour), 0},
				{t0.Add(-2*time.Hour + time.Second), 0},
				{t0.Add(2 * time.Second), time.Hour + 2*time.Second},
				{t0.Add(3 * time.Second), time.Hour + 3*time.Second},
			},
			logs: []string{"clock skew", "clock caught up"},
		},
		{
			name: "before the start twice",
			steps: []step{
				{t0, time.Hour},
				{started.Add(-time.Second), 0},
				{t0.Add(time.Second), time.Hour + time.Second},
				{started.Add(-time.Minute), 0},
				{started, 0},
				{t0.Add(2 * time.Second), time.Hour + 2*time.Second},
			},
			logs: []string{"clock skew", "clock caught up", "clock skew", "clock caught up"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			clk := &clock{now: t0}
			src := &scriptedSource{script: []func() ([]Task, error){func() ([]Task, error) {
				return []Task{task("a", Container{ID: "x", Running: true, StartedAt: started})}, nil
			}}}
			sink := &recordingSink{}
			r := &Runner{Source: src, Sink: sink, Tracker: NewTracker(clk.Now, log), Interval: time.Second, Log: log}
			for i, s := range tc.steps {
				clk.now = s.now
				if err := r.Cycle(context.Background()); err != nil {
					t.Fatalf("cycle %d: %v", i, err)
				}
				if len(sink.cycles) != i+1 {
					t.Fatalf("cycle %d sent nothing", i)
				}
				got := uptimes(sink.cycles[i])
				if got["a"] != s.want || got["a/x"] != s.want {
					t.Errorf("cycle %d at %v: uptime %v, container %v; want %v", i, s.now.Sub(t0), got["a"], got["a/x"], s.want)
				}
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(tc.logs) == 0 && logs.Len() == 0 {
				return
			}
			if len(lines) != len(tc.logs) {
				t.Fatalf("%d log lines, want %d (%q), one per state change:\n%s", len(lines), len(tc.logs), tc.logs, logs.String())
			}
			for i, w := range tc.logs {
				if !strings.Contains(lines[i], w) {
					t.Errorf("log line %d = %s, want it to say %q", i, lines[i], w)
				}
			}
		})
	}
}
