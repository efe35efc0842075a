#!/usr/bin/env bash
# Creates/updates or destroys the short-lived review stack of a pull request.
#
# Usage: review-stack.sh up|down PR_NUMBER
#
# up:   creates review-pr<N> when missing (secrets provider PULUMI_SECRETS_PROVIDER
#       when set), tags it (sluice:pr, sluice:created-at, sluice:ttl-hours from
#       REVIEW_TTL_HOURS, default 72) so the scheduled teardown can reclaim it if
#       this workflow never gets to, copies the dev stack's configuration into it
#       (dev sizing; secrets are re-encrypted) and runs `up`.
# down: destroys the stack and removes it; a stack that does not exist is fine.
#
# A review stack's config file is not committed: every run copies it again from
# dev. Run with PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true so a stack whose
# config file is absent keeps the secrets provider recorded in its state.
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
	# Recreate the config from dev so the destroy sees the same provider settings.
	pulumi config cp --stack=dev --dest "$stack"
	STACK="$stack" REMOVE=1 exec "$root/infra/delivery/scripts/delivery.sh" destroy
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
pulumi config cp --stack=dev --dest "$stack"
STACK="$stack" exec "$root/infra/delivery/scripts/delivery.sh" up
