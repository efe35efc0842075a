# Infra: the Pulumi program under mocks — offline plan, golden files, benchmark.
# The program is infra/internal/platform; the plan tool is infra/cmd/plan.

PLAN := $(BIN)/plan
INFRA_PKGS := ./infra/internal/config/... ./infra/internal/azurenative/... ./infra/internal/components/... \
	./infra/internal/mocks/... ./infra/internal/platform/... ./infra/internal/plan/... ./infra/cmd/plan/...

.PHONY: plan plan-update bench-plan infra-test

# Built each time (cached by go), so a plan always reflects the sources.
$(PLAN): FORCE_PLAN
	@mkdir -p $(BIN)
	@$(GO) build -o $@ ./infra/cmd/plan
.PHONY: FORCE_PLAN
FORCE_PLAN:

plan: STACK ?= dev
plan: $(PLAN) ## offline plan of STACK=<name> (default dev) under mocks, no Azure credentials; JSON=1 for JSON
	@$(PLAN) -C $(ROOT) -stack $(STACK) $(if $(filter 1,$(JSON)),-json,)

plan-update: ## rewrite the golden plans infra/testdata/plan-<stack>.golden after an intended change
	$(GO) test ./infra/internal/plan -run TestGoldenPlans -update

bench-plan: $(PLAN) ## time the mocked run of the prod stack (after build): table + one JSON line
	@$(PLAN) -C $(ROOT) -stack prod -bench -runs 5

# `make test` runs these too (it tests ./...); this target runs only them.
infra-test: ## infra tests only: config validation, azure-native wrappers, every stack under mocks, golden plans
	$(GO) test -count=1 $(INFRA_PKGS)
