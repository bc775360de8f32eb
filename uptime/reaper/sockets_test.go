package reaper_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/dogstatsd"
	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/reaper"
)

// stopper records the StopTasks and accepts them; the ECS side is the api
// source's, tested against its ECS fake.
type stopper struct{ reasons []string }

func (s *stopper) StopTask(_ context.Context, t uptime.Task, reason string) error {
	s.reasons = append(s.reasons, t.ARN+" "+reason)
	return nil
}

// With the real dogstatsd Sink over a real UDP socket, in front of and
// behind the reaper: the gauge goes out first, then the "stopping" and
// "stopped" events, with the task's tags and ARN as aggregation key; the
// next cycle sends the gauge only.
func TestStopOverRealSocket(t *testing.T) {
	agent, err := receiver.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	dd, err := dogstatsd.New(dogstatsd.Options{Addr: agent.Addr(), Tags: []string{"env:prod"}})
	if err != nil {
		t.Fatal(err)
	}
	defer dd.Close()
	ecs := &stopper{}
	s := &uptime.Pipeline{Stages: []uptime.Stage{uptime.Gauges{}, reaper.New(reaper.Policy{Stop: true, Tag: tagKey}, nil)},
		Output: dd, Stopper: ecs}
	task := oneOff("5c2f0b9e", "24h")
	tu := uptime.TaskUptime{Task: &task, Uptime: 26*time.Hour + 3*time.Minute}

	if err := s.Send(context.Background(), at(0, tu)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got, errs := agent.Wait(3, 2*time.Second)
	if len(errs) > 0 || len(got) != 3 {
		t.Fatalf("received %v (errors %v), want a gauge and two events", got, errs)
	}
	want := []struct {
		kind  receiver.Kind
		name  string
		alert string
	}{
		{receiver.Metric, dogstatsd.MetricTaskUptime, ""},
		{receiver.Event, "stopping ECS task db-migrate:42 (…/5c2f0b9e…): ran 26h03m, max lifetime 24h", "info"},
		{receiver.Event, "stopped ECS task db-migrate:42 (…/5c2f0b9e…): ran 26h03m, max lifetime 24h", "error"},
	}
	wantTags := append([]string{"env:prod"}, dogstatsd.TaskTags(&task)...)
	for i, w := range want {
		p := got[i]
		if p.Kind != w.kind || p.Name != w.name || p.Fields["t"] != w.alert {
			t.Errorf("packet %d = %s %q t:%q, want %s %q t:%q", i, p.Kind, p.Name, p.Fields["t"], w.kind, w.name, w.alert)
		}
		if !slices.Equal(p.Tags, wantTags) {
			t.Errorf("packet %d tags\n got %q\nwant %q", i, p.Tags, wantTags)
		}
		if p.Kind == receiver.Event && p.Fields["k"] != task.ARN {
			t.Errorf("event %q aggregation key %q, want the task ARN", p.Name, p.Fields["k"])
		}
	}
	if want := []string{task.ARN + " ecs-uptime: ran 26h03m, over its max lifetime 24h"}; !slices.Equal(ecs.reasons, want) {
		t.Errorf("StopTasks %q, want %q", ecs.reasons, want)
	}

	// ECS has accepted; the task is still listed while it stops.
	if err := s.Send(context.Background(), at(1, tu)); err != nil {
		t.Fatalf("second Send: %v", err)
	}
	got, _ = agent.Wait(2, 300*time.Millisecond)
	if len(got) != 1 || got[0].Kind != receiver.Metric {
		t.Errorf("second cycle sent %v, want the gauge only", got)
	}
	if len(ecs.reasons) != 1 {
		t.Errorf("%d StopTasks after two cycles, want 1", len(ecs.reasons))
	}
}
