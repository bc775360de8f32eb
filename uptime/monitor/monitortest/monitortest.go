// Package monitortest checks monitor and dashboard JSON against Datadog's
// own API models, the datadogV1 package of
// github.com/DataDog/datadog-api-client-go/v2: what the models do not know
// lands in their UnparsedObject (a value of the wrong type or enum, a oneOf
// that matches no variant) or AdditionalProperties (an unknown field), at
// any depth, and either fails the check.
//
// It is for tests only: it links the Datadog API client, which the binary
// does not.
package monitortest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"

	"ecs-uptime/internal/jsonsubset"
)

// Monitor decodes b into datadogV1.Monitor and checks it.
func Monitor(b []byte) (datadogV1.Monitor, error) {
	var m datadogV1.Monitor
	return m, check(b, &m)
}

// Dashboard decodes b into datadogV1.Dashboard and checks it.
func Dashboard(b []byte) (datadogV1.Dashboard, error) {
	var d datadogV1.Dashboard
	return d, check(b, &d)
}

// check decodes b into v, then fails on anything the model left unparsed
// and on any field of b that the model does not write back.
func check(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode into %T: %w", v, err)
	}
	var problems []string
	unparsed("", reflect.ValueOf(v), &problems)
	back, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	var orig, again any
	if err := decode(b, &orig); err != nil {
		return err
	}
	if err := decode(back, &again); err != nil {
		return err
	}
	for _, d := range jsonsubset.Compare(orig, again, nil) {
		if d.Missing {
			problems = append(problems, d.Path+": dropped by Datadog's model")
		} else {
			problems = append(problems, fmt.Sprintf("%s: %v, the model writes %v", d.Path, d.Want, d.Got))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%T:\n%s", v, strings.Join(problems, "\n"))
	}
	return nil
}

func decode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// unparsed walks v and reports every non-empty UnparsedObject or
// AdditionalProperties field.
func unparsed(at string, v reflect.Value, problems *[]string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			unparsed(at, v.Elem(), problems)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f, fv := t.Field(i), v.Field(i)
			switch f.Name {
			case "UnparsedObject":
				if !fv.IsZero() && !(fv.Kind() == reflect.Map && fv.Len() == 0) {
					*problems = append(*problems, fmt.Sprintf("%s: not in Datadog's model (UnparsedObject of %s)", orDot(at), t.Name()))
				}
			case "AdditionalProperties":
				if fv.Len() > 0 {
					keys := make([]string, 0, fv.Len())
					for _, k := range fv.MapKeys() {
						keys = append(keys, k.String())
					}
					slices.Sort(keys)
					*problems = append(*problems, fmt.Sprintf("%s: fields not in Datadog's model (%s): %s", orDot(at), t.Name(), strings.Join(keys, ", ")))
				}
			default:
				unparsed(join(at, jsonName(f)), fv, problems)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			unparsed(fmt.Sprintf("%s[%d]", at, i), v.Index(i), problems)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			unparsed(join(at, fmt.Sprint(k)), v.MapIndex(k), problems)
		}
	}
}

func jsonName(f reflect.StructField) string {
	if n, _, _ := strings.Cut(f.Tag.Get("json"), ","); n != "" && n != "-" {
		return n
	}
	return f.Name
}

func join(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}

func orDot(at string) string {
	if at == "" {
		return "."
	}
	return at
}
