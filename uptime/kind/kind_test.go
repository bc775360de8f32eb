package kind_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/kind"
	"ecs-uptime/uptime/lifetime"
)

func task(arn string, k uptime.Kind, pending bool) uptime.TaskUptime {
	return uptime.TaskUptime{Task: &uptime.Task{ARN: arn, Kind: k, KindPending: pending}, Uptime: 30 * time.Hour}
}

// Each kind under each policy: kept and judged, kept and reported only, or
// taken out of the cycle.
func TestScope(t *testing.T) {
	cycle := func() uptime.Cycle {
		return uptime.Cycle{Tasks: []uptime.TaskUptime{
			task("svc", uptime.KindService, false),
			task("one-off", uptime.KindStandalone, false),
			task("learning", uptime.KindUnknown, true),
			task("unknown", uptime.KindUnknown, false),
		}, Held: []string{"held"}}
	}
	tests := []struct {
		policy     kind.Policy
		kept       []string
		reportOnly []string
	}{
		{kind.Report, []string{"svc", "one-off", "learning", "unknown"}, []string{"svc", "learning"}},
		{"", []string{"svc", "one-off", "learning", "unknown"}, []string{"svc", "learning"}},
		{kind.Judge, []string{"svc", "one-off", "learning", "unknown"}, []string{"learning"}},
		{kind.Skip, []string{"one-off", "learning", "unknown"}, []string{"learning"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.policy), func(t *testing.T) {
			c := cycle()
			before := c.Tasks
			var s uptime.Signals
			kind.Scope{Services: tc.policy}.Judge(&c, &s)
			var kept, reportOnly []string
			for _, tu := range c.Tasks {
				kept = append(kept, tu.Task.ARN)
				if tu.ReportOnly {
					reportOnly = append(reportOnly, tu.Task.ARN)
				}
			}
			if !slices.Equal(kept, tc.kept) || !slices.Equal(reportOnly, tc.reportOnly) {
				t.Errorf("kept %q, reported only %q; want %q and %q", kept, reportOnly, tc.kept, tc.reportOnly)
			}
			if len(s.Gauges)+len(s.Checks)+len(s.Events)+len(s.Stops) > 0 {
				t.Errorf("the stage added signals: %+v", s)
			}
			if !slices.Equal(c.Held, []string{"held"}) {
				t.Errorf("Held = %q, want it untouched", c.Held)
			}
			// Narrowing makes a new slice: what earlier stages point to
			// stays as it was.
			if len(c.Tasks) < len(before) && before[0].Task.ARN != "svc" {
				t.Errorf("the cycle's slice was filtered in place: %q", before[0].Task.ARN)
			}
		})
	}
}

// The stage first in a pipeline: under report, a service's task running
// for 30 hours keeps its gauge and is judged on nothing, while the one-off
// gets its check.
func ExampleScope() {
	c := uptime.Cycle{Tasks: []uptime.TaskUptime{
		task("web", uptime.KindService, false),
		task("db-migrate", uptime.KindStandalone, false),
	}}
	s := uptime.Signals{}
	for _, st := range []uptime.Stage{
		kind.Scope{Services: kind.Report},
		uptime.Gauges{},
		lifetime.NewJudge(lifetime.Policy{Critical: 24 * time.Hour}),
	} {
		st.Judge(&c, &s)
	}
	for _, g := range s.Gauges {
		fmt.Printf("gauge %s %s %.0f\n", g.Name, g.About.Task.ARN, g.Value)
	}
	for _, ch := range s.Checks {
		fmt.Printf("check %s %s %s\n", ch.Name, ch.About.Task.ARN, ch.Status)
	}
	// Output:
	// gauge ecs.task.uptime web 108000
	// gauge ecs.task.uptime db-migrate 108000
	// check ecs.task.lifetime db-migrate CRITICAL
}
