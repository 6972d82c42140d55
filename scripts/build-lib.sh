#!/usr/bin/env bash
# Builds the C library: libalfaview_auth.so (with its SONAME symlink, made by build.rs)
# and libalfaview_auth.a in target/<profile>/.
#
#   scripts/build-lib.sh [--release] [more cargo options: --target T, --target-dir D, -q]
#
# `make build` (debug) and `make release` run it, as do the wheel, the benchmarks and the
# soak test. Cargo.toml declares only the rlib (what Rust code links); this builds the
# same crate as a cdylib and a staticlib with `cargo rustc --crate-type`. Emitted in one
# compilation with an rlib, LTO would have to keep every public Rust item of the crate,
# and the release library would be 0.37 MB larger (BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec "${CARGO:-cargo}" rustc -p alfaview-auth --lib --crate-type cdylib,staticlib "$@"
