package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/dogstatsd/receiver"
)

func udpAgent(t testing.TB) *receiver.Server {
	t.Helper()
	agent, err := receiver.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Close() })
	return agent
}

// agentOver is a DogStatsD receiver over transport, "udp" (udpAgent) or
// "unixgram" (a socket in the test's directory), closed when the test ends.
func agentOver(t testing.TB, transport string) *receiver.Server {
	t.Helper()
	if transport == "udp" {
		return udpAgent(t)
	}
	agent, err := receiver.ListenUnixgram(filepath.Join(t.TempDir(), "dsd.socket"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Close() })
	return agent
}

func split(ps []receiver.Packet) (gauges, checks, events []receiver.Packet) {
	for _, p := range ps {
		switch p.Kind {
		case receiver.Metric:
			gauges = append(gauges, p)
		case receiver.ServiceCheck:
			checks = append(checks, p)
		case receiver.Event:
			events = append(events, p)
		}
	}
	return
}

// The "done when": a one-off started 26 h ago, a 1 s interval: the
// service check arrives CRITICAL every second and one event arrives once.
func TestCriticalEverySecondOneEvent(t *testing.T) {
	agent := udpAgent(t)
	ep := startOneOffEndpoint(t, 26*time.Hour)
	p := start(t, "DD_DOGSTATSD_URL=udp://"+agent.Addr(), "ECS_CONTAINER_METADATA_URI_V4="+ep.URL+"/v4/abc", "ECS_UPTIME_INTERVAL=1s")
	var got []receiver.Packet
	deadline := time.Now().Add(6 * time.Second)
	for time.Now().Before(deadline) {
		ps, _ := agent.Wait(1, time.Until(deadline))
		got = append(got, ps...)
		if _, checks, _ := split(got); len(checks) >= 4 {
			break
		}
	}
	code, _ := p.stop(t, syscall.SIGTERM)
	for _, pk := range got {
		if pk.Kind != receiver.Metric {
			t.Logf("received %s", pk.Raw)
		}
	}
	gauges, checks, events := split(got)
	if len(checks) < 4 || len(events) != 1 || len(gauges) != len(checks) {
		t.Fatalf("got %d gauges, %d service checks, %d events; want one check per gauge (4 or more) and exactly 1 event; logs:\n%s", len(gauges), len(checks), len(events), p.stderr)
	}
	for _, sc := range checks {
		if sc.Name != "ecs.task.lifetime" || sc.Status != 2 || !strings.HasPrefix(sc.Text, "task curltest:26 (…/158d1c80…) has run 26h") || !strings.HasSuffix(sc.Text, ", over 24h") {
			t.Errorf("service check %q, want ecs.task.lifetime CRITICAL over 24h", sc.Raw)
		}
	}
	if e := events[0]; e.Fields["k"] != ec2TaskARN || !strings.HasPrefix(e.Name, "ECS task curltest:26 (…/158d1c80…) running for 26h") {
		t.Errorf("event %q, want the title and the task ARN as aggregation key", e.Raw)
	}
	if code != exitOK {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
}

// ECS_UPTIME_MAX_LIFETIME shorter than a one-off's age acts on the first
// cycle: the event arrives, then the process exits 3, within two intervals.
func TestMaxLifetimeExits3AfterTheEvent(t *testing.T) {
	agent := udpAgent(t)
	ep := startOneOffEndpoint(t, 26*time.Hour)
	began := time.Now()
	p := start(t, "DD_DOGSTATSD_URL=udp://"+agent.Addr(), "ECS_CONTAINER_METADATA_URI_V4="+ep.URL+"/v4/abc",
		"ECS_UPTIME_INTERVAL=1s", "ECS_UPTIME_MAX_LIFETIME=24h")
	select {
	case <-p.done:
		p.done <- nil
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10 s after start; logs:\n%s", p.stderr)
	}
	took := time.Since(began)
	if code := p.cmd.ProcessState.ExitCode(); code != exitMaxLifetime {
		t.Fatalf("exit %d, want 3; logs:\n%s", code, p.stderr)
	}
	if took > 2*time.Second+time.Second { // two intervals, and a second to start the process on a busy machine
		t.Errorf("exit after %v, want within two intervals", took)
	}
	// The process flushed before exiting: the event is in the receiver's
	// socket already.
	ps := untilEvent(agent, 5*time.Second)
	_, _, events := split(ps)
	if len(events) != 1 || !strings.HasPrefix(events[0].Text, "stopping: max lifetime 24h reached\n") || events[0].Fields["k"] != ec2TaskARN {
		t.Errorf("events at exit %v, want one stop event for the task", events)
	}
	if !strings.Contains(p.stderr.String(), "max lifetime reached") {
		t.Errorf("logs do not say why it stopped:\n%s", p.stderr)
	}
}

// SIGTERM while a cycle waits on a slow endpoint: exit 0 at once, no stop.
func TestSIGTERMDuringACycle(t *testing.T) {
	agent := udpAgent(t)
	entered := make(chan struct{}, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	defer slow.Close()
	p := start(t, "DD_DOGSTATSD_URL=udp://"+agent.Addr(), "ECS_CONTAINER_METADATA_URI_V4="+slow.URL+"/v4/abc",
		"ECS_UPTIME_INTERVAL=5s", "ECS_UPTIME_MAX_LIFETIME=1s")
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the process never asked the endpoint")
	}
	code, took := p.stop(t, syscall.SIGTERM)
	if code != exitOK || took > 2*time.Second {
		t.Errorf("SIGTERM mid-cycle: exit %d after %v, want 0 promptly; logs:\n%s", code, took, p.stderr)
	}
	if got, _ := agent.Packets(); len(got) != 0 {
		t.Errorf("sent %v although no read succeeded", got)
	}
}

// The healthcheck command, as ECS runs it: healthy, unhealthy once the
// endpoint has been down for 3 intervals, healthy again after it recovers.
func TestHealthcheckCommand(t *testing.T) {
	agent := udpAgent(t)
	ep := startEndpoint(t, time.Hour)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	env := []string{"DD_DOGSTATSD_URL=udp://" + agent.Addr(), "ECS_CONTAINER_METADATA_URI_V4=" + ep.URL + "/v4/abc",
		"ECS_UPTIME_INTERVAL=200ms", "ECS_UPTIME_HEALTH_PORT=" + port}
	p := start(t, env...)
	check := func() (int, string) {
		t.Helper()
		cmd := exec.Command(binary, "healthcheck")
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	waitFor := func(want int, within time.Duration) {
		t.Helper()
		var code int
		var out string
		for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			if code, out = check(); code == want {
				return
			}
		}
		t.Fatalf("healthcheck exit %d (%s), want %d within %v; logs:\n%s", code, out, want, within, p.stderr)
	}
	waitFor(0, 3*time.Second)
	ep.down.Store(true)
	began := time.Now()
	waitFor(1, 3*time.Second)
	if d := time.Since(began); d < 400*time.Millisecond {
		t.Errorf("unhealthy %v after the endpoint went down, want no sooner than about 3 intervals (600ms)", d)
	}
	ep.down.Store(false)
	waitFor(0, 3*time.Second)
	p.stop(t, syscall.SIGTERM)
	if code, out := check(); code != 1 || !strings.Contains(out, "unhealthy") {
		t.Errorf("healthcheck with the sidecar stopped: exit %d (%s), want 1", code, out)
	}
}
