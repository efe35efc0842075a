# Workloads: build, checks, the test suite, the demo, the ingest and Spark benchmarks.

GO_TEST_TIMEOUT ?= 75m
# Integration tests that stop and restart engines run alone, after the rest.
FAULT_TESTS := Fault

.PHONY: build check test test-unit demo bench-ingest bench-spark fuzz tidy-check tracked-check layout-check

build: ## build every binary (workloads/cmd and the dev tools of workloads/dev/cmd) into .sluice/bin
	@mkdir -p $(BIN)
	$(GO) build -trimpath -o $(BIN)/ ./workloads/cmd/... ./workloads/dev/cmd/...

check: tidy-check tracked-check layout-check ## gofmt, go vet (unit and integration builds), go mod tidy leaves no diff, no build outputs in git, product code imports no dev tooling
	@out=$$(gofmt -l $$(git ls-files '*.go' ; git ls-files --others --exclude-standard '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...

tracked-check: ## git tracks no executable binary and no file over 5 MiB
	@bash $(ROOT)/mk/check-tracked.sh

# What ships (workloads/cmd, workloads/internal, workloads/contract) never
# depends on the dev tooling of workloads/dev; tests of product packages may.
layout-check: ## no product package or binary imports a package under workloads/dev
	@bad=$$($(GO) list -deps ./workloads/cmd/... ./workloads/internal/... ./workloads/contract/... | grep '^github.com/sluicehq/sluice/workloads/dev/' || true); \
	  if [ -n "$$bad" ]; then echo "product code imports dev tooling:"; echo "$$bad"; exit 1; fi

tidy-check: ## go mod tidy would change nothing
	$(GO) mod tidy -diff

test-unit: ## unit tests only (no engines needed)
	$(GO) test -count=1 ./...

# The tests write to Redis database 1 (devservices.TestRedisDB), never the
# demo's 0; it is emptied before the tests and after they pass.
test: check build services-up ## everything: checks, unit + integration tests on the real engines, fault tests, infra under mocks
	@$(GO) run ./workloads/dev/cmd/devservices redis-clear-tests
	$(GO) test -tags integration -count=1 -timeout $(GO_TEST_TIMEOUT) -skip '$(FAULT_TESTS)' ./...
	$(GO) test -tags integration -count=1 -timeout $(GO_TEST_TIMEOUT) -p 1 -run '$(FAULT_TESTS)' ./...
	@$(GO) run ./workloads/dev/cmd/devservices redis-clear-tests

demo: build ## the main job locally: engines, ingest, a stream of events, a summary
	$(BIN)/demo -bin $(BIN)

bench-ingest: build ## benchmark: Kafka→ingest→Cassandra vs batched bare gocql upserts, then 1, 2, 3 ingest replicas on 6 partitions; CPU s per 100k events (target ≤ 6); ARGS=-cpuprofile=FILE profiles ingest (table + JSON line)
	$(BIN)/bench ingest -bin $(BIN) $(ARGS)

bench-spark: build ## benchmark: the Spark stream job on local[2]: backlog events/s vs a plain Kafka read, event time → aggregate p50/p99 at the demo's rate, peak RSS (table + JSON line)
	$(BIN)/bench spark $(ARGS)

fuzz: ## run every fuzz target of the module for FUZZTIME each (default 10s; FUZZ=regexp picks targets); fails on a crasher, kept in testdata/fuzz
	@GO=$(GO) bash $(ROOT)/mk/fuzz.sh
