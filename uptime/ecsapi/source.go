// Package ecsapi reads the tasks of the ECS clusters of one account or of
// many (an organization) from the ECS API
// (github.com/aws/aws-sdk-go-v2/service/ecs) and turns each into an
// uptime.Task, with its lifecycle (status, createdAt, stoppingAt, stop code
// and reason, each container's exit). It is the source of
// ECS_UPTIME_SOURCE=api, and it can stop a task (StopTask); deciding which
// task to stop, or what a status means, is not its business.
//
// # What a scan reads
//
// For each account (Options.Accounts or the organization's, else the
// credentials' own), each region (Options.Regions, or every region enabled
// in the account with Options.AllRegions, else the SDK's region, else the
// region of the task it runs in, else the EC2 instance's), and for each
// cluster (Options.Clusters, else every page of ListClusters): every page
// of ListTasks with desiredStatus RUNNING (the tasks on their way to run or
// running), every page with desiredStatus STOPPED (the tasks on their way
// to stop, and those that stopped, which ECS lists for about an hour), 100
// per page, then DescribeTasks in batches of at most 100 with include TAGS.
// It describes every task listed but those an earlier scan saw STOPPED (and
// that ListTasks still lists: an ARN it no longer lists is forgotten, so
// what is remembered stays bounded by what ECS lists), and returns each
// task described, whatever its lastStatus: a task is RUNNING, on its way,
// or STOPPED once (the scan that first sees it stopped). A failures entry
// (MISSING: it stopped and was purged between the list and the describe)
// returns nothing. At most Options.Concurrency account-regions are read at
// once, the clusters of an account-region one after the other.
//
// A cluster ARN names its account and region: it is read there only,
// whatever the regions; a short cluster name is read in every
// account-region.
//
// # Several accounts
//
// With Options.Accounts or Options.Organization the first scan learns the
// credentials' own account (sts:GetCallerIdentity) and, with Organization,
// the ACTIVE accounts of organizations:ListAccounts, re-read each Refresh
// (an hour) so that new accounts join and closed ones leave. In each
// account other than its own it assumes
// arn:PARTITION:iam::ACCOUNT:role/ROLE (Options.RoleName, session name
// SessionName, Options.ExternalID when set) through the SDK's stscreds
// provider behind a credentials cache: one AssumeRole per account per
// SessionDuration less RenewBefore, never one per scan. With AllRegions,
// each account's regions come from account:ListRegions (ENABLED and
// ENABLED_BY_DEFAULT), asked with that account's own credentials and
// re-read each Refresh. A re-read that fails keeps what the last one gave
// and is logged once, as is its recovery. Tags do not change: a task's
// account and region come from its ARN.
//
// # Partial reads
//
// A cluster that fails (access denied, not found, throttled past the SDK's
// retries, a page or batch that fails half-way) sends nothing for its tasks
// that cycle, never silences the others, and its tasks' uptimes are kept:
// Tasks returns the tasks of every cluster it read, each complete, with a
// *uptime.PartialError whose Unread names each failed cluster (Account,
// Region and Cluster), each account-region whose ListClusters failed
// (Cluster ""), and each account whose role cannot be assumed or whose
// regions were never listed (Region ""). Account is "" when the Source
// reads the credentials' own account alone. The Tracker holds the unread
// parts' tasks without sending or forgetting them, and the Runner logs
// each unread part once per change of state, so this package logs none. A
// scan that could read no part at all returns a plain error instead, and
// so does one that could learn no account to read (the organization never
// listed, the own account unknown). An account whose role is refused is
// asked again each scan: one AssumeRole per scan for as long as it is.
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
// Options.Clusters empty, each account-region adds ⌈clusters/100⌉
// ListClusters pages. So T tasks in C clusters, none stopping, cost between
// 2·⌈T/100⌉ + C and 2·⌈T/100⌉ + 3·C calls besides ListClusters (each
// cluster rounds its own pages up): 4 calls in all for 10 tasks in one
// cluster, 22 for 1,000, 211 for 10,000 in 10 clusters; 600 for 50
// accounts × 3 regions of one cluster of 100 tasks each. A retried attempt
// is one call more. Several accounts add, per Refresh, one ListAccounts
// page per 20 accounts (Organization) and one ListRegions page per 20
// regions of each account (AllRegions); one AssumeRole per other account
// per 59 minutes; one GetCallerIdentity at start.
//
// Every ECS attempt (the SDK's retries included) waits on the rate
// limiter of its account and region (Options.Rate): each account has its
// own ECS request buckets in each region. At 5 calls per second, 10,000
// tasks in one account-region take 40 s; 150 account-regions of 100 tasks
// each, read 8 at a time, about 19 rounds of 3 calls. A scan that takes
// longer than Options.Interval, or that its context's deadline cuts, is
// logged once with its duration and call count, saying whether the rate
// or the ECS API held it; and once when a scan reads everything in time
// again (scanlog.go).
//
// Credentials, region and endpoint come from config.LoadDefaultConfig, as
// for every AWS SDK user: task role, instance profile, environment,
// profiles, AWS_ENDPOINT_URL_ECS (and _STS, _ORGANIZATIONS, _ACCOUNT).
package ecsapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unique"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
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
	// AllRegions reads every region enabled in each account instead
	// (account:ListRegions, re-read each hour); Regions must be empty.
	AllRegions bool
	// Clusters to read, names or ARNs; empty: every cluster ListClusters
	// gives in each region.
	Clusters []string
	// Accounts to read, 12-digit IDs; empty (and not Organization): the
	// account of the SDK's credentials alone, whose ID is never asked.
	// In each one other than the credentials' own the Source assumes
	// RoleName (see the package doc).
	Accounts []string
	// Organization reads every ACTIVE account of the organization
	// (organizations:ListAccounts, re-read each hour); Accounts must be
	// empty.
	Organization bool
	// RoleName is the role assumed in each account other than the
	// credentials' own, with its path if it has one; empty: "ecs-uptime".
	RoleName string
	// ExternalID is given to AssumeRole when not empty.
	ExternalID string
	// Concurrency is the most account-regions read at once; 0: 8.
	Concurrency int
	// Rate is the most ECS API requests per second in each account and
	// region (each has its own limiter, as each has its own ECS request
	// bucket), retries included; it must be above 0.
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
	// Progress, when set, is called during a scan after each
	// DescribeTasks batch and after each cluster it tried, with the
	// clusters tried and the tasks described so far in that scan (a
	// progress line). Calls never overlap, though regions are read
	// concurrently; a slow Progress slows the scan.
	Progress func(clusters, tasks int)
}

// DefaultConcurrency is Options.Concurrency's default.
const DefaultConcurrency = 8

// DefaultRoleName is Options.RoleName's default.
const DefaultRoleName = "ecs-uptime"

// Scan describes one scan (see Source.LastScan).
type Scan struct {
	Duration time.Duration
	Calls    int // API requests (ECS, and STS, Organizations and Account for a scan of several accounts), every attempt counted
	Tasks    int // tasks returned, every status
	Clusters int // clusters read completely
	Unread   int // parts (clusters, regions or accounts) not read
}

// Source reads ECS tasks from the API. Use New. Tasks is not meant for
// concurrent use (the Runner calls it once per cycle); StopTask and
// LastScan may be called from any goroutine.
type Source struct {
	cfg         aws.Config // the SDK's configuration: the credentials' own account
	home        string     // the region of the STS, Organizations and Account clients
	regions     []string   // fixed regions; none with AllRegions
	allRegions  bool
	names, arns []string // clusters named by short name, by ARN
	rate        float64
	concurrency int
	parallel    int          // account-regions read at once in the last scan: the most the scan log counts the rate for
	calls       atomic.Int64 // every request of the process
	taskTags    []wantTag    // sorted by lower
	maxTag      string
	stopped     stoppedTasks // per cluster, the tasks seen STOPPED that ListTasks still lists
	interval    time.Duration
	log         *slog.Logger
	now         func() time.Time
	org         *orgState                // nil when the Source reads the credentials' account alone
	http        *awshttp.BuildableClient // shared by every ECS client; nil: each its own

	scan scanState // what the scan log last said (scanlog.go)

	progress func(clusters, tasks int)
	seenMu   sync.Mutex
	seen     [2]int // clusters tried, tasks described in this scan (Options.Progress)

	mu      sync.Mutex
	last    Scan
	targets map[target]*ecsTarget    // the ECS client of each account-region read so far
	accts   map[string]*accountState // each account read, by ID ("" for the credentials' own, alone)
}

// target is one account and region; account is "" when the Source reads
// the credentials' own account alone.
type target struct{ account, region string }

// ecsTarget is the ECS client of an account-region, with its own limiter.
type ecsTarget struct {
	client  *ecs.Client
	limiter *rate.Limiter
}

// wantTag is a resource tag key to copy: as configured, and lowercased as
// it is reported.
type wantTag struct{ lower, key string }

// regionPart is what a scan reads in one account and region.
type regionPart struct {
	account  string // "" for the credentials' own account, when it is the only one
	region   string
	list     bool     // every cluster of ListClusters
	clusters []string // else these, as given (names or ARNs)
}

// New loads the AWS configuration, resolves the regions and returns a
// Source. It makes no AWS API call: the accounts, their credentials and
// their regions are read by the first scan. No region found at all is an
// error wrapping ErrNoRegion.
func New(ctx context.Context, opts Options) (*Source, error) {
	if !(opts.Rate > 0) {
		return nil, fmt.Errorf("ecsapi: rate %v: want more than 0 requests per second", opts.Rate)
	}
	if opts.AllRegions && len(opts.Regions) > 0 {
		return nil, errors.New("ecsapi: regions: want either a list or all regions, not both")
	}
	if opts.Organization && len(opts.Accounts) > 0 {
		return nil, errors.New("ecsapi: accounts: want either a list or the organization, not both")
	}
	if opts.Concurrency < 0 {
		return nil, fmt.Errorf("ecsapi: concurrency %d: want 1 or more", opts.Concurrency)
	}
	cfg, err := config.LoadDefaultConfig(ctx, slices.Concat([]func(*config.LoadOptions) error{config.WithLogger(newSDKLogger(cmp.Or(opts.Log, slog.Default())))}, opts.LoadOptions)...)
	if err != nil {
		return nil, fmt.Errorf("load the AWS SDK configuration: %w", err)
	}
	cfg.Credentials = explainCredentials(cfg.Credentials)
	s := &Source{
		cfg:         cfg,
		allRegions:  opts.AllRegions,
		rate:        opts.Rate,
		concurrency: cmp.Or(opts.Concurrency, DefaultConcurrency),
		maxTag:      opts.MaxLifetimeTag,
		interval:    opts.Interval,
		log:         opts.Log,
		now:         time.Now,
		targets:     map[target]*ecsTarget{},
		progress:    opts.Progress,
		stopped:     stoppedTasks{byCluster: map[string]set{}},
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

	for _, c := range opts.Clusters {
		switch c = strings.TrimSpace(c); {
		case c == "":
		case strings.HasPrefix(c, "arn:"):
			if _, _, err := arnPlace(c); err != nil {
				return nil, err
			}
			s.arns = appendNew(s.arns, c)
		default:
			s.names = appendNew(s.names, c)
		}
	}
	// Regions are needed where short names or ListClusters are read.
	if (len(s.names) > 0 || len(s.arns) == 0) && !s.allRegions {
		for _, r := range opts.Regions {
			if r = strings.TrimSpace(r); r != "" {
				s.regions = appendNew(s.regions, r)
			}
		}
		if len(s.regions) == 0 {
			r, err := resolveRegion(ctx, cfg, opts.MetadataURI)
			if err != nil {
				return nil, err
			}
			s.regions = []string{r}
		}
	}
	multi := opts.Organization || len(opts.Accounts) > 0
	// The STS, Organizations and Account clients need a region of their
	// own: the SDK's, else the first one read, else the one found as for
	// a scan of one region.
	s.home = cfg.Region
	switch {
	case s.home != "":
	case len(s.regions) > 0:
		s.home = s.regions[0]
	case len(s.arns) > 0:
		_, s.home, _ = arnPlace(s.arns[0])
	default: // all regions, and no region anywhere yet
		if s.home, err = resolveRegion(ctx, cfg, opts.MetadataURI); err != nil {
			return nil, err
		}
	}
	if multi {
		s.org = newOrgState(opts)
	}
	// One HTTP client, and so one pool of connections, for every
	// account-region: the SDK gives each ECS client a transport of its
	// own, and 150 account-regions would keep 150 connections (and their
	// buffers) where the regions' endpoints need a few each. It keeps as
	// many idle connections per endpoint as account-regions are read at
	// once.
	if b, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		s.http = b.WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, s.concurrency)
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

// arnPlace returns the account and region of a cluster ARN.
func arnPlace(arn string) (account, region string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "ecs" || parts[3] == "" || !strings.HasPrefix(parts[5], "cluster/") {
		return "", "", fmt.Errorf("ecsapi: cluster %q: want a name or arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME", arn)
	}
	return parts[4], parts[3], nil
}

// Regions returns the regions a scan reads, in order: the regions of
// Options (or the one found), then those of cluster ARNs; none with
// AllRegions but those of cluster ARNs, since each account's are read by
// the scans.
func (s *Source) Regions() []string {
	out := slices.Clone(s.regions)
	for _, a := range s.arns {
		_, r, _ := arnPlace(a)
		out = appendNew(out, r)
	}
	return out
}

// parts returns what a scan reads in each of the accounts: in each, the
// regions of Options (or the account's enabled ones), with every cluster
// or the named ones, and each cluster ARN in its own account and region.
// An ARN of an account not read is left out: config refuses one that
// Options.Accounts does not list; one of an account that left the
// organization is not scanned.
func (s *Source) parts(accounts []accountRegions) []regionPart {
	var parts []regionPart
	for _, a := range accounts {
		regions := s.regions
		if s.allRegions {
			regions = a.regions
		}
		if len(s.names) == 0 && len(s.arns) > 0 {
			regions = nil // only the ARNs' own regions
		}
		for _, r := range regions {
			parts = append(parts, regionPart{account: a.id, region: r, list: len(s.names) == 0 && len(s.arns) == 0, clusters: slices.Clone(s.names)})
		}
		for _, arn := range s.arns {
			acct, r, _ := arnPlace(arn)
			if a.id != "" && acct != a.id {
				continue
			}
			i := slices.IndexFunc(parts, func(p regionPart) bool { return p.account == a.id && p.region == r })
			if i < 0 {
				parts = append(parts, regionPart{account: a.id, region: r})
				i = len(parts) - 1
			}
			// An ARN and the same cluster's short name are one cluster.
			if name := uptime.ClusterName(arn); !slices.Contains(parts[i].clusters, name) {
				parts[i].clusters = append(parts[i].clusters, arn)
			}
		}
	}
	return parts
}

// LastScan describes the last scan Tasks made.
func (s *Source) LastScan() Scan {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Calls returns how many AWS API requests the Source has made (ECS, STS,
// Organizations and Account), every attempt counted.
func (s *Source) Calls() int64 { return s.calls.Load() }

// regionResult is what a scan got from one region.
type regionResult struct {
	tasks    [][]uptime.Task // per cluster read, joined once by Tasks
	unread   []uptime.Unread
	read     int  // clusters read completely
	emptyRun bool // ListClusters answered with no cluster: the region was read
}

// Tasks scans every account, region and cluster; see the package doc for
// what a partial read returns. It implements uptime.Source.
func (s *Source) Tasks(ctx context.Context) ([]uptime.Task, error) {
	start := s.now()
	s.seen = [2]int{}
	var calls atomic.Int64
	ctx = context.WithValue(ctx, scanCalls{}, &calls)
	accounts, unreadAccounts, err := s.accounts(ctx)
	if err != nil {
		s.noteScan(ctx, Scan{Duration: s.now().Sub(start), Calls: int(calls.Load()), Unread: 1})
		return nil, err
	}
	parts := s.parts(accounts)
	s.parallel = min(len(parts), s.concurrency)
	results := make([]regionResult, len(parts))
	sem := make(chan struct{}, s.concurrency)
	var wg sync.WaitGroup
	for i, p := range parts {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i].unread = []uptime.Unread{{Account: p.account, Region: p.region, Err: fmt.Errorf("not read: %w", ctx.Err())}}
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = s.scanRegion(ctx, p)
		})
	}
	wg.Wait()

	n := 0
	for _, r := range results {
		for _, ts := range r.tasks {
			n += len(ts)
		}
	}
	tasks := make([]uptime.Task, 0, n)
	unread := unreadAccounts
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
	s.noteScan(ctx, Scan{Duration: s.now().Sub(start), Calls: int(calls.Load()), Tasks: len(tasks), Clusters: clusters, Unread: len(unread)})
	switch {
	case len(unread) == 0:
		return tasks, nil
	case readParts == 0:
		if err := noCredentials(unread); err != nil {
			return nil, err
		}
		errs := make([]error, len(unread))
		for i, u := range unread {
			errs[i] = fmt.Errorf("%s: %w", u.Key(), u.Err)
		}
		return nil, fmt.Errorf("read ECS tasks: no cluster could be read: %w", errors.Join(errs...))
	default:
		return tasks, &uptime.PartialError{Unread: unread}
	}
}

// scanRegion reads the clusters of one account and region, one after the
// other.
func (s *Source) scanRegion(ctx context.Context, p regionPart) regionResult {
	var res regionResult
	client := s.target(p.account, p.region).client
	clusters := p.clusters
	if p.list {
		var err error
		if clusters, err = listClusters(ctx, client); err != nil {
			res.unread = append(res.unread, uptime.Unread{Account: p.account, Region: p.region, Err: fmt.Errorf("list clusters: %w", err)})
			return res
		}
		res.emptyRun = len(clusters) == 0
	}
	for _, c := range clusters {
		name := uptime.ClusterName(c)
		if err := ctx.Err(); err != nil {
			res.unread = append(res.unread, uptime.Unread{Account: p.account, Region: p.region, Cluster: name, Err: fmt.Errorf("not read: %w", err)})
			continue
		}
		key := p.account + " " + p.region + " " + c
		tasks, stopped, err := s.readCluster(ctx, client, c, s.stopped.get(key))
		s.advance(1, 0)
		if err != nil {
			res.unread = append(res.unread, uptime.Unread{Account: p.account, Region: p.region, Cluster: name, Err: err})
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
		s.advance(0, len(out.Tasks))
	}
	return tasks, stopped, nil
}

// advance counts clusters tried and tasks described into the scan's
// progress, and reports it to Options.Progress.
func (s *Source) advance(clusters, tasks int) {
	if s.progress == nil {
		return
	}
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	s.seen[0] += clusters
	s.seen[1] += tasks
	s.progress(s.seen[0], s.seen[1])
}

// task turns a described task into an uptime.Task, whatever its status.
func (s *Source) task(d *types.Task) (t uptime.Task, err error) {
	// Every string kept is a copy: the SDK's deserializer cuts a
	// response's strings from one arena, and a kept substring would keep
	// the whole response alive (10,000 tasks held 10 MB of arenas). The
	// values that tasks share (their cluster, task definition, zone,
	// status, size…) are interned: one copy for every task that has it,
	// where 10,000 tasks kept 10,000.
	t, err = uptime.NewTask(own(d.TaskArn), shared(d.ClusterArn))
	if err != nil {
		return t, err
	}
	t.Family, t.Revision = taskDefinition(shared(d.TaskDefinitionArn))
	t.AvailabilityZone = shared(d.AvailabilityZone)
	if svc, isService := strings.CutPrefix(aws.ToString(d.Group), "service:"); isService {
		t.Service = intern(svc)
	}
	t.Kind = kind(aws.ToString(d.Group), aws.ToString(d.StartedBy))
	t.LaunchType = intern(string(d.LaunchType))
	t.CapacityProvider = shared(d.CapacityProviderName)
	t.StartedBy = shared(d.StartedBy) // a service's deployment, a CI job's: shared by its tasks
	t.StartedAt = aws.ToTime(d.StartedAt)
	s.tags(&t, d.Tags)
	lifecycle(&t, d)
	return t, nil
}

// lifecycle copies the task's status, its times, how it stopped, its
// task-level size and whether ECS Exec is on.
func lifecycle(t *uptime.Task, d *types.Task) {
	t.Status = shared(d.LastStatus)
	t.CreatedAt = aws.ToTime(d.CreatedAt)
	t.StoppingAt = aws.ToTime(d.StoppingAt)
	t.CPU, t.Memory = shared(d.Cpu), shared(d.Memory)
	t.ExecEnabled = d.EnableExecuteCommand
	if d.StoppedAt == nil && d.StopCode == "" && d.StoppedReason == nil && !t.Stopped() {
		return // not ending: no Ending, as for most tasks of a read
	}
	end := &uptime.Ending{StoppedAt: aws.ToTime(d.StoppedAt), StopCode: intern(string(d.StopCode)), StoppedReason: shared(d.StoppedReason)}
	t.Ending = end
	if !t.Stopped() || len(d.Containers) == 0 {
		return
	}
	end.Exits = make([]uptime.ContainerExit, len(d.Containers))
	for i, c := range d.Containers {
		e := uptime.ContainerExit{Name: shared(c.Name), Reason: shared(c.Reason)}
		if c.ExitCode != nil {
			code := int(*c.ExitCode)
			e.ExitCode = &code
		}
		end.Exits[i] = e
	}
}

// kind is a task's kind as DESIGN.md's One-offs and service tasks gives it
// for the api source: a service's task has the group service:NAME, or was
// started by a deployment (ecs-svc/…); any other task is standalone.
func kind(group, startedBy string) uptime.Kind {
	if strings.HasPrefix(group, "service:") || strings.HasPrefix(startedBy, "ecs-svc/") {
		return uptime.KindService
	}
	return uptime.KindStandalone
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

// shared returns the interned *p (see intern), or "" for nil.
func shared(p *string) string { return intern(aws.ToString(p)) }

// intern returns the one copy of v that every task with that value shares
// (unique clones it when first seen, so it shares no memory with the
// SDK's response, and drops it once no task keeps it).
func intern(v string) string {
	if v == "" {
		return ""
	}
	return unique.Make(v).Value()
}

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
				t.ResourceTags = append(t.ResourceTags, uptime.ResourceTag{Key: s.taskTags[i].lower, Value: intern(p.value)})
			}
		}
	}
	t.MaxLifetimeTag, t.HasMaxLifetimeTag = intern(life.value), life.found
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
	account := t.Account
	if s.org == nil {
		account = "" // the credentials' own, the only one
	}
	s.mu.Lock()
	tg := s.targets[target{account, t.Region}]
	s.mu.Unlock()
	if tg == nil {
		return fmt.Errorf("stop task %s: account %s, region %q is not one this source has read", t.ARN, t.Account, t.Region)
	}
	client := tg.client
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
