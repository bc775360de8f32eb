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
	stuck, err := Stuck(Filter{})
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
		"task-uptime.json": metric, "task-lifetime.json": check, "task-stuck.json": stuck, "dashboard.json": NewDashboard(DefaultCritical, false),
		"family-concurrency.json": concurrency, "family-singleton.json": singleton,
	} {
		if files[name], err = JSON(v); err != nil {
			t.Fatal(err)
		}
	}
	files["monitors.tf"] = []byte(strings.Join([]string{
		Terraform(ResourceName("task_uptime", Filter{}), metric),
		Terraform(ResourceName("task_lifetime", Filter{}), check),
		Terraform(ResourceName("task_stuck", Filter{}), stuck),
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

// The tasks the emitter is run with: two one-offs of a family listed in
// ECS_UPTIME_SINGLETONS (a migration and its retry), a service's task, and
// a task whose kind the source does not know.
var (
	migrateTask = uptime.Task{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f", Family: "db-migrate", Revision: "42",
		Cluster: "prod", ClusterARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", Region: "eu-west-1",
		Account: "123456789012", AvailabilityZone: "eu-west-1a", Kind: uptime.KindStandalone, StartedBy: "ci"}
	serviceTask = uptime.Task{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/9e0d", Family: "web", Revision: "7",
		Cluster: "prod", ClusterARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", Region: "eu-west-1",
		Account: "123456789012", Service: "api", Kind: uptime.KindService, StartedBy: "ecs-svc/123"}
	unknownTask = uptime.Task{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/3b4a", Family: "report", Revision: "1",
		Cluster: "prod", ClusterARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", Region: "eu-west-1",
		Account: "123456789012", Kind: uptime.KindUnknown}
)

// stuckProbe sends, for every task of the cycle, the ecs.task.stuck check
// the api source sends for a task stuck in PROVISIONING (the stage that
// judges it lives elsewhere; here only the line matters).
type stuckProbe struct{}

func (stuckProbe) Judge(c *uptime.Cycle, s *uptime.Signals) {
	for i := range c.Tasks {
		s.Checks = append(s.Checks, uptime.Check{Name: uptime.CheckTaskStuck, Status: uptime.Critical,
			Message: "stuck in PROVISIONING for 1h05m", About: uptime.Subject{Task: c.Tasks[i].Task, Status: "PROVISIONING"}})
	}
}

// counted writes through the real output and counts the lines it was
// handed (one per gauge, check and event), so that the test waits for all
// of them.
type counted struct {
	uptime.Output
	lines int
}

func (c *counted) Write(ctx context.Context, s *uptime.Signals) error {
	c.lines += len(s.Gauges) + len(s.Checks) + len(s.Events)
	return c.Output.Write(ctx, s)
}

// emit runs the tasks through the real pipeline stages and output, over a
// real socket, and returns every line as the Agent reads it.
func emit(t *testing.T) []receiver.Packet {
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
	output := &counted{Output: out}
	sink := &uptime.Pipeline{Output: output, Stages: []uptime.Stage{uptime.Gauges{},
		lifetime.NewJudge(lifetime.Policy{Critical: DefaultCritical}), singleton.New([]string{"db-migrate"}), stuckProbe{}}}
	retry := migrateTask
	retry.ARN = "arn:aws:ecs:eu-west-1:123456789012:task/prod/7a1b"
	cycle := uptime.Cycle{At: time.Now(), Tasks: []uptime.TaskUptime{
		{Task: &migrateTask, Uptime: 26 * time.Hour}, {Task: &retry, Uptime: time.Minute},
		{Task: &serviceTask, Uptime: 30 * 24 * time.Hour}, {Task: &unknownTask, Uptime: 25 * time.Hour}}}
	if err := sink.Send(context.Background(), cycle); err != nil {
		t.Fatal(err)
	}
	packets, errs := agent.Wait(output.lines, 5*time.Second)
	if len(errs) > 0 || len(packets) != output.lines {
		t.Fatalf("received %d lines, errors %v; want the %d the output was handed", len(packets), errs, output.lines)
	}
	return packets
}

// lines returns the metric or service-check lines named name, their tags
// lowercased as Datadog stores them.
func lines(wire []receiver.Packet, name string) []receiver.Packet {
	var out []receiver.Packet
	for _, p := range wire {
		if p.Kind != receiver.Event && p.Name == name {
			for i, tag := range p.Tags {
				p.Tags[i] = strings.ToLower(tag)
			}
			out = append(out, p)
		}
	}
	return out
}

// hasTag reports whether tags hold one that pattern matches: key:value,
// with * in the value matching any run of characters, as Datadog scopes
// read it.
func hasTag(tags []string, pattern string) bool {
	re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$")
	return slices.ContainsFunc(tags, re.MatchString)
}

// inScope reports whether a line with tags is in a metric query's scope:
// "*", or comma-separated tags that must all be there, "!tag" for one
// that must not.
func inScope(scope string, tags []string) bool {
	if scope == "*" {
		return true
	}
	for _, s := range strings.Split(scope, ",") {
		if neg, ok := strings.CutPrefix(s, "!"); ok {
			if hasTag(tags, neg) {
				return false
			}
		} else if !hasTag(tags, s) {
			return false
		}
	}
	return true
}

// inCheckScope reports whether a check line with tags is in a service
// check's .over(…).exclude(…): every over tag ("*" for all), no exclude tag.
func inCheckScope(over, exclude, tags []string) bool {
	for _, o := range over {
		if o != "*" && !hasTag(tags, o) {
			return false
		}
	}
	return !slices.ContainsFunc(exclude, func(e string) bool { return hasTag(tags, e) })
}

var (
	metricQuery = regexp.MustCompile(`^max\(last_5m\):max:([a-z0-9_.]+)\{([^{}]*)\} by \{([^{}]*)\} > ([0-9.]+)$`)
	checkQuery  = regexp.MustCompile(`^"([a-z0-9_.]+)"\.over\(((?:"[^"]*",?)+)\)(?:\.exclude\(((?:"[^"]*",?)+)\))?\.by\(((?:"[^"]+",?)+)\)\.last\(([12])\)\.(count|pct)_by_status\(\)$`)
	countQuery  = regexp.MustCompile(`^max\(last_2m\):count_not_null\(max:([a-z0-9_.]+)\{([^{}]*)\} by \{([^{}]*)\}\.fill\(last, ([0-9]+)\)\) > 1$`)
	widgetQuery = regexp.MustCompile(`^max:([a-z0-9_.]+)\{([^{}]*)\} by \{([^{}]*)\}$`)
	templateVar = regexp.MustCompile(`\{\{([a-z_.-]+)\.name\}\}`)
)

// quoted splits the quoted tags of .over(), .exclude() or .by().
func quoted(list string) []string {
	if list == "" {
		return nil
	}
	var out []string
	for _, t := range strings.Split(list, ",") {
		out = append(out, strings.Trim(t, `"`))
	}
	return out
}

// against checks a monitor's query against what the emitter sent for the
// metric or check it names: the query matches lines, every line it matches
// carries every group-by tag (Datadog leaves a series without one out of
// every group), a service's task is in it only with f.Services, every other
// task is when the filter names no tag, and the message uses only
// group-by tags.
func against(t *testing.T, wire []receiver.Packet, name string, f Filter, in func(tags []string) bool, groups []string, message string) {
	t.Helper()
	sent := lines(wire, name)
	if len(sent) == 0 {
		t.Fatalf("the query names %s, which the emitter does not send", name)
	}
	matched := 0
	for _, p := range sent {
		kind, taskLine := p.Tag(dogstatsd.TagTaskKind)
		if _, ok := p.Tag(dogstatsd.TagTaskARN); ok && !taskLine {
			t.Errorf("%s line %s: a task's line without %s", name, p.Raw, dogstatsd.TagTaskKind)
		}
		if !in(p.Tags) {
			if taskLine && kind != string(uptime.KindService) && len(f.Tags()) == 0 {
				t.Errorf("%s: the query leaves out a %s task's line: %s", name, kind, p.Raw)
			}
			continue
		}
		matched++
		if kind == string(uptime.KindService) && !f.Services {
			t.Errorf("%s: the query takes in a service's task without --include-services: %s", name, p.Raw)
		}
		for _, g := range groups {
			if _, ok := p.Tag(g); !ok {
				t.Errorf("%s: line %s lacks the group-by tag %s, so the monitor never sees it", name, p.Raw, g)
			}
		}
	}
	if f.Services && !slices.ContainsFunc(sent, func(p receiver.Packet) bool {
		v, _ := p.Tag(dogstatsd.TagTaskKind)
		return v == "service" && in(p.Tags)
	}) &&
		slices.ContainsFunc(sent, func(p receiver.Packet) bool { v, _ := p.Tag(dogstatsd.TagTaskKind); return v == "service" }) && len(f.Tags()) == 0 {
		t.Errorf("%s: with --include-services the query still leaves out the service's task", name)
	}
	if matched == 0 && len(f.Tags()) == 0 {
		t.Errorf("%s: the query matches none of the %d lines sent", name, len(sent))
	}
	templateVarsAreGroups(t, message, groups)
}

// Every monitor and dashboard query is checked against the lines the real
// emitter sends: task tags with ecs_task_kind on every task's line, the
// ecs.task.lifetime and ecs.family.singleton checks the stages make, and an
// ecs.task.stuck check sent through the same output.
func TestQueriesMatchWhatTheEmitterSends(t *testing.T) {
	wire := emit(t)
	for _, name := range []string{dogstatsd.MetricTaskUptime, dogstatsd.CheckTaskStuck} {
		if !slices.ContainsFunc(lines(wire, name), func(p receiver.Packet) bool { v, _ := p.Tag(dogstatsd.TagTaskKind); return v == "service" }) {
			t.Fatalf("no %s line carries %s:service (DESIGN.md: every task series carries it): the test would not see a query that takes services in", name, dogstatsd.TagTaskKind)
		}
	}
	filters := []struct {
		f         Filter
		singleton bool // the singleton monitor's query matches the emitter's check
	}{
		{Filter{}, true},
		{Filter{Services: true}, false},
		{Filter{Family: "db-migrate"}, true},
		{Filter{Family: "DB-Migrate", Cluster: "prod", Service: "api"}, false},
		{Filter{Cluster: "prod", Scope: []string{"env:prod", "!team:web"}}, false},
		{Filter{Cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", Services: true}, false},
		{Filter{Scope: []string{"task_family:db-*"}}, true},
		{Filter{Scope: []string{"!task_family:db-migrate"}}, false},
	}
	for _, tc := range filters {
		f := tc.f
		t.Run(f.describe(), func(t *testing.T) {
			resolved, err := f.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			m, err := Metric(f, 20*time.Hour, DefaultCritical)
			if err != nil {
				t.Fatal(err)
			}
			q := metricQuery.FindStringSubmatch(m.Query)
			if q == nil {
				t.Fatalf("metric query %q does not parse", m.Query)
			}
			if q[4] != "86400" || m.Options.Thresholds.Critical != 86400 || *m.Options.Thresholds.Warning != 72000 {
				t.Errorf("query %q, thresholds %+v: want > 86400, warning 72000", m.Query, m.Options.Thresholds)
			}
			for _, want := range resolved.Tags() {
				if !slices.Contains(strings.Split(q[2], ","), want) || want != strings.ToLower(want) {
					t.Errorf("scope %q lacks %q (lowercased)", q[2], want)
				}
			}
			against(t, wire, q[1], resolved, func(tags []string) bool { return inScope(q[2], tags) }, strings.Split(q[3], ","), m.Message)

			for kind, build := range map[string]func(Filter) (Monitor, error){"service check": ServiceCheck, "stuck": Stuck} {
				c, err := build(f)
				if err != nil {
					t.Fatal(err)
				}
				cq := checkQuery.FindStringSubmatch(c.Query)
				if cq == nil || cq[6] != "count" {
					t.Fatalf("%s query %q does not parse as a check alert", kind, c.Query)
				}
				against(t, wire, cq[1], resolved, func(tags []string) bool { return inCheckScope(quoted(cq[2]), quoted(cq[3]), tags) }, quoted(cq[4]), c.Message)
			}

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
			if nq[3] != dogstatsd.TagTaskARN {
				t.Errorf("concurrency query %q counts by {%s}, want by {%s}: one per task", n.Query, nq[3], dogstatsd.TagTaskARN)
			}
			resolvedFam, err := fam.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range resolvedFam.Tags() {
				if !slices.Contains(strings.Split(nq[2], ","), want) {
					t.Errorf("concurrency scope %q lacks %q", nq[2], want)
				}
			}
			// One group for the whole scope: the message names no tag.
			against(t, wire, nq[1], resolvedFam, func(tags []string) bool { return inScope(nq[2], tags) }, []string{dogstatsd.TagTaskARN}, n.Message)
			templateVarsAreGroups(t, n.Message, nil)

			// The singleton check has no ecs_service and no ecs_task_kind:
			// no monitor on it takes --service or --include-services.
			if f.Service != "" || f.Services {
				if _, err := Singleton(f, false); err == nil {
					t.Errorf("Singleton(%+v): no error, want --service and --include-services refused", f)
				}
				return
			}
			sg, err := Singleton(f, true)
			if err != nil {
				t.Fatal(err)
			}
			sq := checkQuery.FindStringSubmatch(sg.Query)
			if sq == nil || sq[5] != "1" || sq[6] != "pct" {
				t.Fatalf("singleton query %q does not parse as a cluster alert", sg.Query)
			}
			sent := lines(wire, sq[1])
			matched := slices.ContainsFunc(sent, func(p receiver.Packet) bool { return inCheckScope(quoted(sq[2]), quoted(sq[3]), p.Tags) })
			if matched != tc.singleton {
				t.Errorf("singleton query %q matches the emitter's check: %v, want %v", sg.Query, matched, tc.singleton)
			}
			for _, p := range sent {
				for _, g := range quoted(sq[4]) {
					if _, ok := p.Tag(g); !ok {
						t.Errorf("singleton line %s lacks the group-by tag %s", p.Raw, g)
					}
				}
			}
			templateVarsAreGroups(t, sg.Message, quoted(sq[4]))
		})
	}
	for _, services := range []bool{false, true} {
		t.Run("dashboard", func(t *testing.T) {
			d := NewDashboard(DefaultCritical, services)
			vars := map[string]string{}
			for _, v := range d.TemplateVariables {
				vars["$"+v.Name] = v.Prefix
				if !slices.ContainsFunc(lines(wire, dogstatsd.MetricTaskUptime), func(p receiver.Packet) bool { _, ok := p.Tag(v.Prefix); return ok }) {
					t.Errorf("template variable %s filters on %s, which no line carries", v.Name, v.Prefix)
				}
			}
			if got := slices.ContainsFunc(d.TemplateVariables, func(v TemplateVariable) bool { return v.Prefix == dogstatsd.TagService }); got != services {
				t.Errorf("a service template variable: %v, want %v (service tasks are in the dashboard)", got, services)
			}
			for _, w := range d.Widgets {
				for _, r := range w.Definition.Requests {
					for _, query := range r.Queries {
						q := widgetQuery.FindStringSubmatch(query.Query)
						if q == nil {
							t.Fatalf("widget query %q does not parse", query.Query)
						}
						var scope []string
						for _, s := range strings.Split(q[2], ",") {
							if _, ok := vars[s]; !ok {
								scope = append(scope, s) // template variables at their default, "*"
							}
						}
						if !services && !slices.Equal(scope, []string{"!" + serviceKind}) || services && len(scope) > 0 {
							t.Errorf("widget scope %q: want template variables and, without services, !%s only", q[2], serviceKind)
						}
						in := "*"
						if len(scope) > 0 {
							in = strings.Join(scope, ",")
						}
						against(t, wire, q[1], Filter{Services: services}, func(tags []string) bool { return inScope(in, tags) }, strings.Split(q[3], ","), "")
					}
				}
			}
		})
	}
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

// Every monitor resolves a group that has sent nothing for an hour, with
// its recovery message, and none alerts on missing data unless asked: a
// task that stops stops reporting, which is the good outcome. Messages
// give ages in hours and name the task's cluster from its tags.
func TestMonitorsResolveAndName(t *testing.T) {
	build := map[string]func() (Monitor, error){
		"metric":        func() (Monitor, error) { return Metric(Filter{}, 20*time.Hour, DefaultCritical) },
		"service check": func() (Monitor, error) { return ServiceCheck(Filter{}) },
		"stuck":         func() (Monitor, error) { return Stuck(Filter{}) },
		"concurrency":   func() (Monitor, error) { return Concurrency(Filter{Family: "db-migrate"}, DefaultInterval) },
		"singleton":     func() (Monitor, error) { return Singleton(Filter{}, false) },
	}
	for name, b := range build {
		t.Run(name, func(t *testing.T) {
			m, err := b()
			if err != nil {
				t.Fatal(err)
			}
			if m.Options.TimeoutH != 1 || m.Options.NotifyNoData {
				t.Errorf("timeout_h %d, notify_no_data %v: want 1 and off", m.Options.TimeoutH, m.Options.NotifyNoData)
			}
			for _, bad := range []string{"CLUSTER", "{{value}} s", "{{threshold}}", "{{warn_threshold}}", "TASK_ID"} {
				if strings.Contains(m.Message, bad) {
					t.Errorf("message holds %q:\n%s", bad, m.Message)
				}
			}
			if !strings.Contains(m.Message, "{{#is_recovery}}") {
				t.Errorf("message has no recovery part:\n%s", m.Message)
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
	m, err := Metric(Filter{}, 20*time.Hour, DefaultCritical)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`{{#is_alert}}ECS task {{task_arn.name}} in {{ecs_cluster_name.name}} ({{region.name}}) has been running for {{eval "int(value/360)/10.0"}} hours, over 24h.{{/is_alert}}`,
		`{{#is_warning}}ECS task {{task_arn.name}} in {{ecs_cluster_name.name}} ({{region.name}}) has been running for {{eval "int(value/360)/10.0"}} hours, over 20h.{{/is_warning}}`,
		"aws ecs stop-task --region {{region.name}} --cluster {{ecs_cluster_name.name}} --task {{task_arn.name}}",
	} {
		if !strings.Contains(m.Message, want) {
			t.Errorf("metric message lacks %s:\n%s", want, m.Message)
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
		{"service tasks without --include-services", Filter{Scope: []string{"ECS_Task_Kind:service"}},
			`--scope "ECS_Task_Kind:service": service tasks are left out unless --include-services, so the query would never match`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for kind, build := range map[string]func() error{
				"metric":        func() error { _, err := Metric(tc.f, 0, DefaultCritical); return err },
				"service check": func() error { _, err := ServiceCheck(tc.f); return err },
				"stuck":         func() error { _, err := Stuck(tc.f); return err },
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
	if err := (Filter{Scope: []string{"ecs_task_kind:service"}, Services: true}).Validate(); err != nil {
		t.Errorf("service tasks only, with --include-services: %v", err)
	}
}

// Services are left out of every query unless the filter includes them:
// "!ecs_task_kind:service" in a metric scope, .exclude() in a check's,
// which a series sent without the tag (by an older ecs-uptime) still
// passes.
func TestServicesLeftOut(t *testing.T) {
	tests := []struct {
		name  string
		build func(Filter) (Monitor, error)
		f     Filter
		want  string
	}{
		{"metric", func(f Filter) (Monitor, error) { return Metric(f, 0, DefaultCritical) }, Filter{},
			"max(last_5m):max:ecs.task.uptime{!ecs_task_kind:service} by {task_arn,ecs_cluster_name,region} > 86400"},
		{"metric with services", func(f Filter) (Monitor, error) { return Metric(f, 0, DefaultCritical) }, Filter{Services: true},
			"max(last_5m):max:ecs.task.uptime{*} by {task_arn,ecs_cluster_name,region} > 86400"},
		{"service check", ServiceCheck, Filter{Family: "db-migrate", Scope: []string{"!team:web"}},
			`"ecs.task.lifetime".over("task_family:db-migrate").exclude("team:web","ecs_task_kind:service").by("task_arn","ecs_cluster_name","region").last(2).count_by_status()`},
		{"stuck", Stuck, Filter{},
			`"ecs.task.stuck".over("*").exclude("ecs_task_kind:service").by("task_arn","ecs_cluster_name","region","ecs_task_status").last(2).count_by_status()`},
		{"stuck with services", Stuck, Filter{Services: true},
			`"ecs.task.stuck".over("*").by("task_arn","ecs_cluster_name","region","ecs_task_status").last(2).count_by_status()`},
		{"concurrency", func(f Filter) (Monitor, error) { return Concurrency(f, DefaultInterval) }, Filter{Family: "db-migrate"},
			"max(last_2m):count_not_null(max:ecs.task.uptime{task_family:db-migrate,!ecs_task_kind:service} by {task_arn}.fill(last, 90)) > 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.build(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if m.Query != tc.want {
				t.Errorf("query\n%s\nwant\n%s", m.Query, tc.want)
			}
			if got, want := strings.HasPrefix(m.Name, "ECS") || strings.HasPrefix(m.Name, "More"), true; got != want {
				t.Errorf("name %q", m.Name)
			}
			if tc.f.Services != strings.Contains(m.Name, "all tasks") || !tc.f.Services != strings.Contains(m.Name, "one-off tasks") {
				t.Errorf("name %q: want it to say one-off tasks, or all tasks with services", m.Name)
			}
		})
	}
	if got := ResourceName("task_uptime", Filter{Family: "db-migrate", Services: true}); got != "task_uptime_task_family_db_migrate_with_services" {
		t.Errorf("resource name %s: want one apart from the monitor without services", got)
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
	want := "max(last_5m):max:ecs.task.uptime{task_family:db-migrate,ecs_cluster_name:prod,region:eu-west-1,aws_account:111122223333,!ecs_task_kind:service} by {task_arn,ecs_cluster_name,region} > 86400"
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
			if tc.warning == 0 && (m.Options.Thresholds.Warning != nil || strings.Contains(m.Message, "is_warning")) {
				t.Errorf("warning threshold %v, message %q: want none", m.Options.Thresholds.Warning, m.Message)
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
		`query   = "\"ecs.task.lifetime\".over(\"task_family:db-migrate\").exclude(\"ecs_task_kind:service\").by(\"task_arn\",\"ecs_cluster_name\",\"region\").last(2).count_by_status()"`,
		`costs $${var.x} and %%{if} {{task_arn.name}}`,
		"notify_no_data      = false",
		"timeout_h           = 1",
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
		{name: "api source's interval", f: Filter{Family: "db-migrate"}, interval: DefaultInterval, wantFill: ".fill(last, 90)) > 1",
			wantMsg: "with the Datadog query max:ecs.task.uptime{task_family:db-migrate,!ecs_task_kind:service} by {ecs_cluster_name,region,task_arn}, or with AWS credentials: ecs-uptime tasks --family db-migrate --region all"},
		{name: "sidecars only", f: Filter{Family: "db-migrate", Cluster: "prod"}, interval: 15 * time.Second, wantFill: ".fill(last, 45)) > 1", wantMsg: "is running at once in prod: {{value}}"},
		{name: "a fraction of a second rounds up", f: Filter{Family: "db-migrate"}, interval: 1500 * time.Millisecond, wantFill: ".fill(last, 32)) > 1"},
		{name: "the longest fill", f: Filter{Family: "db-migrate"}, interval: 9*time.Minute + 30*time.Second, wantFill: ".fill(last, 600)) > 1"},
		{name: "cluster ARN", f: Filter{Family: "db-migrate", Cluster: "arn:aws:ecs:eu-west-1:111122223333:cluster/prod"}, interval: DefaultInterval,
			wantFill: "{task_family:db-migrate,ecs_cluster_name:prod,region:eu-west-1,aws_account:111122223333,!ecs_task_kind:service} by {task_arn}.fill(last, 90)", wantMsg: "aws ecs list-tasks --cluster prod --region eu-west-1 --family db-migrate"},
		{name: "with services", f: Filter{Family: "db-migrate", Services: true}, interval: DefaultInterval, wantFill: "{task_family:db-migrate} by {task_arn}.fill(last, 90)) > 1"},
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
			for _, want := range []string{tc.wantMsg, "More than one task of db-migrate is running at once", "--family db-migrate", "aws ecs stop-task"} {
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
		{name: "every singleton family", wantQuery: `"ecs.family.singleton".over("*").by("task_family","cluster_arn","region").last(1).pct_by_status()`,
			wantName: "More than one ECS task of an ECS_UPTIME_SINGLETONS family at once"},
		{name: "one family in one cluster, no data pages", f: Filter{Family: "db-migrate", Cluster: "arn:aws:ecs:eu-west-1:111122223333:cluster/prod"}, notifyNoData: true,
			wantQuery: `"ecs.family.singleton".over("task_family:db-migrate","ecs_cluster_name:prod","region:eu-west-1","aws_account:111122223333").by("task_family","cluster_arn","region").last(1).pct_by_status()`,
			wantName:  "More than one ECS task of db-migrate at once"},
		{name: "a tag left out", f: Filter{Scope: []string{"!env:staging"}},
			wantQuery: `"ecs.family.singleton".over("*").exclude("env:staging").by("task_family","cluster_arn","region").last(1).pct_by_status()`,
			wantName:  "More than one ECS task of an ECS_UPTIME_SINGLETONS family at once (!env:staging)"},
		{name: "a service", f: Filter{Family: "db-migrate", Service: "api"}, wantErr: `--service "api": the ecs.family.singleton check has no ecs_service tag`},
		{name: "with services", f: Filter{Family: "db-migrate", Services: true}, wantErr: `--include-services "true": the ecs.family.singleton check is per family and cluster and has no ecs_task_kind tag`},
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
			// One CRITICAL among the group's checks alerts, however many
			// host daemons send theirs.
			th := m.Options.Thresholds
			if th.Critical <= 0 || th.Critical*100_000 > 100 || th.OK != nil || th.Warning != nil {
				t.Errorf("thresholds %+v: want only a critical share just over 0%%, that one check in 100,000 reaches", th)
			}
			if m.Options.NotifyNoData != tc.notifyNoData || (m.Options.NoDataTimeframe > 0) != tc.notifyNoData ||
				strings.Contains(m.Message, "{{#is_no_data}}") != tc.notifyNoData {
				t.Errorf("notify_no_data %v, no_data_timeframe %d, message %q: want all three to follow notifyNoData %v",
					m.Options.NotifyNoData, m.Options.NoDataTimeframe, m.Message, tc.notifyNoData)
			}
			if m.Options.RequireFullWindow != nil || m.Options.TimeoutH != 1 {
				t.Error("want require_full_window unset (metric monitors only) and timeout_h 1")
			}
			for _, want := range []string{"aws ecs list-tasks --region {{region.name}} --cluster {{cluster_arn.name}} --family {{task_family.name}}", "names them, oldest first"} {
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

func TestStuck(t *testing.T) {
	m, err := Stuck(Filter{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	want := `"ecs.task.stuck".over("ecs_cluster_name:prod").exclude("ecs_task_kind:service").by("task_arn","ecs_cluster_name","region","ecs_task_status").last(2).count_by_status()`
	if m.Query != want || m.Type != TypeServiceCheck {
		t.Errorf("type %q, query\n%s\nwant service check, query\n%s", m.Type, m.Query, want)
	}
	th := m.Options.Thresholds
	if th.Critical != 1 || th.OK == nil || *th.OK != 1 || th.Warning != nil {
		t.Errorf("thresholds %+v: want critical 1, ok 1 and no warning (the check is OK or CRITICAL)", th)
	}
	for _, want := range []string{
		"{{#is_alert}}ECS task {{task_arn.name}} in {{ecs_cluster_name.name}} ({{region.name}}): {{check_message}}{{/is_alert}}",
		"has left {{ecs_task_status.name}}",
		"aws ecs describe-tasks --region {{region.name}} --cluster {{ecs_cluster_name.name}} --tasks {{task_arn.name}}",
	} {
		if !strings.Contains(m.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, m.Message)
		}
	}
}

// The oldest-tasks list shows the tasks that report now, from its own
// time frame, whatever the dashboard's; Datadog's model takes it.
func TestDashboard(t *testing.T) {
	for _, services := range []bool{false, true} {
		d := NewDashboard(DefaultCritical, services)
		list := d.Widgets[0].Definition
		if list.Type != "toplist" || list.Time == nil || list.Time.LiveSpan != "5m" || !strings.Contains(list.Title, "running now") {
			t.Errorf("first widget %+v: want the toplist of the last 5 minutes, titled as running now", list)
		}
		if d.Widgets[1].Definition.Time != nil {
			t.Error("the uptime over time follows the dashboard's time frame")
		}
		b, err := JSON(d)
		if err != nil {
			t.Fatal(err)
		}
		dd, err := monitortest.Dashboard(b)
		if err != nil {
			t.Fatalf("Datadog's model: %v", err)
		}
		span := dd.Widgets[0].Definition.ToplistWidgetDefinition.GetTime().WidgetLegacyLiveSpan
		if span == nil || string(span.GetLiveSpan()) != "5m" {
			t.Errorf("Datadog's model reads the list's time as %+v, want a live span of 5m", dd.Widgets[0].Definition.ToplistWidgetDefinition.GetTime())
		}
	}
}
