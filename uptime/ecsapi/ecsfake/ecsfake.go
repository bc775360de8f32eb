// Package ecsfake is a fake Amazon ECS API for tests: an HTTP server that
// speaks the service's real wire protocol (awsJson1.1: POST /, the
// X-Amz-Target header AmazonEC2ContainerServiceV20141113.<Operation>, JSON
// bodies, timestamps as epoch seconds, errors as HTTP 400 with
// {"__type": ..., "message": ...}) for the operations ecs-uptime calls:
// ListClusters, ListTasks, DescribeTasks and StopTask. The real
// aws-sdk-go-v2 client and the AWS CLI talk to it unchanged, pointed at
// it by AWS_ENDPOINT_URL_ECS (see Environ) or --endpoint-url.
//
// It follows AWS's documented behaviour where ecs-uptime depends on it:
// pages of at most 100 with nextToken; ListTasks lists the tasks whose
// desired status is the one asked (RUNNING by default: the tasks on their
// way to run or running, PROVISIONING to RUNNING; STOPPED: the tasks on
// their way to stop or stopped, DEACTIVATING to STOPPED; PENDING: none);
// DescribeTasks refuses more than 100 tasks, answers unknown ones in
// failures with reason MISSING, and returns resource tags only with include
// TAGS; a task carries its lifecycle as ECS gives it (lastStatus,
// createdAt, startedAt, stoppingAt, stoppedAt, stopCode, stoppedReason,
// each container's exit code and reason, the task-level cpu and memory,
// enableExecuteCommand); StopTask sets the desired status to STOPPED with
// stop code UserInitiated and the caller's reason, answers with the task
// still RUNNING (stopping is asynchronous in ECS), and the task is STOPPED
// for every later read. Errors come as the service sends them:
// ClusterNotFoundException for a cluster that does not exist,
// InvalidParameterException for bad parameters, and any error a test
// injects with Inject (ThrottlingException, AccessDeniedException…).
//
// One server holds every region: the region of a request is the one its
// SigV4 signature is scoped to, as the real endpoint of that region would
// be. Requests without a SigV4 Authorization header are refused; the
// signature itself is not checked.
//
// It holds every account too, and the services a scan of an organization
// calls beside ECS, told apart by the service its signature is scoped to:
// STS (AssumeRole, GetCallerIdentity: the awsQuery protocol, XML answers;
// sts.go), Organizations (ListAccounts, paginated: awsJson1.1;
// organizations.go) and Account Management (ListRegions: restJson1;
// account.go). Environ's static credentials act in Account, the
// organization's management account; AssumeRole issues a session in a
// member account that AddAccount added, when the member's role and
// external ID match, and every call signed with that session acts in that
// account, until the session expires (ExpiredTokenException). A region an
// account has not enabled (SetRegions) refuses its ECS calls as AWS does.
//
// A test starts one with Start (or New), fills it with AddCluster and
// AddTask, points its client at it with Setenv (in-process) or Environ (a
// child process, such as the ecs-uptime binary), makes calls fail with
// Inject, moves tasks through their lifecycle with SetLastStatus and
// StopAs, changes them with RemoveTask and BeforeServe, and
// reads what the client did with Calls, Requests (each with its arrival
// time and account, for rate checks), Stops and AssumeRoles. A Go client should be ecsapi's: its
// HTTP client works around an SDK race (a request body closed under
// net/http) that a server as fast as this one makes likely.
//
// It is not a general ECS emulator: no services, task definitions or
// container instances, and tasks change state only when a test says so
// (StopTask aside).
package ecsfake

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Account is the AWS account ID in every ARN the fake makes.
const Account = "123456789012"

// Target is the prefix of the X-Amz-Target header of every ECS operation.
const Target = "AmazonEC2ContainerServiceV20141113."

// Operations the fake serves.
const (
	ListClusters  = "ListClusters"
	ListTasks     = "ListTasks"
	DescribeTasks = "DescribeTasks"
	StopTask      = "StopTask"
)

// Error codes (the __type of an error answer) the fake sends or a test can
// inject.
const (
	Throttling       = "ThrottlingException"
	AccessDenied     = "AccessDeniedException"
	ClusterNotFound  = "ClusterNotFoundException"
	InvalidParameter = "InvalidParameterException"
	ServerError      = "ServerException"
)

// ECS's limits.
const (
	maxPage     = 100 // most items in one page, and the default page size
	maxDescribe = 100 // most tasks in one DescribeTasks call
	maxReason   = 255 // longest StopTask reason ECS accepts
)

// Task is a task to add to the fake (see AddTask). Zero fields take the
// defaults their comments give.
type Task struct {
	Account string // default Account, the account of Environ's credentials
	Region  string // required
	Cluster string // short name, required; the cluster is created if it does not exist
	ID      string // default: 32 hex digits derived from the cluster and a counter
	Family  string // default "app"
	// Revision of the task definition; default 1.
	Revision         int
	Group            string // default "family:" + Family; "service:NAME" for a service's task
	LaunchType       string // default FARGATE
	CapacityProvider string // capacityProviderName, none by default
	StartedBy        string // none by default
	// StartedAt is the task's startedAt, sent with millisecond precision as
	// ECS does (as every time the fake sends); zero sends none (a task not
	// yet started).
	StartedAt time.Time
	// CreatedAt is the task's createdAt; default 20 s before StartedAt, or
	// when AddTask is called for a task not started.
	CreatedAt time.Time
	// LastStatus is one of Statuses; default RUNNING. A task on its way to
	// run or running (PROVISIONING to RUNNING) has desired status RUNNING;
	// one on its way to stop or stopped (DEACTIVATING to STOPPED) STOPPED.
	LastStatus string
	// StoppingAt is the task's stoppingAt, for a task on its way to stop
	// or stopped; default when AddTask (or SetLastStatus) moves it there.
	StoppingAt time.Time
	// StopCode and StoppedReason are given to the task once its desired
	// status is STOPPED; default EssentialContainerExited and "Essential
	// container in task exited" (StopTask gives its own).
	StopCode, StoppedReason string
	// Exits are how the task's containers end once it is STOPPED; a
	// container without one exits 137 (SIGKILL) with no reason.
	Exits []Exit
	// CPU and Memory are the task-level size (CPU units, MiB); default
	// "256" and "512" for FARGATE, none for EC2 (sized per container).
	// "-" sends none.
	CPU, Memory string
	// ExecEnabled is the task's enableExecuteCommand.
	ExecEnabled      bool
	AvailabilityZone string   // default the region + "a"
	Tags             []Tag    // resource tags, sent only with include TAGS
	Containers       []string // container names; default one named after the family
	// Ghost makes the task listed by ListTasks but unknown to
	// DescribeTasks (failures, reason MISSING) on every scan: a task that
	// stopped and was purged between the two calls.
	Ghost bool
}

// Statuses are the task lifecycle statuses, in their order
// (docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html).
var Statuses = []string{"PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"}

// desiredFor returns the desired status of a task in that lastStatus, and
// whether the status is one of Statuses.
func desiredFor(status string) (string, bool) {
	i := slices.Index(Statuses, status)
	switch {
	case i < 0:
		return "", false
	case i <= slices.Index(Statuses, "RUNNING"):
		return "RUNNING", true
	}
	return "STOPPED", true
}

// Exit is how one container of a stopped task ended.
type Exit struct {
	Container string // its name, as in Task.Containers
	Code      *int   // its exitCode; nil sends none (it never ran)
	Reason    string // ECS's reason, such as "CannotPullContainerError: …"; "" sends none
}

// Code returns a pointer to an exit code, for Exit.Code.
func Code(n int) *int { return &n }

// Tag is a resource tag.
type Tag struct{ Key, Value string }

// Tags returns the tags of alternating keys and values:
// Tags("team", "payments", "ecs-uptime:max-lifetime", "6h").
func Tags(keyValues ...string) []Tag {
	if len(keyValues)%2 != 0 {
		panic("ecsfake: Tags wants keys and values in pairs")
	}
	tags := make([]Tag, 0, len(keyValues)/2)
	for i := 0; i < len(keyValues); i += 2 {
		tags = append(tags, Tag{Key: keyValues[i], Value: keyValues[i+1]})
	}
	return tags
}

// Fault is an error the fake answers instead of serving a call. A call
// matches when each non-empty field equals the call's: Op its operation
// (of any service the fake serves), Account the account it acts in (see
// Request), Region its region, Cluster the short name of the cluster it
// names (a ListClusters call names none, so it matches only a Fault
// without Cluster), Task the ID or ARN a StopTask names.
type Fault struct {
	Op, Account, Region, Cluster, Task string
	Code                               string // the __type sent, such as Throttling
	Message                            string // default: the service's usual message for Code
	// Times is how many matching calls it answers; 0 means every one.
	Times int
}

// Request is one call the fake received (every attempt of a client
// counts, retries included), of any service it serves.
type Request struct {
	Service string // the SigV4 signing name: ecs, sts, organizations or account
	Op      string
	// Account is the account the call acts in: the one its credentials
	// belong to, except for AssumeRole (the account of the role assumed)
	// and ListRegions with an AccountId (that account). "" when the
	// credentials are unknown.
	Account string
	Region  string
	Cluster string // short name of the cluster the call names ("default" when none); "" for ListClusters
	// DesiredStatus is the desired status a ListTasks call lists
	// (RUNNING when it names none); "" for the other operations.
	DesiredStatus string
	At            time.Time
	Error         string // the __type answered, "" when served
}

// Stop is one StopTask call.
type Stop struct {
	Region, Cluster, TaskARN, Reason string
	At                               time.Time
	Error                            string // the __type answered when refused, "" when ECS accepted it
}

// Server is the fake ECS API. Use New or Start; every method is safe for
// concurrent use.
type Server struct {
	// URL is the endpoint to point AWS_ENDPOINT_URL_ECS (or the CLI's
	// --endpoint-url) at.
	URL string
	srv *httptest.Server

	mu       sync.Mutex
	clusters map[string]*cluster // account + "/" + region + "/" + name
	tasks    map[string]*task    // task ARN
	faults   []*Fault
	requests []*Request // pointers, so that an answer's error is noted once served
	stops    []Stop
	hook     func(Request)
	serial   int
	orgs     // accounts, regions, sessions: accounts.go
}

type cluster struct {
	account, region, name, arn string
	ids                        []string // task IDs in ARN order, for pages
	sorted                     bool
	byID                       map[string]*task
}

type task struct {
	Task
	arn, clusterARN string
	hash            string // hex SHA-256 of the ARN, for the IDs of its ENI, containers…
	desired         string
	stopped         time.Time
	version         int64
}

// New starts a fake with no cluster. Close it when done.
func New() *Server {
	s := &Server{clusters: map[string]*cluster{}, tasks: map[string]*task{}, orgs: newOrgs()}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Start starts a fake that is closed when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := New()
	tb.Cleanup(s.Close)
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Credentials of the environment Environ gives: any would do, the fake does
// not check signatures.
const (
	AccessKeyID     = "AKIDECSFAKE000000000"
	SecretAccessKey = "ecsfake-secret-access-key"
)

// Environ returns this process's environment with AWS_ variables replaced
// so that an AWS SDK or the AWS CLI sends its ECS calls to this fake and
// reaches nothing else (see the function Environ): the environment of a
// child process. In-process tests use Setenv.
func (s *Server) Environ(region string) []string { return Environ(os.Environ(), s.URL, region) }

// Environ returns base (KEY=value entries) without any AWS_ variable, plus
// the ones under which an AWS SDK or the AWS CLI sends its ECS, STS,
// Organizations and Account calls to url and reaches nothing else:
// AWS_ENDPOINT_URL_ECS (and _STS, _ORGANIZATIONS, _ACCOUNT), static
// credentials (of Account), the region (none when ""), no shared config
// or credentials file and no EC2 instance metadata. Unset rather than empty: botocore takes an empty
// AWS_PROFILE for a profile named "".
func Environ(base []string, url, region string) []string {
	env := make([]string, 0, len(base)+8)
	for _, kv := range base {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, fakeVars(url, region)...)
}

func fakeVars(url, region string) []string {
	vars := []string{
		"AWS_ENDPOINT_URL_ECS=" + url,
		"AWS_ENDPOINT_URL_STS=" + url,
		"AWS_ENDPOINT_URL_ORGANIZATIONS=" + url,
		"AWS_ENDPOINT_URL_ACCOUNT=" + url,
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	}
	if region != "" {
		vars = append(vars, "AWS_REGION="+region, "AWS_DEFAULT_REGION="+region)
	}
	return vars
}

// Setenv changes this process's environment as Environ does, for the rest
// of the test: every other AWS_ variable is unset (t.Setenv restores them
// all; not for parallel tests).
func (s *Server) Setenv(t testing.TB, region string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "") // registers the restore
			os.Unsetenv(k)
		}
	}
	for _, kv := range fakeVars(s.URL, region) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// ClusterARN returns the ARN of the cluster name in region, in Account.
func ClusterARN(region, name string) string { return AccountClusterARN(Account, region, name) }

// AccountClusterARN returns the ARN of the cluster name in region, in
// account.
func AccountClusterARN(account, region, name string) string {
	return "arn:aws:ecs:" + region + ":" + account + ":cluster/" + name
}

// AddCluster creates the cluster in Account (nothing if it exists) and
// returns its ARN.
func (s *Server) AddCluster(region, name string) string {
	return s.AddAccountCluster(Account, region, name)
}

// AddAccountCluster creates the cluster in account (nothing if it exists)
// and returns its ARN.
func (s *Server) AddAccountCluster(account, region, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cluster(account, region, name).arn
}

func (s *Server) cluster(account, region, name string) *cluster {
	key := account + "/" + region + "/" + name
	c := s.clusters[key]
	if c == nil {
		c = &cluster{account: account, region: region, name: name, arn: AccountClusterARN(account, region, name), byID: map[string]*task{}}
		s.clusters[key] = c
	}
	return c
}

// RemoveCluster deletes the cluster of Account and its tasks: every later
// call naming it gets ClusterNotFoundException.
func (s *Server) RemoveCluster(region, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := Account + "/" + region + "/" + name
	c := s.clusters[key]
	if c == nil {
		return
	}
	for _, t := range c.byID {
		delete(s.tasks, t.arn)
	}
	delete(s.clusters, key)
}

// AddTask adds a task, creating its cluster if needed, and returns its ARN.
// It panics on a task without Region or Cluster, an unknown LastStatus or a
// duplicate ID: those are mistakes in the test.
func (s *Server) AddTask(spec Task) string {
	if spec.Region == "" || spec.Cluster == "" {
		panic("ecsfake: a task needs a Region and a Cluster")
	}
	if spec.Account == "" {
		spec.Account = Account
	}
	if spec.LastStatus == "" {
		spec.LastStatus = "RUNNING"
	}
	desired, ok := desiredFor(spec.LastStatus)
	if !ok {
		panic("ecsfake: LastStatus " + spec.LastStatus + ": want one of " + strings.Join(Statuses, ", "))
	}
	if spec.Family == "" {
		spec.Family = "app"
	}
	if spec.Revision == 0 {
		spec.Revision = 1
	}
	if spec.Group == "" {
		spec.Group = "family:" + spec.Family
	}
	if spec.LaunchType == "" {
		spec.LaunchType = "FARGATE"
	}
	if spec.LaunchType == "FARGATE" {
		spec.CPU, spec.Memory = cmp.Or(spec.CPU, "256"), cmp.Or(spec.Memory, "512")
	}
	spec.Exits = slices.Clone(spec.Exits)
	if spec.AvailabilityZone == "" {
		spec.AvailabilityZone = spec.Region + "a"
	}
	if len(spec.Containers) == 0 {
		spec.Containers = []string{spec.Family}
	}
	spec.Tags = slices.Clone(spec.Tags)
	now := time.Now().Truncate(time.Millisecond)
	spec.StartedAt = spec.StartedAt.Truncate(time.Millisecond)
	switch {
	case !spec.CreatedAt.IsZero():
		spec.CreatedAt = spec.CreatedAt.Truncate(time.Millisecond)
	case !spec.StartedAt.IsZero():
		spec.CreatedAt = spec.StartedAt.Add(-20 * time.Second)
	default:
		spec.CreatedAt = now
	}
	spec.StoppingAt = spec.StoppingAt.Truncate(time.Millisecond)

	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cluster(spec.Account, spec.Region, spec.Cluster)
	if spec.ID == "" {
		s.serial++
		sum := sha256.Sum256([]byte(c.arn + "/" + strconv.Itoa(s.serial)))
		spec.ID = hex.EncodeToString(sum[:16])
	}
	if c.byID[spec.ID] != nil {
		panic("ecsfake: task " + spec.ID + " already exists in " + c.arn)
	}
	t := &task{
		Task:       spec,
		arn:        "arn:aws:ecs:" + spec.Region + ":" + spec.Account + ":task/" + spec.Cluster + "/" + spec.ID,
		clusterARN: c.arn,
		desired:    "RUNNING",
		version:    1,
	}
	sum := sha256.Sum256([]byte(t.arn))
	t.hash = hex.EncodeToString(sum[:])
	if !spec.StartedAt.IsZero() {
		t.version = 3
	}
	if desired == "STOPPED" {
		t.stopping(now, "", "")
	}
	if spec.LastStatus == "STOPPED" {
		t.stopped = now
	}
	c.byID[spec.ID] = t
	c.ids = append(c.ids, spec.ID)
	c.sorted = false
	s.tasks[t.arn] = t
	return t.arn
}

// RemoveTask forgets the task, as ECS does some time after it stopped:
// DescribeTasks answers MISSING for it from now on.
func (s *Server) RemoveTask(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tasks[arn]
	if t == nil {
		return
	}
	delete(s.tasks, arn)
	if c := s.clusters[t.Account+"/"+t.Region+"/"+t.Cluster]; c != nil {
		delete(c.byID, t.ID)
		c.ids = slices.DeleteFunc(c.ids, func(id string) bool { return id == t.ID })
	}
}

// SetLastStatus moves a task to one of Statuses, as ECS would: RUNNING
// gives a task not started yet its startedAt; a status on the way to stop
// (DEACTIVATING to STOPPED) sets the desired status to STOPPED, with
// stoppingAt, the stop code and reason (Task.StopCode, StoppedReason or
// their defaults) the first time; STOPPED sets stoppedAt and the
// containers' exits (Task.Exits). It reports whether the task exists; it
// panics on an unknown status.
func (s *Server) SetLastStatus(arn, status string) bool {
	desired, ok := desiredFor(status)
	if !ok {
		panic("ecsfake: SetLastStatus " + status + ": want one of " + strings.Join(Statuses, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tasks[arn]
	if t == nil {
		return false
	}
	now := time.Now().Truncate(time.Millisecond)
	switch {
	case status == "STOPPED":
		t.stop(now, "", "")
	case desired == "STOPPED":
		t.stopping(now, "", "")
		t.LastStatus = status
	default:
		t.LastStatus, t.desired = status, "RUNNING"
		if status == "RUNNING" && t.StartedAt.IsZero() {
			t.StartedAt = now
		}
	}
	t.version++
	return true
}

// StopAs stops the task as ECS would when it ends by itself or is stopped:
// STOPPED with that stop code and reason, its containers ending as exits
// say (a container without an Exit: 137). It reports whether the task
// exists.
func (s *Server) StopAs(arn, code, reason string, exits ...Exit) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tasks[arn]
	if t == nil {
		return false
	}
	t.Exits = slices.Clone(exits)
	t.stop(time.Now(), code, reason)
	t.version++
	return true
}

// stopping sets the desired status to STOPPED, the first time with
// stoppingAt (unless the test gave one), a stop code and reason (those
// given, else the task's, else the defaults).
func (t *task) stopping(now time.Time, code, reason string) {
	if t.desired == "STOPPED" {
		return
	}
	t.desired = "STOPPED"
	if t.StoppingAt.IsZero() {
		t.StoppingAt = now.Truncate(time.Millisecond)
	}
	t.StopCode = cmp.Or(code, t.StopCode, "EssentialContainerExited")
	t.StoppedReason = cmp.Or(reason, t.StoppedReason, "Essential container in task exited")
}

func (t *task) stop(now time.Time, code, reason string) {
	now = now.Truncate(time.Millisecond)
	if code != "" && t.desired == "STOPPED" && t.LastStatus != "STOPPED" {
		// Told how it ended, after it was already on its way.
		t.StopCode, t.StoppedReason = code, cmp.Or(reason, t.StoppedReason)
	}
	t.stopping(now, code, reason)
	if t.LastStatus != "STOPPED" {
		t.LastStatus, t.stopped = "STOPPED", now
	}
}

// Inject makes the fake answer calls matching f with f.Code until it has
// answered f.Times of them (every one when 0), or until the returned
// function removes it.
func (s *Server) Inject(f Fault) (remove func()) {
	p := &f
	s.mu.Lock()
	s.faults = append(s.faults, p)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.faults = slices.DeleteFunc(s.faults, func(q *Fault) bool { return q == p })
	}
}

// BeforeServe sets a function the fake calls with each request before it
// serves it (nil: none), outside its lock, so that it may change the fake:
// remove a task between ListTasks and DescribeTasks, for instance.
func (s *Server) BeforeServe(fn func(Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = fn
}

// Requests returns every call received since the last Reset, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = *r
	}
	return out
}

// Calls returns how many calls of op (every operation when "") were
// received since the last Reset.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if op == "" || r.Op == op {
			n++
		}
	}
	return n
}

// Stops returns every StopTask call received since the last Reset.
func (s *Server) Stops() []Stop {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.stops)
}

// Reset forgets the calls, stops and role sessions asked so far; tasks,
// clusters, accounts, the sessions issued and faults stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.stops, s.assumed = nil, nil, nil
}

// apiError is an error answer.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func invalid(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, InvalidParameter, fmt.Sprintf(format, args...)}
}

var defaultMessages = map[string]string{
	Throttling:                 "Rate exceeded",
	"Throttling":               "Rate exceeded",
	"TooManyRequestsException": "Rate exceeded",
	ClusterNotFound:            "Cluster not found.",
	ServerError:                "Service Unavailable. Please try again later.",
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	switch signingService(r) {
	case "sts":
		s.serveSTS(w, r, at)
		return
	case "organizations":
		s.serveOrganizations(w, r, at)
		return
	case "account":
		s.serveAccount(w, r, at)
		return
	}
	op, region, body, aerr := s.parse(r)
	req := Request{Service: "ecs", Op: op, Region: region, At: at}
	if aerr == nil {
		req.Account, aerr = s.ecsCaller(r, at)
	}
	var in request
	if aerr == nil {
		if err := json.Unmarshal(body, &in); err != nil {
			aerr = &apiError{http.StatusBadRequest, "SerializationException", "Start of structure or map found where not expected. " + err.Error()}
		}
	}
	if aerr == nil && op != ListClusters {
		req.Cluster = clusterName(deref(in.Cluster))
	}
	if aerr == nil && op == ListTasks {
		req.DesiredStatus = cmp.Or(deref(in.DesiredStatus), "RUNNING")
	}

	s.mu.Lock()
	if aerr == nil {
		aerr = s.fault(req, in.Task)
	}
	if aerr == nil {
		aerr = s.regionDisabled(req.Account, region)
	}
	if aerr != nil {
		req.Error = aerr.code
	}
	noted := &req
	s.requests = append(s.requests, noted)
	if op == StopTask && aerr != nil {
		s.stops = append(s.stops, Stop{Region: region, Cluster: req.Cluster, TaskARN: in.Task, Reason: deref(in.Reason), At: at, Error: aerr.code})
	}
	hook := s.hook
	s.mu.Unlock()

	if hook != nil {
		hook(req)
	}
	var out any
	if aerr == nil {
		s.mu.Lock()
		out, aerr = s.handle(op, req.Account, region, &in, at)
		if aerr != nil {
			noted.Error = aerr.code
		}
		if aerr != nil && op == StopTask {
			s.stops = append(s.stops, Stop{Region: region, Cluster: req.Cluster, TaskARN: in.Task, Reason: deref(in.Reason), At: at, Error: aerr.code})
		}
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", requestID(at, req))
	if aerr != nil {
		w.WriteHeader(aerr.status)
		json.NewEncoder(w).Encode(map[string]string{"__type": aerr.code, "message": aerr.message})
		return
	}
	json.NewEncoder(w).Encode(out)
}

// parse checks the protocol: method, path, target, content type and a
// SigV4 authorization scoped to a region and to ecs.
func (s *Server) parse(r *http.Request) (op, region string, body []byte, aerr *apiError) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, Target)
	if r.Method != http.MethodPost || r.URL.Path != "/" || !ok {
		return op, "", nil, &apiError{http.StatusBadRequest, "UnknownOperationException", "want POST / with X-Amz-Target: " + Target + "<Operation>"}
	}
	switch op {
	case ListClusters, ListTasks, DescribeTasks, StopTask:
	default:
		return op, "", nil, &apiError{http.StatusBadRequest, "UnknownOperationException", "the fake does not serve " + op}
	}
	auth := r.Header.Get("Authorization")
	_, cred, _ := strings.Cut(auth, "Credential=")
	cred, _, _ = strings.Cut(cred, ",")
	scope := strings.Split(cred, "/") // AKID/DATE/REGION/SERVICE/aws4_request
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || len(scope) != 5 || scope[3] != "ecs" || scope[4] != "aws4_request" || r.Header.Get("X-Amz-Date") == "" {
		return op, "", nil, &apiError{http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	region = scope[2]
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		return op, region, nil, &apiError{http.StatusBadRequest, "SerializationException", "Content-Type " + ct + ": want application/x-amz-json-1.1"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return op, region, nil, &apiError{http.StatusBadRequest, "SerializationException", err.Error()}
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	return op, region, body, nil
}

// fault returns the injected error for the call, if any. s.mu is held.
func (s *Server) fault(req Request, taskRef string) *apiError {
	for _, f := range s.faults {
		if f.Op != "" && f.Op != req.Op || f.Account != "" && f.Account != req.Account || f.Region != "" && f.Region != req.Region ||
			f.Cluster != "" && (req.Op == ListClusters || f.Cluster != req.Cluster) ||
			f.Task != "" && f.Task != taskRef && !strings.HasSuffix(taskRef, "/"+f.Task) {
			continue
		}
		msg := f.Message
		if msg == "" {
			msg = defaultMessages[f.Code]
		}
		if msg == "" && strings.HasPrefix(f.Code, "AccessDenied") {
			msg = s.deniedMessage(req, "")
		}
		status := http.StatusBadRequest
		if f.Code == ServerError {
			status = http.StatusInternalServerError
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = slices.DeleteFunc(s.faults, func(q *Fault) bool { return q == f })
			}
		}
		return &apiError{status, f.Code, msg}
	}
	return nil
}

// handle serves a parsed call. s.mu is held.
func (s *Server) handle(op, account, region string, in *request, now time.Time) (any, *apiError) {
	switch op {
	case ListClusters:
		return s.listClusters(account, region, in)
	case ListTasks:
		return s.listTasks(account, region, in)
	case DescribeTasks:
		return s.describeTasks(account, region, in)
	default:
		return s.stopTask(account, region, in, now)
	}
}

func (s *Server) listClusters(account, region string, in *request) (any, *apiError) {
	var arns []string
	for _, c := range s.clusters {
		if c.account == account && c.region == region {
			arns = append(arns, c.arn)
		}
	}
	sort.Strings(arns)
	page, next, aerr := paginate(arns, in, "clusters/"+account+"/"+region)
	if aerr != nil {
		return nil, aerr
	}
	return listClustersOutput{ClusterArns: page, NextToken: next}, nil
}

func (s *Server) listTasks(account, region string, in *request) (any, *apiError) {
	c, aerr := s.find(account, region, in.Cluster)
	if aerr != nil {
		return nil, aerr
	}
	desired := deref(in.DesiredStatus)
	switch desired {
	case "":
		desired = "RUNNING"
	case "RUNNING", "PENDING", "STOPPED":
	default:
		return nil, invalid("desiredStatus %q: want RUNNING, PENDING or STOPPED", desired)
	}
	if !c.sorted {
		sort.Strings(c.ids) // IDs order the tasks of a cluster as their ARNs do
		c.sorted = true
	}
	arns := make([]string, 0, len(c.ids))
	for _, id := range c.ids {
		t := c.byID[id]
		// A PENDING desired status lists nothing, as documented.
		if t.desired != desired || desired == "PENDING" ||
			in.Family != nil && *in.Family != t.Family ||
			in.StartedBy != nil && *in.StartedBy != t.StartedBy ||
			in.ServiceName != nil && "service:"+*in.ServiceName != t.Group ||
			in.LaunchType != nil && *in.LaunchType != t.LaunchType {
			continue
		}
		arns = append(arns, t.arn)
	}
	page, next, aerr := paginate(arns, in, "tasks/"+c.arn+"/"+desired)
	if aerr != nil {
		return nil, aerr
	}
	return listTasksOutput{TaskArns: page, NextToken: next}, nil
}

// paginate cuts one page of an ECS list call from the sorted items (see
// cutPage).
func paginate(items []string, in *request, scope string) (page []string, next *string, aerr *apiError) {
	size := maxPage
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxPage {
			return nil, nil, invalid("maxResults %d: want 1 to %d", *in.MaxResults, maxPage)
		}
		size = *in.MaxResults
	}
	page, next, ok := cutPage(items, size, in.NextToken, scope)
	if !ok {
		return nil, nil, invalid("Invalid token %s", *in.NextToken)
	}
	return page, next, nil
}

// cutPage cuts one page of at most size from the sorted items, after the
// item token names (from the start without one). The token names the last
// item of the previous page, so that items added or removed between pages
// never make a page skip or repeat one that stays; ok is false for a token
// that is not one of scope's. Every paginated call of the fake (ECS,
// Organizations, Account) pages this way.
func cutPage(items []string, size int, token *string, scope string) (page []string, next *string, ok bool) {
	start := 0
	if token != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*token)
		last, ok := strings.CutPrefix(string(raw), scope+"\x00")
		if err != nil || !ok {
			return nil, nil, false
		}
		start = sort.SearchStrings(items, last)
		if start < len(items) && items[start] == last {
			start++
		}
	}
	end := min(start+size, len(items))
	page = items[start:end]
	if end < len(items) {
		tok := base64.RawURLEncoding.EncodeToString([]byte(scope + "\x00" + items[end-1]))
		next = &tok
	}
	if page == nil {
		page = []string{}
	}
	return page, next, true
}

// find returns the cluster a call names (short name or ARN; default
// "default").
func (s *Server) find(account, region string, ref *string) (*cluster, *apiError) {
	name := "default"
	if ref != nil && *ref != "" {
		name = *ref
	}
	if strings.HasPrefix(name, "arn:") {
		c := s.clusters[account+"/"+region+"/"+clusterName(name)]
		if c == nil || c.arn != name {
			return nil, &apiError{http.StatusBadRequest, ClusterNotFound, defaultMessages[ClusterNotFound]}
		}
		return c, nil
	}
	c := s.clusters[account+"/"+region+"/"+name]
	if c == nil {
		return nil, &apiError{http.StatusBadRequest, ClusterNotFound, defaultMessages[ClusterNotFound]}
	}
	return c, nil
}

func (s *Server) describeTasks(account, region string, in *request) (any, *apiError) {
	c, aerr := s.find(account, region, in.Cluster)
	if aerr != nil {
		return nil, aerr
	}
	switch {
	case len(in.Tasks) == 0:
		return nil, invalid("Tasks cannot be empty.")
	case len(in.Tasks) > maxDescribe:
		return nil, invalid("Tasks cannot have more than %d elements.", maxDescribe)
	}
	tags := false
	for _, f := range in.Include {
		if f != "TAGS" {
			return nil, invalid("include %q: want TAGS", f)
		}
		tags = true
	}
	out := describeTasksOutput{Tasks: []wireTask{}, Failures: []failure{}}
	for _, ref := range in.Tasks {
		t := c.lookup(ref)
		if t == nil || t.Ghost {
			out.Failures = append(out.Failures, failure{Arn: ref, Reason: "MISSING"})
			continue
		}
		out.Tasks = append(out.Tasks, t.wire(tags))
	}
	return out, nil
}

// lookup finds a task of the cluster by ID or ARN.
func (c *cluster) lookup(ref string) *task {
	id := ref
	if strings.HasPrefix(ref, "arn:") {
		prefix := "arn:aws:ecs:" + c.region + ":" + c.account + ":task/" + c.name + "/"
		var ok bool
		if id, ok = strings.CutPrefix(ref, prefix); !ok {
			return nil
		}
	}
	return c.byID[id]
}

func (s *Server) stopTask(account, region string, in *request, now time.Time) (any, *apiError) {
	c, aerr := s.find(account, region, in.Cluster)
	if aerr != nil {
		return nil, aerr
	}
	if len(deref(in.Reason)) > maxReason {
		return nil, invalid("Reason cannot be longer than %d characters.", maxReason)
	}
	t := c.lookup(in.Task)
	if t == nil || t.Ghost {
		return nil, invalid("The referenced task was not found.")
	}
	reason := deref(in.Reason)
	s.stops = append(s.stops, Stop{Region: region, Cluster: c.name, TaskARN: t.arn, Reason: reason, At: now})
	if t.desired == "STOPPED" {
		return stopTaskOutput{Task: t.wire(false)}, nil // stopping twice changes nothing
	}
	t.stopping(now, "UserInitiated", cmp.Or(reason, "Task stopped by user"))
	t.version++
	out := stopTaskOutput{Task: t.wire(false)}
	// ECS answers at once and stops the task asynchronously; the fake
	// finishes the stop before any later read.
	t.stop(now, "", "")
	t.version++
	return out, nil
}

// clusterName returns the short name of a cluster a call names by name or
// ARN; ECS's default is "default".
func clusterName(ref string) string {
	if ref == "" {
		return "default"
	}
	if i := strings.LastIndex(ref, ":cluster/"); strings.HasPrefix(ref, "arn:") && i >= 0 {
		return ref[i+len(":cluster/"):]
	}
	return ref
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func requestID(at time.Time, r Request) string {
	sum := sha256.Sum256([]byte(at.String() + r.Op + r.Account + r.Region + r.Cluster))
	h := hex.EncodeToString(sum[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
