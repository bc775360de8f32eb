//go:build !noapi

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/config"
	"ecs-uptime/uptime/ecsapi"
)

// The api source links the AWS SDK, whose packages build tables at
// start-up in every process, whatever the mode: about 3.8 MiB of peak RSS
// in the sidecar. Building with -tags noapi leaves it out (api_off.go).

func apiSource(ctx context.Context, cfg *config.Config, log *slog.Logger) (source, error) {
	s, err := newAPISource(ctx, apiOptions(cfg, log))
	if err != nil {
		return source{}, err
	}
	clusters := "every cluster"
	if len(cfg.Clusters) > 0 {
		clusters = strings.Join(cfg.Clusters, ",")
	}
	return source{Source: s, name: config.SourceAPI, from: "ECS API, " + clusters + " in " + strings.Join(s.Regions(), ","),
		close: func() error { return nil }, timeout: scanTimeout * cfg.Interval, stopper: s}, nil
}

// apiOptions are the api source's options from the configuration: the run
// loop's and the tasks command's alike.
func apiOptions(cfg *config.Config, log *slog.Logger) ecsapi.Options {
	return ecsapi.Options{
		Regions: cfg.Regions, Clusters: cfg.Clusters, Rate: cfg.APIRate, TaskTags: cfg.TaskTags,
		MaxLifetimeTag: cfg.MaxLifetimeTag, Interval: cfg.Interval, Log: log, MetadataURI: cfg.MetadataURI,
	}
}

func newAPISource(ctx context.Context, opts ecsapi.Options) (*ecsapi.Source, error) {
	s, err := ecsapi.New(ctx, opts)
	if errors.Is(err, ecsapi.ErrNoRegion) {
		return nil, fmt.Errorf("AWS_REGION is not set and no region was found: %w", err)
	}
	return s, err
}

// scanSource is the api source of the tasks command's one scan, which
// reports its progress to progress (nil: none) and has no interval to
// outlast. It is only an uptime.Source: the command cannot stop a task.
func scanSource(ctx context.Context, cfg *config.Config, log *slog.Logger, progress func(clusters, tasks int)) (uptime.Source, error) {
	opts := apiOptions(cfg, log)
	opts.Interval = 0
	opts.Progress = progress
	s, err := newAPISource(ctx, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}
