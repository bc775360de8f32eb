package monitor

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The Terraform output parses as HCL, and Terraform reads back the very
// name, query and message of the monitor: escaping and the heredoc's
// indentation survive, whatever the message holds.
func TestTerraformReadsBack(t *testing.T) {
	metric, err := Metric(Filter{Family: "db-migrate", Scope: []string{"env:prod"}}, 20*DefaultCritical/24, DefaultCritical)
	if err != nil {
		t.Fatal(err)
	}
	check, err := ServiceCheck(Filter{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	concurrency, err := Concurrency(Filter{Family: "db-migrate", Cluster: "prod"}, DefaultInterval)
	if err != nil {
		t.Fatal(err)
	}
	singleton, err := Singleton(Filter{Family: "db-migrate"}, true)
	if err != nil {
		t.Fatal(err)
	}
	stuck, err := Stuck(Filter{Services: true})
	if err != nil {
		t.Fatal(err)
	}
	tricky := check
	tricky.Name = `a "quoted" name with \ and ${x}`
	tricky.Message = "line with ${var.x} and %{ if } and \"quotes\" and \\ backslash\n\n  indented {{task_arn.name}}\nEOT\nlast"
	for name, m := range map[string]Monitor{"metric": metric, "service check": check, "concurrency": concurrency, "singleton": singleton, "stuck": stuck, "tricky": tricky} {
		t.Run(name, func(t *testing.T) {
			src := Terraform("r", m)
			f, diags := hclsyntax.ParseConfig([]byte(src), "monitor.tf", hcl.Pos{Line: 1, Column: 1})
			if diags.HasErrors() {
				t.Fatalf("HCL: %v\n%s", diags, src)
			}
			body := f.Body.(*hclsyntax.Body)
			if len(body.Blocks) != 1 || body.Blocks[0].Type != "resource" || strings.Join(body.Blocks[0].Labels, " ") != "datadog_monitor r" {
				t.Fatalf("want one resource \"datadog_monitor\" \"r\" block:\n%s", src)
			}
			res := body.Blocks[0].Body
			for attr, want := range map[string]string{"name": m.Name, "type": m.Type, "query": m.Query, "message": strings.TrimRight(m.Message, "\n") + "\n"} {
				a, ok := res.Attributes[attr]
				if !ok {
					t.Errorf("no %s attribute", attr)
					continue
				}
				v, diags := a.Expr.Value(nil)
				if diags.HasErrors() {
					t.Errorf("%s: %v", attr, diags)
					continue
				}
				if got := v.AsString(); got != want {
					t.Errorf("%s reads back as %q, want %q", attr, got, want)
				}
			}
			for attr, want := range map[string]any{"notify_no_data": m.Options.NotifyNoData, "no_data_timeframe": m.Options.NoDataTimeframe, "timeout_h": m.Options.TimeoutH} {
				a, ok := res.Attributes[attr]
				if !ok {
					if n, isInt := want.(int64); isInt && n == 0 {
						continue // left out when not set
					}
					t.Errorf("no %s attribute", attr)
					continue
				}
				v, diags := a.Expr.Value(nil)
				if diags.HasErrors() {
					t.Errorf("%s: %v", attr, diags)
					continue
				}
				var got any
				if v.Type().FriendlyName() == "bool" {
					got = v.True()
				} else {
					n, _ := v.AsBigFloat().Int64()
					got = n
				}
				if got != want {
					t.Errorf("%s reads back as %v, want %v", attr, got, want)
				}
			}
			th := res.Blocks
			if len(th) != 1 || th[0].Type != "monitor_thresholds" {
				t.Fatalf("want one monitor_thresholds block:\n%s", src)
			}
			v, _ := th[0].Body.Attributes["critical"].Expr.Value(nil)
			if f, _ := v.AsBigFloat().Float64(); f != m.Options.Thresholds.Critical {
				t.Errorf("critical %v, want %v", f, m.Options.Thresholds.Critical)
			}
			if m.Options.TimeoutH != 1 && name != "tricky" {
				t.Errorf("timeout_h %d, want 1: a task that stopped resolves within an hour", m.Options.TimeoutH)
			}
		})
	}
}
