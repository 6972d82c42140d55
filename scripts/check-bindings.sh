#!/usr/bin/env bash
# Every function the library exports must be used by every binding, so a new ABI
# function cannot be forgotten in one language. Lists the av_* symbols the built
# libalfaview_auth.so exports (nm -D) and looks for each, as a whole word outside
# comments, in each binding's sources.
set -euo pipefail
cd "$(dirname "$0")/.."

lib=target/debug/libalfaview_auth.so
[ -f "$lib" ] || { echo "check-bindings: $lib is missing; run: make build" >&2; exit 1; }
mapfile -t symbols < <(nm -D --defined-only "$lib" | awk '$3 ~ /^av_/ {print $3}' | sort -u)
[ ${#symbols[@]} -gt 0 ] || { echo "check-bindings: no av_* symbols in $lib" >&2; exit 1; }

# binding name | files (globs) | comment-stripping sed program
declare -A files=(
  [C++]="bindings/cpp/alfaview_auth.hpp"
  [C#]="bindings/csharp/src/*.cs"
  [Python]="bindings/python/alfaview_auth/*.py"
)
declare -A strip=(
  [C++]='s://.*$::; /\/\*/,/\*\//d'
  [C#]='s://.*$::; /\/\*/,/\*\//d'
  [Python]='s/#.*$//'
)

failed=0
for binding in C++ C# Python; do
  # shellcheck disable=SC2086
  sources=$(ls ${files[$binding]} 2>/dev/null || true)
  if [ -z "$sources" ]; then
    echo "FAIL $binding: no sources (${files[$binding]})"
    failed=$((failed + 1))
    continue
  fi
  # shellcheck disable=SC2086
  text=$(sed -e "${strip[$binding]}" $sources)
  missing=()
  for s in "${symbols[@]}"; do
    grep -qw -- "$s" <<<"$text" || missing+=("$s")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "ok   $binding uses all ${#symbols[@]} exported functions"
  else
    echo "FAIL $binding does not use: ${missing[*]}"
    failed=$((failed + 1))
  fi
done
echo "bindings check: $((3 - failed)) passed, $failed failed"
[ "$failed" = 0 ]
