# offsetlag: build, test and run.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y%m%d-%H:%M:%S)
BUILD_USER ?= $(shell id -un 2>/dev/null || echo unknown)@$(shell hostname 2>/dev/null || echo unknown)
LDFLAGS  := -s -w \
	-X github.com/prometheus/common/version.Version=$(VERSION) \
	-X github.com/prometheus/common/version.Revision=$(REVISION) \
	-X github.com/prometheus/common/version.Branch=$(BRANCH) \
	-X github.com/prometheus/common/version.BuildDate=$(BUILD_DATE) \
	-X github.com/prometheus/common/version.BuildUser=$(BUILD_USER)
CMDS     := offsetlag-exporter factor-worker offsetlag-demo offsetlag-cloudwatch

.PHONY: release image all build test test-short lint fmt deps clean demo screenshot bench docker-check docker soak

all: build

## build: compile every binary into bin/
build:
	@mkdir -p bin
	@for c in $(CMDS); do \
		if ls cmd/$$c/*.go >/dev/null 2>&1; then CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/$$c ./cmd/$$c || exit 1; fi; \
	done

## deps: install what the tests need (Kafka jars, moto venv, Chromium, Go modules)
deps:
	bash scripts/ci-deps.sh

## lint: gofmt, go vet, go mod tidy -diff, staticcheck and a cognitive-complexity ceiling over non-test code must
## all be clean (staticcheck and gocognit at the versions pinned in scripts/lint-tools.sh, installed on first use)
GOCOGNIT_MAX ?= 40
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@echo "go mod tidy -diff"; $(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	@sc=$$(GO='$(GO)' bash scripts/lint-tools.sh path staticcheck) && echo "staticcheck ./..." && $$sc ./...
	@gc=$$(GO='$(GO)' bash scripts/lint-tools.sh path gocognit) && echo "gocognit -over $(GOCOGNIT_MAX) (non-test code)" && \
		{ $$gc -test=false -exact-recursion -over $(GOCOGNIT_MAX) . || { echo "cognitive complexity above $(GOCOGNIT_MAX): split the functions above"; exit 1; }; }

## test: the whole suite with the race detector (real Kafka, kfake, moto, Prometheus, Chromium, buildah); ends with
## the skipped tests and why (internal/tools/testsummary) and fails when a test fails (PKGS= to narrow)
PKGS ?= ./...
test: lint
	@bash -o pipefail -c '$(GO) test -race -count=1 -timeout 20m -json $(PKGS) | $(GO) run ./internal/tools/testsummary'


## test-short: fast tests only (no real broker, no scale tests)
test-short:
	$(GO) test -short -count=1 ./...

## demo: the whole product in one process (in-process Kafka, producer, worker, exporter) on 127.0.0.1:$(PORT); Ctrl-C stops it
PORT ?= 9745
demo:
	@PORT='$(PORT)' DEMO_FLAGS='$(DEMO_FLAGS)' GO='$(GO)' bash scripts/demo.sh

## screenshot: refresh docs/status-page*.png from the headless-Chromium test
screenshot:
	$(GO) test -count=1 -run TestDemoInBrowser ./cmd/offsetlag-demo -update-screenshot

## bench: performance suite: S/M/L/XL in-process clusters (up to 4M committed offsets); prints the table, writes bench/results.md and heap and CPU profiles to bench/profiles (~20 min, ~6 GB RAM)
bench:
	$(GO) run ./cmd/offsetlag-bench -out bench/results.md -heap-dir bench/profiles -cpuprofile-dir bench/profiles

## docker-check: run the Dockerfile's go build lines on the host (no Docker needed; CI runs it via deploy/deploy_test.go)
docker-check:
	bash scripts/dockerfile-check.sh

## docker: build the image (needs a Docker engine)
docker:
	docker build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) --build-arg BUILD_DATE=$(BUILD_DATE) -t offsetlag:$(VERSION) .

## image: the same image without Docker: buildah from scratch into dist/offsetlag-image-<version>.linux-<arch>.oci.tar (~30 s)
image:
	VERSION=$(VERSION) REVISION=$(REVISION) BRANCH=$(BRANCH) BUILD_DATE=$(BUILD_DATE) BUILD_USER=$(BUILD_USER) bash scripts/image.sh

## soak: the whole product in one process for DURATION (default 30m), sampling RSS, goroutines, threads and fds every 10 s (not in CI)
soak:
	DURATION=$(or $(DURATION),30m) bash scripts/soak.sh

## release: linux/darwin x amd64/arm64 tarballs of every binary and SHA256SUMS in dist/ (TARGETS= to narrow)
release:
	VERSION=$(VERSION) REVISION=$(REVISION) BRANCH=$(BRANCH) BUILD_DATE=$(BUILD_DATE) BUILD_USER=$(BUILD_USER) bash scripts/release.sh

clean:
	rm -rf bin dist
