package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseFlags parses a command's flags with the rule every command follows:
// commands take flags only, so an argument left over is refused (exit 2),
// as is a bad flag; --help prints the usage and succeeds. ok is false when
// the command must return code without going on.
//
// A bad flag prints its error and one line pointing at --help, not the
// whole usage, which would bury the error: the flag package prints the
// usage on any error, so fs.Usage runs only for --help.
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	usage, out := fs.Usage, fs.Output()
	var errOut bytes.Buffer
	fs.SetOutput(&errOut)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return exitOK, false
	case err != nil:
		fmt.Fprintf(out, "%s: %sRun '%s --help' for its flags.\n", fs.Name(), errOut.String(), fs.Name())
		return exitConfig, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q: this command takes flags only (see %s --help)\n", fs.Name(), fs.Arg(0), fs.Name())
		return exitConfig, false
	}
	return exitOK, true
}

// durationValue is a flag.Value for a Go duration whose error says what
// is accepted (the flag package's own says only "parse error").
type durationValue time.Duration

// durationFlag defines a duration flag on fs. Put the word `duration` in
// backquotes in usage: --help shows it as the value's name.
func durationFlag(fs *flag.FlagSet, name string, value time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	*p = value
	fs.Var((*durationValue)(p), name, usage)
	return p
}

func (d *durationValue) String() string { return time.Duration(*d).String() }

func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New(durationForm(s))
	}
	*d = durationValue(v)
	return nil
}

// durationForm says what a duration flag takes, with a hint for the two
// usual mistakes: a bare number, and days.
func durationForm(s string) string {
	const form = "want a Go duration such as 48h, 90m or 30s"
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return fmt.Sprintf("%s (a number needs a unit: %ss)", form, s)
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && strings.HasSuffix(s, "d") {
		return fmt.Sprintf("%s (Go durations have no days: %dh)", form, n*24)
	}
	return form
}

// listFlag collects a flag's values, repeated or comma-separated
// (--scope a:b --scope c:d, or --scope a:b,c:d).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			*l = append(*l, t)
		}
	}
	return nil
}
