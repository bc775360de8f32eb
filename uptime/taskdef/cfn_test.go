package taskdef_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"ecs-uptime/uptime/taskdef/cfntest"
	"ecs-uptime/uptime/taskdef/taskdeftest"
)

// exampleAccount is AWS's example account, which the raw JSON files hold
// in place of the user's (task-definitions/README.md lists each value to
// replace). A template needs none: it has AWS::AccountId.
const exampleAccount = "111122223333"

// scanParams are what a user of the cluster scan's template must give.
var scanParams = map[string]string{
	"Cluster":                "prod",
	"Subnets":                "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
	"SecurityGroups":         "sg-0123456789abcdef0",
	"Image":                  "ghcr.io/owner/ecs-uptime:1.2.3",
	"DatadogApiKeySecretArn": "arn:aws:secretsmanager:eu-west-1:" + cfntest.Account + ":secret:datadog-api-key-AbCdEf",
}

// templates are the CloudFormation templates of task-definitions/, each
// with what a deploy passes, the resources it must create, and the raw
// JSON task definition it must not drift from.
var templates = map[string]struct {
	params    map[string]string
	resources map[string]string // logical ID → type
	// twin is the raw task definition in task-definitions/ that the
	// template's TaskDefinition must match, and twinParams the parameters
	// that make it say what the file says.
	twin       string
	twinParams map[string]string
}{
	"cluster-scan.cfn.yaml": {
		params: scanParams,
		resources: map[string]string{
			"LogGroup": "AWS::Logs::LogGroup", "TaskRole": "AWS::IAM::Role", "ScanPolicy": "AWS::IAM::ManagedPolicy",
			"ExecutionRole": "AWS::IAM::Role", "TaskDefinition": "AWS::ECS::TaskDefinition", "Service": "AWS::ECS::Service",
		},
		twin: "cluster-scan.json",
		twinParams: with(scanParams, map[string]string{
			"Image": shippedImage, "TaskTags": "team", "Singletons": "db-migrate",
		}),
	},
	"host-daemon.cfn.yaml": {
		params: map[string]string{"Cluster": "prod", "Image": "ghcr.io/owner/ecs-uptime:1.2.3-sidecar"},
		resources: map[string]string{
			"LogGroup": "AWS::Logs::LogGroup", "TaskDefinition": "AWS::ECS::TaskDefinition", "Service": "AWS::ECS::Service",
		},
		twin:       "host-daemon.json",
		twinParams: map[string]string{"Cluster": "prod", "Image": shippedImage + "-sidecar"},
	},
	"member-role.cfn.yaml": {
		params:    map[string]string{"ScannerRoleArn": "arn:aws:iam::" + cfntest.Account + ":role/ecs-uptime-scan-TaskRole-AbCdEf"},
		resources: map[string]string{"Role": "AWS::IAM::Role"},
	},
}

// with returns a copy of base with more set.
func with(base, more map[string]string) map[string]string {
	out := maps.Clone(base)
	maps.Copy(out, more)
	return out
}

// Every template resolves, with the parameters a user gives, to resources
// that AWS's specification accepts (goformation's, generated from it),
// names no account but through AWS::AccountId and no partition but
// through AWS::Partition, and registers a task definition that AWS's ECS
// model accepts and whose ecs-uptime container would start.
func TestTemplates(t *testing.T) {
	files, err := filepath.Glob("../../task-definitions/*.cfn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(templates) {
		t.Errorf("task-definitions/ has %d templates, the test knows %d: %v", len(files), len(templates), files)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			want, ok := templates[name]
			if !ok {
				t.Fatalf("no expectations for %s in this test: add its parameters and resources to templates", name)
			}
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(text), exampleAccount) {
				t.Errorf("names AWS's example account %s: a template takes the account from AWS::AccountId", exampleAccount)
			}
			st, err := cfntest.Load(f, want.params)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for id, r := range st.Resources {
				got[id], _ = r["Type"].(string)
			}
			if !maps.Equal(got, want.resources) {
				t.Errorf("resources %v, want %v", got, want.resources)
			}
			for _, section := range []string{"Resources", "Outputs"} {
				for _, bad := range literalAccounts(st.Raw[section], section) {
					t.Error(bad)
				}
			}
			for id, td := range st.Resources {
				if td["Type"] != "AWS::ECS::TaskDefinition" {
					continue
				}
				doc := registerForm(t, td["Properties"])
				if err := taskdeftest.Validate(doc); err != nil {
					t.Errorf("%s: AWS's ECS model refuses it:\n%v", id, err)
				}
				if n, err := taskdeftest.CheckECSUptime(doc); err != nil || n != 1 {
					t.Errorf("%s: %d ecs-uptime containers, %v; want 1 that starts", id, n, err)
				}
			}
		})
	}
}

// literalAccounts walks a raw (unresolved) template section and returns a
// line for each string that writes an account ID or an ARN's partition
// itself, instead of ${AWS::AccountId} and ${AWS::Partition}: the stack
// would work in one account, or one partition, only.
func literalAccounts(v any, path string) []string {
	var out []string
	account := regexp.MustCompile(`(^|[^0-9])[0-9]{12}([^0-9]|$)`)
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			out = append(out, literalAccounts(v[k], path+"."+k)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, literalAccounts(e, path)...)
		}
	case string:
		if account.MatchString(v) {
			out = append(out, path+": writes an account ID: use ${AWS::AccountId}")
		}
		if strings.Contains(v, "arn:aws:") || strings.Contains(v, "arn:aws-") {
			out = append(out, path+": writes an ARN's partition: use arn:${AWS::Partition}:")
		}
	}
	return out
}

// registerForm writes a resolved AWS::ECS::TaskDefinition's properties as
// register-task-definition input: CloudFormation's property names are the
// API's with a capital first letter.
func registerForm(t *testing.T, props any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(lowerKeys(props), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lowerKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			r, n := utf8.DecodeRuneInString(k)
			out[string(unicode.ToLower(r))+k[n:]] = lowerKeys(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = lowerKeys(e)
		}
		return out
	}
	return v
}

// The cluster scan's stack: the task role reads ECS and stops only tasks
// that carry the max-lifetime tag, whose key is the parameter that also
// sets ECS_UPTIME_MAX_LIFETIME_TAG; the execution role reads the one
// secret; each optional parameter sets its variable only when given; the
// output is the task role's ARN.
func TestClusterScanStack(t *testing.T) {
	const f = "../../task-definitions/cluster-scan.cfn.yaml"
	tests := []struct {
		name   string
		params map[string]string
		env    map[string]string // variables of the ecs-uptime container; "" for absent
	}{
		{"defaults", scanParams, map[string]string{
			"ECS_UPTIME_SOURCE": "api", "ECS_UPTIME_STOP_TASKS": "false", "ECS_UPTIME_MAX_LIFETIME_TAG": "ecs-uptime:max-lifetime",
			"ECS_UPTIME_CRITICAL": "24h", "ECS_UPTIME_REGIONS": "", "ECS_UPTIME_CLUSTERS": "", "ECS_UPTIME_SINGLETONS": "", "ECS_UPTIME_TASK_TAGS": "",
		}},
		{"every option", with(scanParams, map[string]string{
			"StopTasks": "true", "MaxLifetimeTag": "team:ttl", "Regions": "eu-west-1,us-east-1", "ScanClusters": "prod,staging",
			"Singletons": "db-migrate", "TaskTags": "team", "Critical": "12h", "DatadogSite": "datadoghq.eu",
		}), map[string]string{
			"ECS_UPTIME_STOP_TASKS": "true", "ECS_UPTIME_MAX_LIFETIME_TAG": "team:ttl", "ECS_UPTIME_REGIONS": "eu-west-1,us-east-1",
			"ECS_UPTIME_CLUSTERS": "prod,staging", "ECS_UPTIME_SINGLETONS": "db-migrate", "ECS_UPTIME_TASK_TAGS": "team", "ECS_UPTIME_CRITICAL": "12h",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := cfntest.Load(f, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			props := func(id string) map[string]any {
				p, _ := st.Resources[id]["Properties"].(map[string]any)
				return p
			}
			td, err := st.Template.GetECSTaskDefinitionWithName("TaskDefinition")
			if err != nil {
				t.Fatal(err)
			}
			env := map[string]string{}
			for _, c := range td.ContainerDefinitions {
				if c.Name != "ecs-uptime" {
					continue
				}
				for _, kv := range c.Environment {
					env[*kv.Name] = *kv.Value
				}
			}
			for k, v := range tc.env {
				if got, set := env[k]; v == "" && set || v != "" && got != v {
					t.Errorf("%s=%q (set: %v), want %q (\"\": not set)", k, got, set, v)
				}
			}

			tag := cmpOr(tc.params["MaxLifetimeTag"], "ecs-uptime:max-lifetime")
			doc, ok := props("ScanPolicy")["PolicyDocument"].(string)
			if !ok {
				t.Fatalf("ScanPolicy's PolicyDocument is %T, want the JSON string Fn::Sub makes", props("ScanPolicy")["PolicyDocument"])
			}
			checkScanPolicy(t, []byte(doc), tag, "arn:aws:ecs:*:"+cfntest.Account+":task/*")
			if env["ECS_UPTIME_MAX_LIFETIME_TAG"] != tag {
				t.Errorf("ECS_UPTIME_MAX_LIFETIME_TAG=%q, the policy's condition names %q: the scan would stop tasks it may not stop, or never", env["ECS_UPTIME_MAX_LIFETIME_TAG"], tag)
			}

			role, err := st.Template.GetIAMRoleWithName("TaskRole")
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{cfntest.Ref("ScanPolicy")}; !slices.Equal(role.ManagedPolicyArns, want) || len(role.Policies) > 0 {
				t.Errorf("task role policies %v and %d inline; want only %v", role.ManagedPolicyArns, len(role.Policies), want)
			}
			trusts(t, "TaskRole", role.AssumeRolePolicyDocument)
			if *td.TaskRoleArn != cfntest.GetAtt("TaskRole", "Arn") || *td.ExecutionRoleArn != cfntest.GetAtt("ExecutionRole", "Arn") {
				t.Errorf("task definition roles %s, %s; want the stack's", *td.TaskRoleArn, *td.ExecutionRoleArn)
			}

			exec, err := st.Template.GetIAMRoleWithName("ExecutionRole")
			if err != nil {
				t.Fatal(err)
			}
			trusts(t, "ExecutionRole", exec.AssumeRolePolicyDocument)
			if want := []string{"arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"}; !slices.Equal(exec.ManagedPolicyArns, want) {
				t.Errorf("execution role managed policies %v, want %v", exec.ManagedPolicyArns, want)
			}
			var secret policy
			if len(exec.Policies) != 1 || remarshal(exec.Policies[0].PolicyDocument, &secret) != nil || len(secret.Statement) != 1 ||
				!slices.Equal(secret.Statement[0].Action, []string{"secretsmanager:GetSecretValue"}) ||
				!slices.Equal(secret.Statement[0].Resource, []string{tc.params["DatadogApiKeySecretArn"]}) {
				t.Errorf("execution role inline policies %+v; want GetSecretValue on the Datadog secret only", exec.Policies)
			}

			svc, err := st.Template.GetECSServiceWithName("Service")
			if err != nil {
				t.Fatal(err)
			}
			net := svc.NetworkConfiguration.AwsvpcConfiguration
			if *svc.LaunchType != "FARGATE" || *svc.DesiredCount != 1 || *svc.Cluster != tc.params["Cluster"] ||
				strings.Join(net.Subnets, ",") != tc.params["Subnets"] || strings.Join(net.SecurityGroups, ",") != tc.params["SecurityGroups"] ||
				*svc.TaskDefinition != cfntest.Ref("TaskDefinition") {
				t.Errorf("service %+v: want one Fargate task of the stack's task definition in the given cluster, subnets and security groups", svc)
			}
			// One scanner at a time, even while deploying.
			if dc := svc.DeploymentConfiguration; dc == nil || *dc.MaximumPercent != 100 || *dc.MinimumHealthyPercent != 0 ||
				dc.DeploymentCircuitBreaker == nil || !dc.DeploymentCircuitBreaker.Enable || !dc.DeploymentCircuitBreaker.Rollback {
				t.Errorf("deployment configuration %+v: want at most one task (100%%/0%%) and the circuit breaker with rollback", dc)
			}
			if st.Outputs["TaskRoleArn"] != cfntest.GetAtt("TaskRole", "Arn") {
				t.Errorf("output TaskRoleArn = %v, want the task role's ARN", st.Outputs["TaskRoleArn"])
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// remarshal decodes a resolved JSON value into out.
func remarshal(v any, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// trusts checks that a role's trust policy lets ECS tasks, and only them,
// assume it.
func trusts(t *testing.T, id string, doc any) {
	t.Helper()
	var p struct {
		Statement []struct {
			Effect    string
			Principal struct{ Service string }
			Action    string
		}
	}
	if err := remarshal(doc, &p); err != nil || len(p.Statement) != 1 || p.Statement[0].Effect != "Allow" ||
		p.Statement[0].Principal.Service != "ecs-tasks.amazonaws.com" || p.Statement[0].Action != "sts:AssumeRole" {
		t.Errorf("%s trust policy %v: want ecs-tasks.amazonaws.com to assume it, nothing else", id, doc)
	}
}

// Each template's task definition and its raw JSON twin do not drift
// apart: with the parameters that say what the file says, the same
// containers, images, sizes, variables, secrets, dependencies, health
// checks, mounts and log stream prefixes. Only what the stack creates
// (roles, log group) and the region differ.
func TestTemplatesMatchTheirJSON(t *testing.T) {
	for name, tc := range templates {
		if tc.twin == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			st, err := cfntest.Load("../../task-definitions/"+name, tc.twinParams)
			if err != nil {
				t.Fatal(err)
			}
			var fromStack, fromFile map[string]any
			if err := json.Unmarshal(registerForm(t, st.Resources["TaskDefinition"]["Properties"]), &fromStack); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile("../../task-definitions/" + tc.twin)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &fromFile); err != nil {
				t.Fatal(err)
			}
			a, b := drifting(fromStack), drifting(fromFile)
			if !reflect.DeepEqual(a, b) {
				ja, _ := json.MarshalIndent(a, "", "  ")
				jb, _ := json.MarshalIndent(b, "", "  ")
				t.Errorf("the stack's task definition and %s differ:\nstack:\n%s\nfile:\n%s", tc.twin, ja, jb)
			}
		})
	}
}

// drifting drops from a register-form task definition what a stack
// creates or the deploy decides (roles, log group, region, the secret's
// ARN), and sorts each container's environment by name.
func drifting(td map[string]any) map[string]any {
	delete(td, "executionRoleArn")
	delete(td, "taskRoleArn")
	cs, _ := td["containerDefinitions"].([]any)
	for _, c := range cs {
		c := c.(map[string]any)
		if lc, ok := c["logConfiguration"].(map[string]any); ok {
			if opts, ok := lc["options"].(map[string]any); ok {
				delete(opts, "awslogs-group")
				delete(opts, "awslogs-region")
			}
		}
		if secrets, ok := c["secrets"].([]any); ok {
			for _, s := range secrets {
				delete(s.(map[string]any), "valueFrom")
			}
		}
		if env, ok := c["environment"].([]any); ok {
			slices.SortFunc(env, func(a, b any) int {
				return strings.Compare(a.(map[string]any)["name"].(string), b.(map[string]any)["name"].(string))
			})
		}
	}
	return td
}
