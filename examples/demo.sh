#!/usr/bin/env bash
# `make demo`: compiles the C demo (examples/c/demo.c), starts the bundled mock alfaview
# server on a free port, runs the demo against it, and stops the server again.
#
# Needs the library and the mock built first: make build
# (`make demo` does that). Environment: CC (default cc); ALFAVIEW_USERNAME,
# ALFAVIEW_PASSWORD, ALFAVIEW_COMPANY_ID to sign in as someone other than alice.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CC="${CC:-cc}"
LIBDIR="$ROOT/target/debug"
MOCK="$LIBDIR/alfaview-mock"
BUILD="$ROOT/build/examples"

for f in "$LIBDIR/libalfaview_auth.so" "$MOCK"; do
  if [ ! -f "$f" ]; then
    echo "demo: $f is missing; build it with: make build" >&2
    exit 1
  fi
done

# ---- compile the C demo ----------------------------------------------------------------
mkdir -p "$BUILD"
# shellcheck disable=SC2086 # CC may carry words, e.g. CC="ccache cc"
$CC -std=c11 -Wall -Wextra -Werror -g -Iinclude examples/c/demo.c -o "$BUILD/demo" \
  -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lalfaview_auth -lpthread

# ---- start the mock server on a free port ----------------------------------------------
# shellcheck source=scripts/mock.sh
. "$ROOT/scripts/mock.sh"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/av-demo.XXXXXX")"
cleanup() { mock_stop; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mock_start "$TMP" "$MOCK" || exit 1
export ALFAVIEW_API_URL="http://127.0.0.1:$MOCK_PORT/json/v1/"
echo "Mock alfaview server running at $ALFAVIEW_API_URL"

# ---- the demos -------------------------------------------------------------------------
echo
echo "=== C demo (examples/c/demo.c)"
"$BUILD/demo"

# ---- Python demo, against the same mock server -------------------------------------------
# The binding is standard-library ctypes: it runs from the source tree with the system
# CPython, no install needed.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
echo
echo "=== Python demo (bindings/python/examples/example.py)"
PYTHONPATH="$ROOT/bindings/python" ALFAVIEW_AUTH_LIBRARY="$LIBDIR/libalfaview_auth.so" \
  "$PYTHON" bindings/python/examples/example.py

echo
echo "Demo finished; stopping the mock server."
