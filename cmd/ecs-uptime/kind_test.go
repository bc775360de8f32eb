package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/dogstatsd/receiver"
)

// collectFor gathers what the agent receives for within.
func collectFor(agent *receiver.Server, within time.Duration) []receiver.Packet {
	var all []receiver.Packet
	deadline := time.After(within)
	for {
		select {
		case <-agent.Updates():
			ps, _ := agent.Packets()
			all = append(all, ps...)
		case <-deadline:
			ps, _ := agent.Packets()
			return append(all, ps...)
		}
	}
}

// byName counts packets per metric, check or event ("event") name, and
// returns the kind tags they carried.
func byName(ps []receiver.Packet) (map[string]int, map[string]bool) {
	n, kinds := map[string]int{}, map[string]bool{}
	for _, p := range ps {
		name := p.Name
		if p.Kind == receiver.Event {
			name = "event"
		}
		n[name]++
		if k, ok := p.Tag("ecs_task_kind"); ok {
			kinds[k] = true
		}
	}
	return n, kinds
}

// The sidecar in a service's task (the metadata names a service) and in a
// one-off, 26 hours old, under each ECS_UPTIME_SERVICE_TASKS: what reaches
// the Agent, and whether the max lifetime ends the process.
func TestSidecarServiceTasks(t *testing.T) {
	tests := []struct {
		name   string
		oneOff bool
		env    []string
		kind   string // the ecs_task_kind tag; "" when nothing at all is sent
		judged bool   // the check and the crossing event are sent
		exit3  bool
	}{
		{name: "service, report (the default): its gauge only", kind: "service"},
		{name: "service, report, max lifetime: never stopped", env: []string{"ECS_UPTIME_MAX_LIFETIME=24h"}, kind: "service"},
		{name: "service, judge: judged as a one-off", env: []string{"ECS_UPTIME_SERVICE_TASKS=judge"}, kind: "service", judged: true},
		{name: "service, judge, max lifetime: stopped", env: []string{"ECS_UPTIME_SERVICE_TASKS=judge", "ECS_UPTIME_MAX_LIFETIME=24h"}, kind: "service", judged: true, exit3: true},
		{name: "service, skip: nothing at all", env: []string{"ECS_UPTIME_SERVICE_TASKS=skip", "ECS_UPTIME_MAX_LIFETIME=24h"}},
		{name: "one-off, report: judged", oneOff: true, kind: "standalone", judged: true},
		{name: "one-off, skip: judged", oneOff: true, env: []string{"ECS_UPTIME_SERVICE_TASKS=skip"}, kind: "standalone", judged: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			agent := udpAgent(t)
			var ep *endpoint
			if tc.oneOff {
				ep = startOneOffEndpoint(t, 26*time.Hour)
			} else {
				ep = startEndpoint(t, 26*time.Hour)
			}
			p := start(t, append([]string{"DD_DOGSTATSD_URL=udp://" + agent.Addr(), "ECS_CONTAINER_METADATA_URI_V4=" + ep.URL + "/v4/abc",
				"ECS_UPTIME_INTERVAL=200ms"}, tc.env...)...)
			var ps []receiver.Packet
			if tc.exit3 {
				select {
				case <-p.done:
					p.done <- nil
				case <-time.After(10 * time.Second):
					t.Fatalf("still running 10 s after start; logs:\n%s", p.stderr)
				}
				if code := p.cmd.ProcessState.ExitCode(); code != exitMaxLifetime {
					t.Fatalf("exit %d, want 3; logs:\n%s", code, p.stderr)
				}
				ps = untilEvent(agent, 5*time.Second) // the stop event, the last line sent
			} else {
				ps = collectFor(agent, 1500*time.Millisecond) // about 7 cycles
				if code, _ := p.stop(t, syscall.SIGTERM); code != exitOK {
					t.Fatalf("exit %d after SIGTERM, want 0 (running on); logs:\n%s", code, p.stderr)
				}
			}
			if ep.reads.Load() < 1 {
				t.Fatal("the endpoint was never read")
			}
			n, kinds := byName(ps)
			switch {
			case tc.kind == "" && len(ps) > 0:
				t.Errorf("skipped service task: sent %d lines, want none: %v", len(ps), n)
			case tc.kind != "" && (len(kinds) != 1 || !kinds[tc.kind]):
				t.Errorf("ecs_task_kind tags %v, want only %s", kinds, tc.kind)
			}
			if tc.kind != "" && n["ecs.task.uptime"] == 0 {
				t.Errorf("no ecs.task.uptime gauge: %v", n)
			}
			// A max lifetime that does not apply is said, once.
			wantLines := 0
			if tc.kind == "service" && !tc.judged && strings.Contains(strings.Join(tc.env, " "), "ECS_UPTIME_MAX_LIFETIME=") {
				wantLines = 1
			}
			if got := strings.Count(p.stderr.String(), "ECS_UPTIME_MAX_LIFETIME does not apply"); got != wantLines {
				t.Errorf("%d lines saying the max lifetime does not apply, want %d; logs:\n%s", got, wantLines, p.stderr)
			}
			if judged := n["ecs.task.lifetime"] > 0 || n["event"] > 0; judged != tc.judged || tc.judged && (n["ecs.task.lifetime"] == 0 || n["event"] != 1) {
				t.Errorf("checks %d, events %d; want judged %v (a check per cycle, one event)", n["ecs.task.lifetime"], n["event"], tc.judged)
			}
		})
	}
}
