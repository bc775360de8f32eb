package dogstatsd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/DataDog/datadog-go/v5/statsd"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/lifetime"
)

// Client is the part of the datadog-go client the Sink uses.
type Client interface {
	Gauge(name string, value float64, tags []string, rate float64) error
	ServiceCheck(sc *statsd.ServiceCheck) error
	Event(e *statsd.Event) error
	Flush() error
	Close() error
}

// Sink sends each cycle's gauges and flushes them before Send returns, so
// that the Agent has them within the interval. It implements uptime.Sink.
type Sink struct {
	client           Client
	containerMetrics bool
	judge            *lifetime.Judge
	errs             *errorLog
}

// Options says where and how the Sink sends.
type Options struct {
	// Addr is the Agent's address: "host:port" (UDP), "unix:///path" or
	// "unixgram:///path" (Unix datagram socket).
	Addr string
	// Tags are global "key:value" tags added to every series; values are
	// sanitized here.
	Tags []string
	// ContainerMetrics also sends ecs.container.uptime.
	ContainerMetrics bool
	// Lifetime holds the ecs.task.lifetime thresholds; its zero value sends
	// no service check, no event and never stops.
	Lifetime lifetime.Policy
}

// ddEnvTags are the variables datadog-go turns into global tags on its own,
// unsanitized and with no option to stop it.
var ddEnvTags = []string{"DD_ENV", "DD_SERVICE", "DD_VERSION", "DD_ENTITY_ID"}

// New connects a Sink to the Agent. Client telemetry and origin detection
// are off: telemetry is volume in every task, and origin detection would tag
// the uptime of other containers and tasks with the sidecar's own container
// tags. A Unix socket that does not exist yet is not an error: sends fail
// (and are reported by Send) until the Agent creates it.
//
// datadog-go reads DD_ENV, DD_SERVICE, DD_VERSION and DD_ENTITY_ID from the
// process environment itself and sends them unsanitized, so New removes them
// from the environment: pass them, sanitized, in opts.Tags (the config
// package does).
func New(opts Options) (*Sink, error) {
	for _, v := range ddEnvTags {
		os.Unsetenv(v)
	}
	tags := make([]string, len(opts.Tags))
	for i, t := range opts.Tags {
		k, v, ok := strings.Cut(t, ":")
		if ok {
			tags[i] = Sanitize(k) + ":" + Sanitize(v)
		} else {
			tags[i] = Sanitize(t)
		}
	}
	errs := &errorLog{}
	c, err := statsd.New(opts.Addr,
		statsd.WithoutTelemetry(),
		statsd.WithoutOriginDetection(),
		statsd.WithoutClientSideAggregation(),
		statsd.WithWorkersCount(1),
		// The default pool preallocates 2048 buffers (2.9 MB over UDP,
		// 4 MB over a Unix socket) that stay live for good and double
		// the heap the GC lets grow; a cycle fills a few. Past the pool,
		// the client allocates a buffer and drops nothing.
		statsd.WithBufferPoolSize(16),
		statsd.WithTags(tags),
		statsd.WithErrorHandler(errs.record),
	)
	if err != nil {
		return nil, fmt.Errorf("dogstatsd client for %q: %w", opts.Addr, err)
	}
	return &Sink{client: c, containerMetrics: opts.ContainerMetrics, judge: lifetime.NewJudge(opts.Lifetime), errs: errs}, nil
}

// NewWithClient returns a Sink that sends through c (a test double or a
// wrapper) with the thresholds of p; global tags are c's business.
func NewWithClient(c Client, containerMetrics bool, p lifetime.Policy) *Sink {
	return &Sink{client: c, containerMetrics: containerMetrics, judge: lifetime.NewJudge(p), errs: &errorLog{}}
}

// Send sends ecs.task.uptime for every task of the cycle (and
// ecs.container.uptime when enabled), the ecs.task.lifetime service check
// when a threshold is set, one event per threshold crossing, and flushes.
// It returns the first error datadog-go met while sending, so that an Agent
// that is away shows.
//
// When a task has reached the maximum lifetime, Send also sends the stop
// event, flushes, and returns an error wrapping uptime.ErrStop, whatever
// else failed: the process must exit.
func (s *Sink) Send(_ context.Context, c uptime.Cycle) error {
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	var stop *lifetime.Verdict
	verdicts := s.judge.Judge(c)
	for i, t := range c.Tasks {
		tags := TaskTags(t.Task)
		keep(s.client.Gauge(MetricTaskUptime, t.Uptime.Seconds(), tags, 1))
		v := verdicts[i]
		if v.Check {
			keep(s.client.ServiceCheck(&statsd.ServiceCheck{
				Name: CheckTaskLifetime, Status: statsd.ServiceCheckStatus(v.State),
				Timestamp: c.At, Message: oneField(v.Message), Tags: tags,
			}))
		}
		switch {
		case v.Stop:
			// One event, the stop, rather than a crossing event followed
			// by it: the stop says the state and pages once.
			stop = &verdicts[i]
			keep(s.client.Event(&statsd.Event{
				Title: oneField(v.EventTitle()), Text: v.StopText(s.judge.Policy.MaxLifetime),
				Timestamp: c.At, AggregationKey: Sanitize(t.Task.ARN), AlertType: statsd.Error,
				SourceTypeName: "ecs-uptime", Tags: tags,
			}))
		case v.Announce:
			alert := statsd.Warning
			if v.State == lifetime.Critical {
				alert = statsd.Error
			}
			keep(s.client.Event(&statsd.Event{
				Title: oneField(v.EventTitle()), Text: v.EventText(),
				Timestamp: c.At, AggregationKey: Sanitize(t.Task.ARN), AlertType: alert,
				SourceTypeName: "ecs-uptime", Tags: tags,
			}))
		}
		if !s.containerMetrics {
			continue
		}
		for _, ctr := range t.Containers {
			all := append(tags[:len(tags):len(tags)], ContainerTags(ctr.Container)...)
			keep(s.client.Gauge(MetricContainerUptime, ctr.Uptime.Seconds(), all, 1))
		}
	}
	keep(s.client.Flush())
	keep(s.errs.take())
	if stop != nil {
		err := fmt.Errorf("task %s reached the max lifetime %s after %s: %w",
			stop.Task.Task.ARN, lifetime.Age(s.judge.Policy.MaxLifetime), lifetime.Age(stop.Task.Uptime), uptime.ErrStop)
		if firstErr != nil {
			err = fmt.Errorf("%w (and send to dogstatsd: %v)", err, firstErr)
		}
		return err
	}
	if firstErr != nil {
		return fmt.Errorf("send to dogstatsd: %w", firstErr)
	}
	return nil
}

// oneField makes a text that datadog-go writes as is safe in its field:
// the task family and ARN in event titles and service-check messages come
// from outside, and a line break there would end the line (a forged metric
// can follow), while a '|' in a service-check message starts a field the
// Agent reads (a "|#…" there replaces the tags). Event texts need none of
// this: their length is sent and datadog-go escapes their line breaks.
func oneField(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '|' || r == '\n' || r == '\r' {
			return '_'
		}
		return r
	}, s)
}

// Close flushes what is buffered and closes the connection.
func (s *Sink) Close() error {
	return errors.Join(s.client.Flush(), s.client.Close())
}

// errorLog keeps the first write error datadog-go reports from its sender
// goroutine until Send collects it.
type errorLog struct {
	mu  sync.Mutex
	err error
}

func (e *errorLog) record(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = err
	}
}

func (e *errorLog) take() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.err
	e.err = nil
	return err
}
