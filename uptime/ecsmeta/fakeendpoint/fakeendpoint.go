// Package fakeendpoint serves a task metadata v4 document over HTTP with its
// timestamps moved so that a chosen container started a chosen time ago, as
// if a real task had been running that long. The demo serves its embedded
// task through it and tests serve the AWS examples through it.
//
// It is not the ECS agent's server: the integration tests use that one
// (github.com/aws/amazon-ecs-agent/ecs-agent/tmds) for real routes, errors
// and throttling.
package fakeendpoint

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Shift returns doc with every timestamp field (a key ending in "At", as
// StartedAt, CreatedAt, FinishedAt, PullStartedAt) moved by delta, written
// as the agent writes them (RFC 3339, nanoseconds, UTC "Z").
func Shift(doc []byte, delta time.Duration) ([]byte, error) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, fmt.Errorf("task metadata document: %w", err)
	}
	shift(v, delta)
	return json.MarshalIndent(v, "", "  ")
}

func shift(v any, delta time.Duration) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && strings.HasSuffix(k, "At") {
				if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
					x[k] = t.Add(delta).UTC().Format(time.RFC3339Nano)
				}
				continue
			}
			shift(val, delta)
		}
	case []any:
		for _, e := range x {
			shift(e, delta)
		}
	}
}

// StartOf returns the StartedAt of the container named name in doc.
func StartOf(doc []byte, name string) (time.Time, error) {
	var task struct {
		Containers []struct {
			Name      string
			StartedAt time.Time
		}
	}
	if err := json.Unmarshal(doc, &task); err != nil {
		return time.Time{}, fmt.Errorf("task metadata document: %w", err)
	}
	for _, c := range task.Containers {
		if c.Name == name {
			return c.StartedAt, nil
		}
	}
	return time.Time{}, fmt.Errorf("task metadata document has no container %q", name)
}

// Task serves doc at any path ending in /task, its times moved once so
// that the named container started age before NewTask was called: from
// then on the task ages as a real one does. Other paths get 404, as on the
// real endpoint.
type Task struct {
	body  []byte
	Extra http.Handler // serves other paths when set
}

// NewTask prepares doc to be served; see Task.
func NewTask(doc []byte, name string, age time.Duration, now time.Time) (*Task, error) {
	ref, err := StartOf(doc, name)
	if err != nil {
		return nil, err
	}
	body, err := Shift(doc, now.Add(-age).Sub(ref))
	if err != nil {
		return nil, err
	}
	return &Task{body: body}, nil
}

// Body returns the document as it is served.
func (t *Task) Body() []byte { return t.body }

func (t *Task) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/task") {
		if t.Extra != nil {
			t.Extra.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(t.body)
}
