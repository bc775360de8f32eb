// Package singleton watches the task families of which at most one task
// should run at a time in a cluster (ECS_UPTIME_SINGLETONS: a database
// migration and the retry that CI started next to it). Each cycle it gives,
// per (cluster, family), the ecs.family.singleton verdict of DESIGN.md: OK
// with 0 or 1 running task, CRITICAL with 2 or more, a message naming the
// tasks that a phone shows whole, and whether the CRITICAL is an onset worth
// one event.
//
// Which clusters get a verdict: every cluster in which the Watch has seen a
// task of any family since the process started (docker source: the
// host's cluster; api source: every cluster read that has had a task),
// so that a family with no task at all still sends OK there and a monitor
// on the check does not go stale. A cluster the Watch has never seen a task
// in sends nothing, and a cluster is never forgotten while the process
// runs. A cluster that a partial read could not see (uptime.Cycle.Unread)
// gets no verdict that cycle and keeps its state.
//
// It only judges what one source saw: the host daemon sees one host, so two
// tasks of a family on two hosts are only caught by the api source or by a
// monitor over every task's series. A Watch is the pipeline stage
// (uptime.Stage) that turns the verdicts into the check and the onset
// events; it knows nothing about DogStatsD (an uptime.Output writes them)
// and keeps no clock: ages come from the uptime.Tracker.
package singleton

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/lifetime"
)

// Cluster identifies the cluster a verdict is about.
type Cluster = uptime.Cluster

func clusterOf(t *uptime.Task) Cluster { return uptime.ClusterOf(t) }

// Verdict is what one family amounts to in one cluster in one cycle.
type Verdict struct {
	Cluster Cluster
	Family  string
	State   lifetime.State      // lifetime.OK or lifetime.Critical
	Tasks   []uptime.TaskUptime // the family's running tasks in the cluster, oldest first
	Message string              // the service-check message
	// Onset is set on the first CRITICAL after an OK (or after the
	// process started): send one event with EventTitle and EventText. It
	// is not set while the state stays CRITICAL, nor on the way back.
	Onset bool
}

// AggregationKey groups the events of one family in one cluster:
// "arn:aws:ecs:eu-west-1:123456789012:cluster/prod/db-migrate". Neither a
// cluster name nor a family contains '/', so the key is unambiguous.
func (v Verdict) AggregationKey() string { return v.Cluster.Key() + "/" + v.Family }

// EventTitle is the title of the onset event: "2 tasks of db-migrate
// running in prod".
func (v Verdict) EventTitle() string {
	return fmt.Sprintf("%d tasks of %s running in %s", len(v.Tasks), v.Family, v.Cluster)
}

// maxEventText bounds the event text: Datadog cuts event texts at 4,000
// characters, and the tasks past the bound are counted, not listed.
const maxEventText = 3900

// EventText is the text of the onset event: the state and message, then
// one line per task with its full ARN, revision, age and started_by where
// known, then the cluster's ARN.
func (v Verdict) EventText() string {
	var b strings.Builder
	b.WriteString(v.State.String() + ": " + v.Message)
	var tail string
	if v.Cluster.ARN != "" {
		tail = "\ncluster_arn: " + v.Cluster.ARN
	}
	for i, t := range v.Tasks {
		line := fmt.Sprintf("\n- %s, %s, up %s", t.Task.ARN, revision(t.Task), lifetime.Age(t.Uptime))
		if t.Task.StartedBy != "" {
			line += ", started by " + t.Task.StartedBy
		}
		// Room for this line, the tail and the count of the rest.
		if b.Len()+len(line)+len(tail)+len("\n… and 100000 more") > maxEventText {
			fmt.Fprintf(&b, "\n… and %d more", len(v.Tasks)-i)
			break
		}
		b.WriteString(line)
	}
	b.WriteString(tail)
	return b.String()
}

func revision(t *uptime.Task) string {
	if t.Revision == "" {
		return t.Family
	}
	return t.Family + ":" + t.Revision
}

// Watch applies the at-most-one rule cycle after cycle. It remembers the
// clusters it has seen a task in and, per (cluster, family), whether the
// last verdict was CRITICAL, so that each onset gives one event. It starts
// with no memory: a restarted process announces a family that is already
// CRITICAL once. A Watch is not safe for concurrent use; the pipeline calls
// it once per cycle.
type Watch struct {
	families []string           // as configured, without repeats
	watched  map[string]bool    // the same, for lookups
	clusters map[string]Cluster // Cluster.Key → cluster
	critical map[pair]bool      // pairs whose last verdict was CRITICAL
}

type pair struct{ cluster, family string }

// New returns a Watch of the families (task definition family names, as in
// ECS_UPTIME_SINGLETONS); a family listed twice is watched once.
func New(families []string) *Watch {
	w := &Watch{watched: map[string]bool{}, clusters: map[string]Cluster{}, critical: map[pair]bool{}}
	for _, f := range families {
		if !w.watched[f] {
			w.watched[f] = true
			w.families = append(w.families, f)
		}
	}
	return w
}

// Families returns the watched families, in the order given to New.
func (w *Watch) Families() []string { return slices.Clone(w.families) }

// Judge adds to s, for the cycle, the ecs.family.singleton check of every
// (cluster, family) the Watch judges, and one event per onset of a
// CRITICAL, titled "2 tasks of db-migrate running in prod", with the
// cluster ARN and the family as aggregation key and the ARNs of the tasks
// it names in Event.Tasks (uptime.Stage).
func (w *Watch) Judge(c *uptime.Cycle, s *uptime.Signals) {
	for _, v := range w.Observe(*c) {
		about := uptime.Subject{Family: v.Family, Cluster: &v.Cluster}
		s.Checks = append(s.Checks, uptime.Check{Name: uptime.CheckFamilySingleton, Status: v.State, Message: v.Message, About: about})
		if v.Onset {
			arns := make([]string, len(v.Tasks))
			for i, t := range v.Tasks {
				arns[i] = t.Task.ARN
			}
			s.Events = append(s.Events, uptime.Event{Title: v.EventTitle(), Text: v.EventText(), Alert: uptime.AlertError,
				Key: v.AggregationKey(), At: s.At, About: about, Tasks: arns})
		}
	}
}

// Observe returns the verdicts of one cycle: one per watched family for
// each cluster seen so far and read this cycle, sorted by cluster key, then
// in the order of the families.
func (w *Watch) Observe(c uptime.Cycle) []Verdict {
	if len(w.families) == 0 {
		return nil
	}
	running := map[pair][]uptime.TaskUptime{}
	for _, t := range c.Tasks {
		cl := clusterOf(t.Task)
		key := cl.Key()
		w.clusters[key] = cl
		if w.watched[t.Task.Family] {
			p := pair{key, t.Task.Family}
			running[p] = append(running[p], t)
		}
	}
	keys := make([]string, 0, len(w.clusters))
	for key, cl := range w.clusters {
		if !unread(c.Unread, cl) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	out := make([]Verdict, 0, len(keys)*len(w.families))
	for _, key := range keys {
		for _, f := range w.families {
			p := pair{key, f}
			tasks := running[p]
			slices.SortFunc(tasks, oldestFirst)
			v := Verdict{Cluster: w.clusters[key], Family: f, State: lifetime.OK, Tasks: tasks}
			if len(tasks) > 1 {
				v.State = lifetime.Critical
				v.Onset = !w.critical[p]
				w.critical[p] = true
			} else {
				delete(w.critical, p)
			}
			v.Message = message(v)
			out = append(out, v)
		}
	}
	return out
}

func unread(parts []uptime.Unread, cl Cluster) bool {
	for _, u := range parts {
		if u.Covers(cl.Account, cl.Region, cl.Name) {
			return true
		}
	}
	return false
}

// oldestFirst orders tasks by age, the oldest first; tasks of one age by
// ARN, so that the message is the same from one cycle to the next.
func oldestFirst(a, b uptime.TaskUptime) int {
	if a.Uptime != b.Uptime {
		if a.Uptime > b.Uptime {
			return -1
		}
		return 1
	}
	return strings.Compare(a.Task.ARN, b.Task.ARN)
}

// The service-check message must read whole on a phone's lock screen:
// it names a few tasks and counts the rest, and cuts a long started_by
// (the event text has it whole).
const (
	maxMessageTasks = 3
	maxStartedBy    = 20
)

// message is the service-check message:
//
//	no task of db-migrate running in prod
//	1 task of db-migrate running in prod: …/5c2f0b9e… up 3h12m
//	2 tasks of db-migrate running in prod, want at most 1: …/5c2f0b9e… up 3h12m (by ci/1234); …/7a1b2c3d… up 45s
func message(v Verdict) string {
	var b strings.Builder
	switch len(v.Tasks) {
	case 0:
		fmt.Fprintf(&b, "no task of %s running in %s", v.Family, v.Cluster)
		return b.String()
	case 1:
		fmt.Fprintf(&b, "1 task of %s running in %s: ", v.Family, v.Cluster)
	default:
		fmt.Fprintf(&b, "%d tasks of %s running in %s, want at most 1: ", len(v.Tasks), v.Family, v.Cluster)
	}
	for i, t := range v.Tasks {
		if i == maxMessageTasks {
			fmt.Fprintf(&b, "; and %d more", len(v.Tasks)-maxMessageTasks)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s up %s", ShortID(t.Task.ARN), lifetime.Age(t.Uptime))
		if t.Task.StartedBy != "" {
			fmt.Fprintf(&b, " (by %s)", cut(t.Task.StartedBy, maxStartedBy))
		}
	}
	return b.String()
}

// ShortID names a task by the start of its ID, as lifetime.Name does:
// "…/5c2f0b9e…". Two tasks of a family are told apart by it.
func ShortID(taskARN string) string {
	id := taskARN[strings.LastIndexByte(taskARN, '/')+1:]
	return "…/" + cut(id, 8)
}

// cut shortens s to n runes, marking the cut with '…'.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
