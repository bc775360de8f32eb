// Command ecs-uptime reports how long ECS tasks have been running, as
// DogStatsD gauges for the local Datadog Agent. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/caarlos0/env/v11"
)

// Exit codes, as in DESIGN.md.
const (
	exitOK          = 0 // stopped by SIGTERM/SIGINT after flushing
	exitFailure     = 1 // unexpected failure
	exitConfig      = 2 // bad configuration
	exitMaxLifetime = 3 // ECS_UPTIME_MAX_LIFETIME reached
)

const usage = `Usage: ecs-uptime [command]

Commands:
  run       report task uptimes to the Datadog Agent (the default)
  demo      run against an embedded task and DogStatsD listener; no AWS needed
  healthcheck
            exit 0 when this container's sidecar had a recent good cycle (ECS healthCheck)
  inject    add the sidecar to a task definition (describe output or register input)
  monitor   print a Datadog monitor (JSON or Terraform) or the dashboard
  tasks     list the account's ECS tasks and how long each has run, oldest
            first, with your AWS credentials (no Datadog needed)
  version   print the version (also --version)

Configuration comes from the environment (ECS_UPTIME_*, DD_*): see README.md.
Run 'ecs-uptime COMMAND --help' for a command's flags.
`

func main() {
	// The live heap is about 1.5 MiB, but with Go's default GOGC=100 the
	// heap grows to the runtime's 4 MiB minimum goal between collections:
	// most of what took peak RSS past 12 MiB. GOGC=50 halves that goal at
	// no measurable CPU cost (bench/run.sh). An explicit GOGC wins.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(50)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(dispatch(ctx, os.Args[1:], env.ToMap(os.Environ()), os.Stdout, os.Stderr))
}

func dispatch(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return runCommand(ctx, args, environ, stderr)
	case "demo":
		return demoCommand(ctx, args, environ, stdout, stderr)
	case "healthcheck":
		return healthcheckCommand(ctx, args, environ, stdout, stderr)
	case "inject":
		return injectCommand(ctx, args, os.Stdin, stdout, stderr)
	case "monitor":
		return monitorCommand(args, stdout, stderr)
	case "tasks":
		return tasksCommand(ctx, args, environ, stdout, stderr)
	case "version", "--version", "-version":
		return versionCommand(args, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	what := "command"
	if strings.HasPrefix(cmd, "-") {
		what = "flag" // flags follow the command: ecs-uptime inject --image …
	}
	fmt.Fprintf(stderr, "ecs-uptime: unknown %s %q\nRun 'ecs-uptime --help' for the commands.\n", what, cmd)
	return exitConfig
}
