package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"ecs-uptime/uptime/monitor"
)

const monitorUsage = `Usage: ecs-uptime monitor [--type metric|service-check|stuck|concurrency|singleton|dashboard] [--format json|terraform] [filters]

Prints a Datadog monitor for ecs-uptime's output, as Monitors API JSON or as
a Terraform datadog_monitor resource:

  metric         ecs.task.uptime over --critical (and --warning) for 5 minutes,
                 one alert per task (task_arn, with its cluster and region)
  service-check  ecs.task.lifetime, WARNING/CRITICAL as the sidecars judge them,
                 one alert per task
  stuck          ecs.task.stuck, which the api source sends for a task stuck in
                 a status other than RUNNING and STOPPED: one alert per task and
                 status
  concurrency    more than one task of --family at once, counted from
                 ecs.task.uptime (works with the sidecar alone); a task counts
                 until --interval + 30s after it last reported
  singleton      ecs.family.singleton CRITICAL, which the docker and api sources
                 send for ECS_UPTIME_SINGLETONS: one alert per family and cluster
                 when any host daemon or api scan sees two tasks (every such
                 family without --family)
  dashboard      the tasks running now, oldest first, and the max uptime per
                 family (JSON)

The tasks of ECS services (ecs_task_kind:service) are left out unless
--include-services: a service's task running for weeks is normal. A task's
alert resolves, with its recovery message, an hour after its last report
(timeout_h): a task that stops stops reporting, which is the good outcome, so
notify_no_data is off (singleton: --notify-no-data turns it on). Create the
monitor with the Datadog API:

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

// monitorTypes are the values of --type.
var monitorTypes = []string{"metric", "service-check", "stuck", "concurrency", "singleton", "dashboard"}

func monitorCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ecs-uptime monitor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	typ := fs.String("type", "metric", "metric, service-check, stuck, concurrency, singleton or dashboard")
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
	notifyNoData := fs.Bool("notify-no-data", false, "singleton monitor: alert when nothing has sent the check for a family and cluster for 10 minutes")
	fs.BoolVar(&f.Services, "include-services", false, "also watch the tasks of ECS services (ecs_task_kind:service), which are left out otherwise")
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
		"warning":          {"metric"},
		"critical":         {"metric", "dashboard"},
		"interval":         {"concurrency"},
		"notify-no-data":   {"singleton"},
		"include-services": {"metric", "service-check", "stuck", "concurrency", "dashboard"},
	}
	refused := ""
	fs.Visit(func(fl *flag.Flag) {
		if types, ok := only[fl.Name]; ok && !slices.Contains(types, *typ) && refused == "" {
			refused = fl.Name
		}
	})
	if refused != "" && slices.Contains(monitorTypes, *typ) {
		switch {
		case *typ == "service-check" && (refused == "warning" || refused == "critical"):
			return fail(fmt.Errorf("--%s: the service check's thresholds are the sidecars' own (ECS_UPTIME_WARNING, ECS_UPTIME_CRITICAL)", refused))
		case *typ == "stuck" && (refused == "warning" || refused == "critical"):
			return fail(fmt.Errorf("--%s: the stuck check's threshold is the scanner's own (ECS_UPTIME_STUCK_AFTER)", refused))
		case *typ == "singleton" && refused == "include-services":
			return fail(fmt.Errorf("--include-services: the ecs.family.singleton check is per family and cluster, with no ecs_task_kind: it counts every task of the families ECS_UPTIME_SINGLETONS names"))
		}
		return fail(fmt.Errorf("--%s: only for --type %s", refused, orList(only[refused])))
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
	case "stuck":
		kind = "task_stuck"
		m, err = monitor.Stuck(f)
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
		return writeJSON(monitor.NewDashboard(*critical, f.Services), stdout, stderr)
	default:
		return fail(fmt.Errorf("--type %q: want %s", *typ, orList(monitorTypes)))
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

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
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
