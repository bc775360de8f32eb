package ecsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ecs-uptime/uptime/ecsapi"
	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// Each scan-log line says what happened: a scan cut by a hung endpoint
// timed out (raising the rate would not help), a throttled scan that
// failed fast does not "fit in the interval again", and only a scan that
// read everything in time says so.
func TestScanLogSaysWhatHeldTheScan(t *testing.T) {
	const region = "eu-west-1"
	type step struct {
		name     string
		took     time.Duration // on the source's clock
		throttle bool          // every call answered ThrottlingException
		hang     bool          // the endpoint never answers; the scan's deadline cuts it
		want     string        // the line logged, "" for none
	}
	tests := []struct {
		name  string
		rate  float64
		every time.Duration // Options.Interval
		steps []step
	}{
		{"hung endpoint, throttled calls", 1e6, time.Minute, []step{
			{name: "slow but complete", took: 2 * time.Minute, want: "WARN ECS API scan took longer than the interval, waiting on the ECS API"},
			{name: "throttled, failing fast", took: 10 * time.Second, throttle: true},
			{name: "hung until cut", took: 5 * time.Minute, hang: true, want: "WARN ECS API scan timed out: the ECS API did not answer in time"},
			{name: "hung again", took: 5 * time.Minute, hang: true},
			{name: "throttled again", took: time.Second, throttle: true},
			{name: "complete in time", took: 10 * time.Second, want: "INFO ECS API scans fit in the interval again"},
			{name: "still fits", took: 10 * time.Second},
		}},
		// 5 calls (a ListClusters page, 2 ListTasks pages, 2 DescribeTasks
		// batches) in 5 ms at 1,000 a second: the rate held the scan.
		{"paced by the rate", 1000, time.Millisecond, []step{
			{name: "slow", took: 5 * time.Millisecond, want: "WARN ECS API scan took longer than the interval, paced by ECS_UPTIME_API_RATE"},
			{name: "cut by a hung call", took: 5 * time.Millisecond, hang: true, want: "WARN ECS API scan timed out"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := startFake(t, region)
			addRunning(fake, region, "prod", 130)
			release := make(chan struct{})
			var hang atomic.Bool
			fake.BeforeServe(func(ecsfake.Request) {
				if hang.Load() {
					<-release
				}
			})
			t.Cleanup(func() { close(release) })
			var buf bytes.Buffer
			src := newSource(t, ecsapi.Options{Rate: tc.rate, Interval: tc.every, Log: slog.New(slog.NewJSONHandler(&buf, nil))})
			var took time.Duration
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			calls := 0
			ecsapi.SetClock(src, func() time.Time {
				calls++
				if calls%2 == 0 {
					return now.Add(took) // the scan's end
				}
				return now
			})
			for _, st := range tc.steps {
				buf.Reset()
				took = st.took
				hang.Store(st.hang)
				var remove func()
				if st.throttle {
					remove = fake.Inject(ecsfake.Fault{Code: "ThrottlingException"})
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				if st.hang {
					ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
				}
				_, err := src.Tasks(ctx)
				cancel()
				if remove != nil {
					remove()
				}
				if wantErr := st.throttle || st.hang; (err != nil) != wantErr {
					t.Fatalf("%s: Tasks: %v, want an error: %v", st.name, err, wantErr)
				}
				got := ""
				if line := bytes.TrimSpace(buf.Bytes()); len(line) > 0 {
					var l struct{ Level, Msg string }
					if err := json.Unmarshal(line, &l); err != nil {
						t.Fatalf("%s: not one JSON line: %q", st.name, line)
					}
					got = l.Level + " " + l.Msg
				}
				if st.want == "" && got != "" || !strings.HasPrefix(got, st.want) {
					t.Errorf("%s: logged %q, want %q", st.name, got, st.want)
				}
			}
		})
	}
}
