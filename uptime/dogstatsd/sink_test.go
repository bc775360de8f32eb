package dogstatsd

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
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
		Task: &task, Uptime: 26*time.Hour + 1500*time.Millisecond,
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
				sink, err := newStaged(testOptions{Addr: agent.Addr(), Tags: []string{"env:prod", "team:data,eng|x"}, ContainerMetrics: containerMetrics})
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
	sink, err := newStaged(testOptions{Addr: agent.Addr(), Tags: []string{"env:prod,team:forged"}})
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
	sink, err := newStaged(testOptions{Addr: "unix://" + path})
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
	if _, err := newStaged(testOptions{Addr: "no-port-here-and-no-such-host.invalid:notaport"}); err == nil {
		t.Fatal("New accepted a malformed address")
	}
}

func TestSinkLifetimeOverRealSockets(t *testing.T) {
	for transport, agent := range listeners(t) {
		t.Run(transport, func(t *testing.T) {
			sink, err := newStaged(testOptions{Addr: agent.Addr(), Lifetime: lifetime.Policy{Warning: 20 * time.Hour, Critical: 24 * time.Hour}})
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
	sink, err := newStaged(testOptions{Addr: agent.Addr(), Lifetime: lifetime.Policy{Critical: 24 * time.Hour, MaxLifetime: 24 * time.Hour}})
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
	sink, err := newStaged(testOptions{Addr: agent.Addr()})
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

// An Agent doing origin detection on its Unix socket would add the
// sidecar's (or the daemon's) own container tags to every series unless the
// line opts out. Every line, of every kind, over both transports, carries
// dd.internal.card:none, which the Agent reads whatever its settings; and
// no card: field, not even one DD_CARDINALITY asks for: with the Agent's
// dogstatsd_origin_detection_client on, a field would win over the tag and
// leave the tag stored on the series.
func TestEveryLineOptsOutOfOriginEnrichment(t *testing.T) {
	t.Setenv("DD_CARDINALITY", "high")
	for transport, agent := range listeners(t) {
		t.Run(transport, func(t *testing.T) {
			sink, err := newStaged(testOptions{Addr: agent.Addr(), Tags: []string{"env:prod"}, ContainerMetrics: true,
				Lifetime: lifetime.Policy{Warning: 20 * time.Hour, Critical: 24 * time.Hour}})
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			if err := sink.Send(context.Background(), cycle()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			// The task gauge, two container gauges, the service check and
			// the CRITICAL crossing event.
			got, errs := agent.Wait(5, 2*time.Second)
			if len(errs) > 0 || len(got) != 5 {
				t.Fatalf("received %d lines (errors %v), want 5:\n%v", len(got), errs, got)
			}
			kinds := map[receiver.Kind]int{}
			for _, p := range got {
				kinds[p.Kind]++
				if p.CardTag != "none" || p.CardField != "" {
					t.Errorf("%s line %q: dd.internal.card tag %q, card: field %q; want the tag none and no field", p.Kind, p.Raw, p.CardTag, p.CardField)
				}
				if slices.ContainsFunc(p.Tags, func(tag string) bool { return strings.HasPrefix(tag, receiver.CardinalityTagPrefix) }) {
					t.Errorf("line %q would keep a dd.internal.card tag on the series", p.Raw)
				}
			}
			if kinds[receiver.Metric] != 3 || kinds[receiver.ServiceCheck] != 1 || kinds[receiver.Event] != 1 {
				t.Errorf("got %v, want 3 metrics, 1 service check and 1 event", kinds)
			}
		})
	}
}

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

// cycleGap stands for the interval between two cycles: the time in which
// the kernel's ICMP answer to a refused datagram arrives.
const cycleGap = 20 * time.Millisecond

// With nothing listening on the Agent's UDP port, Linux reports the refused
// datagram on the socket's next use. Over real sockets: from the second
// cycle on every Send fails (not every other one), the Sink says since when
// the Agent is unreachable, and once an Agent listens, the first Send still
// reports the refusal of the previous cycle's datagrams and the next one
// succeeds, with the gauges received.
func TestUDPAgentAbsentThenListening(t *testing.T) {
	port := freeUDPPort(t)
	sink, err := newStaged(testOptions{Addr: "127.0.0.1:" + port})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	var got []string
	for i := range 6 {
		err := sink.Send(context.Background(), cycle())
		switch {
		case i == 0 && err != nil:
			t.Fatalf("first Send = %v: no datagram was refused yet", err)
		case i > 0 && err == nil:
			got = append(got, "ok")
		case i > 0:
			got = append(got, "failed")
			if !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "127.0.0.1:"+port) {
				t.Errorf("Send %d = %v, want it to say that the Agent at 127.0.0.1:%s refused the datagrams", i, err, port)
			}
		}
		time.Sleep(cycleGap)
	}
	if want := slices.Repeat([]string{"failed"}, 5); !slices.Equal(got, want) {
		t.Fatalf("Sends 2-6 with nothing listening: %v, want %v (a refusal surfaces one write late)", got, want)
	}
	since, why := sink.Unreachable()
	if since.IsZero() || why == nil {
		t.Fatalf("Unreachable() = %v, %v with nothing listening, want a time and the error", since, why)
	}

	agent, err := receiver.ListenUDP("127.0.0.1:" + port)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	if err := sink.Send(context.Background(), cycle()); err == nil {
		t.Error("first Send after the Agent came = nil, want the refusal of the previous cycle's datagrams")
	}
	time.Sleep(cycleGap)
	if err := sink.Send(context.Background(), cycle()); err != nil {
		t.Fatalf("second Send after the Agent came: %v", err)
	}
	if since, why := sink.Unreachable(); !since.IsZero() || why != nil {
		t.Errorf("Unreachable() = %v, %v after a good cycle, want zero", since, why)
	}
	if ps, _ := agent.Wait(2, 2*time.Second); len(ps) != 2 {
		t.Errorf("the Agent received %d gauges, want both cycles' (sent once it listened)", len(ps))
	}
}

// A host name that does not resolve is no reason to refuse the address: an
// Agent's DNS name may resolve later (a resolver hiccup, a service
// discovery name registered after the sidecar starts). New accepts it, each
// Send looks it up once and fails naming it, and the first Send after the
// name resolves sends.
func TestUDPAgentHostResolvesLater(t *testing.T) {
	agent := listeners(t)["udp"]
	_, port, _ := net.SplitHostPort(agent.Addr())
	var resolvable atomic.Bool
	var lookups atomic.Int32
	lookup := func(_ context.Context, host string) ([]netip.Addr, error) {
		lookups.Add(1)
		if host != "agent.internal" {
			t.Errorf("looked up %q, want agent.internal", host)
		}
		if !resolvable.Load() {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return []netip.Addr{netip.MustParseAddr("::1"), netip.MustParseAddr("::ffff:127.0.0.1")}, nil
	}
	sink, err := newStaged(testOptions{Addr: "agent.internal:" + port, lookup: lookup})
	if err != nil {
		t.Fatalf("New with a name that does not resolve yet: %v", err)
	}
	defer sink.Close()
	for i := range 3 {
		err := sink.Send(context.Background(), cycle())
		if err == nil || !strings.Contains(err.Error(), `"agent.internal"`) {
			t.Fatalf("Send %d while the name does not resolve = %v, want an error naming it", i, err)
		}
	}
	if n := lookups.Load(); n != 3 {
		t.Errorf("%d lookups for 3 cycles, want one per cycle", n)
	}
	if got, _ := agent.Wait(1, 100*time.Millisecond); len(got) != 0 {
		t.Fatalf("received %v before the name resolved", got)
	}
	resolvable.Store(true)
	if err := sink.Send(context.Background(), cycle()); err != nil {
		t.Fatalf("Send once the name resolves: %v", err)
	}
	if got, _ := agent.Wait(1, 2*time.Second); len(got) != 1 {
		t.Fatalf("received %d gauges once the name resolved, want 1 (sent to its IPv4 address)", len(got))
	}
	if n := lookups.Load(); n != 4 {
		t.Errorf("%d lookups, want 4: none more once connected", n)
	}
}

// The real resolver: a name under .invalid (RFC 6761) never resolves, and
// localhost always does.
func TestUDPAgentHostRealResolver(t *testing.T) {
	agent := listeners(t)["udp"]
	_, port, _ := net.SplitHostPort(agent.Addr())
	bad, err := newStaged(testOptions{Addr: "ecs-uptime-test.invalid:" + port})
	if err != nil {
		t.Fatalf("New(ecs-uptime-test.invalid) = %v: a name is configuration, its lookup a runtime matter", err)
	}
	defer bad.Close()
	if err := bad.Send(context.Background(), cycle()); err == nil || !strings.Contains(err.Error(), "ecs-uptime-test.invalid") {
		t.Errorf("Send to ecs-uptime-test.invalid = %v, want a lookup error naming it", err)
	}
	good, err := newStaged(testOptions{Addr: "localhost:" + port})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if err := good.Send(context.Background(), cycle()); err != nil {
		t.Fatalf("Send to localhost: %v", err)
	}
	if got, _ := agent.Wait(1, 2*time.Second); len(got) != 1 {
		t.Errorf("received %d gauges through localhost, want 1", len(got))
	}
}

// After a refusal the Sink looks the host up again: an Agent that comes
// back at another address (a new task, a new IP behind the same name) gets
// the cycles, not the old address.
func TestUDPAgentBackAtAnotherAddress(t *testing.T) {
	first, err := receiver.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(first.Addr())
	var ip atomic.Value
	ip.Store(netip.MustParseAddr("127.0.0.1"))
	lookup := func(context.Context, string) ([]netip.Addr, error) { return []netip.Addr{ip.Load().(netip.Addr)}, nil }
	sink, err := newStaged(testOptions{Addr: "agent.internal:" + port, lookup: lookup})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if err := sink.Send(context.Background(), cycle()); err != nil {
		t.Fatalf("Send to the first Agent: %v", err)
	}
	if got, _ := first.Wait(1, 2*time.Second); len(got) != 1 {
		t.Fatalf("the first Agent received %d gauges, want 1", len(got))
	}
	first.Close()
	if err := sink.Send(context.Background(), cycle()); err != nil {
		t.Fatalf("Send just after the Agent went: %v (its refusal shows one cycle later)", err)
	}
	second, err := receiver.ListenUDP("127.0.0.2:" + port)
	if err != nil {
		t.Skipf("no second loopback address to listen on: %v", err)
	}
	defer second.Close()
	ip.Store(netip.MustParseAddr("127.0.0.2"))
	time.Sleep(cycleGap)
	if err := sink.Send(context.Background(), cycle()); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Send after the first Agent went = %v, want its refusal", err)
	}
	time.Sleep(cycleGap)
	if err := sink.Send(context.Background(), cycle()); err != nil {
		t.Errorf("Send with the Agent at its new address: %v", err)
	}
	if got, _ := second.Wait(2, 2*time.Second); len(got) != 2 {
		t.Errorf("the Agent at the new address received %d gauges, want 2", len(got))
	}
}
