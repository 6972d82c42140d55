#!/usr/bin/env bash
# The OS credential store against a real Secret Service: a private D-Bus session with a
# GNOME Keyring unlocked by a throwaway password, in a throwaway HOME. Installs the
# Debian packages it needs when run as root; otherwise, if they are missing, it says so
# and the test reports itself skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=()
command -v dbus-run-session >/dev/null || pkgs+=(dbus dbus-user-session)
command -v gnome-keyring-daemon >/dev/null || pkgs+=(gnome-keyring)
if [ ${#pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "os-store: installing ${pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  else
    echo "os-store: SKIPPED the Secret Service run: missing ${pkgs[*]} (install with: sudo apt-get install ${pkgs[*]})"
    exec env -u DBUS_SESSION_BUS_ADDRESS -u ALFAVIEW_TOKEN_STORE ALFAVIEW_TEST_OS_STORE=1 cargo test -q -p alfaview-auth --test os_store -- --nocapture
  fi
fi

cargo test -q -p alfaview-auth --test os_store --no-run
# The throwaway HOME must not hide the Rust toolchain.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
mkdir -m 700 "$home/run"
# shellcheck disable=SC2016
env -u ALFAVIEW_TOKEN_STORE ALFAVIEW_TEST_OS_STORE=1 HOME="$home" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home/run" \
  dbus-run-session -- bash -c '
    eval "$(printf "throwaway-test-password" | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)"
    cargo test -q -p alfaview-auth --test os_store -- --nocapture
  ' 2> >(grep -v "^dbus-daemon\[" >&2)
