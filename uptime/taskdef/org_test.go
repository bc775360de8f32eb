package taskdef_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"go.yaml.in/yaml/v4"

	"ecs-uptime/uptime/config"
	"ecs-uptime/uptime/ecsapi"
)

// clients are the SDK clients whose operations a shipped policy may name,
// by IAM service prefix.
var clients = map[string]reflect.Type{
	"ecs":           reflect.TypeFor[*ecs.Client](),
	"sts":           reflect.TypeFor[*sts.Client](),
	"organizations": reflect.TypeFor[*organizations.Client](),
	"account":       reflect.TypeFor[*account.Client](),
}

// decodePolicy decodes an IAM policy document of the expected form and
// returns its statements; each action must be one operation of an SDK
// client.
func decodePolicy(t *testing.T, name string, doc []byte) []statement {
	t.Helper()
	var p policy
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: not an IAM policy of the expected form: %v", name, err)
	}
	if p.Version != "2012-10-17" {
		t.Errorf("%s: Version %q, want 2012-10-17", name, p.Version)
	}
	for _, st := range p.Statement {
		if st.Effect != "Allow" {
			t.Errorf("%s: statement %s: Effect %q, want Allow", name, st.Sid, st.Effect)
		}
		for _, a := range st.Action {
			svc, op, _ := strings.Cut(a, ":")
			client, ok := clients[svc]
			if _, isOp := client.MethodByName(op); !ok || !isOp || strings.ContainsAny(op, "*?") {
				t.Errorf("%s: statement %s: action %q is not one operation of ECS, STS, Organizations or Account", name, st.Sid, a)
			}
		}
	}
	return p.Statement
}

func actions(sts []statement) []string {
	var out []string
	for _, st := range sts {
		out = append(out, st.Action...)
	}
	slices.Sort(out)
	return out
}

// The scanner's additions for an organization: assume the member role (the
// default ECS_UPTIME_ROLE_NAME, in any account), list the organization's
// accounts and the enabled regions; nothing else.
func TestClusterScanOrganizationPolicy(t *testing.T) {
	doc, err := os.ReadFile("../../task-definitions/iam/cluster-scan-organization.json")
	if err != nil {
		t.Fatal(err)
	}
	sts := decodePolicy(t, "cluster-scan-organization.json", doc)
	if got, want := actions(sts), []string{"account:ListRegions", "organizations:ListAccounts", "sts:AssumeRole"}; !slices.Equal(got, want) {
		t.Errorf("the policy allows %q, want exactly %q", got, want)
	}
	for _, st := range sts {
		if slices.Contains(st.Action, "sts:AssumeRole") {
			if want := []string{"arn:aws:iam::*:role/" + ecsapi.DefaultRoleName}; len(st.Action) != 1 || !slices.Equal(st.Resource, want) {
				t.Errorf("statement %s: AssumeRole of %q, want only %q, the role the member template makes", st.Sid, st.Resource, want)
			}
		}
	}
	if _, err := config.Load(map[string]string{"ECS_UPTIME_SOURCE": "api"}); err != nil || ecsapi.DefaultRoleName != "ecs-uptime" {
		t.Errorf("ECS_UPTIME_ROLE_NAME's default and the source's differ")
	}
}

// cfnTemplate is as much of a CloudFormation template as the member role's
// may use, in long-form intrinsic functions (Ref, Fn::Sub…), which any
// YAML parser reads.
type cfnTemplate struct {
	AWSTemplateFormatVersion string                  `yaml:"AWSTemplateFormatVersion"`
	Description              string                  `yaml:"Description"`
	Parameters               map[string]cfnParameter `yaml:"Parameters"`
	Conditions               map[string]any          `yaml:"Conditions"`
	Resources                map[string]struct {
		Type       string         `yaml:"Type"`
		Properties map[string]any `yaml:"Properties"`
	} `yaml:"Resources"`
	Outputs map[string]any `yaml:"Outputs"`
}

type cfnParameter struct {
	Type                  string `yaml:"Type"`
	Default               string `yaml:"Default"`
	Description           string `yaml:"Description"`
	AllowedPattern        string `yaml:"AllowedPattern"`
	ConstraintDescription string `yaml:"ConstraintDescription"`
	MaxLength             int    `yaml:"MaxLength"`
}

// The member role for a StackSet: trusts the scanner's role ARN alone (a
// parameter), with the external ID when one is given; allows the read-only
// ECS actions and account:ListRegions, and ecs:StopTask only on tasks that
// carry the max-lifetime tag (a parameter); sessions of the hour the
// scanner asks for. Its parameters' defaults are the scanner's.
func TestMemberRoleTemplate(t *testing.T) {
	raw, err := os.ReadFile("../../task-definitions/member-role.cfn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tpl cfnTemplate
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&tpl); err != nil {
		t.Fatalf("not a template of the expected form: %v", err)
	}
	if tpl.AWSTemplateFormatVersion != "2010-09-09" {
		t.Errorf("AWSTemplateFormatVersion %q", tpl.AWSTemplateFormatVersion)
	}
	params := tpl.Parameters
	for name, def := range map[string]string{"ScannerRoleArn": "", "RoleName": ecsapi.DefaultRoleName, "ExternalId": "", "MaxLifetimeTag": config.DefaultMaxLifetimeTag} {
		p, ok := params[name]
		if !ok || p.Type != "String" || p.Default != def || p.Description == "" {
			t.Errorf("parameter %s = %+v, want a String with default %q and a description", name, p, def)
		}
		if re, err := regexp.Compile("^(?:" + p.AllowedPattern + ")$"); err != nil {
			t.Errorf("parameter %s: AllowedPattern %q: %v", name, p.AllowedPattern, err)
		} else if name != "ScannerRoleArn" && !re.MatchString(def) {
			t.Errorf("parameter %s: its default %q does not match its AllowedPattern %q", name, def, p.AllowedPattern)
		}
	}
	if len(params) != 4 {
		t.Errorf("%d parameters, want 4", len(params))
	}
	role, ok := tpl.Resources["Role"]
	if !ok || role.Type != "AWS::IAM::Role" || len(tpl.Resources) != 1 {
		t.Fatalf("resources %v, want one AWS::IAM::Role named Role", tpl.Resources)
	}
	props := role.Properties
	if !reflect.DeepEqual(props["RoleName"], map[string]any{"Ref": "RoleName"}) {
		t.Errorf("RoleName %v, want the parameter", props["RoleName"])
	}
	if d, _ := props["MaxSessionDuration"].(int); d < int(ecsapi.SessionDuration.Seconds()) {
		t.Errorf("MaxSessionDuration %v, want at least the %v sessions the scanner asks for", props["MaxSessionDuration"], ecsapi.SessionDuration)
	}

	// The trust policy.
	trust, _ := json.Marshal(props["AssumeRolePolicyDocument"])
	var tp struct {
		Version   string
		Statement []struct {
			Sid, Effect, Action string
			Principal           map[string]any
			Condition           map[string]any
		}
	}
	if err := json.Unmarshal(trust, &tp); err != nil || len(tp.Statement) != 1 {
		t.Fatalf("trust policy %s: %v, want one statement", trust, err)
	}
	st := tp.Statement[0]
	if st.Effect != "Allow" || st.Action != "sts:AssumeRole" || !reflect.DeepEqual(st.Principal, map[string]any{"AWS": map[string]any{"Ref": "ScannerRoleArn"}}) {
		t.Errorf("trust statement %+v, want sts:AssumeRole by the ScannerRoleArn parameter alone", st)
	}
	wantCondition := map[string]any{"Fn::If": []any{"HasExternalId",
		map[string]any{"StringEquals": map[string]any{"sts:ExternalId": map[string]any{"Ref": "ExternalId"}}},
		map[string]any{"Ref": "AWS::NoValue"}}}
	if !reflect.DeepEqual(st.Condition, wantCondition) {
		t.Errorf("trust condition %v, want the external ID when the parameter is set", st.Condition)
	}
	if want := map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "ExternalId"}, ""}}}}; !reflect.DeepEqual(tpl.Conditions["HasExternalId"], want) {
		t.Errorf("condition HasExternalId %v", tpl.Conditions["HasExternalId"])
	}

	// The permissions: a read-only document, and the stop document, a
	// JSON string in Fn::Sub since its condition key holds the tag.
	policies, _ := props["Policies"].([]any)
	if len(policies) != 2 {
		t.Fatalf("%d policies, want 2", len(policies))
	}
	var all []statement
	for _, p := range policies {
		doc := p.(map[string]any)["PolicyDocument"]
		var text []byte
		if sub, ok := doc.(map[string]any)["Fn::Sub"].(string); ok {
			for _, ref := range regexp.MustCompile(`\$\{([^}]+)\}`).FindAllStringSubmatch(sub, -1) {
				if _, isParam := params[ref[1]]; !isParam && ref[1] != "AWS::Partition" && ref[1] != "AWS::AccountId" {
					t.Errorf("Fn::Sub names ${%s}, neither a parameter nor a pseudo parameter", ref[1])
				}
			}
			text = []byte(strings.NewReplacer("${AWS::Partition}", "aws", "${AWS::AccountId}", "111122223333", "${MaxLifetimeTag}", params["MaxLifetimeTag"].Default).Replace(sub))
		} else {
			text, _ = json.Marshal(doc)
		}
		all = append(all, decodePolicy(t, "member-role.cfn.yaml", text)...)
	}
	if got, want := actions(all), []string{"account:ListRegions", "ecs:DescribeTasks", "ecs:ListClusters", "ecs:ListTasks", "ecs:StopTask"}; !slices.Equal(got, want) {
		t.Errorf("the role allows %q, want exactly %q", got, want)
	}
	for _, st := range all {
		if !slices.Contains(st.Action, "ecs:StopTask") {
			continue
		}
		if len(st.Action) != 1 || !slices.Equal(st.Resource, []string{"arn:aws:ecs:*:111122223333:task/*"}) {
			t.Errorf("statement %s: StopTask %q on %q, want alone, on the account's tasks", st.Sid, st.Action, st.Resource)
		}
		want := map[string]map[string]string{"Null": {"ecs:ResourceTag/" + config.DefaultMaxLifetimeTag: "false"}}
		if !reflect.DeepEqual(st.Condition, want) {
			t.Errorf("statement %s: StopTask condition %v, want %v", st.Sid, st.Condition, want)
		}
	}
}
