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

// agentHostTag is the tag the Datadog Agent puts on every service check it
// forwards, its own hostname: ecs-uptime does not send it.
const agentHostTag = "host"

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
		// nothing, which is the usual state, not a failure.
		Options: Options{Thresholds: Thresholds{Critical: 1}, NotifyNoData: false, RequireFullWindow: new(bool), IncludeTags: true},
	}, nil
}

// Singleton returns the service-check monitor on ecs.family.singleton: one
// alert per host, family and cluster (the filter's family, or every
// family of ECS_UPTIME_SINGLETONS) from the CRITICAL the docker and api
// sources send when they see two tasks of the family at once, resolved by
// their first OK.
//
// It groups by host too: every host daemon sends its own verdict for its
// cluster, from the tasks of its own host, and the statuses of several
// senders in one group would alternate. notifyNoData pages when a group
// stops reporting for noDataMinutes: right for one api process on a host
// that stays, wrong for host daemons, whose groups end whenever their
// instance goes.
func Singleton(f Filter, notifyNoData bool) (Monitor, error) {
	f, err := f.Resolve()
	if err != nil {
		return Monitor{}, err
	}
	if f.Service != "" {
		return Monitor{}, &FilterError{"service", f.Service, "the ecs.family.singleton check has no ecs_service tag (it is per family and cluster), so the query would never match"}
	}
	by := []string{agentHostTag, dogstatsd.TagTaskFamily, dogstatsd.TagClusterARN}
	quoted := make([]string, len(by))
	for i, t := range by {
		quoted[i] = strconv.Quote(t)
	}
	one := 1.0
	opts := Options{Thresholds: Thresholds{Critical: 1, OK: &one}, NotifyNoData: notifyNoData, IncludeTags: true}
	if notifyNoData {
		opts.NoDataTimeframe = noDataMinutes
	}
	name := fmt.Sprintf("More than one ECS task of %s at once (%s)", f.Family, f.describe())
	if f.Family == "" {
		name = "More than one ECS task of an ECS_UPTIME_SINGLETONS family at once"
		if tags := f.Tags(); len(tags) > 0 {
			name += " (" + strings.Join(tags, ", ") + ")"
		}
	}
	return Monitor{
		Name: name,
		Type: TypeServiceCheck,
		Query: fmt.Sprintf("%s.over(%s).by(%s).last(2).count_by_status()",
			strconv.Quote(dogstatsd.CheckFamilySingleton), checkScope(f), strings.Join(quoted, ",")),
		Message: singletonMessage(notifyNoData),
		Tags:    []string{monitorTag},
		Options: opts,
	}, nil
}

// checkScope returns the filter as the quoted tags of a service check's
// .over(): "*" for all.
func checkScope(f Filter) string {
	var over []string
	for _, t := range f.Tags() {
		over = append(over, strconv.Quote(t))
	}
	if len(over) == 0 {
		return `"*"`
	}
	return strings.Join(over, ",")
}

// raceAdvice says why two tasks of such a family matter.
const raceAdvice = "Two tasks of a family that must run one at a time (a migration and its retry) can race on the same data."

func concurrencyMessage(f Filter, series string, fill int64) string {
	alertWhere, okWhere, cluster := " (all clusters counted together)", " again (all clusters counted together)", "CLUSTER"
	if f.Cluster != "" {
		alertWhere, okWhere, cluster = " in "+f.Cluster, " in "+f.Cluster+" again", f.Cluster
	}
	if f.Region != "" {
		cluster += " --region " + f.Region
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{{#is_alert}}More than one task of %s is running at once%s: {{value}} at the peak of the last 2 minutes.{{/is_alert}}\n", f.Family, alertWhere)
	fmt.Fprintf(&b, "{{#is_recovery}}At most one task of %s runs%s.{{/is_recovery}}\n\n", f.Family, okWhere)
	fmt.Fprintf(&b, "%s Find them, oldest first, with the Datadog query %s, or: aws ecs list-tasks --cluster %s --family %s\n", raceAdvice, series, cluster, f.Family)
	fmt.Fprintf(&b, "Stop the one that should not run (usually the newer): aws ecs stop-task --cluster %s --task TASK_ID, then check what both did.\n", cluster)
	fmt.Fprintf(&b, "A task counts until %ds after it last reported, so one that starts within %ds of another's end counts as a second task.", fill, fill)
	return b.String()
}

func singletonMessage(notifyNoData bool) string {
	family, cluster, host := "{{"+dogstatsd.TagTaskFamily+".name}}", "{{"+dogstatsd.TagClusterARN+".name}}", "{{"+agentHostTag+".name}}"
	var b strings.Builder
	b.WriteString("{{#is_alert}}{{check_message}}{{/is_alert}}\n")
	fmt.Fprintf(&b, "{{#is_recovery}}At most one task of %s runs in %s again, as %s sees it.{{/is_recovery}}\n", family, cluster, host)
	if notifyNoData {
		fmt.Fprintf(&b, "{{#is_no_data}}%s has sent no ecs.family.singleton for %s in %s for %d minutes: nothing watches the family there now.{{/is_no_data}}\n", host, family, cluster, noDataMinutes)
	}
	fmt.Fprintf(&b, "\n%s Find them: aws ecs list-tasks --cluster %s --family %s\n", raceAdvice, cluster, family)
	fmt.Fprintf(&b, "Stop the one that should not run (usually the newer): aws ecs stop-task --cluster %s --task TASK_ID, then check what both did.", cluster)
	return b.String()
}
