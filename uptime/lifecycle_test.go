package uptime

import (
	"slices"
	"testing"
	"time"
)

// statusTask is a task as the api source reports it, with its lastStatus:
// started startedAgo before t0 (never when negative).
func statusTask(arn, cluster, status string, startedAgo time.Duration) Task {
	t := Task{ARN: arn, Family: "fam", Revision: "1", Region: "eu-west-1", Cluster: cluster, Status: status}
	if startedAgo >= 0 {
		t.StartedAt = t0.Add(-startedAgo)
	}
	return t
}

func othersOf(c Cycle) []string {
	var out []string
	for _, t := range c.Others {
		out = append(out, t.ARN+" "+t.Status)
	}
	return out
}

// Only a RUNNING task gets an uptime: one that has a startedAt but is
// stopping, or stopped, goes to Others with those that never started.
func TestTrackerStatuses(t *testing.T) {
	tests := []struct {
		name       string
		tasks      []Task
		wantUp     map[string]time.Duration
		wantOthers []string
	}{
		{
			name: "every status: RUNNING (or none) gets an uptime, the others are listed apart",
			tasks: []Task{
				statusTask("a", "prod", "PROVISIONING", never),
				statusTask("b", "prod", "PENDING", never),
				statusTask("c", "prod", "ACTIVATING", never),
				statusTask("d", "prod", "RUNNING", time.Hour),
				statusTask("e", "prod", "DEACTIVATING", 2*time.Hour),
				statusTask("f", "prod", "STOPPING", 2*time.Hour),
				statusTask("g", "prod", "DEPROVISIONING", 2*time.Hour),
				statusTask("h", "prod", "STOPPED", 3*time.Hour),
				statusTask("i", "prod", "DELETED", 3*time.Hour),
				statusTask("j", "prod", "", 4*time.Hour), // a source that lists running tasks only
			},
			wantUp: map[string]time.Duration{"d": time.Hour, "j": 4 * time.Hour},
			wantOthers: []string{"a PROVISIONING", "b PENDING", "c ACTIVATING", "e DEACTIVATING", "f STOPPING",
				"g DEPROVISIONING", "h STOPPED", "i DELETED"},
		},
		{
			name:       "a RUNNING task without startedAt is not reported",
			tasks:      []Task{statusTask("a", "prod", "RUNNING", never)},
			wantUp:     map[string]time.Duration{},
			wantOthers: []string{"a RUNNING"},
		},
		{
			name:       "a task of a source with containers, none running, is listed apart",
			tasks:      []Task{task("a", ctr("done", false, time.Hour)), task("b", ctr("x", true, time.Second))},
			wantUp:     map[string]time.Duration{"b": time.Second, "b/x": time.Second},
			wantOthers: []string{"a "},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewTracker((&clock{now: t0}).Now, nil).Observe(tc.tasks)
			if got := uptimes(c); !mapEqual(got, tc.wantUp) {
				t.Errorf("uptimes = %v, want %v", got, tc.wantUp)
			}
			if got := othersOf(c); !slices.Equal(got, tc.wantOthers) {
				t.Errorf("others = %v, want %v", got, tc.wantOthers)
			}
		})
	}
}

func mapEqual(a, b map[string]time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// A task moving through its statuses, cycle after cycle: PROVISIONING and
// PENDING send nothing, RUNNING sends its uptime from startedAt, stopping
// sends nothing again, and STOPPED forgets it. A task of a part a read
// could not see is held whatever its status, and one that stopped is not.
func TestTrackerLifecycle(t *testing.T) {
	clk := &clock{now: t0}
	tr := NewTracker(clk.Now, nil)
	denied := &PartialError{Unread: []Unread{{Region: "eu-west-1", Cluster: "batch"}}}
	type step struct {
		tasks      []Task
		partial    *PartialError
		wantUp     map[string]time.Duration
		wantOthers []string
		wantHeld   []string
	}
	steps := []step{
		{
			tasks: []Task{statusTask("m", "prod", "PROVISIONING", never), statusTask("p", "batch", "PENDING", never),
				statusTask("s", "batch", "DEACTIVATING", 5*time.Hour), statusTask("x", "batch", "STOPPED", 6*time.Hour)},
			wantUp:     map[string]time.Duration{},
			wantOthers: []string{"m PROVISIONING", "p PENDING", "s DEACTIVATING", "x STOPPED"},
		},
		{
			// batch unread: its pending and stopping tasks are held; the
			// stopped one was forgotten when it was seen STOPPED.
			tasks:      []Task{statusTask("m", "prod", "RUNNING", 30*time.Second)},
			partial:    denied,
			wantUp:     map[string]time.Duration{"m": time.Minute + 30*time.Second},
			wantOthers: nil,
			wantHeld:   []string{"p", "s"},
		},
		{
			// A later startedAt (re-described) never makes m younger; p
			// was held, then runs; the rest of batch was gone.
			tasks: []Task{statusTask("m", "prod", "RUNNING", 10*time.Second), statusTask("p", "batch", "RUNNING", time.Second),
				statusTask("s", "batch", "DEACTIVATING", 5*time.Hour)},
			wantUp:     map[string]time.Duration{"m": 2*time.Minute + 30*time.Second, "p": 2*time.Minute + time.Second},
			wantOthers: []string{"s DEACTIVATING"},
		},
		{
			tasks:      []Task{statusTask("m", "prod", "STOPPING", 10*time.Second), statusTask("s", "batch", "STOPPED", 5*time.Hour)},
			partial:    &PartialError{Unread: []Unread{{Region: "eu-west-1", Cluster: "other"}}},
			wantUp:     map[string]time.Duration{},
			wantOthers: []string{"m STOPPING", "s STOPPED"},
		},
		{
			// m stopped and s was forgotten: neither is held by an unread batch.
			tasks:      []Task{statusTask("m", "prod", "STOPPED", 10*time.Second)},
			partial:    denied,
			wantUp:     map[string]time.Duration{},
			wantOthers: []string{"m STOPPED"},
		},
	}
	for i, st := range steps {
		c := tr.ObservePartial(st.tasks, st.partial)
		if got := uptimes(c); !mapEqual(got, st.wantUp) {
			t.Errorf("cycle %d: uptimes = %v, want %v", i, got, st.wantUp)
		}
		if got := othersOf(c); !slices.Equal(got, st.wantOthers) {
			t.Errorf("cycle %d: others = %v, want %v", i, got, st.wantOthers)
		}
		if !slices.Equal(c.Held, st.wantHeld) {
			t.Errorf("cycle %d: held = %v, want %v", i, c.Held, st.wantHeld)
		}
		clk.now = clk.now.Add(time.Minute)
	}
	if len(tr.starts) != 0 {
		t.Errorf("the Tracker still knows %v after every task stopped or left", tr.starts)
	}
}
