# Delivery: Pulumi operations per stack, the Pulumi CLI, and the delivery tests.
# The logic lives in infra/delivery (scripts/*.sh, cmd/*); see infra/DELIVERY.md.
# `make plan STACK=<name>` (offline) is defined in mk/infra.mk.

DELIVERY_SH := $(ROOT)/infra/delivery/scripts/delivery.sh
DELIVERY_PKGS := ./infra/delivery/... ./infra/bootstrap/...

.PHONY: preview up destroy refresh pulumi-cli pulumi-install kubelogin-install stackreaper test-delivery

preview: ## pulumi preview --diff of STACK=<name> (ARGS=... adds flags)
	@STACK="$(STACK)" ARGS="$(ARGS)" bash "$(DELIVERY_SH)" preview

up: ## pulumi up of STACK=<name> (CI: --yes)
	@STACK="$(STACK)" ARGS="$(ARGS)" bash "$(DELIVERY_SH)" up

destroy: ## pulumi destroy of STACK=<name> (staging/prod need CONFIRM_DESTROY=<name>; protected stacks never)
	@STACK="$(STACK)" ARGS="$(ARGS)" bash "$(DELIVERY_SH)" destroy

refresh: ## pulumi refresh of STACK=<name>
	@STACK="$(STACK)" ARGS="$(ARGS)" bash "$(DELIVERY_SH)" refresh

pulumi-cli: ## build the Pulumi CLI v3.250.0 from source into .sluice/bin, every module checked against infra/delivery/pulumi-cli/go.sum (CI's path; slow: 10-30 min, several GiB RAM)
	@bash "$(ROOT)/infra/delivery/scripts/pulumi-cli.sh"

pulumi-install: ## install the official Pulumi CLI release into .sluice/bin, checked against infra/delivery/tools.sha256; fails closed until its sums are pinned there (use make pulumi-cli)
	@bash "$(ROOT)/infra/delivery/scripts/install-pulumi.sh"

kubelogin-install: ## install kubelogin into .sluice/bin, checked against infra/delivery/tools.sha256
	@bash "$(ROOT)/infra/delivery/scripts/install-kubelogin.sh"

stackreaper: ## plan the teardown of expired dev/review stacks (APPLY=1 destroys them)
	@$(GO) run ./infra/delivery/cmd/stackreaper -cwd "$(ROOT)" $(if $(filter 1,$(APPLY)),-apply,)

# The program-host tests (infra/delivery/langhost) drive the CLI built from the
# pinned module, so make test builds it first (seconds with a warm build cache).
test: pulumi-cli

# `make test` runs these too (it tests ./...); this target runs only them.
test-delivery: pulumi-cli ## delivery tests only: stack reaper, PR comment, program host on the real CLI, bootstrap (mocks), workflow lint
	$(GO) test -tags integration $(DELIVERY_PKGS) ./infra

.PHONY: pbids
pbids: ## Power BI data source file: STACK=<name> from the stack's outputs, else the local engines' PostgreSQL (.sluice/reports/)
	@if [ -n "$(STACK)" ]; then \
	  PULUMI="$${PULUMI:-$$(command -v $(ROOT)/.sluice/bin/pulumi || command -v pulumi)}" $(GO) run ./infra/delivery/cmd/pbids -stack "$(STACK)" $(ARGS); \
	else \
	  eval "$$($(GO) run ./workloads/dev/cmd/devservices env)" && $(GO) run ./infra/delivery/cmd/pbids -url "$$POSTGRES_URL" $(ARGS); \
	fi
