#!/usr/bin/env bash
# Deploys one stack so that even its first deploy works: the stack's container
# registry exists before any image is needed, its cluster pulls only from it, and
# images are never rebuilt per environment.
#
# Usage: stack-up.sh STACK
#   1. `pulumi up` targeted at the registry and what it needs (firsttargets -first registry reads
#      `pulumi preview --json`): a no-op once the registry exists;
#   2. images into that registry:
#      - default (dev, staging, prod): promote-images.sh imports, by digest, the
#        images built once on main from the build registry (SLUICE_IMAGES_FILE,
#        BUILD_REGISTRY_ID): same digests in every stack;
#      - BUILD_IMAGES=1 (review stacks): builds the checked-out code and pushes it
#        to the stack's own registry (make images), never to the build registry;
#   3. `pulumi up` of the whole stack with SLUICE_IMAGES_FILE naming the stack's
#      registry.
# Environment: as delivery.sh (CREATE=1 is implied).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
stack="${1:?usage: stack-up.sh STACK}"
scripts="$root/infra/delivery/scripts"
work="$root/.sluice/stack-up/$stack"
mkdir -p "$work"

pulumi_bin="${PULUMI:-}"
if [[ -z "$pulumi_bin" ]]; then
	if [[ -x "$root/.sluice/bin/pulumi" ]]; then pulumi_bin="$root/.sluice/bin/pulumi"; else pulumi_bin=pulumi; fi
fi
export PULUMI="$pulumi_bin"
# The three operations below run through one build of the program.
SLUICE_PROGRAMHOST="$("$scripts/delivery.sh" host)" || exit 1
export SLUICE_PROGRAMHOST

echo "stack-up: $stack: the registry first"
STACK="$stack" CREATE=1 ARGS="--json" "$scripts/delivery.sh" preview >"$work/preview.json"
mapfile -t targets < <(go run "$root/infra/delivery/cmd/firsttargets" -first registry <"$work/preview.json")
[[ ${#targets[@]} -gt 0 ]] || { echo "stack-up: no registry in the plan of $stack" >&2; exit 1; }
STACK="$stack" ARGS="${targets[*]}" "$scripts/delivery.sh" up

registry="$("$pulumi_bin" --cwd "$root" --non-interactive stack output acrLoginServer --stack="$stack")"
[[ "$registry" =~ ^[a-z0-9]+\.azurecr\.io$ ]] || { echo "stack-up: $stack has no registry login server (got '$registry')" >&2; exit 1; }

if [[ "${BUILD_IMAGES:-}" == "1" ]]; then
	echo "stack-up: $stack: building the checked-out code into $registry"
	make -s -C "$root" images PUSH=1 REGISTRY="$registry"
	cp "$root/.sluice/images/digests.json" "$work/images.json"
else
	: "${SLUICE_IMAGES_FILE:?set SLUICE_IMAGES_FILE to the digests.json built on main}"
	: "${BUILD_REGISTRY_ID:?set BUILD_REGISTRY_ID to the build registry resource id (bootstrap output)}"
	echo "stack-up: $stack: importing the images built on main into $registry"
	"$scripts/promote-images.sh" "$SLUICE_IMAGES_FILE" "$BUILD_REGISTRY_ID" "$registry" >"$work/images.json"
fi

echo "stack-up: $stack: everything"
STACK="$stack" SLUICE_IMAGES_FILE="$work/images.json" "$scripts/delivery.sh" up
