package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/config"
	"ecs-uptime/uptime/dogstatsd/receiver"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// script is a Source that returns one prepared read per cycle.
type script struct {
	reads [][]uptime.Task
	n     int
}

func (s *script) Tasks(context.Context) ([]uptime.Task, error) {
	if s.n >= len(s.reads) {
		return nil, errors.New("script: no more reads")
	}
	s.n++
	return s.reads[s.n-1], nil
}

// stops records StopTask calls and refuses the first one of each task, so
// that a run shows a refused stop retried.
type stops struct {
	mu    sync.Mutex
	calls []string
	seen  map[string]bool
}

func (s *stops) StopTask(_ context.Context, t uptime.Task, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, t.ARN+" "+reason)
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if !s.seen[t.ARN] {
		s.seen[t.ARN] = true
		return errors.New("ThrottlingException: rate exceeded")
	}
	return nil
}

// wireRun is one scripted run: the environment, the reads and the clock of
// each cycle.
type wireRun struct {
	name    string
	env     map[string]string
	at      []time.Time
	reads   [][]uptime.Task
	stopper bool
}

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

func sidecarRun() wireRun {
	arn := "arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c"
	task := func() uptime.Task {
		return uptime.Task{ARN: arn, Family: "curltest", Revision: "26", Cluster: "default",
			ClusterARN: "arn:aws:ecs:us-west-2:111122223333:cluster/default", Region: "us-west-2", Account: "111122223333",
			AvailabilityZone: "us-west-2d", Kind: uptime.KindStandalone,
			Containers: []uptime.Container{
				{Name: "init", RuntimeName: "ecs-curltest-26-init-1", ID: "aa11", Image: "busybox", StartedAt: t0.Add(-61 * time.Minute)},
				{Name: "curl", RuntimeName: "ecs-curltest-26-curl-cca48e8dcadd97805600", ID: "ea32192c8553",
					Image: "111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest:latest", Running: true, StartedAt: t0.Add(-59 * time.Minute)},
			}}
	}
	r := wireRun{name: "sidecar", env: map[string]string{
		"ECS_UPTIME_SOURCE": "ecs", "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/ea32192c8553",
		"ECS_UPTIME_CONTAINER_METRICS": "true", "ECS_UPTIME_WARNING": "1h", "ECS_UPTIME_CRITICAL": "2h",
		"ECS_UPTIME_MAX_LIFETIME": "3h", "ECS_UPTIME_TAGS": "team:core", "DD_ENV": "prod",
	}}
	for _, d := range []time.Duration{0, 20 * time.Minute, time.Hour, 80 * time.Minute, 140 * time.Minute} {
		r.at = append(r.at, t0.Add(d))
		r.reads = append(r.reads, []uptime.Task{task()})
	}
	return r
}

func dockerRun() wireRun {
	task := func(id, family, rev string, start time.Time) uptime.Task {
		return uptime.Task{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/" + id, Family: family, Revision: rev,
			Cluster: "prod", Region: "eu-west-1", Account: "123456789012",
			Containers: []uptime.Container{{Name: "app", RuntimeName: "ecs-" + family + "-" + rev + "-app-" + id[:6], ID: id[:12],
				Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/" + family + ":1.2", Running: true, StartedAt: start}}}
	}
	web := task("0f3a7e1c2b4d5e6f7a8b9c0d1e2f3a4b", "web", "7", t0.Add(-30*time.Hour))
	m1 := task("5c2f0b9e8d7c6b5a49382716a5b4c3d2", "db-migrate", "42", t0.Add(-26*time.Hour))
	m2 := task("9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d", "db-migrate", "42", t0.Add(-5*time.Minute))
	r := wireRun{name: "host-daemon", env: map[string]string{
		"ECS_UPTIME_SOURCE": "docker", "ECS_UPTIME_CONTAINER_METRICS": "true", "ECS_UPTIME_SINGLETONS": "db-migrate,nightly",
		"ECS_UPTIME_WARNING": "20h",
	}}
	r.at = []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute)}
	r.reads = [][]uptime.Task{{web, m1}, {web, m1, m2}, {web, m2}}
	return r
}

func apiRun() wireRun {
	task := func(id, family, start string, mod func(*uptime.Task)) uptime.Task {
		st, _ := time.ParseDuration(start)
		t := uptime.Task{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/batch/" + id, Family: family, Revision: "3",
			Cluster: "batch", ClusterARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/batch", Region: "eu-west-1",
			Account: "123456789012", AvailabilityZone: "eu-west-1a", StartedAt: t0.Add(-st), LaunchType: "FARGATE",
			StartedBy: "ci/deploy-1234", Kind: uptime.KindStandalone, Status: uptime.StatusRunning,
			ResourceTags: []uptime.ResourceTag{{Key: "team", Value: "data"}}}
		if mod != nil {
			mod(&t)
		}
		return t
	}
	tag := func(v string) func(*uptime.Task) {
		return func(t *uptime.Task) { t.MaxLifetimeTag, t.HasMaxLifetimeTag = v, true }
	}
	reads := func() []uptime.Task {
		return []uptime.Task{
			task("1111aaaa2222bbbb3333cccc4444dddd", "report", "7h", tag("6h")),
			task("2222bbbb3333cccc4444dddd5555eeee", "report", "1h", tag("6 hours")),
			task("3333cccc4444dddd5555eeee6666ffff", "web", "40h", func(t *uptime.Task) {
				tag("1h")(t)
				t.Service, t.StartedBy, t.Kind, t.CapacityProvider = "web", "ecs-svc/1234567890123456789", uptime.KindService, "FARGATE_SPOT"
			}),
			task("4444dddd5555eeee6666ffff7777aaaa", "db-migrate", "23h59m", nil),
			task("5555eeee6666ffff7777aaaa8888bbbb", "db-migrate", "10m", nil),
		}
	}
	r := wireRun{name: "cluster-scan", stopper: true, env: map[string]string{
		"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_REGIONS": "eu-west-1", "ECS_UPTIME_STOP_TASKS": "true",
		"ECS_UPTIME_SINGLETONS": "db-migrate", "ECS_UPTIME_WARNING": "20h", "ECS_UPTIME_TASK_TAGS": "team",
	}}
	r.at = []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute)}
	r.reads = [][]uptime.Task{reads(), reads(), reads()[:4]}

	// The lifecycle: the task the reaper stopped and the migration that
	// crossed a threshold (both judged) reach STOPPED and get their record;
	// a task stuck in PROVISIONING for over an hour gets its onset, then
	// runs (a last OK); one deactivating with ECS Exec on is aged from its
	// stoppingAt, then stops unjudged (a last OK, no record).
	stopped := func(t uptime.Task, stopping, at time.Duration, code, reason string, exits ...uptime.ContainerExit) uptime.Task {
		t.Status, t.StoppingAt = uptime.StatusStopped, t0.Add(stopping)
		t.Ending = &uptime.Ending{StoppedAt: t0.Add(at), StopCode: code, StoppedReason: reason, Exits: exits}
		return t
	}
	exit := func(name string, code int, reason string) uptime.ContainerExit {
		return uptime.ContainerExit{Name: name, ExitCode: &code, Reason: reason}
	}
	all := reads()
	provisioning := task("6666ffff7777aaaa8888bbbb9999cccc", "nightly", "0s", func(t *uptime.Task) {
		t.Status, t.StartedAt, t.CreatedAt, t.CPU, t.Memory = "PROVISIONING", time.Time{}, t0.Add(-62*time.Minute), "1024", "2048"
	})
	running := provisioning
	running.Status, running.StartedAt = uptime.StatusRunning, t0.Add(3*time.Minute+30*time.Second)
	deactivating := task("7777aaaa8888bbbb9999ccccddddeeee", "etl", "5h", func(t *uptime.Task) {
		t.Status, t.CreatedAt, t.StoppingAt, t.ExecEnabled = "DEACTIVATING", t0.Add(-5*time.Hour-time.Minute), t0.Add(-10*time.Minute), true
	})
	r.at = append(r.at, t0.Add(3*time.Minute), t0.Add(4*time.Minute))
	r.reads = append(r.reads,
		[]uptime.Task{
			stopped(all[0], time.Minute, time.Minute+30*time.Second, "UserInitiated", "ecs-uptime: ran 7h01m, over its max lifetime 6h", exit("report", 143, "")),
			all[1], all[2],
			stopped(all[3], 2*time.Minute+30*time.Second, 2*time.Minute+40*time.Second, "EssentialContainerExited", "Essential container in task exited",
				exit("db-migrate", 1, "")),
			provisioning, deactivating,
		},
		[]uptime.Task{all[1], all[2], running, stopped(deactivating, -10*time.Minute, 3*time.Minute+50*time.Second, "ServiceSchedulerInitiated", "Scaling activity initiated by deployment")},
	)
	return r
}

// TestWireGolden runs each source's kind of reads through the process's
// wiring (config, stages, DogStatsD output) with a fixed clock, over a real
// UDP socket, and compares every line the Agent received with the golden
// file: the wire stays byte for byte what it was.
func TestWireGolden(t *testing.T) {
	for _, run := range []wireRun{sidecarRun(), dockerRun(), apiRun()} {
		t.Run(run.name, func(t *testing.T) {
			agent, err := receiver.ListenUDP("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { agent.Close() })
			env := map[string]string{"DD_DOGSTATSD_URL": "udp://" + agent.Addr(), "ECS_UPTIME_HEALTH_PORT": "0"}
			for k, v := range run.env {
				env[k] = v
			}
			cfg, err := config.Load(env)
			if err != nil {
				t.Fatal(err)
			}
			src := source{Source: &script{reads: run.reads}, name: cfg.Source}
			var stopper *stops
			if run.stopper {
				stopper = &stops{}
				src.stopper = stopper
			}
			i := 0
			now := func() time.Time { return run.at[i] }
			runner, sink, err := wire(&cfg, src, slog.New(slog.NewTextHandler(io.Discard, nil)), now)
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			var out strings.Builder
			for i = range run.at {
				err := runner.Cycle(context.Background())
				fmt.Fprintf(&out, "# cycle %d at %s", i, run.at[i].Format(time.RFC3339))
				if err != nil {
					fmt.Fprintf(&out, ": %v", err)
				}
				out.WriteString("\n")
				// DogStatsD lines are independent of each other: their order
				// within a cycle's flush is not part of the contract, their
				// bytes are.
				var lines []string
				for _, p := range drain(agent) {
					lines = append(lines, p.Raw)
				}
				slices.Sort(lines)
				for _, l := range lines {
					out.WriteString(l + "\n")
				}
			}
			if stopper != nil {
				out.WriteString("# StopTask calls\n" + strings.Join(stopper.calls, "\n") + "\n")
			}
			golden := filepath.Join("testdata", "wire", run.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("the wire changed (go test -run TestWireGolden -update rewrites %s):\n%s", golden, lineDiff(string(want), got))
			}
		})
	}
}

// drain returns what the agent received until it has been quiet for a
// while: Send flushes before it returns, so a cycle's lines are on their way.
func drain(agent *receiver.Server) []receiver.Packet {
	var all []receiver.Packet
	for {
		select {
		case <-agent.Updates():
		case <-time.After(300 * time.Millisecond):
			ps, _ := agent.Packets()
			return append(all, ps...)
		}
		ps, _ := agent.Packets()
		all = append(all, ps...)
	}
}

// lineDiff lists the lines only in want (-) and only in got (+), in order.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, a, c)
		}
	}
	return b.String()
}
