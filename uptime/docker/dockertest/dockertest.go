// Package dockertest gives tests a real Docker engine: the one DOCKER_HOST
// names (bash .ci/run starts a private one), or a private engine a test
// starts and stops itself, and ECS-labelled containers made from the test
// image (TEST_ECS_UPTIME_BUSYBOX, a static busybox made by docker import).
//
// Without an engine the tests skip with a message saying what to set, unless
// TEST_ECS_UPTIME_REQUIRE_DOCKER=1 (CI), where they fail instead.
package dockertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// Unavailable skips the test, or fails it when TEST_ECS_UPTIME_REQUIRE_DOCKER=1.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	msg := why + " (bash .ci/run starts a private engine; see .ci/dockerd.sh)"
	if os.Getenv("TEST_ECS_UPTIME_REQUIRE_DOCKER") == "1" {
		t.Fatal("TEST_ECS_UPTIME_REQUIRE_DOCKER=1 but " + msg)
	}
	t.Skip("no Docker engine: " + msg)
}

// Host returns DOCKER_HOST after checking that the engine answers and that
// the test image is there.
func Host(t testing.TB) string {
	t.Helper()
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		Unavailable(t, "DOCKER_HOST is not set")
	}
	c, err := client.New(client.WithHost(host))
	if err != nil {
		t.Fatalf("DOCKER_HOST=%q: %v", host, err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		Unavailable(t, fmt.Sprintf("the engine at DOCKER_HOST=%s does not answer: %v", host, err))
	}
	Image(t)
	return host
}

// Image returns the test image's name (TEST_ECS_UPTIME_BUSYBOX).
func Image(t testing.TB) string {
	t.Helper()
	img := os.Getenv("TEST_ECS_UPTIME_BUSYBOX")
	if img == "" {
		Unavailable(t, "TEST_ECS_UPTIME_BUSYBOX is not set")
	}
	return img
}

// Docker runs the docker CLI against host and returns its trimmed output.
func Docker(t testing.TB, host string, args ...string) string {
	t.Helper()
	out, err := DockerErr(host, args...)
	if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// DockerErr is Docker for callers that expect failures.
func DockerErr(host string, args ...string) (string, error) {
	cmd := exec.Command("docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+host)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// TaskARN returns a new-format task ARN with a random task ID, so that
// tests sharing an engine never see each other's tasks as their own.
func TaskARN(region, account, cluster string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", region, account, cluster, hex.EncodeToString(b))
}

// Container describes a container the ECS agent would have started.
type Container struct {
	TaskARN string
	Cluster string // the cluster label, a short name or an ARN
	Family  string
	Version string
	Name    string   // task-definition container name
	Command []string // default: sleep for an hour
	Labels  map[string]string
	Env     []string // KEY=VALUE, as the ECS agent sets ECS_CONTAINER_METADATA_URI_V4
}

// Run starts c from the test image with the ECS agent's labels and no
// network, removes it when the test ends, and returns its ID. With
// c.TaskARN empty it starts an unlabelled container.
func Run(t testing.TB, host string, c Container) string {
	t.Helper()
	id, err := RunErr(host, Image(t), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = DockerErr(host, "rm", "-f", id) })
	return id
}

// RunErr is Run for other goroutines than the test's: it returns the error
// and leaves the removal to the caller.
func RunErr(host, image string, c Container) (string, error) {
	args := []string{"run", "-d", "--network", "none"}
	if c.TaskARN != "" {
		args = append(args,
			"--label", "com.amazonaws.ecs.task-arn="+c.TaskARN,
			"--label", "com.amazonaws.ecs.cluster="+c.Cluster,
			"--label", "com.amazonaws.ecs.container-name="+c.Name,
			"--label", "com.amazonaws.ecs.task-definition-family="+c.Family,
			"--label", "com.amazonaws.ecs.task-definition-version="+c.Version)
	}
	for k, v := range c.Labels {
		args = append(args, "--label", k+"="+v)
	}
	for _, kv := range c.Env {
		args = append(args, "--env", kv)
	}
	args = append(args, image)
	if len(c.Command) == 0 {
		c.Command = []string{"sleep", "3600"}
	}
	args = append(args, c.Command...)
	id, err := DockerErr(host, args...)
	if err != nil {
		return "", fmt.Errorf("docker run %s: %w", c.Name, err)
	}
	return id, nil
}

// StartedAt returns the container's State.StartedAt as the engine says it.
func StartedAt(t testing.TB, host, id string) time.Time {
	t.Helper()
	s := Docker(t, host, "inspect", "-f", "{{.State.StartedAt}}", id)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("StartedAt of %s: %v", id, err)
	}
	return at
}

// WaitExited waits until the container has exited.
func WaitExited(t testing.TB, host, id string) {
	t.Helper()
	Docker(t, host, "wait", id)
}

// Daemon is a private Docker engine a test starts, stops and starts again,
// with live restore so that its containers outlive an engine restart.
type Daemon struct {
	Host string
	dir  string
	cmd  *exec.Cmd
	t    testing.TB
}

// StartDaemon starts a private engine in a temporary directory, imports the
// test image into it, and stops it when the test ends. It needs root and
// dockerd on PATH.
func StartDaemon(t testing.TB) *Daemon {
	t.Helper()
	Host(t) // same availability rules as the shared engine
	if _, err := exec.LookPath("dockerd"); err != nil || os.Geteuid() != 0 {
		Unavailable(t, "a private engine needs root and dockerd on PATH")
	}
	// The socket path must stay short (108 bytes), so no t.TempDir here.
	dir, err := os.MkdirTemp("", "eu-dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{Host: "unix://" + filepath.Join(dir, "docker.sock"), dir: dir, t: t}
	t.Cleanup(func() {
		// Live restore keeps containers past a stop: remove them first.
		if d.cmd == nil {
			d.Start()
		}
		if ids, err := DockerErr(d.Host, "ps", "-aq"); err == nil && ids != "" {
			_, _ = DockerErr(d.Host, append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
		}
		d.Stop()
		_ = exec.Command("umount", "-R", filepath.Join(dir, "exec")).Run()
		_ = os.RemoveAll(dir)
	})
	d.Start()
	img := Image(t)
	shared := Host(t)
	// Copy the test image from the shared engine: no registry is reachable.
	save := exec.Command("docker", "save", img)
	save.Env = append(os.Environ(), "DOCKER_HOST="+shared)
	load := exec.Command("docker", "load", "-q")
	load.Env = append(os.Environ(), "DOCKER_HOST="+d.Host)
	pipe, err := save.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	load.Stdin = pipe
	if err := save.Start(); err != nil {
		t.Fatal(err)
	}
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("docker load into the private engine: %v: %s", err, out)
	}
	if err := save.Wait(); err != nil {
		t.Fatalf("docker save %s: %v", img, err)
	}
	return d
}

// Start starts (or restarts) the engine and waits until it answers.
func (d *Daemon) Start() {
	d.t.Helper()
	log, err := os.OpenFile(filepath.Join(d.dir, "dockerd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	defer log.Close()
	d.cmd = exec.Command("dockerd",
		"--data-root", filepath.Join(d.dir, "data"), "--exec-root", filepath.Join(d.dir, "exec"),
		"--pidfile", filepath.Join(d.dir, "docker.pid"), "-H", d.Host,
		"--storage-driver", "vfs", "--iptables=false", "--ip6tables=false", "--bridge=none", "--live-restore")
	d.cmd.Stdout, d.cmd.Stderr = log, log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatalf("start dockerd: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := DockerErr(d.Host, "version"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(filepath.Join(d.dir, "dockerd.log"))
			d.t.Fatalf("private dockerd did not answer within 30 s; its log:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop stops the engine (its containers keep running: live restore).
func (d *Daemon) Stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
	d.cmd = nil
}
