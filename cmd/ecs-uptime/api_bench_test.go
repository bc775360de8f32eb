package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// processCPU returns the user+system CPU time /proc/PID/stat reports.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	var ticks int64
	for _, s := range f[11:13] { // utime, stime
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100, nil // USER_HZ is 100 on Linux
}

// BenchmarkAPIProcess runs the binary in api mode against the fake ECS API
// (in this process, so that its cost is not the binary's) at 10, 1,000 and
// 10,000 tasks, at the highest rate the configuration allows (20 requests
// per second), and reports per cycle the API calls and the binary's CPU
// time, and its peak RSS; it fails unless every cycle reads every task. Cycles are counted from the fake's ListClusters
// calls (one per cycle: no ECS_UPTIME_CLUSTERS); the first cycle, with the
// process's start, is left out.
//
//	go test -run '^$' -bench BenchmarkAPIProcess -benchtime 1x ./cmd/ecs-uptime
func BenchmarkAPIProcess(b *testing.B) {
	// Each interval leaves the scan room: a cycle is cut at five intervals
	// (10,000 tasks take 10 s at 20 requests per second).
	for _, tc := range []struct {
		tasks, clusters, cycles int
		interval                string
	}{{10, 1, 40, "200ms"}, {1000, 1, 10, "1s"}, {10000, 10, 3, "5s"}} {
		b.Run(fmt.Sprintf("tasks=%d", tc.tasks), func(b *testing.B) {
			for range b.N {
				fake := ecsfake.Start(b)
				now := time.Now()
				for i := range tc.tasks {
					fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: fmt.Sprintf("c%d", i%tc.clusters), Family: "app",
						StartedAt: now.Add(-time.Duration(i) * time.Second), Tags: []ecsfake.Tag{{Key: "team", Value: "data"}}})
				}
				agent := udpAgent(b)
				var mu sync.Mutex
				var starts []int // requests seen when each cycle's ListClusters came
				seen := 0
				fake.BeforeServe(func(r ecsfake.Request) {
					mu.Lock()
					defer mu.Unlock()
					if r.Op == ecsfake.ListClusters {
						starts = append(starts, seen)
					}
					seen++
				})
				p := start(b, apiEnv(fake, agent, "ECS_UPTIME_INTERVAL="+tc.interval, "ECS_UPTIME_API_RATE=20",
					"ECS_UPTIME_TASK_TAGS=team", "ECS_UPTIME_LOG_LEVEL=error")...)
				// waitCycle waits until cycle k (from 1) starts and returns the
				// binary's CPU time then.
				waitCycle := func(k int) time.Duration {
					deadline := time.Now().Add(2 * time.Minute)
					for {
						mu.Lock()
						n := len(starts)
						mu.Unlock()
						if n >= k {
							cpu, err := processCPU(p.cmd.Process.Pid)
							if err != nil {
								b.Fatal(err)
							}
							return cpu
						}
						if time.Now().After(deadline) {
							b.Fatalf("cycle %d did not start in 2 minutes; logs:\n%s", k, p.stderr)
						}
						time.Sleep(time.Millisecond)
					}
				}
				from := waitCycle(2)
				to := waitCycle(2 + tc.cycles)
				st, err := procStatus(p.cmd.Process.Pid)
				if err != nil {
					b.Fatal(err)
				}
				mu.Lock()
				calls := starts[1+tc.cycles] - starts[1]
				mu.Unlock()
				if code, _ := p.stop(b, syscall.SIGTERM); code != exitOK {
					b.Fatalf("exit %d; logs:\n%s", code, p.stderr)
				}
				// Per cluster its running pages and batches, and one page
				// of stopped tasks (none: nothing stops).
				if want := 1 + (2*((tc.tasks/tc.clusters+99)/100)+1)*tc.clusters; calls != want*tc.cycles {
					b.Errorf("%d calls over %d cycles, want %d a cycle: a scan was cut short", calls, tc.cycles, want)
				}
				b.ReportMetric(float64(calls)/float64(tc.cycles), "calls/cycle")
				b.ReportMetric(float64((to-from).Microseconds())/1000/float64(tc.cycles), "cpu-ms/cycle")
				b.ReportMetric(float64(st["VmHWM"])/1024, "peak-RSS-MiB")
			}
		})
	}
}
