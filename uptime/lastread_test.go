package uptime

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// LastRead follows every cycle that read the source, sent or not, and only
// those: the health check tells an Agent that is away (reads go on, sends
// fail) from a source that cannot be read.
func TestRunnerLastReadFollowsReadsNotSends(t *testing.T) {
	ok := func() ([]Task, error) { return []Task{task("a", ctr("x", true, time.Hour))}, nil }
	down := func() ([]Task, error) { return nil, errors.New("connection refused") }
	src := &scriptedSource{script: []func() ([]Task, error){ok, ok, down}}
	sink := &recordingSink{}
	clk := &clock{now: t0}
	r := &Runner{Source: src, Sink: sink, Tracker: NewTracker(clk.Now, nil), Interval: time.Second, Log: slog.New(slog.DiscardHandler)}
	steps := []struct {
		name               string
		sendErr            error
		lastRead, lastSent time.Time
	}{
		{"read and sent", nil, t0, t0},
		{"read, the Agent away", errors.New("agent away"), t0.Add(time.Second), t0},
		{"the source down", nil, t0.Add(time.Second), t0},
	}
	for _, s := range steps {
		sink.err = s.sendErr
		_ = r.Cycle(context.Background())
		if !r.LastRead().Equal(s.lastRead) || !r.LastSuccess().Equal(s.lastSent) {
			t.Errorf("%s: LastRead %v, LastSuccess %v; want %v, %v", s.name, r.LastRead(), r.LastSuccess(), s.lastRead, s.lastSent)
		}
		clk.now = clk.now.Add(time.Second)
	}
}
