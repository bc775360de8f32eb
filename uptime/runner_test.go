package uptime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"
)

// scriptedSource answers each read with the next entry of its script.
type scriptedSource struct {
	script []func() ([]Task, error)
	reads  int
}

func (s *scriptedSource) Tasks(context.Context) ([]Task, error) {
	f := s.script[min(s.reads, len(s.script)-1)]
	s.reads++
	return f()
}

type recordingSink struct {
	cycles []Cycle
	err    error
}

func (s *recordingSink) Send(_ context.Context, c Cycle) error {
	s.cycles = append(s.cycles, c)
	return s.err
}

func TestRunnerFailedReadSendsNothingAndResumes(t *testing.T) {
	ok := func() ([]Task, error) { return []Task{task("a", ctr("x", true, time.Hour))}, nil }
	down := func() ([]Task, error) { return nil, errors.New("connection refused") }
	src := &scriptedSource{script: []func() ([]Task, error){ok, down, down, down, ok}}
	sink := &recordingSink{}
	var logs bytes.Buffer
	clk := &clock{now: t0}
	r := &Runner{Source: src, Sink: sink, Tracker: NewTracker(clk.Now, nil), Interval: time.Second, Log: slog.New(slog.NewTextHandler(&logs, nil))}

	var errs []error
	for range 5 {
		errs = append(errs, r.Cycle(context.Background()))
		clk.now = clk.now.Add(time.Second)
	}
	if len(sink.cycles) != 2 {
		t.Fatalf("sent %d cycles, want 2 (none while the source is down)", len(sink.cycles))
	}
	if errs[0] != nil || errs[1] == nil || errs[4] != nil {
		t.Errorf("cycle errors = %v", errs)
	}
	first, last := sink.cycles[0].Tasks[0].Uptime, sink.cycles[1].Tasks[0].Uptime
	if want := first + 4*time.Second; last != want {
		t.Errorf("after the outage uptime = %v, want %v (the same series, not reset)", last, want)
	}
	if n := strings.Count(logs.String(), "cannot read tasks"); n != 1 {
		t.Errorf("logged the outage %d times, want once:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "source answers again"); n != 1 {
		t.Errorf("logged the recovery %d times, want once:\n%s", n, logs.String())
	}
	if !r.LastSuccess().Equal(t0.Add(4 * time.Second)) {
		t.Errorf("LastSuccess = %v, want the last good cycle's time", r.LastSuccess())
	}
}

func TestRunnerStopsOnErrStop(t *testing.T) {
	src := &scriptedSource{script: []func() ([]Task, error){func() ([]Task, error) { return nil, nil }}}
	sink := &recordingSink{err: fmt.Errorf("max lifetime: %w", ErrStop)}
	r := &Runner{Source: src, Sink: sink, Tracker: NewTracker(nil, nil), Interval: time.Hour}
	err := r.Run(context.Background())
	if !errors.Is(err, ErrStop) {
		t.Fatalf("Run = %v, want ErrStop", err)
	}
}

func TestRunnerReturnsNilWhenCancelled(t *testing.T) {
	read := make(chan struct{}, 100)
	src := &scriptedSource{script: []func() ([]Task, error){func() ([]Task, error) { read <- struct{}{}; return nil, nil }}}
	sink := &recordingSink{err: errors.New("agent away")} // a send error is not fatal
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	r := &Runner{Source: src, Sink: sink, Tracker: NewTracker(nil, nil), Interval: 10 * time.Millisecond, Log: slog.New(slog.DiscardHandler)}
	go func() { done <- r.Run(ctx) }()
	<-read
	<-read // a second cycle: the send error did not end the loop
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
}

func TestRunnerRejectsZeroInterval(t *testing.T) {
	r := &Runner{Source: &scriptedSource{}, Sink: &recordingSink{}, Tracker: NewTracker(nil, nil)}
	if err := r.Run(context.Background()); err == nil {
		t.Fatal("Run with no interval succeeded")
	}
}

// TestLastSuccessKeepsTheMonotonicClock: the health check measures the age
// of the last good cycle; with the monotonic reading kept, a wall clock
// stepped forward (NTP, a VM resumed) cannot make a healthy sidecar stale.
func TestLastSuccessKeepsTheMonotonicClock(t *testing.T) {
	src := &scriptedSource{script: []func() ([]Task, error){func() ([]Task, error) { return nil, nil }}}
	r := &Runner{Source: src, Sink: &recordingSink{}, Tracker: NewTracker(nil, nil), Interval: time.Second}
	if err := r.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	last := r.LastSuccess()
	if last.IsZero() || last == last.Round(0) { // Round(0) strips the monotonic reading
		t.Errorf("LastSuccess = %v: the monotonic clock reading is lost", last)
	}
	// LastRead is what the health check reads now: the same must hold.
	if read := r.LastRead(); read.IsZero() || read == read.Round(0) {
		t.Errorf("LastRead = %v: the monotonic clock reading is lost", read)
	}
}

// weakSink keeps a weak pointer to the first task of each cycle it is
// sent, and nothing else.
type weakSink struct{ first []weak.Pointer[TaskUptime] }

func (s *weakSink) Send(_ context.Context, c Cycle) error {
	s.first = append(s.first, weak.Make(&c.Tasks[0]))
	return nil
}

// TestRunnerKeepsNoCycle: once a cycle is sent, the Runner keeps nothing
// of it (its health times are copies): at 10,000 tasks a cycle's tasks
// are 5 MB, and holding the last one until the next cycle doubled the
// api source's peak. The Tracker keeps what it needs in its own maps.
func TestRunnerKeepsNoCycle(t *testing.T) {
	src := &scriptedSource{script: []func() ([]Task, error){func() ([]Task, error) {
		return []Task{{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/1", StartedAt: time.Now().Add(-time.Hour)}}, nil
	}}}
	sink := &weakSink{}
	r := &Runner{Source: src, Sink: sink, Tracker: NewTracker(nil, nil), Interval: time.Second}
	for range 2 {
		if err := r.Cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	for i, p := range sink.first {
		if p.Value() != nil {
			t.Errorf("cycle %d's tasks are still reachable after it was sent", i+1)
		}
	}
	if r.LastSuccess().IsZero() || r.LastRead().IsZero() {
		t.Error("the health times are lost")
	}
}
