package jsonsubset

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCompare(t *testing.T) {
	zeroOK := func(_ string, v any) bool { return v == json.Number("0") }
	tests := []struct {
		name      string
		want, got string
		allow     func(string, any) bool
		diffs     []string
	}{
		{"equal", `{"a":1,"b":[{"c":"x"}]}`, `{"b":[{"c":"x"}],"a":1}`, nil, nil},
		{"extra keys in got are fine", `{"a":1}`, `{"a":1,"z":2}`, nil, nil},
		{"numbers by value", `{"a":1.50,"b":1e3}`, `{"a":1.5,"b":1000}`, nil, nil},
		{"missing nested key", `{"a":{"b":{"cc":1}}}`, `{"a":{"b":{"c":1}}}`, nil, []string{"a.b.cc: missing"}},
		{"missing key in an array element", `{"l":[{"x":1},{"y":2}]}`, `{"l":[{"x":1},{}]}`, nil, []string{"l[1].y: missing"}},
		{"allowed absence", `{"cpu":0,"mem":0.0}`, `{}`, zeroOK, []string{"mem: missing"}},
		{"different value", `{"a":"x"}`, `{"a":"y"}`, nil, []string{"a: x, got y"}},
		{"number against string", `{"a":1}`, `{"a":"1"}`, nil, []string{"a: 1, got 1"}},
		{"array length", `{"a":[1,2]}`, `{"a":[1]}`, nil, []string{"a: 2 elements, got 1 elements"}},
		{"top-level scalar", `1`, `2`, nil, []string{".: 1, got 2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, d := range Compare(decode(t, tc.want), decode(t, tc.got), tc.allow) {
				got = append(got, d.String())
			}
			if !slices.Equal(got, tc.diffs) {
				t.Errorf("diffs %q, want %q", got, tc.diffs)
			}
		})
	}
}
