package taskdeftest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateAcceptsGood(t *testing.T) {
	doc, err := os.ReadFile("testdata/good.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(doc); err != nil {
		t.Fatalf("Validate(good.json): %v", err)
	}
	n, err := CheckECSUptime(doc)
	if err != nil || n != 1 {
		t.Fatalf("CheckECSUptime(good.json) = %d, %v; want 1 container, no error", n, err)
	}
}

// The validator must fail on the mistakes it exists to catch: each case is
// good.json with one mistake, in a file under testdata or as an edit.
func TestValidateRejects(t *testing.T) {
	good, err := os.ReadFile("testdata/good.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		file     string // a bad fixture, or
		old, new string // an edit of good.json
		want     string // in the error
	}{
		{name: "misspelled field", file: "misspelled-field.json", want: `unknown field "essentail"`},
		{name: "nested key in the wrong case", file: "wrong-case-nested.json", want: "containerDefinitions[0].mountPoints[0].ContainerPath: not a field of AWS's ECS model"},
		{name: "top-level key in the wrong case", old: `"family"`, new: `"Family"`, want: "Family: not a field"},
		{name: "misspelled nested field", old: `"sourceVolume"`, new: `"sourceVolumes"`, want: `unknown field "sourceVolumes"`},
		{name: "wrong type", old: `"cpu": "256"`, new: `"cpu": 256`, want: "cannot unmarshal number"},
		{name: "family missing", old: `"family": "good",`, new: ``, want: "Family"},
		{name: "image missing", old: `"image": "public.ecr.aws/nginx/nginx:1.27",`, new: ``, want: "containerDefinitions[0].image: missing"},
		{name: "duplicate container name", old: `"name": "ecs-uptime"`, new: `"name": "app"`, want: `containerDefinitions[1].name: "app" twice`},
		{name: "no such volume", old: `"sourceVolume": "scratch"`, new: `"sourceVolume": "scrach"`, want: "mountPoints[0].sourceVolume: no such volume"},
		{name: "fargate without awsvpc", old: `"awsvpc"`, new: `"bridge"`, want: "Fargate needs awsvpc"},
		{name: "fargate without task cpu", old: `"cpu": "256",`, new: ``, want: "Fargate needs both"},
		{name: "no essential container", old: `"essential": true`, new: `"essential": false`, want: "no essential container"},
		{name: "fargate and EC2 with a task pid mode is fine", old: `["FARGATE"]`, new: `["FARGATE", "EC2"], "pidMode": "task"`, want: ""},
		{name: "value not in a top-level enum", old: `"awsvpc"`, new: `"vpc"`, want: `networkMode: "vpc" is not one of`},
		{name: "value not in a nested enum", old: `"essential": true,`, new: `"essential": true, "dependsOn": [{ "containerName": "ecs-uptime", "condition": "STARTED" }],`, want: `containerDefinitions[0].dependsOn[0].condition: "STARTED" is not one of START, COMPLETE, SUCCESS, HEALTHY`},
		{name: "dependsOn a missing container", old: `"essential": true,`, new: `"essential": true, "dependsOn": [{ "containerName": "agent", "condition": "START" }],`, want: "dependsOn[0].containerName: no such container"},
		{name: "HEALTHY on a container without a healthCheck", old: `"essential": true,`, new: `"essential": true, "dependsOn": [{ "containerName": "ecs-uptime", "condition": "HEALTHY" }],`, want: `containerDefinitions[0].dependsOn[0]: HEALTHY needs a healthCheck on "ecs-uptime", which has none`},
		{name: "health check interval under ECS's minimum", old: `"essential": true,`, new: `"essential": true, "healthCheck": { "command": ["CMD", "true"], "interval": 1 },`, want: "containerDefinitions[0].healthCheck.interval: 1, want 5 to 300"},
		{name: "trailing data", old: "\n}\n", new: "\n}\n{}", want: "data after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := good
			if tc.file != "" {
				if doc, err = os.ReadFile(filepath.Join("testdata", tc.file)); err != nil {
					t.Fatal(err)
				}
			} else if tc.old != "" {
				if !strings.Contains(string(good), tc.old) {
					t.Fatalf("good.json has no %q", tc.old)
				}
				doc = []byte(strings.Replace(string(good), tc.old, tc.new, 1))
			}
			err := Validate(doc)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
}

func TestCheckECSUptimeRejects(t *testing.T) {
	good, err := os.ReadFile("testdata/good.json")
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := os.ReadFile("testdata/unknown-variable.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"unknown variable", string(unknown), "ECS_UPTIME_CRITICIAL=\"24h\": not a variable ecs-uptime reads; want ECS_UPTIME_CRITICAL"},
		{"bad duration", strings.Replace(string(good), `"24h"`, `"a day"`, 1), `ECS_UPTIME_CRITICAL="a day": want a Go duration`},
		{"warning over critical", strings.Replace(string(good), `{ "name": "ECS_UPTIME_CRITICAL", "value": "24h" }`, `{ "name": "ECS_UPTIME_CRITICAL", "value": "1h" }, { "name": "ECS_UPTIME_WARNING", "value": "2h" }`, 1), "want less than ECS_UPTIME_CRITICAL"},
		{"max lifetime on a non-essential sidecar", strings.Replace(string(good), `"ECS_UPTIME_CRITICAL"`, `"ECS_UPTIME_MAX_LIFETIME"`, 1), "essential is false"},
		{"max lifetime in docker mode", strings.Replace(string(good), `{ "name": "ECS_UPTIME_CRITICAL", "value": "24h" }`, `{ "name": "ECS_UPTIME_SOURCE", "value": "docker" }, { "name": "ECS_UPTIME_MAX_LIFETIME", "value": "24h" }`, 1), "want it unset with ECS_UPTIME_SOURCE=docker"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.doc == string(good) {
				t.Fatal("the edit did not apply")
			}
			_, err := CheckECSUptime([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckECSUptime: %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
}
