package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c, err := Load(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != SourceAuto || c.Interval != 15*time.Second || c.ContainerMetrics || c.Warning != 0 ||
		c.Critical != 24*time.Hour || c.MaxLifetime != 0 || c.LogLevel != "info" || c.LogFormat != "json" || c.HealthPort != 18125 ||
		c.ServiceTasks != ServiceTasksReport {
		t.Errorf("defaults = %+v", c)
	}
	if got := c.AgentAddr(); got != "localhost:8125" {
		t.Errorf("AgentAddr = %q, want localhost:8125", got)
	}
}

func TestAgentAddr(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"DD_AGENT_HOST": "172.17.0.1"}, "172.17.0.1:8125"},
		{map[string]string{"DD_AGENT_HOST": "172.17.0.1", "DD_DOGSTATSD_PORT": "18125"}, "172.17.0.1:18125"},
		{map[string]string{"DD_AGENT_HOST": "fd00::1"}, "[fd00::1]:8125"},
		{map[string]string{"DD_AGENT_HOST": "unix:///var/run/datadog/dsd.socket"}, "unix:///var/run/datadog/dsd.socket"},
		{map[string]string{"DD_DOGSTATSD_URL": "unix:///var/run/datadog/dsd.socket", "DD_AGENT_HOST": "ignored"}, "unix:///var/run/datadog/dsd.socket"},
		{map[string]string{"DD_DOGSTATSD_URL": "unixgram:///var/run/datadog/dsd.socket"}, "unixgram:///var/run/datadog/dsd.socket"},
		{map[string]string{"DD_DOGSTATSD_URL": "udp://agent.local:9125"}, "agent.local:9125"},
		{map[string]string{"DD_DOGSTATSD_URL": "udp://agent.local"}, "agent.local:8125"},
	}
	for _, tc := range tests {
		c, err := Load(tc.env)
		if err != nil {
			t.Errorf("Load(%v): %v", tc.env, err)
			continue
		}
		if got := c.AgentAddr(); got != tc.want {
			t.Errorf("Load(%v).AgentAddr() = %q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestGlobalTags(t *testing.T) {
	c, err := Load(map[string]string{"DD_ENV": "prod", "DD_SERVICE": "billing", "DD_VERSION": "1.2",
		"DD_TAGS": "team:data,bare  owner:ops", "ECS_UPTIME_TAGS": "tier:batch purpose:migration"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"env:prod", "service:billing", "version:1.2", "team:data", "bare", "owner:ops", "tier:batch", "purpose:migration"}
	if got := c.GlobalTags(); !slices.Equal(got, want) {
		t.Errorf("GlobalTags = %q, want %q", got, want)
	}
}

func TestGoodValues(t *testing.T) {
	for _, env := range []map[string]string{
		{"ECS_UPTIME_SOURCE": "ecs", "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc"},
		{"ECS_UPTIME_SOURCE": "docker"},
		{"ECS_UPTIME_INTERVAL": "100ms"},
		{"ECS_UPTIME_WARNING": "20h", "ECS_UPTIME_CRITICAL": "24h"},
		{"ECS_UPTIME_WARNING": "20h", "ECS_UPTIME_CRITICAL": "0"}, // warning only
		{"ECS_UPTIME_CRITICAL": "0"},
		{"ECS_UPTIME_MAX_LIFETIME": "2h", "ECS_UPTIME_SOURCE": "ecs", "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc"},
		{"ECS_UPTIME_LOG_LEVEL": "DEBUG", "ECS_UPTIME_LOG_FORMAT": "text"},
		{"ECS_UPTIME_CONTAINER_METRICS": "true"},
		{"ECS_UPTIME_HEALTH_PORT": "0"},
		{"ECS_UPTIME_HEALTH_PORT": "65535"},
		{"ECS_UPTIME_SOURCE": "api"},
		{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_CLUSTERS": "prod, arn:aws:ecs:eu-west-1:123456789012:cluster/batch", "ECS_UPTIME_REGIONS": "eu-west-1,us-gov-west-1,cn-north-1",
			"ECS_UPTIME_API_RATE": "0.5", "ECS_UPTIME_TASK_TAGS": "team,CostCenter", "ECS_UPTIME_STOP_TASKS": "true", "ECS_UPTIME_MAX_LIFETIME_TAG": "ttl",
			"ECS_UPTIME_SINGLETONS": "db-migrate,reindex", "ECS_UPTIME_STUCK_AFTER": "30m"},
		{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_STUCK_AFTER": "0"},
		{"ECS_UPTIME_SOURCE": "docker", "ECS_UPTIME_SINGLETONS": "db-migrate"},
		{"ECS_UPTIME_SINGLETONS": "db-migrate"}, // auto outside a task picks docker
		{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "111111111111, 222222222222", "ECS_UPTIME_ROLE_NAME": "ops/ecs-uptime-reader",
			"ECS_UPTIME_EXTERNAL_ID": "datadog:ecs-uptime/prod", "ECS_UPTIME_SCAN_CONCURRENCY": "64", "ECS_UPTIME_REGIONS": "all",
			"ECS_UPTIME_CLUSTERS": "prod,arn:aws:ecs:eu-west-1:222222222222:cluster/batch"},
		{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "organization", "ECS_UPTIME_CLUSTERS": "arn:aws:ecs:eu-west-1:333333333333:cluster/batch"},
		{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_SCAN_CONCURRENCY": "1"},
		{"ECS_UPTIME_SERVICE_TASKS": "report"},
		{"ECS_UPTIME_SERVICE_TASKS": "judge", "ECS_UPTIME_SOURCE": "docker"},
		{"ECS_UPTIME_SERVICE_TASKS": "skip", "ECS_UPTIME_SOURCE": "api"},
		{"ECS_UPTIME_SERVICE_TASKS": "skip", "ECS_UPTIME_SOURCE": "ecs", "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc"},
	} {
		if _, err := Load(env); err != nil {
			t.Errorf("Load(%v): %v", env, err)
		}
	}
}

// Each bad configuration fails with exactly one line that names the
// variable, its value and what is accepted.
func TestBadValues(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // the problem line must contain this
	}{
		{"unknown source", map[string]string{"ECS_UPTIME_SOURCE": "k8s"}, `ECS_UPTIME_SOURCE="k8s": want auto, ecs, docker or api`},
		{"interval not a duration", map[string]string{"ECS_UPTIME_INTERVAL": "15"}, `ECS_UPTIME_INTERVAL="15": want a Go duration`},
		{"interval words", map[string]string{"ECS_UPTIME_INTERVAL": "fast"}, `ECS_UPTIME_INTERVAL="fast": want a Go duration of at least 100ms`},
		{"interval too short", map[string]string{"ECS_UPTIME_INTERVAL": "10ms"}, `ECS_UPTIME_INTERVAL="10ms": want a Go duration of at least 100ms`},
		{"interval zero", map[string]string{"ECS_UPTIME_INTERVAL": "0s"}, `ECS_UPTIME_INTERVAL="0s"`},
		{"interval negative", map[string]string{"ECS_UPTIME_INTERVAL": "-1s"}, `ECS_UPTIME_INTERVAL="-1s"`},
		{"container metrics not a bool", map[string]string{"ECS_UPTIME_CONTAINER_METRICS": "yes please"}, `ECS_UPTIME_CONTAINER_METRICS="yes please": want true or false`},
		{"warning in days", map[string]string{"ECS_UPTIME_WARNING": "1d"}, `ECS_UPTIME_WARNING="1d": want a Go duration`},
		{"critical negative", map[string]string{"ECS_UPTIME_CRITICAL": "-24h"}, `ECS_UPTIME_CRITICAL="-24h"`},
		{"warning above critical", map[string]string{"ECS_UPTIME_WARNING": "30h", "ECS_UPTIME_CRITICAL": "24h"}, `ECS_UPTIME_WARNING="30h": want less than ECS_UPTIME_CRITICAL`},
		{"warning equal to critical", map[string]string{"ECS_UPTIME_WARNING": "24h"}, `want less than ECS_UPTIME_CRITICAL="24h0m0s"`},
		{"max lifetime not a duration", map[string]string{"ECS_UPTIME_MAX_LIFETIME": "forever"}, `ECS_UPTIME_MAX_LIFETIME="forever"`},
		{"health port not a number", map[string]string{"ECS_UPTIME_HEALTH_PORT": "http"}, `ECS_UPTIME_HEALTH_PORT="http": want a port number from 1 to 65535 for the loopback health endpoint, or 0 for off`},
		{"health port out of range", map[string]string{"ECS_UPTIME_HEALTH_PORT": "70000"}, `ECS_UPTIME_HEALTH_PORT="70000": want a port number`},
		{"max lifetime in docker mode", map[string]string{"ECS_UPTIME_SOURCE": "docker", "ECS_UPTIME_MAX_LIFETIME": "24h"}, `ECS_UPTIME_MAX_LIFETIME="24h": want it unset with ECS_UPTIME_SOURCE=docker`},
		{"ecs source without endpoint", map[string]string{"ECS_UPTIME_SOURCE": "ecs"}, `ECS_CONTAINER_METADATA_URI_V4 is not set`},
		{"endpoint not a URL", map[string]string{"ECS_CONTAINER_METADATA_URI_V4": "169.254.170.2/v4/abc"}, `ECS_CONTAINER_METADATA_URI_V4="169.254.170.2/v4/abc": want an http:// URL`},
		{"tags without key", map[string]string{"ECS_UPTIME_TAGS": "team:data,orphan"}, `ECS_UPTIME_TAGS="team:data,orphan": want key:value tags`},
		{"tags with empty key", map[string]string{"ECS_UPTIME_TAGS": ":x"}, `ECS_UPTIME_TAGS=":x"`},
		{"DD_TAGS with empty key", map[string]string{"DD_TAGS": ":oops"}, `DD_TAGS=":oops"`},
		{"log level", map[string]string{"ECS_UPTIME_LOG_LEVEL": "verbose"}, `ECS_UPTIME_LOG_LEVEL="verbose": want debug, info, warn or error`},
		{"log format", map[string]string{"ECS_UPTIME_LOG_FORMAT": "xml"}, `ECS_UPTIME_LOG_FORMAT="xml": want json or text`},
		{"port not a number", map[string]string{"DD_DOGSTATSD_PORT": "statsd"}, `DD_DOGSTATSD_PORT="statsd": want a port number from 1 to 65535`},
		{"port out of range", map[string]string{"DD_DOGSTATSD_PORT": "70000"}, `DD_DOGSTATSD_PORT="70000"`},
		{"agent host list", map[string]string{"DD_AGENT_HOST": "agent1,agent2"}, `DD_AGENT_HOST="agent1,agent2": want a host name or IP address`},
		{"agent host with a path", map[string]string{"DD_AGENT_HOST": "/var/run/datadog/dsd.socket"}, `DD_AGENT_HOST="/var/run/datadog/dsd.socket"`},
		{"url with unknown scheme", map[string]string{"DD_DOGSTATSD_URL": "tcp://agent:8125"}, `DD_DOGSTATSD_URL="tcp://agent:8125": want udp://HOST:PORT, unix:///PATH or unixgram:///PATH`},
		{"unix url with relative path", map[string]string{"DD_DOGSTATSD_URL": "unix://dsd.socket"}, `DD_DOGSTATSD_URL="unix://dsd.socket"`},
		{"udp url with a bad port", map[string]string{"DD_DOGSTATSD_URL": "udp://agent:0"}, `DD_DOGSTATSD_URL="udp://agent:0"`},
		// The api source's variables.
		{"clusters with an empty item", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_CLUSTERS": "prod,,batch"}, `ECS_UPTIME_CLUSTERS="prod,,batch": want ECS cluster names or ARNs separated by commas; "" is not a cluster name`},
		{"cluster with a slash", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_CLUSTERS": "team/prod"}, `"team/prod" is not a cluster name`},
		{"cluster ARN of another service", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_CLUSTERS": "arn:aws:eks:eu-west-1:123456789012:cluster/prod"}, `ECS_UPTIME_CLUSTERS="arn:aws:eks`},
		{"region misspelled", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_REGIONS": "eu-west-1,euwest2"}, `ECS_UPTIME_REGIONS="eu-west-1,euwest2": want AWS region names separated by commas, such as eu-west-1,us-east-1, or all (every region enabled in each account); "euwest2" is not a region name`},
		{"api rate zero", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_API_RATE": "0"}, `ECS_UPTIME_API_RATE="0": want ECS API requests per second per account and region, a number above 0 and at most 20`},
		{"api rate above the account's", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_API_RATE": "50"}, `ECS_UPTIME_API_RATE="50": want ECS API requests per second`},
		{"api rate not a number", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_API_RATE": "fast"}, `ECS_UPTIME_API_RATE="fast": want ECS API requests per second`},
		{"task tags with an empty key", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_TASK_TAGS": "team,"}, `ECS_UPTIME_TASK_TAGS="team,": want task resource tag keys of 1 to 128 characters`},
		{"task tag that ecs-uptime sets itself", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_TASK_TAGS": "team,Task_Family"}, `would give each series two task_family tags`},
		{"stop tasks not a bool", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_STOP_TASKS": "yes"}, `ECS_UPTIME_STOP_TASKS="yes": want true or false`},
		{"max lifetime tag empty", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_MAX_LIFETIME_TAG": ""}, `ECS_UPTIME_MAX_LIFETIME_TAG="": want a task resource tag key of 1 to 128 characters, not starting with aws:`},
		{"max lifetime tag in aws's namespace", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_MAX_LIFETIME_TAG": "aws:lifetime"}, `ECS_UPTIME_MAX_LIFETIME_TAG="aws:lifetime"`},
		{"max lifetime with api", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_MAX_LIFETIME": "6h"}, `ECS_UPTIME_MAX_LIFETIME="6h": want it unset with ECS_UPTIME_SOURCE=api`},
		{"container metrics with api", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_CONTAINER_METRICS": "true"}, `ECS_UPTIME_CONTAINER_METRICS="true": want it unset or false with ECS_UPTIME_SOURCE=api`},
		{"clusters with ecs", map[string]string{"ECS_UPTIME_SOURCE": "ecs", "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc", "ECS_UPTIME_CLUSTERS": "prod"}, `ECS_UPTIME_CLUSTERS="prod": want it unset with ECS_UPTIME_SOURCE=ecs; only ECS_UPTIME_SOURCE=api reads it`},
		{"regions with docker", map[string]string{"ECS_UPTIME_SOURCE": "docker", "ECS_UPTIME_REGIONS": "eu-west-1"}, `ECS_UPTIME_REGIONS="eu-west-1": want it unset with ECS_UPTIME_SOURCE=docker`},
		{"api rate with auto", map[string]string{"ECS_UPTIME_API_RATE": "5"}, `ECS_UPTIME_API_RATE="5": want it unset with ECS_UPTIME_SOURCE=auto; only ECS_UPTIME_SOURCE=api reads it (auto never picks api)`},
		{"task tags with docker", map[string]string{"ECS_UPTIME_SOURCE": "docker", "ECS_UPTIME_TASK_TAGS": "team"}, `ECS_UPTIME_TASK_TAGS="team": want it unset with ECS_UPTIME_SOURCE=docker`},
		{"stop tasks with ecs", map[string]string{"ECS_UPTIME_SOURCE": "ecs", "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc", "ECS_UPTIME_STOP_TASKS": "true"}, `ECS_UPTIME_STOP_TASKS="true": want it unset with ECS_UPTIME_SOURCE=ecs`},
		{"max lifetime tag with docker", map[string]string{"ECS_UPTIME_SOURCE": "docker", "ECS_UPTIME_MAX_LIFETIME_TAG": "ttl"}, `ECS_UPTIME_MAX_LIFETIME_TAG="ttl": want it unset with ECS_UPTIME_SOURCE=docker`},
		// Scanning an organization.
		{"accounts not IDs", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "111111111111,prod"}, `ECS_UPTIME_ACCOUNTS="111111111111,prod": want 12-digit AWS account IDs separated by commas, or organization (every ACTIVE account of the organization); "prod" is not a 12-digit account ID`},
		{"account ID of 11 digits", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "11111111111"}, `"11111111111" is not a 12-digit account ID`},
		{"organization and IDs", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "organization,111111111111"}, `"organization" is not a 12-digit account ID (or organization, alone)`},
		{"organization misspelled", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "organisation"}, `ECS_UPTIME_ACCOUNTS="organisation"`},
		{"accounts with an empty item", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "111111111111,,222222222222"}, `"" is not a 12-digit account ID`},
		{"all regions and a region", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_REGIONS": "all,eu-west-1"}, `ECS_UPTIME_REGIONS="all,eu-west-1": want AWS region names separated by commas, such as eu-west-1,us-east-1, or all (every region enabled in each account); "all" is not a region name`},
		{"role name with a space", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "organization", "ECS_UPTIME_ROLE_NAME": "ecs uptime"}, `ECS_UPTIME_ROLE_NAME="ecs uptime": want an IAM role name of 1 to 64 letters, digits and +=,.@_-`},
		{"role name as an ARN", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "organization", "ECS_UPTIME_ROLE_NAME": "arn:aws:iam::111111111111:role/ecs-uptime"}, `ECS_UPTIME_ROLE_NAME="arn:aws:iam::111111111111:role/ecs-uptime"`},
		{"role name empty", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "organization", "ECS_UPTIME_ROLE_NAME": ""}, `ECS_UPTIME_ROLE_NAME="": want an IAM role name`},
		{"role name too long", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "organization", "ECS_UPTIME_ROLE_NAME": strings.Repeat("r", 65)}, `ECS_UPTIME_ROLE_NAME="rrr`},
		{"external ID of one character", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "organization", "ECS_UPTIME_EXTERNAL_ID": "x"}, `ECS_UPTIME_EXTERNAL_ID="x": want an external ID of 2 to 1224`},
		{"external ID with a space", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "organization", "ECS_UPTIME_EXTERNAL_ID": "my id"}, `ECS_UPTIME_EXTERNAL_ID="my id"`},
		{"role name without accounts", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ROLE_NAME": "reader"}, `ECS_UPTIME_ROLE_NAME="reader": want it unset without ECS_UPTIME_ACCOUNTS`},
		{"external ID without accounts", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_EXTERNAL_ID": "abc"}, `ECS_UPTIME_EXTERNAL_ID="abc": want it unset without ECS_UPTIME_ACCOUNTS`},
		{"concurrency zero", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_SCAN_CONCURRENCY": "0"}, `ECS_UPTIME_SCAN_CONCURRENCY="0": want how many account-regions are scanned at once, a whole number from 1 to 64`},
		{"concurrency too high", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_SCAN_CONCURRENCY": "65"}, `ECS_UPTIME_SCAN_CONCURRENCY="65"`},
		{"concurrency not a number", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_SCAN_CONCURRENCY": "eight"}, `ECS_UPTIME_SCAN_CONCURRENCY="eight": want how many account-regions`},
		{"cluster ARN of an account not listed", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "111111111111", "ECS_UPTIME_CLUSTERS": "arn:aws:ecs:eu-west-1:222222222222:cluster/batch"}, `the cluster ARN arn:aws:ecs:eu-west-1:222222222222:cluster/batch is in account 222222222222, which ECS_UPTIME_ACCOUNTS="111111111111" does not list`},
		{"accounts with docker", map[string]string{"ECS_UPTIME_SOURCE": "docker", "ECS_UPTIME_ACCOUNTS": "organization"}, `ECS_UPTIME_ACCOUNTS="organization": want it unset with ECS_UPTIME_SOURCE=docker`},
		{"role name with ecs", map[string]string{"ECS_UPTIME_SOURCE": "ecs", "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc", "ECS_UPTIME_ROLE_NAME": "r"}, `ECS_UPTIME_ROLE_NAME="r": want it unset with ECS_UPTIME_SOURCE=ecs`},
		{"external ID with auto", map[string]string{"ECS_UPTIME_EXTERNAL_ID": "abc"}, `ECS_UPTIME_EXTERNAL_ID="abc": want it unset with ECS_UPTIME_SOURCE=auto`},
		{"concurrency with docker", map[string]string{"ECS_UPTIME_SOURCE": "docker", "ECS_UPTIME_SCAN_CONCURRENCY": "8"}, `ECS_UPTIME_SCAN_CONCURRENCY="8": want it unset with ECS_UPTIME_SOURCE=docker`},
		{"stuck after with docker", map[string]string{"ECS_UPTIME_SOURCE": "docker", "ECS_UPTIME_STUCK_AFTER": "1h"}, `ECS_UPTIME_STUCK_AFTER="1h": want it unset with ECS_UPTIME_SOURCE=docker; only ECS_UPTIME_SOURCE=api reads it`},
		{"stuck after with auto", map[string]string{"ECS_UPTIME_STUCK_AFTER": "0"}, `ECS_UPTIME_STUCK_AFTER="0": want it unset with ECS_UPTIME_SOURCE=auto`},
		{"stuck after not a duration", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_STUCK_AFTER": "1 hour"}, `ECS_UPTIME_STUCK_AFTER="1 hour": want a Go duration such as 1h or 30m, or 0 for off`},
		{"stuck after a bare number", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_STUCK_AFTER": "3600"}, `ECS_UPTIME_STUCK_AFTER="3600": want a Go duration such as 1h or 30m, or 0 for off`},
		{"stuck after negative", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_STUCK_AFTER": "-1h"}, `ECS_UPTIME_STUCK_AFTER="-1h": want a Go duration such as 1h or 30m, or 0 for off`},
		{"a resource tag named as the status tag", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_TASK_TAGS": "ecs_exec"}, `would give each series two ecs_exec tags`},
		// Singletons.
		{"singletons with ecs", map[string]string{"ECS_UPTIME_SOURCE": "ecs", "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc", "ECS_UPTIME_SINGLETONS": "db-migrate"}, `ECS_UPTIME_SINGLETONS="db-migrate": want it unset with the ecs source (a sidecar sees only its own task); watch a family with the host daemon (docker) or the api source, or with the monitor that ` + "`ecs-uptime monitor --type concurrency --family NAME`" + ` prints`},
		{"singletons with auto in a task", map[string]string{"ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc", "ECS_UPTIME_SINGLETONS": "db-migrate"}, `ECS_UPTIME_SINGLETONS="db-migrate": want it unset with the ecs source`},
		{"singleton family with a revision", map[string]string{"ECS_UPTIME_SOURCE": "docker", "ECS_UPTIME_SINGLETONS": "db-migrate:42"}, `ECS_UPTIME_SINGLETONS="db-migrate:42": want task family names (letters, digits, - and _) separated by commas, not "db-migrate:42"`},
		{"singletons with an empty item", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_SINGLETONS": "a,,b"}, `ECS_UPTIME_SINGLETONS="a,,b"`},
		// Service tasks.
		{"service tasks misspelled", map[string]string{"ECS_UPTIME_SERVICE_TASKS": "ignore"}, `ECS_UPTIME_SERVICE_TASKS="ignore": want report (a service's tasks get their gauges and are judged on nothing), judge (judged as one-offs are) or skip (nothing sent for them)`},
		{"service tasks in capitals", map[string]string{"ECS_UPTIME_SERVICE_TASKS": "Skip"}, `ECS_UPTIME_SERVICE_TASKS="Skip": want report`},
		{"task tag that is the task kind", map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_TASK_TAGS": "ecs_task_kind"}, `would give each series two ecs_task_kind tags`},
		{"misspelled variable", map[string]string{"ECS_UPTIME_CRITICIAL": "2h"}, `ECS_UPTIME_CRITICIAL="2h": not a variable ecs-uptime reads; want ECS_UPTIME_CRITICAL`},
		{"unknown variable", map[string]string{"ECS_UPTIME_TIMEOUT": "5s"}, `ECS_UPTIME_TIMEOUT="5s": not a variable ecs-uptime reads; want one of ECS_UPTIME_SOURCE, ECS_UPTIME_INTERVAL`},
		{"wrong case", map[string]string{"ECS_UPTIME_interval": "1m"}, `want ECS_UPTIME_INTERVAL`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.env)
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load(%v) = %v, want a *config.Error", tc.env, err)
			}
			if len(cerr.Problems) != 1 {
				t.Fatalf("problems = %q, want exactly one line", cerr.Problems)
			}
			if p := cerr.Problems[0]; !strings.Contains(p, tc.want) || strings.Contains(p, "\n") {
				t.Errorf("problem = %q, want one line containing %q", p, tc.want)
			}
		})
	}
}

func TestEveryProblemAtOnce(t *testing.T) {
	_, err := Load(map[string]string{"ECS_UPTIME_INTERVAL": "x", "ECS_UPTIME_SOURCE": "y", "ECS_UPTIME_LOG_FORMAT": "z"})
	var cerr *Error
	if !errors.As(err, &cerr) || len(cerr.Problems) != 3 {
		t.Fatalf("Load = %v, want three problems, one per variable", err)
	}
}

// TestOtherVariablesAreNotOurs: only the ECS_UPTIME_ prefix is ecs-uptime's;
// what the ECS agent and the platform set beside it is no problem.
func TestOtherVariablesAreNotOurs(t *testing.T) {
	if _, err := Load(map[string]string{
		"ECS_CONTAINER_METADATA_URI":    "http://169.254.170.2/v3/abc",
		"ECS_AGENT_URI":                 "http://169.254.170.2/api/abc",
		"AWS_EXECUTION_ENV":             "AWS_ECS_FARGATE",
		"ECS_UPTIME":                    "no underscore after the prefix",
		"ECS_UPTIME_CONTAINER_METRICS":  "true",
		"ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc",
	}); err != nil {
		t.Errorf("Load = %v, want no problem", err)
	}
}

func TestAPIDefaults(t *testing.T) {
	c, err := Load(map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_CLUSTERS": " prod , batch", "ECS_UPTIME_TASK_TAGS": "Team"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Interval != APIInterval || c.APIRate != 5 || c.StopTasks || c.MaxLifetimeTag != DefaultMaxLifetimeTag || len(c.Regions) != 0 || c.StuckAfter != time.Hour {
		t.Errorf("api defaults = %+v", c)
	}
	if !slices.Equal(c.Clusters, []string{"prod", "batch"}) || !slices.Equal(c.TaskTags, []string{"Team"}) {
		t.Errorf("lists = %q, %q, want trimmed items", c.Clusters, c.TaskTags)
	}
	if len(c.Accounts) != 0 || c.RoleName != "ecs-uptime" || c.ExternalID != "" || c.ScanConcurrency != 8 || c.ScanOrganization() || c.ScanAllRegions() {
		t.Errorf("organization defaults = %+v", c)
	}
	c, err = Load(map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": " organization ", "ECS_UPTIME_REGIONS": "all"})
	if err != nil || !c.ScanOrganization() || !c.ScanAllRegions() {
		t.Errorf("organization, all regions = %+v, %v", c, err)
	}
	c, err = Load(map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_ACCOUNTS": "111111111111, 222222222222"})
	if err != nil || !slices.Equal(c.Accounts, []string{"111111111111", "222222222222"}) || c.ScanOrganization() {
		t.Errorf("two accounts = %q, %v", c.Accounts, err)
	}
	c, err = Load(map[string]string{"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_INTERVAL": "15s"})
	if err != nil || c.Interval != 15*time.Second {
		t.Errorf("an explicit interval with api = %v, %v; want 15s", c.Interval, err)
	}
}

func TestNameForms(t *testing.T) {
	for _, tc := range []struct {
		s                 string
		name, arn, region bool
	}{
		{s: "prod", name: true},
		{s: "db_migrate-2", name: true},
		{s: strings.Repeat("a", 255), name: true},
		{s: strings.Repeat("a", 256)},
		{s: ""},
		{s: "team/prod"},
		{s: "prod:1"},
		{s: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", arn: true},
		{s: "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:cluster/prod", arn: true},
		{s: "arn:aws:ecs:eu-west-1:12345678901:cluster/prod"},
		{s: "arn:aws:ecs:eu-west-1:123456789012:service/prod"},
		{s: "arn:aws:eks:eu-west-1:123456789012:cluster/prod"},
		{s: "arn:aws:ecs:eu-west-1:123456789012:cluster/"},
		{s: "eu-west-1", name: true, region: true},
		{s: "us-gov-west-1", name: true, region: true},
		{s: "cn-north-1", name: true, region: true},
		{s: "euwest2", name: true},
		{s: "eu-west", name: true},
		{s: "EU-WEST-1", name: true},
		{s: "eu--1", name: true},
		{s: "eu-west-1a", name: true},
	} {
		if got := ecsName(tc.s); got != tc.name {
			t.Errorf("ecsName(%q) = %v, want %v", tc.s, got, tc.name)
		}
		if got := clusterARN(tc.s); got != tc.arn {
			t.Errorf("clusterARN(%q) = %v, want %v", tc.s, got, tc.arn)
		}
		if got := regionName(tc.s); got != tc.region {
			t.Errorf("regionName(%q) = %v, want %v", tc.s, got, tc.region)
		}
	}
}
