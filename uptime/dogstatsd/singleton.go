package dogstatsd

import (
	"github.com/DataDog/datadog-go/v5/statsd"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/singleton"
)

// newSingletons returns the Watch of the families ECS_UPTIME_SINGLETONS
// lists, or nil when it lists none: then Send spends nothing on them.
func newSingletons(families []string) *singleton.Watch {
	if len(families) == 0 {
		return nil
	}
	return singleton.New(families)
}

// sendSingletons sends, for the cycle, the ecs.family.singleton service
// check of every (cluster, family) the Watch judges, and one event per
// onset of a CRITICAL, titled "2 tasks of db-migrate running in prod" with
// the cluster ARN and the family as aggregation key. It does not flush
// (Send does) and returns the first error met.
func (s *Sink) sendSingletons(c uptime.Cycle) error {
	if s.singletons == nil {
		return nil
	}
	var first firstError
	for _, v := range s.singletons.Observe(c) {
		tags := SingletonTags(v.Cluster, v.Family)
		first.keep(s.client.ServiceCheck(&statsd.ServiceCheck{
			Name: CheckFamilySingleton, Status: statsd.ServiceCheckStatus(v.State),
			Timestamp: c.At, Message: oneField(v.Message), Tags: tags,
		}))
		if v.Onset {
			first.keep(s.event(v.EventTitle(), v.EventText(), c.At, v.AggregationKey(), statsd.Error, tags))
		}
	}
	return first.err
}

// SingletonTags returns the tags of the ecs.family.singleton check and its
// event: the family and the cluster's name, ARN, region and account.
// Unknown values are left out rather than sent empty.
func SingletonTags(cl singleton.Cluster, family string) []string {
	tags := make(tagList, 0, 5)
	tags.add(TagTaskFamily, family)
	tags.add(TagClusterName, cl.Name)
	tags.add(TagClusterARN, cl.ARN)
	tags.add(TagRegion, cl.Region)
	tags.add(TagAccount, cl.Account)
	return tags
}
