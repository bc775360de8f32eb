package health

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time for the handler and a last-success time the
// test moves as a runner would.
type clock struct {
	mu        sync.Mutex
	now, last time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Last() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.last }
func (c *clock) set(now, last time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now, c.last = now, last
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

// Over a real loopback socket: healthy, the source down for three
// intervals (no success) makes it unhealthy, a good cycle recovers it.
func TestServeAndCheck(t *testing.T) {
	const interval = time.Second
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	c := &clock{}
	h := &Handler{Last: c.Last, Started: t0, Window: 3 * interval, Now: c.Now}
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	addr, done, err := Serve(ctx, port, h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("listens on %s, want loopback only", addr)
	}
	steps := []struct {
		name      string
		now, last time.Time
		healthy   bool
		says      string
	}{
		{"starting, no cycle yet", t0.Add(2 * interval), time.Time{}, true, ""},
		{"never succeeded for more than 3 intervals", t0.Add(4 * interval), time.Time{}, false, "no successful cycle"},
		{"healthy", t0.Add(10 * interval), t0.Add(9 * interval), true, ""},
		{"3 intervals exactly", t0.Add(12 * interval), t0.Add(9 * interval), true, ""},
		{"endpoint down past 3 intervals", t0.Add(12*interval + time.Millisecond), t0.Add(9 * interval), false, "last successful cycle 3.001s ago, more than 3s"},
		{"recovers", t0.Add(13 * interval), t0.Add(13 * interval), true, ""},
	}
	for _, s := range steps {
		c.set(s.now, s.last)
		err := Check(context.Background(), port)
		if (err == nil) != s.healthy {
			t.Errorf("%s: Check = %v, want healthy %v", s.name, err, s.healthy)
		}
		if err != nil && !strings.Contains(err.Error(), s.says) {
			t.Errorf("%s: Check = %v, want it to say %q", s.name, err, s.says)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve ended with %v", err)
	}
	if err := Check(context.Background(), port); err == nil {
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
