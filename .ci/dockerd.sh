#!/usr/bin/env bash
# Starts a private Docker engine for the tests and stops it again; it never
# touches an engine it did not start.
#
#   source .ci/dockerd.sh && dockerd_start   # exports DOCKER_HOST, TEST_ECS_UPTIME_BUSYBOX
#   dockerd_stop
#
# Debian's docker.io runs here as root with the vfs storage driver and no
# iptables or bridge. No registry is reachable, so the test image is made with
# `docker import` of a tarball holding Debian's static busybox.
set -euo pipefail

DOCKERD_DIR=${DOCKERD_DIR:-/tmp/ecs-uptime-dockerd}

dockerd_install() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  [ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx sleep || missing+=(busybox-static)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

dockerd_start() {
  dockerd_install
  mkdir -p "$DOCKERD_DIR"
  local sock="$DOCKERD_DIR/docker.sock"
  dockerd --data-root "$DOCKERD_DIR/data" --exec-root "$DOCKERD_DIR/exec" \
    --pidfile "$DOCKERD_DIR/docker.pid" -H "unix://$sock" \
    --storage-driver vfs --iptables=false --ip6tables=false --bridge=none \
    >"$DOCKERD_DIR/dockerd.log" 2>&1 &
  echo $! >"$DOCKERD_DIR/started.pid"
  export DOCKER_HOST="unix://$sock"
  for _ in $(seq 1 100); do
    docker version >/dev/null 2>&1 && break
    sleep 0.2
  done
  if ! docker version >/dev/null 2>&1; then
    echo "dockerd did not start; its log:" >&2
    tail -30 "$DOCKERD_DIR/dockerd.log" >&2
    return 1
  fi
  # The test image: a static busybox and nothing else.
  export TEST_ECS_UPTIME_BUSYBOX=ecs-uptime-test/busybox:1
  if ! docker image inspect "$TEST_ECS_UPTIME_BUSYBOX" >/dev/null 2>&1; then
    local root
    root=$(mktemp -d)
    mkdir -p "$root/bin"
    cp /bin/busybox "$root/bin/busybox"
    for a in sh sleep true false echo cat; do ln -s busybox "$root/bin/$a"; done
    tar -C "$root" -c . | docker import -c 'CMD ["/bin/sleep","3600"]' - "$TEST_ECS_UPTIME_BUSYBOX" >/dev/null
    rm -rf "$root"
  fi
  echo "dockerd running at $DOCKER_HOST ($(docker version --format '{{.Server.Version}}')), test image $TEST_ECS_UPTIME_BUSYBOX"
}

dockerd_stop() {
  local pidfile="$DOCKERD_DIR/started.pid"
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$pidfile"
}
