#!/usr/bin/env bash
# `make test-install`: alfaview-auth installed the way a user installs it, then used the
# way a C program uses an installed library.
#
#  1. `make install DESTDIR=<stage> PREFIX=/opt/alfaview-auth`; the files, modes and
#     symlinks it leaves (and nothing else), no staging path written into any of them, the
#     SONAME of the installed library (readelf -d), and of the build tree's.
#  2. pkg-config with PKG_CONFIG_PATH (and PKG_CONFIG_SYSROOT_DIR) at the stage: version,
#     flags; tests/install/version.c (version macros = Cargo.toml = av_version()) and
#     examples/c/demo.c built with `pkg-config --cflags --libs alfaview_auth`, and the demo
#     once more with `--static` against a stage holding only the static library.
#  3. CMake: tests/install/cmake/ (find_package(AlfaviewAuth CONFIG REQUIRED), the demo
#     linked with AlfaviewAuth::alfaview_auth and AlfaviewAuth::alfaview_auth_static, and
#     version.c); the version file (tests/install/cmake-find/) accepting and refusing
#     requested versions and components; the package found after the tree is moved.
#  4. Each program built is run with LD_LIBRARY_PATH at the stage (the static ones without),
#     the demo against the mock server (scripts/with-mock.sh).
#  5. `make uninstall` leaves nothing behind.
#
# Needs `make build` (the mock server) and `make release` first (`make test-install` does
# both); installs CMake, pkg-config and binutils from Debian when run as root and they are
# missing, else prints the command. Ends with "install tests: N passed, M failed".

# Functions are run through check (SC2317); bash -c scripts take their arguments as
# positional parameters (SC2016).
# shellcheck disable=SC2317,SC2016
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1

CC="${CC:-cc}"
MAKE="${MAKE:-make}"
BUILD="$ROOT/build/install"
STAGE="$BUILD/stage"               # DESTDIR of the full install
STATIC_STAGE="$BUILD/stage-static" # DESTDIR of an install without the shared library
PREFIX=/opt/alfaview-auth
LIB="$STAGE$PREFIX/lib"
CFLAGS=(-std=c11 -Wall -Wextra -Werror)

passed=0
failed=0
LOG="$(mktemp "${TMPDIR:-/tmp}/av-install-test.XXXXXX")"
trap 'rm -f "$LOG"' EXIT
trap 'exit 130' INT TERM

ok() {
  echo "ok    $*"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL  $*"
  failed=$((failed + 1))
}
finish() {
  echo "install tests: $passed passed, $failed failed"
  [ "$failed" = 0 ]
  exit
}
# check DESCRIPTION CMD...: one check; the command's output is shown only if it fails.
check() {
  local what="$1"
  shift
  if "$@" >"$LOG" 2>&1; then
    ok "$what"
  else
    fail "$what"
    sed 's/^/        /' "$LOG" | tail -n 40
  fi
}
# expect_fail DESCRIPTION CMD...: one check that the command fails.
expect_fail() {
  local what="$1"
  shift
  if "$@" >"$LOG" 2>&1; then
    fail "$what (it succeeded)"
    sed 's/^/        /' "$LOG" | tail -n 20
  else
    ok "$what"
  fi
}

# ---- tools -----------------------------------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1; }
missing=()
have cmake || missing+=(cmake)
have pkg-config || missing+=(pkg-config)
have readelf || missing+=(binutils)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && have apt-get; then
    echo "install tests: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$LOG" 2>&1; then
      cat "$LOG"
      fail "apt-get install ${missing[*]}"
    fi
  else
    echo "install tests: missing ${missing[*]}; install with:" >&2
    echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    fail "missing tools: ${missing[*]}"
    finish
  fi
fi
for tool in cmake pkg-config readelf; do
  have "$tool" || { fail "$tool is not installed"; finish; }
done
for f in target/debug/alfaview-mock target/release/libalfaview_auth.so; do
  [ -f "$f" ] || { fail "$f is missing: run make build release (make test-install does)"; finish; }
done

VERSION="$(awk '
  /^\[/ { in_pkg = ($0 == "[package]") }
  in_pkg && $1 == "version" { gsub(/[" ]/, "", $3); print $3; exit }' Cargo.toml)"
SOVERSION="$(sed -n 's/^const SOVERSION: u32 = \([0-9][0-9]*\);.*/\1/p' build.rs)"
SONAME="libalfaview_auth.so.$SOVERSION"
if ! [[ "$VERSION" =~ ^([0-9]+)\.([0-9]+)\.[0-9]+ ]] || [ -z "$SOVERSION" ]; then
  fail "cannot read the version from Cargo.toml ('$VERSION') or SOVERSION from build.rs ('$SOVERSION')"
  finish
fi
MAJOR="${BASH_REMATCH[1]}"
MINOR="${BASH_REMATCH[2]}"
echo "install tests: alfaview-auth $VERSION, SONAME $SONAME, staging root $STAGE, prefix $PREFIX"

rm -rf "$BUILD"
mkdir -p "$BUILD"

# The directories passed explicitly, so that none a caller of `make test` set leaks in.
dirs() { # prefix
  echo "PREFIX=$1" "LIBDIR=$1/lib" "INCLUDEDIR=$1/include" "PKGCONFIGDIR=$1/lib/pkgconfig" \
    "CMAKEDIR=$1/lib/cmake/AlfaviewAuth" "DOCDIR=$1/share/doc/alfaview-auth"
}
# shellcheck disable=SC2046 # dirs prints words without blanks
make_in() { # DESTDIR goal...
  local destdir="$1"
  shift
  "$MAKE" --no-print-directory -C "$ROOT" "$@" DESTDIR="$destdir" $(dirs "$PREFIX") LDCONFIG=
}

# ---- 1. make install -------------------------------------------------------------------
echo "== make install DESTDIR=$STAGE PREFIX=$PREFIX"
check "make install DESTDIR=... PREFIX=$PREFIX" make_in "$STAGE" install
if [ ! -d "$STAGE$PREFIX" ]; then
  fail "nothing was installed under $STAGE$PREFIX"
  finish
fi

expected_files() {
  printf '%s\n' \
    "include/alfaview_auth.h" \
    "lib/cmake/AlfaviewAuth/AlfaviewAuthConfig.cmake" \
    "lib/cmake/AlfaviewAuth/AlfaviewAuthConfigVersion.cmake" \
    "lib/libalfaview_auth.a" \
    "lib/libalfaview_auth.so" \
    "lib/libalfaview_auth.so.$VERSION" \
    "lib/$SONAME" \
    "lib/pkgconfig/alfaview_auth.pc" \
    "share/doc/alfaview-auth/LICENSE-APACHE" \
    "share/doc/alfaview-auth/LICENSE-MIT" \
    "share/doc/alfaview-auth/THIRD-PARTY-LICENSES.txt"
}
installed_files() { # root
  (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | LC_ALL=C sort)
}
check "exactly the expected files are installed" \
  diff -u <(expected_files | LC_ALL=C sort) <(installed_files "$STAGE$PREFIX")

file_is() { # path type(f|l) mode|link-target
  local path="$1" type="$2" want="$3"
  ls -l "$path"
  case "$type" in
    f) [ -f "$path" ] && [ ! -L "$path" ] && [ "$(stat -c %a "$path")" = "$want" ] ;;
    l) [ -L "$path" ] && [ "$(readlink "$path")" = "$want" ] ;;
  esac
}
check "lib/libalfaview_auth.so.$VERSION: the library, mode 644" file_is "$LIB/libalfaview_auth.so.$VERSION" f 644
check "lib/$SONAME -> libalfaview_auth.so.$VERSION" file_is "$LIB/$SONAME" l "libalfaview_auth.so.$VERSION"
check "lib/libalfaview_auth.so -> $SONAME" file_is "$LIB/libalfaview_auth.so" l "$SONAME"
check "lib/libalfaview_auth.a: mode 644, an ar archive" \
  bash -c '[ "$(stat -c %a "$1")" = 644 ] && [ "$(head -c 8 "$1")" = "!<arch>" ]' _ "$LIB/libalfaview_auth.a"
check "include/alfaview_auth.h: mode 644, the repository's header" \
  bash -c '[ "$(stat -c %a "$1")" = 644 ] && cmp "$1" include/alfaview_auth.h' _ "$STAGE$PREFIX/include/alfaview_auth.h"
check "the installed library is the release build" cmp "$LIB/libalfaview_auth.so.$VERSION" target/release/libalfaview_auth.so
# The licences of what the library links: exactly the crates cargo tree lists for it (with
# the library's own features, for this machine), each with its text.
DOC="$STAGE$PREFIX/share/doc/alfaview-auth"
licences_cover_the_graph() {
  local crates
  crates="$(cargo tree -q -p alfaview-auth -e normal,no-proc-macro --prefix none --locked |
    awk '$1 != "alfaview-auth" { print $1 " " substr($2, 2) }' | LC_ALL=C sort -u)"
  [ "$(wc -l <<<"$crates")" -gt 50 ] || { echo "cargo tree listed only: $crates"; return 1; }
  diff -u <(echo "$crates") \
    <(sed -n 's/^- \([A-Za-z0-9_-]*\) \([0-9][^ ]*\): .*/\1 \2/p' "$DOC/THIRD-PARTY-LICENSES.txt" | LC_ALL=C sort -u)
}
check "THIRD-PARTY-LICENSES.txt lists exactly the crates the library links (cargo tree)" licences_cover_the_graph
check "THIRD-PARTY-LICENSES.txt has the texts: ring's BoringSSL/ISC, vendored libdbus's AFL-2.1, the Apache licence" \
  bash -c 'grep -q "Academic Free License" "$1" && grep -q "BoringSSL" "$1" &&
    grep -q "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" "$1"' _ "$DOC/THIRD-PARTY-LICENSES.txt"
check "our own licences are installed beside it" \
  bash -c 'cmp "$1/LICENSE-MIT" LICENSE-MIT && cmp "$1/LICENSE-APACHE" LICENSE-APACHE' _ "$DOC"
check "no file names the staging root" bash -c '! grep -rl -- "$1" "$2"' _ "$STAGE" "$STAGE$PREFIX"

soname_of() { readelf -d "$1" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p'; }
needed_of() { readelf -d "$1" | sed -n 's/.*Shared library: \[\(.*\)\].*/\1/p'; }
check "SONAME of the installed library is $SONAME (readelf -d)" \
  test "$(soname_of "$LIB/libalfaview_auth.so.$VERSION")" = "$SONAME"
check "SONAME of the debug build is $SONAME too" test "$(soname_of target/debug/libalfaview_auth.so)" = "$SONAME"
check "target/debug/$SONAME -> libalfaview_auth.so (programs linked in the build tree start)" \
  file_is "target/debug/$SONAME" l libalfaview_auth.so
check "the installed library exports av_version" \
  bash -c 'readelf --dyn-syms -W "$1" | grep -qE " FUNC +GLOBAL +DEFAULT +[0-9]+ av_version$"' _ "$LIB/libalfaview_auth.so.$VERSION"

# ---- running programs ------------------------------------------------------------------
# run_demo DESCRIPTION LIBRARY_PATH|"" PROGRAM: the demo against a fresh mock server;
# LD_LIBRARY_PATH set to LIBRARY_PATH (or unset for a static program).
demo_runs() { # library_path program
  local libpath="$1" program="$2"
  local -a env_args=(env -u LD_LIBRARY_PATH -u ALFAVIEW_CA_FILE -u ALFAVIEW_TIMEOUT_MS -u ALFAVIEW_USERNAME
    -u ALFAVIEW_PASSWORD -u ALFAVIEW_COMPANY_ID -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY
    -u ALL_PROXY -u all_proxy "NO_PROXY=127.0.0.1,localhost")
  [ -n "$libpath" ] && env_args+=("LD_LIBRARY_PATH=$libpath")
  # shellcheck disable=SC2016
  timeout -k 5 60 scripts/with-mock.sh "${env_args[@]}" \
    bash -c 'ALFAVIEW_API_URL="$ALFAVIEW_MOCK_URL" exec "$@"' _ "$program" >"$BUILD/run.log" 2>&1
  local rc=$?
  cat "$BUILD/run.log"
  [ "$rc" = 0 ] && grep -q '^All done\.$' "$BUILD/run.log"
}
version_runs() { # library_path program
  if [ -n "$1" ]; then
    env LD_LIBRARY_PATH="$1" "$2"
  else
    env -u LD_LIBRARY_PATH "$2"
  fi
}
# The loader resolves libalfaview_auth.so.N of PROGRAM to the staged library (not the build
# tree's, not a system one).
loads_from() { # library_path program expected_dir
  local line
  line="$(env LD_LIBRARY_PATH="$1" ldd "$2" | grep -F "$SONAME")"
  echo "$line"
  [[ "$line" == *"=> $3/$SONAME "* ]]
}
links_shared() { needed_of "$1" | grep -qxF "$SONAME" || { needed_of "$1"; return 1; }; }
links_static() { ! needed_of "$1" | grep -q '^libalfaview_auth' || { needed_of "$1"; return 1; }; }

# ---- 2. pkg-config ---------------------------------------------------------------------
echo "== pkg-config"
export PKG_CONFIG_PATH="$LIB/pkgconfig"
# The .pc file names the real prefix; the sysroot puts the staging root in front of its
# -I and -L paths, as for any staged install.
export PKG_CONFIG_SYSROOT_DIR="$STAGE"
check "pkg-config --modversion alfaview_auth is $VERSION" test "$(pkg-config --modversion alfaview_auth)" = "$VERSION"
check "pkg-config --validate alfaview_auth" pkg-config --validate alfaview_auth
# pkg-config's output, blanks squeezed and trimmed (it ends its output with one).
pc_is() { # expected pkg-config-options...
  local want="$1" got
  shift
  got="$(pkg-config "$@" alfaview_auth | tr -s ' ' | sed 's/^ //; s/ $//')"
  echo "pkg-config $*: '$got'"
  [ "$got" = "$want" ]
}
check "pkg-config --cflags: -I$STAGE$PREFIX/include" pc_is "-I$STAGE$PREFIX/include" --cflags
check "pkg-config --libs: -L$LIB -lalfaview_auth" pc_is "-L$LIB -lalfaview_auth" --libs
native_libs="$(sed -n 2p target/release/alfaview_auth.native-static-libs 2>/dev/null)"
check "pkg-config --static --libs adds rustc's native-static-libs ($native_libs)" \
  pc_is "-L$LIB -lalfaview_auth $native_libs" --static --libs

# shellcheck disable=SC2046 # pkg-config's flags are words
build_pc() { # output source [pkg-config options] [-- extra cc flags]
  local out="$1" src="$2"
  shift 2
  local -a pcopts=() extra=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do pcopts+=("$1"); shift; done
  [ "${1:-}" = -- ] && { shift; extra=("$@"); }
  echo "$CC ${CFLAGS[*]} ${extra[*]} $src -o $out $(pkg-config "${pcopts[@]}" --cflags --libs alfaview_auth)"
  # shellcheck disable=SC2086 # CC may carry words, e.g. CC="ccache cc"
  $CC "${CFLAGS[@]}" "${extra[@]}" "$src" -o "$out" $(pkg-config "${pcopts[@]}" --cflags --libs alfaview_auth)
}
check "version.c builds with pkg-config --cflags --libs" \
  build_pc "$BUILD/version-pkgconfig" tests/install/version.c -- "-DEXPECTED_VERSION=\"$VERSION\""
check "version-pkgconfig: AV_VERSION_* = Cargo.toml ($VERSION) = av_version()" \
  version_runs "$LIB" "$BUILD/version-pkgconfig"
check "demo.c builds with pkg-config --cflags --libs" build_pc "$BUILD/demo-pkgconfig" examples/c/demo.c
check "demo-pkgconfig needs $SONAME (DT_NEEDED)" links_shared "$BUILD/demo-pkgconfig"
check "demo-pkgconfig loads $SONAME from the stage" loads_from "$LIB" "$BUILD/demo-pkgconfig" "$LIB"
check "demo-pkgconfig runs against the mock server" demo_runs "$LIB" "$BUILD/demo-pkgconfig"

# --static with the shared library installed too: the archive taken by name, as
# packaging/README.md tells.
build_pc_archive() { # output source
  local libs
  libs="$(pkg-config --static --libs alfaview_auth | sed 's/-lalfaview_auth/-l:libalfaview_auth.a/')"
  echo "$CC ${CFLAGS[*]} $2 -o $1 $(pkg-config --cflags alfaview_auth) $libs"
  # shellcheck disable=SC2086,SC2046
  $CC "${CFLAGS[@]}" "$2" -o "$1" $(pkg-config --cflags alfaview_auth) $libs
}
check "demo.c builds with pkg-config --static, -l:libalfaview_auth.a" \
  build_pc_archive "$BUILD/demo-pkgconfig-archive" examples/c/demo.c
check "demo-pkgconfig-archive does not need the shared library" links_static "$BUILD/demo-pkgconfig-archive"

# --static: a stage with the static library, header and metadata but no shared library,
# so that -lalfaview_auth can only be libalfaview_auth.a (as for a static-only package).
echo "== pkg-config --static (make install-static install-dev DESTDIR=$STATIC_STAGE)"
check "make install-static install-dev" make_in "$STATIC_STAGE" install-static install-dev
check "the static-only stage has no shared library" \
  bash -c '! ls "$1"/libalfaview_auth.so* 2>/dev/null' _ "$STATIC_STAGE$PREFIX/lib"
PKG_CONFIG_PATH="$STATIC_STAGE$PREFIX/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$STATIC_STAGE" \
  check "demo.c builds with pkg-config --static --cflags --libs (libalfaview_auth.a)" \
  build_pc "$BUILD/demo-pkgconfig-static" examples/c/demo.c --static
check "demo-pkgconfig-static does not need the shared library" links_static "$BUILD/demo-pkgconfig-static"
check "demo-pkgconfig-static runs against the mock server" demo_runs "" "$BUILD/demo-pkgconfig-static"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# ---- 3. CMake --------------------------------------------------------------------------
echo "== CMake ($(cmake --version | head -n 1))"
CMAKE_BUILD="$BUILD/cmake"
export CC # CMake takes its C compiler from CC (which may carry words, e.g. "ccache cc")
check "cmake configures tests/install/cmake (find_package(AlfaviewAuth CONFIG REQUIRED))" \
  cmake -S tests/install/cmake -B "$CMAKE_BUILD" -DCMAKE_PREFIX_PATH="$STAGE$PREFIX" -DCMAKE_BUILD_TYPE=Debug
check "cmake --build (demo, demo_static, version)" cmake --build "$CMAKE_BUILD" -j 2
check "cmake: version = the package's version = av_version()" version_runs "$LIB" "$CMAKE_BUILD/version"
check "cmake: demo (AlfaviewAuth::alfaview_auth) needs $SONAME" links_shared "$CMAKE_BUILD/demo"
check "cmake: demo loads $SONAME from the stage" loads_from "$LIB" "$CMAKE_BUILD/demo" "$LIB"
check "cmake: demo runs against the mock server" demo_runs "$LIB" "$CMAKE_BUILD/demo"
check "cmake: demo_static (AlfaviewAuth::alfaview_auth_static) does not need the shared library" \
  links_static "$CMAKE_BUILD/demo_static"
check "cmake: demo_static runs against the mock server" demo_runs "" "$CMAKE_BUILD/demo_static"

# The version file and components: a configure step that succeeds exactly when
# find_package(AlfaviewAuth ARGS CONFIG REQUIRED) accepts the package.
# Each in a fresh build directory: a CMake cache remembers where it found a package.
find_with() { # prefix_path args...
  local prefix_path="$1" dir
  shift
  local IFS=';'
  dir="$(mktemp -d "$BUILD/cmake-find.XXXXXX")"
  cmake -S tests/install/cmake-find -B "$dir" -DCMAKE_PREFIX_PATH="$prefix_path" "-DAV_FIND_ARGS=$*"
}
next_minor="$MAJOR.$((MINOR + 1))"
next_major="$((MAJOR + 1)).0"
check "find_package(AlfaviewAuth $MAJOR.$MINOR CONFIG REQUIRED)" find_with "$STAGE$PREFIX" "$MAJOR.$MINOR"
check "find_package(AlfaviewAuth $VERSION EXACT CONFIG REQUIRED)" find_with "$STAGE$PREFIX" "$VERSION" EXACT
check "find_package(AlfaviewAuth $MAJOR.$MINOR...<$next_major CONFIG REQUIRED) (a range)" \
  find_with "$STAGE$PREFIX" "$MAJOR.$MINOR...<$next_major"
expect_fail "find_package(AlfaviewAuth $next_minor) is refused (a newer version)" find_with "$STAGE$PREFIX" "$next_minor"
expect_fail "find_package(AlfaviewAuth $next_major) is refused (another major version)" \
  find_with "$STAGE$PREFIX" "$next_major"
if [ "$MAJOR" = 0 ] && [ "$MINOR" -gt 0 ]; then
  expect_fail "find_package(AlfaviewAuth 0.$((MINOR - 1))) is refused (0.x: another minor version)" \
    find_with "$STAGE$PREFIX" "0.$((MINOR - 1))"
fi
check "find_package(AlfaviewAuth COMPONENTS shared static)" find_with "$STAGE$PREFIX" COMPONENTS shared static
expect_fail "find_package(AlfaviewAuth COMPONENTS bogus) is refused" find_with "$STAGE$PREFIX" COMPONENTS bogus
# find_with, and the line it prints must contain each of the words given.
found() { # prefix_path words...
  local prefix_path="$1" out word
  shift
  out="$(find_with "$prefix_path" 2>&1)" || { echo "$out"; return 1; }
  grep -- '-- found AlfaviewAuth' <<<"$out"
  for word in "$@"; do
    grep -- '-- found AlfaviewAuth' <<<"$out" | grep -qF -- "$word" || return 1
  done
}
check "cmake: AlfaviewAuth::alfaview_auth is the shared library" found "$STAGE$PREFIX" "type=SHARED_LIBRARY"
check "cmake, static-only install: AlfaviewAuth::alfaview_auth is the static library" \
  found "$STATIC_STAGE$PREFIX" "type=INTERFACE_LIBRARY"
expect_fail "cmake, static-only install: COMPONENTS shared is refused" \
  find_with "$STATIC_STAGE$PREFIX" COMPONENTS shared
# The package finds its files relative to itself: the installed tree moved elsewhere.
MOVED="$BUILD/moved/alfaview-auth"
mkdir -p "$(dirname "$MOVED")"
cp -a "$STAGE$PREFIX" "$MOVED"
check "cmake: the package still works after the installed tree is moved" \
  found "$MOVED" "include=$MOVED/include " "type=SHARED_LIBRARY"
rm -rf "$BUILD/moved"

# ---- 5. make uninstall -----------------------------------------------------------------
echo "== make uninstall"
check "make uninstall DESTDIR=... PREFIX=$PREFIX" make_in "$STAGE" uninstall
check "nothing is left but empty directories" \
  bash -c '[ -z "$(find "$1" \( -type f -o -type l \) -print -quit)" ] || { find "$1" \( -type f -o -type l \); false; }' \
  _ "$STAGE"

finish
