#!/usr/bin/env bash
# Creates/updates or destroys the short-lived review stack of a pull request.
#
# Usage: review-stack.sh up|down PR_NUMBER
#
# up:   creates review-pr<N> when missing (secrets provider PULUMI_SECRETS_PROVIDER,
#       the review level's own key), tags it (sluice:pr, sluice:created-at,
#       sluice:ttl-hours from REVIEW_TTL_HOURS, default 72) so the scheduled
#       teardown can reclaim it, gives it dev's configuration (dev sizing) and
#       deploys it with stack-up.sh: the stack's registry first, then the pull
#       request's images built and pushed into that registry, then everything.
# down: tears the stack down (teardown-stack.sh: Kubernetes objects, Azure
#       resources, locks, the soft-deleted vault); a missing stack is fine.
#
# Review stacks live in the review level's state, subscription and key, and
# never read dev's: the configuration is a copy of stacks/Pulumi.dev.yaml,
# which must hold no secure values (they are encrypted with dev's key, which
# the review identity cannot and must not decrypt).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
action="${1:-}"
pr="${2:-}"
[[ "$action" == "up" || "$action" == "down" ]] || { echo "usage: review-stack.sh up|down PR_NUMBER" >&2; exit 1; }
[[ "$pr" =~ ^[1-9][0-9]*$ ]] || { echo "review-stack: '$pr' is not a pull request number" >&2; exit 1; }
stack="review-pr$pr"
ttl="${REVIEW_TTL_HOURS:-72}"
[[ "$ttl" =~ ^[1-9][0-9]*$ ]] || { echo "review-stack: REVIEW_TTL_HOURS=$ttl is not a whole number of hours" >&2; exit 1; }

pulumi_bin="${PULUMI:-}"
if [[ -z "$pulumi_bin" ]]; then
	if [[ -x "$root/.sluice/bin/pulumi" ]]; then
		pulumi_bin="$root/.sluice/bin/pulumi"
	else
		pulumi_bin=pulumi
	fi
fi
pulumi() {
	"$pulumi_bin" --cwd "$root" --non-interactive --color never "$@"
}

exists() {
	pulumi stack ls --json | grep -q "\"name\": *\"\\([^\"]*/\\)\\?$stack\""
}

if [[ "$action" == "down" ]]; then
	if ! exists; then
		echo "review-stack: $stack does not exist; nothing to destroy"
		exit 0
	fi
	PULUMI="$pulumi_bin" exec "$root/infra/delivery/scripts/teardown-stack.sh" "$stack"
fi

dev_config="$root/stacks/Pulumi.dev.yaml"
if grep -qE '^[[:space:]]*secure:|[[:space:]]secure:[[:space:]]' "$dev_config"; then
	echo "review-stack: $dev_config holds secure values; a review stack cannot decrypt dev's secrets: move them out of dev's file (set them per stack) first" >&2
	exit 1
fi

if ! exists; then
	init=(stack init "$stack" --no-select)
	if [[ -n "${PULUMI_SECRETS_PROVIDER:-}" ]]; then
		init+=(--secrets-provider "$PULUMI_SECRETS_PROVIDER")
	fi
	pulumi "${init[@]}"
	pulumi stack tag set sluice:created-at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --stack="$stack"
	pulumi stack tag set sluice:pr "$pr" --stack="$stack"
fi
pulumi stack tag set sluice:ttl-hours "$ttl" --stack="$stack"
cp "$dev_config" "$root/stacks/Pulumi.$stack.yaml"
BUILD_IMAGES=1 PULUMI="$pulumi_bin" exec "$root/infra/delivery/scripts/stack-up.sh" "$stack"
