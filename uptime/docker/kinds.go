package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/ecsmeta"
)

// DefaultMetadataTimeout bounds, per read, the wait for the task metadata
// that the read asks: a slow ECS agent must not hold the cycle.
const DefaultMetadataTimeout = 2 * time.Second

const (
	// metadataPerRead is the most task metadata requests one read starts:
	// under the burst the ECS agent allows (ECS_TASK_METADATA_RPS_LIMIT,
	// 40 per second steady, 60 burst by default), so that a host daemon
	// that starts on a busy host is not throttled. The tasks left over are
	// asked by the next reads.
	metadataPerRead = 40
	// metadataConcurrency is how many of them are in flight at once.
	metadataConcurrency = 4
	// pendingReads is how many reads in a row a task's metadata may fail
	// before its kind is judged unknown for good (until it answers).
	pendingReads = 3
	// maxSkip is the most reads let pass between two requests for a task
	// whose metadata keeps failing: asked again the next read, then 2, 4
	// and from then on 8 reads later.
	maxSkip = 7
)

// kinds learns each task's kind, service and availability zone from the
// task's own metadata, and remembers them per task ARN while the engine
// lists the task. It is used by one read at a time.
type kinds struct {
	log     *slog.Logger
	http    *http.Client
	timeout time.Duration
	tasks   map[string]*taskMeta // task ARN → what its metadata said
}

// taskMeta is what the source knows of one task's metadata.
type taskMeta struct {
	arn, url    string
	answered    bool
	kind        uptime.Kind
	service, az string
	fails       int  // requests failed in a row
	failedReads int  // reads since the first of those failures
	skip        int  // reads to let pass before the next request
	logged      bool // the failure was logged; its end will be too
}

func newKinds(log *slog.Logger) *kinds {
	return &kinds{log: log, http: &http.Client{}, timeout: DefaultMetadataTimeout, tasks: map[string]*taskMeta{}}
}

// learn sets Kind, KindPending, Service and AvailabilityZone on each task
// of a read, asking the metadata of the tasks that need it (urls: task ARN
// → a container's ECS_CONTAINER_METADATA_URI_V4), and forgets the tasks the
// read no longer lists. A task with no URL is of unknown kind at once (not
// pending); one whose metadata has not answered is pending until it has
// failed for pendingReads reads in a row.
func (k *kinds) learn(ctx context.Context, tasks []uptime.Task, urls map[string]string) {
	listed := make(map[string]bool, len(tasks))
	var due []*taskMeta
	for i := range tasks {
		arn := tasks[i].ARN
		listed[arn] = true
		m := k.tasks[arn]
		if m == nil {
			m = &taskMeta{arn: arn}
			k.tasks[arn] = m
		}
		m.url = urls[arn]
		switch {
		case m.answered || m.url == "" || !running(tasks[i]):
			// A task none of whose containers runs sends nothing: its
			// exited containers may outlive it for hours (the agent's
			// cleanup wait), and it is not worth a request.
		case m.skip > 0:
			m.skip--
		case len(due) < metadataPerRead:
			due = append(due, m)
		}
	}
	for arn := range k.tasks {
		if !listed[arn] {
			delete(k.tasks, arn)
		}
	}
	k.ask(ctx, due)
	for i := range tasks {
		t := &tasks[i]
		m := k.tasks[t.ARN]
		if m.answered {
			t.Kind, t.Service, t.AvailabilityZone = m.kind, m.service, m.az
			continue
		}
		if m.fails > 0 {
			m.failedReads++
		}
		t.Kind = uptime.KindUnknown
		t.KindPending = m.url != "" && m.failedReads < pendingReads
	}
}

func running(t uptime.Task) bool {
	for _, c := range t.Containers {
		if c.Running {
			return true
		}
	}
	return false
}

// ask requests the metadata of the due tasks, concurrently, within
// k.timeout, and records each answer or failure. A request that the
// read's own end (shutdown, the cycle's deadline) cut short is not
// counted as a failure, nor is one that the timeout kept from starting;
// an answer is kept even when the read ends right after it.
func (k *kinds) ask(ctx context.Context, due []*taskMeta) {
	if len(due) == 0 {
		return
	}
	actx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	type result struct {
		task  uptime.Task
		err   error
		asked bool
	}
	results := make([]result, len(due))
	sem := make(chan struct{}, metadataConcurrency)
	var wg sync.WaitGroup
	for i, m := range due {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-actx.Done():
				return
			}
			defer func() { <-sem }()
			results[i].task, results[i].err = k.fetch(actx, m.url)
			results[i].asked = true
		})
	}
	wg.Wait()
	for i, m := range due {
		r := results[i]
		if !r.asked {
			continue
		}
		if r.err != nil && ctx.Err() != nil && (errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded)) {
			// Cut short by the read's own end (shutdown, or the cycle's
			// deadline on a loaded host): no failure. An answer that came
			// in time is kept whatever happened to the read after it.
			continue
		}
		if r.err == nil && r.task.ARN != m.arn {
			r.err = fmt.Errorf("task metadata %s answers for another task, %s", m.url, r.task.ARN)
		}
		if r.err != nil {
			k.failed(m, r.err)
			continue
		}
		if m.logged {
			k.log.Info("task metadata answers again; the task's kind is known",
				slog.String("task_arn", m.arn), slog.String("ecs_task_kind", r.task.Kind.String()), slog.Int("failed_reads", m.failedReads))
		}
		*m = taskMeta{arn: m.arn, url: m.url, answered: true, kind: r.task.Kind, service: r.task.Service, az: r.task.AvailabilityZone}
	}
}

// failed records a failed request for a task and schedules the next one:
// the next read after the first failure, then 1, 3 and up to maxSkip reads
// later. The first failure of a run of them is logged.
func (k *kinds) failed(m *taskMeta, err error) {
	m.fails++
	m.skip = maxSkip
	if m.fails <= 3 {
		m.skip = 1<<(m.fails-1) - 1
	}
	if !m.logged {
		m.logged = true
		k.log.Warn("cannot read the task's own metadata: its ecs_task_kind stays unknown, and from its third failed interval it is judged as a one-off; asking again with backoff",
			slog.String("task_arn", m.arn), slog.String("url", m.url), slog.Any("error", err))
	}
}

// fetch reads one task's metadata with one request: the backoff across
// reads does the retrying.
func (k *kinds) fetch(ctx context.Context, url string) (uptime.Task, error) {
	c, err := ecsmeta.New(url, ecsmeta.WithHTTPClient(k.http), ecsmeta.WithRetry(1, 0))
	if err != nil {
		return uptime.Task{}, err
	}
	return c.Task(ctx)
}
