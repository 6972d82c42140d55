#!/usr/bin/env bash
# The C test suite: compiles every tests/c/test_*.c against include/alfaview_auth.h and
# target/debug/libalfaview_auth.so (rpath, so no LD_LIBRARY_PATH), starts one mock
# server, runs each test program against it, runs test_client and test_session once more
# under valgrind,
# and ends with "C tests: N passed, M failed" (N, M: individual checks).
#
# Needs `make build` first (`make test-c` does it).
# Environment: CC (default cc), VALGRIND=0 to skip the valgrind run (it then counts as
# one failed check: the suite is only green with it).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

CC="${CC:-cc}"
LIBDIR="$ROOT/target/debug"
MOCK="$LIBDIR/alfaview-mock"
BUILD="$ROOT/build/c"
CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -Iinclude)

for f in "$LIBDIR/libalfaview_auth.so" "$MOCK"; do
  if [ ! -x "$f" ] && [ ! -f "$f" ]; then
    echo "run.sh: $f is missing; build it with: make build" >&2
    echo "C tests: 0 passed, 1 failed"
    exit 1
  fi
done

# The version av_version() must report: [package] version in Cargo.toml.
VERSION="$(awk '
  /^\[/ { in_pkg = ($0 == "[package]") }
  in_pkg && $1 == "version" { gsub(/[" ]/, "", $3); print $3; exit }' Cargo.toml)"
if [ -z "$VERSION" ]; then
  echo "run.sh: cannot read the package version from Cargo.toml" >&2
  exit 1
fi

passed=0
failed=0
fail_one() { # a failure that is not one of a program's checks
  echo "FAIL $*"
  failed=$((failed + 1))
}

# ---- compile ---------------------------------------------------------------------------
mkdir -p "$BUILD"
tests=()
for src in tests/c/test_*.c; do
  name="$(basename "$src" .c)"
  # $CC unquoted on purpose: CC may carry words, e.g. CC="ccache cc".
  # shellcheck disable=SC2086
  if $CC "${CFLAGS[@]}" -DEXPECTED_VERSION="\"$VERSION\"" \
      "$src" tests/c/testlib.c -o "$BUILD/$name" \
      -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lalfaview_auth -lpthread; then
    tests+=("$name")
  else
    fail_one "$name: does not compile"
  fi
done

# ---- the mock server -------------------------------------------------------------------
# shellcheck source=scripts/mock.sh
. "$ROOT/scripts/mock.sh"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/av-ctests.XXXXXX")"
cleanup() { mock_stop; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! mock_start "$TMP" "$MOCK"; then
  fail_one "mock server start"
  echo "C tests: $passed passed, $failed failed"
  exit 1
fi
PORT="$MOCK_PORT"
export ALFAVIEW_MOCK_URL="http://127.0.0.1:$PORT/json/v1/"
echo "mock server: $ALFAVIEW_MOCK_URL (pid $MOCK_PID)"

# The tests set what they need; nothing from the caller's environment may steer them.
unset ALFAVIEW_API_URL ALFAVIEW_CA_FILE ALFAVIEW_TIMEOUT_MS
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

# Prints a program's output, with the "== section" lines only where a failure follows.
show() {
  awk '/^== / { section = $0; next }
       /^FAIL/ && section != shown { print section; shown = section }
       { print }' "$1"
}

# Adds up one program's RESULT line; a crash or a missing line is one more failure.
tally() { # name log exit_code
  local name="$1" log="$2" rc="$3" line p f
  line="$(grep -E '^RESULT ' "$log" | tail -n 1)"
  if [ -z "$line" ]; then
    fail_one "$name: exited with $rc before reporting its results"
    return
  fi
  p="$(sed -E 's/.*passed=([0-9]+).*/\1/' <<<"$line")"
  f="$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$line")"
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$f" = 0 ] && [ "$rc" != 0 ]; then
    fail_one "$name: exit code $rc with no failed check"
  fi
}

# ---- run -------------------------------------------------------------------------------
for name in "${tests[@]}"; do
  echo "--- $name"
  log="$TMP/$name.log"
  timeout -k 5 90 "$BUILD/$name" >"$log" 2>&1
  rc=$?
  show "$log"
  [ "$rc" = 124 ] && echo "($name timed out)"
  tally "$name" "$log" "$rc"
done

# ---- the README's C example ----------------------------------------------------------
# The first C block of README.md is a whole program: it must compile warning-free and
# work, so the README cannot drift from the API.
echo "--- README.md's C example"
out=""
awk '/^```c$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' README.md >"$TMP/readme.c"
# shellcheck disable=SC2086
if $CC "${CFLAGS[@]}" "$TMP/readme.c" -o "$BUILD/readme_example" -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lalfaview_auth &&
  out="$(ALFAVIEW_API_URL="$ALFAVIEW_MOCK_URL" timeout 30 "$BUILD/readme_example" 2>&1)" &&
  grep -q '"statusCode":"OK"' <<<"$out"; then
  echo "ok   README.md's C example compiles and signs in, refreshes and calls"
  passed=$((passed + 1))
else
  echo "$out"
  fail_one "README.md's C example"
fi

# ---- valgrind --------------------------------------------------------------------------
# test_client covers the whole non-threaded API; test_session the threaded session
# (32 threads in one refresh, rotation callbacks, logging).
VG_TESTS=(test_client test_session)
for VG_TEST in "${VG_TESTS[@]}"; do
  if [ "${VALGRIND:-1}" = 0 ]; then
    fail_one "valgrind run skipped (VALGRIND=0)"
    continue
  elif ! command -v valgrind >/dev/null 2>&1; then
    fail_one "valgrind is not installed (Debian: apt-get install valgrind)"
    continue
  elif [ ! -x "$BUILD/$VG_TEST" ]; then
    fail_one "valgrind: $VG_TEST was not built"
    continue
  fi
  echo "--- $VG_TEST under valgrind"
  log="$TMP/vg-$VG_TEST.log"
  vglog="$TMP/vg-$VG_TEST.valgrind"
  timeout -k 5 240 valgrind --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    --suppressions=tests/c/valgrind.supp --log-file="$vglog" \
    "$BUILD/$VG_TEST" >"$log" 2>&1
  rc=$?
  show "$log"
  tally "valgrind $VG_TEST" "$log" 0 # its checks; valgrind's own verdict is judged below
  # Valgrind's summary. "possibly lost" and "still reachable" are not errors here: they
  # are state the library keeps for the life of the process (see tests/c/valgrind.supp).
  sed -nE 's/^==[0-9]+== +//; /^(ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|suppressed):/p' "$vglog" |
    sed 's/^/valgrind: /'
  if [ "$rc" = 0 ] && grep -qE 'ERROR SUMMARY: 0 errors' "$vglog" &&
    ! grep -qE 'definitely lost: [1-9]|indirectly lost: [1-9]' "$vglog"; then
    echo "valgrind: $VG_TEST clean (no errors, no definite or indirect leaks)"
    passed=$((passed + 1))
  else
    cat "$vglog"
    [ "$rc" = 124 ] && echo "(valgrind run timed out)"
    fail_one "valgrind $VG_TEST: exit code $rc (99: memory errors or definite/indirect leaks)"
  fi
done

# ---- AddressSanitizer + UndefinedBehaviorSanitizer --------------------------------------
# Every program again, built with ASan (with LeakSanitizer) and UBSan: C-side memory
# errors, leaks of what the library returns, and undefined behaviour. The Rust library is
# not instrumented, but its allocations go through the intercepted malloc/free.
ASAN_BUILD="$ROOT/build/c-asan"
mkdir -p "$ASAN_BUILD"
if [ "${SANITIZE:-1}" = 0 ]; then
  fail_one "sanitizer run skipped (SANITIZE=0)"
else
  for name in "${tests[@]}"; do
    # shellcheck disable=SC2086
    if ! $CC "${CFLAGS[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer \
        -DEXPECTED_VERSION="\"$VERSION\"" "tests/c/$name.c" tests/c/testlib.c \
        -o "$ASAN_BUILD/$name" -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lalfaview_auth -lpthread; then
      fail_one "$name: does not compile with -fsanitize=address,undefined"
      continue
    fi
    echo "--- $name under ASan+UBSan"
    log="$TMP/asan-$name.log"
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      timeout -k 5 120 "$ASAN_BUILD/$name" >"$log" 2>&1
    rc=$?
    show "$log"
    if grep -qE '^(==[0-9]+==ERROR|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer)|runtime error:' "$log"; then
      grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -20
      fail_one "$name: sanitizer report"
    fi
    tally "asan $name" "$log" "$rc"
  done
fi

echo "C tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
