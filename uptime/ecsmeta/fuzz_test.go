package ecsmeta

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/dogstatsd"
)

// bodyTransport answers every request with 200 and body, in process, so
// that the fuzzer drives the client's real read path without a socket.
type bodyTransport []byte

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(b)), Request: r}, nil
}

// FuzzTasks feeds any body to Client.Tasks as the /task answer. It must
// never panic, and either fail with no task or return one task whose fields
// hold together: an ARN that parses, with its region and account; a short
// cluster name; only the task's own containers, running exactly when the
// agent said RUNNING; uptimes the Tracker never makes negative, a task at
// least as old as any of its containers; tags with nothing that could break
// a DogStatsD line.
func FuzzTasks(f *testing.F) {
	for _, name := range []string{"ec2-task.json", "captured-fargate-task.json", "captured-ec2-bridge-task.json"} {
		doc, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc)
		f.Add(doc[:len(doc)/2]) // truncated
	}
	for _, s := range []string{"", "{}", "null", "[]", `{"TaskARN":"task-1"}`, goodTask,
		`{"TaskARN":"arn:aws:ecs:us-east-1:1:task/c/x","Cluster":"arn:aws:ecs:us-east-1:1:cluster/c","Containers":[{"Name":"~internal~ecs~pause","StartedAt":"2026-11-25T10:00:00Z","KnownStatus":"RUNNING"},{"Name":"a","Type":"CNI_PAUSE","KnownStatus":"RUNNING","StartedAt":"2026-11-25T09:00:00Z"}]}`,
		`{"TaskARN":"arn:aws:ecs:us-east-1:1:task/x","Family":"f\n|#x","Containers":[{"Name":"a","KnownStatus":"RUNNING","StartedAt":"2999-01-01T00:00:00Z"},{"Name":"b","KnownStatus":"STOPPED","StartedAt":"0001-01-01T00:00:00Z"}]}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := New("http://169.254.170.2/v4/abc", WithHTTPClient(&http.Client{Transport: bodyTransport(body)}), WithRetry(1, 0))
		if err != nil {
			t.Fatal(err)
		}
		tasks, err := c.Tasks(context.Background())
		if err != nil {
			if tasks != nil {
				t.Fatalf("Tasks returned %d tasks with the error %v", len(tasks), err)
			}
			return
		}
		if len(tasks) != 1 {
			t.Fatalf("Tasks returned %d tasks, want 1", len(tasks))
		}
		task := tasks[0]
		var meta taskMetadata
		if err := json.Unmarshal(body, &meta); err != nil {
			// The client stops at the end of the first JSON value; trailing
			// bytes are not its business.
			if err := json.NewDecoder(bytes.NewReader(body)).Decode(&meta); err != nil {
				t.Fatalf("the client accepted a body that does not decode: %v", err)
			}
		}
		a, err := uptime.ParseTaskARN(task.ARN)
		if err != nil || task.ARN != meta.TaskARN {
			t.Fatalf("task ARN %q (from %q) does not parse: %v", task.ARN, meta.TaskARN, err)
		}
		if task.Region != a.Region || task.Account != a.Account {
			t.Errorf("region %q, account %q; the ARN says %q, %q", task.Region, task.Account, a.Region, a.Account)
		}
		if strings.HasPrefix(task.Cluster, "arn:") && strings.Contains(task.Cluster, ":cluster/") {
			t.Errorf("cluster %q is an ARN, want the short name", task.Cluster)
		}
		if task.ClusterARN != "" && !strings.HasPrefix(task.ClusterARN, "arn:") {
			t.Errorf("cluster ARN %q is not an ARN", task.ClusterARN)
		}
		var own []containerMetadata
		for _, m := range meta.Containers {
			if !uptime.AgentContainer(m.Type, m.Name) {
				own = append(own, m)
			}
		}
		if len(task.Containers) != len(own) {
			t.Fatalf("%d containers, want the %d of the task's own", len(task.Containers), len(own))
		}
		for i, ctr := range task.Containers {
			if ctr.Name != own[i].Name || ctr.Running != (own[i].KnownStatus == "RUNNING") || !ctr.StartedAt.Equal(own[i].StartedAt) {
				t.Errorf("container %d = %+v, from %+v", i, ctr, own[i])
			}
		}

		cycle := uptime.NewTracker(func() time.Time { return now }, slog.New(slog.DiscardHandler)).Observe(tasks)
		for _, tu := range cycle.Tasks {
			if tu.Uptime < 0 {
				t.Errorf("task uptime %v is negative", tu.Uptime)
			}
			for _, cu := range tu.Containers {
				if cu.Uptime < 0 || cu.Uptime > tu.Uptime || !cu.Container.Running {
					t.Errorf("container %q uptime %v (running %v) with task uptime %v", cu.Container.Name, cu.Uptime, cu.Container.Running, tu.Uptime)
				}
			}
			tags := dogstatsd.TaskTags(tu.Task)
			for _, cu := range tu.Containers {
				tags = append(tags, dogstatsd.ContainerTags(cu.Container)...)
			}
			for _, tag := range tags {
				if strings.ContainsAny(tag, "|,#\n\r") {
					t.Errorf("tag %q could break the DogStatsD line", tag)
				}
			}
		}
	})
}
