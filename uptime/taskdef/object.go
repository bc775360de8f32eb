package taskdef

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// object is a JSON object that keeps its keys in order and its values as
// they were written, so that fields this package does not know (and AWS may
// add tomorrow) pass through untouched.
type object struct {
	keys []string
	vals map[string]json.RawMessage
}

func newObject() *object { return &object{vals: map[string]json.RawMessage{}} }

// parseObject decodes raw, which must be a JSON object; what names the
// value in error messages.
func parseObject(raw []byte, what string) (*object, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("%s: %w", what, errEmpty)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s: want a JSON object, got %s", what, kind(raw))
	}
	o := newObject()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		key := tok.(string) // inside an object, the decoder only yields string keys here
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", what, key, err)
		}
		if _, dup := o.vals[key]; dup {
			return nil, fmt.Errorf("%s: key %q appears twice", what, key)
		}
		o.set(key, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if rest := bytes.TrimSpace(raw[dec.InputOffset():]); len(rest) > 0 {
		return nil, fmt.Errorf("%s: data after the end of the object: %s", what, excerpt(rest))
	}
	return o, nil
}

// kind names the JSON type of raw for error messages.
func kind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func (o *object) has(key string) bool { _, ok := o.vals[key]; return ok }

func (o *object) get(key string) json.RawMessage { return o.vals[key] }

// set replaces key's value in place, or appends key.
func (o *object) set(key string, v json.RawMessage) {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
}

// setValue sets key to v encoded as JSON.
func (o *object) setValue(key string, v any) {
	raw, err := marshal(v)
	if err != nil {
		panic(fmt.Sprintf("taskdef: encode %s: %v", key, err)) // only called with plain values
	}
	o.set(key, raw)
}

func (o *object) del(key string) {
	if _, ok := o.vals[key]; !ok {
		return
	}
	delete(o.vals, key)
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			break
		}
	}
}

// str returns key's value when it is a JSON string.
func (o *object) str(key string) (string, bool) {
	var s string
	if raw, ok := o.vals[key]; !ok || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// MarshalJSON writes the keys in order and the values as they are.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(o.vals[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal encodes v without HTML escaping: task definitions carry shell
// commands with '<', '>' and '&' that must stay readable.
func marshal(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// parseArray decodes raw, which must be a JSON array.
func parseArray(raw []byte, what string) ([]json.RawMessage, error) {
	var arr []json.RawMessage
	if k := kind(raw); k != "an array" {
		return nil, fmt.Errorf("%s: want a JSON array, got %s", what, k)
	}
	if err := json.Unmarshal(raw, &arr); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return arr, nil
}

// objects returns key's value, an array of objects, or none when key is
// absent or null; what names the array in errors.
func (o *object) objects(key, what string) ([]*object, error) {
	raw := o.get(key)
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	arr, err := parseArray(raw, what)
	if err != nil {
		return nil, err
	}
	out := make([]*object, len(arr))
	for i, e := range arr {
		if out[i], err = parseObject(e, fmt.Sprintf("%s[%d]", what, i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var (
	errNotTaskDefinition = errors.New("not a task definition")
	errEmpty             = errors.New("empty input")
)

// excerpt quotes the start of b for an error message.
func excerpt(b []byte) string {
	const n = 20
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}
