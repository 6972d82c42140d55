#!/usr/bin/env bash
# make bench: the library against the loopback limit and against hand-written peers, in
# ONE run, as ratios (see BENCHMARKS.md for what each number means).
#
#   bench/run.sh                 (make bench)
#
# 1. release build of the library and the mock; the C benchmarks; a Python venv with
#    requests (build/bench/venv);
# 2. servers on loopback: the mock over HTTP and HTTPS (test certificate), and nginx
#    answering the mock's refresh reply as a fixed string (same certificate);
# 3. wrk -c1 against both decides the server (the mock if its median is within
#    MOCK_MAX_SLOWDOWN of nginx's everywhere, else nginx);
# 4. per protocol (HTTP, HTTPS) and placement (client and server pinned to CPU 0; left to
#    the scheduler), in interleaved rounds: the limit (wrk); libcurl, av_client_refresh and
#    av_refresh side by side in one process (bench/refresh_mix.c); requests.Session and
#    the Python binding side by side in one process; the curl command;
# 5. cold start over HTTPS (hyperfine), the session's cached path, RSS over 100 000
#    refreshes, the library's size and run-time dependencies;
# 6. one table with PASS/MISS per target, printed and written to bench/results/<UTC>.txt.
#
# Environment: BENCH_ROUNDS (rounds per row, interleaved, default 5), BENCH_SECONDS
# (recorded seconds per row and round, default 0.6; wrk rounds it up to whole seconds),
# BENCH_WARMUP (unrecorded seconds before each round, default 0.2), BENCH_SERVER_ROUNDS
# (rounds of the mock-vs-nginx check, default 3), BENCH_COLD_RUNS
# (process launches per cold-start row, default 40), BENCH_RSS_REFRESHES (default
# 100000), BENCH_SKIP_BUILD=1 (use target/release as it is), CC. Installs what is missing
# when run as root (apt-get; pip into build/bench/venv), else prints the command and stops.
# Some variables are set and read by name (printf -v, ${!name}):
# shellcheck disable=SC2034,SC2154
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

export BENCH_SECONDS="${BENCH_SECONDS:-0.6}"
ROUNDS="${BENCH_ROUNDS:-5}"
SERVER_ROUNDS="${BENCH_SERVER_ROUNDS:-3}"
export BENCH_WARMUP="${BENCH_WARMUP:-0.2}"
export BENCH_RSS_REFRESHES="${BENCH_RSS_REFRESHES:-100000}"
COLD_RUNS="${BENCH_COLD_RUNS:-40}"
CC="${CC:-cc}"
DATA="$ROOT/mock-server/tests/data"
LIB="$ROOT/target/release/libalfaview_auth.so"
MOCK="$ROOT/target/release/alfaview-mock"
BIN="$ROOT/build/bench"
VENV="$BIN/venv"
COMPANY="c-100"

have() { command -v "$1" >/dev/null 2>&1; }
die() { echo "bench: $*" >&2; exit 1; }

# ---- what it needs -------------------------------------------------------------------
find_nginx() { if have nginx; then command -v nginx; elif [ -x /usr/sbin/nginx ]; then echo /usr/sbin/nginx; fi; }
missing=()
have wrk || missing+=(wrk)
have curl || missing+=(curl)
have hyperfine || missing+=(hyperfine)
have taskset || missing+=(util-linux)
[ -n "$(find_nginx)" ] || missing+=(nginx)
echo '#include <curl/curl.h>' | "$CC" -E - >/dev/null 2>&1 || missing+=(libcurl4-openssl-dev)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && have apt-get; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
    # nginx-light where the release still has it (Debian 12), else nginx.
    for i in "${!missing[@]}"; do
      if [ "${missing[$i]}" = nginx ]; then
        c="$(apt-cache policy nginx-light 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')"
        [ -n "$c" ] && [ "$c" != "(none)" ] && missing[i]=nginx-light
      fi
    done
    echo "bench: installing ${missing[*]}"
    # Keep the nginx package from starting its own server on port 80 during the install.
    policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      policy=1
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    fi
    rc=0
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" \
      >/dev/null || rc=$?
    [ -z "$policy" ] || rm -f /usr/sbin/policy-rc.d
    [ "$rc" = 0 ] || die "apt-get install ${missing[*]} failed"
  else
    echo "bench: missing ${missing[*]}; install with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi
NGINX="$(find_nginx)"
"$NGINX" -V 2>&1 | grep -q -- '--with-http_ssl_module' || die "$NGINX was built without TLS"

if [ "${BENCH_SKIP_BUILD:-0}" = 1 ] && [ -f "$LIB" ] && [ -x "$MOCK" ]; then
  echo "bench: BENCH_SKIP_BUILD=1: using the release build as it is"
else
  echo "bench: building (release)"
  scripts/build-lib.sh -q --release
  cargo build -q --release -p alfaview-mock
fi
mkdir -p "$BIN" bench/results
CFLAGS=(-O2 -std=c11 -Wall -Wextra -Werror)
"$CC" "${CFLAGS[@]}" -Iinclude bench/session_cached.c -o "$BIN/session_cached" \
  -Ltarget/release -lalfaview_auth -Wl,-rpath,"$ROOT/target/release" -lpthread
"$CC" "${CFLAGS[@]}" -Iinclude bench/refresh_lib.c -o "$BIN/refresh_lib" \
  -Ltarget/release -lalfaview_auth -Wl,-rpath,"$ROOT/target/release"
"$CC" "${CFLAGS[@]}" bench/refresh_curl.c -o "$BIN/refresh_curl" -lcurl
"$CC" "${CFLAGS[@]}" -Iinclude bench/refresh_mix.c -o "$BIN/refresh_mix" \
  -Ltarget/release -lalfaview_auth -Wl,-rpath,"$ROOT/target/release" -lcurl
# The library's SONAME (libalfaview_auth.so.N) must be found next to it: build.rs makes
# that link on the build that creates it; make it again if it is gone.
soname="$(objdump -p "$LIB" 2>/dev/null | awk '$1 == "SONAME" { print $2 }')"
if [ -n "$soname" ] && [ "$soname" != "${LIB##*/}" ] && [ ! -e "${LIB%/*}/$soname" ]; then
  ln -sf "${LIB##*/}" "${LIB%/*}/$soname"
fi
if ldd "$BIN/refresh_lib" | grep -q 'not found'; then
  die "build/bench/refresh_lib cannot find its libraries: $(ldd "$BIN/refresh_lib" | grep 'not found')"
fi

if ! "$VENV/bin/python" -c 'import requests' 2>/dev/null; then
  echo "bench: creating $VENV with requests"
  # Debian's python3 (the interpreter both Python rows run on).
  PY=python3
  [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
  "$PY" -m venv "$VENV" || die "cannot create a venv; install python3-venv"
  "$VENV/bin/pip" install -q requests ||
    die "pip install requests failed; run: $VENV/bin/pip install requests"
fi
PYTHON="$VENV/bin/python"

# ---- servers ---------------------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/av-bench.XXXXXX")"
PIDS=()
NGINX_PID=""
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$NGINX_PID" ]; then
    kill -QUIT "$NGINX_PID" 2>/dev/null || true # graceful: master stops its workers
    for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NGINX_PID" 2>/dev/null || true
  fi
  for p in "${PIDS[@]}" $NGINX_PID; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# shellcheck source=scripts/mock.sh
. scripts/mock.sh
start_mock() { # name [tls args...]; sets MOCK_PID_<name>, PORT_<name>
  local name="$1"
  shift
  mkdir -p "$TMP/mock-$name"
  mock_start "$TMP/mock-$name" "$MOCK" "$@" || die "the mock ($name) did not start"
  PIDS+=("$MOCK_PID")
  printf -v "MOCK_PID_$name" %s "$MOCK_PID"
  printf -v "PORT_$name" %s "$MOCK_PORT"
}
start_mock http
start_mock https --tls-cert "$DATA/cert.pem" --tls-key "$DATA/key.pem"
MOCK_HTTP="http://127.0.0.1:$PORT_http/json/v1/"
MOCK_HTTPS="https://127.0.0.1:$PORT_https/json/v1/"
PATH_AUTH="authenticationService/authenticate"

# Trust for the peers: the system's roots plus the test CA (what the library trusts with
# av_client_builder_set_ca_file), so a cold start loads the same set of roots.
BUNDLE="$TMP/bundle.pem"
cat /etc/ssl/certs/ca-certificates.crt "$DATA/ca.pem" >"$BUNDLE" 2>/dev/null ||
  cp "$DATA/ca.pem" "$BUNDLE"

mint() { # base-of-mock -> a refresh token for c-100
  curl -sf --cacert "$DATA/ca.pem" -X POST "${1%/json/v1/}/_mock/mint" \
    -d "{\"companyId\": \"$COMPANY\"}" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["refreshToken"])'
}
TOKEN_MOCK_http="$(mint "$MOCK_HTTP")"
TOKEN_MOCK_https="$(mint "$MOCK_HTTPS")"

# nginx answers the mock's own refresh reply, byte for byte, as a fixed string.
REPLY="$(curl -sf -X POST "$MOCK_HTTP$PATH_AUTH" -H "Cookie: auth=$TOKEN_MOCK_http" \
  -H 'Content-Type: application/json' \
  -d "{\"requestId\": \"r-bench\", \"refreshTokenCredentials\": {\"companyId\": \"$COMPANY\"}}")"
case "$REPLY" in *accessToken*expiresAt*) ;; *) die "unexpected refresh reply: $REPLY" ;; esac
[[ "$REPLY" != *["'\\\$"]* ]] || die "the reply cannot be quoted for nginx"

free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
NGINX_V="$("$NGINX" -V 2>&1)"
start_nginx() {
  PORT_nginx_http="$(free_port)"
  PORT_nginx_https="$(free_port)"
  mkdir -p "$TMP/nginx"
  local user_line="" m temp="    client_body_temp_path \"$TMP/nginx/body\";"$'\n'"    proxy_temp_path \"$TMP/nginx/proxy\";"
  for m in fastcgi uwsgi scgi; do
    grep -q -- "--without-http_${m}_module" <<<"$NGINX_V" || temp+=$'\n'"    ${m}_temp_path \"$TMP/nginx/$m\";"
  done
  if [ "$(id -u)" = 0 ]; then
    user_line="user nobody $(getent group nogroup >/dev/null 2>&1 && echo nogroup || echo nobody);"
    chmod 0711 "$TMP" "$TMP/nginx"
  fi
  cat >"$TMP/nginx.conf" <<EOF
# Generated by bench/run.sh for one run.
daemon off;
$user_line
worker_processes 1;
pid "$TMP/nginx.pid";
error_log "$TMP/nginx-error.log" warn;
events { worker_connections 64; }
http {
    access_log off;
$temp
    keepalive_timeout 300s;
    keepalive_requests 100000000;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {
        listen 127.0.0.1:$PORT_nginx_http;
        listen 127.0.0.1:$PORT_nginx_https ssl;
        server_name localhost;
        ssl_certificate     "$DATA/cert.pem";
        ssl_certificate_key "$DATA/key.pem";
        location = /json/v1/$PATH_AUTH {
            default_type application/json;
            return 200 '$REPLY';
        }
    }
}
EOF
  "$NGINX" -p "$TMP/nginx/" -e "$TMP/nginx-startup.log" -c "$TMP/nginx.conf" &
  NGINX_PID=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null -X POST "http://127.0.0.1:$PORT_nginx_http/json/v1/$PATH_AUTH" &&
      curl -sf -o /dev/null --cacert "$DATA/ca.pem" -X POST "https://127.0.0.1:$PORT_nginx_https/json/v1/$PATH_AUTH" &&
      return 0
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.05
  done
  return 1
}
if ! start_nginx; then # a port taken in between: once more
  wait "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=""
  start_nginx || die "nginx did not start: $(cat "$TMP/nginx-startup.log" "$TMP/nginx-error.log" 2>/dev/null)"
fi
NGINX_HTTP="http://127.0.0.1:$PORT_nginx_http/json/v1/"
NGINX_HTTPS="https://127.0.0.1:$PORT_nginx_https/json/v1/"

# Every task (thread) of a server process, and nginx's workers, on these CPUs.
pin_pid() { taskset -a -p -c "$2" "$1" >/dev/null; }
pin_servers() { # cpu-list
  local p
  for p in "$MOCK_PID_http" "$MOCK_PID_https" "$NGINX_PID" $(ps -o pid= --ppid "$NGINX_PID"); do
    pin_pid "$p" "$1"
  done
}
ALL_CPUS="0-$(($(nproc) - 1))"
client_cpus() { [ "$1" = pinned ] && echo 0 || echo "$ALL_CPUS"; }

RAW="$TMP/raw.txt"
: >"$RAW"
export BENCH_SAMPLES_DIR="$TMP/samples"
mkdir -p "$BENCH_SAMPLES_DIR"
info() { echo "INFO $*" >>"$RAW"; }
info machine "$(nproc) CPUs, $(uname -m), $(awk -F': ' '/^MemTotal/ { print $2; exit }' /proc/meminfo) memory"
info cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
info kernel "$(uname -sr)"
info load "at the start: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min), $(nproc) CPUs"
info note "$(date -u +%Y-%m-%dT%H:%M:%SZ), $ROUNDS rounds of $BENCH_SECONDS s per row, each after $BENCH_WARMUP s warm-up; \
$("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $(curl --version | head -n 1 | cut -d' ' -f1-5), \
wrk $(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }'), Python $("$PYTHON" -c 'import platform, requests; print(platform.python_version(), "requests", requests.__version__)')"

# Runs one benchmark, keeping its RESULT/RSS lines; shows progress on stderr.
run() { # label-for-progress command...
  local what="$1"
  shift
  printf 'bench: %-40s' "$what" >&2
  local out
  if ! out="$("$@" 2>"$TMP/err")"; then
    echo " FAILED" >&2
    cat "$TMP/err" >&2
    return 1
  fi
  grep -E '^(RESULT|RSS|cached_path) ' <<<"$out" | tee -a "$RAW" | awk '
    { n = split($2, part, "/"); name = $1 == "RESULT" ? part[n] : ""
      for (i = 3; i <= NF; i++) if ($i ~ /^(median_us|ns_per_call|rss_after_kib)=/) { sub(/^[a-z_]*=/, "", $i); printf " %s%s%s", name, name == "" ? "" : "=", $i } }
    END { print "" }' >&2
}
WRK_SECONDS="$(awk -v s="$BENCH_SECONDS" 'BEGIN { n = int(s); if (n < s) n++; if (n < 1) n = 1; print n }')"
wrk_row() { # label cpus url token (wrk takes whole seconds only)
  AV_BENCH_LABEL="$1" AV_BENCH_TOKEN="$4" taskset -c "$2" \
    wrk -t1 -c1 -d"${WRK_SECONDS}s" -s bench/refresh.lua "$3$PATH_AUTH"
}

# ---- which server ----------------------------------------------------------------------
for placement in pinned unpinned; do
  cpus="$(client_cpus $placement)"
  pin_servers "$cpus"
  for round in $(seq "$SERVER_ROUNDS"); do
    for proto in http https; do
      mock_base="MOCK_${proto^^}" nginx_base="NGINX_${proto^^}" tok="TOKEN_MOCK_$proto"
      l="server/$proto/$placement"
      run "$l/mock ($round/$SERVER_ROUNDS)" wrk_row "$l/mock" "$cpus" "${!mock_base}" "${!tok}"
      run "$l/nginx ($round/$SERVER_ROUNDS)" wrk_row "$l/nginx" "$cpus" "${!nginx_base}" "${!tok}"
    done
  done
done
SERVER="$("$PYTHON" bench/report.py choose "$RAW" 2>"$TMP/choice")"
cat "$TMP/choice" >&2
info server "$SERVER for every row below ($(sed 's/^choose: //' "$TMP/choice"))"
if [ "$SERVER" = mock ]; then
  BASE_http="$MOCK_HTTP" BASE_https="$MOCK_HTTPS"
else
  BASE_http="$NGINX_HTTP" BASE_https="$NGINX_HTTPS"
fi
TOKEN_http="$TOKEN_MOCK_http" TOKEN_https="$TOKEN_MOCK_https"

# ---- the refresh rows ------------------------------------------------------------------
# Rounds interleave the rows (and the protocols), so that a burst of load from elsewhere
# on the machine hits every row alike; report.py pools each row's rounds.
export PYTHONPATH="$ROOT/bindings/python" ALFAVIEW_AUTH_LIBRARY="$LIB"
for placement in pinned unpinned; do
  cpus="$(client_cpus $placement)"
  pin_servers "$cpus"
  for round in $(seq "$ROUNDS"); do
    for proto in http https; do
      b="BASE_$proto" t="TOKEN_$proto"
      base="${!b}" token="${!t}" l="$proto/$placement" r="($round/$ROUNDS)"
      ca=() bundle=()
      [ "$proto" = https ] && ca=("$DATA/ca.pem") bundle=("$BUNDLE")
      run "$l/limit $r" wrk_row "$l/limit" "$cpus" "$base" "$token"
      # libcurl, av_client_refresh and av_refresh side by side in one process, taking
      # turns every few milliseconds (bench.h: bench_mixed); likewise requests and the
      # binding in one Python process.
      run "$l/C $r" taskset -c "$cpus" "$BIN/refresh_mix" "$l" "$base" "$token" "${ca[@]}" "${bundle[@]}"
      run "$l/Python $r" taskset -c "$cpus" "$PYTHON" bench/refresh_py.py mix "$l" "$base" "$token" "${ca[@]}" "${bundle[@]}"
      run "$l/curl_cli $r" taskset -c "$cpus" "$BIN/refresh_curl" cli "$l/curl_cli" "$base$PATH_AUTH" "$token" "${bundle[@]}"
    done
  done
done

# ---- cold start over HTTPS -------------------------------------------------------------
for placement in pinned unpinned; do
  cpus="$(client_cpus $placement)"
  pin_servers "$cpus"
  printf 'bench: %-40s' "https/$placement/cold (${COLD_RUNS} runs each)" >&2
  taskset -c "$cpus" hyperfine -N --style none --warmup 3 --runs "$COLD_RUNS" \
    --export-json "$TMP/cold.json" \
    "$BIN/refresh_lib cold x $BASE_https $TOKEN_https $DATA/ca.pem" \
    "$BIN/refresh_curl cold x $BASE_https$PATH_AUTH $TOKEN_https $BUNDLE" \
    "$BIN/refresh_curl cold x $BASE_https$PATH_AUTH $TOKEN_https $DATA/ca.pem" >/dev/null ||
    die "a cold-start run failed"
  "$PYTHON" bench/report.py hyperfine "$TMP/cold.json" "https/$placement/cold_lib" \
    "https/$placement/cold_libcurl" "https/$placement/cold_libcurl_ca" |
    tee -a "$RAW" | awk '{ printf " %s", $4 } END { print "" }' >&2
done

# ---- the session's cached path, memory, the library file --------------------------------
pin_servers "$ALL_CPUS"
run "session cached path" taskset -c "$ALL_CPUS" "$BIN/session_cached" "$MOCK_HTTP" 1000000 5
run "rss/https/lib" "$BIN/refresh_lib" rss "https/unpinned/lib" "$BASE_https" "$TOKEN_https" "$DATA/ca.pem"
run "rss/https/libcurl" "$BIN/refresh_curl" rss "https/unpinned/libcurl" "$BASE_https$PATH_AUTH" "$TOKEN_https" "$BUNDLE"

info load "at the end: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min), $(nproc) CPUs"
info lib_size "$(stat -c %s "$LIB")"
info lib_file "$(file -b "$LIB")"
ldd "$LIB" | sed 's/ (0x[0-9a-f]*)$//; s/^[[:space:]]*//' | while read -r dep; do info lib_dep "$dep"; done

out="bench/results/$(date -u +%Y%m%dT%H%M%SZ).txt"
{
  echo "# alfaview-auth make bench"
  "$PYTHON" bench/report.py table "$RAW" "$BENCH_SAMPLES_DIR"
  echo
  echo "# raw lines"
  cat "$RAW"
} >"$out"
echo
sed '/^# raw lines$/,$d' "$out"
echo "bench: written to $out"
