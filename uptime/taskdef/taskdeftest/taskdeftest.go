// Package taskdeftest checks ECS task-definition JSON, in the form
// `aws ecs register-task-definition --cli-input-json` takes, against AWS's
// own model: the types, validators and JSON serializer of
// github.com/aws/aws-sdk-go-v2/service/ecs. It also checks the variables of
// every ecs-uptime container with the binary's own config code.
//
// It is for tests only (the shipped files in task-definitions/ and the
// output of `ecs-uptime inject`): it links the AWS SDK, which the binary
// does not.
package taskdeftest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"ecs-uptime/internal/jsonsubset"
	"ecs-uptime/uptime/config"
	"ecs-uptime/uptime/dogstatsd"
)

// Validate checks doc, a register-task-definition input, three ways:
//
//  1. decoded into ecs.RegisterTaskDefinitionInput with unknown fields
//     refused, at every depth (a misspelled field fails, a wrong type fails);
//  2. passed through the SDK's own request validation (required fields of
//     the API model) and JSON serializer, and compared with doc: a field the
//     SDK does not send back under the same name (a key in the wrong case,
//     which Go's JSON decoding would accept) fails;
//  3. every enumerated value (networkMode, logDriver, condition…) checked
//     against the values the model lists (the SDK's enum types are strings
//     and take anything);
//  4. the rules ECS applies on registration that the model cannot express:
//     every container has a name and an image, names are unique, one
//     container is essential, references (dependsOn, mountPoints,
//     volumesFrom) name what exists, a HEALTHY dependency names a
//     container with a healthCheck, healthCheck values within their
//     ranges, Fargate's cpu/memory/awsvpc and log stream prefix, EC2's
//     per-container memory.
//
// The error lists every problem found.
func Validate(doc []byte) error {
	var in ecs.RegisterTaskDefinitionInput
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("not in AWS's ECS model (RegisterTaskDefinitionInput): %w", err)
	}
	if dec.More() {
		return errors.New("data after the task definition")
	}
	sent, err := Serialize(&in)
	if err != nil {
		return err
	}
	var orig, back any
	if err := decodeNumbers(doc, &orig); err != nil {
		return err
	}
	if err := decodeNumbers(sent, &back); err != nil {
		return fmt.Errorf("decode the SDK's request body: %w", err)
	}
	var problems []string
	for _, d := range jsonsubset.Compare(orig, back, zero) {
		if d.Missing {
			problems = append(problems, fmt.Sprintf("%s: not a field of AWS's ECS model under that exact name (the SDK would not send it)", d.Path))
		} else {
			problems = append(problems, fmt.Sprintf("%s: %v, the SDK sends %v", d.Path, d.Want, d.Got))
		}
	}
	enums("", reflect.ValueOf(in), &problems)
	problems = append(problems, rules(&in)...)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// errCaptured stops the SDK once it has built the request.
var errCaptured = errors.New("request captured")

type capture struct{ body []byte }

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	c.body = b
	return nil, errCaptured
}

// Serialize runs in through the SDK's RegisterTaskDefinition operation up
// to the HTTP call, which it never makes, and returns the JSON body the SDK
// would send. The SDK's validation of required fields runs on the way.
func Serialize(in *ecs.RegisterTaskDefinitionInput) ([]byte, error) {
	c := &capture{}
	client := ecs.New(ecs.Options{
		Region:      "us-east-1",
		Credentials: aws.AnonymousCredentials{},
		HTTPClient:  c,
		Retryer:     aws.NopRetryer{},
	})
	_, err := client.RegisterTaskDefinition(context.Background(), in)
	if !errors.Is(err, errCaptured) {
		return nil, fmt.Errorf("AWS SDK refuses the task definition: %w", err)
	}
	return c.body, nil
}

func decodeNumbers(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// enums reports every value of an SDK enum type (a string type with a
// Values method) that is not one of its Values, at any depth of v. An empty
// value is an absent field.
func enums(at string, v reflect.Value, problems *[]string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			enums(at, v.Elem(), problems)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				enums(join(at, lowerFirst(f.Name)), v.Field(i), problems)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			enums(fmt.Sprintf("%s[%d]", at, i), v.Index(i), problems)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			enums(join(at, fmt.Sprint(k.Interface())), v.MapIndex(k), problems)
		}
	case reflect.String:
		m := v.MethodByName("Values")
		if v.String() == "" || !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 1 || m.Type().Out(0).Kind() != reflect.Slice {
			return
		}
		values := m.Call(nil)[0]
		var allowed []string
		for i := range values.Len() {
			if values.Index(i).String() == v.String() {
				return
			}
			allowed = append(allowed, values.Index(i).String())
		}
		*problems = append(*problems, fmt.Sprintf("%s: %q is not one of %s", at, v.String(), strings.Join(allowed, ", ")))
	}
}

func join(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// zero lets a null or a 0 under a lowerCamel key be absent from the SDK's
// request: null is absent, describe-task-definition output writes
// "cpu": 0 for containers, and the SDK leaves unboxed zero integers out of
// its request, as the API reads them the same.
func zero(key string, v any) bool {
	if v == nil {
		return true
	}
	n, ok := v.(json.Number)
	return ok && n.String() == "0" && key != "" && key[0] >= 'a' && key[0] <= 'z'
}

// rules are ECS's registration rules that the API model does not carry.
func rules(in *ecs.RegisterTaskDefinitionInput) []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	fargate := slices.Contains(in.RequiresCompatibilities, "FARGATE")
	volumes := map[string]bool{}
	for i, v := range in.Volumes {
		if v.Name == nil || *v.Name == "" {
			add("volumes[%d].name: missing", i)
			continue
		}
		volumes[*v.Name] = true
		if fargate && v.Host != nil && v.Host.SourcePath != nil {
			add("volumes[%d].host.sourcePath: Fargate has no host paths", i)
		}
	}
	names := map[string]bool{}
	essential := false
	var cpu, mem int64
	for i, c := range in.ContainerDefinitions {
		at := fmt.Sprintf("containerDefinitions[%d]", i)
		if c.Name == nil || *c.Name == "" {
			add("%s.name: missing", at)
		} else if names[*c.Name] {
			add("%s.name: %q twice", at, *c.Name)
		} else {
			names[*c.Name] = true
		}
		if c.Image == nil || *c.Image == "" {
			add("%s.image: missing", at)
		}
		if c.Essential == nil || *c.Essential {
			essential = true
		}
		cpu += int64(c.Cpu)
		switch {
		case c.Memory != nil:
			mem += int64(*c.Memory)
			if c.MemoryReservation != nil && *c.MemoryReservation > *c.Memory {
				add("%s.memoryReservation: %d is over memory %d", at, *c.MemoryReservation, *c.Memory)
			}
		case c.MemoryReservation != nil:
			mem += int64(*c.MemoryReservation)
		case in.Memory == nil:
			add("%s: no memory or memoryReservation, and no task-level memory", at)
		}
		if fargate && c.LogConfiguration != nil && c.LogConfiguration.LogDriver == "awslogs" && c.LogConfiguration.Options["awslogs-stream-prefix"] == "" {
			add("%s.logConfiguration.options: awslogs-stream-prefix is required on Fargate", at)
		}
		if c.LogConfiguration != nil && c.LogConfiguration.LogDriver == "" {
			add("%s.logConfiguration.logDriver: missing", at)
		}
		for j, m := range c.MountPoints {
			if m.SourceVolume == nil || !volumes[*m.SourceVolume] {
				add("%s.mountPoints[%d].sourceVolume: no such volume", at, j)
			}
			if m.ContainerPath == nil || *m.ContainerPath == "" {
				add("%s.mountPoints[%d].containerPath: missing", at, j)
			}
		}
		for j, e := range c.Environment {
			if e.Name == nil || *e.Name == "" {
				add("%s.environment[%d].name: missing", at, j)
			}
		}
	}
	checked := map[string]bool{} // containers with a healthCheck
	for i, c := range in.ContainerDefinitions {
		if c.Name != nil && c.HealthCheck != nil {
			checked[*c.Name] = true
		}
		if h := c.HealthCheck; h != nil {
			// The ranges the API reference gives for HealthCheck.
			for _, r := range []struct {
				field    string
				v        *int32
				min, max int32
			}{{"interval", h.Interval, 5, 300}, {"timeout", h.Timeout, 2, 60}, {"retries", h.Retries, 1, 10}, {"startPeriod", h.StartPeriod, 0, 300}} {
				if r.v != nil && (*r.v < r.min || *r.v > r.max) {
					add("containerDefinitions[%d].healthCheck.%s: %d, want %d to %d", i, r.field, *r.v, r.min, r.max)
				}
			}
		}
	}
	for i, c := range in.ContainerDefinitions {
		for j, d := range c.DependsOn {
			if d.ContainerName == nil || !names[*d.ContainerName] {
				add("containerDefinitions[%d].dependsOn[%d].containerName: no such container", i, j)
			} else if d.Condition == types.ContainerConditionHealthy && !checked[*d.ContainerName] {
				add("containerDefinitions[%d].dependsOn[%d]: HEALTHY needs a healthCheck on %q, which has none", i, j, *d.ContainerName)
			}
		}
		for j, v := range c.VolumesFrom {
			if v.SourceContainer == nil || !names[*v.SourceContainer] {
				add("containerDefinitions[%d].volumesFrom[%d].sourceContainer: no such container", i, j)
			}
		}
	}
	if !essential {
		add("containerDefinitions: no essential container")
	}
	taskCPU, cpuErr := taskSize(in.Cpu)
	taskMem, memErr := taskSize(in.Memory)
	if cpuErr != nil {
		add("cpu: %v", cpuErr)
	}
	if memErr != nil {
		add("memory: %v", memErr)
	}
	if taskCPU > 0 && cpu > taskCPU {
		add("containerDefinitions: cpu adds up to %d, over the task's %d", cpu, taskCPU)
	}
	if taskMem > 0 && mem > taskMem {
		add("containerDefinitions: memory adds up to %d MiB, over the task's %d", mem, taskMem)
	}
	if fargate {
		if in.Cpu == nil || in.Memory == nil {
			add("cpu, memory: Fargate needs both at task level")
		}
		if in.NetworkMode != "awsvpc" {
			add("networkMode: %q, Fargate needs awsvpc", in.NetworkMode)
		}
	}
	return p
}

// taskSize reads task-level cpu or memory, which the API takes as a
// string: units ("512") or a form such as "1 vCPU" / "2 GB", which reads
// as 0 (not summed).
func taskSize(s *string) (int64, error) {
	if s == nil {
		return 0, nil
	}
	n, err := strconv.ParseInt(*s, 10, 64)
	if err != nil {
		if strings.ContainsAny(*s, " ") {
			return 0, nil
		}
		return 0, fmt.Errorf("%q: want a number of CPU units or MiB", *s)
	}
	return n, nil
}

// ImageIsECSUptime reports whether image is an ecs-uptime image: its last
// path element, without tag or digest, is "ecs-uptime".
func ImageIsECSUptime(image string) bool {
	return dogstatsd.SplitImage(image).Short == "ecs-uptime"
}

// CheckECSUptime checks every ecs-uptime container of doc (by image, see
// ImageIsECSUptime) with the binary's own config code: an ECS_UPTIME_*
// variable the binary does not know, or a value config.Load refuses, is an
// error. A container with ECS_UPTIME_MAX_LIFETIME must be essential, or
// reaching it would stop nothing. It returns how many containers it checked.
func CheckECSUptime(doc []byte) (int, error) {
	var in ecs.RegisterTaskDefinitionInput
	if err := json.Unmarshal(doc, &in); err != nil {
		return 0, err
	}
	var problems []string
	n := 0
	for i, c := range in.ContainerDefinitions {
		if c.Image == nil || !ImageIsECSUptime(*c.Image) {
			continue
		}
		n++
		at := fmt.Sprintf("containerDefinitions[%d] (%s)", i, aws.ToString(c.Name))
		env := map[string]string{}
		for _, e := range c.Environment {
			env[aws.ToString(e.Name)] = aws.ToString(e.Value) // config.Load refuses unknown ECS_UPTIME_ names
		}
		for _, s := range c.Secrets { // values unknown here: only the names can be checked
			if name := aws.ToString(s.Name); config.Own(name) && !slices.Contains(config.Variables(), name) {
				problems = append(problems, fmt.Sprintf("%s: secret %s is not a variable ecs-uptime reads", at, name))
			}
		}
		if env["ECS_UPTIME_SOURCE"] != config.SourceDocker {
			env["ECS_CONTAINER_METADATA_URI_V4"] = "http://169.254.170.2/v4/example" // the ECS agent sets it
		}
		cfg, err := config.Load(env)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				problems = append(problems, fmt.Sprintf("%s: %s", at, line))
			}
			continue
		}
		if cfg.MaxLifetime > 0 && c.Essential != nil && !*c.Essential {
			problems = append(problems, fmt.Sprintf("%s: ECS_UPTIME_MAX_LIFETIME is set but essential is false: reaching it would stop nothing", at))
		}
	}
	if len(problems) > 0 {
		return n, errors.New(strings.Join(problems, "\n"))
	}
	return n, nil
}

// ModelFields returns the JSON names of the fields of AWS's
// RegisterTaskDefinitionInput and of its TaskDefinition (what
// describe-task-definition returns), as the SDK's types name them.
func ModelFields() (register, describe []string) {
	names := func(t reflect.Type) []string {
		var out []string
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				out = append(out, lowerFirst(f.Name))
			}
		}
		return out
	}
	return names(reflect.TypeFor[ecs.RegisterTaskDefinitionInput]()), names(reflect.TypeFor[types.TaskDefinition]())
}
