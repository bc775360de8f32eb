# ecs-uptime: one static binary on an empty base, run as a non-root user.
#
#   docker build -t ecs-uptime .
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION="$(git describe --tags --always | sed 's/^v//')" --build-arg COMMIT="$(git rev-parse HEAD)" \
#     -t REGISTRY/ecs-uptime:VERSION --push .
#
# GO_IMAGE names the builder: any image with the Go toolchain on PATH and a
# POSIX shell. CI builds this same file with a local stand-in (.ci/image.sh).
# The tag is pinned; pin the digest too (golang:1.26.8-bookworm@sha256:...)
# where builds must be bit-for-bit repeatable.
ARG GO_IMAGE=golang:1.26.8-bookworm

# The builder runs on the build machine's own platform and cross-compiles
# for the target one: no emulation, a fast arm64 (Graviton) build anywhere.
# The classic builder (docker.io without buildx) sets no BUILDPLATFORM:
# "linux" then means linux on the engine's own architecture.
FROM --platform=${BUILDPLATFORM:-linux} ${GO_IMAGE} AS build
WORKDIR /src
# No separate `go mod download` layer: it would fetch every module go.mod
# names (100 MB of zips, 700 MB unpacked), mostly ones only the tests use
# (the ECS agent, the AWS SDK); go build fetches the 20 modules the binary
# compiles (30 MB unpacked).
COPY . .
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
# GO_TAGS=noapi (build tags, space-separated) builds a sidecar-only binary
# without the api source (the cluster scan): it links no AWS SDK, whose
# start-up tables cost every process about 3.8 MiB of RSS, needs no CA
# bundle, and the image is 3.9 MB smaller.
ARG GO_TAGS=
# nethttpomithttp2 leaves net/http's bundled HTTP/2 out (half a megabyte):
# the metadata endpoint, the Docker socket, the health endpoint and the
# ECS API all speak HTTP/1.1 to it. An empty TARGETOS or TARGETARCH (the
# classic builder sets neither) means the builder's own platform.
#
# /rootfs is the final image's content: the binary and, unless the build
# leaves the api source out, the CA bundle it verifies the ECS API with.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -tags "nethttpomithttp2 $GO_TAGS" \
      -ldflags "-s -w -X main.version=$VERSION -X main.commit=$COMMIT" \
      -o /rootfs/ecs-uptime ./cmd/ecs-uptime && \
    case " $GO_TAGS " in \
      *" noapi "*) ;; \
      *) mkdir -p /rootfs/etc/ssl/certs && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ ;; \
    esac

# Nothing but the binary and the CA certificates the api source needs for
# the ECS API over HTTPS (the other sources use no TLS; Go reads the bundle
# only when a TLS connection is first verified; a noapi build has none):
# no shell, no package manager, no files to write.
FROM scratch
ARG VERSION=dev
ARG COMMIT=unknown
ARG SOURCE=
LABEL org.opencontainers.image.title="ecs-uptime" \
      org.opencontainers.image.description="Reports how long AWS ECS tasks have been running to the Datadog Agent over DogStatsD" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$COMMIT" \
      org.opencontainers.image.source="$SOURCE"
COPY --from=build /rootfs/ /
USER 65532:65532
ENTRYPOINT ["/ecs-uptime"]
