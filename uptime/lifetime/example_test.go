package lifetime_test

import (
	"fmt"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/lifetime"
)

// A Judge gives one verdict per task each cycle; Announce is set once per
// crossing, not every cycle.
func ExampleJudge() {
	j := lifetime.NewJudge(lifetime.Policy{Warning: 20 * time.Hour, Critical: 24 * time.Hour})
	task := uptime.Task{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f0b9e8d7a4e31", Family: "db-migrate", Revision: "42"}
	for _, up := range []time.Duration{19 * time.Hour, 21 * time.Hour, 26*time.Hour + 3*time.Minute, 27 * time.Hour} {
		v := j.Verdicts(uptime.Cycle{Tasks: []uptime.TaskUptime{{Task: &task, Uptime: up}}})[0]
		fmt.Printf("%-8s announce=%-5v %s\n", v.State, v.Announce, v.Message)
	}
	// Output:
	// OK       announce=false task db-migrate:42 (…/5c2f0b9e…) has run 19h, under 20h
	// WARNING  announce=true  task db-migrate:42 (…/5c2f0b9e…) has run 21h, over 20h
	// CRITICAL announce=true  task db-migrate:42 (…/5c2f0b9e…) has run 26h03m, over 24h
	// CRITICAL announce=false task db-migrate:42 (…/5c2f0b9e…) has run 27h, over 24h
}
