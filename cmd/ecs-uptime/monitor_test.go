package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"ecs-uptime/uptime/monitor/monitortest"
)

func runMonitor(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"monitor"}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	_ = cmd.Run()
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// The files in monitors/ are this command's output, byte for byte.
func TestMonitorCommandMakesTheShippedFiles(t *testing.T) {
	tests := []struct {
		file string
		runs [][]string // outputs joined by a blank line
	}{
		{"task-uptime.json", [][]string{nil}},
		{"task-lifetime.json", [][]string{{"--type", "service-check"}}},
		{"task-stuck.json", [][]string{{"--type", "stuck"}}},
		{"dashboard.json", [][]string{{"--type", "dashboard"}}},
		{"family-concurrency.json", [][]string{{"--type", "concurrency", "--family", "db-migrate"}}},
		{"family-singleton.json", [][]string{{"--type", "singleton"}}},
		{"monitors.tf", [][]string{
			{"--format", "terraform"},
			{"--type", "service-check", "--format", "terraform"},
			{"--type", "stuck", "--format", "terraform"},
			{"--type", "concurrency", "--family", "db-migrate", "--format", "terraform"},
			{"--type", "singleton", "--format", "terraform"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			want, err := os.ReadFile("../../monitors/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var outs []string
			for _, args := range tc.runs {
				out, stderr, code := runMonitor(t, args...)
				if code != 0 {
					t.Fatalf("ecs-uptime monitor %v: exit %d: %s", args, code, stderr)
				}
				outs = append(outs, out)
			}
			if got := strings.Join(outs, "\n"); got != string(want) {
				t.Errorf("ecs-uptime monitor output differs from monitors/%s:\n%s", tc.file, got)
			}
		})
	}
}

func TestMonitorCommand(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		wantOut string // in stdout
		wantErr string // in stderr
	}{
		{name: "family and thresholds", args: []string{"--family", "db-migrate", "--warning", "2h", "--critical", "6h"},
			wantOut: `"query": "max(last_5m):max:ecs.task.uptime{task_family:db-migrate,!ecs_task_kind:service} by {task_arn,ecs_cluster_name,region} > 21600"`},
		{name: "cluster, service and scope", args: []string{"--cluster", "Prod", "--service", "api", "--scope", "env:prod,!team:web", "--scope", "region:eu-west-1"},
			wantOut: `{ecs_cluster_name:prod,ecs_service:api,env:prod,!team:web,region:eu-west-1,!ecs_task_kind:service} by {task_arn,ecs_cluster_name,region}`},
		{name: "services included", args: []string{"--service", "api", "--include-services"},
			wantOut: `"query": "max(last_5m):max:ecs.task.uptime{ecs_service:api} by {task_arn,ecs_cluster_name,region} > 86400"`},
		{name: "resolves an hour after the last report", args: nil, wantOut: `"timeout_h": 1`},
		{name: "service check", args: []string{"--type", "service-check", "--family", "db-migrate"},
			wantOut: `"query": "\"ecs.task.lifetime\".over(\"task_family:db-migrate\").exclude(\"ecs_task_kind:service\").by(\"task_arn\",\"ecs_cluster_name\",\"region\").last(2).count_by_status()"`},
		{name: "service check of services too", args: []string{"--type", "service-check", "--include-services"},
			wantOut: `"query": "\"ecs.task.lifetime\".over(\"*\").by(\"task_arn\",\"ecs_cluster_name\",\"region\").last(2).count_by_status()"`},
		{name: "stuck", args: []string{"--type", "stuck", "--cluster", "prod"},
			wantOut: `"query": "\"ecs.task.stuck\".over(\"ecs_cluster_name:prod\").exclude(\"ecs_task_kind:service\").by(\"task_arn\",\"ecs_cluster_name\",\"region\",\"ecs_task_status\").last(2).count_by_status()"`},
		{name: "stuck in terraform", args: []string{"--type", "stuck", "--format", "terraform", "--include-services"},
			wantOut: `resource "datadog_monitor" "task_stuck_with_services" {`},
		{name: "threshold on stuck", args: []string{"--type", "stuck", "--critical", "2h"}, code: 2, wantErr: "--critical: the stuck check's threshold is the scanner's own (ECS_UPTIME_STUCK_AFTER)"},
		{name: "terraform", args: []string{"--format", "terraform", "--family", "db-migrate"},
			wantOut: `resource "datadog_monitor" "task_uptime_task_family_db_migrate" {`},
		{name: "cluster ARN", args: []string{"--cluster", "arn:aws:ecs:eu-west-1:111122223333:cluster/prod"},
			wantOut: `"query": "max(last_5m):max:ecs.task.uptime{ecs_cluster_name:prod,region:eu-west-1,aws_account:111122223333,!ecs_task_kind:service} by {task_arn,ecs_cluster_name,region} > 86400"`},
		{name: "not a cluster ARN", args: []string{"--cluster", "arn:aws:ecs:eu-west-1:111122223333:task/prod/abc"}, code: 2, wantErr: "want a cluster name or a cluster ARN"},
		{name: "family with a revision", args: []string{"--family", "db-migrate:42"}, code: 2, wantErr: "task_family holds no revision"},
		{name: "bad family", args: []string{"--family", "db migrate"}, code: 2, wantErr: `--family "db migrate": a tag value may only hold`},
		{name: "bad scope", args: []string{"--scope", "env"}, code: 2, wantErr: `--scope "env": want key:value`},
		{name: "services by scope without the flag", args: []string{"--scope", "ecs_task_kind:service"}, code: 2,
			wantErr: `--scope "ecs_task_kind:service": service tasks are left out unless --include-services`},
		{name: "bad type", args: []string{"--type", "log"}, code: 2, wantErr: `--type "log": want metric, service-check, stuck, concurrency, singleton or dashboard`},
		{name: "bad format", args: []string{"--format", "yaml"}, code: 2, wantErr: `--format "yaml"`},
		{name: "warning over critical", args: []string{"--warning", "30h"}, code: 2, wantErr: "--warning 30h0m0s: want 0 (off) or less than --critical"},
		{name: "thresholds on a service check", args: []string{"--type", "service-check", "--critical", "1h"}, code: 2, wantErr: "--critical: the service check's thresholds are the sidecars' own"},
		{name: "filter on the dashboard", args: []string{"--type", "dashboard", "--family", "x"}, code: 2, wantErr: "template variables"},
		{name: "dashboard of one-off tasks", args: []string{"--type", "dashboard"}, wantOut: `"query": "max:ecs.task.uptime{$cluster,$family,!ecs_task_kind:service} by {task_family,task_arn}"`},
		{name: "dashboard of every task", args: []string{"--type", "dashboard", "--include-services"}, wantOut: `"query": "max:ecs.task.uptime{$cluster,$family,$service} by {task_family,task_arn}"`},
		{name: "concurrency", args: []string{"--type", "concurrency", "--family", "db-migrate", "--cluster", "prod"},
			wantOut: `"query": "max(last_2m):count_not_null(max:ecs.task.uptime{task_family:db-migrate,ecs_cluster_name:prod,!ecs_task_kind:service} by {task_arn}.fill(last, 90)) > 1"`},
		{name: "concurrency of services too", args: []string{"--type", "concurrency", "--family", "web", "--include-services"},
			wantOut: `"query": "max(last_2m):count_not_null(max:ecs.task.uptime{task_family:web} by {task_arn}.fill(last, 90)) > 1"`},
		{name: "concurrency of sidecars", args: []string{"--type", "concurrency", "--family", "db-migrate", "--interval", "15s"},
			wantOut: `by {task_arn}.fill(last, 45)) > 1"`},
		{name: "concurrency in terraform", args: []string{"--type", "concurrency", "--family", "db-migrate", "--format", "terraform"},
			wantOut: `resource "datadog_monitor" "family_concurrency_task_family_db_migrate" {`},
		{name: "concurrency without a family", args: []string{"--type", "concurrency"}, code: 2, wantErr: `--family "": the concurrency monitor counts the tasks of one family`},
		{name: "concurrency interval too long", args: []string{"--type", "concurrency", "--family", "x", "--interval", "10m"}, code: 2, wantErr: "--interval 10m0s: want more than 0s and at most 9m30s"},
		{name: "concurrency interval not a duration", args: []string{"--type", "concurrency", "--family", "x", "--interval", "60"}, code: 2, wantErr: "a number needs a unit: 60s"},
		{name: "thresholds on concurrency", args: []string{"--type", "concurrency", "--family", "x", "--critical", "2h"}, code: 2, wantErr: "--critical: only for --type metric or dashboard"},
		{name: "singleton", args: []string{"--type", "singleton", "--family", "db-migrate"},
			wantOut: `"query": "\"ecs.family.singleton\".over(\"task_family:db-migrate\").by(\"task_family\",\"cluster_arn\",\"region\").last(1).pct_by_status()"`},
		{name: "singleton notifying no data", args: []string{"--type", "singleton", "--notify-no-data"}, wantOut: `"no_data_timeframe": 10`},
		{name: "singleton of a service", args: []string{"--type", "singleton", "--service", "api"}, code: 2, wantErr: `--service "api": the ecs.family.singleton check has no ecs_service tag`},
		{name: "singleton with services", args: []string{"--type", "singleton", "--include-services"}, code: 2,
			wantErr: "--include-services: the ecs.family.singleton check is per family and cluster, with no ecs_task_kind"},
		{name: "interval on another type", args: []string{"--type", "singleton", "--interval", "15s"}, code: 2, wantErr: "--interval: only for --type concurrency"},
		{name: "no-data on another type", args: []string{"--notify-no-data"}, code: 2, wantErr: "--notify-no-data: only for --type singleton"},
		{name: "warning on the dashboard", args: []string{"--type", "dashboard", "--warning", "2h"}, code: 2, wantErr: "--warning: only for --type metric"},
		{name: "help", args: []string{"--help"}, wantErr: "curl -X POST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := runMonitor(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.wantOut) || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("exit %d\nstdout %s\nstderr %s\nwant exit %d, stdout with %q, stderr with %q", code, out, stderr, tc.code, tc.wantOut, tc.wantErr)
			}
			if code == 0 && strings.HasPrefix(out, "{") {
				check := func(b []byte) error { _, err := monitortest.Monitor(b); return err }
				if strings.HasPrefix(out, "{\n  \"title\"") {
					check = func(b []byte) error { _, err := monitortest.Dashboard(b); return err }
				}
				if err := check([]byte(out)); err != nil {
					t.Errorf("Datadog's model: %v", err)
				}
			}
		})
	}
}

// The models that check monitors (Datadog's API client, an HCL parser),
// the ECS agent's own metadata server and the deprecated Docker and AWS
// SDK v1 modules are for tests only: the binary that runs in every task
// links none of them. It links aws-sdk-go-v2 for the api source only.
func TestTestOnlyModulesStayOutOfTheBinary(t *testing.T) {
	out, err := exec.Command("go", "version", "-m", binary).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "github.com/DataDog/datadog-go/v5") {
		t.Fatalf("go version -m lists no datadog-go: is this the binary?\n%s", out)
	}
	var deps []string // module paths, from lines "\tdep\tPATH\tVERSION\tSUM"
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && (f[0] == "dep" || f[0] == "=>") {
			deps = append(deps, f[1])
		}
	}
	testOnly := func(dep string) bool {
		for _, prefix := range []string{"github.com/DataDog/datadog-api-client-go", "github.com/hashicorp/hcl", "github.com/aws/amazon-ecs-agent", "github.com/docker/docker"} {
			if strings.HasPrefix(dep, prefix) {
				return true
			}
		}
		return dep == "github.com/aws/aws-sdk-go" // v1; v2 is the api source's
	}
	for _, mod := range deps {
		if testOnly(mod) {
			t.Errorf("the binary links %s, a test-only module", mod)
		}
	}
}
