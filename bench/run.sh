#!/usr/bin/env bash
# make bench: release build, the mock server on a free loopback port, then each
# benchmark in one run. Results are printed and written to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q --release -p alfaview-auth -p alfaview-mock
mkdir -p build/bench bench/results
${CC:-cc} -O2 -std=c11 -Wall -Wextra -Werror -Iinclude bench/session_cached.c \
  -o build/bench/session_cached -Ltarget/release -lalfaview_auth \
  -Wl,-rpath,"$PWD/target/release" -lpthread

port_file=$(mktemp)
rm -f "$port_file"
target/release/alfaview-mock --port 0 --port-file "$port_file" >/dev/null &
mock_pid=$!
trap 'kill "$mock_pid" 2>/dev/null || true; rm -f "$port_file"' EXIT
for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.05; done
[ -s "$port_file" ] || { echo "bench: the mock server did not start" >&2; exit 1; }
base="http://127.0.0.1:$(cat "$port_file")/json/v1/"

out="bench/results/$(date -u +%Y%m%dT%H%M%SZ).txt"
{
  echo "# alfaview-auth bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(uname -m)"
  build/bench/session_cached "$base"
} | tee "$out"
echo "bench: written to $out"
