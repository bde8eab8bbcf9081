# archc — build, test and demo. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

GO            ?= go
BIN           := $(CURDIR)/bin
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BUILDKIT_VER  := $(shell $(GO) list -m -f '{{.Version}}' github.com/moby/buildkit)
# buildx for bench-bake: built from its own module graph (go install PKG@VERSION), so archc's
# go.mod never sees it.
BUILDX_VER    := v0.38.2
LDFLAGS       := -X main.version=$(VERSION)
BK_LDFLAGS    := -X github.com/moby/buildkit/version.Version=$(BUILDKIT_VER)
TEST_TIMEOUT  ?= 30m
TESTFLAGS     ?=
PKGS          ?= ./...

# VCS stamping fails when the checkout belongs to another user (git's safe.directory check);
# the version comes from LDFLAGS instead.
export GOFLAGS ?= -buildvcs=false

# Tests find bin/archc and bin/buildkitd here (absolute).
export ARCHC_BIN_DIR := $(BIN)

# Demo: loopback services (scripts/services.sh) and the seeded docker.io/library/busybox:1.36.
DEMO_SPEC     ?= examples/archbuild.hcl
DEMO_MIRROR   := 127.0.0.1:5000
DEMO_PUSH     := 127.0.0.1:5001
DEMO_PROXY    := 127.0.0.1:8888

.PHONY: help build archc buildkitd buildctl buildx setup test test-short lint bench bench-apply bench-bake bench-flaky bench-farm bench-noop fuzz demo demo-services \
        demo-seed demo-run services-stop services-status clean

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: archc buildkitd buildctl ## bin/archc, bin/buildkitd and bin/buildctl (buildkit version pinned in go.mod)

archc: ## bin/archc with the version stamped in
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/archc ./cmd/archc

buildkitd: ## bin/buildkitd from github.com/moby/buildkit@$(BUILDKIT_VER)
	$(GO) build -ldflags '$(BK_LDFLAGS)' -o $(BIN)/buildkitd github.com/moby/buildkit/cmd/buildkitd

# The e2e parity test compares archc's images with buildctl's (the daemon's own frontend).
buildctl: ## bin/buildctl from github.com/moby/buildkit@$(BUILDKIT_VER)
	$(GO) build -ldflags '$(BK_LDFLAGS)' -o $(BIN)/buildctl github.com/moby/buildkit/cmd/buildctl

buildx: ## bin/buildx from github.com/docker/buildx@$(BUILDX_VER) (for bench-bake; module cache, no Docker engine needed)
	GOBIN=$(BIN) $(GO) install -ldflags '-X github.com/docker/buildx/version.Version=$(BUILDX_VER)' github.com/docker/buildx/cmd/buildx@$(BUILDX_VER)

setup: ## install and prepare the test/demo machine (idempotent; scripts/setup.sh)
	bash scripts/setup.sh

# -count=1: the e2e tests exec bin/archc and bin/buildkitd, which go test's cache cannot see.
test: setup build ## every test, end-to-end included (CI=true: a missing part fails)
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) $(PKGS)

test-short: ## unit tests only, no setup
	$(GO) test -short $(TESTFLAGS) $(PKGS)

lint: ## gofmt must be clean, go vet must pass
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); \
	if [[ -n "$$out" ]]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

bench: setup build ## benchmarks, each with its ratio against a baseline measured in the same process
	@echo "== resolution: 50 refs x 2 platforms, 20 ms per request; speedup-x vs a sequential client (target >= 10)"
	$(GO) test -run '^$$' -bench Resolve50x2 -benchtime 1x -count 3 ./registry
	@echo "== compile: cost per build at 20 and 200 components x 2 platforms (flat)"
	$(GO) test -run '^$$' -bench Compile -benchmem ./compiler
	@echo "== archc plan --format json, 200 components x 2 platforms, warm lock and cache (< 2 s, < 300 MB)"
	$(GO) test -run '^$$' -bench PlanCLI -benchtime 3x ./e2e
	@echo "== archc vs buildx bake: plan vs bake --print (200, 1000 x 2), cold apply 30 x 2, no-op apply 200 x 2"
	$(MAKE) --no-print-directory bench-bake

fuzz: ## each fuzz target for FUZZTIME (default 15s)
	bash scripts/fuzz.sh

demo: setup build demo-services demo-seed demo-run ## loopback mirror + push registry + proxy, seeded busybox, then archc

demo-services: ## start the demo's registries (:5000 mirror, :5001 push) and tinyproxy (:8888)
	bash scripts/services.sh start

demo-seed: ## push busybox:1.36 (linux/amd64+arm64) into the docker.io mirror at :5000
	$(GO) run ./internal/testenv/cmd/seed -registry http://$(DEMO_MIRROR) -repo library/busybox -tag 1.36

demo-run: ## archc apply the example spec (amd64+arm64), show the pushed index, run doctor
	$(BIN)/archc validate $(DEMO_SPEC)
	$(BIN)/archc apply $(DEMO_SPEC)
	@echo "--- pushed index: http://$(DEMO_PUSH)/v2/demo/app/manifests/dev"
	@curl -fsS -H 'Accept: application/vnd.oci.image.index.v1+json' \
	  -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
	  http://$(DEMO_PUSH)/v2/demo/app/manifests/dev; echo
	@# The proxy check CONNECTs to an in-house registry: nothing leaves loopback.
	$(BIN)/archc doctor $(DEMO_SPEC) --connect-target $(DEMO_PUSH)

bench-apply: setup build ## archc apply vs buildctl build (same daemon), cold and warm: ratios
	ARCHC_BENCH=1 $(GO) test ./e2e -run '^TestBenchApply$$' -v -count=1 -timeout $(TEST_TIMEOUT)

# BAKE_ROUNDS alternating rounds per part (medians); the test binary runs directly so its
# progress lines stream. The table (with issue 15's goals) is also in bin/bench-bake.txt.
BAKE_ROUNDS   ?= 3
bench-bake: setup build buildx ## archc vs buildx bake (remote driver, same buildkitd): plan, cold and no-op apply; ratios beside the goals
	$(GO) test -c -o $(BIN)/e2e-bake.test ./e2e
	cd e2e && ARCHC_BENCH=1 ARCHC_BENCH_ROUNDS=$(BAKE_ROUNDS) ARCHC_BENCH_OUT=$(BIN)/bench-bake.txt \
	  $(BIN)/e2e-bake.test -test.run '^TestBenchBake$$' -test.count=1 -test.timeout $(TEST_TIMEOUT)

bench-noop: setup build ## no-op apply of 200 x 2 after a real one (goal < 1 s): time, push-registry requests, ratio to apply --force
	ARCHC_BENCH=1 ARCHC_BENCH_OUT=$(BIN)/bench-noop.txt $(GO) test ./e2e -run '^TestBenchNoop$$' -v -count=1 -timeout $(TEST_TIMEOUT)
	@cat $(BIN)/bench-noop.txt

# FLAKY_K cold runs per fault kind and tool; FLAKY_SEED replays a run's faults. The test binary
# runs directly so its progress lines stream (go test holds a passing package's output).
FLAKY_K       ?= 5
FLAKY_SEED    ?= 20261201
bench-flaky: setup build ## archc apply vs buildctl under issue 9's faults: success rates, time ÷ healthy
	$(GO) test -c -o $(BIN)/e2e.test ./e2e
	cd e2e && ARCHC_BENCH=1 ARCHC_BENCH_K=$(FLAKY_K) ARCHC_FAULT_SEED=$(FLAKY_SEED) ARCHC_BENCH_OUT=$(BIN)/bench-flaky.txt \
	  $(BIN)/e2e.test -test.run '^TestBenchFlaky$$' -test.count=1 -test.timeout $(TEST_TIMEOUT)

# Two buildkitd nodes per platform against one, cold each time (new roots); FARM_ROUNDS runs of
# each layout, alternating. The e2e test starts the nodes on loopback itself.
FARM_ROUNDS   ?= 2
bench-farm: setup build ## 20 components x 2 platforms (RUN sleep 2), 2 nodes per platform vs 1: wall-time ratio (goal <= 0.6)
	ARCHC_BENCH=1 ARCHC_BENCH_ROUNDS=$(FARM_ROUNDS) ARCHC_BENCH_OUT=$(BIN)/bench-farm.txt \
	  $(GO) test ./e2e -run '^TestBenchFarm$$' -v -count=1 -timeout $(TEST_TIMEOUT)
	@cat $(BIN)/bench-farm.txt

services-stop: ## stop the demo services
	bash scripts/services.sh stop

services-status: ## show the demo services
	bash scripts/services.sh status

clean: services-stop ## remove bin/ and test binaries (keeps the busybox cache)
	rm -rf $(BIN) coverage.* *.test
