package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"strings"
	"time"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/config"
	"ecs-uptime/uptime/tasklist"
)

// exitUnread is the tasks command's exit code when a part (a cluster, a
// region, an account) could not be read.
const exitUnread = 4

const tasksUsage = `Usage: ecs-uptime tasks [flags]

Lists the ECS tasks running in the account, and for how long, oldest first:
one scan with the api source's configuration (ECS_UPTIME_CLUSTERS,
ECS_UPTIME_REGIONS, ECS_UPTIME_API_RATE… and the AWS SDK's credentials and
region), which --cluster, --region and --account override. It needs no
Datadog Agent, and it never stops a task.

  ecs-uptime tasks --older-than 24h
  ecs-uptime tasks --region all --kind all --format json
  ecs-uptime tasks --older-than 6h --fail-if-any      (a CI step, a cron job)

Exit codes: 0 listed (or nothing to list); 1 --fail-if-any and a task
listed; 2 bad configuration or flags; 4 a part (cluster, region, account)
could not be read: each is named on stderr after the list, and 4 wins over 1.

Flags:`

// flagVariables are the variables the tasks command's flags set.
var flagVariables = []struct{ flag, variable string }{
	{"cluster", "ECS_UPTIME_CLUSTERS"},
	{"region", "ECS_UPTIME_REGIONS"},
	{"account", "ECS_UPTIME_ACCOUNTS"},
}

// tasksRun is one run of the tasks command with what it writes to and
// the clock it ages tasks by.
type tasksRun struct {
	stdout, stderr io.Writer
	now            func() time.Time
	color          bool // colour the table
	progress       bool // write a progress line to stderr while scanning
}

func tasksCommand(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	r := tasksRun{stdout: stdout, stderr: stderr, now: time.Now,
		color: terminal(stdout) && colorAllowed(environ), progress: terminal(stderr)}
	return r.run(ctx, args, environ)
}

func (r *tasksRun) run(ctx context.Context, args []string, environ map[string]string) int {
	fs := flag.NewFlagSet("ecs-uptime tasks", flag.ContinueOnError)
	fs.SetOutput(r.stderr)
	lists := map[string]*listFlag{"cluster": {}, "region": {}, "account": {}}
	fs.Var(lists["cluster"], "cluster", "cluster names or ARNs to read, repeated or comma-separated (sets ECS_UPTIME_CLUSTERS; default: every cluster)")
	fs.Var(lists["region"], "region", "regions to read, repeated or comma-separated, or all: every region enabled in the account (sets ECS_UPTIME_REGIONS; default: the AWS SDK's region)")
	fs.Var(lists["account"], "account", "12-digit account IDs to read, repeated or comma-separated, or organization (sets ECS_UPTIME_ACCOUNTS; default: the credentials' own account)")
	var f tasklist.Filter
	fs.Var((*durationValue)(&f.OlderThan), "older-than", "list only tasks at least this old, a Go `duration` such as 24h (default: any age)")
	fs.StringVar(&f.Family, "family", "", "list only tasks of this task definition family")
	fs.StringVar(&f.Kind, "kind", tasklist.KindStandalone, "standalone (a task of no ECS service, or of unknown kind), service or all")
	fs.StringVar(&f.Status, "status", tasklist.StatusRunning, "running, stuck (in a status other than RUNNING and STOPPED, aged since it entered it) or all")
	format := fs.String("format", tasklist.FormatTable, "table, json (one object per task) or csv")
	failIfAny := fs.Bool("fail-if-any", false, "exit 1 when any task is listed")
	fs.Usage = func() {
		fmt.Fprintln(r.stderr, tasksUsage)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(r.stderr, "ecs-uptime tasks: %v\n", err)
		return exitConfig
	}
	if err := f.Check(); err != nil {
		return fail(fmt.Errorf("--%w", err))
	}
	if err := tasklist.CheckFormat(*format); err != nil {
		return fail(fmt.Errorf("--%w", err))
	}

	// The flags override the variables; the api source reads the rest.
	own := make(map[string]string, len(environ)+len(flagVariables)+1)
	maps.Copy(own, environ)
	environ = own
	environ["ECS_UPTIME_SOURCE"] = config.SourceAPI
	set := map[string]string{} // variable → the flag that set it
	var flagErr error
	fs.Visit(func(fl *flag.Flag) {
		for _, fv := range flagVariables {
			if fl.Name != fv.flag {
				continue
			}
			if len(*lists[fv.flag]) == 0 && flagErr == nil {
				flagErr = fmt.Errorf("--%s: want at least one value (an empty one would read everything)", fv.flag)
			}
			environ[fv.variable] = lists[fv.flag].String()
			set[fv.variable] = fv.flag
		}
	})
	if flagErr != nil {
		return fail(flagErr)
	}
	cfg, err := config.Load(environ)
	if err != nil {
		return r.configFailure(err, set)
	}
	log := slog.New(slog.NewTextHandler(r.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	line := r.progressLine()
	src, err := scanSource(ctx, &cfg, log, line.update)
	if err != nil {
		return r.configFailure(err, set)
	}

	// One scan, bounded as the run loop bounds a cycle: a part it could
	// not reach in time is an unread part.
	sctx, cancel := context.WithTimeout(ctx, scanTimeout*cfg.Interval)
	tasks, err := src.Tasks(sctx)
	cancel()
	line.clear()
	if ctx.Err() != nil {
		fmt.Fprintf(r.stderr, "ecs-uptime tasks: interrupted (%v) before the scan ended; nothing listed\n", context.Cause(ctx))
		return exitUnread
	}
	var partial *uptime.PartialError
	if err != nil && !errors.As(err, &partial) {
		fmt.Fprintf(r.stderr, "ecs-uptime tasks: %v\n", err)
		return exitUnread
	}

	rows := tasklist.Select(tasks, f, r.now())
	if err := tasklist.Write(r.stdout, *format, rows, r.color); err != nil {
		fmt.Fprintf(r.stderr, "ecs-uptime tasks: %v\n", err)
		return exitFailure
	}
	if partial != nil {
		fmt.Fprintf(r.stderr, "ecs-uptime tasks: %d part(s) could not be read; their tasks are not listed:\n", len(partial.Unread))
		for _, u := range partial.Unread {
			fmt.Fprintf(r.stderr, "  %s: %v\n", u.Key(), u.Err)
		}
		return exitUnread
	}
	if *failIfAny && len(rows) > 0 {
		return exitFailure
	}
	return exitOK
}

// configFailure writes each configuration problem on a line of its own,
// saying which flag set a variable it names, and returns exit 2.
func (r *tasksRun) configFailure(err error, set map[string]string) int {
	problems := []string{err.Error()}
	var cerr *config.Error
	if errors.As(err, &cerr) {
		problems = cerr.Problems
	}
	for _, p := range problems {
		for variable, fl := range set {
			if strings.HasPrefix(p, variable+"=") {
				p = "--" + fl + " sets " + p
			}
		}
		fmt.Fprintf(r.stderr, "ecs-uptime tasks: bad configuration: %s\n", p)
	}
	return exitConfig
}

// progress is the line on stderr that says how far a scan is.
type progress struct {
	w       io.Writer // nil: no line
	written bool
}

func (r *tasksRun) progressLine() *progress {
	if !r.progress {
		return &progress{}
	}
	return &progress{w: r.stderr}
}

// update rewrites the line (the api source never calls it concurrently).
func (p *progress) update(clusters, tasks int) {
	if p.w == nil {
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[Kscanning: %d clusters, %d tasks read", clusters, tasks)
	p.written = true
}

// clear erases the line, so that what follows starts on a clean one.
func (p *progress) clear() {
	if p.written {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// colorAllowed reports whether the environment allows colour: not with
// NO_COLOR set (https://no-color.org; set to anything, even empty), nor
// on a dumb terminal.
func colorAllowed(environ map[string]string) bool {
	_, noColor := environ["NO_COLOR"]
	return !noColor && environ["TERM"] != "dumb"
}

// terminal reports whether w is a terminal: a character device other than
// /dev/null. (golang.org/x/term is not a dependency; a pipe or a file is
// never a character device.)
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}
