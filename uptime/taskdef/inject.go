// Package taskdef adds the ecs-uptime sidecar to an ECS task definition:
// the pure logic behind `ecs-uptime inject`. It reads either the output of
// `aws ecs describe-task-definition` or the input of
// `aws ecs register-task-definition --cli-input-json`, and writes the
// register form with the sidecar added or updated in place.
//
// Every field it does not manage passes through untouched, in its order and
// with its value as written: the task definition is handled as ordered JSON,
// never decoded into a fixed struct that would drop the fields AWS adds. It
// does not talk to AWS; the tests check its output against AWS's own model
// (see package taskdeftest).
package taskdef

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"

	"ecs-uptime/uptime/config"
	"ecs-uptime/uptime/dogstatsd"
)

// DefaultName is the sidecar's container name.
const DefaultName = "ecs-uptime"

// SocketVolume is the volume that inject adds for a DogStatsD Unix socket
// on the host (EC2): the Agent's socket directory, mounted read-only.
const SocketVolume = "dd-sockets"

// ReadOnlyFields are the fields of describe-task-definition output that
// register-task-definition does not take: AWS sets them.
var ReadOnlyFields = []string{
	"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
	"registeredAt", "registeredBy", "deregisteredAt", "deleteRequestedAt",
}

// MaxInput is the largest task definition Inject reads: 1 MiB. ECS task
// definitions hold at most 10 containers and are far smaller; anything
// bigger is the wrong file, and refusing it early keeps memory small.
const MaxInput = 1 << 20

// Sidecar says what the ecs-uptime container must look like.
type Sidecar struct {
	// Name is the container name; DefaultName when empty. A container of
	// that name is updated in place (it must be an ecs-uptime sidecar, see
	// IsSidecar); otherwise one is appended.
	Name string
	// Image is required when the container is added; when empty, an
	// existing container keeps its image.
	Image string
	// Essential, when not nil, sets the essential flag (true makes ECS
	// stop the task when the sidecar exits, for ECS_UPTIME_MAX_LIFETIME).
	// When nil, an existing container keeps its flag and a new one is not
	// essential.
	Essential *bool
	// Defaults are a new container's variables, in this order; an
	// existing container never gets them. An empty Value sets nothing.
	Defaults []Var
	// Env holds the variables to set whether the container is new or
	// not, after Defaults: set in place, or appended in this order; a Var
	// with an empty Value is removed. Other variables are kept.
	Env []Var
}

// Var is one environment variable.
type Var struct{ Name, Value string }

// Result is what Inject did.
type Result struct {
	JSON  []byte // register-ready task definition, indented, ending in a newline
	Added bool   // the container was added (false: updated in place)
	// Changes says what an update changed, one line per field
	// (`image: "r/ecs-uptime:1.0.0" -> "r/ecs-uptime:1.1.0"`); empty when
	// the container was added or nothing changed.
	Changes []string
	// Warnings are what registration or the task would trip on; the JSON
	// is written anyway.
	Warnings []string
}

// IsSidecar reports whether a container is an ecs-uptime sidecar, by its
// image and variables: the image's last path element, without tag or
// digest, is "ecs-uptime" (REGISTRY/ecs-uptime:1.0.0), or it has an
// ECS_UPTIME_* variable in environment or secrets (a mirrored image under
// another name; inject always writes ECS_UPTIME_SOURCE).
func IsSidecar(image string, variables []string) bool {
	if dogstatsd.SplitImage(image).Short == DefaultName {
		return true
	}
	return slices.ContainsFunc(variables, config.Own)
}

// SidecarSuffix ends the tags of the lean image that releases publish
// beside the full one (1.2.3-sidecar): built without the api source.
const SidecarSuffix = "-sidecar"

// CheckImage refuses what is not an image reference by the grammar Docker
// and ECS use (github.com/distribution/reference): "not an image!!" would
// be registered as written and fail only when ECS pulls it.
func CheckImage(image string) error {
	if _, err := reference.ParseNormalizedNamed(image); err != nil {
		return fmt.Errorf("image %q is not an image reference (want REGISTRY/NAME:TAG or REGISTRY/NAME@sha256:DIGEST, lower-case name): %w", image, err)
	}
	return nil
}

// IsSidecarBuild reports whether image names the lean -sidecar build by
// its tag (REGISTRY/ecs-uptime:1.2.3-sidecar), which cannot run the api
// source.
func IsSidecarBuild(image string) bool {
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return false
	}
	tagged, ok := ref.(reference.Tagged)
	return ok && strings.HasSuffix(tagged.Tag(), SidecarSuffix)
}

// isSidecar is IsSidecar for a container definition.
func isSidecar(c *object) bool {
	image, _ := c.str("image")
	return IsSidecar(image, variableNames(c))
}

// variableNames returns the names in a container's environment and secrets.
func variableNames(c *object) []string {
	var names []string
	for _, key := range []string{"environment", "secrets"} {
		var vars []struct{ Name string }
		if json.Unmarshal(c.get(key), &vars) == nil {
			for _, v := range vars {
				names = append(names, v.Name)
			}
		}
	}
	return names
}

// Inject returns doc, a task definition in describe or register form, in
// register form with the sidecar added or updated. On an existing sidecar
// only Image, Essential and Env change anything: running it on its own
// output, or with only a new image, keeps every other setting.
func Inject(doc []byte, s Sidecar) (Result, error) {
	if s.Name == "" {
		s.Name = DefaultName
	}
	if s.Image != "" {
		if err := CheckImage(s.Image); err != nil {
			return Result{}, fmt.Errorf("container %q: %w", s.Name, err)
		}
	}
	if len(doc) > MaxInput {
		return Result{}, fmt.Errorf("%d bytes, over the %d-byte (1 MiB) limit: an ECS task definition is far smaller", len(doc), MaxInput)
	}
	td, err := registerForm(doc)
	if err != nil {
		return Result{}, err
	}
	containers, err := containerDefinitions(td)
	if err != nil {
		return Result{}, err
	}
	idx := slices.IndexFunc(containers, func(c *object) bool {
		n, _ := c.str("name")
		return n == s.Name
	})
	res := Result{Added: idx < 0}
	var side *object
	what := fmt.Sprintf("containerDefinitions[%d]", idx)
	if res.Added {
		if s.Image == "" {
			return Result{}, fmt.Errorf("no container named %q to update: an image is needed to add it", s.Name)
		}
		if i := slices.IndexFunc(containers, isSidecar); i >= 0 {
			n, _ := containers[i].str("name")
			return Result{}, fmt.Errorf("containerDefinitions[%d] %q is already an ecs-uptime sidecar: update it by its name (inject --name %s) rather than add a second one", i, n, n)
		}
		idx = len(containers)
		what = fmt.Sprintf("containerDefinitions[%d]", idx)
		side = newSidecar(s.Name, containers)
		containers = append(containers, side)
		if err := setEnv(side, s.Defaults, what); err != nil {
			return Result{}, err
		}
	} else {
		side = containers[idx]
		if !isSidecar(side) {
			image, _ := side.str("image")
			return Result{}, fmt.Errorf("%s %q (image %q) is not an ecs-uptime sidecar (its image is not .../ecs-uptime and it has no ECS_UPTIME_* variable): refusing to overwrite it; choose another --name", what, s.Name, image)
		}
	}
	before := snapshot(td, side)
	if s.Image != "" {
		side.setValue("image", s.Image)
	}
	if s.Essential != nil {
		side.setValue("essential", *s.Essential)
	}
	if err := setEnv(side, s.Env, what); err != nil {
		return Result{}, err
	}
	cfg, err := checkEnv(side, s.Name)
	if err != nil {
		return Result{}, err
	}
	if image, _ := side.str("image"); cfg.Source == config.SourceAPI && IsSidecarBuild(image) {
		return Result{}, fmt.Errorf("container %q: image %q is the -sidecar build, which has no api source and exits 2 on ECS_UPTIME_SOURCE=api; use the same tag without -sidecar for the cluster scan", s.Name, image)
	}
	if err := mountSocket(td, side, what, s.Env); err != nil {
		return Result{}, err
	}
	if !res.Added {
		res.Changes = before.diff(snapshot(td, side))
	}
	agentWarnings, err := agentReach(td, containers, cfg)
	if err != nil {
		return Result{}, fmt.Errorf("container %q: %w", s.Name, err)
	}
	res.Warnings = append(sizeWarnings(td, containers), agentWarnings...)
	essential := isEssential(side)
	if cfg.MaxLifetime > 0 && !essential {
		res.Warnings = append(res.Warnings, fmt.Sprintf("ECS_UPTIME_MAX_LIFETIME=%s with essential false: the sidecar will exit alone and the task runs on", environment(side)["ECS_UPTIME_MAX_LIFETIME"]))
	}
	if essential {
		res.Warnings = append(res.Warnings, startOrder(containers, side, s.Name)...)
	}
	raw, err := marshal(containers)
	if err != nil {
		return Result{}, fmt.Errorf("encode containerDefinitions: %w", err)
	}
	td.set("containerDefinitions", raw)

	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(td); err != nil {
		return Result{}, fmt.Errorf("encode task definition: %w", err)
	}
	res.JSON = b.Bytes()
	return res, nil
}

// registerForm returns the task definition of doc in register form:
// describe output is unwrapped (its tags kept as register's tags) and the
// read-only fields are dropped.
func registerForm(doc []byte) (*object, error) {
	top, err := parseObject(doc, "input")
	if errors.Is(err, errEmpty) {
		return nil, fmt.Errorf("%w: want aws ecs describe-task-definition output or register-task-definition input", errEmpty)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotTaskDefinition, err)
	}
	td := top
	if top.has("taskDefinition") {
		for _, k := range top.keys {
			if k != "taskDefinition" && k != "tags" {
				return nil, fmt.Errorf("%w: describe-task-definition output has an unknown field %q (want only taskDefinition and tags)", errNotTaskDefinition, k)
			}
		}
		if td, err = parseObject(top.get("taskDefinition"), "taskDefinition"); err != nil {
			return nil, fmt.Errorf("%w: %w", errNotTaskDefinition, err)
		}
		if td.has("tags") {
			return nil, fmt.Errorf("%w: taskDefinition.tags: describe output carries tags beside taskDefinition, not inside", errNotTaskDefinition)
		}
		if tags := top.get("tags"); tags != nil {
			arr, err := parseArray(tags, "tags")
			if err != nil {
				return nil, fmt.Errorf("%w: %w", errNotTaskDefinition, err)
			}
			if len(arr) > 0 {
				td.set("tags", tags)
			}
		}
	}
	if !td.has("containerDefinitions") {
		return nil, fmt.Errorf(`%w: no "containerDefinitions" field (want aws ecs describe-task-definition output or register-task-definition input)`, errNotTaskDefinition)
	}
	if _, ok := td.str("family"); !ok {
		return nil, fmt.Errorf(`%w: "family" is missing or not a string`, errNotTaskDefinition)
	}
	for _, k := range ReadOnlyFields {
		td.del(k)
	}
	return td, nil
}

func containerDefinitions(td *object) ([]*object, error) {
	arr, err := parseArray(td.get("containerDefinitions"), "containerDefinitions")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotTaskDefinition, err)
	}
	if len(arr) == 0 {
		return nil, fmt.Errorf("%w: containerDefinitions is empty", errNotTaskDefinition)
	}
	out := make([]*object, len(arr))
	names := map[string]int{}
	for i, raw := range arr {
		what := fmt.Sprintf("containerDefinitions[%d]", i)
		c, err := parseObject(raw, what)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errNotTaskDefinition, err)
		}
		name, ok := c.str("name")
		if !ok || name == "" {
			return nil, fmt.Errorf("%w: %s.name is missing or not a string", errNotTaskDefinition, what)
		}
		if j, dup := names[name]; dup {
			return nil, fmt.Errorf("%w: %s.name %q is also containerDefinitions[%d].name", errNotTaskDefinition, what, name, j)
		}
		names[name] = i
		out[i] = c
	}
	return out, nil
}

// sizeWarnings compares the containers' cpu and memory with the task's,
// as ECS does on registration: the sidecar's share may not fit.
func sizeWarnings(td *object, containers []*object) []string {
	var w []string
	for _, r := range []struct{ task, unit string }{{"cpu", "CPU units"}, {"memory", "MiB"}} {
		ts, _ := td.str(r.task)
		limit, err := strconv.Atoi(ts)
		if err != nil {
			continue // not set, or a form such as "1 vCPU"
		}
		sum := 0
		for _, c := range containers {
			n := number(c, r.task)
			if r.task == "memory" && n == 0 {
				n = number(c, "memoryReservation")
			}
			sum += n
		}
		if sum > limit {
			w = append(w, fmt.Sprintf("the containers' %s adds up to %d %s, over the task's %q: raise the task's %s", r.task, sum, r.unit, ts, r.task))
		}
	}
	return w
}

// number returns key's value when it is a JSON integer, else 0.
func number(c *object, key string) int {
	var n int
	if json.Unmarshal(c.get(key), &n) != nil {
		return 0
	}
	return n
}

// newSidecar returns a new sidecar container: small, read-only root
// filesystem, logging where the first container that logs does.
func newSidecar(name string, others []*object) *object {
	c := newObject()
	c.setValue("name", name)
	c.setValue("image", "")
	c.setValue("essential", false)
	c.setValue("cpu", 16)
	c.setValue("memory", 64)
	c.setValue("memoryReservation", 16)
	c.setValue("readonlyRootFilesystem", true)
	c.set("environment", json.RawMessage("[]"))
	for _, o := range others {
		if lc := o.get("logConfiguration"); lc != nil && string(lc) != "null" {
			c.set("logConfiguration", adaptLog(lc, name))
			break
		}
	}
	return c
}

// adaptLog copies a log configuration for the sidecar. awslogs names each
// stream prefix/container-name/task-id, so the prefix is kept (the sidecar's
// streams sit beside the app's); when it is missing (Fargate requires one)
// it becomes the sidecar's name.
func adaptLog(lc json.RawMessage, name string) json.RawMessage {
	o, err := parseObject(lc, "logConfiguration")
	if err != nil {
		return lc
	}
	if d, _ := o.str("logDriver"); d != "awslogs" {
		return lc
	}
	opts := newObject()
	if raw := o.get("options"); raw != nil {
		if opts, err = parseObject(raw, "options"); err != nil {
			return lc
		}
	}
	if p, _ := opts.str("awslogs-stream-prefix"); p != "" {
		return lc
	}
	opts.setValue("awslogs-stream-prefix", name)
	raw, _ := marshal(opts)
	o.set("options", raw)
	out, _ := marshal(o)
	return out
}

// setEnv sets the managed variables in the container's environment.
func setEnv(c *object, vars []Var, what string) error {
	env, err := c.objects("environment", what+".environment")
	if err != nil {
		return err
	}
	for i, o := range env {
		if _, ok := o.str("name"); !ok {
			return fmt.Errorf("%s.environment[%d].name is missing or not a string", what, i)
		}
	}
	for _, v := range vars {
		i := slices.IndexFunc(env, func(o *object) bool { n, _ := o.str("name"); return n == v.Name })
		switch {
		case v.Value == "" && i >= 0:
			env = slices.Delete(env, i, i+1)
		case v.Value == "":
		case i >= 0:
			env[i].setValue("value", v.Value)
		default:
			o := newObject()
			o.setValue("name", v.Name)
			o.setValue("value", v.Value)
			env = append(env, o)
		}
	}
	if env == nil {
		env = []*object{}
	}
	raw, err := marshal(env)
	if err != nil {
		return fmt.Errorf("encode %s.environment: %w", what, err)
	}
	c.set("environment", raw)
	return nil
}

// environment returns a container's environment variables as a map.
func environment(c *object) map[string]string {
	m := map[string]string{}
	var env []struct{ Name, Value string }
	if json.Unmarshal(c.get("environment"), &env) == nil {
		for _, e := range env {
			m[e.Name] = e.Value
		}
	}
	return m
}

// checkEnv refuses a sidecar whose variables the binary would refuse at
// start (exit 2), with the binary's own config code, and returns the
// configuration it would run with.
func checkEnv(c *object, name string) (config.Config, error) {
	env := environment(c)
	if _, set := env["ECS_CONTAINER_METADATA_URI_V4"]; !set && env["ECS_UPTIME_SOURCE"] != config.SourceDocker {
		env["ECS_CONTAINER_METADATA_URI_V4"] = "http://169.254.170.2/v4/example" // the ECS agent sets it
	}
	cfg, err := config.Load(env)
	if err != nil {
		return cfg, fmt.Errorf("container %q would not start: %s", name, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return cfg, nil
}

// socketHint is what to send to instead when the Agent is on the host.
const socketHint = "--dogstatsd-url unix:///var/run/datadog/dsd.socket, the Agent's socket on the host, as task-definitions/ec2-bridge.json does"

// agentReach checks that the sidecar can reach a Datadog Agent where cfg
// sends. It refuses what can never work (a host socket on Fargate, UDP
// without a network, the sidecar's own loopback in bridge mode) and warns
// about what needs something the task definition does not have (the Agent
// container that an awsvpc task's localhost needs).
func agentReach(td *object, containers []*object, cfg config.Config) ([]string, error) {
	addr := cfg.AgentAddr()
	var compat []string
	_ = json.Unmarshal(td.get("requiresCompatibilities"), &compat)
	fargate := slices.Contains(compat, "FARGATE")
	mode, _ := td.str("networkMode")
	if strings.HasPrefix(addr, "unix://") || strings.HasPrefix(addr, "unixgram://") {
		if fargate {
			return nil, fmt.Errorf("%s: a Unix socket on the host cannot be mounted on Fargate (requiresCompatibilities has FARGATE); use the Agent container at localhost:8125", addr)
		}
		return nil, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil // config.Load accepted it; nothing more to say
	}
	local := host == "localhost" || net.ParseIP(host).IsLoopback()
	switch {
	case mode == "none":
		return nil, fmt.Errorf("networkMode none: the sidecar has no network to reach the Agent at %s over UDP; send over the Unix socket instead: %s", addr, socketHint)
	case mode == "bridge" && local:
		return nil, fmt.Errorf("networkMode bridge: %s is the sidecar's own loopback, where no Agent listens; send over the Unix socket instead: %s", addr, socketHint)
	case mode == "" && !fargate && local:
		return []string{fmt.Sprintf("networkMode is not set, which is bridge on EC2 (Linux): %s would be the sidecar's own loopback, where no Agent listens; use %s", addr, socketHint)}, nil
	case (mode == "awsvpc" || fargate) && local && !slices.ContainsFunc(containers, isAgent):
		add := "add the Datadog Agent container (public.ecr.aws/datadog/agent:7 with ECS_FARGATE=true and DD_API_KEY) as task-definitions/fargate.json does"
		if !fargate {
			add += ", or use " + socketHint
		}
		return []string{fmt.Sprintf("no Datadog Agent container in the task: the sidecar sends to %s, where nothing listens; %s", addr, add)}, nil
	}
	return nil, nil
}

// isAgent reports whether a container is the Datadog Agent: its image is
// an agent image of Datadog's under any registry (public.ecr.aws/datadog/agent,
// gcr.io/datadoghq/agent, datadog/agent), or it has a DD_API_KEY variable
// or secret (the Agent under a mirrored name).
func isAgent(c *object) bool {
	image, _ := c.str("image")
	img := dogstatsd.SplitImage(image)
	if img.Short == "agent" && strings.Contains(img.Name, "datadog") {
		return true
	}
	return slices.Contains(variableNames(c), "DD_API_KEY")
}

// isEssential reads a container's essential flag; ECS takes a missing one
// as true.
func isEssential(c *object) bool {
	var e bool
	if json.Unmarshal(c.get("essential"), &e) != nil {
		return true
	}
	return e
}

// SidecarHealthCheck is the health check that lets other containers wait
// for the sidecar (dependsOn HEALTHY): the first check runs after 5
// seconds (ECS's shortest interval), and the sidecar answers healthy from
// its start, so the app waits about 5 seconds, and not at all for a
// sidecar that exited.
const SidecarHealthCheck = `{"command": ["CMD", "/ecs-uptime", "healthcheck"], "interval": 5, "timeout": 5, "retries": 3, "startPeriod": 15}`

// dependency is one entry of a container's dependsOn.
type dependency struct{ ContainerName, Condition string }

func dependsOn(c *object) []dependency {
	var deps []dependency
	_ = json.Unmarshal(c.get("dependsOn"), &deps)
	return deps
}

// startOrder says how to make the task's essential application containers
// wait for an essential sidecar. Without it, a sidecar that exits at start
// (a variable it refuses, added later) makes ECS stop the task after the
// app has started: a migration halfway. The containers that start before
// the sidecar are left out: the Agent, a FireLens log router, and those
// the sidecar depends on.
func startOrder(containers []*object, side *object, name string) []string {
	var apps, waiting []string
	for _, c := range containers {
		n, _ := c.str("name")
		first := isAgent(c) || c.has("firelensConfiguration") ||
			slices.ContainsFunc(dependsOn(side), func(d dependency) bool { return d.ContainerName == n })
		if c == side || !isEssential(c) || first {
			continue
		}
		if slices.ContainsFunc(dependsOn(c), func(d dependency) bool {
			return d.ContainerName == name && d.Condition == "HEALTHY"
		}) {
			waiting = append(waiting, strconv.Quote(n))
		} else {
			apps = append(apps, strconv.Quote(n))
		}
	}
	check := side.get("healthCheck")
	hasCheck := check != nil && string(check) != "null"
	giveCheck := `give the sidecar "healthCheck": ` + SidecarHealthCheck
	var w []string
	if len(apps) > 0 {
		msg := fmt.Sprintf(`the sidecar is essential: if it exits at start (a variable it refuses), ECS stops the task with %[1]s already running. Make %[1]s wait for it: add "dependsOn": [{"containerName": %[2]q, "condition": "HEALTHY"}] to %[1]s`, strings.Join(apps, ", "), name)
		if !hasCheck {
			msg += ", and " + giveCheck
		}
		w = append(w, msg+" (see task-definitions/migration-max-lifetime.json)")
	}
	if len(waiting) > 0 && !hasCheck {
		w = append(w, fmt.Sprintf("%s wait for the sidecar to be HEALTHY, but it has no healthCheck, so they would never start: %s", strings.Join(waiting, ", "), giveCheck))
	}
	return w
}

// state is what Inject may change in a sidecar and its task, to say what
// an update changed.
type state struct {
	image, essential string
	env              map[string]string
	envOrder         []string
	volumes, mounts  []string
}

func snapshot(td, side *object) state {
	s := state{image: rawOr(side.get("image")), essential: rawOr(side.get("essential")), env: environment(side)}
	var env []struct{ Name string }
	_ = json.Unmarshal(side.get("environment"), &env)
	for _, e := range env {
		s.envOrder = append(s.envOrder, e.Name)
	}
	var vols []struct {
		Name string
		Host *struct{ SourcePath string }
	}
	_ = json.Unmarshal(td.get("volumes"), &vols)
	for _, v := range vols {
		if v.Host != nil {
			s.volumes = append(s.volumes, fmt.Sprintf("%q (host path %s)", v.Name, v.Host.SourcePath))
		} else {
			s.volumes = append(s.volumes, strconv.Quote(v.Name))
		}
	}
	var mounts []struct {
		SourceVolume, ContainerPath string
		ReadOnly                    bool
	}
	_ = json.Unmarshal(side.get("mountPoints"), &mounts)
	for _, m := range mounts {
		s.mounts = append(s.mounts, fmt.Sprintf("%q at %s (read-only %v)", m.SourceVolume, m.ContainerPath, m.ReadOnly))
	}
	return s
}

// rawOr returns a JSON value as written, or "(unset)".
func rawOr(raw json.RawMessage) string {
	if raw == nil {
		return "(unset)"
	}
	return string(raw)
}

// diff says what changed from s to t, one line per field.
func (s state) diff(t state) []string {
	var out []string
	if s.image != t.image {
		out = append(out, fmt.Sprintf("image: %s -> %s", s.image, t.image))
	}
	if s.essential != t.essential {
		out = append(out, fmt.Sprintf("essential: %s -> %s", s.essential, t.essential))
	}
	show := func(m map[string]string, k string) string {
		if v, ok := m[k]; ok {
			return strconv.Quote(v)
		}
		return "(unset)"
	}
	names := slices.Clone(t.envOrder)
	for _, k := range s.envOrder {
		if !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	for _, k := range names {
		if a, b := show(s.env, k), show(t.env, k); a != b {
			out = append(out, fmt.Sprintf("%s: %s -> %s", k, a, b))
		}
	}
	for _, v := range t.volumes {
		if !slices.Contains(s.volumes, v) {
			out = append(out, "volumes: added "+v)
		}
	}
	for _, m := range t.mounts {
		if !slices.Contains(s.mounts, m) {
			out = append(out, "mountPoints: added "+m)
		}
	}
	return out
}

// mountSocket mounts the directory of a DogStatsD Unix socket
// (DD_DOGSTATSD_URL=unix:///var/run/datadog/dsd.socket) from the host,
// read-only, as Datadog documents for an Agent on the host.
func mountSocket(td, side *object, what string, vars []Var) error {
	var sock string
	for _, v := range vars {
		if v.Name == "DD_DOGSTATSD_URL" {
			sock = v.Value
		}
	}
	u, err := url.Parse(sock)
	if sock == "" || err != nil || (u.Scheme != "unix" && u.Scheme != "unixgram") {
		return nil
	}
	var compat []string
	_ = json.Unmarshal(td.get("requiresCompatibilities"), &compat)
	if slices.Contains(compat, "FARGATE") {
		return fmt.Errorf("DD_DOGSTATSD_URL=%q: a Unix socket on the host cannot be mounted on Fargate (requiresCompatibilities has FARGATE); use the Agent container at localhost:8125", sock)
	}
	dir := path.Dir(u.Path)

	volumes, err := td.objects("volumes", "volumes")
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(volumes, func(o *object) bool { n, _ := o.str("name"); return n == SocketVolume }) {
		host := newObject()
		host.setValue("sourcePath", dir)
		raw, _ := marshal(host)
		v := newObject()
		v.setValue("name", SocketVolume)
		v.set("host", raw)
		volumes = append(volumes, v)
		raw, _ = marshal(volumes)
		td.set("volumes", raw)
	}

	mounts, err := side.objects("mountPoints", what+".mountPoints")
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(mounts, func(o *object) bool { p, _ := o.str("containerPath"); return p == dir }) {
		m := newObject()
		m.setValue("sourceVolume", SocketVolume)
		m.setValue("containerPath", dir)
		m.setValue("readOnly", true)
		mounts = append(mounts, m)
		raw, _ := marshal(mounts)
		side.set("mountPoints", raw)
	}
	return nil
}

// Duration writes d the way people write it in a task definition: "24h",
// "1h30m", "90s" becomes "1m30s"; 0 is "0".
func Duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
