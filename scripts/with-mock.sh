#!/usr/bin/env bash
# Runs a command with the mock alfaview server up on a free loopback port:
#   scripts/with-mock.sh [--release] CMD [ARGS...]
# The command sees ALFAVIEW_MOCK_URL (the base URL, e.g. http://127.0.0.1:41234/json/v1/)
# and ALFAVIEW_MOCK_PORT. The server is stopped when the command ends, whatever happens;
# the script exits with the command's status.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
profile=debug
if [ "${1:-}" = "--release" ]; then profile=release; shift; fi
[ $# -gt 0 ] || { echo "usage: $0 [--release] CMD [ARGS...]" >&2; exit 2; }

mock="$top/target/$profile/alfaview-mock"
[ -x "$mock" ] || { echo "with-mock: $mock is missing; build it first (make build, or make bench for --release)" >&2; exit 1; }

work=$(mktemp -d)
"$mock" --port 0 --port-file "$work/port" >"$work/stdout" 2>"$work/stderr" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
for _ in $(seq 200); do
  [ -s "$work/port" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "with-mock: the mock server exited: $(cat "$work/stderr")" >&2; exit 1; }
  sleep 0.05
done
[ -s "$work/port" ] || { echo "with-mock: the mock server did not start within 10 s" >&2; exit 1; }
export ALFAVIEW_MOCK_PORT
ALFAVIEW_MOCK_PORT=$(cat "$work/port")
export ALFAVIEW_MOCK_URL="http://127.0.0.1:$ALFAVIEW_MOCK_PORT/json/v1/"
set +e
"$@"
status=$?
set -e
exit "$status"
