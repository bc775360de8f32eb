package main

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/docker/dockertest"
	"ecs-uptime/uptime/dogstatsd/receiver"
)

// pair is one (cluster, family) of the ecs.family.singleton check.
type pair struct{ cluster, family string }

// singletons returns, from everything the agent received, the
// ecs.family.singleton checks per pair in arrival order and the events per
// aggregation key, for the given clusters only: the engine may be shared.
func (a *agentLog) singletons(clusters ...string) (map[pair][]receiver.Packet, map[string][]receiver.Packet) {
	a.drain()
	mine := map[string]bool{}
	for _, c := range clusters {
		mine[c] = true
	}
	checks, events := map[pair][]receiver.Packet{}, map[string][]receiver.Packet{}
	for _, p := range a.all {
		cl, _ := p.Tag("ecs_cluster_name")
		if !mine[cl] {
			continue
		}
		f, _ := p.Tag("task_family")
		switch {
		case p.Kind == receiver.ServiceCheck && p.Name == "ecs.family.singleton":
			checks[pair{cl, f}] = append(checks[pair{cl, f}], p)
		case p.Kind == receiver.Event:
			events[p.Fields["k"]] = append(events[p.Fields["k"]], p)
		}
	}
	return checks, events
}

// waitCheck waits until the pair has more than after checks and one of
// those past after satisfies ok; it returns that check's index and the
// check, or fails the test.
func (a *agentLog) waitCheck(t *testing.T, p *process, clusters []string, k pair, after int, what string, ok func(receiver.Packet) bool) (int, receiver.Packet) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		checks, _ := a.singletons(clusters...)
		for i := after; i < len(checks[k]); i++ {
			if ok(checks[k][i]) {
				return i, checks[k][i]
			}
		}
		select {
		case <-a.Updates():
		case <-deadline:
			var got []string
			for _, c := range checks[k] {
				got = append(got, c.Raw)
			}
			t.Fatalf("%s/%s: no check %s in 20 s; checks:\n%s\nlogs:\n%s", k.cluster, k.family, what, strings.Join(got, "\n"), p.stderr)
		}
	}
}

// shortID is how the check's message names a task: "…/5c2f0b9e…".
func shortID(arn string) string { return "…/" + arn[strings.LastIndexByte(arn, '/')+1:][:8] + "…" }

// The test, against the real engine: the host daemon with
// ECS_UPTIME_SINGLETONS=db-migrate,reindex. A second db-migrate task turns
// the check CRITICAL on the next cycle, naming both, with one event; a
// third sends no new event; stopping two turns it OK, with no event; the
// other family and the other cluster keep their own states and events.
func TestDockerModeSingletons(t *testing.T) {
	host := dockertest.Host(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prod, stage := "prod-"+hex.EncodeToString(b), "stage-"+hex.EncodeToString(b)
	clusters := []string{prod, stage}
	const account = "123456789012"
	clusterARN := func(c string) string { return "arn:aws:ecs:eu-west-1:" + account + ":cluster/" + c }
	run := func(cluster, family string) (arn, id string) {
		arn = dockertest.TaskARN("eu-west-1", account, cluster)
		id = dockertest.Run(t, host, dockertest.Container{TaskARN: arn, Cluster: cluster, Family: family, Version: "3", Name: "main"})
		return arn, id
	}
	first, _ := run(prod, "db-migrate")
	run(stage, "db-migrate")
	run(stage, "reindex")
	run(prod, "web") // not watched: never counts

	agent := newAgentLog(t)
	p := start(t, "ECS_UPTIME_SOURCE=docker", "DOCKER_HOST="+host, "DD_DOGSTATSD_URL=udp://"+agent.Addr(),
		"ECS_UPTIME_INTERVAL=1s", "ECS_UPTIME_CRITICAL=0", "ECS_UPTIME_SINGLETONS=db-migrate,reindex")

	prodDB, prodRe := pair{prod, "db-migrate"}, pair{prod, "reindex"}
	stageDB, stageRe := pair{stage, "db-migrate"}, pair{stage, "reindex"}
	status := func(s int, text string) func(receiver.Packet) bool {
		return func(c receiver.Packet) bool { return c.Status == s && strings.HasPrefix(c.Text, text) }
	}
	// Every watched family gets a check in every cluster with a task,
	// with the cluster's tags and no task's.
	for k, text := range map[pair]string{
		prodDB:  "1 task of db-migrate running in " + prod + ": " + shortID(first) + " up ",
		prodRe:  "no task of reindex running in " + prod,
		stageDB: "1 task of db-migrate running in " + stage + ": ",
		stageRe: "1 task of reindex running in " + stage + ": ",
	} {
		_, c := agent.waitCheck(t, p, clusters, k, 0, "OK "+text, status(0, text))
		want := []string{"task_family:" + k.family, "ecs_cluster_name:" + k.cluster, "cluster_arn:" + clusterARN(k.cluster), "region:eu-west-1", "aws_account:" + account}
		if got := sorted(c.Tags); strings.Join(got, ",") != strings.Join(sorted(want), ",") {
			t.Errorf("%s/%s check tags\n got %q\nwant %q", k.cluster, k.family, got, sorted(want))
		}
	}

	// A second db-migrate task in prod: CRITICAL within one interval.
	// After docker run returns, at most one check of a cycle that read the
	// engine before the task started may still arrive: the next is CRITICAL.
	checks, _ := agent.singletons(clusters...)
	before := len(checks[prodDB])
	second, secondID := run(prod, "db-migrate")
	two := "2 tasks of db-migrate running in " + prod + ", want at most 1: " + shortID(first) + " up "
	i, crit := agent.waitCheck(t, p, clusters, prodDB, before, "CRITICAL naming both", status(2, two))
	if i > before+1 {
		t.Errorf("CRITICAL came with the %d-th check after the second task started, want the 1st or 2nd (within one interval)", i-before+1)
	}
	if !strings.Contains(crit.Text, "; "+shortID(second)+" up ") {
		t.Errorf("CRITICAL message %q does not name the second task %s after the first", crit.Text, shortID(second))
	}

	// The other cluster and family turn CRITICAL on their own, with their
	// own event; the first pair is left alone.
	run(stage, "reindex")
	agent.waitCheck(t, p, clusters, stageRe, 0, "CRITICAL", status(2, "2 tasks of reindex running in "+stage))
	checks, _ = agent.singletons(clusters...)
	for _, k := range []pair{stageDB, prodRe} {
		if last := checks[k][len(checks[k])-1]; last.Status != 0 {
			t.Errorf("%s/%s is %q, want OK: pairs are kept apart", k.cluster, k.family, last.Raw)
		}
	}

	// A third: still CRITICAL, no new event.
	_, thirdID := run(prod, "db-migrate")
	i, _ = agent.waitCheck(t, p, clusters, prodDB, 0, "CRITICAL with 3 tasks", status(2, "3 tasks of db-migrate running in "+prod))
	agent.waitCheck(t, p, clusters, prodDB, i+2, "after two more cycles", status(2, "3 tasks"))

	// Stop two: OK, naming the first, with no event.
	dockertest.Docker(t, host, "kill", secondID, thirdID)
	i, _ = agent.waitCheck(t, p, clusters, prodDB, 0, "OK again", status(0, "1 task of db-migrate running in "+prod+": "+shortID(first)))
	agent.waitCheck(t, p, clusters, prodDB, i+2, "after two more cycles", status(0, "1 task"))

	if code, _ := p.stop(t, syscall.SIGTERM); code != exitOK {
		t.Errorf("SIGTERM: exit %d, want 0", code)
	}
	_, events := agent.singletons(clusters...)
	if n := len(events); n != 2 {
		t.Errorf("events for %d aggregation keys, want 2 (prod's db-migrate, stage's reindex): %v", n, events)
	}
	for key, title := range map[string]string{
		clusterARN(prod) + "/db-migrate": "2 tasks of db-migrate running in " + prod,
		clusterARN(stage) + "/reindex":   "2 tasks of reindex running in " + stage,
	} {
		es := events[key]
		if len(es) != 1 {
			t.Errorf("%d events with aggregation key %s, want exactly 1", len(es), key)
			continue
		}
		if e := es[0]; e.Name != title || e.Fields["t"] != "error" {
			t.Errorf("event %q: want the title %q and alert type error", e.Raw, title)
		}
	}
	if es := events[clusterARN(prod)+"/db-migrate"]; len(es) == 1 {
		text := es[0].Text
		if a, b := strings.Index(text, first), strings.Index(text, second); a < 0 || b < a {
			t.Errorf("event text %q: want both task ARNs, the first task's first", text)
		}
	}
}
