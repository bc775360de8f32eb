package docker_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/docker"
	"ecs-uptime/uptime/docker/dockertest"
)

// calls counts the engine API requests a client makes, by kind.
type calls struct {
	mu       sync.Mutex
	lists    int
	inspects map[string]int // container ID → inspects
	other    int
}

func (c *calls) hook(r *http.Request) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/containers/json"):
		c.lists++
	case strings.Contains(p, "/containers/") && strings.HasSuffix(p, "/json"):
		id := p[strings.Index(p, "/containers/")+len("/containers/") : len(p)-len("/json")]
		c.inspects[id]++
	default:
		c.other++ // _ping, events
	}
	return nil
}

func (c *calls) reset() (lists int, inspects map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lists, inspects = c.lists, c.inspects
	c.lists, c.inspects = 0, map[string]int{}
	return lists, inspects
}

// newSource returns a Source on host whose API calls are counted.
func newSource(t *testing.T, host string) (*docker.Source, *calls) {
	t.Helper()
	return newSourceLog(t, host, nil)
}

func newSourceLog(t *testing.T, host string, log *slog.Logger) (*docker.Source, *calls) {
	t.Helper()
	n := &calls{inspects: map[string]int{}}
	c, err := docker.NewClient(host, client.WithHTTPRequestHook(n.hook))
	if err != nil {
		t.Fatal(err)
	}
	s := docker.New(c, log)
	t.Cleanup(func() { s.Close(); c.Close() })
	return s, n
}

// only keeps the tasks whose ARN is in arns: the engine may be shared with
// other tests.
func only(tasks []uptime.Task, arns ...string) map[string]uptime.Task {
	out := map[string]uptime.Task{}
	for _, t := range tasks {
		for _, a := range arns {
			if t.ARN == a {
				out[a] = t
			}
		}
	}
	return out
}

func read(t *testing.T, s *docker.Source) []uptime.Task {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tasks, err := s.Tasks(ctx)
	if err != nil {
		t.Fatalf("Tasks: %v", err)
	}
	return tasks
}

func TestTasksFromLabelledContainers(t *testing.T) {
	host := dockertest.Host(t)
	img := dockertest.Image(t)
	migrate := dockertest.TaskARN("eu-west-1", "123456789012", "billing")
	web := "arn:aws:ecs:us-east-1:210987654321:task/" + strings.TrimPrefix(dockertest.TaskARN("x", "x", "x"), "arn:aws:ecs:x:x:task/x/") // old format: no cluster in the ARN
	clusterARN := "arn:aws:ecs:us-east-1:210987654321:cluster/web-prod"

	initID := dockertest.Run(t, host, dockertest.Container{TaskARN: migrate, Cluster: "billing", Family: "db-migrate", Version: "42", Name: "wait-for-db", Command: []string{"true"}})
	dockertest.WaitExited(t, host, initID)
	appID := dockertest.Run(t, host, dockertest.Container{TaskARN: migrate, Cluster: "billing", Family: "db-migrate", Version: "42", Name: "migrate"})
	dockertest.Run(t, host, dockertest.Container{TaskARN: migrate, Cluster: "billing", Family: "db-migrate", Version: "42", Name: "~internal~ecs~pause"})
	webID := dockertest.Run(t, host, dockertest.Container{TaskARN: web, Cluster: clusterARN, Family: "web", Version: "7", Name: "nginx"})
	dockertest.Run(t, host, dockertest.Container{Name: "unlabelled"})
	strayID := dockertest.Run(t, host, dockertest.Container{TaskARN: "not-an-arn", Cluster: "x", Family: "x", Version: "1", Name: "stray"})

	var logs bytes.Buffer
	s, _ := newSourceLog(t, host, slog.New(slog.NewTextHandler(&logs, nil)))
	read(t, s)
	got := only(read(t, s), migrate, web)
	if n := strings.Count(logs.String(), strayID[:12]); n != 1 {
		t.Errorf("the container with a bad task ARN label was logged %d times over two reads, want once:\n%s", n, logs.String())
	}

	name := func(id string) string {
		return strings.TrimPrefix(dockertest.Docker(t, host, "inspect", "-f", "{{.Name}}", id), "/")
	}
	want := map[string]uptime.Task{
		migrate: {ARN: migrate, Family: "db-migrate", Revision: "42", Cluster: "billing",
			ClusterARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/billing", Region: "eu-west-1", Account: "123456789012",
			Containers: []uptime.Container{
				{Name: "migrate", RuntimeName: name(appID), ID: appID, Image: img, Running: true, StartedAt: dockertest.StartedAt(t, host, appID)},
				{Name: "wait-for-db", RuntimeName: name(initID), ID: initID, Image: img, Running: false, StartedAt: dockertest.StartedAt(t, host, initID)},
			}},
		web: {ARN: web, Family: "web", Revision: "7", Cluster: "web-prod", ClusterARN: clusterARN, Region: "us-east-1", Account: "210987654321",
			Containers: []uptime.Container{
				{Name: "nginx", RuntimeName: name(webID), ID: webID, Image: img, Running: true, StartedAt: dockertest.StartedAt(t, host, webID)},
			}},
	}
	for arn, w := range want {
		g, ok := got[arn]
		if !ok {
			t.Errorf("task %s missing; got %d tasks", arn, len(got))
			continue
		}
		if !equalTask(g, w) {
			t.Errorf("task %s:\n got %+v\nwant %+v", arn, g, w)
		}
	}
}

func equalTask(a, b uptime.Task) bool {
	ac, bc := a.Containers, b.Containers
	a.Containers, b.Containers = nil, nil
	if a.ARN != b.ARN || a.Family != b.Family || a.Revision != b.Revision || a.Cluster != b.Cluster ||
		a.ClusterARN != b.ClusterARN || a.Region != b.Region || a.Account != b.Account ||
		a.AvailabilityZone != b.AvailabilityZone || a.Service != b.Service || len(ac) != len(bc) {
		return false
	}
	for i := range ac {
		x, y := ac[i], bc[i]
		if x.Name != y.Name || x.RuntimeName != y.RuntimeName || x.ID != y.ID || x.Image != y.Image ||
			x.Running != y.Running || !x.StartedAt.Equal(y.StartedAt) {
			return false
		}
	}
	return true
}

// TestRestartKeepsTaskAge restarts a task's only container: its container
// uptime starts again, its task age does not.
func TestRestartKeepsTaskAge(t *testing.T) {
	host := dockertest.Host(t)
	arn := dockertest.TaskARN("eu-west-1", "123456789012", "ops")
	id := dockertest.Run(t, host, dockertest.Container{TaskARN: arn, Cluster: "ops", Family: "console", Version: "3", Name: "shell"})
	first := dockertest.StartedAt(t, host, id)

	s, _ := newSource(t, host)
	now := first
	tr := uptime.NewTracker(func() time.Time { return now }, nil)
	now = first.Add(10 * time.Second)
	c := tr.Observe(read(t, s))
	if got := uptimeOf(t, c, arn); got != 10*time.Second {
		t.Fatalf("before the restart: task uptime %v, want 10s", got)
	}

	time.Sleep(1100 * time.Millisecond) // StartedAt has nanoseconds, but make the restart plainly later
	dockertest.Docker(t, host, "restart", "-t", "0", id)
	second := dockertest.StartedAt(t, host, id)
	if !second.After(first) {
		t.Fatalf("restart did not move StartedAt: %v then %v", first, second)
	}
	var task uptime.Task
	waitFor(t, "the restart to be seen", func() bool {
		task = only(read(t, s), arn)[arn]
		return len(task.Containers) == 1 && task.Containers[0].StartedAt.Equal(second)
	})
	now = second.Add(5 * time.Second)
	c = tr.Observe([]uptime.Task{task})
	if got, want := uptimeOf(t, c, arn), now.Sub(first); got != want {
		t.Errorf("after the restart: task uptime %v, want %v (age kept from the first start)", got, want)
	}
	if got := c.Tasks[0].Containers[0].Uptime; got != 5*time.Second {
		t.Errorf("after the restart: container uptime %v, want 5s", got)
	}
}

func uptimeOf(t *testing.T, c uptime.Cycle, arn string) time.Duration {
	t.Helper()
	for _, tu := range c.Tasks {
		if tu.Task.ARN == arn {
			return tu.Uptime
		}
	}
	t.Fatalf("task %s not in the cycle", arn)
	return 0
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCycleCostDoesNotGrow checks the engine API calls per read: the first
// read lists and inspects each container once; a quiet read makes no call;
// a read after an event inspects only the container it named; a new task's
// container is found without a list.
func TestCycleCostDoesNotGrow(t *testing.T) {
	host := dockertest.Host(t)
	arn := dockertest.TaskARN("eu-west-1", "123456789012", "ops")
	var ids []string
	for _, name := range []string{"a", "b", "c"} {
		ids = append(ids, dockertest.Run(t, host, dockertest.Container{TaskARN: arn, Cluster: "ops", Family: "f", Version: "1", Name: name}))
	}
	s, n := newSource(t, host)
	read(t, s)
	lists, inspects := n.reset()
	if lists != 1 {
		t.Errorf("first read: %d list calls, want 1", lists)
	}
	for _, id := range ids {
		if inspects[id] != 1 {
			t.Errorf("first read: container %s inspected %d times, want 1", id[:12], inspects[id])
		}
	}

	for range 3 {
		read(t, s)
	}
	lists, inspects = n.reset()
	if lists != 0 {
		t.Errorf("3 quiet reads: %d list calls, want 0", lists)
	}
	for _, id := range ids {
		if inspects[id] != 0 {
			t.Errorf("3 quiet reads: container %s inspected %d times, want 0", id[:12], inspects[id])
		}
	}

	dockertest.Docker(t, host, "restart", "-t", "0", ids[1])
	restarted := dockertest.StartedAt(t, host, ids[1])
	waitFor(t, "the restart to be seen", func() bool {
		for _, c := range only(read(t, s), arn)[arn].Containers {
			if c.ID == ids[1] {
				return c.StartedAt.Equal(restarted)
			}
		}
		return false
	})
	lists, inspects = n.reset()
	if lists != 0 || inspects[ids[0]] != 0 || inspects[ids[2]] != 0 {
		t.Errorf("after restarting b: %d lists, a inspected %d times, c %d times, want 0", lists, inspects[ids[0]], inspects[ids[2]])
	}
	if inspects[ids[1]] == 0 {
		t.Errorf("after restarting b: b never inspected")
	}

	other := dockertest.TaskARN("eu-west-1", "123456789012", "ops")
	newID := dockertest.Run(t, host, dockertest.Container{TaskARN: other, Cluster: "ops", Family: "g", Version: "2", Name: "late"})
	waitFor(t, "a task started after the first read", func() bool { return len(only(read(t, s), other)[other].Containers) == 1 })
	if lists, inspects = n.reset(); lists != 0 || inspects[newID] == 0 {
		t.Errorf("new task: %d lists, %d inspects of its container, want 0 lists (the start event names it)", lists, inspects[newID])
	}

	dockertest.Docker(t, host, "rm", "-f", newID)
	waitFor(t, "a removed task to go", func() bool { _, ok := only(read(t, s), other)[other]; return !ok })
}

// TestReconcileLists checks that a read lists the containers again once the
// reconcile period has passed, and forgets what the list no longer has.
func TestReconcileLists(t *testing.T) {
	host := dockertest.Host(t)
	arn := dockertest.TaskARN("eu-west-1", "123456789012", "ops")
	dockertest.Run(t, host, dockertest.Container{TaskARN: arn, Cluster: "ops", Family: "f", Version: "1", Name: "a"})
	n := &calls{inspects: map[string]int{}}
	c, err := docker.NewClient(host, client.WithHTTPRequestHook(n.hook))
	if err != nil {
		t.Fatal(err)
	}
	s := docker.New(c, nil, docker.WithReconcile(0))
	t.Cleanup(func() { s.Close(); c.Close() })
	for range 3 {
		if got := only(read(t, s), arn)[arn]; len(got.Containers) != 1 {
			t.Fatalf("read: %+v, want the task with its container", got)
		}
	}
	if lists, _ := n.reset(); lists != 3 {
		t.Errorf("3 reads with reconcile 0: %d list calls, want 3", lists)
	}
}

// TestEngineRestart stops the engine under a running Source: reads fail
// (nothing is made up), and once the engine is back the same containers are
// read with the same start times and the event stream works again.
func TestEngineRestart(t *testing.T) {
	d := dockertest.StartDaemon(t)
	arn := dockertest.TaskARN("eu-west-1", "123456789012", "ops")
	id := dockertest.Run(t, d.Host, dockertest.Container{TaskARN: arn, Cluster: "ops", Family: "f", Version: "1", Name: "app"})
	start := dockertest.StartedAt(t, d.Host, id)
	s, _ := newSource(t, d.Host)
	if got := only(read(t, s), arn)[arn]; len(got.Containers) != 1 || !got.Containers[0].StartedAt.Equal(start) {
		t.Fatalf("before: %+v", got)
	}

	d.Stop()
	// The stream breaks as the engine goes; from then on reads fail.
	waitFor(t, "reads to fail with the engine stopped", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := s.Tasks(ctx)
		return err != nil
	})

	d.Start()
	if got := only(read(t, s), arn)[arn]; len(got.Containers) != 1 || !got.Containers[0].StartedAt.Equal(start) || !got.Containers[0].Running {
		t.Fatalf("after the engine came back: %+v, want the container running since %v", got, start)
	}
	// The event stream was reopened: a restart is seen.
	dockertest.Docker(t, d.Host, "restart", "-t", "0", id)
	restarted := dockertest.StartedAt(t, d.Host, id)
	waitFor(t, "the restart after the engine restart", func() bool {
		got := only(read(t, s), arn)[arn]
		return len(got.Containers) == 1 && got.Containers[0].StartedAt.Equal(restarted)
	})
}
