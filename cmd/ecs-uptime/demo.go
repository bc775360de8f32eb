package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"ecs-uptime/uptime/config"
	"ecs-uptime/uptime/demo"
)

// stopCause is a context cause that says why run stopped, when no signal
// did: the demo's --duration.
type stopCause string

func (c stopCause) Error() string { return string(c) }

// stopReason says why ctx ended, for run's last log line: "signal", or
// the stopCause that ended it.
func stopReason(ctx context.Context) string {
	if c, ok := errors.AsType[stopCause](context.Cause(ctx)); ok {
		return string(c)
	}
	return "signal"
}

func demoCommand(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ecs-uptime demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := durationFlag(fs, "duration", 0, "stop after this long, a Go `duration` (0: run until Ctrl-C)")
	interval := durationFlag(fs, "interval", time.Second, "collection interval, a Go `duration` of at least 100ms")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: ecs-uptime demo [--duration D] [--interval I]\n\nRuns the real loop against an embedded ECS task metadata endpoint (a migration\ntask whose container started 26h ago) and prints what the Datadog Agent would\nreceive. No AWS, no Agent, no network needed. ECS_UPTIME_* thresholds and tags\nfrom the environment apply.\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	// The demo sets ECS_UPTIME_INTERVAL from --interval: a value the
	// configuration refuses is the flag's fault, and said so.
	if *interval < config.MinInterval {
		fmt.Fprintf(stderr, "ecs-uptime demo: --interval %s: want at least %s\n", *interval, config.MinInterval)
		return exitConfig
	}
	if *duration < 0 {
		fmt.Fprintf(stderr, "ecs-uptime demo: --duration %s: want 0 (until Ctrl-C) or more\n", *duration)
		return exitConfig
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, *duration, stopCause("--duration "+duration.String()+" elapsed"))
		defer cancel()
	}
	env, err := demo.Start()
	if err != nil {
		fmt.Fprintf(stderr, "ecs-uptime demo: %v\n", err)
		return exitFailure
	}
	defer env.Close()

	// The user's own ECS_UPTIME_* and DD_* tags apply; where to read and send is the demo's.
	demoEnv := map[string]string{}
	for k, v := range environ {
		if strings.HasPrefix(k, "ECS_UPTIME_") || k == "DD_ENV" || k == "DD_SERVICE" || k == "DD_VERSION" || k == "DD_TAGS" {
			demoEnv[k] = v
		}
	}
	demoEnv["ECS_UPTIME_SOURCE"] = "ecs"
	demoEnv["ECS_CONTAINER_METADATA_URI_V4"] = env.MetadataURL
	demoEnv["DD_DOGSTATSD_URL"] = "udp://" + env.Agent.Addr()
	demoEnv["ECS_UPTIME_INTERVAL"] = interval.String()
	if _, set := demoEnv["ECS_UPTIME_CONTAINER_METRICS"]; !set {
		demoEnv["ECS_UPTIME_CONTAINER_METRICS"] = "true"
	}
	if _, set := demoEnv["ECS_UPTIME_HEALTH_PORT"]; !set {
		demoEnv["ECS_UPTIME_HEALTH_PORT"] = "0" // a sidecar on this machine may hold the port
	}
	if _, set := demoEnv["ECS_UPTIME_LOG_FORMAT"]; !set {
		demoEnv["ECS_UPTIME_LOG_FORMAT"] = "text"
	}

	fmt.Fprintf(stdout, "ecs-uptime demo\n  task metadata endpoint: %s/task\n  DogStatsD listener:     udp %s\n\nWhat the Datadog Agent receives, every %s (Ctrl-C to stop):\n\n", env.MetadataURL, env.Agent.Addr(), interval)
	view := &demo.View{Out: stdout}
	printed := make(chan struct{})
	loopCtx, stopPrinting := context.WithCancel(context.Background())
	go func() {
		defer close(printed)
		for {
			select {
			case <-env.Agent.Updates():
			case <-loopCtx.Done():
				packets, _ := env.Agent.Wait(1, 100*time.Millisecond)
				view.Print(time.Now(), packets)
				return
			}
			packets, _ := env.Agent.Packets()
			view.Print(time.Now(), packets)
		}
	}()
	code := run(ctx, demoEnv, stderr)
	stopPrinting()
	<-printed
	return code
}
