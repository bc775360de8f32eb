// Package ecsapi reads the tasks of an account's ECS clusters from the ECS
// API (github.com/aws/aws-sdk-go-v2/service/ecs) and turns each into an
// uptime.Task, with its lifecycle (status, createdAt, stoppingAt, stop code
// and reason, each container's exit). It is the source of
// ECS_UPTIME_SOURCE=api, and it can stop a task (StopTask); deciding which
// task to stop, or what a status means, is not its business.
//
// # What a scan reads
//
// For each region (Options.Regions, else the SDK's region, else the region
// of the task it runs in, else the EC2 instance's), and for each cluster
// (Options.Clusters, else every page of ListClusters): every page of
// ListTasks with desiredStatus RUNNING (the tasks on their way to run or
// running), every page with desiredStatus STOPPED (the tasks on their way to
// stop, and those that stopped, which ECS lists for about an hour), 100 per
// page, then DescribeTasks in batches of at most 100 with include TAGS. It
// describes every task listed but those an earlier scan saw STOPPED (and
// that ListTasks still lists: an ARN it no longer lists is forgotten, so
// what is remembered stays bounded by what ECS lists), and returns each
// task described, whatever its lastStatus: a task is RUNNING, on its way,
// or STOPPED once (the scan that first sees it stopped). A failures entry
// (MISSING: it stopped and was purged between the list and the describe)
// returns nothing. Regions are read concurrently, the clusters of a region
// one after the other.
//
// A cluster ARN names its region: it is read in that region only, whatever
// the regions; a short cluster name is read in every region.
//
// # Partial reads
//
// A cluster that fails (access denied, not found, throttled past the SDK's
// retries, a page or batch that fails half-way) sends nothing for its tasks
// that cycle, never silences the others, and its tasks' uptimes are kept:
// Tasks returns the tasks of every cluster it read, each complete, with a
// *uptime.PartialError whose Unread names each failed cluster (Region and
// Cluster), or the whole region (Cluster "") when its ListClusters failed.
// The Tracker holds the unread parts' tasks without sending or forgetting
// them, and the Runner logs each unread part once per change of state, so
// this package logs none. A scan that could read no part at all returns a
// plain error instead.
//
// # Cost in API calls
//
// A cluster of n tasks with desired status RUNNING (PROVISIONING to
// RUNNING) and s with desired status STOPPED (DEACTIVATING to STOPPED, of
// which s′ are not known STOPPED yet) costs ⌈n/100⌉ ListTasks pages (one
// when there is none), ⌈s/100⌉ more (one when there is none), and
// ⌈(n+s′)/100⌉ DescribeTasks batches. In a steady scan s′ is the tasks that
// began to stop or stopped since the last one (the first scan describes
// every stopped task ECS still lists): a cluster of n tasks where none
// stops costs 2·⌈n/100⌉ + 1 calls, 2 when it is empty. With
// Options.Clusters empty, each region adds ⌈clusters/100⌉ ListClusters
// pages. So T tasks in C clusters, none stopping, cost between 2·⌈T/100⌉ +
// C and 2·⌈T/100⌉ + 3·C calls besides ListClusters (each cluster rounds its
// own pages up): 4 calls in all for 10 tasks in one cluster, 22 for 1,000,
// 211 for 10,000 in 10 clusters. A retried attempt is one call more.
//
// Every attempt (the SDK's retries included) waits on one rate limiter
// shared by every call of the process (Options.Rate, all regions
// together); at 5 calls per second, 10,000 tasks take 40 s. A scan that
// takes longer than Options.Interval is logged once with its duration and
// call count, and once when scans fit again.
//
// Credentials, region and endpoint come from config.LoadDefaultConfig, as
// for every AWS SDK user: task role, instance profile, environment,
// profiles, AWS_ENDPOINT_URL_ECS.
package ecsapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/time/rate"

	"ecs-uptime/uptime"
)

// MaxReason is the longest StopTask reason, in bytes, that StopTask sends:
// ECS accepts up to 255 characters.
const MaxReason = 254

// pageSize is ListClusters' and ListTasks' largest page and DescribeTasks'
// largest batch.
const pageSize = 100

// Options configure a Source.
type Options struct {
	// Regions to read; empty: the SDK's region (AWS_REGION…), else the
	// region of the task the process runs in (MetadataURI), else the EC2
	// instance's (IMDS). They are where ListClusters and short cluster
	// names are read: a cluster ARN is read in its own region only, and
	// with only ARNs in Clusters no region is looked up.
	Regions []string
	// Clusters to read, names or ARNs; empty: every cluster ListClusters
	// gives in each region.
	Clusters []string
	// Rate is the most ECS API requests per second, all regions and
	// retries together; it must be above 0.
	Rate float64
	// TaskTags are the task resource tag keys copied to Task.ResourceTags.
	// They match a task's tag keys regardless of case, as IAM's
	// ecs:ResourceTag condition keys do; a tag whose key matches exactly
	// wins over one that differs only in case. The keys are lowercased in
	// Task.ResourceTags.
	TaskTags []string
	// MaxLifetimeTag is the resource tag key whose value goes to
	// Task.MaxLifetimeTag, matched as TaskTags are; empty reads none.
	MaxLifetimeTag string
	// Interval is the collection interval: a scan longer than it is
	// logged. Zero checks nothing.
	Interval time.Duration
	// Log receives the slow-scan state changes; nil is slog.Default().
	Log *slog.Logger
	// MetadataURI is ECS_CONTAINER_METADATA_URI_V4, read for the region
	// of the task the process runs in when neither Regions nor the SDK
	// give one; empty skips that step.
	MetadataURI string
	// LoadOptions are passed to config.LoadDefaultConfig after the
	// defaults (tests: a retryer with short backoffs).
	LoadOptions []func(*config.LoadOptions) error
}

// Scan describes one scan (see Source.LastScan).
type Scan struct {
	Duration time.Duration
	Calls    int // API requests, every attempt counted
	Tasks    int // tasks returned, every status
	Clusters int // clusters read completely
	Unread   int // parts (clusters or regions) not read
}

// Source reads ECS tasks from the API. Use New. Tasks is not meant for
// concurrent use (the Runner calls it once per cycle); StopTask and
// LastScan may be called from any goroutine.
type Source struct {
	parts    []regionPart
	clients  map[string]*ecs.Client // per region
	limiter  *rate.Limiter
	calls    atomic.Int64 // every ECS request of the process
	taskTags []wantTag    // sorted by lower
	maxTag   string
	stopped  stoppedTasks // per cluster, the tasks seen STOPPED that ListTasks still lists
	interval time.Duration
	log      *slog.Logger
	now      func() time.Time

	slow bool // the last scan took longer than the interval

	mu   sync.Mutex
	last Scan
}

// wantTag is a resource tag key to copy: as configured, and lowercased as
// it is reported.
type wantTag struct{ lower, key string }

// regionPart is what a scan reads in one region.
type regionPart struct {
	region   string
	list     bool     // every cluster of ListClusters
	clusters []string // else these, as given (names or ARNs)
}

// New loads the AWS configuration, resolves the regions and returns a
// Source with one ECS client per region. No region found at all is an
// error wrapping ErrNoRegion.
func New(ctx context.Context, opts Options) (*Source, error) {
	if !(opts.Rate > 0) {
		return nil, fmt.Errorf("ecsapi: rate %v: want more than 0 requests per second", opts.Rate)
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts.LoadOptions...)
	if err != nil {
		return nil, fmt.Errorf("load the AWS SDK configuration: %w", err)
	}
	s := &Source{
		clients:  map[string]*ecs.Client{},
		limiter:  rate.NewLimiter(rate.Limit(opts.Rate), 1),
		maxTag:   opts.MaxLifetimeTag,
		interval: opts.Interval,
		log:      opts.Log,
		now:      time.Now,
		stopped:  stoppedTasks{byCluster: map[string]set{}},
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	for _, k := range opts.TaskTags {
		k = strings.TrimSpace(k)
		if k != "" && !slices.ContainsFunc(s.taskTags, func(w wantTag) bool { return strings.EqualFold(w.key, k) }) {
			s.taskTags = append(s.taskTags, wantTag{lower: strings.ToLower(k), key: k})
		}
	}
	slices.SortFunc(s.taskTags, func(a, b wantTag) int { return strings.Compare(a.lower, b.lower) })

	var names, arns []string
	for _, c := range opts.Clusters {
		switch c = strings.TrimSpace(c); {
		case c == "":
		case strings.HasPrefix(c, "arn:"):
			arns = appendNew(arns, c)
		default:
			names = appendNew(names, c)
		}
	}
	var regions []string
	if len(names) > 0 || len(arns) == 0 {
		for _, r := range opts.Regions {
			if r = strings.TrimSpace(r); r != "" {
				regions = appendNew(regions, r)
			}
		}
		if len(regions) == 0 {
			r, err := resolveRegion(ctx, cfg, opts.MetadataURI)
			if err != nil {
				return nil, err
			}
			regions = []string{r}
		}
	}
	for _, r := range regions {
		s.parts = append(s.parts, regionPart{region: r, list: len(names) == 0 && len(arns) == 0, clusters: slices.Clone(names)})
	}
	for _, a := range arns {
		r, err := arnRegion(a)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(s.parts, func(p regionPart) bool { return p.region == r })
		if i < 0 {
			s.parts = append(s.parts, regionPart{region: r})
			i = len(s.parts) - 1
		}
		// An ARN and the same cluster's short name are one cluster.
		if name := uptime.ClusterName(a); !slices.Contains(s.parts[i].clusters, name) {
			s.parts[i].clusters = append(s.parts[i].clusters, a)
		}
	}
	for _, p := range s.parts {
		s.clients[p.region] = ecs.NewFromConfig(cfg, func(o *ecs.Options) {
			o.Region = p.region
			o.APIOptions = append(slices.Clone(o.APIOptions), s.pace)
			o.HTTPClient = ownBody{o.HTTPClient}
		})
	}
	return s, nil
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// arnRegion returns the region of a cluster ARN.
func arnRegion(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "ecs" || parts[3] == "" || !strings.HasPrefix(parts[5], "cluster/") {
		return "", fmt.Errorf("ecsapi: cluster %q: want a name or arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME", arn)
	}
	return parts[3], nil
}

// Regions returns the regions a scan reads, in order.
func (s *Source) Regions() []string {
	out := make([]string, len(s.parts))
	for i, p := range s.parts {
		out[i] = p.region
	}
	return out
}

// LastScan describes the last scan Tasks made.
func (s *Source) LastScan() Scan {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Calls returns how many ECS API requests the Source has made, every
// attempt counted.
func (s *Source) Calls() int64 { return s.calls.Load() }

// regionResult is what a scan got from one region.
type regionResult struct {
	tasks    [][]uptime.Task // per cluster read, joined once by Tasks
	unread   []uptime.Unread
	read     int  // clusters read completely
	emptyRun bool // ListClusters answered with no cluster: the region was read
}

// Tasks scans every region and cluster; see the package doc for what a
// partial read returns. It implements uptime.Source.
func (s *Source) Tasks(ctx context.Context) ([]uptime.Task, error) {
	start := s.now()
	var calls atomic.Int64
	ctx = context.WithValue(ctx, scanCalls{}, &calls)
	results := make([]regionResult, len(s.parts))
	var wg sync.WaitGroup
	for i, p := range s.parts {
		wg.Go(func() { results[i] = s.scanRegion(ctx, p) })
	}
	wg.Wait()

	n := 0
	for _, r := range results {
		for _, ts := range r.tasks {
			n += len(ts)
		}
	}
	tasks := make([]uptime.Task, 0, n)
	var unread []uptime.Unread
	readParts, clusters := 0, 0
	for _, r := range results {
		for _, ts := range r.tasks {
			tasks = append(tasks, ts...)
		}
		unread = append(unread, r.unread...)
		clusters += r.read
		readParts += r.read
		if r.emptyRun {
			readParts++
		}
	}
	s.noteScan(Scan{Duration: s.now().Sub(start), Calls: int(calls.Load()), Tasks: len(tasks), Clusters: clusters, Unread: len(unread)})
	switch {
	case len(unread) == 0:
		return tasks, nil
	case readParts == 0:
		errs := make([]error, len(unread))
		for i, u := range unread {
			errs[i] = fmt.Errorf("%s: %w", u.Key(), u.Err)
		}
		return nil, fmt.Errorf("read ECS tasks: no cluster could be read: %w", errors.Join(errs...))
	default:
		return tasks, &uptime.PartialError{Unread: unread}
	}
}

// noteScan records a scan and logs when scans start or stop taking longer
// than the interval.
func (s *Source) noteScan(sc Scan) {
	s.mu.Lock()
	s.last = sc
	s.mu.Unlock()
	if s.interval <= 0 {
		return
	}
	attrs := []any{slog.Duration("duration", sc.Duration), slog.Int("api_calls", sc.Calls),
		slog.Duration("interval", s.interval), slog.Int("tasks", sc.Tasks), slog.Int("clusters", sc.Clusters)}
	switch slow := sc.Duration > s.interval; {
	case slow && !s.slow:
		s.log.Warn("ECS API scan took longer than the interval; the next cycle starts when it ends (raise ECS_UPTIME_API_RATE or ECS_UPTIME_INTERVAL, or split the clusters between scanners)", attrs...)
	case !slow && s.slow:
		s.log.Info("ECS API scans fit in the interval again", attrs...)
	}
	s.slow = sc.Duration > s.interval
}

func (s *Source) scanRegion(ctx context.Context, p regionPart) regionResult {
	var res regionResult
	client := s.clients[p.region]
	clusters := p.clusters
	if p.list {
		var err error
		if clusters, err = listClusters(ctx, client); err != nil {
			res.unread = append(res.unread, uptime.Unread{Region: p.region, Err: fmt.Errorf("list clusters: %w", err)})
			return res
		}
		res.emptyRun = len(clusters) == 0
	}
	for _, c := range clusters {
		name := uptime.ClusterName(c)
		if err := ctx.Err(); err != nil {
			res.unread = append(res.unread, uptime.Unread{Region: p.region, Cluster: name, Err: fmt.Errorf("not read: %w", err)})
			continue
		}
		key := p.region + " " + c
		tasks, stopped, err := s.readCluster(ctx, client, c, s.stopped.get(key))
		if err != nil {
			res.unread = append(res.unread, uptime.Unread{Region: p.region, Cluster: name, Err: err})
			continue
		}
		s.stopped.set(key, stopped)
		res.tasks = append(res.tasks, tasks)
		res.read++
	}
	return res
}

func listClusters(ctx context.Context, client *ecs.Client) ([]string, error) {
	var arns []string
	pages := ecs.NewListClustersPaginator(client, &ecs.ListClustersInput{MaxResults: aws.Int32(pageSize)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		arns = append(arns, page.ClusterArns...)
	}
	return arns, nil
}

// set is a set of task ARNs.
type set map[string]struct{}

// stoppedTasks remembers, per cluster, the ARNs of the tasks a scan saw
// STOPPED and ListTasks still lists, so that they are not described again.
// The clusters of different regions are read concurrently.
type stoppedTasks struct {
	mu        sync.Mutex
	byCluster map[string]set // region + " " + cluster as read
}

func (m *stoppedTasks) get(key string) set {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byCluster[key]
}

func (m *stoppedTasks) set(key string, arns set) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(arns) == 0 {
		delete(m.byCluster, key)
		return
	}
	m.byCluster[key] = arns
}

// readCluster lists the tasks of one cluster, desired status RUNNING then
// STOPPED, and describes them all but those of known (ARNs seen STOPPED by
// an earlier read). It returns every task it described, and the ARNs now
// known STOPPED: those of known still listed, and those it described
// STOPPED. Any failure fails the whole cluster, so that what it returns is
// complete (and known stays as it was).
func (s *Source) readCluster(ctx context.Context, client *ecs.Client, cluster string, known set) ([]uptime.Task, set, error) {
	var arns []string
	seen := set{}
	stopped := set{}
	for _, desired := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
		pages := ecs.NewListTasksPaginator(client, &ecs.ListTasksInput{
			Cluster:       aws.String(cluster),
			DesiredStatus: desired,
			MaxResults:    aws.Int32(pageSize),
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("list %s tasks: %w", strings.ToLower(string(desired)), err)
			}
			for _, a := range page.TaskArns {
				if _, dup := seen[a]; dup { // a task may move between pages, or from one list to the other
					continue
				}
				if _, old := known[a]; old && desired == types.DesiredStatusStopped {
					stopped[strings.Clone(a)] = struct{}{} // kept: owns no part of the response
					continue
				}
				seen[a] = struct{}{}
				arns = append(arns, a)
			}
		}
	}
	tasks := make([]uptime.Task, 0, len(arns))
	for batch := range slices.Chunk(arns, pageSize) {
		out, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{
			Cluster: aws.String(cluster),
			Tasks:   batch,
			Include: []types.TaskField{types.TaskFieldTags},
		})
		if err != nil {
			return nil, nil, fmt.Errorf("describe tasks: %w", err)
		}
		for _, f := range out.Failures {
			// MISSING: the task stopped and was purged since the list.
			// Any other reason leaves a task unknown: the cluster is
			// not read completely.
			if r := aws.ToString(f.Reason); r != "MISSING" {
				return nil, nil, fmt.Errorf("describe tasks: %s: %s %s", aws.ToString(f.Arn), r, aws.ToString(f.Detail))
			}
		}
		for i := range out.Tasks {
			t, err := s.task(&out.Tasks[i])
			if err != nil {
				return nil, nil, fmt.Errorf("describe tasks: %w", err)
			}
			if t.Stopped() {
				stopped[t.ARN] = struct{}{}
			}
			tasks = append(tasks, t)
		}
	}
	return tasks, stopped, nil
}

// task turns a described task into an uptime.Task, whatever its status.
func (s *Source) task(d *types.Task) (t uptime.Task, err error) {
	// Every string kept is cloned: the SDK's deserializer cuts a
	// response's strings from one arena, and a kept substring would keep
	// the whole response alive (10,000 tasks held 10 MB of arenas).
	t, err = uptime.NewTask(own(d.TaskArn), own(d.ClusterArn))
	if err != nil {
		return t, err
	}
	t.Family, t.Revision = taskDefinition(own(d.TaskDefinitionArn))
	t.AvailabilityZone = own(d.AvailabilityZone)
	if svc, isService := strings.CutPrefix(aws.ToString(d.Group), "service:"); isService {
		t.Service = strings.Clone(svc)
	}
	t.LaunchType = strings.Clone(string(d.LaunchType))
	t.CapacityProvider = own(d.CapacityProviderName)
	t.StartedBy = own(d.StartedBy)
	t.StartedAt = aws.ToTime(d.StartedAt)
	s.tags(&t, d.Tags)
	lifecycle(&t, d)
	return t, nil
}

// lifecycle copies the task's status, its times, how it stopped, its
// task-level size and whether ECS Exec is on.
func lifecycle(t *uptime.Task, d *types.Task) {
	t.Status = own(d.LastStatus)
	t.CreatedAt = aws.ToTime(d.CreatedAt)
	t.StoppingAt = aws.ToTime(d.StoppingAt)
	t.StoppedAt = aws.ToTime(d.StoppedAt)
	t.StopCode = strings.Clone(string(d.StopCode))
	t.StoppedReason = own(d.StoppedReason)
	t.CPU, t.Memory = own(d.Cpu), own(d.Memory)
	t.ExecEnabled = d.EnableExecuteCommand
	if !t.Stopped() || len(d.Containers) == 0 {
		return
	}
	t.Exits = make([]uptime.ContainerExit, len(d.Containers))
	for i, c := range d.Containers {
		e := uptime.ContainerExit{Name: own(c.Name), Reason: own(c.Reason)}
		if c.ExitCode != nil {
			code := int(*c.ExitCode)
			e.ExitCode = &code
		}
		t.Exits[i] = e
	}
}

// taskDefinition returns the family and revision of a task definition ARN
// (arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION).
func taskDefinition(arn string) (family, revision string) {
	_, res, found := strings.Cut(arn, ":task-definition/")
	if !found {
		return "", ""
	}
	if i := strings.LastIndexByte(res, ':'); i >= 0 {
		return res[:i], res[i+1:]
	}
	return res, ""
}

// tags copies the named resource tags and the max-lifetime tag. A key
// matches regardless of case; an exact match wins, and among keys that
// differ only in case the smallest does, so that the choice does not
// depend on the order of the tags.
// own returns a copy of *p, or "" for nil, that shares no memory with the
// SDK's response.
func own(p *string) string { return strings.Clone(aws.ToString(p)) }

func (s *Source) tags(t *uptime.Task, tags []types.Tag) {
	if len(tags) == 0 || len(s.taskTags) == 0 && s.maxTag == "" {
		return
	}
	var picks []tagPick // per s.taskTags, allocated at the first match
	var life tagPick
	for _, tag := range tags {
		key := aws.ToString(tag.Key)
		for i, w := range s.taskTags {
			if strings.EqualFold(key, w.key) {
				if picks == nil {
					picks = make([]tagPick, len(s.taskTags))
				}
				picks[i].offer(key, aws.ToString(tag.Value), key == w.key)
			}
		}
		if s.maxTag != "" && strings.EqualFold(key, s.maxTag) {
			life.offer(key, aws.ToString(tag.Value), key == s.maxTag)
		}
	}
	if picks != nil {
		t.ResourceTags = make([]uptime.ResourceTag, 0, len(picks))
		for i, p := range picks {
			if p.found {
				t.ResourceTags = append(t.ResourceTags, uptime.ResourceTag{Key: s.taskTags[i].lower, Value: strings.Clone(p.value)})
			}
		}
	}
	t.MaxLifetimeTag, t.HasMaxLifetimeTag = strings.Clone(life.value), life.found
}

// tagPick is the tag chosen so far for one wanted key.
type tagPick struct {
	key, value   string
	exact, found bool
}

func (p *tagPick) offer(key, value string, exact bool) {
	if !p.found || exact && !p.exact || exact == p.exact && key < p.key {
		*p = tagPick{key: key, value: value, exact: exact, found: true}
	}
}

// StopTask asks ECS to stop the task, with reason (cut to MaxReason bytes
// at a character boundary). The call waits on the same rate limiter as a
// scan and is retried by the SDK when throttled. Stopping a task that is
// already stopping is harmless.
func (s *Source) StopTask(ctx context.Context, t uptime.Task, reason string) error {
	client := s.clients[t.Region]
	if client == nil {
		return fmt.Errorf("stop task %s: region %q is not one this source reads", t.ARN, t.Region)
	}
	cluster := t.ClusterARN
	if cluster == "" {
		cluster = t.Cluster
	}
	_, err := client.StopTask(ctx, &ecs.StopTaskInput{
		Cluster: aws.String(cluster),
		Task:    aws.String(t.ARN),
		Reason:  aws.String(cut(reason, MaxReason)),
	})
	if err != nil {
		return fmt.Errorf("stop task %s: %w", t.ARN, err)
	}
	return nil
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
