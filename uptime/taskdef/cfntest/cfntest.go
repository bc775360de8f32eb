// Package cfntest evaluates the repository's CloudFormation templates
// (task-definitions/*.cfn.yaml) for tests, without AWS: it resolves a
// template for one set of parameter values as CloudFormation would
// (parameters, pseudo parameters, conditions, Ref, Fn::GetAtt, Fn::Sub,
// Fn::If, AWS::NoValue…), checks every resource against the resource
// specification that github.com/awslabs/goformation generates from AWS's own
// (resource types, property names, nesting, types, required properties),
// and parses the result into goformation's typed resources for the tests to
// read.
//
// It is for tests only: nothing in the binary imports it, so goformation
// stays out of the binary (go list -deps ./cmd/ecs-uptime shows it).
package cfntest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
	"github.com/awslabs/goformation/v7/schema"
)

// Pseudo parameter values a resolved template gets. Account is none of
// AWS's documented example accounts, so that a test can tell a resolved
// ${AWS::AccountId} from an example account left in a file.
const (
	Account   = "444455556666"
	Region    = "eu-west-1"
	Partition = "aws"
	StackName = "ecs-uptime-test"
)

// Stack is a template resolved for one set of parameter values.
type Stack struct {
	// Template is the resolved template, typed by goformation:
	// Template.GetECSTaskDefinitionWithName("TaskDefinition") and the like.
	Template *cloudformation.Template
	// Resources are the resolved resources as plain JSON values: Type,
	// Properties and the rest.
	Resources map[string]map[string]any
	// Outputs are the resolved output values.
	Outputs map[string]any
	// Raw is the template as written, with its short-form intrinsic
	// functions (!Sub, !Ref) in long form ({"Fn::Sub": …}), unresolved.
	Raw map[string]any
}

// Ref is what a Ref to the resource id resolves to in a Stack: a
// placeholder that names it, since only AWS knows the real value.
func Ref(id string) string { return "{Ref " + id + "}" }

// GetAtt is what Fn::GetAtt id.attr resolves to in a Stack.
func GetAtt(id, attr string) string { return "{GetAtt " + id + "." + attr + "}" }

// noValue marks AWS::NoValue until the property holding it is dropped.
const noValue = "\x00AWS::NoValue"

// Load reads the template at path and resolves it with params, which
// override the parameters' defaults (a list parameter takes a
// comma-separated string). A parameter without a default that params does
// not set is an error, as in CloudFormation, and so is a value that the
// parameter's AllowedValues or AllowedPattern refuses.
func Load(path string, params map[string]string) (*Stack, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rawJSON, err := intrinsics.ProcessYAML(doc, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var raw map[string]any
	if err := json.Unmarshal(rawJSON, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	values, err := parameterValues(raw, params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// goformation's condition evaluation replaces any object that has a
	// "Condition" string with the condition's value: a resource's own
	// Condition is set aside while intrinsics are resolved.
	hidden, err := hideConditions(rawJSON)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := &resolver{raw: raw, params: values}
	resolved, err := intrinsics.ProcessJSON(hidden, &intrinsics.ProcessorOptions{
		EvaluateConditions: true,
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        r.ref,
			"Fn::GetAtt": r.getAtt,
			"Fn::Sub":    r.sub,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(r.errs) > 0 {
		return nil, fmt.Errorf("%s: %w", path, errors.Join(r.errs...))
	}
	var tpl map[string]any
	if err := json.Unmarshal(resolved, &tpl); err != nil {
		return nil, err
	}
	tpl = dropNoValue(tpl).(map[string]any)
	st := &Stack{Raw: raw, Resources: map[string]map[string]any{}}
	resources, _ := tpl["Resources"].(map[string]any)
	if len(resources) == 0 {
		return nil, fmt.Errorf("%s: no resources", path)
	}
	var errs []error
	for id, v := range resources {
		res, _ := v.(map[string]any)
		if cond, ok := res[resourceCondition].(string); ok {
			delete(res, resourceCondition)
			if conds, _ := tpl["Conditions"].(map[string]any); conds[cond] != true {
				delete(resources, id)
				continue
			}
			res["Condition"] = cond
		}
		st.Resources[id] = res
		errs = append(errs, checkResource(id, res)...)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	st.Outputs = map[string]any{}
	outputs, _ := tpl["Outputs"].(map[string]any)
	for name, o := range outputs {
		out, _ := o.(map[string]any)
		if cond, ok := out[resourceCondition].(string); ok {
			delete(out, resourceCondition)
			if conds, _ := tpl["Conditions"].(map[string]any); conds[cond] != true {
				delete(outputs, name)
				continue
			}
			out["Condition"] = cond
		}
		st.Outputs[name] = out["Value"]
	}
	delete(tpl, "Parameters") // resolved already
	typed, err := json.Marshal(tpl)
	if err != nil {
		return nil, err
	}
	if st.Template, err = goformation.ParseJSONWithOptions(typed, &intrinsics.ProcessorOptions{NoProcess: true}); err != nil {
		return nil, fmt.Errorf("%s: goformation: %w", path, err)
	}
	return st, nil
}

// resourceCondition holds a resource's or an output's Condition while
// the intrinsic functions are resolved.
const resourceCondition = "\x00Condition"

// hideConditions moves each resource's and output's Condition aside.
func hideConditions(doc []byte) ([]byte, error) {
	var tpl map[string]any
	if err := json.Unmarshal(doc, &tpl); err != nil {
		return nil, err
	}
	for _, section := range []string{"Resources", "Outputs"} {
		entries, _ := tpl[section].(map[string]any)
		for _, e := range entries {
			if m, ok := e.(map[string]any); ok {
				if c, ok := m["Condition"]; ok {
					delete(m, "Condition")
					m[resourceCondition] = c
				}
			}
		}
	}
	return json.Marshal(tpl)
}

// parameterValues returns each parameter's value: params, else its
// default, checked against its constraints.
func parameterValues(raw map[string]any, params map[string]string) (map[string]param, error) {
	declared, _ := raw["Parameters"].(map[string]any)
	for name := range params {
		if _, ok := declared[name]; !ok {
			return nil, fmt.Errorf("parameter %s: the template has no such parameter", name)
		}
	}
	out := map[string]param{}
	var errs []error
	for name, d := range declared {
		decl, _ := d.(map[string]any)
		typ, _ := decl["Type"].(string)
		v, set := params[name]
		if !set {
			def, ok := decl["Default"]
			if !ok {
				errs = append(errs, fmt.Errorf("parameter %s: no value and no default", name))
				continue
			}
			v = scalar(def)
		}
		if allowed, ok := decl["AllowedValues"].([]any); ok && !slices.ContainsFunc(allowed, func(a any) bool { return scalar(a) == v }) {
			errs = append(errs, fmt.Errorf("parameter %s=%q: not one of its AllowedValues %v", name, v, allowed))
		}
		if pat, ok := decl["AllowedPattern"].(string); ok {
			re, err := regexp.Compile(pat)
			if err != nil {
				errs = append(errs, fmt.Errorf("parameter %s: AllowedPattern %q: %w", name, pat, err))
			} else if !re.MatchString(v) {
				errs = append(errs, fmt.Errorf("parameter %s=%q: does not match its AllowedPattern %q", name, v, pat))
			}
		}
		if n, ok := decl["MinLength"].(float64); ok && len(v) < int(n) {
			errs = append(errs, fmt.Errorf("parameter %s=%q: shorter than its MinLength %v", name, v, n))
		}
		out[name] = param{typ: typ, value: v}
	}
	return out, errors.Join(errs...)
}

// param is a parameter's type and value.
type param struct{ typ, value string }

// resolved is the value a Ref to the parameter gives: a list for list
// types, a number for Number, else the string.
func (p param) resolved() any {
	switch {
	case strings.HasPrefix(p.typ, "List<") || p.typ == "CommaDelimitedList":
		var l []any
		for _, s := range strings.Split(p.value, ",") {
			l = append(l, strings.TrimSpace(s))
		}
		return l
	case p.typ == "Number":
		if f, err := strconv.ParseFloat(p.value, 64); err == nil {
			return f
		}
	}
	return p.value
}

// scalar writes a parameter default or allowed value as CloudFormation
// takes it, a string.
func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

// resolver resolves Ref, Fn::GetAtt and Fn::Sub against one template.
type resolver struct {
	raw    map[string]any
	params map[string]param
	errs   []error
}

func (r *resolver) resources() map[string]any {
	res, _ := r.raw["Resources"].(map[string]any)
	return res
}

func (r *resolver) ref(_ string, input any, _ any) any {
	name, ok := input.(string)
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("Ref %v: want a name", input))
		return nil
	}
	switch name {
	case "AWS::AccountId":
		return Account
	case "AWS::Region":
		return Region
	case "AWS::Partition":
		return Partition
	case "AWS::StackName":
		return StackName
	case "AWS::StackId":
		return "arn:aws:cloudformation:" + Region + ":" + Account + ":stack/" + StackName + "/0"
	case "AWS::URLSuffix":
		return "amazonaws.com"
	case "AWS::NoValue":
		return noValue
	}
	if p, ok := r.params[name]; ok {
		return p.resolved()
	}
	if _, ok := r.resources()[name]; ok {
		return Ref(name)
	}
	r.errs = append(r.errs, fmt.Errorf("Ref %s: no such parameter or resource", name))
	return nil
}

func (r *resolver) getAtt(_ string, input any, _ any) any {
	var id, attr string
	switch in := input.(type) {
	case []any:
		if len(in) == 2 {
			id, _ = in[0].(string)
			attr, _ = in[1].(string)
		}
	case string:
		id, attr, _ = strings.Cut(in, ".")
	}
	if _, ok := r.resources()[id]; !ok || attr == "" {
		r.errs = append(r.errs, fmt.Errorf("Fn::GetAtt %v: no such resource", input))
		return nil
	}
	return GetAtt(id, attr)
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (r *resolver) sub(_ string, input any, _ any) any {
	var src string
	vars := map[string]any{}
	switch in := input.(type) {
	case string:
		src = in
	case []any:
		if len(in) == 2 {
			src, _ = in[0].(string)
			vars, _ = in[1].(map[string]any)
		}
	}
	var bad []string
	out := subVar.ReplaceAllStringFunc(src, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}" // ${!Literal}
		}
		var v any
		if val, ok := vars[name]; ok {
			v = val
		} else if id, attr, dotted := strings.Cut(name, "."); dotted {
			v = r.getAtt("", []any{id, attr}, nil)
		} else {
			v = r.ref("", name, nil)
		}
		s, ok := v.(string)
		if !ok || s == noValue {
			bad = append(bad, m)
			return ""
		}
		return s
	})
	if len(bad) > 0 {
		r.errs = append(r.errs, fmt.Errorf("Fn::Sub %q: %v do not resolve to strings", src, bad))
	}
	return out
}

// dropNoValue removes the properties and list items that resolved to
// AWS::NoValue.
func dropNoValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == noValue {
				delete(v, k)
				continue
			}
			v[k] = dropNoValue(e)
		}
	case []any:
		out := v[:0]
		for _, e := range v {
			if e != noValue {
				out = append(out, dropNoValue(e))
			}
		}
		return out
	}
	return v
}

// spec is goformation's JSON schema of every resource type, generated from
// AWS's CloudFormation resource specification.
var spec = func() map[string]any {
	var s map[string]any
	if err := json.Unmarshal([]byte(schema.CloudformationSchema), &s); err != nil {
		panic(err)
	}
	defs, _ := s["definitions"].(map[string]any)
	return defs
}()

// checkResource checks a resolved resource against the specification.
func checkResource(id string, res map[string]any) []error {
	typ, _ := res["Type"].(string)
	def, ok := spec[typ].(map[string]any)
	if !ok {
		return []error{fmt.Errorf("resource %s: type %q is not in the CloudFormation specification", id, typ)}
	}
	var errs []error
	check(def, res, "resource "+id, &errs)
	return errs
}

// check validates v against the schema s (the subset of JSON Schema that
// goformation's specification uses), adding an error per problem.
func check(s map[string]any, v any, path string, errs *[]error) {
	if ref, ok := s["$ref"].(string); ok {
		def, ok := spec[strings.TrimPrefix(ref, "#/definitions/")].(map[string]any)
		if !ok {
			*errs = append(*errs, fmt.Errorf("%s: the specification has no %s", path, ref))
			return
		}
		s = def
	}
	if alts, ok := s["anyOf"].([]any); ok {
		for _, alt := range alts {
			var e []error
			check(alt.(map[string]any), v, path, &e)
			if len(e) == 0 {
				return
			}
		}
		*errs = append(*errs, fmt.Errorf("%s: %v matches none of its forms", path, v))
		return
	}
	typ, _ := s["type"].(string)
	props, hasProps := s["properties"].(map[string]any)
	switch typ {
	case "object", "":
		obj, ok := v.(map[string]any)
		if !ok {
			// A Json-typed property (an object of no fixed shape, such as
			// an IAM policy) may be given as a string holding a JSON
			// object, as CloudFormation documents: PolicyDocument: !Sub |.
			if str, isStr := v.(string); isStr && typ == "object" && !hasProps && json.Valid([]byte(str)) && strings.HasPrefix(strings.TrimSpace(str), "{") {
				return
			}
			if typ == "object" {
				*errs = append(*errs, fmt.Errorf("%s: %T, want an object", path, v))
			}
			return
		}
		if req, ok := s["required"].([]any); ok {
			for _, k := range req {
				if _, set := obj[k.(string)]; !set {
					*errs = append(*errs, fmt.Errorf("%s: required property %s is missing", path, k))
				}
			}
		}
		if !hasProps {
			return
		}
		closed := s["additionalProperties"] == false
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ps, known := props[k].(map[string]any)
			if !known {
				if closed {
					*errs = append(*errs, fmt.Errorf("%s: unknown property %s", path, k))
				}
				continue
			}
			check(ps, obj[k], path+"."+k, errs)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			*errs = append(*errs, fmt.Errorf("%s: %T, want a list", path, v))
			return
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range arr {
				check(items, e, fmt.Sprintf("%s[%d]", path, i), errs)
			}
		}
	case "string":
		switch v.(type) {
		case string, float64, bool: // CloudFormation turns scalars into strings
		default:
			*errs = append(*errs, fmt.Errorf("%s: %T, want a string", path, v))
		}
	case "number", "integer":
		switch v := v.(type) {
		case float64:
		case string:
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				*errs = append(*errs, fmt.Errorf("%s: %q, want a number", path, v))
			}
		default:
			*errs = append(*errs, fmt.Errorf("%s: %T, want a number", path, v))
		}
	case "boolean":
		switch v := v.(type) {
		case bool:
		case string:
			if v != "true" && v != "false" {
				*errs = append(*errs, fmt.Errorf("%s: %q, want true or false", path, v))
			}
		default:
			*errs = append(*errs, fmt.Errorf("%s: %T, want true or false", path, v))
		}
	}
}
