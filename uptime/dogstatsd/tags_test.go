package dogstatsd

import (
	"slices"
	"testing"
	"time"

	"ecs-uptime/uptime"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain-value_1.2", "plain-value_1.2"},
		{"a|b", "a_b"},
		{"a,b", "a_b"},
		{"a#b", "a_b"},
		{"line\nbreak", "line_break"},
		{"cr\rlf", "cr_lf"},
		{"tab\there", "tab_here"},
		{"nul\x00", "nul_"},
		{"del\x7f", "del_"},
		{"c1\u0085control", "c1_control"},
		{"sep\u2028arator", "sep_arator"},
		{"forged,env:prod|#x", "forged_env:prod__x"},
		{"  trimmed  ", "trimmed"},
		{"unicodé ok", "unicodé ok"},
		{"colon:kept", "colon:kept"},
	}
	for _, tc := range tests {
		if got := Sanitize(tc.in); got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSplitImage(t *testing.T) {
	tests := []struct {
		ref  string
		want Image
	}{
		{"alpine", Image{Name: "alpine", Short: "alpine", Tag: "latest"}},
		{"prom/prometheus:v3.1.0", Image{Name: "prom/prometheus", Short: "prometheus", Tag: "v3.1.0"}},
		{"quay.io/prometheuscommunity/ecs-exporter:main", Image{Name: "quay.io/prometheuscommunity/ecs-exporter", Short: "ecs-exporter", Tag: "main"}},
		{"111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest:latest", Image{Name: "111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest", Short: "curltest", Tag: "latest"}},
		{"registry.local:5000/team/app:1.2", Image{Name: "registry.local:5000/team/app", Short: "app", Tag: "1.2"}},
		{"registry.local:5000/team/app", Image{Name: "registry.local:5000/team/app", Short: "app", Tag: "latest"}},
		{"app@sha256:abcdef", Image{Name: "app", Short: "app"}},
		{"repo/app:1.0@sha256:abcdef", Image{Name: "repo/app", Short: "app", Tag: "1.0"}},
		{"", Image{}},
	}
	for _, tc := range tests {
		if got := SplitImage(tc.ref); got != tc.want {
			t.Errorf("SplitImage(%q) = %+v, want %+v", tc.ref, got, tc.want)
		}
	}
}

func TestTaskAndContainerTags(t *testing.T) {
	task := uptime.Task{
		ARN: "arn:aws:ecs:us-west-2:111122223333:task/default/158d", Family: "curltest", Revision: "26",
		Cluster: "default", ClusterARN: "arn:aws:ecs:us-west-2:111122223333:cluster/default",
		Region: "us-west-2", Account: "111122223333", AvailabilityZone: "us-west-2d", Service: "My|Service", Kind: uptime.KindService,
	}
	want := []string{
		"task_arn:arn:aws:ecs:us-west-2:111122223333:task/default/158d", "task_name:curltest", "task_family:curltest",
		"task_version:26", "ecs_cluster_name:default", "cluster_arn:arn:aws:ecs:us-west-2:111122223333:cluster/default",
		"region:us-west-2", "availability-zone:us-west-2d", "aws_account:111122223333", "ecs_service:My_Service",
		"ecs_task_kind:service",
	}
	if got := TaskTags(&task); !slices.Equal(got, want) {
		t.Errorf("TaskTags\n got %q\nwant %q", got, want)
	}
	// Unknown values are left out, not sent empty; an unknown kind says so.
	task.Service, task.AvailabilityZone, task.ClusterARN, task.Kind = "", "", "", uptime.KindUnknown
	for _, tag := range TaskTags(&task) {
		if tag[len(tag)-1] == ':' {
			t.Errorf("empty tag %q", tag)
		}
	}
	if got := TaskTags(&task); !slices.Contains(got, "ecs_task_kind:unknown") {
		t.Errorf("TaskTags of a task of unknown kind %q, want ecs_task_kind:unknown", got)
	}
	// The api source's fields and the resource tags it copies.
	api := uptime.Task{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f", Family: "db-migrate", Revision: "42",
		LaunchType: "FARGATE", CapacityProvider: "FARGATE_SPOT", StartedBy: "ci/job#1234", Kind: uptime.KindStandalone,
		ResourceTags: []uptime.ResourceTag{{Key: "CostCenter", Value: "42,a|b"}, {Key: "team:owner", Value: "data"}, {Key: "Empty", Value: ""}}}
	wantAPI := []string{"task_arn:arn:aws:ecs:eu-west-1:123456789012:task/prod/5c2f", "task_name:db-migrate", "task_family:db-migrate",
		"task_version:42", "ecs_task_kind:standalone", "ecs_launch_type:FARGATE", "ecs_capacity_provider:FARGATE_SPOT", "started_by:ci/job_1234",
		"costcenter:42_a_b", "team_owner:data"}
	if got := TaskTags(&api); !slices.Equal(got, wantAPI) {
		t.Errorf("TaskTags of an api task\n got %q\nwant %q", got, wantAPI)
	}
	// ECS Exec on: ecs_exec:enabled; off: no tag at all.
	api.ExecEnabled = true
	wantExec := append(slices.Clone(wantAPI[:8]), append([]string{"ecs_exec:enabled"}, wantAPI[8:]...)...)
	if got := TaskTags(&api); !slices.Equal(got, wantExec) {
		t.Errorf("TaskTags of a task with ECS Exec\n got %q\nwant %q", got, wantExec)
	}
	// The status of a task not running goes with its signals, not its tags.
	api.Status = "DEACTIVATING"
	if got := SubjectTags(uptime.Subject{Task: &api, Status: api.Status}); !slices.Contains(got, "ecs_task_status:DEACTIVATING") || slices.Contains(TaskTags(&api), "ecs_task_status:DEACTIVATING") {
		t.Errorf("SubjectTags with a status = %q", got)
	}
	c := uptime.Container{Name: "curl", RuntimeName: "ecs-curltest-26-curl-a0e7", ID: "ee08", Image: "registry:5000/curltest:1", Running: true, StartedAt: time.Now()}
	wantC := []string{"ecs_container_name:curl", "container_name:ecs-curltest-26-curl-a0e7", "container_id:ee08",
		"docker_image:registry:5000/curltest:1", "image_name:registry:5000/curltest", "short_image:curltest", "image_tag:1"}
	if got := ContainerTags(c); !slices.Equal(got, wantC) {
		t.Errorf("ContainerTags\n got %q\nwant %q", got, wantC)
	}
}
