package dogstatsd

import (
	"strings"

	"ecs-uptime/uptime"
)

// Sanitize makes a value safe to put in a DogStatsD tag: every character
// that could end the tag, the tag list or the line (',', '|', '#', line
// breaks and other control characters) becomes '_', so that no label, name
// or variable can forge another tag or field. datadog-go itself only strips
// newlines. Leading and trailing spaces are trimmed.
func Sanitize(v string) string {
	v = strings.TrimSpace(v)
	clean := true
	for i := 0; i < len(v); i++ {
		if unsafe(v[i]) {
			clean = false
			break
		}
	}
	if clean {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for _, r := range v {
		if r < 0x80 && unsafe(byte(r)) || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			b.WriteByte('_')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unsafe(c byte) bool {
	return c == ',' || c == '|' || c == '#' || c < 0x20 || c == 0x7f || c >= 0x80
}

// tagList is a list of tags that leaves out the unknown ones: add puts
// key:value with the value sanitized, and nothing for an empty value,
// rather than a tag sent empty.
type tagList []string

func (l *tagList) add(key, value string) {
	if value = Sanitize(value); value != "" {
		*l = append(*l, key+":"+value)
	}
}

// Tag returns "key:value" with the value sanitized.
func Tag(key, value string) string { return key + ":" + Sanitize(value) }

// TaskTags returns the tags of a task's series. Tags whose value is unknown
// (no service, no availability zone) are left out rather than sent empty;
// ecs_task_kind is always there (unknown when the source could not tell).
func TaskTags(t *uptime.Task) []string {
	tags := make(tagList, 0, 15+len(t.ResourceTags))
	tags.add(TagTaskARN, t.ARN)
	tags.add(TagTaskName, t.Family)
	tags.add(TagTaskFamily, t.Family)
	tags.add(TagTaskVersion, t.Revision)
	tags.add(TagClusterName, t.Cluster)
	tags.add(TagClusterARN, t.ClusterARN)
	tags.add(TagRegion, t.Region)
	tags.add(TagAvailabilityZone, t.AvailabilityZone)
	tags.add(TagAccount, t.Account)
	tags.add(TagService, t.Service)
	tags.add(TagTaskKind, t.Kind.String())
	tags.add(TagLaunchType, t.LaunchType)
	tags.add(TagCapacityProvider, t.CapacityProvider)
	tags.add(TagStartedBy, t.StartedBy)
	if t.ExecEnabled {
		tags.add(TagExec, "enabled")
	}
	for _, rt := range t.ResourceTags {
		if k := ResourceTagKey(rt.Key); k != "" {
			tags.add(k, rt.Value)
		}
	}
	return tags
}

// ResourceTagKey turns an AWS resource tag key into a Datadog tag key:
// lowercased (DESIGN.md), sanitized, and with ':' and spaces made '_', so
// that the key stays one key ("team:owner" would otherwise be read as key
// "team" with a value starting "owner:").
func ResourceTagKey(k string) string {
	return strings.Map(func(r rune) rune {
		if r == ':' || r == ' ' {
			return '_'
		}
		return r
	}, Sanitize(strings.ToLower(k)))
}

// ContainerTags returns the container tags that are added to the task tags
// on ecs.container.uptime.
func ContainerTags(c uptime.Container) []string {
	tags := make(tagList, 0, 7)
	img := SplitImage(c.Image)
	tags.add(TagECSContainerName, c.Name)
	tags.add(TagContainerName, c.RuntimeName)
	tags.add(TagContainerID, c.ID)
	tags.add(TagDockerImage, c.Image)
	tags.add(TagImageName, img.Name)
	tags.add(TagShortImage, img.Short)
	tags.add(TagImageTag, img.Tag)
	return tags
}

// Image is an image reference split the way Datadog tags it.
type Image struct {
	Name  string // repository with registry, without tag or digest: "123.dkr.ecr…/team/app"
	Short string // last path element of Name: "app"
	Tag   string // "1.2", "latest" when the reference has neither tag nor digest, "" with a digest only
}

// SplitImage splits an image reference ("registry:5000/ns/app:1.2",
// "app@sha256:…", "alpine") into the parts Datadog tags.
func SplitImage(ref string) Image {
	if ref == "" {
		return Image{}
	}
	name, _, hasDigest := strings.Cut(ref, "@")
	var img Image
	// A colon after the last slash starts the tag; one before it is a registry port.
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name, img.Tag = name[:i], name[i+1:]
	}
	if img.Tag == "" && !hasDigest {
		img.Tag = "latest"
	}
	img.Name = name
	img.Short = name[strings.LastIndexByte(name, '/')+1:]
	return img
}

// FamilyTags returns the tags of a signal about a task family in a cluster
// (the ecs.family.singleton check and its event): the family and the
// cluster's name, ARN, region and account. Unknown values are left out
// rather than sent empty.
func FamilyTags(cl uptime.Cluster, family string) []string {
	tags := make(tagList, 0, 5)
	tags.add(TagTaskFamily, family)
	tags.add(TagClusterName, cl.Name)
	tags.add(TagClusterARN, cl.ARN)
	tags.add(TagRegion, cl.Region)
	tags.add(TagAccount, cl.Account)
	return tags
}

// familyTags returns the tags of a signal about a family (or about
// nothing: no Task and no Cluster).
func familyTags(s uptime.Subject) []string {
	var cl uptime.Cluster
	if s.Cluster != nil {
		cl = *s.Cluster
	}
	return FamilyTags(cl, s.Family)
}

// SubjectTags returns the tags of a signal about s: a task's tags (with
// its container's and its status when set), or a family's.
func SubjectTags(s uptime.Subject) []string {
	if s.Task == nil {
		return familyTags(s)
	}
	return withSubject(TaskTags(s.Task), s)
}

// withSubject appends to a task's tags what s adds to them: its status and
// its container's tags. It never writes into tags' array, which a cache
// shares.
func withSubject(tags []string, s uptime.Subject) []string {
	if s.Status == "" && s.Container == nil {
		return tags
	}
	out := tags[:len(tags):len(tags)]
	if s.Status != "" {
		out = append(out, Tag(TagTaskStatus, s.Status))
	}
	if s.Container != nil {
		out = append(out, ContainerTags(*s.Container)...)
	}
	return out
}

// lastTags computes a task's tags once for a run of signals about it (a
// task's gauge and its containers' gauges follow one another). It keeps
// one task's, not every task's of a Write: at 10,000 tasks a map of them
// was 7 MB of the api source's peak, for the little CPU that computing a
// task's tags again for its service check costs.
type lastTags struct {
	task *uptime.Task
	tags []string
}

func (c *lastTags) of(s uptime.Subject) []string {
	if s.Task == nil {
		return familyTags(s)
	}
	if s.Task != c.task {
		c.task, c.tags = s.Task, TaskTags(s.Task)
	}
	return withSubject(c.tags, s)
}
