//go:build !noapi

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"ecs-uptime/uptime/config"
	"ecs-uptime/uptime/ecsapi"
)

// The api source links the AWS SDK, whose packages build tables at
// start-up in every process, whatever the mode: about 3.8 MiB of peak RSS
// in the sidecar. Building with -tags noapi leaves it out (api_off.go).

// apiTimeout bounds one scan of the api source, in intervals: a scan paced
// by ECS_UPTIME_API_RATE may rightly outlast one interval (10,000 tasks
// take about 40 s at 5 requests per second), and the next starts when it
// ends.
const apiTimeout = 5

func apiSource(ctx context.Context, cfg *config.Config, log *slog.Logger) (source, error) {
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
	s, err := ecsapi.New(ctx, opts)
	if err != nil {
		if errors.Is(err, ecsapi.ErrNoRegion) {
			return source{}, fmt.Errorf("AWS_REGION is not set and no region was found: %w", err)
		}
		return source{}, err
	}
	return source{Source: s, name: config.SourceAPI, from: "ECS API, " + scanned(cfg, s.Regions()),
		close: func() error { return nil }, timeout: apiTimeout * cfg.Interval, stopper: s}, nil
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
