#!/usr/bin/env bash
# Runs every Go fuzz target of the module, one after another, each for
# FUZZTIME (default 10s), and prints a summary. `make fuzz` runs it.
#
# The targets are what `go test -list '^Fuzz'` reports for the packages
# whose test files (integration ones excluded, as go test builds without
# that tag) define a Fuzz function. FUZZ, a regular expression, keeps the
# targets whose "package.Name" it matches. FUZZMINIMIZETIME (default 20x:
# runs of the target) bounds how long the fuzzer shrinks an input with new
# coverage or a crasher; go's default of 60s would eat a short FUZZTIME.
# A crasher stays in the package's testdata/fuzz/<Name>/, where `go test`
# runs it as a regression test from then on: fix the bug, keep the file.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
GO=${GO:-go}
fuzztime=${FUZZTIME:-10s}
minimize=${FUZZMINIMIZETIME:-20x}
filter=${FUZZ:-.}

# Packages with a Fuzz function in a test file that an untagged build compiles.
mapfile -t pkgs < <(
  git ls-files --cached --others --exclude-standard '*_test.go' | while read -r f; do
    grep -q '^func Fuzz' "$f" || continue
    grep -q '^//go:build.*integration' "$f" && continue
    echo "./$(dirname "$f")"
  done | sort -u
)
if [ ${#pkgs[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi

# go test -list prints a package's matching names, then "ok <package> <time>".
targets=()
names=()
while read -r line; do
  case "$line" in
    Fuzz*) names+=("$line") ;;
    ok*)
      pkg=$(awk '{print $2}' <<<"$line")
      for n in "${names[@]}"; do
        if grep -qE -- "$filter" <<<"$pkg.$n"; then targets+=("$pkg $n"); fi
      done
      names=() ;;
  esac
done < <($GO test -list '^Fuzz' "${pkgs[@]}")
n=${#targets[@]}
if [ "$n" -eq 0 ]; then
  echo "fuzz: no target matches FUZZ=$filter" >&2
  exit 1
fi

echo "fuzz: $n targets, $fuzztime each"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
summary=()
failed=0
i=0
for t in "${targets[@]}"; do
  i=$((i + 1))
  read -r pkg name <<<"$t"
  echo "[$i/$n] $pkg $name"
  status=ok
  if ! $GO test "$pkg" -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" >"$log" 2>&1; then
    status=FAIL
    failed=$((failed + 1))
    grep -v '^fuzz: elapsed' "$log" || true
  fi
  last=$(grep '^fuzz: elapsed' "$log" | tail -1 | sed 's/^fuzz: //') || true
  echo "      $status  ${last:-no progress reported}"
  summary+=("$(printf '%-4s %-60s %s' "$status" "$pkg.$name" "$last")")
done

echo
echo "fuzz summary ($fuzztime each):"
printf '  %s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  echo "fuzz: $failed of $n targets failed; each crasher is in its package's testdata/fuzz/<target>/ and runs as a test:" >&2
  echo "fix the bug, keep the file as the regression test" >&2
  exit 1
fi
echo "fuzz: all $n targets passed"
