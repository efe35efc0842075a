#!/usr/bin/env bash
# Previews several stacks one after another and records, for each, the CLI output
# in OUTDIR/<stack>.log and its exit code in OUTDIR/<stack>.exit (the input of
# `go run ./infra/delivery/cmd/prcomment -dir OUTDIR`). Stacks listed in SKIP (space
# separated) get OUTDIR/<stack>.skip with SKIP_REASON instead.
#
# Usage: preview-stacks.sh OUTDIR STACK...
# Exits 1 when any preview failed, after running all of them.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
out="${1:?usage: preview-stacks.sh OUTDIR STACK...}"
shift
mkdir -p "$out"

for stack in ${SKIP:-}; do
	printf '%s\n' "${SKIP_REASON:-not affected by this change}" >"$out/$stack.skip"
done

failed=0
for stack in "$@"; do
	echo "::group::pulumi preview $stack"
	STACK="$stack" "$root/infra/delivery/scripts/delivery.sh" preview >"$out/$stack.log" 2>&1
	code=$?
	echo "$code" >"$out/$stack.exit"
	cat "$out/$stack.log"
	echo "::endgroup::"
	if [[ $code -ne 0 ]]; then
		echo "preview of $stack failed with exit code $code" >&2
		failed=1
	fi
done
exit "$failed"
