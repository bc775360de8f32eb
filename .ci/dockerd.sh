#!/usr/bin/env bash
# The Docker engine for the docker-source and image tests.
#
#   source .ci/dockerd.sh && dockerd_start   # exports DOCKER_HOST, TEST_ECS_UPTIME_BUSYBOX
#   dockerd_stop                             # DOCKERD_KEEP=1 keeps DOCKERD_DIR
#
# dockerd_start uses the engine at DOCKER_HOST when that is set (a hosted CI
# runner's own engine, or one you run), and otherwise starts a private one
# (as root) in DOCKERD_DIR, default /tmp/ecs-uptime-dockerd, on its own
# socket, installing Debian's docker.io if dockerd is missing; DOCKERD_WAIT
# (seconds, default 20) is how long it waits for that engine to answer.
# Either way it makes the test image if the engine lacks it.
#
# dockerd_stop stops only the engine that dockerd_start started in the same
# shell, then removes DOCKERD_DIR, which the images fill (about 1.1 GB with
# .ci/image.sh's builder under the vfs driver). DOCKERD_KEEP=1 keeps it, so
# that the next private engine in it starts with those images.
#
# Sourcing this file defines functions and DOCKERD_DIR and nothing else: it
# sets no shell option, so an interactive shell stays as it was. Each
# function checks its own steps and returns non-zero, saying why, when one
# fails.
#
# Debian's docker.io runs here as root with the vfs storage driver and no
# iptables or bridge. No registry is reachable, so the test image is made with
# `docker import` of a tarball holding Debian's static busybox.

DOCKERD_DIR=${DOCKERD_DIR:-/tmp/ecs-uptime-dockerd}

# dockerd_start finds or starts the engine, exports DOCKER_HOST and
# TEST_ECS_UPTIME_BUSYBOX, and makes that image if missing.
dockerd_start() {
  if [ -n "${DOCKER_HOST:-}" ]; then
    if ! docker version >/dev/null 2>&1; then
      echo "dockerd_start: no engine answers at DOCKER_HOST=$DOCKER_HOST: start it, or unset DOCKER_HOST to start a private one in $DOCKERD_DIR" >&2
      return 1
    fi
  else
    _dockerd_run || return 1
  fi
  _dockerd_test_image || return 1
  echo "engine at $DOCKER_HOST ($(docker version --format '{{.Server.Version}}' 2>/dev/null)${_DOCKERD_STARTED:+, started in $DOCKERD_DIR}), test image $TEST_ECS_UPTIME_BUSYBOX"
}

# dockerd_stop stops the engine this shell's dockerd_start started, if any,
# and removes DOCKERD_DIR unless DOCKERD_KEEP=1. It never touches an engine
# it did not start.
dockerd_stop() {
  local pid=${_DOCKERD_STARTED:-} host="unix://$DOCKERD_DIR/docker.sock" other i
  if [ -z "$pid" ]; then
    other=$(cat "$DOCKERD_DIR/started.pid" 2>/dev/null) || other=
    if [ -n "$other" ] && kill -0 "$other" 2>/dev/null; then
      echo "dockerd_stop: this shell started no engine; the one in $DOCKERD_DIR (pid $other) is left running" >&2
    fi
    return 0
  fi
  if kill -0 "$pid" 2>/dev/null; then
    # Without its containers, the engine stops at once.
    { DOCKER_HOST=$host docker ps -aq | xargs -r env DOCKER_HOST="$host" docker rm -f; } >/dev/null 2>&1 || true
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "dockerd_stop: dockerd (pid $pid) still runs 30 s after SIGTERM; left it and $DOCKERD_DIR" >&2
      return 1
    fi
  fi
  _DOCKERD_STARTED=
  rm -f "$DOCKERD_DIR/started.pid"
  if [ "${DOCKER_HOST:-}" = "$host" ]; then
    unset DOCKER_HOST
  fi
  case ${DOCKERD_KEEP:-0} in
    1) echo "engine stopped; kept $DOCKERD_DIR (DOCKERD_KEEP=1)" ;;
    0)
      # dockerd leaves its network namespace mounted at exec/netns/default
      # when it stops; --one-file-system: never into a mount that stays.
      _dockerd_unmount
      if ! rm -rf --one-file-system "$DOCKERD_DIR"; then
        echo "dockerd_stop: could not remove all of $DOCKERD_DIR" >&2
        return 1
      fi
      echo "engine stopped; removed $DOCKERD_DIR (DOCKERD_KEEP=1 keeps it)"
      ;;
    *)
      echo "dockerd_stop: DOCKERD_KEEP=$DOCKERD_KEEP: want 1 (keep $DOCKERD_DIR) or 0 (remove it); kept it" >&2
      return 1
      ;;
  esac
}

# _dockerd_run starts a private engine in DOCKERD_DIR and waits until it
# answers.
_dockerd_run() {
  local wait=${DOCKERD_WAIT:-20} sock="$DOCKERD_DIR/docker.sock" pid tries
  case $wait in
    '' | *[!0-9]*)
      echo "dockerd_start: DOCKERD_WAIT=$wait: want whole seconds, such as 20" >&2
      return 1
      ;;
  esac
  command -v dockerd >/dev/null 2>&1 || _dockerd_apt docker.io || return 1
  # dockerd's own pid file names a live engine: one started elsewhere.
  pid=$(cat "$DOCKERD_DIR/docker.pid" 2>/dev/null) || pid=
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
    echo "dockerd_start: an engine already runs in DOCKERD_DIR=$DOCKERD_DIR (pid $pid): use it with DOCKER_HOST=unix://$sock, or set DOCKERD_DIR to another directory" >&2
    return 1
  fi
  mkdir -p "$DOCKERD_DIR" || return 1
  rm -f "$DOCKERD_DIR/docker.pid" # stale: its process is gone
  dockerd --data-root "$DOCKERD_DIR/data" --exec-root "$DOCKERD_DIR/exec" \
    --pidfile "$DOCKERD_DIR/docker.pid" -H "unix://$sock" \
    --storage-driver vfs --iptables=false --ip6tables=false --bridge=none \
    >"$DOCKERD_DIR/dockerd.log" 2>&1 &
  pid=$!
  _DOCKERD_STARTED=$pid
  echo "$pid" >"$DOCKERD_DIR/started.pid"
  export DOCKER_HOST="unix://$sock"
  for ((tries = 0; ; tries++)); do
    docker version >/dev/null 2>&1 && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "dockerd_start: dockerd exited at start; the end of $DOCKERD_DIR/dockerd.log:" >&2
      tail -30 "$DOCKERD_DIR/dockerd.log" >&2
      return 1
    fi
    if [ "$tries" -ge $((wait * 5)) ]; then
      echo "dockerd_start: dockerd (pid $pid) did not answer within $wait s (DOCKERD_WAIT); dockerd_stop stops it. The end of $DOCKERD_DIR/dockerd.log:" >&2
      tail -30 "$DOCKERD_DIR/dockerd.log" >&2
      return 1
    fi
    sleep 0.2
  done
}

# _dockerd_unmount unmounts what is still mounted under DOCKERD_DIR, the
# deepest first. Only called once the engine has stopped.
_dockerd_unmount() {
  local dir m
  dir=$(cd "$DOCKERD_DIR" 2>/dev/null && pwd -P) || return 0
  # Field 5 of mountinfo is the mount point.
  awk -v dir="$dir/" 'index($5, dir) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "dockerd_stop: could not unmount $m" >&2
    done
}

# _dockerd_test_image makes TEST_ECS_UPTIME_BUSYBOX, a static busybox and
# nothing else, if the engine lacks it.
_dockerd_test_image() {
  export TEST_ECS_UPTIME_BUSYBOX=ecs-uptime-test/busybox:1
  if docker image inspect "$TEST_ECS_UPTIME_BUSYBOX" >/dev/null 2>&1; then
    return 0
  fi
  # Static: the image has no C library.
  if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
    _dockerd_apt busybox-static || return 1
  fi
  local root a
  root=$(mktemp -d) || return 1
  if ! mkdir -p "$root/rootfs/bin" || ! cp /bin/busybox "$root/rootfs/bin/busybox"; then
    rm -rf "$root"
    return 1
  fi
  for a in sh sleep true false echo cat; do ln -s busybox "$root/rootfs/bin/$a"; done
  if ! tar -C "$root/rootfs" -cf "$root/rootfs.tar" . ||
    ! docker import -c 'CMD ["/bin/sleep","3600"]' "$root/rootfs.tar" "$TEST_ECS_UPTIME_BUSYBOX" >/dev/null; then
    echo "dockerd_start: could not make the test image $TEST_ECS_UPTIME_BUSYBOX" >&2
    rm -rf "$root"
    return 1
  fi
  rm -rf "$root"
}

# _dockerd_apt installs Debian packages (as root).
_dockerd_apt() {
  echo "installing $*"
  if ! apt-get update -qq || ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; then
    echo "dockerd.sh: could not install $* with apt-get (as root)" >&2
    return 1
  fi
}
