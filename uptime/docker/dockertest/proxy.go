package dockertest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// Request is one request a client sent to the engine through a Proxy.
type Request struct {
	Method string
	Path   string // without the /vX.Y API version prefix
	Query  string
}

func (r Request) String() string {
	if r.Query == "" {
		return r.Method + " " + r.Path
	}
	return r.Method + " " + r.Path + "?" + r.Query
}

// Proxy is an HTTP proxy on a Unix socket in front of an engine's socket
// that records every request a client sends, as a socket proxy in
// production would see them. Long responses (the event stream) are passed
// on as they come.
type Proxy struct {
	// Host is the proxy's address, for DOCKER_HOST: unix:///…/docker.sock.
	Host string

	mu   sync.Mutex
	reqs []Request
}

// apiVersion is the /vX.Y prefix clients put before an API path.
var apiVersion = regexp.MustCompile(`^/v[0-9]+(\.[0-9]+)*/`)

// StartProxy starts a recording proxy in front of the engine at host (a
// unix:// DOCKER_HOST) and stops it when the test ends.
func StartProxy(t testing.TB, host string) *Proxy {
	t.Helper()
	engine, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		t.Fatalf("StartProxy: DOCKER_HOST=%q: want a unix:// socket", host)
	}
	// The socket path must stay short (108 bytes), so no t.TempDir here.
	dir, err := os.MkdirTemp("", "eu-proxy-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("StartProxy: %v", err)
	}
	p := &Proxy{Host: "unix://" + sock}
	var dialer net.Dialer
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", "docker"
		},
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", engine)
		}},
		FlushInterval: -1, // the event stream: every event as it comes
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		if loc := apiVersion.FindStringIndex(path); loc != nil {
			path = path[loc[1]-1:]
		}
		p.mu.Lock()
		p.reqs = append(p.reqs, Request{Method: r.Method, Path: path, Query: r.URL.RawQuery})
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("proxy: %v", err)
		}
		os.RemoveAll(dir)
	})
	return p
}

// Requests returns the requests made so far, in order.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.reqs...)
}
