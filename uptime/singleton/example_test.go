package singleton_test

import (
	"fmt"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/singleton"
)

// A Watch gives one verdict per (cluster, family) each cycle; Onset is set
// once when a second task starts, not while it runs, nor when it ends.
func ExampleWatch() {
	migration := func(id string, up time.Duration) uptime.TaskUptime {
		return uptime.TaskUptime{Uptime: up, Task: &uptime.Task{
			ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/" + id, Family: "db-migrate", Revision: "42",
			Cluster: "prod", ClusterARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", Region: "eu-west-1", Account: "123456789012"}}
	}
	w := singleton.New([]string{"db-migrate"})
	for _, tasks := range [][]uptime.TaskUptime{
		{migration("5c2f0b9e8d7a4e31", 3*time.Hour)},
		{migration("5c2f0b9e8d7a4e31", 3*time.Hour), migration("7a1b2c3d4e5f6071", 20*time.Second)},
		{migration("5c2f0b9e8d7a4e31", 3*time.Hour), migration("7a1b2c3d4e5f6071", 35*time.Second)},
		{migration("7a1b2c3d4e5f6071", 50*time.Second)},
	} {
		v := w.Observe(uptime.Cycle{Tasks: tasks})[0]
		fmt.Printf("%-8s onset=%-5v %s\n", v.State, v.Onset, v.Message)
	}
	// Output:
	// OK       onset=false 1 task of db-migrate running in prod: …/5c2f0b9e… up 3h
	// CRITICAL onset=true  2 tasks of db-migrate running in prod, want at most 1: …/5c2f0b9e… up 3h; …/7a1b2c3d… up 20s
	// CRITICAL onset=false 2 tasks of db-migrate running in prod, want at most 1: …/5c2f0b9e… up 3h; …/7a1b2c3d… up 35s
	// OK       onset=false 1 task of db-migrate running in prod: …/7a1b2c3d… up 50s
}
