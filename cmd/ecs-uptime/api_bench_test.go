package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/dogstatsd/receiver"
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
// time, and its peak RSS; it fails unless every cycle reads every task and
// every line of every cycle it sent arrives (a gauge and a service check
// per task: cycles-all-lines counts the cycles received whole). The last
// case runs the binary with GOMAXPROCS=1, where the DogStatsD sender
// competes with the scan for the one P. Cycles are counted from the fake's ListClusters
// calls (one per cycle: no ECS_UPTIME_CLUSTERS); the first cycle, with the
// process's start, is left out.
//
//	go test -run '^$' -bench BenchmarkAPIProcess -benchtime 1x ./cmd/ecs-uptime
func BenchmarkAPIProcess(b *testing.B) {
	// Each interval leaves the scan room: a cycle is cut at five intervals
	// (10,000 tasks take 10 s at 20 requests per second). Cycles are told
	// apart by their service checks' timestamps, in seconds: no interval
	// is shorter than 2 s, so that no two cycles share a second (at 200 ms,
	// five did, and every cycle looked like 50 checks for 10 tasks).
	for _, tc := range []struct {
		tasks, clusters, cycles int
		interval                string
		procs                   int // the binary's GOMAXPROCS; 0: the machine's
	}{{10, 1, 10, "2s", 0}, {1000, 1, 10, "2s", 0}, {10000, 10, 3, "5s", 0}, {10000, 10, 3, "5s", 1}} {
		name := fmt.Sprintf("tasks=%d", tc.tasks)
		if tc.procs > 0 {
			name += fmt.Sprintf(",gomaxprocs=%d", tc.procs)
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				fake := ecsfake.Start(b)
				now := time.Now()
				for i := range tc.tasks {
					fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: fmt.Sprintf("c%d", i%tc.clusters), Family: "app",
						StartedAt: now.Add(-time.Duration(i) * time.Second), Tags: []ecsfake.Tag{{Key: "team", Value: "data"}}})
				}
				agent := bigBufferAgent(b)
				lines := countLines(agent)
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
				env := apiEnv(fake, agent, "ECS_UPTIME_INTERVAL="+tc.interval, "ECS_UPTIME_API_RATE=20",
					"ECS_UPTIME_TASK_TAGS=team", "ECS_UPTIME_LOG_LEVEL=error")
				if tc.procs > 0 {
					env = append(env, fmt.Sprintf("GOMAXPROCS=%d", tc.procs))
				}
				p := startBinary(b, releaseBinary(b), env...)
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
				drops := udpDrops(b, agent.Addr())
				sent, short := lines.stop(tc.tasks)
				if drops > 0 {
					short += fmt.Sprintf("; the receiving socket dropped %d datagrams (the test process's receiver, not the binary)", drops)
				}
				if short != "" {
					b.Errorf("lines lost: %s; logs:\n%s", short, p.stderr)
				}
				if strings.Contains(p.stderr.String(), "not sent") || strings.Contains(p.stderr.String(), "queue is full") {
					b.Errorf("the binary reports lines not sent:\n%s", p.stderr)
				}
				// Per cluster its running pages and batches, and one page
				// of stopped tasks (none: nothing stops).
				if want := 1 + (2*((tc.tasks/tc.clusters+99)/100)+1)*tc.clusters; calls != want*tc.cycles {
					b.Errorf("%d calls over %d cycles, want %d a cycle: a scan was cut short", calls, tc.cycles, want)
				}
				b.ReportMetric(float64(calls)/float64(tc.cycles), "calls/cycle")
				b.ReportMetric(float64((to-from).Microseconds())/1000/float64(tc.cycles), "cpu-ms/cycle")
				b.ReportMetric(float64(st["VmHWM"])/1024, "peak-RSS-MiB")
				b.ReportMetric(float64(sent), "cycles-all-lines")
			}
		})
	}
}

// lineCounter counts, as they arrive, the task gauges by task and the
// lifetime checks by cycle (their timestamp), without keeping them.
type lineCounter struct {
	done    chan struct{}
	stopped chan struct{}
	gauges  map[string]int // task ARN → gauges
	checks  map[string]int // check timestamp → checks
	errs    int
}

func countLines(agent *receiver.Server) *lineCounter {
	c := &lineCounter{done: make(chan struct{}), stopped: make(chan struct{}), gauges: map[string]int{}, checks: map[string]int{}}
	go func() {
		defer close(c.stopped)
		for {
			ps, errs := agent.Packets()
			c.errs += len(errs)
			for _, p := range ps {
				switch p.Kind {
				case receiver.Metric:
					arn, _ := p.Tag("task_arn")
					c.gauges[arn]++
				case receiver.ServiceCheck:
					c.checks[p.Fields["d"]]++
				}
			}
			select {
			case <-agent.Updates():
			case <-time.After(100 * time.Millisecond):
			case <-c.done:
				return
			}
		}
	}()
	return c
}

// stop stops counting and returns how many cycles arrived whole, and what
// is missing ("" when nothing is): each cycle a check per task, and each
// task as many gauges as there were cycles.
func (c *lineCounter) stop(tasks int) (cycles int, missing string) {
	time.Sleep(200 * time.Millisecond) // the last datagrams
	close(c.done)
	<-c.stopped
	var short []string
	for at, n := range c.checks {
		if n != tasks {
			short = append(short, fmt.Sprintf("the cycle at %s sent %d of %d checks", at, n, tasks))
		}
	}
	if len(c.gauges) != tasks {
		short = append(short, fmt.Sprintf("gauges of %d tasks, want %d", len(c.gauges), tasks))
	}
	lost := 0
	for _, n := range c.gauges {
		lost += len(c.checks) - n
	}
	if lost != 0 {
		short = append(short, fmt.Sprintf("%d gauges short over %d cycles", lost, len(c.checks)))
	}
	if c.errs > 0 {
		short = append(short, fmt.Sprintf("%d lines that do not parse", c.errs))
	}
	return len(c.checks), strings.Join(short, "; ")
}

// udpDrops returns how many datagrams the kernel dropped at the local UDP
// socket bound to addr (host:port) because its receive buffer was full
// (/proc/net/udp, last column).
func udpDrops(b *testing.B, addr string) int {
	_, port, _ := strings.Cut(addr, ":")
	n, err := strconv.Atoi(port)
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 12 && strings.HasSuffix(f[1], fmt.Sprintf(":%04X", n)) {
			d, _ := strconv.Atoi(f[len(f)-1])
			return d
		}
	}
	return 0
}

// bigBufferAgent is a UDP receiver with a 64 MiB receive buffer (past
// net.core.rmem_max when the test runs as root): the test process, busy
// with the fake ECS API, reads a scan's burst (20,000 lines) slower than
// the Agent does, and what this benchmark counts is what the binary sends.
func bigBufferAgent(b *testing.B) *receiver.Server {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 64<<20) != nil {
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<20)
			}
		})
	}}
	agent, err := receiver.ListenUDPWith(lc, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { agent.Close() })
	return agent
}
