package dogstatsd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
)

// resolveTimeout bounds the lookup of the Agent's host name in a cycle: a
// resolver that does not answer must not hold the cycle for the resolver's
// own timeouts (5 s per try).
const resolveTimeout = 2 * time.Second

// lookupFunc returns the addresses of a host name (or the address an IP
// literal spells).
type lookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

func lookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// udpWriter is the datagram writer behind the datadog-go client when the
// Agent listens on UDP. It does three things datadog-go's own does not:
//
//   - It resolves the Agent's host name when a cycle starts rather than when
//     the process starts, and again after the Agent refused datagrams: a name
//     that does not resolve yet (a resolver hiccup, a service-discovery name
//     registered after the sidecar) fails that cycle, not the process.
//   - It tells whether the Agent took the previous cycle's datagrams. A UDP
//     write succeeds whether or not anything listens; when nothing does, the
//     host answers with an ICMP port unreachable, which the kernel keeps as
//     a pending ECONNREFUSED on the connected socket and hands to the next
//     read or write. Left to writes, it fails every other cycle (the refused
//     write is not sent, so the one after it succeeds and is refused in
//     turn). prepare reads it instead, before the cycle writes, so that every
//     cycle after a refused one fails until the Agent takes a cycle's
//     datagrams. A host that drops datagrams without answering (a firewall)
//     cannot be told from an Agent that takes them.
//   - It sends the short lines of a payload packed in datagrams of at most
//     udpPayload bytes, as datadog-go does, but a longer line (an event
//     naming ten tasks, a task with many long tags) in a datagram of its
//     own, up to MaxDatagram bytes, where datadog-go would drop it.
type udpWriter struct {
	addr   string // host:port as configured, for messages
	host   string
	port   uint16
	lookup lookupFunc

	mu     sync.Mutex
	conn   *net.UDPConn // nil until the host resolves, and after a refusal
	err    error        // why conn is nil, for the writes of this cycle
	halted bool
	nlost  int
}

// udpPayload is the most a datagram of several lines holds: datadog-go's
// OptimalUDPPayloadSize, which keeps a datagram within one Ethernet frame
// on a network with a 1500-byte MTU (a lost fragment loses the datagram).
const udpPayload = statsd.OptimalUDPPayloadSize

// newUDPWriter checks the syntax of addr ("host:port", "[v6]:port") without
// resolving the host.
func newUDPWriter(addr string, lookup lookupFunc) (*udpWriter, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("want HOST:PORT: %w", err)
	}
	if host == "" {
		return nil, errors.New("want HOST:PORT: no host")
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("want HOST:PORT: port %q is not a number from 1 to 65535", p)
	}
	if lookup == nil {
		lookup = lookupHost
	}
	return &udpWriter{addr: addr, host: host, port: uint16(port), lookup: lookup,
		err: errors.New("not connected yet")}, nil
}

// open readies the writer for a cycle and returns why the Agent did not
// take the previous cycle's datagrams, or why this cycle cannot send: the
// Agent refused them (then it connects again, looking the host up anew), or
// the host does not resolve.
func (w *udpWriter) open(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.halted = false
	var refused error
	if w.conn != nil {
		err := pending(w.conn)
		if err == nil {
			return w.conn.SetWriteDeadline(time.Time{})
		}
		refused = fmt.Errorf("the Agent at %s refused the previous cycle's datagrams (nothing listens there): %w", w.addr, err)
		w.conn.Close()
		w.conn, w.err = nil, refused
	}
	conn, err := w.dial(ctx)
	if err != nil {
		w.err = err
		if refused != nil {
			return fmt.Errorf("%w; then %v", refused, err)
		}
		return err
	}
	w.conn, w.err = conn, nil
	return refused
}

// dial looks the host up (an IPv4 address first, as datadog-go does) and
// connects a UDP socket to it; connecting sends nothing.
func (w *udpWriter) dial(ctx context.Context) (*net.UDPConn, error) {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := w.lookup(ctx, w.host)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no address")
	}
	if err != nil {
		return nil, fmt.Errorf("look up the Agent's host %q: %w", w.host, err)
	}
	ip := addrs[0].Unmap()
	for _, a := range addrs {
		if a.Unmap().Is4() {
			ip = a.Unmap()
			break
		}
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, w.port)))
	if err != nil {
		return nil, fmt.Errorf("connect to the Agent at %s (%s): %w", w.addr, ip, err)
	}
	return conn, nil
}

// pending returns the error the kernel keeps for the socket, if any, and
// clears it: a read with a deadline just ahead returns it at once, or times
// out. The Agent never answers a client, so there is nothing to read; a
// stray datagram is dropped.
func pending(conn *net.UDPConn) error {
	if err := conn.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		return err
	}
	defer conn.SetReadDeadline(time.Time{})
	var buf [1]byte
	for {
		_, err := conn.Read(buf[:])
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil
		default:
			return err
		}
	}
}

// halt makes writes fail at once until the next open (transport).
func (w *udpWriter) halt() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.halted = true
	if w.conn != nil {
		w.conn.SetWriteDeadline(past)
	}
}

// lost returns and forgets how many lines failed writes held (transport).
func (w *udpWriter) lost() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.nlost
	w.nlost = 0
	return n
}

// Write sends one payload of datadog-go's (whole lines, each ending with a
// line break) in as few datagrams as udpPayload allows, a line longer than
// that in one of its own (datadog-go's sender goroutine calls it).
func (w *udpWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	conn, err := w.conn, w.err
	if w.halted {
		conn, err = nil, errHalted
	}
	w.mu.Unlock()
	sent := 0
	for err == nil && sent < len(p) {
		n := packLines(p[sent:], udpPayload)
		if _, err = conn.Write(p[sent : sent+n]); err == nil {
			sent += n
		}
	}
	if err != nil {
		w.mu.Lock()
		w.nlost += lines(p[sent:])
		w.mu.Unlock()
		return sent, err
	}
	return sent, nil
}

// packLines returns the length of the longest run of whole lines at the
// start of p that is at most limit bytes long, or of the first line when
// that alone is longer.
func packLines(p []byte, limit int) int {
	if len(p) <= limit {
		return len(p)
	}
	if i := bytes.LastIndexByte(p[:limit], '\n'); i >= 0 {
		return i + 1
	}
	if i := bytes.IndexByte(p, '\n'); i >= 0 {
		return i + 1
	}
	return len(p)
}

// Close closes the socket.
func (w *udpWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		return nil
	}
	err := w.conn.Close()
	w.conn, w.err = nil, net.ErrClosed
	return err
}
