package uptime

import (
	"strings"
	"testing"
)

// FuzzParseTaskARN checks that ParseTaskARN never panics, and that what it
// accepts is an ECS task ARN that its parts rebuild exactly, with a
// non-empty region, account and ID and no '/' in the ID; NewTask then
// names the same cluster, as a short name and as an ARN of the same
// partition, region and account, for any cluster name ECS allows.
func FuzzParseTaskARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c",
		"arn:aws:ecs:eu-west-1:123456789012:task/8f3f2b2a-5c8e-4d7a-9b1c-2e3f4a5b6c7d",
		"arn:aws-cn:ecs:cn-north-1:123456789012:task/prod/abc",
		"arn:aws:ecs:us-west-2:111122223333:cluster/default",
		"arn:aws:ecs:us-west-2:111122223333:task/a/b/c",
		"arn:aws:ecs:us-west-2:111122223333:task/",
		"arn:aws:ecs:us-west-2:111122223333:task//x",
		"arn:aws:ecs:r:1:task/c:cluster/x/id",
		"arn::ecs:r:1:task/x", "", ":::::", "arn:aws:ecs:r:1:task/c/x|#env:forged\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseTaskARN(s)
		if err != nil {
			if a != (TaskARN{}) {
				t.Fatalf("ParseTaskARN(%q) = %+v with error %v", s, a, err)
			}
			return
		}
		rebuilt := "arn:" + a.Partition + ":ecs:" + a.Region + ":" + a.Account + ":task/"
		if a.Cluster != "" {
			rebuilt += a.Cluster + "/"
		}
		if rebuilt += a.ID; rebuilt != s {
			t.Fatalf("ParseTaskARN(%q) = %+v, which rebuilds %q", s, a, rebuilt)
		}
		if a.Partition == "" || a.Region == "" || a.Account == "" || a.ID == "" || strings.Contains(a.ID, "/") {
			t.Fatalf("ParseTaskARN(%q) = %+v: a part is empty or the ID holds a '/'", s, a)
		}
		if strings.ContainsAny(a.Region+a.Account, ":") {
			t.Fatalf("ParseTaskARN(%q) = %+v: a ':' in region or account", s, a)
		}

		task, err := NewTask(s, "")
		if err != nil {
			t.Fatalf("NewTask(%q): %v, though the ARN parses", s, err)
		}
		if task.ARN != s || task.Region != a.Region || task.Account != a.Account {
			t.Fatalf("NewTask(%q) = %+v, want the ARN's region and account", s, task)
		}
		if a.Cluster == "" {
			if task.Cluster != "" || task.ClusterARN != "" {
				t.Fatalf("NewTask(%q) = %+v: a cluster from an ARN without one", s, task)
			}
			return
		}
		// ECS cluster names are letters, digits, '-' and '_'. A cluster part
		// with a ':' (say "arn:…" or "x:cluster/y") is taken for an ARN
		// and cannot round-trip; the source's input, not this code, is
		// wrong then, and the tags are sanitized either way.
		if strings.Contains(a.Cluster, ":") {
			return
		}
		wantARN := "arn:" + a.Partition + ":ecs:" + a.Region + ":" + a.Account + ":cluster/" + a.Cluster
		if task.Cluster != a.Cluster || task.ClusterARN != wantARN {
			t.Fatalf("NewTask(%q) = cluster %q, ARN %q; want %q, %q", s, task.Cluster, task.ClusterARN, a.Cluster, wantARN)
		}
		if again := ClusterName(task.ClusterARN); again != a.Cluster {
			t.Fatalf("ClusterName(%q) = %q, want %q", task.ClusterARN, again, a.Cluster)
		}
	})
}
