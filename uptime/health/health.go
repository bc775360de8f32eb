// Package health is ecs-uptime's container health check: the running
// sidecar serves a loopback-only HTTP endpoint that says whether its loop
// reads the source and whether the Agent takes what it sends, and
// `ecs-uptime healthcheck` asks it. Both work in an image with no shell and
// on a read-only root filesystem (no file is written).
//
// It knows nothing about where uptimes come from or go; it only compares
// times with a clock.
package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Path is the endpoint's path.
const Path = "/healthz"

// Handler answers 200 while the loop reads the source (the last cycle that
// read it is within Window of now; before the first, the process start
// counts as one), else 503. The body says which, and names an Agent that
// does not take what is sent, since when and why; that alone never turns
// the answer to 503. ECS acts on an unhealthy container: a task whose
// essential containers are unhealthy, or whose only health check is the
// sidecar's, is UNHEALTHY, and a service stops and replaces it. Replacing
// an application's task brings no Agent, and an Agent that starts after
// the sidecar or restarts must not make tasks flap; a missing Agent shows
// in the log and as missing data in Datadog.
type Handler struct {
	LastRead func() time.Time                    // the last cycle that read the source (uptime.Runner.LastRead)
	Agent    func() (since time.Time, err error) // since when sends fail, zero if they do not (dogstatsd.Sink.Unreachable); nil: not asked
	Started  time.Time                           // process start
	Window   time.Duration                       // three intervals
	Now      func() time.Time                    // nil: time.Now
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	t := now()
	var agent string // what is wrong with the Agent, if anything
	if h.Agent != nil {
		if since, err := h.Agent(); !since.IsZero() {
			agent = fmt.Sprintf("the Agent is unreachable since %s (%s ago): %v",
				since.UTC().Format(time.RFC3339), t.Sub(since).Round(time.Second), err)
		}
	}
	last := h.LastRead()
	ref := last
	if ref.IsZero() {
		ref = h.Started
	}
	age := t.Sub(ref).Round(time.Millisecond)
	var loop string
	switch {
	case age > h.Window && last.IsZero():
		loop = fmt.Sprintf("no cycle read the source in %s since start", age)
	case age > h.Window:
		loop = fmt.Sprintf("the last cycle that read the source was %s ago, more than %s", age, h.Window)
	case last.IsZero():
		loop = fmt.Sprintf("started %s ago", age)
	default:
		loop = fmt.Sprintf("last cycle read the source %s ago", age)
	}
	status := "ok"
	if age > h.Window {
		status = "unhealthy"
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	if agent == "" && !last.IsZero() && h.Agent != nil {
		loop += " and the Agent took it"
	}
	if agent != "" {
		loop += "; " + agent
	}
	fmt.Fprintf(w, "%s: %s\n", status, loop)
}

// Serve serves h on 127.0.0.1:port until ctx ends. The listener is opened
// before Serve returns its first error, so a port in use shows at start.
func Serve(ctx context.Context, port int, h http.Handler) (addr string, done <-chan error, err error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return "", nil, fmt.Errorf("health endpoint on 127.0.0.1:%d: %w", port, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 2 * time.Second}
	ch := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		ch <- err
	}()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return ln.Addr().String(), ch, nil
}

// Check asks the endpoint on 127.0.0.1:port and returns its answer, with
// a nil error when it says healthy, else an error holding the answer.
func Check(ctx context.Context, port int) (string, error) {
	url := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("ask %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	answer := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return answer, fmt.Errorf("%s: %s", url, answer)
	}
	return answer, nil
}
