package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"ecs-uptime/uptime/config"
	"ecs-uptime/uptime/health"
)

// healthIntervals is the health window in intervals, to which a source's
// scan timeout adds (scanTimeout with the api source): healthcheckUsage
// says both.
const healthIntervals = 3

const healthcheckUsage = `Usage: ecs-uptime healthcheck

Exits 0 when the ecs-uptime running in this container read the source within
the last 3 intervals (ECS_UPTIME_INTERVAL), 1 otherwise. With
ECS_UPTIME_SOURCE=api the window is 8 intervals (8 minutes at the default
60s): a scan may take up to 5 intervals before it is cut. The first window
after start counts as healthy. It prints the answer, which also names an
Agent that does not take what is sent (that alone never fails the check).
It asks http://127.0.0.1:$ECS_UPTIME_HEALTH_PORT/healthz (default 18125).
Use it as the container healthCheck: ["CMD", "/ecs-uptime", "healthcheck"].`

// healthcheckCommand asks the running sidecar's loopback health endpoint
// whether its last successful cycle is recent: exit 0 healthy, 1 not. It
// is the ECS container healthCheck command: ["CMD", "/ecs-uptime", "healthcheck"].
func healthcheckCommand(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ecs-uptime healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, healthcheckUsage)
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := config.Load(environ)
	if err != nil {
		return configFailure(stderr, err)
	}
	if cfg.HealthPort == 0 {
		fmt.Fprintln(stderr, "ecs-uptime healthcheck: ECS_UPTIME_HEALTH_PORT=0 turns the health endpoint off")
		return exitFailure
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	answer, err := health.Check(ctx, cfg.HealthPort)
	if err != nil {
		fmt.Fprintf(stderr, "ecs-uptime healthcheck: unhealthy: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, "healthy:", answer)
	return exitOK
}
