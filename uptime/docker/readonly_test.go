package docker_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"ecs-uptime/uptime/docker"
	"ecs-uptime/uptime/docker/dockertest"
)

// readOnlyAPI is every engine request the host daemon may send: the ping
// (HEAD, or GET on old engines), the version, the container list, a
// container's inspect and the event stream. It is what a filtering socket
// proxy in front of the engine should allow, and nothing else
// (docs/security.md, Enforce it with a filtering proxy).
var readOnlyAPI = []struct {
	methods string
	path    *regexp.Regexp
}{
	{"HEAD GET", regexp.MustCompile(`^/_ping$`)},
	{"GET", regexp.MustCompile(`^/version$`)},
	{"GET", regexp.MustCompile(`^/containers/json$`)},
	{"GET", regexp.MustCompile(`^/containers/[a-zA-Z0-9_.-]+/json$`)},
	{"GET", regexp.MustCompile(`^/events$`)},
}

// notReadOnly returns the requests outside readOnlyAPI.
func notReadOnly(reqs []dockertest.Request) []dockertest.Request {
	var bad []dockertest.Request
next:
	for _, r := range reqs {
		for _, a := range readOnlyAPI {
			if a.path.MatchString(r.Path) && strings.Contains(" "+a.methods+" ", " "+r.Method+" ") {
				continue next
			}
		}
		bad = append(bad, r)
	}
	return bad
}

// A Docker socket mounted read-only restricts nothing: whoever can connect
// can create, stop or exec into any container. This test shows, through a
// recording proxy in front of the real engine, that the docker source sends
// only reads, across a run in which containers start, restart, stop, die
// and go away, with the ping ECS_UPTIME_SOURCE=auto makes and a reconcile
// list; and that the check sees a write when there is one.
func TestSourceOnlyReads(t *testing.T) {
	host := dockertest.Host(t)
	proxy := dockertest.StartProxy(t, host)
	c, err := docker.NewClient(proxy.Host)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		t.Fatalf("ping through the proxy: %v", err)
	}
	s := docker.New(c, nil, docker.WithReconcile(time.Second))
	t.Cleanup(func() { s.Close(); c.Close() })

	// The ECS agent's part, straight on the engine: not through the proxy.
	arn := dockertest.TaskARN("eu-west-1", "123456789012", "ops")
	run := func(name string, cmd ...string) string {
		return dockertest.Run(t, host, dockertest.Container{TaskARN: arn, Cluster: "ops", Family: "f", Version: "1", Name: name, Command: cmd})
	}
	running := func(ids ...string) func() bool {
		return func() bool {
			seen := map[string]bool{}
			for _, ctr := range only(read(t, s), arn)[arn].Containers {
				seen[ctr.ID] = ctr.Running
			}
			for _, id := range ids {
				if !seen[id] {
					return false
				}
			}
			return true
		}
	}
	app := run("app")
	waitFor(t, "the first container", running(app))
	job := run("job", "sh", "-c", "sleep 1")
	waitFor(t, "a second container", running(app, job))
	waitFor(t, "a container that exits to die", func() bool {
		for _, ctr := range only(read(t, s), arn)[arn].Containers {
			if ctr.ID == job {
				return !ctr.Running
			}
		}
		return false
	})
	dockertest.Docker(t, host, "restart", "-t", "0", app)
	restarted := dockertest.StartedAt(t, host, app)
	waitFor(t, "the restart", func() bool {
		for _, ctr := range only(read(t, s), arn)[arn].Containers {
			if ctr.ID == app {
				return ctr.StartedAt.Equal(restarted)
			}
		}
		return false
	})
	dockertest.Docker(t, host, "stop", "-t", "0", app)
	dockertest.Docker(t, host, "rm", "-f", app, job)
	waitFor(t, "the task to go", func() bool { _, ok := only(read(t, s), arn)[arn]; return !ok })
	time.Sleep(1100 * time.Millisecond) // past the reconcile period: the next read lists
	read(t, s)

	reqs := proxy.Requests()
	seen := map[string]bool{}
	for _, r := range reqs {
		switch {
		case r.Path == "/_ping":
			seen["ping"] = true
		case r.Path == "/containers/json":
			seen["list"] = true
		case r.Path == "/events":
			seen["events"] = true
		case strings.HasPrefix(r.Path, "/containers/"):
			seen["inspect"] = true
		}
	}
	for _, kind := range []string{"ping", "list", "inspect", "events"} {
		if !seen[kind] {
			t.Errorf("no %s request went through the proxy: the run did not exercise it; requests:\n%v", kind, reqs)
		}
	}
	if bad := notReadOnly(reqs); len(bad) > 0 {
		t.Errorf("the docker source sent %d requests other than ping, version, list, inspect and events:\n%v", len(bad), bad)
	} else {
		t.Logf("%d requests, all reads: %v", len(reqs), reqs)
	}

	// The check is not blind to writes: a stop sent through a proxy is one.
	victim := run("victim")
	writer := dockertest.StartProxy(t, host)
	wc, err := client.New(client.WithHost(writer.Host))
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	if _, err := wc.ContainerStop(ctx, victim, client.ContainerStopOptions{}); err != nil {
		t.Fatalf("stop through the proxy: %v", err)
	}
	if bad := notReadOnly(writer.Requests()); len(bad) != 1 || bad[0].Method != "POST" || !strings.HasSuffix(bad[0].Path, "/stop") {
		t.Errorf("a container stop through the proxy: flagged %v, want the POST …/stop", bad)
	}
}
