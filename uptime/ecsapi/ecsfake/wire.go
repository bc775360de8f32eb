package ecsfake

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// request holds the fields of the four operations' inputs that the fake
// reads; others are accepted and ignored, as ECS ignores filters it does
// not apply.
type request struct {
	Cluster       *string  `json:"cluster"`
	MaxResults    *int     `json:"maxResults"`
	NextToken     *string  `json:"nextToken"`
	DesiredStatus *string  `json:"desiredStatus"`
	Family        *string  `json:"family"`
	StartedBy     *string  `json:"startedBy"`
	ServiceName   *string  `json:"serviceName"`
	LaunchType    *string  `json:"launchType"`
	Tasks         []string `json:"tasks"`
	Include       []string `json:"include"`
	Task          string   `json:"task"`
	Reason        *string  `json:"reason"`
}

type listClustersOutput struct {
	ClusterArns []string `json:"clusterArns"`
	NextToken   *string  `json:"nextToken,omitempty"`
}

type listTasksOutput struct {
	TaskArns  []string `json:"taskArns"`
	NextToken *string  `json:"nextToken,omitempty"`
}

type describeTasksOutput struct {
	Failures []failure  `json:"failures"`
	Tasks    []wireTask `json:"tasks"`
}

type stopTaskOutput struct {
	Task wireTask `json:"task"`
}

type failure struct {
	Arn    string `json:"arn"`
	Reason string `json:"reason"`
}

// epoch is a timestamp as ECS sends it: seconds since the epoch with
// millisecond precision, written as Java writes a double (1.700000123456E9).
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	s := strconv.FormatFloat(float64(ms)/1000, 'E', -1, 64) // 1.700000123456E+09
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return []byte(mant + "E" + strconv.Itoa(n)), nil
}

func at(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

type nameValue struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

type wireTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type attachment struct {
	ID      string      `json:"id"`
	Type    string      `json:"type"`
	Status  string      `json:"status"`
	Details []nameValue `json:"details"`
}

type networkInterface struct {
	AttachmentID       string `json:"attachmentId"`
	PrivateIpv4Address string `json:"privateIpv4Address"`
}

type wireContainer struct {
	ContainerArn      string             `json:"containerArn"`
	TaskArn           string             `json:"taskArn"`
	Name              string             `json:"name"`
	Image             string             `json:"image"`
	ImageDigest       string             `json:"imageDigest,omitempty"`
	RuntimeID         string             `json:"runtimeId,omitempty"`
	LastStatus        string             `json:"lastStatus"`
	ExitCode          *int               `json:"exitCode,omitempty"`
	Reason            string             `json:"reason,omitempty"`
	NetworkBindings   []struct{}         `json:"networkBindings"`
	NetworkInterfaces []networkInterface `json:"networkInterfaces"`
	HealthStatus      string             `json:"healthStatus"`
	CPU               string             `json:"cpu"`
}

type containerOverride struct {
	Name string `json:"name"`
}

type overrides struct {
	ContainerOverrides            []containerOverride `json:"containerOverrides"`
	InferenceAcceleratorOverrides []struct{}          `json:"inferenceAcceleratorOverrides"`
}

// wireTask is a task as DescribeTasks and StopTask send it, with the
// fields a Fargate or EC2 task has in a real answer, so that clients parse
// as much per task as they would against ECS.
type wireTask struct {
	Attachments          []attachment    `json:"attachments"`
	Attributes           []nameValue     `json:"attributes"`
	AvailabilityZone     string          `json:"availabilityZone"`
	CapacityProviderName string          `json:"capacityProviderName,omitempty"`
	ClusterArn           string          `json:"clusterArn"`
	Connectivity         string          `json:"connectivity,omitempty"`
	ConnectivityAt       *epoch          `json:"connectivityAt,omitempty"`
	ContainerInstanceArn string          `json:"containerInstanceArn,omitempty"`
	Containers           []wireContainer `json:"containers"`
	CPU                  string          `json:"cpu,omitempty"`
	CreatedAt            *epoch          `json:"createdAt"`
	DesiredStatus        string          `json:"desiredStatus"`
	EnableExecuteCommand bool            `json:"enableExecuteCommand"`
	EphemeralStorage     *struct {
		SizeInGiB int `json:"sizeInGiB"`
	} `json:"ephemeralStorage,omitempty"`
	ExecutionStoppedAt *epoch     `json:"executionStoppedAt,omitempty"`
	Group              string     `json:"group"`
	HealthStatus       string     `json:"healthStatus"`
	LastStatus         string     `json:"lastStatus"`
	LaunchType         string     `json:"launchType"`
	Memory             string     `json:"memory,omitempty"`
	Overrides          overrides  `json:"overrides"`
	PlatformFamily     string     `json:"platformFamily,omitempty"`
	PlatformVersion    string     `json:"platformVersion,omitempty"`
	PullStartedAt      *epoch     `json:"pullStartedAt,omitempty"`
	PullStoppedAt      *epoch     `json:"pullStoppedAt,omitempty"`
	StartedAt          *epoch     `json:"startedAt,omitempty"`
	StartedBy          string     `json:"startedBy,omitempty"`
	StopCode           string     `json:"stopCode,omitempty"`
	StoppedAt          *epoch     `json:"stoppedAt,omitempty"`
	StoppedReason      string     `json:"stoppedReason,omitempty"`
	StoppingAt         *epoch     `json:"stoppingAt,omitempty"`
	Tags               *[]wireTag `json:"tags,omitempty"`
	TaskArn            string     `json:"taskArn"`
	TaskDefinitionArn  string     `json:"taskDefinitionArn"`
	Version            int64      `json:"version"`
}

// size is a task-level cpu or memory as sent: "-" is none.
func size(v string) string {
	if v == "-" {
		return ""
	}
	return v
}

// containerStatus is the lastStatus of a task's containers while the task
// is in that lastStatus: PENDING until the task runs, RUNNING while it
// runs and deactivates, STOPPED from STOPPING on.
func containerStatus(task string) string {
	switch task {
	case "PROVISIONING", "PENDING", "ACTIVATING":
		return "PENDING"
	case "RUNNING", "DEACTIVATING":
		return "RUNNING"
	}
	return "STOPPED"
}

// wire renders the task as ECS would, with its resource tags when tags.
func (t *task) wire(tags bool) wireTask {
	prefix := "arn:aws:ecs:" + t.Region + ":" + t.Account + ":"
	h := t.hash // 64 hex digits, for the IDs of the task's other resources
	eni := "eni-" + h[:17]
	ip := "10.0." + strconv.Itoa(int(h[0])%250) + "." + strconv.Itoa(int(h[1])%250+2)
	attachID := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	w := wireTask{
		Attributes:           []nameValue{{Name: "ecs.cpu-architecture", Value: "x86_64"}},
		AvailabilityZone:     t.AvailabilityZone,
		ClusterArn:           t.clusterARN,
		CPU:                  size(t.CPU),
		CreatedAt:            at(t.CreatedAt),
		DesiredStatus:        t.desired,
		EnableExecuteCommand: t.ExecEnabled,
		Group:                t.Group,
		HealthStatus:         "UNKNOWN",
		LastStatus:           t.LastStatus,
		LaunchType:           t.LaunchType,
		Memory:               size(t.Memory),
		StartedAt:            at(t.StartedAt),
		StartedBy:            t.StartedBy,
		StoppedAt:            at(t.stopped),
		ExecutionStoppedAt:   at(t.stopped),
		TaskArn:              t.arn,
		TaskDefinitionArn:    prefix + "task-definition/" + t.Family + ":" + strconv.Itoa(t.Revision),
		Version:              t.version,
	}
	if t.desired == "STOPPED" {
		w.StopCode, w.StoppedReason, w.StoppingAt = t.StopCode, t.StoppedReason, at(t.StoppingAt)
	}
	w.CapacityProviderName = t.CapacityProvider
	if t.LaunchType == "FARGATE" {
		w.PlatformFamily, w.PlatformVersion = "Linux", "1.4.0"
		w.EphemeralStorage = &struct {
			SizeInGiB int `json:"sizeInGiB"`
		}{20}
	} else {
		w.ContainerInstanceArn = prefix + "container-instance/" + t.Cluster + "/" + h[32:]
	}
	if !t.StartedAt.IsZero() {
		w.Connectivity, w.ConnectivityAt = "CONNECTED", at(t.CreatedAt.Add(5*time.Second))
		w.PullStartedAt, w.PullStoppedAt = at(t.CreatedAt.Add(8*time.Second)), at(t.StartedAt.Add(-2*time.Second))
	}
	w.Attachments = []attachment{{
		ID: attachID, Type: "ElasticNetworkInterface", Status: "ATTACHED",
		Details: []nameValue{
			{Name: "subnetId", Value: "subnet-0a1b2c3d4e5f60718"},
			{Name: "networkInterfaceId", Value: eni},
			{Name: "macAddress", Value: "0a:" + h[:2] + ":" + h[2:4] + ":" + h[4:6] + ":" + h[6:8] + ":" + h[8:10]},
			{Name: "privateDnsName", Value: "ip-" + strings.ReplaceAll(ip, ".", "-") + "." + t.Region + ".compute.internal"},
			{Name: "privateIPv4Address", Value: ip},
		},
	}}
	if t.LastStatus == "STOPPED" {
		w.Attachments[0].Status = "DELETED"
	}
	status := containerStatus(t.LastStatus)
	for i, name := range t.Containers {
		c := wireContainer{
			ContainerArn:      prefix + "container/" + t.Cluster + "/" + t.ID + "/" + attachID[:24] + strconv.Itoa(100000000000+i),
			TaskArn:           t.arn,
			Name:              name,
			Image:             t.Account + ".dkr.ecr." + t.Region + ".amazonaws.com/" + t.Family + ":latest",
			LastStatus:        status,
			NetworkBindings:   []struct{}{},
			NetworkInterfaces: []networkInterface{{AttachmentID: attachID, PrivateIpv4Address: ip}},
			HealthStatus:      "UNKNOWN",
			CPU:               "0",
		}
		if !t.StartedAt.IsZero() {
			c.RuntimeID = h[:32] + "-" + strconv.Itoa(1000000000+i)
			c.ImageDigest = "sha256:" + h
		}
		if t.LastStatus == "STOPPED" {
			c.ExitCode = Code(137)
			if j := slices.IndexFunc(t.Exits, func(e Exit) bool { return e.Container == name }); j >= 0 {
				c.ExitCode, c.Reason = t.Exits[j].Code, t.Exits[j].Reason
			}
		}
		w.Containers = append(w.Containers, c)
		w.Overrides.ContainerOverrides = append(w.Overrides.ContainerOverrides, containerOverride{Name: name})
	}
	w.Overrides.InferenceAcceleratorOverrides = []struct{}{}
	if tags {
		list := make([]wireTag, 0, len(t.Tags)) // "tags": [] when the task has none
		for _, tag := range t.Tags {
			list = append(list, wireTag(tag))
		}
		w.Tags = &list
	}
	return w
}
