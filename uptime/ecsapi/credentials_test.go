package ecsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime/ecsapi"
)

// With no credentials anywhere, a scan fails with one line that says so,
// where the SDK looked and what to set, instead of the SDK's chain that
// ends at the instance profile ("no EC2 IMDS role found … StatusCode:
// 403"); and the SDK's own log lines ("falling back to IMDSv1") go through
// the program's logger, so that a JSON log stays JSON.
func TestNoCredentials(t *testing.T) {
	for _, tc := range []struct {
		name  string
		imds  bool // an instance metadata service answers (no role), else it is disabled
		cause string
	}{
		{"instance metadata without a role", true, "the instance metadata service answered HTTP 404: no role"},
		{"instance metadata disabled", false, "access disabled to EC2 IMDS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := startFake(t, "eu-west-1")
			addRunning(fake, "eu-west-1", "prod", 1)
			// The fake's environment, less its keys: nothing configured.
			t.Setenv("AWS_ACCESS_KEY_ID", "")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "")
			if tc.imds {
				imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodPut { // IMDSv2 token: refused, as a hop limit of 1 does in a container
						http.Error(w, "forbidden", http.StatusForbidden)
						return
					}
					http.NotFound(w, r) // no role attached
				}))
				t.Cleanup(imds.Close)
				t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
				t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
			}
			var logs bytes.Buffer
			src := newSource(t, ecsapi.Options{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := src.Tasks(ctx)
			var nc *ecsapi.NoCredentialsError
			if !errors.As(err, &nc) {
				t.Fatalf("Tasks: %v; want a *NoCredentialsError", err)
			}
			msg := err.Error()
			for _, want := range []string{"no AWS credentials found", "the environment (AWS_ACCESS_KEY_ID", "AWS_PROFILE",
				"the ECS task role", "the EC2 instance profile (" + tc.cause, "give the task a task role (taskRoleArn)"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "failed to refresh cached credentials") || strings.Contains(msg, "operation error") {
				t.Errorf("error %q: want one line of ours, not the SDK's chain", msg)
			}
			if fake.Calls("") != 0 {
				t.Errorf("%d calls reached ECS without credentials", fake.Calls(""))
			}
			if !tc.imds {
				return
			}
			var sawSDK bool
			for _, line := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
				var l struct{ Level, Msg, From string }
				if err := json.Unmarshal(line, &l); err != nil {
					t.Errorf("log line %q is not JSON: %v", line, err)
				}
				if l.From == "aws-sdk" && l.Level == "WARN" && strings.HasPrefix(l.Msg, "falling back to IMDSv1") {
					sawSDK = true
				}
			}
			if !sawSDK {
				t.Errorf("the SDK's IMDSv1 warning is not in the program's log:\n%s", logs.String())
			}
		})
	}
}
