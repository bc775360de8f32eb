package uptime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// ErrStop, wrapped in an error a Sink returns, ends Runner.Run with that
// error: it is how a sink says "the process must exit now" (for instance,
// a task that reached its maximum lifetime). Any other Sink error is logged
// and the loop goes on.
var ErrStop = errors.New("stop requested")

// Runner reads the Source every Interval, applies the Tracker's rules and
// hands the result to the Sink.
type Runner struct {
	Source   Source
	Sink     Sink
	Tracker  *Tracker
	Interval time.Duration
	// Timeout bounds one cycle; zero means Interval. A source whose read
	// may rightly take longer than the interval (the api source, paced by
	// its rate limit) gets a longer one: cycles still never overlap, the
	// next starts when the slow one ends.
	Timeout time.Duration
	Log     *slog.Logger

	lastOK    atomic.Pointer[time.Time] // the last cycle that was read and sent, with its monotonic clock reading
	lastRead  atomic.Pointer[time.Time] // the last cycle that was read, sent or not
	readFails int                       // consecutive failed reads, for logging state changes once
	sendFails int                       // consecutive failed sends
	unread    map[string]bool           // parts (Unread.Key) the last partial read could not see
}

// LastSuccess returns when the last cycle that was both read and sent
// completed, or the zero time if none has. It is safe to call from any
// goroutine (the health check does).
func (r *Runner) LastSuccess() time.Time {
	// The time itself is kept, not its Unix nanoseconds: its monotonic
	// reading makes the health check's age immune to the wall clock being
	// stepped (NTP, a VM resumed), which would otherwise call a healthy
	// sidecar stale and have ECS restart it.
	if t := r.lastOK.Load(); t != nil {
		return *t
	}
	return time.Time{}
}

// LastRead returns when the last cycle that read the source was observed,
// whether or not the Sink could send it, or the zero time if none has. It
// is safe to call from any goroutine: the health check tells a process
// that works, with an Agent that is away, from one whose loop is stuck.
func (r *Runner) LastRead() time.Time {
	if t := r.lastRead.Load(); t != nil {
		return *t
	}
	return time.Time{}
}

// Run runs a first cycle at once and then one every Interval until ctx is
// done (it returns nil) or the Sink asks to stop (it returns that error).
// Each cycle gets at most Timeout (one Interval unless set), and the next
// starts when it ends at the earliest, so cycles never overlap or pile up.
func (r *Runner) Run(ctx context.Context) error {
	if r.Interval <= 0 {
		return fmt.Errorf("runner: interval must be positive, got %s", r.Interval)
	}
	ticker := time.NewTicker(r.Interval)
	defer ticker.Stop()
	for {
		if err := r.Cycle(ctx); errors.Is(err, ErrStop) {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// Cycle runs one read-compute-send cycle. A failed read sends nothing and
// leaves the Tracker untouched, so that the next good read resumes the
// same series. It returns the read or send error, if any, after logging it
// when it is a change of state.
func (r *Runner) Cycle(ctx context.Context) error {
	log := r.logger()
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = r.Interval
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tasks, err := r.Source.Tasks(cctx)
	if err != nil && ctx.Err() != nil {
		return nil // shutting down: not a source failure
	}
	var partial *PartialError
	if errors.As(err, &partial) {
		err = nil // some parts were read: a cycle, with the rest held
	}
	if err != nil {
		if r.readFails == 0 {
			log.Error("cannot read tasks; sending nothing until the source answers", slog.Any("error", err))
		}
		r.readFails++
		return fmt.Errorf("read tasks: %w", err)
	}
	if r.readFails > 0 {
		log.Info("source answers again", slog.Int("failed_cycles", r.readFails))
		r.readFails = 0
	}
	r.logUnread(log, partial)
	cycle := r.Tracker.ObservePartial(tasks, partial)
	// A copy of the time: a pointer into cycle would keep the whole cycle,
	// its tasks included, until the next one.
	at := cycle.At
	r.lastRead.Store(&at)
	if err := r.Sink.Send(ctx, cycle); err != nil {
		if errors.Is(err, ErrStop) {
			return err
		}
		if r.sendFails == 0 {
			log.Error("cannot send uptimes", slog.Any("error", err))
		}
		r.sendFails++
		return fmt.Errorf("send uptimes: %w", err)
	}
	if r.sendFails > 0 {
		log.Info("sending works again", slog.Int("failed_cycles", r.sendFails))
		r.sendFails = 0
	}
	r.lastOK.Store(&at)
	return nil
}

// logUnread logs, once per change of state, each part of the source that a
// read could not see and each that it sees again.
func (r *Runner) logUnread(log *slog.Logger, p *PartialError) {
	if p == nil && len(r.unread) == 0 {
		return // the usual cycle: complete, after a complete one
	}
	now := map[string]bool{}
	if p != nil {
		for _, u := range p.Unread {
			now[u.Key()] = true
			if !r.unread[u.Key()] {
				attrs := make([]any, 0, 4)
				if u.Account != "" {
					attrs = append(attrs, slog.String("account", u.Account))
				}
				attrs = append(attrs, slog.String("region", u.Region), slog.String("cluster", u.Cluster), slog.Any("error", u.Err))
				log.Error("cannot read part of the source; sending nothing for its tasks until it answers", attrs...)
			}
		}
	}
	for key := range r.unread {
		if !now[key] {
			log.Info("part of the source answers again", slog.String("part", key))
		}
	}
	r.unread = now
}

func (r *Runner) logger() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}
