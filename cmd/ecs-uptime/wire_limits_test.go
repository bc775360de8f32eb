package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"ecs-uptime/uptime/dogstatsd"
	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// atMost returns a name of exactly n characters of the kinds ECS allows
// (letters, numbers, hyphens, underscores), from pattern repeated.
func atMost(pattern string, n int) string {
	return strings.Repeat(pattern, n/len(pattern)+1)[:n]
}

// ECS's limits (API reference): a task definition family, a cluster and a
// capacity provider name up to 255 characters, RunTask's startedBy up to
// 128; a resource tag key up to 128, its value up to 256.
const (
	maxName      = 255
	maxStartedBy = 128
	maxTagKey    = 128
	maxTagValue  = 256
)

// Nothing is lost on the wire, over UDP as over a Unix datagram socket: a
// scan of a cluster whose names are at ECS's limits sends a singleton onset
// naming 10 tasks (families and startedBy at their longest), a threshold
// event per task, and the stop events of a task whose every tag value is
// at its longest (tags that fill most of a datagram). Every message
// arrives, whole or with its text cut at a line and ending "…" (only when
// the whole does not fit), in datagrams the Agent reads whole, and parses;
// every aggregation key is at most 100 characters, one per task.
func TestNothingLostOnTheWire(t *testing.T) {
	for _, transport := range []string{"udp", "unixgram"} {
		t.Run(transport, func(t *testing.T) {
			agent := agentOver(t, transport)
			url := "udp://" + agent.Addr()
			if transport == "unixgram" {
				url = "unixgram://" + strings.TrimPrefix(agent.Addr(), "unix://")
			}

			fake := ecsfake.Start(t)
			now := time.Now()
			cluster := atMost("prod-eu_", maxName)
			family := atMost("db-migrate_", maxName)
			var singles []string
			for i := range 10 {
				singles = append(singles, fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: cluster, Family: family, Revision: 100000 + i,
					StartedBy: fmt.Sprintf("ci/run-%02d/", i) + atMost("pipeline_", maxStartedBy-10), StartedAt: now.Add(-3*time.Hour - time.Duration(i)*time.Minute)}))
			}
			// The task to stop: every tag value at its longest, and as many
			// resource tags named in ECS_UPTIME_TASK_TAGS as leave its event
			// texts too long to go whole.
			const tags = 12
			keys := make([]string, tags)
			resource := []ecsfake.Tag{{Key: "ecs-uptime:max-lifetime", Value: "1h"}}
			for i := range keys {
				keys[i] = fmt.Sprintf("team-%02d-", i) + atMost("owner", maxTagKey-8)
				resource = append(resource, ecsfake.Tag{Key: keys[i], Value: atMost(fmt.Sprintf("value-%02d-", i), maxTagValue)})
			}
			stopFamily := atMost("nightly-report_", maxName)
			big := fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: cluster, Family: stopFamily, Revision: 123456,
				CapacityProvider: atMost("spot-capacity_", maxName), StartedBy: atMost("scheduler/", maxStartedBy),
				AvailabilityZone: "eu-west-1c", StartedAt: now.Add(-2 * time.Hour), Tags: resource})
			all := append([]string{big}, singles...)

			p := start(t, append(fake.Environ("eu-west-1"), "ECS_UPTIME_SOURCE=api", "DD_DOGSTATSD_URL="+url, "ECS_UPTIME_LOG_FORMAT=text",
				"ECS_UPTIME_INTERVAL=1s", "ECS_UPTIME_CRITICAL=1h", "ECS_UPTIME_SINGLETONS="+family,
				"ECS_UPTIME_TASK_TAGS="+strings.Join(keys, ","), "ECS_UPTIME_STOP_TASKS=true")...)
			var got []receiver.Packet
			deadline := time.Now().Add(15 * time.Second)
			for len(eventsTitled(got, "stopped")) == 0 && time.Now().Before(deadline) {
				ps, errs := agent.Wait(1, time.Second)
				for _, err := range errs {
					t.Errorf("the Agent could not read: %v", err)
				}
				got = append(got, ps...)
			}
			if code, _ := p.stop(t, syscall.SIGTERM); code != exitOK {
				t.Errorf("exit %d, want 0; logs:\n%s", code, p.stderr)
			}
			ps, errs := agent.Packets()
			got = append(got, ps...)
			for _, err := range errs {
				t.Errorf("the Agent could not read: %v", err)
			}
			if logs := p.stderr.String(); strings.Contains(logs, "not sent") || strings.Contains(logs, "level=ERROR") {
				t.Errorf("the process reports lines not sent:\n%s", logs)
			}

			// Every task's gauge and check, every cycle's singleton check.
			gauges, checks := map[string]int{}, map[string]int{}
			singletonChecks := 0
			for _, p := range got {
				arn, _ := p.Tag("task_arn")
				switch {
				case p.Kind == receiver.Metric && p.Name == dogstatsd.MetricTaskUptime:
					gauges[arn]++
					if arn == big && gauges[arn] == 1 {
						t.Logf("the big task's gauge: %d bytes", len(p.Raw))
					}
				case p.Kind == receiver.ServiceCheck && p.Name == dogstatsd.CheckTaskLifetime:
					checks[arn]++
				case p.Kind == receiver.ServiceCheck && p.Name == dogstatsd.CheckFamilySingleton:
					singletonChecks++
					if !strings.HasPrefix(p.Text, "10 tasks of "+family) {
						t.Errorf("singleton check message %q, want it to count the 10 tasks of the family", p.Text)
					}
				}
			}
			for _, arn := range all {
				if gauges[arn] == 0 || checks[arn] == 0 {
					t.Errorf("task %s: %d gauges and %d lifetime checks, want some of each", arn[len(arn)-32:], gauges[arn], checks[arn])
				}
			}
			if singletonChecks == 0 {
				t.Error("no ecs.family.singleton check")
			}

			// The events, their texts and their keys.
			keysSeen := map[string]string{} // aggregation key → task ARN
			event := func(title string, wantKey string, lastLine string) receiver.Packet {
				t.Helper()
				es := eventsTitled(got, title)
				if len(es) != 1 {
					t.Fatalf("%d events titled %.60q…, want 1", len(es), title)
				}
				e := es[0]
				if k := e.Fields["k"]; k != dogstatsd.AggregationKey(wantKey) || utf8.RuneCountInString(k) > 100 {
					t.Errorf("event %.60q…: aggregation key %q (%d characters), want %q", title, k, utf8.RuneCountInString(k), dogstatsd.AggregationKey(wantKey))
				}
				switch {
				case strings.HasSuffix(e.Text, "\n"+lastLine):
				case strings.HasSuffix(e.Text, "\n…") && len(e.Raw) > dogstatsd.MaxDatagram-300:
					// Cut at a line: only whole lines before the ellipsis.
					if strings.Contains(strings.TrimSuffix(e.Text, "\n…"), "…\n") {
						t.Errorf("event %.60q…: text cut inside a line: %q", title, e.Text)
					}
				default:
					t.Errorf("event %.60q… (%d bytes): text %q, want it whole (ending %q) or cut at a line, ending …, near %d bytes",
						title, len(e.Raw), e.Text, lastLine, dogstatsd.MaxDatagram)
				}
				return e
			}
			onset := event("10 tasks of "+family, ecsfake.ClusterARN("eu-west-1", cluster)+"/"+family,
				"cluster_arn: "+ecsfake.ClusterARN("eu-west-1", cluster))
			if len(onset.Raw) <= 1432 {
				t.Errorf("the onset event is %d bytes: the test wants one longer than datadog-go's UDP payload", len(onset.Raw))
			}
			for _, arn := range all {
				var crossing []receiver.Packet
				for _, e := range eventsTitled(got, "ECS task ") {
					if a, _ := e.Tag("task_arn"); a == arn {
						crossing = append(crossing, e)
					}
				}
				if len(crossing) != 1 {
					t.Errorf("task %s: %d threshold events, want 1", arn[len(arn)-32:], len(crossing))
					continue
				}
				k := crossing[0].Fields["k"]
				if utf8.RuneCountInString(k) > 100 || k != dogstatsd.AggregationKey(arn) {
					t.Errorf("task %s: threshold event key %q, want %q", arn[len(arn)-32:], k, dogstatsd.AggregationKey(arn))
				}
				if other, dup := keysSeen[k]; dup {
					t.Errorf("tasks %s and %s share the aggregation key %q", other, arn, k)
				}
				keysSeen[k] = arn
			}
			stopping := event("stopping ECS task", big, "started_by: "+atMost("scheduler/", maxStartedBy))
			stopped := event("stopped ECS task", big, "started_by: "+atMost("scheduler/", maxStartedBy))
			t.Logf("onset %d bytes; stopping %d bytes, cut %v; stopped %d bytes, cut %v", len(onset.Raw),
				len(stopping.Raw), strings.HasSuffix(stopping.Text, "…"), len(stopped.Raw), strings.HasSuffix(stopped.Text, "…"))
			if !strings.HasSuffix(stopping.Text, "…") && !strings.HasSuffix(stopped.Text, "…") {
				t.Errorf("neither stop event was cut (%d and %d bytes): the test wants tags that leave no room for the whole text", len(stopping.Raw), len(stopped.Raw))
			}
			for _, e := range []receiver.Packet{stopping, stopped} {
				if v, _ := e.Tag(strings.ToLower(keys[tags-1])); v != atMost(fmt.Sprintf("value-%02d-", tags-1), maxTagValue) {
					t.Errorf("event %.60q…: the last resource tag was cut or lost: %q", e.Name, v)
				}
			}
		})
	}
}
