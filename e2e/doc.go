// Package e2e tests the container image the Dockerfile builds, in a real
// Docker engine, the way ECS runs it: read-only root filesystem, user
// 65532, no capabilities, DogStatsD over the Agent's Unix socket in a
// mounted directory. It holds tests and benchmarks only; the code under
// test is the image.
//
// The tests need DOCKER_HOST, TEST_ECS_UPTIME_BUSYBOX (see .ci/dockerd.sh)
// and TEST_ECS_UPTIME_IMAGE, the image to test (.ci/image.sh builds it and sets
// it). Without them they skip and say so, unless TEST_ECS_UPTIME_REQUIRE_IMAGE=1
// (CI), where they fail instead. BenchmarkImage measures the figures the
// README gives (bench/image.sh runs it).
package e2e
