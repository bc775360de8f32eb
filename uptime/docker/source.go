// Package docker reads every ECS task on an EC2 host from the Docker Engine
// API: the containers the ECS agent started, grouped into tasks by the labels
// the agent puts on them. It is the source of the host daemon
// (ECS_UPTIME_SOURCE=docker).
//
// The first read lists the labelled containers and inspects each once for
// its start time. After that, the engine's event stream says which
// containers started, restarted, died or went away, and each read costs one
// list call plus one inspect per container an event named: the cost of a
// cycle does not grow with the number of containers on the host. When the
// stream breaks (the engine restarted), the next read re-inspects everything
// and opens a new stream.
//
// It only reads: it never starts, stops or changes a container.
package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"ecs-uptime/uptime"
)

// The labels the ECS agent puts on every container it starts.
const (
	LabelTaskARN       = "com.amazonaws.ecs.task-arn"
	LabelCluster       = "com.amazonaws.ecs.cluster"
	LabelContainerName = "com.amazonaws.ecs.container-name"
	LabelFamily        = "com.amazonaws.ecs.task-definition-family"
	LabelVersion       = "com.amazonaws.ecs.task-definition-version"
)

// Engine is the part of the Docker Engine API the source uses;
// *client.Client implements it.
type Engine interface {
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerInspect(ctx context.Context, id string, options client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	Events(ctx context.Context, options client.EventsListOptions) client.EventsResult
}

// Source reads the ECS tasks of one Docker engine. Use New; call Close when
// done, to end the event stream.
type Source struct {
	engine Engine
	log    *slog.Logger
	ctx    context.Context // bounds the event stream
	stop   context.CancelFunc

	mu       sync.Mutex
	watching bool                  // an event stream is open (or opening)
	resync   bool                  // the stream (re)opened: inspect everything once
	dirty    map[string]struct{}   // IDs an event named since their last inspect
	known    map[string]inspection // ID → what the last inspect said
	warned   map[string]struct{}   // IDs whose bad task ARN label was logged
}

// inspection is what one inspect said about a container that does not
// change while the container exists, plus its current start.
type inspection struct {
	runtimeName string
	image       string
	startedAt   time.Time // zero if it never started
}

// New returns a Source reading through engine, logging stream breaks to
// log (slog.Default when nil).
func New(engine Engine, log *slog.Logger) *Source {
	if log == nil {
		log = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Source{engine: engine, log: log, ctx: ctx, stop: stop,
		dirty: map[string]struct{}{}, known: map[string]inspection{}, warned: map[string]struct{}{}}
}

// NewClient returns a Docker Engine API client for host (a DOCKER_HOST
// value; the engine's default socket when empty). The API version is
// negotiated with the engine on the first call, so that the engines of
// ECS-optimized AMIs and older ones (API 1.40 and later) both answer.
func NewClient(host string, opts ...client.Opt) (*client.Client, error) {
	if host != "" {
		opts = append([]client.Opt{client.WithHost(host)}, opts...)
	}
	c, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("DOCKER_HOST=%q: want unix:///path/to/docker.sock or tcp://host:port: %w", host, err)
	}
	return c, nil
}

// Close ends the event stream.
func (s *Source) Close() error {
	s.stop()
	return nil
}

// labelled selects the containers the ECS agent started.
func labelled() client.Filters { return make(client.Filters).Add("label", LabelTaskARN) }

// Tasks lists the ECS tasks with at least one container on the engine,
// running or not (an exited init container still marks its task's start).
func (s *Source) Tasks(ctx context.Context) ([]uptime.Task, error) {
	s.ensureWatching()
	list, err := s.engine.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: labelled()})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	listed := make(map[string]struct{}, len(list.Items))
	for _, c := range list.Items {
		listed[c.ID] = struct{}{}
		if !s.needsInspect(c.ID) {
			continue
		}
		got, err := s.engine.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if errdefs.IsNotFound(err) {
			continue // removed since the list: the next list will not have it either
		}
		if err != nil {
			s.markDirty(c.ID) // try again next read
			return nil, fmt.Errorf("inspect container %s: %w", shortID(c.ID), err)
		}
		in, err := inspected(got.Container)
		if err != nil {
			return nil, fmt.Errorf("inspect container %s: %w", shortID(c.ID), err)
		}
		s.mu.Lock()
		s.known[c.ID] = in
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.resync = false
	for id := range s.known {
		if _, ok := listed[id]; !ok {
			delete(s.known, id)
		}
	}
	for id := range s.dirty {
		if _, ok := listed[id]; !ok {
			delete(s.dirty, id) // gone, or not listed yet: an unknown ID is inspected anyway
		}
	}
	for id := range s.warned {
		if _, ok := listed[id]; !ok {
			delete(s.warned, id)
		}
	}
	tasks := s.group(list.Items)
	s.mu.Unlock()
	return tasks, nil
}

// needsInspect reports whether the container's start time must be read
// again, and clears its dirty mark: an event that arrives during the inspect
// marks it again.
func (s *Source) needsInspect(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, known := s.known[id]
	_, dirty := s.dirty[id]
	delete(s.dirty, id)
	return s.resync || !known || dirty
}

func (s *Source) markDirty(id string) {
	s.mu.Lock()
	s.dirty[id] = struct{}{}
	s.mu.Unlock()
}

// ensureWatching opens the event stream when none is open. The stream
// starts at now (the engine replays what happened between now and the moment
// the stream is established), so that nothing between here and the list that
// follows is missed; the read that follows inspects every container once,
// since events may have been missed while no stream was open.
func (s *Source) ensureWatching() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watching || s.ctx.Err() != nil {
		return
	}
	s.watching, s.resync = true, true
	since := time.Now()
	go s.watch(since)
}

// watch follows the engine's container events until the stream breaks or
// the Source closes, marking the containers they name.
func (s *Source) watch(since time.Time) {
	filters := labelled().Add("type", string(events.ContainerEventType)).
		Add("event", string(events.ActionStart), string(events.ActionRestart), string(events.ActionDie), string(events.ActionDestroy))
	res := s.engine.Events(s.ctx, client.EventsListOptions{
		Since:   fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()),
		Filters: filters,
	})
	for {
		select {
		case m, ok := <-res.Messages:
			if !ok {
				s.streamEnded(nil)
				return
			}
			s.mu.Lock()
			if m.Action == events.ActionDestroy {
				delete(s.known, m.Actor.ID)
				delete(s.dirty, m.Actor.ID)
			} else {
				s.dirty[m.Actor.ID] = struct{}{}
			}
			s.mu.Unlock()
		case err := <-res.Err:
			s.streamEnded(err)
			return
		}
	}
}

func (s *Source) streamEnded(err error) {
	s.mu.Lock()
	s.watching = false
	s.mu.Unlock()
	if s.ctx.Err() == nil {
		s.log.Debug("docker event stream ended; the next read re-inspects every container", slog.Any("error", err))
	}
}

// inspected keeps what the source needs of an inspect answer.
func inspected(c container.InspectResponse) (inspection, error) {
	in := inspection{runtimeName: strings.TrimPrefix(c.Name, "/")}
	if c.Config != nil {
		in.image = c.Config.Image
	}
	if c.State == nil {
		return in, errors.New("State: missing in the engine's answer")
	}
	if c.State.StartedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, c.State.StartedAt)
		if err != nil {
			return in, fmt.Errorf("State.StartedAt=%q: want an RFC 3339 time: %w", c.State.StartedAt, err)
		}
		if t.Year() > 1 { // the engine says 0001-01-01T00:00:00Z for never started
			in.startedAt = t
		}
	}
	return in, nil
}

// group turns the listed containers into tasks by their task ARN label,
// leaving out the containers the ECS agent adds (~internal~ecs…). A
// container whose task ARN label is not an ECS task ARN is left out with a
// warning, once: it was not started by the ECS agent. The caller holds s.mu.
func (s *Source) group(list []container.Summary) []uptime.Task {
	byARN := map[string]*uptime.Task{}
	var order []string
	for _, c := range list {
		name := c.Labels[LabelContainerName]
		if uptime.AgentContainer("", name) {
			continue
		}
		in, ok := s.known[c.ID]
		if !ok {
			continue // removed between list and inspect
		}
		arn := c.Labels[LabelTaskARN]
		t, ok := byARN[arn]
		if !ok {
			task, err := uptime.NewTask(arn, c.Labels[LabelCluster])
			if err != nil {
				if _, done := s.warned[c.ID]; !done {
					s.warned[c.ID] = struct{}{}
					s.log.Warn("container has an ECS task label that is not a task ARN; left out",
						slog.String("container_id", shortID(c.ID)), slog.String("label", LabelTaskARN), slog.Any("error", err))
				}
				continue
			}
			task.Family = c.Labels[LabelFamily]
			task.Revision = c.Labels[LabelVersion]
			t = &task
			byARN[arn] = t
			order = append(order, arn)
		}
		t.Containers = append(t.Containers, uptime.Container{
			Name:        name,
			RuntimeName: in.runtimeName,
			ID:          c.ID,
			Image:       in.image,
			Running:     c.State == container.StateRunning || c.State == container.StatePaused,
			StartedAt:   in.startedAt,
		})
	}
	sort.Strings(order)
	tasks := make([]uptime.Task, 0, len(order))
	for _, arn := range order {
		t := byARN[arn]
		sort.Slice(t.Containers, func(i, j int) bool {
			a, b := t.Containers[i], t.Containers[j]
			return a.Name < b.Name || a.Name == b.Name && a.ID < b.ID
		})
		tasks = append(tasks, *t)
	}
	return tasks
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
