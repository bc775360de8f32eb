package dogstatsd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/lifetime"
)

func cycle() uptime.Cycle {
	task := uptime.Task{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f", Family: "db-migrate", Revision: "42",
		Cluster: "prod", ClusterARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", Region: "eu-west-1", Account: "123456789012"}
	app := uptime.Container{Name: "migrate", RuntimeName: "migrate", ID: "5c2f-1", Image: "migrate:2026.11", Running: true}
	side := uptime.Container{Name: "ecs-uptime", RuntimeName: "ecs-uptime", ID: "5c2f-2", Image: "ecs-uptime:1", Running: true}
	return uptime.Cycle{At: time.Now(), Tasks: []uptime.TaskUptime{{
		Task: task, Uptime: 26*time.Hour + 1500*time.Millisecond,
		Containers: []uptime.ContainerUptime{{Container: app, Uptime: 26 * time.Hour}, {Container: side, Uptime: time.Hour}},
	}}}
}

// listeners returns a real UDP and a real Unix datagram DogStatsD listener.
func listeners(t *testing.T) map[string]*receiver.Server {
	t.Helper()
	udp, err := receiver.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	uds, err := receiver.ListenUnixgram(filepath.Join(t.TempDir(), "dsd.socket"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { udp.Close(); uds.Close() })
	return map[string]*receiver.Server{"udp": udp, "unixgram": uds}
}

func TestSinkSendsOverRealSockets(t *testing.T) {
	for transport, agent := range listeners(t) {
		for _, containerMetrics := range []bool{false, true} {
			name := transport
			if containerMetrics {
				name += " with container metrics"
			}
			t.Run(name, func(t *testing.T) {
				sink, err := New(Options{Addr: agent.Addr(), Tags: []string{"env:prod", "team:data,eng|x"}, ContainerMetrics: containerMetrics})
				if err != nil {
					t.Fatal(err)
				}
				if err := sink.Send(context.Background(), cycle()); err != nil {
					t.Fatalf("Send: %v", err)
				}
				want := 1
				if containerMetrics {
					want = 3
				}
				// Send flushes: everything is there at once, nothing trickles in later.
				got, errs := agent.Wait(want, 2*time.Second)
				sink.Close()
				late, _ := agent.Wait(want+1, 200*time.Millisecond)
				if len(errs) > 0 || len(got) != want || len(late) != 0 {
					t.Fatalf("received %d packets (+%d late, errors %v), want %d:\n%v", len(got), len(late), errs, want, got)
				}
				task := got[0]
				if task.Name != MetricTaskUptime || task.Type != "g" || task.Value != 93601.5 {
					t.Errorf("task gauge = %s %v |%s, want %s 93601.5 |g", task.Name, task.Value, task.Type, MetricTaskUptime)
				}
				wantTags := append([]string{"env:prod", "team:data_eng_x"}, TaskTags(cycle().Tasks[0].Task)...)
				if !slices.Equal(task.Tags, wantTags) {
					t.Errorf("task tags\n got %q\nwant %q", task.Tags, wantTags)
				}
				if len(task.Fields) != 0 {
					t.Errorf("extra fields %v in %q: telemetry or origin detection leaked", task.Fields, task.Raw)
				}
				if containerMetrics {
					for i, wantV := range []float64{93600, 3600} {
						p := got[i+1]
						if p.Name != MetricContainerUptime || p.Value != wantV {
							t.Errorf("container gauge %d = %s %v, want %s %v", i, p.Name, p.Value, MetricContainerUptime, wantV)
						}
						if v, _ := p.Tag(TagTaskARN); v != "arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f" {
							t.Errorf("container gauge lacks the task tags: %q", p.Tags)
						}
					}
					if v, _ := got[1].Tag(TagECSContainerName); v != "migrate" {
						t.Errorf("first container gauge is for %q, want migrate", v)
					}
				}
			})
		}
	}
}

// datadog-go turns DD_ENV, DD_SERVICE and DD_VERSION into tags on its own,
// unsanitized; the sink must stop that, or a comma in DD_ENV forges a tag.
func TestSinkDoesNotLetDatadogGoForgeTags(t *testing.T) {
	agent := listeners(t)["udp"]
	t.Setenv("DD_ENV", "prod,team:forged")
	t.Setenv("DD_SERVICE", "svc|#x")
	sink, err := New(Options{Addr: agent.Addr(), Tags: []string{"env:prod,team:forged"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if err := sink.Send(context.Background(), cycle()); err != nil {
		t.Fatal(err)
	}
	got, _ := agent.Wait(1, 2*time.Second)
	if len(got) != 1 {
		t.Fatalf("got %d packets", len(got))
	}
	for _, tag := range got[0].Tags {
		if strings.HasPrefix(tag, "team:") || strings.HasPrefix(tag, "service:") {
			t.Errorf("forged or unsanitized tag %q in %q", tag, got[0].Raw)
		}
	}
	if _, ok := os.LookupEnv("DD_ENV"); ok {
		t.Error("DD_ENV is still in the environment for datadog-go to read")
	}
}

// With a Unix socket, an Agent that is away shows as a Send error (the
// Runner logs it once), and sending works again when the Agent is back.
func TestSinkReportsAnAgentThatIsAway(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dsd.socket")
	sink, err := New(Options{Addr: "unix://" + path})
	if err != nil {
		t.Fatalf("New with no socket yet: %v (the Agent may start after the sidecar)", err)
	}
	defer sink.Close()
	if err := sink.Send(context.Background(), cycle()); err == nil {
		t.Fatal("Send to a missing socket reported no error")
	}
	agent, err := receiver.ListenUnixgram(path)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	var got []receiver.Packet
	for range 20 { // the client reconnects on its next write
		if err := sink.Send(context.Background(), cycle()); err == nil {
			if got, _ = agent.Wait(1, time.Second); len(got) > 0 {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(got) == 0 {
		t.Fatal("nothing received after the Agent came back")
	}
}

func TestNewRejectsBadAddress(t *testing.T) {
	if _, err := New(Options{Addr: "no-port-here-and-no-such-host.invalid:notaport"}); err == nil {
		t.Fatal("New accepted a malformed address")
	}
}

func TestSinkLifetimeOverRealSockets(t *testing.T) {
	for transport, agent := range listeners(t) {
		t.Run(transport, func(t *testing.T) {
			sink, err := New(Options{Addr: agent.Addr(), Lifetime: lifetime.Policy{Warning: 20 * time.Hour, Critical: 24 * time.Hour}})
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			c := cycle()
			arn := c.Tasks[0].Task.ARN
			// Three cycles past CRITICAL: a gauge and a service check each
			// time, one event for the crossing.
			var got []receiver.Packet
			for i := range 3 {
				if err := sink.Send(context.Background(), c); err != nil {
					t.Fatalf("Send %d: %v", i, err)
				}
				want := 2 // gauge and service check
				if i == 0 {
					want = 3 // and the event
				}
				ps, errs := agent.Wait(want, 2*time.Second)
				if len(errs) > 0 {
					t.Fatalf("receiver errors: %v", errs)
				}
				got = append(got, ps...)
			}
			if more, _ := agent.Wait(1, 200*time.Millisecond); len(more) > 0 {
				got = append(got, more...)
			}
			var checks, events []receiver.Packet
			for _, p := range got {
				switch p.Kind {
				case receiver.ServiceCheck:
					checks = append(checks, p)
				case receiver.Event:
					events = append(events, p)
				}
			}
			if len(checks) != 3 || len(events) != 1 {
				t.Fatalf("got %d service checks and %d events, want 3 and 1:\n%v", len(checks), len(events), got)
			}
			for _, sc := range checks {
				if sc.Name != CheckTaskLifetime || sc.Status != 2 || sc.Text != "task db-migrate:42 (…/5c2f) has run 26h, over 24h" {
					t.Errorf("service check %q: want ecs.task.lifetime CRITICAL with the message", sc.Raw)
				}
				if v, _ := sc.Tag(TagTaskARN); v != arn {
					t.Errorf("service check tags %q lack the task ARN", sc.Tags)
				}
			}
			e := events[0]
			if e.Name != "ECS task db-migrate:42 (…/5c2f) running for 26h" || e.Fields["k"] != arn || e.Fields["t"] != "error" {
				t.Errorf("event %q: want the title, aggregation key = task ARN, alert type error", e.Raw)
			}
			if !strings.Contains(e.Raw, `over 24h\ntask_arn: `) || !strings.Contains(e.Text, "over 24h\ntask_arn: "+arn) {
				t.Errorf("event text newlines: raw %q, text %q; want \\n on the wire and a newline once parsed", e.Raw, e.Text)
			}
			if v, _ := e.Tag(TagTaskFamily); v != "db-migrate" {
				t.Errorf("event tags %q lack the task's tags", e.Tags)
			}
		})
	}
}

func TestSinkStopsAtMaxLifetime(t *testing.T) {
	agent := listeners(t)["udp"]
	sink, err := New(Options{Addr: agent.Addr(), Lifetime: lifetime.Policy{Critical: 24 * time.Hour, MaxLifetime: 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	err = sink.Send(context.Background(), cycle())
	if !errors.Is(err, uptime.ErrStop) {
		t.Fatalf("Send = %v, want an error wrapping uptime.ErrStop", err)
	}
	// Send flushed before returning: the stop event is on its way already.
	got, _ := agent.Wait(3, 2*time.Second)
	var events []receiver.Packet
	for _, p := range got {
		if p.Kind == receiver.Event {
			events = append(events, p)
		}
	}
	if len(events) != 1 || !strings.HasPrefix(events[0].Text, "stopping: max lifetime 24h reached\n") {
		t.Fatalf("events %v, want one stop event", events)
	}
}

func TestSinkSendsNoCheckWithThresholdsOff(t *testing.T) {
	agent := listeners(t)["udp"]
	sink, err := New(Options{Addr: agent.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if err := sink.Send(context.Background(), cycle()); err != nil {
		t.Fatal(err)
	}
	got, _ := agent.Wait(2, 300*time.Millisecond)
	if len(got) != 1 || got[0].Kind != receiver.Metric {
		t.Errorf("got %v, want the gauge only", got)
	}
}
