package ecsapi_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/ecsapi"
	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// Member accounts of the tests: dev and prod assume their role, denied's
// role does not trust the scanner, gone is suspended.
const (
	dev    = "111111111111"
	prod   = "222222222222"
	denied = "333333333333"
	gone   = "444444444444"
	own    = ecsfake.Account // the scanner's own, the organization's management account
)

// orgFake is a fake with the organization of the tests: a task in each
// account's eu-west-1 cluster "apps", and us-east-1 too in prod.
func orgFake(t *testing.T) (*ecsfake.Server, map[string]string) {
	t.Helper()
	f := startFake(t, "eu-west-1")
	f.AddAccount(ecsfake.Member{ID: dev, Name: "dev"})
	f.AddAccount(ecsfake.Member{ID: prod, Name: "prod", ExternalID: "ext-42"})
	f.AddAccount(ecsfake.Member{ID: denied, Name: "denied", Role: "another-role"})
	f.AddAccount(ecsfake.Member{ID: gone, Name: "gone", Status: "SUSPENDED"})
	tasks := map[string]string{} // account/region → task ARN
	for _, a := range []string{own, dev, prod, denied, gone} {
		tasks[a+"/eu-west-1"] = f.AddTask(ecsfake.Task{Account: a, Region: "eu-west-1", Cluster: "apps", StartedAt: time.Now().Add(-time.Hour)})
	}
	tasks[prod+"/us-east-1"] = f.AddTask(ecsfake.Task{Account: prod, Region: "us-east-1", Cluster: "apps", StartedAt: time.Now().Add(-time.Hour)})
	return f, tasks
}

// callsBy counts the requests of one scan by "Op account[/region]".
func callsBy(reqs []ecsfake.Request) map[string]int {
	n := map[string]int{}
	for _, r := range reqs {
		key := r.Op + " " + r.Account
		if r.Service == "ecs" {
			key += "/" + r.Region
		}
		n[key]++
	}
	return n
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestAccounts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       ecsapi.Options
		want       []string // account/region of the tasks reported
		wantUnread []string
		first      map[string]int // calls of the first scan
		second     map[string]int // calls of the next, within the hour
	}{
		{
			name: "a list: the own account with its own credentials, the others through their role, once",
			opts: ecsapi.Options{Accounts: []string{own, dev, prod}, ExternalID: "ext-42"},
			want: []string{own + "/eu-west-1", dev + "/eu-west-1", prod + "/eu-west-1"},
			first: map[string]int{"GetCallerIdentity " + own: 1, "AssumeRole " + dev: 1, "AssumeRole " + prod: 1,
				"ListClusters " + own + "/eu-west-1": 1, "ListTasks " + own + "/eu-west-1": 2, "DescribeTasks " + own + "/eu-west-1": 1,
				"ListClusters " + dev + "/eu-west-1": 1, "ListTasks " + dev + "/eu-west-1": 2, "DescribeTasks " + dev + "/eu-west-1": 1,
				"ListClusters " + prod + "/eu-west-1": 1, "ListTasks " + prod + "/eu-west-1": 2, "DescribeTasks " + prod + "/eu-west-1": 1},
			second: map[string]int{
				"ListClusters " + own + "/eu-west-1": 1, "ListTasks " + own + "/eu-west-1": 2, "DescribeTasks " + own + "/eu-west-1": 1,
				"ListClusters " + dev + "/eu-west-1": 1, "ListTasks " + dev + "/eu-west-1": 2, "DescribeTasks " + dev + "/eu-west-1": 1,
				"ListClusters " + prod + "/eu-west-1": 1, "ListTasks " + prod + "/eu-west-1": 2, "DescribeTasks " + prod + "/eu-west-1": 1},
		},
		{
			name:       "a role that cannot be assumed is an unread account, asked again each scan; the others are read",
			opts:       ecsapi.Options{Accounts: []string{dev, denied}},
			want:       []string{dev + "/eu-west-1"},
			wantUnread: []string{denied},
			first: map[string]int{"GetCallerIdentity " + own: 1, "AssumeRole " + dev: 1, "AssumeRole " + denied: 1,
				"ListClusters " + dev + "/eu-west-1": 1, "ListTasks " + dev + "/eu-west-1": 2, "DescribeTasks " + dev + "/eu-west-1": 1},
			second: map[string]int{"AssumeRole " + denied: 1,
				"ListClusters " + dev + "/eu-west-1": 1, "ListTasks " + dev + "/eu-west-1": 2, "DescribeTasks " + dev + "/eu-west-1": 1},
		},
		{
			name: "the organization: its ACTIVE accounts, not the suspended one; the wrong external ID is denied",
			opts: ecsapi.Options{Organization: true, Clusters: []string{"apps"}},
			want: []string{own + "/eu-west-1", dev + "/eu-west-1"},
			// prod wants an external ID, denied another role name.
			wantUnread: []string{prod, denied},
			first: map[string]int{"GetCallerIdentity " + own: 1, "ListAccounts " + own: 1,
				"AssumeRole " + dev: 1, "AssumeRole " + prod: 1, "AssumeRole " + denied: 1,
				"ListTasks " + own + "/eu-west-1": 2, "DescribeTasks " + own + "/eu-west-1": 1,
				"ListTasks " + dev + "/eu-west-1": 2, "DescribeTasks " + dev + "/eu-west-1": 1},
			second: map[string]int{"AssumeRole " + prod: 1, "AssumeRole " + denied: 1,
				"ListTasks " + own + "/eu-west-1": 2, "DescribeTasks " + own + "/eu-west-1": 1,
				"ListTasks " + dev + "/eu-west-1": 2, "DescribeTasks " + dev + "/eu-west-1": 1},
		},
		{
			name: "all regions: each account's enabled ones, listed with its own credentials once an hour; no call in a disabled region",
			opts: ecsapi.Options{Accounts: []string{own, prod}, ExternalID: "ext-42", AllRegions: true, Clusters: []string{"apps"}},
			want: []string{own + "/eu-west-1", prod + "/eu-west-1", prod + "/us-east-1"},
			first: map[string]int{"GetCallerIdentity " + own: 1, "AssumeRole " + prod: 1, "ListRegions " + own: 1, "ListRegions " + prod: 1,
				"ListTasks " + own + "/eu-west-1": 2, "DescribeTasks " + own + "/eu-west-1": 1,
				"ListTasks " + prod + "/eu-west-1": 2, "DescribeTasks " + prod + "/eu-west-1": 1,
				"ListTasks " + prod + "/us-east-1": 2, "DescribeTasks " + prod + "/us-east-1": 1},
			second: map[string]int{
				"ListTasks " + own + "/eu-west-1": 2, "DescribeTasks " + own + "/eu-west-1": 1,
				"ListTasks " + prod + "/eu-west-1": 2, "DescribeTasks " + prod + "/eu-west-1": 1,
				"ListTasks " + prod + "/us-east-1": 2, "DescribeTasks " + prod + "/us-east-1": 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, tasks := orgFake(t)
			f.SetRegions(own, ecsfake.Region{Name: "eu-west-1", Status: ecsfake.RegionEnabledByDefault}, ecsfake.Region{Name: "af-south-1", Status: ecsfake.RegionDisabled})
			f.SetRegions(prod, ecsfake.Region{Name: "eu-west-1", Status: ecsfake.RegionEnabledByDefault},
				ecsfake.Region{Name: "us-east-1", Status: ecsfake.RegionEnabled}, ecsfake.Region{Name: "me-south-1", Status: ecsfake.RegionDisabled})
			src := newSource(t, tc.opts)
			var want []string
			for _, w := range tc.want {
				want = append(want, tasks[w])
			}
			slices.Sort(want)
			for i, wantCalls := range []map[string]int{tc.first, tc.second} {
				f.Reset()
				got, err := scan(t, src)
				if tc.wantUnread == nil && err != nil {
					t.Fatalf("scan %d: %v", i, err)
				}
				if keys := unreadKeys(err); tc.wantUnread != nil && !slices.Equal(keys, slices.Sorted(slices.Values(tc.wantUnread))) {
					t.Fatalf("scan %d: err %v, want unread accounts %v", i, err, tc.wantUnread)
				}
				if arns := arnsOf(got); !slices.Equal(arns, want) {
					t.Errorf("scan %d reported\n %v\nwant\n %v", i, arns, want)
				}
				for _, task := range got {
					if !strings.Contains(task.ARN, ":"+task.Account+":") || task.Account == "" {
						t.Errorf("task %s has account %q", task.ARN, task.Account)
					}
				}
				if calls := callsBy(f.Requests()); !equalCounts(calls, wantCalls) {
					t.Errorf("scan %d calls\n %v\nwant\n %v", i, calls, wantCalls)
				}
				if got, want := src.LastScan().Calls, f.Calls(""); got != want {
					t.Errorf("scan %d: the source counted %d calls, the fake received %d", i, got, want)
				}
			}
			for _, c := range f.AssumeRoles() {
				if c.SessionName != "ecs-uptime" || c.Duration != time.Hour || c.RoleARN != "arn:aws:iam::"+c.Account+":role/ecs-uptime" || c.ExternalID != tc.opts.ExternalID {
					t.Errorf("AssumeRole %+v: want the role ecs-uptime, session ecs-uptime, an hour, external ID %q", c, tc.opts.ExternalID)
				}
			}
		})
	}
}

// An unread account names the role and the error.
func TestDeniedAccountError(t *testing.T) {
	f, _ := orgFake(t)
	_ = f
	src := newSource(t, ecsapi.Options{Accounts: []string{dev, denied}})
	_, err := scan(t, src)
	var p *uptime.PartialError
	if !errors.As(err, &p) || len(p.Unread) != 1 {
		t.Fatalf("err %v, want one unread account", err)
	}
	u := p.Unread[0]
	if u.Account != denied || u.Region != "" || u.Cluster != "" || !strings.Contains(u.Err.Error(), "arn:aws:iam::"+denied+":role/ecs-uptime") || !strings.Contains(u.Err.Error(), "AccessDenied") {
		t.Errorf("unread %+v: want the whole account, naming the role and AccessDenied", u)
	}
	// Every account denied: nothing was read, a plain error.
	src = newSource(t, ecsapi.Options{Accounts: []string{denied}})
	if tasks, err := scan(t, src); err == nil || errors.As(err, &p) || tasks != nil {
		t.Errorf("every account denied = %d tasks, %v; want a plain error", len(tasks), err)
	}
}

// Credentials are renewed before they expire, not once per scan: a session
// with more than RenewBefore left is used again; one with less is renewed
// at its next use although it is still valid, so that no call is ever
// signed with credentials about to expire.
func TestSessionsRenewedBeforeExpiry(t *testing.T) {
	for _, tc := range []struct {
		lifetime   time.Duration
		assumes    int // over three scans
		orMoreThan bool
	}{
		{ecsapi.RenewBefore + time.Minute, 1, false},
		{ecsapi.RenewBefore - 10*time.Second, 3, true},
	} {
		f, _ := orgFake(t)
		f.SetSessionLifetime(tc.lifetime)
		src := newSource(t, ecsapi.Options{Accounts: []string{dev}})
		for range 3 {
			if _, err := scan(t, src); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(f.AssumeRoles()); n != tc.assumes && !(tc.orMoreThan && n > tc.assumes) {
			t.Errorf("sessions of %v: %d AssumeRole calls over 3 scans, want %d", tc.lifetime, n, tc.assumes)
		}
		for _, r := range f.Requests() {
			if r.Error != "" {
				t.Errorf("sessions of %v: %s %s answered %s", tc.lifetime, r.Op, r.Account, r.Error)
			}
		}
	}
}

// clock is a clock a test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// The organization and each account's regions are read again each hour:
// an account that joins is read, one that leaves is not; a re-read that
// fails keeps what was read before, logged once, and its recovery once. A
// first read that fails is an error (organization) or an unread account
// (regions).
func TestHourlyReread(t *testing.T) {
	f, tasks := orgFake(t)
	for _, a := range []string{own, dev, "555555555555"} {
		f.SetRegions(a, ecsfake.Region{Name: "eu-west-1", Status: ecsfake.RegionEnabledByDefault})
	}
	var logs bytes.Buffer
	src := newSource(t, ecsapi.Options{Organization: true, AllRegions: true, Clusters: []string{"apps"},
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ecsapi.SetClock(src, clk.Now)

	// The organization cannot be listed: no account is known, an error.
	remove := f.Inject(ecsfake.Fault{Op: ecsfake.ListAccounts, Code: ecsfake.AccessDenied})
	if _, err := scan(t, src); err == nil || !strings.Contains(err.Error(), "organizations:ListAccounts") {
		t.Fatalf("first scan = %v, want an error naming organizations:ListAccounts", err)
	}
	remove()
	// dev's regions cannot be listed: dev is an unread account.
	remove = f.Inject(ecsfake.Fault{Op: ecsfake.ListRegions, Account: dev, Code: ecsfake.AccessDenied})
	got, err := scan(t, src)
	if keys := unreadKeys(err); !slices.Equal(keys, []string{dev, prod, denied}) {
		t.Fatalf("unread %v (%v), want dev (regions), prod and denied (roles)", keys, err)
	}
	if !slices.Contains(arnsOf(got), tasks[own+"/eu-west-1"]) {
		t.Errorf("the own account's task is not reported: %v", arnsOf(got))
	}
	remove()
	if _, err := scan(t, src); !slices.Equal(unreadKeys(err), []string{prod, denied}) {
		t.Fatalf("after dev's regions answer: %v", err)
	}

	// An hour later: both lists fail to re-read; the last ones are kept.
	f.Reset()
	clk.add(ecsapi.Refresh)
	removeOrg := f.Inject(ecsfake.Fault{Op: ecsfake.ListAccounts, Code: "TooManyRequestsException"})
	removeRegions := f.Inject(ecsfake.Fault{Op: ecsfake.ListRegions, Account: dev, Code: ecsfake.AccessDenied})
	for range 2 {
		got, err = scan(t, src)
		if !slices.Equal(unreadKeys(err), []string{prod, denied}) || !slices.Contains(arnsOf(got), tasks[dev+"/eu-west-1"]) {
			t.Fatalf("with the re-reads failing: %v, %v; want dev still read", arnsOf(got), err)
		}
	}
	if n := f.Calls(ecsfake.ListAccounts); n < 2 {
		t.Errorf("%d ListAccounts calls over two scans after a failed re-read, want it asked again each scan", n)
	}
	removeOrg()
	removeRegions()
	// A new account joins, dev leaves (suspended).
	const joined = "555555555555"
	f.AddAccount(ecsfake.Member{ID: joined})
	f.AddAccount(ecsfake.Member{ID: dev, Status: "SUSPENDED"})
	newTask := f.AddTask(ecsfake.Task{Account: joined, Region: "eu-west-1", Cluster: "apps", StartedAt: time.Now()})
	got, err = scan(t, src)
	if arns := arnsOf(got); !slices.Contains(arns, newTask) || slices.Contains(arns, tasks[dev+"/eu-west-1"]) {
		t.Errorf("after the re-read: %v (%v); want the new account's task and none of dev's", arns, err)
	}
	out := logs.String()
	for _, want := range []string{
		"cannot list the organization's accounts again", "the organization's accounts can be listed again",
		"cannot list the account's regions again", "the organization's ACTIVE accounts changed",
	} {
		if n := strings.Count(out, want); n != 1 {
			t.Errorf("%d log lines %q, want 1:\n%s", n, want, out)
		}
	}
	if !strings.Contains(out, "joined=["+joined+"]") || !strings.Contains(out, "left=["+dev+"]") {
		t.Errorf("the change of accounts is not named:\n%s", out)
	}
}

// At most Concurrency account-regions are read at once, and more than one
// when allowed.
func TestScanConcurrency(t *testing.T) {
	f, _ := orgFake(t)
	regions := []string{"eu-west-1", "us-east-1", "us-west-2", "ap-southeast-2"}
	for _, r := range regions {
		f.AddTask(ecsfake.Task{Account: dev, Region: r, Cluster: "apps", StartedAt: time.Now()})
		f.AddTask(ecsfake.Task{Region: r, Cluster: "apps", StartedAt: time.Now()})
	}
	var now, most atomic.Int32
	f.BeforeServe(func(r ecsfake.Request) {
		if r.Service != "ecs" {
			return
		}
		n := now.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(20 * time.Millisecond) // hold the request so that others overlap it
		now.Add(-1)
	})
	for _, limit := range []int32{1, 3} {
		most.Store(0)
		src := newSource(t, ecsapi.Options{Accounts: []string{own, dev}, Regions: regions, Concurrency: int(limit)})
		if _, err := scan(t, src); err != nil {
			t.Fatal(err)
		}
		if m := most.Load(); m > limit || limit > 1 && m < 2 {
			t.Errorf("concurrency %d: %d requests at once", limit, m)
		}
	}
}

// StopTask uses the credentials of the task's account.
func TestStopTaskInAMemberAccount(t *testing.T) {
	f, tasks := orgFake(t)
	src := newSource(t, ecsapi.Options{Accounts: []string{dev}})
	got, err := scan(t, src)
	if err != nil || len(got) != 1 {
		t.Fatalf("scan: %d tasks, %v", len(got), err)
	}
	f.Reset()
	if err := src.StopTask(context.Background(), got[0], "r"); err != nil {
		t.Fatal(err)
	}
	reqs := f.Requests()
	if len(reqs) != 1 || reqs[0].Op != ecsfake.StopTask || reqs[0].Account != dev || reqs[0].Error != "" {
		t.Errorf("requests %+v, want one StopTask in %s", reqs, dev)
	}
	if stops := f.Stops(); len(stops) != 1 || stops[0].TaskARN != tasks[dev+"/eu-west-1"] {
		t.Errorf("stops %+v", stops)
	}
	other := got[0]
	other.Account = prod
	if err := src.StopTask(context.Background(), other, "r"); err == nil || !strings.Contains(err.Error(), prod) {
		t.Errorf("StopTask in an account not read = %v, want an error naming it", err)
	}
}

// The scanner's own account that cannot be learned is an error, with no
// other call.
func TestOwnAccountUnknown(t *testing.T) {
	f, _ := orgFake(t)
	f.Inject(ecsfake.Fault{Op: ecsfake.GetCallerIdentity, Code: "AccessDenied"})
	src := newSource(t, ecsapi.Options{Accounts: []string{dev}})
	if _, err := scan(t, src); err == nil || !strings.Contains(err.Error(), "sts:GetCallerIdentity") {
		t.Errorf("err %v, want one naming sts:GetCallerIdentity", err)
	}
	if n := f.Calls(""); n != 1 {
		t.Errorf("%d calls, want only GetCallerIdentity", n)
	}
}

// All regions without ECS_UPTIME_ACCOUNTS: the credentials' own account's
// enabled regions, listed once an hour with no STS call, and unread parts
// named without an account as before.
func TestAllRegionsOfTheOwnAccount(t *testing.T) {
	f, tasks := orgFake(t)
	f.SetRegions(own, ecsfake.Region{Name: "eu-west-1", Status: ecsfake.RegionEnabledByDefault},
		ecsfake.Region{Name: "us-east-1", Status: ecsfake.RegionEnabled}, ecsfake.Region{Name: "af-south-1", Status: ecsfake.RegionDisabled})
	f.AddTask(ecsfake.Task{Region: "af-south-1", Cluster: "apps", StartedAt: time.Now()})
	f.AddCluster("us-east-1", "locked")
	f.Inject(ecsfake.Fault{Region: "us-east-1", Cluster: "locked", Code: ecsfake.AccessDenied})
	src := newSource(t, ecsapi.Options{AllRegions: true})
	for i := range 2 {
		f.Reset()
		got, err := scan(t, src)
		if keys := unreadKeys(err); !slices.Equal(keys, []string{"us-east-1/locked"}) {
			t.Fatalf("scan %d: %v, want us-east-1/locked unread", i, err)
		}
		if arns := arnsOf(got); !slices.Equal(arns, []string{tasks[own+"/eu-west-1"]}) {
			t.Errorf("scan %d reported %v", i, arns)
		}
		want := map[string]int{"ListClusters " + own + "/eu-west-1": 1, "ListTasks " + own + "/eu-west-1": 2, "DescribeTasks " + own + "/eu-west-1": 1,
			"ListClusters " + own + "/us-east-1": 1, "ListTasks " + own + "/us-east-1": 1}
		if i == 0 {
			want["ListRegions "+own] = 1
		}
		if calls := callsBy(f.Requests()); !equalCounts(calls, want) {
			t.Errorf("scan %d calls\n %v\nwant\n %v", i, calls, want)
		}
	}
}
