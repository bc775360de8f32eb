// Package dogstatsd sends uptimes to the Datadog Agent over DogStatsD
// (UDP or a Unix-domain socket) through github.com/DataDog/datadog-go/v5.
// It owns the metric and tag names of the contract in DESIGN.md: monitors,
// dashboards and task definitions take them from here.
//
// It does not read any source and does not compute uptimes (see package
// uptime); it only names, tags and sends what a cycle holds.
package dogstatsd

// Metric and service-check names.
const (
	MetricTaskUptime      = "ecs.task.uptime"
	MetricContainerUptime = "ecs.container.uptime"
	CheckTaskLifetime     = "ecs.task.lifetime"
	CheckFamilySingleton  = "ecs.family.singleton"
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

	// The api source's own task tags.
	TagLaunchType       = "ecs_launch_type"
	TagCapacityProvider = "ecs_capacity_provider"
	TagStartedBy        = "started_by"
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
