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

# shellcheck source=scripts/mock.sh
. "$top/scripts/mock.sh"
work=$(mktemp -d)
cleanup() { mock_stop; rm -rf "$work"; }
trap cleanup EXIT INT TERM
mock_start "$work" "$top/target/$profile/alfaview-mock" || exit 1
export ALFAVIEW_MOCK_PORT="$MOCK_PORT"
export ALFAVIEW_MOCK_URL="http://127.0.0.1:$MOCK_PORT/json/v1/"
set +e
"$@"
status=$?
set -e
exit "$status"
