package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/ecsmeta/fakeendpoint"
)

// binary is ecs-uptime built once for these tests: they run the real
// process, with real sockets, as a user would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ecs-uptime-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "ecs-uptime")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const ec2TaskARN = "arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c"

// wantTaskTags are the tags DESIGN.md asks for, for AWS's ec2-task.json example.
var wantTaskTags = []string{
	"task_arn:" + ec2TaskARN, "task_name:curltest", "task_family:curltest", "task_version:26",
	"ecs_cluster_name:default", "cluster_arn:arn:aws:ecs:us-west-2:111122223333:cluster/default",
	"region:us-west-2", "availability-zone:us-west-2d", "aws_account:111122223333", "ecs_service:MyService",
	"ecs_task_kind:service",
}

// endpoint serves AWS's ec2-task.json with the curl container started age
// ago; down makes it answer 500 while set.
type endpoint struct {
	*httptest.Server
	down  atomic.Bool
	reads atomic.Int64 // requests answered
}

func startEndpoint(t *testing.T, age time.Duration) *endpoint {
	t.Helper()
	doc, err := os.ReadFile("testdata/ec2-task.json")
	if err != nil {
		t.Fatal(err)
	}
	return serveDoc(t, doc, age)
}

// startOneOffEndpoint serves ec2-task.json without its ServiceName: a
// task run on its own (RunTask), which the thresholds judge.
func startOneOffEndpoint(t *testing.T, age time.Duration) *endpoint {
	t.Helper()
	doc, err := os.ReadFile("testdata/ec2-task.json")
	if err != nil {
		t.Fatal(err)
	}
	var task map[string]any
	if err := json.Unmarshal(doc, &task); err != nil {
		t.Fatal(err)
	}
	if _, ok := task["ServiceName"]; !ok {
		t.Fatal("ec2-task.json has no ServiceName to take out")
	}
	delete(task, "ServiceName")
	if doc, err = json.Marshal(task); err != nil {
		t.Fatal(err)
	}
	return serveDoc(t, doc, age)
}

// serveDoc serves a /task document with the curl container started age ago.
func serveDoc(t *testing.T, doc []byte, age time.Duration) *endpoint {
	t.Helper()
	task, err := fakeendpoint.NewTask(doc, "curl", age, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e := &endpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.down.Load() {
			http.Error(w, "agent restarting", http.StatusInternalServerError)
			return
		}
		e.reads.Add(1)
		task.ServeHTTP(w, r)
	}))
	t.Cleanup(e.Close)
	return e
}

type process struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

func start(t testing.TB, env ...string) *process {
	t.Helper()
	return startBinary(t, binary, env...)
}

// startBinary starts bin (binary, or releaseBinary's) with env.
func startBinary(t testing.TB, bin string, env ...string) *process {
	t.Helper()
	cmd := exec.Command(bin)
	// The health endpoint is off unless a test turns it on: tests run
	// processes side by side and a fixed port would clash.
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "ECS_UPTIME_HEALTH_PORT=0"}, env...)
	p := &process{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-p.done })
	return p
}

var release struct {
	once sync.Once
	path string
	err  error
}

// releaseBinary returns the binary that TEST_ECS_UPTIME_BENCH_BINARY names
// or, built once per test process, the binary as the Dockerfile builds it
// (static, stripped, without HTTP/2): what benchmarks measure is what
// ships. Tests run binary, the plain go build.
func releaseBinary(tb testing.TB) string {
	tb.Helper()
	if v := os.Getenv("TEST_ECS_UPTIME_BENCH_BINARY"); v != "" {
		return v
	}
	release.once.Do(func() {
		release.path = filepath.Join(filepath.Dir(binary), "ecs-uptime-release")
		cmd := exec.Command("go", "build", "-trimpath", "-tags", "nethttpomithttp2", "-ldflags", "-s -w", "-o", release.path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			release.err = fmt.Errorf("go build as the Dockerfile does: %v\n%s", err, out)
		}
	})
	if release.err != nil {
		tb.Fatal(release.err)
	}
	return release.path
}

// stop sends sig and returns the exit code and how long the exit took.
func (p *process) stop(t testing.TB, sig os.Signal) (int, time.Duration) {
	t.Helper()
	begin := time.Now()
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("no exit 10 s after %v; logs:\n%s", sig, p.stderr)
	}
	p.done <- nil // for the cleanup
	return p.cmd.ProcessState.ExitCode(), time.Since(begin)
}

func TestSendsTaskUptimeEverySecond(t *testing.T) {
	for _, transport := range []string{"udp", "unixgram"} {
		t.Run(transport, func(t *testing.T) {
			agent := agentOver(t, transport)
			ep := startEndpoint(t, 26*time.Hour)
			addr := agent.Addr()
			hostEnv := []string{"DD_DOGSTATSD_URL=" + addr}
			if transport == "udp" {
				host, port, _ := strings.Cut(addr, ":")
				hostEnv = []string{"DD_AGENT_HOST=" + host, "DD_DOGSTATSD_PORT=" + port}
			}
			began := time.Now()
			p := start(t, append(hostEnv, "ECS_CONTAINER_METADATA_URI_V4="+ep.URL+"/v4/abc", "ECS_UPTIME_INTERVAL=1s", "ECS_UPTIME_CRITICAL=0")...)

			got, errs := agent.Wait(3, 5*time.Second)
			if len(errs) > 0 || len(got) < 3 {
				t.Fatalf("received %d packets in 5 s (errors %v), want 3 at 1 s intervals; logs:\n%s", len(got), errs, p.stderr)
			}
			for i, pk := range got {
				if pk.Kind != receiver.Metric || pk.Name != "ecs.task.uptime" || pk.Type != "g" {
					t.Fatalf("packet %d = %q, want only ecs.task.uptime gauges", i, pk.Raw)
				}
				if !slices.Equal(pk.Tags, wantTaskTags) {
					t.Errorf("tags\n got %q\nwant %q", pk.Tags, wantTaskTags)
				}
				// The endpoint was started with the container 26 h old just
				// before the process: each value lies between 26 h and 26 h
				// plus the time elapsed since, give or take a second.
				lo, hi := (26 * time.Hour).Seconds(), (26*time.Hour + time.Since(began)).Seconds()
				if pk.Value < lo-1 || pk.Value > hi+1 {
					t.Errorf("value %.3f, want between %.0f and %.0f (± 1 s)", pk.Value, lo, hi)
				}
			}
			if math.Abs(got[0].Value-(26*time.Hour).Seconds()) > 1 {
				t.Errorf("first value %.3f, want 26 h (93600 s) ± 1 s: the first gauge goes out at start", got[0].Value)
			}
			if d := got[2].Value - got[0].Value; d < 1.5 || d > 2.5 {
				t.Errorf("three gauges span %.2f s of uptime, want about 2 (one a second)", d)
			}
			code, took := p.stop(t, syscall.SIGTERM)
			if code != exitOK || took > time.Second {
				t.Errorf("SIGTERM: exit %d after %v, want 0 within a second", code, took)
			}
		})
	}
}

// While the endpoint fails, nothing is sent (no zeros, no stale values);
// when it answers again the same series resumes, not reset.
func TestEndpointOutage(t *testing.T) {
	agent, err := receiver.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	ep := startEndpoint(t, time.Hour)
	p := start(t, "DD_DOGSTATSD_URL=udp://"+agent.Addr(), "ECS_CONTAINER_METADATA_URI_V4="+ep.URL+"/v4/abc", "ECS_UPTIME_INTERVAL=200ms")
	before, _ := agent.Wait(2, 5*time.Second)
	if len(before) < 2 {
		t.Fatalf("nothing sent while the endpoint was up; logs:\n%s", p.stderr)
	}
	ep.down.Store(true)
	time.Sleep(300 * time.Millisecond) // a cycle in flight may still land
	agent.Packets()
	time.Sleep(time.Second)
	during, _ := agent.Packets()
	if len(during) != 0 {
		t.Fatalf("sent %d packets while the endpoint answered 500: %v", len(during), during)
	}
	ep.down.Store(false)
	after, _ := agent.Wait(1, 3*time.Second)
	if len(after) == 0 {
		t.Fatalf("nothing sent after the endpoint recovered; logs:\n%s", p.stderr)
	}
	if after[0].Value <= before[len(before)-1].Value+1 {
		t.Errorf("after the outage uptime = %.1f, before = %.1f: the series did not carry on", after[0].Value, before[len(before)-1].Value)
	}
	code, _ := p.stop(t, os.Interrupt)
	if code != exitOK {
		t.Errorf("SIGINT: exit %d, want 0", code)
	}
	logs := p.stderr.String()
	if strings.Count(logs, "cannot read tasks") != 1 || strings.Count(logs, "source answers again") != 1 {
		t.Errorf("want one log line for the outage and one for the recovery:\n%s", logs)
	}
}

func TestBadConfigurationExits2BeforeSending(t *testing.T) {
	agent, err := receiver.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"bad interval", []string{"ECS_UPTIME_INTERVAL=5", "ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:1/v4/x"}, `ECS_UPTIME_INTERVAL="5": want a Go duration`},
		{"auto with no endpoint", nil, "ECS_CONTAINER_METADATA_URI_V4 is not set"},
		{"warning above critical", []string{"ECS_UPTIME_WARNING=25h", "ECS_UPTIME_CRITICAL=24h", "ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:1/v4/x"}, `ECS_UPTIME_WARNING="25h": want less than ECS_UPTIME_CRITICAL`},
		{"max lifetime in docker mode", []string{"ECS_UPTIME_SOURCE=docker", "ECS_UPTIME_MAX_LIFETIME=24h"}, `ECS_UPTIME_MAX_LIFETIME="24h": want it unset with ECS_UPTIME_SOURCE=docker`},
		{"service tasks misspelled", []string{"ECS_UPTIME_SERVICE_TASKS=ignore", "ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:1/v4/x"}, `ECS_UPTIME_SERVICE_TASKS="ignore": want report`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, append(tc.env, "DD_DOGSTATSD_URL=udp://"+agent.Addr())...)
			<-p.done
			p.done <- nil
			if code := p.cmd.ProcessState.ExitCode(); code != exitConfig {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(p.stderr.String(), tc.want) {
				t.Errorf("stderr %q, want it to say %q", p.stderr, tc.want)
			}
			if got, _ := agent.Wait(1, 200*time.Millisecond); len(got) != 0 {
				t.Errorf("sent %v before exiting on a bad configuration", got)
			}
		})
	}
}

// command runs the binary with args in a clean environment: whatever the
// test process has (a developer's own ECS_UPTIME_ settings, CI's variables)
// must not change what is tested.
func command(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	return cmd
}

func TestDemo(t *testing.T) {
	out, err := command("demo", "--duration", "1500ms").Output()
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	for _, want := range []string{"ecs.task.uptime", "26h00m30s", "ecs.container.uptime migrate", "task_family:db-migrate"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"version"}, 0, "ecs-uptime "},
		{[]string{"--help"}, 0, "Commands:"},
		{[]string{"run", "--help"}, 0, "Usage: ecs-uptime [run]"},
		{[]string{"demo", "--help"}, 0, "--duration"},
		{[]string{"healthcheck", "--help"}, 0, `["CMD", "/ecs-uptime", "healthcheck"]`},
		{[]string{"inject", "--help"}, 0, "--max-lifetime"},
		{[]string{"monitor", "--help"}, 0, "--type"},
		{[]string{"tasks", "--help"}, 0, "-fail-if-any\n"},
		{[]string{"--help"}, 0, "\n  tasks     list the account's ECS tasks"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"demo", "--duration", "soon"}, 2, "invalid value"},
	}
	for _, tc := range tests {
		cmd := command(tc.args...)
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != tc.code || !strings.Contains(string(out), tc.out) {
			t.Errorf("ecs-uptime %v: exit %d, output %q; want exit %d and %q", tc.args, cmd.ProcessState.ExitCode(), out, tc.code, tc.out)
		}
	}
}
