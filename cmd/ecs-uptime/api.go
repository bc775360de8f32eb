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
	return source{Source: s, name: config.SourceAPI, from: "ECS API, " + scanned(cfg, s.Regions()),
		close: func() error { return nil }, timeout: scanTimeout * cfg.Interval, stopper: s}, nil
}

// apiOptions are the api source's options from the configuration: the run
// loop's and the tasks command's alike.
func apiOptions(cfg *config.Config, log *slog.Logger) ecsapi.Options {
	opts := ecsapi.Options{
		Regions: cfg.Regions, Clusters: cfg.Clusters, Rate: cfg.APIRate, TaskTags: cfg.TaskTags,
		MaxLifetimeTag: cfg.MaxLifetimeTag, Interval: cfg.Interval, Log: log, MetadataURI: cfg.MetadataURI,
		Accounts: cfg.Accounts, RoleName: cfg.RoleName, ExternalID: cfg.ExternalID, Concurrency: cfg.ScanConcurrency,
	}
	if cfg.ScanAllRegions() {
		opts.Regions, opts.AllRegions = nil, true
	}
	if cfg.ScanOrganization() {
		opts.Accounts, opts.Organization = nil, true
	}
	return opts
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

// scanned says what a scan reads, for the start-up log line: "every
// cluster in eu-west-1 of the credentials' account", "prod in every
// enabled region of the organization's ACTIVE accounts".
func scanned(cfg *config.Config, regions []string) string {
	clusters := "every cluster"
	if len(cfg.Clusters) > 0 {
		clusters = strings.Join(cfg.Clusters, ",")
	}
	where := " in " + strings.Join(regions, ",")
	if cfg.ScanAllRegions() {
		where = " in every enabled region"
	}
	accounts := " of the credentials' account"
	switch {
	case cfg.ScanOrganization():
		accounts = " of the organization's ACTIVE accounts (role " + cfg.RoleName + ")"
	case len(cfg.Accounts) > 0:
		accounts = " of accounts " + strings.Join(cfg.Accounts, ",") + " (role " + cfg.RoleName + ")"
	}
	return clusters + where + accounts
}
