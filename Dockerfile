# syntax=docker/dockerfile:1
# offsetlag: offsetlag-exporter (entry point), factor-worker, offsetlag-demo and
# offsetlag-cloudwatch in one small, non-root image.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg REVISION=$(git rev-parse --short HEAD) \
#     --build-arg BUILD_DATE=$(date -u +%Y%m%d-%H:%M:%S) -t offsetlag .
#   docker run --rm -p 9745:9745 offsetlag --kafka.brokers kafka:9092
#   docker run --rm --entrypoint factor-worker offsetlag run --kafka.brokers kafka:9092
#
# scripts/dockerfile-check.sh runs this file's `go build` lines on the host
# (deploy/deploy_test.go calls it in CI), so they cannot rot unnoticed.
# Keep each build a one-line RUN starting with `go build`.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
ARG BRANCH=main
ARG BUILD_DATE=
ENV CGO_ENABLED=0 GOFLAGS=-mod=readonly
RUN go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION} -X github.com/prometheus/common/version.Branch=${BRANCH} -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" -o /out/offsetlag-exporter ./cmd/offsetlag-exporter
RUN go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION} -X github.com/prometheus/common/version.Branch=${BRANCH} -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" -o /out/factor-worker ./cmd/factor-worker
RUN go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION} -X github.com/prometheus/common/version.Branch=${BRANCH} -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" -o /out/offsetlag-demo ./cmd/offsetlag-demo
RUN go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION} -X github.com/prometheus/common/version.Branch=${BRANCH} -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" -o /out/offsetlag-cloudwatch ./cmd/offsetlag-cloudwatch

# distroless static: CA certificates, tzdata, /etc/passwd with nonroot
# (65532), no shell, no package manager.
# `make image` (scripts/image.sh) builds the same image with buildah from
# scratch, without Docker: same binaries, user, entry point, port and labels.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
ARG BUILD_DATE=
LABEL org.opencontainers.image.title=offsetlag \
      org.opencontainers.image.version=${VERSION} \
      org.opencontainers.image.revision=${REVISION} \
      org.opencontainers.image.created=${BUILD_DATE} \
      org.opencontainers.image.source=https://github.com/offsetlag/offsetlag
COPY --from=build /out/ /usr/local/bin/
# factor-worker's default SQLite file and --state.dir go here unless a
# volume is mounted elsewhere.
WORKDIR /home/nonroot
USER nonroot:nonroot
EXPOSE 9745
ENTRYPOINT ["/usr/local/bin/offsetlag-exporter"]
