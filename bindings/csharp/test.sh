#!/usr/bin/env bash
# The C# binding's suite (`make test-csharp`, after `make build`): builds the binding, its
# tests and the example with Mono's mcs (warnings as errors) into build/csharp/, then runs
# the tests and the example against the mock server (scripts/with-mock.sh).
#
# Mono needs only Debian's mono-mcs and mono-runtime (with their dependencies:
# mscorlib, System, System.Core, System.Xml): Task, SafeHandle and P/Invoke are in
# mscorlib, and the tests talk to the mock's /_mock/ endpoints with HttpWebRequest
# (System.dll), so no libmono-system-net-http or JSON package is needed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out="$top/build/csharp"
native="$top/target/debug"

have() { command -v "$1" >/dev/null 2>&1; }
if ! have mcs || ! have mono; then
  pkgs="mono-mcs mono-runtime"
  if [ "$(id -u)" = 0 ] && have apt-get; then
    echo "test-csharp: installing $pkgs"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
  else
    echo "test-csharp: Mono is missing; install it with:" >&2
    echo "  sudo apt-get install --no-install-recommends $pkgs" >&2
    exit 1
  fi
fi
[ -f "$native/libalfaview_auth.so" ] || { echo "test-csharp: $native/libalfaview_auth.so is missing; run make build" >&2; exit 1; }

# Every function the header exports must have a P/Invoke declaration (an `extern` line or
# an EntryPoint; comments do not count).
missing=()
for fn in $(grep -oE '\bav_[a-z0-9_]+\(' "$top/include/alfaview_auth.h" | tr -d '(' | sort -u); do
  if ! grep -qE "extern [^(]*\b$fn\(|EntryPoint = \"$fn\"" "$here/src/NativeMethods.cs"; then
    missing+=("$fn")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-csharp: declared in the header but not in src/NativeMethods.cs: ${missing[*]}" >&2
  exit 1
fi

mkdir -p "$out"
echo "test-csharp: building into $out"
mcs -warnaserror -nologo -target:library -out:"$out/Alfaview.Auth.dll" -doc:"$out/Alfaview.Auth.xml" "$here"/src/*.cs
cp "$here/src/Alfaview.Auth.dll.config" "$out/"
mcs -warnaserror -nologo -out:"$out/Alfaview.Auth.Tests.exe" -r:"$out/Alfaview.Auth.dll" -r:System.Core.dll "$here"/tests/*.cs
mcs -warnaserror -nologo -out:"$out/Example.exe" -r:"$out/Alfaview.Auth.dll" "$here/examples/Example.cs"

# Mono resolves DllImport("alfaview_auth") through the dllmap in Alfaview.Auth.dll.config
# (-> libalfaview_auth.so) and dlopen's search path: point it at the freshly built library
# rather than copying it, so the tests never run against a stale copy.
export LD_LIBRARY_PATH="$native${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The default client (AlfaviewAuth.Refresh, sessions without a client) reads
# ALFAVIEW_API_URL from the process environment once, when first used: set it before mono
# starts. Proxies must not intercept loopback traffic to the mock.
run() {
  # shellcheck disable=SC2016
  timeout "$1" "$top/scripts/with-mock.sh" env -u ALFAVIEW_CA_FILE -u ALFAVIEW_TIMEOUT_MS \
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost \
    bash -c 'ALFAVIEW_API_URL="$ALFAVIEW_MOCK_URL" exec mono --debug "$@"' mono "${@:2}"
}

# The token store tests use the file store in a fresh private directory (the library
# creates it, mode 0700), never the user's OS store or files. The variable is exported
# before mono starts so the native getenv sees it however the runtime treats
# Environment.SetEnvironmentVariable; it is removed again with the directory.
store_tmp=$(mktemp -d)
trap 'rm -rf "$store_tmp"' EXIT
export ALFAVIEW_TOKEN_STORE="file:$store_tmp/store"

status=0
echo "test-csharp: running the tests"
run 90 "$out/Alfaview.Auth.Tests.exe" || status=1
echo "test-csharp: running the example"
run 20 "$out/Example.exe" || { echo "test-csharp: the example failed" >&2; status=1; }
exit "$status"
