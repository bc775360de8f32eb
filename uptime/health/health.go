// Package health is ecs-uptime's container health check: the running
// sidecar serves a loopback-only HTTP endpoint that says whether its last
// successful cycle is recent, and `ecs-uptime healthcheck` asks it. Both
// work in an image with no shell and on a read-only root filesystem (no
// file is written).
//
// It knows nothing about where uptimes come from or go; it only compares
// a time with a clock.
package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Path is the endpoint's path.
const Path = "/healthz"

// Handler answers 200 when last() is within window of now, else 503. Before
// the first success, the process start counts as one, so a sidecar is not
// unhealthy during its first window.
type Handler struct {
	Last    func() time.Time // the last successful cycle (uptime.Runner.LastSuccess)
	Started time.Time        // process start
	Window  time.Duration    // three intervals
	Now     func() time.Time // nil: time.Now
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	last := h.Last()
	ref := last
	if ref.IsZero() {
		ref = h.Started
	}
	age := now().Sub(ref)
	if age > h.Window {
		w.WriteHeader(http.StatusServiceUnavailable)
		if last.IsZero() {
			fmt.Fprintf(w, "unhealthy: no successful cycle in %s since start\n", age.Round(time.Millisecond))
			return
		}
		fmt.Fprintf(w, "unhealthy: last successful cycle %s ago, more than %s\n", age.Round(time.Millisecond), h.Window)
		return
	}
	fmt.Fprintf(w, "ok: last successful cycle %s ago\n", age.Round(time.Millisecond))
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

// Check asks the endpoint on 127.0.0.1:port and returns nil when it says
// healthy, else an error with its answer.
func Check(ctx context.Context, port int) error {
	url := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ask %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, body)
	}
	return nil
}
