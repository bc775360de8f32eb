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
		cmd := exec.Command(bin, append(args, "--endpoint-url", f.URL, "--region", region)...)
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
		{name: "access denied", inject: &ecsfake.Fault{Cluster: "prod", Code: ecsfake.AccessDenied, Times: 1}, args: []string{"describe-tasks", "--cluster", "prod", "--tasks", tagged}, code: ecsfake.AccessDenied, op: "DescribeTasks", msg: "User: arn:aws:sts::123456789012:assumed-role/ecs-uptime/test is not authorized to perform: ecs:DescribeTasks on resource: " + ecsfake.ClusterARN(region, "prod")},
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
