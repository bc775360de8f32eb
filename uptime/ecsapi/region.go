package ecsapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"ecs-uptime/uptime/ecsmeta"
)

// ErrNoRegion is wrapped in New's error when no region is given and none
// can be found: the caller exits 2 (bad configuration).
var ErrNoRegion = errors.New("no AWS region found: set AWS_REGION (or ECS_UPTIME_REGIONS) to the region(s) to scan")

// lookupTimeout bounds each fallback lookup (task metadata, IMDS), so that
// a process outside ECS and EC2 learns it needs AWS_REGION in seconds.
const lookupTimeout = 5 * time.Second

// resolveRegion finds the region to scan when none is given: the SDK's
// (AWS_REGION, AWS_DEFAULT_REGION, the profile), else the region of the
// task the process runs in, from the task metadata endpoint at
// metadataURI, else the EC2 instance's, from IMDS.
func resolveRegion(ctx context.Context, cfg aws.Config, metadataURI string) (string, error) {
	if cfg.Region != "" {
		return cfg.Region, nil
	}
	tried := []string{"AWS_REGION, AWS_DEFAULT_REGION and the profile: none set"}
	if metadataURI == "" {
		tried = append(tried, "task metadata: "+ecsmeta.EnvVar+" not set")
	} else if r, err := taskRegion(ctx, metadataURI); err != nil {
		tried = append(tried, "task metadata: "+err.Error())
	} else {
		return r, nil
	}
	if r, err := instanceRegion(ctx, cfg); err != nil {
		tried = append(tried, "EC2 instance metadata: "+err.Error())
	} else {
		return r, nil
	}
	return "", fmt.Errorf("%w (tried %s)", ErrNoRegion, strings.Join(tried, "; "))
}

// taskRegion reads the region of the task the process runs in (from its
// task ARN), through the sidecar's own metadata client.
func taskRegion(ctx context.Context, uri string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	c, err := ecsmeta.New(uri)
	if err != nil {
		return "", err
	}
	tasks, err := c.Tasks(ctx)
	if err != nil {
		return "", err
	}
	if len(tasks) == 0 || tasks[0].Region == "" {
		return "", fmt.Errorf("%s: no region in the task ARN", c.URL())
	}
	return tasks[0].Region, nil
}

// instanceRegion asks IMDS, with the client the configuration describes
// (AWS_EC2_METADATA_DISABLED, AWS_EC2_METADATA_SERVICE_ENDPOINT and the
// profile's settings apply), as config.WithEC2IMDSRegion would, without
// loading the whole configuration a second time.
func instanceRegion(ctx context.Context, cfg aws.Config) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	out, err := imds.NewFromConfig(cfg).GetRegion(ctx, nil)
	if err != nil {
		return "", err
	}
	if out.Region == "" {
		return "", errors.New("no region in the answer")
	}
	return out.Region, nil
}
