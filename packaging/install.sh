#!/usr/bin/env bash
# Installs (or uninstalls) alfaview-auth as a C library: `make install`, `make uninstall`.
#
#   packaging/install.sh install|uninstall [shared] [static] [dev]     (default: all three)
#
#   shared  LIBDIR/libalfaview_auth.so.VERSION, with the symlinks libalfaview_auth.so.SOVERSION
#           (the SONAME, what the loader looks for) and libalfaview_auth.so (what
#           -lalfaview_auth finds)
#   static  LIBDIR/libalfaview_auth.a
#   dev     INCLUDEDIR/alfaview_auth.h, PKGCONFIGDIR/alfaview_auth.pc,
#           CMAKEDIR/AlfaviewAuthConfig.cmake and AlfaviewAuthConfigVersion.cmake
#   with shared or static: DOCDIR/LICENSE-MIT, LICENSE-APACHE and THIRD-PARTY-LICENSES.txt
#           (the licences of what the library links statically, which make release writes)
#
# From the environment (the Makefile passes them): PREFIX (/usr/local), LIBDIR
# (PREFIX/lib), INCLUDEDIR (PREFIX/include), PKGCONFIGDIR (LIBDIR/pkgconfig), CMAKEDIR
# (LIBDIR/cmake/AlfaviewAuth), DOCDIR (PREFIX/share/doc/alfaview-auth), DESTDIR (a staging root put in front of every path
# written, never into the files), RELEASE_DIR (target/release: what `make release` built),
# LDCONFIG (ldconfig; run after a shared install or uninstall when DESTDIR is empty and we
# are root; empty to skip).

# The templates' @NAME@ values are shell variables read through ${!NAME}:
# shellcheck disable=SC2034
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

die() {
  echo "install: $*" >&2
  exit 1
}

action="${1:-}"
case "$action" in
  install | uninstall) shift ;;
  *) die "usage: $0 install|uninstall [shared] [static] [dev]" ;;
esac
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(shared static dev)
for p in "${parts[@]}"; do
  case "$p" in shared | static | dev) ;; *) die "unknown part '$p' (shared, static, dev)" ;; esac
done
want() { [[ " ${parts[*]} " == *" $1 "* ]]; }

PREFIX="${PREFIX:-/usr/local}"
LIBDIR="${LIBDIR:-$PREFIX/lib}"
INCLUDEDIR="${INCLUDEDIR:-$PREFIX/include}"
PKGCONFIGDIR="${PKGCONFIGDIR:-$LIBDIR/pkgconfig}"
CMAKEDIR="${CMAKEDIR:-$LIBDIR/cmake/AlfaviewAuth}"
DOCDIR="${DOCDIR:-$PREFIX/share/doc/alfaview-auth}"
DESTDIR="${DESTDIR:-}"
RELEASE_DIR="${RELEASE_DIR:-target/release}"
LDCONFIG="${LDCONFIG-ldconfig}"

# Paths go into the .pc file (which cannot quote) and the CMake files: absolute, no blanks.
for var in PREFIX LIBDIR INCLUDEDIR PKGCONFIGDIR CMAKEDIR DOCDIR; do
  value="${!var}"
  [[ "$value" == /* ]] || die "$var must be an absolute path (it is '$value')"
  [[ "$value" != *[[:space:]]* ]] || die "$var must not contain blanks (it is '$value')"
done
# Without trailing slashes (so that ${prefix}-relative paths come out right).
strip_slash() { local v="$1"; while [ "${#v}" -gt 1 ] && [[ "$v" == */ ]]; do v="${v%/}"; done; echo "$v"; }
PREFIX="$(strip_slash "$PREFIX")"
LIBDIR="$(strip_slash "$LIBDIR")"
INCLUDEDIR="$(strip_slash "$INCLUDEDIR")"
PKGCONFIGDIR="$(strip_slash "$PKGCONFIGDIR")"
CMAKEDIR="$(strip_slash "$CMAKEDIR")"

# The version: [package] version of Cargo.toml. The ABI version (SONAME): build.rs.
VERSION="$(awk '
  /^\[/ { in_pkg = ($0 == "[package]") }
  in_pkg && $1 == "version" { gsub(/[" ]/, "", $3); print $3; exit }' Cargo.toml)"
[[ "$VERSION" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)([-+][0-9A-Za-z.+-]+)?$ ]] ||
  die "cannot read a MAJOR.MINOR.PATCH version from Cargo.toml (got '$VERSION')"
VERSION_MAJOR="${BASH_REMATCH[1]}"
VERSION_MINOR="${BASH_REMATCH[2]}"
VERSION_CORE="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
SOVERSION="$(sed -n 's/^const SOVERSION: u32 = \([0-9][0-9]*\);.*/\1/p' build.rs)"
[ -n "$SOVERSION" ] || die "cannot read SOVERSION from build.rs"
SONAME="libalfaview_auth.so.$SOVERSION"

say() { echo "  $*"; }
run() {
  say "$*"
  "$@"
}

# ---- uninstall -------------------------------------------------------------------------
if [ "$action" = uninstall ]; then
  files=()
  want shared && files+=("$LIBDIR/libalfaview_auth.so.$VERSION" "$LIBDIR/$SONAME" "$LIBDIR/libalfaview_auth.so")
  want static && files+=("$LIBDIR/libalfaview_auth.a")
  # The licences stay while either library does.
  remaining=0
  want shared || [ ! -e "$DESTDIR$LIBDIR/libalfaview_auth.so.$VERSION" ] || remaining=1
  want static || [ ! -e "$DESTDIR$LIBDIR/libalfaview_auth.a" ] || remaining=1
  if [ "$remaining" = 0 ]; then
    files+=("$DOCDIR/LICENSE-MIT" "$DOCDIR/LICENSE-APACHE" "$DOCDIR/THIRD-PARTY-LICENSES.txt")
  fi
  want dev && files+=("$INCLUDEDIR/alfaview_auth.h" "$PKGCONFIGDIR/alfaview_auth.pc"
    "$CMAKEDIR/AlfaviewAuthConfig.cmake" "$CMAKEDIR/AlfaviewAuthConfigVersion.cmake")
  for f in "${files[@]}"; do
    if [ -e "$DESTDIR$f" ] || [ -L "$DESTDIR$f" ]; then
      run rm -f "$DESTDIR$f"
    fi
  done
  if want dev && [ -d "$DESTDIR$CMAKEDIR" ]; then
    if rmdir "$DESTDIR$CMAKEDIR" 2>/dev/null; then say "rmdir $DESTDIR$CMAKEDIR"; fi
  fi
  if [ "$remaining" = 0 ] && [ -d "$DESTDIR$DOCDIR" ]; then
    if rmdir "$DESTDIR$DOCDIR" 2>/dev/null; then say "rmdir $DESTDIR$DOCDIR"; fi
  fi
  if want shared && [ -z "$DESTDIR" ] && [ -n "$LDCONFIG" ] && [ "$(id -u)" = 0 ] &&
    command -v "$LDCONFIG" >/dev/null 2>&1; then
    run "$LDCONFIG"
  fi
  exit 0
fi

# ---- install: what make release built --------------------------------------------------
so="$RELEASE_DIR/libalfaview_auth.so"
a="$RELEASE_DIR/libalfaview_auth.a"
libs_file="$RELEASE_DIR/alfaview_auth.native-static-libs"
want shared && { [ -f "$so" ] || die "$so is missing: run make release first"; }
want static && { [ -f "$a" ] || die "$a is missing: run make release first"; }
licences="$RELEASE_DIR/THIRD-PARTY-LICENSES.txt"
if want shared || want static; then
  [ -f "$licences" ] || die "$licences is missing: run make release first"
fi
if want shared; then
  # A library built before the SONAME was set (or for another ABI version) must not go
  # in under this name.
  got="$(readelf -d "$so" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')"
  [ "$got" = "$SONAME" ] ||
    die "$so has SONAME '${got:-none}', not $SONAME: rebuild it with make release"
fi
if want dev; then
  [ -f "$libs_file" ] || die "$libs_file is missing: run make release first"
  LIBS_PRIVATE="$(sed -n 2p "$libs_file")"
  [ -n "$LIBS_PRIVATE" ] || die "$libs_file is empty: run make release again"
  header_version="$(sed -n 's/^#define AV_VERSION_STRING "\(.*\)"$/\1/p' include/alfaview_auth.h)"
  [ "$header_version" = "$VERSION" ] ||
    die "include/alfaview_auth.h is for version '${header_version:-?}', Cargo.toml says $VERSION: run make header"
  # The pointer size the library was built for, for the CMake version file: the ELF class
  # of the shared library (1: 32-bit, 2: 64-bit).
  case "$(od -An -tu1 -j4 -N1 "$so" 2>/dev/null | tr -d ' ')" in
    1) SIZEOF_VOID_P=4 ;;
    2) SIZEOF_VOID_P=8 ;;
    *) die "cannot tell whether $so is 32- or 64-bit: run make release first" ;;
  esac
fi

# A template with every @NAME@ replaced by the value of the shell variable NAME; any
# placeholder left over is an error.
configure() { # template output
  local text name
  text="$(cat "$1")"
  for name in $(grep -oE '@[A-Z_]+@' "$1" | tr -d @ | sort -u); do
    [ -n "${!name+set}" ] || die "$1: no value for @$name@"
    text="${text//"@$name@"/"${!name}"}"
  done
  printf '%s\n' "$text" >"$2"
}

# "${prefix}/lib" for a directory under PREFIX (so the .pc file follows a changed
# prefix), the absolute path otherwise.
# shellcheck disable=SC2016 # ${prefix} is a pkg-config variable, not a shell one
under_prefix() {
  case "$1" in
    "$PREFIX") echo '${prefix}' ;;
    "$PREFIX"/*) echo "\${prefix}/${1#"$PREFIX"/}" ;;
    *) echo "$1" ;;
  esac
}

echo "Installing alfaview-auth $VERSION (${parts[*]}) into $PREFIX${DESTDIR:+, staged under $DESTDIR}"
if want shared || want static; then
  run install -d -m 755 "$DESTDIR$LIBDIR"
fi
if want shared; then
  run install -m 644 "$so" "$DESTDIR$LIBDIR/libalfaview_auth.so.$VERSION"
  run ln -sfn "libalfaview_auth.so.$VERSION" "$DESTDIR$LIBDIR/$SONAME"
  run ln -sfn "$SONAME" "$DESTDIR$LIBDIR/libalfaview_auth.so"
fi
if want static; then
  run install -m 644 "$a" "$DESTDIR$LIBDIR/libalfaview_auth.a"
fi
if want shared || want static; then
  run install -d -m 755 "$DESTDIR$DOCDIR"
  run install -m 644 LICENSE-MIT LICENSE-APACHE "$licences" "$DESTDIR$DOCDIR/"
fi
if want dev; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  run install -d -m 755 "$DESTDIR$INCLUDEDIR" "$DESTDIR$PKGCONFIGDIR" "$DESTDIR$CMAKEDIR"
  run install -m 644 include/alfaview_auth.h "$DESTDIR$INCLUDEDIR/alfaview_auth.h"

  PC_LIBDIR="$(under_prefix "$LIBDIR")"
  PC_INCLUDEDIR="$(under_prefix "$INCLUDEDIR")"
  configure packaging/alfaview_auth.pc.in "$tmp/alfaview_auth.pc"
  run install -m 644 "$tmp/alfaview_auth.pc" "$DESTDIR$PKGCONFIGDIR/alfaview_auth.pc"

  # The CMake files find the library and header relative to themselves.
  LIBDIR_FROM_CMAKEDIR="$(realpath -m --relative-to="$CMAKEDIR" "$LIBDIR")"
  INCLUDEDIR_FROM_CMAKEDIR="$(realpath -m --relative-to="$CMAKEDIR" "$INCLUDEDIR")"
  STATIC_LINK_LIBRARIES="$(tr -s ' ' ';' <<<"$LIBS_PRIVATE")"
  configure packaging/cmake/AlfaviewAuthConfig.cmake.in "$tmp/AlfaviewAuthConfig.cmake"
  configure packaging/cmake/AlfaviewAuthConfigVersion.cmake.in "$tmp/AlfaviewAuthConfigVersion.cmake"
  run install -m 644 "$tmp/AlfaviewAuthConfig.cmake" "$tmp/AlfaviewAuthConfigVersion.cmake" "$DESTDIR$CMAKEDIR/"
fi
if want shared && [ -z "$DESTDIR" ] && [ -n "$LDCONFIG" ] && [ "$(id -u)" = 0 ] &&
  command -v "$LDCONFIG" >/dev/null 2>&1; then
  run "$LDCONFIG"
fi
