package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Stamped by release builds: -ldflags "-X main.version=1.2.3 -X main.commit=abc1234".
var (
	version = ""
	commit  = ""
)

// buildVersion returns the stamped version and commit, or what the Go
// toolchain recorded in the binary when nothing was stamped.
func buildVersion() (v, c string) {
	v, c = version, commit
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && c == "" {
				c = s.Value
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if c == "" {
		c = "unknown"
	}
	return v, c
}

func versionCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ecs-uptime version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: ecs-uptime version\n\nPrints the version, the commit and the Go version it was built with.")
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	v, c := buildVersion()
	fmt.Fprintf(stdout, "ecs-uptime %s (commit %s, %s, %s/%s)\n", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
