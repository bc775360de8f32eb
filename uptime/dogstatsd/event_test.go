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

// TaskEvent over real sockets: one event per call, flushed before the call
// returns, with the task's tags after the global ones, its ARN as the
// aggregation key, the alert type asked for, and a title that stays one
// field whatever the task's family holds.
func TestTaskEventOverRealSockets(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	plain := cycle().Tasks[0].Task
	forged := plain
	forged.Family = "db|migrate\nforged:1|c"
	forged.ARN = "arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f,team:x"
	tests := []struct {
		name      string
		task      uptime.Task
		event     TaskEvent
		wantTitle string
		wantAlert string
		wantAt    string // the d: field; "" for none
		wantKey   string
	}{
		{"warning with a timestamp", plain,
			TaskEvent{Title: "would stop ECS task db-migrate:42", Text: "ran 26h03m\ntask_arn: " + plain.ARN, Alert: AlertWarning, At: at},
			"would stop ECS task db-migrate:42", "warning", strconv.FormatInt(at.Unix(), 10), plain.ARN},
		{"no alert type is info, no time is the Agent's", plain,
			TaskEvent{Title: "stopping ECS task db-migrate:42", Text: "ran 26h03m"},
			"stopping ECS task db-migrate:42", "info", "", plain.ARN},
		{"error", plain,
			TaskEvent{Title: "stopped ECS task db-migrate:42", Text: "ECS accepted the stop", Alert: AlertError},
			"stopped ECS task db-migrate:42", "error", "", plain.ARN},
		{"a family that tries to end the title and the line", forged,
			TaskEvent{Title: "stopping ECS task " + forged.Family, Text: "ran 26h03m", Alert: AlertSuccess},
			"stopping ECS task db_migrate_forged:1_c", "success", "", Sanitize(forged.ARN)},
	}
	for transport, agent := range listeners(t) {
		sink, err := New(Options{Addr: agent.Addr(), Tags: []string{"env:prod"}})
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		for _, tc := range tests {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				if err := sink.TaskEvent(context.Background(), tc.task, tc.event); err != nil {
					t.Fatalf("TaskEvent: %v", err)
				}
				// TaskEvent flushed: the event is there without a Close.
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
				wantTags := append([]string{"env:prod"}, TaskTags(tc.task)...)
				if !slices.Equal(e.Tags, wantTags) {
					t.Errorf("tags\n got %q\nwant %q", e.Tags, wantTags)
				}
			})
		}
	}
}

func TestTaskEventRefusesAnUnknownAlertType(t *testing.T) {
	agent := listeners(t)["udp"]
	sink, err := New(Options{Addr: agent.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	err = sink.TaskEvent(context.Background(), cycle().Tasks[0].Task, TaskEvent{Title: "stopping", Alert: "critical"})
	if err == nil || !strings.Contains(err.Error(), `alert type "critical"`) || !strings.Contains(err.Error(), "want info, warning, error or success") {
		t.Fatalf("TaskEvent with alert type critical = %v, want an error naming it and the accepted ones", err)
	}
	if got, _ := agent.Wait(1, 200*time.Millisecond); len(got) != 0 {
		t.Errorf("sent %v for a refused event", got)
	}
}

// An Agent that is away shows as a TaskEvent error, as it does for Send:
// a Unix socket that is not there fails at once; over UDP, nothing
// listening fails the next event (the refusal comes back after the write),
// and TaskEvent connects by itself when no Send has.
func TestTaskEventReportsAnAgentThatIsAway(t *testing.T) {
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
				err = sink.TaskEvent(context.Background(), cycle().Tasks[0].Task, TaskEvent{Title: "stopping ECS task db-migrate:42", Alert: AlertInfo})
				if call < tc.fails {
					if err != nil {
						t.Fatalf("TaskEvent %d = %v, want nil: no refusal can have come back yet", call, err)
					}
					time.Sleep(cycleGap) // for the kernel's ICMP answer, not to make time pass
				}
			}
			if err == nil || !strings.Contains(err.Error(), `send event "stopping ECS task db-migrate:42" to dogstatsd`) {
				t.Fatalf("TaskEvent %d = %v, want an error naming the event", tc.fails, err)
			}
		})
	}
}
