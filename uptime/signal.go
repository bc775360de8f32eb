package uptime

import (
	"context"
	"fmt"
	"time"
)

// Metric and service-check names of the contract (DESIGN.md). The stages
// name what they judge with them; an output writes them as they are.
const (
	MetricTaskUptime      = "ecs.task.uptime"
	MetricContainerUptime = "ecs.container.uptime"
	MetricTaskStatusAge   = "ecs.task.status_age"
	CheckTaskLifetime     = "ecs.task.lifetime"
	CheckFamilySingleton  = "ecs.family.singleton"
	CheckTaskStuck        = "ecs.task.stuck"
)

// Status is a service-check status, numbered as DogStatsD numbers them.
type Status int

// Statuses.
const (
	OK       Status = 0
	Warning  Status = 1
	Critical Status = 2
)

func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Alert is the alert type of an event, as Datadog's event monitors and
// the event stream filter on it.
type Alert string

// Alert types.
const (
	AlertInfo    Alert = "info"
	AlertWarning Alert = "warning"
	AlertError   Alert = "error"
	AlertSuccess Alert = "success"
)

// Cluster identifies a cluster that a signal is about.
type Cluster struct {
	ARN     string // cluster ARN, when the source knows it
	Name    string // short name; "" when the source knows none
	Region  string
	Account string
}

// ClusterOf returns the cluster a task runs in.
func ClusterOf(t *Task) Cluster {
	return Cluster{ARN: t.ClusterARN, Name: t.Cluster, Region: t.Region, Account: t.Account}
}

// Key is the cluster's identity: its ARN when known, else region and short
// name ("eu-west-1/prod"), which stand for it.
func (c Cluster) Key() string {
	if c.ARN != "" {
		return c.ARN
	}
	return c.Region + "/" + c.Name
}

// String is how messages name the cluster: its short name, or its region
// when no name is known.
func (c Cluster) String() string {
	if c.Name != "" {
		return c.Name
	}
	if c.Region != "" {
		return "an unnamed cluster in " + c.Region
	}
	return "an unnamed cluster"
}

// Subject is what a signal is about; an output turns it into tags. Exactly
// one of Task and Family is set.
type Subject struct {
	Task      *Task      // a task: the task tags
	Container *Container // with Task: one of its containers, the container tags too
	Status    string     // with Task: the ecs_task_status tag, for a status other than RUNNING
	Family    string     // a task family in Cluster (ecs.family.singleton)
	// Cluster is the family's cluster, with Family. A pointer: a cycle
	// has a gauge and a check per task, whose Subject it would make 56
	// bytes larger.
	Cluster *Cluster
}

// Gauge is one value of a metric.
type Gauge struct {
	Name  string
	Value float64
	About Subject
}

// Check is one service-check result, at Signals.At.
type Check struct {
	Name    string
	Status  Status
	Message string // one line; an output makes it safe for its field
	About   Subject
}

// Event is one event. Its aggregation key groups the events about one
// thing in Datadog (a task's ARN; a cluster ARN and family).
type Event struct {
	Title string // one line; an output makes it safe for its field
	Text  string // may span lines
	Alert Alert
	Key   string    // aggregation key, as the stage names it; an output makes it one Datadog keeps
	At    time.Time // zero: when the Agent receives it
	About Subject
	// Tasks are the ARNs of the tasks an event about a family names (the
	// singleton onset), so that a later stage knows which tasks it judged;
	// an event about one task names it in About.Task. An output sends
	// nothing of it.
	Tasks []string
}

// StopRequest asks that a task be stopped (the api source's StopTask).
// Once the cycle's signals are written, the Pipeline writes Announce, asks
// the Stopper, calls Done with the outcome (nil: ECS accepted the stop)
// and writes the events Done returns; ctx is the cycle's, done when the
// process shuts down. A request that shutdown keeps from going out is
// neither announced nor given to Done.
type StopRequest struct {
	Task     Task
	Reason   string
	Announce []Event
	Done     func(ctx context.Context, err error) []Event
}

// Signals are what the stages make of one cycle, in the order the stages
// added them, for an Output to write.
type Signals struct {
	At     time.Time
	Gauges []Gauge
	Checks []Check
	Events []Event
	Stops  []StopRequest
	// Exit, when set, ends the process once the signals are written: an
	// error that wraps ErrStop (the own task reached its max lifetime).
	Exit error
}

// Stage is one policy: it judges a cycle into signals (appending to s). It
// may narrow c for the stages after it (take out a task that must send
// nothing), and it keeps whatever state it needs from one cycle to the
// next: a task that c neither lists nor holds (Cycle.Held) is gone. Stages
// run in order, one cycle at a time.
type Stage interface {
	Judge(c *Cycle, s *Signals)
}

// Output writes signals to their destination and has handed them over
// (flushed) when Write returns. It judges nothing.
type Output interface {
	Write(ctx context.Context, s *Signals) error
}

// Stopper asks that a task be stopped (ecsapi.Source implements it). A nil
// error means the request was accepted; the task may run a while longer.
type Stopper interface {
	StopTask(ctx context.Context, t Task, reason string) error
}
