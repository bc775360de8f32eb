package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ecs-uptime/uptime/taskdef/taskdeftest"
)

const describeFixture = "../../uptime/taskdef/testdata/describe-firelens.json"

// runInject runs the real binary with stdin and returns stdout, stderr and
// the exit code.
func runInject(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"inject"}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	_ = cmd.Run()
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// The three steps a user runs, less AWS: describe output in, a
// register-ready task definition out, and the same again on that output.
func TestInjectCommandRoundTrips(t *testing.T) {
	describe, err := os.ReadFile(describeFixture)
	if err != nil {
		t.Fatal(err)
	}
	image := "111122223333.dkr.ecr.us-east-1.amazonaws.com/ecs-uptime:1.0.0"
	first, stderr, code := runInject(t, describe, "--image", image, "--warning", "20h", "--interval", "30s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, `added container "ecs-uptime"`) {
		t.Errorf("stderr %q, want it to say the container was added", stderr)
	}
	if err := taskdeftest.Validate([]byte(first)); err != nil {
		t.Fatalf("AWS's model refuses the output:\n%v", err)
	}
	if n, err := taskdeftest.CheckECSUptime([]byte(first)); err != nil || n != 1 {
		t.Fatalf("CheckECSUptime: %d, %v", n, err)
	}
	var td struct {
		TaskDefinitionArn    *string
		Tags                 []struct{ Key, Value string }
		ContainerDefinitions []struct {
			Name        string
			Essential   bool
			Environment []struct{ Name, Value string }
		}
	}
	if err := json.Unmarshal([]byte(first), &td); err != nil {
		t.Fatal(err)
	}
	if td.TaskDefinitionArn != nil || len(td.Tags) != 2 {
		t.Errorf("taskDefinitionArn %v, tags %v: want the ARN dropped and both tags kept", td.TaskDefinitionArn, td.Tags)
	}
	side := td.ContainerDefinitions[len(td.ContainerDefinitions)-1]
	env := map[string]string{}
	for _, e := range side.Environment {
		env[e.Name] = e.Value
	}
	if side.Name != "ecs-uptime" || side.Essential || env["ECS_UPTIME_INTERVAL"] != "30s" || env["ECS_UPTIME_WARNING"] != "20h" || env["ECS_UPTIME_CRITICAL"] != "24h" {
		t.Errorf("sidecar %+v", side)
	}

	// Again, from a file this time: nothing changes.
	path := filepath.Join(t.TempDir(), "register.json")
	if err := os.WriteFile(path, []byte(first), 0o600); err != nil {
		t.Fatal(err)
	}
	second, stderr, code := runInject(t, nil, "--file", path, "--warning", "20h", "--interval", "30s")
	if code != 0 || second != first || !strings.Contains(stderr, "updated") {
		t.Fatalf("second run: exit %d, stderr %q, same output %v", code, stderr, second == first)
	}
}

func TestInjectCommandMaxLifetime(t *testing.T) {
	describe, err := os.ReadFile(describeFixture)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		args          []string
		wantEssential bool
		wantWarning   bool
	}{
		{"max lifetime makes it essential", []string{"--max-lifetime", "6h", "--critical", "2h"}, true, false},
		{"essential=false is obeyed, with a warning", []string{"--max-lifetime", "6h", "--essential=false"}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := runInject(t, describe, append([]string{"--image", "r/ecs-uptime:1"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var td struct {
				ContainerDefinitions []struct {
					Essential   bool
					Environment []struct{ Name, Value string }
				}
			}
			if err := json.Unmarshal([]byte(out), &td); err != nil {
				t.Fatal(err)
			}
			side := td.ContainerDefinitions[len(td.ContainerDefinitions)-1]
			if side.Essential != tc.wantEssential {
				t.Errorf("essential %v, want %v", side.Essential, tc.wantEssential)
			}
			if got := strings.Contains(stderr, "warning:"); got != tc.wantWarning {
				t.Errorf("stderr %q: warning %v, want %v", stderr, got, tc.wantWarning)
			}
			if !strings.Contains(out, `"value": "6h"`) {
				t.Errorf("no ECS_UPTIME_MAX_LIFETIME=6h in\n%s", out)
			}
		})
	}
}

func TestInjectCommandErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"not a task definition", `{"services": []}`, []string{"--image", "x/ecs-uptime:1"}, 2, `standard input: not a task definition: no "containerDefinitions" field`},
		{"a container without a name", `{"family":"f","containerDefinitions":[{"image":"x"}]}`, []string{"--image", "x/ecs-uptime:1"}, 2, "containerDefinitions[0].name is missing"},
		{"no image", `{"family":"f","containerDefinitions":[{"name":"a","image":"x"}]}`, nil, 2, "an image is needed"},
		{"warning over critical", `{"family":"f","containerDefinitions":[{"name":"a","image":"x"}]}`, []string{"--image", "x/ecs-uptime:1", "--warning", "30h"}, 2, `ECS_UPTIME_WARNING="30h": want less than ECS_UPTIME_CRITICAL`},
		{"bad duration", ``, []string{"--interval", "often"}, 2, `invalid value "often"`},
		{"missing file", ``, []string{"--image", "x/ecs-uptime:1", "--file", "/nonexistent/td.json"}, 1, "read /nonexistent/td.json"},
		{"stray argument", ``, []string{"td.json"}, 2, `unexpected argument "td.json"`},
		{"help", ``, []string{"--help"}, 0, "aws ecs register-task-definition --cli-input-json file://web.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := runInject(t, []byte(tc.stdin), tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
			if code != 0 && out != "" {
				t.Errorf("stdout %q on failure, want nothing", out)
			}
		})
	}
}
