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

// healthcheckCommand asks the running sidecar's loopback health endpoint
// whether its last successful cycle is recent: exit 0 healthy, 1 not. It
// is the ECS container healthCheck command: ["CMD", "/ecs-uptime", "healthcheck"].
func healthcheckCommand(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ecs-uptime healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: ecs-uptime healthcheck\n\nExits 0 when the ecs-uptime running in this container read the source within\nthe last 3 intervals, 1 otherwise, and prints the answer, which also names an\nAgent that does not take what is sent (that alone never fails the check).\nIt asks http://127.0.0.1:$ECS_UPTIME_HEALTH_PORT/healthz\n(default 18125). Use it as the container healthCheck: [\"CMD\", \"/ecs-uptime\", \"healthcheck\"].")
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
