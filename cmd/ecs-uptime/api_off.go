//go:build noapi

package main

import (
	"context"
	"errors"
	"log/slog"

	"ecs-uptime/uptime"
	"ecs-uptime/uptime/config"
)

// errNoAPI is why a build without the api source (-tags noapi, a
// sidecar-only build that links no AWS SDK and starts 3.8 MiB smaller)
// refuses it.
var errNoAPI = errors.New("ECS_UPTIME_SOURCE=api: this ecs-uptime was built with -tags noapi, without the api source; use a build without that tag (the default image) for the cluster scan")

// apiSource refuses the api source in a build without it.
func apiSource(context.Context, *config.Config, *slog.Logger) (source, error) {
	return source{}, errNoAPI
}

// scanSource refuses the tasks command's scan in a build without the api
// source.
func scanSource(context.Context, *config.Config, *slog.Logger, func(clusters, tasks int)) (uptime.Source, error) {
	return nil, errors.New("the tasks command scans with the api source, and this ecs-uptime was built with -tags noapi, without it; use a build without that tag (the default image)")
}
