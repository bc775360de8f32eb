package health

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time for the handler, with the last-read time and
// the Agent's state the test moves as a runner and a sink would.
type clock struct {
	mu          sync.Mutex
	now, last   time.Time
	agentDown   time.Time
	agentReason error
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Last() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.last }
func (c *clock) Agent() (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.agentDown, c.agentReason
}
func (c *clock) set(now, last, agentDown time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now, c.last, c.agentDown = now, last, agentDown
	c.agentReason = nil
	if !agentDown.IsZero() {
		c.agentReason = errors.New("the Agent at 127.0.0.1:8125 refused the previous cycle's datagrams")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Over a real loopback socket: healthy; the source down for three
// intervals makes it unhealthy; an Agent that is away is named in every
// answer, however long, and never makes it unhealthy (replacing a task
// brings no Agent); a good cycle recovers.
func TestServeAndCheck(t *testing.T) {
	const interval = time.Second
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	c := &clock{}
	h := &Handler{LastRead: c.Last, Agent: c.Agent, Started: t0, Window: 3 * interval, Now: c.Now}
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	addr, done, err := Serve(ctx, port, h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("listens on %s, want loopback only", addr)
	}
	var never time.Time
	steps := []struct {
		name                 string
		now, last, agentDown time.Time
		healthy              bool
		says                 string
	}{
		{"starting, no cycle yet", t0.Add(2 * interval), never, never, true, "ok: started 2s ago"},
		{"never read for more than 3 intervals", t0.Add(4 * interval), never, never, false, "unhealthy: no cycle read the source in 4s since start"},
		{"healthy", t0.Add(10 * interval), t0.Add(9 * interval), never, true, "ok: last cycle read the source 1s ago and the Agent took it"},
		{"3 intervals exactly", t0.Add(12 * interval), t0.Add(9 * interval), never, true, "ok: last cycle read the source 3s ago"},
		{"source down past 3 intervals", t0.Add(12*interval + time.Millisecond), t0.Add(9 * interval), never, false, "unhealthy: the last cycle that read the source was 3.001s ago, more than 3s"},
		{"the Agent away from the start", t0.Add(4 * time.Minute), t0.Add(4 * time.Minute), t0.Add(time.Second), true,
			"ok: last cycle read the source 0s ago; the Agent is unreachable since 2026-11-25T03:00:01Z (3m59s ago): the Agent at 127.0.0.1:8125 refused"},
		{"the Agent away for a day", t0.Add(24*time.Hour + 2*time.Second), t0.Add(24 * time.Hour), t0.Add(time.Second), true,
			"ok: last cycle read the source 2s ago; the Agent is unreachable since 2026-11-25T03:00:01Z (24h0m1s ago)"},
		{"the Agent back", t0.Add(6 * time.Minute), t0.Add(6 * time.Minute), never, true, "ok: last cycle read the source 0s ago and the Agent took it"},
		{"source and Agent both down", t0.Add(20 * time.Minute), t0.Add(10 * time.Minute), t0.Add(10 * time.Minute), false,
			"unhealthy: the last cycle that read the source was 10m0s ago, more than 3s; the Agent is unreachable since"},
	}
	for _, s := range steps {
		c.set(s.now, s.last, s.agentDown)
		answer, err := Check(context.Background(), port)
		if (err == nil) != s.healthy {
			t.Errorf("%s: Check = %q, %v, want healthy %v", s.name, answer, err, s.healthy)
		}
		if !strings.HasPrefix(answer, s.says) {
			t.Errorf("%s: Check = %q, want it to start %q", s.name, answer, s.says)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve ended with %v", err)
	}
	if _, err := Check(context.Background(), port); err == nil {
		t.Error("Check with no endpoint = nil, want unhealthy")
	}
}

func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if _, _, err := Serve(context.Background(), port, &Handler{}); err == nil || !strings.Contains(err.Error(), "health endpoint") {
		t.Errorf("Serve on a busy port = %v, want an error naming the health endpoint", err)
	}
}
