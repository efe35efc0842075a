# The real-time path: change feed → Redis → cache-aside API and live page.
# Its integration tests drive Debian's chromium headless; `make test` installs
# it first (realtime-prereqs), so a fresh machine needs nothing by hand.

REALTIME_PKGS := ./workloads/internal/changefeed/... ./workloads/internal/rediscache/... \
	./workloads/internal/api/... ./workloads/dev/rtprobe/... ./workloads/dev/pipelinetest/... \
	./workloads/cmd/changefeed/... ./workloads/cmd/api/...
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: realtime-prereqs test-realtime bench-api bench-e2e live

# The live page's browser test needs chromium; the main test target gets it.
test: realtime-prereqs

realtime-prereqs: ## install Debian's chromium (headless browser of the live-page test) if it is missing
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
	  echo "chromium: $$(command -v chromium || command -v chromium-browser)"; \
	else \
	  echo "installing chromium (apt-get)…"; \
	  $(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends chromium; \
	fi

test-realtime: realtime-prereqs services-up ## change feed, cache and api: unit and integration tests, then their fault tests
	$(GO) test -tags integration -count=1 -timeout 30m -skip '$(FAULT_TESTS)' $(REALTIME_PKGS)
	$(GO) test -tags integration -count=1 -timeout 30m -p 1 -run '$(FAULT_TESTS)' $(REALTIME_PKGS)

bench-api: build ## benchmark: cache-hit GET /v1/events/{id}, local cache on and off, vs a bare net/http handler and the redis ceiling (bare handler + GET), p99 at half rate, peak RSS (table + JSON line)
	$(BIN)/bench api -bin $(BIN) $(ARGS)

bench-e2e: build ## benchmark: the bare-upsert and whole-path ceilings, then produce → visible through the api at 2,000 events/s when that fits under a quarter of the whole-path one (else a quarter), p50/p99 (≤ 500 ms), missing (table + JSON line); ARGS=--cold first restarts kafka, cassandra and redis (with services-up's warm-up) and adds the first window's p99 (≤ 1 s, ≤ 2× warm): it stops shared engines, so run it under the engines lock (flock -o -x)
	$(BIN)/bench e2e -bin $(BIN) $(ARGS)

live: build ## the demo, then keep the api and its live page running until Ctrl-C
	$(BIN)/demo -bin $(BIN) -serve
