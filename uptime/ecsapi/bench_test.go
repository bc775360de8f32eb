package ecsapi_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/ecsapi"
	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// serveVar makes the test binary serve a fake ECS API instead of running
// tests: BenchmarkScan runs the fake in a child process so that the
// benchmark's CPU, allocations and RSS are the client's alone.
const serveVar = "TEST_ECS_UPTIME_ECSFAKE_SERVE"

func TestMain(m *testing.M) {
	if n := os.Getenv(serveVar); n != "" {
		os.Exit(serveFake(n))
	}
	os.Exit(m.Run())
}

// benchRegion is the region of the benchmark's tasks.
const benchRegion = "eu-west-1"

// benchClusters is how many clusters the benchmark spreads n tasks over:
// one per thousand tasks, at least one.
func benchClusters(n int) int { return max(1, n/1000) }

// serveFake fills a fake with n RUNNING tasks, each with three resource
// tags, prints its URL and serves until its standard input closes.
func serveFake(arg string) int {
	n, err := strconv.Atoi(arg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s=%q: want a number of tasks\n", serveVar, arg)
		return 2
	}
	f := ecsfake.New()
	defer f.Close()
	clusters := benchClusters(n)
	start := time.Now().Add(-time.Hour)
	for i := range n {
		f.AddTask(ecsfake.Task{
			Region: benchRegion, Cluster: fmt.Sprintf("cluster-%02d", i%clusters), Family: fmt.Sprintf("family-%d", i%50),
			StartedAt: start.Add(time.Duration(i) * time.Millisecond), StartedBy: "ecs-svc/1234567890123456789",
			Group: fmt.Sprintf("service:svc-%d", i%50),
			Tags:  ecsfake.Tags("team", "payments", "env", "prod", "ecs-uptime:max-lifetime", "6h"),
		})
	}
	fmt.Println(f.URL)
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// startFakeProcess runs serveFake(n) in a child process and returns its URL.
func startFakeProcess(b *testing.B, n int) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveVar+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("fake process: %v", err)
	}
	return strings.TrimSpace(url)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func maxRSS() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // KiB on Linux
}

// BenchmarkScan measures one scan (one cycle's ECS API work) of 10, 1,000
// and 10,000 RUNNING tasks (one cluster per 1,000 tasks) with the real SDK
// against the fake, which runs in a child process: ns/op is the scan's
// wall time, fake included; cpu-ms/op, B/op and allocs/op are the client's
// alone; api-calls/op is counted by the source (every attempt).
// maxrss-MiB is the benchmark process's peak RSS so far: run one size
// alone for its own figure:
//
//	go test -run '^$' -bench 'BenchmarkScan/tasks=10000$' -benchtime 20x ./uptime/ecsapi
func BenchmarkScan(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			url := startFakeProcess(b, n)
			for _, kv := range ecsfake.Environ(nil, url, benchRegion) {
				k, v, _ := strings.Cut(kv, "=")
				b.Setenv(k, v)
			}
			ctx := context.Background()
			src, err := ecsapi.New(ctx, ecsapi.Options{Rate: 1e9, TaskTags: []string{"team", "env"}, MaxLifetimeTag: "ecs-uptime:max-lifetime"})
			if err != nil {
				b.Fatal(err)
			}
			// The first scan opens the connection and warms the SDK.
			if tasks, err := src.Tasks(ctx); err != nil || len(tasks) != n {
				b.Fatalf("scan: %d tasks, %v; want %d", len(tasks), err, n)
			}
			perCluster := make([]int, benchClusters(n))
			for i := range n {
				perCluster[i%len(perCluster)]++
			}
			lt, d := calls(perCluster...)
			want := 1 + lt + d // the package doc's 2·⌈n/100⌉ + 1 per cluster of n, plus ListClusters
			b.ReportAllocs()
			cpu := cpuTime()
			calls := 0
			b.ResetTimer()
			for range b.N {
				if _, err := src.Tasks(ctx); err != nil {
					b.Fatal(err)
				}
				calls += src.LastScan().Calls
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(calls)/float64(b.N), "api-calls/op")
			b.ReportMetric(maxRSS(), "maxrss-MiB")
			if got := calls / b.N; got != want {
				b.Errorf("%d API calls per scan, want %d", got, want)
			}
		})
	}
}
