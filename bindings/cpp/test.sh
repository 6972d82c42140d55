#!/usr/bin/env bash
# The C++ binding's suite (`make test-cpp`): compiles bindings/cpp/tests/test_binding.cpp
# and bindings/cpp/examples/example.cpp against include/alfaview_auth.h,
# bindings/cpp/alfaview_auth.hpp and target/debug/libalfaview_auth.so (rpath, so no
# LD_LIBRARY_PATH) into build/cpp/, then runs, each under scripts/with-mock.sh (a fresh
# mock server each time):
#   1. the tests;
#   2. the example (ALFAVIEW_API_URL pointed at the mock);
#   3. the tests again, built with AddressSanitizer + UndefinedBehaviorSanitizer and
#      ASAN_OPTIONS=detect_leaks=1 (CPP_SANITIZE=0 skips this run, which then fails the
#      suite: it is only green with it).
# Exits non-zero if anything failed.
#
# Needs `make build` first (`make test-cpp` does it).
# Environment: CXX (default c++; may carry words, e.g. "ccache g++").
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

CXX="${CXX:-c++}"
LIBDIR="$ROOT/target/debug"
BUILD="$ROOT/build/cpp"
CXXFLAGS=(-std=c++17 -Wall -Wextra -Werror -g -I include -I bindings/cpp)
SANFLAGS=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
LDFLAGS=(-L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lalfaview_auth -pthread)

# ---- the compiler ----------------------------------------------------------------------
cxx_cmd="${CXX%% *}"
if ! command -v "$cxx_cmd" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: $cxx_cmd not found; installing g++"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq g++ >/dev/null ||
      { echo "test.sh: apt-get install -y g++ failed" >&2; exit 1; }
    [ "$CXX" = c++ ] || [ "$CXX" = g++ ] || CXX=c++
    command -v "${CXX%% *}" >/dev/null 2>&1 || CXX=g++
  else
    echo "test.sh: no C++ compiler ($cxx_cmd); install one with:" >&2
    echo "  sudo apt-get install -y g++" >&2
    exit 1
  fi
fi

# ---- the library and the mock ----------------------------------------------------------
for f in "$LIBDIR/libalfaview_auth.so" "$LIBDIR/alfaview-mock"; do
  if [ ! -f "$f" ]; then
    echo "test.sh: $f is missing; build it with: make build" >&2
    exit 1
  fi
done

# The version alfaview::version() must report: [package] version in Cargo.toml.
VERSION="$(awk '
  /^\[/ { in_pkg = ($0 == "[package]") }
  in_pkg && $1 == "version" { gsub(/[" ]/, "", $3); print $3; exit }' Cargo.toml)"
[ -n "$VERSION" ] || { echo "test.sh: cannot read the package version from Cargo.toml" >&2; exit 1; }

# The tests and the example must not be steered by the caller's environment.
unset ALFAVIEW_API_URL ALFAVIEW_CA_FILE ALFAVIEW_TIMEOUT_MS ALFAVIEW_USERNAME ALFAVIEW_PASSWORD ALFAVIEW_COMPANY_ID
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

failures=()
step() { echo; echo "--- $*"; }

# ---- compile ---------------------------------------------------------------------------
mkdir -p "$BUILD"
compile() { # output source extra-flags...
  local out="$1" src="$2"
  shift 2
  # $CXX unquoted on purpose: it may carry words.
  # shellcheck disable=SC2086
  $CXX "${CXXFLAGS[@]}" "$@" -DEXPECTED_VERSION="\"$VERSION\"" "$src" -o "$out" "${LDFLAGS[@]}"
}

step "compile ($CXX)"
compile "$BUILD/test_binding" bindings/cpp/tests/test_binding.cpp || failures+=("test_binding does not compile")
compile "$BUILD/example" bindings/cpp/examples/example.cpp || failures+=("example does not compile")
# The header alone, included twice in two translation units, with pedantic warnings.
printf '#include "alfaview_auth.hpp"\n#include "alfaview_auth.hpp"\nint tu2() { return alfaview::version().empty() ? 1 : 0; }\n' >"$BUILD/tu2.cpp"
printf '#include "alfaview_auth.hpp"\nint tu2();\nint main() { return tu2(); }\n' >"$BUILD/tu1.cpp"
# shellcheck disable=SC2086
$CXX "${CXXFLAGS[@]}" -Wpedantic -Wshadow -Wconversion "$BUILD/tu1.cpp" "$BUILD/tu2.cpp" -o "$BUILD/two_units" "${LDFLAGS[@]}" &&
  "$BUILD/two_units" || failures+=("the header does not build cleanly in two translation units (-Wpedantic -Wshadow -Wconversion)")

# ---- run -------------------------------------------------------------------------------
run_tests() { # label binary [env...]
  local label="$1" bin="$2" log rc
  shift 2
  log="$BUILD/$label.log"
  timeout -k 5 300 env "$@" scripts/with-mock.sh "$bin" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" != 0 ]; then
    failures+=("$label: exit code $rc")
  elif ! grep -qE '^C\+\+ tests: [0-9]+ passed, 0 failed$' "$log"; then
    failures+=("$label: no clean closing line")
  fi
}

if [ -x "$BUILD/test_binding" ]; then
  step "tests"
  run_tests tests "$BUILD/test_binding"
fi

if [ -x "$BUILD/example" ]; then
  step "example"
  # shellcheck disable=SC2016 # expanded by the inner shell, once the mock is up
  if ! timeout -k 5 60 scripts/with-mock.sh bash -c 'ALFAVIEW_API_URL="$ALFAVIEW_MOCK_URL" exec "$0"' "$BUILD/example"; then
    failures+=("example failed")
  fi
fi

# ---- sanitizers ------------------------------------------------------------------------
if [ "${CPP_SANITIZE:-1}" = 0 ]; then
  failures+=("sanitizer run skipped (CPP_SANITIZE=0)")
else
  step "tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  if compile "$BUILD/test_binding_asan" bindings/cpp/tests/test_binding.cpp "${SANFLAGS[@]}"; then
    run_tests tests-asan "$BUILD/test_binding_asan" \
      ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=23" \
      UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  else
    failures+=("test_binding does not compile with -fsanitize=address,undefined")
  fi
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
  printf 'FAIL %s\n' "${failures[@]}"
  echo "bindings/cpp/test.sh: ${#failures[@]} problem(s)"
  exit 1
fi
echo "bindings/cpp/test.sh: all passed (tests, example, sanitizers)"
