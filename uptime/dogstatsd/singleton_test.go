package dogstatsd

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/singleton"
)

const prodARN = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"

// migration is a running task of family in cluster prod.
func migration(family, id string, up time.Duration) uptime.TaskUptime {
	return uptime.TaskUptime{Uptime: up, Task: &uptime.Task{
		ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/" + id, Family: family, Revision: "42",
		Cluster: "prod", ClusterARN: prodARN, Region: "eu-west-1", Account: "123456789012"}}
}

// sent is what one Send put on the wire: checks by family, events.
type sent struct {
	checks map[string]receiver.Packet // task_family → ecs.family.singleton check
	events []receiver.Packet
}

// sendCycle sends c and returns what the Agent received of it.
func sendCycle(t *testing.T, sink stagedSink, agent *receiver.Server, c uptime.Cycle, lines int) sent {
	t.Helper()
	if err := sink.Send(context.Background(), c); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got, errs := agent.Wait(lines, 2*time.Second)
	if more, _ := agent.Wait(1, 100*time.Millisecond); len(more) > 0 {
		got = append(got, more...)
	}
	if len(errs) > 0 {
		t.Fatalf("receiver errors: %v", errs)
	}
	s := sent{checks: map[string]receiver.Packet{}}
	for _, p := range got {
		switch {
		case p.Kind == receiver.ServiceCheck && p.Name == CheckFamilySingleton:
			f, _ := p.Tag(TagTaskFamily)
			if _, dup := s.checks[f]; dup {
				t.Errorf("two %s checks for %s in one cycle", CheckFamilySingleton, f)
			}
			s.checks[f] = p
		case p.Kind == receiver.Event:
			s.events = append(s.events, p)
		case p.Kind == receiver.Metric && p.Name == MetricTaskUptime:
		default:
			t.Errorf("unexpected line %q", p.Raw)
		}
	}
	return s
}

// Over a real socket, cycle after cycle: the check of each watched family
// every cycle with its tags and message, one event at the onset, none while
// it stays CRITICAL, none on the way back, and nothing for a cluster the
// read could not see.
func TestSinkSendsSingletonChecks(t *testing.T) {
	agent := listeners(t)["udp"]
	sink, err := newStaged(testOptions{Addr: agent.Addr(), Tags: []string{"env:prod"}, Singletons: []string{"db-migrate", "reindex"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	a := migration("db-migrate", "5c2f0b9e8d7a4e31", 3*time.Hour)
	b := migration("db-migrate", "7a1b2c3d4e5f6071", 20*time.Second)
	c := migration("db-migrate", "9e8d7c6b5a493827", time.Second)
	tagsOf := func(family string) []string {
		return []string{"env:prod", "task_family:" + family, "ecs_cluster_name:prod", "cluster_arn:" + prodARN, "region:eu-west-1", "aws_account:123456789012"}
	}
	twoMsg := "2 tasks of db-migrate running in prod, want at most 1: …/5c2f0b9e… up 3h; …/7a1b2c3d… up 20s"
	tests := []struct {
		name    string
		tasks   []uptime.TaskUptime
		unread  bool // prod could not be read
		lines   int  // gauges, checks and events expected
		db      int  // status of the db-migrate check; -1: no check
		dbMsg   string
		reindex int
		event   bool
	}{
		{"one task", []uptime.TaskUptime{a}, false, 3, 0, "1 task of db-migrate running in prod: …/5c2f0b9e… up 3h", 0, false},
		{"a second task: onset", []uptime.TaskUptime{a, b}, false, 5, 2, twoMsg, 0, true},
		{"still two", []uptime.TaskUptime{a, b}, false, 4, 2, twoMsg, 0, false},
		{"a third: no new event", []uptime.TaskUptime{a, b, c}, false, 5, 2, "3 tasks of db-migrate running in prod, want at most 1: …/5c2f0b9e… up 3h; …/7a1b2c3d… up 20s; …/9e8d7c6b… up 1s", 0, false},
		{"prod unread: nothing", nil, true, 0, -1, "", -1, false},
		{"back to one: no event", []uptime.TaskUptime{b}, false, 3, 0, "1 task of db-migrate running in prod: …/7a1b2c3d… up 20s", 0, false},
		{"none: OK still", nil, false, 2, 0, "no task of db-migrate running in prod", 0, false},
	}
	for _, tt := range tests {
		cyc := uptime.Cycle{At: time.Now(), Tasks: tt.tasks}
		if tt.unread {
			cyc.Unread = []uptime.Unread{{Region: "eu-west-1", Cluster: "prod", Err: errors.New("AccessDeniedException")}}
		}
		got := sendCycle(t, sink, agent, cyc, tt.lines)
		if tt.db < 0 {
			if len(got.checks) != 0 || len(got.events) != 0 {
				t.Errorf("%s: sent %v and %d events, want nothing", tt.name, got.checks, len(got.events))
			}
			continue
		}
		for family, status := range map[string]int{"db-migrate": tt.db, "reindex": tt.reindex} {
			sc, ok := got.checks[family]
			if !ok {
				t.Errorf("%s: no check for %s", tt.name, family)
				continue
			}
			if sc.Status != status || !slices.Equal(sc.Tags, tagsOf(family)) || sc.Fields["d"] == "" {
				t.Errorf("%s: check %q, want status %d, tags %q and a timestamp", tt.name, sc.Raw, status, tagsOf(family))
			}
		}
		if m := got.checks["db-migrate"].Text; m != tt.dbMsg {
			t.Errorf("%s: message\n got %q\nwant %q", tt.name, m, tt.dbMsg)
		}
		if m := got.checks["reindex"].Text; m != "no task of reindex running in prod" {
			t.Errorf("%s: reindex message %q", tt.name, m)
		}
		if !tt.event {
			if len(got.events) != 0 {
				t.Errorf("%s: events %v, want none", tt.name, got.events)
			}
			continue
		}
		if len(got.events) != 1 {
			t.Fatalf("%s: %d events, want 1", tt.name, len(got.events))
		}
		e := got.events[0]
		if e.Name != "2 tasks of db-migrate running in prod" || e.Fields["k"] != prodARN+"/db-migrate" || e.Fields["t"] != "error" || e.Fields["s"] != "ecs-uptime" {
			t.Errorf("event %q: want the title, aggregation key cluster ARN/family, alert type error, source ecs-uptime", e.Raw)
		}
		if !slices.Equal(e.Tags, tagsOf("db-migrate")) {
			t.Errorf("event tags %q, want %q", e.Tags, tagsOf("db-migrate"))
		}
		if !strings.HasPrefix(e.Text, "CRITICAL: "+twoMsg+"\n- "+a.Task.ARN+", db-migrate:42, up 3h\n- "+b.Task.ARN) {
			t.Errorf("event text %q: want the message, then the tasks oldest first", e.Text)
		}
	}
}

// A cluster name, task ID or started_by from outside (a Docker label, a CI
// job's name) can forge no tag, field or line: the check and the event
// arrive whole, with the intended tags sanitized.
func TestSinkSingletonValuesCannotForge(t *testing.T) {
	agent := listeners(t)["udp"]
	sink, err := newStaged(testOptions{Addr: agent.Addr(), Singletons: []string{"db-migrate"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	evil := "prod|#forged:1,x\n_e{1,1}:x|y"
	var tasks []uptime.TaskUptime
	for i, id := range []string{"aa|#forged:2", "bb\nforged.metric:1|g"} {
		tu := migration("db-migrate", id, time.Duration(2-i)*time.Hour)
		tu.Task.Cluster, tu.Task.ClusterARN = evil, "arn:aws:ecs:eu-west-1:123456789012:cluster/"+evil
		tu.Task.StartedBy = "ci|#forged:3\nx"
		tasks = append(tasks, tu)
	}
	got := sendCycle(t, sink, agent, uptime.Cycle{At: time.Now(), Tasks: tasks}, 4)
	sc, ok := got.checks["db-migrate"]
	if !ok || len(got.checks) != 1 || len(got.events) != 1 {
		t.Fatalf("got checks %v and %d events, want one check and one event", got.checks, len(got.events))
	}
	cl := singleton.Cluster{Name: evil, ARN: tasks[0].Task.ClusterARN, Region: "eu-west-1", Account: "123456789012"}
	want := FamilyTags(cl, "db-migrate")
	for _, p := range []receiver.Packet{sc, got.events[0]} {
		if !slices.Equal(p.Tags, want) {
			t.Errorf("tags %q, want %q", p.Tags, want)
		}
		for _, tag := range p.Tags {
			if strings.HasPrefix(tag, "forged") {
				t.Errorf("forged tag %q in %q", tag, p.Raw)
			}
		}
	}
	if v, _ := sc.Tag(TagClusterName); v != "prod__forged:1_x__e{1_1}:x_y" {
		t.Errorf("cluster tag %q, want the name sanitized", v)
	}
	if sc.Status != 2 || !strings.Contains(sc.Text, "(by ci_#forged:3_x)") || strings.ContainsAny(sc.Text, "|\n") {
		t.Errorf("check %q: want CRITICAL and the message on one field", sc.Raw)
	}
	if e := got.events[0]; strings.ContainsAny(e.Name, "|\n") || strings.ContainsAny(e.Fields["k"], "|\n,#") {
		t.Errorf("event %q: title or aggregation key not on one field", e.Raw)
	}
}

// Without ECS_UPTIME_SINGLETONS the sink sends no singleton check and
// keeps no watch.
func TestSinkWithoutSingletons(t *testing.T) {
	agent := listeners(t)["udp"]
	sink, err := newStaged(testOptions{Addr: agent.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	a, b := migration("db-migrate", "aa", time.Hour), migration("db-migrate", "bb", time.Minute)
	got := sendCycle(t, sink, agent, uptime.Cycle{At: time.Now(), Tasks: []uptime.TaskUptime{a, b}}, 2)
	if len(got.checks) != 0 || len(got.events) != 0 {
		t.Errorf("sent %v and %v, want the gauges only", got.checks, got.events)
	}
}
