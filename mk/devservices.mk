# Local engines (Kafka, Cassandra, PostgreSQL, Redis) without Docker; the logic
# lives in workloads/dev/devservices. ENGINE=<name> (or a space-separated
# list) limits a target to some engines; the default is all of them.

DEVSERVICES := $(BIN)/devservices
DEVSERVICES_SRC := $(wildcard $(ROOT)/workloads/dev/cmd/devservices/*.go $(ROOT)/workloads/dev/devservices/*.go) \
	$(ROOT)/go.mod $(ROOT)/go.sum
ENGINE ?=
N ?= 100

.PHONY: services-up services-down services-reset services-status services-logs services-env test-devservices test-devservices-integration

# Rebuilt only when its sources change, so the targets below start at once.
$(DEVSERVICES): $(DEVSERVICES_SRC)
	@mkdir -p $(BIN)
	$(GO) build -o $@ ./workloads/dev/cmd/devservices

services-up: $(DEVSERVICES) ## start the local engines (ENGINE=... for some), wait until they answer, then warm up those it started (SLUICE_WARMUP=0 skips, =2m caps each)
	@$(DEVSERVICES) up $(ENGINE)

services-down: $(DEVSERVICES) ## stop the local engines (ENGINE=... for some); data stays
	@$(DEVSERVICES) down $(ENGINE)

services-reset: $(DEVSERVICES) ## stop all local engines and delete their data (.sluice/data)
	@$(DEVSERVICES) down --purge

services-status: $(DEVSERVICES) ## show which local engines run and answer
	@$(DEVSERVICES) status

services-logs: $(DEVSERVICES) ## print the last N (default 100) lines of ENGINE=<name>'s log
	@test -n "$(ENGINE)" || { echo "usage: make services-logs ENGINE=kafka|cassandra|postgres|redis [N=100]"; exit 2; }
	@$(DEVSERVICES) logs $(ENGINE) -n $(N)

services-env: $(DEVSERVICES) ## print export lines for the local endpoints (to eval in a shell)
	@$(DEVSERVICES) env

test-devservices: ## unit tests of the engine tooling (no engines needed)
	$(GO) test -count=1 ./workloads/dev/devservices/... ./workloads/dev/cmd/devservices/...

test-devservices-integration: ## integration test of the engine tooling: brings every engine up, runs the warm-ups, restarts Kafka
	$(GO) test -tags integration -count=1 -timeout 20m -p 1 ./workloads/dev/devservices/...
