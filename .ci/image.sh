#!/usr/bin/env bash
# Builds the ecs-uptime image from the repository's Dockerfile where no
# registry is reachable; it needs a running engine (.ci/dockerd.sh).
#
#   source .ci/dockerd.sh && dockerd_start
#   source .ci/image.sh && image_build     # exports TEST_ECS_UPTIME_IMAGE
#
# Users build with `docker build -t ecs-uptime .`, and the Dockerfile's
# builder stage starts FROM golang:<version>. That base cannot be pulled
# here, so image_build first makes a stand-in with `docker import` of a
# tarball: the Go toolchain of this machine (`go env GOROOT`: /usr/local/go
# here, setup-go's on a hosted runner; the same version), Debian's static
# busybox as /bin/sh for the RUN step, and a module cache holding only the
# modules the binary compiles (30 MB; all that go.mod names is 700 MB, mostly
# test-only, and stays out). Then it runs the same Dockerfile with
# --build-arg GO_IMAGE=<stand-in>: nothing else differs. The release workflow
# (.github/workflows/release.yml) builds the same Dockerfile with the same
# VERSION and COMMIT arguments, and says where it differs.
#
# Like .ci/dockerd.sh, sourcing this file sets no shell option; each function
# checks its own steps.

TEST_ECS_UPTIME_IMAGE=${TEST_ECS_UPTIME_IMAGE:-ecs-uptime:test}

# image_version prints the version image_build stamps: `git describe`
# without its leading "v", so 1.2.3 at the tag v1.2.3 (what the release
# workflow stamps there), 1.2.3-4-gabc1234 after it, the short commit where
# no tag is reachable, and dev outside a git checkout.
image_version() {
  local v
  v=$(git describe --tags --always --dirty 2>/dev/null) || v=dev
  echo "${v#v}"
}

# image_builder prints the name of the local builder image, making it if
# missing. Its tag hashes the Go version and the module list, so a change
# to either makes a new one and an unchanged tree reuses it.
image_builder() {
  local goroot modcache gover proxy mods tag
  goroot=$(go env GOROOT) && modcache=$(go env GOMODCACHE) && gover=$(go env GOVERSION) &&
    proxy=$(go env GOPROXY) || return 1
  # The modules that provide a package of the binary, for the platform the
  # image runs on (cgo off, as in the Dockerfile).
  mods=$(CGO_ENABLED=0 GOOS=linux go list -deps \
    -f '{{with .Module}}{{if not .Main}}{{.Path}}@{{.Version}}{{end}}{{end}}' ./cmd/ecs-uptime) || {
    echo "image_builder: go list of the binary's modules failed" >&2
    return 1
  }
  mods=$(sort -u <<<"$mods")
  # The builder also carries this machine's CA bundle, which the Dockerfile
  # copies into the image (as golang's Debian images have it); "ca" in the
  # hash retires builders made before it.
  tag="ecs-uptime-build/go:${gover#go}-$( (echo "$gover ca"; echo "$mods"; cat go.sum) | sha256sum | cut -c1-12)"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "$tag"
    return 0
  fi
  [ -x /bin/busybox ] || {
    echo "image_builder: /bin/busybox missing (apt-get install busybox-static)" >&2
    return 1
  }
  [ -s /etc/ssl/certs/ca-certificates.crt ] || {
    echo "image_builder: /etc/ssl/certs/ca-certificates.crt missing (apt-get install ca-certificates)" >&2
    return 1
  }
  local root
  root=$(mktemp -d) || return 1
  if ! _image_builder_root "$root" "$modcache" "$proxy" "$mods"; then
    chmod -R u+w "$root" && rm -rf "$root"
    return 1
  fi
  # The toolchain without what a build never reads: the Go distribution's
  # own tests, test data and API files. pipefail in a subshell: a failed
  # tar must fail the import, and the caller's options stay as they were.
  local g=${goroot#/}
  if ! (
    set -o pipefail
    tar -c --owner=0 --group=0 \
      --exclude="$g/test" --exclude="$g/api" --exclude="$g/doc" --exclude="$g/misc" \
      --exclude="$g/src/*_test.go" --exclude="$g/src/*/testdata" \
      --transform="s,^$g,usr/local/go," \
      -C / "$g" etc/ssl/certs/ca-certificates.crt -C "$root" bin tmp go |
      docker import \
        -c 'ENV PATH=/usr/local/go/bin:/go/bin:/bin' -c 'ENV GOPATH=/go' \
        -c 'ENV GOTOOLCHAIN=local' -c 'ENV GOPROXY=off' -c 'ENV GOFLAGS=-mod=readonly' \
        - "$tag" >/dev/null
  ); then
    echo "image_builder: could not import the builder $tag" >&2
    chmod -R u+w "$root" && rm -rf "$root"
    return 1
  fi
  chmod -R u+w "$root" && rm -rf "$root"
  # Builders for an older go.sum or toolchain only take disk (the vfs
  # driver stores every layer whole).
  docker image ls --format '{{.Repository}}:{{.Tag}}' ecs-uptime-build/go | grep -vxF "$tag" |
    xargs -r docker image rm >/dev/null 2>&1 || true
  echo "$tag"
}

# _image_builder_root fills ROOT with the builder's /bin/sh, /tmp and module
# cache.
_image_builder_root() {
  local root=$1 modcache=$2 proxy=$3 mods=$4
  mkdir -p "$root/bin" "$root/tmp" "$root/go/pkg/mod" && chmod 1777 "$root/tmp" &&
    cp /bin/busybox "$root/bin/busybox" && ln -s busybox "$root/bin/sh" || return 1
  # Fill the module cache from this machine's (filled by go vet or go
  # test), falling back to the proxy: no module is fetched twice.
  # shellcheck disable=SC2086 # one argument per module
  if ! GOMODCACHE="$root/go/pkg/mod" GOFLAGS=-mod=readonly \
    GOPROXY="file://$modcache/cache/download,$proxy" go mod download $mods; then
    echo "image_builder: go mod download of the binary's modules failed" >&2
    return 1
  fi
  # The extracted sources are what the compiler reads; the zips are
  # copies of them.
  find "$root/go/pkg/mod/cache/download" -name '*.zip' -delete
}

# image_build builds $TEST_ECS_UPTIME_IMAGE from the Dockerfile with the local
# builder, stamps the version and commit, and exports TEST_ECS_UPTIME_IMAGE for
# the image tests.
#
# It uses the legacy builder (DOCKER_BUILDKIT=0; the CLI prints that it is
# deprecated) because BuildKit cannot be reached with the `docker` found
# first on PATH here: that is Docker's CLI 28 (/usr/local/bin/docker), which
# sends BuildKit builds through the buildx plugin, and buildx is not
# installed; Debian 12 packages none. `DOCKER_BUILDKIT=1 docker build` fails
# ("BuildKit is enabled but the buildx component is missing or broken"), and
# without the variable the CLI falls back to the legacy builder with the same
# warning; setting it says so. (Debian's own CLI 20.10, /usr/bin/docker, which
# that one shadows, can still drive the engine's built-in BuildKit.) Switch to
# `docker buildx build` with the same arguments where buildx is installed
# (Debian 13's docker-buildx, Docker's docker-buildx-plugin; hosted runners
# have it): it is what the release workflow runs, it sets TARGETOS and
# TARGETARCH, so `--platform linux/arm64` would build the cross-compiled
# image here too, and a local GO_IMAGE and --network none work with it (its
# docker driver builds from the engine's own images).
image_build() {
  local builder version commit began size
  began=$(date +%s)
  builder=$(image_builder) || return 1
  version=$(image_version)
  commit=$(git rev-parse HEAD 2>/dev/null) || commit=unknown
  # The legacy builder runs RUN steps on the default bridge, which a private
  # engine does not have (--bridge=none); the build needs no network.
  if ! DOCKER_BUILDKIT=0 docker build --network none \
    --build-arg GO_IMAGE="$builder" --build-arg VERSION="$version" --build-arg COMMIT="$commit" \
    -t "$TEST_ECS_UPTIME_IMAGE" .; then
    echo "image_build: docker build of the Dockerfile failed" >&2
    return 1
  fi
  export TEST_ECS_UPTIME_IMAGE
  size=$(docker image inspect --format '{{.Size}}' "$TEST_ECS_UPTIME_IMAGE" 2>/dev/null)
  echo "built $TEST_ECS_UPTIME_IMAGE ($size bytes, version $version) from the Dockerfile with $builder in $(($(date +%s) - began)) s"
}
