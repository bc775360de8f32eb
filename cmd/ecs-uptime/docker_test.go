package main

import (
	"math"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/docker/dockertest"
	"ecs-uptime/uptime/dogstatsd/receiver"
)

// ofTask keeps the packets tagged with the task ARN: the engine may be
// shared with other tests.
func ofTask(ps []receiver.Packet, arn string) []receiver.Packet {
	var out []receiver.Packet
	for _, p := range ps {
		if v, _ := p.Tag("task_arn"); v == arn {
			out = append(out, p)
		}
	}
	return out
}

// agentLog keeps every packet an agent received, since reading drains it.
type agentLog struct {
	*receiver.Server
	all []receiver.Packet
}

func newAgentLog(t *testing.T) *agentLog { return &agentLog{Server: udpAgent(t)} }

// drain adds what arrived to the log and returns it.
func (a *agentLog) drain() []receiver.Packet {
	ps, _ := a.Packets()
	a.all = append(a.all, ps...)
	return ps
}

// wait waits until n packets named name for the task arrived since the
// last wait, and returns them.
func (a *agentLog) wait(arn, name string, n int, within time.Duration) []receiver.Packet {
	var got []receiver.Packet
	deadline := time.After(within)
	for {
		for _, p := range ofTask(a.drain(), arn) {
			if p.Name == name {
				got = append(got, p)
			}
		}
		if len(got) >= n {
			return got
		}
		select {
		case <-a.Updates():
		case <-deadline:
			return got
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// The host daemon reports every labelled task on the engine, with the same
// names and tags as the sidecar, and nothing for other containers.
func TestDockerModeReportsEveryTask(t *testing.T) {
	host := dockertest.Host(t)
	img := dockertest.Image(t)
	migrate := dockertest.TaskARN("eu-west-1", "123456789012", "billing")
	web := dockertest.TaskARN("eu-west-1", "123456789012", "web-prod")
	initID := dockertest.Run(t, host, dockertest.Container{TaskARN: migrate, Cluster: "billing", Family: "db-migrate", Version: "42", Name: "wait-for-db", Command: []string{"true"}})
	dockertest.WaitExited(t, host, initID)
	appID := dockertest.Run(t, host, dockertest.Container{TaskARN: migrate, Cluster: "billing", Family: "db-migrate", Version: "42", Name: "migrate"})
	dockertest.Run(t, host, dockertest.Container{TaskARN: migrate, Cluster: "billing", Family: "db-migrate", Version: "42", Name: "~internal~ecs~pause"})
	webID := dockertest.Run(t, host, dockertest.Container{TaskARN: web, Cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/web-prod", Family: "web", Version: "7", Name: "nginx"})
	dockertest.Run(t, host, dockertest.Container{Name: "unlabelled"})
	taskStart := map[string]time.Time{migrate: dockertest.StartedAt(t, host, initID), web: dockertest.StartedAt(t, host, webID)}

	agent := newAgentLog(t)
	p := start(t, "ECS_UPTIME_SOURCE=docker", "DOCKER_HOST="+host, "DD_DOGSTATSD_URL=udp://"+agent.Addr(),
		"ECS_UPTIME_INTERVAL=500ms", "ECS_UPTIME_CRITICAL=0", "ECS_UPTIME_CONTAINER_METRICS=true", "ECS_UPTIME_TAGS=team:ops")

	name := func(id string) string {
		return strings.TrimPrefix(dockertest.Docker(t, host, "inspect", "-f", "{{.Name}}", id), "/")
	}
	tests := []struct {
		arn       string
		taskTags  []string
		container string // ID of the one running container
		ctrTags   []string
	}{
		{migrate,
			[]string{"task_arn:" + migrate, "task_name:db-migrate", "task_family:db-migrate", "task_version:42", "ecs_cluster_name:billing",
				"cluster_arn:arn:aws:ecs:eu-west-1:123456789012:cluster/billing", "region:eu-west-1", "aws_account:123456789012", "team:ops",
				"ecs_task_kind:unknown"}, // no container carries ECS_CONTAINER_METADATA_URI_V4
			appID,
			[]string{"ecs_container_name:migrate", "container_name:" + name(appID), "container_id:" + appID, "docker_image:" + img,
				"image_name:ecs-uptime-test/busybox", "short_image:busybox", "image_tag:1"}},
		{web,
			[]string{"task_arn:" + web, "task_name:web", "task_family:web", "task_version:7", "ecs_cluster_name:web-prod",
				"cluster_arn:arn:aws:ecs:eu-west-1:123456789012:cluster/web-prod", "region:eu-west-1", "aws_account:123456789012", "team:ops",
				"ecs_task_kind:unknown"},
			webID,
			[]string{"ecs_container_name:nginx", "container_name:" + name(webID), "container_id:" + webID, "docker_image:" + img,
				"image_name:ecs-uptime-test/busybox", "short_image:busybox", "image_tag:1"}},
	}
	for _, tt := range tests {
		gauges := agent.wait(tt.arn, "ecs.task.uptime", 2, 10*time.Second)
		if len(gauges) < 2 {
			t.Fatalf("task %s: %d ecs.task.uptime gauges in 10 s, want 2; logs:\n%s", tt.arn, len(gauges), p.stderr)
		}
		g := gauges[len(gauges)-1]
		if !slices.Equal(sorted(g.Tags), sorted(tt.taskTags)) {
			t.Errorf("ecs.task.uptime tags\n got %q\nwant %q", sorted(g.Tags), sorted(tt.taskTags))
		}
		// The value is the age at send time; it was received just now.
		if want := time.Since(taskStart[tt.arn]).Seconds(); math.Abs(g.Value-want) > 1 {
			t.Errorf("task %s uptime %.3f s, want %.3f ± 1 s (from the earliest start, the exited init container's)", tt.arn, g.Value, want)
		}
	}
	agent.drain()
	all := agent.all
	for _, tt := range tests {
		var ctrs []receiver.Packet
		for _, pk := range ofTask(all, tt.arn) {
			if pk.Name == "ecs.container.uptime" {
				ctrs = append(ctrs, pk)
			}
		}
		if len(ctrs) == 0 {
			t.Errorf("task %s: no ecs.container.uptime", tt.arn)
			continue
		}
		for _, c := range ctrs {
			if id, _ := c.Tag("container_id"); id != tt.container {
				t.Errorf("task %s: container gauge for %s, want only the running container %s", tt.arn, id, tt.container)
			}
			if want := sorted(append(slices.Clone(tt.taskTags), tt.ctrTags...)); !slices.Equal(sorted(c.Tags), want) {
				t.Errorf("ecs.container.uptime tags\n got %q\nwant %q", sorted(c.Tags), want)
			}
		}
	}
	for _, pk := range all {
		if v, ok := pk.Tag("ecs_container_name"); ok && (v == "~internal~ecs~pause" || v == "unlabelled") {
			t.Errorf("reported a container that must not count: %q", pk.Raw)
		}
	}
	if code, _ := p.stop(t, syscall.SIGTERM); code != exitOK {
		t.Errorf("SIGTERM: exit %d, want 0", code)
	}
	if !strings.Contains(p.stderr.String(), `"source":"docker"`) {
		t.Errorf("the start-up line does not name the docker source:\n%s", p.stderr)
	}
}

// The engine stops under the host daemon: the process keeps running, sends
// nothing, logs the outage once, and carries the same series on when the
// engine is back.
func TestDockerModeSurvivesEngineRestart(t *testing.T) {
	d := dockertest.StartDaemon(t)
	arn := dockertest.TaskARN("eu-west-1", "123456789012", "ops")
	dockertest.Run(t, d.Host, dockertest.Container{TaskARN: arn, Cluster: "ops", Family: "console", Version: "3", Name: "shell"})
	agent := newAgentLog(t)
	p := start(t, "ECS_UPTIME_SOURCE=docker", "DOCKER_HOST="+d.Host, "DD_DOGSTATSD_URL=udp://"+agent.Addr(), "ECS_UPTIME_INTERVAL=200ms", "ECS_UPTIME_CRITICAL=0")
	before := agent.wait(arn, "ecs.task.uptime", 2, 10*time.Second)
	if len(before) < 2 {
		t.Fatalf("nothing sent while the engine was up; logs:\n%s", p.stderr)
	}

	d.Stop()
	time.Sleep(300 * time.Millisecond) // a cycle in flight may still land
	agent.Packets()
	time.Sleep(time.Second)
	if during, _ := agent.Packets(); len(during) != 0 {
		t.Fatalf("sent %d packets while the engine was down: %v", len(during), during)
	}
	select {
	case err := <-p.done:
		t.Fatalf("the process ended when the engine stopped: %v\n%s", err, p.stderr)
	default:
	}

	d.Start()
	after := agent.wait(arn, "ecs.task.uptime", 1, 15*time.Second)
	if len(after) == 0 {
		t.Fatalf("nothing sent after the engine came back; logs:\n%s", p.stderr)
	}
	if last := before[len(before)-1].Value; after[0].Value <= last+1 {
		t.Errorf("after the engine restart uptime = %.1f, before = %.1f: the series did not carry on", after[0].Value, last)
	}
	if code, _ := p.stop(t, os.Interrupt); code != exitOK {
		t.Errorf("SIGINT: exit %d, want 0", code)
	}
	logs := p.stderr.String()
	if strings.Count(logs, "cannot read tasks") != 1 || strings.Count(logs, "source answers again") != 1 {
		t.Errorf("want one log line for the outage and one for the recovery:\n%s", logs)
	}
}

// auto picks docker when no metadata endpoint is set and the engine
// answers, and exits 2 saying what to set when neither is there.
func TestAutoSource(t *testing.T) {
	host := dockertest.Host(t)
	arn := dockertest.TaskARN("eu-west-1", "123456789012", "ops")
	dockertest.Run(t, host, dockertest.Container{TaskARN: arn, Cluster: "ops", Family: "f", Version: "1", Name: "app"})
	agent := newAgentLog(t)
	p := start(t, "DOCKER_HOST="+host, "DD_DOGSTATSD_URL=udp://"+agent.Addr(), "ECS_UPTIME_INTERVAL=200ms")
	if got := agent.wait(arn, "ecs.task.uptime", 1, 10*time.Second); len(got) == 0 {
		t.Errorf("auto with an engine: nothing sent for the task")
	}
	if code, _ := p.stop(t, syscall.SIGTERM); code != exitOK || !strings.Contains(p.stderr.String(), `"source":"docker"`) {
		t.Errorf("auto with an engine: exit %d, logs:\n%s\nwant the docker source and exit 0", code, p.stderr)
	}

	for _, tc := range []struct {
		name string
		env  []string
		want []string // in the message
	}{
		{"nothing to read", []string{"DOCKER_HOST=unix://" + t.TempDir() + "/no.sock"},
			[]string{"ECS_UPTIME_SOURCE=auto", "ECS_CONTAINER_METADATA_URI_V4", "DOCKER_HOST"}},
		// The daemon must never stop tasks it does not own, however docker was chosen.
		{"max lifetime when docker is picked", []string{"DOCKER_HOST=" + host, "ECS_UPTIME_MAX_LIFETIME=1s"},
			[]string{"ECS_UPTIME_MAX_LIFETIME=1s", "ECS_UPTIME_SOURCE=auto", "docker"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, append(tc.env, "DD_DOGSTATSD_URL=udp://"+agent.Addr())...)
			select {
			case err := <-p.done:
				p.done <- err // for the cleanup
			case <-time.After(10 * time.Second):
				t.Fatal("did not exit")
			}
			if code := p.cmd.ProcessState.ExitCode(); code != exitConfig {
				t.Errorf("exit %d, want %d", code, exitConfig)
			}
			msg := p.stderr.String()
			for _, want := range tc.want {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q:\n%s", want, msg)
				}
			}
		})
	}
}
