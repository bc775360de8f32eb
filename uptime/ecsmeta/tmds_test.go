package ecsmeta

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/amazon-ecs-agent/ecs-agent/logger/audit/request"
	"github.com/aws/amazon-ecs-agent/ecs-agent/metrics"
	"github.com/aws/amazon-ecs-agent/ecs-agent/tmds"
	v4 "github.com/aws/amazon-ecs-agent/ecs-agent/tmds/handlers/v4"
	"github.com/aws/amazon-ecs-agent/ecs-agent/tmds/handlers/v4/state"
	"github.com/gorilla/mux"

	"ecs-uptime/uptime/ecsmeta/fakeendpoint"
)

// These tests serve the fixtures through the ECS agent's own task metadata
// server (routes, JSON encoding, error codes, throttling), as a sidecar
// meets it in a real task.

// agentState answers the v4 handlers from a fixture, as the agent's task
// engine state would.
type agentState struct {
	state.AgentState // methods the /task route does not call stay nil
	task             state.TaskResponse
	containerID      string
	failing          atomic.Bool
}

func (s *agentState) GetTaskMetadata(id string) (state.TaskResponse, error) {
	if id != s.containerID {
		return state.TaskResponse{}, state.NewErrorLookupFailure("unable to get task arn from request")
	}
	if s.failing.Load() {
		return state.TaskResponse{}, state.NewErrorMetadataFetchFailure("unable to generate metadata for task")
	}
	return s.task, nil
}

type nopAudit struct{}

func (nopAudit) Log(request.LogRequest, int, string) {}
func (nopAudit) GetContainerInstanceArn() string     { return "" }
func (nopAudit) GetCluster() string                  { return "" }

// startAgentServer runs the ECS agent's TMDS server on loopback with the
// fixture file as the task of container id "abc".
func startAgentServer(t *testing.T, fixture string, opts ...tmds.ConfigOpt) (baseURL string, st *agentState) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	doc, err = fakeendpoint.Shift(doc, 0)
	if err != nil {
		t.Fatal(err)
	}
	st = &agentState{containerID: "abc"}
	if err := json.Unmarshal(doc, &st.task); err != nil {
		t.Fatalf("fixture %s into the agent's TaskResponse: %v", fixture, err)
	}
	router := mux.NewRouter()
	router.HandleFunc(v4.TaskMetadataPath(), v4.TaskMetadataHandler(st, metrics.NewNopEntryFactory()))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]tmds.ConfigOpt{tmds.WithHandler(router), tmds.WithSteadyStateRate(1000), tmds.WithBurstRate(1000)}, opts...)
	srv, err := tmds.NewServer(nopAudit{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), st
}

func TestAgentServerFixtures(t *testing.T) {
	for _, tc := range []struct{ fixture, arn string }{
		{"ec2-task.json", "arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c"},
		{"captured-fargate-task.json", "arn:aws:ecs:us-east-1:829490980523:task/prom-ecs-exporter-sandbox/bae32def0ab64f06818e8862e58f8d6d"},
		{"captured-ec2-bridge-task.json", "arn:aws:ecs:us-east-1:829490980523:task/prom-ecs-exporter-sandbox/506f22fab0414cde856201584703fed9"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			base, st := startAgentServer(t, tc.fixture)
			c, _ := New(base + "/v4/abc")
			task := readOne(t, c)
			if task.ARN != tc.arn {
				t.Errorf("ARN %q, want %q", task.ARN, tc.arn)
			}
			want := 0
			for _, ctr := range st.task.Containers {
				if ctr.Type == "NORMAL" {
					want++
				}
			}
			if len(task.Containers) != want {
				t.Errorf("%d containers, want %d (NORMAL ones)", len(task.Containers), want)
			}
			for i, ctr := range task.Containers {
				if ctr.StartedAt.IsZero() {
					t.Errorf("container %d (%s) lost its StartedAt through the agent's encoding", i, ctr.Name)
				}
			}
		})
	}
}

func TestAgentServerErrors(t *testing.T) {
	t.Run("unknown container id: 404, not retried", func(t *testing.T) {
		base, _ := startAgentServer(t, "ec2-task.json")
		c, _ := New(base+"/v4/not-this-one", WithRetry(3, time.Millisecond))
		_, err := c.Tasks(context.Background())
		if err == nil || !strings.Contains(err.Error(), "HTTP 404") {
			t.Fatalf("Tasks = %v, want HTTP 404", err)
		}
	})
	t.Run("agent cannot build the metadata: 500, then it can", func(t *testing.T) {
		base, st := startAgentServer(t, "ec2-task.json")
		st.failing.Store(true)
		c, _ := New(base+"/v4/abc", WithRetry(2, time.Millisecond))
		if _, err := c.Tasks(context.Background()); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
			t.Fatalf("Tasks = %v, want HTTP 500", err)
		}
		st.failing.Store(false)
		readOne(t, c)
	})
	t.Run("throttled by the agent's rate limiter: 429, then retried", func(t *testing.T) {
		base, _ := startAgentServer(t, "ec2-task.json", tmds.WithSteadyStateRate(5), tmds.WithBurstRate(1))
		fast, _ := New(base+"/v4/abc", WithRetry(1, 0))
		var throttled bool
		for range 5 {
			if _, err := fast.Tasks(context.Background()); err != nil && strings.Contains(err.Error(), "HTTP 429") {
				throttled = true
			}
		}
		if !throttled {
			t.Fatal("the agent's limiter never answered 429 to a burst")
		}
		// The default client backs off (100 ms, then 200 ms): enough for a
		// limiter refilling at 5 requests a second.
		patient, _ := New(base + "/v4/abc")
		readOne(t, patient)
	})
}

var _ http.Handler = (*mux.Router)(nil)
