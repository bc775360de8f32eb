#!/usr/bin/env bash
# Builds the ecs-uptime image from the repository's Dockerfile, here, where
# no registry is reachable; it needs a running engine (.ci/dockerd.sh).
#
#   source .ci/dockerd.sh && dockerd_start
#   source .ci/image.sh && image_build     # exports TEST_ECS_UPTIME_IMAGE
#
# Users build with `docker build -t ecs-uptime .`, and the Dockerfile's
# builder stage starts FROM golang:<version>. That base cannot be pulled
# here, so image_build first makes a stand-in with `docker import` of a
# tarball: the Go toolchain installed on this machine (/usr/local/go, the
# same version), Debian's static busybox as /bin/sh for the RUN step, and a
# module cache holding only the modules the binary compiles (30 MB; all
# that go.mod names is 700 MB, mostly test-only, and stays out). Then it runs the
# same Dockerfile with --build-arg GO_IMAGE=<stand-in>: nothing else differs.
set -euo pipefail

TEST_ECS_UPTIME_IMAGE=${TEST_ECS_UPTIME_IMAGE:-ecs-uptime:test}

# image_builder prints the name of the local builder image, making it if
# missing. Its tag hashes the Go version and the module list, so a change
# to either makes a new one and an unchanged tree reuses it.
image_builder() {
  local goroot modcache gover mods tag
  goroot=$(go env GOROOT)
  modcache=$(go env GOMODCACHE)
  gover=$(go env GOVERSION)
  # The modules that provide a package of the binary, for the platform the
  # image runs on (cgo off, as in the Dockerfile).
  mods=$(CGO_ENABLED=0 GOOS=linux go list -deps \
    -f '{{with .Module}}{{if not .Main}}{{.Path}}@{{.Version}}{{end}}{{end}}' ./cmd/ecs-uptime | sort -u)
  tag="ecs-uptime-build/go:${gover#go}-$( (echo "$gover"; echo "$mods"; cat go.sum) | sha256sum | cut -c1-12)"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "$tag"
    return 0
  fi
  [ -x /bin/busybox ] || { echo "image_builder: /bin/busybox missing (apt-get install busybox-static)" >&2; return 1; }
  local root
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/go/pkg/mod"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"
  # Fill the module cache from this machine's (filled by go vet or go
  # test), falling back to the proxy: no module is fetched twice.
  (
    export GOMODCACHE="$root/go/pkg/mod" GOFLAGS=-mod=readonly
    export GOPROXY="file://$modcache/cache/download,$(go env GOPROXY)"
    # shellcheck disable=SC2086 # one argument per module
    go mod download $mods
  )
  # The extracted sources are what the compiler reads; the zips are
  # copies of them.
  find "$root/go/pkg/mod/cache/download" -name '*.zip' -delete
  # The toolchain without what a build never reads: the Go distribution's
  # own tests, test data and API files.
  local g=${goroot#/}
  tar -c --owner=0 --group=0 \
    --exclude="$g/test" --exclude="$g/api" --exclude="$g/doc" --exclude="$g/misc" \
    --exclude="$g/src/*_test.go" --exclude="$g/src/*/testdata" \
    --transform="s,^$g,usr/local/go," \
    -C / "$g" -C "$root" bin tmp go |
    docker import \
      -c 'ENV PATH=/usr/local/go/bin:/go/bin:/bin' -c 'ENV GOPATH=/go' \
      -c 'ENV GOTOOLCHAIN=local' -c 'ENV GOPROXY=off' -c 'ENV GOFLAGS=-mod=readonly' \
      - "$tag" >/dev/null
  chmod -R u+w "$root" && rm -rf "$root"
  # Builders for an older go.sum or toolchain only take disk (the vfs
  # driver stores every layer whole).
  docker image ls --format '{{.Repository}}:{{.Tag}}' ecs-uptime-build/go | grep -vxF "$tag" |
    xargs -r docker image rm >/dev/null 2>&1 || true
  echo "$tag"
}

# image_build builds $TEST_ECS_UPTIME_IMAGE from the Dockerfile with the local
# builder, stamps the version and commit, and exports TEST_ECS_UPTIME_IMAGE for
# the image tests.
image_build() {
  local builder version commit began
  began=$(date +%s)
  builder=$(image_builder)
  version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
  commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
  # The classic builder runs RUN steps on the default bridge, which this
  # engine does not have (--bridge=none); the build needs no network.
  DOCKER_BUILDKIT=0 docker build --network none \
    --build-arg GO_IMAGE="$builder" --build-arg VERSION="$version" --build-arg COMMIT="$commit" \
    -t "$TEST_ECS_UPTIME_IMAGE" .
  export TEST_ECS_UPTIME_IMAGE
  echo "built $TEST_ECS_UPTIME_IMAGE ($(docker image inspect --format '{{.Size}}' "$TEST_ECS_UPTIME_IMAGE") bytes, version $version) from the Dockerfile with $builder in $(($(date +%s) - began)) s"
}
