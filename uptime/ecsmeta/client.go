// Package ecsmeta reads the ECS task metadata endpoint version 4
// ($ECS_CONTAINER_METADATA_URI_V4/task) and turns its answer into an
// uptime.Task. It is the source of the sidecar (ECS_UPTIME_SOURCE=ecs).
//
// It only reads: it needs no AWS credentials and knows nothing about
// DogStatsD or about how uptimes are computed.
package ecsmeta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"ecs-uptime/uptime"
)

// EnvVar is the variable the ECS agent sets in every container of a task
// (Fargate platform 1.4.0+, EC2 agent 1.39.0+) to the endpoint's base URL.
const EnvVar = "ECS_CONTAINER_METADATA_URI_V4"

// maxBody bounds what is read of one answer: a task's metadata is a few
// kilobytes per container; anything near this is not a metadata answer.
const maxBody = 4 << 20

// Client reads one task's metadata. The zero value is not usable: use New.
type Client struct {
	url      string
	http     *http.Client
	attempts int
	backoff  time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the HTTP client (whose Timeout bounds each attempt).
func WithHTTPClient(c *http.Client) Option { return func(cl *Client) { cl.http = c } }

// WithRetry sets how many attempts one read makes at most and the wait
// before the second one (doubled before each further attempt).
func WithRetry(attempts int, backoff time.Duration) Option {
	return func(cl *Client) { cl.attempts, cl.backoff = max(attempts, 1), backoff }
}

// New returns a client for the endpoint whose base URL is baseURL (the value
// of ECS_CONTAINER_METADATA_URI_V4). By default each attempt times out after
// 2 s and a read makes up to 3 attempts, 100 ms then 200 ms apart, retrying
// only what can pass (connection errors, 429 throttling, 5xx); the caller's
// context bounds the whole read.
func New(baseURL string, opts ...Option) (*Client, error) {
	if !strings.HasPrefix(baseURL, "http://") && !strings.HasPrefix(baseURL, "https://") {
		return nil, fmt.Errorf("%s=%q: want an http:// URL (the ECS agent sets it in every container)", EnvVar, baseURL)
	}
	c := &Client{
		url:      strings.TrimRight(baseURL, "/") + "/task",
		http:     &http.Client{Timeout: 2 * time.Second},
		attempts: 3,
		backoff:  100 * time.Millisecond,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// URL returns the address Tasks reads.
func (c *Client) URL() string { return c.url }

// Tasks reads the task metadata and returns the task, with the containers
// the ECS agent added (pause and other internal containers) left out. It
// implements uptime.Source.
func (c *Client) Tasks(ctx context.Context) ([]uptime.Task, error) {
	t, err := c.Task(ctx)
	if err != nil {
		return nil, err
	}
	return []uptime.Task{t}, nil
}

// Task reads the task metadata and returns the task, as Tasks does. Its
// Kind is service when the metadata names a service (ServiceName), else
// standalone.
func (c *Client) Task(ctx context.Context) (uptime.Task, error) {
	var meta taskMetadata
	wait := c.backoff
	var err error
	for attempt := 1; ; attempt++ {
		var retry bool
		retry, err = c.get(ctx, &meta)
		if err == nil {
			break
		}
		if !retry || attempt >= c.attempts {
			return uptime.Task{}, err
		}
		select {
		case <-ctx.Done():
			return uptime.Task{}, fmt.Errorf("%w (gave up: %w)", err, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
	task, err := meta.task()
	if err != nil {
		return uptime.Task{}, fmt.Errorf("task metadata %s: %w", c.url, err)
	}
	return task, nil
}

// get makes one attempt; retry says whether another attempt could succeed.
func (c *Client) get(ctx context.Context, into *taskMetadata) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return false, fmt.Errorf("task metadata %s: %w", c.url, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return ctx.Err() == nil, fmt.Errorf("read task metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		retry = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		return retry, fmt.Errorf("task metadata %s: HTTP %d: %s", c.url, resp.StatusCode, strings.TrimSpace(string(snippet)))
	}
	*into = taskMetadata{}
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxBody))
	if err := dec.Decode(into); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return true, fmt.Errorf("task metadata %s: truncated answer: %w", c.url, err)
		}
		return false, fmt.Errorf("task metadata %s: not the v4 task JSON: %w", c.url, err)
	}
	return false, nil
}

// taskMetadata holds the fields of the v4 /task answer that ecs-uptime uses.
// Absent fields stay empty: no AvailabilityZone on older agents, no
// ServiceName nor Group for standalone tasks or agents before 1.63.1, no
// StartedAt while a container is PULLED or CREATED.
type taskMetadata struct {
	Cluster          string              `json:"Cluster"`
	TaskARN          string              `json:"TaskARN"`
	Family           string              `json:"Family"`
	Revision         string              `json:"Revision"`
	ServiceName      string              `json:"ServiceName"`
	Group            string              `json:"Group"`
	AvailabilityZone string              `json:"AvailabilityZone"`
	Containers       []containerMetadata `json:"Containers"`
}

type containerMetadata struct {
	DockerID    string    `json:"DockerId"`
	Name        string    `json:"Name"`
	DockerName  string    `json:"DockerName"`
	Image       string    `json:"Image"`
	KnownStatus string    `json:"KnownStatus"`
	Type        string    `json:"Type"`
	StartedAt   time.Time `json:"StartedAt"`
}

func (m *taskMetadata) task() (uptime.Task, error) {
	if m.TaskARN == "" {
		return uptime.Task{}, errors.New("field TaskARN is missing or empty")
	}
	t, err := uptime.NewTask(m.TaskARN, m.Cluster)
	if err != nil {
		return uptime.Task{}, fmt.Errorf("field TaskARN: %w", err)
	}
	t.Family, t.Revision = m.Family, m.Revision
	t.Service, t.AvailabilityZone = m.ServiceName, m.AvailabilityZone
	if svc, ok := strings.CutPrefix(m.Group, "service:"); ok && t.Service == "" {
		t.Service = svc
	}
	// ServiceName (and Group, service:NAME) are there for a service's task
	// where the endpoint gives them (on EC2, agent 1.63.1 and later; on
	// Fargate, recent platforms); where they are missing every task looks
	// standalone: judged, the side that never misses a forgotten one-off.
	t.Kind = uptime.KindStandalone
	if t.Service != "" {
		t.Kind = uptime.KindService
	}
	t.Containers = make([]uptime.Container, 0, len(m.Containers))
	for _, c := range m.Containers {
		if uptime.AgentContainer(c.Type, c.Name) {
			continue
		}
		t.Containers = append(t.Containers, uptime.Container{
			Name:        c.Name,
			RuntimeName: c.DockerName,
			ID:          c.DockerID,
			Image:       c.Image,
			Running:     c.KnownStatus == "RUNNING",
			StartedAt:   c.StartedAt,
		})
	}
	return t, nil
}
