package ecsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/ecsapi"
	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// fastRetries is the SDK's standard retryer (3 attempts, throttling and 5xx
// retried) with backoffs of at most a millisecond, so that tests of retries
// take no time.
var fastRetries = config.WithRetryer(func() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = time.Millisecond })
})

// startFake starts the fake and points the SDK at it (and only at it) for
// the rest of the test, with region as the SDK's region ("" for none).
func startFake(t *testing.T, region string) *ecsfake.Server {
	t.Helper()
	fake := ecsfake.Start(t)
	fake.Setenv(t, region)
	return fake
}

// newSource returns a source with fast retries and, unless opts says
// otherwise, a rate that paces nothing.
func newSource(t *testing.T, opts ecsapi.Options) *ecsapi.Source {
	t.Helper()
	if opts.Rate == 0 {
		opts.Rate = 1e6
	}
	opts.LoadOptions = append(opts.LoadOptions, fastRetries)
	src, err := ecsapi.New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return src
}

func scan(t *testing.T, src *ecsapi.Source) ([]uptime.Task, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return src.Tasks(ctx)
}

// addRunning adds n RUNNING tasks to a cluster and returns their ARNs.
func addRunning(f *ecsfake.Server, region, cluster string, n int) []string {
	arns := make([]string, n)
	for i := range arns {
		arns[i] = f.AddTask(ecsfake.Task{Region: region, Cluster: cluster, Family: cluster + "-job", StartedAt: time.Now().Add(-time.Duration(i+1) * time.Minute)})
	}
	return arns
}

func arnsOf(tasks []uptime.Task) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = t.ARN
	}
	slices.Sort(out)
	return out
}

func unreadKeys(err error) []string {
	var p *uptime.PartialError
	if !errors.As(err, &p) {
		return nil
	}
	var keys []string
	for _, u := range p.Unread {
		keys = append(keys, u.Key())
	}
	slices.Sort(keys)
	return keys
}

// listing is what a scan finds in one cluster: the tasks ListTasks lists
// under desired status RUNNING and under STOPPED, and how many of the
// STOPPED ones the scan describes (fresh: those it has not seen STOPPED).
type listing struct{ running, stopped, fresh int }

// cost is the figure of the package doc: per cluster ⌈running/100⌉
// ListTasks pages and ⌈stopped/100⌉ more (at least one each), and
// ⌈(running+fresh)/100⌉ DescribeTasks batches.
func cost(clusters ...listing) (listTasks, describe int) {
	for _, c := range clusters {
		listTasks += max(1, (c.running+99)/100) + max(1, (c.stopped+99)/100)
		describe += (c.running + c.fresh + 99) / 100
	}
	return listTasks, describe
}

// calls is cost for clusters without stopped tasks, of that many tasks
// listed under RUNNING each.
func calls(running ...int) (listTasks, describe int) {
	cs := make([]listing, len(running))
	for i, n := range running {
		cs[i] = listing{running: n}
	}
	return cost(cs...)
}

func TestTasks(t *testing.T) {
	const eu, us = "eu-west-1", "us-east-1"
	type want struct {
		unread                             []string // Unread keys of a partial read
		plainErr                           string   // a plain error containing this
		listClusters, listTasks, describes int      // calls of each operation, retries included
	}
	for _, tc := range []struct {
		name string
		opts ecsapi.Options
		// setup fills the fake and returns the ARNs the scan must report.
		setup func(f *ecsfake.Server) []string
		want  want
	}{
		{
			name: "one cluster of 250 tasks: three pages, one of the stopped ones, three batches; every status is returned",
			setup: func(f *ecsfake.Server) []string {
				arns := addRunning(f, eu, "prod", 250)
				return append(arns,
					f.AddTask(ecsfake.Task{Region: eu, Cluster: "prod", LastStatus: "PENDING"}),
					f.AddTask(ecsfake.Task{Region: eu, Cluster: "prod", LastStatus: "RUNNING"}), // no startedAt
					f.AddTask(ecsfake.Task{Region: eu, Cluster: "prod", LastStatus: "DEACTIVATING", StartedAt: time.Now().Add(-time.Hour)}),
					f.AddTask(ecsfake.Task{Region: eu, Cluster: "prod", LastStatus: "STOPPED", StartedAt: time.Now().Add(-time.Hour)}))
			},
			want: func() want {
				lt, d := cost(listing{running: 252, stopped: 2, fresh: 2})
				return want{listClusters: 1, listTasks: lt, describes: d}
			}(),
		},
		{
			name: "tasks listed STOPPED only: one page each, one batch",
			setup: func(f *ecsfake.Server) []string {
				return []string{f.AddTask(ecsfake.Task{Region: eu, Cluster: "jobs", LastStatus: "STOPPED", StartedAt: time.Now().Add(-time.Hour)})}
			},
			want: func() want {
				lt, d := cost(listing{stopped: 1, fresh: 1})
				return want{listClusters: 1, listTasks: lt, describes: d}
			}(),
		},
		{
			name: "150 stopped tasks: two pages, their batches with the running ones",
			setup: func(f *ecsfake.Server) []string {
				arns := addRunning(f, eu, "jobs", 60)
				for range 150 {
					arns = append(arns, f.AddTask(ecsfake.Task{Region: eu, Cluster: "jobs", LastStatus: "STOPPED", StartedAt: time.Now().Add(-time.Hour)}))
				}
				return arns
			},
			want: func() want {
				lt, d := cost(listing{running: 60, stopped: 150, fresh: 150})
				return want{listClusters: 1, listTasks: lt, describes: d}
			}(),
		},
		{
			name: "several clusters in two regions, one empty",
			opts: ecsapi.Options{Regions: []string{eu, us}},
			setup: func(f *ecsfake.Server) []string {
				arns := append(addRunning(f, eu, "prod", 101), addRunning(f, eu, "staging", 3)...)
				arns = append(arns, addRunning(f, us, "prod", 100)...)
				f.AddCluster(us, "empty")
				return arns
			},
			want: func() want {
				lt, d := calls(101, 3, 100, 0)
				return want{listClusters: 2, listTasks: lt, describes: d}
			}(),
		},
		{
			name: "named clusters: a short name in the SDK's region and an ARN in its own region, no ListClusters",
			opts: ecsapi.Options{Clusters: []string{"staging", ecsfake.ClusterARN(us, "batch")}},
			setup: func(f *ecsfake.Server) []string {
				addRunning(f, eu, "prod", 5) // not named
				arns := append(addRunning(f, eu, "staging", 2), addRunning(f, us, "batch", 4)...)
				addRunning(f, us, "staging", 1) // us-east-1 is scanned for the ARN only
				return arns
			},
			want: func() want {
				lt, d := calls(2, 4)
				return want{listTasks: lt, describes: d}
			}(),
		},
		{
			name: "blank cluster names are none: every cluster is listed",
			opts: ecsapi.Options{Clusters: []string{" ", ""}},
			setup: func(f *ecsfake.Server) []string {
				return append(addRunning(f, eu, "a", 1), addRunning(f, eu, "b", 1)...)
			},
			want: func() want {
				lt, d := calls(1, 1)
				return want{listClusters: 1, listTasks: lt, describes: d}
			}(),
		},
		{
			name: "a task listed then gone before the describe (MISSING) is not an error",
			setup: func(f *ecsfake.Server) []string {
				arns := addRunning(f, eu, "prod", 3)
				f.AddTask(ecsfake.Task{Region: eu, Cluster: "prod", Ghost: true, StartedAt: time.Now()})
				gone := f.AddTask(ecsfake.Task{Region: eu, Cluster: "prod", StartedAt: time.Now()})
				f.BeforeServe(func(r ecsfake.Request) {
					if r.Op == ecsfake.DescribeTasks {
						f.RemoveTask(gone)
					}
				})
				return arns
			},
			want: func() want {
				lt, d := calls(5)
				return want{listClusters: 1, listTasks: lt, describes: d}
			}(),
		},
		{
			name: "throttled calls are retried by the SDK and the scan is complete",
			setup: func(f *ecsfake.Server) []string {
				f.Inject(ecsfake.Fault{Op: ecsfake.ListTasks, Code: ecsfake.Throttling, Times: 2})
				f.Inject(ecsfake.Fault{Op: ecsfake.DescribeTasks, Code: ecsfake.Throttling, Times: 1})
				f.Inject(ecsfake.Fault{Op: ecsfake.ListClusters, Code: ecsfake.ServerError, Times: 1})
				return addRunning(f, eu, "prod", 150)
			},
			want: func() want {
				lt, d := calls(150)
				return want{listClusters: 1 + 1, listTasks: lt + 2, describes: d + 1}
			}(),
		},
		{
			name: "a denied cluster, a cluster not found and one throttled past the retries are unread; the others are read",
			opts: ecsapi.Options{Clusters: []string{"prod", "secret", "gone", "busy", "staging"}},
			setup: func(f *ecsfake.Server) []string {
				arns := append(addRunning(f, eu, "prod", 120), addRunning(f, eu, "staging", 2)...)
				addRunning(f, eu, "secret", 3)
				addRunning(f, eu, "busy", 3)
				f.Inject(ecsfake.Fault{Cluster: "secret", Code: ecsfake.AccessDenied})
				f.Inject(ecsfake.Fault{Cluster: "busy", Code: ecsfake.Throttling})
				return arns
			},
			want: func() want {
				lt, d := calls(120, 2)
				// secret: one denied ListTasks; gone: one not found; busy: 3 attempts.
				return want{unread: []string{"eu-west-1/busy", "eu-west-1/gone", "eu-west-1/secret"}, listTasks: lt + 1 + 1 + 3, describes: d}
			}(),
		},
		{
			name: "a cluster whose second describe batch fails sends none of its tasks",
			setup: func(f *ecsfake.Server) []string {
				addRunning(f, eu, "prod", 150)
				arns := addRunning(f, eu, "staging", 2)
				f.BeforeServe(func(r ecsfake.Request) {
					// Served after the hook: the first batch; denied: the second.
					if r.Op == ecsfake.DescribeTasks && r.Cluster == "prod" && r.Error == "" {
						f.Inject(ecsfake.Fault{Op: ecsfake.DescribeTasks, Cluster: "prod", Code: ecsfake.AccessDenied})
					}
				})
				return arns
			},
			want: func() want {
				lt, d := calls(150, 2)
				return want{unread: []string{"eu-west-1/prod"}, listClusters: 1, listTasks: lt, describes: d}
			}(),
		},
		{
			name: "a region whose cluster list is denied is unread as a whole; the other region is read",
			opts: ecsapi.Options{Regions: []string{eu, us}},
			setup: func(f *ecsfake.Server) []string {
				addRunning(f, eu, "prod", 2)
				f.Inject(ecsfake.Fault{Op: ecsfake.ListClusters, Region: eu, Code: ecsfake.AccessDenied})
				return addRunning(f, us, "prod", 2)
			},
			want: func() want {
				lt, d := calls(2)
				return want{unread: []string{"eu-west-1"}, listClusters: 2, listTasks: lt, describes: d}
			}(),
		},
		{
			name: "a region without clusters counts as read when the other fails",
			opts: ecsapi.Options{Regions: []string{eu, us}},
			setup: func(f *ecsfake.Server) []string {
				addRunning(f, eu, "prod", 2)
				f.Inject(ecsfake.Fault{Cluster: "prod", Code: ecsfake.AccessDenied})
				return nil
			},
			want: want{unread: []string{"eu-west-1/prod"}, listClusters: 2, listTasks: 1},
		},
		{
			name: "every part failing is a plain error",
			opts: ecsapi.Options{Regions: []string{eu, us}},
			setup: func(f *ecsfake.Server) []string {
				addRunning(f, eu, "prod", 2)
				addRunning(f, us, "prod", 2)
				f.Inject(ecsfake.Fault{Region: eu, Cluster: "prod", Code: ecsfake.AccessDenied})
				f.Inject(ecsfake.Fault{Region: us, Op: ecsfake.ListClusters, Code: ecsfake.AccessDenied})
				return nil
			},
			want: want{plainErr: "no cluster could be read", listClusters: 2, listTasks: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := startFake(t, eu)
			wantARNs := tc.setup(fake)
			slices.Sort(wantARNs)
			src := newSource(t, tc.opts)
			tasks, err := scan(t, src)

			var partial *uptime.PartialError
			switch {
			case tc.want.plainErr != "":
				if err == nil || errors.As(err, &partial) || !strings.Contains(err.Error(), tc.want.plainErr) {
					t.Fatalf("err = %v, want a plain error containing %q", err, tc.want.plainErr)
				}
				var api smithy.APIError
				if !errors.As(err, &api) || api.ErrorCode() != ecsfake.AccessDenied {
					t.Errorf("err = %v, want it to wrap the API's %s", err, ecsfake.AccessDenied)
				}
				if tasks != nil {
					t.Errorf("a failed read returned %d tasks", len(tasks))
				}
			case tc.want.unread != nil:
				if got := unreadKeys(err); !slices.Equal(got, tc.want.unread) {
					t.Fatalf("err = %v, want a PartialError naming %v, got %v", err, tc.want.unread, got)
				}
			case err != nil:
				t.Fatalf("Tasks: %v", err)
			}
			if got := arnsOf(tasks); !slices.Equal(got, wantARNs) {
				t.Errorf("reported %d tasks, want %d\n got %v\nwant %v", len(got), len(wantARNs), got, wantARNs)
			}
			for _, c := range []struct {
				op   string
				want int
			}{{ecsfake.ListClusters, tc.want.listClusters}, {ecsfake.ListTasks, tc.want.listTasks}, {ecsfake.DescribeTasks, tc.want.describes}} {
				if got := fake.Calls(c.op); got != c.want {
					t.Errorf("%s calls = %d, want %d", c.op, got, c.want)
				}
			}
			if got, want := src.LastScan().Calls, fake.Calls(""); got != want {
				t.Errorf("the source counted %d calls, the fake received %d", got, want)
			}
		})
	}
}

// A cluster scanned cycle after cycle while its tasks move through their
// lifecycle: each scan returns every task with its status, lists the
// STOPPED ones, and describes only those it has not seen STOPPED; a task
// is returned STOPPED once, with how it ended, and forgotten once ECS no
// longer lists it. Each scan's calls are counted exactly.
func TestLifecycleScans(t *testing.T) {
	const region = "eu-west-1"
	fake := startFake(t, region)
	now := time.Now()
	prov := fake.AddTask(ecsfake.Task{Region: region, Cluster: "jobs", Family: "db-migrate", LastStatus: "PROVISIONING",
		CPU: "1024", Memory: "2048", ExecEnabled: true, Containers: []string{"init", "app"}})
	run := fake.AddTask(ecsfake.Task{Region: region, Cluster: "jobs", Family: "report", StartedAt: now.Add(-26 * time.Hour)})
	stuck := fake.AddTask(ecsfake.Task{Region: region, Cluster: "jobs", Family: "etl", LastStatus: "DEACTIVATING",
		StartedAt: now.Add(-5 * time.Hour), StoppingAt: now.Add(-3 * time.Hour)})
	old := fake.AddTask(ecsfake.Task{Region: region, Cluster: "jobs", LastStatus: "STOPPED", StartedAt: now.Add(-2 * time.Hour)})
	src := newSource(t, ecsapi.Options{Clusters: []string{"jobs"}})

	type step struct {
		name   string
		change func()
		want   []string // ARN → status, sorted
		cost   listing
	}
	status := func(arn, st string) string { return arn + " " + st }
	steps := []step{
		{"first scan: every status, the stopped task described once", nil,
			[]string{status(prov, "PROVISIONING"), status(run, "RUNNING"), status(stuck, "DEACTIVATING"), status(old, "STOPPED")},
			listing{running: 2, stopped: 2, fresh: 2}},
		{"PROVISIONING to RUNNING; the stopped task is not described again", func() { fake.SetLastStatus(prov, "RUNNING") },
			[]string{status(prov, "RUNNING"), status(run, "RUNNING"), status(stuck, "DEACTIVATING")},
			listing{running: 2, stopped: 2, fresh: 1}},
		{"RUNNING to STOPPED with exit codes", func() {
			fake.StopAs(prov, "EssentialContainerExited", "Essential container in task exited",
				ecsfake.Exit{Container: "init", Code: ecsfake.Code(0)}, ecsfake.Exit{Container: "app", Code: ecsfake.Code(2), Reason: "exited"})
		},
			[]string{status(prov, "STOPPED"), status(run, "RUNNING"), status(stuck, "DEACTIVATING")},
			listing{running: 1, stopped: 3, fresh: 2}},
		{"ECS forgets the first stopped task; the others stay known", func() { fake.RemoveTask(old) },
			[]string{status(run, "RUNNING"), status(stuck, "DEACTIVATING")},
			listing{running: 1, stopped: 2, fresh: 1}},
	}
	for _, st := range steps {
		if st.change != nil {
			st.change()
		}
		fake.Reset()
		tasks, err := scan(t, src)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var got []string
		for _, task := range tasks {
			got = append(got, status(task.ARN, task.Status))
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(st.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s: returned\n %v\nwant\n %v", st.name, got, want)
		}
		lt, d := cost(st.cost)
		if fake.Calls(ecsfake.ListTasks) != lt || fake.Calls(ecsfake.DescribeTasks) != d || fake.Calls("") != lt+d {
			t.Errorf("%s: %d ListTasks, %d DescribeTasks, %d calls in all; want %d, %d and no other", st.name,
				fake.Calls(ecsfake.ListTasks), fake.Calls(ecsfake.DescribeTasks), fake.Calls(""), lt, d)
		}
		var desired []string
		for _, r := range fake.Requests() {
			if r.Op == ecsfake.ListTasks {
				desired = append(desired, r.DesiredStatus)
			}
		}
		if !slices.Equal(desired, []string{"RUNNING", "STOPPED"}) {
			t.Errorf("%s: ListTasks for %v, want RUNNING then STOPPED", st.name, desired)
		}
		if st.name == "RUNNING to STOPPED with exit codes" {
			i := slices.IndexFunc(tasks, func(t uptime.Task) bool { return t.ARN == prov })
			ended := tasks[i]
			if ended.Ending == nil {
				t.Fatalf("%s: the stopped task has no Ending", st.name)
			}
			want := []string{"init 0 ", "app 2 exited"}
			var exits []string
			for _, e := range ended.Ending.Exits {
				exits = append(exits, fmt.Sprintf("%s %d %s", e.Name, *e.ExitCode, e.Reason))
			}
			if !slices.Equal(exits, want) || ended.Ending.StopCode != "EssentialContainerExited" || ended.Ending.StoppedReason != "Essential container in task exited" ||
				ended.Ending.StoppedAt.IsZero() || ended.StoppingAt.IsZero() || ended.StartedAt.IsZero() || ended.CPU != "1024" || ended.Memory != "2048" || !ended.ExecEnabled {
				t.Errorf("the stopped task: exits %q, %+v", exits, ended)
			}
		}
	}
}

// What the source remembers of stopped tasks is kept when a cluster
// cannot be read: the next good read does not describe them again.
func TestStoppedKnownAcrossAnUnreadCycle(t *testing.T) {
	const region = "eu-west-1"
	fake := startFake(t, region)
	for range 3 {
		fake.AddTask(ecsfake.Task{Region: region, Cluster: "jobs", LastStatus: "STOPPED", StartedAt: time.Now().Add(-time.Hour)})
	}
	addRunning(fake, region, "other", 1)
	src := newSource(t, ecsapi.Options{Clusters: []string{"jobs", "other"}})
	if _, err := scan(t, src); err != nil {
		t.Fatal(err)
	}
	remove := fake.Inject(ecsfake.Fault{Cluster: "jobs", Op: ecsfake.DescribeTasks, Code: ecsfake.AccessDenied})
	fake.AddTask(ecsfake.Task{Region: region, Cluster: "jobs", StartedAt: time.Now()})
	if _, err := scan(t, src); unreadKeys(err) == nil {
		t.Fatalf("scan with jobs denied: %v, want a partial read", err)
	}
	remove()
	fake.Reset()
	tasks, err := scan(t, src)
	if err != nil || len(tasks) != 2 {
		t.Fatalf("Tasks = %d tasks, %v; want the two running ones", len(tasks), err)
	}
	lt, d := cost(listing{running: 1, stopped: 3}, listing{running: 1})
	if fake.Calls(ecsfake.ListTasks) != lt || fake.Calls(ecsfake.DescribeTasks) != d {
		t.Errorf("%d ListTasks, %d DescribeTasks; want %d and %d (the stopped tasks not described again)",
			fake.Calls(ecsfake.ListTasks), fake.Calls(ecsfake.DescribeTasks), lt, d)
	}
}

func TestTaskFields(t *testing.T) {
	const region = "eu-west-1"
	fake := startFake(t, region)
	started := time.Date(2026, 3, 1, 12, 30, 15, 250_000_000, time.UTC)
	svc := fake.AddTask(ecsfake.Task{
		Region: region, Cluster: "prod", Family: "web", Revision: 42, Group: "service:web-svc",
		LaunchType: "FARGATE", CapacityProvider: "FARGATE_SPOT", StartedBy: "ecs-svc/1234567890123456789",
		StartedAt: started, AvailabilityZone: "eu-west-1b",
		Tags: ecsfake.Tags("team", "payments", "Team", "Payments", "Cost-Center", "42", "other", "x"),
	})
	oneOff := fake.AddTask(ecsfake.Task{
		Region: region, Cluster: "prod", Family: "db-migrate", Revision: 7, LaunchType: "EC2",
		StartedBy: "github-actions/deploy#123", StartedAt: started.Add(time.Hour),
		Tags: ecsfake.Tags("ECS-UPTIME:MAX-LIFETIME", "1h", "ecs-uptime:max-lifetime", "6h"),
	})
	badTag := fake.AddTask(ecsfake.Task{
		Region: region, Cluster: "prod", Family: "report", StartedAt: started,
		Tags: ecsfake.Tags("ecs-uptime:max-lifetime", ""),
	})
	stopping := started.Add(25 * time.Hour)
	ended := fake.AddTask(ecsfake.Task{
		Region: region, Cluster: "prod", Family: "etl", StartedAt: started, LastStatus: "DEACTIVATING", StoppingAt: stopping,
		CPU: "4096", Memory: "16384", ExecEnabled: true, Containers: []string{"init", "app", "sidecar"},
	})
	fake.StopAs(ended, "EssentialContainerExited", "Essential container in task exited",
		ecsfake.Exit{Container: "init", Code: ecsfake.Code(0)}, ecsfake.Exit{Container: "app", Code: ecsfake.Code(1), Reason: "OutOfMemoryError: Container killed due to memory usage"},
		ecsfake.Exit{Container: "sidecar", Reason: "never ran"})
	pending := fake.AddTask(ecsfake.Task{Region: region, Cluster: "prod", Family: "batch", LastStatus: "PENDING", CreatedAt: started})
	src := newSource(t, ecsapi.Options{TaskTags: []string{"TEAM", "cost-center", "absent"}, MaxLifetimeTag: "ecs-uptime:max-lifetime"})
	tasks, err := scan(t, src)
	if err != nil {
		t.Fatal(err)
	}
	clusterARN := ecsfake.ClusterARN(region, "prod")
	want := map[string]uptime.Task{
		svc: {
			ARN: svc, Family: "web", Revision: "42", Cluster: "prod", ClusterARN: clusterARN, Region: region,
			Account: ecsfake.Account, AvailabilityZone: "eu-west-1b", Service: "web-svc",
			StartedAt: started, LaunchType: "FARGATE", CapacityProvider: "FARGATE_SPOT", StartedBy: "ecs-svc/1234567890123456789",
			Kind: uptime.KindService,
			// TEAM matches Team and team regardless of case; neither is exact, so the smaller key, Team, wins.
			ResourceTags: []uptime.ResourceTag{{Key: "cost-center", Value: "42"}, {Key: "team", Value: "Payments"}},
			Status:       "RUNNING", CreatedAt: started.Add(-20 * time.Second), CPU: "256", Memory: "512",
		},
		oneOff: {
			ARN: oneOff, Family: "db-migrate", Revision: "7", Cluster: "prod", ClusterARN: clusterARN, Region: region,
			Account: ecsfake.Account, AvailabilityZone: "eu-west-1a", StartedAt: started.Add(time.Hour),
			LaunchType: "EC2", StartedBy: "github-actions/deploy#123", Kind: uptime.KindStandalone,
			// The exact key wins over one that differs in case.
			MaxLifetimeTag: "6h", HasMaxLifetimeTag: true,
			// EC2: no task-level size.
			Status: "RUNNING", CreatedAt: started.Add(time.Hour - 20*time.Second),
		},
		badTag: {
			ARN: badTag, Family: "report", Revision: "1", Cluster: "prod", ClusterARN: clusterARN, Region: region,
			Account: ecsfake.Account, AvailabilityZone: "eu-west-1a", StartedAt: started, LaunchType: "FARGATE",
			MaxLifetimeTag: "", HasMaxLifetimeTag: true, Kind: uptime.KindStandalone,
			Status: "RUNNING", CreatedAt: started.Add(-20 * time.Second), CPU: "256", Memory: "512",
		},
		ended: {
			ARN: ended, Family: "etl", Revision: "1", Cluster: "prod", ClusterARN: clusterARN, Region: region,
			Account: ecsfake.Account, AvailabilityZone: "eu-west-1a", StartedAt: started, LaunchType: "FARGATE", Kind: uptime.KindStandalone,
			Status: "STOPPED", CreatedAt: started.Add(-20 * time.Second), StoppingAt: stopping,
			Ending: &uptime.Ending{StoppedAt: time.Now(), StopCode: "EssentialContainerExited", StoppedReason: "Essential container in task exited",
				Exits: []uptime.ContainerExit{{Name: "init", ExitCode: ptr(0)}, {Name: "app", ExitCode: ptr(1), Reason: "OutOfMemoryError: Container killed due to memory usage"},
					{Name: "sidecar", Reason: "never ran"}}},
			CPU: "4096", Memory: "16384", ExecEnabled: true,
		},
		pending: {
			ARN: pending, Family: "batch", Revision: "1", Cluster: "prod", ClusterARN: clusterARN, Region: region,
			Account: ecsfake.Account, AvailabilityZone: "eu-west-1a", LaunchType: "FARGATE", Kind: uptime.KindStandalone,
			Status: "PENDING", CreatedAt: started, CPU: "256", Memory: "512",
		},
	}
	if len(tasks) != len(want) {
		t.Fatalf("got %d tasks, want %d", len(tasks), len(want))
	}
	for _, got := range tasks {
		w, ok := want[got.ARN]
		if !ok {
			t.Errorf("unexpected task %s", got.ARN)
			continue
		}
		for _, tm := range []struct {
			name      string
			got, want *time.Time
		}{{"StartedAt", &got.StartedAt, &w.StartedAt}, {"CreatedAt", &got.CreatedAt, &w.CreatedAt}, {"StoppingAt", &got.StoppingAt, &w.StoppingAt}} {
			if !tm.got.Equal(*tm.want) {
				t.Errorf("%s: %s %v, want %v (to the millisecond)", got.Family, tm.name, *tm.got, *tm.want)
			}
			*tm.got, *tm.want = time.Time{}, time.Time{}
		}
		// stoppedAt is the fake's clock when it stopped the task.
		if (got.Ending == nil) != (w.Ending == nil) {
			t.Errorf("%s: Ending %+v, want %+v", got.Family, got.Ending, w.Ending)
			continue
		}
		if w.Ending != nil {
			if got.Ending.StoppedAt.Before(stopping) || got.Ending.StoppedAt.After(w.Ending.StoppedAt) {
				t.Errorf("%s: StoppedAt %v, want between %v and %v", got.Family, got.Ending.StoppedAt, stopping, w.Ending.StoppedAt)
			}
			got.Ending.StoppedAt, w.Ending.StoppedAt = time.Time{}, time.Time{}
		}
		g, _ := json.Marshal(got)
		e, _ := json.Marshal(w)
		if !bytes.Equal(g, e) {
			t.Errorf("%s:\n got %s\nwant %s", w.Family, g, e)
		}
	}
}

// A task is a service's when its group is service:NAME or a deployment
// started it (ecs-svc/…), as DESIGN.md's One-offs and service tasks says;
// every other task is standalone, whoever started it.
func TestTaskKind(t *testing.T) {
	const region = "eu-west-1"
	fake := startFake(t, region)
	tests := []struct {
		name, group, startedBy string
		want                   uptime.Kind
	}{
		{"service group and deployment", "service:web", "ecs-svc/1234567890123456789", uptime.KindService},
		{"service group alone", "service:web", "", uptime.KindService},
		{"deployment alone", "family:web", "ecs-svc/1234567890123456789", uptime.KindService},
		{"run by hand", "family:db-migrate", "", uptime.KindStandalone},
		{"run by CI", "family:db-migrate", "github-actions/deploy#123", uptime.KindStandalone},
		{"EventBridge schedule", "family:report", "events-rule/nightly-report", uptime.KindStandalone},
		{"a group that only mentions a service", "batch:service:web", "my-ecs-svc/1", uptime.KindStandalone},
	}
	want := map[string]uptime.Kind{}
	names := map[string]string{}
	for _, tc := range tests {
		arn := fake.AddTask(ecsfake.Task{Region: region, Cluster: "prod", Group: tc.group, StartedBy: tc.startedBy, StartedAt: time.Now()})
		want[arn], names[arn] = tc.want, tc.name
	}
	tasks, err := scan(t, newSource(t, ecsapi.Options{}))
	if err != nil || len(tasks) != len(tests) {
		t.Fatalf("Tasks = %d tasks, %v; want %d", len(tasks), err, len(tests))
	}
	for _, task := range tasks {
		if task.Kind != want[task.ARN] {
			t.Errorf("%s: kind %s, want %s", names[task.ARN], task.Kind, want[task.ARN])
		}
	}
}

// Progress counts, one scan at a time, every cluster tried (a denied one
// too) and every task described, after each batch and each cluster, in
// calls that never overlap although regions are read concurrently.
func TestProgress(t *testing.T) {
	fake := startFake(t, "eu-west-1")
	addRunning(fake, "eu-west-1", "big", 150) // two batches
	addRunning(fake, "eu-west-1", "small", 3)
	addRunning(fake, "us-east-1", "batch", 2)
	addRunning(fake, "us-east-1", "secret", 4)
	fake.Inject(ecsfake.Fault{Cluster: "secret", Code: ecsfake.AccessDenied})
	type point struct{ clusters, tasks int }
	var got []point
	var inside atomic.Bool
	src := newSource(t, ecsapi.Options{Regions: []string{"eu-west-1", "us-east-1"}, Progress: func(clusters, tasks int) {
		if !inside.CompareAndSwap(false, true) {
			t.Error("two Progress calls at once")
		}
		got = append(got, point{clusters, tasks})
		time.Sleep(time.Millisecond) // an overlapping call would land here
		inside.Store(false)
	}})
	for scanNo := range 2 {
		got = nil
		if _, err := scan(t, src); len(unreadKeys(err)) != 1 {
			t.Fatalf("scan %d: %v, want the denied cluster unread", scanNo, err)
		}
		// 4 clusters tried; 4 batches described (big's two, small's, batch's).
		if len(got) != 4+4 {
			t.Errorf("scan %d: %d Progress calls %v, want 8 (4 clusters, 4 batches)", scanNo, len(got), got)
		}
		for i := 1; i < len(got); i++ {
			if got[i].clusters < got[i-1].clusters || got[i].tasks < got[i-1].tasks {
				t.Errorf("scan %d: progress went back: %v", scanNo, got)
			}
		}
		if last := got[len(got)-1]; last != (point{4, 155}) {
			t.Errorf("scan %d: last progress %+v, want 4 clusters and 155 tasks (counted again from 0 each scan)", scanNo, last)
		}
	}
}

func ptr(n int) *int { return &n }

func TestTasksWithoutTagOptionsCopyNone(t *testing.T) {
	fake := startFake(t, "eu-west-1")
	fake.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", StartedAt: time.Now(), Tags: ecsfake.Tags("team", "a", "ecs-uptime:max-lifetime", "1h")})
	tasks, err := scan(t, newSource(t, ecsapi.Options{}))
	if err != nil || len(tasks) != 1 {
		t.Fatalf("Tasks = %d tasks, %v; want 1", len(tasks), err)
	}
	if tasks[0].ResourceTags != nil || tasks[0].HasMaxLifetimeTag {
		t.Errorf("tags copied without being named: %+v", tasks[0])
	}
}

// TestRate checks that every request of an account and region, retries
// included, waits on that account-region's own limiter: within a region N
// requests take at least (N-1)/rate, and regions do not wait for each
// other (DESIGN.md: each account and region has its own rate limiter).
func TestRate(t *testing.T) {
	const rate = 20.0
	fake := startFake(t, "eu-west-1")
	regions := []string{"eu-west-1", "us-east-1", "ap-southeast-2"}
	for _, r := range regions {
		addRunning(fake, r, "prod", 120)
		// Retries come within a millisecond of the failure unless paced.
		fake.Inject(ecsfake.Fault{Op: ecsfake.ListTasks, Region: r, Code: ecsfake.Throttling, Times: 2})
	}
	src := newSource(t, ecsapi.Options{Regions: regions, Rate: rate})
	tasks, err := scan(t, src)
	if err != nil || len(tasks) != 360 {
		t.Fatalf("Tasks = %d tasks, %v; want 360", len(tasks), err)
	}
	reqs := fake.Requests()
	lt, d := calls(120, 120, 120)
	if want := 3 + lt + d + 3*2; len(reqs) != want {
		t.Fatalf("%d requests, want %d", len(reqs), want)
	}
	byRegion := map[string][]time.Time{}
	for _, r := range reqs {
		byRegion[r.Region] = append(byRegion[r.Region], r.At)
	}
	if len(byRegion) != 3 {
		t.Fatalf("requests came for regions %v, want all 3", byRegion)
	}
	var paced time.Duration // the regions' minimum spans, one after the other
	for region, at := range byRegion {
		// The first request of a region dials its connection, which may
		// delay its arrival by tens of milliseconds under -race: the span
		// is counted from the second. Unpaced, these requests take a few
		// milliseconds in all.
		span, min := at[len(at)-1].Sub(at[1]), time.Duration(float64(len(at)-2)/rate*float64(time.Second))-20*time.Millisecond
		if span < min {
			t.Errorf("%s: %d requests took %v, want at least %v at %v/s", region, len(at)-1, span, min, rate)
		}
		paced += time.Duration(float64(len(at)-1) / rate * float64(time.Second))
	}
	if span := reqs[len(reqs)-1].At.Sub(reqs[0].At); span >= paced {
		t.Errorf("%d requests in 3 regions took %v, as long as one limiter for all would take (%v): the regions waited for each other", len(reqs), span, paced)
	}
}

// stepClock returns a clock that moves by the next of steps at each
// reading taken at the end of a scan (every second reading).
func stepClock(steps ...time.Duration) func() time.Time {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	return func() time.Time {
		if n%2 == 1 {
			now = now.Add(steps[n/2])
		}
		n++
		return now
	}
}

func TestSlowScanLoggedOncePerChange(t *testing.T) {
	fake := startFake(t, "eu-west-1")
	addRunning(fake, "eu-west-1", "prod", 130)
	var buf bytes.Buffer
	src := newSource(t, ecsapi.Options{Interval: time.Minute, Log: slog.New(slog.NewJSONHandler(&buf, nil))})
	ecsapi.SetClock(src, stepClock(2*time.Minute, 3*time.Minute, 10*time.Second, 20*time.Second, 90*time.Second))
	for range 5 {
		if _, err := scan(t, src); err != nil {
			t.Fatal(err)
		}
	}
	type line struct {
		Level    string
		Msg      string
		Duration int64
		APICalls int `json:"api_calls"`
		Tasks    int
	}
	var lines []line
	for _, raw := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var l line
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		lines = append(lines, l)
	}
	lt, d := calls(130)
	perScan := 1 + lt + d
	want := []line{
		{Level: "WARN", Duration: int64(2 * time.Minute), APICalls: perScan, Tasks: 130},
		{Level: "INFO", Duration: int64(10 * time.Second), APICalls: perScan, Tasks: 130},
		{Level: "WARN", Duration: int64(90 * time.Second), APICalls: perScan, Tasks: 130},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d log lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		l := lines[i]
		if l.Level != w.Level || l.Duration != w.Duration || l.APICalls != w.APICalls || l.Tasks != w.Tasks {
			t.Errorf("line %d = %+v, want %+v", i, l, w)
		}
	}
	if !strings.Contains(lines[0].Msg, "longer than the interval") || !strings.Contains(lines[1].Msg, "fit in the interval again") {
		t.Errorf("messages: %q, %q", lines[0].Msg, lines[1].Msg)
	}
}

func TestStopTask(t *testing.T) {
	const region = "eu-west-1"
	long := "x" + strings.Repeat("é", 200) // 401 bytes; byte 254 is inside an é
	for _, tc := range []struct {
		name       string
		reason     string
		wantReason string
		refuse     string // injected error code
	}{
		{name: "accepted", reason: "ecs-uptime: ran 26h03m, over its max lifetime 24h", wantReason: "ecs-uptime: ran 26h03m, over its max lifetime 24h"},
		{name: "a long reason is cut under 255 bytes", reason: long, wantReason: long[:ecsapi.MaxReason-1]},
		{name: "refused", reason: "r", wantReason: "r", refuse: ecsfake.AccessDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := startFake(t, region)
			arn := fake.AddTask(ecsfake.Task{Region: region, Cluster: "jobs", Family: "db-migrate", StartedAt: time.Now().Add(-26 * time.Hour)})
			keep := fake.AddTask(ecsfake.Task{Region: region, Cluster: "jobs", StartedAt: time.Now()})
			if tc.refuse != "" {
				fake.Inject(ecsfake.Fault{Op: ecsfake.StopTask, Task: arn, Code: tc.refuse})
			}
			src := newSource(t, ecsapi.Options{})
			tasks, err := scan(t, src)
			if err != nil || len(tasks) != 2 {
				t.Fatalf("Tasks = %d tasks, %v", len(tasks), err)
			}
			target := tasks[slices.IndexFunc(tasks, func(t uptime.Task) bool { return t.ARN == arn })]
			err = src.StopTask(context.Background(), target, tc.reason)
			stops := fake.Stops()
			if len(stops) != 1 || stops[0].TaskARN != arn || stops[0].Reason != tc.wantReason || stops[0].Cluster != "jobs" || stops[0].Region != region {
				t.Fatalf("stops = %+v, want one of %s with reason %q", stops, arn, tc.wantReason)
			}
			after, _ := scan(t, src)
			if tc.refuse != "" {
				var api smithy.APIError
				if !errors.As(err, &api) || api.ErrorCode() != tc.refuse || !strings.Contains(err.Error(), arn) {
					t.Fatalf("StopTask = %v, want an error naming the task with code %s", err, tc.refuse)
				}
				if len(after) != 2 {
					t.Errorf("after a refused stop the scan reports %d tasks, want 2", len(after))
				}
				return
			}
			if err != nil {
				t.Fatalf("StopTask: %v", err)
			}
			// The stopped task is returned once, STOPPED, with how it
			// ended; not again.
			if got, want := arnsOf(after), slices.Sorted(slices.Values([]string{arn, keep})); !slices.Equal(got, want) {
				t.Fatalf("after the stop the scan returns %v, want %v", got, want)
			}
			for _, task := range after {
				if task.ARN != arn {
					continue
				}
				if task.Status != "STOPPED" || task.Ending == nil || task.Ending.StopCode != "UserInitiated" || task.Ending.StoppedReason != tc.wantReason {
					t.Errorf("the stopped task: status %s, ending %+v, want stop code UserInitiated and reason %q", task.Status, task.Ending, tc.wantReason)
				}
			}
			if again, _ := scan(t, src); !slices.Equal(arnsOf(again), []string{keep}) {
				t.Errorf("the next scan returns %v, want only %s", arnsOf(again), keep)
			}
			// Stopping twice is harmless, as docs/cluster-scan.md promises for two scanners.
			if err := src.StopTask(context.Background(), target, tc.reason); err != nil {
				t.Errorf("second StopTask: %v", err)
			}
		})
	}
}

func TestStopTaskOfUnknownRegion(t *testing.T) {
	startFake(t, "eu-west-1")
	src := newSource(t, ecsapi.Options{})
	err := src.StopTask(context.Background(), uptime.Task{ARN: "arn:aws:ecs:us-east-1:123456789012:task/x/y", Region: "us-east-1"}, "r")
	if err == nil || !strings.Contains(err.Error(), "us-east-1") {
		t.Errorf("StopTask = %v, want an error naming the region", err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	startFake(t, "eu-west-1")
	for _, tc := range []struct {
		name string
		opts ecsapi.Options
		want string
	}{
		{"zero rate", ecsapi.Options{Rate: -1}, "rate"},
		{"bad cluster ARN", ecsapi.Options{Rate: 1, Clusters: []string{"arn:aws:ecs:eu-west-1:123456789012:service/x"}}, "cluster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ecsapi.New(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error about the %s", err, tc.want)
			}
		})
	}
}

func TestCancelledScanIsAnError(t *testing.T) {
	fake := startFake(t, "eu-west-1")
	addRunning(fake, "eu-west-1", "prod", 2)
	src := newSource(t, ecsapi.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tasks, err := src.Tasks(ctx)
	var partial *uptime.PartialError
	if err == nil || errors.As(err, &partial) || !errors.Is(err, context.Canceled) || tasks != nil {
		t.Errorf("Tasks on a cancelled context = %d tasks, %v; want a plain error wrapping context.Canceled", len(tasks), err)
	}
}
