package dogstatsd

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/dogstatsd/receiver"
)

// captureLink is a transport that keeps each payload it is given. With
// stall set, each write waits until stall is closed or the link is halted:
// an Agent that does not take what it is sent.
type captureLink struct {
	mu       sync.Mutex
	payloads [][]byte
	stall    chan struct{}
	halted   chan struct{}
	nlost    int
}

func newCaptureLink() *captureLink { return &captureLink{halted: make(chan struct{})} }

func (l *captureLink) open(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.halted:
		l.halted = make(chan struct{})
	default:
	}
	return nil
}

func (l *captureLink) halt() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.halted:
	default:
		close(l.halted)
	}
}

func (l *captureLink) lost() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.nlost
	l.nlost = 0
	return n
}

func (l *captureLink) Write(p []byte) (int, error) {
	l.mu.Lock()
	stall, halted := l.stall, l.halted
	l.mu.Unlock()
	if stall != nil {
		select {
		case <-stall:
		case <-halted:
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-halted:
		l.nlost += lines(p)
		return 0, errHalted
	default:
	}
	l.payloads = append(l.payloads, bytes.Clone(p)) // datadog-go reuses p
	return len(p), nil
}

func (l *captureLink) Close() error { return nil }

// take returns and forgets the payloads written so far.
func (l *captureLink) take() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.payloads
	l.payloads = nil
	return p
}

// lineCount counts the lines of payloads, and fails the test if one is
// longer than a datagram.
func lineCount(t *testing.T, payloads [][]byte) int {
	t.Helper()
	n := 0
	for _, p := range payloads {
		if len(p) > MaxDatagram {
			t.Errorf("a payload of %d bytes, over %d", len(p), MaxDatagram)
		}
		n += lines(p)
	}
	return n
}

// scan is the gauges of a scan of n tasks with a few tags each.
func scan(n int) *uptime.Signals {
	sig := &uptime.Signals{At: time.Now()}
	for i := range n {
		task := &uptime.Task{ARN: fmt.Sprintf("arn:aws:ecs:eu-west-1:123456789012:task/prod/%032x", i), Family: "app", Revision: "7",
			Cluster: "prod", ClusterARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", Region: "eu-west-1", Account: "123456789012",
			AvailabilityZone: "eu-west-1a", LaunchType: "FARGATE", StartedBy: "ci/job-" + fmt.Sprint(i)}
		sig.Gauges = append(sig.Gauges, uptime.Gauge{Name: MetricTaskUptime, Value: float64(i), About: uptime.Subject{Task: task}})
	}
	return sig
}

// A sender that falls behind (here, an Agent that takes nothing for a
// while) delays the Write; datadog-go's queue does not overflow and drop
// payloads ("Sender queue is full").
func TestNoLineLostWhileTheSenderIsBehind(t *testing.T) {
	link := newCaptureLink()
	link.stall = make(chan struct{})
	sink, err := newSink(Options{Addr: "capture"}, link)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	time.AfterFunc(300*time.Millisecond, func() { close(link.stall) })
	if err := sink.Write(context.Background(), scan(10000)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if n := lineCount(t, link.take()); n != 10000 {
		t.Errorf("%d lines written, want 10000", n)
	}
}

// An Agent that takes nothing holds a Write no longer than its bound; the
// error counts every line that did not go, and the next Write sends
// everything once the Agent takes it again.
func TestAStuckAgentHoldsAWriteOnlyUntilItsBound(t *testing.T) {
	link := newCaptureLink()
	link.stall = make(chan struct{})
	const bound = 300 * time.Millisecond
	sink, err := newSink(Options{Addr: "capture", Timeout: bound}, link)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	begin := time.Now()
	err = sink.Write(context.Background(), scan(10000))
	if took := time.Since(begin); took > bound+time.Second {
		t.Errorf("Write took %v with a %v bound", took, bound)
	}
	if err == nil || !strings.Contains(err.Error(), "10000 of 10000 lines not sent") {
		t.Fatalf("Write = %v, want every line counted as not sent", err)
	}
	if since, _ := sink.Unreachable(); since.IsZero() {
		t.Error("a Write that sent nothing leaves the Agent reachable")
	}
	close(link.stall)
	if err := sink.Write(context.Background(), scan(10000)); err != nil {
		t.Fatalf("Write once the Agent takes datagrams again: %v", err)
	}
	if n := lineCount(t, link.take()); n != 10000 {
		t.Errorf("%d lines written, want 10000", n)
	}
}

// shutdown: once ctx is done a Write goes on for shutdownGrace at most.
func TestAStuckAgentDoesNotHoldTheExit(t *testing.T) {
	link := newCaptureLink()
	link.stall = make(chan struct{})
	sink, err := newSink(Options{Addr: "capture", Timeout: time.Hour}, link)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	begin := time.Now()
	if err := sink.Write(ctx, scan(100)); err == nil || !strings.Contains(err.Error(), "100 of 100 lines not sent") {
		t.Errorf("Write = %v, want every line counted as not sent", err)
	}
	if took := time.Since(begin); took < shutdownGrace || took > shutdownGrace+time.Second {
		t.Errorf("Write took %v once ctx was done, want the grace of %v", took, shutdownGrace)
	}
}

// unixAgent is a Unix datagram socket that reads nothing until read is
// called: an Agent whose receive queue fills. The kernel then holds the
// writer, as a busy Agent does.
type unixAgent struct {
	conn *net.UnixConn
	path string
}

func newUnixAgent(t *testing.T) *unixAgent {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dsd.socket")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &unixAgent{conn: conn, path: path}
}

// read reads until nothing comes for quiet, and returns the lines read.
func (a *unixAgent) read(t *testing.T, quiet time.Duration) int {
	t.Helper()
	buf := make([]byte, 65536)
	n := 0
	for {
		a.conn.SetReadDeadline(time.Now().Add(quiet))
		m, err := a.conn.Read(buf)
		if err != nil {
			return n
		}
		if m > receiver.BufferSize {
			t.Errorf("a datagram of %d bytes", m)
		}
		n += lines(buf[:m])
	}
}

// An Agent that reads its Unix socket late gets every line: the writes
// wait for it (datadog-go's own writer drops a datagram after 100 ms).
func TestASlowUnixAgentGetsEveryLine(t *testing.T) {
	agent := newUnixAgent(t)
	sink, err := New(Options{Addr: "unixgram://" + agent.path, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	got := make(chan int)
	go func() {
		time.Sleep(500 * time.Millisecond)
		got <- agent.read(t, time.Second)
	}()
	if err := sink.Write(context.Background(), scan(5000)); err != nil {
		t.Errorf("Write: %v", err)
	}
	if n := <-got; n != 5000 {
		t.Errorf("the Agent read %d lines, want 5000", n)
	}
}

// An Agent that does not read its Unix socket holds a Write until its
// bound; what it had taken and what the error counts make up the cycle.
func TestAStuckUnixAgentHoldsAWriteOnlyUntilItsBound(t *testing.T) {
	agent := newUnixAgent(t)
	const bound = 300 * time.Millisecond
	sink, err := New(Options{Addr: "unixgram://" + agent.path, Timeout: bound})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	begin := time.Now()
	err = sink.Write(context.Background(), scan(5000))
	if took := time.Since(begin); took > bound+time.Second {
		t.Errorf("Write took %v with a %v bound", took, bound)
	}
	var lost int
	if err == nil {
		t.Fatal("Write = nil: the Agent read nothing")
	}
	if _, serr := fmt.Sscanf(err.Error(), "send to dogstatsd: %d of 5000 lines not sent", &lost); serr != nil {
		t.Fatalf("Write = %v, want the count of lines not sent", err)
	}
	if n := agent.read(t, 200*time.Millisecond); n+lost != 5000 {
		t.Errorf("the Agent read %d lines and %d were not sent: %d, want 5000", n, lost, n+lost)
	}
	if err := sink.Write(context.Background(), scan(10)); err != nil {
		t.Errorf("Write once the Agent reads again: %v", err)
	}
	if n := agent.read(t, 200*time.Millisecond); n != 10 {
		t.Errorf("the Agent read %d lines, want 10", n)
	}
}

// bigTask is a task whose tags take about tagBytes bytes.
func bigTask(id string, tagBytes int) *uptime.Task {
	t := &uptime.Task{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/" + id, Family: "app", Cluster: "prod", Region: "eu-west-1"}
	for i := 0; tagBytes > 0; i++ {
		t.ResourceTags = append(t.ResourceTags, uptime.ResourceTag{Key: fmt.Sprintf("k%02d", i), Value: strings.Repeat("v", 250)})
		tagBytes -= 255
	}
	return t
}

// Over real sockets: a message longer than datadog-go's UDP payload goes
// whole, one longer than a datagram goes with its text cut, and one whose
// tags alone are too long is logged once, not sent.
func TestLongMessagesOverRealSockets(t *testing.T) {
	for transport, agent := range listeners(t) {
		t.Run(transport, func(t *testing.T) {
			var logs bytes.Buffer
			sink, err := New(Options{Addr: agent.Addr(), Log: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			medium, large, huge := bigTask("medium", 3000), bigTask("large", 6000), bigTask("huge", 9000)
			var text strings.Builder
			for i := range 60 {
				fmt.Fprintf(&text, "line %03d %s\n", i, strings.Repeat("t", 40))
			}
			ev := func(task *uptime.Task) uptime.Event {
				return uptime.Event{Title: "ECS task app running for 26h", Text: text.String(), Alert: uptime.AlertError,
					Key: task.ARN + strings.Repeat("/long", 30), About: uptime.Subject{Task: task}}
			}
			sig := &uptime.Signals{At: time.Now(),
				Gauges: []uptime.Gauge{{Name: MetricTaskUptime, Value: 1, About: uptime.Subject{Task: medium}},
					{Name: MetricTaskUptime, Value: 2, About: uptime.Subject{Task: huge}},
					{Name: MetricTaskUptime, Value: 3, About: uptime.Subject{Task: huge}}},
				Checks: []uptime.Check{{Name: CheckTaskLifetime, Status: uptime.Critical, Message: strings.Repeat("team:data ", 300),
					About: uptime.Subject{Task: large}}},
				Events: []uptime.Event{ev(medium), ev(large)},
			}
			if err := sink.Write(context.Background(), sig); err != nil {
				t.Fatalf("Write: %v", err)
			}
			got, errs := agent.Wait(4, 2*time.Second)
			if len(errs) > 0 || len(got) != 4 {
				t.Fatalf("received %d lines (%v), want 4:\n%s", len(got), errs, rawLines(got))
			}
			for _, p := range got {
				if len(p.Raw) >= MaxDatagram {
					t.Errorf("a %d-byte line", len(p.Raw))
				}
				if want := TaskTags(map[string]*uptime.Task{"medium": medium, "large": large}[idOf(p)]); !equalStrings(p.Tags, want) {
					t.Errorf("line %.80q…: tags cut or changed", p.Raw)
				}
				if k, ok := p.Fields["k"]; ok && (utf8.RuneCountInString(k) != 100 || !strings.Contains(k, "~")) {
					t.Errorf("aggregation key %q, want 100 characters ending in ~ and a hash", k)
				}
			}
			gauge, check, whole, cut := got[0], got[1], got[2], got[3]
			if gauge.Value != 1 || len(gauge.Raw) <= udpPayload {
				t.Errorf("gauge %.80q… (%d bytes), want the medium task's, longer than %d bytes", gauge.Raw, len(gauge.Raw), udpPayload)
			}
			if !strings.HasSuffix(check.Text, "…") || len(check.Raw) < MaxDatagram-20 {
				t.Errorf("service check message %q, want cut, ending …, the line near %d bytes", check.Text, MaxDatagram)
			}
			if whole.Text != text.String() {
				t.Errorf("the medium task's event text was cut (%d of %d bytes)", len(whole.Text), text.Len())
			}
			if !strings.HasSuffix(cut.Text, "\n…") || !strings.HasPrefix(text.String(), strings.TrimSuffix(cut.Text, "…")) {
				t.Errorf("the large task's event text %q, want whole lines then …", cut.Text)
			}
			if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), "kind=\"gauge ecs.task.uptime\"") {
				t.Errorf("the huge task's two gauges were logged %d times, want once:\n%s", n, logs.String())
			}
		})
	}
}

func idOf(p receiver.Packet) string {
	arn, _ := p.Tag(TagTaskARN)
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

func rawLines(ps []receiver.Packet) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%.200q\n", p.Raw)
	}
	return b.String()
}
