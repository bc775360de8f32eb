package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// The cluster scan tells a service's task (group service:NAME) from a
// one-off, and ECS_UPTIME_SERVICE_TASKS scopes the judgement. The kind
// comes from the ecsapi source of branch tasks.
func TestScanServiceTasks(t *testing.T) {
	now := time.Now()
	tests := []struct {
		policy      string
		svcSent     bool
		svcJudged   bool
		oneOffCheck bool
	}{
		{"", true, false, true},
		{"judge", true, true, true},
		{"skip", false, false, true},
	}
	for _, tc := range tests {
		name := tc.policy
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := ecsfake.Start(t)
			agent := udpAgent(t)
			svc := fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "web", Group: "service:web",
				StartedBy: "ecs-svc/1234567890123456789", StartedAt: now.Add(-50 * time.Hour)})
			job := fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "db-migrate", StartedBy: "ci/deploy-1",
				StartedAt: now.Add(-30 * time.Hour)})
			env := []string{"ECS_UPTIME_REGIONS=eu-west-1", "ECS_UPTIME_INTERVAL=500ms"}
			if tc.policy != "" {
				env = append(env, "ECS_UPTIME_SERVICE_TASKS="+tc.policy)
			}
			p := start(t, apiEnv(fake, agent, env...)...)
			ps := collectFor(agent, 2500*time.Millisecond)
			if code, _ := p.stop(t, syscall.SIGTERM); code != exitOK {
				t.Fatalf("exit %d, want 0; logs:\n%s", code, p.stderr)
			}
			per := map[string]map[string]int{} // task ARN → name → count
			kindOf := map[string]string{}
			for _, pk := range ps {
				arn, _ := pk.Tag("task_arn")
				if per[arn] == nil {
					per[arn] = map[string]int{}
				}
				name := pk.Name
				if pk.Kind == receiver.Event {
					name = "event"
				}
				per[arn][name]++
				kindOf[arn], _ = pk.Tag("ecs_task_kind")
			}
			if per[job]["ecs.task.uptime"] < 2 || per[job]["ecs.task.lifetime"] < 2 || per[job]["event"] != 1 || kindOf[job] != "standalone" {
				t.Errorf("the one-off: %v, kind %q; want gauges, checks, one event, standalone", per[job], kindOf[job])
			}
			switch {
			case !tc.svcSent && len(per[svc]) > 0:
				t.Errorf("the skipped service task: %v, want nothing", per[svc])
			case tc.svcSent && (per[svc]["ecs.task.uptime"] < 2 || kindOf[svc] != "service"):
				t.Errorf("the service task: %v, kind %q; want its gauges, tagged service", per[svc], kindOf[svc])
			case tc.svcSent && (per[svc]["ecs.task.lifetime"] > 0) != tc.svcJudged:
				t.Errorf("the service task: %v; want judged %v", per[svc], tc.svcJudged)
			}
			if strings.Contains(p.stderr.String(), `level=ERROR`) {
				t.Errorf("errors logged:\n%s", p.stderr)
			}
		})
	}
}
