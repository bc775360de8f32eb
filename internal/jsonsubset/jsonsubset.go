// Package jsonsubset tells where one decoded JSON document is not contained
// in another: the fields a model dropped or changed when it read a
// document and wrote it back. The checks of task definitions (against
// AWS's model) and of monitors (against Datadog's) use it.
//
// It compares values decoded by encoding/json into any, numbers as
// json.Number (Decoder.UseNumber) or float64; it knows nothing of either
// model.
package jsonsubset

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
)

// Diff is one place where want is not in got.
type Diff struct {
	Path    string // "containerDefinitions[2].environment", "." for the top
	Missing bool   // got has no such key; otherwise the values differ
	Want    any
	Got     any
}

func (d Diff) String() string {
	if d.Missing {
		return d.Path + ": missing"
	}
	return fmt.Sprintf("%s: %v, got %v", d.Path, d.Want, d.Got)
}

// Compare returns every place, in key order, where want holds a value that
// got does not hold at the same path: a key got lacks (unless allow says
// that key and value may be absent), an array of another length, a
// different scalar. Keys only got has are not differences. Numbers are
// equal when their values are.
func Compare(want, got any, allow func(key string, v any) bool) []Diff {
	var diffs []Diff
	compare("", want, got, allow, &diffs)
	return diffs
}

func compare(at string, want, got any, allow func(string, any) bool, diffs *[]Diff) {
	switch w := want.(type) {
	case map[string]any:
		g, _ := got.(map[string]any)
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := join(at, k)
			gv, ok := g[k]
			if !ok {
				if allow == nil || !allow(k, w[k]) {
					*diffs = append(*diffs, Diff{Path: p, Missing: true, Want: w[k]})
				}
				continue
			}
			compare(p, w[k], gv, allow, diffs)
		}
	case []any:
		g, _ := got.([]any)
		if len(g) != len(w) {
			*diffs = append(*diffs, Diff{Path: orDot(at), Want: fmt.Sprintf("%d elements", len(w)), Got: fmt.Sprintf("%d elements", len(g))})
			return
		}
		for i := range w {
			compare(fmt.Sprintf("%s[%d]", at, i), w[i], g[i], allow, diffs)
		}
	default:
		if !equal(want, got) {
			*diffs = append(*diffs, Diff{Path: orDot(at), Want: want, Got: got})
		}
	}
}

// equal compares scalars, numbers by value.
func equal(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := strconv.ParseFloat(n.String(), 64)
		return f, err == nil
	}
	return 0, false
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func orDot(at string) string {
	if at == "" {
		return "."
	}
	return at
}
