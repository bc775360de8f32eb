package uptime

import (
	"log/slog"
	"sort"
	"time"
	"unique"
)

// Cycle is what one successful read of the Source amounts to: the uptime of
// every running task (Task.Running with at least one running container, or
// the task's own start where the source knows no container's), at one
// instant, and the other tasks the read saw.
type Cycle struct {
	At    time.Time
	Tasks []TaskUptime
	// Others are the tasks this read saw that get no uptime: not running
	// yet or any more (the api source: PROVISIONING, DEACTIVATING, STOPPED
	// once…; a source that lists containers: a task none of whose own
	// containers runs), sorted by ARN. The stages that judge a task's
	// lifecycle read them; a task is in Tasks or in Others, never both.
	Others []Task
	// Unread lists the parts of the source this read could not see (a
	// partial read), and Held the ARNs of the tasks known from earlier
	// reads that lie in those parts. Nothing is sent for them this cycle,
	// and whoever keeps per-task state (events announced, stops asked)
	// must not forget them: they come back with the next good read.
	Unread []Unread
	Held   []string
}

// TaskUptime is a task and its age at Cycle.At. Task points at the task
// in the read the Tracker observed: a cycle holds each task once (at
// 10,000 tasks a copy was 5 MB more at the peak). No stage changes it.
type TaskUptime struct {
	Task       *Task
	Uptime     time.Duration     // now minus the earliest start ever seen for the task ARN
	Containers []ContainerUptime // running containers with a start time only
	// ReportOnly is set by the stage that scopes judgement (uptime/kind:
	// a service's task under ECS_UPTIME_SERVICE_TASKS=report, a task whose
	// kind its source is still learning): the stages after it report the
	// task (its gauges, and the singleton watch counts it) but judge
	// nothing about it: no ecs.task.lifetime check, no threshold event, no
	// stop.
	ReportOnly bool
}

// ContainerUptime is a running container and the time since its current start.
type ContainerUptime struct {
	Container Container
	Uptime    time.Duration
}

// Tracker applies the uptime rules of DESIGN.md to successive reads. It
// remembers, per task ARN, the earliest start of any of the task's own
// containers (or the task's own start, where the source knows no
// container's), so that a container restart never makes a task look
// younger, and it forgets a task once a read that covered its part no
// longer lists it, or lists it STOPPED. It remembers every other task it
// is shown too, whatever its status, so that a task of a part a later read
// could not see is held (Cycle.Held) and not forgotten by the stages.
//
// A Tracker is not safe for concurrent use; the Runner owns one.
type Tracker struct {
	now    func() time.Time
	log    *slog.Logger
	starts map[string]known // task ARN → earliest start seen (zero: none yet), and where
	skewed map[string]bool  // task ARNs whose future start was logged
}

// known is what the Tracker keeps of a task between reads: 32 bytes, the
// part of the source it lies in being shared by every task of that part
// (unique), for the tens of thousands of tasks the api source may read.
type known struct {
	start time.Time
	part  unique.Handle[part]
}

// part is the account, region and short cluster name a task lies in.
type part struct{ account, region, cluster string }

// NewTracker returns a Tracker that reads the clock through now (time.Now
// when nil) and logs clock skew to log (slog.Default when nil).
func NewTracker(now func() time.Time, log *slog.Logger) *Tracker {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Tracker{now: now, log: log, starts: map[string]known{}, skewed: map[string]bool{}}
}

// Observe turns one successful read into a Cycle. Call it only with a read
// that succeeded: a failed read must not be observed, so that nothing is
// forgotten and nothing is sent.
func (t *Tracker) Observe(tasks []Task) Cycle { return t.ObservePartial(tasks, nil) }

// ObservePartial turns a read into a Cycle, as Observe does, for a read
// that may have seen only part of its source: a task known from earlier
// reads that lies in a part p names is neither forgotten nor sent; it is
// listed in Cycle.Held. A nil p is a complete read.
func (t *Tracker) ObservePartial(tasks []Task, p *PartialError) Cycle {
	now := t.now()
	c := Cycle{At: now, Tasks: make([]TaskUptime, 0, len(tasks))}
	if p != nil {
		c.Unread = p.Unread
	}
	seen := make(map[string]struct{}, len(tasks))
	for i := range tasks {
		task := &tasks[i]
		seen[task.ARN] = struct{}{}
		if task.Stopped() {
			// Stopped: nothing about it comes back, so it is forgotten
			// now, as a task that is no longer listed would be.
			delete(t.starts, task.ARN)
			delete(t.skewed, task.ARN)
			c.Others = append(c.Others, *task)
			continue
		}
		earliest := t.starts[task.ARN].start
		note := func(start time.Time) {
			if earliest.IsZero() || start.Before(earliest) {
				earliest = start
			}
		}
		running := 0
		for _, ctr := range task.Containers {
			if ctr.StartedAt.IsZero() {
				continue
			}
			note(ctr.StartedAt)
			if ctr.Running {
				running++
			}
		}
		if !task.StartedAt.IsZero() {
			note(task.StartedAt)
			if len(task.Containers) == 0 {
				running++ // a source without containers: the task's status says
			}
		}
		t.starts[task.ARN] = known{start: earliest, part: unique.Make(part{task.Account, task.Region, task.Cluster})}
		if running == 0 || !task.Running() {
			c.Others = append(c.Others, *task)
			continue
		}
		skewed := false
		tu := TaskUptime{Task: task, Uptime: t.since(now, earliest, task.ARN, "", &skewed), Containers: make([]ContainerUptime, 0, len(task.Containers))}
		for _, ctr := range task.Containers {
			if ctr.Running && !ctr.StartedAt.IsZero() {
				tu.Containers = append(tu.Containers, ContainerUptime{Container: ctr, Uptime: t.since(now, ctr.StartedAt, task.ARN, ctr.ID, &skewed)})
			}
		}
		if !skewed && t.skewed[task.ARN] {
			// The end of the skew is a change of state too, and the
			// next skew must be logged again.
			delete(t.skewed, task.ARN)
			t.log.Info("start times are no longer in the future; the clock caught up", slog.String("task_arn", task.ARN))
		}
		c.Tasks = append(c.Tasks, tu)
	}
	for arn, k := range t.starts {
		if _, ok := seen[arn]; ok {
			continue
		}
		if where := k.part.Value(); p.Covers(where.account, where.region, where.cluster) {
			c.Held = append(c.Held, arn)
			continue
		}
		delete(t.starts, arn)
		delete(t.skewed, arn)
	}
	sort.Slice(c.Tasks, func(i, j int) bool { return c.Tasks[i].Task.ARN < c.Tasks[j].Task.ARN })
	sort.Slice(c.Others, func(i, j int) bool { return c.Others[i].ARN < c.Others[j].ARN })
	sort.Strings(c.Held)
	return c
}

// since returns now-start, or 0 for a start in the future (clock skew
// between this host and the one that stamped the start, or a clock stepped
// back), setting *skewed and logging that once per task until it ends.
func (t *Tracker) since(now, start time.Time, taskARN, containerID string, skewed *bool) time.Duration {
	d := now.Sub(start)
	if d >= 0 {
		return d
	}
	*skewed = true
	if !t.skewed[taskARN] {
		t.skewed[taskARN] = true
		t.log.Warn("start time is in the future (clock skew); reporting 0 until the clock catches up",
			slog.String("task_arn", taskARN), slog.String("container_id", containerID),
			slog.Time("started_at", start), slog.Duration("ahead_by", -d))
	}
	return 0
}
