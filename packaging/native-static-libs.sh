#!/usr/bin/env bash
# Prints the system libraries that a program linking libalfaview_auth.a needs besides it
# (e.g. `-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc`): what rustc reports for the static
# library with `--print native-static-libs`. `make release` runs it; packaging/install.sh
# writes the result into alfaview_auth.pc (Libs.private) and the CMake package
# (INTERFACE_LINK_LIBRARIES of the static target).
#
#   packaging/native-static-libs.sh [--release]
#
# Asking rustc means compiling the crate once more as a staticlib (`cargo rustc
# --crate-type staticlib`; cargo keeps that apart from `cargo build`, so neither undoes
# the other). The answer depends only on the dependencies, the toolchain, the build
# script and any #[link] in src/, so it is kept in target/<profile>/ with a key made of
# those, and asked again only when one of them changes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CARGO="${CARGO:-cargo}"
profile=debug
args=()
if [ "${1:-}" = "--release" ]; then
  profile=release
  args=(--release)
  shift
fi
[ $# = 0 ] || { echo "usage: $0 [--release]" >&2; exit 2; }

dir="${CARGO_TARGET_DIR:-target}/$profile"
cache="$dir/alfaview_auth.native-static-libs"

key="$({
  cat Cargo.toml Cargo.lock build.rs
  rustc -vV
  echo "${CARGO_BUILD_TARGET:-} ${RUSTFLAGS:-} ${CARGO_ENCODED_RUSTFLAGS:-}"
  grep -rhoE '#\[link[^]]*\]' src || true
} | sha256sum | cut -d' ' -f1)"

if [ -f "$cache" ] && [ "$(sed -n 1p "$cache")" = "# key $key" ]; then
  sed -n 2p "$cache"
  exit 0
fi

echo "native-static-libs: asking rustc which system libraries libalfaview_auth.a needs ($profile build of the staticlib)" >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$CARGO" rustc -q "${args[@]}" -p alfaview-auth --lib --crate-type staticlib \
    -- --print native-static-libs >"$log" 2>&1; then
  cat "$log" >&2
  echo "native-static-libs: cargo rustc failed" >&2
  exit 1
fi
libs="$(sed -n 's/^note: native-static-libs: *//p' "$log" | tail -n 1)"
if [ -z "$libs" ]; then
  cat "$log" >&2
  echo "native-static-libs: rustc printed no 'native-static-libs' line" >&2
  exit 1
fi
mkdir -p "$dir"
printf '# key %s\n%s\n' "$key" "$libs" >"$cache.tmp"
mv "$cache.tmp" "$cache"
echo "$libs"
