package dogstatsd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
// decided, and decides nothing; it only makes each message fit the wire.
type Sink struct {
	client  Client
	errs    *errorLog
	link    transport // under the client; nil with NewWithClient
	size    sizer     // the client's global tags, for the length of each line
	timeout time.Duration
	log     *slog.Logger
	tooLong map[string]bool // kinds of message already logged as too long to send

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
	// Timeout bounds one Write: what the Agent has not taken by then is
	// not sent, and counted in Write's error. The process gives it the
	// Runner's timeout. Zero: no bound but ctx's (see Write).
	Timeout time.Duration
	// Log is where a message too long to send is reported; nil: the
	// default logger.
	Log *slog.Logger

	lookup lookupFunc // resolves the UDP host; nil: the system resolver
}

// How the Sink feeds datadog-go's sender: it flushes every flushLines
// lines or flushBytes bytes and so waits for the sender to have written
// them, so that the sender's queue (senderQueue payloads, each holding a
// line at least) never fills and drops a payload, however far behind the
// sender is (a process short of CPU, an Agent slow to read).
const (
	flushLines  = 64
	flushBytes  = 4 * MaxDatagram
	senderQueue = flushLines
	// bufferPool payload buffers (MaxDatagram bytes each) stay allocated
	// for good: a chunk fills five at most. Past the pool, the client
	// allocates a buffer rather than wait or drop.
	bufferPool = 8
)

// shutdownGrace is how long a Write goes on once ctx is done (the process
// is shutting down): an event decided just before (ECS accepted a stop)
// still reaches an Agent that takes it, and one that does not cannot hold
// up the exit.
const shutdownGrace = 2 * time.Second

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
	var link transport
	if isSocket(opts.Addr) {
		link = newUnixWriter(opts.Addr)
	} else {
		udp, err := newUDPWriter(opts.Addr, opts.lookup)
		if err != nil {
			return nil, fmt.Errorf("dogstatsd client for %q: %w", opts.Addr, err)
		}
		link = udp
	}
	return newSink(opts, link)
}

// newSink makes the Sink and its datadog-go client, which writes to link.
func newSink(opts Options, link transport) (*Sink, error) {
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
		// Payloads of up to MaxDatagram bytes, over UDP too: datadog-go
		// gives any writer but its own Unix one its UDP default, 1,432
		// bytes, and drops a longer message. The UDP writer still packs
		// short lines in datagrams of 1,432 bytes.
		statsd.WithMaxBytesPerPayload(MaxDatagram),
		// The default pool preallocates 2048 buffers (2.9 MB over UDP,
		// 4 MB over a Unix socket) that stay live for good and double
		// the heap the GC lets grow.
		statsd.WithBufferPoolSize(bufferPool),
		statsd.WithSenderQueueSize(senderQueue),
		statsd.WithTags(tags),
		statsd.WithErrorHandler(errs.record),
	}
	client, err := statsd.NewWithWriter(link, options...)
	if err != nil {
		return nil, fmt.Errorf("dogstatsd client for %q: %w", opts.Addr, err)
	}
	return &Sink{client: client, errs: errs, link: link, size: newSizer(tags), timeout: opts.Timeout,
		log: opts.Log, tooLong: map[string]bool{}}, nil
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
// wrapper); global tags are c's business, and the size of each message is
// reckoned without them.
func NewWithClient(c Client) *Sink {
	return &Sink{client: c, errs: &errorLog{}, tooLong: map[string]bool{}}
}

// Write sends the signals of one cycle (uptime.Output): every gauge, every
// service check (at s.At) and every event, each made to fit one datagram
// (an event's text or a check's message cut if it must), then flushes. It
// returns the first error met while sending, so that an Agent that is away
// shows: over UDP, that includes the Agent's refusal of the previous
// cycle's datagrams and a host name that does not resolve (looked up again
// each cycle until it does).
//
// No line is dropped because the sender is behind: Write hands the lines
// to datadog-go in chunks and waits for each chunk to be written, so a
// slow Agent delays the cycle instead. The wait is bounded by
// Options.Timeout and, once ctx is done, by shutdownGrace; the lines that
// did not go by then are counted in the error.
func (s *Sink) Write(ctx context.Context, sig *uptime.Signals) error {
	ctx, done := s.bound(ctx)
	defer done()
	var first firstError
	keep := first.keep
	if s.link != nil {
		keep(s.link.open(ctx))
		stop := context.AfterFunc(ctx, s.link.halt)
		defer stop()
	}
	w := writing{sink: s, ctx: ctx, keep: keep}
	var tags lastTags
	for _, g := range sig.Gauges {
		w.gauge(g, tags.of(g.About))
	}
	for _, c := range sig.Checks {
		w.check(c, sig.At, tags.of(c.About))
	}
	for _, e := range sig.Events {
		w.event(e, tags.of(e.About))
	}
	keep(s.client.Flush())
	keep(s.errs.take())
	lost := w.unsent + s.errs.dropped()
	if s.link != nil {
		lost += s.link.lost()
	}
	if lost > 0 && first.err == nil {
		first.err = ctx.Err()
	}
	s.note(sig.At, first.err)
	switch {
	case lost > 0:
		return fmt.Errorf("send to dogstatsd: %d of %d lines not sent: %w", lost, w.lines, first.err)
	case first.err != nil:
		return fmt.Errorf("send to dogstatsd: %w", first.err)
	}
	return nil
}

// bound returns the context that bounds one Write: Options.Timeout, and
// shutdownGrace once ctx is done.
func (s *Sink) bound(ctx context.Context) (context.Context, func()) {
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	tctx, cancelTimeout := bctx, context.CancelFunc(func() {})
	if s.timeout > 0 {
		tctx, cancelTimeout = context.WithTimeout(bctx, s.timeout)
	}
	stop := context.AfterFunc(ctx, func() {
		grace := time.NewTimer(shutdownGrace)
		defer grace.Stop()
		select {
		case <-grace.C:
			cancel()
		case <-tctx.Done():
		}
	})
	return tctx, func() { stop(); cancelTimeout(); cancel() }
}

// writing is one Write under way: it makes each message fit a datagram,
// hands it to the client and flushes in chunks.
type writing struct {
	sink *Sink
	ctx  context.Context
	keep func(error)

	lines  int // the lines the Write was to send
	unsent int // of them, those not handed to the client
	chunk  int // lines handed since the last flush
	bytes  int // and their bytes
}

// send hands one line of size bytes to the client (hand), unless the
// Write's bound has passed, and flushes when a chunk is full.
func (w *writing) send(size int, hand func() error) {
	w.lines++
	if w.ctx.Err() != nil {
		w.unsent++
		return
	}
	err := hand()
	var tooLong statsd.MessageTooLongError
	if errors.As(err, &tooLong) {
		w.unsent++ // a size reckoned wrong: counted, never silent
	}
	w.keep(err)
	w.chunk++
	w.bytes += size + 1
	if w.chunk >= flushLines || w.bytes >= flushBytes {
		w.keep(w.sink.client.Flush())
		w.chunk, w.bytes = 0, 0
	}
}

func (w *writing) gauge(g uptime.Gauge, tags []string) {
	size := w.sink.size.gauge(g.Name, g.Value, tags)
	if size > maxLine {
		w.sink.cannotFit("gauge "+g.Name, size, g.About)
		return
	}
	w.send(size, func() error { return w.sink.client.Gauge(g.Name, g.Value, tags, 1) })
}

// check sends one service-check result, its message made one field and
// cut if the check would not fit a datagram otherwise.
func (w *writing) check(c uptime.Check, at time.Time, tags []string) {
	sc := &statsd.ServiceCheck{Name: c.Name, Status: statsd.ServiceCheckStatus(c.Status),
		Timestamp: at, Message: oneField(c.Message), Tags: tags}
	size := w.sink.size.check(sc)
	if size > maxLine {
		msg := sc.Message
		sc.Message = ""
		var ok bool
		if sc.Message, ok = cutMessage(msg, maxLine-w.sink.size.check(sc)-len("|m:")); !ok {
			sc.Message = ellipsis
			w.sink.cannotFit("service check "+c.Name, w.sink.size.check(sc), c.About)
			return
		}
		size = w.sink.size.check(sc)
	}
	w.send(size, func() error { return w.sink.client.ServiceCheck(sc) })
}

// event sends one event as every event of ecs-uptime goes out: the title
// made one field, the aggregation key one that Datadog keeps
// (AggregationKey; both come from outside: task families, ARNs),
// ecs-uptime as the source type, the text cut if the event would not fit a
// datagram otherwise. An unknown alert type is sent as info.
func (w *writing) event(e uptime.Event, tags []string) {
	alert := statsd.EventAlertType(e.Alert)
	switch e.Alert {
	case uptime.AlertInfo, uptime.AlertWarning, uptime.AlertError, uptime.AlertSuccess:
	default:
		alert = statsd.Info
	}
	ev := &statsd.Event{Title: oneField(e.Title), Text: e.Text, Timestamp: e.At,
		AggregationKey: AggregationKey(e.Key), AlertType: alert,
		SourceTypeName: "ecs-uptime", Tags: tags}
	size := w.sink.size.event(ev)
	if size > maxLine {
		text := ev.Text
		ev.Text = ""
		// The line holds the text's length too: at most as many digits as
		// the whole text's (the empty text's "0" is reckoned already).
		room := maxLine - w.sink.size.event(ev) - (digits(int64(eventTextLen(text, len(text)))) - 1)
		var ok bool
		if ev.Text, ok = cutText(text, room); !ok {
			// room reserves the digits of the whole text's length; "…"
			// alone needs one, and may fit where room said not.
			ev.Text = ellipsis
			if size = w.sink.size.event(ev); size > maxLine {
				w.sink.cannotFit("event", size, e.About)
				return
			}
		}
		size = w.sink.size.event(ev)
	}
	w.send(size, func() error { return w.sink.client.Event(ev) })
}

// cannotFit logs, once per kind of message, one that does not fit a
// datagram even with its text cut to "…" (its tags alone are too long): it
// is not sent, but not in silence.
func (s *Sink) cannotFit(kind string, size int, about uptime.Subject) {
	if s.tooLong[kind] {
		return
	}
	s.tooLong[kind] = true
	log := s.log
	if log == nil {
		log = slog.Default()
	}
	var subject string
	switch {
	case about.Task != nil:
		subject = about.Task.ARN
	case about.Cluster != nil:
		subject = about.Cluster.Key() + "/" + about.Family
	default:
		subject = about.Family
	}
	log.Error("a DogStatsD message is too long for one datagram even with its text cut, and is not sent: its tags are too long; logged once for this kind of message",
		slog.String("kind", kind), slog.Int("bytes", size+1), slog.Int("max_bytes", MaxDatagram), slog.String("about", subject))
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
// goroutine until Write collects it, and counts the lines of the payloads
// datadog-go dropped because its sender's queue was full.
type errorLog struct {
	mu    sync.Mutex
	err   error
	nlost int
}

func (e *errorLog) record(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if full := (*statsd.ErrorSenderChannelFull)(nil); errors.As(err, &full) {
		e.nlost += full.LostElements
	}
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

// dropped returns and forgets how many lines datadog-go dropped.
func (e *errorLog) dropped() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := e.nlost
	e.nlost = 0
	return n
}
