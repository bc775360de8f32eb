package dogstatsd

import (
	"context"
	"fmt"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"

	"ecs-uptime/uptime"
)

// Alert is the alert type of an event, as Datadog's event monitors and
// the event stream filter on it.
type Alert string

// Alert types.
const (
	AlertInfo    Alert = "info"
	AlertWarning Alert = "warning"
	AlertError   Alert = "error"
	AlertSuccess Alert = "success"
)

// TaskEvent is an event about one task that something other than Send
// decides to send (the reaper's "would stop", "stopping", "stopped").
type TaskEvent struct {
	Title string    // one line; '|' and line breaks are replaced
	Text  string    // may span lines
	Alert Alert     // AlertInfo when empty
	At    time.Time // zero: when the Agent receives it
}

// TaskEvent sends e about task t with the task's tags and its ARN as the
// aggregation key, as Send does for the threshold events, so that every
// event about one task groups in Datadog, and flushes it before returning.
// It returns an error, and sends nothing, for an alert type it does not
// know, and the error met while sending, if any: over UDP, as Send does, it
// first checks whether the Agent refused what was sent last (and connects
// again, looking the host up within ctx, when it did or when no Send has
// connected yet), so that an Agent that is away shows here too.
func (s *Sink) TaskEvent(ctx context.Context, t uptime.Task, e TaskEvent) error {
	switch e.Alert {
	case "":
		e.Alert = AlertInfo
	case AlertInfo, AlertWarning, AlertError, AlertSuccess:
	default:
		return fmt.Errorf("event %q about task %s: alert type %q: want info, warning, error or success", e.Title, t.ARN, e.Alert)
	}
	var first firstError
	if s.udp != nil {
		first.keep(s.udp.prepare(ctx))
	}
	first.keep(s.event(e.Title, e.Text, e.At, t.ARN, statsd.EventAlertType(e.Alert), TaskTags(t)))
	first.keep(s.client.Flush())
	first.keep(s.errs.take())
	if first.err != nil {
		return fmt.Errorf("send event %q to dogstatsd: %w", e.Title, first.err)
	}
	return nil
}
