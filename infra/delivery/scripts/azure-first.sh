#!/usr/bin/env bash
# Azure-first update of one stack: `pulumi up` targeted at every Azure resource
# (with its parents and dependencies), none of the Kubernetes objects. A stack
# whose API server is private is deployed by its runner inside the VNet; this
# update, run from a hosted runner, creates that runner (and the rest of the
# Azure side) through Azure Resource Manager alone, so even a first deploy has
# a runner before the full update needs one (infra/DELIVERY.md, Private clusters).
#
# The targets come from the offline plan (no Azure call, no cluster), read by
# infra/delivery/cmd/firsttargets -first azure, which refuses a plan where an Azure resource
# depends on a Kubernetes object.
#
# Usage: azure-first.sh <stack>. Environment: as delivery.sh (CREATE=1 is implied).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
stack="${1:-}"
[[ -n "$stack" ]] || {
	echo "usage: azure-first.sh <stack>" >&2
	exit 2
}
go_cmd="${GO:-go}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "azure-first: $stack: the Azure resources of the offline plan" >&2
(cd "$root" && "$go_cmd" run ./infra/cmd/plan -C "$root" -stack "${stack##*/}" -json) >"$work/plan.json"
(cd "$root" && "$go_cmd" run ./infra/delivery/cmd/firsttargets -first azure) <"$work/plan.json" >"$work/targets"
mapfile -t targets <"$work/targets"
echo "azure-first: $stack: ${#targets[@]} targets, no Kubernetes object" >&2
STACK="$stack" CREATE=1 ARGS="${targets[*]}" "$root/infra/delivery/scripts/delivery.sh" up
