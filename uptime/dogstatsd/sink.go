package dogstatsd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/lifetime"
	"ecs-uptime/uptime/singleton"
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
	udp              *udpWriter       // nil over a Unix socket or with NewWithClient
	singletons       *singleton.Watch // nil without Options.Singletons

	mu         sync.Mutex
	downSince  time.Time // the first cycle of the current run of failed sends
	downReason error     // the last failed send's error
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
	// Singletons are the task families of which at most one task should
	// run at a time per cluster (ECS_UPTIME_SINGLETONS): Send adds the
	// ecs.family.singleton check of each and one event per onset.
	Singletons []string

	lookup lookupFunc // resolves the UDP host; nil: the system resolver
}

// OriginOptOutTag goes on every line: it asks an Agent that does origin
// detection (on its Unix socket, or from the client's container ID) to add
// none of the sender's own container tags. The series describe other
// containers, or a task as a whole; the sidecar's or the daemon's tags
// (a second task_family, ecs_container_name:ecs-uptime…) would be wrong on
// them. The Agent reads the tag whatever its settings and strips it before
// storing, as long as the line has no card: field (with one, the field wins
// and the tag is stored): so no field is sent.
const OriginOptOutTag = "dd.internal.card:none"

// ddEnvTags are the variables datadog-go turns into global tags on its own,
// unsanitized and with no option to stop it.
var ddEnvTags = []string{"DD_ENV", "DD_SERVICE", "DD_VERSION", "DD_ENTITY_ID"}

// New connects a Sink to the Agent. Client telemetry and origin detection
// are off: telemetry is volume in every task, and origin detection would tag
// the uptime of other containers and tasks with the sidecar's own container
// tags; every line carries OriginOptOutTag for the Agent's own detection.
// Only the syntax of the address is checked: a Unix socket that does not
// exist yet and a UDP host name that does not resolve yet are not errors;
// sends fail (and Send reports it) until the Agent is there.
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
	tags = append(tags, OriginOptOutTag)
	errs := &errorLog{}
	options := []statsd.Option{
		statsd.WithoutTelemetry(),
		statsd.WithoutOriginDetection(),
		// No card: field, whatever DD_CARDINALITY says: see OriginOptOutTag.
		statsd.WithCardinality(statsd.CardinalityNotSet),
		statsd.WithoutClientSideAggregation(),
		statsd.WithWorkersCount(1),
		// The default pool preallocates 2048 buffers (2.9 MB over UDP,
		// 4 MB over a Unix socket) that stay live for good and double
		// the heap the GC lets grow; a cycle fills a few. Past the pool,
		// the client allocates a buffer and drops nothing.
		statsd.WithBufferPoolSize(16),
		statsd.WithTags(tags),
		statsd.WithErrorHandler(errs.record),
	}
	s := &Sink{containerMetrics: opts.ContainerMetrics, judge: lifetime.NewJudge(opts.Lifetime), errs: errs, singletons: newSingletons(opts.Singletons)}
	var err error
	if isSocket(opts.Addr) {
		s.client, err = statsd.New(opts.Addr, options...)
	} else if s.udp, err = newUDPWriter(opts.Addr, opts.lookup); err == nil {
		s.client, err = statsd.NewWithWriter(s.udp, options...)
	}
	if err != nil {
		return nil, fmt.Errorf("dogstatsd client for %q: %w", opts.Addr, err)
	}
	return s, nil
}

// isSocket reports whether addr names a Unix socket in datadog-go's form.
func isSocket(addr string) bool {
	for _, p := range []string{statsd.UnixAddressPrefix, statsd.UnixAddressDatagramPrefix, statsd.UnixAddressStreamPrefix} {
		if strings.HasPrefix(addr, p) {
			return true
		}
	}
	return false
}

// NewWithClient returns a Sink that sends through c (a test double or a
// wrapper) with the thresholds of p; global tags are c's business.
func NewWithClient(c Client, containerMetrics bool, p lifetime.Policy) *Sink {
	return &Sink{client: c, containerMetrics: containerMetrics, judge: lifetime.NewJudge(p), errs: &errorLog{}}
}

// Send sends ecs.task.uptime for every task of the cycle (and
// ecs.container.uptime when enabled), the ecs.task.lifetime service check
// when a threshold is set, one event per threshold crossing, and flushes.
// It returns the first error met while sending, so that an Agent that is
// away shows: over UDP, that includes the Agent's refusal of the previous
// cycle's datagrams and a host name that does not resolve (looked up again
// each cycle until it does).
//
// When a task has reached the maximum lifetime, Send also sends the stop
// event, flushes, and returns an error wrapping uptime.ErrStop, whatever
// else failed: the process must exit.
func (s *Sink) Send(ctx context.Context, c uptime.Cycle) error {
	var first firstError
	keep := first.keep
	if s.udp != nil {
		keep(s.udp.prepare(ctx))
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
			keep(s.event(v.EventTitle(), v.StopText(s.judge.Policy.MaxLifetime), c.At, t.Task.ARN, statsd.Error, tags))
		case v.Announce:
			alert := statsd.Warning
			if v.State == lifetime.Critical {
				alert = statsd.Error
			}
			keep(s.event(v.EventTitle(), v.EventText(), c.At, t.Task.ARN, alert, tags))
		}
		if !s.containerMetrics {
			continue
		}
		for _, ctr := range t.Containers {
			all := append(tags[:len(tags):len(tags)], ContainerTags(ctr.Container)...)
			keep(s.client.Gauge(MetricContainerUptime, ctr.Uptime.Seconds(), all, 1))
		}
	}
	keep(s.sendSingletons(c))
	keep(s.client.Flush())
	keep(s.errs.take())
	firstErr := first.err
	s.note(c.At, firstErr)
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

// note keeps whether the Agent took this cycle, for Unreachable.
func (s *Sink) note(at time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == nil:
		s.downSince, s.downReason = time.Time{}, nil
	case s.downSince.IsZero():
		s.downSince, s.downReason = at, err
	default:
		s.downReason = err
	}
}

// Unreachable returns since when sends have been failing (the time of the
// first failed cycle of the current run) and the last failure, or the zero
// time and nil while the last cycle reached the Agent. It is safe to call
// from any goroutine (the health check does).
func (s *Sink) Unreachable() (since time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downSince, s.downReason
}

// event sends one event as every event of ecs-uptime goes out: the title
// made one field, the aggregation key sanitized (both come from outside:
// task families, ARNs), ecs-uptime as the source type.
func (s *Sink) event(title, text string, at time.Time, key string, alert statsd.EventAlertType, tags []string) error {
	return s.client.Event(&statsd.Event{
		Title: oneField(title), Text: text, Timestamp: at,
		AggregationKey: Sanitize(key), AlertType: alert,
		SourceTypeName: "ecs-uptime", Tags: tags,
	})
}

// firstError keeps the first non-nil error it is given: a cycle sends
// everything it can and reports what went wrong first.
type firstError struct{ err error }

func (f *firstError) keep(err error) {
	if f.err == nil {
		f.err = err
	}
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
