package ecsfake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// call sends one request as an SDK would put it on the wire (the signature
// is not checked, only its shape) and returns the status and the decoded
// answer; raw is the body as sent.
func call(t *testing.T, f *ecsfake.Server, region, op, body string) (status int, out map[string]any, raw []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sign(req, region, ecsfake.Target+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("%s: Content-Type %q", op, ct)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s answered %s: %v", op, raw, err)
	}
	return resp.StatusCode, out, raw
}

func sign(req *http.Request, region, target string) {
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("X-Amz-Date", "20260301T120000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+ecsfake.AccessKeyID+"/20260301/"+region+"/ecs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000")
}

// wantError checks an error answer: HTTP 400 (500 for ServerException)
// and {"__type": code, "message": ...}.
func wantError(t *testing.T, status int, out map[string]any, code string) {
	t.Helper()
	wantStatus := http.StatusBadRequest
	if code == ecsfake.ServerError {
		wantStatus = http.StatusInternalServerError
	}
	if status != wantStatus || out["__type"] != code || out["message"] == "" || out["message"] == nil {
		t.Errorf("answer %d %v, want %d with __type %s and a message", status, out, wantStatus, code)
	}
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, s := range list {
		out[i], _ = s.(string)
	}
	return out
}

func TestProtocolErrors(t *testing.T) {
	f := ecsfake.Start(t)
	for _, tc := range []struct {
		name   string
		mutate func(*http.Request)
		body   string
		code   string
	}{
		{"GET", func(r *http.Request) { r.Method = http.MethodGet }, "{}", "UnknownOperationException"},
		{"another path", func(r *http.Request) { r.URL.Path = "/v1/tasks" }, "{}", "UnknownOperationException"},
		{"an operation the fake does not serve", func(r *http.Request) { r.Header.Set("X-Amz-Target", ecsfake.Target+"RunTask") }, "{}", "UnknownOperationException"},
		{"another service's target", func(r *http.Request) { r.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables") }, "{}", "UnknownOperationException"},
		{"no signature", func(r *http.Request) { r.Header.Del("Authorization") }, "{}", "MissingAuthenticationTokenException"},
		{"signed for another service", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/ecs/", "/s3/", 1))
		}, "{}", "MissingAuthenticationTokenException"},
		{"another content type", func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, "{}", "SerializationException"},
		{"not JSON", func(*http.Request) {}, "{cluster", "SerializationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, f.URL+"/", strings.NewReader(tc.body))
			sign(req, "eu-west-1", ecsfake.Target+ecsfake.ListClusters)
			tc.mutate(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			wantError(t, resp.StatusCode, out, tc.code)
		})
	}
}

func TestListClusters(t *testing.T) {
	f := ecsfake.Start(t)
	var want []string
	for i := range 130 {
		want = append(want, f.AddCluster("eu-west-1", fmt.Sprintf("c%03d", i)))
	}
	f.AddCluster("us-east-1", "elsewhere")
	var got []string
	token := ""
	for page := 0; ; page++ {
		body := `{"maxResults":100}`
		if token != "" {
			body = `{"maxResults":100,"nextToken":"` + token + `"}`
		}
		status, out, _ := call(t, f, "eu-west-1", ecsfake.ListClusters, body)
		if status != http.StatusOK {
			t.Fatalf("page %d: %d %v", page, status, out)
		}
		arns := strs(out["clusterArns"])
		if len(arns) > 100 {
			t.Fatalf("page of %d", len(arns))
		}
		got = append(got, arns...)
		token, _ = out["nextToken"].(string)
		if token == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %d clusters, want the %d of eu-west-1 in order", len(got), len(want))
	}
	status, out, _ := call(t, f, "ap-south-1", ecsfake.ListClusters, `{}`)
	if status != http.StatusOK || len(strs(out["clusterArns"])) != 0 || out["clusterArns"] == nil {
		t.Errorf("a region without clusters answers %d %v, want an empty clusterArns", status, out)
	}
}

func TestListTasks(t *testing.T) {
	const region = "eu-west-1"
	f := ecsfake.Start(t)
	var running []string
	for range 250 {
		running = append(running, f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", StartedAt: time.Now()}))
	}
	pending := f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", LastStatus: "PENDING"})
	stopped := f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", LastStatus: "STOPPED", StartedAt: time.Now()})
	other := f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", Family: "other", StartedBy: "ci", StartedAt: time.Now()})
	service := f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", Group: "service:web", LaunchType: "EC2", StartedAt: time.Now()})

	list := func(t *testing.T, body string, removeAfterFirst string) []string {
		t.Helper()
		var got []string
		req := map[string]any{}
		json.Unmarshal([]byte(body), &req)
		for page := 0; ; page++ {
			b, _ := json.Marshal(req)
			status, out, _ := call(t, f, region, ecsfake.ListTasks, string(b))
			if status != http.StatusOK {
				t.Fatalf("page %d: %d %v", page, status, out)
			}
			arns := strs(out["taskArns"])
			if max := 100; req["maxResults"] != nil {
				max = int(req["maxResults"].(float64))
				if len(arns) > max {
					t.Fatalf("page of %d, maxResults %d", len(arns), max)
				}
			}
			got = append(got, arns...)
			if page == 0 && removeAfterFirst != "" {
				f.RemoveTask(removeAfterFirst)
			}
			token, _ := out["nextToken"].(string)
			if token == "" {
				return got
			}
			req["nextToken"] = token
		}
	}
	sorted := func(s ...[]string) []string {
		out := slices.Concat(s...)
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name string
		body string
		want []string
	}{
		{"RUNNING lists PENDING and RUNNING tasks, not STOPPED ones", `{"cluster":"prod","desiredStatus":"RUNNING","maxResults":100}`, sorted(running, []string{pending, other, service})},
		{"the default is RUNNING, with pages of 100", `{"cluster":"prod"}`, sorted(running, []string{pending, other, service})},
		{"small pages", `{"cluster":"prod","maxResults":7}`, sorted(running, []string{pending, other, service})},
		{"by cluster ARN", `{"cluster":"` + ecsfake.ClusterARN(region, "prod") + `"}`, sorted(running, []string{pending, other, service})},
		{"STOPPED", `{"cluster":"prod","desiredStatus":"STOPPED"}`, []string{stopped}},
		{"PENDING lists nothing, as documented", `{"cluster":"prod","desiredStatus":"PENDING"}`, nil},
		{"family", `{"cluster":"prod","family":"other"}`, []string{other}},
		{"startedBy", `{"cluster":"prod","startedBy":"ci"}`, []string{other}},
		{"serviceName", `{"cluster":"prod","serviceName":"web"}`, []string{service}},
		{"launchType", `{"cluster":"prod","launchType":"EC2"}`, []string{service}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := list(t, tc.body, "")
			if !slices.Equal(got, tc.want) {
				t.Errorf("listed %d tasks, want %d", len(got), len(tc.want))
			}
		})
	}
	t.Run("a task removed between pages makes no other task skip or repeat", func(t *testing.T) {
		all := sorted(running, []string{pending, other, service})
		gone := all[3] // on the first page
		got := list(t, `{"cluster":"prod"}`, gone)
		want := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == gone })
		got = slices.DeleteFunc(got, func(s string) bool { return s == gone })
		if !slices.Equal(got, want) {
			t.Errorf("listed %d tasks, want %d", len(got), len(want))
		}
	})
	for _, tc := range []struct {
		name, body, code string
	}{
		{"maxResults above 100", `{"cluster":"prod","maxResults":101}`, ecsfake.InvalidParameter},
		{"maxResults 0", `{"cluster":"prod","maxResults":0}`, ecsfake.InvalidParameter},
		{"a token that is not one", `{"cluster":"prod","nextToken":"bogus"}`, ecsfake.InvalidParameter},
		{"an unknown desired status", `{"cluster":"prod","desiredStatus":"DONE"}`, ecsfake.InvalidParameter},
		{"an unknown cluster", `{"cluster":"nope"}`, ecsfake.ClusterNotFound},
		{"no cluster and no default cluster", `{}`, ecsfake.ClusterNotFound},
		{"a cluster ARN of another region", `{"cluster":"` + ecsfake.ClusterARN("us-east-1", "prod") + `"}`, ecsfake.ClusterNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out, _ := call(t, f, region, ecsfake.ListTasks, tc.body)
			wantError(t, status, out, tc.code)
		})
	}
}

func TestDescribeTasks(t *testing.T) {
	const region = "eu-west-1"
	f := ecsfake.Start(t)
	started := time.Date(2026, 3, 1, 12, 30, 15, 250_000_000, time.UTC)
	tagged := f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", Family: "web", Revision: 42, StartedAt: started,
		Group: "service:web", CapacityProvider: "FARGATE_SPOT", StartedBy: "ecs-svc/123", AvailabilityZone: "eu-west-1c",
		Tags: ecsfake.Tags("team", "payments", "ecs-uptime:max-lifetime", "6h"), Containers: []string{"app", "log-router"}})
	untagged := f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", LaunchType: "EC2", StartedAt: started})
	pending := f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", LastStatus: "PENDING"})
	ghost := f.AddTask(ecsfake.Task{Region: region, Cluster: "prod", Ghost: true, StartedAt: started})
	unknown := "arn:aws:ecs:eu-west-1:123456789012:task/prod/00000000000000000000000000000000"

	describe := func(t *testing.T, include string, arns ...string) (map[string]map[string]any, []any, []byte) {
		t.Helper()
		b, _ := json.Marshal(arns)
		status, out, raw := call(t, f, region, ecsfake.DescribeTasks, `{"cluster":"prod","tasks":`+string(b)+include+`}`)
		if status != http.StatusOK {
			t.Fatalf("%d %v", status, out)
		}
		byARN := map[string]map[string]any{}
		for _, task := range out["tasks"].([]any) {
			m := task.(map[string]any)
			byARN[m["taskArn"].(string)] = m
		}
		return byARN, out["failures"].([]any), raw
	}

	t.Run("fields, tags with include TAGS, failures MISSING", func(t *testing.T) {
		tasks, failures, raw := describe(t, `,"include":["TAGS"]`, tagged, untagged, pending, ghost, unknown)
		want := map[string]any{
			"taskArn": tagged, "clusterArn": ecsfake.ClusterARN(region, "prod"), "lastStatus": "RUNNING", "desiredStatus": "RUNNING",
			"taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:42", "group": "service:web",
			"launchType": "FARGATE", "capacityProviderName": "FARGATE_SPOT", "startedBy": "ecs-svc/123",
			"availabilityZone": "eu-west-1c", "startedAt": 1772368215.25,
		}
		for k, v := range want {
			if got := tasks[tagged][k]; got != v {
				t.Errorf("%s = %v, want %v", k, got, v)
			}
		}
		if tags, _ := json.Marshal(tasks[tagged]["tags"]); string(tags) != `[{"key":"team","value":"payments"},{"key":"ecs-uptime:max-lifetime","value":"6h"}]` {
			t.Errorf("tags = %s", tags)
		}
		if tags, ok := tasks[untagged]["tags"].([]any); !ok || len(tags) != 0 {
			t.Errorf("a task without tags: tags = %v, want []", tasks[untagged]["tags"])
		}
		if _, ok := tasks[pending]["startedAt"]; ok || tasks[pending]["lastStatus"] != "PENDING" {
			t.Errorf("pending task: %v", tasks[pending])
		}
		if n := len(tasks[tagged]["containers"].([]any)); n != 2 {
			t.Errorf("%d containers, want 2", n)
		}
		if len(tasks) != 3 {
			t.Errorf("%d tasks, want 3", len(tasks))
		}
		f, _ := json.Marshal(failures)
		if want := `[{"arn":"` + ghost + `","reason":"MISSING"},{"arn":"` + unknown + `","reason":"MISSING"}]`; string(f) != want {
			t.Errorf("failures = %s, want %s", f, want)
		}
		// Timestamps as ECS writes them: epoch seconds as a Java double.
		if !regexp.MustCompile(`"startedAt":1\.77236821525E9[,}]`).Match(raw) {
			t.Errorf("startedAt not written as 1.77236821525E9 in %s", raw)
		}
	})
	t.Run("no tags without include TAGS", func(t *testing.T) {
		tasks, _, _ := describe(t, "", tagged)
		if _, ok := tasks[tagged]["tags"]; ok {
			t.Errorf("tags sent without include TAGS: %v", tasks[tagged]["tags"])
		}
	})
	t.Run("by task ID", func(t *testing.T) {
		id := tagged[strings.LastIndex(tagged, "/")+1:]
		tasks, _, _ := describe(t, "", id)
		if tasks[tagged] == nil {
			t.Errorf("task %s not found by its ID", id)
		}
	})
	many := make([]string, 101)
	for i := range many {
		many[i] = untagged
	}
	for _, tc := range []struct{ name, body, code string }{
		{"101 tasks", func() string { b, _ := json.Marshal(many); return `{"cluster":"prod","tasks":` + string(b) + `}` }(), ecsfake.InvalidParameter},
		{"no task", `{"cluster":"prod","tasks":[]}`, ecsfake.InvalidParameter},
		{"include other than TAGS", `{"cluster":"prod","tasks":["x"],"include":["CONTAINERS"]}`, ecsfake.InvalidParameter},
		{"an unknown cluster", `{"cluster":"nope","tasks":["x"]}`, ecsfake.ClusterNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out, _ := call(t, f, region, ecsfake.DescribeTasks, tc.body)
			wantError(t, status, out, tc.code)
		})
	}
	t.Run("100 tasks are accepted", func(t *testing.T) {
		tasks, _, _ := describe(t, "", many[:100]...)
		if len(tasks) != 1 {
			t.Errorf("%d distinct tasks", len(tasks))
		}
	})
}

func TestStopTask(t *testing.T) {
	const region = "eu-west-1"
	f := ecsfake.Start(t)
	arn := f.AddTask(ecsfake.Task{Region: region, Cluster: "jobs", StartedAt: time.Now().Add(-time.Hour)})
	reason := "ecs-uptime: ran 26h03m, over its max lifetime 24h"
	status, out, _ := call(t, f, region, ecsfake.StopTask, `{"cluster":"jobs","task":"`+arn+`","reason":"`+reason+`"}`)
	if status != http.StatusOK {
		t.Fatalf("%d %v", status, out)
	}
	task := out["task"].(map[string]any)
	// ECS answers at once, the task still RUNNING, desired STOPPED.
	for k, v := range map[string]any{"taskArn": arn, "lastStatus": "RUNNING", "desiredStatus": "STOPPED", "stopCode": "UserInitiated", "stoppedReason": reason} {
		if task[k] != v {
			t.Errorf("answer %s = %v, want %v", k, task[k], v)
		}
	}
	if _, ok := task["stoppingAt"]; !ok {
		t.Error("answer has no stoppingAt")
	}
	if stops := f.Stops(); len(stops) != 1 || stops[0].TaskARN != arn || stops[0].Reason != reason || stops[0].Cluster != "jobs" || stops[0].Error != "" {
		t.Errorf("stops = %+v", stops)
	}
	_, out, _ = call(t, f, region, ecsfake.ListTasks, `{"cluster":"jobs"}`)
	if arns := strs(out["taskArns"]); len(arns) != 0 {
		t.Errorf("a stopped task is still listed: %v", arns)
	}
	_, out, _ = call(t, f, region, ecsfake.DescribeTasks, `{"cluster":"jobs","tasks":["`+arn+`"]}`)
	if got := out["tasks"].([]any)[0].(map[string]any); got["lastStatus"] != "STOPPED" || got["stoppedAt"] == nil {
		t.Errorf("after the stop: lastStatus %v, stoppedAt %v", got["lastStatus"], got["stoppedAt"])
	}
	status, _, _ = call(t, f, region, ecsfake.StopTask, `{"cluster":"jobs","task":"`+arn+`"}`)
	if status != http.StatusOK {
		t.Errorf("stopping a stopped task: %d, want 200", status)
	}
	for _, tc := range []struct{ name, body, code string }{
		{"a reason of 256 characters", `{"cluster":"jobs","task":"` + arn + `","reason":"` + strings.Repeat("x", 256) + `"}`, ecsfake.InvalidParameter},
		{"an unknown task", `{"cluster":"jobs","task":"0123"}`, ecsfake.InvalidParameter},
		{"an unknown cluster", `{"cluster":"nope","task":"0123"}`, ecsfake.ClusterNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out, _ := call(t, f, region, ecsfake.StopTask, tc.body)
			wantError(t, status, out, tc.code)
		})
	}
	if n := len(f.Stops()); n != 2+3 {
		t.Errorf("%d stops recorded, want every StopTask call (5)", n)
	}
}

func TestInject(t *testing.T) {
	const region = "eu-west-1"
	f := ecsfake.Start(t)
	f.AddTask(ecsfake.Task{Region: region, Cluster: "a", StartedAt: time.Now()})
	f.AddTask(ecsfake.Task{Region: region, Cluster: "b", StartedAt: time.Now()})
	f.Inject(ecsfake.Fault{Op: ecsfake.ListTasks, Code: ecsfake.Throttling, Times: 2})
	remove := f.Inject(ecsfake.Fault{Cluster: "b", Code: ecsfake.AccessDenied})
	f.Inject(ecsfake.Fault{Op: ecsfake.ListClusters, Region: "us-east-1", Code: ecsfake.ServerError})

	for i, want := range []string{ecsfake.Throttling, ecsfake.Throttling, ""} {
		status, out, _ := call(t, f, region, ecsfake.ListTasks, `{"cluster":"a"}`)
		if want == "" {
			if status != http.StatusOK {
				t.Errorf("call %d after the throttles: %d %v", i, status, out)
			}
			continue
		}
		wantError(t, status, out, want)
	}
	status, out, _ := call(t, f, region, ecsfake.DescribeTasks, `{"cluster":"b","tasks":["x"]}`)
	wantError(t, status, out, ecsfake.AccessDenied)
	if msg, _ := out["message"].(string); !strings.Contains(msg, "ecs:DescribeTasks") || !strings.Contains(msg, ecsfake.ClusterARN(region, "b")) {
		t.Errorf("AccessDenied message %q names neither the action nor the cluster", msg)
	}
	if status, _, _ := call(t, f, region, ecsfake.ListClusters, `{}`); status != http.StatusOK {
		t.Errorf("a cluster's fault answered ListClusters, or a region's fault another region: %d", status)
	}
	status, out, _ = call(t, f, "us-east-1", ecsfake.ListClusters, `{}`)
	wantError(t, status, out, ecsfake.ServerError)
	remove()
	if status, _, _ := call(t, f, region, ecsfake.ListTasks, `{"cluster":"b"}`); status != http.StatusOK {
		t.Errorf("after remove: %d", status)
	}

	reqs := f.Requests()
	var summary []string
	for _, r := range reqs {
		summary = append(summary, r.Op+" "+r.Region+"/"+r.Cluster+" "+r.Error)
	}
	want := []string{
		"ListTasks eu-west-1/a ThrottlingException", "ListTasks eu-west-1/a ThrottlingException", "ListTasks eu-west-1/a ",
		"DescribeTasks eu-west-1/b AccessDeniedException", "ListClusters eu-west-1/ ", "ListClusters us-east-1/ ServerException",
		"ListTasks eu-west-1/b ",
	}
	if !slices.Equal(summary, want) {
		t.Errorf("requests:\n%s\nwant\n%s", strings.Join(summary, "\n"), strings.Join(want, "\n"))
	}
	if f.Calls(ecsfake.ListTasks) != 4 || f.Calls("") != 7 {
		t.Errorf("Calls: ListTasks %d, all %d", f.Calls(ecsfake.ListTasks), f.Calls(""))
	}
	for i := 1; i < len(reqs); i++ {
		if reqs[i].At.Before(reqs[i-1].At) {
			t.Errorf("request %d recorded before the one it followed", i)
		}
	}
	f.Reset()
	if f.Calls("") != 0 || len(f.Requests()) != 0 {
		t.Error("Reset kept the calls")
	}
}

func TestRegionsAreSeparate(t *testing.T) {
	f := ecsfake.Start(t)
	f.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", StartedAt: time.Now()})
	status, out, _ := call(t, f, "us-east-1", ecsfake.ListTasks, `{"cluster":"prod"}`)
	wantError(t, status, out, ecsfake.ClusterNotFound)
	f.RemoveCluster("eu-west-1", "prod")
	status, out, _ = call(t, f, "eu-west-1", ecsfake.ListTasks, `{"cluster":"prod"}`)
	wantError(t, status, out, ecsfake.ClusterNotFound)
}

func TestSetLastStatus(t *testing.T) {
	f := ecsfake.Start(t)
	arn := f.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", LastStatus: "PENDING"})
	get := func() map[string]any {
		_, out, _ := call(t, f, "eu-west-1", ecsfake.DescribeTasks, `{"cluster":"prod","tasks":["`+arn+`"]}`)
		return out["tasks"].([]any)[0].(map[string]any)
	}
	for _, step := range []struct{ status, wantLast, wantDesired string }{
		{"RUNNING", "RUNNING", "RUNNING"},
		{"STOPPED", "STOPPED", "STOPPED"},
	} {
		if !f.SetLastStatus(arn, step.status) {
			t.Fatal("task not found")
		}
		if got := get(); got["lastStatus"] != step.wantLast || got["desiredStatus"] != step.wantDesired {
			t.Errorf("after %s: lastStatus %v desiredStatus %v", step.status, got["lastStatus"], got["desiredStatus"])
		}
	}
	if f.SetLastStatus("arn:aws:ecs:eu-west-1:123456789012:task/prod/none", "RUNNING") {
		t.Error("SetLastStatus found a task that does not exist")
	}
}

func TestBeforeServeSeesEachRequest(t *testing.T) {
	f := ecsfake.Start(t)
	f.AddCluster("eu-west-1", "prod")
	var seen bytes.Buffer
	f.BeforeServe(func(r ecsfake.Request) { fmt.Fprintf(&seen, "%s %s;", r.Op, r.Cluster) })
	call(t, f, "eu-west-1", ecsfake.ListTasks, `{"cluster":"prod"}`)
	call(t, f, "eu-west-1", ecsfake.ListClusters, `{}`)
	if got := seen.String(); got != "ListTasks prod;ListClusters ;" {
		t.Errorf("hook saw %q", got)
	}
}

// A task moves through its lifecycle as a test says: listed under its
// desired status (RUNNING up to RUNNING, STOPPED from DEACTIVATING on),
// with createdAt, startedAt once it runs, stoppingAt, stop code and reason
// once it is on its way to stop, stoppedAt and each container's exit once
// stopped; the task-level size and enableExecuteCommand throughout.
func TestLifecycle(t *testing.T) {
	const region = "eu-west-1"
	f := ecsfake.Start(t)
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	arn := f.AddTask(ecsfake.Task{Region: region, Cluster: "jobs", Family: "db-migrate", LastStatus: "PROVISIONING", CreatedAt: created,
		CPU: "1024", Memory: "2048", ExecEnabled: true, Containers: []string{"init", "app"}})
	ec2 := f.AddTask(ecsfake.Task{Region: region, Cluster: "jobs", LaunchType: "EC2", StartedAt: time.Now()})
	get := func(arn string) map[string]any {
		t.Helper()
		_, out, _ := call(t, f, region, ecsfake.DescribeTasks, `{"cluster":"jobs","tasks":["`+arn+`"]}`)
		return out["tasks"].([]any)[0].(map[string]any)
	}
	listed := func(desired string) bool {
		t.Helper()
		_, out, _ := call(t, f, region, ecsfake.ListTasks, `{"cluster":"jobs","desiredStatus":"`+desired+`"}`)
		return slices.Contains(strs(out["taskArns"]), arn)
	}
	containers := func(task map[string]any) []map[string]any {
		var out []map[string]any
		for _, c := range task["containers"].([]any) {
			out = append(out, c.(map[string]any))
		}
		return out
	}

	first := get(arn)
	for k, v := range map[string]any{"lastStatus": "PROVISIONING", "desiredStatus": "RUNNING", "createdAt": 1772366400.0,
		"cpu": "1024", "memory": "2048", "enableExecuteCommand": true} {
		if first[k] != v {
			t.Errorf("PROVISIONING: %s = %v, want %v", k, first[k], v)
		}
	}
	for _, k := range []string{"startedAt", "stoppingAt", "stoppedAt", "stopCode", "stoppedReason"} {
		if _, ok := first[k]; ok {
			t.Errorf("PROVISIONING: %s = %v, want none", k, first[k])
		}
	}
	if !listed("RUNNING") || listed("STOPPED") {
		t.Error("a PROVISIONING task is not listed under RUNNING alone")
	}
	if e := get(ec2); e["cpu"] != nil || e["memory"] != nil || e["enableExecuteCommand"] != false {
		t.Errorf("an EC2 task: cpu %v memory %v exec %v, want no task-level size and exec off", e["cpu"], e["memory"], e["enableExecuteCommand"])
	}

	f.SetLastStatus(arn, "PENDING")
	if got := get(arn); got["lastStatus"] != "PENDING" || got["startedAt"] != nil || containers(got)[0]["lastStatus"] != "PENDING" {
		t.Errorf("PENDING: %v", got)
	}
	f.SetLastStatus(arn, "RUNNING")
	running := get(arn)
	if running["lastStatus"] != "RUNNING" || running["startedAt"] == nil || containers(running)[1]["lastStatus"] != "RUNNING" {
		t.Errorf("RUNNING: %v", running)
	}
	f.SetLastStatus(arn, "DEACTIVATING")
	deact := get(arn)
	for k, v := range map[string]any{"lastStatus": "DEACTIVATING", "desiredStatus": "STOPPED", "stopCode": "EssentialContainerExited",
		"stoppedReason": "Essential container in task exited", "startedAt": running["startedAt"]} {
		if deact[k] != v {
			t.Errorf("DEACTIVATING: %s = %v, want %v", k, deact[k], v)
		}
	}
	if deact["stoppingAt"] == nil || deact["stoppedAt"] != nil {
		t.Errorf("DEACTIVATING: stoppingAt %v, stoppedAt %v; want one, not the other", deact["stoppingAt"], deact["stoppedAt"])
	}
	if listed("RUNNING") || !listed("STOPPED") {
		t.Error("a DEACTIVATING task is not listed under STOPPED alone")
	}
	f.StopAs(arn, "EssentialContainerExited", "Essential container in task exited",
		ecsfake.Exit{Container: "init", Code: ecsfake.Code(0)}, ecsfake.Exit{Container: "app", Code: ecsfake.Code(1), Reason: "OutOfMemoryError: Container killed due to memory usage"})
	stopped := get(arn)
	if stopped["lastStatus"] != "STOPPED" || stopped["stoppedAt"] == nil || stopped["stoppingAt"] != deact["stoppingAt"] {
		t.Errorf("STOPPED: %v", stopped)
	}
	cs := containers(stopped)
	if cs[0]["exitCode"] != 0.0 || cs[0]["reason"] != nil || cs[1]["exitCode"] != 1.0 ||
		cs[1]["reason"] != "OutOfMemoryError: Container killed due to memory usage" || cs[1]["lastStatus"] != "STOPPED" {
		t.Errorf("containers of the stopped task: %v", cs)
	}
	never := f.AddTask(ecsfake.Task{Region: region, Cluster: "jobs", LastStatus: "PENDING"})
	f.StopAs(never, "TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
		ecsfake.Exit{Container: "app", Reason: "CannotPullContainerError: ref not found"})
	if c := containers(get(never))[0]; c["exitCode"] != nil || c["reason"] != "CannotPullContainerError: ref not found" {
		t.Errorf("a container that never ran: %v", c)
	}
	f.Reset()
	call(t, f, region, ecsfake.ListTasks, `{"cluster":"jobs","desiredStatus":"STOPPED"}`)
	call(t, f, region, ecsfake.ListTasks, `{"cluster":"jobs"}`)
	call(t, f, region, ecsfake.DescribeTasks, `{"cluster":"jobs","tasks":["`+arn+`"]}`)
	var got []string
	for _, r := range f.Requests() {
		got = append(got, r.Op+" "+r.DesiredStatus)
	}
	if want := []string{"ListTasks STOPPED", "ListTasks RUNNING", "DescribeTasks "}; !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
}
