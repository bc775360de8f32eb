package monitor

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"ecs-uptime/uptime/dogstatsd"
)

// The two monitors of a one-at-a-time family (a migration and the retry
// that CI starts next to it): Concurrency counts the family's tasks from
// ecs.task.uptime, which every source sends, the sidecar alone included;
// Singleton watches the ecs.family.singleton check that the docker and api
// sources send for ECS_UPTIME_SINGLETONS.

// DefaultInterval is the send interval Concurrency assumes by default: the
// api source's ECS_UPTIME_INTERVAL, the longest of the sources' defaults
// (the sidecar and the host daemon send every 15s).
const DefaultInterval = 60 * time.Second

const (
	// concurrencyWindow is the evaluation window. Datadog evaluates the
	// monitor every minute; the window keeps a moment when two tasks
	// counted in sight for two evaluations, so that data that reaches
	// Datadog up to a minute late is still seen once.
	concurrencyWindow = "last_2m"
	// reportSlack is how long, past the send interval, a task still
	// counts after its last report: the Agent stamps gauges into 10s
	// buckets, so two reports 60s apart can be 70s apart in Datadog, and a
	// cycle can take seconds.
	reportSlack = 30 * time.Second
	// maxFill is the longest fill Datadog accepts, in seconds.
	maxFill = 600
	// noDataMinutes is the no_data_timeframe of a singleton monitor that
	// notifies on missing data: ten 60s cycles of the api source, so that a
	// throttled read or two does not page.
	noDataMinutes = 10
)

// TypeQuery is the Monitors API type of a metric monitor whose query
// applies functions (Datadog's documentation lists metric monitors as
// "query alert").
const TypeQuery = "query alert"

// fillSeconds is how long a task counts after its last report, for a
// source that reports every interval: the interval in whole seconds plus
// reportSlack.
func fillSeconds(interval time.Duration) int64 {
	return int64((interval+time.Second-1)/time.Second) + int64(reportSlack/time.Second)
}

// maxInterval is the longest interval whose fill Datadog accepts.
var maxInterval = time.Duration(maxFill)*time.Second - reportSlack

// Concurrency returns the metric monitor that alerts when more than one
// task of the filter's family runs at once: the number of task ARNs of the
// family that report ecs.task.uptime, over 1. interval is the longest
// ECS_UPTIME_INTERVAL of the processes that send the family's uptime
// (DefaultInterval when unsure).
//
// The query fills each task's series with its last value for interval+30s
// and no longer: Datadog's default for a gauge, linear interpolation up to
// five minutes after the last sample, would count a task that stopped for
// five more minutes, and no fill at all would never see two tasks that
// report at different seconds at the same instant.
//
// There is one alert for the whole scope: count_not_null counts every
// task of the query, so without a cluster the family's tasks in every
// cluster count together.
func Concurrency(f Filter, interval time.Duration) (Monitor, error) {
	f, err := f.Resolve()
	if err != nil {
		return Monitor{}, err
	}
	if f.Family == "" {
		return Monitor{}, &FilterError{"family", "", "the concurrency monitor counts the tasks of one family: give the family's name, such as db-migrate"}
	}
	if interval <= 0 || interval > maxInterval {
		return Monitor{}, fmt.Errorf("--interval %s: want more than 0s and at most %s (the longest ECS_UPTIME_INTERVAL of the sources that send the family's uptime: a task counts for that long plus %s after it last reported, and Datadog fills at most %ds)",
			interval, maxInterval, reportSlack, maxFill)
	}
	fill := fillSeconds(interval)
	series := fmt.Sprintf("max:%s{%s} by {%s}", dogstatsd.MetricTaskUptime, f.scope(), dogstatsd.TagTaskARN)
	return Monitor{
		Name:    fmt.Sprintf("More than one ECS task of %s at once (%s)", f.Family, f.describe()),
		Type:    TypeQuery,
		Query:   fmt.Sprintf("max(%s):count_not_null(%s.fill(last, %d)) > 1", concurrencyWindow, series, fill),
		Message: concurrencyMessage(f, series, fill),
		Tags:    []string{monitorTag},
		// Two tasks that start together must page although the count's
		// series is younger than the window; a family with no task sends
		// nothing, which is the usual state, not a failure, and an alert
		// whose tasks both stopped resolves an hour later.
		Options: Options{Thresholds: Thresholds{Critical: 1}, NotifyNoData: false, RequireFullWindow: new(bool), IncludeTags: true, TimeoutH: resolveHours},
	}, nil
}

// Singleton returns the service-check monitor on ecs.family.singleton: one
// alert per family and cluster (the filter's family, or every family of
// ECS_UPTIME_SINGLETONS) when any process that judges it, a host daemon on
// its host or an api scan, sends CRITICAL because it sees two tasks of the
// family at once; resolved once every one of them sends OK again.
//
// It is a cluster alert (pct_by_status): within a group, each process's
// check is a check of its own, told apart by its tags and host, and the
// group alerts on the share of them whose last status is CRITICAL
// (docs.datadoghq.com/monitors/types/custom_check, Cluster Alert: "Each
// check tagged with a distinct combination of tags is considered to be a
// distinct check in the cluster. Only the status of the last check of each
// combination of tags is taken into account"). The group needs no host:
// a scanner on Fargate sends its check without one, as the Agent there has
// no hostname, and a group-by tag that a check lacks leaves it out of
// every group (docs.datadoghq.com/monitors/guide/troubleshooting-monitor-alerts:
// "a group is a set of tags with one value for each grouping key"). Several
// host daemons of a cluster, each with its own verdict from its own host,
// are several checks in the same group, and one CRITICAL among them
// alerts: a check alert grouped without host would instead count their
// statuses as one sequence and alternate OK and CRITICAL.
//
// The group also holds the cluster's region, which its message names: a
// cluster ARN holds one region, so it makes no more groups. notifyNoData
// pages when no process has sent the check for the family and cluster for
// noDataMinutes: nothing watches the family there any more.
func Singleton(f Filter, notifyNoData bool) (Monitor, error) {
	f, err := f.Resolve()
	if err != nil {
		return Monitor{}, err
	}
	if f.Service != "" {
		return Monitor{}, &FilterError{"service", f.Service, "the ecs.family.singleton check has no ecs_service tag (it is per family and cluster), so the query would never match"}
	}
	if f.Services {
		return Monitor{}, &FilterError{"include-services", "true", "the ecs.family.singleton check is per family and cluster and has no ecs_task_kind tag: it counts every task of the families that ECS_UPTIME_SINGLETONS names"}
	}
	opts := Options{Thresholds: Thresholds{Critical: anyCritical}, NotifyNoData: notifyNoData, IncludeTags: true, TimeoutH: resolveHours}
	if notifyNoData {
		opts.NoDataTimeframe = noDataMinutes
	}
	name := fmt.Sprintf("More than one ECS task of %s at once (%s)", f.Family, strings.Join(f.Tags(), ", "))
	if f.Family == "" {
		name = "More than one ECS task of an ECS_UPTIME_SINGLETONS family at once"
		if tags := f.Tags(); len(tags) > 0 {
			name += " (" + strings.Join(tags, ", ") + ")"
		}
	}
	all := f
	all.Services = true // the check is a family's: no ecs_task_kind to leave out
	return Monitor{
		Name: name,
		Type: TypeServiceCheck,
		Query: fmt.Sprintf("%s%s.by(%s).last(1).pct_by_status()",
			strconv.Quote(dogstatsd.CheckFamilySingleton), checkScope(all), quoteAll(singletonGroups)),
		Message: singletonMessage(notifyNoData),
		Tags:    []string{monitorTag},
		Options: opts,
	}, nil
}

// singletonGroups are the tags the singleton monitor groups by: the family
// and the cluster, by ARN (two clusters named prod in two regions are two
// clusters), and its region for the message.
var singletonGroups = []string{dogstatsd.TagTaskFamily, dogstatsd.TagClusterARN, dogstatsd.TagRegion}

// anyCritical is the singleton monitor's critical threshold, a share of
// its group's checks in percent: just over 0, so that one CRITICAL check
// among up to 100,000 alerts, whether Datadog compares with > or >=.
const anyCritical = 0.001

// checkScope returns the filter as a service check's .over() and, for the
// tags it leaves out, .exclude(): .over("*") for all. Services are left out
// unless f.Services; a check without ecs_task_kind is kept.
func checkScope(f Filter) string {
	var over, exclude []string
	for _, t := range f.Tags() {
		if n, ok := strings.CutPrefix(t, "!"); ok {
			exclude = append(exclude, n)
		} else {
			over = append(over, t)
		}
	}
	if !f.Services {
		exclude = append(exclude, serviceKind)
	}
	if len(over) == 0 {
		over = []string{"*"}
	}
	s := ".over(" + quoteAll(over) + ")"
	if len(exclude) > 0 {
		s += ".exclude(" + quoteAll(exclude) + ")"
	}
	return s
}

// raceAdvice says why two tasks of such a family matter.
const raceAdvice = "Two tasks of a family that must run one at a time (a migration and its retry) can race on the same data."

func concurrencyMessage(f Filter, series string, fill int64) string {
	var b strings.Builder
	if f.Cluster == "" {
		// One count for every cluster: the group names none, so the
		// message says where to find each task's cluster.
		fmt.Fprintf(&b, "{{#is_alert}}More than one task of %s is running at once (all clusters counted together): {{value}} at the peak of the last 2 minutes.{{/is_alert}}\n", f.Family)
		fmt.Fprintf(&b, "{{#is_recovery}}At most one task of %s runs again (all clusters counted together).{{/is_recovery}}\n\n", f.Family)
		fmt.Fprintf(&b, "%s Find them, oldest first, with their cluster and region, with the Datadog query %s, or with AWS credentials: ecs-uptime tasks --family %s --region all\n",
			raceAdvice, strings.Replace(series, " by {"+dogstatsd.TagTaskARN+"}", " by {"+strings.Join([]string{dogstatsd.TagClusterName, dogstatsd.TagRegion, dogstatsd.TagTaskARN}, ",")+"}", 1), f.Family)
		b.WriteString("Stop the one that should not run (usually the newer) with aws ecs stop-task, giving its region, cluster and task ID, then check what both did.\n")
	} else {
		cluster := f.Cluster
		if f.Region != "" {
			cluster += " --region " + f.Region
		}
		fmt.Fprintf(&b, "{{#is_alert}}More than one task of %s is running at once in %s: {{value}} at the peak of the last 2 minutes.{{/is_alert}}\n", f.Family, f.Cluster)
		fmt.Fprintf(&b, "{{#is_recovery}}At most one task of %s runs in %s again.{{/is_recovery}}\n\n", f.Family, f.Cluster)
		fmt.Fprintf(&b, "%s Find them, oldest first, with the Datadog query %s, or: aws ecs list-tasks --cluster %s --family %s\n", raceAdvice, series, cluster, f.Family)
		fmt.Fprintf(&b, "Stop the one that should not run (usually the newer) with aws ecs stop-task --cluster %s --task and its ID, then check what both did.\n", cluster)
	}
	fmt.Fprintf(&b, "A task counts until %ds after it last reported, so one that starts within %ds of another's end counts as a second task.", fill, fill)
	return b.String()
}

func singletonMessage(notifyNoData bool) string {
	family, cluster, region := tv(dogstatsd.TagTaskFamily), tv(dogstatsd.TagClusterARN), tv(dogstatsd.TagRegion)
	var b strings.Builder
	fmt.Fprintf(&b, "{{#is_alert}}More than one task of %s is running at once in %s, as a host daemon on its host or the api scan sees it. "+
		"The event \"N tasks of %s running in …\" names them, oldest first.{{/is_alert}}\n", family, cluster, family)
	fmt.Fprintf(&b, "{{#is_recovery}}At most one task of %s runs in %s again, as every process that watches it sees it, or none has reported it for an hour.{{/is_recovery}}\n", family, cluster)
	if notifyNoData {
		fmt.Fprintf(&b, "{{#is_no_data}}Nothing has sent ecs.family.singleton for %s in %s for %d minutes: nothing watches the family there now.{{/is_no_data}}\n", family, cluster, noDataMinutes)
	}
	fmt.Fprintf(&b, "\n%s Find them: aws ecs list-tasks --region %s --cluster %s --family %s\n", raceAdvice, region, cluster, family)
	fmt.Fprintf(&b, "Stop the one that should not run (usually the newer) with aws ecs stop-task --region %s --cluster %s --task and its ID, then check what both did.", region, cluster)
	return b.String()
}
