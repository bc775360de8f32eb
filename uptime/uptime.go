// Package uptime holds the domain of ecs-uptime: ECS tasks and their
// containers as a source reports them, the rules that turn start times into
// uptimes, and the run loop that reads a Source and hands each cycle's
// uptimes to a Sink.
//
// It knows nothing about where tasks come from (see uptime/ecsmeta and
// uptime/docker) or where uptimes go (see uptime/dogstatsd).
package uptime

import (
	"context"
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
	AvailabilityZone string // empty on older agents and in docker mode
	Service          string // ECS service name, empty for standalone tasks
	Containers       []Container
}

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

// Source reads the tasks to report. A read either succeeds completely or
// returns an error; a Source never returns a partial list with a nil error.
type Source interface {
	Tasks(ctx context.Context) ([]Task, error)
}

// Sink receives the uptimes of one cycle. It must have handed them to
// their destination (flushed) before Send returns.
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
