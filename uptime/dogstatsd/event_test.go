package dogstatsd

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/dogstatsd/receiver"
)

// Events over real sockets: each Write flushed before it returns, with the
// task's tags after the global ones, the key as the aggregation key, the
// alert type asked for (info when unknown), and a title that stays one field
// whatever the task's family holds.
func TestEventsOverRealSockets(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	plain := *cycle().Tasks[0].Task
	forged := plain
	forged.Family = "db|migrate\nforged:1|c"
	forged.ARN = "arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f,team:x"
	tests := []struct {
		name      string
		task      uptime.Task
		event     uptime.Event
		wantTitle string
		wantAlert string
		wantAt    string // the d: field; "" for none
		wantKey   string
	}{
		{"warning with a timestamp", plain,
			uptime.Event{Title: "would stop ECS task db-migrate:42", Text: "ran 26h03m\ntask_arn: " + plain.ARN, Alert: uptime.AlertWarning, At: at, Key: plain.ARN},
			"would stop ECS task db-migrate:42", "warning", strconv.FormatInt(at.Unix(), 10), plain.ARN},
		{"no alert type is info, no time is the Agent's", plain,
			uptime.Event{Title: "stopping ECS task db-migrate:42", Text: "ran 26h03m", Key: plain.ARN},
			"stopping ECS task db-migrate:42", "info", "", plain.ARN},
		{"error", plain,
			uptime.Event{Title: "stopped ECS task db-migrate:42", Text: "ECS accepted the stop", Alert: uptime.AlertError, Key: plain.ARN},
			"stopped ECS task db-migrate:42", "error", "", plain.ARN},
		{"a family that tries to end the title and the line", forged,
			uptime.Event{Title: "stopping ECS task " + forged.Family, Text: "ran 26h03m", Alert: uptime.AlertSuccess, Key: forged.ARN},
			"stopping ECS task db_migrate_forged:1_c", "success", "", Sanitize(forged.ARN)},
		{"an unknown alert type is info", plain,
			uptime.Event{Title: "stopping ECS task db-migrate:42", Text: "ran 26h03m", Alert: "critical", Key: plain.ARN},
			"stopping ECS task db-migrate:42", "info", "", plain.ARN},
	}
	for transport, agent := range listeners(t) {
		sink, err := New(Options{Addr: agent.Addr(), Tags: []string{"env:prod"}})
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		for _, tc := range tests {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				ev := tc.event
				ev.About = uptime.Subject{Task: &tc.task}
				if err := sink.Write(context.Background(), &uptime.Signals{At: at, Events: []uptime.Event{ev}}); err != nil {
					t.Fatalf("Write: %v", err)
				}
				// Write flushed: the event is there without a Close.
				got, errs := agent.Wait(1, 2*time.Second)
				if len(errs) > 0 || len(got) != 1 {
					t.Fatalf("received %v (errors %v), want one event", got, errs)
				}
				e := got[0]
				if e.Kind != receiver.Event || e.Name != tc.wantTitle || e.Text != tc.event.Text {
					t.Errorf("got %s %q / %q, want event %q / %q", e.Kind, e.Name, e.Text, tc.wantTitle, tc.event.Text)
				}
				if e.Fields["k"] != tc.wantKey || e.Fields["t"] != tc.wantAlert || e.Fields["s"] != "ecs-uptime" || e.Fields["d"] != tc.wantAt {
					t.Errorf("fields %v, want k:%s t:%s s:ecs-uptime d:%q", e.Fields, tc.wantKey, tc.wantAlert, tc.wantAt)
				}
				if e.CardTag != "none" || e.CardField != "" {
					t.Errorf("dd.internal.card tag %q, card: field %q; want the tag none and no field (origin opt-out)", e.CardTag, e.CardField)
				}
				wantTags := append([]string{"env:prod"}, TaskTags(&tc.task)...)
				if !slices.Equal(e.Tags, wantTags) {
					t.Errorf("tags\n got %q\nwant %q", e.Tags, wantTags)
				}
			})
		}
	}
}

// An Agent that is away shows as a Write error: a Unix socket that is not
// there fails at once; over UDP, nothing listening fails the next Write
// (the refusal comes back after the write), and the first Write connects.
func TestWriteReportsAnAgentThatIsAway(t *testing.T) {
	tests := []struct {
		name  string
		addr  string
		fails int // the first call that must fail
	}{
		{"unix socket missing", "unix://" + filepath.Join(t.TempDir(), "dsd.socket"), 1},
		{"nothing listens on the UDP port", "127.0.0.1:" + freeUDPPort(t), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink, err := New(Options{Addr: tc.addr})
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			for call := 1; call <= tc.fails; call++ {
				task := cycle().Tasks[0].Task
				err = sink.Write(context.Background(), &uptime.Signals{Events: []uptime.Event{{Title: "stopping ECS task db-migrate:42",
					Alert: uptime.AlertInfo, Key: task.ARN, About: uptime.Subject{Task: task}}}})
				if call < tc.fails {
					if err != nil {
						t.Fatalf("Write %d = %v, want nil: no refusal can have come back yet", call, err)
					}
					time.Sleep(cycleGap) // for the kernel's ICMP answer, not to make time pass
				}
			}
			if err == nil || !strings.Contains(err.Error(), "send to dogstatsd") {
				t.Fatalf("Write %d = %v, want a send error", tc.fails, err)
			}
		})
	}
}
