// Package docker reads every ECS task on an EC2 host from the Docker Engine
// API: the containers the ECS agent started, grouped into tasks by the labels
// the agent puts on them. It is the source of the host daemon
// (ECS_UPTIME_SOURCE=docker).
//
// The first read lists the labelled containers and inspects each once. After
// that, the engine's event stream says which containers started, restarted,
// died or went away, and a read inspects only those: a quiet cycle makes no
// engine API call at all, so its cost does not grow with the number of
// containers on the host. Once a minute a read also lists the containers
// (one call) to reconcile what the stream might have missed. When the stream
// breaks (the engine stopped or restarted), the next read lists and inspects
// everything again, and fails, sending nothing, while the engine is away.
//
// The engine does not know whether a task belongs to a service. The first
// time a read sees a task, it asks the task's own metadata once (kinds.go):
// GET <ECS_CONTAINER_METADATA_URI_V4>/task, the URL found in the
// environment of one of the task's containers, which the ECS agent answers
// from the host too. The answer's ServiceName gives the task's kind, its
// ecs_service and availability-zone tags; it is kept for the task's life.
//
// It only reads: it never starts, stops or changes a container, and it
// sends the task metadata endpoint nothing but that GET.
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
	dockercontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/ecsmeta"
)

// The labels the ECS agent puts on every container it starts.
const (
	LabelTaskARN       = "com.amazonaws.ecs.task-arn"
	LabelCluster       = "com.amazonaws.ecs.cluster"
	LabelContainerName = "com.amazonaws.ecs.container-name"
	LabelFamily        = "com.amazonaws.ecs.task-definition-family"
	LabelVersion       = "com.amazonaws.ecs.task-definition-version"
)

// DefaultReconcile is how often a read lists the containers although the
// event stream is healthy.
const DefaultReconcile = time.Minute

// Engine is the part of the Docker Engine API the source uses;
// *client.Client implements it.
type Engine interface {
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerInspect(ctx context.Context, id string, options client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	Events(ctx context.Context, options client.EventsListOptions) client.EventsResult
}

// Source reads the ECS tasks of one Docker engine. Use New; call Close when
// done, to end the event stream. Tasks is not meant for concurrent use (the
// Runner calls it once per cycle); the stream runs beside it.
type Source struct {
	engine    Engine
	log       *slog.Logger
	now       func() time.Time
	reconcile time.Duration
	ctx       context.Context // bounds the event stream
	stop      context.CancelFunc

	mu       sync.Mutex
	watching bool                 // an event stream is open (or opening)
	synced   bool                 // the state reflects a full list made while the stream was open
	listedAt time.Time            // last list
	dirty    map[string]struct{}  // IDs an event named since their last inspect
	known    map[string]container // ID → what the last inspect said
	warned   map[string]struct{}  // IDs whose bad task ARN label was logged

	kinds *kinds // what each task's own metadata said; used by Tasks only
}

// container is what the last inspect said about a labelled container.
type container struct {
	taskARN, cluster, family, version string // the ECS agent's labels
	name                              string // task-definition container name
	runtimeName                       string
	image                             string
	running                           bool
	startedAt                         time.Time // zero if it never started
	// metadataURL is the container's ECS_CONTAINER_METADATA_URI_V4, the
	// one variable of its environment the source keeps: its task's own
	// metadata tells a service's task from a one-off.
	metadataURL string
}

// Option configures a Source.
type Option func(*Source)

// WithReconcile sets how often a read lists the containers although the
// event stream is healthy (DefaultReconcile by default).
func WithReconcile(d time.Duration) Option { return func(s *Source) { s.reconcile = d } }

// WithMetadataTimeout sets how long one read waits, at most, for the task
// metadata it asks (DefaultMetadataTimeout by default).
func WithMetadataTimeout(d time.Duration) Option { return func(s *Source) { s.kinds.timeout = d } }

// New returns a Source reading through engine, logging to log
// (slog.Default when nil).
func New(engine Engine, log *slog.Logger, opts ...Option) *Source {
	if log == nil {
		log = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Source{engine: engine, log: log, now: time.Now, reconcile: DefaultReconcile, ctx: ctx, stop: stop,
		dirty: map[string]struct{}{}, known: map[string]container{}, warned: map[string]struct{}{},
		kinds: newKinds(log)}
	for _, o := range opts {
		o(s)
	}
	return s
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

// Tasks returns the ECS tasks with at least one container on the engine,
// running or not (an exited init container still marks its task's start),
// each with its kind as far as its own metadata told it (see kinds.go).
func (s *Source) Tasks(ctx context.Context) ([]uptime.Task, error) {
	s.mu.Lock()
	if !s.watching && s.ctx.Err() == nil {
		// Open the stream before listing, from now on: the engine replays
		// what happens between now and the moment it is established, so
		// nothing between here and the list is missed.
		s.watching, s.synced = true, false
		go s.watch(s.now())
	}
	full := !s.synced
	list := full || s.now().Sub(s.listedAt) >= s.reconcile
	s.mu.Unlock()

	var ids []string
	if list {
		res, err := s.engine.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: labelled()})
		if err != nil {
			return nil, fmt.Errorf("list containers: %w", err)
		}
		ids = make([]string, len(res.Items))
		for i, c := range res.Items {
			ids[i] = c.ID
		}
	}
	if err := s.refresh(ctx, ids, list, full); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if list {
		s.listedAt = s.now()
		if full && s.watching {
			s.synced = true
		}
	}
	tasks, urls := s.group()
	s.mu.Unlock()
	s.kinds.learn(ctx, tasks, urls)
	return tasks, nil
}

// refresh inspects what needs it: every listed container on a full read,
// the listed ones not known yet, and those an event named. With a list,
// known containers it does not name are forgotten.
func (s *Source) refresh(ctx context.Context, listed []string, list, full bool) error {
	s.mu.Lock()
	todo := map[string]struct{}{}
	for id := range s.dirty {
		todo[id] = struct{}{}
	}
	clear(s.dirty) // an event arriving from here on marks its container again
	if list {
		in := make(map[string]struct{}, len(listed))
		for _, id := range listed {
			in[id] = struct{}{}
			if _, ok := s.known[id]; full || !ok {
				todo[id] = struct{}{}
			}
		}
		for id := range s.known {
			if _, ok := in[id]; !ok {
				delete(s.known, id)
			}
		}
		for id := range s.warned {
			if _, ok := in[id]; !ok {
				delete(s.warned, id)
			}
		}
	}
	s.mu.Unlock()

	for id := range todo {
		got, err := s.engine.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if errdefs.IsNotFound(err) {
			s.forget(id) // removed since it was listed or an event named it
			continue
		}
		if err == nil {
			var c container
			if c, err = inspected(got.Container); err == nil {
				s.mu.Lock()
				s.known[id] = c
				s.mu.Unlock()
				continue
			}
		}
		s.mu.Lock()
		for x := range todo { // not done: try again next read
			s.dirty[x] = struct{}{}
		}
		s.mu.Unlock()
		return fmt.Errorf("inspect container %s: %w", shortID(id), err)
	}
	return nil
}

func (s *Source) forget(id string) {
	s.mu.Lock()
	delete(s.known, id)
	s.mu.Unlock()
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
			// Every event, destroy included, only marks the container: the
			// next read inspects it, and an inspect that finds it gone
			// forgets it. Deleting it here instead would race with an
			// inspect already under way, whose stale "running" answer
			// could land after the destroy and outlive the container.
			s.mu.Lock()
			s.dirty[m.Actor.ID] = struct{}{}
			s.mu.Unlock()
		case err := <-res.Err:
			s.streamEnded(err)
			return
		}
	}
}

func (s *Source) streamEnded(err error) {
	s.mu.Lock()
	s.watching, s.synced = false, false
	s.mu.Unlock()
	if s.ctx.Err() == nil {
		s.log.Debug("docker event stream ended; the next read lists and inspects every container again", slog.Any("error", err))
	}
}

// inspected keeps what the source needs of an inspect answer.
func inspected(c dockercontainer.InspectResponse) (container, error) {
	out := container{runtimeName: strings.TrimPrefix(c.Name, "/")}
	if c.Config != nil {
		out.image = c.Config.Image
		l := c.Config.Labels
		out.taskARN, out.cluster, out.family, out.version, out.name =
			l[LabelTaskARN], l[LabelCluster], l[LabelFamily], l[LabelVersion], l[LabelContainerName]
	}
	if c.State == nil {
		return out, errors.New("State: missing in the engine's answer")
	}
	if c.Config != nil {
		for _, kv := range c.Config.Env {
			if v, ok := strings.CutPrefix(kv, ecsmeta.EnvVar+"="); ok {
				out.metadataURL = v
				break
			}
		}
	}
	out.running = c.State.Running && !c.State.Restarting // paused counts as running: the task still exists
	if c.State.StartedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, c.State.StartedAt)
		if err != nil {
			return out, fmt.Errorf("State.StartedAt=%q: want an RFC 3339 time: %w", c.State.StartedAt, err)
		}
		if t.Year() > 1 { // the engine says 0001-01-01T00:00:00Z for never started
			out.startedAt = t
		}
	}
	return out, nil
}

// group turns the known containers into tasks by their task ARN label,
// leaving out the containers the ECS agent adds (~internal~ecs…), and
// returns with them, per task ARN, the metadata URL of one of the task's
// containers (none for a task none of whose containers has one). A
// container whose task ARN label is not an ECS task ARN is left out with a
// warning, once: it was not started by the ECS agent. The caller holds s.mu.
func (s *Source) group() ([]uptime.Task, map[string]string) {
	byARN := map[string]*uptime.Task{}
	urls := map[string]string{}
	for id, c := range s.known {
		if uptime.AgentContainer("", c.name) {
			continue
		}
		t, ok := byARN[c.taskARN]
		if !ok {
			task, err := uptime.NewTask(c.taskARN, c.cluster)
			if err != nil {
				if _, done := s.warned[id]; !done {
					s.warned[id] = struct{}{}
					s.log.Warn("container has an ECS task label that is not a task ARN; left out",
						slog.String("container_id", shortID(id)), slog.String("label", LabelTaskARN), slog.Any("error", err))
				}
				continue
			}
			task.Family, task.Revision = c.family, c.version
			t = &task
			byARN[c.taskARN] = t
		}
		// The smallest URL, so that a task keeps asking the same one.
		if u := c.metadataURL; u != "" && (urls[c.taskARN] == "" || u < urls[c.taskARN]) {
			urls[c.taskARN] = u
		}
		t.Containers = append(t.Containers, uptime.Container{
			Name:        c.name,
			RuntimeName: c.runtimeName,
			ID:          id,
			Image:       c.image,
			Running:     c.running,
			StartedAt:   c.startedAt,
		})
	}
	tasks := make([]uptime.Task, 0, len(byARN))
	for _, t := range byARN {
		sort.Slice(t.Containers, func(i, j int) bool {
			a, b := t.Containers[i], t.Containers[j]
			return a.Name < b.Name || a.Name == b.Name && a.ID < b.ID
		})
		tasks = append(tasks, *t)
	}
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].ARN < tasks[j].ARN })
	return tasks, urls
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
