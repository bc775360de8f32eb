package main

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/dogstatsd/receiver"
)

// agentInterval is the interval of the Agent fault tests: short, since the
// refusal of a datagram to a loopback port comes back at once.
const agentInterval = 200 * time.Millisecond

// freeUDPPort returns a loopback UDP port on which nothing listens.
func freeUDPPort(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, port, _ := net.SplitHostPort(c.LocalAddr().String())
	return port
}

// freeTCPPort returns a loopback TCP port for the health endpoint.
func freeTCPPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// healthcheck runs `ecs-uptime healthcheck` with env, as ECS does.
func healthcheck(t *testing.T, env []string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, "healthcheck")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), strings.TrimSpace(string(out))
}

// Nothing listens on the Agent's UDP port, then an Agent starts. The
// process logs the Agent's absence once (not every other cycle, as a
// refusal that surfaces one write late would make it) and its return once;
// meanwhile the health check stays healthy (replacing a task brings no
// Agent) but names the unreachable Agent; and the gauges that follow are
// the task's real age, each line opting out of origin enrichment.
func TestNoAgentListeningOnUDP(t *testing.T) {
	t.Parallel()
	port := freeUDPPort(t)
	ep := startFaultyEndpoint(t, time.Hour)
	env := []string{"DD_DOGSTATSD_URL=udp://127.0.0.1:" + port, "ECS_CONTAINER_METADATA_URI_V4=" + ep.URL() + "/v4/abc",
		"ECS_UPTIME_INTERVAL=" + agentInterval.String(), "ECS_UPTIME_CRITICAL=0", "ECS_UPTIME_HEALTH_PORT=" + freeTCPPort(t)}
	p := start(t, env...)
	// About 12 cycles with nothing listening: the log lines checked at the
	// end show the refusal once, not every other cycle.
	time.Sleep(12 * agentInterval)
	code, out := healthcheck(t, env)
	if code != 0 || !strings.Contains(out, "the Agent is unreachable since") {
		t.Errorf("healthcheck with no Agent for %v: exit %d, %q; want 0 (an absent Agent never fails it) naming the unreachable Agent", 12*agentInterval, code, out)
	}

	agent, err := receiver.ListenUDP("127.0.0.1:" + port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Close() })
	g := &gaugeLog{agent: agent}
	if g.waitFirst(5 * time.Second).IsZero() {
		t.Fatalf("no gauge within 5 s of the Agent's start; logs:\n%s", p.stderr)
	}
	g.collect(5 * agentInterval)
	code, out = healthcheck(t, env)
	if code != 0 || strings.Contains(out, "unreachable") || !strings.Contains(out, "the Agent took it") {
		t.Errorf("healthcheck with the Agent back: exit %d, %q; want 0 and the Agent taking the cycles", code, out)
	}
	if code, _ := p.stop(t, syscall.SIGTERM); code != exitOK {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
	checkValues(t, g.got, ep.started)
	for _, r := range g.got {
		if r.p.CardTag != "none" {
			t.Errorf("gauge %q does not opt out of origin enrichment (dd.internal.card:none)", r.p.Raw)
		}
	}
	checkLogLines(t, p, []string{"ecs-uptime started", "cannot send uptimes", "sending works again", "stopped"})
	if l := logLines(p)[1]; !strings.Contains(l, "refused") || !strings.Contains(l, "127.0.0.1:"+port) {
		t.Errorf("the failure line %s does not say that the Agent's port refused the datagrams", l)
	}
}

// A syntactically valid Agent host that does not resolve is a runtime
// fault, not bad configuration: the process keeps running (exit 0 on
// SIGTERM, not 2 at start), logs the failed lookup once, and tries again
// each cycle.
func TestAgentHostDoesNotResolve(t *testing.T) {
	tests := []struct {
		name string
		env  []string
	}{
		{"DD_DOGSTATSD_URL", []string{"DD_DOGSTATSD_URL=udp://ecs-uptime-test.invalid:8125"}},
		{"DD_AGENT_HOST", []string{"DD_AGENT_HOST=ecs-uptime-test.invalid", "DD_DOGSTATSD_PORT=8125"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ep := startFaultyEndpoint(t, time.Hour)
			p := start(t, append(tc.env, "ECS_CONTAINER_METADATA_URI_V4="+ep.URL()+"/v4/abc",
				"ECS_UPTIME_INTERVAL="+agentInterval.String(), "ECS_UPTIME_CRITICAL=0")...)
			for end := time.Now().Add(10 * time.Second); ep.good.Load() < 5; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(end) {
					t.Fatalf("%d cycles in 10 s, want 5; logs:\n%s", ep.good.Load(), p.stderr)
				}
			}
			code, _ := p.stop(t, syscall.SIGTERM)
			if code != exitOK {
				t.Fatalf("exit %d, want 0 after SIGTERM (a lookup failure is not bad configuration); logs:\n%s", code, p.stderr)
			}
			checkLogLines(t, p, []string{"ecs-uptime started", "cannot send uptimes", "stopped"})
			if l := logLines(p)[1]; !strings.Contains(l, "ecs-uptime-test.invalid") {
				t.Errorf("the failure line %s does not name the host", l)
			}
		})
	}
}
