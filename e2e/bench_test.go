package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime/docker/dockertest"
)

// BenchmarkImage measures what the README says of the image: its size, the
// running container's peak memory and the time from start to the first
// gauge, for the sidecar (ecs) and the host daemon (docker, 10 tasks on the
// engine). One iteration is one run of the container at a 1 s interval for
// TEST_ECS_UPTIME_BENCH_DURATION (default 60s); run it with -benchtime 1x, as
// bench/image.sh does. Nothing here is a pass/fail target: it reports.
func BenchmarkImage(b *testing.B) {
	host, image := imageUnderTest(b)
	d := 60 * time.Second
	if s := os.Getenv("TEST_ECS_UPTIME_BENCH_DURATION"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			b.Fatalf("TEST_ECS_UPTIME_BENCH_DURATION=%q: %v", s, err)
		}
	}
	size := inspectImage(b, host, image).Size

	b.Run("ecs", func(b *testing.B) {
		for range b.N {
			ep := startDemoEndpoint(b, time.Hour)
			m := measure(b, host, image, d, demoARN, func(a *agent) []string {
				return []string{"--network", "host", "-v", a.dir + ":" + dsdDir,
					"-e", "ECS_CONTAINER_METADATA_URI_V4=" + ep.URL + "/v4/5c2f0b9e8d7a4e31a6f0c1d2e3b4a596-2913574840",
					"-e", "ECS_UPTIME_HEALTH_PORT=" + freePort(b)}
			})
			m.report(b, float64(size))
		}
	})
	b.Run("docker", func(b *testing.B) {
		sock, ok := strings.CutPrefix(host, "unix://")
		if !ok {
			b.Skip("docker mode mounts the engine's socket; DOCKER_HOST is not unix://")
		}
		for range b.N {
			var arn string
			for i := range 10 {
				arn = dockertest.TaskARN("eu-west-1", "123456789012", "bench")
				dockertest.Run(b, host, dockertest.Container{TaskARN: arn, Cluster: "bench", Family: "app", Version: strconv.Itoa(i), Name: "app"})
			}
			m := measure(b, host, image, d, arn, func(a *agent) []string {
				return []string{"--network", "none", "-v", sock + ":/var/run/docker.sock:ro", "--group-add", socketGroup(b, sock),
					"-v", a.dir + ":" + dsdDir, "-e", "ECS_UPTIME_SOURCE=docker"}
			})
			m.report(b, float64(size))
		}
	})
}

// measurement is one run's figures.
type measurement struct {
	firstGauge  time.Duration // from the process's start (State.StartedAt) to the first gauge received
	runToGauge  time.Duration // from `docker run` to the first gauge received
	peakRSS     int64         // VmHWM of the process, bytes
	sampledRSS  int64         // largest VmRSS of the 1 s samples, bytes
	anon, file  int64         // RssAnon and RssFile at the end: the heap and stacks, and the mapped binary
	cgroupPeak  int64         // the container's memory cgroup peak (page cache included), bytes
	gauges, sec int
}

// measure runs the image for d with a 1 s interval and args(agent), and
// samples the process's memory from the host's /proc each second.
func measure(b *testing.B, host, image string, d time.Duration, arn string, args func(*agent) []string) measurement {
	b.Helper()
	a := newAgent(b)
	all := append(args(a), "-e", "DD_DOGSTATSD_URL="+dsdURL, "-e", "ECS_UPTIME_INTERVAL=1s", "-e", "ECS_UPTIME_CRITICAL=0")
	begin := time.Now()
	c := runImage(b, host, image, all...)
	pid := c.docker("inspect", "-f", "{{.State.Pid}}", c.id)
	started, err := time.Parse(time.RFC3339Nano, c.docker("inspect", "-f", "{{.State.StartedAt}}", c.id))
	if err != nil {
		b.Fatal(err)
	}
	var m measurement
	var first time.Time
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.After(d)
	for running := true; running; {
		select {
		case <-a.Updates():
			if now := time.Now(); first.IsZero() && len(a.of(arn, "ecs.task.uptime")) > 0 {
				first = now
			}
		case <-tick.C:
			m.sec++
			if rss := procStatus(b, pid, "VmRSS"); rss > m.sampledRSS {
				m.sampledRSS = rss
			}
		case <-end:
			running = false
		}
	}
	m.peakRSS = procStatus(b, pid, "VmHWM")
	m.anon, m.file = procStatus(b, pid, "RssAnon"), procStatus(b, pid, "RssFile")
	m.cgroupPeak = cgroupPeak(b, pid)
	if code := c.stop(); code != 0 {
		b.Fatalf("docker stop: exit %d; logs:\n%s", code, c.logs())
	}
	m.gauges = len(a.of(arn, "ecs.task.uptime"))
	if first.IsZero() {
		b.Fatalf("no gauge in %s; logs:\n%s", d, c.logs())
	}
	m.firstGauge, m.runToGauge = first.Sub(started), first.Sub(begin)
	return m
}

func (m measurement) report(b *testing.B, size float64) {
	const mib = 1 << 20
	b.Logf("image %.0f bytes (%.2f MB, %.2f MiB; target 8 MB)", size, size/1e6, size/mib)
	b.ReportMetric(size/1e6, "image-MB")
	b.ReportMetric(float64(m.peakRSS)/mib, "peak-RSS-MiB")
	b.ReportMetric(float64(m.cgroupPeak)/mib, "cgroup-peak-MiB")
	b.ReportMetric(float64(m.firstGauge.Microseconds())/1e3, "start-to-gauge-ms")
	b.ReportMetric(float64(m.runToGauge.Microseconds())/1e3, "run-to-gauge-ms")
	b.Logf("%d s at a 1 s interval, %d gauges for the watched task: peak RSS (VmHWM) %.2f MiB (target 12 MiB), largest 1 s sample (VmRSS) %.2f MiB, at the end %.2f MiB anonymous + %.2f MiB of mapped files, cgroup peak %.2f MiB",
		m.sec, m.gauges, float64(m.peakRSS)/mib, float64(m.sampledRSS)/mib, float64(m.anon)/mib, float64(m.file)/mib, float64(m.cgroupPeak)/mib)
	b.Logf("first gauge %v after the process started, %v after docker run",
		m.firstGauge.Round(time.Millisecond), m.runToGauge.Round(time.Millisecond))
}

// procStatus returns a "kB" field of /proc/PID/status in bytes.
func procStatus(b *testing.B, pid, field string) int64 {
	b.Helper()
	f, err := os.Open(filepath.Join("/proc", pid, "status"))
	if err != nil {
		b.Fatalf("the container's process: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("/proc/%s/status %s: %v", pid, field, err)
			}
			return kb << 10
		}
	}
	b.Fatalf("/proc/%s/status has no %s", pid, field)
	return 0
}

// cgroupPeak returns the peak memory use of the process's memory cgroup:
// memory.max_usage_in_bytes (cgroup v1) or memory.peak (v2).
func cgroupPeak(b *testing.B, pid string) int64 {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("/proc", pid, "cgroup"))
	if err != nil {
		b.Fatal(err)
	}
	var file string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if slices.Contains(strings.Split(parts[1], ","), "memory") {
			file = filepath.Join("/sys/fs/cgroup/memory", parts[2], "memory.max_usage_in_bytes")
			break
		}
		if parts[0] == "0" && parts[1] == "" {
			file = filepath.Join("/sys/fs/cgroup", parts[2], "memory.peak")
		}
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		b.Fatalf("the container's memory cgroup: %v", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil {
		b.Fatalf("%s: %v", file, err)
	}
	return n
}
