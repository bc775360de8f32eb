package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"ecs-uptime/uptime/monitor"
)

const monitorUsage = `Usage: ecs-uptime monitor [--type metric|service-check|concurrency|singleton|dashboard] [--format json|terraform] [filters]

Prints a Datadog monitor for ecs-uptime's output, as Monitors API JSON or as
a Terraform datadog_monitor resource:

  metric         ecs.task.uptime over --critical (and --warning) for 5 minutes,
                 one alert per task (task_arn)
  service-check  ecs.task.lifetime, WARNING/CRITICAL as the sidecars judge them,
                 one alert per task
  concurrency    more than one task of --family at once, counted from
                 ecs.task.uptime (works with the sidecar alone); a task counts
                 until --interval + 30s after it last reported
  singleton      ecs.family.singleton CRITICAL, which the docker and api sources
                 send for ECS_UPTIME_SINGLETONS: one alert per host, family and
                 cluster (every such family without --family)
  dashboard      the oldest running tasks and the max uptime per family (JSON)

notify_no_data is off: a task that stops stops reporting, which is the good
outcome (singleton: --notify-no-data turns it on). Create the monitor with the
Datadog API:

  ecs-uptime monitor --family db-migrate > monitor.json
  curl -X POST "https://api.datadoghq.com/api/v1/monitor" \
    -H "Content-Type: application/json" \
    -H "DD-API-KEY: ${DD_API_KEY}" -H "DD-APPLICATION-KEY: ${DD_APP_KEY}" \
    -d @monitor.json

Tag values are lowercased, as Datadog stores tags. The filters take short
names, as the tags hold them; a cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME)
becomes ecs_cluster_name:NAME,region:REGION,aws_account:ACCOUNT, which name that
one cluster. An ARN in --family or --service, and a family with a revision
(db-migrate:42), are refused: they would match nothing.

Flags:`

func monitorCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ecs-uptime monitor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	typ := fs.String("type", "metric", "metric, service-check, concurrency, singleton or dashboard")
	format := fs.String("format", "json", "json (Monitors API) or terraform (datadog_monitor resource)")
	var f monitor.Filter
	fs.StringVar(&f.Family, "family", "", "only tasks of this task definition family (task_family)")
	fs.StringVar(&f.Cluster, "cluster", "", "only tasks of this cluster: its name (ecs_cluster_name), or its ARN, which becomes the name, region and aws_account")
	fs.StringVar(&f.Service, "service", "", "only tasks of this ECS service (ecs_service)")
	var scope listFlag
	fs.Var(&scope, "scope", "more tags, key:value or !key:value; repeat it or separate with commas")
	warning := durationFlag(fs, "warning", 0, "metric monitor: warn at this uptime, a Go `duration` such as 20h (0: no warning)")
	critical := durationFlag(fs, "critical", monitor.DefaultCritical, "metric monitor: alert at this uptime, a Go `duration` such as 48h; the dashboard draws it")
	interval := durationFlag(fs, "interval", monitor.DefaultInterval, "concurrency monitor: the longest ECS_UPTIME_INTERVAL of the processes that send the family's uptime, a Go `duration` (15s with sidecars only)")
	notifyNoData := fs.Bool("notify-no-data", false, "singleton monitor: alert when a host stops sending the check for 10 minutes (for one api process, not for host daemons)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, monitorUsage)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	f.Scope = scope
	if *format != "json" && *format != "terraform" {
		fmt.Fprintf(stderr, "ecs-uptime monitor: --format %q: want json or terraform\n", *format)
		return exitConfig
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "ecs-uptime monitor: %v\n", err)
		return exitConfig
	}

	// Flags that only some types take: any other type refuses them.
	only := map[string][]string{
		"warning":        {"metric"},
		"critical":       {"metric", "dashboard"},
		"interval":       {"concurrency"},
		"notify-no-data": {"singleton"},
	}
	refused := ""
	fs.Visit(func(fl *flag.Flag) {
		if types, ok := only[fl.Name]; ok && !slices.Contains(types, *typ) && refused == "" {
			refused = fl.Name
		}
	})
	if refused != "" && slices.Contains([]string{"metric", "service-check", "concurrency", "singleton", "dashboard"}, *typ) {
		if *typ == "service-check" && (refused == "warning" || refused == "critical") {
			return fail(fmt.Errorf("--%s: the service check's thresholds are the sidecars' own (ECS_UPTIME_WARNING, ECS_UPTIME_CRITICAL)", refused))
		}
		return fail(fmt.Errorf("--%s: only for --type %s", refused, strings.Join(only[refused], " or ")))
	}

	var m monitor.Monitor
	var err error
	kind := ""
	switch *typ {
	case "metric":
		kind = "task_uptime"
		m, err = monitor.Metric(f, *warning, *critical)
	case "service-check":
		kind = "task_lifetime"
		m, err = monitor.ServiceCheck(f)
	case "concurrency":
		kind = "family_concurrency"
		m, err = monitor.Concurrency(f, *interval)
	case "singleton":
		kind = "family_singleton"
		m, err = monitor.Singleton(f, *notifyNoData)
	case "dashboard":
		if *format != "json" {
			return fail(fmt.Errorf("--format %s: the dashboard is JSON only", *format))
		}
		if f.Family != "" || f.Cluster != "" || f.Service != "" || len(f.Scope) > 0 {
			return fail(fmt.Errorf("--family, --cluster, --service, --scope: the dashboard filters with its template variables"))
		}
		if *critical <= 0 {
			return fail(fmt.Errorf("--critical %s: want more than 0", *critical))
		}
		return writeJSON(monitor.NewDashboard(*critical), stdout, stderr)
	default:
		return fail(fmt.Errorf("--type %q: want metric, service-check, concurrency, singleton or dashboard", *typ))
	}
	if err != nil {
		return fail(err)
	}
	if *format == "terraform" {
		fmt.Fprint(stdout, monitor.Terraform(monitor.ResourceName(kind, f), m))
		return exitOK
	}
	return writeJSON(m, stdout, stderr)
}

func writeJSON(v any, stdout, stderr io.Writer) int {
	b, err := monitor.JSON(v)
	if err == nil {
		_, err = stdout.Write(b)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ecs-uptime monitor: %v\n", err)
		return exitFailure
	}
	return exitOK
}
