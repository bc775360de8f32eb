package main

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/dogstatsd"
	"ecs-uptime/uptime/ecsmeta"
	"ecs-uptime/uptime/lifetime"
)

// heapAndGoroutines returns the live heap after a full collection and the
// number of goroutines.
func heapAndGoroutines() (uint64, int) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, runtime.NumGoroutine()
}

// cpuTime is the user plus system CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSoak runs the production cycle (HTTP read of a ten-container
// task on loopback, uptime rules, service check and gauges sent and
// flushed over UDP) b.N times in one Runner, as a month of cycles would,
// and reports the CPU time per cycle (the whole process, so the endpoint's
// side of each request is in it too) and the live heap and goroutines
// after the first tenth of the run and at its end: flat memory means the
// two agree. Run it for a million cycles:
//
//	go test -run '^$' -bench BenchmarkSoak -benchtime 1000000x ./cmd/ecs-uptime
func BenchmarkSoak(b *testing.B) {
	endpoint, agent := benchRig(b, true)
	src, _ := ecsmeta.New(endpoint)
	sink, err := dogstatsd.New(dogstatsd.Options{Addr: agent})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	pipe := &uptime.Pipeline{Stages: []uptime.Stage{uptime.Gauges{}, lifetime.NewJudge(lifetime.Policy{Critical: 24 * time.Hour})}, Output: sink}
	r := &uptime.Runner{Source: src, Sink: pipe, Tracker: uptime.NewTracker(nil, nil), Interval: time.Minute, Log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	warm := max(b.N/10, 1)
	var heapWarm, heapEnd uint64
	var gorWarm, gorEnd int
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := range b.N {
		if i == warm {
			b.StopTimer()
			heapWarm, gorWarm = heapAndGoroutines()
			b.StartTimer()
		}
		if err := r.Cycle(ctx); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime(b) - cpu0
	b.StopTimer()
	heapEnd, gorEnd = heapAndGoroutines()
	if b.N <= warm {
		heapWarm, gorWarm = heapEnd, gorEnd
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/cycle")
	b.ReportMetric(float64(heapWarm), "heap-B@10%")
	b.ReportMetric(float64(heapEnd), "heap-B@end")
	b.ReportMetric(float64(gorWarm), "goroutines@10%")
	b.ReportMetric(float64(gorEnd), "goroutines@end")
}

// BenchmarkCycleNaive is the baseline BenchmarkCycle is compared with: the
// same cycle written the obvious way, with a new HTTP connection and a new
// DogStatsD client each cycle (as a cron job or a sidecar that sets up and
// tears down per cycle would).
func BenchmarkCycleNaive(b *testing.B) {
	endpoint, agent := benchRig(b, true)
	tracker := uptime.NewTracker(nil, nil)
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		src, _ := ecsmeta.New(endpoint, ecsmeta.WithHTTPClient(&http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}))
		tasks, err := src.Tasks(ctx)
		if err != nil {
			b.Fatal(err)
		}
		c, err := statsd.New(agent, statsd.WithoutTelemetry(), statsd.WithoutOriginDetection())
		if err != nil {
			b.Fatal(err)
		}
		sink := dogstatsd.NewWithClient(c)
		pipe := &uptime.Pipeline{Stages: []uptime.Stage{uptime.Gauges{}, lifetime.NewJudge(lifetime.Policy{Critical: 24 * time.Hour})}, Output: sink}
		if err := pipe.Send(ctx, tracker.Observe(tasks)); err != nil {
			b.Fatal(err)
		}
		if err := sink.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/cycle")
}
