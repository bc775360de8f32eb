package uptime_test

import (
	"fmt"
	"time"

	"ecs-uptime/uptime"
)

// A task's uptime runs from the earliest start of any of its own containers,
// even one that has exited, and survives container restarts.
func ExampleTracker() {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tr := uptime.NewTracker(func() time.Time { return now }, nil)
	task, _ := uptime.NewTask("arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f", "prod")
	task.Containers = []uptime.Container{
		{Name: "wait-for-db", StartedAt: now.Add(-26*time.Hour - 30*time.Second)}, // exited init container
		{Name: "migrate", Running: true, StartedAt: now.Add(-26 * time.Hour)},
	}
	c := tr.Observe([]uptime.Task{task})
	fmt.Println(c.Tasks[0].Uptime, c.Tasks[0].Containers[0].Container.Name, c.Tasks[0].Containers[0].Uptime)

	// The migrate container restarts: the task does not get younger.
	now = now.Add(time.Minute)
	task.Containers[1].StartedAt = now.Add(-time.Second)
	c = tr.Observe([]uptime.Task{task})
	fmt.Println(c.Tasks[0].Uptime, c.Tasks[0].Containers[0].Uptime)
	// Output:
	// 26h0m30s migrate 26h0m0s
	// 26h1m30s 1s
}
