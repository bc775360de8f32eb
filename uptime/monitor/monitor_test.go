package monitor

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/dogstatsd"
	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/lifetime"
	"ecs-uptime/uptime/monitor/monitortest"
	"ecs-uptime/uptime/singleton"
)

var update = flag.Bool("update", false, "rewrite the files in monitors/")

// ShippedFiles are the files of monitors/ and how each is made.
func shippedFiles(t *testing.T) map[string][]byte {
	t.Helper()
	metric, err := Metric(Filter{}, 0, DefaultCritical)
	if err != nil {
		t.Fatal(err)
	}
	check, err := ServiceCheck(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	migrate := Filter{Family: "db-migrate"}
	concurrency, err := Concurrency(migrate, DefaultInterval)
	if err != nil {
		t.Fatal(err)
	}
	singleton, err := Singleton(Filter{}, false)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for name, v := range map[string]any{
		"task-uptime.json": metric, "task-lifetime.json": check, "dashboard.json": NewDashboard(DefaultCritical),
		"family-concurrency.json": concurrency, "family-singleton.json": singleton,
	} {
		if files[name], err = JSON(v); err != nil {
			t.Fatal(err)
		}
	}
	files["monitors.tf"] = []byte(strings.Join([]string{
		Terraform(ResourceName("task_uptime", Filter{}), metric),
		Terraform(ResourceName("task_lifetime", Filter{}), check),
		Terraform(ResourceName("family_concurrency", migrate), concurrency),
		Terraform(ResourceName("family_singleton", Filter{}), singleton),
	}, "\n"))
	return files
}

// The files in monitors/ are what this package makes (go generate
// ./uptime/monitor rewrites them), and Datadog's models accept them.
func TestShippedFiles(t *testing.T) {
	files := shippedFiles(t)
	dir := "../../monitors"
	if *update {
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	on, err := filepath.Glob(filepath.Join(dir, "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range on {
		if name := filepath.Base(f); files[name] == nil && name != "README.md" {
			t.Errorf("monitors/%s is not generated here: remove it or generate it", name)
		}
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%v (go generate ./uptime/monitor writes it)", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("monitors/%s is stale: go generate ./uptime/monitor rewrites it. It should be:\n%s", name, want)
		}
		switch {
		case name == "dashboard.json":
			if _, err := monitortest.Dashboard(got); err != nil {
				t.Errorf("monitors/%s: %v", name, err)
			}
		case strings.HasSuffix(name, ".json"):
			if _, err := monitortest.Monitor(got); err != nil {
				t.Errorf("monitors/%s: %v", name, err)
			}
		}
	}
}

// emitted is what the real emitter sends for two tasks of a family listed
// in ECS_UPTIME_SINGLETONS, with every tag, over a real socket: the metric
// and service-check names, and the tag keys of each.
type emitted struct {
	metrics, checks []string
	tagKeys         map[string][]string // metric or check name → its tag keys
}

func emit(t *testing.T) emitted {
	t.Helper()
	agent, err := receiver.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	out, err := dogstatsd.New(dogstatsd.Options{Addr: agent.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	sink := &uptime.Pipeline{Output: out, Stages: []uptime.Stage{uptime.Gauges{},
		lifetime.NewJudge(lifetime.Policy{Critical: DefaultCritical}), singleton.New([]string{"db-migrate"})}}
	task := uptime.Task{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f", Family: "db-migrate", Revision: "42",
		Cluster: "prod", ClusterARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", Region: "eu-west-1",
		Account: "123456789012", AvailabilityZone: "eu-west-1a", Service: "api"}
	retry := task
	retry.ARN = "arn:aws:ecs:eu-west-1:123456789012:task/prod/7a1b"
	cycle := uptime.Cycle{At: time.Now(), Tasks: []uptime.TaskUptime{{Task: task, Uptime: time.Hour}, {Task: retry, Uptime: time.Minute}}}
	if err := sink.Send(context.Background(), cycle); err != nil {
		t.Fatal(err)
	}
	// Two gauges, two ecs.task.lifetime checks, the ecs.family.singleton
	// check and its onset event.
	const want = 6
	packets, errs := agent.Wait(want, 5*time.Second)
	if len(errs) > 0 || len(packets) < want {
		t.Fatalf("received %d packets, errors %v; want %d: the gauges, the service checks and the event", len(packets), errs, want)
	}
	e := emitted{tagKeys: map[string][]string{}}
	for _, p := range packets {
		switch p.Kind {
		case receiver.Metric:
			e.metrics = appendNew(e.metrics, p.Name)
		case receiver.ServiceCheck:
			e.checks = appendNew(e.checks, p.Name)
		default:
			continue
		}
		for _, tag := range p.Tags {
			k, _, _ := strings.Cut(tag, ":")
			e.tagKeys[p.Name] = appendNew(e.tagKeys[p.Name], k)
		}
	}
	if !slices.Contains(e.checks, dogstatsd.CheckFamilySingleton) {
		t.Fatalf("the emitter sent no %s for two tasks of a singleton family (checks %v)", dogstatsd.CheckFamilySingleton, e.checks)
	}
	return e
}

func appendNew(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

var (
	metricQuery = regexp.MustCompile(`^max\(last_5m\):max:([a-z0-9_.]+)\{([^{}]*)\} by \{([^{}]*)\} > ([0-9.]+)$`)
	checkQuery  = regexp.MustCompile(`^"([a-z0-9_.]+)"\.over\(((?:"[^"]*",?)+)\)\.by\(((?:"[^"]+",?)+)\)\.last\(2\)\.count_by_status\(\)$`)
	countQuery  = regexp.MustCompile(`^max\(last_2m\):count_not_null\(max:([a-z0-9_.]+)\{([^{}]*)\} by \{([^{}]*)\}\.fill\(last, ([0-9]+)\)\) > 1$`)
	widgetQuery = regexp.MustCompile(`^max:([a-z0-9_.]+)\{([^{}]*)\} by \{([^{}]*)\}$`)
	templateVar = regexp.MustCompile(`\{\{([a-z_.-]+)\.name\}\}`)
)

// keys returns the keys of comma-separated scope tags, leaving out "*" and
// the free-form ones.
func keys(scope string, free []string) []string {
	var out []string
	for _, tag := range strings.Split(scope, ",") {
		tag = strings.Trim(tag, `"`)
		if tag == "*" || slices.Contains(free, tag) {
			continue
		}
		k, _, _ := strings.Cut(tag, ":")
		out = append(out, k)
	}
	return out
}

// Every monitor and dashboard query names exactly the metric, check and
// tag keys that the emitter sends, parsed out of the query.
func TestQueriesNameWhatTheEmitterSends(t *testing.T) {
	sent := emit(t)
	inSent := func(t *testing.T, what string, names, sentNames []string) {
		t.Helper()
		for _, n := range names {
			if !slices.Contains(sentNames, n) {
				t.Errorf("%s %q is not sent by the emitter (it sends %v)", what, n, sentNames)
			}
		}
	}
	filters := []Filter{
		{},
		{Family: "db-migrate"},
		{Family: "DB-Migrate", Cluster: "prod", Service: "api"},
		{Cluster: "prod", Scope: []string{"env:prod", "!team:web"}},
		{Cluster: "arn:aws:ecs:eu-west-1:111122223333:cluster/prod"},
	}
	for _, f := range filters {
		t.Run(f.describe(), func(t *testing.T) {
			m, err := Metric(f, 20*time.Hour, DefaultCritical)
			if err != nil {
				t.Fatal(err)
			}
			q := metricQuery.FindStringSubmatch(m.Query)
			if q == nil {
				t.Fatalf("metric query %q does not parse", m.Query)
			}
			inSent(t, "metric", []string{q[1]}, sent.metrics)
			inSent(t, "tag key", keys(q[2], f.Scope), sent.tagKeys[q[1]])
			inSent(t, "group-by tag key", strings.Split(q[3], ","), sent.tagKeys[q[1]])
			if q[3] != dogstatsd.TagTaskARN || q[4] != "86400" || m.Options.Thresholds.Critical != 86400 || *m.Options.Thresholds.Warning != 72000 {
				t.Errorf("query %q, thresholds %+v: want by {task_arn} > 86400, warning 72000", m.Query, m.Options.Thresholds)
			}
			for _, v := range templateVar.FindAllStringSubmatch(m.Message, -1) {
				if !slices.Contains(strings.Split(q[3], ","), v[1]) {
					t.Errorf("message uses {{%s.name}}, which is not a group-by tag", v[1])
				}
			}
			resolved, err := f.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range resolved.Tags() {
				if !strings.Contains(q[2], want) || want != strings.ToLower(want) {
					t.Errorf("scope %q lacks %q (lowercased)", q[2], want)
				}
			}

			c, err := ServiceCheck(f)
			if err != nil {
				t.Fatal(err)
			}
			cq := checkQuery.FindStringSubmatch(c.Query)
			if cq == nil {
				t.Fatalf("service-check query %q does not parse", c.Query)
			}
			inSent(t, "service check", []string{cq[1]}, sent.checks)
			inSent(t, "tag key", keys(cq[2], f.Scope), sent.tagKeys[cq[1]])
			inSent(t, "group-by tag key", groupBy(cq[3]), sent.tagKeys[cq[1]])
			templateVarsAreGroups(t, c.Message, groupBy(cq[3]))

			// The concurrency monitor counts the tasks of one family.
			fam := f
			if fam.Family == "" {
				fam.Family = "db-migrate"
			}
			n, err := Concurrency(fam, DefaultInterval)
			if err != nil {
				t.Fatal(err)
			}
			nq := countQuery.FindStringSubmatch(n.Query)
			if nq == nil {
				t.Fatalf("concurrency query %q does not parse", n.Query)
			}
			inSent(t, "metric", []string{nq[1]}, sent.metrics)
			inSent(t, "tag key", keys(nq[2], f.Scope), sent.tagKeys[nq[1]])
			if nq[3] != dogstatsd.TagTaskARN {
				t.Errorf("concurrency query %q counts by {%s}, want by {%s}: one per task", n.Query, nq[3], dogstatsd.TagTaskARN)
			}
			templateVarsAreGroups(t, n.Message, nil)
			resolvedFam, err := fam.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range resolvedFam.Tags() {
				if !slices.Contains(strings.Split(nq[2], ","), want) {
					t.Errorf("concurrency scope %q lacks %q", nq[2], want)
				}
			}

			// The singleton check has no ecs_service tag: no monitor on it
			// takes --service.
			if f.Service != "" {
				if _, err := Singleton(f, false); err == nil {
					t.Errorf("Singleton(%+v): no error, want --service refused", f)
				}
				return
			}
			sg, err := Singleton(f, true)
			if err != nil {
				t.Fatal(err)
			}
			sq := checkQuery.FindStringSubmatch(sg.Query)
			if sq == nil {
				t.Fatalf("singleton query %q does not parse", sg.Query)
			}
			inSent(t, "service check", []string{sq[1]}, sent.checks)
			inSent(t, "tag key", keys(sq[2], f.Scope), sent.tagKeys[sq[1]])
			// The Agent adds host to every service check it forwards.
			inSent(t, "group-by tag key", groupBy(sq[3]), append(slices.Clone(sent.tagKeys[sq[1]]), agentHostTag))
			templateVarsAreGroups(t, sg.Message, groupBy(sq[3]))
		})
	}
	t.Run("dashboard", func(t *testing.T) {
		d := NewDashboard(DefaultCritical)
		vars := map[string]string{}
		for _, v := range d.TemplateVariables {
			vars["$"+v.Name] = v.Prefix
			inSent(t, "template variable tag key", []string{v.Prefix}, sent.tagKeys[dogstatsd.MetricTaskUptime])
		}
		for _, w := range d.Widgets {
			for _, r := range w.Definition.Requests {
				for _, query := range r.Queries {
					q := widgetQuery.FindStringSubmatch(query.Query)
					if q == nil {
						t.Fatalf("widget query %q does not parse", query.Query)
					}
					inSent(t, "metric", []string{q[1]}, sent.metrics)
					inSent(t, "group-by tag key", strings.Split(q[3], ","), sent.tagKeys[q[1]])
					for _, s := range strings.Split(q[2], ",") {
						if _, ok := vars[s]; !ok {
							t.Errorf("widget scope %q uses %s, not a template variable", q[2], s)
						}
					}
				}
			}
		}
	})
}

// groupBy splits the quoted tags of a service check's .by().
func groupBy(by string) []string {
	var out []string
	for _, t := range strings.Split(by, ",") {
		out = append(out, strings.Trim(t, `"`))
	}
	return out
}

// templateVarsAreGroups fails for a {{tag.name}} in message that is not
// one of the monitor's group-by tags: Datadog would leave it empty.
func templateVarsAreGroups(t *testing.T, message string, groups []string) {
	t.Helper()
	for _, v := range templateVar.FindAllStringSubmatch(message, -1) {
		if !slices.Contains(groups, v[1]) {
			t.Errorf("message uses {{%s.name}}, which is not a group-by tag (%v)", v[1], groups)
		}
	}
}

func TestFilterErrorsNameTheFlag(t *testing.T) {
	tests := []struct {
		name string
		f    Filter
		want string
	}{
		{"comma in family", Filter{Family: "a,b"}, `--family "a,b": a tag value may only hold letters, digits, _ - . / : and * (found ',')`},
		{"brace in cluster", Filter{Cluster: "prod}"}, `--cluster "prod}"`},
		{"space in service", Filter{Service: "my api"}, `--service "my api"`},
		{"quote in family", Filter{Family: `x")`}, `--family "x\")"`},
		{"scope without value", Filter{Scope: []string{"env"}}, `--scope "env": want key:value`},
		{"scope with a brace", Filter{Scope: []string{"env:prod}"}}, `--scope "env:prod}"`},
		{"scope key not a letter", Filter{Scope: []string{"1env:prod"}}, "starts with a letter"},
		{"non-ASCII", Filter{Family: "migración"}, `'ó'`},
		{"an ARN that is not a cluster's", Filter{Cluster: "arn:aws:ecs:eu-west-1:111122223333:service/prod/web"},
			`--cluster "arn:aws:ecs:eu-west-1:111122223333:service/prod/web": want a cluster name or a cluster ARN, arn:aws:ecs:REGION:ACCOUNT:cluster/NAME`},
		{"a cluster ARN without a name", Filter{Cluster: "arn:aws:ecs:eu-west-1:111122223333:cluster/"}, "want a cluster name or a cluster ARN"},
		{"a cluster ARN from another region", Filter{Cluster: "arn:aws:ecs:eu-west-1:111122223333:cluster/prod", Region: "us-east-1"}, "the ARN's region is eu-west-1, the filter's us-east-1"},
		{"a task definition ARN as family", Filter{Family: "arn:aws:ecs:eu-west-1:111122223333:task-definition/db-migrate:3"},
			"want the task definition family's name, such as db-migrate: the family tag holds no ARN"},
		{"a family with a revision", Filter{Family: "db-migrate:42"}, `--family "db-migrate:42": task_family holds no revision: use the family's name (--scope task_version:42 picks one revision)`},
		{"a service ARN", Filter{Service: "arn:aws:ecs:eu-west-1:111122223333:service/prod/web"}, "want the service's name, such as web"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for kind, build := range map[string]func() error{
				"metric":        func() error { _, err := Metric(tc.f, 0, DefaultCritical); return err },
				"service check": func() error { _, err := ServiceCheck(tc.f); return err },
				"concurrency":   func() error { _, err := Concurrency(tc.f, DefaultInterval); return err },
				"singleton":     func() error { _, err := Singleton(tc.f, false); return err },
			} {
				err := build()
				var fe *FilterError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: %v, want a FilterError containing %q", kind, err, tc.want)
				}
			}
		})
	}
	if err := (Filter{Family: "db-migrate_2", Cluster: "prod", Service: "api", Scope: []string{"env:prod", "!team:web", "image_tag:1.2.*", "region:eu-west-1"}}).Validate(); err != nil {
		t.Errorf("a good filter: %v", err)
	}
}

// A cluster ARN becomes the three tags the sidecar sends that together
// name that cluster; the ARN itself is in no tag the query could match.
func TestClusterARN(t *testing.T) {
	f := Filter{Family: "db-migrate", Cluster: "arn:aws:ecs:eu-west-1:111122223333:cluster/Prod"}
	m, err := Metric(f, 0, DefaultCritical)
	if err != nil {
		t.Fatal(err)
	}
	want := "max(last_5m):max:ecs.task.uptime{task_family:db-migrate,ecs_cluster_name:prod,region:eu-west-1,aws_account:111122223333} by {task_arn} > 86400"
	if m.Query != want {
		t.Errorf("query %s\nwant  %s", m.Query, want)
	}
	c, err := ServiceCheck(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Query, `.over("task_family:db-migrate","ecs_cluster_name:prod","region:eu-west-1","aws_account:111122223333")`) {
		t.Errorf("service-check query %s: want the cluster's name, region and account", c.Query)
	}
	if got := ResourceName("task_uptime", f); got != "task_uptime_task_family_db_migrate_ecs_cluster_name_prod_region_eu_west_1_aws_account_111122223333" {
		t.Errorf("resource name %s", got)
	}
	r, err := f.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if again, err := r.Resolve(); err != nil || !slices.Equal(again.Tags(), r.Tags()) {
		t.Errorf("resolving twice: %v, %v; want the same filter", again, err)
	}
}

func TestMetricThresholds(t *testing.T) {
	tests := []struct {
		name              string
		warning, critical time.Duration
		wantQuery         string
		wantErr           string
	}{
		{"default", 0, DefaultCritical, "> 86400", ""},
		{"warning and critical", 90 * time.Minute, 2 * time.Hour, "> 7200", ""},
		{"sub-second", 0, 1500 * time.Millisecond, "> 1.5", ""},
		{"no critical", 0, 0, "", "--critical 0s"},
		{"warning over critical", 3 * time.Hour, 2 * time.Hour, "", "--warning 3h0m0s: want 0 (off) or less than --critical"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Metric(Filter{}, tc.warning, tc.critical)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !strings.HasSuffix(m.Query, tc.wantQuery) {
				t.Fatalf("query %q, err %v; want it to end with %q", m.Query, err, tc.wantQuery)
			}
			if tc.warning > 0 && (m.Options.Thresholds.Warning == nil || *m.Options.Thresholds.Warning != tc.warning.Seconds()) {
				t.Errorf("warning threshold %v, want %v", m.Options.Thresholds.Warning, tc.warning.Seconds())
			}
			if tc.warning == 0 && m.Options.Thresholds.Warning != nil {
				t.Errorf("warning threshold %v, want none", *m.Options.Thresholds.Warning)
			}
			if m.Options.NotifyNoData {
				t.Error("notify_no_data is on: a stopped task would page")
			}
			b, err := JSON(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := monitortest.Monitor(b); err != nil {
				t.Errorf("Datadog's model: %v", err)
			}
		})
	}
}

func TestTerraform(t *testing.T) {
	check, err := ServiceCheck(Filter{Family: "db-migrate"})
	if err != nil {
		t.Fatal(err)
	}
	check.Message = "costs ${var.x} and %{if} {{task_arn.name}}"
	tf := Terraform(ResourceName("task_lifetime", Filter{Family: "db-migrate"}), check)
	for _, want := range []string{
		`resource "datadog_monitor" "task_lifetime_task_family_db_migrate" {`,
		`query   = "\"ecs.task.lifetime\".over(\"task_family:db-migrate\").by(\"task_arn\").last(2).count_by_status()"`,
		`costs $${var.x} and %%{if} {{task_arn.name}}`,
		"notify_no_data      = false",
		"critical = 1",
	} {
		if !strings.Contains(tf, want) {
			t.Errorf("terraform lacks %q:\n%s", want, tf)
		}
	}
	if strings.Contains(tf, "require_full_window") {
		t.Error("require_full_window is for metric monitors only")
	}
}

func TestConcurrency(t *testing.T) {
	tests := []struct {
		name     string
		f        Filter
		interval time.Duration
		wantFill string // in the query
		wantMsg  string // in the message
		wantErr  string
	}{
		{name: "api source's interval", f: Filter{Family: "db-migrate"}, interval: DefaultInterval, wantFill: ".fill(last, 90)) > 1", wantMsg: "is running at once (all clusters counted together)"},
		{name: "sidecars only", f: Filter{Family: "db-migrate", Cluster: "prod"}, interval: 15 * time.Second, wantFill: ".fill(last, 45)) > 1", wantMsg: "is running at once in prod: {{value}}"},
		{name: "a fraction of a second rounds up", f: Filter{Family: "db-migrate"}, interval: 1500 * time.Millisecond, wantFill: ".fill(last, 32)) > 1"},
		{name: "the longest fill", f: Filter{Family: "db-migrate"}, interval: 9*time.Minute + 30*time.Second, wantFill: ".fill(last, 600)) > 1"},
		{name: "cluster ARN", f: Filter{Family: "db-migrate", Cluster: "arn:aws:ecs:eu-west-1:111122223333:cluster/prod"}, interval: DefaultInterval,
			wantFill: "{task_family:db-migrate,ecs_cluster_name:prod,region:eu-west-1,aws_account:111122223333} by {task_arn}.fill(last, 90)", wantMsg: "aws ecs list-tasks --cluster prod --region eu-west-1 --family db-migrate"},
		{name: "over the longest fill", f: Filter{Family: "db-migrate"}, interval: 9*time.Minute + 31*time.Second, wantErr: "--interval 9m31s: want more than 0s and at most 9m30s"},
		{name: "no interval", f: Filter{Family: "db-migrate"}, interval: 0, wantErr: "--interval 0s"},
		{name: "no family", f: Filter{Cluster: "prod"}, interval: DefaultInterval, wantErr: `--family "": the concurrency monitor counts the tasks of one family`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Concurrency(tc.f, tc.interval)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(m.Query, "max(last_2m):count_not_null(max:ecs.task.uptime{") || !strings.Contains(m.Query, tc.wantFill) {
				t.Errorf("query %s: want max(last_2m):count_not_null(max:ecs.task.uptime{…} by {task_arn}…%s", m.Query, tc.wantFill)
			}
			th := m.Options.Thresholds
			if m.Type != TypeQuery || th.Critical != 1 || th.Warning != nil || th.OK != nil {
				t.Errorf("type %q, thresholds %+v: want query alert, critical 1 only", m.Type, th)
			}
			if m.Options.NotifyNoData || m.Options.RequireFullWindow == nil || *m.Options.RequireFullWindow {
				t.Error("want notify_no_data off (no task is the usual state) and require_full_window off (two tasks that start together page at once)")
			}
			for _, want := range []string{tc.wantMsg, "More than one task of db-migrate is running at once", "aws ecs list-tasks", "--family db-migrate", "aws ecs stop-task"} {
				if !strings.Contains(m.Message, want) {
					t.Errorf("message lacks %q:\n%s", want, m.Message)
				}
			}
			b, err := JSON(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := monitortest.Monitor(b); err != nil {
				t.Errorf("Datadog's model: %v", err)
			}
		})
	}
}

func TestSingleton(t *testing.T) {
	tests := []struct {
		name         string
		f            Filter
		notifyNoData bool
		wantQuery    string
		wantName     string
		wantErr      string
	}{
		{name: "every singleton family", wantQuery: `"ecs.family.singleton".over("*").by("host","task_family","cluster_arn").last(2).count_by_status()`,
			wantName: "More than one ECS task of an ECS_UPTIME_SINGLETONS family at once"},
		{name: "one family in one cluster, no data pages", f: Filter{Family: "db-migrate", Cluster: "arn:aws:ecs:eu-west-1:111122223333:cluster/prod"}, notifyNoData: true,
			wantQuery: `"ecs.family.singleton".over("task_family:db-migrate","ecs_cluster_name:prod","region:eu-west-1","aws_account:111122223333").by("host","task_family","cluster_arn").last(2).count_by_status()`,
			wantName:  "More than one ECS task of db-migrate at once"},
		{name: "a service", f: Filter{Family: "db-migrate", Service: "api"}, wantErr: `--service "api": the ecs.family.singleton check has no ecs_service tag`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Singleton(tc.f, tc.notifyNoData)
			if tc.wantErr != "" {
				var fe *FilterError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want a FilterError with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Query != tc.wantQuery || !strings.HasPrefix(m.Name, tc.wantName) || m.Type != TypeServiceCheck {
				t.Errorf("type %q, name %q, query\n%s\nwant name %q, query\n%s", m.Type, m.Name, m.Query, tc.wantName, tc.wantQuery)
			}
			th := m.Options.Thresholds
			if th.Critical != 1 || th.OK == nil || *th.OK != 1 || th.Warning != nil {
				t.Errorf("thresholds %+v: want critical 1, ok 1 and no warning (the check is never WARNING)", th)
			}
			if m.Options.NotifyNoData != tc.notifyNoData || (m.Options.NoDataTimeframe > 0) != tc.notifyNoData ||
				strings.Contains(m.Message, "{{#is_no_data}}") != tc.notifyNoData {
				t.Errorf("notify_no_data %v, no_data_timeframe %d, message %q: want all three to follow notifyNoData %v",
					m.Options.NotifyNoData, m.Options.NoDataTimeframe, m.Message, tc.notifyNoData)
			}
			if m.Options.RequireFullWindow != nil {
				t.Error("require_full_window is for metric monitors only")
			}
			if !strings.HasPrefix(m.Message, "{{#is_alert}}{{check_message}}{{/is_alert}}") {
				t.Errorf("message %q: want the check's own message, which names the tasks, first", m.Message)
			}
			b, err := JSON(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := monitortest.Monitor(b); err != nil {
				t.Errorf("Datadog's model: %v", err)
			}
		})
	}
}
