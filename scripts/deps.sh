#!/usr/bin/env bash
# Installs what `make test` and `make demo` need: Debian packages when run as root,
# otherwise it prints the exact command to run. Quiet when everything is there.
set -euo pipefail

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }

have cc || need_pkgs+=(gcc)
have c++ || need_pkgs+=(g++)
have valgrind || need_pkgs+=(valgrind)
[ -e /etc/ssl/certs/ca-certificates.crt ] || need_pkgs+=(ca-certificates)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && have apt-get; then
    echo "deps: installing ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    echo "deps: missing ${need_pkgs[*]}; install them with:" >&2
    echo "  sudo apt-get install ${need_pkgs[*]}" >&2
    exit 1
  fi
fi
have cargo || { echo "deps: cargo not found; install a Rust toolchain (https://rustup.rs)" >&2; exit 1; }
