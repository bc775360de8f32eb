package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"ecs-uptime/uptime/taskdef"
)

const injectUsage = `Usage: ecs-uptime inject --image IMAGE [flags] [--file TASKDEF.json] > register.json

Adds the ecs-uptime sidecar to an ECS task definition and writes it in the form
'aws ecs register-task-definition --cli-input-json' takes. The input (standard
input, or --file) is either 'aws ecs describe-task-definition' output or
register input, at most 1 MiB (task definitions are far smaller), one JSON
object and nothing after it. Read-only fields (taskDefinitionArn, revision,
status...) are dropped, describe's tags are kept, every other field is kept as
it is.

  aws ecs describe-task-definition --task-definition web --include TAGS \
    | ecs-uptime inject --image REGISTRY/ecs-uptime:1.0.0 > web.json
  aws ecs register-task-definition --cli-input-json file://web.json

A new sidecar gets ECS_UPTIME_SOURCE=ecs and the flags' values, defaults
included; it is not essential unless --max-lifetime or --essential says so,
and it logs where the first container with a logConfiguration does.

A container named --name that exists is updated in place, and only by the
flags given on the command line: 'inject --image r/ecs-uptime:1.1.0' on a
sidecar changes its image and keeps its essential flag, thresholds, max
lifetime and source. Each change is said on standard error, one line per
field; running inject again with the same flags changes nothing. Only an
ecs-uptime sidecar is updated: a container whose image is .../ecs-uptime
(any registry, tag or digest) or that has an ECS_UPTIME_* variable. Any other
container of that name is refused, as is adding a second sidecar beside one
under another name.

Warnings (standard error, exit 0) say what the task lacks: the Datadog Agent
container that localhost:8125 needs in an awsvpc (Fargate) task, a task size
too small for the sidecar, the start order of an essential sidecar. What can
never work is refused (exit 2): a host socket on Fargate, the sidecar's own
loopback in bridge mode, UDP with networkMode none.

Flags:`

func injectCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ecs-uptime inject", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "-", "task definition to read (- for standard input)")
	image := fs.String("image", "", "sidecar image; required to add the sidecar, optional to update it")
	name := fs.String("name", taskdef.DefaultName, "sidecar container name")
	interval := durationFlag(fs, "interval", 15*time.Second, "ECS_UPTIME_INTERVAL, a Go `duration`")
	warning := durationFlag(fs, "warning", 0, "ECS_UPTIME_WARNING, a Go `duration` (0: off)")
	critical := durationFlag(fs, "critical", 24*time.Hour, "ECS_UPTIME_CRITICAL, a Go `duration` (0: off)")
	maxLifetime := durationFlag(fs, "max-lifetime", 0, "ECS_UPTIME_MAX_LIFETIME, a Go `duration`: the sidecar exits 3 past it (0: off); sets essential to true (0: false) unless --essential is given")
	essential := fs.Bool("essential", false, "mark the sidecar essential, so that ECS stops the task when it exits")
	dsdURL := fs.String("dogstatsd-url", "", "DD_DOGSTATSD_URL; a unix:// socket on EC2 also mounts its directory from the host, read-only ('' removes it)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, injectUsage)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *image != "" {
		// Before reading: a pipe from AWS is not worth waiting for.
		if err := taskdef.CheckImage(*image); err != nil {
			fmt.Fprintf(stderr, "ecs-uptime inject: --image: %v\n", err)
			return exitConfig
		}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	off := func(d time.Duration) string {
		if d == 0 {
			return "" // removes the variable: off is the default
		}
		return taskdef.Duration(d)
	}
	// A new sidecar gets every variable, defaults included; an existing
	// one only those whose flag is on the command line.
	var defaults, env []taskdef.Var
	for _, v := range []struct {
		flag string
		taskdef.Var
	}{
		{"", taskdef.Var{Name: "ECS_UPTIME_SOURCE", Value: "ecs"}},
		{"interval", taskdef.Var{Name: "ECS_UPTIME_INTERVAL", Value: taskdef.Duration(*interval)}},
		{"warning", taskdef.Var{Name: "ECS_UPTIME_WARNING", Value: off(*warning)}},
		{"critical", taskdef.Var{Name: "ECS_UPTIME_CRITICAL", Value: taskdef.Duration(*critical)}},
		{"max-lifetime", taskdef.Var{Name: "ECS_UPTIME_MAX_LIFETIME", Value: off(*maxLifetime)}},
		{"dogstatsd-url", taskdef.Var{Name: "DD_DOGSTATSD_URL", Value: *dsdURL}},
	} {
		defaults = append(defaults, v.Var)
		if given[v.flag] {
			env = append(env, v.Var)
		}
	}
	var essentialFlag *bool
	switch {
	case given["essential"]:
		essentialFlag = essential
	case given["max-lifetime"]:
		essentialFlag = new(*maxLifetime > 0)
	}

	in, code, ok := readTaskDefinition(ctx, *file, stdin, stderr)
	if !ok {
		return code
	}
	res, err := taskdef.Inject(in, taskdef.Sidecar{Name: *name, Image: *image, Essential: essentialFlag, Defaults: defaults, Env: env})
	if err != nil {
		fmt.Fprintf(stderr, "ecs-uptime inject: %s: %v\n", inputName(*file), err)
		return exitConfig
	}
	if _, err := stdout.Write(res.JSON); err != nil {
		fmt.Fprintf(stderr, "ecs-uptime inject: write: %v\n", err)
		return exitFailure
	}
	switch {
	case res.Added:
		fmt.Fprintf(stderr, "ecs-uptime inject: added container %q\n", *name)
	case len(res.Changes) == 0:
		fmt.Fprintf(stderr, "ecs-uptime inject: container %q unchanged: it already has what the flags say\n", *name)
	default:
		fmt.Fprintf(stderr, "ecs-uptime inject: updated container %q:\n", *name)
		for _, c := range res.Changes {
			fmt.Fprintf(stderr, "  %s\n", c)
		}
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "ecs-uptime inject: warning: %s\n", w)
	}
	return exitOK
}

// readTaskDefinition reads file ("-": stdin) up to taskdef.MaxInput, and
// gives up when ctx ends (SIGINT, SIGTERM) while it waits: a signal stop,
// exit 0 as everywhere else, with nothing written. A device on standard
// input is refused: a terminal (a user who typed the command without a
// pipe would wait on a silent prompt), or /dev/null, which is what
// `docker run` without -i gives the container.
// ok is false when inject must exit with code and go no further.
func readTaskDefinition(ctx context.Context, file string, stdin io.Reader, stderr io.Writer) (in []byte, code int, ok bool) {
	r := stdin
	if file == "-" {
		if f, ok := stdin.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				if term.IsTerminal(int(f.Fd())) {
					fmt.Fprint(stderr, "ecs-uptime inject: standard input is a terminal, not a pipe or a file; inject reads a task definition (aws ecs describe-task-definition output or register input) from a pipe or --file:\n"+
						"  aws ecs describe-task-definition --task-definition FAMILY --include TAGS | ecs-uptime inject --image IMAGE > register.json\n"+
						"  ecs-uptime inject --image IMAGE --file TASKDEF.json > register.json\n")
				} else {
					fmt.Fprint(stderr, "ecs-uptime inject: standard input is /dev/null (or another device), not a pipe or a file: through docker run, add -i so that the pipe reaches inject:\n"+
						"  aws ecs describe-task-definition --task-definition FAMILY --include TAGS | docker run --rm -i IMAGE inject --image IMAGE > register.json\n")
				}
				return nil, exitConfig, false
			}
		}
	} else {
		f, err := os.Open(file)
		if err != nil {
			fmt.Fprintf(stderr, "ecs-uptime inject: read %s: %v\n", file, err)
			return nil, exitFailure, false
		}
		defer f.Close()
		r = f
	}
	in, err := readLimited(ctx, r, taskdef.MaxInput)
	switch {
	case errors.Is(err, errTooBig):
		fmt.Fprintf(stderr, "ecs-uptime inject: %s: over %d bytes (1 MiB), the most inject reads: a task definition is far smaller; is this the right file?\n", inputName(file), taskdef.MaxInput)
		return nil, exitConfig, false
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "ecs-uptime inject: stopped by a signal while reading %s (%v); nothing written\n", inputName(file), context.Cause(ctx))
		return nil, exitOK, false
	case err != nil:
		fmt.Fprintf(stderr, "ecs-uptime inject: read %s: %v\n", inputName(file), err)
		return nil, exitFailure, false
	}
	return in, exitOK, true
}

var errTooBig = errors.New("input over the limit")

// readLimited reads r to its end, at most limit bytes (more is errTooBig),
// or until ctx ends. A read blocked when ctx ends is left behind: the
// command is about to exit.
func readLimited(ctx context.Context, r io.Reader, limit int64) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(r, limit+1))
		if err == nil && int64(len(b)) > limit {
			b, err = nil, errTooBig
		}
		done <- result{b, err}
	}()
	select {
	case res := <-done:
		return res.b, res.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func inputName(file string) string {
	if file == "-" {
		return "standard input"
	}
	return file
}
