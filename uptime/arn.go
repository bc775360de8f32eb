package uptime

import (
	"fmt"
	"strings"
)

// TaskARN is the parsed form of an ECS task ARN.
//
// Two formats exist: the new one carries the cluster
// (arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c),
// the old one does not (arn:aws:ecs:us-west-2:111122223333:task/8f3f2b2a-…).
type TaskARN struct {
	Partition string
	Region    string
	Account   string
	Cluster   string // empty in the old format
	ID        string
}

// ParseTaskARN parses an ECS task ARN in either format.
func ParseTaskARN(s string) (TaskARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ecs" || parts[1] == "" {
		return TaskARN{}, fmt.Errorf("task ARN %q: want arn:PARTITION:ecs:REGION:ACCOUNT:task/…", s)
	}
	a := TaskARN{Partition: parts[1], Region: parts[3], Account: parts[4]}
	res, ok := strings.CutPrefix(parts[5], "task/")
	if !ok || a.Region == "" || a.Account == "" {
		return TaskARN{}, fmt.Errorf("task ARN %q: want arn:PARTITION:ecs:REGION:ACCOUNT:task/…", s)
	}
	if cluster, id, found := strings.Cut(res, "/"); found {
		a.Cluster, a.ID = cluster, id
	} else {
		a.ID = res
	}
	if a.ID == "" || strings.Contains(a.ID, "/") || (a.Cluster == "" && strings.Contains(res, "/")) {
		return TaskARN{}, fmt.Errorf("task ARN %q: want task/CLUSTER/ID or task/ID after the account", s)
	}
	return a, nil
}

// ClusterName returns the short name of a cluster given as a short name or
// as a cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME).
func ClusterName(s string) string {
	if strings.HasPrefix(s, "arn:") {
		if i := strings.LastIndex(s, ":cluster/"); i >= 0 {
			return s[i+len(":cluster/"):]
		}
	}
	return s
}

// ClusterARN returns the cluster's ARN: s itself when it already is one,
// else one built from the short name and the task ARN's partition, region
// and account. It returns "" when neither is known.
func ClusterARN(s string, task TaskARN) string {
	if strings.HasPrefix(s, "arn:") {
		return s
	}
	if s == "" || task.Account == "" {
		return ""
	}
	return "arn:" + task.Partition + ":ecs:" + task.Region + ":" + task.Account + ":cluster/" + s
}

// NewTask fills the ARN-derived fields of a Task (region, account, cluster
// short name and ARN) from the task ARN and the cluster as the source gives
// it (short name, ARN or empty). The remaining fields are the caller's.
func NewTask(taskARN, cluster string) (Task, error) {
	a, err := ParseTaskARN(taskARN)
	if err != nil {
		return Task{}, err
	}
	if cluster == "" {
		cluster = a.Cluster
	}
	return Task{
		ARN:        taskARN,
		Region:     a.Region,
		Account:    a.Account,
		Cluster:    ClusterName(cluster),
		ClusterARN: ClusterARN(cluster, a),
	}, nil
}
