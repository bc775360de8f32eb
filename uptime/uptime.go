// Package uptime holds the domain of ecs-uptime and the one-way path of a
// cycle through it:
//
//	Source → Tracker → Pipeline: Stages → Signals → Output
//
// A Source reads tasks (uptime/ecsmeta, uptime/docker, uptime/ecsapi); the
// Tracker applies the uptime rules of DESIGN.md and makes a Cycle; the
// Runner reads the Source every interval and hands the Cycle to a Sink,
// in production the Pipeline. The Pipeline runs the policy stages in order
// (Gauges here; the thresholds in uptime/lifetime, the singleton watch in
// uptime/singleton, the reaper in uptime/reaper, the stuck watch in
// uptime/stuck, the record of judged tasks that stop in
// uptime/stoprecord), each turning the cycle
// into signals (gauges, service-check results, events, stop requests:
// signal.go), then has an Output write them (uptime/dogstatsd) and a
// Stopper carry out the stop requests (the api source).
//
// It knows nothing about where tasks come from nor where signals go. No
// stage knows an output and no output judges: a new judgement is a new
// stage, a new destination a new Output writing the same signals.
package uptime

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Task is one ECS task as a source saw it in one read.
type Task struct {
	ARN              string // full task ARN, old or new format
	Family           string // task definition family
	Revision         string // task definition revision, as text ("42")
	Cluster          string // short cluster name
	ClusterARN       string // full cluster ARN, when the source knows it
	Region           string // from the task ARN
	Account          string // AWS account ID, from the task ARN
	AvailabilityZone string // empty on older agents, and in docker mode until the task's metadata answered
	Service          string // ECS service name, empty for standalone tasks
	Containers       []Container

	// StartedAt is the task's own start, for a source that knows no
	// container's (api: the task's startedAt, its PENDING→RUNNING
	// transition). A task with no containers and a StartedAt counts as
	// running while its Status does (see Running).
	StartedAt time.Time

	// Fields only the api source knows; empty elsewhere.
	LaunchType       string        // FARGATE, EC2 or EXTERNAL
	CapacityProvider string        // FARGATE_SPOT…, when the task has one
	StartedBy        string        // the task's startedBy: a CI job, a user's tool, ecs-svc/… for a service
	ResourceTags     []ResourceTag // the resource tags ECS_UPTIME_TASK_TAGS names, keys lowercased, sorted by key
	// MaxLifetimeTag is the value of the task's max-lifetime resource tag
	// (ECS_UPTIME_MAX_LIFETIME_TAG) and HasMaxLifetimeTag whether the task
	// carries that tag at all (an empty value is a bad value, not none).
	MaxLifetimeTag    string
	HasMaxLifetimeTag bool

	// Kind says whether the task belongs to an ECS service (DESIGN.md,
	// One-offs and service tasks); the zero value is KindUnknown.
	Kind Kind
	// KindPending is set while the source is still learning Kind (docker:
	// the task's own metadata has not answered yet, for fewer than 3
	// intervals): a task of unknown kind is judged only once this is false.
	KindPending bool

	// The task's lifecycle, as the api source knows it (DESIGN.md, Task
	// lifecycle); empty elsewhere. Status is the task's lastStatus
	// (PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING, STOPPING,
	// DEPROVISIONING, STOPPED); "" from a source that lists running tasks
	// only, and counts as RUNNING (see Running).
	Status     string
	CreatedAt  time.Time
	StoppingAt time.Time
	// Ending is how the task ended, once ECS says (a stop code, a reason,
	// a stop time); nil before, as for most tasks a cycle sees.
	Ending *Ending
	// CPU and Memory are the task-level size as ECS gives it (CPU units
	// such as "1024", memory in MiB such as "2048"); "" when the task has
	// none (an EC2 task sized per container).
	CPU, Memory string
	ExecEnabled bool // ECS Exec is on for the task
}

// Ending is how a task ended (the api source), apart from Task: most tasks
// of a read are running and have none, and a Task is kept per task.
type Ending struct {
	StoppedAt     time.Time
	StopCode      string          // ECS's stopCode: EssentialContainerExited, UserInitiated…
	StoppedReason string          // ECS's stoppedReason
	Exits         []ContainerExit // each container's exit, once the task stopped
}

// Kind is whether a task belongs to an ECS service.
type Kind string

// Task kinds, as the ecs_task_kind tag gives them.
const (
	KindUnknown    Kind = ""
	KindService    Kind = "service"
	KindStandalone Kind = "standalone"
)

// String is the kind as the ecs_task_kind tag gives it: "unknown" for
// KindUnknown.
func (k Kind) String() string {
	if k == KindUnknown {
		return "unknown"
	}
	return string(k)
}

// Task statuses that the uptime rules single out.
const (
	StatusRunning = "RUNNING"
	StatusStopped = "STOPPED"
	// StatusDeleted follows STOPPED for a moment: describe-tasks may show
	// it, and the task has ended as surely.
	StatusDeleted = "DELETED"
)

// Running reports whether the task's status is RUNNING, or unknown to its
// source (a source that lists running tasks only).
func (t *Task) Running() bool { return t.Status == "" || t.Status == StatusRunning }

// Stopped reports whether the task has ended: its status is STOPPED (or
// DELETED, which follows it).
func (t *Task) Stopped() bool { return t.Status == StatusStopped || t.Status == StatusDeleted }

// ContainerExit is how one of a stopped task's containers ended.
type ContainerExit struct {
	Name     string // name in the task definition
	ExitCode *int   // nil when the container never ran or ECS gives none
	Reason   string // ECS's reason, when it gives one
}

// ResourceTag is one of a task's AWS resource tags.
type ResourceTag struct{ Key, Value string }

// Container is one of a task's own containers (never one the ECS agent adds,
// see AgentContainer).
type Container struct {
	Name        string    // name in the task definition
	RuntimeName string    // name the container runtime knows it by
	ID          string    // runtime (Docker) ID
	Image       string    // image reference as in the task definition
	Running     bool      // the container runs now
	StartedAt   time.Time // current start; zero if it never started
}

// Source reads the tasks to report. A read does one of three things:
//   - it succeeds completely: every task, nil error;
//   - it fails: no task and an error; nothing is sent and nothing is
//     forgotten (the Tracker is not told);
//   - it reads some parts of what the source covers and not others (the
//     api source: one cluster denied, the others read): the tasks of the
//     parts it read, complete for those parts, and a *PartialError naming
//     the parts it could not read. Nothing is sent for the tasks of an
//     unread part and nothing about them is forgotten; a source that
//     could read no part at all returns a plain error instead.
//
// A Source never returns an incomplete list with a nil error.
type Source interface {
	Tasks(ctx context.Context) ([]Task, error)
}

// Unread is a part of what a Source covers that one read could not see:
// one cluster of a region; with Cluster empty, a whole region (its cluster
// list could not be read); with Region empty too, a whole account (the api
// source could not assume its role or list its regions). Account is the
// AWS account ID of the part; "" stands for every account the source
// reads, as from a source that reads one account without knowing its ID.
type Unread struct {
	Account string
	Region  string
	Cluster string // short cluster name; "" for the whole region
	Err     error  // why
}

// Covers reports whether a task of that account, region and short cluster
// name lies in the unread part.
func (u Unread) Covers(account, region, cluster string) bool {
	return (u.Account == "" || u.Account == account) &&
		(u.Region == "" || u.Region == region) &&
		(u.Cluster == "" || u.Cluster == cluster)
}

// Key names the part for logs and maps: "eu-west-1/prod", or "eu-west-1"
// for a whole region; with an account, "123456789012/eu-west-1/prod",
// "123456789012/eu-west-1", or "123456789012" for the whole account.
func (u Unread) Key() string {
	parts := make([]string, 0, 3)
	for _, p := range []string{u.Account, u.Region, u.Cluster} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/")
}

// PartialError is the error of a read that saw only part of what its
// Source covers (see Source). The tasks returned with it are complete for
// every part it does not name.
type PartialError struct {
	Unread []Unread
}

func (e *PartialError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d part(s) not read", len(e.Unread))
	for _, u := range e.Unread {
		fmt.Fprintf(&b, "; %s: %v", u.Key(), u.Err)
	}
	return b.String()
}

// Unwrap returns the error of each unread part.
func (e *PartialError) Unwrap() []error {
	errs := make([]error, 0, len(e.Unread))
	for _, u := range e.Unread {
		errs = append(errs, u.Err)
	}
	return errs
}

// Covers reports whether a task of that account, region and short cluster
// name lies in one of the unread parts.
func (e *PartialError) Covers(account, region, cluster string) bool {
	if e == nil {
		return false
	}
	for _, u := range e.Unread {
		if u.Covers(account, region, cluster) {
			return true
		}
	}
	return false
}

// Sink receives the uptimes of one cycle (the Pipeline is the Sink of
// every ecs-uptime process). It must have handed them to their
// destination (flushed) before Send returns.
type Sink interface {
	Send(ctx context.Context, c Cycle) error
}

// AgentContainer reports whether a container was added to the task by the
// ECS agent rather than defined by the user: a metadata Type other than
// NORMAL (CNI_PAUSE, NAMESPACE_PAUSE, EMPTY_HOST_VOLUME…), or, where no type
// is known (typ == ""), a task-definition name starting with ~internal~ecs.
// Such containers never count towards any uptime.
func AgentContainer(typ, name string) bool {
	if typ != "" {
		return typ != "NORMAL"
	}
	return len(name) >= len(internalPrefix) && name[:len(internalPrefix)] == internalPrefix
}

const internalPrefix = "~internal~ecs"
