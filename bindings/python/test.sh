#!/usr/bin/env bash
# The Python binding's suite (`make test-python`, after `make build`):
#   1. makes the virtualenv .venv at the repository root with the system CPython
#      (/usr/bin/python3 -m venv), installing python3-venv first if it is missing and we
#      are root, else printing the command to run;
#   2. installs pytest, redis-py (for the Redis store example and its tests only: it is
#      not a dependency of the package) and this package into it (non-editable: the
#      tests import the installed copy, which proves `pip install ./bindings/python`
#      works);
#   3. makes sure Debian's redis-server is there for tests/test_redis_store.py (which
#      starts its own server on a free loopback port): installs it if missing and we are
#      root, else prints the command to run and the Redis tests are skipped;
#   4. runs pytest under scripts/with-mock.sh with ALFAVIEW_AUTH_LIBRARY pointing at
#      target/debug/libalfaview_auth.so;
#   5. runs examples/example.py against the mock too.
# Exits non-zero on any failure (pytest's "no tests collected" included).
# Environment: ALFAVIEW_TEST_PYTHON (the interpreter for the virtualenv, default
# /usr/bin/python3), PYTEST_ARGS (extra pytest arguments, e.g. "-k session -x").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bindings/python"
cd "$ROOT"

PYTHON="${ALFAVIEW_TEST_PYTHON:-/usr/bin/python3}"
VENV="$ROOT/.venv"
LIB="$ROOT/target/debug/libalfaview_auth.so"
MOCK="$ROOT/target/debug/alfaview-mock"

for f in "$LIB" "$MOCK"; do
  if [ ! -f "$f" ]; then
    echo "test.sh: $f is missing; build it with: make build" >&2
    exit 1
  fi
done

# ---- the virtualenv --------------------------------------------------------------------
venv_log="$(mktemp)"
trap 'rm -f "$venv_log"' EXIT
make_venv() { # a fresh virtualenv with a working pip; what went wrong in $venv_log
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" >"$venv_log" 2>&1 && "$VENV/bin/python" -m pip --version >>"$venv_log" 2>&1
}
# Reuse the virtualenv only if it works and was made from $PYTHON.
want_home="$(dirname "$(readlink -f "$PYTHON")")"
have_home="$(sed -n 's/^home *= *//p' "$VENV/pyvenv.cfg" 2>/dev/null || true)"
if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1 ||
   [ "$(readlink -f "${have_home:-/nonexistent}")" != "$(readlink -f "$want_home")" ]; then
  if ! make_venv; then
    pkg="python3-venv"
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "test.sh: $PYTHON cannot create a virtualenv; installing $pkg" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
      make_venv || { cat "$venv_log" >&2; exit 1; }
    else
      cat "$venv_log" >&2
      echo "test.sh: $PYTHON cannot create a virtualenv (venv/ensurepip missing). Install it with:" >&2
      echo "  sudo apt-get update && sudo apt-get install -y $pkg" >&2
      exit 1
    fi
  fi
fi
VPY="$VENV/bin/python"

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$VPY" -m pip install -q "pytest>=7" "redis>=4"
# A fresh, non-editable install of the current source (a build copy only: no files are
# written into the source tree but build/ and *.egg-info, which are ignored).
rm -rf "$HERE/build" "$HERE"/*.egg-info  # setuptools' leftovers could ship stale modules
"$VPY" -m pip install -q --force-reinstall --no-deps "$HERE"

# ---- redis-server for the Redis store tests -------------------------------------------
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing redis-server (for tests/test_redis_store.py)" >&2
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }; then
      echo "test.sh: installing redis-server failed" >&2
    fi
  fi
fi
if command -v redis-server >/dev/null 2>&1; then
  # It is there: a Redis test that cannot use it fails instead of being skipped.
  export ALFAVIEW_REQUIRE_REDIS=1
else
  echo "test.sh: redis-server is missing, so the Redis store tests are SKIPPED. Install it with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y redis-server" >&2
  unset ALFAVIEW_REQUIRE_REDIS
fi

# ---- the tests -------------------------------------------------------------------------
export ALFAVIEW_AUTH_LIBRARY="$LIB"
export ALFAVIEW_EXPECT_INSTALLED=1
unset ALFAVIEW_API_URL ALFAVIEW_CA_FILE ALFAVIEW_TIMEOUT_MS

# Run from a directory that is not the package's source, so `import alfaview_auth` can
# only find the installed copy; -p no:cacheprovider keeps .pytest_cache out of the tree.
run_dir="$HERE"

cd "$run_dir"

# shellcheck disable=SC2086 # PYTEST_ARGS is a list of words
timeout -k 10 170 "$ROOT/scripts/with-mock.sh" \
  "$VENV/bin/pytest" -p no:cacheprovider -c "$HERE/pyproject.toml" --rootdir "$HERE" \
  "$HERE/tests" ${PYTEST_ARGS:-}

echo "== examples/example.py against the mock"
timeout -k 5 60 "$ROOT/scripts/with-mock.sh" \
  bash -c 'ALFAVIEW_API_URL="$ALFAVIEW_MOCK_URL" exec "$0" "$1"' "$VPY" "$HERE/examples/example.py"
