package monitortest

import (
	"strings"
	"testing"
)

const goodMonitor = `{
  "name": "m",
  "type": "metric alert",
  "query": "max(last_5m):max:ecs.task.uptime{*} by {task_arn} > 86400",
  "message": "{{task_arn.name}}",
  "tags": ["a:b"],
  "options": {"thresholds": {"critical": 86400, "warning": 72000}, "notify_no_data": false, "include_tags": true, "timeout_h": 1}
}`

const goodDashboard = `{
  "title": "d",
  "layout_type": "ordered",
  "template_variables": [{"name": "cluster", "prefix": "ecs_cluster_name", "defaults": ["*"]}],
  "widgets": [
    {"definition": {"type": "toplist", "title": "t", "time": {"live_span": "5m"}, "requests": [{"response_format": "scalar",
      "queries": [{"data_source": "metrics", "name": "query1", "query": "max:ecs.task.uptime{$cluster} by {task_arn}", "aggregator": "last"}],
      "formulas": [{"formula": "query1 / 3600", "limit": {"count": 25, "order": "desc"}}]}]}},
    {"definition": {"type": "timeseries", "requests": [{"response_format": "timeseries",
      "queries": [{"data_source": "metrics", "name": "query1", "query": "max:ecs.task.uptime{$cluster}"}],
      "formulas": [{"formula": "query1"}], "display_type": "line"}],
      "markers": [{"value": "y = 24", "display_type": "error dashed"}]}}
  ]
}`

func TestChecks(t *testing.T) {
	tests := []struct {
		name, doc string
		dashboard bool
		old, new  string
		want      string // "" for no error
	}{
		{name: "good monitor", doc: goodMonitor},
		{name: "good dashboard", doc: goodDashboard, dashboard: true},
		{name: "misspelled monitor field", doc: goodMonitor, old: `"message"`, new: `"mesage"`, want: "fields not in Datadog's model (Monitor): mesage"},
		{name: "misspelled option", doc: goodMonitor, old: `"notify_no_data"`, new: `"notify_nodata"`, want: "options: fields not in Datadog's model (MonitorOptions): notify_nodata"},
		{name: "unknown monitor type", doc: goodMonitor, old: `"metric alert"`, new: `"metric alrt"`, want: "UnparsedObject of Monitor"},
		{name: "misspelled auto-resolve option", doc: goodMonitor, old: `"timeout_h"`, new: `"timeout_hours"`, want: "options: fields not in Datadog's model (MonitorOptions): timeout_hours"},
		{name: "auto-resolve of the wrong type", doc: goodMonitor, old: `"timeout_h": 1`, new: `"timeout_h": "1h"`, want: "UnparsedObject"},
		{name: "threshold of the wrong type", doc: goodMonitor, old: `"critical": 86400`, new: `"critical": "86400"`, want: "UnparsedObject"},
		{name: "misspelled dashboard field", doc: goodDashboard, dashboard: true, old: `"layout_type"`, new: `"layout"`, want: "layout"},
		{name: "unknown widget type", doc: goodDashboard, dashboard: true, old: `"toplist"`, new: `"toplst"`, want: "widgets[0].definition: not in Datadog's model (UnparsedObject of WidgetDefinition)"},
		{name: "misspelled field deep in a widget", doc: goodDashboard, dashboard: true, old: `"order": "desc"`, new: `"ordre": "desc"`, want: "WidgetDefinition"},
		{name: "misspelled marker field", doc: goodDashboard, dashboard: true, old: `"display_type": "error dashed"`, new: `"display": "error dashed"`, want: "WidgetDefinition"},
		{name: "widget time frame Datadog does not have", doc: goodDashboard, dashboard: true, old: `"live_span": "5m"`, new: `"live_span": "3m"`, want: "WidgetDefinition"},
		{name: "misspelled template variable field", doc: goodDashboard, dashboard: true, old: `"prefix"`, new: `"prefx"`, want: "template_variables[0]: fields not in Datadog's model (DashboardTemplateVariable): prefx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.doc
			if tc.old != "" {
				if !strings.Contains(doc, tc.old) {
					t.Fatalf("no %q to replace", tc.old)
				}
				doc = strings.Replace(doc, tc.old, tc.new, 1)
			}
			var err error
			if tc.dashboard {
				_, err = Dashboard([]byte(doc))
			} else {
				_, err = Monitor([]byte(doc))
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
}
