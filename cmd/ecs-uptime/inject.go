package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"ecs-uptime/uptime/taskdef"
)

const injectUsage = `Usage: ecs-uptime inject --image IMAGE [flags] [--file TASKDEF.json] > register.json

Adds the ecs-uptime sidecar to an ECS task definition and writes it in the form
'aws ecs register-task-definition --cli-input-json' takes. The input (standard
input, or --file) is either 'aws ecs describe-task-definition' output or
register input. Read-only fields (taskDefinitionArn, revision, status...) are
dropped, describe's tags are kept, every other field is kept as it is. A
container with the sidecar's name is updated in place, so running inject again,
or on its own output, changes nothing but what the flags say.

  aws ecs describe-task-definition --task-definition web --include TAGS \
    | ecs-uptime inject --image REGISTRY/ecs-uptime:1.0.0 > web.json
  aws ecs register-task-definition --cli-input-json file://web.json

The sidecar's essential flag and its ECS_UPTIME_SOURCE, _INTERVAL, _WARNING,
_CRITICAL and _MAX_LIFETIME come from the flags, defaults included (its image
too, when --image is given); its other fields and variables are kept. A new
sidecar logs where the first container with a logConfiguration does.

Flags:`

func injectCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ecs-uptime inject", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "-", "task definition to read (- for standard input)")
	image := fs.String("image", "", "sidecar image; required to add the sidecar, optional to update it")
	name := fs.String("name", taskdef.DefaultName, "sidecar container name")
	interval := fs.Duration("interval", 15*time.Second, "ECS_UPTIME_INTERVAL")
	warning := fs.Duration("warning", 0, "ECS_UPTIME_WARNING (0: off)")
	critical := fs.Duration("critical", 24*time.Hour, "ECS_UPTIME_CRITICAL (0: off)")
	maxLifetime := fs.Duration("max-lifetime", 0, "ECS_UPTIME_MAX_LIFETIME: the sidecar exits 3 past it (0: off)")
	essential := fs.Bool("essential", false, "mark the sidecar essential, so that ECS stops the task when it exits (default: true with --max-lifetime)")
	dsdURL := fs.String("dogstatsd-url", "", "DD_DOGSTATSD_URL; a unix:// socket on EC2 also mounts its directory from the host, read-only")
	fs.Usage = func() {
		fmt.Fprintln(stderr, injectUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ecs-uptime inject: unexpected argument %q (use --file)\n", fs.Arg(0))
		return exitConfig
	}
	essentialSet := false
	fs.Visit(func(f *flag.Flag) { essentialSet = essentialSet || f.Name == "essential" })
	if !essentialSet {
		*essential = *maxLifetime > 0
	}

	var in []byte
	var err error
	if *file == "-" {
		in, err = io.ReadAll(stdin)
	} else {
		in, err = os.ReadFile(*file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ecs-uptime inject: read %s: %v\n", *file, err)
		return exitFailure
	}

	off := func(d time.Duration) string {
		if d == 0 {
			return "" // removes the variable: off is the default
		}
		return taskdef.Duration(d)
	}
	env := []taskdef.Var{
		{Name: "ECS_UPTIME_SOURCE", Value: "ecs"},
		{Name: "ECS_UPTIME_INTERVAL", Value: taskdef.Duration(*interval)},
		{Name: "ECS_UPTIME_WARNING", Value: off(*warning)},
		{Name: "ECS_UPTIME_CRITICAL", Value: taskdef.Duration(*critical)},
		{Name: "ECS_UPTIME_MAX_LIFETIME", Value: off(*maxLifetime)},
	}
	if *dsdURL != "" {
		env = append(env, taskdef.Var{Name: "DD_DOGSTATSD_URL", Value: *dsdURL})
	}
	res, err := taskdef.Inject(in, taskdef.Sidecar{Name: *name, Image: *image, Essential: *essential, Env: env})
	if err != nil {
		fmt.Fprintf(stderr, "ecs-uptime inject: %s: %v\n", inputName(*file), err)
		return exitConfig
	}
	if _, err := stdout.Write(res.JSON); err != nil {
		fmt.Fprintf(stderr, "ecs-uptime inject: write: %v\n", err)
		return exitFailure
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "ecs-uptime inject: warning: %s\n", w)
	}
	verb := "updated"
	if res.Added {
		verb = "added"
	}
	fmt.Fprintf(stderr, "ecs-uptime inject: %s container %q\n", verb, *name)
	return exitOK
}

func inputName(file string) string {
	if file == "-" {
		return "standard input"
	}
	return file
}
