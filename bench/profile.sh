#!/usr/bin/env bash
# Where a warm refresh spends its instructions: av_client_refresh (the library) against
# the libcurl peer, over HTTP and HTTPS, under valgrind --tool=callgrind. Not part of
# make bench (valgrind is slow, and it needs a build with symbols).
#
#   bench/profile.sh            -> bench/results/profile-<UTC>.txt
#
# The library is built once more, with symbols and line tables, into target/profiling
# (same release profile otherwise: LTO, one codegen unit; takes minutes the first time).
# The C benchmarks are built with -DBENCH_CALLGRIND, so only the recorded stretch of
# the timed loop is dumped (after a warm-up that connects and shakes hands), and
# bench/callgrind_summary.py divides it by the number of requests in it.
# Environment: PROFILE_SECONDS (recorded seconds under valgrind per run, default 3).
# BASE_http/BASE_https are read by name (${!b}):
# shellcheck disable=SC2034
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA="$ROOT/mock-server/tests/data"
PROF="$ROOT/target/profiling/release"
BIN="$ROOT/build/bench"
CC="${CC:-cc}"
die() { echo "profile: $*" >&2; exit 1; }
command -v valgrind >/dev/null || die "valgrind is missing: apt-get install valgrind"

echo "profile: building the library with symbols into target/profiling" >&2
CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  scripts/build-lib.sh -q --release --target-dir target/profiling
cargo build -q --release -p alfaview-mock
soname="$(objdump -p "$PROF/libalfaview_auth.so" | awk '$1 == "SONAME" { print $2 }')"
if [ -n "$soname" ] && [ ! -e "$PROF/$soname" ]; then ln -sf libalfaview_auth.so "$PROF/$soname"; fi
mkdir -p "$BIN" bench/results
CFLAGS=(-O2 -g -std=c11 -Wall -Wextra -Werror -DBENCH_CALLGRIND)
"$CC" "${CFLAGS[@]}" -Iinclude bench/refresh_lib.c -o "$BIN/refresh_lib_prof" \
  -L"$PROF" -lalfaview_auth -Wl,-rpath,"$PROF"
"$CC" "${CFLAGS[@]}" bench/refresh_curl.c -o "$BIN/refresh_curl_prof" -lcurl

TMP="$(mktemp -d "${TMPDIR:-/tmp}/av-profile.XXXXXX")"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
# shellcheck source=scripts/mock.sh
. scripts/mock.sh
start_mock() { # name [tls args]; sets BASE_<name> from the port
  local name="$1"
  shift
  mkdir -p "$TMP/mock-$name"
  mock_start "$TMP/mock-$name" target/release/alfaview-mock "$@" || die "the mock ($name) did not start"
  PIDS+=("$MOCK_PID")
  printf -v "BASE_$name" %s "$name://127.0.0.1:$MOCK_PORT/json/v1/"
}
start_mock http
start_mock https --tls-cert "$DATA/cert.pem" --tls-key "$DATA/key.pem"
BUNDLE="$TMP/bundle.pem"
cat /etc/ssl/certs/ca-certificates.crt "$DATA/ca.pem" >"$BUNDLE" 2>/dev/null || cp "$DATA/ca.pem" "$BUNDLE"
mint() {
  curl -sf --cacert "$DATA/ca.pem" -X POST "${1%/json/v1/}/_mock/mint" -d '{"companyId": "c-100"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["refreshToken"])'
}

out="bench/results/profile-$(date -u +%Y%m%dT%H%M%SZ).txt"
export BENCH_SECONDS="${PROFILE_SECONDS:-3}" BENCH_WARMUP=1
{
  echo "# alfaview-auth bench/profile.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(valgrind --version)"
  echo "# instructions per warm refresh (client side only; the server is another process)"
  for proto in http https; do
    b="BASE_$proto"
    base="${!b}"
    token="$(mint "$base")"
    ca=() bundle=()
    [ "$proto" = https ] && ca=("$DATA/ca.pem") bundle=("$BUNDLE")
    for who in lib curl; do
      if [ "$who" = lib ]; then
        cmd=("$BIN/refresh_lib_prof" client "$proto/lib_client" "$base" "$token" "${ca[@]}")
      else
        cmd=("$BIN/refresh_curl_prof" warm "$proto/libcurl" "${base}authenticationService/authenticate" "$token" "${bundle[@]}")
      fi
      echo
      echo "================ $proto: $([ "$who" = lib ] && echo 'av_client_refresh (library)' || echo 'libcurl easy handle (peer)') ================"
      result="$(valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$TMP/cg.$proto.$who" \
        "${cmd[@]}" 2>"$TMP/valgrind.log")" || { cat "$TMP/valgrind.log" >&2; die "${cmd[*]} failed"; }
      echo "$result"
      n="$(sed -n 's/.* n=\([0-9]*\) .*/\1/p' <<<"$result")"
      dump="$(find "$TMP" -name "cg.$proto.$who.*" | head -n 1)" # the part dumped at "recorded"
      python3 bench/callgrind_summary.py "$dump" "$n" 25
    done
  done
  # Cold start over HTTPS: the whole of a fresh process (load, set up, connect, shake
  # hands, one refresh), instructions in all.
  # shellcheck disable=SC2154 # BASE_https is set by start_mock (printf -v)
  token="$(mint "$BASE_https")"
  for who in lib curl; do
    if [ "$who" = lib ]; then
      cmd=("$BIN/refresh_lib_prof" cold x "$BASE_https" "$token" "$DATA/ca.pem")
    else
      cmd=("$BIN/refresh_curl_prof" cold x "${BASE_https}authenticationService/authenticate" "$token" "$BUNDLE")
    fi
    echo
    echo "================ cold start over HTTPS: $([ "$who" = lib ] && echo 'library (av_client_build + av_client_refresh)' || echo 'libcurl (system roots + test CA, as in make bench)') ================"
    valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$TMP/cold.$who" "${cmd[@]}" \
      2>"$TMP/valgrind.log" || { cat "$TMP/valgrind.log" >&2; die "${cmd[*]} failed"; }
    python3 bench/callgrind_summary.py "$TMP/cold.$who" 1 15 | sed '/^Top 15 functions by own/,/^$/d; /^Call tree/,/^$/d'
  done
} | tee "$out"
echo "profile: written to $out" >&2
