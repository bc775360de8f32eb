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
)

// Client is the part of the datadog-go client the Sink uses.
type Client interface {
	Gauge(name string, value float64, tags []string, rate float64) error
	ServiceCheck(sc *statsd.ServiceCheck) error
	Event(e *statsd.Event) error
	Flush() error
	Close() error
}

// Sink writes each cycle's signals as DogStatsD lines and flushes them
// before Write returns, so that the Agent has them within the interval. It
// implements uptime.Output: it names, tags and sends what the stages
// decided, and decides nothing.
type Sink struct {
	client Client
	errs   *errorLog
	udp    *udpWriter // nil over a Unix socket or with NewWithClient

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
	s := &Sink{errs: errs}
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
// wrapper); global tags are c's business.
func NewWithClient(c Client) *Sink {
	return &Sink{client: c, errs: &errorLog{}}
}

// Write sends the signals of one cycle (uptime.Output): every gauge, every
// service check (at s.At) and every event, then flushes. It returns the
// first error met while sending, so that an Agent that is away shows: over
// UDP, that includes the Agent's refusal of the previous cycle's datagrams
// and a host name that does not resolve (looked up again each cycle until
// it does).
func (s *Sink) Write(ctx context.Context, sig *uptime.Signals) error {
	var first firstError
	keep := first.keep
	if s.udp != nil {
		keep(s.udp.prepare(ctx))
	}
	tags := tagCache{}
	for _, g := range sig.Gauges {
		keep(s.client.Gauge(g.Name, g.Value, tags.of(g.About), 1))
	}
	for _, c := range sig.Checks {
		keep(s.client.ServiceCheck(&statsd.ServiceCheck{
			Name: c.Name, Status: statsd.ServiceCheckStatus(c.Status),
			Timestamp: sig.At, Message: oneField(c.Message), Tags: tags.of(c.About),
		}))
	}
	for _, e := range sig.Events {
		keep(s.event(e, tags.of(e.About)))
	}
	keep(s.client.Flush())
	keep(s.errs.take())
	s.note(sig.At, first.err)
	if first.err != nil {
		return fmt.Errorf("send to dogstatsd: %w", first.err)
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
// task families, ARNs), ecs-uptime as the source type. An unknown alert
// type is sent as info.
func (s *Sink) event(e uptime.Event, tags []string) error {
	alert := statsd.EventAlertType(e.Alert)
	switch e.Alert {
	case uptime.AlertInfo, uptime.AlertWarning, uptime.AlertError, uptime.AlertSuccess:
	default:
		alert = statsd.Info
	}
	return s.client.Event(&statsd.Event{
		Title: oneField(e.Title), Text: e.Text, Timestamp: e.At,
		AggregationKey: Sanitize(e.Key), AlertType: alert,
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
