package main

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/ecsapi"
	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// BenchmarkAPIOrganization runs the binary as one scanner for an
// organization against the fake (in this process, so that its cost is not
// the binary's): 50 accounts (the management account, the scanner's own,
// and 49 members), each with 3 enabled regions (and one disabled) of one
// cluster of 100 RUNNING tasks: 15,000 tasks. ECS_UPTIME_ACCOUNTS=
// organization, ECS_UPTIME_REGIONS=all, the defaults ECS_UPTIME_SCAN_CONCURRENCY=8
// and ECS_UPTIME_API_RATE=5 per account-region. Per cycle it reports the
// API calls (and fails unless they are the formula's: per account-region
// one ListClusters page, per cluster ⌈100/100⌉ ListTasks of the running,
// one of the stopped, and ⌈100/100⌉ DescribeTasks; 600), the binary's CPU time and the cycle's wall time (its first request
// to its last); then the binary's peak RSS, and the AssumeRole calls: one
// per member account in the first cycle, none after (sessions of an hour,
// renewed a minute before they end: one per member account per 59
// minutes). Cycles are told apart by the idle time between them (the
// interval is longer than a scan); the first, with the start-up, the
// organization's and the regions' reads, is left out.
//
//	go test -run '^$' -bench BenchmarkAPIOrganization -benchtime 1x ./cmd/ecs-uptime
func BenchmarkAPIOrganization(b *testing.B) {
	const (
		accounts, regionsEach, tasksEach = 50, 3, 100
		measured                         = 3
		interval                         = 15 * time.Second
	)
	regions := []string{"eu-west-1", "us-east-1", "us-west-2"}
	for range b.N {
		fake := ecsfake.Start(b)
		ids := []string{ecsfake.Account}
		for i := 1; len(ids) < accounts; i++ {
			id := fmt.Sprintf("%012d", 200000000000+i)
			fake.AddAccount(ecsfake.Member{ID: id})
			ids = append(ids, id)
		}
		now := time.Now()
		for _, id := range ids {
			set := []ecsfake.Region{{Name: "af-south-1", Status: ecsfake.RegionDisabled}}
			for _, r := range regions {
				set = append(set, ecsfake.Region{Name: r, Status: ecsfake.RegionEnabledByDefault})
				for i := range tasksEach {
					fake.AddTask(ecsfake.Task{Account: id, Region: r, Cluster: "apps", Family: "app",
						StartedAt: now.Add(-time.Duration(i) * time.Minute), Tags: []ecsfake.Tag{{Key: "team", Value: "data"}}})
				}
			}
			fake.SetRegions(id, set...)
		}
		agent := udpAgent(b)
		var mu sync.Mutex
		type cycle struct {
			calls, assumes int
			first, last    time.Time
			cpu            time.Duration // the binary's CPU time when the cycle began
		}
		var cycles []cycle
		var pid int
		fake.BeforeServe(func(r ecsfake.Request) {
			mu.Lock()
			defer mu.Unlock()
			if len(cycles) == 0 || r.At.Sub(cycles[len(cycles)-1].last) > time.Second {
				cpu, _ := processCPU(pid)
				cycles = append(cycles, cycle{first: r.At, cpu: cpu})
			}
			c := &cycles[len(cycles)-1]
			c.calls++
			c.last = r.At
			if r.Op == ecsfake.AssumeRole {
				c.assumes++
			}
		})
		mu.Lock()
		p := startBinary(b, releaseBinary(b), apiEnv(fake, agent, "ECS_UPTIME_ACCOUNTS=organization", "ECS_UPTIME_REGIONS=all",
			"ECS_UPTIME_INTERVAL="+interval.String(), "ECS_UPTIME_TASK_TAGS=team", "ECS_UPTIME_LOG_LEVEL=error")...)
		pid = p.cmd.Process.Pid
		mu.Unlock()
		// Wait until the cycle after the measured ones begins.
		deadline := time.Now().Add(time.Duration(measured+3) * interval)
		for {
			mu.Lock()
			n := len(cycles)
			mu.Unlock()
			if n >= measured+2 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d cycles began in %v, want %d; logs:\n%s", n, time.Duration(measured+3)*interval, measured+2, p.stderr)
			}
			time.Sleep(10 * time.Millisecond)
		}
		st, err := procStatus(pid)
		if err != nil {
			b.Fatal(err)
		}
		if code, _ := p.stop(b, syscall.SIGTERM); code != exitOK {
			b.Fatalf("exit %d; logs:\n%s", code, p.stderr)
		}
		mu.Lock()
		got := cycles[:measured+2]
		mu.Unlock()
		want := accounts * regionsEach * (1 + 2*((tasksEach+99)/100) + 1)
		var calls, assumes int
		var cpu, wall time.Duration
		for k := 1; k <= measured; k++ {
			c := got[k]
			if c.calls != want {
				b.Errorf("cycle %d: %d calls, want %d: per account-region 1 ListClusters, 2 ListTasks (running, stopped), 1 DescribeTasks", k, c.calls, want)
			}
			calls += c.calls
			assumes += c.assumes
			cpu += got[k+1].cpu - c.cpu
			wall += c.last.Sub(c.first)
		}
		if got[0].assumes != accounts-1 || assumes != 0 {
			b.Errorf("AssumeRole: %d in the first cycle, %d in the next %d; want one per member account (%d), then none", got[0].assumes, assumes, measured, accounts-1)
		}
		b.ReportMetric(float64(calls)/measured, "calls/cycle")
		b.ReportMetric(float64(cpu.Microseconds())/1000/measured, "cpu-ms/cycle")
		b.ReportMetric(wall.Seconds()/measured, "wall-s/cycle")
		b.ReportMetric(float64(st["VmHWM"])/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(got[0].assumes), "assume-role/first-cycle")
		b.ReportMetric(float64(got[0].assumes)*float64(time.Hour)/float64(ecsapi.SessionDuration-ecsapi.RenewBefore), "assume-role/hour")
		b.ReportMetric(got[0].last.Sub(got[0].first).Seconds(), "first-cycle-s")
	}
}
