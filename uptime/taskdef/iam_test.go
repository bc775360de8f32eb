package taskdef_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"ecs-uptime/uptime/config"
)

// policy is an IAM policy document, as much of the grammar as the shipped
// one may use: anything else fails to decode.
type policy struct {
	Version   string
	Statement []statement
}

type statement struct {
	Sid       string
	Effect    string
	Action    stringList
	Resource  stringList
	Condition map[string]map[string]string
}

// stringList is IAM's "a string or a list of strings".
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

// apiActions are the ECS operations the api source calls: each must be
// allowed, and nothing else.
var apiActions = []string{"ecs:ListClusters", "ecs:ListTasks", "ecs:DescribeTasks", "ecs:StopTask"}

// The cluster scan's task-role policy: read-only but for StopTask, which
// it allows only on tasks that carry the max-lifetime tag. Each action is
// an operation of AWS's ECS API (a method of the SDK's client).
func TestClusterScanPolicy(t *testing.T) {
	doc, err := os.ReadFile("../../task-definitions/iam/cluster-scan-task-role.json")
	if err != nil {
		t.Fatal(err)
	}
	// Any account: an identity policy reaches only its own account's
	// tasks anyway, and an example account left in place would deny every
	// stop without a word.
	checkScanPolicy(t, doc, config.DefaultMaxLifetimeTag, "arn:aws:ecs:*:*:task/*")
}

// checkScanPolicy checks a scan's policy document: exactly the api
// source's actions, read-only ones on "*", and ecs:StopTask in a statement
// of its own, on stopResource only, under the condition that the task
// carries the tag tagKey.
func checkScanPolicy(t *testing.T, doc []byte, tagKey, stopResource string) {
	t.Helper()
	var p policy
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("not an IAM policy of the expected form: %v\n%s", err, doc)
	}
	if p.Version != "2012-10-17" {
		t.Errorf("Version %q, want 2012-10-17 (the only version with policy variables and current condition handling)", p.Version)
	}
	client := reflect.TypeFor[*ecs.Client]()
	var allowed []string
	stopStatements := 0
	for _, st := range p.Statement {
		if st.Effect != "Allow" {
			t.Errorf("statement %s: Effect %q, want Allow", st.Sid, st.Effect)
		}
		for _, a := range st.Action {
			op, ok := strings.CutPrefix(a, "ecs:")
			if _, isOp := client.MethodByName(op); !ok || !isOp || strings.ContainsAny(op, "*?") {
				t.Errorf("statement %s: action %q is not one ECS operation", st.Sid, a)
			}
			allowed = append(allowed, a)
		}
		if !slices.Contains(st.Action, "ecs:StopTask") {
			if !slices.Equal(st.Resource, []string{"*"}) || st.Condition != nil {
				t.Errorf("statement %s: read-only actions on %q with condition %v, want \"*\" and none (List and Describe take no task ARN)", st.Sid, st.Resource, st.Condition)
			}
			continue
		}
		stopStatements++
		if len(st.Action) != 1 {
			t.Errorf("statement %s allows %q with StopTask: StopTask needs a statement of its own, with the tag condition", st.Sid, st.Action)
		}
		if !slices.Equal(st.Resource, []string{stopResource}) {
			t.Errorf("statement %s: StopTask on %q, want %q: task ARNs only, of the role's own account", st.Sid, st.Resource, stopResource)
		}
		want := map[string]map[string]string{"Null": {"ecs:ResourceTag/" + tagKey: "false"}}
		if !reflect.DeepEqual(st.Condition, want) {
			t.Errorf("statement %s: StopTask condition %v, want %v (only tasks that carry the max-lifetime tag)", st.Sid, st.Condition, want)
		}
	}
	slices.Sort(allowed)
	want := slices.Sorted(slices.Values(apiActions))
	if !slices.Equal(allowed, want) {
		t.Errorf("the policy allows %q, want exactly %q", allowed, want)
	}
	if stopStatements != 1 {
		t.Errorf("%d statements allow StopTask, want 1", stopStatements)
	}
}
