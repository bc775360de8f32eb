package main

import (
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/ecsapi"
	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// One scanner for an organization (DESIGN.md, Scanning an organization),
// the binary against the fake: the management account (the scanner's own)
// and two members, one of which does not let the scanner assume its role;
// a suspended account that the organization lists and that is never
// touched; every enabled region of each account, a disabled region never
// called. Each cycle's calls counted per account and region; the role
// sessions renewed before they expire, not once per cycle; each
// account-region paced on its own; one log line for the denied account;
// every call allowed by the shipped policies of the account it acts in.
func TestAPIModeScansAnOrganization(t *testing.T) {
	const (
		own       = ecsfake.Account // management account, the scanner's own
		dev       = "111111111111"
		denied    = "333333333333"
		suspended = "444444444444"
		rate      = 20
	)
	fake := ecsfake.Start(t)
	agent := udpAgent(t)
	fake.AddAccount(ecsfake.Member{ID: dev, Name: "dev", ExternalID: "datadog-ecs-uptime"})
	fake.AddAccount(ecsfake.Member{ID: denied, Name: "legacy", Role: "ReadOnly"}) // no role named ecs-uptime
	fake.AddAccount(ecsfake.Member{ID: suspended, Name: "closed", Status: "SUSPENDED"})
	enabled := func(name string) ecsfake.Region {
		return ecsfake.Region{Name: name, Status: ecsfake.RegionEnabledByDefault}
	}
	fake.SetRegions(own, enabled("eu-west-1"), enabled("us-east-1"), ecsfake.Region{Name: "me-south-1", Status: ecsfake.RegionDisabled})
	fake.SetRegions(dev, enabled("eu-west-1"), enabled("us-east-1"), ecsfake.Region{Name: "eu-south-1", Status: ecsfake.RegionEnabled},
		ecsfake.Region{Name: "af-south-1", Status: ecsfake.RegionDisabled})
	// Sessions that last 5 s past the renewal window: renewed every 5 s
	// or so, over cycles of 2 s.
	fake.SetSessionLifetime(ecsapi.RenewBefore + 5*time.Second)

	now := time.Now()
	want := map[string]string{} // task ARN → account/region
	add := func(account, region, cluster string, n int, reported bool) {
		for i := range n {
			arn := fake.AddTask(ecsfake.Task{Account: account, Region: region, Cluster: cluster, Family: "job",
				StartedAt: now.Add(-time.Duration(i+1) * time.Hour)})
			if reported {
				want[arn] = account + "/" + region
			}
		}
	}
	add(own, "eu-west-1", "ops", 2, true)
	add(own, "me-south-1", "ops", 1, false) // a disabled region
	add(dev, "eu-west-1", "apps", 3, true)
	add(dev, "eu-south-1", "apps", 1, true) // an opt-in region, enabled
	add(dev, "af-south-1", "apps", 1, false)
	add(denied, "eu-west-1", "apps", 1, false)
	add(suspended, "eu-west-1", "apps", 1, false)

	var mu sync.Mutex
	var all []ecsfake.Request // every request of the run, whatever Reset does
	fake.BeforeServe(func(r ecsfake.Request) {
		mu.Lock()
		all = append(all, r)
		mu.Unlock()
	})
	p := start(t, apiEnv(fake, agent, "ECS_UPTIME_ACCOUNTS=organization", "ECS_UPTIME_REGIONS=all",
		"ECS_UPTIME_EXTERNAL_ID=datadog-ecs-uptime", "ECS_UPTIME_SCAN_CONCURRENCY=2", "ECS_UPTIME_INTERVAL=2s",
		"ECS_UPTIME_API_RATE=20", "ECS_UPTIME_CRITICAL=0")...)

	first, _ := gaugesOf(t, agent, len(want), 30*time.Second)
	for arn, where := range want {
		g, ok := first[arn]
		if !ok {
			t.Errorf("no gauge for %s (%s)", arn, where)
			continue
		}
		account, region, _ := strings.Cut(where, "/")
		if a, _ := g.Tag("aws_account"); a != account {
			t.Errorf("%s: aws_account %q, want %s", arn, a, account)
		}
		if r, _ := g.Tag("region"); r != region {
			t.Errorf("%s: region %q, want %s", arn, r, region)
		}
	}
	for arn := range first {
		if _, ok := want[arn]; !ok {
			t.Errorf("a gauge for %s, which must not be reported", arn)
		}
	}

	// The next cycle, counted: per account-region ListClusters, per
	// cluster one ListTasks and one DescribeTasks; the denied role asked
	// again; nothing else (the organization and the regions are read
	// hourly, the sessions renewed apart: counted over the run below).
	fake.Reset()
	gaugesOf(t, agent, len(want), 30*time.Second)
	count := map[string]int{}
	for _, r := range fake.Requests() {
		if r.Op == ecsfake.AssumeRole && r.Account == dev {
			continue
		}
		key := r.Op + " " + r.Account
		if r.Service == "ecs" {
			key += "/" + r.Region + "/" + r.Cluster
		}
		count[key]++
	}
	wantCalls := map[string]int{
		"AssumeRole " + denied:                      1,
		"ListClusters " + own + "/eu-west-1/":       1,
		"ListClusters " + own + "/us-east-1/":       1,
		"ListTasks " + own + "/eu-west-1/ops":       2,
		"DescribeTasks " + own + "/eu-west-1/ops":   1,
		"ListClusters " + dev + "/eu-west-1/":       1,
		"ListClusters " + dev + "/us-east-1/":       1,
		"ListClusters " + dev + "/eu-south-1/":      1,
		"ListTasks " + dev + "/eu-west-1/apps":      2,
		"DescribeTasks " + dev + "/eu-west-1/apps":  1,
		"ListTasks " + dev + "/eu-south-1/apps":     2,
		"DescribeTasks " + dev + "/eu-south-1/apps": 1,
	}
	if !mapsEqual(count, wantCalls) {
		t.Errorf("API calls of one cycle\n %v\nwant\n %v", count, wantCalls)
	}

	// A few more cycles, for the sessions' renewal.
	time.Sleep(9 * time.Second)
	code, _ := p.stop(t, syscall.SIGTERM)
	logs := p.stderr.String()
	if code != exitOK {
		t.Errorf("exit %d after SIGTERM, want 0; logs:\n%s", code, logs)
	}
	mu.Lock()
	run := slices.Clone(all)
	mu.Unlock()

	cycles, assumeDev, byOp := 0, 0, map[string]int{}
	calls := map[string][]time.Time{} // account/region → arrivals of its ECS calls
	for _, r := range run {
		byOp[r.Op+" "+r.Account]++
		switch {
		case r.Op == ecsfake.AssumeRole && r.Account == denied:
			cycles++ // asked once per cycle
		case r.Op == ecsfake.AssumeRole && r.Account == dev:
			assumeDev++
		}
		if r.Error == "ExpiredTokenException" || r.Error == "UnrecognizedClientException" {
			t.Errorf("%s %s/%s answered %s: credentials used past their expiry or in a disabled region", r.Op, r.Account, r.Region, r.Error)
		}
		if r.Service == "ecs" {
			if r.Account == denied || r.Account == suspended || r.Region == "me-south-1" || r.Region == "af-south-1" {
				t.Errorf("%s in %s/%s: an account or region that must not be read", r.Op, r.Account, r.Region)
			}
			calls[r.Account+"/"+r.Region] = append(calls[r.Account+"/"+r.Region], r.At)
		}
	}
	if cycles < 5 {
		t.Fatalf("%d cycles in the run, want at least 5; logs:\n%s", cycles, logs)
	}
	// Once for the whole run: the scanner's account, the organization,
	// each readable account's regions.
	for _, op := range []string{"GetCallerIdentity " + own, "ListAccounts " + own, "ListRegions " + own, "ListRegions " + dev} {
		if byOp[op] != 1 {
			t.Errorf("%d × %s over %d cycles, want 1 (hourly)", byOp[op], op, cycles)
		}
	}
	for _, op := range []string{"ListRegions " + denied, "AssumeRole " + suspended, "AssumeRole " + own} {
		if byOp[op] != 0 {
			t.Errorf("%d × %s, want none", byOp[op], op)
		}
	}
	// Renewed before expiry (no call answered ExpiredToken, checked
	// above), and not once per cycle.
	if assumeDev < 2 || assumeDev >= cycles {
		t.Errorf("%d AssumeRole calls for %s over %d cycles with sessions of %v: want it renewed (2 or more) but not each cycle",
			assumeDev, dev, cycles, ecsapi.RenewBefore+5*time.Second)
	}
	paced(t, calls, rate) // each account-region on its own limiter
	if n := strings.Count(logs, "cannot read part of the source"); n != 1 || !strings.Contains(logs, "account="+denied) || !strings.Contains(logs, "AccessDenied") {
		t.Errorf("%d lines about unread parts, want 1 naming account %s and AccessDenied; logs:\n%s", n, denied, logs)
	}
	if strings.Contains(logs, suspended) {
		t.Errorf("the logs name the suspended account:\n%s", logs)
	}
	allowedByTheirPolicies(t, run)
}

// allowedByTheirPolicies fails the test for every call the binary made
// that the shipped policy of the account it acts in does not allow: the
// scanner's task role (cluster-scan-task-role.json, with the organization
// additions) in its own account and for STS, Organizations and Account;
// the member role of the StackSet template in the others.
// GetCallerIdentity needs no permission.
func allowedByTheirPolicies(t *testing.T, reqs []ecsfake.Request) {
	t.Helper()
	read := func(name string) string { return readRepoFile(t, "task-definitions/"+name) }
	scanner := read("iam/cluster-scan-task-role.json") + read("iam/cluster-scan-organization.json")
	member := read("member-role.cfn.yaml")
	seen := map[string]bool{}
	for _, r := range reqs {
		action := r.Service + ":" + r.Op
		doc, name := scanner, "the scanner's policies"
		if r.Service == "ecs" && r.Account != ecsfake.Account || r.Op == ecsfake.ListRegions && r.Account != ecsfake.Account {
			doc, name = member, "member-role.cfn.yaml"
		}
		if r.Op == ecsfake.GetCallerIdentity || seen[action+name] {
			continue
		}
		seen[action+name] = true
		if !strings.Contains(doc, `"`+action+`"`) && !strings.Contains(doc, "- "+action+"\n") {
			t.Errorf("the binary calls %s in %s, which %s does not allow", action, r.Account, name)
		}
	}
}
