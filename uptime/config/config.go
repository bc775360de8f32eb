// Package config reads ecs-uptime's configuration from the environment
// (with github.com/caarlos0/env/v11) and checks it, so that a bad value
// stops the process before anything is sent, with one line per problem
// naming the variable, the value and the accepted form.
//
// It is the one place that knows the variables; the task-definition tests
// use it to check the variables shipped in task-definitions/.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Sources.
const (
	SourceAuto   = "auto"
	SourceECS    = "ecs"
	SourceDocker = "docker"
	SourceAPI    = "api"
)

// Organization is the ECS_UPTIME_ACCOUNTS value that scans every ACTIVE
// account of the organization.
const Organization = "organization"

// AllRegions is the ECS_UPTIME_REGIONS value that scans every region
// enabled in each account.
const AllRegions = "all"

// MaxScanConcurrency is the largest ECS_UPTIME_SCAN_CONCURRENCY.
const MaxScanConcurrency = 64

// ECS_UPTIME_SERVICE_TASKS values: what becomes of a service's tasks
// (DESIGN.md, One-offs and service tasks).
const (
	ServiceTasksReport = "report" // gauges only, judged on nothing (the default)
	ServiceTasksJudge  = "judge"  // judged as one-offs are
	ServiceTasksSkip   = "skip"   // nothing sent
)

// APIInterval is ECS_UPTIME_INTERVAL's default with the api source: a scan
// of an account costs API calls from a bucket every deploy tool shares.
const APIInterval = 60 * time.Second

// DefaultMaxLifetimeTag is ECS_UPTIME_MAX_LIFETIME_TAG's default.
const DefaultMaxLifetimeTag = "ecs-uptime:max-lifetime"

// MinInterval is the shortest accepted ECS_UPTIME_INTERVAL: the metadata
// endpoint throttles bursts.
const MinInterval = 100 * time.Millisecond

// Config is ecs-uptime's whole configuration. The form tag says what a
// variable accepts, for error messages.
type Config struct {
	Source           string        `env:"ECS_UPTIME_SOURCE" envDefault:"auto" form:"auto, ecs, docker or api"`
	Interval         time.Duration `env:"ECS_UPTIME_INTERVAL" envDefault:"15s" form:"a Go duration of at least 100ms, such as 15s or 1m"`
	ContainerMetrics bool          `env:"ECS_UPTIME_CONTAINER_METRICS" envDefault:"false" form:"true or false"`
	Warning          time.Duration `env:"ECS_UPTIME_WARNING" envDefault:"0" form:"a Go duration such as 20h, or 0 for off"`
	Critical         time.Duration `env:"ECS_UPTIME_CRITICAL" envDefault:"24h" form:"a Go duration such as 24h, or 0 for off"`
	MaxLifetime      time.Duration `env:"ECS_UPTIME_MAX_LIFETIME" envDefault:"0" form:"a Go duration such as 24h, or 0 for off"`
	HealthPort       int           `env:"ECS_UPTIME_HEALTH_PORT" envDefault:"18125" form:"a port number from 1 to 65535 for the loopback health endpoint, or 0 for off"`
	Tags             string        `env:"ECS_UPTIME_TAGS" form:"key:value tags separated by commas or spaces"`
	LogLevel         string        `env:"ECS_UPTIME_LOG_LEVEL" envDefault:"info" form:"debug, info, warn or error"`
	LogFormat        string        `env:"ECS_UPTIME_LOG_FORMAT" envDefault:"json" form:"json or text"`
	Singletons       []string      `env:"ECS_UPTIME_SINGLETONS" envSeparator:"," form:"task family names separated by commas"`
	ServiceTasks     string        `env:"ECS_UPTIME_SERVICE_TASKS" envDefault:"report" form:"report (a service's tasks get their gauges and are judged on nothing), judge (judged as one-offs are) or skip (nothing sent for them)"`

	// The api source's own variables: refused with any other source.
	Clusters       []string `env:"ECS_UPTIME_CLUSTERS" envSeparator:"," form:"ECS cluster names or ARNs separated by commas"`
	Regions        []string `env:"ECS_UPTIME_REGIONS" envSeparator:"," form:"AWS region names separated by commas, such as eu-west-1,us-east-1, or all (every region enabled in each account)"`
	APIRate        float64  `env:"ECS_UPTIME_API_RATE" envDefault:"5" form:"ECS API requests per second per account and region, a number above 0 and at most 20 (an account's sustained ListTasks/DescribeTasks rate in a region), such as 5 or 0.5"`
	TaskTags       []string `env:"ECS_UPTIME_TASK_TAGS" envSeparator:"," form:"task resource tag keys separated by commas"`
	StopTasks      bool     `env:"ECS_UPTIME_STOP_TASKS" envDefault:"false" form:"true or false"`
	MaxLifetimeTag string   `env:"ECS_UPTIME_MAX_LIFETIME_TAG" envDefault:"ecs-uptime:max-lifetime" form:"a task resource tag key of 1 to 128 characters, not starting with aws:"`
	// Scanning an organization (DESIGN.md): the accounts, the role assumed
	// in each, and how many account-regions are scanned at once.
	Accounts        []string      `env:"ECS_UPTIME_ACCOUNTS" envSeparator:"," form:"12-digit AWS account IDs separated by commas, or organization (every ACTIVE account of the organization)"`
	RoleName        string        `env:"ECS_UPTIME_ROLE_NAME" envDefault:"ecs-uptime" form:"an IAM role name of 1 to 64 letters, digits and +=,.@_- (with its path if it has one: path/name)"`
	ExternalID      string        `env:"ECS_UPTIME_EXTERNAL_ID" form:"an external ID of 2 to 1224 letters, digits and +=,.@:/_-"`
	ScanConcurrency int           `env:"ECS_UPTIME_SCAN_CONCURRENCY" envDefault:"8" form:"how many account-regions are scanned at once, a whole number from 1 to 64"`
	StuckAfter      time.Duration `env:"ECS_UPTIME_STUCK_AFTER" envDefault:"1h" form:"a Go duration such as 1h or 30m, or 0 for off"`

	AgentHost    string `env:"DD_AGENT_HOST" envDefault:"localhost" form:"a host name or IP address"`
	DogStatsPort string `env:"DD_DOGSTATSD_PORT" envDefault:"8125" form:"a port number from 1 to 65535"`
	DogStatsURL  string `env:"DD_DOGSTATSD_URL" form:"udp://HOST:PORT, unix:///PATH or unixgram:///PATH"`
	DDEnv        string `env:"DD_ENV"`
	DDService    string `env:"DD_SERVICE"`
	DDVersion    string `env:"DD_VERSION"`
	DDTags       string `env:"DD_TAGS"`

	MetadataURI string `env:"ECS_CONTAINER_METADATA_URI_V4" form:"an http:// URL (the ECS agent sets it)"`
	DockerHost  string `env:"DOCKER_HOST"`
}

// Error lists every problem found in the configuration, one per line.
type Error struct{ Problems []string }

func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }

// Load reads the configuration from environ (as env.ToMap(os.Environ())
// gives it) and validates it. Its error is an *Error.
func Load(environ map[string]string) (Config, error) {
	var c Config
	err := env.ParseWithOptions(&c, env.Options{Environment: environ})
	if _, set := environ["ECS_UPTIME_INTERVAL"]; !set && c.Source == SourceAPI {
		c.Interval = APIInterval
	}
	for _, list := range []*[]string{&c.Singletons, &c.Clusters, &c.Regions, &c.TaskTags, &c.Accounts} {
		for i := range *list {
			(*list)[i] = strings.TrimSpace((*list)[i])
		}
	}
	var problems []string
	if err != nil {
		problems = parseProblems(err, environ)
	}
	// A variable that did not parse is reported once, not again by the
	// range checks that see its zero value.
	for _, v := range c.validate(environ) {
		if !reported(problems, v) {
			problems = append(problems, v)
		}
	}
	if len(problems) > 0 {
		return c, &Error{Problems: problems}
	}
	return c, nil
}

// parseProblems turns env's errors into "VAR=value: want FORM" lines.
func parseProblems(err error, environ map[string]string) []string {
	var agg env.AggregateError
	errs := []error{err}
	if errors.As(err, &agg) {
		errs = agg.Errors
	}
	var out []string
	for _, e := range errs {
		var pe env.ParseError
		if errors.As(e, &pe) {
			if f, ok := reflect.TypeFor[Config]().FieldByName(pe.Name); ok {
				key := f.Tag.Get("env")
				out = append(out, fmt.Sprintf("%s=%q: want %s", key, environ[key], f.Tag.Get("form")))
				continue
			}
		}
		out = append(out, e.Error())
	}
	return out
}

func reported(problems []string, line string) bool {
	key, _, _ := strings.Cut(line, "=")
	for _, p := range problems {
		if strings.HasPrefix(p, key+"=") {
			return true
		}
	}
	return false
}

func bad(environ map[string]string, key, want string) string {
	if f, ok := fieldByEnv(key); ok && want == "" {
		want = f.Tag.Get("form")
	}
	return fmt.Sprintf("%s=%q: want %s", key, environ[key], want)
}

func fieldByEnv(key string) (reflect.StructField, bool) {
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("env") == key {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

// validate checks what parsing cannot: ranges, enumerations and the rules
// between variables.
func (c *Config) validate(environ map[string]string) []string {
	var p []string
	switch c.Source {
	case SourceAuto, SourceECS, SourceDocker, SourceAPI:
	default:
		p = append(p, bad(environ, "ECS_UPTIME_SOURCE", ""))
	}
	switch c.ServiceTasks {
	case ServiceTasksReport, ServiceTasksJudge, ServiceTasksSkip:
	default:
		p = append(p, bad(environ, "ECS_UPTIME_SERVICE_TASKS", ""))
	}
	if c.Interval < MinInterval {
		p = append(p, bad(environ, "ECS_UPTIME_INTERVAL", ""))
	}
	for _, v := range []struct {
		key string
		d   time.Duration
	}{{"ECS_UPTIME_WARNING", c.Warning}, {"ECS_UPTIME_CRITICAL", c.Critical}, {"ECS_UPTIME_MAX_LIFETIME", c.MaxLifetime}} {
		if v.d < 0 {
			p = append(p, bad(environ, v.key, ""))
		}
	}
	if c.Warning > 0 && c.Critical > 0 && c.Warning >= c.Critical {
		p = append(p, fmt.Sprintf("ECS_UPTIME_WARNING=%q: want less than ECS_UPTIME_CRITICAL=%q (or set ECS_UPTIME_CRITICAL=0 to use only a warning)", environ["ECS_UPTIME_WARNING"], c.Critical))
	}
	if c.MaxLifetime > 0 && c.Source == SourceDocker {
		p = append(p, fmt.Sprintf("ECS_UPTIME_MAX_LIFETIME=%q: want it unset with ECS_UPTIME_SOURCE=docker (the host daemon never stops tasks it does not own)", environ["ECS_UPTIME_MAX_LIFETIME"]))
	}
	if c.MaxLifetime > 0 && c.Source == SourceAPI {
		p = append(p, fmt.Sprintf("ECS_UPTIME_MAX_LIFETIME=%q: want it unset with ECS_UPTIME_SOURCE=api; a task opts in to being stopped with its %s resource tag (see ECS_UPTIME_MAX_LIFETIME_TAG and ECS_UPTIME_STOP_TASKS)", environ["ECS_UPTIME_MAX_LIFETIME"], c.MaxLifetimeTag))
	}
	if c.ContainerMetrics && c.Source == SourceAPI {
		p = append(p, fmt.Sprintf("ECS_UPTIME_CONTAINER_METRICS=%q: want it unset or false with ECS_UPTIME_SOURCE=api (the ECS API gives no container's start; use the sidecar or the host daemon for ecs.container.uptime)", environ["ECS_UPTIME_CONTAINER_METRICS"]))
	}
	p = append(p, c.validateAPI(environ)...)
	p = append(p, c.validateSingletons(environ)...)
	p = append(p, unknownVariables(environ)...)
	if c.HealthPort < 0 || c.HealthPort > 65535 {
		p = append(p, bad(environ, "ECS_UPTIME_HEALTH_PORT", ""))
	}
	if c.Source == SourceECS && c.MetadataURI == "" {
		p = append(p, "ECS_CONTAINER_METADATA_URI_V4 is not set: want the URL the ECS agent sets in every container of a task (ECS_UPTIME_SOURCE=ecs runs only inside an ECS task)")
	}
	if c.MetadataURI != "" {
		if u, err := url.Parse(c.MetadataURI); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p = append(p, bad(environ, "ECS_CONTAINER_METADATA_URI_V4", ""))
		}
	}
	if _, err := c.LogLevelValue(); err != nil {
		p = append(p, bad(environ, "ECS_UPTIME_LOG_LEVEL", ""))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		p = append(p, bad(environ, "ECS_UPTIME_LOG_FORMAT", ""))
	}
	if _, err := splitTags(c.Tags, true); err != nil {
		p = append(p, bad(environ, "ECS_UPTIME_TAGS", err.Error()))
	}
	if _, err := splitTags(c.DDTags, false); err != nil {
		p = append(p, bad(environ, "DD_TAGS", err.Error()))
	}
	if c.DogStatsURL != "" {
		if _, err := c.urlAddr(); err != nil {
			p = append(p, bad(environ, "DD_DOGSTATSD_URL", ""))
		}
	} else {
		if n, err := strconv.Atoi(c.DogStatsPort); err != nil || n < 1 || n > 65535 {
			p = append(p, bad(environ, "DD_DOGSTATSD_PORT", ""))
		}
		if h := c.AgentHost; h == "" || strings.ContainsAny(h, " /,|#") && !strings.HasPrefix(h, "unix://") {
			p = append(p, bad(environ, "DD_AGENT_HOST", ""))
		}
	}
	return p
}

// apiOnly are the variables only the api source reads.
var apiOnly = []string{"ECS_UPTIME_CLUSTERS", "ECS_UPTIME_REGIONS", "ECS_UPTIME_API_RATE", "ECS_UPTIME_TASK_TAGS", "ECS_UPTIME_STOP_TASKS", "ECS_UPTIME_MAX_LIFETIME_TAG",
	"ECS_UPTIME_ACCOUNTS", "ECS_UPTIME_ROLE_NAME", "ECS_UPTIME_EXTERNAL_ID", "ECS_UPTIME_SCAN_CONCURRENCY",
	"ECS_UPTIME_STUCK_AFTER"}

// reservedTagKeys are the tag keys ecs-uptime sets itself: a resource tag
// copied under one of them would give a series two values for one key.
var reservedTagKeys = []string{"task_arn", "task_name", "task_family", "task_version", "ecs_cluster_name", "cluster_arn",
	"region", "availability-zone", "aws_account", "ecs_service", "ecs_task_kind", "ecs_launch_type", "ecs_capacity_provider", "started_by",
	"ecs_task_status", "ecs_exec", "env", "service", "version"}

// The forms of names ECS and AWS accept. They are checked by hand, not
// with regexp: a compiled {1,255} repetition is 255 copies of its class,
// and these would cost every process, the sidecar included, 700 KB of
// heap at start for variables only the api source reads.

// ecsName reports whether s is a cluster or family name: 1 to 255
// letters, digits, hyphens and underscores.
func ecsName(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// clusterARN reports whether s is an ECS cluster ARN:
// arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME.
func clusterARN(s string) bool {
	f := strings.SplitN(s, ":", 6)
	if len(f) != 6 || f[0] != "arn" || !strings.HasPrefix(f[1], "aws") || f[2] != "ecs" || !regionName(f[3]) || len(f[4]) != 12 || strings.Trim(f[4], "0123456789") != "" {
		return false
	}
	name, ok := strings.CutPrefix(f[5], "cluster/")
	return ok && ecsName(name)
}

// regionName reports whether s has the form of an AWS region:
// eu-west-1, us-gov-west-1, cn-north-1.
func regionName(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts[0]) != 2 {
		return false
	}
	for i, p := range parts {
		set := "abcdefghijklmnopqrstuvwxyz"
		if i == len(parts)-1 {
			set = "0123456789"
		}
		if p == "" || strings.Trim(p, set) != "" {
			return false
		}
	}
	return true
}

// validateAPI checks the api source's variables, and refuses them with any
// other source: set there, they would be silently ignored.
func (c *Config) validateAPI(environ map[string]string) []string {
	var p []string
	if c.Source != SourceAPI {
		for _, key := range apiOnly {
			if _, set := environ[key]; set {
				p = append(p, fmt.Sprintf("%s=%q: want it unset with ECS_UPTIME_SOURCE=%s; only ECS_UPTIME_SOURCE=api reads it (auto never picks api)", key, environ[key], c.Source))
			}
		}
		return p
	}
	for _, v := range []struct {
		key  string
		list []string
		ok   func(string) bool
		what string
	}{
		{"ECS_UPTIME_CLUSTERS", c.Clusters, func(s string) bool { return ecsName(s) || clusterARN(s) }, "a cluster name (letters, digits, - and _) or a cluster ARN"},
		{"ECS_UPTIME_REGIONS", c.Regions, regionName, "a region name such as eu-west-1 (or all, alone)"},
		{"ECS_UPTIME_ACCOUNTS", c.Accounts, accountID, "a 12-digit account ID (or organization, alone)"},
	} {
		if slices.Equal(v.list, []string{AllRegions}) && v.key == "ECS_UPTIME_REGIONS" ||
			slices.Equal(v.list, []string{Organization}) && v.key == "ECS_UPTIME_ACCOUNTS" {
			continue
		}
		for _, item := range v.list {
			if !v.ok(item) {
				p = append(p, bad(environ, v.key, fmt.Sprintf("%s; %q is not %s", fieldForm(v.key), item, v.what)))
				break
			}
		}
	}
	p = append(p, c.validateAccounts(environ)...)
	if !(c.APIRate > 0 && c.APIRate <= 20) {
		p = append(p, bad(environ, "ECS_UPTIME_API_RATE", ""))
	}
	if c.StuckAfter < 0 {
		p = append(p, bad(environ, "ECS_UPTIME_STUCK_AFTER", ""))
	}
	for _, k := range c.TaskTags {
		switch {
		case k == "" || len(k) > 128:
			p = append(p, bad(environ, "ECS_UPTIME_TASK_TAGS", fmt.Sprintf("task resource tag keys of 1 to 128 characters separated by commas, not %q", k)))
		case slices.Contains(reservedTagKeys, strings.ToLower(k)):
			p = append(p, bad(environ, "ECS_UPTIME_TASK_TAGS", fmt.Sprintf("keys that are not tags ecs-uptime sets itself: %q would give each series two %s tags", k, strings.ToLower(k))))
		default:
			continue
		}
		break
	}
	// An empty value would fall back to the default tag without a word.
	if v, set := environ["ECS_UPTIME_MAX_LIFETIME_TAG"]; set && strings.TrimSpace(v) == "" {
		c.MaxLifetimeTag = ""
	}
	if k := c.MaxLifetimeTag; k == "" || len(k) > 128 || strings.HasPrefix(strings.ToLower(k), "aws:") {
		p = append(p, bad(environ, "ECS_UPTIME_MAX_LIFETIME_TAG", ""))
	}
	return p
}

// validateAccounts checks the variables of a scan of several accounts
// (DESIGN.md, Scanning an organization). The role and the external ID are
// refused without ECS_UPTIME_ACCOUNTS: without it no role is assumed, and
// they would be ignored without a word.
func (c *Config) validateAccounts(environ map[string]string) []string {
	var p []string
	if len(c.Accounts) == 0 {
		for _, key := range []string{"ECS_UPTIME_ROLE_NAME", "ECS_UPTIME_EXTERNAL_ID"} {
			if _, set := environ[key]; set {
				p = append(p, fmt.Sprintf("%s=%q: want it unset without ECS_UPTIME_ACCOUNTS; a role is assumed only in the accounts ECS_UPTIME_ACCOUNTS lists (or every account of the organization)", key, environ[key]))
			}
		}
	} else if !c.ScanOrganization() {
		// A cluster ARN names its account: one that is not scanned would
		// never be read.
		for _, cl := range c.Clusters {
			if f := strings.SplitN(cl, ":", 6); clusterARN(cl) && !slices.Contains(c.Accounts, f[4]) {
				p = append(p, fmt.Sprintf("ECS_UPTIME_CLUSTERS=%q: the cluster ARN %s is in account %s, which ECS_UPTIME_ACCOUNTS=%q does not list", environ["ECS_UPTIME_CLUSTERS"], cl, f[4], environ["ECS_UPTIME_ACCOUNTS"]))
				break
			}
		}
	}
	if v, set := environ["ECS_UPTIME_ROLE_NAME"]; set && !roleName(v) {
		p = append(p, bad(environ, "ECS_UPTIME_ROLE_NAME", ""))
	}
	if v, set := environ["ECS_UPTIME_EXTERNAL_ID"]; set && !externalID(v) {
		p = append(p, bad(environ, "ECS_UPTIME_EXTERNAL_ID", ""))
	}
	if c.ScanConcurrency < 1 || c.ScanConcurrency > MaxScanConcurrency {
		p = append(p, bad(environ, "ECS_UPTIME_SCAN_CONCURRENCY", ""))
	}
	return p
}

// ScanOrganization reports whether ECS_UPTIME_ACCOUNTS is organization.
func (c *Config) ScanOrganization() bool { return slices.Equal(c.Accounts, []string{Organization}) }

// ScanAllRegions reports whether ECS_UPTIME_REGIONS is all.
func (c *Config) ScanAllRegions() bool { return slices.Equal(c.Regions, []string{AllRegions}) }

// accountID reports whether s is a 12-digit AWS account ID.
func accountID(s string) bool { return len(s) == 12 && strings.Trim(s, "0123456789") == "" }

// iamName reports whether s is an IAM name: 1 to 64 letters, digits and
// +=,.@_-.
func iamName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-") == ""
}

// roleName reports whether s is an IAM role name, with its path if it has
// one (path/to/name): what follows role/ in the role's ARN.
func roleName(s string) bool {
	if len(s) > 512+64 {
		return false
	}
	for part := range strings.SplitSeq(s, "/") {
		if !iamName(part) {
			return false
		}
	}
	return true
}

// externalID reports whether s is an external ID STS accepts: 2 to 1224
// characters of [\w+=,.@:/-].
func externalID(s string) bool {
	if len(s) < 2 || len(s) > 1224 {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@:/-") == ""
}

// validateSingletons checks ECS_UPTIME_SINGLETONS, and refuses it where one
// task is all the source sees.
func (c *Config) validateSingletons(environ map[string]string) []string {
	if _, set := environ["ECS_UPTIME_SINGLETONS"]; !set {
		return nil
	}
	if c.Source == SourceECS || c.Source == SourceAuto && c.MetadataURI != "" {
		return []string{fmt.Sprintf("ECS_UPTIME_SINGLETONS=%q: want it unset with the ecs source (a sidecar sees only its own task); watch a family with the host daemon (docker) or the api source, or with the monitor that `ecs-uptime monitor --type concurrency --family NAME` prints", environ["ECS_UPTIME_SINGLETONS"])}
	}
	for _, f := range c.Singletons {
		if !ecsName(f) {
			return []string{bad(environ, "ECS_UPTIME_SINGLETONS", fmt.Sprintf("task family names (letters, digits, - and _) separated by commas, not %q", f))}
		}
	}
	return nil
}

func fieldForm(key string) string {
	f, _ := fieldByEnv(key)
	return f.Tag.Get("form")
}

// LogLevelValue returns ECS_UPTIME_LOG_LEVEL as a slog level.
func (c *Config) LogLevelValue() (slog.Level, error) {
	var l slog.Level
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
		return l, l.UnmarshalText([]byte(c.LogLevel))
	}
	return l, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel)
}

// AgentAddr returns the Agent's DogStatsD address in datadog-go's form:
// "host:port" for UDP, "unix:///path" or "unixgram:///path" for a socket.
// DD_DOGSTATSD_URL wins over DD_AGENT_HOST and DD_DOGSTATSD_PORT, as in
// the Datadog libraries.
func (c *Config) AgentAddr() string {
	if c.DogStatsURL != "" {
		a, _ := c.urlAddr()
		return a
	}
	if strings.HasPrefix(c.AgentHost, "unix://") {
		return c.AgentHost
	}
	return net.JoinHostPort(c.AgentHost, c.DogStatsPort)
}

func (c *Config) urlAddr() (string, error) {
	u, err := url.Parse(c.DogStatsURL)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "udp":
		if u.Hostname() == "" {
			return "", errors.New("no host")
		}
		port := u.Port()
		if port == "" {
			port = "8125"
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", errors.New("bad port")
		}
		return net.JoinHostPort(u.Hostname(), port), nil
	case "unix", "unixgram":
		if u.Path == "" || u.Host != "" {
			return "", errors.New("want an absolute path after ://")
		}
		return u.Scheme + "://" + u.Path, nil
	}
	return "", errors.New("unknown scheme")
}

// GlobalTags returns the tags added to every series: env, service and
// version from DD_ENV, DD_SERVICE and DD_VERSION, then DD_TAGS, then
// ECS_UPTIME_TAGS. Values are not sanitized here; the sink does that.
func (c *Config) GlobalTags() []string {
	var tags []string
	for _, t := range []struct{ k, v string }{{"env", c.DDEnv}, {"service", c.DDService}, {"version", c.DDVersion}} {
		if v := strings.TrimSpace(t.v); v != "" {
			tags = append(tags, t.k+":"+v)
		}
	}
	dd, _ := splitTags(c.DDTags, false)
	own, _ := splitTags(c.Tags, true)
	return append(append(tags, dd...), own...)
}

// splitTags splits a comma- or space-separated tag list. With keyValue,
// every tag must be key:value with a non-empty key.
func splitTags(s string, keyValue bool) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	for _, f := range fields {
		k, _, ok := strings.Cut(f, ":")
		if keyValue && (!ok || k == "") {
			return nil, fmt.Errorf("key:value tags separated by commas or spaces (%q has no key)", f)
		}
		if k == "" {
			return nil, fmt.Errorf("tags separated by commas or spaces (%q has an empty key)", f)
		}
	}
	return fields, nil
}

// ownPrefix is the prefix of ecs-uptime's own variables. One it does not
// read is a typo or a leftover (ECS_UPTIME_CRITICIAL=2h would otherwise
// leave the 24h default in force without a word), so it is refused.
const ownPrefix = "ECS_UPTIME_"

// Variables returns the names of every variable Config reads, in the
// order of the struct.
func Variables() []string {
	params, _ := env.GetFieldParams(&Config{}) // only fails on a non-struct
	names := make([]string, 0, len(params))
	for _, f := range params {
		names = append(names, f.Key)
	}
	return names
}

// Own reports whether name is in ecs-uptime's own namespace (ECS_UPTIME_),
// where every name must be one that Config reads.
func Own(name string) bool { return strings.HasPrefix(name, ownPrefix) }

// unknownVariables names every ECS_UPTIME_ variable in environ that Config
// does not read, with the nearest one it does read when that looks meant.
func unknownVariables(environ map[string]string) []string {
	known := slices.DeleteFunc(Variables(), func(k string) bool { return !Own(k) })
	var p []string
	for key := range environ {
		if !Own(key) || slices.Contains(known, key) {
			continue
		}
		hint := "one of " + strings.Join(known, ", ")
		if near, d := nearest(key, known); d <= 3 {
			hint = near
		}
		p = append(p, fmt.Sprintf("%s=%q: not a variable ecs-uptime reads; want %s", key, environ[key], hint))
	}
	slices.Sort(p) // the map's order is random; the message must not be
	return p
}

// nearest returns the candidate with the smallest edit distance to s,
// ignoring case, and that distance.
func nearest(s string, candidates []string) (string, int) {
	s = strings.ToUpper(s)
	best, bestD := "", -1
	for _, c := range candidates {
		if d := editDistance(s, c); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD
}

// editDistance is the Levenshtein distance between a and b (bytes: the
// names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
