#!/usr/bin/env bash
# make soak: a soak run of the release library under random faults (see soak/README.md).
# Builds the release library and mock, compiles soak/soak.c against them, starts the mock
# on a free loopback port (always stopped again), and runs the soak program once with core
# dumps off. Exits with the program's status: 0 only when it printed "soak: PASS".
#
# Environment: SOAK_SECONDS (default 120), SOAK_THREADS (default 8), SOAK_AUTH_DELAYS=1,
# CC (default cc).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

export SOAK_SECONDS="${SOAK_SECONDS:-120}"

scripts/build-lib.sh -q --release
cargo build -q --release -p alfaview-mock
mkdir -p build/soak
# $CC unquoted on purpose: it may carry words, e.g. CC="ccache cc".
# shellcheck disable=SC2086
${CC:-cc} -O2 -std=c11 -Wall -Wextra -Werror -Iinclude soak/soak.c -o build/soak/soak \
  -L"$ROOT/target/release" -lalfaview_auth -Wl,-rpath,"$ROOT/target/release" -lpthread

tmp="$(mktemp -d)"
mock_pid=""
soak_pid=""
# shellcheck disable=SC2317  # (called by the EXIT trap)
cleanup() {
  if [ -n "$soak_pid" ]; then
    kill "$soak_pid" 2>/dev/null || true
    wait "$soak_pid" 2>/dev/null || true
  fi
  if [ -n "$mock_pid" ]; then
    kill "$mock_pid" 2>/dev/null || true
    wait "$mock_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck source=scripts/mock.sh
. scripts/mock.sh
if ! mock_start "$tmp" target/release/alfaview-mock --host 127.0.0.1; then
  echo "soak: FAIL (no mock server)"
  exit 1
fi
mock_pid="$MOCK_PID"
port="$MOCK_PORT"
echo "soak: mock on 127.0.0.1:$port (pid $mock_pid), ${SOAK_SECONDS} s, library target/release" >&2

# In the background and waited for, so that INT/TERM stop both processes at once.
set +e
(
  ulimit -c 0
  exec build/soak/soak "$port"
) &
soak_pid=$!
wait "$soak_pid"
rc=$?
soak_pid=""
set -e

if [ "$rc" -ge 128 ]; then
  echo "soak: FAIL (the soak program crashed: signal $((rc - 128)))"
fi
if ! kill -0 "$mock_pid" 2>/dev/null; then
  echo "soak: note: the mock server exited during the run:" >&2
  cat "$tmp/mock.err" >&2
fi
exit "$rc"
