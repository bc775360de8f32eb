package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ecs-uptime/uptime/demo"
	"ecs-uptime/uptime/docker/dockertest"
	"ecs-uptime/uptime/dogstatsd/receiver"
	"ecs-uptime/uptime/ecsmeta/fakeendpoint"
)

// Where the Datadog Agent's DogStatsD socket is, by convention, in the
// containers next to it.
const (
	dsdDir = "/var/run/datadog"
	dsdURL = "unix://" + dsdDir + "/dsd.socket"
)

// unavailable skips the test, or fails it when TEST_ECS_UPTIME_REQUIRE_IMAGE=1.
func unavailable(t testing.TB, why string) {
	t.Helper()
	msg := why + " (bash .ci/run builds the image; see .ci/image.sh)"
	if os.Getenv("TEST_ECS_UPTIME_REQUIRE_IMAGE") == "1" {
		t.Fatal("TEST_ECS_UPTIME_REQUIRE_IMAGE=1 but " + msg)
	}
	t.Skip("no image to test: " + msg)
}

// imageUnderTest returns DOCKER_HOST and TEST_ECS_UPTIME_IMAGE after checking
// that the engine answers and holds the image.
func imageUnderTest(t testing.TB) (host, image string) {
	t.Helper()
	image = os.Getenv("TEST_ECS_UPTIME_IMAGE")
	if image == "" {
		unavailable(t, "TEST_ECS_UPTIME_IMAGE is not set")
	}
	host = os.Getenv("DOCKER_HOST")
	if host == "" {
		unavailable(t, "DOCKER_HOST is not set")
	}
	if _, err := dockertest.DockerErr(host, "version"); err != nil {
		unavailable(t, fmt.Sprintf("the engine at DOCKER_HOST=%s does not answer: %v", host, err))
	}
	if _, err := dockertest.DockerErr(host, "image", "inspect", image); err != nil {
		unavailable(t, fmt.Sprintf("TEST_ECS_UPTIME_IMAGE=%s is not in the engine: %v", image, err))
	}
	return host, image
}

// hardened are the docker run flags of every test: what an ECS task
// definition sets with readonlyRootFilesystem, user and no capabilities.
var hardened = []string{"--read-only", "--user", "65532:65532", "--cap-drop", "ALL"}

// container is one ecs-uptime container the test started.
type container struct {
	host, id string
	t        testing.TB
}

// runImage starts the image detached with the hardened flags and args
// before the image name, and removes the container when the test ends.
func runImage(t testing.TB, host, image string, args ...string) *container {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	all := append([]string{"run", "-d", "--name", "ecs-uptime-e2e-" + hex.EncodeToString(b)}, hardened...)
	all = append(append(all, args...), image)
	id, err := dockertest.DockerErr(host, all...)
	if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(all, " "), err)
	}
	t.Cleanup(func() { _, _ = dockertest.DockerErr(host, "rm", "-f", id) })
	return &container{host: host, id: id, t: t}
}

func (c *container) docker(args ...string) string {
	c.t.Helper()
	return dockertest.Docker(c.t, c.host, args...)
}

// logs returns what the process wrote (the JSON log lines).
func (c *container) logs() string {
	out, _ := dockertest.DockerErr(c.host, "logs", c.id)
	return out
}

// stop stops the container as ECS stops a task (SIGTERM, then SIGKILL
// after 10 s) and returns its exit code.
func (c *container) stop() int {
	c.t.Helper()
	c.docker("stop", "-t", "10", c.id)
	code, err := strconv.Atoi(c.docker("inspect", "-f", "{{.State.ExitCode}}", c.id))
	if err != nil {
		c.t.Fatal(err)
	}
	return code
}

// agent listens for DogStatsD on a Unix datagram socket in a directory
// that containers mount at /var/run/datadog, as the Datadog Agent does.
type agent struct {
	*receiver.Server
	dir  string
	all  []receiver.Packet
	errs []error
}

func newAgent(t testing.TB) *agent {
	t.Helper()
	dir := t.TempDir()
	// The container runs as 65532: it must reach the socket in the mounted
	// directory and write to it. The Agent makes its socket writable by
	// everyone (0722) for this reason.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "dsd.socket")
	srv, err := receiver.ListenUnixgram(sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := os.Chmod(sock, 0o722); err != nil {
		t.Fatal(err)
	}
	return &agent{Server: srv, dir: dir}
}

// drain keeps what arrived since the last call.
func (a *agent) drain() {
	ps, errs := a.Packets()
	a.all = append(a.all, ps...)
	a.errs = append(a.errs, errs...)
}

// of returns the packets named name for the task, of all received so far.
func (a *agent) of(arn, name string) []receiver.Packet {
	a.drain()
	var out []receiver.Packet
	for _, p := range a.all {
		if v, _ := p.Tag("task_arn"); v == arn && p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

// wait waits until n packets named name for the task arrived in all, or
// until within has passed, and returns them.
func (a *agent) wait(arn, name string, n int, within time.Duration) []receiver.Packet {
	deadline := time.After(within)
	for {
		if got := a.of(arn, name); len(got) >= n {
			return got
		}
		select {
		case <-a.Updates():
		case <-deadline:
			return a.of(arn, name)
		}
	}
}

// demoEndpoint serves the demo's task (db-migrate:42 on Fargate) with its
// first container started 26 h ago, on the host's loopback, and counts
// the task reads it answered.
type demoEndpoint struct {
	*httptest.Server
	reads atomic.Int64
}

const demoARN = "arn:aws:ecs:eu-west-1:123456789012:task/billing-prod/5c2f0b9e8d7a4e31a6f0c1d2e3b4a596"

// demoTags are the task tags DESIGN.md asks for, for the demo task.
var demoTags = []string{
	"task_arn:" + demoARN, "task_name:db-migrate", "task_family:db-migrate", "task_version:42",
	"ecs_cluster_name:billing-prod", "cluster_arn:arn:aws:ecs:eu-west-1:123456789012:cluster/billing-prod",
	"region:eu-west-1", "availability-zone:eu-west-1b", "aws_account:123456789012", "ecs_task_kind:standalone",
}

func startDemoEndpoint(t testing.TB, age time.Duration) *demoEndpoint {
	t.Helper()
	// wait-for-db, the init container, started first: the task's age.
	task, err := fakeendpoint.NewTask(demo.TaskJSON, "wait-for-db", age, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e := &demoEndpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		task.ServeHTTP(w, r)
		if strings.HasSuffix(r.URL.Path, "/task") {
			e.reads.Add(1)
		}
	}))
	t.Cleanup(e.Close)
	return e
}

// freePort returns a loopback port nobody listens on now: containers on
// the host network share the host's loopback, so the health endpoint's
// default port could clash with other tests.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// socketGroup returns the numeric group of the engine's socket. The socket
// is root:docker 0660 on ECS hosts as here: user 65532 reaches it through
// that group.
func socketGroup(t testing.TB, sock string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(sock, &st); err != nil {
		t.Fatalf("the engine's socket: %v", err)
	}
	return strconv.FormatUint(uint64(st.Gid), 10)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// The sidecar: ecs mode against a metadata endpoint on the host (the
// container shares the host's network, as in awsvpc mode it shares the
// task's), DogStatsD over the Agent's socket. It sends a gauge a second,
// answers its health check, and stops on SIGTERM with exit 0 having sent
// a gauge for every read it made.
func TestImageECSMode(t *testing.T) {
	host, image := imageUnderTest(t)
	const age = 26 * time.Hour
	ep := startDemoEndpoint(t, age)
	began := time.Now()
	a := newAgent(t)
	c := runImage(t, host, image, "--network", "host", "-v", a.dir+":"+dsdDir,
		"-e", "ECS_CONTAINER_METADATA_URI_V4="+ep.URL+"/v4/5c2f0b9e8d7a4e31a6f0c1d2e3b4a596-2913574840",
		"-e", "DD_DOGSTATSD_URL="+dsdURL, "-e", "ECS_UPTIME_INTERVAL=1s", "-e", "ECS_UPTIME_CRITICAL=0",
		"-e", "ECS_UPTIME_HEALTH_PORT="+freePort(t))

	gauges := a.wait(demoARN, "ecs.task.uptime", 3, 20*time.Second)
	if len(gauges) < 3 {
		t.Fatalf("%d ecs.task.uptime gauges in 20 s, want 3 at 1 s intervals; logs:\n%s", len(gauges), c.logs())
	}
	hi := (age + time.Since(began)).Seconds()
	for i, g := range gauges {
		if g.Type != "g" {
			t.Errorf("gauge %d: %q, want type g", i, g.Raw)
		}
		if !slices.Equal(sorted(g.Tags), sorted(demoTags)) {
			t.Errorf("tags\n got %q\nwant %q", sorted(g.Tags), sorted(demoTags))
		}
		// Each value lies between the age at the endpoint's start and that
		// plus the time elapsed since, give or take a second.
		if g.Value < age.Seconds()-1 || g.Value > hi+1 {
			t.Errorf("gauge %d = %.3f s, want between %.0f and %.0f (± 1 s)", i, g.Value, age.Seconds(), hi)
		}
	}
	if d := gauges[2].Value - gauges[0].Value; d < 1.5 || d > 2.5 {
		t.Errorf("three gauges span %.2f s of uptime, want about 2 (one a second)", d)
	}
	if out, err := dockertest.DockerErr(host, "exec", c.id, "/ecs-uptime", "healthcheck"); err != nil {
		t.Errorf("healthcheck in the running container: %v %s", err, out)
	}

	// Stop just after a cycle, as far as can be from the next read: a
	// SIGTERM that lands while a read is in flight cancels it, and that
	// cycle rightly sends nothing.
	if n := len(a.of(demoARN, "ecs.task.uptime")); len(a.wait(demoARN, "ecs.task.uptime", n+1, 5*time.Second)) <= n {
		t.Fatalf("no gauge for 5 s; logs:\n%s", c.logs())
	}
	if code := c.stop(); code != 0 {
		t.Errorf("docker stop: exit %d, want 0; logs:\n%s", code, c.logs())
	}
	// Every read made a cycle and every cycle was flushed, the last one
	// included: once the process has exited, the gauges received match
	// the reads the endpoint answered. (The datagrams are already in the
	// socket; the listener may still be parsing them.)
	reads := ep.reads.Load()
	sent := len(a.wait(demoARN, "ecs.task.uptime", int(reads), 2*time.Second))
	t.Logf("%d metadata reads, %d gauges received", reads, sent)
	if int64(sent) != reads {
		t.Errorf("after the stop: %d gauges received for %d metadata reads, want one per read", sent, reads)
	}
	if len(a.errs) > 0 {
		t.Errorf("lines the listener could not parse: %v", a.errs)
	}
	logs := c.logs()
	for _, want := range []string{`"msg":"ecs-uptime started"`, `"source":"ecs"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}

// The host daemon: docker mode with the engine's socket mounted read-only,
// no network at all, next to containers labelled as the ECS agent labels
// them.
func TestImageDockerMode(t *testing.T) {
	host, image := imageUnderTest(t)
	sock, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		unavailable(t, "docker mode mounts the engine's socket, and DOCKER_HOST="+host+" is not unix://")
	}
	arn := dockertest.TaskARN("eu-west-1", "123456789012", "image-e2e")
	task := dockertest.Container{TaskARN: arn, Cluster: "image-e2e", Family: "db-migrate", Version: "7"}
	initC, app := task, task
	initC.Name, initC.Command = "wait-for-db", []string{"true"}
	app.Name = "migrate"
	initID := dockertest.Run(t, host, initC)
	dockertest.WaitExited(t, host, initID)
	appID := dockertest.Run(t, host, app)
	taskStart := dockertest.StartedAt(t, host, initID)
	appStart := dockertest.StartedAt(t, host, appID)

	a := newAgent(t)
	c := runImage(t, host, image, "--network", "none",
		"-v", sock+":/var/run/docker.sock:ro", "--group-add", socketGroup(t, sock),
		"-v", a.dir+":"+dsdDir, "-e", "DD_DOGSTATSD_URL="+dsdURL,
		"-e", "ECS_UPTIME_SOURCE=docker", "-e", "ECS_UPTIME_INTERVAL=1s", "-e", "ECS_UPTIME_CRITICAL=0",
		"-e", "ECS_UPTIME_CONTAINER_METRICS=true")

	gauges := a.wait(arn, "ecs.task.uptime", 2, 20*time.Second)
	if len(gauges) < 2 {
		t.Fatalf("%d ecs.task.uptime gauges in 20 s, want 2; logs:\n%s", len(gauges), c.logs())
	}
	wantTags := []string{"task_arn:" + arn, "task_name:db-migrate", "task_family:db-migrate", "task_version:7",
		"ecs_cluster_name:image-e2e", "cluster_arn:arn:aws:ecs:eu-west-1:123456789012:cluster/image-e2e",
		"region:eu-west-1", "aws_account:123456789012", "ecs_task_kind:unknown"} // no ECS_CONTAINER_METADATA_URI_V4 in its containers
	last := gauges[len(gauges)-1]
	if !slices.Equal(sorted(last.Tags), sorted(wantTags)) {
		t.Errorf("tags\n got %q\nwant %q", sorted(last.Tags), sorted(wantTags))
	}
	// The value is the task's age when sent, from the exited init
	// container's start; it was received just now.
	if want := time.Since(taskStart).Seconds(); math.Abs(last.Value-want) > 1 {
		t.Errorf("task uptime %.3f s, want %.3f ± 1 s", last.Value, want)
	}
	ctrs := a.of(arn, "ecs.container.uptime")
	if len(ctrs) == 0 {
		t.Fatalf("no ecs.container.uptime for the task; logs:\n%s", c.logs())
	}
	for _, g := range ctrs {
		id, _ := g.Tag("container_id")
		name, _ := g.Tag("ecs_container_name")
		if id != appID || name != "migrate" {
			t.Errorf("container gauge for %s (%s), want only the running migrate container %s", id, name, appID)
		}
	}
	g := ctrs[len(ctrs)-1]
	if sentBy := time.Since(appStart).Seconds(); g.Value > sentBy+1 || g.Value < sentBy-3 {
		t.Errorf("container uptime %.3f s, want at most %.3f (+1 s) and sent in the last 2 s", g.Value, sentBy)
	}
	if out, err := dockertest.DockerErr(host, "exec", c.id, "/ecs-uptime", "healthcheck"); err != nil {
		t.Errorf("healthcheck in the running container: %v %s", err, out)
	}
	if code := c.stop(); code != 0 {
		t.Errorf("docker stop: exit %d, want 0; logs:\n%s", code, c.logs())
	}
	if len(a.errs) > 0 {
		t.Errorf("lines the listener could not parse: %v", a.errs)
	}
	if logs := c.logs(); !strings.Contains(logs, `"source":"docker"`) || !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("want the docker source at start and a stopped line:\n%s", logs)
	}
}

// imageConfig is the part of docker image inspect the tests read.
type imageConfig struct {
	Architecture string
	Size         int64
	Config       struct {
		User       string
		Entrypoint []string
		Labels     map[string]string
	}
}

func inspectImage(t testing.TB, host, image string) imageConfig {
	t.Helper()
	var cfg []imageConfig
	if err := json.Unmarshal([]byte(dockertest.Docker(t, host, "image", "inspect", image)), &cfg); err != nil || len(cfg) != 1 {
		t.Fatalf("docker image inspect %s: %v", image, err)
	}
	return cfg[0]
}

// `ecs-uptime version` prints what the build stamped, which the image's
// labels also carry.
func TestImageVersion(t *testing.T) {
	host, image := imageUnderTest(t)
	cfg := inspectImage(t, host, image)
	out := dockertest.Docker(t, host, append(append([]string{"run", "--rm", "--network", "none"}, hardened...), image, "version")...)
	v, c := cfg.Config.Labels["org.opencontainers.image.version"], cfg.Config.Labels["org.opencontainers.image.revision"]
	if v == "" || c == "" {
		t.Fatalf("image labels lack the version or revision: %v", cfg.Config.Labels)
	}
	prefix := fmt.Sprintf("ecs-uptime %s (commit %s, go1.", v, c)
	suffix := fmt.Sprintf(", linux/%s)", cfg.Architecture)
	if !strings.HasPrefix(out, prefix) || !strings.HasSuffix(out, suffix) {
		t.Errorf("version printed %q, want %q…%q", out, prefix, suffix)
	}
}

// caBundle is where the image holds the CA certificates the api source
// verifies the ECS API's with, as Debian and Go's crypto/x509 name it.
const caBundle = "etc/ssl/certs/ca-certificates.crt"

// The image is the binary and the CA bundle, nothing else (no shell, no
// package manager), run as 65532 by default.
func TestImageHoldsOnlyTheBinary(t *testing.T) {
	host, image := imageUnderTest(t)
	cfg := inspectImage(t, host, image)
	if cfg.Config.User != "65532:65532" || !slices.Equal(cfg.Config.Entrypoint, []string{"/ecs-uptime"}) {
		t.Errorf("user %q, entrypoint %q; want 65532:65532 and [/ecs-uptime]", cfg.Config.User, cfg.Config.Entrypoint)
	}
	files, bundle, err := imageFiles(host, image, caBundle)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ecs-uptime", "etc", "etc/ssl", "etc/ssl/certs", caBundle}; !slices.Equal(files, want) {
		t.Errorf("the image's layers hold %q, want %q", files, want)
	}
	// The api source reaches the ECS API over HTTPS: without roots, every
	// call would fail certificate verification.
	if pool := x509.NewCertPool(); !pool.AppendCertsFromPEM(bundle) || len(bytes.Split(bundle, []byte("BEGIN CERTIFICATE"))) < 100 {
		t.Errorf("%s holds no usable CA bundle (%d bytes)", caBundle, len(bundle))
	}
}

// imageFiles lists the files and directories in the image's layers, from
// docker save, and returns the content of the file named read.
func imageFiles(host, image, read string) ([]string, []byte, error) {
	cmd := exec.Command("docker", "save", image)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+host)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	defer cmd.Wait()
	var files []string
	var content []byte
	outer := tar.NewReader(bufio.NewReader(out))
	for {
		h, err := outer.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("docker save %s: %w", image, err)
		}
		// Layers are layer.tar files (docker save of engines before 25)
		// or blobs (OCI layout); a blob that is no tar adds nothing.
		if !strings.HasSuffix(h.Name, "layer.tar") && !strings.HasPrefix(h.Name, "blobs/") {
			continue
		}
		inner := tar.NewReader(outer)
		for {
			f, err := inner.Next()
			if err != nil {
				break
			}
			name := strings.TrimSuffix(f.Name, "/")
			files = append(files, name)
			if name == read {
				if content, err = io.ReadAll(inner); err != nil {
					return nil, nil, fmt.Errorf("docker save %s: %s: %w", image, read, err)
				}
			}
		}
	}
	slices.Sort(files)
	return slices.Compact(files), content, nil
}
