package uptime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Pipeline is the Sink the Runner sends each cycle to: it runs the cycle
// through its Stages, which judge it into signals, has the Output write
// them, then asks the Stopper for each stop request and has the Output
// write what came of it. Data flows one way: no stage knows the Output, and
// the Output judges nothing.
type Pipeline struct {
	Stages []Stage
	Output Output
	// Stopper carries out stop requests; nil when no stage makes any (a
	// request then is a wiring mistake and panics).
	Stopper Stopper
}

// StopTimeout bounds one stop request: a call that hangs must not hold the
// cycle, nor the ones after it, for good. A request it cuts short reaches
// its Done with the timeout's error.
const StopTimeout = 30 * time.Second

// Send judges c and writes the signals (see Pipeline). The cycle's gauges,
// checks and events are written before any stop is asked, whatever happens
// to the stops after; each stop request is announced just before it is
// asked, and what came of it written just after. Once ctx is done no stop
// request starts. It returns
// the Output's first error or, when a stage asked the process to stop
// (Signals.Exit), that request, with the Output's error in its text.
func (p *Pipeline) Send(ctx context.Context, c Cycle) error {
	s := Signals{At: c.At}
	for _, st := range p.Stages {
		st.Judge(&c, &s)
	}
	err := p.Output.Write(ctx, &s)
	for _, r := range s.Stops {
		if ctx.Err() != nil {
			break // shutting down: start no stop and announce none
		}
		if p.Stopper == nil {
			panic("uptime.Pipeline: a stage requested a stop and there is no Stopper")
		}
		err = errors.Join(err, p.write(ctx, c.At, r.Announce))
		sctx, cancel := context.WithTimeout(ctx, StopTimeout)
		serr := p.Stopper.StopTask(sctx, r.Task, r.Reason)
		cancel()
		err = errors.Join(err, p.write(ctx, c.At, r.Done(ctx, serr)))
	}
	if s.Exit != nil {
		if err != nil {
			return fmt.Errorf("%w (and %v)", s.Exit, err)
		}
		return s.Exit
	}
	return err
}

// write writes events of the cycle at, if any.
func (p *Pipeline) write(ctx context.Context, at time.Time, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	return p.Output.Write(ctx, &Signals{At: at, Events: events})
}

// Gauges is the stage that reports: ecs.task.uptime for every task of the
// cycle and, with Containers, ecs.container.uptime for each of its running
// containers.
type Gauges struct{ Containers bool }

// Judge adds the cycle's gauges to s.
func (g Gauges) Judge(c *Cycle, s *Signals) {
	n := len(c.Tasks)
	if g.Containers {
		for i := range c.Tasks {
			n += len(c.Tasks[i].Containers)
		}
	}
	s.Gauges = slices.Grow(s.Gauges, n)
	for i := range c.Tasks {
		t := &c.Tasks[i]
		s.Gauges = append(s.Gauges, Gauge{Name: MetricTaskUptime, Value: t.Uptime.Seconds(), About: Subject{Task: t.Task}})
		if !g.Containers {
			continue
		}
		for j := range t.Containers {
			ctr := &t.Containers[j]
			s.Gauges = append(s.Gauges, Gauge{Name: MetricContainerUptime, Value: ctr.Uptime.Seconds(),
				About: Subject{Task: t.Task, Container: &ctr.Container}})
		}
	}
}
