package uptime

import "testing"

func TestParseTaskARN(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want TaskARN
		bad  bool
	}{
		{name: "new format", in: "arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c",
			want: TaskARN{Partition: "aws", Region: "us-west-2", Account: "111122223333", Cluster: "default", ID: "158d1c8083dd49d6b527399fd6414f5c"}},
		{name: "old format without cluster", in: "arn:aws:ecs:eu-west-1:123456789012:task/8f3f2b2a-5c8e-4d7a-9b1c-2e3f4a5b6c7d",
			want: TaskARN{Partition: "aws", Region: "eu-west-1", Account: "123456789012", ID: "8f3f2b2a-5c8e-4d7a-9b1c-2e3f4a5b6c7d"}},
		{name: "china partition", in: "arn:aws-cn:ecs:cn-north-1:123456789012:task/prod/abc",
			want: TaskARN{Partition: "aws-cn", Region: "cn-north-1", Account: "123456789012", Cluster: "prod", ID: "abc"}},
		{name: "empty", in: "", bad: true},
		{name: "not ecs", in: "arn:aws:ec2:us-west-2:111122223333:task/default/abc", bad: true},
		{name: "a cluster, not a task", in: "arn:aws:ecs:us-west-2:111122223333:cluster/default", bad: true},
		{name: "no account", in: "arn:aws:ecs:us-west-2::task/default/abc", bad: true},
		{name: "no region", in: "arn:aws:ecs::111122223333:task/default/abc", bad: true},
		{name: "no id", in: "arn:aws:ecs:us-west-2:111122223333:task/default/", bad: true},
		{name: "too many segments", in: "arn:aws:ecs:us-west-2:111122223333:task/a/b/c", bad: true},
		{name: "task id only slash", in: "arn:aws:ecs:us-west-2:111122223333:task/", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTaskARN(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("ParseTaskARN(%q) = %+v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseTaskARN(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestNewTaskCluster(t *testing.T) {
	const newARN = "arn:aws:ecs:us-east-1:829490980523:task/sandbox/bae32def0ab64f06818e8862e58f8d6d"
	const oldARN = "arn:aws:ecs:us-east-1:829490980523:task/bae32def0ab64f06818e8862e58f8d6d"
	tests := []struct {
		name, arn, cluster, wantName, wantARN string
	}{
		{"short name", newARN, "sandbox", "sandbox", "arn:aws:ecs:us-east-1:829490980523:cluster/sandbox"},
		{"cluster ARN (Fargate)", newARN, "arn:aws:ecs:us-east-1:829490980523:cluster/sandbox", "sandbox", "arn:aws:ecs:us-east-1:829490980523:cluster/sandbox"},
		{"no cluster given: from the new-format ARN", newARN, "", "sandbox", "arn:aws:ecs:us-east-1:829490980523:cluster/sandbox"},
		{"old-format ARN and a short name", oldARN, "default", "default", "arn:aws:ecs:us-east-1:829490980523:cluster/default"},
		{"old-format ARN and no cluster", oldARN, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			task, err := NewTask(tc.arn, tc.cluster)
			if err != nil {
				t.Fatal(err)
			}
			if task.Cluster != tc.wantName || task.ClusterARN != tc.wantARN || task.Region != "us-east-1" || task.Account != "829490980523" {
				t.Fatalf("NewTask(%q, %q) = %+v; want cluster %q, %q", tc.arn, tc.cluster, task, tc.wantName, tc.wantARN)
			}
		})
	}
}

func TestAgentContainer(t *testing.T) {
	tests := []struct {
		typ, name string
		want      bool
	}{
		{"NORMAL", "app", false},
		{"NORMAL", "~internal~ecs~pause", false}, // the type decides when it is known
		{"CNI_PAUSE", "~internal~ecs~pause", true},
		{"NAMESPACE_PAUSE", "~internal~ecs~pause", true},
		{"EMPTY_HOST_VOLUME", "~internal~ecs-emptyvolume-source", true},
		{"", "~internal~ecs~pause", true},
		{"", "~internal~ecs-emptyvolume-source", true},
		{"", "app", false},
		{"", "~internal", false},
	}
	for _, tc := range tests {
		if got := AgentContainer(tc.typ, tc.name); got != tc.want {
			t.Errorf("AgentContainer(%q, %q) = %v, want %v", tc.typ, tc.name, got, tc.want)
		}
	}
}
