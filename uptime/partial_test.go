package uptime

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// apiTask is a task as the api source reports it: no containers, the
// task's own start, and the part of the source it lies in.
func apiTask(arn, region, cluster string, startedAgo time.Duration) Task {
	return Task{ARN: arn, Family: "fam", Revision: "1", Region: region, Cluster: cluster, StartedAt: t0.Add(-startedAgo)}
}

func TestTrackerTaskStartWithoutContainers(t *testing.T) {
	clk := &clock{now: t0}
	tr := NewTracker(clk.Now, nil)
	c := tr.Observe([]Task{apiTask("a", "eu-west-1", "prod", 26*time.Hour+3*time.Minute)})
	if got := uptimes(c); got["a"] != 26*time.Hour+3*time.Minute || len(got) != 1 {
		t.Fatalf("uptimes = %v, want a: 26h3m only", got)
	}
	// A later startedAt (a task re-described after a restart of the
	// scanner's view) never makes the task younger.
	clk.now = t0.Add(time.Minute)
	c = tr.Observe([]Task{apiTask("a", "eu-west-1", "prod", time.Hour)})
	if got := uptimes(c)["a"]; got != 26*time.Hour+4*time.Minute {
		t.Errorf("uptime after a later startedAt = %v, want 26h4m", got)
	}
}

func TestTrackerPartialRead(t *testing.T) {
	denied := errors.New("AccessDeniedException")
	tests := []struct {
		name       string
		unread     []Unread
		second     []Task // the second read, after a first one that saw a, b and c
		wantSent   []string
		wantHeld   []string
		thirdAgain bool // a third, complete read lists all three again: do they keep their first start?
	}{
		{
			name:     "one cluster unread: its task is held, the others sent",
			unread:   []Unread{{Region: "eu-west-1", Cluster: "prod", Err: denied}},
			second:   []Task{apiTask("b", "eu-west-1", "batch", time.Hour), apiTask("c", "us-east-1", "prod", time.Hour)},
			wantSent: []string{"b", "c"},
			wantHeld: []string{"a"},
		},
		{
			name:     "a whole region unread holds every task of it, and only those",
			unread:   []Unread{{Region: "eu-west-1", Err: denied}},
			second:   []Task{apiTask("c", "us-east-1", "prod", time.Hour)},
			wantSent: []string{"c"},
			wantHeld: []string{"a", "b"},
		},
		{
			name:     "a task gone from a cluster that was read is forgotten",
			unread:   []Unread{{Region: "us-east-1", Cluster: "prod", Err: denied}},
			second:   []Task{apiTask("a", "eu-west-1", "prod", 2*time.Hour)},
			wantSent: []string{"a"},
			wantHeld: []string{"c"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{now: t0}
			tr := NewTracker(clk.Now, nil)
			first := []Task{apiTask("a", "eu-west-1", "prod", 5*time.Hour), apiTask("b", "eu-west-1", "batch", 5*time.Hour), apiTask("c", "us-east-1", "prod", 5*time.Hour)}
			tr.Observe(first)
			c := tr.ObservePartial(tc.second, &PartialError{Unread: tc.unread})
			var sent []string
			for _, tu := range c.Tasks {
				sent = append(sent, tu.Task.ARN)
			}
			if !slices.Equal(sent, tc.wantSent) || !slices.Equal(c.Held, tc.wantHeld) {
				t.Fatalf("sent %v held %v, want sent %v held %v", sent, c.Held, tc.wantSent, tc.wantHeld)
			}
			if !slices.Equal(c.Unread, tc.unread) {
				t.Errorf("cycle's Unread = %v, want %v", c.Unread, tc.unread)
			}
			// The held tasks come back with their first start, not the
			// (later) one this read would give them.
			again := tr.Observe([]Task{apiTask("a", "eu-west-1", "prod", time.Minute), apiTask("b", "eu-west-1", "batch", time.Minute), apiTask("c", "us-east-1", "prod", time.Minute)})
			for _, arn := range tc.wantHeld {
				if got := uptimes(again)[arn]; got != 5*time.Hour {
					t.Errorf("held task %s came back with uptime %v, want 5h (its start was forgotten)", arn, got)
				}
			}
		})
	}
}

func TestRunnerPartialReadSendsTheRestAndLogsOncePerChange(t *testing.T) {
	denied := errors.New("AccessDeniedException: not authorized")
	all := func() ([]Task, error) {
		return []Task{apiTask("a", "eu-west-1", "prod", time.Hour), apiTask("b", "eu-west-1", "batch", time.Hour)}, nil
	}
	partial := func() ([]Task, error) {
		return []Task{apiTask("b", "eu-west-1", "batch", time.Hour)}, &PartialError{Unread: []Unread{{Region: "eu-west-1", Cluster: "prod", Err: denied}}}
	}
	src := &scriptedSource{script: []func() ([]Task, error){all, partial, partial, partial, all}}
	sink := &recordingSink{}
	var logs bytes.Buffer
	clk := &clock{now: t0}
	r := &Runner{Source: src, Sink: sink, Tracker: NewTracker(clk.Now, nil), Interval: time.Second, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	for i := range 5 {
		if err := r.Cycle(context.Background()); err != nil {
			t.Fatalf("cycle %d: %v (a partial read is not a failed cycle)", i, err)
		}
		clk.now = clk.now.Add(time.Second)
	}
	if len(sink.cycles) != 5 {
		t.Fatalf("%d cycles sent, want 5", len(sink.cycles))
	}
	for i, want := range []int{2, 1, 1, 1, 2} {
		if got := len(sink.cycles[i].Tasks); got != want {
			t.Errorf("cycle %d sent %d tasks, want %d", i, got, want)
		}
	}
	if got := sink.cycles[4].Tasks[0].Uptime; got != time.Hour+4*time.Second {
		t.Errorf("task a after the cluster came back: uptime %v, want 1h0m4s (kept across the unread cycles)", got)
	}
	out := logs.String()
	if n := strings.Count(out, "cannot read part of the source"); n != 1 {
		t.Errorf("%d 'cannot read part' lines, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "part of the source answers again"); n != 1 {
		t.Errorf("%d 'answers again' lines, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "cluster=prod") || !strings.Contains(out, "AccessDenied") {
		t.Errorf("the log does not name the cluster and the error:\n%s", out)
	}
	if r.LastSuccess().IsZero() {
		t.Error("a partial read that was sent did not count as a successful cycle")
	}
}

// inAccount is apiTask in another account than the zero one.
func inAccount(account string, t Task) Task {
	t.Account = account
	return t
}

// An account that cannot be read (its role cannot be assumed) is an unread
// part: its tasks in every region are held, the same cluster names and
// regions of the other accounts are not.
func TestTrackerUnreadAccount(t *testing.T) {
	const a, b = "111111111111", "222222222222"
	denied := errors.New("AccessDenied: not authorized to perform: sts:AssumeRole")
	first := []Task{
		inAccount(a, apiTask("a-eu", "eu-west-1", "prod", 5*time.Hour)),
		inAccount(a, apiTask("a-us", "us-east-1", "batch", 5*time.Hour)),
		inAccount(b, apiTask("b-eu", "eu-west-1", "prod", 5*time.Hour)),
	}
	tests := []struct {
		name               string
		unread             Unread
		second             []Task
		wantSent, wantHeld []string
	}{
		{"the whole account", Unread{Account: a, Err: denied}, first[2:], []string{"b-eu"}, []string{"a-eu", "a-us"}},
		{"one region of an account", Unread{Account: a, Region: "eu-west-1", Err: denied}, first[1:], []string{"a-us", "b-eu"}, []string{"a-eu"}},
		{"one cluster of an account: the same cluster of another account is read", Unread{Account: b, Region: "eu-west-1", Cluster: "prod", Err: denied}, first[:2], []string{"a-eu", "a-us"}, []string{"b-eu"}},
		{"no account: that cluster in every account", Unread{Region: "eu-west-1", Cluster: "prod", Err: denied}, first[1:2], []string{"a-us"}, []string{"a-eu", "b-eu"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker((&clock{now: t0}).Now, nil)
			tr.Observe(first)
			c := tr.ObservePartial(tc.second, &PartialError{Unread: []Unread{tc.unread}})
			var sent []string
			for _, tu := range c.Tasks {
				sent = append(sent, tu.Task.ARN)
			}
			if !slices.Equal(sent, tc.wantSent) || !slices.Equal(c.Held, tc.wantHeld) {
				t.Errorf("sent %v held %v, want sent %v held %v", sent, c.Held, tc.wantSent, tc.wantHeld)
			}
		})
	}
}

func TestUnreadKey(t *testing.T) {
	for _, tc := range []struct {
		u    Unread
		want string
	}{
		{Unread{Region: "eu-west-1", Cluster: "prod"}, "eu-west-1/prod"},
		{Unread{Region: "eu-west-1"}, "eu-west-1"},
		{Unread{Account: "111111111111", Region: "eu-west-1", Cluster: "prod"}, "111111111111/eu-west-1/prod"},
		{Unread{Account: "111111111111", Region: "eu-west-1"}, "111111111111/eu-west-1"},
		{Unread{Account: "111111111111"}, "111111111111"},
	} {
		if got := tc.u.Key(); got != tc.want {
			t.Errorf("%+v.Key() = %q, want %q", tc.u, got, tc.want)
		}
	}
}

// The log line of an unread account names it.
func TestRunnerLogsTheUnreadAccount(t *testing.T) {
	denied := errors.New("AccessDenied")
	src := &scriptedSource{script: []func() ([]Task, error){func() ([]Task, error) {
		return []Task{inAccount("222222222222", apiTask("b", "eu-west-1", "prod", time.Hour))},
			&PartialError{Unread: []Unread{{Account: "111111111111", Err: denied}}}
	}}}
	var logs bytes.Buffer
	r := &Runner{Source: src, Sink: &recordingSink{}, Tracker: NewTracker((&clock{now: t0}).Now, nil), Interval: time.Second, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := r.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out := logs.String(); !strings.Contains(out, "account=111111111111") || !strings.Contains(out, "AccessDenied") {
		t.Errorf("the log does not name the account and the error:\n%s", out)
	}
}
