package dogstatsd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
)

// transport is the writer under the datadog-go client: datadog-go's sender
// goroutine writes each payload (whole lines) to it. Unlike datadog-go's
// own writers, it waits for an Agent that is slow to take the datagrams
// rather than dropping them after a fixed time, for as long as the cycle's
// bound lets it.
type transport interface {
	// Write sends one payload.
	Write(p []byte) (int, error)
	Close() error
	// open readies the transport for a Write of the Sink (connecting when
	// it must) and returns why the previous one's datagrams did not reach
	// the Agent, when the transport can tell.
	open(ctx context.Context) error
	// halt makes writes fail at once, and one that waits return, until
	// the next open: the Write's bound has passed.
	halt()
	// lost returns how many lines the writes that failed since the last
	// call held, and forgets them.
	lost() int
}

// errHalted is why a write fails once the Write's bound has passed.
var errHalted = errors.New("the Agent did not take the datagrams in time")

// past is a deadline in the past: a write blocked on a socket given it
// returns at once.
var past = time.Unix(1, 0)

// lines counts the DogStatsD lines in a payload.
func lines(p []byte) int { return bytes.Count(p, []byte{'\n'}) }

// unixWriter is the transport when the Agent listens on a Unix socket
// (DD_DOGSTATSD_URL=unix:///… or unixgram:///…). It connects at the first
// write, and again after a write fails for another reason than the Write's
// bound (the Agent restarted and made its socket anew). On a datagram
// socket a write waits while the Agent's receive queue is full; datadog-go's
// own writer drops the datagram after 100 ms instead.
type unixWriter struct {
	addr    string // as configured, for messages
	path    string
	network string // "unixgram", "unix" (stream), or "" to try a datagram socket and then a stream one, as datadog-go does for unix://

	mu     sync.Mutex
	conn   net.Conn // nil until connected, and after a failed write
	stream bool     // conn is a stream socket: each payload goes with its length
	halted bool
	nlost  int
}

func newUnixWriter(addr string) *unixWriter {
	w := &unixWriter{addr: addr}
	switch {
	case strings.HasPrefix(addr, statsd.UnixAddressDatagramPrefix):
		w.path, w.network = addr[len(statsd.UnixAddressDatagramPrefix):], "unixgram"
	case strings.HasPrefix(addr, statsd.UnixAddressStreamPrefix):
		w.path, w.network = addr[len(statsd.UnixAddressStreamPrefix):], "unix"
	default:
		w.path = strings.TrimPrefix(addr, statsd.UnixAddressPrefix)
	}
	return w
}

func (w *unixWriter) open(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.halted = false
	if w.conn != nil {
		return w.conn.SetWriteDeadline(time.Time{})
	}
	return nil
}

func (w *unixWriter) halt() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.halted = true
	if w.conn != nil {
		w.conn.SetWriteDeadline(past)
	}
}

func (w *unixWriter) lost() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.nlost
	w.nlost = 0
	return n
}

// connect returns the connection, dialing when there is none; w.mu is held.
func (w *unixWriter) connect() (net.Conn, error) {
	if w.conn != nil {
		return w.conn, nil
	}
	network := w.network
	if network == "" {
		network = "unixgram"
	}
	conn, err := net.DialTimeout(network, w.path, time.Second)
	if err != nil && w.network == "" && errors.Is(err, syscall.EPROTOTYPE) {
		network = "unix"
		conn, err = net.DialTimeout(network, w.path, time.Second)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to the Agent at %s: %w", w.addr, err)
	}
	w.conn, w.stream = conn, network == "unix"
	return conn, nil
}

// Write sends one payload as one datagram (on a stream socket, after its
// length, as the Agent reads it there).
func (w *unixWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.halted {
		w.nlost += lines(p)
		w.mu.Unlock()
		return 0, errHalted
	}
	conn, err := w.connect()
	stream := w.stream
	w.mu.Unlock()
	if err != nil {
		w.fail(nil, p)
		return 0, err
	}
	var n int
	if stream {
		var size [4]byte
		binary.LittleEndian.PutUint32(size[:], uint32(len(p)))
		bufs := net.Buffers{size[:], p}
		var m int64
		m, err = bufs.WriteTo(conn)
		n = max(int(m)-len(size), 0)
	} else {
		n, err = conn.Write(p)
	}
	if err != nil {
		w.fail(conn, p)
		return n, fmt.Errorf("write to the Agent at %s: %w", w.addr, err)
	}
	return n, nil
}

// fail counts the payload's lines as lost and, unless the Write's bound
// cut the write short of a datagram socket, drops the connection so that
// the next write connects anew: the Agent may have made its socket again,
// and a stream cut mid-payload cannot go on.
func (w *unixWriter) fail(conn net.Conn, p []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.nlost += lines(p)
	if conn == nil || conn != w.conn || (w.halted && !w.stream) {
		return
	}
	w.conn.Close()
	w.conn = nil
}

// Close closes the connection.
func (w *unixWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		return nil
	}
	err := w.conn.Close()
	w.conn = nil
	return err
}
