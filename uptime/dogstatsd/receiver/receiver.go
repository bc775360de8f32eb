// Package receiver is a small DogStatsD server: it listens on a UDP or Unix
// datagram socket, as the Datadog Agent does, and parses what arrives into
// metrics, service checks and events the way the Agent reads them: every '|'
// separates a field, and the dd.internal.card tag is taken out of the tags
// as the Agent does before storing (see Packet.CardTag).
// The demo prints what it receives, and the tests assert on it; it is not an
// Agent and forwards nothing.
package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind says what a Packet is.
type Kind string

// Packet kinds.
const (
	Metric       Kind = "metric"
	ServiceCheck Kind = "service_check"
	Event        Kind = "event"
)

// Packet is one parsed DogStatsD line.
type Packet struct {
	Kind   Kind
	Name   string            // metric or service-check name; event title
	Value  float64           // metric value
	Type   string            // metric type: "g", "c", "h", "d", "s", "ms"
	Status int               // service-check status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
	Text   string            // service-check message or event text, unescaped
	Tags   []string          // in the order sent, as the Agent stores them (see CardTag)
	Fields map[string]string // other fields by prefix: "k" aggregation key, "t" alert type, "d" timestamp…
	// CardTag is the value of the dd.internal.card tag and CardField that
	// of the card: field: the tag cardinality the line asks the Agent's
	// origin detection for ("none": add no tags of the sender's container).
	// The Agent reads the field only with dogstatsd_origin_detection_client,
	// and the tag whatever its settings, when no field came with it; it then
	// strips the tag, and so does Parse. With a field, the Agent keeps the
	// tag as an ordinary tag, and Parse leaves it in Tags.
	CardTag   string
	CardField string
	Raw       string
}

// CardinalityTagPrefix starts the tag by which a line asks the Agent for a
// tag cardinality.
const CardinalityTagPrefix = "dd.internal.card:"

// Tag returns the value of the first tag with that key, and whether there was one.
func (p Packet) Tag(key string) (string, bool) {
	for _, t := range p.Tags {
		if k, v, ok := strings.Cut(t, ":"); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// Parse parses one DogStatsD line.
func Parse(line string) (Packet, error) {
	switch {
	case strings.HasPrefix(line, "_sc|"):
		return parseServiceCheck(line)
	case strings.HasPrefix(line, "_e{"):
		return parseEvent(line)
	default:
		return parseMetric(line)
	}
}

func parseMetric(line string) (Packet, error) {
	p := Packet{Kind: Metric, Raw: line, Fields: map[string]string{}}
	fields := strings.Split(line, "|")
	name, value, ok := strings.Cut(fields[0], ":")
	if !ok || name == "" || len(fields) < 2 {
		return p, fmt.Errorf("metric line %q: want NAME:VALUE|TYPE[|…]", line)
	}
	v, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return p, fmt.Errorf("metric line %q: value: %w", line, err)
	}
	p.Name, p.Value, p.Type = name, v, fields[1]
	return p, p.optional(fields[2:])
}

func parseServiceCheck(line string) (Packet, error) {
	p := Packet{Kind: ServiceCheck, Raw: line, Fields: map[string]string{}}
	fields := strings.Split(line, "|")
	if len(fields) < 3 || fields[1] == "" {
		return p, fmt.Errorf("service check %q: want _sc|NAME|STATUS[|…]", line)
	}
	st, err := strconv.Atoi(fields[2])
	if err != nil || st < 0 || st > 3 {
		return p, fmt.Errorf("service check %q: status %q is not 0-3", line, fields[2])
	}
	p.Name, p.Status = fields[1], st
	// As in the Agent, the message ends at the next '|': a '|' in it would
	// start a field of its own (a "#…" there would replace the tags).
	rest := fields[3:]
	for i, f := range rest {
		if strings.HasPrefix(f, "m:") {
			p.Text = unescape(f[2:])
			rest = append(rest[:i:i], rest[i+1:]...)
			break
		}
	}
	return p, p.optional(rest)
}

func parseEvent(line string) (Packet, error) {
	p := Packet{Kind: Event, Raw: line, Fields: map[string]string{}}
	head, body, ok := strings.Cut(line[3:], "}:")
	tl, xl, ok2 := strings.Cut(head, ",")
	titleLen, err1 := strconv.Atoi(tl)
	textLen, err2 := strconv.Atoi(xl)
	if !ok || !ok2 || err1 != nil || err2 != nil || titleLen < 0 || textLen < 0 || titleLen+1+textLen > len(body) {
		return p, fmt.Errorf("event %q: want _e{TITLE_LEN,TEXT_LEN}:TITLE|TEXT[|…]", line)
	}
	if body[titleLen] != '|' {
		return p, fmt.Errorf("event %q: title length %d does not end at a '|'", line, titleLen)
	}
	p.Name = unescape(body[:titleLen])
	p.Text = unescape(body[titleLen+1 : titleLen+1+textLen])
	rest := body[titleLen+1+textLen:]
	if rest == "" {
		return p, nil
	}
	if rest[0] != '|' {
		return p, fmt.Errorf("event %q: text length %d does not end at a '|'", line, textLen)
	}
	return p, p.optional(strings.Split(rest[1:], "|"))
}

// optional parses the "|#tags", "|@rate", "|card:…", "|k:…" style fields.
func (p *Packet) optional(fields []string) error {
	for _, f := range fields {
		switch {
		case strings.HasPrefix(f, "#"):
			if f != "#" {
				p.Tags = append(p.Tags, strings.Split(f[1:], ",")...)
			}
		case strings.HasPrefix(f, "card:"):
			p.CardField = f[len("card:"):]
		case strings.HasPrefix(f, "@"):
			p.Fields["@"] = f[1:]
		default:
			k, v, ok := strings.Cut(f, ":")
			if !ok || k == "" {
				return fmt.Errorf("line %q: field %q is not KEY:VALUE, #TAGS or @RATE", p.Raw, f)
			}
			p.Fields[k] = v
		}
	}
	p.takeCardTag()
	return nil
}

// takeCardTag does what the Agent does with the dd.internal.card tag: when
// the line has no card: field, the first such tag sets the cardinality and
// leaves the tags; with a card: field, the field wins and the tag stays, to
// be stored as an ordinary tag.
func (p *Packet) takeCardTag() {
	if p.CardField != "" {
		return
	}
	for i, t := range p.Tags {
		if v, ok := strings.CutPrefix(t, CardinalityTagPrefix); ok {
			p.CardTag = v
			p.Tags = append(p.Tags[:i:i], p.Tags[i+1:]...)
			return
		}
	}
}

// unescape undoes the "\n" escaping datadog-go applies to event and service
// check texts.
func unescape(s string) string { return strings.ReplaceAll(s, `\n`, "\n") }

// BufferSize is what the Agent reads of one datagram by default
// (dogstatsd_buffer_size): it cuts a longer one, and the lines cut no
// longer parse. The Server reads more, and reports a longer datagram as an
// error.
const BufferSize = 8192

// Server receives DogStatsD datagrams and keeps the parsed packets. Its
// socket is read by a loop that only copies each datagram, as the Agent's
// listener hands them on, so that a burst (a cluster scan sends thousands)
// does not overflow the socket's receive buffer while lines are parsed;
// they are parsed when asked for.
type Server struct {
	conn    net.PacketConn
	addr    string
	path    string
	rawMu   sync.Mutex
	raw     [][]byte // datagrams read and not parsed yet
	mu      sync.Mutex
	packets []Packet
	errs    []error
	notify  chan struct{}
	done    chan struct{}
}

// ListenUDP listens on a UDP address such as "127.0.0.1:0".
func ListenUDP(addr string) (*Server, error) {
	return ListenUDPWith(net.ListenConfig{}, addr)
}

// ListenUDPWith listens as ListenUDP does, with lc's Control: a benchmark
// sizes the socket's receive buffer with it, as the Agent's
// dogstatsd_so_rcvbuf does, so that a burst is not dropped by a receiver
// slower than the Agent.
func ListenUDPWith(lc net.ListenConfig, addr string) (*Server, error) {
	c, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for dogstatsd on udp %s: %w", addr, err)
	}
	return start(c, c.LocalAddr().String(), ""), nil
}

// ListenUnixgram listens on a Unix datagram socket at path (as the Agent's
// dsd.socket), removing a stale socket file first.
func ListenUnixgram(path string) (*Server, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("listen for dogstatsd on %s: %w", path, err)
	}
	c, err := net.ListenPacket("unixgram", path)
	if err != nil {
		return nil, fmt.Errorf("listen for dogstatsd on %s: %w", path, err)
	}
	return start(c, "unix://"+path, path), nil
}

func start(c net.PacketConn, addr, path string) *Server {
	s := &Server{conn: c, addr: addr, path: path, notify: make(chan struct{}, 1), done: make(chan struct{})}
	go s.serve()
	return s
}

// Addr is the address to give a DogStatsD client: "host:port" or "unix:///path".
func (s *Server) Addr() string { return s.addr }

func (s *Server) serve() {
	defer close(s.done)
	buf := make([]byte, 65536)
	for {
		n, _, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		s.rawMu.Lock()
		s.raw = append(s.raw, bytes.Clone(buf[:n]))
		s.rawMu.Unlock()
		select {
		case s.notify <- struct{}{}:
		default:
		}
	}
}

// parse parses the datagrams read so far; s.mu is held.
func (s *Server) parse() {
	s.rawMu.Lock()
	raw := s.raw
	s.raw = nil
	s.rawMu.Unlock()
	for _, d := range raw {
		if len(d) > BufferSize {
			s.errs = append(s.errs, fmt.Errorf("a datagram of %d bytes, over the Agent's %d: the Agent would cut it: %.200q…", len(d), BufferSize, d))
		}
		for _, line := range strings.Split(string(d), "\n") {
			if line == "" {
				continue
			}
			p, err := Parse(line)
			if err != nil {
				s.errs = append(s.errs, err)
				continue
			}
			s.packets = append(s.packets, p)
		}
	}
}

// Packets returns and forgets what was received so far, and any lines that
// did not parse.
func (s *Server) Packets() ([]Packet, []error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.parse()
	p, e := s.packets, s.errs
	s.packets, s.errs = nil, nil
	return p, e
}

// Wait waits until at least n packets are held or the timeout passes, and
// returns (and forgets) what is held then.
func (s *Server) Wait(n int, timeout time.Duration) ([]Packet, []error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		s.parse()
		enough := len(s.packets) >= n
		s.mu.Unlock()
		if enough {
			return s.Packets()
		}
		select {
		case <-s.notify:
		case <-deadline.C:
			return s.Packets()
		}
	}
}

// Updates signals (without blocking the server) each time datagrams arrive.
func (s *Server) Updates() <-chan struct{} { return s.notify }

// Close stops listening and removes the socket file, if any.
func (s *Server) Close() error {
	err := s.conn.Close()
	<-s.done
	if s.path != "" {
		os.Remove(s.path)
	}
	return err
}
