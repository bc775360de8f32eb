package ecsfake_test

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime/ecsapi/ecsfake"
)

// key is a set of credentials to sign with.
type key struct{ id, secret, token string }

var management = key{id: ecsfake.AccessKeyID}

// send sends one request of service signed with k and returns the status
// and the body.
func send(t *testing.T, f *ecsfake.Server, k key, service, region, path, contentType, target, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if k.token != "" {
		req.Header.Set("X-Amz-Security-Token", k.token)
	}
	req.Header.Set("X-Amz-Date", "20260301T120000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+k.id+"/20260301/"+region+"/"+service+"/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func ecsCall(t *testing.T, f *ecsfake.Server, k key, region, op, body string) (int, map[string]any) {
	t.Helper()
	status, raw := send(t, f, k, "ecs", region, "/", "application/x-amz-json-1.1", ecsfake.Target+op, body)
	var out map[string]any
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("%s answered %s: %v", op, raw, err)
	}
	return status, out
}

// assume asks for a session of the member's role ecs-uptime.
func assume(t *testing.T, f *ecsfake.Server, account string, extra url.Values) (int, key, string) {
	t.Helper()
	form := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {"arn:aws:iam::" + account + ":role/ecs-uptime"}, "RoleSessionName": {"ecs-uptime"}}
	for k, v := range extra {
		form[k] = v
	}
	status, raw := send(t, f, management, "sts", "eu-west-1", "/", "application/x-www-form-urlencoded; charset=utf-8", "", form.Encode())
	var out struct {
		Result struct {
			Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
		} `xml:"AssumeRoleResult"`
		Error struct{ Code string }
	}
	if err := xml.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("AssumeRole answered %s: %v", raw, err)
	}
	c := out.Result.Credentials
	return status, key{c.AccessKeyId, c.SecretAccessKey, c.SessionToken}, out.Error.Code
}

// Each account has its own clusters: the same name in two accounts is two
// clusters, and a session acts in its own account only.
func TestAccountsAreSeparate(t *testing.T) {
	const member = "111111111111"
	f := ecsfake.Start(t)
	f.AddAccount(ecsfake.Member{ID: member})
	own := f.AddTask(ecsfake.Task{Region: "eu-west-1", Cluster: "prod", StartedAt: time.Now()})
	theirs := f.AddTask(ecsfake.Task{Account: member, Region: "eu-west-1", Cluster: "prod", StartedAt: time.Now()})
	if !strings.Contains(theirs, ":"+member+":task/prod/") {
		t.Errorf("a member's task ARN %s does not name its account", theirs)
	}
	status, k, code := assume(t, f, member, nil)
	if status != http.StatusOK {
		t.Fatalf("AssumeRole: %d %s", status, code)
	}
	for _, tc := range []struct {
		k    key
		want string
	}{{management, own}, {k, theirs}} {
		_, out := ecsCall(t, f, tc.k, "eu-west-1", ecsfake.ListTasks, `{"cluster":"prod"}`)
		if got := strs(out["taskArns"]); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("signed with %s: tasks %v, want %s", tc.k.id, got, tc.want)
		}
	}
	_, out := ecsCall(t, f, k, "eu-west-1", ecsfake.ListClusters, `{}`)
	if got := strs(out["clusterArns"]); !slices.Equal(got, []string{ecsfake.AccountClusterARN(member, "eu-west-1", "prod")}) {
		t.Errorf("the member's clusters: %v", got)
	}
	var accounts []string
	for _, r := range f.Requests() {
		accounts = append(accounts, r.Service+" "+r.Op+" "+r.Account)
	}
	want := []string{"sts AssumeRole " + member, "ecs ListTasks " + ecsfake.Account, "ecs ListTasks " + member, "ecs ListClusters " + member}
	if !slices.Equal(accounts, want) {
		t.Errorf("requests %q, want %q", accounts, want)
	}
}

// A session is refused once it expired, with a forged token, or when its
// key was never issued; a region the account has not enabled refuses
// every ECS call in it.
func TestSessions(t *testing.T) {
	const member = "111111111111"
	f := ecsfake.Start(t)
	f.AddAccount(ecsfake.Member{ID: member})
	f.SetRegions(member, ecsfake.Region{Name: "eu-west-1", Status: ecsfake.RegionEnabledByDefault}, ecsfake.Region{Name: "af-south-1", Status: ecsfake.RegionDisabled})
	_, live, _ := assume(t, f, member, nil)
	f.SetSessionLifetime(time.Nanosecond) // expired as soon as issued
	_, dead, _ := assume(t, f, member, nil)
	calls := f.AssumeRoles()
	if len(calls) != 2 || calls[0].Expires.Sub(calls[0].At) < time.Hour-time.Second || calls[1].Expires.After(calls[1].At) {
		t.Errorf("AssumeRole calls %+v: want a session of an hour, then one already expired", calls)
	}
	for _, tc := range []struct {
		name   string
		k      key
		region string
		code   string
	}{
		{"live", live, "eu-west-1", ""},
		{"expired", dead, "eu-west-1", "ExpiredTokenException"},
		{"forged token", key{live.id, live.secret, "forged"}, "eu-west-1", "UnrecognizedClientException"},
		{"unknown key", key{id: "AKIDNOTISSUED0000000"}, "eu-west-1", "UnrecognizedClientException"},
		{"a disabled region", live, "af-south-1", "UnrecognizedClientException"},
		{"a region not listed", live, "us-east-1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := ecsCall(t, f, tc.k, tc.region, ecsfake.ListClusters, `{}`)
			if tc.code == "" {
				if status != http.StatusOK {
					t.Errorf("%d %v, want 200", status, out)
				}
				return
			}
			wantError(t, status, out, tc.code)
		})
	}
}

func TestAssumeRoleRefusals(t *testing.T) {
	const member, suspended, guarded = "111111111111", "222222222222", "333333333333"
	f := ecsfake.Start(t)
	f.AddAccount(ecsfake.Member{ID: member})
	f.AddAccount(ecsfake.Member{ID: suspended, Status: "SUSPENDED"})
	f.AddAccount(ecsfake.Member{ID: guarded, ExternalID: "xyz-123"})
	for _, tc := range []struct {
		name       string
		account    string
		extra      url.Values
		status     int
		code       string
		externalID string
	}{
		{"allowed", member, nil, 200, "", ""},
		{"the external ID its trust policy requires", guarded, url.Values{"ExternalId": {"xyz-123"}}, 200, "", "xyz-123"},
		{"no external ID", guarded, nil, 403, "AccessDenied", ""},
		{"a suspended account", suspended, nil, 403, "AccessDenied", ""},
		{"an account not in the organization", "444444444444", nil, 403, "AccessDenied", ""},
		{"the management account itself", ecsfake.Account, nil, 403, "AccessDenied", ""},
		{"a session name too short", member, url.Values{"RoleSessionName": {"x"}}, 400, "ValidationError", ""},
		{"more than an hour", member, url.Values{"DurationSeconds": {"3601"}}, 400, "ValidationError", ""},
		{"less than 15 minutes", member, url.Values{"DurationSeconds": {"899"}}, 400, "ValidationError", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.Reset()
			status, _, code := assume(t, f, tc.account, tc.extra)
			if status != tc.status || code != tc.code {
				t.Errorf("AssumeRole = %d %q, want %d %q", status, code, tc.status, tc.code)
			}
			calls := f.AssumeRoles()
			if len(calls) != 1 || calls[0].Account != tc.account || calls[0].Error != tc.code || calls[0].ExternalID != tc.externalID {
				t.Errorf("recorded %+v", calls)
			}
			if r := f.Requests(); len(r) != 1 || r[0].Service != "sts" || r[0].Op != ecsfake.AssumeRole || r[0].Account != tc.account || r[0].Error != tc.code {
				t.Errorf("request %+v", r)
			}
		})
	}
	// A member's session cannot assume another member's role: the role
	// trusts the scanner alone.
	_, k, _ := assume(t, f, member, nil)
	form := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {"arn:aws:iam::" + guarded + ":role/ecs-uptime"}, "RoleSessionName": {"hop"}, "ExternalId": {"xyz-123"}}
	if status, raw := send(t, f, k, "sts", "eu-west-1", "/", "application/x-www-form-urlencoded", "", form.Encode()); status != 403 || !strings.Contains(raw, "<Code>AccessDenied</Code>") {
		t.Errorf("a chained AssumeRole: %d %s", status, raw)
	}
}

// Only the management account lists the organization's accounts; a
// member's session is refused.
func TestListAccountsOnlyFromTheManagementAccount(t *testing.T) {
	f := ecsfake.Start(t)
	f.AddAccount(ecsfake.Member{ID: "111111111111"})
	_, k, _ := assume(t, f, "111111111111", nil)
	list := func(k key) (int, string) {
		return send(t, f, k, "organizations", "us-east-1", "/", "application/x-amz-json-1.1", ecsfake.OrganizationsTarget+ecsfake.ListAccounts, `{}`)
	}
	if status, raw := list(management); status != 200 || !strings.Contains(raw, `"Id":"111111111111"`) || !strings.Contains(raw, `"Id":"`+ecsfake.Account+`"`) {
		t.Errorf("from the management account: %d %s", status, raw)
	}
	if status, raw := list(k); status != 400 || !strings.Contains(raw, `"__type":"AccessDeniedException"`) {
		t.Errorf("from a member: %d %s", status, raw)
	}
}
