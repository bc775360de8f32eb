package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// outputLines counts the lines written to it and keeps nothing else.
type outputLines int

func (c *outputLines) Write(p []byte) (int, error) {
	*c += outputLines(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// BenchmarkTasksCommand runs the binary's tasks command against the fake
// ECS API (in this process, so that its cost is not the binary's) with
// 10,000 RUNNING tasks in 10 clusters, each with two resource tags, and
// reports the command's wall time, its CPU time (user + system) and its
// peak RSS (the kernel's maxrss for the process). The wall time is the
// rate limit's: 211 calls at ECS_UPTIME_API_RATE requests per second (20,
// the most it takes, and 5, the default). It fails unless every task is
// listed with the calls DESIGN.md gives.
//
//	go test -run '^$' -bench BenchmarkTasksCommand -benchtime 1x ./cmd/ecs-uptime
func BenchmarkTasksCommand(b *testing.B) {
	const tasks, clusters = 10000, 10
	fake := ecsfake.Start(b)
	now := time.Now()
	for i := range tasks {
		fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: fmt.Sprintf("c%d", i%clusters), Family: fmt.Sprintf("job-%d", i%50),
			StartedBy: "ci/run-" + fmt.Sprint(i), StartedAt: now.Add(-time.Duration(i) * time.Second),
			Tags: ecsfake.Tags("team", "data", "ecs-uptime:max-lifetime", "6h")})
	}
	for _, tc := range []struct {
		format string
		rate   int
	}{{"table", 20}, {"json", 20}, {"csv", 20}, {"table", 5}} {
		b.Run(fmt.Sprintf("format=%s/rate=%d", tc.format, tc.rate), func(b *testing.B) {
			var wall, cpu time.Duration
			var peak int64
			for range b.N {
				fake.Reset()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				cmd := exec.CommandContext(ctx, releaseBinary(b), "tasks", "--format", tc.format)
				cmd.Env = append(ecsfake.Environ([]string{"PATH=" + os.Getenv("PATH")}, fake.URL, "eu-west-1"),
					fmt.Sprintf("ECS_UPTIME_API_RATE=%d", tc.rate), "ECS_UPTIME_INTERVAL=1m")
				var lines outputLines
				var stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &lines, &stderr
				begin := time.Now()
				err := cmd.Run()
				wall += time.Since(begin)
				cancel()
				if err != nil {
					b.Fatalf("tasks: %v\n%s", err, stderr.String())
				}
				cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				peak = max(peak, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) // KiB on Linux
				want := tasks + 1                                                      // the header
				switch tc.format {
				case "json":
					want = tasks*19 + 2 // 17 fields (created_at since the lifecycle), braces, brackets
				}
				if int(lines) != want {
					b.Errorf("%d lines, want %d", lines, want)
				}
				if calls, want := fake.Calls(""), 1+clusters*(2*((tasks/clusters+99)/100)+1); calls != want {
					b.Errorf("%d API calls, want %d", calls, want)
				}
			}
			b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms")
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
		})
	}
}
