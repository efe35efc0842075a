# Infra: the Pulumi program under mocks — offline plan, golden files, benchmark.
# The program is infra/internal/platform; the plan tool is infra/cmd/plan.

PLAN := $(BIN)/plan
INFRA_PKGS := ./infra/internal/config/... ./infra/internal/azurenative/... ./infra/internal/components/... \
	./infra/internal/mocks/... ./infra/internal/platform/... ./infra/internal/plan/... ./infra/cmd/plan/... \
	./infra/internal/plancheck/... ./infra/cmd/verifyplan/... ./workloads/contract/envcheck/...

.PHONY: plan plan-update bench-plan infra-test verify-plan azure-schema size

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

verify-plan: STACK ?= dev
verify-plan: ## check STACK=<name>'s offline plan against Azure's and Kubernetes' rules (schema, names, order, manifests, contract); one JSON line
	@$(GO) run ./infra/cmd/verifyplan -C $(ROOT) -stack $(STACK)

# The provider schema subset the plan checks read, from the published
# pulumi-azure-native Python wheels: the pinned v2 first, then a v3 release
# for tokens v2 lacks (Azure Managed Redis at 2025-07-01,
# azure-native:redisenterprise:*). Tokens come from the three plans plus
# AZURE_SCHEMA_TOKENS (the 2025-04-01 Redis tokens stay for the schema test of nested types).
AZURE_NATIVE_V2 ?= 2.92.3
AZURE_NATIVE_V3 ?= 3.29.0
AZURE_SCHEMA_TOKENS ?= azure-native:cache/v20250401:RedisEnterprise,azure-native:cache/v20250401:Database,azure-native:cache/v20250401:AccessPolicyAssignment,azure-native:redisenterprise:RedisEnterprise,azure-native:redisenterprise:Database,azure-native:redisenterprise:AccessPolicyAssignment,azure-native:resources:Resource
AZURE_WHEELS := $(ROOT)/.sluice/cache/azure-native-wheels
azure-schema: ## regenerate infra/internal/plancheck/testdata/azure-schema.json (downloads the pulumi-azure-native wheels with pip)
	@mkdir -p $(AZURE_WHEELS)
	pip download --no-deps -d $(AZURE_WHEELS) pulumi-azure-native==$(AZURE_NATIVE_V2)
	pip download --no-deps -d $(AZURE_WHEELS) pulumi-azure-native==$(AZURE_NATIVE_V3)
	$(GO) run ./infra/internal/plancheck/cmd/azureschema -C $(ROOT) \
		-wheel $(AZURE_WHEELS)/pulumi_azure_native-$(AZURE_NATIVE_V2)-py3-none-any.whl \
		-wheel $(AZURE_WHEELS)/pulumi_azure_native-$(AZURE_NATIVE_V3)-py3-none-any.whl \
		-tokens $(AZURE_SCHEMA_TOKENS)

size: ## stack-config fragment and its reasoning for RATE=<events/s> [EVENT_BYTES=400] [RETENTION_DAYS=7] [CRITICAL_SHARE=0.05]
	@$(GO) run ./infra/cmd/size -rate "$(RATE)" $(if $(EVENT_BYTES),-event-bytes $(EVENT_BYTES),) $(if $(RETENTION_DAYS),-retention-days $(RETENTION_DAYS),) $(if $(CRITICAL_SHARE),-critical-share $(CRITICAL_SHARE),)
