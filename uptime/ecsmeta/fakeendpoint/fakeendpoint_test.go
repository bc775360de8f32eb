package fakeendpoint

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const doc = `{"TaskARN":"arn:aws:ecs:us-west-2:111122223333:task/default/x","PullStartedAt":"2020-10-02T00:43:06.202617438Z",
"Containers":[{"Name":"init","StartedAt":"2020-10-02T00:43:06.076707576Z","FinishedAt":"2020-10-02T00:43:07Z"},
{"Name":"app","StartedAt":"2020-10-02T00:43:06.767535449Z","Labels":{"NotATimeAt":"keep me"}}]}`

func TestNewTaskMovesEveryTimestampTogether(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	task, err := NewTask([]byte(doc), "app", 26*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	app, _ := StartOf(task.Body(), "app")
	init, _ := StartOf(task.Body(), "init")
	if want := now.Add(-26 * time.Hour); !app.Equal(want) {
		t.Errorf("app started %v, want %v", app, want)
	}
	// Relative times are kept to the nanosecond: init started 690827873 ns before app.
	if d := app.Sub(init); d != 690827873*time.Nanosecond {
		t.Errorf("init started %v before app, want 690.827873ms", d)
	}
	body := string(task.Body())
	if !strings.Contains(body, `"keep me"`) || !strings.Contains(body, "Z\"") {
		t.Errorf("document changed beyond its times, or lost the Z suffix:\n%s", body)
	}
}

func TestServesOnlyTask(t *testing.T) {
	task, err := NewTask([]byte(doc), "app", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(task)
	defer srv.Close()
	for path, want := range map[string]int{"/v4/abc/task": 200, "/v4/abc": 404, "/v4/abc/task/stats": 404} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
		if want == 200 && string(body) != string(task.Body()) {
			t.Errorf("GET %s served another document", path)
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := NewTask([]byte(doc), "nope", time.Hour, time.Now()); err == nil {
		t.Error("NewTask with an unknown container name succeeded")
	}
	if _, err := Shift([]byte("{not json"), time.Hour); err == nil {
		t.Error("Shift of garbage succeeded")
	}
}
