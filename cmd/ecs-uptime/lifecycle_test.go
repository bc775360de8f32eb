package main

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// until waits until a packet that ok accepts arrived (since the run
// started) and returns it, or fails the test naming what.
func (a *agentLog) until(t *testing.T, p *process, what string, ok func(receiver.Packet) bool) receiver.Packet {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		a.drain()
		if i := slices.IndexFunc(a.all, ok); i >= 0 {
			return a.all[i]
		}
		select {
		case <-a.Updates():
		case <-deadline:
			var got []string
			for _, p := range a.all {
				got = append(got, p.Raw)
			}
			t.Fatalf("no %s in 20 s; received:\n%s\nlogs:\n%s", what, strings.Join(got, "\n"), p.stderr)
		}
	}
}

func about(arn string) func(receiver.Packet) bool {
	return func(p receiver.Packet) bool { a, _ := p.Tag("task_arn"); return a == arn }
}

func check(name, arn, status string, code int) func(receiver.Packet) bool {
	return func(p receiver.Packet) bool {
		st, _ := p.Tag("ecs_task_status")
		return p.Kind == receiver.ServiceCheck && p.Name == name && about(arn)(p) && st == status && p.Status == code
	}
}

func event(arn, titlePart string) func(receiver.Packet) bool {
	return func(p receiver.Packet) bool {
		return p.Kind == receiver.Event && p.Fields["k"] == arn && strings.Contains(p.Name, titlePart)
	}
}

// The task lifecycle end to end, the binary against the fake ECS API,
// tasks moving through their statuses between cycles: one stuck in
// DEACTIVATING since before the scanner started and one stuck in
// PROVISIONING are aged and turn ecs.task.stuck CRITICAL with one onset
// each, with their size; the PROVISIONING one then runs (a last OK, and its
// uptime from its startedAt); a migration that crossed the critical
// threshold stops with exit codes and gets one "stopped after" record; the
// stuck DEACTIVATING one stops too and gets its record; a young PENDING
// task stays OK and, never judged, gets no record. ECS Exec tags its task.
func TestAPIModeLifecycle(t *testing.T) {
	fake := ecsfake.Start(t)
	agent := &agentLog{Server: udpAgent(t)}
	now := time.Now()
	const region, cluster = "eu-west-1", "jobs"
	prov := fake.AddTask(ecsfake.Task{Region: region, Cluster: cluster, Family: "nightly", Revision: 3, LastStatus: "PROVISIONING",
		CreatedAt: now.Add(-90 * time.Minute), CPU: "1024", Memory: "2048"})
	deact := fake.AddTask(ecsfake.Task{Region: region, Cluster: cluster, Family: "etl", LastStatus: "DEACTIVATING",
		StartedAt: now.Add(-30 * time.Hour), StoppingAt: now.Add(-2 * time.Hour), CPU: "256", Memory: "512", Containers: []string{"etl", "log-router"}})
	mig := fake.AddTask(ecsfake.Task{Region: region, Cluster: cluster, Family: "db-migrate", Revision: 42, StartedBy: "ci/deploy-7",
		StartedAt: now.Add(-26*time.Hour - 3*time.Minute), CPU: "1024", Memory: "2048", ExecEnabled: true, Containers: []string{"init", "migrate"}})
	pending := fake.AddTask(ecsfake.Task{Region: region, Cluster: cluster, Family: "report", LastStatus: "PENDING"})

	p := start(t, apiEnv(fake, agent.Server, "ECS_UPTIME_INTERVAL=1s", "ECS_UPTIME_CRITICAL=24h", "ECS_UPTIME_API_RATE=20")...)

	// The first cycles: stuck, aged, announced; the migration's threshold
	// event with its size and use; the young PENDING task OK.
	agent.until(t, p, "CRITICAL stuck check of the PROVISIONING task", check("ecs.task.stuck", prov, "PROVISIONING", 2))
	agent.until(t, p, "CRITICAL stuck check of the DEACTIVATING task", check("ecs.task.stuck", deact, "DEACTIVATING", 2))
	agent.until(t, p, "OK stuck check of the young PENDING task", check("ecs.task.stuck", pending, "PENDING", 0))
	onset := agent.until(t, p, "the DEACTIVATING task's onset", event(deact, "stuck in DEACTIVATING for 2h"))
	if !strings.Contains(onset.Text, "0.25 vCPU, 0.5 GB: 7.5 vCPU-hours, 15.0 GB-hours") || onset.Fields["t"] != "error" {
		t.Errorf("onset %q (alert %s): want the size and 30h of use, alert error", onset.Text, onset.Fields["t"])
	}
	agent.until(t, p, "the PROVISIONING task's onset", event(prov, "stuck in PROVISIONING for 1h30m"))
	age := agent.until(t, p, "the DEACTIVATING task's status age", func(r receiver.Packet) bool {
		st, _ := r.Tag("ecs_task_status")
		return r.Kind == receiver.Metric && r.Name == "ecs.task.status_age" && about(deact)(r) && st == "DEACTIVATING"
	})
	if lo, hi := 2*time.Hour.Seconds(), time.Since(now).Seconds()+2*time.Hour.Seconds(); age.Value < lo-1 || age.Value > hi+1 {
		t.Errorf("status age %.0f s, want about 2h (since stoppingAt)", age.Value)
	}
	crossed := agent.until(t, p, "the migration's threshold event", event(mig, "running for 26h03m"))
	if !strings.Contains(crossed.Text, "1 vCPU, 2 GB: 26.1 vCPU-hours, 52.1 GB-hours") {
		t.Errorf("threshold event %q: want the size and use", crossed.Text)
	}
	if !slices.Contains(crossed.Tags, "ecs_exec:enabled") {
		t.Errorf("the migration's tags %q lack ecs_exec:enabled", crossed.Tags)
	}

	// PROVISIONING to RUNNING; RUNNING to STOPPED with exit codes.
	fake.SetLastStatus(prov, "RUNNING")
	fake.StopAs(mig, "EssentialContainerExited", "Essential container in task exited",
		ecsfake.Exit{Container: "init", Code: ecsfake.Code(0)},
		ecsfake.Exit{Container: "migrate", Code: ecsfake.Code(1), Reason: "OutOfMemoryError: Container killed due to memory usage"})
	agent.until(t, p, "the last OK of the PROVISIONING series", func(r receiver.Packet) bool {
		return check("ecs.task.stuck", prov, "PROVISIONING", 0)(r) && strings.Contains(r.Text, "now RUNNING")
	})
	agent.until(t, p, "the uptime of the task that ran at last", func(r receiver.Packet) bool {
		return r.Kind == receiver.Metric && r.Name == "ecs.task.uptime" && about(prov)(r)
	})
	record := agent.until(t, p, "the migration's stop record", event(mig, "stopped after 26h0"))
	for _, want := range []string{"stop code: EssentialContainerExited", "stopped reason: Essential container in task exited",
		"container init: exit code 0", "container migrate: exit code 1, OutOfMemoryError: Container killed due to memory usage",
		"1 vCPU, 2 GB: 26.", "started_by: ci/deploy-7"} {
		if !strings.Contains(record.Text, want) {
			t.Errorf("stop record %q lacks %q", record.Text, want)
		}
	}
	if record.Fields["t"] != "error" || !strings.HasPrefix(record.Name, "ECS task db-migrate:42 (") {
		t.Errorf("stop record %q alert %s", record.Name, record.Fields["t"])
	}

	// The stuck DEACTIVATING task finally stops: a last OK and its record.
	fake.StopAs(deact, "", "", ecsfake.Exit{Container: "etl", Code: ecsfake.Code(137)})
	agent.until(t, p, "the last OK of the DEACTIVATING series", func(r receiver.Packet) bool {
		return check("ecs.task.stuck", deact, "DEACTIVATING", 0)(r) && strings.Contains(r.Text, "now STOPPED")
	})
	agent.until(t, p, "the DEACTIVATING task's stop record", event(deact, "stopped after 3"))
	// One more cycle, so that nothing is sent twice after it.
	gauge := func(r receiver.Packet) bool { return r.Name == "ecs.task.uptime" && about(prov)(r) }
	agent.drain()
	before := len(slices.DeleteFunc(slices.Clone(agent.all), func(r receiver.Packet) bool { return !gauge(r) }))
	agent.until(t, p, "two cycles more", func(receiver.Packet) bool {
		return len(slices.DeleteFunc(slices.Clone(agent.all), func(r receiver.Packet) bool { return !gauge(r) })) >= before+2
	})

	if code, _ := p.stop(t, syscall.SIGTERM); code != exitOK {
		t.Errorf("exit %d after SIGTERM, want 0; logs:\n%s", code, p.stderr)
	}
	agent.drain()
	count := map[string]int{}
	for _, r := range agent.all {
		if r.Kind == receiver.Event {
			count[fmt.Sprintf("%s %s", short(r.Fields["k"], prov, deact, mig, pending), eventKind(r.Name))]++
		}
		if r.Name == "ecs.task.uptime" && (about(deact)(r) || about(pending)(r)) {
			t.Errorf("an uptime for a task that never ran while watched: %s", r.Raw)
		}
	}
	want := map[string]int{"prov stuck": 1, "deact stuck": 1, "deact stopped": 1, "mig running": 1, "mig stopped": 1}
	if !mapsEqual(count, want) {
		t.Errorf("events over the run = %v, want %v", count, want)
	}
	allowedByPolicy(t, fake)
}

func short(arn, prov, deact, mig, pending string) string {
	switch arn {
	case prov:
		return "prov"
	case deact:
		return "deact"
	case mig:
		return "mig"
	case pending:
		return "pending"
	}
	return arn
}

func eventKind(title string) string {
	for _, k := range []string{"stuck", "stopped", "running"} {
		if strings.Contains(title, " "+k+" ") {
			return k
		}
	}
	return title
}
