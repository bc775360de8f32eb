package ecsfake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// awsCLI returns a function that runs the AWS CLI against the fake, as a
// second client independent of the Go SDK: botocore's own model, parsers
// and paginators. Without the CLI the test skips, unless
// TEST_ECS_UPTIME_REQUIRE_AWSCLI=1 (CI), where it fails.
func awsCLI(t *testing.T, f *ecsfake.Server, region string) func(args ...string) (stdout, stderr string, exit int) {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("TEST_ECS_UPTIME_REQUIRE_AWSCLI") == "1" {
			t.Fatal("TEST_ECS_UPTIME_REQUIRE_AWSCLI=1 but the AWS CLI (aws) is not on PATH")
		}
		t.Skip("the AWS CLI (aws) is not on PATH; set TEST_ECS_UPTIME_REQUIRE_AWSCLI=1 to fail instead")
	}
	// Timestamps as ISO 8601, so that the output shows what botocore
	// parsed from the fake's epoch seconds.
	cfg := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(cfg, []byte("[default]\ncli_timestamp_format = iso8601\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(f.Environ(region), "AWS_CONFIG_FILE="+cfg, "AWS_DEFAULT_OUTPUT=json", "AWS_PAGER=",
		// One attempt: an injected error shows as the CLI parsed it.
		"AWS_RETRY_MODE=standard", "AWS_MAX_ATTEMPTS=1")
	return func(args ...string) (string, string, int) {
		t.Helper()
		// Credentials given as a first argument "KEY=value…" replace
		// Environ's (a session AssumeRole issued).
		env := env
		for len(args) > 0 && strings.HasPrefix(args[0], "AWS_") {
			env = append(slices.Clone(env), args[0])
			args = args[1:]
		}
		args = append(args, "--endpoint-url", f.URL)
		if !slices.Contains(args, "--region") {
			args = append(args, "--region", region)
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
		}
		return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
	}
}

func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("aws output %q: %v", out, err)
	}
	return v
}

// TestAWSCLI runs every response shape the fake serves, errors included,
// through the AWS CLI and checks what it parsed.
func TestAWSCLI(t *testing.T) {
	const region = "eu-west-1"
	f := ecsfake.Start(t)
	aws := awsCLI(t, f, region)

	var clusters []string
	for _, name := range []string{"a", "b", "c", "d", "prod"} {
		clusters = append(clusters, f.AddCluster(region, name))
	}
	started := time.Date(2026, 3, 1, 12, 30, 15, 250_000_000, time.UTC)
	var running []string
	for range 150 {
		running = append(running, f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", StartedAt: started}))
	}
	slices.Sort(running)
	tagged := f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", Family: "db-migrate", Revision: 7, StartedAt: started,
		CapacityProvider: "FARGATE_SPOT", StartedBy: "github-actions/123", Tags: ecsfake.Tags("ecs-uptime:max-lifetime", "6h", "team", "data")})
	pending := f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", LastStatus: "PENDING"})
	ghost := f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", Ghost: true, StartedAt: started})
	stopped := f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", LastStatus: "STOPPED", StartedAt: started})
	created := started.Add(-time.Minute)
	ended := f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", Family: "db-migrate", StartedAt: started, CreatedAt: created,
		CPU: "1024", Memory: "2048", ExecEnabled: true, Containers: []string{"init", "app"}})
	f.SetLastStatus(ended, "DEACTIVATING")
	f.StopAs(ended, "EssentialContainerExited", "Essential container in task exited",
		ecsfake.Exit{Container: "init", Code: ecsfake.Code(0)}, ecsfake.Exit{Container: "app", Code: ecsfake.Code(137), Reason: "OutOfMemoryError: Container killed due to memory usage"})

	t.Run("list-clusters, two per page", func(t *testing.T) {
		f.Reset()
		out, stderr, code := aws("ecs", "list-clusters", "--page-size", "2")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if got := decode[struct{ ClusterArns []string }](t, out).ClusterArns; !slices.Equal(got, clusters) {
			t.Errorf("clusterArns %v, want %v", got, clusters)
		}
		if n := f.Calls(ecsfake.ListClusters); n != 3 {
			t.Errorf("%d ListClusters calls, want 3 pages of at most 2", n)
		}
	})
	t.Run("list-tasks: every page, RUNNING and PENDING, not STOPPED", func(t *testing.T) {
		f.Reset()
		out, stderr, code := aws("ecs", "list-tasks", "--cluster", "prod", "--desired-status", "RUNNING")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		got := decode[struct{ TaskArns []string }](t, out).TaskArns
		want := slices.Sorted(slices.Values(append(slices.Clone(running), tagged, pending, ghost)))
		if !slices.Equal(got, want) || slices.Contains(got, stopped) {
			t.Errorf("listed %d tasks, want %d without the stopped one", len(got), len(want))
		}
		if n := f.Calls(ecsfake.ListTasks); n != 2 {
			t.Errorf("%d ListTasks calls, want 2 pages", n)
		}
	})
	t.Run("describe-tasks --include TAGS: fields, timestamps, tags, MISSING", func(t *testing.T) {
		out, stderr, code := aws("ecs", "describe-tasks", "--cluster", "prod", "--include", "TAGS", "--tasks", tagged, pending, ghost)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		type tag struct{ Key, Value string }
		got := decode[struct {
			Tasks []struct {
				TaskArn, LastStatus, DesiredStatus, TaskDefinitionArn, Group, LaunchType string
				CapacityProviderName, StartedBy, AvailabilityZone, ClusterArn            string
				StartedAt                                                                *string
				Tags                                                                     []tag
				Containers                                                               []struct{ Name, LastStatus string }
			}
			Failures []struct{ Arn, Reason string }
		}](t, out)
		if len(got.Tasks) != 2 || len(got.Failures) != 1 {
			t.Fatalf("%d tasks, %d failures; want 2 and 1:\n%s", len(got.Tasks), len(got.Failures), out)
		}
		task := got.Tasks[0]
		if task.TaskArn != tagged || task.LastStatus != "RUNNING" || task.DesiredStatus != "RUNNING" ||
			task.TaskDefinitionArn != "arn:aws:ecs:eu-west-1:123456789012:task-definition/db-migrate:7" ||
			task.Group != "family:db-migrate" || task.LaunchType != "FARGATE" || task.CapacityProviderName != "FARGATE_SPOT" ||
			task.StartedBy != "github-actions/123" || task.AvailabilityZone != "eu-west-1a" || task.ClusterArn != ecsfake.ClusterARN(region, "prod") {
			t.Errorf("task parsed as %+v", task)
		}
		if task.StartedAt == nil {
			t.Fatal("no startedAt")
		}
		at, err := time.Parse(time.RFC3339Nano, *task.StartedAt)
		if err != nil || !at.Equal(started) {
			t.Errorf("startedAt %q parsed as %v, want %v", *task.StartedAt, at, started)
		}
		if want := []tag{{"ecs-uptime:max-lifetime", "6h"}, {"team", "data"}}; !slices.Equal(task.Tags, want) {
			t.Errorf("tags %v, want %v", task.Tags, want)
		}
		if len(task.Containers) != 1 || task.Containers[0].LastStatus != "RUNNING" {
			t.Errorf("containers %+v", task.Containers)
		}
		if p := got.Tasks[1]; p.TaskArn != pending || p.LastStatus != "PENDING" || p.StartedAt != nil {
			t.Errorf("pending task parsed as %+v", p)
		}
		if f := got.Failures[0]; f.Arn != ghost || f.Reason != "MISSING" {
			t.Errorf("failure %+v, want %s MISSING", f, ghost)
		}
	})
	t.Run("list-tasks --desired-status STOPPED", func(t *testing.T) {
		out, stderr, code := aws("ecs", "list-tasks", "--cluster", "prod", "--desired-status", "STOPPED")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		got := decode[struct{ TaskArns []string }](t, out).TaskArns
		if want := slices.Sorted(slices.Values([]string{stopped, ended})); !slices.Equal(got, want) {
			t.Errorf("listed %v, want the two stopped tasks %v", got, want)
		}
	})
	t.Run("describe-tasks: the lifecycle of a stopped task", func(t *testing.T) {
		out, stderr, code := aws("ecs", "describe-tasks", "--cluster", "prod", "--tasks", ended)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		got := decode[struct {
			Tasks []struct {
				LastStatus, DesiredStatus, StopCode, StoppedReason, Cpu, Memory string
				EnableExecuteCommand                                            bool
				CreatedAt, StartedAt, StoppingAt, StoppedAt                     *string
				Containers                                                      []struct {
					Name, LastStatus, Reason string
					ExitCode                 *int
				}
			}
		}](t, out)
		if len(got.Tasks) != 1 {
			t.Fatalf("%d tasks:\n%s", len(got.Tasks), out)
		}
		task := got.Tasks[0]
		if task.LastStatus != "STOPPED" || task.DesiredStatus != "STOPPED" || task.StopCode != "EssentialContainerExited" ||
			task.StoppedReason != "Essential container in task exited" || task.Cpu != "1024" || task.Memory != "2048" || !task.EnableExecuteCommand {
			t.Errorf("task parsed as %+v", task)
		}
		times := map[string]*string{"createdAt": task.CreatedAt, "startedAt": task.StartedAt, "stoppingAt": task.StoppingAt, "stoppedAt": task.StoppedAt}
		parsed := map[string]time.Time{}
		for name, v := range times {
			if v == nil {
				t.Errorf("no %s", name)
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, *v)
			if err != nil {
				t.Errorf("%s %q: %v", name, *v, err)
			}
			parsed[name] = at
		}
		if !parsed["createdAt"].Equal(created) || !parsed["startedAt"].Equal(started) ||
			parsed["stoppingAt"].Before(started) || parsed["stoppedAt"].Before(parsed["stoppingAt"]) {
			t.Errorf("times parsed as %v; want createdAt %v, startedAt %v, then stoppingAt and stoppedAt in order", parsed, created, started)
		}
		cs := task.Containers
		if len(cs) != 2 || cs[0].Name != "init" || cs[0].ExitCode == nil || *cs[0].ExitCode != 0 || cs[0].Reason != "" ||
			cs[1].ExitCode == nil || *cs[1].ExitCode != 137 || cs[1].Reason != "OutOfMemoryError: Container killed due to memory usage" || cs[1].LastStatus != "STOPPED" {
			t.Errorf("containers parsed as %+v", cs)
		}
	})
	t.Run("stop-task", func(t *testing.T) {
		f.Reset()
		reason := "ecs-uptime: ran 26h03m, over its max lifetime 24h"
		out, stderr, code := aws("ecs", "stop-task", "--cluster", "prod", "--task", tagged, "--reason", reason)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		task := decode[struct {
			Task struct {
				TaskArn, LastStatus, DesiredStatus, StopCode, StoppedReason string
				StoppingAt                                                  *string
			}
		}](t, out).Task
		if task.TaskArn != tagged || task.LastStatus != "RUNNING" || task.DesiredStatus != "STOPPED" ||
			task.StopCode != "UserInitiated" || task.StoppedReason != reason || task.StoppingAt == nil {
			t.Errorf("stop-task parsed as %+v", task)
		}
		if stops := f.Stops(); len(stops) != 1 || stops[0].Reason != reason || stops[0].TaskARN != tagged {
			t.Errorf("stops %+v", stops)
		}
	})
	many := make([]string, 101)
	for i := range many {
		many[i] = running[i]
	}
	for _, tc := range []struct {
		name   string
		inject *ecsfake.Fault
		args   []string
		code   string
		op     string
		msg    string
	}{
		{name: "cluster not found", args: []string{"list-tasks", "--cluster", "nope"}, code: ecsfake.ClusterNotFound, op: "ListTasks", msg: "Cluster not found."},
		{name: "more than 100 tasks", args: append([]string{"describe-tasks", "--cluster", "prod", "--tasks"}, many...), code: ecsfake.InvalidParameter, op: "DescribeTasks", msg: "Tasks cannot have more than 100 elements."},
		{name: "throttled", inject: &ecsfake.Fault{Op: ecsfake.ListClusters, Code: ecsfake.Throttling, Times: 1}, args: []string{"list-clusters"}, code: ecsfake.Throttling, op: "ListClusters", msg: "Rate exceeded"},
		{name: "access denied", inject: &ecsfake.Fault{Cluster: "prod", Code: ecsfake.AccessDenied, Times: 1}, args: []string{"describe-tasks", "--cluster", "prod", "--tasks", tagged}, code: ecsfake.AccessDenied, op: "DescribeTasks", msg: "User: " + ecsfake.CallerARN + " is not authorized to perform: ecs:DescribeTasks on resource: " + ecsfake.ClusterARN(region, "prod")},
	} {
		t.Run("error: "+tc.name, func(t *testing.T) {
			if tc.inject != nil {
				f.Inject(*tc.inject)
			}
			_, stderr, code := aws(append([]string{"ecs"}, tc.args...)...)
			// "An error occurred (CODE) when calling the OP operation (reached max retries: 0): MESSAGE"
			want := fmt.Sprintf("An error occurred (%s) when calling the %s operation", tc.code, tc.op)
			if code == 0 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "): "+tc.msg) {
				t.Errorf("exit %d, stderr %q; want a failure saying %q and %q", code, stderr, want, tc.msg)
			}
		})
	}
}

// TestAWSCLIOrganization runs the response shapes of STS (awsQuery: XML),
// Organizations (awsJson1.1) and Account (restJson1), errors included,
// through the AWS CLI, and uses a session AssumeRole issued for ECS calls
// in the member account.
func TestAWSCLIOrganization(t *testing.T) {
	const region = "eu-west-1"
	const member, suspended, guarded = "111111111111", "222222222222", "333333333333"
	f := ecsfake.Start(t)
	aws := awsCLI(t, f, region)
	f.AddAccount(ecsfake.Member{ID: member, Name: "dev"})
	f.AddAccount(ecsfake.Member{ID: suspended, Status: "SUSPENDED"})
	f.AddAccount(ecsfake.Member{ID: guarded, ExternalID: "datadog-ecs-uptime"})
	f.SetRegions(member, ecsfake.Region{Name: "eu-west-1", Status: ecsfake.RegionEnabledByDefault},
		ecsfake.Region{Name: "eu-south-1", Status: ecsfake.RegionEnabled}, ecsfake.Region{Name: "me-south-1", Status: ecsfake.RegionDisabled})
	started := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	task := f.AddTask(ecsfake.Task{Account: member, Region: region, Cluster: "dev", StartedAt: started})
	f.AddTask(ecsfake.Task{Region: region, Cluster: "dev", StartedAt: started}) // the same cluster name in the management account

	t.Run("get-caller-identity", func(t *testing.T) {
		out, stderr, code := aws("sts", "get-caller-identity")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if got := decode[struct{ Account, Arn, UserId string }](t, out); got.Account != ecsfake.Account || got.Arn != ecsfake.CallerARN || got.UserId == "" {
			t.Errorf("parsed as %+v", got)
		}
	})

	type creds struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
	var session creds
	t.Run("assume-role, then ECS in the member account with its session", func(t *testing.T) {
		f.Reset()
		before := time.Now().Truncate(time.Second)
		out, stderr, code := aws("sts", "assume-role", "--role-arn", "arn:aws:iam::"+member+":role/ecs-uptime", "--role-session-name", "ecs-uptime", "--duration-seconds", "3600")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		got := decode[struct {
			Credentials     creds
			AssumedRoleUser struct{ Arn, AssumedRoleId string }
		}](t, out)
		session = got.Credentials
		exp, err := time.Parse(time.RFC3339, session.Expiration)
		if err != nil || exp.Before(before.Add(time.Hour-time.Second)) || exp.After(time.Now().Add(time.Hour)) {
			t.Errorf("Expiration %q (%v), want an hour from now", session.Expiration, err)
		}
		if !strings.HasPrefix(session.AccessKeyId, "ASIA") || session.SecretAccessKey == "" || session.SessionToken == "" ||
			got.AssumedRoleUser.Arn != "arn:aws:sts::"+member+":assumed-role/ecs-uptime/ecs-uptime" {
			t.Errorf("parsed as %+v", got)
		}
		calls := f.AssumeRoles()
		if len(calls) != 1 || calls[0].Account != member || calls[0].SessionName != "ecs-uptime" || calls[0].Duration != time.Hour || calls[0].Error != "" {
			t.Errorf("AssumeRole calls %+v", calls)
		}
		out, stderr, code = aws("AWS_ACCESS_KEY_ID="+session.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+session.SecretAccessKey, "AWS_SESSION_TOKEN="+session.SessionToken,
			"ecs", "list-tasks", "--cluster", "dev")
		if code != 0 {
			t.Fatalf("list-tasks with the session: exit %d: %s", code, stderr)
		}
		if got := decode[struct{ TaskArns []string }](t, out).TaskArns; !slices.Equal(got, []string{task}) {
			t.Errorf("the member's cluster lists %v, want only %s (not the management account's task)", got, task)
		}
		if reqs := f.Requests(); len(reqs) != 2 || reqs[1].Account != member || reqs[1].Service != "ecs" {
			t.Errorf("requests %+v, want the ECS call in %s", reqs, member)
		}
		_, stderr, code = aws("AWS_ACCESS_KEY_ID="+session.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+session.SecretAccessKey, "AWS_SESSION_TOKEN=forged",
			"ecs", "list-tasks", "--cluster", "dev")
		if code == 0 || !strings.Contains(stderr, "UnrecognizedClientException") {
			t.Errorf("a forged session token: exit %d, %s", code, stderr)
		}
	})

	t.Run("organizations list-accounts, two per page", func(t *testing.T) {
		f.Reset()
		out, stderr, code := aws("organizations", "list-accounts", "--page-size", "2")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		type account struct{ Id, Arn, Name, Status, State, JoinedMethod, JoinedTimestamp string }
		got := decode[struct{ Accounts []account }](t, out).Accounts
		var ids, states []string
		for _, a := range got {
			ids, states = append(ids, a.Id), append(states, a.Status+"/"+a.State)
		}
		if want := []string{member, ecsfake.Account, suspended, guarded}; !slices.Equal(ids, want) {
			t.Errorf("accounts %v, want %v", ids, want)
		}
		if want := []string{"ACTIVE/ACTIVE", "ACTIVE/ACTIVE", "SUSPENDED/SUSPENDED", "ACTIVE/ACTIVE"}; !slices.Equal(states, want) {
			t.Errorf("statuses %v, want %v", states, want)
		}
		if a := got[0]; a.Name != "dev" || !strings.HasPrefix(a.Arn, "arn:aws:organizations::"+ecsfake.Account+":account/o-") || a.JoinedMethod != "INVITED" || !strings.HasPrefix(a.JoinedTimestamp, "2024-02-01T09:30:00") {
			t.Errorf("account parsed as %+v", a)
		}
		if n := f.Calls(ecsfake.ListAccounts); n != 2 {
			t.Errorf("%d ListAccounts calls, want 2 pages of at most 2", n)
		}
	})

	t.Run("account list-regions, enabled only, one per page", func(t *testing.T) {
		f.Reset()
		out, stderr, code := aws("AWS_ACCESS_KEY_ID="+session.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+session.SecretAccessKey, "AWS_SESSION_TOKEN="+session.SessionToken,
			"account", "list-regions", "--region-opt-status-contains", "ENABLED", "ENABLED_BY_DEFAULT", "--page-size", "1")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		got := decode[struct {
			Regions []struct{ RegionName, RegionOptStatus string }
		}](t, out).Regions
		var regions []string
		for _, r := range got {
			regions = append(regions, r.RegionName+"="+r.RegionOptStatus)
		}
		if want := []string{"eu-south-1=ENABLED", "eu-west-1=ENABLED_BY_DEFAULT"}; !slices.Equal(regions, want) {
			t.Errorf("regions %v, want %v", regions, want)
		}
		if n := f.Calls(ecsfake.ListRegions); n != 2 {
			t.Errorf("%d ListRegions calls, want 2 pages of 1", n)
		}
		out, stderr, code = aws("account", "list-regions", "--account-id", member)
		if code != 0 {
			t.Fatalf("from the management account with --account-id: exit %d: %s", code, stderr)
		}
		if n := len(decode[struct{ Regions []struct{ RegionName string } }](t, out).Regions); n != 3 {
			t.Errorf("%d regions of %s from the management account, want 3", n, member)
		}
	})

	for _, tc := range []struct {
		name     string
		inject   *ecsfake.Fault
		args     []string
		code, op string
		msg      string
	}{
		{name: "assume-role denied: no such role", args: []string{"sts", "assume-role", "--role-arn", "arn:aws:iam::" + member + ":role/other", "--role-session-name", "ecs-uptime"},
			code: "AccessDenied", op: "AssumeRole", msg: "User: " + ecsfake.CallerARN + " is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::" + member + ":role/other"},
		{name: "assume-role denied: a suspended account", args: []string{"sts", "assume-role", "--role-arn", "arn:aws:iam::" + suspended + ":role/ecs-uptime", "--role-session-name", "ecs-uptime"},
			code: "AccessDenied", op: "AssumeRole", msg: "is not authorized to perform: sts:AssumeRole"},
		{name: "assume-role denied: the wrong external ID", args: []string{"sts", "assume-role", "--role-arn", "arn:aws:iam::" + guarded + ":role/ecs-uptime", "--role-session-name", "ecs-uptime", "--external-id", "guess"},
			code: "AccessDenied", op: "AssumeRole", msg: "is not authorized to perform: sts:AssumeRole"},
		{name: "assume-role: more than the role's hour", args: []string{"sts", "assume-role", "--role-arn", "arn:aws:iam::" + member + ":role/ecs-uptime", "--role-session-name", "ecs-uptime", "--duration-seconds", "7200"},
			code: "ValidationError", op: "AssumeRole", msg: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{name: "assume-role injected", inject: &ecsfake.Fault{Op: ecsfake.AssumeRole, Account: member, Code: "AccessDenied", Times: 1},
			args: []string{"sts", "assume-role", "--role-arn", "arn:aws:iam::" + member + ":role/ecs-uptime", "--role-session-name", "ecs-uptime"},
			code: "AccessDenied", op: "AssumeRole", msg: "User: " + ecsfake.CallerARN + " is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::" + member + ":role/ecs-uptime"},
		{name: "list-accounts throttled", inject: &ecsfake.Fault{Op: ecsfake.ListAccounts, Code: "TooManyRequestsException", Times: 1}, args: []string{"organizations", "list-accounts"},
			code: "TooManyRequestsException", op: "ListAccounts", msg: "Rate exceeded"},
		{name: "list-regions denied", inject: &ecsfake.Fault{Op: ecsfake.ListRegions, Code: ecsfake.AccessDenied, Times: 1}, args: []string{"account", "list-regions"},
			code: ecsfake.AccessDenied, op: "ListRegions", msg: "User: " + ecsfake.CallerARN + " is not authorized to perform: account:ListRegions on resource: *"},
		{name: "ECS in a disabled region", args: []string{"ecs", "list-clusters", "--region", "me-south-1"},
			code: "UnrecognizedClientException", op: "ListClusters", msg: "The security token included in the request is invalid."},
	} {
		t.Run("error: "+tc.name, func(t *testing.T) {
			if tc.inject != nil {
				f.Inject(*tc.inject)
			}
			args := tc.args
			if tc.op == "ListClusters" { // in the member account, which disabled me-south-1
				args = append([]string{"AWS_ACCESS_KEY_ID=" + session.AccessKeyId, "AWS_SECRET_ACCESS_KEY=" + session.SecretAccessKey, "AWS_SESSION_TOKEN=" + session.SessionToken}, args...)
			}
			_, stderr, code := aws(args...)
			want := fmt.Sprintf("An error occurred (%s) when calling the %s operation", tc.code, tc.op)
			if code == 0 || !strings.Contains(stderr, want) || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want a failure saying %q and %q", code, stderr, want, tc.msg)
			}
		})
	}
}
