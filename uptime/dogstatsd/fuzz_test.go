package dogstatsd_test

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/dogstatsd"
	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/lifetime"
)

// unsafeRune reports whether r may not appear in a sanitized tag value
// (DESIGN.md: no '|', ',', '#', line break or control character).
func unsafeRune(r rune) bool {
	return r == '|' || r == ',' || r == '#' || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029'
}

// FuzzSanitize checks that no input survives Sanitize with a character that
// could end a tag, the tag list or the line, that the result is valid UTF-8
// with no surrounding space, that sanitizing twice changes nothing, and that
// a value that was safe already is only trimmed.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"plain-value_1.2", "a|b", "forged,env:prod|#x", "line\nbreak", "  trimmed  ", "unicodé ok",
		"c1\u0085control", "sep\u2028arator", "\xff\xfeinvalid", " \x00 ", "colon:kept", "\u00a0nbsp\u00a0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := dogstatsd.Sanitize(in)
		if !utf8.ValidString(out) {
			t.Fatalf("Sanitize(%q) = %q: not valid UTF-8", in, out)
		}
		for _, r := range out {
			if unsafeRune(r) {
				t.Fatalf("Sanitize(%q) = %q: keeps %U", in, out, r)
			}
		}
		if strings.TrimSpace(out) != out {
			t.Fatalf("Sanitize(%q) = %q: not trimmed", in, out)
		}
		if again := dogstatsd.Sanitize(out); again != out {
			t.Fatalf("Sanitize(Sanitize(%q)) = %q, want %q: not idempotent", in, again, out)
		}
		if utf8.ValidString(in) && !strings.ContainsFunc(in, unsafeRune) && out != strings.TrimSpace(in) {
			t.Fatalf("Sanitize(%q) = %q: changed a safe value", in, out)
		}
	})
}

// FuzzSplitImage checks that SplitImage never panics and splits any
// reference into parts that put it back together: the name (registry, port
// and path) before the tag, the tag after the last colon that follows the
// last slash, "latest" only when there is neither tag nor digest.
func FuzzSplitImage(f *testing.F) {
	for _, s := range []string{"alpine", "prom/prometheus:v3.1.0", "registry.local:5000/team/app:1.2", "registry.local:5000/team/app",
		"app@sha256:abcdef", "repo/app:1.0@sha256:abcdef", "111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest:latest",
		"[::1]:5000/app", "app:", ":tag", "/", "@", "a@b@c", "host:5000/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		img := dogstatsd.SplitImage(ref)
		if ref == "" {
			if img != (dogstatsd.Image{}) {
				t.Fatalf("SplitImage(\"\") = %+v, want zero", img)
			}
			return
		}
		name, _, hasDigest := strings.Cut(ref, "@")
		switch {
		case name == img.Name+":"+img.Tag: // explicit tag
		case name == img.Name+":" && img.Tag == "latest": // "app:" has an empty tag
		case name == img.Name && (img.Tag == "latest") == !hasDigest && (img.Tag == "" || img.Tag == "latest"):
		default:
			t.Fatalf("SplitImage(%q) = %+v: does not put %q back together", ref, img, name)
		}
		if strings.ContainsAny(img.Tag, ":/@") {
			t.Fatalf("SplitImage(%q) = %+v: tag holds a separator", ref, img)
		}
		if strings.Contains(img.Short, "/") || !strings.HasSuffix(img.Name, img.Short) {
			t.Fatalf("SplitImage(%q) = %+v: short image is not the last path element of the name", ref, img)
		}
	})
}

// maxField bounds each fuzzed string so that each line fits the client's
// Unix-socket buffer (8 KiB) even when sanitizing triples bytes.
const maxField = 100

// FuzzSinkLine is the property DESIGN.md promises: whatever a source or a
// variable holds, what the sink writes on the socket parses back, with the
// receiver the tests use, into exactly the intended lines: each gauge with
// its name and value, each line with exactly the sanitized intended tags
// and the origin opt-out, no forged tag, no extra or broken line. It goes
// through the real datadog-go client and a real Unix datagram socket.
func FuzzSinkLine(f *testing.F) {
	f.Add("arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c", "curltest", "26", "default",
		"arn:aws:ecs:us-west-2:111122223333:cluster/default", "us-west-2", "us-west-2d", "111122223333", "MyService",
		"curl", "ecs-curltest-26-curl-cca48e8dcadd97805600", "ee08638adaaf009d78c248913f629e38299471d45fe7dc944d1039077e3424ca",
		"111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest:latest", "team", "data", int64(26*time.Hour+1500*time.Millisecond))
	f.Add("arn:aws:ecs:r:1:task/c/x|#env:forged", "fam\nforged.metric:1|g", "1,env:prod", "c#x", "", " ", "\u2028", "\x00", "s|m:x",
		"n:a", "", "", "registry:5000/app@sha256:ab", "k,x", "v|#y", int64(1))
	f.Add("", "", "", "", "", "", "", "", "", "", "", "", "", "", "", int64(0))
	dir := f.TempDir()
	n := 0
	f.Fuzz(func(t *testing.T, arn, family, revision, cluster, clusterARN, region, az, account, service,
		ctrName, runtimeName, id, image, globalKey, globalValue string, nanos int64) {
		for _, s := range []string{arn, family, revision, cluster, clusterARN, region, az, account, service, ctrName, runtimeName, id, image, globalKey, globalValue} {
			if len(s) > maxField {
				t.Skip("field longer than the bound that keeps one cycle in one datagram")
			}
		}
		up := time.Duration(nanos)
		if up < 0 { // the Tracker never reports a negative uptime
			up = -up
		}
		if up < 0 {
			up = math.MaxInt64
		}
		n++
		agent, err := receiver.ListenUnixgram(filepath.Join(dir, "dsd"+strconv.Itoa(n)+".socket"))
		if err != nil {
			t.Fatal(err)
		}
		defer agent.Close()
		out, err := dogstatsd.New(dogstatsd.Options{Addr: agent.Addr(), Tags: []string{globalKey + ":" + globalValue}})
		if err != nil {
			t.Fatal(err)
		}
		task := uptime.Task{ARN: arn, Family: family, Revision: revision, Cluster: cluster, ClusterARN: clusterARN,
			Region: region, AvailabilityZone: az, Account: account, Service: service}
		if service != "" {
			task.Kind = uptime.KindService
		}
		ctr := uptime.Container{Name: ctrName, RuntimeName: runtimeName, ID: id, Image: image, Running: true}
		c := uptime.Cycle{At: time.Unix(1764064800, 0), Tasks: []uptime.TaskUptime{{Task: &task, Uptime: up,
			Containers: []uptime.ContainerUptime{{Container: ctr, Uptime: up / 2}}}}}
		sink := &uptime.Pipeline{Output: out, Stages: []uptime.Stage{uptime.Gauges{Containers: true},
			lifetime.NewJudge(lifetime.Policy{Critical: time.Nanosecond})}}
		if err := sink.Send(context.Background(), c); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if err := out.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}

		// The intended tags, built from the contract rather than from TaskTags.
		k, v, _ := strings.Cut(globalKey+":"+globalValue, ":")
		taskTags := []string{dogstatsd.Sanitize(k) + ":" + dogstatsd.Sanitize(v)}
		add := func(tags []string, key, value string) []string {
			if value = dogstatsd.Sanitize(value); value != "" {
				tags = append(tags, key+":"+value)
			}
			return tags
		}
		for _, kv := range [][2]string{{"task_arn", arn}, {"task_name", family}, {"task_family", family}, {"task_version", revision},
			{"ecs_cluster_name", cluster}, {"cluster_arn", clusterARN}, {"region", region}, {"availability-zone", az},
			{"aws_account", account}, {"ecs_service", service}} {
			taskTags = add(taskTags, kv[0], kv[1])
		}
		if service != "" {
			taskTags = append(taskTags, "ecs_task_kind:service")
		} else {
			taskTags = append(taskTags, "ecs_task_kind:unknown")
		}
		img := dogstatsd.SplitImage(image)
		ctrTags := slices.Clone(taskTags)
		for _, kv := range [][2]string{{"ecs_container_name", ctrName}, {"container_name", runtimeName}, {"container_id", id},
			{"docker_image", image}, {"image_name", img.Name}, {"short_image", img.Short}, {"image_tag", img.Tag}} {
			ctrTags = add(ctrTags, kv[0], kv[1])
		}

		want, status := 3, 0 // task gauge, container gauge, service check OK
		if up >= time.Nanosecond {
			want, status = 4, 2 // and the CRITICAL crossing event
		}
		got, errs := agent.Wait(want, 5*time.Second)
		if len(errs) > 0 || len(got) != want {
			t.Fatalf("received %d lines and %d that do not parse (%v), want %d lines:\n%s", len(got), len(errs), errs, want, raws(got))
		}
		for _, p := range got {
			wantTags := taskTags
			switch {
			case p.Kind == receiver.Metric && p.Name == dogstatsd.MetricTaskUptime:
				if p.Type != "g" || p.Value != up.Seconds() {
					t.Errorf("task gauge %q: want type g, value %v", p.Raw, up.Seconds())
				}
			case p.Kind == receiver.Metric && p.Name == dogstatsd.MetricContainerUptime:
				wantTags = ctrTags
				if p.Type != "g" || p.Value != (up/2).Seconds() {
					t.Errorf("container gauge %q: want type g, value %v", p.Raw, (up / 2).Seconds())
				}
			case p.Kind == receiver.ServiceCheck:
				// The Agent splits a service check on every '|' and reads a
				// "#…" field anywhere as the tags: the message, which comes
				// last, must hold none.
				if p.Name != dogstatsd.CheckTaskLifetime || p.Status != status || strings.Contains(p.Text, "|") || !strings.HasSuffix(p.Raw, "|m:"+p.Text) {
					t.Errorf("service check %q: want %s status %d and a message without '|', last", p.Raw, dogstatsd.CheckTaskLifetime, status)
				}
			case p.Kind == receiver.Event:
				if strings.ContainsAny(p.Fields["k"], "|#,\n") || p.Fields["t"] != "error" || p.Fields["s"] != "ecs-uptime" {
					t.Errorf("event %q: want a clean aggregation key, alert type error, source ecs-uptime; fields %q", p.Raw, p.Fields)
				}
			default:
				t.Errorf("unexpected line %q", p.Raw)
			}
			if !slices.Equal(p.Tags, wantTags) {
				t.Errorf("line %q\n tags %q\n want %q", p.Raw, p.Tags, wantTags)
			}
			if p.CardTag != "none" || p.CardField != "" {
				t.Errorf("line %q: dd.internal.card %q, card: field %q; want none and no field (origin enrichment off)", p.Raw, p.CardTag, p.CardField)
			}
		}
	})
}

func raws(ps []receiver.Packet) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Raw + "\n")
	}
	return b.String()
}
