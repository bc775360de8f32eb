// Package monitor writes the Datadog monitors and the dashboard that watch
// ecs-uptime's output, as Monitors API JSON or as a Terraform
// datadog_monitor resource, and a small dashboard as Dashboards API JSON:
// a metric monitor on ecs.task.uptime and a service-check monitor on
// ecs.task.lifetime, both grouped by task_arn so that each task pages on
// its own; and for a family of which one task at a time should run, a
// metric monitor that counts its tasks (Concurrency) and a service-check
// monitor on ecs.family.singleton (Singleton).
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
	"strconv"
	"strings"
	"time"

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
}

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

// scope returns the filter as a metric query scope: "*" for all tasks.
func (f Filter) scope() string {
	if tags := f.Tags(); len(tags) > 0 {
		return strings.Join(tags, ",")
	}
	return "*"
}

// describe names the filter for a monitor name: "all tasks" or the tags.
func (f Filter) describe() string {
	if tags := f.Tags(); len(tags) > 0 {
		return strings.Join(tags, ", ")
	}
	return "all tasks"
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

	IncludeTags      bool  `json:"include_tags"`
	RenotifyInterval int64 `json:"renotify_interval,omitempty"`
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

// Metric returns the metric monitor on ecs.task.uptime for the filter:
// one alert per task ARN whose uptime stays over critical (warning, when
// not 0) for the last 5 minutes.
//
// notify_no_data is off: a task that stops stops reporting, which is the
// good outcome, not a failure to page for.
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
			dogstatsd.MetricTaskUptime, f.scope(), dogstatsd.TagTaskARN, number(th.Critical)),
		Message: metricMessage(critical, warning),
		Tags:    []string{monitorTag},
		// A task that has just crossed the threshold must page although
		// its series is younger than the window.
		Options: Options{Thresholds: th, NotifyNoData: false, RequireFullWindow: new(bool), IncludeTags: true},
	}, nil
}

// ServiceCheck returns the service-check monitor on ecs.task.lifetime for
// the filter: one alert per task ARN, from the WARNING and CRITICAL the
// sidecar itself sends against its ECS_UPTIME_WARNING/ECS_UPTIME_CRITICAL.
// The thresholds are the sidecar's, so this monitor has none of its own.
func ServiceCheck(f Filter) (Monitor, error) {
	f, err := f.Resolve()
	if err != nil {
		return Monitor{}, err
	}
	one := 1.0
	return Monitor{
		Name: fmt.Sprintf("ECS task lifetime (%s)", f.describe()),
		Type: TypeServiceCheck,
		Query: fmt.Sprintf("%s.over(%s).by(%s).last(2).count_by_status()",
			strconv.Quote(dogstatsd.CheckTaskLifetime), checkScope(f), strconv.Quote(dogstatsd.TagTaskARN)),
		Message: checkMessage(),
		Tags:    []string{monitorTag},
		Options: Options{Thresholds: Thresholds{Critical: 1, Warning: &one, OK: &one}, NotifyNoData: false, IncludeTags: true},
	}, nil
}

func metricMessage(critical, warning time.Duration) string {
	task := "{{" + dogstatsd.TagTaskARN + ".name}}"
	var b strings.Builder
	fmt.Fprintf(&b, "{{#is_alert}}ECS task %s has been running for {{value}} s, over %s ({{threshold}} s).{{/is_alert}}\n", task, lifetime.Age(critical))
	if warning > 0 {
		fmt.Fprintf(&b, "{{#is_warning}}ECS task %s has been running for {{value}} s, over %s ({{warn_threshold}} s).{{/is_warning}}\n", task, lifetime.Age(warning))
	}
	fmt.Fprintf(&b, "{{#is_recovery}}ECS task %s is no longer over the threshold.{{/is_recovery}}\n", task)
	b.WriteString(advice(task))
	return b.String()
}

func checkMessage() string {
	task := "{{" + dogstatsd.TagTaskARN + ".name}}"
	return fmt.Sprintf("{{#is_alert}}ECS task %s: {{check_message}}{{/is_alert}}\n"+
		"{{#is_warning}}ECS task %s: {{check_message}}{{/is_warning}}\n"+
		"{{#is_recovery}}ECS task %s has stopped or is back under its thresholds.{{/is_recovery}}\n", task, task, task) + advice(task)
}

func advice(task string) string {
	return "\nA one-off task (a migration retried by CI, a task started by hand) may have been forgotten. " +
		"If it should not run, stop it: aws ecs stop-task --cluster CLUSTER --task " + task + "\n" +
		"A task that stops stops reporting: no data is the good outcome, so this monitor does not alert on it."
}

// number writes seconds without a needless fraction: 86400, 0.5.
func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
