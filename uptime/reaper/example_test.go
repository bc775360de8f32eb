package reaper_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/reaper"
)

// printer stands for the DogStatsD output and for the api source's
// StopTask.
type printer struct{}

func (printer) Write(_ context.Context, s *uptime.Signals) error {
	for _, e := range s.Events {
		fmt.Printf("event (%s): %s\n", e.Alert, e.Title)
	}
	return nil
}

func (printer) StopTask(_ context.Context, t uptime.Task, reason string) error {
	fmt.Printf("StopTask %s: %q\n", t.ARN, reason)
	return nil
}

// A one-off task tagged ecs-uptime:max-lifetime=24h, seen over three
// cycles: the dry run announces it once; with ECS_UPTIME_STOP_TASKS=true it
// is stopped once, with events before and after.
func ExampleNew() {
	task := uptime.Task{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f0b9e8d7a4e31", Family: "db-migrate", Revision: "42",
		Cluster: "prod", StartedBy: "ci/deploy-1234", MaxLifetimeTag: "24h", HasMaxLifetimeTag: true}
	quiet := slog.New(slog.DiscardHandler)
	for _, stop := range []bool{false, true} {
		fmt.Println("ECS_UPTIME_STOP_TASKS:", stop)
		s := &uptime.Pipeline{Stages: []uptime.Stage{reaper.New(reaper.Policy{Stop: stop, Tag: "ecs-uptime:max-lifetime"}, quiet)},
			Output: printer{}, Stopper: printer{}}
		for _, up := range []time.Duration{23 * time.Hour, 26*time.Hour + 3*time.Minute, 27 * time.Hour} {
			s.Send(context.Background(), uptime.Cycle{Tasks: []uptime.TaskUptime{{Task: &task, Uptime: up}}})
		}
	}
	// Output:
	// ECS_UPTIME_STOP_TASKS: false
	// event (warning): would stop ECS task db-migrate:42 (…/5c2f0b9e…): ran 26h03m, max lifetime 24h
	// ECS_UPTIME_STOP_TASKS: true
	// event (info): stopping ECS task db-migrate:42 (…/5c2f0b9e…): ran 26h03m, max lifetime 24h
	// StopTask arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f0b9e8d7a4e31: "ecs-uptime: ran 26h03m, over its max lifetime 24h"
	// event (error): stopped ECS task db-migrate:42 (…/5c2f0b9e…): ran 26h03m, max lifetime 24h
}
