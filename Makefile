# Sluice: the one entry point. CI runs the same targets (.ci/run calls `make test`).
SHELL := /bin/bash
.DEFAULT_GOAL := help
GO ?= go
export GOFLAGS ?= -buildvcs=false
ROOT := $(CURDIR)
BIN := $(ROOT)/.sluice/bin

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# Each area keeps its targets in mk/<area>.mk.
include $(sort $(wildcard mk/*.mk))
