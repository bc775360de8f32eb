package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/moby/moby/client"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/config"
	"ecs-uptime/uptime/docker"
	"ecs-uptime/uptime/dogstatsd"
	"ecs-uptime/uptime/ecsmeta"
	"ecs-uptime/uptime/health"
	"ecs-uptime/uptime/kind"
	"ecs-uptime/uptime/lifetime"
	"ecs-uptime/uptime/reaper"
	"ecs-uptime/uptime/singleton"
	"ecs-uptime/uptime/stoprecord"
	"ecs-uptime/uptime/stuck"
)

func runCommand(ctx context.Context, args []string, environ map[string]string, stderr io.Writer) int {
	fs := flag.NewFlagSet("ecs-uptime run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: ecs-uptime [run]\n\nReports task uptimes to the Datadog Agent every ECS_UPTIME_INTERVAL until SIGTERM.\nIt takes no flags: configuration comes from the environment (see README.md).")
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	return run(ctx, environ, stderr)
}

// run loads the configuration, wires source, sink and runner, and runs
// until ctx ends. It returns the process exit code.
func run(ctx context.Context, environ map[string]string, stderr io.Writer) int {
	cfg, err := config.Load(environ)
	if err != nil {
		return configFailure(stderr, err)
	}
	log := newLogger(&cfg, stderr)
	src, err := newSource(ctx, &cfg, log)
	if err != nil {
		return configFailure(stderr, err)
	}
	defer src.close()
	runner, sink, err := wire(&cfg, src, log, nil)
	if err != nil {
		return configFailure(stderr, err)
	}
	v, _ := buildVersion()
	log.Info("ecs-uptime started", slog.String("version", v), slog.String("source", src.name),
		slog.String("reads", src.from), slog.String("agent", cfg.AgentAddr()), slog.Duration("interval", cfg.Interval))
	if cfg.HealthPort > 0 {
		hctx, stopHealth := context.WithCancel(ctx)
		defer stopHealth()
		h := &health.Handler{LastRead: runner.LastRead, Agent: sink.Unreachable, Started: time.Now(),
			Window: healthIntervals*cfg.Interval + runner.Timeout}
		addr, _, err := health.Serve(hctx, cfg.HealthPort, h)
		if err != nil {
			// Uptimes matter more than the health check: go on, and let
			// `ecs-uptime healthcheck` fail where someone looks.
			log.Error("cannot serve the health endpoint; set ECS_UPTIME_HEALTH_PORT to a free port, or 0 for off", slog.Any("error", err))
		} else {
			log.Debug("health endpoint", slog.String("url", "http://"+addr+health.Path))
		}
	}
	runErr := runner.Run(ctx)
	if err := sink.Close(); err != nil {
		log.Warn("closing the DogStatsD client", slog.Any("error", err))
	}
	switch {
	case errors.Is(runErr, uptime.ErrStop):
		log.Warn("stopped: max lifetime reached; exit 3 (an essential container stops its task)", slog.Any("reason", runErr))
		return exitMaxLifetime
	case runErr == nil:
		log.Info("stopped", slog.String("reason", stopReason(ctx)))
		return exitOK
	default:
		log.Error("stopped", slog.Any("error", runErr))
		return exitFailure
	}
}

// wire builds what runs each cycle for the configuration and the source:
// the Runner, whose pipeline judges each cycle through the stages the
// configuration asks for and ends in the DogStatsD output (returned for
// the health check and Close). now is the clock (time.Now when nil; tests
// fix it).
func wire(cfg *config.Config, src source, log *slog.Logger, now func() time.Time) (*uptime.Runner, *dogstatsd.Sink, error) {
	// A slow Agent delays a cycle's sends up to the cycle's own bound
	// (uptime.Runner.Timeout; zero: the interval).
	timeout := src.timeout
	if timeout <= 0 {
		timeout = cfg.Interval
	}
	sink, err := dogstatsd.New(dogstatsd.Options{Addr: cfg.AgentAddr(), Tags: cfg.GlobalTags(), Timeout: timeout, Log: log})
	if err != nil {
		return nil, nil, fmt.Errorf("DD_AGENT_HOST/DD_DOGSTATSD_PORT/DD_DOGSTATSD_URL: %w", err)
	}
	pipeline := &uptime.Pipeline{Stages: stages(cfg, src, log), Output: sink, Stopper: src.stopper}
	return &uptime.Runner{
		Source:   src.Source,
		Sink:     pipeline,
		Tracker:  uptime.NewTracker(now, log),
		Interval: cfg.Interval,
		Timeout:  src.timeout,
		Log:      log,
	}, sink, nil
}

// stages are the policy stages of the configuration, in the order they
// judge a cycle: the scope of judgement (service tasks reported, judged or
// skipped), the gauges, the thresholds, the singleton watch, the reaper
// when the source can stop tasks and, with the api source (the one that
// reads every status), the stuck watch and, last because it reads what
// every other stage said, the record of judged tasks that stop.
func stages(cfg *config.Config, src source, log *slog.Logger) []uptime.Stage {
	out := []uptime.Stage{
		kind.Scope{Services: kind.Policy(cfg.ServiceTasks)},
		uptime.Gauges{Containers: cfg.ContainerMetrics},
		judge(cfg, log),
	}
	if len(cfg.Singletons) > 0 {
		out = append(out, singleton.New(cfg.Singletons))
	}
	if src.stopper != nil {
		out = append(out, reaper.New(reaper.Policy{Stop: cfg.StopTasks, Tag: cfg.MaxLifetimeTag}, log))
	}
	if cfg.Source == config.SourceAPI {
		out = append(out, stuck.New(stuck.Policy{After: cfg.StuckAfter}), stoprecord.New())
	}
	return out
}

// judge is the thresholds stage of the configuration.
func judge(cfg *config.Config, log *slog.Logger) *lifetime.Judge {
	j := lifetime.NewJudge(lifetime.Policy{Warning: cfg.Warning, Critical: cfg.Critical, MaxLifetime: cfg.MaxLifetime})
	j.Log = log
	return j
}

// source is the Source chosen for the configuration, with what it reads
// for the start-up log line.
type source struct {
	uptime.Source
	name  string
	from  string
	close func() error
	// timeout bounds a cycle (uptime.Runner.Timeout); zero: the interval.
	timeout time.Duration
	// stopper, for the api source, stops the tasks that opted in to a max
	// lifetime (reaper).
	stopper uptime.Stopper
}

// scanTimeout bounds one scan of the api source, in intervals (the run
// loop's cycle, the tasks command's one scan): a scan paced by
// ECS_UPTIME_API_RATE may rightly outlast one interval (10,000 tasks take
// about 40 s at 5 requests per second), and the next starts when it ends.
const scanTimeout = 5

// probeTimeout bounds how long ECS_UPTIME_SOURCE=auto waits for a Docker
// engine to answer before giving up.
const probeTimeout = 2 * time.Second

// newSource picks the source ECS_UPTIME_SOURCE names; auto picks ecs when
// the metadata endpoint variable is set, else docker when the engine answers.
func newSource(ctx context.Context, cfg *config.Config, log *slog.Logger) (source, error) {
	switch cfg.Source {
	case config.SourceECS:
		return ecsSource(cfg)
	case config.SourceAPI:
		return apiSource(ctx, cfg, log)
	case config.SourceDocker:
		c, err := docker.NewClient(cfg.DockerHost)
		if err != nil {
			return source{}, err
		}
		return dockerSource(c, log), nil
	}
	if cfg.MetadataURI != "" {
		return ecsSource(cfg)
	}
	c, err := docker.NewClient(cfg.DockerHost)
	if err != nil {
		return source{}, err
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if _, err := c.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		return source{}, fmt.Errorf("ECS_UPTIME_SOURCE=auto found no source: ECS_CONTAINER_METADATA_URI_V4 is not set (the ecs source runs as a sidecar in an ECS task) and no Docker engine answers at %s (%v); set ECS_UPTIME_SOURCE=ecs or docker, and DOCKER_HOST if the socket is elsewhere", c.DaemonHost(), err)
	}
	if cfg.MaxLifetime > 0 {
		// config refuses this pair when docker is named; auto only finds out here.
		c.Close()
		return source{}, fmt.Errorf("ECS_UPTIME_MAX_LIFETIME=%s: want it unset when ECS_UPTIME_SOURCE=auto picks docker (ECS_CONTAINER_METADATA_URI_V4 is not set): the host daemon never stops tasks it does not own", cfg.MaxLifetime)
	}
	return dockerSource(c, log), nil
}

func ecsSource(cfg *config.Config) (source, error) {
	c, err := ecsmeta.New(cfg.MetadataURI)
	if err != nil {
		return source{}, err
	}
	return source{Source: c, name: config.SourceECS, from: c.URL(), close: func() error { return nil }}, nil
}

func dockerSource(c *client.Client, log *slog.Logger) source {
	s := docker.New(c, log)
	return source{Source: s, name: config.SourceDocker, from: c.DaemonHost(), close: func() error {
		s.Close()
		return c.Close()
	}}
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	level, _ := cfg.LogLevelValue()
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: durationText}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// durationText writes a duration as Go does ("15s"), not as the JSON
// handler's nanoseconds.
func durationText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// configFailure prints each configuration problem on a line of its own and
// returns the bad-configuration exit code.
func configFailure(stderr io.Writer, err error) int {
	var cerr *config.Error
	if errors.As(err, &cerr) {
		for _, p := range cerr.Problems {
			fmt.Fprintf(stderr, "ecs-uptime: bad configuration: %s\n", p)
		}
		return exitConfig
	}
	fmt.Fprintf(stderr, "ecs-uptime: bad configuration: %v\n", err)
	return exitConfig
}
