// Package monitor writes the Datadog monitors and the dashboard that watch
// ecs-uptime's output, as Monitors API JSON or as a Terraform
// datadog_monitor resource, and a small dashboard as Dashboards API JSON:
// a metric monitor on ecs.task.uptime, service-check monitors on
// ecs.task.lifetime and ecs.task.stuck, all grouped by task so that each
// task pages on its own; and for a family of which one task at a time
// should run, a metric monitor that counts its tasks (Concurrency) and a
// service-check monitor on ecs.family.singleton (Singleton).
//
// Every monitor on task series leaves out the tasks of ECS services
// (ecs_task_kind:service) unless the filter includes them, and resolves a
// task's alert within an hour of its last report, so that a task that
// stopped sends its recovery message instead of staying in ALERT.
//
// Metric, check and tag names come from package dogstatsd, the emitter's
// own constants, so a monitor can never query a name the sidecar does not
// send. It does not call Datadog; the tests check its output against
// Datadog's own API models (see package monitortest).
package monitor

// The files in monitors/ are this package's output; a test fails when they
// are stale.
//go:generate go test -run TestShippedFiles . -update

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/dogstatsd"
	"ecs-uptime/uptime/lifetime"
)

// DefaultCritical is the default critical threshold, ECS_UPTIME_CRITICAL's
// default in DESIGN.md.
const DefaultCritical = 24 * time.Hour

// Filter says which tasks a monitor watches; the zero Filter watches all.
type Filter struct {
	Family string // task_family
	// Cluster is the cluster's short name (ecs_cluster_name) or its ARN
	// (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME), which Resolve turns into
	// the name, Region and Account.
	Cluster string
	Region  string   // region (from a cluster ARN)
	Account string   // aws_account (from a cluster ARN)
	Service string   // ecs_service
	Scope   []string // more tags, "key:value" or "!key:value"
	// Services includes the tasks of ECS services (ecs_task_kind:service):
	// without it a monitor watches one-off tasks only (--include-services).
	Services bool
}

// serviceKind is the tag of a service's task, which a monitor leaves out
// unless Filter.Services: a service's task running for weeks is normal.
var serviceKind = dogstatsd.TagTaskKind + ":" + string(uptime.KindService)

// Resolve validates the filter (see Validate) and returns it with a
// cluster ARN turned into the tags the sidecar sends: ecs_cluster_name
// (the short name), region and aws_account. Together they name the one
// cluster the ARN names, where the ARN itself would match no series (the
// cluster_arn tag is only sent when the source knows it). Resolving a
// resolved filter changes nothing.
func (f Filter) Resolve() (Filter, error) {
	if strings.HasPrefix(f.Cluster, "arn:") {
		region, account, name, ok := clusterARN(f.Cluster)
		if !ok {
			return f, &FilterError{"cluster", f.Cluster, "want a cluster name or a cluster ARN, arn:aws:ecs:REGION:ACCOUNT:cluster/NAME"}
		}
		for _, v := range []struct{ flag, have, want string }{{"region", f.Region, region}, {"account", f.Account, account}} {
			if v.have != "" && !strings.EqualFold(v.have, v.want) {
				return f, &FilterError{"cluster", f.Cluster, fmt.Sprintf("the ARN's %s is %s, the filter's %s", v.flag, v.want, v.have)}
			}
		}
		f.Cluster, f.Region, f.Account = name, region, account
	}
	return f, f.Validate()
}

// clusterARN splits arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME.
func clusterARN(s string) (region, account, name string, ok bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "ecs" || parts[3] == "" || parts[4] == "" {
		return "", "", "", false
	}
	name, ok = strings.CutPrefix(parts[5], "cluster/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", "", "", false
	}
	return parts[3], parts[4], name, true
}

// Tags returns the filter as Datadog scope tags, values lowercased as
// Datadog stores tags.
func (f Filter) Tags() []string {
	var tags []string
	for _, t := range []struct{ key, value string }{
		{dogstatsd.TagTaskFamily, f.Family},
		{dogstatsd.TagClusterName, f.Cluster},
		{dogstatsd.TagRegion, f.Region},
		{dogstatsd.TagAccount, f.Account},
		{dogstatsd.TagService, f.Service},
	} {
		if t.value != "" {
			tags = append(tags, t.key+":"+strings.ToLower(t.value))
		}
	}
	for _, s := range f.Scope {
		tags = append(tags, strings.ToLower(s))
	}
	return tags
}

// FilterError is a filter value that cannot go into a Datadog query; Flag
// names the command-line flag it came from.
type FilterError struct {
	Flag, Value, Reason string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("--%s %q: %s", e.Flag, e.Value, e.Reason)
}

// Validate refuses values that would break or widen the query: Datadog tag
// values hold letters, digits and _ - . / : (and * as a wildcard); a ',',
// '{', '}', '"', '(', ')' or a space would end the scope or the string.
//
// An ARN in Family or Service, a revision in Family (db-migrate:42) and an
// unresolved cluster ARN are refused too: the tags hold short names, so
// the query would never match.
func (f Filter) Validate() error {
	for _, v := range []struct{ flag, value, short string }{
		{"family", f.Family, "the task definition family's name, such as db-migrate"},
		{"cluster", f.Cluster, "the cluster's name, or its ARN through Resolve"},
		{"cluster", f.Region, ""}, // from the cluster's ARN
		{"cluster", f.Account, ""},
		{"service", f.Service, "the service's name, such as web"},
	} {
		if v.value == "" {
			continue
		}
		if bad := badChars(v.value); bad != "" {
			return &FilterError{v.flag, v.value, "a tag value may only hold letters, digits, _ - . / : and * (found " + bad + ")"}
		}
		if strings.HasPrefix(v.value, "arn:") && v.short != "" {
			return &FilterError{v.flag, v.value, "want " + v.short + ": the " + v.flag + " tag holds no ARN, so the query would never match"}
		}
	}
	if _, rev, ok := strings.Cut(f.Family, ":"); ok {
		return &FilterError{"family", f.Family, "task_family holds no revision: use the family's name (--scope task_version:" + rev + " picks one revision)"}
	}
	for _, s := range f.Scope {
		t := strings.TrimPrefix(s, "!")
		k, v, ok := strings.Cut(t, ":")
		switch {
		case !ok || k == "" || v == "":
			return &FilterError{"scope", s, "want key:value (or !key:value), one per --scope"}
		case !isLetter(k[0]):
			return &FilterError{"scope", s, "a tag key starts with a letter"}
		case badChars(t) != "":
			return &FilterError{"scope", s, "a tag may only hold letters, digits, _ - . / : and * (found " + badChars(t) + ")"}
		case !f.Services && strings.EqualFold(s, serviceKind):
			return &FilterError{"scope", s, "service tasks are left out unless --include-services, so the query would never match"}
		}
	}
	return nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// badChars returns the characters of v that a Datadog scope cannot hold,
// quoted, or "".
func badChars(v string) string {
	var bad []string
	for _, r := range v {
		ok := r < 0x80 && (isLetter(byte(r)) || r >= '0' && r <= '9' || strings.ContainsRune("_-./:*", r))
		if !ok {
			bad = append(bad, strconv.QuoteRune(r))
		}
	}
	return strings.Join(bad, " ")
}

// scope returns the filter as a metric query scope, services left out
// unless f.Services: "*" for all tasks. A series without ecs_task_kind
// (sent by an older ecs-uptime) matches "!ecs_task_kind:service".
func (f Filter) scope() string {
	tags := f.Tags()
	if !f.Services {
		tags = append(tags, "!"+serviceKind)
	}
	if len(tags) > 0 {
		return strings.Join(tags, ",")
	}
	return "*"
}

// describe names the filter for a monitor name: "one-off tasks" (services
// left out) or "all tasks", then the tags.
func (f Filter) describe() string {
	what := "one-off tasks"
	if f.Services {
		what = "all tasks"
	}
	if tags := f.Tags(); len(tags) > 0 {
		return what + ": " + strings.Join(tags, ", ")
	}
	return what
}

// Monitor is a monitor in the form of Datadog's Monitors API
// (POST /api/v1/monitor).
type Monitor struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Query   string   `json:"query"`
	Message string   `json:"message"`
	Tags    []string `json:"tags"`
	Options Options  `json:"options"`
}

// Options are the monitor options ecs-uptime sets.
type Options struct {
	Thresholds        Thresholds `json:"thresholds"`
	NotifyNoData      bool       `json:"notify_no_data"`
	NoDataTimeframe   int64      `json:"no_data_timeframe,omitempty"`   // minutes, with NotifyNoData
	RequireFullWindow *bool      `json:"require_full_window,omitempty"` // metric monitors

	IncludeTags bool `json:"include_tags"`
	// TimeoutH resolves a triggered group after that many hours without
	// data (1 to 24), with the monitor's recovery message.
	TimeoutH int64 `json:"timeout_h,omitempty"`
}

// Thresholds are the monitor's alert thresholds: seconds of uptime for
// Metric, a number of tasks for Concurrency, counts of consecutive
// statuses for a service check.
type Thresholds struct {
	Critical float64  `json:"critical"`
	Warning  *float64 `json:"warning,omitempty"`
	OK       *float64 `json:"ok,omitempty"`
}

// Monitor types, as the Monitors API names them.
const (
	TypeMetric       = "metric alert"
	TypeServiceCheck = "service check"
)

// monitorTag marks the monitors ecs-uptime wrote, to find them in Datadog.
const monitorTag = "created-by:ecs-uptime"

// resolveHours is every monitor's timeout_h: a group that has sent nothing
// for an hour resolves, with its recovery message.
//
// A task that stops stops reporting, and Datadog keeps a group of a gauge
// metric monitor or of a service-check monitor at its last status while no
// data comes ("Show last known status" is the default for gauges,
// docs.datadoghq.com/monitors/configuration/#no-data), so without it a task
// that stopped would stay in ALERT and never send its recovery message.
// timeout_h is a common option of every monitor type, "the number of hours
// of the monitor not reporting data before it automatically resolves from
// a triggered state", 0 to 24 (docs.datadoghq.com/monitors/guide/monitor_api_options,
// Common options); "auto-resolve works when data is no longer being
// submitted" (docs.datadoghq.com/monitors/configuration/#auto-resolve), so
// it never resolves a task that still reports.
//
// The other ways are wrong here: on_missing_data "resolve" ("Show OK")
// acts once the evaluation window (5 minutes, not configurable) is empty,
// so a scan held up for minutes would resolve and page again, and Datadog
// has refused it for gauge metric monitors (issue 23); notify_no_data
// would page for the good outcome, and a group that goes through NO DATA
// sends no recovery notification ("Recovery notifications are not
// triggered if a monitor transitions through a NO_DATA state",
// docs.datadoghq.com/monitors/faq/can-i-create-monitor-dependencies);
// renotify only repeats an alert that holds.
const resolveHours = 1

// taskGroups are the tags a monitor on task series groups by: one group
// per task, with the cluster's name and region that its message names
// (Datadog fills {{key.name}} only for a group-by tag,
// docs.datadoghq.com/monitors/notify/variables/#multi-alert-variables).
// Every task series carries them: region comes from the task ARN, and the
// cluster from the ARN or the source. A task's cluster and region never
// change, so they make no more groups than task_arn alone.
var taskGroups = []string{dogstatsd.TagTaskARN, dogstatsd.TagClusterName, dogstatsd.TagRegion}

// tv is the template variable of a group-by tag: {{key.name}}.
func tv(key string) string { return "{{" + key + ".name}}" }

// hoursRunning is {{value}}, a task's uptime in seconds, as hours with one
// decimal (truncated: 26.0 for 26h03m), through Datadog's template
// evaluation (docs.datadoghq.com/monitors/guide/template-variable-evaluation:
// int() and the / operator); 10.0, not 10, so that no evaluator divides
// the integer int() returns as an integer.
const hoursRunning = `{{eval "int(value/360)/10.0"}}`

// Metric returns the metric monitor on ecs.task.uptime for the filter:
// one alert per task whose uptime stays over critical (warning, when not
// 0) for the last 5 minutes.
//
// notify_no_data is off: a task that stops stops reporting, which is the
// good outcome, not a failure to page for; its alert resolves an hour
// after its last report (see resolveHours).
func Metric(f Filter, warning, critical time.Duration) (Monitor, error) {
	f, err := f.Resolve()
	if err != nil {
		return Monitor{}, err
	}
	if critical <= 0 {
		return Monitor{}, fmt.Errorf("--critical %s: a metric monitor needs a critical threshold over 0", critical)
	}
	if warning < 0 || warning >= critical {
		return Monitor{}, fmt.Errorf("--warning %s: want 0 (off) or less than --critical %s", warning, critical)
	}
	th := Thresholds{Critical: critical.Seconds()}
	if warning > 0 {
		w := warning.Seconds()
		th.Warning = &w
	}
	return Monitor{
		Name: fmt.Sprintf("ECS task running over %s (%s)", lifetime.Age(critical), f.describe()),
		Type: TypeMetric,
		Query: fmt.Sprintf("max(last_5m):max:%s{%s} by {%s} > %s",
			dogstatsd.MetricTaskUptime, f.scope(), strings.Join(taskGroups, ","), number(th.Critical)),
		Message: metricMessage(critical, warning),
		Tags:    []string{monitorTag},
		// A task that has just crossed the threshold must page although
		// its series is younger than the window.
		Options: Options{Thresholds: th, NotifyNoData: false, RequireFullWindow: new(bool), IncludeTags: true, TimeoutH: resolveHours},
	}, nil
}

// ServiceCheck returns the service-check monitor on ecs.task.lifetime for
// the filter: one alert per task, from the WARNING and CRITICAL the
// sidecar itself sends against its ECS_UPTIME_WARNING/ECS_UPTIME_CRITICAL.
// The thresholds are the sidecar's, so this monitor has none of its own.
func ServiceCheck(f Filter) (Monitor, error) {
	f, err := f.Resolve()
	if err != nil {
		return Monitor{}, err
	}
	one := 1.0
	return Monitor{
		Name:    fmt.Sprintf("ECS task lifetime (%s)", f.describe()),
		Type:    TypeServiceCheck,
		Query:   checkAlert(dogstatsd.CheckTaskLifetime, f, taskGroups),
		Message: checkMessage(),
		Tags:    []string{monitorTag},
		Options: Options{Thresholds: Thresholds{Critical: 1, Warning: &one, OK: &one}, NotifyNoData: false, IncludeTags: true, TimeoutH: resolveHours},
	}, nil
}

// Stuck returns the service-check monitor on ecs.task.stuck, which the api
// source sends for a task in a status other than RUNNING and STOPPED: one
// alert per task and status (ecs_task_status), from the CRITICAL it sends
// once the task has been in that status for ECS_UPTIME_STUCK_AFTER,
// resolved by the OK it sends when the task leaves the status, or an hour
// after the task's last report. The threshold is the scanner's, so this
// monitor has none of its own.
func Stuck(f Filter) (Monitor, error) {
	f, err := f.Resolve()
	if err != nil {
		return Monitor{}, err
	}
	one := 1.0
	return Monitor{
		Name:    fmt.Sprintf("ECS task stuck before or after it runs (%s)", f.describe()),
		Type:    TypeServiceCheck,
		Query:   checkAlert(dogstatsd.CheckTaskStuck, f, append(slices.Clone(taskGroups), dogstatsd.TagTaskStatus)),
		Message: stuckMessage(),
		Tags:    []string{monitorTag},
		Options: Options{Thresholds: Thresholds{Critical: 1, OK: &one}, NotifyNoData: false, IncludeTags: true, TimeoutH: resolveHours},
	}, nil
}

// checkAlert is a check-alert query: one group per combination of the by
// tags, alerting and resolving on the counts of the last 2 statuses.
func checkAlert(check string, f Filter, by []string) string {
	return fmt.Sprintf("%s%s.by(%s).last(2).count_by_status()", strconv.Quote(check), checkScope(f), quoteAll(by))
}

func quoteAll(tags []string) string {
	quoted := make([]string, len(tags))
	for i, t := range tags {
		quoted[i] = strconv.Quote(t)
	}
	return strings.Join(quoted, ",")
}

// where names a task's cluster and region from the group's tags.
func where() string {
	return "in " + tv(dogstatsd.TagClusterName) + " (" + tv(dogstatsd.TagRegion) + ")"
}

func metricMessage(critical, warning time.Duration) string {
	task := tv(dogstatsd.TagTaskARN)
	var b strings.Builder
	fmt.Fprintf(&b, "{{#is_alert}}ECS task %s %s has been running for %s hours, over %s.{{/is_alert}}\n", task, where(), hoursRunning, lifetime.Age(critical))
	if warning > 0 {
		fmt.Fprintf(&b, "{{#is_warning}}ECS task %s %s has been running for %s hours, over %s.{{/is_warning}}\n", task, where(), hoursRunning, lifetime.Age(warning))
	}
	// A task's uptime only grows: its group resolves when nothing has
	// reported it for resolveHours.
	fmt.Fprintf(&b, "{{#is_recovery}}ECS task %s %s has stopped, or is no longer reported: nothing has been sent for it for an hour.{{/is_recovery}}\n", task, where())
	b.WriteString(advice(task))
	return b.String()
}

func checkMessage() string {
	task := tv(dogstatsd.TagTaskARN)
	return fmt.Sprintf("{{#is_alert}}ECS task %s %s: {{check_message}}{{/is_alert}}\n"+
		"{{#is_warning}}ECS task %s %s: {{check_message}}{{/is_warning}}\n"+
		"{{#is_recovery}}ECS task %s %s is back under its thresholds, or has stopped (it has not been reported for an hour).{{/is_recovery}}\n",
		task, where(), task, where(), task, where()) + advice(task)
}

func advice(task string) string {
	return "\nA one-off task (a migration retried by CI, a task started by hand) may have been forgotten. " +
		"If it should not run, stop it: " + stopTask(task) + "\n" +
		"A task that stops stops reporting: this monitor does not alert on missing data, and resolves the task's alert an hour after its last report, with the recovery message."
}

// stopTask is the AWS CLI command that stops the group's task.
func stopTask(task string) string {
	return "aws ecs stop-task --region " + tv(dogstatsd.TagRegion) + " --cluster " + tv(dogstatsd.TagClusterName) + " --task " + task
}

func stuckMessage() string {
	task, status := tv(dogstatsd.TagTaskARN), tv(dogstatsd.TagTaskStatus)
	var b strings.Builder
	fmt.Fprintf(&b, "{{#is_alert}}ECS task %s %s: {{check_message}}{{/is_alert}}\n", task, where())
	fmt.Fprintf(&b, "{{#is_recovery}}ECS task %s %s has left %s, or has not been reported for an hour.{{/is_recovery}}\n\n", task, where(), status)
	b.WriteString("A task stuck before it runs (PROVISIONING, PENDING, ACTIVATING) waits for capacity or for an image it cannot pull; " +
		"one stuck after (DEACTIVATING, STOPPING, DEPROVISIONING) may hold an address or an instance after its role or network interface was deleted. ")
	fmt.Fprintf(&b, "See why: aws ecs describe-tasks --region %s --cluster %s --tasks %s\n", tv(dogstatsd.TagRegion), tv(dogstatsd.TagClusterName), task)
	fmt.Fprintf(&b, "A task that has not started and should not: %s", stopTask(task))
	return b.String()
}

// number writes seconds without a needless fraction: 86400, 0.5.
func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
