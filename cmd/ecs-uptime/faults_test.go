package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/ecsmeta/fakeendpoint"
)

// faultInterval is the interval of the fault tests: long enough that one
// interval of slack tells "resumed at the next cycle" from "resumed later"
// on a busy machine.
const faultInterval = time.Second

// Endpoint faults the process must ride out.
const (
	faultNone      = ""
	fault500       = "HTTP 500"
	fault404       = "HTTP 404"
	faultSlow      = "slower than the interval"
	faultGarbage   = "garbage JSON"
	faultTruncated = "truncated JSON"
	faultRefused   = "connection refused"
	faultNoCtrs    = "a task with zero containers"
)

// faultyEndpoint serves AWS's ec2-task.json with the curl container
// started age ago, or the fault set, and counts the complete answers with
// a running container: each must give exactly one gauge, and nothing else
// may.
type faultyEndpoint struct {
	mu      sync.Mutex
	srv     *httptest.Server
	addr    string
	fault   atomic.Value // string
	good    atomic.Int64 // answers that hold a running container
	asked   atomic.Int64 // requests
	task    *fakeendpoint.Task
	noCtrs  []byte
	started time.Time // the curl container's start
}

func startFaultyEndpoint(t *testing.T, age time.Duration) *faultyEndpoint {
	t.Helper()
	doc, err := os.ReadFile("testdata/ec2-task.json")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	task, err := fakeendpoint.NewTask(doc, "curl", age, now)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(task.Body(), &m); err != nil {
		t.Fatal(err)
	}
	m["Containers"] = []any{}
	noCtrs, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	e := &faultyEndpoint{task: task, noCtrs: noCtrs, started: now.Add(-age)}
	e.fault.Store(faultNone)
	e.srv = httptest.NewServer(e)
	e.addr = e.srv.Listener.Addr().String()
	t.Cleanup(func() { e.mu.Lock(); e.srv.Close(); e.mu.Unlock() })
	return e
}

func (e *faultyEndpoint) URL() string { return "http://" + e.addr }

func (e *faultyEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.asked.Add(1)
	switch e.fault.Load().(string) {
	case fault500:
		http.Error(w, "agent restarting", http.StatusInternalServerError)
	case fault404:
		http.NotFound(w, r)
	case faultSlow:
		select {
		case <-r.Context().Done():
		case <-time.After(10 * faultInterval):
		}
	case faultGarbage:
		w.Write([]byte("<html>502 Bad Gateway</html>"))
	case faultTruncated:
		body := e.task.Body()
		w.Write(body[:len(body)/2])
	case faultNoCtrs:
		w.Write(e.noCtrs)
	default:
		e.good.Add(1)
		e.task.ServeHTTP(w, r)
	}
}

// set turns a fault on or off; "connection refused" closes the listener
// and turning it off listens again on the same address.
func (e *faultyEndpoint) set(t *testing.T, fault string) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	prev := e.fault.Swap(fault).(string)
	switch {
	case fault == faultRefused:
		e.srv.Close()
	case prev == faultRefused:
		ln, err := net.Listen("tcp", e.addr)
		if err != nil {
			t.Fatalf("listen again on %s: %v", e.addr, err)
		}
		e.srv = httptest.NewUnstartedServer(e)
		e.srv.Listener.Close()
		e.srv.Listener = ln
		e.srv.Start()
	}
}

// gaugeLog keeps what the agent received, with the time each batch arrived.
type gaugeLog struct {
	agent *receiver.Server
	got   []receivedGauge
}

type receivedGauge struct {
	at time.Time
	p  receiver.Packet
}

// take records what has arrived since the last call, stamped now, and
// returns how many packets that was and the stamp.
func (g *gaugeLog) take() (int, time.Time) {
	ps, _ := g.agent.Packets()
	now := time.Now()
	for _, p := range ps {
		g.got = append(g.got, receivedGauge{at: now, p: p})
	}
	return len(ps), now
}

// collect reads what arrived until d has passed, and returns the time the
// first packet arrived (zero if none did).
func (g *gaugeLog) collect(d time.Duration) time.Time {
	var first time.Time
	deadline := time.After(d)
	for {
		n, now := g.take()
		if n > 0 && first.IsZero() {
			first = now
		}
		select {
		case <-g.agent.Updates():
		case <-deadline:
			return first
		}
	}
}

// waitFirst waits up to d for a packet and returns when it arrived.
func (g *gaugeLog) waitFirst(d time.Duration) time.Time {
	deadline := time.After(d)
	for {
		if n, now := g.take(); n > 0 {
			return now
		}
		select {
		case <-g.agent.Updates():
		case <-deadline:
			return time.Time{}
		}
	}
}

// checkValues asserts that every gauge is the task's real age when it
// arrived (so never 0, never negative, never a stale value) and that the
// series never goes back.
func checkValues(t *testing.T, got []receivedGauge, started time.Time) {
	t.Helper()
	prev := 0.0
	for i, g := range got {
		p := g.p
		if p.Kind != receiver.Metric || p.Name != "ecs.task.uptime" || !slices.Equal(p.Tags, wantTaskTags) {
			t.Errorf("packet %d = %q, want only ecs.task.uptime with the task's tags", i, p.Raw)
			continue
		}
		age := g.at.Sub(started).Seconds()
		if p.Value > age+0.05 || p.Value < age-faultInterval.Seconds() || p.Value < prev {
			t.Errorf("gauge %d = %.3f s received when the task was %.3f s old (previous %.3f): a wrong value", i, p.Value, age, prev)
		}
		prev = p.Value
	}
}

// logLines returns the process's log lines.
func logLines(p *process) []string {
	return strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
}

// checkResumes checks, right after a fault ends, that a gauge arrives
// within one interval: the next cycle starts at most one interval after
// the recovery (a quarter interval more for a busy machine).
func checkResumes(t *testing.T, g *gaugeLog, p *process, what string) {
	t.Helper()
	recovered := time.Now()
	back := g.waitFirst(faultInterval + 3*time.Second)
	if back.IsZero() {
		t.Fatalf("nothing sent within %v of %s; logs:\n%s", faultInterval+3*time.Second, what, p.stderr)
	}
	if d := back.Sub(recovered); d > faultInterval*5/4 {
		t.Errorf("first gauge %v after %s, want within one interval (%v)", d, what, faultInterval)
	}
}

// checkLogLines checks that the process logged exactly one line per state
// change, the i-th saying want[i].
func checkLogLines(t *testing.T, p *process, want []string) {
	t.Helper()
	lines := logLines(p)
	if len(lines) != len(want) {
		t.Fatalf("%d log lines, want %d (%q), one per state change:\n%s", len(lines), len(want), want, p.stderr)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("log line %d = %s, want it to say %q", i, lines[i], w)
		}
	}
}

// Each endpoint fault, for a few intervals, in a running process: it keeps
// running, sends nothing for the failed reads (no 0, no stale value),
// resumes the same series within one interval of the recovery, and logs
// the fault once and the recovery once. The outage test in main_test.go
// covers HTTP 500 at a 200 ms interval; these rows add the other faults
// and the timing of the recovery.
func TestEndpointFaults(t *testing.T) {
	tests := []struct {
		fault string
		// wantLogs are the log lines between "started" and "stopped".
		wantLogs []string
	}{
		{fault500, []string{"cannot read tasks", "source answers again"}},
		{fault404, []string{"cannot read tasks", "source answers again"}},
		{faultSlow, []string{"cannot read tasks", "source answers again"}},
		{faultGarbage, []string{"cannot read tasks", "source answers again"}},
		{faultTruncated, []string{"cannot read tasks", "source answers again"}},
		{faultRefused, []string{"cannot read tasks", "source answers again"}},
		// A task whose containers are all gone is a good read with
		// nothing to report: no series, and nothing to log.
		{faultNoCtrs, nil},
	}
	for _, tc := range tests {
		t.Run(tc.fault, func(t *testing.T) {
			t.Parallel()
			agent := udpAgent(t)
			ep := startFaultyEndpoint(t, time.Hour)
			p := start(t, "DD_DOGSTATSD_URL=udp://"+agent.Addr(), "ECS_CONTAINER_METADATA_URI_V4="+ep.URL()+"/v4/abc",
				"ECS_UPTIME_INTERVAL="+faultInterval.String(), "ECS_UPTIME_CRITICAL=0")
			g := &gaugeLog{agent: agent}
			if g.waitFirst(5 * time.Second).IsZero() {
				t.Fatalf("no gauge within 5 s of start; logs:\n%s", p.stderr)
			}
			ep.set(t, tc.fault)
			g.collect(faultInterval*5/2 + faultInterval/2) // at least two failed cycles
			ep.set(t, faultNone)
			checkResumes(t, g, p, "the recovery")
			// Count right after a gauge arrived: its read is counted and
			// the next one is an interval away.
			g.collect(faultInterval / 2)
			if g.waitFirst(faultInterval + 3*time.Second).IsZero() {
				t.Fatalf("the series stopped after the recovery; logs:\n%s", p.stderr)
			}
			gauges, good := int64(len(g.got)), ep.good.Load()
			code, _ := p.stop(t, syscall.SIGTERM)
			if code != exitOK {
				t.Errorf("exit %d after SIGTERM, want 0 (it kept running through the fault)", code)
			}
			checkValues(t, g.got, ep.started)
			if gauges != good {
				t.Errorf("%d gauges for %d good reads: a failed read sent something, or a good one nothing", gauges, good)
			}
			checkLogLines(t, p, append(append([]string{"ecs-uptime started"}, tc.wantLogs...), "stopped"))
		})
	}
}

// The Agent's Unix socket: missing when the process starts, or deleted and
// created again mid-run (the Agent restarted). The process keeps running,
// sends correct values as soon as the socket is back, within an interval,
// and logs the failure once and the recovery once.
func TestAgentSocketFaults(t *testing.T) {
	tests := []struct {
		name        string
		upFromStart bool
	}{
		{"missing at start", false},
		{"deleted and recreated mid-run", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "dsd.socket")
			ep := startFaultyEndpoint(t, time.Hour)
			var agent *receiver.Server
			listen := func() *gaugeLog {
				t.Helper()
				var err error
				if agent, err = receiver.ListenUnixgram(path); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { agent.Close() })
				return &gaugeLog{agent: agent}
			}
			var g *gaugeLog
			if tc.upFromStart {
				g = listen()
			}
			p := start(t, "DD_DOGSTATSD_URL=unix://"+path, "ECS_CONTAINER_METADATA_URI_V4="+ep.URL()+"/v4/abc",
				"ECS_UPTIME_INTERVAL="+faultInterval.String(), "ECS_UPTIME_CRITICAL=0")
			var before []receivedGauge
			if tc.upFromStart {
				if g.waitFirst(5 * time.Second).IsZero() {
					t.Fatalf("no gauge within 5 s of start; logs:\n%s", p.stderr)
				}
				agent.Close() // removes the socket file, as a stopping Agent does
				before = g.got
			}
			time.Sleep(faultInterval*5/2 + faultInterval/2) // at least two failed cycles
			g = listen()
			checkResumes(t, g, p, "the socket's return")
			g.collect(faultInterval)
			code, _ := p.stop(t, syscall.SIGTERM)
			if code != exitOK {
				t.Errorf("exit %d after SIGTERM, want 0 (it kept running without the Agent)", code)
			}
			checkValues(t, append(before, g.got...), ep.started)
			checkLogLines(t, p, []string{"ecs-uptime started", "cannot send uptimes", "sending works again", "stopped"})
		})
	}
}

// A signal in the middle of a cycle ends the process at once with exit 0
// and nothing sent for the cycle it interrupted. thresholds_test.go covers
// SIGTERM while the endpoint is slow; these rows add SIGINT, and both
// signals while a read waits out its retry backoff.
func TestSignalMidCycle(t *testing.T) {
	tests := []struct {
		name  string
		sig   os.Signal
		fault string
	}{
		{"SIGINT while the endpoint is slow", os.Interrupt, faultSlow},
		{"SIGTERM during the retry backoff", syscall.SIGTERM, fault500},
		{"SIGINT during the retry backoff", os.Interrupt, fault500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			agent := udpAgent(t)
			ep := startFaultyEndpoint(t, time.Hour)
			ep.set(t, tc.fault)
			// A long interval: the signal lands in the first cycle.
			p := start(t, "DD_DOGSTATSD_URL=udp://"+agent.Addr(), "ECS_CONTAINER_METADATA_URI_V4="+ep.URL()+"/v4/abc",
				"ECS_UPTIME_INTERVAL=10s", "ECS_UPTIME_CRITICAL=0")
			for end := time.Now().Add(5 * time.Second); ep.asked.Load() == 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(end) {
					t.Fatal("the process never asked the endpoint")
				}
			}
			// Now in the first read (slow) or its first 100 ms backoff (500).
			time.Sleep(20 * time.Millisecond)
			code, took := p.stop(t, tc.sig)
			if code != exitOK || took > time.Second {
				t.Errorf("%v mid-cycle: exit %d after %v, want 0 within a second; logs:\n%s", tc.sig, code, took, p.stderr)
			}
			if got, _ := agent.Wait(1, 100*time.Millisecond); len(got) != 0 {
				t.Errorf("sent %v although no read succeeded", got)
			}
			lines := logLines(p)
			if len(lines) != 2 || !strings.Contains(lines[1], "stopped") {
				t.Errorf("want the start and the stop logged, nothing about the interrupted read:\n%s", p.stderr)
			}
		})
	}
}
