package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Every command takes flags only, and refuses an argument the same way.
func TestCommandsTakeFlagsOnly(t *testing.T) {
	for _, c := range []string{"run", "demo", "healthcheck", "inject", "monitor", "tasks", "version"} {
		t.Run(c, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// A command that took the argument and ran would be killed.
			cmd := exec.CommandContext(ctx, binary, c, "extra")
			cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
			out, _ := cmd.CombinedOutput()
			want := `ecs-uptime ` + c + `: unexpected argument "extra": this command takes flags only (see ecs-uptime ` + c + ` --help)`
			if code := cmd.ProcessState.ExitCode(); code != exitConfig || !strings.Contains(string(out), want) {
				t.Errorf("ecs-uptime %s extra: exit %d, output %q; want exit 2 and %q", c, code, out, want)
			}
		})
	}
}

// A bad flag, on every command, prints its error and one line pointing at
// --help, not the usage that would bury the error; --help still prints
// the usage. The same for a flag or command that ecs-uptime itself does
// not know.
func TestBadFlagPointsAtHelp(t *testing.T) {
	for _, c := range []string{"run", "demo", "healthcheck", "inject", "monitor", "version"} {
		t.Run(c, func(t *testing.T) {
			cmd := command(c, "--no-such-flag")
			out, _ := cmd.CombinedOutput()
			want := "ecs-uptime " + c + ": flag provided but not defined: -no-such-flag\nRun 'ecs-uptime " + c + " --help' for its flags.\n"
			if code := cmd.ProcessState.ExitCode(); code != exitConfig || string(out) != want {
				t.Errorf("exit %d, output %q; want exit 2 and exactly %q", code, out, want)
			}
			help := command(c, "--help")
			out, _ = help.CombinedOutput()
			if code := help.ProcessState.ExitCode(); code != exitOK || !strings.HasPrefix(string(out), "Usage: ecs-uptime") || strings.Contains(string(out), "flag provided") {
				t.Errorf("%s --help: exit %d, output %q; want exit 0 and the usage", c, code, out)
			}
		})
	}
	for _, tc := range []struct{ arg, want string }{
		{"--verbose", "ecs-uptime: unknown flag \"--verbose\"\nRun 'ecs-uptime --help' for the commands.\n"},
		{"frobnicate", "ecs-uptime: unknown command \"frobnicate\"\nRun 'ecs-uptime --help' for the commands.\n"},
	} {
		cmd := command(tc.arg)
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != exitConfig || string(out) != tc.want {
			t.Errorf("ecs-uptime %s: exit %d, output %q; want exit 2 and exactly %q", tc.arg, code, out, tc.want)
		}
	}
}

// ecs-uptime --version is ecs-uptime version.
func TestVersionFlag(t *testing.T) {
	want, err := command("version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"--version", "-version"} {
		out, err := command(arg).Output()
		if err != nil || string(out) != string(want) || !strings.HasPrefix(string(out), "ecs-uptime ") {
			t.Errorf("ecs-uptime %s: %v, %q; want %q", arg, err, out, want)
		}
	}
}

// A duration flag that is not a Go duration says what is, naming the flag.
func TestDurationFlagsSayTheForm(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"monitor", "--critical", "2d"}, `invalid value "2d" for flag -critical: want a Go duration such as 48h, 90m or 30s (Go durations have no days: 48h)`},
		{[]string{"monitor", "--warning", "7200"}, `invalid value "7200" for flag -warning: want a Go duration such as 48h, 90m or 30s (a number needs a unit: 7200s)`},
		{[]string{"inject", "--max-lifetime", "six hours"}, `invalid value "six hours" for flag -max-lifetime: want a Go duration such as 48h, 90m or 30s`},
		{[]string{"demo", "--duration", "soon"}, `invalid value "soon" for flag -duration: want a Go duration`},
		{[]string{"demo", "--interval", "10ms"}, `ecs-uptime demo: --interval 10ms: want at least 100ms`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := command(tc.args...)
			out, _ := cmd.CombinedOutput()
			first, _, _ := strings.Cut(string(out), "\n") // the usage follows
			if code := cmd.ProcessState.ExitCode(); code != exitConfig || !strings.Contains(first, tc.want) || strings.Contains(first, "ECS_UPTIME_") {
				t.Errorf("exit %d, output %q; want exit 2 and first %q, naming the flag, not a variable", code, out, tc.want)
			}
		})
	}
	// --help still calls the value a duration.
	out, _ := command("monitor", "--help").CombinedOutput()
	if !strings.Contains(string(out), "-critical duration") {
		t.Errorf("monitor --help:\n%s\nwant -critical duration", out)
	}
}

// JSON logs write durations as Go does ("1s"), and a demo that --duration
// stopped says so, while one stopped by a signal says signal.
func TestDemoLogs(t *testing.T) {
	cmd := command("demo", "--duration", "1500ms")
	cmd.Env = append(cmd.Env, "ECS_UPTIME_LOG_FORMAT=json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr.String())
	}
	logs := stderr.String()
	for _, want := range []string{`"interval":"1s"`, `"msg":"stopped","reason":"--duration 1.5s elapsed"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}

	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		cmd := command("demo")
		cmd.Env = append(cmd.Env, "ECS_UPTIME_LOG_FORMAT=json")
		var stdout, stderr syncWriter
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		// The demo prints what the Agent received once its loop runs,
		// signal handling included.
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(stdout.String(), "ecs.task.uptime") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Signal(sig)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("demo still running 10 s after %v", sig)
		}
		if code := cmd.ProcessState.ExitCode(); code != exitOK || !strings.Contains(stderr.String(), `"msg":"stopped","reason":"signal"`) {
			t.Errorf("%v: exit %d, logs:\n%s\nwant exit 0 and reason signal", sig, code, stderr.String())
		}
	}
}

// syncWriter is a buffer that a process writes to while the test reads it.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
