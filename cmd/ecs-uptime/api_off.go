//go:build noapi

package main

import (
	"context"
	"errors"
	"log/slog"

	"ecs-uptime/uptime/config"
)

// apiSource refuses the api source in a build without it (-tags noapi, a
// sidecar-only build that links no AWS SDK and starts 3.8 MiB smaller).
func apiSource(context.Context, *config.Config, *slog.Logger) (source, error) {
	return source{}, errors.New("ECS_UPTIME_SOURCE=api: this ecs-uptime was built with -tags noapi, without the api source; use a build without that tag (the default image) for the cluster scan")
}
