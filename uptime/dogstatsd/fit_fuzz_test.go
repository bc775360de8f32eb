package dogstatsd

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/DataDog/datadog-go/v5/statsd"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/lifetime"
	"ecs-uptime/uptime/reaper"
	"ecs-uptime/uptime/singleton"
)

// acceptAll is a Stopper that ECS always obeys.
type acceptAll struct{}

func (acceptAll) StopTask(context.Context, uptime.Task, string) error { return nil }

// fitRecorder is the Output of the fuzzed pipeline: it has the Sink write
// each batch of signals, then checks what reached the transport.
type fitRecorder struct {
	t       *testing.T
	sink    *Sink
	link    *captureLink
	globals []string // the global tags as they arrive (the origin opt-out taken out)
	logs    *bytes.Buffer
}

func (r *fitRecorder) Write(ctx context.Context, sig *uptime.Signals) error {
	err := r.sink.Write(ctx, sig)
	r.check(sig, r.link.take())
	return err
}

// expected is one message the Sink was handed.
type expected struct {
	kind  receiver.Kind
	name  string // metric or check name, or event title as sent
	value float64
	text  string // check message (one field) or event text, whole
	key   string
	tags  []string
}

func (r *fitRecorder) check(sig *uptime.Signals, payloads [][]byte) {
	t := r.t
	var want []expected
	for _, g := range sig.Gauges {
		want = append(want, expected{kind: receiver.Metric, name: g.Name, value: g.Value, tags: SubjectTags(g.About)})
	}
	for _, c := range sig.Checks {
		want = append(want, expected{kind: receiver.ServiceCheck, name: c.Name, value: float64(c.Status), text: oneField(c.Message), tags: SubjectTags(c.About)})
	}
	for _, e := range sig.Events {
		want = append(want, expected{kind: receiver.Event, name: oneField(e.Title), text: e.Text, key: AggregationKey(e.Key), tags: SubjectTags(e.About)})
	}
	var got []receiver.Packet
	for _, p := range payloads {
		if len(p) > MaxDatagram {
			t.Fatalf("a payload of %d bytes, over %d", len(p), MaxDatagram)
		}
		for _, line := range strings.SplitAfter(string(p), "\n") {
			if line == "" {
				continue
			}
			pk, err := receiver.Parse(strings.TrimSuffix(line, "\n"))
			if err != nil {
				t.Fatalf("a line that does not parse: %v", err)
			}
			got = append(got, pk)
		}
	}
	j := 0
	for _, w := range want {
		if j < len(got) && matches(got[j], w) {
			r.sent(sig.At, got[j], w)
			j++
			continue
		}
		r.dropped(sig.At, w)
	}
	if j != len(got) {
		t.Fatalf("%d lines arrived that match nothing the Sink was handed, from %.200q", len(got)-j, got[j].Raw)
	}
}

func matches(p receiver.Packet, w expected) bool {
	switch w.kind {
	case receiver.Metric:
		return p.Kind == w.kind && p.Name == w.name && p.Value == w.value
	case receiver.ServiceCheck:
		return p.Kind == w.kind && p.Name == w.name && p.Status == int(w.value)
	}
	return p.Kind == w.kind && p.Name == w.name
}

// sent checks a line that arrived: its tags whole, its text whole or cut
// as the contract says (only when the whole did not fit), its key one that
// Datadog keeps, and its length the one the Sink reckoned.
func (r *fitRecorder) sent(at time.Time, p receiver.Packet, w expected) {
	t := r.t
	if len(p.Raw)+1 > MaxDatagram {
		t.Fatalf("a line of %d bytes", len(p.Raw))
	}
	if wantTags := append(append([]string{}, r.globals...), w.tags...); !equalStrings(p.Tags, wantTags) {
		t.Fatalf("line %.200q: tags\n%q\nwant\n%q", p.Raw, p.Tags, wantTags)
	}
	var size, whole int
	switch w.kind {
	case receiver.Metric:
		size = r.sink.size.gauge(w.name, w.value, w.tags)
	case receiver.ServiceCheck:
		msg := strings.ReplaceAll(p.Raw[strings.Index(p.Raw, "|m:")+3:], `m\:`, "m:")
		sc := &statsd.ServiceCheck{Name: w.name, Status: statsd.ServiceCheckStatus(w.value), Timestamp: at, Message: msg, Tags: w.tags}
		size = r.sink.size.check(sc)
		sc.Message = w.text
		whole = r.sink.size.check(sc)
		if msg != w.text {
			if whole <= maxLine || !strings.HasSuffix(msg, ellipsis) || !strings.HasPrefix(w.text, strings.TrimSuffix(msg, ellipsis)) {
				t.Fatalf("check message %q (whole %d bytes), from %q: want it whole, or cut and ending … when the whole does not fit", msg, whole, w.text)
			}
		}
	case receiver.Event:
		if _, ok := p.Fields["d"]; !ok {
			at = time.Time{} // an event at no time: when the Agent receives it
		}
		ev := &statsd.Event{Title: w.name, Text: p.Text, Timestamp: at, AggregationKey: w.key, AlertType: statsd.EventAlertType(p.Fields["t"]),
			SourceTypeName: "ecs-uptime", Tags: w.tags}
		size = r.sink.size.event(ev)
		ev.Text = w.text
		whole = r.sink.size.event(ev)
		if p.Text != w.text {
			kept, lines := strings.CutSuffix(p.Text, "\n"+ellipsis)
			first, _, _ := strings.Cut(w.text, "\n")
			if whole <= maxLine || !(lines && strings.HasPrefix(w.text, kept+"\n") ||
				!lines && strings.HasSuffix(p.Text, ellipsis) && strings.HasPrefix(first, strings.TrimSuffix(p.Text, ellipsis))) {
				t.Fatalf("event text %q (whole %d bytes), from %q: want it whole, or whole lines and …, or its first line cut and …", p.Text, whole, w.text)
			}
		}
		if k := p.Fields["k"]; k != w.key || utf8.RuneCountInString(k) > 100 {
			t.Fatalf("aggregation key %q, want %q, at most 100 characters", k, w.key)
		}
	}
	if size != len(p.Raw) {
		t.Fatalf("line %.200q: %d bytes, the Sink reckoned %d", p.Raw, len(p.Raw), size)
	}
}

// dropped checks a message that did not arrive: it cannot fit even with
// its text cut to "…", and the Sink said so.
func (r *fitRecorder) dropped(at time.Time, w expected) {
	t := r.t
	var size int
	kind := "event"
	switch w.kind {
	case receiver.Metric:
		size = r.sink.size.gauge(w.name, w.value, w.tags)
		kind = "gauge " + w.name
	case receiver.ServiceCheck:
		size = r.sink.size.check(&statsd.ServiceCheck{Name: w.name, Status: statsd.ServiceCheckStatus(w.value), Timestamp: at, Message: ellipsis, Tags: w.tags})
		kind = "service check " + w.name
	case receiver.Event:
		size = r.sink.size.event(&statsd.Event{Title: w.name, Text: ellipsis, Timestamp: at, AggregationKey: w.key, AlertType: statsd.Error,
			SourceTypeName: "ecs-uptime", Tags: w.tags})
	}
	if size <= maxLine {
		t.Fatalf("%s %q (%d bytes with its text cut) did not arrive", w.kind, w.name, size)
	}
	if n := strings.Count(r.logs.String(), fmt.Sprintf(`"kind":%q`, kind)); n != 1 {
		t.Fatalf("%s %q did not fit and was logged %d times, want once:\n%s", w.kind, w.name, n, r.logs.String())
	}
}

// FuzzMessagesFit is the size bound DESIGN.md promises: whatever the tasks
// hold (names at and past ECS's limits, many resource tags, any global
// tag), every message the stages make (gauges, threshold and singleton
// checks, threshold, onset and stop events) leaves in one datagram of
// MaxDatagram bytes and parses, with its tags whole; an event text or a
// check message is cut (at a line, ending "…") only when the whole does
// not fit; a message that cannot fit at all is logged once per kind; and
// every aggregation key is at most 100 characters.
func FuzzMessagesFit(f *testing.F) {
	f.Add("db-migrate", "prod", "ci/job-7", "FARGATE_SPOT", "team", "payments", "env:prod", uint8(0), uint8(1), uint8(2))
	// ECS's limits: family, cluster and capacity provider 255 characters,
	// startedBy 128, tag keys 128 and values 256.
	f.Add("f", "c", "s", "p", "k", "v", "env:prod", uint8(127), uint8(12), uint8(10))
	f.Add("family-", "cluster_", "ci/", "cp", "Team:Key", "value,with|stuff", "dd_tags:x", uint8(40), uint8(20), uint8(11))
	f.Add("a", "b", "c", "d", "e", "f", "g:h", uint8(255), uint8(40), uint8(3))
	f.Fuzz(func(t *testing.T, family, cluster, startedBy, capacity, tagKey, tagValue, global string, rep, nTags, nTasks uint8) {
		// Backslashes make a text whose escaping the receiver cannot undo.
		grow := func(s string, limit int) string {
			s = strings.Repeat(strings.ReplaceAll(s, `\`, ""), 1+int(rep))
			if len(s) > limit {
				s = s[:limit]
			}
			return s
		}
		family, cluster, startedBy, capacity = grow(family, 300), grow(cluster, 300), grow(startedBy, 150), grow(capacity, 300)
		tagKey, tagValue = grow(tagKey, 128), grow(tagValue, 300)
		global = strings.ReplaceAll(global, `\`, "")
		if strings.HasPrefix(strings.TrimSpace(global), "dd.internal.card") {
			t.Skip("a global tag the receiver reads as the origin opt-out")
		}
		logs := &bytes.Buffer{}
		link := newCaptureLink()
		sink, err := newSink(Options{Addr: "capture", Tags: []string{global}, Log: slog.New(slog.NewJSONHandler(logs, nil))}, link)
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		k, v, _ := strings.Cut(global, ":")
		globals := []string{Sanitize(k) + ":" + Sanitize(v)}
		if !strings.Contains(global, ":") {
			globals = []string{Sanitize(global)}
		}
		rec := &fitRecorder{t: t, sink: sink, link: link, globals: globals, logs: logs}

		now := time.Unix(1764064800, 0)
		c := uptime.Cycle{At: now}
		for i := range 1 + int(nTasks)%12 {
			task := uptime.Task{ARN: fmt.Sprintf("arn:aws:ecs:eu-west-1:123456789012:task/%s/%032x", cluster, i), Family: family, Revision: "1",
				Cluster: cluster, ClusterARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/" + cluster, Region: "eu-west-1",
				Account: "123456789012", AvailabilityZone: "eu-west-1a", LaunchType: "FARGATE", CapacityProvider: capacity,
				StartedBy: fmt.Sprintf("%s%d", startedBy, i), Kind: uptime.KindStandalone, MaxLifetimeTag: "1h", HasMaxLifetimeTag: true}
			for j := range int(nTags) % 50 {
				task.ResourceTags = append(task.ResourceTags, uptime.ResourceTag{Key: fmt.Sprintf("%s%d", strings.ToLower(tagKey), j), Value: tagValue})
			}
			c.Tasks = append(c.Tasks, uptime.TaskUptime{Task: &task, Uptime: 26*time.Hour + time.Duration(i)*time.Minute})
		}
		quiet := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
		p := &uptime.Pipeline{Output: rec, Stopper: acceptAll{}, Stages: []uptime.Stage{
			uptime.Gauges{}, lifetime.NewJudge(lifetime.Policy{Critical: time.Hour}), singleton.New([]string{family}),
			reaper.New(reaper.Policy{Stop: true, Tag: "ecs-uptime:max-lifetime"}, quiet)}}
		if err := p.Send(context.Background(), c); err != nil {
			t.Fatalf("Send: %v", err)
		}
	})
}
