package uptime_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime"
)

// trail records what a pipeline's stages, output and stopper did, in order.
type trail struct {
	calls    []string
	writeErr error
	stopErr  error
	onStop   func()
}

func (tr *trail) Write(_ context.Context, s *uptime.Signals) error {
	var parts []string
	for _, g := range s.Gauges {
		parts = append(parts, "gauge "+g.Name)
	}
	for _, c := range s.Checks {
		parts = append(parts, "check "+c.Name+" "+c.Status.String())
	}
	for _, e := range s.Events {
		parts = append(parts, "event "+e.Title)
	}
	tr.calls = append(tr.calls, "write ["+strings.Join(parts, ", ")+"]")
	return tr.writeErr
}

func (tr *trail) StopTask(ctx context.Context, t uptime.Task, reason string) error {
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > uptime.StopTimeout {
		tr.calls = append(tr.calls, "unbounded StopTask")
	}
	tr.calls = append(tr.calls, "stop "+t.ARN+" "+reason)
	if tr.onStop != nil {
		tr.onStop()
	}
	return tr.stopErr
}

// stopAll asks to stop every task of the cycle, with an announcement and
// an outcome event each, and asks the process to exit when exit is set.
type stopAll struct {
	tr   *trail
	exit error
}

func (s stopAll) Judge(c *uptime.Cycle, sig *uptime.Signals) {
	for _, t := range c.Tasks {
		arn := t.Task.ARN
		sig.Stops = append(sig.Stops, uptime.StopRequest{Task: *t.Task, Reason: "too old",
			Announce: []uptime.Event{{Title: "stopping " + arn}},
			Done: func(_ context.Context, err error) []uptime.Event {
				s.tr.calls = append(s.tr.calls, fmt.Sprintf("done %s %v", arn, err))
				if err != nil {
					return nil
				}
				return []uptime.Event{{Title: "stopped " + arn}}
			}})
	}
	if s.exit != nil {
		sig.Exit = s.exit
	}
}

func TestPipeline(t *testing.T) {
	cycle := uptime.Cycle{At: time.Unix(1764064800, 0), Tasks: []uptime.TaskUptime{
		{Task: &uptime.Task{ARN: "a"}, Uptime: time.Hour}, {Task: &uptime.Task{ARN: "b"}, Uptime: time.Minute}}}
	refused := errors.New("AccessDeniedException")
	away := errors.New("send to dogstatsd: connection refused")
	exit := fmt.Errorf("max lifetime: %w", uptime.ErrStop)
	tests := []struct {
		name      string
		trail     trail
		exit      error
		cancel    bool // the context is done before Send
		wantCalls []string
		wantErr   string
	}{
		{"the cycle's signals first, then each stop announced, asked, and its outcome written", trail{}, nil, false, []string{
			"write [gauge ecs.task.uptime, gauge ecs.task.uptime]",
			"write [event stopping a]", "stop a too old", "done a <nil>", "write [event stopped a]",
			"write [event stopping b]", "stop b too old", "done b <nil>", "write [event stopped b]",
		}, ""},
		{"a refused stop writes what Done returns: nothing", trail{stopErr: refused}, nil, false, []string{
			"write [gauge ecs.task.uptime, gauge ecs.task.uptime]",
			"write [event stopping a]", "stop a too old", "done a AccessDeniedException",
			"write [event stopping b]", "stop b too old", "done b AccessDeniedException",
		}, ""},
		{"an output that fails holds no stop, and its error is returned", trail{writeErr: away}, nil, false, []string{
			"write [gauge ecs.task.uptime, gauge ecs.task.uptime]",
			"write [event stopping a]", "stop a too old", "done a <nil>", "write [event stopped a]",
			"write [event stopping b]", "stop b too old", "done b <nil>", "write [event stopped b]",
		}, away.Error()},
		{"shutting down: the signals go, no stop starts or is announced", trail{}, nil, true, []string{
			"write [gauge ecs.task.uptime, gauge ecs.task.uptime]",
		}, ""},
		{"an exit request is returned after the stops, with the output's error", trail{writeErr: away}, exit, false, []string{
			"write [gauge ecs.task.uptime, gauge ecs.task.uptime]",
			"write [event stopping a]", "stop a too old", "done a <nil>", "write [event stopped a]",
			"write [event stopping b]", "stop b too old", "done b <nil>", "write [event stopped b]",
		}, "max lifetime: stop requested (and send to dogstatsd: connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.trail
			p := &uptime.Pipeline{Stages: []uptime.Stage{uptime.Gauges{}, stopAll{tr: &tr, exit: tc.exit}}, Output: &tr, Stopper: &tr}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			err := p.Send(ctx, cycle)
			if !slices.Equal(tr.calls, tc.wantCalls) {
				t.Errorf("calls\n got %q\nwant %q", tr.calls, tc.wantCalls)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Send = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Send = %v, want %q", err, tc.wantErr)
			}
			if tc.exit != nil && !errors.Is(err, uptime.ErrStop) {
				t.Errorf("Send = %v, want it to wrap ErrStop", err)
			}
		})
	}
}

// A stop that shutdown interrupts ends the stops: the next is not asked.
func TestPipelineShutdownDuringAStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := &trail{onStop: cancel, stopErr: context.Canceled}
	p := &uptime.Pipeline{Stages: []uptime.Stage{stopAll{tr: tr}}, Output: tr, Stopper: tr}
	p.Send(ctx, uptime.Cycle{Tasks: []uptime.TaskUptime{{Task: &uptime.Task{ARN: "a"}}, {Task: &uptime.Task{ARN: "b"}}}})
	want := []string{"write []", "write [event stopping a]", "stop a too old", "done a context canceled"}
	if !slices.Equal(tr.calls, want) {
		t.Errorf("calls\n got %q\nwant %q", tr.calls, want)
	}
}

func TestPipelinePanicsOnAStopWithoutStopper(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "no Stopper") {
			t.Errorf("panic %v, want one saying there is no Stopper", r)
		}
	}()
	tr := &trail{}
	p := &uptime.Pipeline{Stages: []uptime.Stage{stopAll{tr: tr}}, Output: tr}
	p.Send(context.Background(), uptime.Cycle{Tasks: []uptime.TaskUptime{{Task: &uptime.Task{ARN: "a"}}}})
}

// Gauges reports every task, and each running container only when asked.
func TestGauges(t *testing.T) {
	c := uptime.Cycle{Tasks: []uptime.TaskUptime{{Task: &uptime.Task{ARN: "a"}, Uptime: 90 * time.Second,
		Containers: []uptime.ContainerUptime{{Container: uptime.Container{Name: "app"}, Uptime: time.Minute}}}}}
	for _, containers := range []bool{false, true} {
		var s uptime.Signals
		uptime.Gauges{Containers: containers}.Judge(&c, &s)
		want := []uptime.Gauge{{Name: uptime.MetricTaskUptime, Value: 90, About: uptime.Subject{Task: c.Tasks[0].Task}}}
		if containers {
			want = append(want, uptime.Gauge{Name: uptime.MetricContainerUptime, Value: 60,
				About: uptime.Subject{Task: c.Tasks[0].Task, Container: &c.Tasks[0].Containers[0].Container}})
		}
		if !slices.Equal(s.Gauges, want) {
			t.Errorf("containers %v: gauges %+v, want %+v", containers, s.Gauges, want)
		}
	}
}
