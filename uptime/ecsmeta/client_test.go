package ecsmeta

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/ecsmeta/fakeendpoint"
)

// serveFixture serves testdata/name with its times moved so that the named
// container started age ago, and returns a client for it.
func serveFixture(t *testing.T, name, container string, age time.Duration) (*Client, []byte) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	task, err := fakeendpoint.NewTask(doc, container, age, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(task)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL + "/v4/abc")
	if err != nil {
		t.Fatal(err)
	}
	return c, task.Body()
}

func readOne(t *testing.T, c *Client) uptime.Task {
	t.Helper()
	tasks, err := c.Tasks(context.Background())
	if err != nil {
		t.Fatalf("Tasks: %v", err)
	}
	if len(tasks) != 1 {
		t.Fatalf("Tasks returned %d tasks, want 1", len(tasks))
	}
	return tasks[0]
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		file, ref string
		want      uptime.Task
		// container name → running
		containers map[string]bool
	}{
		{
			file: "ec2-task.json", ref: "curl",
			want: uptime.Task{
				ARN: "arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c", Family: "curltest", Revision: "26",
				Cluster: "default", ClusterARN: "arn:aws:ecs:us-west-2:111122223333:cluster/default", Region: "us-west-2",
				Account: "111122223333", AvailabilityZone: "us-west-2d", Service: "MyService", Kind: uptime.KindService,
			},
			containers: map[string]bool{"curl": true}, // the CNI_PAUSE container is left out
		},
		{
			file: "captured-fargate-task.json", ref: "prometheus",
			want: uptime.Task{
				ARN: "arn:aws:ecs:us-east-1:829490980523:task/prom-ecs-exporter-sandbox/bae32def0ab64f06818e8862e58f8d6d", Family: "prom-ecs-exporter-sandbox-main-fargate", Revision: "9",
				Cluster: "prom-ecs-exporter-sandbox", ClusterARN: "arn:aws:ecs:us-east-1:829490980523:cluster/prom-ecs-exporter-sandbox", Region: "us-east-1",
				Account: "829490980523", AvailabilityZone: "us-east-1a", Kind: uptime.KindStandalone,
			},
			// KnownStatus STOPPED while DesiredStatus is still RUNNING: not running.
			containers: map[string]bool{"nonessential": false, "prometheus": true, "ecs-exporter": true},
		},
		{
			file: "captured-ec2-bridge-task.json", ref: "ecs-exporter",
			want: uptime.Task{
				ARN: "arn:aws:ecs:us-east-1:829490980523:task/prom-ecs-exporter-sandbox/506f22fab0414cde856201584703fed9", Family: "prom-ecs-exporter-sandbox-main-ec2", Revision: "13",
				Cluster: "prom-ecs-exporter-sandbox", ClusterARN: "arn:aws:ecs:us-east-1:829490980523:cluster/prom-ecs-exporter-sandbox", Region: "us-east-1",
				Account: "829490980523", AvailabilityZone: "us-east-1a", Service: "prom-ecs-exporter-sandbox-main-ec2", Kind: uptime.KindService,
			},
			containers: map[string]bool{"nonessential": false, "ecs-exporter": true, "prometheus": true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			c, served := serveFixture(t, tc.file, tc.ref, 26*time.Hour)
			got := readOne(t, c)
			gotContainers := got.Containers
			got.Containers = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("task\n got %+v\nwant %+v", got, tc.want)
			}
			if len(gotContainers) != len(tc.containers) {
				t.Fatalf("containers %+v, want %v", gotContainers, tc.containers)
			}
			for _, ctr := range gotContainers {
				running, ok := tc.containers[ctr.Name]
				if !ok || running != ctr.Running {
					t.Errorf("container %q running=%v, want present=%v running=%v", ctr.Name, ctr.Running, ok, running)
				}
				want, err := fakeendpoint.StartOf(served, ctr.Name)
				if err != nil || !ctr.StartedAt.Equal(want) {
					t.Errorf("container %q StartedAt %v, want %v (%v)", ctr.Name, ctr.StartedAt, want, err)
				}
				if ctr.ID == "" || ctr.RuntimeName == "" || ctr.Image == "" {
					t.Errorf("container %q lacks ID, runtime name or image: %+v", ctr.Name, ctr)
				}
			}
			var ref uptime.Container
			for _, ctr := range gotContainers {
				if ctr.Name == tc.ref {
					ref = ctr
				}
			}
			if age := time.Since(ref.StartedAt); age < 26*time.Hour || age > 26*time.Hour+time.Minute {
				t.Errorf("%s started %v ago, want 26h", tc.ref, age)
			}
		})
	}
}

// Shapes the AWS examples do not show but real endpoints return.
func TestShapes(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, task uptime.Task)
	}{
		{
			name: "old task ARN format, cluster as short name, no AvailabilityZone, no ServiceName",
			body: `{"Cluster":"legacy","TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/0b69d5c0-d655-4695-98cd-5d2d526d9d5a","Family":"old","Revision":"3",
				"Containers":[{"Name":"app","DockerId":"d1","DockerName":"ecs-old-3-app","Image":"app","KnownStatus":"RUNNING","Type":"NORMAL","StartedAt":"2026-11-25T10:00:00.123456789Z"}]}`,
			check: func(t *testing.T, task uptime.Task) {
				if task.Cluster != "legacy" || task.ClusterARN != "arn:aws:ecs:us-east-1:123456789012:cluster/legacy" || task.AvailabilityZone != "" || task.Service != "" {
					t.Errorf("task %+v", task)
				}
				want := time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC)
				if !task.Containers[0].StartedAt.Equal(want) {
					t.Errorf("StartedAt %v, want %v (nanoseconds kept)", task.Containers[0].StartedAt, want)
				}
			},
		},
		{
			name: "containers still PULLED or CREATED have no StartedAt",
			body: `{"Cluster":"c","TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/c/abc","Family":"f","Revision":"1",
				"Containers":[{"Name":"a","KnownStatus":"PULLED","Type":"NORMAL"},{"Name":"b","KnownStatus":"CREATED","Type":"NORMAL","CreatedAt":"2026-11-25T10:00:00Z"}]}`,
			check: func(t *testing.T, task uptime.Task) {
				for _, c := range task.Containers {
					if !c.StartedAt.IsZero() || c.Running {
						t.Errorf("container %+v should be not started and not running", c)
					}
				}
			},
		},
		{
			name: "agent containers without a Type (older agents) are left out by name",
			body: `{"Cluster":"c","TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/c/abc","Family":"f","Revision":"1",
				"Containers":[{"Name":"~internal~ecs~pause","KnownStatus":"RESOURCES_PROVISIONED","StartedAt":"2026-11-25T09:00:00Z"},{"Name":"app","KnownStatus":"RUNNING","StartedAt":"2026-11-25T10:00:00Z"}]}`,
			check: func(t *testing.T, task uptime.Task) {
				if len(task.Containers) != 1 || task.Containers[0].Name != "app" {
					t.Errorf("containers %+v, want only app", task.Containers)
				}
			},
		},
		{
			name: "a service named only by Group (service:NAME)",
			body: `{"Cluster":"c","TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/c/abc","Family":"f","Revision":"1","Group":"service:web","Containers":[]}`,
			check: func(t *testing.T, task uptime.Task) {
				if task.Service != "web" || task.Kind != uptime.KindService {
					t.Errorf("service %q kind %v, want web and service", task.Service, task.Kind)
				}
			},
		},
		{
			name: "a standalone task's Group (family:NAME) names no service",
			body: `{"Cluster":"c","TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/c/abc","Family":"f","Revision":"1","Group":"family:f","Containers":[]}`,
			check: func(t *testing.T, task uptime.Task) {
				if task.Service != "" || task.Kind != uptime.KindStandalone {
					t.Errorf("service %q kind %v, want none and standalone", task.Service, task.Kind)
				}
			},
		},
		{
			name: "a task with zero containers",
			body: `{"Cluster":"c","TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/c/abc","Family":"f","Revision":"1","Containers":[]}`,
			check: func(t *testing.T, task uptime.Task) {
				if len(task.Containers) != 0 {
					t.Errorf("containers %+v", task.Containers)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(tc.body)) }))
			defer srv.Close()
			c, _ := New(srv.URL)
			tc.check(t, readOne(t, c))
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		handler  func(attempt int32, w http.ResponseWriter)
		wantErr  string // "" when the read must succeed
		attempts int32
	}{
		{name: "500 then a good answer: retried within the read", attempts: 2,
			handler: func(n int32, w http.ResponseWriter) {
				if n == 1 {
					http.Error(w, "boom", 500)
					return
				}
				w.Write([]byte(goodTask))
			}},
		{name: "429 throttled then a good answer", attempts: 2,
			handler: func(n int32, w http.ResponseWriter) {
				if n == 1 {
					http.Error(w, "slow down", http.StatusTooManyRequests)
					return
				}
				w.Write([]byte(goodTask))
			}},
		{name: "500 every time: bounded retries", attempts: 3, wantErr: "HTTP 500",
			handler: func(_ int32, w http.ResponseWriter) { http.Error(w, "boom", 500) }},
		{name: "404 is not retried", attempts: 1, wantErr: "HTTP 404",
			handler: func(_ int32, w http.ResponseWriter) { http.NotFound(w, nil) }},
		{name: "garbage JSON is not retried", attempts: 1, wantErr: "not the v4 task JSON",
			handler: func(_ int32, w http.ResponseWriter) { w.Write([]byte("<html>proxy error</html>")) }},
		{name: "truncated JSON", attempts: 3, wantErr: "truncated",
			handler: func(_ int32, w http.ResponseWriter) { w.Write([]byte(goodTask[:40])) }},
		{name: "no TaskARN", attempts: 1, wantErr: "TaskARN is missing",
			handler: func(_ int32, w http.ResponseWriter) { w.Write([]byte(`{"Family":"f","Containers":[]}`)) }},
		{name: "a TaskARN that is not one", attempts: 1, wantErr: "field TaskARN",
			handler: func(_ int32, w http.ResponseWriter) { w.Write([]byte(`{"TaskARN":"task-1","Containers":[]}`)) }},
		{name: "a StartedAt that is not a time", attempts: 1, wantErr: "not the v4 task JSON",
			handler: func(_ int32, w http.ResponseWriter) {
				w.Write([]byte(`{"TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/c/abc","Containers":[{"Name":"a","StartedAt":"yesterday"}]}`))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v4/abc/task" {
					t.Errorf("request for %s, want /v4/abc/task", r.URL.Path)
				}
				tc.handler(n.Add(1), w)
			}))
			defer srv.Close()
			c, _ := New(srv.URL+"/v4/abc/", WithRetry(3, time.Millisecond))
			tasks, err := c.Tasks(context.Background())
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Tasks: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Tasks = %v, %v; want an error containing %q", tasks, err, tc.wantErr)
			}
			if got := n.Load(); got != tc.attempts {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
		})
	}
}

const goodTask = `{"Cluster":"c","TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/c/abc","Family":"f","Revision":"1",
	"Containers":[{"Name":"app","DockerId":"d","DockerName":"app","Image":"app:1","KnownStatus":"RUNNING","Type":"NORMAL","StartedAt":"2026-11-25T10:00:00Z"}]}`

func TestTimeoutAndRefused(t *testing.T) {
	t.Run("slower than the attempt timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		c, _ := New(srv.URL, WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}), WithRetry(2, time.Millisecond))
		start := time.Now()
		_, err := c.Tasks(context.Background())
		if err == nil {
			t.Fatal("a hung endpoint gave no error")
		}
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Errorf("gave up after %v; the timeout does not bound the read", elapsed)
		}
	})
	t.Run("the caller's deadline bounds the retries", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 503) }))
		defer srv.Close()
		c, _ := New(srv.URL, WithRetry(100, time.Hour))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Tasks(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "HTTP 503") {
			t.Fatalf("Tasks = %v; want the last HTTP error and the deadline", err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		c, _ := New(url, WithRetry(2, time.Millisecond))
		_, err := c.Tasks(context.Background())
		if err == nil || !strings.Contains(err.Error(), "read task metadata") {
			t.Fatalf("Tasks = %v; want a wrapped connection error", err)
		}
	})
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "169.254.170.2/v4/abc", "ftp://x"} {
		if _, err := New(u); err == nil || !strings.Contains(err.Error(), EnvVar) {
			t.Errorf("New(%q) = %v; want an error naming %s", u, err, EnvVar)
		}
	}
}
