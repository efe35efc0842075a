#!/usr/bin/env bash
# Tears down one dev or review stack so that the next stack of the same name can
# be created: the Kubernetes objects and Azure resources (pulumi destroy, which
# needs kubelogin on PATH for the cluster's objects), any management lock left on
# the stack's resource group (a lock blocks every delete), then the stack's Key
# Vault, which Azure keeps soft-deleted and whose name it would refuse: purged
# (dev and review vaults have no purge protection; a vault that has is reported,
# not purged, and the run fails).
#
# Usage: teardown-stack.sh STACK
# Refuses staging, prod and any stack that is not dev, dev-* or review-*, before
# it runs anything. Needs az (logged in) and the pulumi CLI (PULUMI or .sluice/bin).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
stack="${1:?usage: teardown-stack.sh STACK}"

die() { echo "teardown: $*" >&2; exit 1; }

short="${stack##*/}"
case "$short" in
staging | prod) die "refusing to tear down $stack: staging and prod are never torn down by this script" ;;
dev | dev-* | review-*) ;;
*) die "refusing to tear down $stack: only dev, dev-<name> and review-<name> stacks are torn down" ;;
esac
[[ "$stack" =~ ^[A-Za-z0-9][A-Za-z0-9._/-]*$ ]] || die "'$stack' is not a valid stack name"

pulumi_bin="${PULUMI:-}"
if [[ -z "$pulumi_bin" ]]; then
	if [[ -x "$root/.sluice/bin/pulumi" ]]; then pulumi_bin="$root/.sluice/bin/pulumi"; else pulumi_bin=pulumi; fi
fi
pulumi() { "$pulumi_bin" --cwd "$root" --non-interactive --color never "$@"; }
command -v az >/dev/null 2>&1 || die "the Azure CLI (az) is needed"

# Names first: the outputs are gone once the stack is removed.
rg="$(pulumi stack output resourceGroupName --stack="$stack" 2>/dev/null || true)"
vault="$(pulumi stack output keyVaultName --stack="$stack" 2>/dev/null || true)"

if [[ -n "$rg" ]] && az group exists --name "$rg" --output tsv 2>/dev/null | grep -qi true; then
	while read -r lock; do
		[[ -n "$lock" ]] || continue
		echo "teardown: deleting lock $lock"
		az lock delete --ids "$lock" --output none
	done < <(az lock list --resource-group "$rg" --query '[].id' --output tsv)
fi

STACK="$stack" REMOVE=1 CI=true "$root/infra/delivery/scripts/delivery.sh" destroy

# The vault by its name, or (no outputs: a stack that never finished) by tags.
mapfile -t deleted < <(az keyvault list-deleted --resource-type vault \
	--query "[?name=='${vault:-}' || (properties.tags.project=='sluice' && properties.tags.environment=='${short}')].[name, properties.location, properties.purgeProtectionEnabled]" \
	--output tsv)
failed=0
for row in "${deleted[@]}"; do
	read -r name location protected <<<"$row"
	[[ -n "$name" ]] || continue
	if [[ "${protected,,}" == "true" ]]; then
		echo "teardown: vault $name has purge protection: Azure keeps its name until the retention ends; use another name for the next $stack" >&2
		failed=1
		continue
	fi
	echo "teardown: purging soft-deleted vault $name"
	az keyvault purge --name "$name" --location "$location" --output none
done
[[ $failed -eq 0 ]] || exit 1
echo "teardown: $stack destroyed, removed, and nothing of it blocks the name"
