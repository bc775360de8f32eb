package taskdef_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ecs-uptime/uptime/taskdef"
	"ecs-uptime/uptime/taskdef/taskdeftest"
)

// shippedImage is the image placeholder of the cluster scan, which needs
// the full image (the api source); every other file names its lean
// -sidecar twin (shippedImage + taskdef.SidecarSuffix), as the README
// recommends for sidecars and host daemons.
const shippedImage = "111122223333.dkr.ecr.us-east-1.amazonaws.com/ecs-uptime:1.0.0"

// The shape of a shipped file that the checks below read.
type shipped struct {
	NetworkMode          string
	ContainerDefinitions []container
	Volumes              []volume
}

type container struct {
	Name, Image, User      string
	Essential              *bool
	ReadonlyRootFilesystem bool
	Environment            []struct{ Name, Value string }
	MountPoints            []mount
	LogConfiguration       *struct{ LogDriver string }
	DependsOn              []struct{ ContainerName, Condition string }
	HealthCheck            *struct{ Command []string }
}

type mount struct {
	SourceVolume, ContainerPath string
	ReadOnly                    bool
}

type volume struct {
	Name string
	Host *struct{ SourcePath string }
}

// Every file in task-definitions/ is registrable as AWS's model says, and
// its ecs-uptime container starts with the binary's own configuration.
func TestShippedTaskDefinitions(t *testing.T) {
	files, err := filepath.Glob("../../task-definitions/*.json")
	if err != nil {
		t.Fatal(err)
	}
	// What each file is for; a new file needs a line here.
	tests := map[string]struct {
		essential   bool
		network     string
		source      string
		env         map[string]string
		hostVolumes map[string]string // volume → host path mounted read-only in the sidecar
		waits       []string          // containers that start once the sidecar is HEALTHY
	}{
		"fargate.json": {essential: false, network: "awsvpc", source: "ecs",
			env: map[string]string{"DD_AGENT_HOST": "localhost", "DD_DOGSTATSD_PORT": "8125"}},
		"ec2-bridge.json": {essential: false, network: "bridge", source: "ecs",
			env:         map[string]string{"DD_DOGSTATSD_URL": "unix:///var/run/datadog/dsd.socket"},
			hostVolumes: map[string]string{"/var/run/datadog": "/var/run/datadog"}},
		"migration-max-lifetime.json": {essential: true, network: "awsvpc", source: "ecs",
			env: map[string]string{"ECS_UPTIME_MAX_LIFETIME": "6h"}, waits: []string{"migrate"}},
		"cluster-scan.json": {essential: true, network: "awsvpc", source: "api",
			env: map[string]string{"DD_AGENT_HOST": "localhost", "ECS_UPTIME_STOP_TASKS": "false", "ECS_UPTIME_INTERVAL": "60s",
				"ECS_UPTIME_SERVICE_TASKS": "report"}},
		// bridge: the daemon reads each task's metadata at 169.254.170.2,
		// which the ECS agent answers for bridge containers.
		"host-daemon.json": {essential: true, network: "bridge", source: "docker",
			env: map[string]string{"DOCKER_HOST": "unix:///var/run/docker.sock", "DD_DOGSTATSD_URL": "unix:///var/run/datadog/dsd.socket",
				"ECS_UPTIME_SERVICE_TASKS": "report"},
			hostVolumes: map[string]string{"/var/run/docker.sock": "/var/run/docker.sock", "/var/run/datadog": "/var/run/datadog"}},
	}
	if len(files) != len(tests) {
		t.Errorf("task-definitions/ has %d JSON files, the test knows %d: %v", len(files), len(tests), files)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			doc, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := taskdeftest.Validate(doc); err != nil {
				t.Fatalf("AWS's model refuses %s:\n%v", name, err)
			}
			n, err := taskdeftest.CheckECSUptime(doc)
			if err != nil {
				t.Fatalf("ecs-uptime would not start:\n%v", err)
			}
			if n != 1 {
				t.Fatalf("%d ecs-uptime containers, want 1", n)
			}
			want, ok := tests[name]
			if !ok {
				t.Fatalf("no expectations for %s in this test", name)
			}
			var td shipped
			if err := json.Unmarshal(doc, &td); err != nil {
				t.Fatal(err)
			}
			if td.NetworkMode != want.network {
				t.Errorf("networkMode %q, want %q", td.NetworkMode, want.network)
			}
			i := slices.IndexFunc(td.ContainerDefinitions, func(c container) bool {
				return taskdeftest.ImageIsECSUptime(c.Image)
			})
			c := td.ContainerDefinitions[i]
			image := shippedImage + taskdef.SidecarSuffix
			if want.source == "api" {
				image = shippedImage
			}
			if c.Image != image {
				t.Errorf("image %q, want the placeholder %q", c.Image, image)
			}
			if c.Essential == nil || *c.Essential != want.essential {
				t.Errorf("essential %v, want %v", c.Essential, want.essential)
			}
			if !c.ReadonlyRootFilesystem {
				t.Error("readonlyRootFilesystem is not true")
			}
			if c.LogConfiguration == nil || c.LogConfiguration.LogDriver != "awslogs" {
				t.Errorf("logConfiguration %+v, want awslogs", c.LogConfiguration)
			}
			env := map[string]string{}
			for _, e := range c.Environment {
				env[e.Name] = e.Value
			}
			if env["ECS_UPTIME_SOURCE"] != want.source {
				t.Errorf("ECS_UPTIME_SOURCE=%q, want %q", env["ECS_UPTIME_SOURCE"], want.source)
			}
			for k, v := range want.env {
				if env[k] != v {
					t.Errorf("%s=%q, want %q", k, env[k], v)
				}
			}
			for _, name := range want.waits {
				app := slices.IndexFunc(td.ContainerDefinitions, func(c container) bool { return c.Name == name })
				if app < 0 || !slices.ContainsFunc(td.ContainerDefinitions[app].DependsOn, func(d struct{ ContainerName, Condition string }) bool {
					return d.ContainerName == c.Name && d.Condition == "HEALTHY"
				}) {
					t.Errorf("container %q does not wait for %q to be HEALTHY", name, c.Name)
				}
				if c.HealthCheck == nil || !slices.Equal(c.HealthCheck.Command, []string{"CMD", "/ecs-uptime", "healthcheck"}) {
					t.Errorf("%q waits for the sidecar's health, and its healthCheck is %+v", name, c.HealthCheck)
				}
			}
			// Bumping the image with inject changes the image and nothing
			// else, and inject finds nothing to warn about in a shipped file.
			bumped := strings.Replace(image, ":1.0.0", ":1.1.0", 1)
			res, err := taskdef.Inject(doc, taskdef.Sidecar{Name: c.Name, Image: bumped})
			if err != nil {
				t.Fatalf("inject --image: %v", err)
			}
			if wantChanges := []string{`image: "` + image + `" -> "` + bumped + `"`}; !slices.Equal(res.Changes, wantChanges) || len(res.Warnings) > 0 {
				t.Errorf("inject --image: changes %q, warnings %q; want %q and no warning", res.Changes, res.Warnings, wantChanges)
			}
			if again := bytes.ReplaceAll(res.JSON, []byte(bumped), []byte(image)); !bytes.Equal(compact(t, again), compact(t, doc)) {
				t.Errorf("inject --image changed more than the image:\n%s", res.JSON)
			}
			for host, path := range want.hostVolumes {
				vol := slices.IndexFunc(td.Volumes, func(v volume) bool {
					return v.Host != nil && v.Host.SourcePath == host
				})
				if vol < 0 {
					t.Errorf("no volume for the host path %s", host)
					continue
				}
				if !slices.ContainsFunc(c.MountPoints, func(m mount) bool {
					return m.SourceVolume == td.Volumes[vol].Name && m.ContainerPath == path && m.ReadOnly
				}) {
					t.Errorf("%s is not mounted read-only at %s", host, path)
				}
			}
		})
	}
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
