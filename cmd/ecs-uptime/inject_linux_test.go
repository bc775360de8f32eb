package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// Input over 1 MiB is refused, and as soon as the limit is passed: a
// wrong file (or an endless stream) is neither held in memory nor read to
// its end.
func TestInjectCommandInputLimit(t *testing.T) {
	valid := func(size int) []byte {
		return []byte(`{"family":"f","networkMode":"host","containerDefinitions":[{"name":"a","image":"x","memory":64,` +
			`"command":["` + strings.Repeat("a", size) + `"]}]}`)
	}
	tests := []struct {
		name    string
		stdin   []byte
		endless bool // the writer keeps the pipe open after stdin
		code    int
	}{
		{"just under", valid(1<<20 - 200), false, 0},
		{"just over", valid(1 << 20), false, 2},
		{"spaces that never end", bytes.Repeat([]byte(" "), 1<<20+1), true, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			cmd := exec.Command(binary, "inject", "--image", "r/ecs-uptime:1")
			cmd.Stdin = r
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			r.Close()
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			defer func() { cmd.Process.Kill(); <-done }()
			go func() {
				w.Write(tc.stdin) // fails with EPIPE once the process has gone
				if !tc.endless {
					w.Close()
				}
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("still reading 10 s later")
			}
			code := cmd.ProcessState.ExitCode()
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %.500s", code, tc.code, errOut.String())
			}
			if code == 2 && (out.Len() > 0 || !strings.Contains(errOut.String(), "standard input: over 1048576 bytes (1 MiB), the most inject reads")) {
				t.Errorf("stdout %d bytes, stderr %q; want nothing written and the 1 MiB limit named", out.Len(), errOut.String())
			}
		})
	}
}

// SIGINT or SIGTERM ends inject while it waits for its input (a pipe whose
// writer never finishes), instead of being swallowed, and exits as a
// signal stop does in every command (0), not as a failure.
func TestInjectCommandStopsOnSignalWhileReading(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			cmd := exec.Command(binary, "inject", "--image", "r/ecs-uptime:1")
			cmd.Stdin = r
			var errOut bytes.Buffer
			cmd.Stderr = &errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			r.Close()
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			defer func() { cmd.Process.Kill(); <-done }()
			// Half a task definition: once the process has taken it from
			// the pipe, it is reading, past its signal set-up.
			if _, err := w.Write([]byte(`{"family":`)); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for unread(t, w) > 0 {
				if time.Now().After(deadline) {
					t.Fatal("the process did not read its input in 10 s")
				}
				time.Sleep(10 * time.Millisecond)
			}
			cmd.Process.Signal(sig)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("still running 10 s after %v", sig)
			}
			if code := cmd.ProcessState.ExitCode(); code != exitOK || !strings.Contains(errOut.String(), "stopped by a signal while reading standard input") {
				t.Errorf("exit %d, stderr %q; want exit 0, a signal stop as for run, saying it stopped while reading", code, errOut.String())
			}
		})
	}
}

// unread returns how many bytes written to the pipe w are not read yet.
func unread(t *testing.T, w *os.File) int {
	t.Helper()
	var n int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, w.Fd(), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("FIONREAD on the pipe: %v", e)
	}
	return int(n)
}

// With no --file and a terminal on standard input, inject says what it
// expects and exits 2 instead of waiting on a silent prompt.
func TestInjectCommandRefusesATerminal(t *testing.T) {
	tty := openTerminal(t)
	cmd := exec.Command(binary, "inject", "--image", "r/ecs-uptime:1")
	cmd.Stdin = tty
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("still waiting on the terminal after 10 s")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitConfig || out.Len() > 0 ||
		!strings.Contains(errOut.String(), "standard input is a terminal") ||
		!strings.Contains(errOut.String(), "| ecs-uptime inject --image IMAGE > register.json") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and a line saying what to pipe in", code, out.String(), errOut.String())
	}
}

// openTerminal opens a pseudo-terminal and returns its terminal side.
func openTerminal(t *testing.T) *os.File {
	t.Helper()
	ioctl := func(f *os.File, req uintptr, arg unsafe.Pointer) {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, uintptr(arg)); e != 0 {
			t.Fatalf("ioctl %#x: %v", req, e)
		}
	}
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close() })
	var unlock int32
	ioctl(ptmx, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock))
	var n uint32
	ioctl(ptmx, syscall.TIOCGPTN, unsafe.Pointer(&n))
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty
}

// `docker run` without -i gives the container /dev/null as standard input:
// a device, not a terminal. inject says to add -i instead of reading an
// empty input.
func TestInjectCommandSaysAddIWithDevNull(t *testing.T) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	cmd := exec.Command(binary, "inject", "--image", "r/ecs-uptime:1")
	cmd.Stdin = null
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	if code := cmd.ProcessState.ExitCode(); code != exitConfig || out.Len() > 0 ||
		!strings.Contains(errOut.String(), "standard input is /dev/null") ||
		!strings.Contains(errOut.String(), "add -i") || !strings.Contains(errOut.String(), "docker run --rm -i IMAGE inject") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and a line saying to add -i", code, out.String(), errOut.String())
	}
}
