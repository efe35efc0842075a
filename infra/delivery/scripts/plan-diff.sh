#!/usr/bin/env bash
# Compares the offline plan of a stack (`make plan STACK=<stack>`, mk/infra.mk)
# with its reviewed golden file, and prints a unified diff when they differ.
#
# Usage: plan-diff.sh STACK
# Environment: PLAN_GOLDEN_DIR (default infra/testdata): golden files are
# <dir>/plan-<stack>.golden, the same files the plan tests compare
# (make plan-update); UPDATE=1 rewrites the golden file instead of comparing.
# Exit status: 0 same, 1 different or missing golden file, 2 the plan failed.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
stack="${1:?usage: plan-diff.sh STACK}"
[[ "$stack" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "plan-diff: bad stack name '$stack'" >&2; exit 2; }
golden_dir="${PLAN_GOLDEN_DIR:-$root/infra/testdata}"
golden="$golden_dir/plan-$stack.golden"
out="$root/.sluice/plan/$stack.txt"
mkdir -p "$(dirname "$out")"

if ! make -s -C "$root" plan STACK="$stack" >"$out"; then
	echo "plan-diff: make plan STACK=$stack failed" >&2
	exit 2
fi

if [[ "${UPDATE:-}" == "1" ]]; then
	mkdir -p "$golden_dir"
	cp "$out" "$golden"
	echo "plan-diff: wrote $golden"
	exit 0
fi
if [[ ! -f "$golden" ]]; then
	echo "plan-diff: no golden file $golden: create it with 'UPDATE=1 infra/delivery/scripts/plan-diff.sh $stack' and commit it" >&2
	exit 1
fi
if diff -u --label "golden/$stack.txt" --label "plan/$stack.txt" "$golden" "$out"; then
	echo "plan-diff: $stack matches its golden plan"
	exit 0
fi
echo "plan-diff: the plan of $stack changed; if intended, update it with 'UPDATE=1 infra/delivery/scripts/plan-diff.sh $stack'" >&2
exit 1
