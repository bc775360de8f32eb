#!/usr/bin/env bash
# Measures the container image the Dockerfile builds, as the README reports
# it: size, peak memory of the running container over 60 s at a 1 s
# interval (ecs mode, and docker mode with 10 tasks on the engine), and the
# time from start to the first gauge. Targets: image <= 8 MB, peak RSS <= 12 MiB.
#
#   bash bench/image.sh                                  # as root
#   TEST_ECS_UPTIME_BENCH_DURATION=10s bash bench/image.sh    # a shorter run
#
# With DOCKER_HOST set it uses that engine (and TEST_ECS_UPTIME_BUSYBOX for the
# docker-mode tasks); otherwise it starts a private one (.ci/dockerd.sh).
# Peak RSS is the process's VmHWM, read from the host's /proc; the cgroup
# peak is the container's memory cgroup (max_usage_in_bytes or memory.peak).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DOCKER_HOST:-}" ]; then
  # shellcheck source=.ci/dockerd.sh
  source .ci/dockerd.sh
  trap dockerd_stop EXIT # first: an engine slow to start is stopped too
  dockerd_start
fi
# shellcheck source=.ci/image.sh
source .ci/image.sh
image_build >&2
echo "engine $(docker version --format '{{.Server.Version}}'), $(nproc) cores, $(uname -r), cgroup $( [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && echo v2 || echo v1)"
TEST_ECS_UPTIME_REQUIRE_IMAGE=1 go test -run '^$' -bench '^BenchmarkImage$' -benchtime 1x -count 1 ./e2e
