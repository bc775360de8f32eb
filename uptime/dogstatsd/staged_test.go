package dogstatsd

import (
	"context"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/lifetime"
	"ecs-uptime/uptime/singleton"
)

// testOptions are a Sink's Options and the stages that judge a cycle
// before the Sink writes it: these tests check the lines a cycle becomes.
type testOptions struct {
	Addr             string
	Tags             []string
	lookup           lookupFunc
	ContainerMetrics bool
	Lifetime         lifetime.Policy
	Singletons       []string
}

// stagedSink is a Sink behind the stages of its testOptions.
type stagedSink struct {
	*Sink
	pipe *uptime.Pipeline
}

func (s stagedSink) Send(ctx context.Context, c uptime.Cycle) error { return s.pipe.Send(ctx, c) }

func newStaged(o testOptions) (stagedSink, error) {
	sink, err := New(Options{Addr: o.Addr, Tags: o.Tags, lookup: o.lookup})
	if err != nil {
		return stagedSink{}, err
	}
	stages := []uptime.Stage{uptime.Gauges{Containers: o.ContainerMetrics}, lifetime.NewJudge(o.Lifetime)}
	if len(o.Singletons) > 0 {
		stages = append(stages, singleton.New(o.Singletons))
	}
	return stagedSink{Sink: sink, pipe: &uptime.Pipeline{Stages: stages, Output: sink}}, nil
}
