package cfntest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ecs-uptime/uptime/taskdef/cfntest"
)

// Load refuses what CloudFormation would refuse, naming where.
func TestLoadRefuses(t *testing.T) {
	const params = `
Parameters:
  Name: { Type: String }
  Subnets: { Type: "List<AWS::EC2::Subnet::Id>" }
  Mode: { Type: String, Default: a, AllowedValues: [a, b] }
  Tag: { Type: String, Default: x, AllowedPattern: "^[a-z]+$" }
Conditions:
  IsB: !Equals [!Ref Mode, b]
`
	tests := []struct {
		name, resources string
		params          map[string]string
		want            string // "" for none
	}{
		{"valid", `
  Group:
    Type: AWS::Logs::LogGroup
    Properties: { LogGroupName: !Sub "/ecs/${Name}-${AWS::Region}", RetentionInDays: 7 }
  Role:
    Type: AWS::IAM::Role
    Condition: IsB
    Properties: { AssumeRolePolicyDocument: {}, Description: !GetAtt Group.Arn }`, map[string]string{"Name": "n", "Subnets": "s-1,s-2"}, ""},
		{"unknown type", `
  Group: { Type: AWS::Logs::LogGrup }`, map[string]string{"Name": "n", "Subnets": "s"}, `type "AWS::Logs::LogGrup" is not in the CloudFormation specification`},
		{"unknown property", `
  Group: { Type: AWS::Logs::LogGroup, Properties: { RetentionDays: 7 } }`, map[string]string{"Name": "n", "Subnets": "s"}, "resource Group.Properties: unknown property RetentionDays"},
		{"wrong type", `
  Group: { Type: AWS::Logs::LogGroup, Properties: { RetentionInDays: [7] } }`, map[string]string{"Name": "n", "Subnets": "s"}, "RetentionInDays: []interface {}, want a number"},
		{"missing required property", `
  Role: { Type: AWS::IAM::Role, Properties: { Description: d } }`, map[string]string{"Name": "n", "Subnets": "s"}, "required property AssumeRolePolicyDocument is missing"},
		{"a list where a string goes", `
  Group: { Type: AWS::Logs::LogGroup, Properties: { LogGroupName: !Ref Subnets } }`, map[string]string{"Name": "n", "Subnets": "s"}, "LogGroupName: []interface {}, want a string"},
		{"Ref to nothing", `
  Group: { Type: AWS::Logs::LogGroup, Properties: { LogGroupName: !Ref Nothing } }`, map[string]string{"Name": "n", "Subnets": "s"}, "Ref Nothing: no such parameter or resource"},
		{"Sub of nothing", `
  Group: { Type: AWS::Logs::LogGroup, Properties: { LogGroupName: !Sub "${Nothing}" } }`, map[string]string{"Name": "n", "Subnets": "s"}, "Ref Nothing: no such parameter or resource"},
		{"missing parameter", `
  Group: { Type: AWS::Logs::LogGroup }`, map[string]string{"Subnets": "s"}, "parameter Name: no value and no default"},
		{"value not allowed", `
  Group: { Type: AWS::Logs::LogGroup }`, map[string]string{"Name": "n", "Subnets": "s", "Mode": "c"}, `parameter Mode="c": not one of its AllowedValues`},
		{"value against the pattern", `
  Group: { Type: AWS::Logs::LogGroup }`, map[string]string{"Name": "n", "Subnets": "s", "Tag": "X1"}, `parameter Tag="X1": does not match its AllowedPattern`},
		{"unknown parameter", `
  Group: { Type: AWS::Logs::LogGroup }`, map[string]string{"Name": "n", "Subnets": "s", "Nme": "x"}, "parameter Nme: the template has no such parameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "t.yaml")
			if err := os.WriteFile(f, []byte(params+"Resources:"+tc.resources+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			st, err := cfntest.Load(f, tc.params)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				g := st.Resources["Group"]["Properties"].(map[string]any)
				if g["LogGroupName"] != "/ecs/n-"+cfntest.Region {
					t.Errorf("LogGroupName %v", g["LogGroupName"])
				}
				if _, ok := st.Resources["Role"]; ok {
					t.Error("Role is there with its condition false")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
}
