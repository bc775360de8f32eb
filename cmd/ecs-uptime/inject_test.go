package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	if code != 0 || second != first || !strings.Contains(stderr, `container "ecs-uptime" unchanged`) {
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
		wantWarning   string
	}{
		{"max lifetime makes it essential, and says how the app waits for it", []string{"--max-lifetime", "6h", "--critical", "2h"}, true,
			`warning: the sidecar is essential: if it exits at start (a variable it refuses), ECS stops the task with "api" already running. Make "api" wait for it: add "dependsOn": [{"containerName": "ecs-uptime", "condition": "HEALTHY"}] to "api", and give the sidecar "healthCheck": {"command": ["CMD", "/ecs-uptime", "healthcheck"]`},
		{"essential=false is obeyed, with a warning", []string{"--max-lifetime", "6h", "--essential=false"}, false,
			"warning: ECS_UPTIME_MAX_LIFETIME=6h with essential false"},
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
			if strings.Count(stderr, "warning:") != 1 || !strings.Contains(stderr, tc.wantWarning) {
				t.Errorf("stderr %q\nwant one warning: %q", stderr, tc.wantWarning)
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
		{"bad duration", ``, []string{"--interval", "often"}, 2, `invalid value "often" for flag -interval: want a Go duration such as 48h`},
		{"missing file", ``, []string{"--image", "x/ecs-uptime:1", "--file", "/nonexistent/td.json"}, 1, "read /nonexistent/td.json"},
		{"stray argument", ``, []string{"td.json"}, 2, `unexpected argument "td.json"`},
		{"empty input", ``, []string{"--image", "x/ecs-uptime:1"}, 2, "ecs-uptime inject: standard input: empty input: want aws ecs describe-task-definition output"},
		{"trailing data", `{"family":"f","networkMode":"host","containerDefinitions":[{"name":"a","image":"x","memory":64}]}` + "\n# a comment", []string{"--image", "x/ecs-uptime:1"}, 2, `data after the end of the object: "# a comment"`},
		{"an application container by --name", `{"family":"f","networkMode":"host","containerDefinitions":[{"name":"migrate","image":"r/app:1","memory":64}]}`, []string{"--image", "x/ecs-uptime:1", "--name", "migrate"}, 2,
			`containerDefinitions[0] "migrate" (image "r/app:1") is not an ecs-uptime sidecar`},
		{"localhost in bridge mode", `{"family":"f","networkMode":"bridge","containerDefinitions":[{"name":"a","image":"x","memory":64}]}`, []string{"--image", "x/ecs-uptime:1"}, 2,
			"networkMode bridge: localhost:8125 is the sidecar's own loopback, where no Agent listens; send over the Unix socket instead: --dogstatsd-url unix:///var/run/datadog/dsd.socket"},
		{"not an image reference", ``, []string{"--image", "not an image!!"}, 2, `ecs-uptime inject: --image: image "not an image!!" is not an image reference`},
		{"the -sidecar image for the api source", `{"family":"scan","networkMode":"awsvpc","containerDefinitions":[{"name":"datadog-agent","image":"public.ecr.aws/datadog/agent:7","memory":256},` +
			`{"name":"ecs-uptime","image":"r/ecs-uptime:1.2.3","memory":64,"environment":[{"name":"ECS_UPTIME_SOURCE","value":"api"}]}]}`,
			[]string{"--image", "r/ecs-uptime:1.2.4-sidecar"}, 2, `container "ecs-uptime": image "r/ecs-uptime:1.2.4-sidecar" is the -sidecar build, which has no api source`},
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

// Bumping the image of an existing sidecar changes the image and nothing
// else: not the max lifetime, the essential flag, the thresholds, nor the
// host daemon's docker source. Each change is one line on stderr.
func TestInjectCommandUpdatesOnlyWhatIsGiven(t *testing.T) {
	describe, err := os.ReadFile(describeFixture)
	if err != nil {
		t.Fatal(err)
	}
	const old, bumped = "r/ecs-uptime:1.0.0", "r/ecs-uptime:1.1.0"
	first, stderr, code := runInject(t, describe, "--image", old, "--max-lifetime", "6h", "--warning", "1h", "--critical", "2h", "--interval", "30s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	daemon, err := os.ReadFile("../../task-definitions/host-daemon.json")
	if err != nil {
		t.Fatal(err)
	}
	const shipped = "111122223333.dkr.ecr.us-east-1.amazonaws.com/ecs-uptime:1.0.0-sidecar"
	tests := []struct {
		name    string
		in      []byte
		args    []string
		changes []string // the lines after "updated container"
		env     map[string]string
	}{
		{"image only", []byte(first), []string{"--image", bumped}, []string{`image: "` + old + `" -> "` + bumped + `"`},
			map[string]string{"ECS_UPTIME_MAX_LIFETIME": "6h", "ECS_UPTIME_WARNING": "1h", "ECS_UPTIME_CRITICAL": "2h", "ECS_UPTIME_INTERVAL": "30s", "ECS_UPTIME_SOURCE": "ecs"}},
		{"one threshold", []byte(first), []string{"--critical", "3h"}, []string{`ECS_UPTIME_CRITICAL: "2h" -> "3h"`},
			map[string]string{"ECS_UPTIME_MAX_LIFETIME": "6h", "ECS_UPTIME_WARNING": "1h", "ECS_UPTIME_CRITICAL": "3h", "ECS_UPTIME_INTERVAL": "30s"}},
		{"max lifetime off", []byte(first), []string{"--max-lifetime", "0"}, []string{`essential: true -> false`, `ECS_UPTIME_MAX_LIFETIME: "6h" -> (unset)`},
			map[string]string{"ECS_UPTIME_MAX_LIFETIME": "", "ECS_UPTIME_WARNING": "1h", "ECS_UPTIME_CRITICAL": "2h"}},
		{"the host daemon's image", daemon, []string{"--image", bumped}, []string{`image: "` + shipped + `" -> "` + bumped + `"`},
			map[string]string{"ECS_UPTIME_SOURCE": "docker", "ECS_UPTIME_INTERVAL": "30s", "ECS_UPTIME_WARNING": "12h", "ECS_UPTIME_SERVICE_TASKS": "report"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := runInject(t, tc.in, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			want := "ecs-uptime inject: updated container \"ecs-uptime\":\n"
			for _, c := range tc.changes {
				want += "  " + c + "\n"
			}
			if !strings.HasPrefix(stderr, want) {
				t.Errorf("stderr\n%s\nwant it to start with\n%s", stderr, want)
			}
			essential, env := sidecar(t, out)
			wantEssential := !slices.Contains(tc.changes, "essential: true -> false")
			if essential != wantEssential {
				t.Errorf("essential %v, want %v", essential, wantEssential)
			}
			for k, v := range tc.env {
				if env[k] != v {
					t.Errorf("%s=%q, want %q", k, env[k], v)
				}
			}
		})
	}
}

// sidecar returns the essential flag and the environment of the
// ecs-uptime container of a task definition.
func sidecar(t *testing.T, doc string) (bool, map[string]string) {
	t.Helper()
	var td struct {
		ContainerDefinitions []struct {
			Name        string
			Essential   bool
			Environment []struct{ Name, Value string }
		}
	}
	if err := json.Unmarshal([]byte(doc), &td); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	for _, c := range td.ContainerDefinitions {
		if c.Name == "ecs-uptime" {
			env := map[string]string{}
			for _, e := range c.Environment {
				env[e.Name] = e.Value
			}
			return c.Essential, env
		}
	}
	t.Fatalf("no ecs-uptime container in\n%s", doc)
	return false, nil
}

// Where nothing can receive what the sidecar sends, inject says what to
// add (a warning, exit 0) or refuses (exit 2) when nothing could fix it.
func TestInjectCommandAgentReach(t *testing.T) {
	fargate, err := os.ReadFile("../../task-definitions/fargate.json")
	if err != nil {
		t.Fatal(err)
	}
	var td map[string]any
	if err := json.Unmarshal(fargate, &td); err != nil {
		t.Fatal(err)
	}
	// fargate.json less its Agent and its sidecar: an app alone on Fargate.
	td["containerDefinitions"] = td["containerDefinitions"].([]any)[:1]
	alone, _ := json.Marshal(td)
	out, stderr, code := runInject(t, alone, "--image", "r/ecs-uptime:1")
	if code != 0 || out == "" {
		t.Fatalf("exit %d, stdout %d bytes: %s", code, len(out), stderr)
	}
	want := "ecs-uptime inject: warning: no Datadog Agent container in the task: the sidecar sends to localhost:8125, where nothing listens; add the Datadog Agent container (public.ecr.aws/datadog/agent:7 with ECS_FARGATE=true and DD_API_KEY) as task-definitions/fargate.json does\n"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr\n%s\nwant\n%s", stderr, want)
	}
	_, stderr, code = runInject(t, alone, "--image", "r/ecs-uptime:1", "--dogstatsd-url", "unix:///var/run/datadog/dsd.socket")
	if code != 2 || !strings.Contains(stderr, "cannot be mounted on Fargate") {
		t.Errorf("a host socket on Fargate: exit %d, %s; want exit 2", code, stderr)
	}
}
