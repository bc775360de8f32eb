package docker_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	dockercontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/docker"
)

// fakeEngine is an Engine holding labelled containers that never change,
// each with the environment the test gives it.
type fakeEngine struct {
	mu         sync.Mutex
	containers map[string]fakeContainer // ID → container
}

type fakeContainer struct {
	taskARN, name string
	env           []string
	exited        bool
}

func (e *fakeEngine) set(id string, c *fakeContainer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c == nil {
		delete(e.containers, id)
		return
	}
	e.containers[id] = *c
}

func (e *fakeEngine) ContainerList(context.Context, client.ContainerListOptions) (client.ContainerListResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var res client.ContainerListResult
	for id := range e.containers {
		res.Items = append(res.Items, dockercontainer.Summary{ID: id})
	}
	return res, nil
}

func (e *fakeEngine) ContainerInspect(_ context.Context, id string, _ client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	e.mu.Lock()
	c, ok := e.containers[id]
	e.mu.Unlock()
	if !ok {
		return client.ContainerInspectResult{}, fmt.Errorf("no such container %s: %w", id, errdefs.ErrNotFound)
	}
	return client.ContainerInspectResult{Container: dockercontainer.InspectResponse{
		ID: id, Name: "/ecs-" + c.name,
		Config: &dockercontainer.Config{Image: "busybox:1", Env: c.env, Labels: map[string]string{
			docker.LabelTaskARN: c.taskARN, docker.LabelCluster: "prod", docker.LabelContainerName: c.name,
			docker.LabelFamily: "f", docker.LabelVersion: "1",
		}},
		State: &dockercontainer.State{Running: !c.exited, StartedAt: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)},
	}}, nil
}

func (e *fakeEngine) Events(context.Context, client.EventsListOptions) client.EventsResult {
	return client.EventsResult{Messages: make(chan events.Message), Err: make(chan error)}
}

// metadataServer answers GET /v4/<endpoint ID>/task as the ECS agent does,
// per endpoint ID as the test says, and counts the requests per ID.
type metadataServer struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string]func(w http.ResponseWriter, r *http.Request)
	count   map[string]int
}

func newMetadataServer(t *testing.T) *metadataServer {
	m := &metadataServer{answers: map[string]func(http.ResponseWriter, *http.Request){}, count: map[string]int{}}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v4/"), "/task")
		m.mu.Lock()
		m.count[id]++
		answer := m.answers[id]
		m.mu.Unlock()
		if !ok || answer == nil || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		answer(w, r)
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *metadataServer) answer(id string, f func(w http.ResponseWriter, r *http.Request)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.answers[id] = f
}

func (m *metadataServer) requests(id string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count[id]
}

// env is a container's environment pointing at the endpoint ID id, among
// other variables the source must not keep.
func (m *metadataServer) env(id string) []string {
	return []string{"PATH=/bin", "SECRET_TOKEN=hunter2", "ECS_CONTAINER_METADATA_URI_V4=" + m.URL + "/v4/" + id, "ECS_AGENT_URI=x"}
}

// taskJSON is a task's /task answer, naming a service when service is set.
func taskJSON(arn, service string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		svc := ""
		if service != "" {
			svc = `"ServiceName":"` + service + `",`
		}
		fmt.Fprintf(w, `{"Cluster":"prod","TaskARN":%q,"Family":"f","Revision":"1",%s"AvailabilityZone":"eu-west-1b","Containers":[]}`, arn, svc)
	}
}

func failing(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "agent busy", http.StatusInternalServerError)
}

func kindARN(id string) string {
	return "arn:aws:ecs:eu-west-1:123456789012:task/prod/" + id + strings.Repeat("0", 32-len(id))
}

// Read after read: a service's task and a one-off are known from one
// request each, whatever the number of their containers; a task whose
// metadata fails is pending for its first 2 failed reads, judged as of
// unknown kind from the third, asked again with backoff (never twice a
// read), its failure logged once and its recovery once; a task none of
// whose containers carries the variable is of unknown kind at once and
// never asked, and neither is a task none of whose containers runs.
func TestKindFromTaskMetadata(t *testing.T) {
	meta := newMetadataServer(t)
	web, job, flaky, bare, liar := kindARN("a1"), kindARN("b2"), kindARN("c3"), kindARN("d4"), kindARN("e5")
	e := &fakeEngine{containers: map[string]fakeContainer{
		"web-app":   {taskARN: web, name: "app", env: meta.env("web-app")},
		"web-proxy": {taskARN: web, name: "proxy", env: meta.env("web-proxy")},
		"job":       {taskARN: job, name: "migrate", env: meta.env("job")},
		"flaky":     {taskARN: flaky, name: "app", env: meta.env("flaky")},
		"bare":      {taskARN: bare, name: "app", env: []string{"PATH=/bin"}},
		"liar":      {taskARN: liar, name: "app", env: meta.env("liar")},
		"done":      {taskARN: kindARN("f7"), name: "app", env: meta.env("done"), exited: true},
	}}
	meta.answer("web-app", taskJSON(web, "web"))
	meta.answer("web-proxy", taskJSON(web, "web"))
	meta.answer("job", taskJSON(job, ""))
	meta.answer("flaky", failing)
	meta.answer("liar", taskJSON(web, "web")) // another task's answer
	var logs bytes.Buffer
	// Every read lists, so that a container taken away is seen gone.
	s := docker.New(e, slog.New(slog.NewTextHandler(&logs, nil)), docker.WithReconcile(0))
	t.Cleanup(func() { s.Close() })

	type want struct {
		kind    uptime.Kind
		pending bool
		service string
		az      string
	}
	check := func(read int, tasks []uptime.Task, arn string, w want) {
		t.Helper()
		for _, tk := range tasks {
			if tk.ARN != arn {
				continue
			}
			if tk.Kind != w.kind || tk.KindPending != w.pending || tk.Service != w.service || tk.AvailabilityZone != w.az {
				t.Errorf("read %d, task %s: kind %v pending %v service %q az %q; want %v %v %q %q",
					read, arn[len(arn)-32:], tk.Kind, tk.KindPending, tk.Service, tk.AvailabilityZone, w.kind, w.pending, w.service, w.az)
			}
			return
		}
		t.Errorf("read %d: task %s missing", read, arn)
	}
	askedAt := []int{} // the reads in which flaky was asked
	for k := 1; k <= 16; k++ {
		before := meta.requests("flaky")
		tasks := read(t, s)
		if n := meta.requests("flaky") - before; n > 1 {
			t.Fatalf("read %d asked the failing task %d times, want at most once a read", k, n)
		} else if n == 1 {
			askedAt = append(askedAt, k)
		}
		check(k, tasks, web, want{uptime.KindService, false, "web", "eu-west-1b"})
		check(k, tasks, job, want{uptime.KindStandalone, false, "", "eu-west-1b"})
		check(k, tasks, flaky, want{uptime.KindUnknown, k < 3, "", ""})
		check(k, tasks, liar, want{uptime.KindUnknown, k < 3, "", ""})
		check(k, tasks, bare, want{uptime.KindUnknown, false, "", ""})
	}
	if got := meta.requests("web-app") + meta.requests("web-proxy"); got != 1 {
		t.Errorf("the service's task was asked %d times over 16 reads, want once", got)
	}
	if got := meta.requests("job"); got != 1 {
		t.Errorf("the one-off was asked %d times over 16 reads, want once", got)
	}
	if got := meta.requests("done"); got != 0 {
		t.Errorf("a task none of whose containers runs was asked %d times, want never", got)
	}
	if want := []int{1, 2, 4, 8, 16}; fmt.Sprint(askedAt) != fmt.Sprint(want) {
		t.Errorf("the failing task was asked in reads %v, want %v (backoff)", askedAt, want)
	}

	// It answers at last: known from its next request on, logged once.
	meta.answer("flaky", taskJSON(flaky, "worker"))
	for k := 17; k <= 24; k++ {
		tasks := read(t, s)
		if k == 24 {
			check(k, tasks, flaky, want{uptime.KindService, false, "worker", "eu-west-1b"})
		}
	}
	if got := meta.requests("flaky"); got != 6 {
		t.Errorf("the failing task was asked %d times in all, want 6 (5 failures, then one answer)", got)
	}
	out := logs.String()
	for _, tc := range []struct {
		line string
		n    int
	}{
		{"cannot read the task's own metadata", 2}, // flaky, liar
		{"answers for another task", 1},
		{"task metadata answers again", 1},
		{"hunter2", 0}, // no other variable is kept, nor logged
	} {
		if got := strings.Count(out, tc.line); got != tc.n {
			t.Errorf("%q logged %d times, want %d:\n%s", tc.line, got, tc.n, out)
		}
	}

	// A task that leaves is forgotten: back, it is asked again.
	e.set("job", nil)
	read(t, s)
	e.set("job", &fakeContainer{taskARN: job, name: "migrate", env: meta.env("job")})
	check(0, read(t, s), job, want{uptime.KindStandalone, false, "", "eu-west-1b"})
	if got := meta.requests("job"); got != 2 {
		t.Errorf("the one-off was asked %d times after leaving and coming back, want 2", got)
	}
}

// A metadata endpoint that does not answer holds a read no longer than the
// metadata timeout, the other tasks are learnt meanwhile (the requests run
// side by side), and the slow task counts as failed.
func TestSlowMetadataDoesNotHoldTheRead(t *testing.T) {
	meta := newMetadataServer(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hang := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	e := &fakeEngine{containers: map[string]fakeContainer{}}
	var arns []string
	for i := range 12 {
		id := fmt.Sprintf("t%02d", i)
		arns = append(arns, kindARN(id))
		e.containers[id] = fakeContainer{taskARN: kindARN(id), name: "app", env: meta.env(id)}
		if i < 3 {
			meta.answer(id, hang)
		} else {
			meta.answer(id, taskJSON(kindARN(id), ""))
		}
	}
	const timeout = 300 * time.Millisecond
	s := docker.New(e, slog.New(slog.DiscardHandler), docker.WithMetadataTimeout(timeout))
	t.Cleanup(func() { s.Close() })
	begin := time.Now()
	tasks := read(t, s)
	// Three hanging requests hold three of the four slots until the
	// timeout: the nine others go through the fourth meanwhile.
	if took := time.Since(begin); took > timeout+time.Second {
		t.Errorf("the read took %v with 3 hanging metadata requests, want about the %v timeout", took, timeout)
	}
	known := 0
	for _, tk := range tasks {
		if tk.Kind == uptime.KindStandalone {
			known++
		}
	}
	if known != 9 {
		t.Errorf("%d tasks learnt in the read, want the 9 that answer", known)
	}
	for range 2 {
		read(t, s)
	}
	for _, tk := range read(t, s) {
		if tk.ARN == arns[0] && (tk.Kind != uptime.KindUnknown || tk.KindPending) {
			t.Errorf("a task whose metadata never answered: kind %v pending %v after 4 reads, want unknown and judged", tk.Kind, tk.KindPending)
		}
	}
}

// A read that ends (shutdown) while metadata requests are under way
// counts none of them as failed.
func TestShutdownIsNotAMetadataFailure(t *testing.T) {
	meta := newMetadataServer(t)
	entered := make(chan struct{}, 1)
	meta.answer("slow", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done()
	})
	arn := kindARN("f6")
	e := &fakeEngine{containers: map[string]fakeContainer{"slow": {taskARN: arn, name: "app", env: meta.env("slow")}}}
	var logs bytes.Buffer
	s := docker.New(e, slog.New(slog.NewTextHandler(&logs, nil)), docker.WithMetadataTimeout(time.Minute))
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-entered; cancel() }()
	if _, err := s.Tasks(ctx); err != nil {
		t.Fatalf("Tasks: %v", err)
	}
	meta.answer("slow", taskJSON(arn, "web"))
	for range 3 {
		tasks := read(t, s)
		if tasks[0].Kind != uptime.KindService {
			t.Errorf("kind %v after the interrupted read, want service: asked again at once", tasks[0].Kind)
		}
	}
	if strings.Contains(logs.String(), "cannot read") {
		t.Errorf("the interrupted request was logged as a failure:\n%s", logs.String())
	}
}
