package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/dogstatsd/receiver"
)

// procStatus returns the kB figures (VmRSS, VmHWM) and the thread count of
// /proc/PID/status.
func procStatus(pid int) (map[string]int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM" && k != "Threads") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		if err != nil {
			return nil, fmt.Errorf("/proc/%d/status %s: %w", pid, k, err)
		}
		out[k] = n
	}
	return out, s.Err()
}

// childOf returns the one child of pid (the binary that /usr/bin/time runs).
func childOf(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) != 1 {
		return 0, fmt.Errorf("/usr/bin/time (pid %d) has children %q, want one", pid, f)
	}
	return strconv.Atoi(f[0])
}

// timeV reads a figure of /usr/bin/time -v's report.
func timeV(report, label string) (float64, bool) {
	for _, line := range strings.Split(report, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), label+": "); ok {
			n, err := strconv.ParseFloat(v, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// countGauges counts the ecs.task.uptime gauges: one per cycle.
func countGauges(ps []receiver.Packet) int {
	n := 0
	for _, p := range ps {
		if p.Name == "ecs.task.uptime" {
			n++
		}
	}
	return n
}

// BenchmarkProcess runs the real binary as the sidecar runs, against a
// loopback endpoint serving a ten-container task and a UDP Agent, at the
// smallest interval the configuration allows (100ms), and reports:
//
//   - first-gauge-ms: from starting the process to the first gauge, the
//     median and the worst of 5 starts;
//   - under /usr/bin/time -v for TEST_ECS_UPTIME_SOAK (default 10s): peak RSS
//     (time's "Maximum resident set size"), CPU per cycle (user + system
//     over the cycles, start-up included), and VmRSS and the
//     thread count sampled every second from /proc: their first and last
//     samples, which agree when nothing grows.
//
// It runs the binary TEST_ECS_UPTIME_BENCH_BINARY names, else one built as
// the Dockerfile builds it.
// bench/run.sh builds the binary as the Dockerfile does and runs it; by hand:
//
//	TEST_ECS_UPTIME_SOAK=3m go test -run '^$' -bench BenchmarkProcess -benchtime 1x -timeout 30m ./cmd/ecs-uptime
func BenchmarkProcess(b *testing.B) {
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		b.Skip("needs /usr/bin/time (Debian package time); bench/run.sh installs it")
	}
	soak := 10 * time.Second
	if v := os.Getenv("TEST_ECS_UPTIME_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("TEST_ECS_UPTIME_SOAK=%q: %v", v, err)
		}
		soak = d
	}
	bin := releaseBinary(b)
	doc := tenContainerTask(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(doc) }))
	defer srv.Close()
	agent, err := receiver.ListenUDP("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer agent.Close()
	env := []string{"PATH=" + os.Getenv("PATH"), "ECS_UPTIME_HEALTH_PORT=0", "DD_DOGSTATSD_URL=udp://" + agent.Addr(),
		"ECS_CONTAINER_METADATA_URI_V4=" + srv.URL + "/v4/abc", "ECS_UPTIME_INTERVAL=100ms"}

	for range b.N {
		var firsts []time.Duration
		for range 5 {
			agent.Packets()
			cmd := exec.Command(bin)
			cmd.Env = env
			began := time.Now()
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			got, _ := agent.Wait(1, 5*time.Second)
			first := time.Since(began)
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
			if len(got) == 0 {
				b.Fatal("no gauge within 5 s of start")
			}
			firsts = append(firsts, first)
		}
		slices.Sort(firsts)
		b.ReportMetric(float64(firsts[len(firsts)/2].Microseconds())/1000, "first-gauge-ms")
		b.ReportMetric(float64(firsts[len(firsts)-1].Microseconds())/1000, "first-gauge-max-ms")

		agent.Packets()
		cmd := exec.Command("/usr/bin/time", "-v", bin)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		if got, _ := agent.Wait(1, 5*time.Second); len(got) == 0 {
			cmd.Process.Kill()
			b.Fatal("no gauge within 5 s of start")
		}
		pid, err := childOf(cmd.Process.Pid)
		if err != nil {
			cmd.Process.Kill()
			b.Fatal(err)
		}
		var samples []map[string]int
		gauges := 1
		tick := time.NewTicker(time.Second)
		for end := time.Now().Add(soak); time.Now().Before(end); {
			<-tick.C
			st, err := procStatus(pid)
			if err != nil {
				b.Fatalf("the process ended during the soak: %v\n%s", err, stderr.String())
			}
			samples = append(samples, st)
			ps, _ := agent.Packets()
			gauges += countGauges(ps)
		}
		tick.Stop()
		syscall.Kill(pid, syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
		ps, _ := agent.Packets()
		gauges += countGauges(ps)
		maxRSS, ok1 := timeV(stderr.String(), "Maximum resident set size (kbytes)")
		user, ok2 := timeV(stderr.String(), "User time (seconds)")
		sys, ok3 := timeV(stderr.String(), "System time (seconds)")
		if !ok1 || !ok2 || !ok3 || len(samples) == 0 {
			b.Fatalf("no /usr/bin/time -v figures or /proc samples:\n%s", stderr.String())
		}
		first, half, last := samples[0], samples[len(samples)/2], samples[len(samples)-1]
		b.ReportMetric(maxRSS/1024, "peak-RSS-MiB")
		b.ReportMetric((user+sys)*1e3/float64(gauges), "cpu-ms/cycle")
		b.ReportMetric(float64(gauges), "cycles")
		b.ReportMetric(float64(first["VmRSS"])/1024, "RSS-MiB@first")
		b.ReportMetric(float64(half["VmRSS"])/1024, "RSS-MiB@half")
		b.ReportMetric(float64(last["VmRSS"])/1024, "RSS-MiB@last")
		b.ReportMetric(float64(last["VmHWM"])/1024, "VmHWM-MiB")
		b.ReportMetric(float64(first["Threads"]), "threads@first")
		b.ReportMetric(float64(last["Threads"]), "threads@last")
	}
}
