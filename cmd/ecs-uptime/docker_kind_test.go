package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/docker/dockertest"
	"ecs-uptime/uptime/dogstatsd/receiver"
)

// taskMetadata stands for the ECS agent's task metadata endpoint on the
// host: GET /v4/<endpoint ID>/task answers as the test says for that ID,
// and every request is counted per ID.
type taskMetadata struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string]string // endpoint ID → body; none: HTTP 500
	count   map[string]int
}

func startTaskMetadata(t *testing.T) *taskMetadata {
	t.Helper()
	m := &taskMetadata{answers: map[string]string{}, count: map[string]int{}}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v4/"), "/task")
		m.mu.Lock()
		m.count[id]++
		body, known := m.answers[id]
		m.mu.Unlock()
		if !ok || !known || r.Method != http.MethodGet {
			http.Error(w, "agent restarting", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(m.Close)
	return m
}

// task makes id answer as task arn does, in service when it is set.
func (m *taskMetadata) task(id, arn, service string) {
	svc := ""
	if service != "" {
		svc = fmt.Sprintf(`"ServiceName":%q,`, service)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.answers[id] = fmt.Sprintf(`{"Cluster":"prod","TaskARN":%q,"Family":"f","Revision":"1",%s"AvailabilityZone":"eu-west-1b","Containers":[]}`, arn, svc)
}

func (m *taskMetadata) requests(ids ...string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, id := range ids {
		n += m.count[id]
	}
	return n
}

// env is the variable the ECS agent sets in a container, for endpoint ID id.
func (m *taskMetadata) env(id string) []string {
	return []string{"ECS_CONTAINER_METADATA_URI_V4=" + m.URL + "/v4/" + id}
}

// cycles splits a task's packets into cycles, one per ecs.task.uptime
// gauge (a cycle's lines arrive together, the gauge first), and tells for
// each whether it had an ecs.task.lifetime check.
func cycles(ps []receiver.Packet) (checked []bool) {
	for _, p := range ps {
		switch {
		case p.Kind == receiver.Metric && p.Name == "ecs.task.uptime":
			checked = append(checked, false)
		case p.Kind == receiver.ServiceCheck && p.Name == "ecs.task.lifetime" && len(checked) > 0:
			checked[len(checked)-1] = true
		}
	}
	return checked
}

// The host daemon on a real engine, its containers' ECS_CONTAINER_METADATA_URI_V4
// pointing at a metadata server: a service's task (two containers) is
// asked once and reported, never judged; a one-off is asked once and
// judged; a task whose metadata fails is reported for its first 2 cycles,
// judged from the third, asked with backoff and logged once; a task with
// no variable is judged at once. Under skip the service's task sends
// nothing.
func TestDockerModeTaskKinds(t *testing.T) {
	// A private engine: on the shared one, any other docker-source test
	// running at the same time (another package's) would see these
	// containers and ask their metadata too, and the counts below are
	// this process's asks.
	host := dockertest.StartDaemon(t).Host
	meta := startTaskMetadata(t)
	arn := func() string { return dockertest.TaskARN("eu-west-1", "123456789012", "prod") }
	web, job, flaky, bare := arn(), arn(), arn(), arn()
	meta.task("web-app", web, "web")
	meta.task("web-proxy", web, "web")
	meta.task("job", job, "")
	run := func(taskARN, name, endpoint string) {
		c := dockertest.Container{TaskARN: taskARN, Cluster: "prod", Family: name, Version: "1", Name: name}
		if endpoint != "" {
			c.Env = meta.env(endpoint)
		}
		dockertest.Run(t, host, c)
	}
	run(web, "app", "web-app")
	run(web, "proxy", "web-proxy")
	run(job, "migrate", "job")
	run(flaky, "app", "flaky")
	run(bare, "app", "")

	for _, tc := range []struct {
		policy  string
		webSent bool
	}{{"report", true}, {"skip", false}} {
		t.Run(tc.policy, func(t *testing.T) {
			before := map[string]int{"web": meta.requests("web-app", "web-proxy"), "job": meta.requests("job"), "flaky": meta.requests("flaky")}
			agent := newAgentLog(t)
			p := start(t, "ECS_UPTIME_SOURCE=docker", "DOCKER_HOST="+host, "DD_DOGSTATSD_URL=udp://"+agent.Addr(),
				"ECS_UPTIME_INTERVAL=300ms", "ECS_UPTIME_CRITICAL=1h", "ECS_UPTIME_SERVICE_TASKS="+tc.policy)
			if got := agent.wait(flaky, "ecs.task.uptime", 10, 20*time.Second); len(got) < 10 {
				t.Fatalf("%d cycles of the failing task in 20 s, want 10; logs:\n%s", len(got), p.stderr)
			}
			if code, _ := p.stop(t, syscall.SIGTERM); code != exitOK {
				t.Fatalf("exit %d, want 0", code)
			}
			agent.drain()
			all := agent.all
			kindOf := func(arn string) map[string]bool {
				k := map[string]bool{}
				for _, pk := range ofTask(all, arn) {
					v, _ := pk.Tag("ecs_task_kind")
					k[v] = true
				}
				return k
			}

			// The service's task: gauges with what its metadata said, no check.
			webPs := ofTask(all, web)
			switch {
			case !tc.webSent && len(webPs) > 0:
				t.Errorf("skip: the service's task sent %d lines, want none", len(webPs))
			case tc.webSent:
				checked := cycles(webPs)
				if len(checked) < 5 || strings.Contains(fmt.Sprint(checked), "true") {
					t.Errorf("the service's task: cycles with a check %v, want 5 or more cycles and no check", checked)
				}
				g := webPs[0]
				if svc, _ := g.Tag("ecs_service"); svc != "web" || !kindOf(web)["service"] || len(kindOf(web)) != 1 {
					t.Errorf("the service's task: %q, want ecs_service:web and ecs_task_kind:service on every line", g.Raw)
				}
				if az, _ := g.Tag("availability-zone"); az != "eu-west-1b" {
					t.Errorf("the service's task: availability-zone %q, want eu-west-1b", az)
				}
			}
			if n := meta.requests("web-app", "web-proxy") - before["web"]; n != 1 {
				t.Errorf("the service's task (two containers) was asked %d times, want once", n)
			}

			// The one-off: judged every cycle.
			if checked := cycles(ofTask(all, job)); len(checked) < 5 || strings.Contains(fmt.Sprint(checked), "false") || !kindOf(job)["standalone"] {
				t.Errorf("the one-off: cycles with a check %v, kinds %v; want a check every cycle, standalone", checked, kindOf(job))
			}
			if n := meta.requests("job") - before["job"]; n != 1 {
				t.Errorf("the one-off was asked %d times, want once", n)
			}

			// The failing task: reported for 2 cycles, then judged.
			checked := cycles(ofTask(all, flaky))
			if len(checked) < 10 || fmt.Sprint(checked[:3]) != "[false false true]" || strings.Contains(fmt.Sprint(checked[3:]), "false") {
				t.Errorf("the task whose metadata fails: cycles with a check %v, want none for 2 cycles, then one every cycle", checked)
			}
			if k := kindOf(flaky); len(k) != 1 || !k["unknown"] {
				t.Errorf("the task whose metadata fails: kinds %v, want unknown", k)
			}
			// Asked in cycles 1, 2, 4, 8 (and 16): fewer than one a cycle.
			asked := meta.requests("flaky") - before["flaky"]
			want := 0
			for c := 1; c <= len(checked)+1; c *= 2 {
				want++
			}
			if asked < 4 || asked > want {
				t.Errorf("the task whose metadata fails was asked %d times in %d cycles, want 4 to %d (backoff)", asked, len(checked), want)
			}
			if n := strings.Count(p.stderr.String(), "cannot read the task's own metadata"); n != 1 {
				t.Errorf("the metadata failure was logged %d times, want once:\n%s", n, p.stderr)
			}

			// The task with no variable: judged at once.
			if checked := cycles(ofTask(all, bare)); len(checked) < 5 || strings.Contains(fmt.Sprint(checked), "false") || !kindOf(bare)["unknown"] {
				t.Errorf("the task with no metadata variable: cycles with a check %v, kinds %v; want a check every cycle, unknown", checked, kindOf(bare))
			}
		})
	}
}
