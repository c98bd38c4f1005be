# offsetlag: build, test and run.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w \
	-X github.com/prometheus/common/version.Version=$(VERSION) \
	-X github.com/prometheus/common/version.Revision=$(REVISION) \
	-X github.com/prometheus/common/version.Branch=main
CMDS     := offsetlag-exporter factor-worker offsetlag-demo offsetlag-cloudwatch

.PHONY: all build test test-short lint fmt deps clean demo screenshot bench docker-check docker soak

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

## lint: gofmt and go vet must be clean
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## test: the whole suite with the race detector (real Kafka, kfake, moto)
test: lint
	$(GO) test -race -count=1 -timeout 20m ./...

## test-short: fast tests only (no real broker, no scale tests)
test-short:
	$(GO) test -short -count=1 ./...

## demo: the whole product in one process (in-process Kafka, producer, worker, exporter); Ctrl-C stops it
demo:
	$(GO) run ./cmd/offsetlag-demo $(DEMO_FLAGS)

## screenshot: refresh docs/status-page*.png from the headless-Chromium test
screenshot:
	$(GO) test -count=1 -run TestDemoInBrowser ./cmd/offsetlag-demo -update-screenshot

## bench: performance suite: S/M/L/XL in-process clusters (up to 4M committed offsets); prints the table, writes bench/results.md and heap profiles to bench/profiles (~20 min, ~6 GB RAM)
bench:
	$(GO) run ./cmd/offsetlag-bench -out bench/results.md -heap-dir bench/profiles

## docker-check: run the Dockerfile's go build lines on the host (no Docker needed; CI runs it via deploy/deploy_test.go)
docker-check:
	bash scripts/dockerfile-check.sh

## docker: build the image (needs a Docker engine)
docker:
	docker build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) -t offsetlag:$(VERSION) .

## soak: the whole product in one process for DURATION (default 30m), sampling RSS, goroutines, threads and fds every 10 s (not in CI)
soak:
	DURATION=$(or $(DURATION),30m) bash scripts/soak.sh

clean:
	rm -rf bin
