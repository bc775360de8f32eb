package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// apiEnv is the environment of the binary in api mode against the fake:
// the fake's AWS environment (endpoint, credentials, no IMDS) and the
// Agent's address.
func apiEnv(fake *ecsfake.Server, agent *receiver.Server, env ...string) []string {
	out := append(fake.Environ("eu-west-1"), "ECS_UPTIME_SOURCE=api", "DD_DOGSTATSD_URL=udp://"+agent.Addr(), "ECS_UPTIME_LOG_FORMAT=text")
	return append(out, env...)
}

// gaugesOf waits until one cycle's worth (n) of ecs.task.uptime gauges
// arrived and returns them by task ARN, with when the last one arrived.
func gaugesOf(t *testing.T, agent *receiver.Server, n int, within time.Duration) (map[string]receiver.Packet, time.Time) {
	t.Helper()
	got := map[string]receiver.Packet{}
	deadline := time.After(within)
	for len(got) < n {
		ps, errs := agent.Packets()
		for _, err := range errs {
			t.Errorf("unparsable DogStatsD line: %v", err)
		}
		for _, p := range ps {
			if p.Kind == receiver.Metric && p.Name == "ecs.task.uptime" {
				arn, _ := p.Tag("task_arn")
				if _, dup := got[arn]; dup {
					t.Fatalf("two gauges for %s before a cycle's %d arrived (got %d)", arn, n, len(got))
				}
				got[arn] = p
			}
		}
		if len(got) >= n {
			break
		}
		select {
		case <-agent.Updates():
		case <-deadline:
			t.Fatalf("%d of %d gauges after %s", len(got), n, within)
		}
	}
	return got, time.Now()
}

// The api source end to end: several regions and clusters, more than 200
// tasks in one (three pages), a throttled call, a denied cluster, a task
// gone between list and describe, PENDING and STOPPED tasks; exact gauges
// and tags, the API calls of a cycle counted (the STOPPED listing
// included), the rate respected, one log line for the denied cluster, and
// exit 0 on SIGTERM.
func TestAPIModeScansEveryCluster(t *testing.T) {
	fake := ecsfake.Start(t)
	agent := udpAgent(t)
	now := time.Now()
	const bulk = 230
	want := map[string]time.Time{} // task ARN → startedAt, the tasks that must be reported
	for i := range bulk {
		started := now.Add(-time.Duration(i+1) * time.Minute)
		want[fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "worker", Revision: 3, StartedAt: started})] = started
	}
	svcStart := now.Add(-50 * time.Hour)
	svc := fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "web", Revision: 7, Group: "service:web",
		StartedBy: "ecs-svc/1234567890123456789", StartedAt: svcStart, AvailabilityZone: "eu-west-1b",
		Tags: []ecsfake.Tag{{Key: "Team", Value: "front"}, {Key: "cost", Value: "12"}}})
	want[svc] = svcStart
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "worker", LastStatus: "PENDING"})
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "worker", LastStatus: "STOPPED", StartedAt: now.Add(-time.Hour)})
	ghost := fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "worker", StartedAt: now.Add(-time.Hour), Ghost: true})
	for range 3 {
		fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "secret", Family: "vault", StartedAt: now.Add(-time.Hour)})
	}
	fake.Inject(ecsfake.Fault{Region: "eu-west-1", Cluster: "secret", Code: ecsfake.AccessDenied})
	migStart := now.Add(-26*time.Hour - 3*time.Minute)
	mig := fake.AddTask(ecsfake.Task{Region: "us-east-1", Cluster: "batch", Family: "db-migrate", Revision: 42, LaunchType: "FARGATE",
		CapacityProvider: "FARGATE_SPOT", StartedBy: "ci/deploy#1234", StartedAt: migStart, AvailabilityZone: "us-east-1c",
		Tags: []ecsfake.Tag{{Key: "team", Value: "data,eng"}, {Key: "ecs-uptime:max-lifetime", Value: "48h"}}})
	want[mig] = migStart
	fake.Inject(ecsfake.Fault{Op: ecsfake.ListTasks, Region: "eu-west-1", Cluster: "prod", Code: ecsfake.Throttling, Times: 1})

	const rate = 20
	p := start(t, apiEnv(fake, agent, "ECS_UPTIME_REGIONS=eu-west-1,us-east-1", "ECS_UPTIME_INTERVAL=2s",
		fmt.Sprintf("ECS_UPTIME_API_RATE=%d", rate), "ECS_UPTIME_TASK_TAGS=team", "ECS_UPTIME_CRITICAL=0")...)

	first, at := gaugesOf(t, agent, len(want), 30*time.Second)
	for arn, started := range want {
		g, ok := first[arn]
		if !ok {
			t.Errorf("no gauge for %s", arn)
			continue
		}
		// The gauge is the uptime when the scan ended, sent at once: it
		// lies between the age at process start and at arrival.
		if lo, hi := now.Sub(started).Seconds(), at.Sub(started).Seconds(); g.Value < math.Floor(lo) || g.Value > hi+0.001 {
			t.Errorf("%s: uptime %.3f s, want between %.3f and %.3f", arn, g.Value, lo, hi)
		}
	}
	for arn := range first {
		if _, ok := want[arn]; !ok {
			t.Errorf("gauge for a task that must not be reported: %s", arn)
		}
	}
	if _, ok := first[ghost]; ok {
		t.Error("the task gone between ListTasks and DescribeTasks was reported")
	}
	wantMig := []string{"task_arn:" + mig, "task_name:db-migrate", "task_family:db-migrate", "task_version:42",
		"ecs_cluster_name:batch", "cluster_arn:" + ecsfake.ClusterARN("us-east-1", "batch"), "region:us-east-1",
		"availability-zone:us-east-1c", "aws_account:" + ecsfake.Account, "ecs_launch_type:FARGATE",
		"ecs_capacity_provider:FARGATE_SPOT", "started_by:ci/deploy_1234", "team:data_eng", "ecs_task_kind:standalone"}
	if got := first[mig].Tags; !slices.Equal(sorted(got), sorted(wantMig)) {
		t.Errorf("db-migrate's tags\n got %q\nwant %q", got, wantMig)
	}
	wantSvc := []string{"task_arn:" + svc, "task_name:web", "task_family:web", "task_version:7", "ecs_cluster_name:prod",
		"cluster_arn:" + ecsfake.ClusterARN("eu-west-1", "prod"), "region:eu-west-1", "availability-zone:eu-west-1b",
		"aws_account:" + ecsfake.Account, "ecs_service:web", "ecs_launch_type:FARGATE", "started_by:ecs-svc/1234567890123456789", "team:front",
		"ecs_task_kind:service"}
	if got := first[svc].Tags; !slices.Equal(sorted(got), sorted(wantSvc)) {
		t.Errorf("the service task's tags\n got %q\nwant %q", got, wantSvc)
	}

	// The next cycle, counted from a clean slate: per region one
	// ListClusters; per cluster ⌈listed/100⌉ ListTasks pages of tasks
	// desired RUNNING, one of tasks desired STOPPED, and ⌈listed/100⌉
	// DescribeTasks batches (the STOPPED task was described by the first
	// cycle, not again); the denied cluster its one refused call.
	fake.Reset()
	gaugesOf(t, agent, len(want), 30*time.Second)
	// The cycle's gauges are sent after its last call: every call of the
	// cycle is in.
	reqs := fake.Requests()
	count := map[string]int{}
	for _, r := range reqs {
		count[r.Op+" "+r.DesiredStatus+" "+r.Region+"/"+r.Cluster]++
	}
	listedProd := bulk + 3 // + the service task, the PENDING one and the ghost
	wantCalls := map[string]int{
		"ListClusters  eu-west-1/":           1,
		"ListClusters  us-east-1/":           1,
		"ListTasks RUNNING eu-west-1/prod":   (listedProd + 99) / 100,
		"ListTasks STOPPED eu-west-1/prod":   1,
		"DescribeTasks  eu-west-1/prod":      (listedProd + 99) / 100,
		"ListTasks RUNNING eu-west-1/secret": 1,
		"ListTasks RUNNING us-east-1/batch":  1,
		"ListTasks STOPPED us-east-1/batch":  1,
		"DescribeTasks  us-east-1/batch":     1,
	}
	if !mapsEqual(count, wantCalls) {
		t.Errorf("API calls of one cycle = %v, want %v", count, wantCalls)
	}

	// The rate, per account and region (each has its own limiter).
	calls := map[string][]time.Time{}
	for _, r := range fake.Requests() {
		calls[r.Region] = append(calls[r.Region], r.At)
	}
	paced(t, calls, rate)

	allowedByPolicy(t, fake)
	code, _ := p.stop(t, syscall.SIGTERM)
	logs := p.stderr.String()
	if code != exitOK {
		t.Errorf("exit %d after SIGTERM, want 0; logs:\n%s", code, logs)
	}
	if n := strings.Count(logs, "cannot read part of the source"); n != 1 || !strings.Contains(logs, "cluster=secret") || !strings.Contains(logs, "AccessDenied") {
		t.Errorf("%d lines about the denied cluster over several cycles, want 1 naming it and the error; logs:\n%s", n, logs)
	}
	if strings.Contains(logs, "level=ERROR msg=\"cannot read tasks") {
		t.Errorf("a throttled call or a denied cluster failed the whole cycle; logs:\n%s", logs)
	}
}

// allowedByPolicy fails the test for every ECS operation the fake served
// that the shipped task-role policy does not allow: what the policy grants
// is what the binary calls.
func allowedByPolicy(t *testing.T, fake *ecsfake.Server) {
	t.Helper()
	doc, err := os.ReadFile("../../task-definitions/iam/cluster-scan-task-role.json")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range fake.Requests() {
		if !seen[r.Op] && !strings.Contains(string(doc), `"ecs:`+r.Op+`"`) {
			t.Errorf("the binary calls %s, which task-definitions/iam/cluster-scan-task-role.json does not allow", r.Op)
		}
		seen[r.Op] = true
	}
}

// paced fails the test when the calls to an account-region, by their
// arrival at the fake (calls: a name for it → the arrivals in order), come
// faster than rate per second, with a limiter's burst of 1. The fake notes
// a call when it arrives, not when the limiter let it go, so a call held
// up on its way (dialing its connection, a loaded CI machine: one arrived
// 48 ms late, 2 ms before the next) looks too close to the next one:
// paced allows 10 ms of slack, and one pair in ten to be closer still. A
// missing limiter, or one at twice the rate, makes nearly every pair too
// close.
func paced(t *testing.T, calls map[string][]time.Time, rate int) {
	t.Helper()
	pairs, tooClose := 0, []string{}
	for where, at := range calls {
		for i := 1; i < len(at); i++ {
			pairs++
			if gap := at[i].Sub(at[i-1]); gap < time.Second/time.Duration(rate)-10*time.Millisecond {
				tooClose = append(tooClose, fmt.Sprintf("%s: calls %d and %d %v apart", where, i-1, i, gap))
			}
		}
	}
	if len(tooClose) > pairs/10 {
		t.Errorf("%d of %d pairs of calls to an account-region closer than %d per second allows:\n%s",
			len(tooClose), pairs, rate, strings.Join(tooClose, "\n"))
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// eventsTitled returns the events whose title starts with prefix.
func eventsTitled(ps []receiver.Packet, prefix string) []receiver.Packet {
	var out []receiver.Packet
	for _, p := range ps {
		if p.Kind == receiver.Event && strings.HasPrefix(p.Name, prefix) {
			out = append(out, p)
		}
	}
	return out
}

// collect gathers every packet until d has passed.
func collect(agent *receiver.Server, d time.Duration) []receiver.Packet {
	return collectUntil(agent, d, func([]receiver.Packet) bool { return false })
}

// untilEvent gathers every packet until one is an event, or d has passed:
// what a process sent before it exited is in the receiver's socket, but
// not necessarily read yet.
func untilEvent(agent *receiver.Server, d time.Duration) []receiver.Packet {
	return collectUntil(agent, d, func(all []receiver.Packet) bool {
		return slices.ContainsFunc(all, func(p receiver.Packet) bool { return p.Kind == receiver.Event })
	})
}

// collectUntil gathers every packet until enough says what it gathered is
// enough, or d has passed.
func collectUntil(agent *receiver.Server, d time.Duration, enough func([]receiver.Packet) bool) []receiver.Packet {
	var all []receiver.Packet
	deadline := time.After(d)
	for {
		ps, _ := agent.Packets()
		all = append(all, ps...)
		if enough(all) {
			return all
		}
		select {
		case <-agent.Updates():
		case <-deadline:
			ps, _ := agent.Packets()
			return append(all, ps...)
		}
	}
}

// Stopping, opt-in twice: a dry run reports "would stop" once and calls
// nothing; with ECS_UPTIME_STOP_TASKS=true exactly one accepted StopTask per
// eligible task, with its reason, after one refusal that is retried the
// next cycle and logged once; a service's task and a bad tag value never
// act.
func TestAPIModeStopsOnlyWhatOptedIn(t *testing.T) {
	now := time.Now()
	const tag = "ecs-uptime:max-lifetime"
	setup := func(fake *ecsfake.Server) (over, svc, badTag, young string) {
		over = fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "ops", Family: "db-migrate", Revision: 42, StartedBy: "ci/job-7",
			StartedAt: now.Add(-7*time.Hour - 5*time.Minute), Tags: []ecsfake.Tag{{Key: tag, Value: "6h"}}})
		svc = fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "ops", Family: "web", Group: "service:web",
			StartedAt: now.Add(-30 * time.Hour), Tags: []ecsfake.Tag{{Key: tag, Value: "1h"}}})
		badTag = fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "ops", Family: "reindex",
			StartedAt: now.Add(-10 * time.Hour), Tags: []ecsfake.Tag{{Key: tag, Value: "6 hours"}}})
		young = fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "ops", Family: "report",
			StartedAt: now.Add(-time.Hour), Tags: []ecsfake.Tag{{Key: tag, Value: "24h"}}})
		return
	}

	t.Run("dry run", func(t *testing.T) {
		fake := ecsfake.Start(t)
		agent := udpAgent(t)
		over, _, badTag, _ := setup(fake)
		p := start(t, apiEnv(fake, agent, "ECS_UPTIME_INTERVAL=1s", "ECS_UPTIME_CRITICAL=0")...)
		ps := collect(agent, 4500*time.Millisecond)
		if code, _ := p.stop(t, syscall.SIGTERM); code != exitOK {
			t.Errorf("exit %d, want 0", code)
		}
		if n := fake.Calls(ecsfake.StopTask); n != 0 {
			t.Errorf("%d StopTask calls in a dry run, want 0", n)
		}
		would := eventsTitled(ps, "would stop")
		if len(would) != 1 {
			t.Fatalf("%d 'would stop' events over several cycles, want 1: %v", len(would), would)
		}
		if arn, _ := would[0].Tag("task_arn"); arn != over || would[0].Fields["k"] != over {
			t.Errorf("'would stop' is about %s (aggregation key %q), want %s", arn, would[0].Fields["k"], over)
		}
		if !strings.Contains(would[0].Name, "db-migrate:42") || !strings.Contains(would[0].Name, "max lifetime 6h") {
			t.Errorf("title %q does not name the task and its max lifetime", would[0].Name)
		}
		bad := eventsTitled(ps, "bad max-lifetime tag")
		if len(bad) != 1 {
			t.Fatalf("%d bad-tag events, want 1: %v", len(bad), bad)
		}
		if arn, _ := bad[0].Tag("task_arn"); arn != badTag {
			t.Errorf("bad-tag event about %s, want %s", arn, badTag)
		}
		if n := len(eventsTitled(ps, "stopp")); n != 0 {
			t.Errorf("%d stopping/stopped events in a dry run, want 0", n)
		}
	})

	t.Run("stop", func(t *testing.T) {
		fake := ecsfake.Start(t)
		agent := udpAgent(t)
		over, svc, badTag, young := setup(fake)
		fake.Inject(ecsfake.Fault{Op: ecsfake.StopTask, Code: ecsfake.AccessDenied, Times: 1})
		p := start(t, apiEnv(fake, agent, "ECS_UPTIME_INTERVAL=1s", "ECS_UPTIME_CRITICAL=0", "ECS_UPTIME_STOP_TASKS=true")...)
		ps := collect(agent, 4500*time.Millisecond)
		if code, _ := p.stop(t, syscall.SIGTERM); code != exitOK {
			t.Errorf("exit %d, want 0", code)
		}
		stops := fake.Stops()
		if len(stops) != 2 {
			t.Fatalf("StopTask calls = %+v, want 2: one refused, one accepted the next cycle", stops)
		}
		for i, s := range stops {
			if s.TaskARN != over {
				t.Errorf("StopTask %d on %s; only %s may be stopped (service %s, bad tag %s, young %s)", i, s.TaskARN, over, svc, badTag, young)
			}
			if want := "ecs-uptime: ran 7h05m, over its max lifetime 6h"; s.Reason != want {
				t.Errorf("StopTask %d reason %q, want %q", i, s.Reason, want)
			}
		}
		if stops[0].Error != ecsfake.AccessDenied || stops[1].Error != "" {
			t.Errorf("StopTask answers %q, %q; want refused, then accepted", stops[0].Error, stops[1].Error)
		}
		allowedByPolicy(t, fake)
		if n, m := len(eventsTitled(ps, "stopping")), len(eventsTitled(ps, "stopped")); n != 1 || m != 1 {
			t.Errorf("%d stopping and %d stopped events, want 1 and 1", n, m)
		}
		if logs := p.stderr.String(); strings.Count(logs, "ECS refused to stop the task") != 1 {
			t.Errorf("the refusal is not logged exactly once:\n%s", logs)
		}
	})
}

// Misconfiguration of the api source stops the process at once with exit
// 2 and a line naming the variable.
func TestAPIModeBadConfiguration(t *testing.T) {
	fake := ecsfake.Start(t)
	agent := udpAgent(t)
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"no region anywhere", append(apiEnv(fake, agent), "AWS_REGION=", "AWS_DEFAULT_REGION="), "AWS_REGION"},
		{"container metrics", apiEnv(fake, agent, "ECS_UPTIME_CONTAINER_METRICS=true"), "ECS_UPTIME_CONTAINER_METRICS"},
		{"max lifetime", apiEnv(fake, agent, "ECS_UPTIME_MAX_LIFETIME=6h"), "ECS_UPTIME_MAX_LIFETIME"},
		{"clusters with the docker source", []string{"ECS_UPTIME_SOURCE=docker", "ECS_UPTIME_CLUSTERS=prod"}, "ECS_UPTIME_CLUSTERS"},
		{"stop tasks with auto", []string{"ECS_UPTIME_STOP_TASKS=true"}, "ECS_UPTIME_STOP_TASKS"},
		{"rate above the account's", apiEnv(fake, agent, "ECS_UPTIME_API_RATE=100"), "ECS_UPTIME_API_RATE"},
		{"an account that is not an ID", apiEnv(fake, agent, "ECS_UPTIME_ACCOUNTS=111111111111,prod"), "ECS_UPTIME_ACCOUNTS"},
		{"a role without accounts", apiEnv(fake, agent, "ECS_UPTIME_ROLE_NAME=reader"), "ECS_UPTIME_ROLE_NAME"},
		{"an external ID of one character", apiEnv(fake, agent, "ECS_UPTIME_ACCOUNTS=organization", "ECS_UPTIME_EXTERNAL_ID=x"), "ECS_UPTIME_EXTERNAL_ID"},
		{"no account-region at once", apiEnv(fake, agent, "ECS_UPTIME_ACCOUNTS=organization", "ECS_UPTIME_SCAN_CONCURRENCY=0"), "ECS_UPTIME_SCAN_CONCURRENCY"},
		{"all regions and one", apiEnv(fake, agent, "ECS_UPTIME_REGIONS=all,eu-west-1"), "ECS_UPTIME_REGIONS"},
		{"the organization with the docker source", []string{"ECS_UPTIME_SOURCE=docker", "ECS_UPTIME_ACCOUNTS=organization"}, "ECS_UPTIME_ACCOUNTS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, tc.env...)
			select {
			case <-p.done:
				p.done <- nil
			case <-time.After(20 * time.Second):
				t.Fatalf("still running after 20 s; logs:\n%s", p.stderr)
			}
			out := p.stderr.String()
			if code := p.cmd.ProcessState.ExitCode(); code != exitConfig || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d with %q, want exit 2 naming %s", code, out, tc.want)
			}
		})
	}
	if n := fake.Calls(""); n != 0 {
		t.Errorf("%d AWS API calls from processes with a bad configuration, want 0", n)
	}
}

// The singleton check over the api source, which sees every task of a
// cluster whatever host or launch type runs it: two db-migrate tasks of
// one cluster turn it CRITICAL naming both (with started_by) and send one
// event; a third sends none; stopping two turns it OK with no event (but
// the stop record of the one the onset named); the same family in another
// cluster keeps its own state.
func TestAPIModeSingletons(t *testing.T) {
	fake := ecsfake.Start(t)
	agent := &agentLog{Server: udpAgent(t)}
	now := time.Now()
	first := fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "db-migrate", Revision: 41, StartedBy: "ci/run-1", StartedAt: now.Add(-3 * time.Hour)})
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "stage", Family: "db-migrate", StartedAt: now.Add(-time.Hour)})
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "web", Group: "service:web", StartedAt: now.Add(-time.Hour)})
	p := start(t, apiEnv(fake, agent.Server, "ECS_UPTIME_INTERVAL=1s", "ECS_UPTIME_CRITICAL=0", "ECS_UPTIME_SINGLETONS=db-migrate")...)
	clusters := []string{"prod", "stage"}
	prod, stage := pair{"prod", "db-migrate"}, pair{"stage", "db-migrate"}
	ok := func(c receiver.Packet) bool { return c.Status == 0 }
	critical := func(c receiver.Packet) bool { return c.Status == 2 }

	i, _ := agent.waitCheck(t, p, clusters, prod, 0, "OK with one task", ok)
	agent.waitCheck(t, p, clusters, stage, 0, "OK with one task", ok)
	second := fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "db-migrate", Revision: 42, StartedBy: "ci/run-2", StartedAt: time.Now()})
	i, c := agent.waitCheck(t, p, clusters, prod, i+1, "CRITICAL with two tasks", critical)
	if !strings.Contains(c.Text, shortID(first)) || !strings.Contains(c.Text, shortID(second)) ||
		strings.Index(c.Text, shortID(first)) > strings.Index(c.Text, shortID(second)) || !strings.Contains(c.Text, "ci/run-1") {
		t.Errorf("CRITICAL message %q does not name both tasks oldest first with who started them", c.Text)
	}
	third := fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "db-migrate", StartedAt: time.Now()})
	i, _ = agent.waitCheck(t, p, clusters, prod, i+1, "CRITICAL naming the third task", func(c receiver.Packet) bool {
		return c.Status == 2 && strings.Contains(c.Text, shortID(third))
	})
	fake.SetLastStatus(second, "STOPPED")
	fake.SetLastStatus(third, "STOPPED")
	agent.waitCheck(t, p, clusters, prod, i+1, "OK after two stopped", ok)
	if code, _ := p.stop(t, syscall.SIGTERM); code != exitOK {
		t.Errorf("exit %d, want 0", code)
	}
	checks, events := agent.singletons(clusters...)
	// One onset, and the stop record of the task it named that stopped
	// (the third came after the onset: never judged, no record).
	onset, record := events[ecsfake.ClusterARN("eu-west-1", "prod")+"/db-migrate"], events[second]
	if len(events) != 2 || len(onset) != 1 || len(record) != 1 || !strings.Contains(record[0].Name, "stopped after") {
		t.Errorf("events by aggregation key = %v, want exactly one for prod's db-migrate and the stop record of %s", events, second)
	}
	for _, c := range checks[stage] {
		if c.Status != 0 {
			t.Errorf("stage's single db-migrate turned %d: %s", c.Status, c.Raw)
		}
	}
	if _, ok := checks[pair{"prod", "web"}]; ok {
		t.Error("a check for a family ECS_UPTIME_SINGLETONS does not name")
	}
}

// A build with -tags noapi (the lean sidecar build) links no AWS SDK and
// refuses the api source with exit 2, naming the tag.
func TestNoAPIBuild(t *testing.T) {
	lean := t.TempDir() + "/ecs-uptime-noapi"
	if out, err := exec.Command("go", "build", "-tags", "noapi", "-o", lean, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags noapi: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "version", "-m", lean).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "github.com/aws/") {
		t.Errorf("the noapi build links an AWS module:\n%s", out)
	}
	cmd := exec.Command(lean)
	cmd.Env = []string{"ECS_UPTIME_SOURCE=api", "AWS_REGION=eu-west-1", "ECS_UPTIME_HEALTH_PORT=0"}
	stderr, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != exitConfig || !strings.Contains(string(stderr), "-tags noapi") {
		t.Errorf("api source in the noapi build: exit %d, %q; want exit 2 naming the tag", code, stderr)
	}
	cmd = exec.Command(lean, "tasks")
	cmd.Env = []string{"AWS_REGION=eu-west-1"}
	stderr, _ = cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != exitConfig || !strings.Contains(string(stderr), "-tags noapi") {
		t.Errorf("tasks in the noapi build: exit %d, %q; want exit 2 naming the tag", code, stderr)
	}
}
