package taskdef

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"ecs-uptime/uptime/taskdef/taskdeftest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testImage = "111122223333.dkr.ecr.us-east-1.amazonaws.com/ecs-uptime:1.0.0"

func sidecarEnv(extra ...Var) []Var {
	return append([]Var{
		{"ECS_UPTIME_SOURCE", "ecs"},
		{"ECS_UPTIME_INTERVAL", "15s"},
		{"ECS_UPTIME_WARNING", "20h"},
		{"ECS_UPTIME_CRITICAL", "24h"},
		{"ECS_UPTIME_MAX_LIFETIME", ""},
	}, extra...)
}

// Inject turns realistic task definitions into register-ready ones that
// AWS's model accepts, the same bytes as the golden file, and running it
// again on its own output changes nothing.
func TestInjectGolden(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		sidecar  Sidecar
		warnings []string // a part of each warning, in order
	}{
		{"describe-firelens", "describe-firelens.json", Sidecar{Image: testImage, Env: sidecarEnv()}, nil},
		{"describe-firelens-max-lifetime", "describe-firelens.json", Sidecar{Image: testImage, Essential: new(true),
			Env: []Var{{"ECS_UPTIME_SOURCE", "ecs"}, {"ECS_UPTIME_INTERVAL", "15s"}, {"ECS_UPTIME_CRITICAL", "2h"}, {"ECS_UPTIME_MAX_LIFETIME", "6h"}}},
			[]string{`Make "api" wait for it: add "dependsOn": [{"containerName": "ecs-uptime", "condition": "HEALTHY"}] to "api", and give the sidecar "healthCheck"`}},
		{"register-ec2-socket", "register-ec2.json", Sidecar{Name: "uptime", Image: testImage,
			Env: sidecarEnv(Var{"DD_DOGSTATSD_URL", "unix:///var/run/datadog/dsd.socket"})}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tc.in))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Inject(in, tc.sidecar)
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			if !res.Added || !matchAll(res.Warnings, tc.warnings) {
				t.Errorf("Added %v, warnings %q; want added, warnings with %q", res.Added, res.Warnings, tc.warnings)
			}
			golden := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, res.JSON, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(res.JSON, want) {
				t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, res.JSON)
			}
			if err := taskdeftest.Validate(res.JSON); err != nil {
				t.Errorf("AWS's model refuses the output:\n%v", err)
			}
			if n, err := taskdeftest.CheckECSUptime(res.JSON); err != nil || n != 1 {
				t.Errorf("CheckECSUptime: %d containers, %v; want 1, no error", n, err)
			}
			out := res.JSON
			for round := 2; round <= 3; round++ {
				again, err := Inject(out, tc.sidecar)
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if again.Added || len(again.Changes) > 0 {
					t.Errorf("round %d: added %v, changes %q; want an update that changes nothing", round, again.Added, again.Changes)
				}
				if !bytes.Equal(again.JSON, out) {
					t.Fatalf("round %d changed the output:\n%s\nwas:\n%s", round, again.JSON, out)
				}
				out = again.JSON
			}
		})
	}
}

// Every field but the read-only ones is kept with its value and in its
// place, even fields this package has never heard of.
func TestInjectKeepsEveryField(t *testing.T) {
	in, err := os.ReadFile("testdata/describe-firelens.json")
	if err != nil {
		t.Fatal(err)
	}
	// A field AWS might add tomorrow, at the top and inside a container.
	in = bytes.Replace(in, []byte(`"family": "orders-api",`), []byte(`"family": "orders-api", "futureField": {"b": [1, 2.50, "x<y>&z"], "a": null},`), 1)
	in = bytes.Replace(in, []byte(`"stopTimeout": 60,`), []byte(`"stopTimeout": 60, "futureContainerField": 1e3,`), 1)
	res, err := Inject(in, Sidecar{Image: testImage, Env: sidecarEnv()})
	if err != nil {
		t.Fatal(err)
	}

	var describe struct {
		TaskDefinition map[string]any
		Tags           []any
	}
	decode(t, in, &describe)
	want := describe.TaskDefinition
	for _, k := range ReadOnlyFields {
		delete(want, k)
	}
	want["tags"] = describe.Tags

	var got map[string]any
	decode(t, res.JSON, &got)
	containers := got["containerDefinitions"].([]any)
	last := containers[len(containers)-1].(map[string]any)
	if last["name"] != DefaultName {
		t.Fatalf("last container is %v, want the sidecar", last["name"])
	}
	got["containerDefinitions"] = containers[:len(containers)-1]
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("fields changed:\ngot  %s\nwant %s", g, w)
	}
	// Values as written: numbers not reformatted, no HTML escaping.
	out := compact(t, res.JSON)
	for _, s := range []string{`"futureField":{"b":[1,2.50,"x<y>&z"],"a":null}`, `"futureContainerField":1e3`, `2>&1 | tee /scratch/out.log && echo done`} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("output lacks %s as written", s)
		}
	}

	// Key order: the input's, less the read-only fields, tags last.
	var wantOrder []string
	for _, k := range keys(t, in, "taskDefinition") {
		if !slices.Contains(ReadOnlyFields, k) {
			wantOrder = append(wantOrder, k)
		}
	}
	wantOrder = append(wantOrder, "tags")
	if got := keys(t, res.JSON, ""); !slices.Equal(got, wantOrder) {
		t.Errorf("key order %v, want %v", got, wantOrder)
	}
}

// The sidecar's log configuration is the first logging container's; an
// awslogs configuration without a stream prefix gets one (Fargate needs it).
func TestInjectLogConfiguration(t *testing.T) {
	tests := []struct {
		name string
		logs []string // logConfiguration of each app container ("" for none)
		want string
	}{
		{"first container that logs", []string{``, `{"logDriver":"json-file","options":{"max-size":"1m"}}`, `{"logDriver":"syslog"}`}, `{"logDriver":"json-file","options":{"max-size":"1m"}}`},
		{"awslogs prefix kept", []string{`{"logDriver":"awslogs","options":{"awslogs-group":"g","awslogs-stream-prefix":"web"}}`}, `{"logDriver":"awslogs","options":{"awslogs-group":"g","awslogs-stream-prefix":"web"}}`},
		{"awslogs prefix added", []string{`{"logDriver":"awslogs","options":{"awslogs-group":"g"}}`}, `{"logDriver":"awslogs","options":{"awslogs-group":"g","awslogs-stream-prefix":"ecs-uptime"}}`},
		{"awslogs without options", []string{`{"logDriver":"awslogs"}`}, `{"logDriver":"awslogs","options":{"awslogs-stream-prefix":"ecs-uptime"}}`},
		{"nobody logs", []string{``, `null`}, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cs []string
			for i, l := range tc.logs {
				c := `{"name":"c` + string(rune('0'+i)) + `","image":"app","memory":64`
				if l != "" {
					c += `,"logConfiguration":` + l
				}
				cs = append(cs, c+"}")
			}
			doc := `{"family":"f","containerDefinitions":[` + strings.Join(cs, ",") + `]}`
			res, err := Inject([]byte(doc), Sidecar{Image: testImage})
			if err != nil {
				t.Fatal(err)
			}
			var td struct{ ContainerDefinitions []map[string]json.RawMessage }
			decode(t, res.JSON, &td)
			got := td.ContainerDefinitions[len(td.ContainerDefinitions)-1]["logConfiguration"]
			if tc.want == "" {
				if got != nil {
					t.Errorf("logConfiguration %s, want none", got)
				}
				return
			}
			if !bytes.Equal(compact(t, got), []byte(tc.want)) {
				t.Errorf("logConfiguration %s, want %s", compact(t, got), tc.want)
			}
		})
	}
}

// An existing sidecar is updated in place: same position, the managed
// variables set or removed, everything else kept.
func TestInjectUpdatesInPlace(t *testing.T) {
	doc := `{"family":"f","containerDefinitions":[
		{"name":"ecs-uptime","image":"old/ecs-uptime:0.9","essential":false,"cpu":32,"memory":48,
		 "environment":[{"name":"DD_ENV","value":"prod"},{"name":"ECS_UPTIME_WARNING","value":"10h"},{"name":"ECS_UPTIME_INTERVAL","value":"1m"}],
		 "logConfiguration":{"logDriver":"syslog"}},
		{"name":"app","image":"app","memory":64,"logConfiguration":{"logDriver":"json-file"}}]}`
	tests := []struct {
		name      string
		sidecar   Sidecar
		wantImage string
		wantEnv   []string
	}{
		{"new image and thresholds", Sidecar{Image: "new/ecs-uptime:1.0", Env: sidecarEnv()}, "new/ecs-uptime:1.0",
			[]string{"DD_ENV=prod", "ECS_UPTIME_WARNING=20h", "ECS_UPTIME_INTERVAL=15s", "ECS_UPTIME_SOURCE=ecs", "ECS_UPTIME_CRITICAL=24h"}},
		{"no image keeps the image; empty value removes", Sidecar{Env: []Var{{"ECS_UPTIME_WARNING", ""}}}, "old/ecs-uptime:0.9",
			[]string{"DD_ENV=prod", "ECS_UPTIME_INTERVAL=1m"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Inject([]byte(doc), tc.sidecar)
			if err != nil {
				t.Fatal(err)
			}
			if res.Added {
				t.Error("Added = true, want an update in place")
			}
			var td struct {
				ContainerDefinitions []struct {
					Name, Image      string
					Cpu, Memory      int
					Environment      []struct{ Name, Value string }
					LogConfiguration struct{ LogDriver string }
				}
			}
			decode(t, res.JSON, &td)
			if len(td.ContainerDefinitions) != 2 {
				t.Fatalf("%d containers, want 2", len(td.ContainerDefinitions))
			}
			c := td.ContainerDefinitions[0]
			if c.Name != "ecs-uptime" || c.Image != tc.wantImage || c.Cpu != 32 || c.Memory != 48 || c.LogConfiguration.LogDriver != "syslog" {
				t.Errorf("sidecar %+v: want it in place with image %s and its own cpu, memory and logs", c, tc.wantImage)
			}
			var env []string
			for _, e := range c.Environment {
				env = append(env, e.Name+"="+e.Value)
			}
			if !slices.Equal(env, tc.wantEnv) {
				t.Errorf("environment %v, want %v", env, tc.wantEnv)
			}
		})
	}
}

// On an existing sidecar only what the Sidecar names changes: a new
// image alone keeps the max lifetime, the essential flag, the thresholds
// and the source (the host daemon stays in docker mode), and each change
// is said once.
func TestInjectChangesOnlyWhatIsAsked(t *testing.T) {
	first, err := Inject(readFile(t, "testdata/describe-firelens.json"), Sidecar{Image: testImage, Essential: new(true),
		Defaults: sidecarEnv(), Env: []Var{{"ECS_UPTIME_WARNING", "1h"}, {"ECS_UPTIME_CRITICAL", "2h"}, {"ECS_UPTIME_MAX_LIFETIME", "6h"}}})
	if err != nil {
		t.Fatal(err)
	}
	const bumped = "111122223333.dkr.ecr.us-east-1.amazonaws.com/ecs-uptime:1.1.0"
	tests := []struct {
		name    string
		doc     []byte
		sidecar Sidecar
		changes []string
	}{
		{"a new image only", first.JSON, Sidecar{Image: bumped, Defaults: sidecarEnv()},
			[]string{`image: "` + testImage + `" -> "` + bumped + `"`}},
		{"the host daemon's image only", readFile(t, "../../task-definitions/host-daemon.json"), Sidecar{Image: bumped + SidecarSuffix, Defaults: sidecarEnv()},
			[]string{`image: "` + testImage + SidecarSuffix + `" -> "` + bumped + SidecarSuffix + `"`}},
		{"the same values", first.JSON, Sidecar{Image: testImage, Essential: new(true), Env: []Var{{"ECS_UPTIME_CRITICAL", "2h"}}}, nil},
		{"a threshold and essential", first.JSON, Sidecar{Essential: new(false), Env: []Var{{"ECS_UPTIME_MAX_LIFETIME", ""}, {"ECS_UPTIME_WARNING", "1h30m"}}},
			[]string{`essential: true -> false`, `ECS_UPTIME_WARNING: "1h" -> "1h30m"`, `ECS_UPTIME_MAX_LIFETIME: "6h" -> (unset)`}},
		{"a socket", readFile(t, "testdata/register-ec2.json"), Sidecar{Name: "worker-uptime", Env: []Var{{"DD_DOGSTATSD_URL", "unix:///var/run/datadog/dsd.socket"}}},
			[]string{`DD_DOGSTATSD_URL: (unset) -> "unix:///var/run/datadog/dsd.socket"`,
				`volumes: added "dd-sockets" (host path /var/run/datadog)`,
				`mountPoints: added "dd-sockets" at /var/run/datadog (read-only true)`}},
	}
	// register-ec2.json with a sidecar that sends over UDP to a host
	// name: updated to the socket by the last case.
	tests[4].doc = bytes.Replace(tests[4].doc, []byte(`"containerDefinitions": [`),
		[]byte(`"containerDefinitions": [{"name":"worker-uptime","image":"r/ecs-uptime:1","memory":64,"essential":false,"environment":[{"name":"DD_AGENT_HOST","value":"agent.internal"}]},`), 1)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := sidecarOf(t, tc.doc, tc.sidecar.Name)
			res, err := Inject(tc.doc, tc.sidecar)
			if err != nil {
				t.Fatal(err)
			}
			if res.Added || !slices.Equal(res.Changes, tc.changes) {
				t.Fatalf("added %v, changes\n%q\nwant an update with\n%q", res.Added, res.Changes, tc.changes)
			}
			after := sidecarOf(t, res.JSON, tc.sidecar.Name)
			// Whatever no change line names is as it was.
			for k, v := range before {
				named := slices.ContainsFunc(res.Changes, func(c string) bool { return strings.HasPrefix(c, k+":") })
				if !named && !bytes.Equal(compact(t, v), compact(t, after[k])) {
					t.Errorf("%s changed without a line saying so: %s -> %s", k, v, after[k])
				}
			}
		})
	}
}

// sidecarOf returns the fields of the container called name (DefaultName
// when empty), with each environment variable as a field of its own.
func sidecarOf(t *testing.T, doc []byte, name string) map[string]json.RawMessage {
	t.Helper()
	if name == "" {
		name = DefaultName
	}
	td, err := registerForm(doc)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := containerDefinitions(td)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if n, _ := c.str("name"); n == name {
			m := map[string]json.RawMessage{}
			for _, k := range c.keys {
				if k != "environment" {
					m[k] = c.get(k)
				}
			}
			for k, v := range environment(c) {
				m[k], _ = json.Marshal(v)
			}
			return m
		}
	}
	t.Fatalf("no container %q", name)
	return nil
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A container of the sidecar's name that is not an ecs-uptime sidecar is
// never overwritten, and a sidecar under another name is not doubled.
func TestInjectRecognisesSidecars(t *testing.T) {
	const app = `{"name":"migrate","image":"r/app:1","memory":64,"command":["./migrate"]}`
	tests := []struct {
		name    string
		doc     string
		sidecar Sidecar
		want    string // error; "" for none
	}{
		{"an application container", `{"family":"f","networkMode":"host","containerDefinitions":[` + app + `]}`, Sidecar{Name: "migrate", Image: testImage},
			`containerDefinitions[0] "migrate" (image "r/app:1") is not an ecs-uptime sidecar`},
		{"a sidecar by its image", `{"family":"f","networkMode":"host","containerDefinitions":[` + app + `,{"name":"up","image":"r/ecs-uptime@sha256:abc","memory":64}]}`, Sidecar{Name: "up", Image: testImage}, ""},
		{"a mirrored sidecar by its variables", `{"family":"f","networkMode":"host","containerDefinitions":[` + app + `,{"name":"up","image":"r/uptime-sidecar:2","memory":64,"environment":[{"name":"ECS_UPTIME_SOURCE","value":"ecs"}]}]}`, Sidecar{Name: "up"}, ""},
		{"a mirrored sidecar by its secrets", `{"family":"f","networkMode":"host","containerDefinitions":[` + app + `,{"name":"up","image":"r/uptime-sidecar:2","memory":64,"secrets":[{"name":"ECS_UPTIME_TAGS","valueFrom":"arn:x"}]}]}`, Sidecar{Name: "up"}, ""},
		{"a second sidecar", `{"family":"f","networkMode":"host","containerDefinitions":[` + app + `,{"name":"up","image":"r/ecs-uptime:1","memory":64}]}`, Sidecar{Image: testImage},
			`containerDefinitions[1] "up" is already an ecs-uptime sidecar: update it by its name (inject --name up)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Inject([]byte(tc.doc), tc.sidecar)
			if tc.want == "" {
				if err != nil || res.Added {
					t.Fatalf("Inject: added %v, %v; want an update in place", res.Added, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Inject: %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
}

// Where the sidecar sends must have an Agent: what can never work is
// refused, what needs a container the task lacks is a warning that says
// what to add.
func TestInjectAgentReach(t *testing.T) {
	const app = `{"name":"app","image":"r/app:1","memory":64}`
	const agent = `{"name":"datadog-agent","image":"public.ecr.aws/datadog/agent:7","memory":256}`
	const mirrored = `{"name":"dd","image":"r/mirror/dd:7","memory":256,"secrets":[{"name":"DD_API_KEY","valueFrom":"arn:x"}]}`
	td := func(top string, containers ...string) string {
		return `{"family":"f",` + top + `"containerDefinitions":[` + strings.Join(containers, ",") + `]}`
	}
	const fargate = `"requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"512","memory":"1024",`
	url := func(u string) []Var { return []Var{{"DD_DOGSTATSD_URL", u}} }
	tests := []struct {
		name    string
		doc     string
		env     []Var
		warning string // "" for none
		err     string // "" for none
	}{
		{"fargate with the Agent", td(fargate, app, agent), nil, "", ""},
		{"fargate with a mirrored Agent", td(fargate, app, mirrored), nil, "", ""},
		{"fargate without an Agent", td(fargate, app), nil,
			"no Datadog Agent container in the task: the sidecar sends to localhost:8125, where nothing listens; add the Datadog Agent container (public.ecr.aws/datadog/agent:7 with ECS_FARGATE=true and DD_API_KEY)", ""},
		{"fargate without an Agent, at 127.0.0.1", td(fargate, app), url("udp://127.0.0.1:8125"), "no Datadog Agent container in the task", ""},
		{"fargate, an Agent elsewhere", td(fargate, app), url("udp://agent.internal:8125"), "", ""},
		{"fargate and a socket", td(fargate, app, agent), url("unix:///var/run/datadog/dsd.socket"), "", "cannot be mounted on Fargate"},
		{"awsvpc on EC2 without an Agent", td(`"networkMode":"awsvpc",`, app), nil, "or use --dogstatsd-url unix:///var/run/datadog/dsd.socket", ""},
		{"bridge at localhost", td(`"networkMode":"bridge",`, app), nil, "",
			"networkMode bridge: localhost:8125 is the sidecar's own loopback, where no Agent listens; send over the Unix socket instead: --dogstatsd-url unix:///var/run/datadog/dsd.socket"},
		{"bridge over the socket", td(`"networkMode":"bridge",`, app), url("unix:///var/run/datadog/dsd.socket"), "", ""},
		{"bridge to a linked Agent", td(`"networkMode":"bridge",`, app, agent), url("udp://datadog-agent:8125"), "", ""},
		{"no network mode (bridge on EC2)", td(``, app), nil, "networkMode is not set, which is bridge on EC2 (Linux)", ""},
		{"host network at localhost", td(`"networkMode":"host",`, app), nil, "", ""},
		{"no network over UDP", td(`"networkMode":"none",`, app), url("udp://10.0.0.1:8125"), "", "networkMode none: the sidecar has no network"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Inject([]byte(tc.doc), Sidecar{Image: testImage, Defaults: sidecarEnv(), Env: tc.env})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Inject: %v\nwant an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []string{}
			if tc.warning != "" {
				want = []string{tc.warning}
			}
			if !matchAll(res.Warnings, want) {
				t.Errorf("warnings %q, want %q", res.Warnings, want)
			}
		})
	}
}

// An essential sidecar says how to make the application wait for it,
// unless it already does; the Agent and the sidecar's own dependencies
// are not asked to wait.
func TestInjectStartOrder(t *testing.T) {
	const check = `"healthCheck":{"command":["CMD","/ecs-uptime","healthcheck"],"interval":5,"timeout":5,"retries":3}`
	td := func(migrate, sidecar string) string {
		return `{"family":"f","networkMode":"awsvpc","containerDefinitions":[` +
			`{"name":"migrate","image":"r/app:1","memory":64` + migrate + `},` +
			`{"name":"datadog-agent","image":"public.ecr.aws/datadog/agent:7","memory":256},` +
			`{"name":"init","image":"r/init:1","memory":64,"essential":false},` +
			`{"name":"ecs-uptime","image":"r/ecs-uptime:1","memory":64,"environment":[{"name":"ECS_UPTIME_SOURCE","value":"ecs"}]` + sidecar + `}]}`
	}
	const waits = `,"dependsOn":[{"containerName":"ecs-uptime","condition":"HEALTHY"}]`
	tests := []struct {
		name      string
		doc       string
		essential bool
		want      []string
	}{
		{"not essential", td(``, ``), false, nil},
		{"essential, nobody waits", td(``, ``), true, []string{
			`the sidecar is essential: if it exits at start (a variable it refuses), ECS stops the task with "migrate" already running. Make "migrate" wait for it: add "dependsOn": [{"containerName": "ecs-uptime", "condition": "HEALTHY"}] to "migrate", and give the sidecar "healthCheck": {"command": ["CMD", "/ecs-uptime", "healthcheck"], "interval": 5, "timeout": 5, "retries": 3, "startPeriod": 15} (see task-definitions/migration-max-lifetime.json)`}},
		{"essential with a health check, nobody waits", td(``, ","+check), true, []string{
			`Make "migrate" wait for it: add "dependsOn": [{"containerName": "ecs-uptime", "condition": "HEALTHY"}] to "migrate" (see`}},
		{"waits only for START", td(`,"dependsOn":[{"containerName":"ecs-uptime","condition":"START"}]`, ","+check), true, []string{`Make "migrate" wait for it`}},
		{"waits for HEALTHY", td(waits, ","+check), true, nil},
		{"waits for HEALTHY, no health check", td(waits, ``), true, []string{
			`"migrate" wait for the sidecar to be HEALTHY, but it has no healthCheck, so they would never start: give the sidecar "healthCheck": {`}},
		{"the sidecar depends on the app", td(``, `,"dependsOn":[{"containerName":"migrate","condition":"START"}]`), true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Inject([]byte(tc.doc), Sidecar{Essential: &tc.essential, Env: []Var{{"DD_AGENT_HOST", "localhost"}}})
			if err != nil {
				t.Fatal(err)
			}
			if !matchAll(res.Warnings, tc.want) {
				t.Errorf("warnings\n%q\nwant\n%q", res.Warnings, tc.want)
			}
		})
	}
}

func TestInjectWarnings(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		sidecar Sidecar
		want    []string
	}{
		{"fits", `{"family":"f","networkMode":"host","cpu":"256","memory":"512","containerDefinitions":[{"name":"a","image":"a","cpu":240,"memory":448}]}`,
			Sidecar{Image: testImage}, nil},
		{"cpu and memory over the task's", `{"family":"f","networkMode":"host","cpu":"256","memory":"512","containerDefinitions":[{"name":"a","image":"a","cpu":256,"memoryReservation":512}]}`,
			Sidecar{Image: testImage}, []string{
				`the containers' cpu adds up to 272 CPU units, over the task's "256": raise the task's cpu`,
				`the containers' memory adds up to 576 MiB, over the task's "512": raise the task's memory`}},
		{"task size in words is not summed", `{"family":"f","networkMode":"host","cpu":"1 vCPU","containerDefinitions":[{"name":"a","image":"a","cpu":1024,"memory":64}]}`,
			Sidecar{Image: testImage}, nil},
		{"max lifetime on a non-essential sidecar", `{"family":"f","networkMode":"host","containerDefinitions":[{"name":"a","image":"a","memory":64}]}`,
			Sidecar{Image: testImage, Env: []Var{{"ECS_UPTIME_MAX_LIFETIME", "6h"}}}, []string{
				"ECS_UPTIME_MAX_LIFETIME=6h with essential false: the sidecar will exit alone and the task runs on"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Inject([]byte(tc.doc), tc.sidecar)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Warnings, tc.want) {
				t.Errorf("warnings %q, want %q", res.Warnings, tc.want)
			}
		})
	}
}

func TestInjectErrors(t *testing.T) {
	const app = `{"name":"app","image":"app","memory":64}`
	tests := []struct {
		name    string
		doc     string
		sidecar Sidecar
		want    string
	}{
		{"not JSON", `family: x`, Sidecar{Image: testImage}, "not a task definition: input: invalid character"},
		{"an array", `[]`, Sidecar{Image: testImage}, "input: want a JSON object, got an array"},
		{"empty input", ``, Sidecar{Image: testImage}, "empty input: want aws ecs describe-task-definition output"},
		{"only whitespace", " \n\t ", Sidecar{Image: testImage}, "empty input"},
		{"trailing garbage", `{"family":"f","containerDefinitions":[` + app + `]} xyz`, Sidecar{Image: testImage}, `data after the end of the object: "xyz"`},
		{"a second object", `{"family":"f","containerDefinitions":[` + app + `]}{}`, Sidecar{Image: testImage}, `data after the end of the object: "{}"`},
		{"over the limit", `{"family":"f","containerDefinitions":[` + app + `]}` + strings.Repeat(" ", MaxInput), Sidecar{Image: testImage}, "over the 1048576-byte (1 MiB) limit"},
		{"no containerDefinitions", `{"family":"f"}`, Sidecar{Image: testImage}, `no "containerDefinitions" field`},
		{"no family", `{"containerDefinitions":[` + app + `]}`, Sidecar{Image: testImage}, `"family" is missing`},
		{"containerDefinitions not an array", `{"family":"f","containerDefinitions":{}}`, Sidecar{Image: testImage}, "containerDefinitions: want a JSON array, got an object"},
		{"no containers", `{"family":"f","containerDefinitions":[]}`, Sidecar{Image: testImage}, "containerDefinitions is empty"},
		{"container without name", `{"family":"f","containerDefinitions":[` + app + `,{"image":"x"}]}`, Sidecar{Image: testImage}, "containerDefinitions[1].name is missing"},
		{"two containers of one name", `{"family":"f","containerDefinitions":[` + app + `,` + app + `]}`, Sidecar{Image: testImage}, `containerDefinitions[1].name "app" is also containerDefinitions[0].name`},
		{"describe output with an unknown field", `{"taskDefinition":{"family":"f","containerDefinitions":[` + app + `]},"tagz":[]}`, Sidecar{Image: testImage}, `unknown field "tagz"`},
		{"describe output that is not an object", `{"taskDefinition":"f"}`, Sidecar{Image: testImage}, "taskDefinition: want a JSON object, got a string"},
		{"duplicate key", `{"family":"f","family":"g","containerDefinitions":[` + app + `]}`, Sidecar{Image: testImage}, `key "family" appears twice`},
		{"no image to add", `{"family":"f","containerDefinitions":[` + app + `]}`, Sidecar{}, `no container named "ecs-uptime" to update`},
		{"a value the binary refuses", `{"family":"f","containerDefinitions":[` + app + `]}`, Sidecar{Image: testImage, Env: []Var{{"ECS_UPTIME_INTERVAL", "1ms"}}}, `container "ecs-uptime" would not start: ECS_UPTIME_INTERVAL="1ms"`},
		{"bad environment in the existing sidecar", `{"family":"f","containerDefinitions":[{"name":"ecs-uptime","image":"r/ecs-uptime:1","environment":[{"value":"1"}]}]}`, Sidecar{}, "containerDefinitions[0].environment[0].name is missing"},
		{"not an image reference", `{"family":"f","containerDefinitions":[` + app + `]}`, Sidecar{Image: "not an image!!"}, `container "ecs-uptime": image "not an image!!" is not an image reference`},
		{"upper-case image name", `{"family":"f","containerDefinitions":[` + app + `]}`, Sidecar{Image: "Registry/ECS-Uptime:1"}, `is not an image reference`},
		{"-sidecar image for the api source", `{"family":"f","containerDefinitions":[` + app + `]}`, Sidecar{Name: "scan", Image: "r/ecs-uptime:1.2.3-sidecar", Env: []Var{{"ECS_UPTIME_SOURCE", "api"}}}, `container "scan": image "r/ecs-uptime:1.2.3-sidecar" is the -sidecar build, which has no api source`},
		{"api source on an existing -sidecar container", `{"family":"f","containerDefinitions":[{"name":"ecs-uptime","image":"r/ecs-uptime:1-sidecar","environment":[{"name":"ECS_UPTIME_SOURCE","value":"ecs"}]}]}`, Sidecar{Env: []Var{{"ECS_UPTIME_SOURCE", "api"}}}, `container "ecs-uptime": image "r/ecs-uptime:1-sidecar" is the -sidecar build`},
		{"-sidecar image onto an existing api container", `{"family":"f","containerDefinitions":[{"name":"scan","image":"r/ecs-uptime:1","environment":[{"name":"ECS_UPTIME_SOURCE","value":"api"}]}]}`, Sidecar{Name: "scan", Image: "r/ecs-uptime:2-sidecar"}, `container "scan": image "r/ecs-uptime:2-sidecar" is the -sidecar build`},
		{"socket on Fargate", `{"family":"f","requiresCompatibilities":["FARGATE"],"containerDefinitions":[` + app + `]}`, Sidecar{Image: testImage, Env: []Var{{"DD_DOGSTATSD_URL", "unix:///var/run/datadog/dsd.socket"}}}, "cannot be mounted on Fargate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Inject([]byte(tc.doc), tc.sidecar)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Inject: %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
}

// Every field of AWS's TaskDefinition (describe output) is either one
// register takes or one Inject drops: a new read-only field AWS adds to the
// model fails here instead of failing registration.
func TestReadOnlyFieldsMatchTheModel(t *testing.T) {
	register, describe := taskdeftest.ModelFields()
	for _, f := range describe {
		if !slices.Contains(register, f) && !slices.Contains(ReadOnlyFields, f) {
			t.Errorf("describe-task-definition's %s is neither a register field nor in ReadOnlyFields", f)
		}
	}
	for _, f := range ReadOnlyFields {
		if slices.Contains(register, f) || !slices.Contains(describe, f) {
			t.Errorf("ReadOnlyFields has %s: want a field of describe output that register does not take", f)
		}
	}
}

// matchAll reports whether got has one line per want, each containing it.
func matchAll(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !strings.Contains(got[i], want[i]) {
			return false
		}
	}
	return true
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode: %v\n%s", err, b)
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

// keys returns the keys of the object at field (or the top) of b, in order.
func keys(t *testing.T, b []byte, field string) []string {
	t.Helper()
	o, err := parseObject(b, "test")
	if err != nil {
		t.Fatal(err)
	}
	if field != "" {
		if o, err = parseObject(o.get(field), field); err != nil {
			t.Fatal(err)
		}
	}
	return o.keys
}
