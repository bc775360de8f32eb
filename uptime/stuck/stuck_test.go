package stuck

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime"
)

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

const arnA = "arn:aws:ecs:eu-west-1:123456789012:task/jobs/5c2f0b9e8d7a4e31a6f0c1d2e3b4a596"
const arnB = "arn:aws:ecs:eu-west-1:123456789012:task/jobs/7a1b2c3d4e5f60718293a4b5c6d7e8f9"

// task is a task of db-migrate:42 in that status, created created before
// t0, started started before t0 and stopping stopping before t0 (each
// unknown when 0).
func task(arn, status string, created, started, stopping time.Duration) uptime.Task {
	t := uptime.Task{ARN: arn, Family: "db-migrate", Revision: "42", Cluster: "jobs", Region: "eu-west-1", Status: status}
	for _, f := range []struct {
		d  time.Duration
		to *time.Time
	}{{created, &t.CreatedAt}, {started, &t.StartedAt}, {stopping, &t.StoppingAt}} {
		if f.d != 0 {
			*f.to = t0.Add(-f.d)
		}
	}
	return t
}

// cycle is one cycle at t0+at: the tasks of Others, the running ones, the
// held ones.
type cycle struct {
	at      time.Duration
	others  []uptime.Task
	running []uptime.Task
	held    []string
	want    []string // the signals, in order (see line)
}

// line gives the signals one a line, gauges, then checks, then events:
// "gauge NAME a PROVISIONING 3900", "check NAME a PENDING CRITICAL: message",
// "event a error: title".
func line(s *uptime.Signals) []string {
	short := func(arn string) string {
		switch arn {
		case arnA:
			return "a"
		case arnB:
			return "b"
		}
		return arn
	}
	var out []string
	for _, g := range s.Gauges {
		out = append(out, fmt.Sprintf("gauge %s %s %s %g", g.Name, short(g.About.Task.ARN), g.About.Status, g.Value))
	}
	for _, c := range s.Checks {
		out = append(out, fmt.Sprintf("check %s %s %s %s: %s", c.Name, short(c.About.Task.ARN), c.About.Status, c.Status, c.Message))
	}
	for _, e := range s.Events {
		out = append(out, fmt.Sprintf("event %s %s: %s", short(e.Key), e.Alert, e.Title))
	}
	return out
}

func TestWatch(t *testing.T) {
	h := time.Hour
	for _, tc := range []struct {
		name   string
		policy Policy
		cycles []cycle
	}{
		{"PROVISIONING aged from createdAt: OK, CRITICAL at exactly the threshold with one onset, then to RUNNING: one last OK", Policy{After: h}, []cycle{
			{at: 0, others: []uptime.Task{task(arnA, "PROVISIONING", 59*time.Minute, 0, 0)}, want: []string{
				"gauge ecs.task.status_age a PROVISIONING 3540",
				"check ecs.task.stuck a PROVISIONING OK: task db-migrate:42 (…/5c2f0b9e…) in PROVISIONING for 59m, under 1h"}},
			{at: time.Minute, others: []uptime.Task{task(arnA, "PROVISIONING", 59*time.Minute, 0, 0)}, want: []string{
				"gauge ecs.task.status_age a PROVISIONING 3600",
				"check ecs.task.stuck a PROVISIONING CRITICAL: task db-migrate:42 (…/5c2f0b9e…) in PROVISIONING for 1h, over 1h",
				"event a error: ECS task db-migrate:42 (…/5c2f0b9e…) stuck in PROVISIONING for 1h"}},
			{at: 6 * time.Minute, others: []uptime.Task{task(arnA, "PROVISIONING", 59*time.Minute, 0, 0)}, want: []string{
				"gauge ecs.task.status_age a PROVISIONING 3900",
				"check ecs.task.stuck a PROVISIONING CRITICAL: task db-migrate:42 (…/5c2f0b9e…) in PROVISIONING for 1h05m, over 1h"}},
			{at: 7 * time.Minute, running: []uptime.Task{task(arnA, "RUNNING", 59*time.Minute, -7*time.Minute, 0)}, want: []string{
				"check ecs.task.stuck a PROVISIONING OK: task db-migrate:42 (…/5c2f0b9e…) left PROVISIONING: now RUNNING"}},
			{at: 8 * time.Minute, running: []uptime.Task{task(arnA, "RUNNING", 59*time.Minute, -7*time.Minute, 0)}, want: nil},
		}},
		{"a new status is a new series, aged as its part of the lifecycle says, with its own onset", Policy{After: h}, []cycle{
			{others: []uptime.Task{task(arnA, "PROVISIONING", 2*h, 0, 0)}, want: []string{
				"gauge ecs.task.status_age a PROVISIONING 7200",
				"check ecs.task.stuck a PROVISIONING CRITICAL: task db-migrate:42 (…/5c2f0b9e…) in PROVISIONING for 2h, over 1h",
				"event a error: ECS task db-migrate:42 (…/5c2f0b9e…) stuck in PROVISIONING for 2h"}},
			{at: time.Minute, others: []uptime.Task{task(arnA, "PENDING", 2*h, 0, 0)}, want: []string{
				"gauge ecs.task.status_age a PENDING 7260",
				"check ecs.task.stuck a PROVISIONING OK: task db-migrate:42 (…/5c2f0b9e…) left PROVISIONING: now PENDING",
				"check ecs.task.stuck a PENDING CRITICAL: task db-migrate:42 (…/5c2f0b9e…) in PENDING for 2h01m, over 1h",
				"event a error: ECS task db-migrate:42 (…/5c2f0b9e…) stuck in PENDING for 2h01m"}},
		}},
		{"DEACTIVATING since before the process started: aged from stoppingAt, announced once, then STOPPED", Policy{After: h}, []cycle{
			{others: []uptime.Task{task(arnB, "DEACTIVATING", 30*h, 29*h, 3*h)}, want: []string{
				"gauge ecs.task.status_age b DEACTIVATING 10800",
				"check ecs.task.stuck b DEACTIVATING CRITICAL: task db-migrate:42 (…/7a1b2c3d…) in DEACTIVATING for 3h, over 1h",
				"event b error: ECS task db-migrate:42 (…/7a1b2c3d…) stuck in DEACTIVATING for 3h"}},
			{at: time.Minute, others: []uptime.Task{task(arnB, "DEACTIVATING", 30*h, 29*h, 3*h)}, want: []string{
				"gauge ecs.task.status_age b DEACTIVATING 10860",
				"check ecs.task.stuck b DEACTIVATING CRITICAL: task db-migrate:42 (…/7a1b2c3d…) in DEACTIVATING for 3h01m, over 1h"}},
			{at: 2 * time.Minute, others: []uptime.Task{task(arnB, "STOPPED", 30*h, 29*h, 3*h)}, want: []string{
				"check ecs.task.stuck b DEACTIVATING OK: task db-migrate:42 (…/7a1b2c3d…) left DEACTIVATING: now STOPPED"}},
			{at: 3 * time.Minute, want: nil},
		}},
		{"held while its part is unread, then gone from the reads: one last OK", Policy{After: h}, []cycle{
			{others: []uptime.Task{task(arnA, "STOPPING", 30*h, 29*h, 10*time.Minute)}, want: []string{
				"gauge ecs.task.status_age a STOPPING 600",
				"check ecs.task.stuck a STOPPING OK: task db-migrate:42 (…/5c2f0b9e…) in STOPPING for 10m, under 1h"}},
			{at: time.Minute, held: []string{arnA}, want: nil},
			{at: 2 * time.Minute, want: []string{
				"check ecs.task.stuck a STOPPING OK: task db-migrate:42 (…/5c2f0b9e…) left STOPPING: no longer listed"}},
		}},
		{"off (0): the gauge alone, no check, no event, no last OK", Policy{}, []cycle{
			{others: []uptime.Task{task(arnA, "PENDING", 5*h, 0, 0)}, want: []string{"gauge ecs.task.status_age a PENDING 18000"}},
			{at: time.Minute, others: []uptime.Task{task(arnA, "STOPPED", 5*h, 0, 0)}, want: nil},
		}},
		{"no createdAt: aged from the first cycle that saw it; a start in the future is 0", Policy{After: h}, []cycle{
			{others: []uptime.Task{task(arnA, "ACTIVATING", 0, 0, 0), task(arnB, "DEPROVISIONING", 2*h, h, -time.Minute)}, want: []string{
				"gauge ecs.task.status_age a ACTIVATING 0",
				"gauge ecs.task.status_age b DEPROVISIONING 0",
				"check ecs.task.stuck a ACTIVATING OK: task db-migrate:42 (…/5c2f0b9e…) in ACTIVATING for 0s, under 1h",
				"check ecs.task.stuck b DEPROVISIONING OK: task db-migrate:42 (…/7a1b2c3d…) in DEPROVISIONING for 0s, under 1h"}},
			{at: 30 * time.Minute, others: []uptime.Task{task(arnA, "ACTIVATING", 0, 0, 0)}, want: []string{
				"gauge ecs.task.status_age a ACTIVATING 1800",
				"check ecs.task.stuck a ACTIVATING OK: task db-migrate:42 (…/5c2f0b9e…) in ACTIVATING for 30m, under 1h",
				"check ecs.task.stuck b DEPROVISIONING OK: task db-migrate:42 (…/7a1b2c3d…) left DEPROVISIONING: no longer listed"}},
		}},
		{"RUNNING, STOPPED and tasks of sources without statuses are not judged", Policy{After: h}, []cycle{
			{others: []uptime.Task{task(arnA, "STOPPED", 5*h, 4*h, 2*h), task(arnB, "", 5*h, 0, 0)},
				running: []uptime.Task{task("c", "RUNNING", 5*h, 4*h, 0)}, want: nil},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := New(tc.policy)
			for i, cy := range tc.cycles {
				c := &uptime.Cycle{At: t0.Add(cy.at), Others: cy.others, Held: cy.held}
				for _, r := range cy.running {
					c.Tasks = append(c.Tasks, uptime.TaskUptime{Task: &r})
				}
				var s uptime.Signals
				w.Judge(c, &s)
				if got := line(&s); !slices.Equal(got, cy.want) {
					t.Errorf("cycle %d:\n got %s\nwant %s", i, strings.Join(got, "\n     "), strings.Join(cy.want, "\n     "))
				}
			}
		})
	}
}

// The onset event: the message, when the task was created, started and
// began to stop, its size and use where known, its details; about the task
// alone (no status tag), keyed by its ARN.
func TestOnsetEvent(t *testing.T) {
	h := time.Hour
	for _, tc := range []struct {
		name string
		task uptime.Task
		want string
	}{
		{"stuck on its way to stop, with a size: what it used while it ran and held", func() uptime.Task {
			t := task(arnB, "DEACTIVATING", 27*h+time.Minute, 26*h+3*time.Minute, 2*h)
			t.CPU, t.Memory, t.StartedBy = "1024", "2048", "ci/deploy-7"
			return t
		}(), "CRITICAL: task db-migrate:42 (…/7a1b2c3d…) in DEACTIVATING for 2h, over 1h\n" +
			"created 2026-12-02T05:59:00Z, started 2026-12-02T06:57:00Z, stopping since 2026-12-03T07:00:00Z\n" +
			"1 vCPU, 2 GB: 26.1 vCPU-hours, 52.1 GB-hours\n" +
			"task_arn: " + arnB + "\ncluster: jobs\nstarted_by: ci/deploy-7"},
		{"never started: its size alone", func() uptime.Task {
			t := task(arnA, "PROVISIONING", 65*time.Minute, 0, 0)
			t.CPU, t.Memory = "256", "512"
			return t
		}(), "CRITICAL: task db-migrate:42 (…/5c2f0b9e…) in PROVISIONING for 1h05m, over 1h\n" +
			"created 2026-12-03T07:55:00Z\n0.25 vCPU, 0.5 GB\ntask_arn: " + arnA + "\ncluster: jobs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := New(Policy{After: h})
			var s uptime.Signals
			c := &uptime.Cycle{At: t0, Others: []uptime.Task{tc.task}}
			w.Judge(c, &s)
			if len(s.Events) != 1 {
				t.Fatalf("%d events, want the onset", len(s.Events))
			}
			e := s.Events[0]
			if e.Text != tc.want {
				t.Errorf("text\n got %q\nwant %q", e.Text, tc.want)
			}
			if e.Key != tc.task.ARN || e.About.Task != &c.Others[0] || e.About.Status != "" || !e.At.Equal(t0) {
				t.Errorf("event about %+v key %q at %v; want the task itself, no status tag, its ARN, the cycle's time", e.About, e.Key, e.At)
			}
		})
	}
}
