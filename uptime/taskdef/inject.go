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
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"ecs-uptime/uptime/config"
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

// Sidecar says what the ecs-uptime container must look like.
type Sidecar struct {
	// Name is the container name; DefaultName when empty. A container of
	// that name is updated in place; otherwise one is appended.
	Name string
	// Image is required when the container is added; when empty, an
	// existing container keeps its image.
	Image string
	// Essential: true makes ECS stop the task when the sidecar exits (for
	// ECS_UPTIME_MAX_LIFETIME).
	Essential bool
	// Env holds the variables inject manages, set in place or appended in
	// this order; a Var with an empty Value is removed. Other variables of
	// an existing container are kept.
	Env []Var
}

// Var is one environment variable.
type Var struct{ Name, Value string }

// Result is what Inject did.
type Result struct {
	JSON     []byte   // register-ready task definition, indented, ending in a newline
	Added    bool     // the container was added (false: updated in place)
	Warnings []string // what registration or the task would trip on; the JSON is written anyway
}

// Inject returns doc, a task definition in describe or register form, in
// register form with the sidecar added or updated. Running it on its own
// output with the same Sidecar returns the same bytes.
func Inject(doc []byte, s Sidecar) (Result, error) {
	if s.Name == "" {
		s.Name = DefaultName
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
	if res.Added {
		idx = len(containers)
		if s.Image == "" {
			return Result{}, fmt.Errorf("no container named %q to update: an image is needed to add it", s.Name)
		}
		side = newSidecar(s.Name, containers)
		containers = append(containers, side)
	} else {
		side = containers[idx]
	}
	if s.Image != "" {
		side.setValue("image", s.Image)
	}
	side.setValue("essential", s.Essential)
	if err := setEnv(side, s.Env, fmt.Sprintf("containerDefinitions[%d]", idx)); err != nil {
		return Result{}, err
	}
	if err := checkEnv(side, s.Name); err != nil {
		return Result{}, err
	}
	if err := mountSocket(td, side, fmt.Sprintf("containerDefinitions[%d]", idx), s.Env); err != nil {
		return Result{}, err
	}
	res.Warnings = sizeWarnings(td, containers)
	if ml := environment(side)["ECS_UPTIME_MAX_LIFETIME"]; ml != "" && ml != "0" && !s.Essential {
		res.Warnings = append(res.Warnings, fmt.Sprintf("ECS_UPTIME_MAX_LIFETIME=%s with essential false: the sidecar will exit alone and the task runs on", ml))
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
// start (exit 2), with the binary's own config code.
func checkEnv(c *object, name string) error {
	env := environment(c)
	if _, set := env["ECS_CONTAINER_METADATA_URI_V4"]; !set {
		env["ECS_CONTAINER_METADATA_URI_V4"] = "http://169.254.170.2/v4/example" // the ECS agent sets it
	}
	if _, err := config.Load(env); err != nil {
		return fmt.Errorf("container %q would not start: %s", name, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
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
