#!/usr/bin/env bash
# Nightly drift detection for long-lived stacks, in two steps so the job that runs
# the Pulumi program holds no GitHub write token:
#
#   drift-check.sh check STACK DIR
#       Runs `pulumi preview --refresh --expect-no-changes` and writes
#       DIR/<stack>.log, DIR/<stack>.exit and DIR/<stack>.status (clean or drift).
#       Exits non-zero for any failure other than drift, so an error (credentials,
#       program bug) is never mistaken for drift.
#
#   drift-check.sh report DIR
#       For every DIR/<stack>.status: on drift opens an issue labelled `drift`
#       for the stack or updates the open one (body built by infra/delivery/cmd/prcomment,
#       safely under GitHub's size limit); when clean closes that issue.
#       Needs GH_TOKEN and GITHUB_REPOSITORY; RUN_URL links the run. Exits 1 when
#       any stack drifted, so the run shows red while drift lasts.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
mode="${1:-}"

check() {
	local stack="$1" dir="$2" code
	[[ "$stack" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "drift-check: bad stack name '$stack'" >&2; return 1; }
	mkdir -p "$dir"
	STACK="$stack" ARGS="--refresh --expect-no-changes" "$root/infra/delivery/scripts/delivery.sh" preview >"$dir/$stack.log" 2>&1
	code=$?
	echo "$code" >"$dir/$stack.exit"
	cat "$dir/$stack.log"
	if [[ $code -eq 0 ]]; then
		echo clean >"$dir/$stack.status"
		echo "drift-check: $stack matches its state"
	elif grep -q "no changes were expected" "$dir/$stack.log"; then
		echo drift >"$dir/$stack.status"
		echo "drift-check: $stack has drifted"
	else
		echo "drift-check: preview of $stack failed (exit $code) for a reason other than drift" >&2
		return "$code"
	fi
}

report_one() {
	local stack="$1" dir="$2" status="$3" repo="$4"
	local title="Drift detected in stack $stack" existing work
	existing="$(gh issue list --repo "$repo" --label drift --state open --search "\"$title\" in:title" \
		--json number,title --jq ".[] | select(.title == \"$title\") | .number" | head -n 1)" || return 1

	if [[ "$status" == "clean" ]]; then
		if [[ -n "$existing" ]]; then
			gh issue close "$existing" --repo "$repo" --comment "No drift in \`$stack\` as of ${RUN_URL:-this run}." || return 1
			echo "drift-check: closed issue #$existing"
		fi
		return 0
	fi

	work="$(mktemp -d)"
	cp "$dir/$stack.log" "$dir/$stack.exit" "$work/"
	go run "$root/infra/delivery/cmd/prcomment" -dir "$work" -o "$work/body.md" \
		-title "$title" -marker "<!-- sluice:drift:$stack -->" -run-url "${RUN_URL:-}" || return 1
	if [[ -n "$existing" ]]; then
		gh issue edit "$existing" --repo "$repo" --body-file "$work/body.md" || return 1
		gh issue comment "$existing" --repo "$repo" --body "Still drifting as of ${RUN_URL:-this run}." || return 1
		echo "drift-check: updated issue #$existing"
	else
		gh label create drift --repo "$repo" --color D93F0B --force \
			--description "Infrastructure differs from its Pulumi state" >/dev/null || return 1
		gh issue create --repo "$repo" --label drift --title "$title" --body-file "$work/body.md" || return 1
		echo "drift-check: opened an issue for $stack"
	fi
}

report() {
	local dir="$1" repo="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}" f stack status drifted=0 failed=0
	shopt -s nullglob
	local files=("$dir"/*.status)
	if [[ ${#files[@]} -eq 0 ]]; then
		echo "drift-check: no results in $dir" >&2
		return 1
	fi
	for f in "${files[@]}"; do
		stack="$(basename "$f" .status)"
		status="$(cat "$f")"
		case "$status" in
		clean) ;;
		drift) drifted=1 ;;
		*) echo "drift-check: $f says '$status'" >&2; failed=1; continue ;;
		esac
		report_one "$stack" "$dir" "$status" "$repo" || failed=1
	done
	[[ $failed -eq 0 && $drifted -eq 0 ]]
}

case "$mode" in
check) check "${2:?usage: drift-check.sh check STACK DIR}" "${3:?usage: drift-check.sh check STACK DIR}" ;;
report) report "${2:?usage: drift-check.sh report DIR}" ;;
*) echo "usage: drift-check.sh check STACK DIR | report DIR" >&2; exit 2 ;;
esac
