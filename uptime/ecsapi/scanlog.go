package ecsapi

import (
	"context"
	"errors"
	"log/slog"
)

// scanState is what the scan log last said about the scans' timing.
type scanState int

const (
	scansFit  scanState = iota // the last scan that said anything read everything in time
	scansSlow                  // it took longer than the interval
	scansCut                   // its context's deadline cut it (the Runner's timeout)
)

// pacedShare is the share of the rate limit's pace above which a scan is
// held by ECS_UPTIME_API_RATE rather than by the ECS API: a scan of n
// calls at r calls per second takes at least n/r seconds.
const pacedShare = 0.8

// noteScan records a scan and logs, once per change, when scans start
// taking longer than the interval, when one is cut, and when one reads
// every part in time again. Each line says what held the scan: the rate
// limit (raise ECS_UPTIME_API_RATE), or the ECS API (slow answers, a hung
// connection, retries after throttling), for which a higher rate would
// only make things worse. A scan that failed fast (every call throttled or
// denied) says nothing here: it did not fit, it failed, and the Runner
// logs that.
func (s *Source) noteScan(ctx context.Context, sc Scan) {
	s.mu.Lock()
	s.last = sc
	s.mu.Unlock()
	if s.interval <= 0 {
		return
	}
	attrs := []any{slog.Duration("duration", sc.Duration), slog.Int("api_calls", sc.Calls),
		slog.Duration("interval", s.interval), slog.Int("tasks", sc.Tasks), slog.Int("clusters", sc.Clusters),
		slog.Int("unread", sc.Unread)}
	// Each account-region has its own limiter; at most s.parallel of them
	// were read at once.
	paced := float64(sc.Calls) >= pacedShare*s.rate*float64(max(s.parallel, 1))*sc.Duration.Seconds()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		if s.scan != scansCut {
			if paced {
				s.log.Warn("ECS API scan cut at its time limit while paced by ECS_UPTIME_API_RATE; the clusters not read are held until a scan reads them (raise ECS_UPTIME_API_RATE or ECS_UPTIME_INTERVAL, or split the clusters between scanners)", attrs...)
			} else {
				s.log.Warn("ECS API scan timed out: the ECS API did not answer in time (a hung connection, an unreachable endpoint, or retries after throttling); the clusters not read are held until a scan reads them", attrs...)
			}
		}
		s.scan = scansCut
	case ctx.Err() != nil:
		// Cancelled: the process is stopping.
	case sc.Duration > s.interval:
		if s.scan != scansSlow {
			if paced {
				s.log.Warn("ECS API scan took longer than the interval, paced by ECS_UPTIME_API_RATE; the next cycle starts when it ends (raise ECS_UPTIME_API_RATE or ECS_UPTIME_INTERVAL, or split the clusters between scanners)", attrs...)
			} else {
				s.log.Warn("ECS API scan took longer than the interval, waiting on the ECS API (slow answers, or retries after throttling or errors), not on ECS_UPTIME_API_RATE; the next cycle starts when it ends", attrs...)
			}
		}
		s.scan = scansSlow
	case sc.Unread == 0:
		if s.scan != scansFit {
			s.log.Info("ECS API scans fit in the interval again", attrs...)
		}
		s.scan = scansFit
	}
}
