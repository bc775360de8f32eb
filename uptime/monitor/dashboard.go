package monitor

import (
	"fmt"
	"strings"
	"time"

	"ecs-uptime/uptime/dogstatsd"
	"ecs-uptime/uptime/lifetime"
)

// Dashboard is a dashboard in the form of Datadog's Dashboards API
// (POST /api/v1/dashboard), with only the fields ecs-uptime sets.
type Dashboard struct {
	Title             string             `json:"title"`
	Description       string             `json:"description"`
	LayoutType        string             `json:"layout_type"`
	TemplateVariables []TemplateVariable `json:"template_variables"`
	Widgets           []Widget           `json:"widgets"`
}

// TemplateVariable is a dashboard filter on one tag.
type TemplateVariable struct {
	Name     string   `json:"name"`
	Prefix   string   `json:"prefix"`
	Defaults []string `json:"defaults"`
}

// Widget holds one widget definition.
type Widget struct {
	Definition WidgetDefinition `json:"definition"`
}

// WidgetDefinition is a toplist or a timeseries widget.
type WidgetDefinition struct {
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Time       *WidgetTime `json:"time,omitempty"`
	ShowLegend *bool       `json:"show_legend,omitempty"`
	Requests   []Request   `json:"requests"`
	Markers    []Marker    `json:"markers,omitempty"`
}

// WidgetTime gives a widget its own time frame instead of the dashboard's.
type WidgetTime struct {
	LiveSpan string `json:"live_span"` // "5m": the last 5 minutes
}

// Request is a widget request in the formulas-and-functions form.
type Request struct {
	ResponseFormat string    `json:"response_format"`
	Queries        []Query   `json:"queries"`
	Formulas       []Formula `json:"formulas"`
	DisplayType    string    `json:"display_type,omitempty"`
}

// Query is a metrics query of a request.
type Query struct {
	DataSource string `json:"data_source"`
	Name       string `json:"name"`
	Query      string `json:"query"`
	Aggregator string `json:"aggregator,omitempty"`
}

// Formula turns queries into what the widget shows.
type Formula struct {
	Formula string `json:"formula"`
	Alias   string `json:"alias,omitempty"`
	Limit   *Limit `json:"limit,omitempty"`
}

// Limit keeps the top rows of a toplist.
type Limit struct {
	Count int64  `json:"count"`
	Order string `json:"order"`
}

// Marker is a horizontal line on a timeseries.
type Marker struct {
	Value       string `json:"value"`
	DisplayType string `json:"display_type"`
	Label       string `json:"label"`
}

// runningNow is the time frame of the oldest-tasks list: a task that
// reported within it is running now. Every source reports at least every
// 60s (the api source's default interval), and the Agent stamps gauges
// into 10s buckets, so a running task has several points in it; a task
// that stopped leaves the list within 5 minutes.
const runningNow = "5m"

// NewDashboard returns the ecs-uptime dashboard: the tasks running now,
// oldest first (hours, by family and task ARN), and the oldest task's
// uptime per family over the dashboard's time frame, with the critical
// threshold drawn, filtered by cluster and family, services left out
// unless services (then filtered by service too).
//
// The list has its own time frame, the last 5 minutes: a toplist shows the
// last value of every series of its time frame, so over the dashboard's
// (a day, a week) it would list every task of that time, stopped ones
// included, each at the age it had when it stopped.
func NewDashboard(critical time.Duration, services bool) Dashboard {
	vars := []TemplateVariable{
		{Name: "cluster", Prefix: dogstatsd.TagClusterName, Defaults: []string{"*"}},
		{Name: "family", Prefix: dogstatsd.TagTaskFamily, Defaults: []string{"*"}},
	}
	if services {
		vars = append(vars, TemplateVariable{Name: "service", Prefix: dogstatsd.TagService, Defaults: []string{"*"}})
	}
	scope := make([]string, len(vars))
	for i, v := range vars {
		scope[i] = "$" + v.Name
	}
	which := "one-off tasks (ECS services' tasks left out)"
	if !services {
		scope = append(scope, "!"+serviceKind)
	} else {
		which = "every task, ECS services' included"
	}
	query := func(by ...string) string {
		return fmt.Sprintf("max:%s{%s} by {%s}", dogstatsd.MetricTaskUptime, strings.Join(scope, ","), strings.Join(by, ","))
	}
	hours := "query1 / 3600"
	show := true
	return Dashboard{
		Title: "ECS task uptime (ecs-uptime)",
		Description: "How long ECS tasks have been running, from ecs-uptime's " + dogstatsd.MetricTaskUptime +
			" (seconds, shown in hours), for " + which + ". A task that runs for days by mistake tops the list.",
		LayoutType:        "ordered",
		TemplateVariables: vars,
		Widgets: []Widget{
			{Definition: WidgetDefinition{
				Type:  "toplist",
				Title: "Tasks running now, oldest first (hours; reported in the last 5 minutes)",
				Time:  &WidgetTime{LiveSpan: runningNow},
				Requests: []Request{{
					ResponseFormat: "scalar",
					Queries:        []Query{{DataSource: "metrics", Name: "query1", Query: query(dogstatsd.TagTaskFamily, dogstatsd.TagTaskARN), Aggregator: "last"}},
					Formulas:       []Formula{{Formula: hours, Alias: "hours running", Limit: &Limit{Count: 25, Order: "desc"}}},
				}},
			}},
			{Definition: WidgetDefinition{
				Type:       "timeseries",
				Title:      "Max task uptime per family (hours)",
				ShowLegend: &show,
				Requests: []Request{{
					ResponseFormat: "timeseries",
					Queries:        []Query{{DataSource: "metrics", Name: "query1", Query: query(dogstatsd.TagTaskFamily)}},
					Formulas:       []Formula{{Formula: hours, Alias: "hours running"}},
					DisplayType:    "line",
				}},
				Markers: []Marker{{Value: "y = " + number(critical.Hours()), DisplayType: "error dashed", Label: "critical (" + lifetime.Age(critical) + ")"}},
			}},
		},
	}
}
