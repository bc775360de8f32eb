package docker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	dockercontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"ecs-uptime/uptime/docker"
)

// scriptedEngine is an Engine whose answers the test controls, for an
// ordering a real engine cannot be made to produce on demand: a container
// destroyed while the source is inspecting it.
type scriptedEngine struct {
	msgs chan events.Message

	mu        sync.Mutex
	gone      bool          // the container was destroyed
	holdNext  bool          // the next inspect waits for release
	inspected chan struct{} // closed when a held inspect has begun
	release   chan struct{}
}

const raceID = "0123456789abcdef"

func (e *scriptedEngine) ContainerList(context.Context, client.ContainerListOptions) (client.ContainerListResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return client.ContainerListResult{}, nil
	}
	return client.ContainerListResult{Items: []dockercontainer.Summary{{ID: raceID}}}, nil
}

func (e *scriptedEngine) ContainerInspect(ctx context.Context, id string, _ client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	e.mu.Lock()
	hold, gone := e.holdNext, e.gone
	e.holdNext = false
	e.mu.Unlock()
	if gone {
		return client.ContainerInspectResult{}, fmt.Errorf("no such container %s: %w", id, errdefs.ErrNotFound)
	}
	// The answer is the one the engine gave before the destroy: running.
	res := client.ContainerInspectResult{Container: dockercontainer.InspectResponse{
		ID: id, Name: "/ecs-app-1",
		Config: &dockercontainer.Config{Image: "busybox:1", Labels: map[string]string{
			docker.LabelTaskARN:       "arn:aws:ecs:eu-west-1:123456789012:task/ops/0123456789abcdef0123456789abcdef",
			docker.LabelCluster:       "ops",
			docker.LabelContainerName: "app",
			docker.LabelFamily:        "f",
			docker.LabelVersion:       "1",
		}},
		State: &dockercontainer.State{Running: true, StartedAt: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)},
	}}
	if hold {
		close(e.inspected)
		<-e.release
	}
	return res, nil
}

func (e *scriptedEngine) Events(ctx context.Context, _ client.EventsListOptions) client.EventsResult {
	return client.EventsResult{Messages: e.msgs, Err: make(chan error)}
}

// event hands the stream one message and returns once the source has
// handled it: the unbuffered send returns when the source takes the message,
// before it marks the container, so the message goes twice; the second send
// completes only after the first was handled (a second mark changes nothing).
func (e *scriptedEngine) event(action events.Action, id string) {
	m := events.Message{Type: events.ContainerEventType, Action: action, Actor: events.Actor{ID: id}}
	e.msgs <- m
	e.msgs <- m
}

// within waits for c, failing the test rather than hanging it.
func within[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing after 10 s", what)
		panic("unreachable")
	}
}

// TestDestroyDuringInspect: a container destroyed while a read inspects it
// must be gone from the next read, not kept alive by the stale "running"
// answer that lands after its destroy event.
func TestDestroyDuringInspect(t *testing.T) {
	e := &scriptedEngine{msgs: make(chan events.Message), inspected: make(chan struct{}), release: make(chan struct{})}
	s := docker.New(e, nil, docker.WithReconcile(time.Hour))
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	count := func() int {
		t.Helper()
		tasks, err := s.Tasks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(tasks)
	}

	if n := count(); n != 1 { // full sync
		t.Fatalf("first read: %d tasks, want 1", n)
	}
	e.event(events.ActionRestart, raceID)
	e.mu.Lock()
	e.holdNext = true
	e.mu.Unlock()

	done := make(chan int, 1)
	go func() {
		tasks, _ := s.Tasks(ctx)
		done <- len(tasks)
	}()
	within(t, e.inspected, "the held inspect to begin")
	e.mu.Lock()
	e.gone = true
	e.mu.Unlock()
	e.event(events.ActionDie, raceID)
	e.event(events.ActionDestroy, raceID)
	close(e.release)
	within(t, done, "the read holding the inspect")

	if n := count(); n != 0 {
		t.Errorf("read after the destroy: %d tasks, want 0 (a stale inspect outlived the container)", n)
	}
}
