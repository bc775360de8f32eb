package ci

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rig runs bash in the repository with the stand-ins of testdata/fakebin
// first on PATH, a fresh DOCKERD_DIR and FAKE_LOG, and none of the engine
// variables of the caller (an outer .ci/run exports DOCKER_HOST).
type rig struct {
	t        *testing.T
	dir, log string // DOCKERD_DIR (not created), FAKE_LOG
	env      []string
}

func newRig(t *testing.T, env ...string) *rig {
	t.Helper()
	fakebin, err := filepath.Abs(filepath.Join("testdata", "fakebin"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, dir: filepath.Join(t.TempDir(), "engine"), log: t.TempDir()}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "DOCKER_HOST", name == "BASH_ENV", name == "PATH",
			strings.HasPrefix(name, "DOCKERD_"), strings.HasPrefix(name, "TEST_ECS_UPTIME_"), strings.HasPrefix(name, "FAKE_"):
			continue
		}
		r.env = append(r.env, kv)
	}
	r.env = append(r.env, "PATH="+fakebin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"DOCKERD_DIR="+r.dir, "FAKE_LOG="+r.log)
	r.env = append(r.env, env...)
	// A failed test must not leave a stand-in engine running.
	t.Cleanup(func() {
		for _, pid := range r.engines() {
			if alive(pid) {
				_ = syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	})
	return r
}

// bash runs script with bash -c in the repository's top directory and
// returns its combined output and exit code.
func (r *rig) bash(script string, env ...string) (string, int) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = repoRoot
	cmd.Env = append(slices.Clone(r.env), env...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("bash: %v\n%s", err, out.String())
	}
	return out.String(), code
}

// engines returns the pids of the stand-in engines started so far.
func (r *rig) engines() []int {
	b, _ := os.ReadFile(filepath.Join(r.log, "dockerd.pids"))
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// commands returns what the stand-ins of docker and go were asked to do.
func (r *rig) commands() string {
	b, _ := os.ReadFile(filepath.Join(r.log, "commands"))
	return string(b)
}

// alive tells whether pid is a live stand-in engine (not a zombie, not a
// process that has since taken its pid).
func alive(pid int) bool {
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil || strings.TrimSpace(string(comm)) != "dockerd" {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) STATE ...
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z")
}

func (r *rig) wantEnginesStopped() {
	r.t.Helper()
	for _, pid := range r.engines() {
		if alive(pid) {
			r.t.Errorf("the engine (pid %d) still runs", pid)
		}
	}
}

func (r *rig) wantDir(exists bool) {
	r.t.Helper()
	_, err := os.Stat(r.dir)
	switch {
	case exists && err != nil:
		r.t.Errorf("DOCKERD_DIR %s: %v; want it kept", r.dir, err)
	case !exists && err == nil:
		r.t.Errorf("DOCKERD_DIR %s is still there; want it removed", r.dir)
	}
}

func wantOutput(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// Contributors source .ci/dockerd.sh in their interactive shell
// (docs/development.md): it must not turn on errexit there, where the first
// failing command would close the terminal and leave the engine running.
func TestSourcingLeavesTheShellOptions(t *testing.T) {
	for _, file := range []string{".ci/dockerd.sh", ".ci/image.sh"} {
		t.Run(file, func(t *testing.T) {
			r := newRig(t)
			out, code := r.bash(`opts() { set +o; shopt -p; }
before=$(opts)
source ` + file + `
after=$(opts)
if [ "$before" != "$after" ]; then
  diff <(echo "$before") <(echo "$after")
  exit 1
fi`)
			if code != 0 {
				t.Errorf("sourcing %s changed the shell's options:\n%s", file, out)
			}
		})
	}
}

// Without errexit from the file, each function still fails: it returns
// non-zero and says why, and the shell goes on.
func TestDockerdStartFailsAndTheShellGoesOn(t *testing.T) {
	noEngine := "unix://" + filepath.Join(t.TempDir(), "none.sock")
	tests := []struct {
		name  string
		env   []string
		wants []string
	}{
		{"the engine exits at start", []string{"FAKE_DOCKERD=die"},
			[]string{"dockerd exited at start", "failed to start daemon: a fake that dies"}},
		{"the engine does not answer in time", []string{"FAKE_DOCKERD=slow", "DOCKERD_WAIT=1"},
			[]string{"did not answer within 1 s (DOCKERD_WAIT)"}},
		{"nothing answers at DOCKER_HOST", []string{"DOCKER_HOST=" + noEngine},
			[]string{"no engine answers at DOCKER_HOST=" + noEngine}},
		{"DOCKERD_WAIT is not whole seconds", []string{"DOCKERD_WAIT=20s"},
			[]string{"DOCKERD_WAIT=20s: want whole seconds"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.env...)
			out, code := r.bash(`source .ci/dockerd.sh
dockerd_start
echo "start returned $?"
dockerd_stop
echo "stop returned $?"`)
			if code != 0 {
				t.Errorf("exit code %d", code)
			}
			wantOutput(t, out, append(tc.wants, "start returned 1", "stop returned 0")...)
			r.wantEnginesStopped()
			r.wantDir(false)
		})
	}
}

func TestDockerdStartAndStop(t *testing.T) {
	tests := []struct {
		name       string
		env        []string
		stopCode   string
		wants      []string
		keepsDir   bool
		keptEngine bool
	}{
		{name: "a private engine, and its directory removed at the end",
			stopCode: "0", wants: []string{"removed", "DOCKERD_KEEP=1 keeps it"}},
		{name: "DOCKERD_KEEP=1 keeps the directory", env: []string{"DOCKERD_KEEP=1"},
			stopCode: "0", wants: []string{"kept"}, keepsDir: true},
		{name: "DOCKERD_KEEP neither 1 nor 0 keeps it and says so", env: []string{"DOCKERD_KEEP=yes"},
			stopCode: "1", wants: []string{"DOCKERD_KEEP=yes: want 1"}, keepsDir: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.env...)
			out, code := r.bash(`source .ci/dockerd.sh
dockerd_start
echo "start returned $? DOCKER_HOST=$DOCKER_HOST TEST_ECS_UPTIME_BUSYBOX=$TEST_ECS_UPTIME_BUSYBOX"
dockerd_stop
echo "stop returned $? DOCKER_HOST=${DOCKER_HOST:-}."`)
			if code != 0 {
				t.Errorf("exit code %d", code)
			}
			wantOutput(t, out, append(tc.wants,
				"start returned 0 DOCKER_HOST=unix://"+r.dir+"/docker.sock TEST_ECS_UPTIME_BUSYBOX=ecs-uptime-test/busybox:1",
				"stop returned "+tc.stopCode+" DOCKER_HOST=.")...)
			if len(r.engines()) != 1 {
				t.Errorf("engines started: %v, want one", r.engines())
			}
			r.wantEnginesStopped()
			r.wantDir(tc.keepsDir)
		})
	}

	t.Run("the engine at DOCKER_HOST is used and left alone", func(t *testing.T) {
		r := newRig(t)
		sock := filepath.Join(t.TempDir(), "docker.sock")
		if err := os.WriteFile(sock, nil, 0o600); err != nil { // the fake docker's "engine"
			t.Fatal(err)
		}
		out, code := r.bash(`source .ci/dockerd.sh
dockerd_start
echo "start returned $? DOCKER_HOST=$DOCKER_HOST"
dockerd_stop
echo "stop returned $? DOCKER_HOST=$DOCKER_HOST"`, "DOCKER_HOST=unix://"+sock)
		if code != 0 {
			t.Errorf("exit code %d", code)
		}
		wantOutput(t, out, "start returned 0 DOCKER_HOST=unix://"+sock, "stop returned 0 DOCKER_HOST=unix://"+sock)
		if pids := r.engines(); len(pids) != 0 {
			t.Errorf("started engines %v; want none", pids)
		}
		if strings.Contains(r.commands(), " rm ") {
			t.Errorf("removed containers from an engine it did not start:\n%s", r.commands())
		}
		if _, err := os.Stat(sock); err != nil {
			t.Errorf("the engine's socket: %v", err)
		}
	})

	t.Run("an engine already running in DOCKERD_DIR is left alone", func(t *testing.T) {
		r := newRig(t)
		// One shell starts it and ends without dockerd_stop.
		if out, code := r.bash(`source .ci/dockerd.sh && dockerd_start`); code != 0 {
			t.Fatalf("first start: exit code %d\n%s", code, out)
		}
		out, code := r.bash(`source .ci/dockerd.sh
dockerd_start
echo "start returned $?"
dockerd_stop
echo "stop returned $?"`)
		if code != 0 {
			t.Errorf("exit code %d", code)
		}
		wantOutput(t, out, "start returned 1", "an engine already runs in DOCKERD_DIR="+r.dir,
			"DOCKER_HOST=unix://"+r.dir+"/docker.sock", "stop returned 0", "is left running")
		pids := r.engines()
		if len(pids) != 1 || !alive(pids[0]) {
			t.Errorf("engines %v: want the first one, still running", pids)
		}
		r.wantDir(true)
	})
}

// canMount tells whether this process may bind-mount (root with
// CAP_SYS_ADMIN, as CI runs), trying it once in dir.
func canMount(t *testing.T, dir string) bool {
	t.Helper()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	for _, f := range []string{src, dst} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mount(src, dst, "", syscall.MS_BIND, ""); err != nil {
		return false
	}
	if err := syscall.Unmount(dst, 0); err != nil {
		t.Fatal(err)
	}
	return true
}

// unmountUnder unmounts whatever a failed test left mounted under dir, so
// that its temporary directory can go.
func unmountUnder(dir string) {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			_ = syscall.Unmount(f[4], syscall.MNT_DETACH)
		}
	}
}

// .ci/run stops the engine it started and removes its directory however the
// run ends: passed, failed, or the engine too slow to start (the trap used
// to be set only once the engine answered), and with the network namespace
// mount that dockerd leaves behind.
func TestCIRunStopsItsEngine(t *testing.T) {
	mount := filepath.Join(t.TempDir(), "netns")
	tests := []struct {
		name     string
		env      []string
		passes   bool
		keepsDir bool
		wants    []string
	}{
		{name: "the run passes", passes: true, wants: []string{"removed"}},
		{name: "the run passes, DOCKERD_KEEP=1", env: []string{"DOCKERD_KEEP=1"}, passes: true, keepsDir: true, wants: []string{"kept"}},
		{name: "a test fails", env: []string{"FAKE_GO_FAIL=test"}, wants: []string{"go test: failing", "removed"}},
		{name: "the engine is slow to start", env: []string{"FAKE_DOCKERD=slow", "DOCKERD_WAIT=1"},
			wants: []string{"did not answer within 1 s", "removed"}},
		{name: "the engine exits at start", env: []string{"FAKE_DOCKERD=die"}, wants: []string{"dockerd exited at start", "removed"}},
		{name: "the engine leaves a mount behind", env: []string{"FAKE_DOCKERD_MOUNT=" + mount}, passes: true, wants: []string{"removed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(strings.Join(tc.env, " "), "FAKE_DOCKERD_MOUNT=") {
				if err := os.WriteFile(mount, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				if !canMount(t, t.TempDir()) {
					t.Skip("needs to bind-mount, as root with CAP_SYS_ADMIN (CI runs as root)")
				}
			}
			r := newRig(t, tc.env...)
			t.Cleanup(func() { unmountUnder(filepath.Dir(r.dir)) })
			out, code := r.bash(`bash .ci/run`)
			if (code == 0) != tc.passes {
				t.Errorf("exit code %d, want passing %v\n%s", code, tc.passes, out)
			}
			wantOutput(t, out, tc.wants...)
			if len(r.engines()) != 1 {
				t.Errorf("engines started: %v, want one", r.engines())
			}
			r.wantEnginesStopped()
			r.wantDir(tc.keepsDir)
			if tc.passes {
				// Everything .ci/run does, in its order, with the README's
				// test command.
				cmds := r.commands()
				last := -1
				for _, step := range []string{"go mod tidy -diff", "go vet ./...", "gofmt -l .", "go tool actionlint", "shellcheck .ci/run",
					"docker build --network none", "go test -race -count=1 ./...", "go test -run ^$ -fuzz"} {
					i := strings.Index(cmds, step)
					if i < 0 || i < last {
						t.Errorf(".ci/run did not run %q after the steps before it:\n%s", step, cmds)
					}
					last = i
				}
			}
		})
	}
}

// The static checks come first and stop the run with a message that says
// what to do, before an engine starts: a go.mod that go mod tidy would
// change (modules imported directly but marked indirect, stale go.sum
// lines), code that go vet rejects.
func TestCIRunStaticChecks(t *testing.T) {
	tests := []struct {
		name  string
		fail  string // the go subcommand the stand-in fails
		wants []string
	}{
		{name: "go.mod is not tidy", fail: "mod", wants: []string{"go.mod or go.sum is not tidy", "run go mod tidy and commit both files"}},
		{name: "go vet fails", fail: "vet", wants: []string{"go vet: failing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, "FAKE_GO_FAIL="+tc.fail)
			out, code := r.bash(`bash .ci/run`)
			if code == 0 {
				t.Fatalf("exit code 0, want a failure\n%s", out)
			}
			wantOutput(t, out, tc.wants...)
			if n := len(r.engines()); n != 0 {
				t.Errorf("engines started: %d, want none before the static checks pass", n)
			}
			if cmds := r.commands(); strings.Contains(cmds, "go test") {
				t.Errorf(".ci/run went on to the tests:\n%s", cmds)
			}
		})
	}
}
