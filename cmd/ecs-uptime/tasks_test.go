package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// tasksNow is the clock of the in-process runs: ages in the golden files
// do not move.
var tasksNow = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

// fillFleet adds to the fake, in this order (task IDs follow it), a fleet
// with one of each thing the command tells apart, aged from now:
//
//	eu-west-1/prod   db-migrate:42  26h03m  max-lifetime 24h, passed
//	eu-west-1/prod   web:7          30d     a service's task
//	eu-west-1/prod   worker:3       10m
//	eu-west-1/prod   worker:3       PENDING and STOPPED: never listed
//	eu-west-1/batch  reindex:5      2h      EC2, a max-lifetime tag that is no duration
//	us-east-1/jobs   report:3       3d04h   EC2, max-lifetime 100h, not passed
func fillFleet(fake *ecsfake.Server, now time.Time) {
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "db-migrate", Revision: 42, StartedBy: "ci/deploy#1234",
		StartedAt: now.Add(-26*time.Hour - 3*time.Minute - 20*time.Second), Tags: ecsfake.Tags("ecs-uptime:max-lifetime", "24h", "team", "data")})
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "web", Revision: 7, Group: "service:web",
		StartedBy: "ecs-svc/1234567890123456789", StartedAt: now.Add(-30 * 24 * time.Hour), AvailabilityZone: "eu-west-1b"})
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "worker", Revision: 3, StartedBy: "jenkins/nightly-412",
		StartedAt: now.Add(-10 * time.Minute), CapacityProvider: "FARGATE_SPOT"})
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "worker", Revision: 3, LastStatus: "PENDING"})
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", Family: "worker", Revision: 3, LastStatus: "STOPPED", StartedAt: now.Add(-50 * time.Hour)})
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "batch", Family: "reindex", Revision: 5, LaunchType: "EC2", StartedBy: "airflow/dag-17",
		StartedAt: now.Add(-2 * time.Hour), Tags: ecsfake.Tags("ecs-uptime:max-lifetime", "6 hours")})
	fake.AddTask(ecsfake.Task{Region: "us-east-1", Cluster: "jobs", Family: "report", Revision: 3, LaunchType: "EC2", StartedBy: "events-rule/nightly-report",
		StartedAt: now.Add(-76*time.Hour - 30*time.Minute), Tags: ecsfake.Tags("ecs-uptime:max-lifetime", "100h")})
}

// tasksIn runs the tasks command in this process against the fake (its
// AWS variables set for the SDK, region eu-west-1), with the clock at
// tasksNow, env added to the environment, and stderr a terminal when
// progress is set.
func tasksIn(t *testing.T, fake *ecsfake.Server, progress bool, args []string, env ...string) (stdout, stderr string, code int) {
	t.Helper()
	fake.Setenv(t, "eu-west-1")
	environ := map[string]string{}
	for _, kv := range append(ecsfake.Environ(nil, fake.URL, "eu-west-1"), env...) {
		k, v, _ := strings.Cut(kv, "=")
		environ[k] = v
	}
	var out, errOut bytes.Buffer
	r := tasksRun{stdout: &out, stderr: &errOut, now: func() time.Time { return tasksNow }, progress: progress}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = r.run(ctx, args, environ)
	return out.String(), errOut.String(), code
}

// goldenFile compares got with testdata/name, or rewrites it with -update.
func goldenFile(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (check, then run with -update to rewrite it):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// The three formats against the fake ECS API, as the files in
// testdata/tasks/ hold them, read with a fixed clock.
func TestTasksGolden(t *testing.T) {
	fake := ecsfake.Start(t)
	fillFleet(fake, tasksNow)
	for _, tc := range []struct {
		file string
		args []string
	}{
		{"tasks/table.txt", []string{"--region", "eu-west-1,us-east-1"}},
		{"tasks/all-kinds.json", []string{"--region", "eu-west-1", "--region", "us-east-1", "--kind", "all", "--format", "json"}},
		{"tasks/all-kinds.csv", []string{"--region", "eu-west-1,us-east-1", "--kind", "all", "--format", "csv"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			out, errOut, code := tasksIn(t, fake, false, tc.args)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, errOut)
			}
			goldenFile(t, tc.file, out)
		})
	}
	if n := fake.Calls(ecsfake.StopTask); n != 0 {
		t.Errorf("%d StopTask calls, want none", n)
	}
}

// families returns the TASK column of a table, in order.
func families(table string) []string {
	var out []string
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) == 0 {
		return nil
	}
	col := strings.Index(lines[0], "TASK")
	for _, l := range lines[1:] {
		out = append(out, strings.Fields(l[col:])[0])
	}
	return out
}

// Each flag, and the variables that the flags override, against the fake.
func TestTasksFilters(t *testing.T) {
	fake := ecsfake.Start(t)
	fillFleet(fake, tasksNow)
	tests := []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{"the SDK's region, standalone and running, oldest first", nil, nil, []string{"db-migrate:42", "reindex:5", "worker:3"}},
		{"older than", []string{"--older-than", "2h"}, nil, []string{"db-migrate:42", "reindex:5"}},
		{"older than, just not", []string{"--older-than", "2h0m1s"}, nil, []string{"db-migrate:42"}},
		{"a family", []string{"--family", "worker"}, nil, []string{"worker:3"}},
		{"services", []string{"--kind", "service"}, nil, []string{"web:7"}},
		{"every kind", []string{"--kind", "all"}, nil, []string{"web:7", "db-migrate:42", "reindex:5", "worker:3"}},
		{"--status all lists the running and the pending, no STOPPED task", []string{"--status", "all", "--family", "worker"}, nil, []string{"worker:3", "worker:3"}},
		{"--status stuck lists the task on its way to run, not the running one", []string{"--status", "stuck", "--family", "worker"}, nil, []string{"worker:3"}},
		{"a cluster", []string{"--cluster", "batch"}, nil, []string{"reindex:5"}},
		{"ECS_UPTIME_CLUSTERS", nil, []string{"ECS_UPTIME_CLUSTERS=batch"}, []string{"reindex:5"}},
		{"--cluster overrides ECS_UPTIME_CLUSTERS", []string{"--cluster", "prod"}, []string{"ECS_UPTIME_CLUSTERS=batch"}, []string{"db-migrate:42", "worker:3"}},
		{"a cluster ARN reads its own region", []string{"--cluster", ecsfake.ClusterARN("us-east-1", "jobs")}, nil, []string{"report:3"}},
		{"--region overrides ECS_UPTIME_REGIONS", []string{"--region", "us-east-1"}, []string{"ECS_UPTIME_REGIONS=eu-west-1"}, []string{"report:3"}},
		{"ECS_UPTIME_SOURCE is taken as api", nil, []string{"ECS_UPTIME_SOURCE=ecs", "ECS_UPTIME_REGIONS=us-east-1"}, []string{"report:3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := tasksIn(t, fake, false, tc.args, tc.env...)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, errOut)
			}
			if got := families(out); !slices.Equal(got, tc.want) {
				t.Errorf("listed %q, want %q:\n%s", got, tc.want, out)
			}
		})
	}
}

// The flags set the variables that the api source reads: a bad value is
// refused as the variable's would be, naming the flag.
func TestTasksFlagsSetVariables(t *testing.T) {
	fake := ecsfake.Start(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--region", "mars-1"}, `ecs-uptime tasks: bad configuration: --region sets ECS_UPTIME_REGIONS="mars-1": want`},
		{[]string{"--cluster", "prod,bad name"}, `ecs-uptime tasks: bad configuration: --cluster sets ECS_UPTIME_CLUSTERS="prod,bad name": want`},
		{[]string{"--cluster", ","}, `ecs-uptime tasks: --cluster: want at least one value`},
		// Not an account ID: refused whether or not this build reads
		// ECS_UPTIME_ACCOUNTS yet (issue 22), never ignored.
		{[]string{"--account", "1234"}, `ecs-uptime tasks: bad configuration: --account sets ECS_UPTIME_ACCOUNTS="1234"`},
		{[]string{"--kind", "oneoff"}, `ecs-uptime tasks: --kind "oneoff": want standalone, service or all`},
		{[]string{"--status", "pending"}, `ecs-uptime tasks: --status "pending": want running, stuck or all`},
		{[]string{"--format", "yaml"}, `ecs-uptime tasks: --format "yaml": want table, json or csv`},
		{[]string{"--older-than", "-1h"}, `ecs-uptime tasks: --older-than -1h0m0s: want 0 or more`},
		{[]string{"--older-than", "2d"}, `invalid value "2d" for flag -older-than: want a Go duration such as 48h, 90m or 30s (Go durations have no days: 48h)`},
		{[]string{"--family", "db-migrate:42"}, `ecs-uptime tasks: --family "db-migrate:42": want a task definition family alone`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := tasksIn(t, fake, false, tc.args)
			if code != exitConfig || out != "" || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, nothing listed and %q", code, out, errOut, tc.want)
			}
		})
	}
	if n := fake.Calls(""); n != 0 {
		t.Errorf("%d ECS API calls with bad flags, want none", n)
	}
}

// On a terminal, stderr has a progress line while the scan runs, erased
// before anything else is written; stdout has the table alone.
func TestTasksProgress(t *testing.T) {
	fake := ecsfake.Start(t)
	fillFleet(fake, tasksNow)
	out, errOut, code := tasksIn(t, fake, true, []string{"--region", "eu-west-1,us-east-1"})
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// 3 clusters; 6 tasks described: prod's 4 (its STOPPED task is not
	// listed), batch's and jobs'.
	for _, want := range []string{"\r\x1b[Kscanning: ", " clusters, ", "\r\x1b[Kscanning: 3 clusters, 7 tasks read"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q lacks %q", errOut, want)
		}
	}
	if !strings.HasSuffix(errOut, "read\r\x1b[K") {
		t.Errorf("stderr %q does not end by erasing the line", errOut)
	}
	if strings.Contains(out, "scanning") || !strings.HasPrefix(out, "AGE") {
		t.Errorf("stdout is not the table alone:\n%q", out)
	}
}

// SIGINT or SIGTERM during the scan: nothing listed, exit 4 (it could not
// look everywhere), and a line saying why.
func TestTasksInterrupted(t *testing.T) {
	fake := ecsfake.Start(t)
	fillFleet(fake, tasksNow)
	fake.Setenv(t, "eu-west-1")
	ctx, cancel := context.WithCancel(context.Background())
	fake.BeforeServe(func(ecsfake.Request) { cancel() })
	var out, errOut bytes.Buffer
	r := tasksRun{stdout: &out, stderr: &errOut, now: func() time.Time { return tasksNow }}
	code := r.run(ctx, nil, map[string]string{"AWS_REGION": "eu-west-1"})
	if code != exitUnread || out.Len() > 0 || !strings.Contains(errOut.String(), "ecs-uptime tasks: interrupted (context canceled) before the scan ended; nothing listed") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 4, nothing listed, and why", code, out.String(), errOut.String())
	}
}

func TestColorAllowed(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, true},
		{map[string]string{"TERM": "xterm-256color"}, true},
		{map[string]string{"NO_COLOR": "1"}, false},
		{map[string]string{"NO_COLOR": ""}, false},
		{map[string]string{"TERM": "dumb"}, false},
	} {
		if got := colorAllowed(tc.env); got != tc.want {
			t.Errorf("colorAllowed(%v) = %v, want %v", tc.env, got, tc.want)
		}
	}
}

// tasksProc runs the binary's tasks command against the fake, in a clean
// environment plus env. With combined, stdout and stderr are one file, so
// that what was written first comes first, and stdout holds both.
func tasksProc(t *testing.T, fake *ecsfake.Server, combined bool, args []string, env ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"tasks"}, args...)...)
	cmd.Env = append(ecsfake.Environ([]string{"PATH=" + os.Getenv("PATH")}, fake.URL, "eu-west-1"), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if combined {
		cmd.Stderr = &out
	}
	if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// The binary's exit codes, what it writes where, and that it never stops a
// task, even with ECS_UPTIME_STOP_TASKS=true and a task past its
// max-lifetime tag.
func TestTasksExitCodes(t *testing.T) {
	fake := ecsfake.Start(t)
	now := time.Now()
	fillFleet(fake, now)
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "secret", Family: "vault", StartedAt: now.Add(-time.Hour)})
	empty := ecsfake.Start(t) // an account with no cluster
	denied := ecsfake.Start(t)
	fillFleet(denied, now)
	denied.Inject(ecsfake.Fault{Op: ecsfake.ListClusters, Code: ecsfake.AccessDenied})

	tests := []struct {
		name       string
		fake       *ecsfake.Server
		args, env  []string
		code       int
		stdout     string // contained in stdout; "" for empty
		stderr     string // contained in stderr; "" for empty
		stderrLast bool   // stderr comes after the whole of stdout
	}{
		{name: "listed", args: []string{"--cluster", "prod,batch"}, code: exitOK, stdout: "db-migrate:42"},
		{name: "--fail-if-any and listed", args: []string{"--cluster", "prod", "--fail-if-any"}, code: exitFailure, stdout: "db-migrate:42"},
		{name: "--fail-if-any and nothing listed", args: []string{"--cluster", "prod", "--older-than", "1000h", "--fail-if-any"}, code: exitOK, stdout: "AGE  REGION"},
		{name: "stop tasks set: still nothing stopped", args: []string{"--cluster", "prod"}, env: []string{"ECS_UPTIME_STOP_TASKS=true"}, code: exitOK, stdout: "db-migrate:42"},
		{name: "bad flag", args: []string{"--status", "stuck,running"}, code: exitConfig, stderr: `--status "stuck,running"`},
		{name: "bad variable", env: []string{"ECS_UPTIME_API_RATE=100"}, code: exitConfig, stderr: `bad configuration: ECS_UPTIME_API_RATE="100"`},
		{name: "an argument", args: []string{"prod"}, code: exitConfig, stderr: `unexpected argument "prod"`},
		{name: "no region", env: []string{"AWS_REGION=", "AWS_DEFAULT_REGION="}, code: exitConfig, stderr: "AWS_REGION"},
		{name: "a denied cluster", env: []string{"ECS_UPTIME_API_RATE=20"}, code: exitUnread, stdout: "db-migrate:42",
			stderr: "ecs-uptime tasks: 1 part(s) could not be read; their tasks are not listed:\n  eu-west-1/secret: list running tasks: operation error ECS: ListTasks", stderrLast: true},
		{name: "a denied cluster wins over --fail-if-any", args: []string{"--fail-if-any", "--format", "json"}, code: exitUnread, stdout: `"family": "db-migrate"`, stderr: "eu-west-1/secret", stderrLast: true},
		{name: "nothing readable", fake: denied, code: exitUnread, stderr: "ecs-uptime tasks: read ECS tasks: no cluster could be read: eu-west-1: list clusters:"},
		{name: "an empty account", fake: empty, args: []string{"--fail-if-any"}, code: exitOK, stdout: "AGE  REGION  CLUSTER  TASK  ID  STATUS  LAUNCH  STARTED BY  MAX LIFETIME\n"},
		{name: "an empty account, JSON", fake: empty, args: []string{"--format", "json"}, code: exitOK, stdout: "[]\n"},
	}
	secret := fake.Inject(ecsfake.Fault{Cluster: "secret", Code: ecsfake.AccessDenied})
	defer secret()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fake
			if f == nil {
				f = fake
			}
			out, errOut, code := tasksProc(t, f, false, tc.args, tc.env...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errOut)
			}
			if tc.stdout == "" && out != "" || !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout:\n%s\nwant it to contain %q", out, tc.stdout)
			}
			if tc.stderr == "" && errOut != "" || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", errOut, tc.stderr)
			}
			if tc.stderrLast {
				// Run again with one file for both: the list's lines come
				// first, then the parts not read.
				both, _, _ := tasksProc(t, f, true, tc.args, tc.env...)
				i := strings.Index(both, "ecs-uptime tasks:")
				if i < 0 || strings.Count(both[:i], "\n") != strings.Count(out, "\n") {
					t.Errorf("stderr is not after the list:\n%s", both)
				}
			}
		})
	}
	for _, f := range []*ecsfake.Server{fake, empty, denied} {
		for _, r := range f.Requests() {
			if r.Op != ecsfake.ListClusters && r.Op != ecsfake.ListTasks && r.Op != ecsfake.DescribeTasks {
				t.Errorf("the tasks command called %s; it only reads", r.Op)
			}
		}
		if stops := f.Stops(); len(stops) != 0 {
			t.Errorf("the tasks command called StopTask: %+v", stops)
		}
	}
}

// tasks --account with the scanner's own account, a member whose role it
// assumes (with the external ID) and one whose role does not exist: the
// tasks of the two it reads, each under its account, and exit 4 naming
// the third, whose tasks are not listed; the role assumed once, and no
// call but reads.
func TestTasksAccounts(t *testing.T) {
	const (
		own    = ecsfake.Account
		dev    = "111111111111"
		denied = "333333333333"
	)
	fake := ecsfake.Start(t)
	fake.AddAccount(ecsfake.Member{ID: dev, Name: "dev", ExternalID: "datadog-ecs-uptime"})
	fake.AddAccount(ecsfake.Member{ID: denied, Name: "legacy", Role: "ReadOnly"}) // no role named ecs-uptime
	now := time.Now()
	want := map[string]string{} // task ARN → account
	for _, a := range []string{own, dev, denied} {
		for i := range 2 {
			arn := fake.AddTask(ecsfake.Task{Account: a, Region: "eu-west-1", Cluster: "jobs", Family: "etl",
				StartedAt: now.Add(-time.Duration(i+1) * time.Hour)})
			if a != denied {
				want[arn] = a
			}
		}
	}
	out, errOut, code := tasksProc(t, fake, false, []string{"--account", own + "," + dev + "," + denied, "--format", "json"},
		"ECS_UPTIME_EXTERNAL_ID=datadog-ecs-uptime", "ECS_UPTIME_API_RATE=20")
	if code != exitUnread {
		t.Errorf("exit %d, want %d (an account not read); stderr:\n%s", code, exitUnread, errOut)
	}
	if !strings.Contains(errOut, "1 part(s) could not be read") || !strings.Contains(errOut, denied) || !strings.Contains(errOut, "AccessDenied") {
		t.Errorf("stderr does not name the account not read (%s) and why:\n%s", denied, errOut)
	}
	var rows []struct {
		TaskARN string `json:"task_arn"`
		Account string `json:"account"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("stdout is not a JSON array: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.TaskARN] = r.Account
	}
	if !maps.Equal(got, want) {
		t.Errorf("tasks listed (ARN → account)\n %v\nwant\n %v", got, want)
	}
	assumed := 0
	for _, r := range fake.Requests() {
		switch {
		case r.Op == ecsfake.AssumeRole && r.Account == dev:
			assumed++
		case r.Service == "ecs" && r.Op != ecsfake.ListClusters && r.Op != ecsfake.ListTasks && r.Op != ecsfake.DescribeTasks:
			t.Errorf("the tasks command called %s in %s; it only reads", r.Op, r.Account)
		case r.Service == "ecs" && r.Account == denied:
			t.Errorf("%s in %s, whose role could not be assumed", r.Op, denied)
		}
	}
	if assumed != 1 {
		t.Errorf("%d AssumeRole calls for %s, want 1", assumed, dev)
	}
}
