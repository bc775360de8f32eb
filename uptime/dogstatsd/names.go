// Package dogstatsd is the output that writes a cycle's signals (package
// uptime: gauges, service-check results, events) to the Datadog Agent over
// DogStatsD (UDP or a Unix-domain socket) through
// github.com/DataDog/datadog-go/v5. It owns the tag names of the contract
// in DESIGN.md: monitors, dashboards and task definitions take them from
// here.
//
// It reads no source, computes no uptime and judges nothing (the stages of
// the uptime.Pipeline do); it only tags and sends what it is handed.
package dogstatsd

import "ecs-uptime/uptime"

// Metric and service-check names, as package uptime names them for the
// stages.
const (
	MetricTaskUptime      = uptime.MetricTaskUptime
	MetricContainerUptime = uptime.MetricContainerUptime
	MetricTaskStatusAge   = uptime.MetricTaskStatusAge
	CheckTaskLifetime     = uptime.CheckTaskLifetime
	CheckFamilySingleton  = uptime.CheckFamilySingleton
	CheckTaskStuck        = uptime.CheckTaskStuck
)

// Task tag keys: Datadog's own ECS tag names, so that queries line up with
// the Agent's metrics.
const (
	TagTaskARN          = "task_arn"
	TagTaskName         = "task_name"
	TagTaskFamily       = "task_family"
	TagTaskVersion      = "task_version"
	TagClusterName      = "ecs_cluster_name"
	TagClusterARN       = "cluster_arn"
	TagRegion           = "region"
	TagAvailabilityZone = "availability-zone"
	TagAccount          = "aws_account"
	TagService          = "ecs_service"
	TagTaskKind         = "ecs_task_kind" // service, standalone or unknown (uptime.Kind)

	// The api source's own task tags.
	TagLaunchType       = "ecs_launch_type"
	TagCapacityProvider = "ecs_capacity_provider"
	TagStartedBy        = "started_by"

	// The status of a task in a status other than RUNNING (api source).
	TagTaskStatus = "ecs_task_status"
	// ecs_exec:enabled on a task with ECS Exec on (api source).
	TagExec = "ecs_exec"
)

// Container tag keys.
const (
	TagECSContainerName = "ecs_container_name"
	TagContainerName    = "container_name"
	TagContainerID      = "container_id"
	TagDockerImage      = "docker_image"
	TagImageName        = "image_name"
	TagShortImage       = "short_image"
	TagImageTag         = "image_tag"
)
