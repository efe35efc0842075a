# Batch path: the enrich job (Cassandra → reference data → PostgreSQL), the
# PostgreSQL schema and the reporting views. Code: workloads/internal/enrich,
# pgstore, pgmigrate, refdata; binary workloads/cmd/enrich.

BATCH_APT_GET := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: batch-prereqs bench-enrich bench-spark-enrich test-batch enrich-seed

# The PgBouncer integration test runs its own pgbouncer (transaction pooling,
# like Azure's port 6432) in front of the local PostgreSQL.
test: batch-prereqs

batch-prereqs: ## install Debian's pgbouncer (the enrich tests start their own instance) if it is missing
	@if command -v pgbouncer >/dev/null 2>&1 || test -x /usr/sbin/pgbouncer; then \
	  echo "pgbouncer: $$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"; \
	else \
	  echo "installing pgbouncer (apt-get)…"; \
	  $(BATCH_APT_GET) update -qq && $(BATCH_APT_GET) install -y -qq --no-install-recommends pgbouncer; \
	fi

bench-enrich: build ## benchmark: COPY ceiling vs the enrich job on 1,000,000 events (table + JSON line; ARGS=-events N)
	$(BIN)/bench enrich -bin $(BIN) $(ARGS)

bench-spark-enrich: build ## benchmark: the enrich window (1,000,000 events) on the Go engine and on Spark local[1] and local[2] in one run: events/s, peak RSS, events/s per executor core, rows identical (table + JSON line; ARGS=-events N)
	$(BIN)/bench spark-enrich -bin $(BIN) $(ARGS)

test-batch: batch-prereqs services-up ## unit and integration tests of the batch path only (needs pgbouncer installed)
	$(GO) test -tags integration -count=1 -timeout 30m -p 1 ./workloads/internal/enrich/... \
	  ./workloads/internal/pgstore/... ./workloads/internal/pgmigrate/... ./workloads/internal/refdata/...

enrich-seed: build ## local reference data: sites/devices in PostgreSQL and .sluice/reference/device_models.parquet
	@eval "$$($(BIN)/devservices env)" && $(BIN)/migrate -kafka=false -cassandra=false -postgres && \
	  $(BIN)/enrich seed --parquet $(ROOT)/.sluice/reference/device_models.parquet
