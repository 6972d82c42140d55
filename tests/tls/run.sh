#!/usr/bin/env bash
# TLS tests against a TLS server nobody here wrote: Debian's nginx terminates TLS on
# loopback in front of the (plain-HTTP) mock server, and tests/tls/test_tls.c drives the
# library's public C API through it (see tests/tls/README.md).
#
#   tests/tls/run.sh            (after: make build)
#
# Everything it makes lives in one temporary directory, removed at the end: a test PKI
# (made here with the openssl CLI), nginx.conf, the logs, the compiled test. Ports are
# picked at run time, so runs may overlap. nginx and the mock are started by this script
# and stopped by PID whatever happens. Installs nginx (and openssl) with apt-get when run
# as root, else prints the command to run. Ends with "TLS tests: N passed, M failed".
# Environment: CC (default cc); KEEP_TMP=1 keeps the temporary directory for a look.
set -uo pipefail
umask 077

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

CC="${CC:-cc}"
LIBDIR="$ROOT/target/debug"
MOCK="$LIBDIR/alfaview-mock"

TMP=""
MOCK_PID=""
NGINX_PID=""
NGINX_CHILDREN=""
POLICY_RC_D="" # set while a temporary /usr/sbin/policy-rc.d of ours exists

# Stops a process we started: SIGTERM, up to 5 s, then SIGKILL.
stop_pid() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_nginx() {
  if [ -n "$NGINX_PID" ]; then
    # Its workers, by parent PID, in case the master has to be killed hard.
    NGINX_CHILDREN="$(ps -o pid= --ppid "$NGINX_PID" 2>/dev/null | tr -s ' \n' ' ')"
    stop_pid "$NGINX_PID"
    local child
    for child in $NGINX_CHILDREN; do
      kill -KILL "$child" 2>/dev/null || true
    done
    NGINX_PID=""
  fi
}

cleanup() {
  stop_nginx
  stop_pid "$MOCK_PID"
  MOCK_PID=""
  if [ -n "$POLICY_RC_D" ]; then rm -f /usr/sbin/policy-rc.d; fi
  if [ -n "$TMP" ]; then
    if [ "${KEEP_TMP:-0}" = 1 ]; then echo "tls: kept $TMP"; else rm -rf "$TMP"; fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# A problem before the checks could run: counts as one failed check.
setup_fail() {
  echo "tls: $*" >&2
  echo "TLS tests: 0 passed, 1 failed"
  exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# ---- what it needs ---------------------------------------------------------------------
for f in "$LIBDIR/libalfaview_auth.so" "$MOCK"; do
  [ -f "$f" ] || setup_fail "$f is missing; build it with: make build"
done

find_nginx() {
  if have nginx; then command -v nginx; elif [ -x /usr/sbin/nginx ]; then echo /usr/sbin/nginx; fi
}

# nginx-light where the release still has it (Debian 12), else nginx (Debian 13 dropped
# -light). Asked after `apt-get update` when installing.
nginx_package() {
  local candidate
  candidate="$(apt-cache policy nginx-light 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')"
  if [ -n "$candidate" ] && [ "$candidate" != "(none)" ]; then echo nginx-light; else echo nginx; fi
}

NGINX="$(find_nginx)"
need_nginx=0
need=()
[ -n "$NGINX" ] || need_nginx=1
have openssl || need+=(openssl)
if [ "$need_nginx" = 1 ] || [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && have apt-get; then
    export DEBIAN_FRONTEND=noninteractive
    APT=(apt-get -o DPkg::Lock::Timeout=300)
    echo "tls: apt-get update"
    "${APT[@]}" update -qq >/dev/null || setup_fail "apt-get update failed"
    [ "$need_nginx" = 0 ] || need+=("$(nginx_package)")
    # The package would start its own nginx on port 80 (and fail to configure if that
    # port is taken): keep services from starting during the install, as Docker images
    # do, unless a policy is there already.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      POLICY_RC_D=1
      printf '#!/bin/sh\n# temporary, from alfaview-auth tests/tls/run.sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
    fi
    echo "tls: installing ${need[*]}"
    "${APT[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    rc=$?
    if [ -n "$POLICY_RC_D" ]; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_D=""; fi
    [ "$rc" = 0 ] || setup_fail "apt-get install ${need[*]} failed"
    NGINX="$(find_nginx)"
    [ -n "$NGINX" ] || setup_fail "nginx is still not found after installing ${need[*]}"
  else
    [ "$need_nginx" = 0 ] || need+=("$(nginx_package)")
    echo "tls: missing ${need[*]}; install with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
    setup_fail "missing packages: ${need[*]}"
  fi
fi
NGINX_V="$("$NGINX" -V 2>&1)"
grep -q -- '--with-http_ssl_module' <<<"$NGINX_V" ||
  setup_fail "$NGINX has no TLS (built without http_ssl_module)"
echo "tls: $(head -n 1 <<<"$NGINX_V" | sed 's/^nginx version: //'), $(openssl version)"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/av-tls.XXXXXX")" || setup_fail "mktemp failed"

# ---- the test PKI ------------------------------------------------------------------------
# A CA; leaves for localhost/127.0.0.1, for wrong.example, and an expired one for
# localhost; all EC P-256, all signed by the CA. None of it outlives the run.
PKI="$TMP/pki"
mkdir -p "$PKI/newcerts"
cat >"$PKI/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
CN = unused

[ v3_ca ]
basicConstraints     = critical, CA:TRUE
keyUsage             = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ leaf_localhost ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ leaf_wrong ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:wrong.example
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

# For `openssl ca`, used only for the expired certificate when `openssl x509` cannot
# set validity dates itself (before OpenSSL 3.4).
[ ca ]
default_ca = test_ca
[ test_ca ]
dir             = .
database        = index.txt
new_certs_dir   = newcerts
serial          = serial
default_md      = sha256
policy          = policy_any
unique_subject  = no
copy_extensions = none
[ policy_any ]
commonName = supplied
EOF

pki() { # runs openssl in $PKI, keeping its chatter for when something fails
  (cd "$PKI" && openssl "$@") >>"$PKI/openssl.log" 2>&1 ||
    { cat "$PKI/openssl.log" >&2; setup_fail "openssl $1 failed"; }
}
serial() { echo "0x$(openssl rand -hex 8)"; }
EC=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)

pki req -x509 -config openssl.cnf -extensions v3_ca "${EC[@]}" -keyout ca.key -out ca.pem \
  -days 7 -set_serial "$(serial)" -subj "/CN=alfaview-auth TLS test CA $$"
for leaf in localhost wrong expired; do
  cn=localhost
  [ "$leaf" = wrong ] && cn=wrong.example
  pki req -new -config openssl.cnf "${EC[@]}" -keyout "$leaf.key" -out "$leaf.csr" -subj "/CN=$cn"
done
pki x509 -req -in localhost.csr -CA ca.pem -CAkey ca.key -set_serial "$(serial)" -days 7 \
  -extfile openssl.cnf -extensions leaf_localhost -out localhost.pem
pki x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key -set_serial "$(serial)" -days 7 \
  -extfile openssl.cnf -extensions leaf_wrong -out wrong.pem
# Expired: valid from three days ago until yesterday.
not_before="$(date -u -d '3 days ago' +%Y%m%d%H%M%SZ)"
not_after="$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)"
if openssl x509 -help 2>&1 | grep -q -- '-not_before'; then
  EXPIRED_HOW="openssl x509 -req -not_before/-not_after"
  pki x509 -req -in expired.csr -CA ca.pem -CAkey ca.key -set_serial "$(serial)" \
    -not_before "$not_before" -not_after "$not_after" \
    -extfile openssl.cnf -extensions leaf_localhost -out expired.pem
else
  EXPIRED_HOW="openssl ca -startdate/-enddate"
  : >"$PKI/index.txt"
  openssl rand -hex 8 >"$PKI/serial"
  pki ca -batch -config openssl.cnf -name test_ca -cert ca.pem -keyfile ca.key -notext \
    -startdate "$not_before" -enddate "$not_after" \
    -extfile openssl.cnf -extensions leaf_localhost -in expired.csr -out expired.pem
fi
# The inputs must be what the checks assume, or a pass would mean nothing.
for leaf in localhost wrong; do
  openssl verify -CAfile "$PKI/ca.pem" "$PKI/$leaf.pem" >/dev/null 2>&1 ||
    setup_fail "the generated $leaf.pem does not verify against the test CA"
done
verdict="$(openssl verify -CAfile "$PKI/ca.pem" "$PKI/expired.pem" 2>&1)"
grep -q 'certificate has expired' <<<"$verdict" ||
  setup_fail "the generated expired.pem is not (only) expired: $verdict"
echo "tls: test PKI made (expired certificate via $EXPIRED_HOW, $(openssl x509 -in "$PKI/expired.pem" -noout -enddate))"

# ---- the mock server ---------------------------------------------------------------------
# shellcheck source=scripts/mock.sh
. scripts/mock.sh
mkdir "$TMP/mock"
mock_start "$TMP/mock" "$MOCK" || setup_fail "the mock server did not start (above)"

# ---- nginx -------------------------------------------------------------------------------
port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Three distinct ports that nobody listens on now, below the kernel's ephemeral range (so
# they do not collide with port-0 binds and outgoing connections). Someone may still
# take one before nginx binds it: then nginx fails with EADDRINUSE and we pick again.
pick_ports() {
  local picked=() p
  while [ ${#picked[@]} -lt 3 ]; do
    p=$((20000 + RANDOM % 12000))
    [[ " ${picked[*]} " == *" $p "* ]] && continue
    port_answers "$p" && continue
    picked+=("$p")
  done
  echo "${picked[@]}"
}

# Temp paths only for the modules this nginx has (an unknown directive is an error).
temp_paths() {
  local m
  echo "    client_body_temp_path \"$TMP/nginx/body\";"
  echo "    proxy_temp_path \"$TMP/nginx/proxy\";"
  for m in fastcgi uwsgi scgi; do
    grep -q -- "--without-http_${m}_module" <<<"$NGINX_V" ||
      echo "    ${m}_temp_path \"$TMP/nginx/$m\";"
  done
}

server_block() { # port cert-name
  cat <<EOF
    server {
        listen 127.0.0.1:$1 ssl;
        server_name localhost;
        ssl_certificate     "$PKI/$2.pem";
        ssl_certificate_key "$PKI/$2.key";
        location / {
            proxy_pass http://127.0.0.1:$MOCK_PORT;
        }
    }
EOF
}

write_nginx_conf() { # good-port wrong-port expired-port
  local user_line="# not root: nginx runs as this user"
  if [ "$(id -u)" = 0 ]; then
    # Workers drop to an unprivileged user; they need nothing from $TMP but their temp
    # directories (created by the master, owned by that user), so $TMP becomes traversable.
    local group=nogroup
    getent group nogroup >/dev/null 2>&1 || group=nobody
    user_line="user nobody $group;"
    chmod 0711 "$TMP"
  fi
  cat >"$TMP/nginx.conf" <<EOF
# Generated by tests/tls/run.sh for one run; no includes from /etc/nginx.
daemon off;
$user_line
worker_processes 1;
pid "$TMP/nginx.pid";
error_log "$TMP/nginx-error.log" info;

events {
    worker_connections 64;
}

http {
    log_format tls '\$server_port \$connection \$connection_requests \$status "\$request" \$ssl_protocol';
    access_log "$TMP/nginx-access.log" tls;
$(temp_paths)

    # Keep-alive to the client; HTTP/1.1 to the mock.
    keepalive_timeout 60s;
    keepalive_requests 1000;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    ssl_protocols TLSv1.2 TLSv1.3;

    # good: localhost + 127.0.0.1, signed by the test CA
$(server_block "$1" localhost)
    # wrong host name: wrong.example, signed by the test CA
$(server_block "$2" wrong)
    # expired: localhost + 127.0.0.1, signed by the test CA
$(server_block "$3" expired)
}
EOF
}

start_nginx() { # returns 0 when up, 1 on a port clash (try again), exits otherwise
  rm -f "$TMP/nginx.pid" "$TMP/nginx-error.log" "$TMP/nginx-startup.log"
  mkdir -p -m 0711 "$TMP/nginx" # workers (nobody, when root) reach their temp dirs in it
  write_nginx_conf "$GOOD_PORT" "$WRONG_PORT" "$EXPIRED_PORT"
  "$NGINX" -p "$TMP/nginx/" -e "$TMP/nginx-startup.log" -c "$TMP/nginx.conf" \
    >"$TMP/nginx.out" 2>&1 &
  NGINX_PID=$!
  # The pid file is written after every listening socket is bound.
  for _ in $(seq 1 100); do # at most 10 s
    if [ -s "$TMP/nginx.pid" ] && [ "$(tr -d '[:space:]' <"$TMP/nginx.pid")" = "$NGINX_PID" ]; then
      break
    fi
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.1
  done
  if ! kill -0 "$NGINX_PID" 2>/dev/null; then
    wait "$NGINX_PID" 2>/dev/null
    NGINX_PID=""
    if cat "$TMP"/nginx-*.log "$TMP/nginx.out" 2>/dev/null | grep -q 'Address already in use'; then
      return 1
    fi
    cat "$TMP"/nginx-*.log "$TMP/nginx.out" >&2 2>/dev/null
    setup_fail "nginx did not start (config: $TMP/nginx.conf)"
  fi
  local p
  for p in "$GOOD_PORT" "$WRONG_PORT" "$EXPIRED_PORT"; do
    for _ in $(seq 1 50); do
      port_answers "$p" && break
      sleep 0.1
    done
    port_answers "$p" || setup_fail "nginx runs but port $p does not answer"
  done
  return 0
}

started=0
for _ in 1 2 3 4 5; do
  read -r GOOD_PORT WRONG_PORT EXPIRED_PORT <<<"$(pick_ports)"
  if start_nginx; then started=1; break; fi
  echo "tls: a port was taken under us; picking others"
done
[ "$started" = 1 ] || setup_fail "nginx could not bind free ports in 5 tries"
echo "tls: mock http://127.0.0.1:$MOCK_PORT (pid $MOCK_PID); nginx (pid $NGINX_PID) on" \
  "$GOOD_PORT (good), $WRONG_PORT (wrong.example), $EXPIRED_PORT (expired)"

# ---- the checks --------------------------------------------------------------------------
# shellcheck disable=SC2086 # CC may carry words, e.g. CC="ccache cc"
$CC -std=c11 -Wall -Wextra -Werror -g -Iinclude tests/tls/test_tls.c -o "$TMP/test_tls" \
  -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lalfaview_auth ||
  setup_fail "tests/tls/test_tls.c does not compile"

# Nothing from the caller's environment may steer the client (the test sets its own).
# SSL_CERT_FILE/SSL_CERT_DIR would change which roots count as the system's.
unset ALFAVIEW_API_URL ALFAVIEW_CA_FILE ALFAVIEW_TIMEOUT_MS SSL_CERT_FILE SSL_CERT_DIR
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY

timeout -k 5 60 "$TMP/test_tls" "$MOCK_PORT" "$GOOD_PORT" "$WRONG_PORT" "$EXPIRED_PORT" \
  "$PKI/ca.pem" "$TMP/nginx-access.log" "$TMP/nginx-error.log" >"$TMP/test_tls.log" 2>&1
rc=$?
# Its own closing line is replaced by ours, which also counts a crash or a bad exit.
grep -vE '^TLS tests: ' "$TMP/test_tls.log"
line="$(grep -E '^TLS tests: [0-9]+ passed, [0-9]+ failed$' "$TMP/test_tls.log" | tail -n 1)"
if [ -z "$line" ]; then
  [ "$rc" = 124 ] && echo "tls: test_tls timed out"
  echo "tls: test_tls exited with $rc before reporting its results"
  echo "TLS tests: 0 passed, 1 failed"
  exit 1
fi
passed="$(sed -E 's/^TLS tests: ([0-9]+) passed.*/\1/' <<<"$line")"
failed="$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")"
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
  echo "tls: test_tls exited with $rc although no check failed"
  failed=1
fi
echo "TLS tests: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$rc" = 0 ]
