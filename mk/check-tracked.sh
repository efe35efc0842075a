#!/usr/bin/env bash
# Fails when git tracks a build output: an executable binary (ELF, Mach-O,
# PE), an executable file that is not a script (no "#!"), or any file larger
# than TRACKED_MAX_BYTES (default 5 MiB). `make check` runs it.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
max=${TRACKED_MAX_BYTES:-$((5 * 1024 * 1024))}
bad=0
while IFS= read -r -d '' entry; do
  mode=${entry%% *}
  path=${entry#*$'\t'}
  [ -f "$path" ] || continue
  size=$(stat -c %s -- "$path")
  if [ "$size" -gt "$max" ]; then
    echo "tracked file over $max bytes: $path ($size bytes)"; bad=1; continue
  fi
  magic=$(head -c 4 -- "$path" | od -An -tx1 | tr -d ' \n')
  case "$magic" in
    7f454c46|cffaedfe|cefaedfe|feedfacf|feedface|cafebabe|4d5a*)
      echo "tracked executable binary: $path"; bad=1; continue ;;
  esac
  if [ "$mode" = 100755 ] && [ "$(head -c 2 -- "$path")" != '#!' ]; then
    echo "tracked executable that is not a script: $path"; bad=1
  fi
done < <(git ls-files -s -z | sed -z 's/^\([0-9]*\) [0-9a-f]* [0-9]*/\1 /')
if [ "$bad" -ne 0 ]; then
  echo "build outputs do not belong in git: git rm --cached them and ignore their path" >&2
  exit 1
fi
