#!/usr/bin/env bash
# The production front, for real: Debian's nginx runs examples/deploy/nginx.conf (only the
# ports, certificate, paths and host name replaced) with a self-signed certificate, in front
# of a real callswap-server on loopback. A session round trip over TLS, the access log's
# privacy, X-Forwarded-For, and 256 slow plus 1,000 idle TLS clients (slow_clients.mjs).
# Everything runs in a temp dir and is stopped on any exit.
#   nginx_test.sh path/to/callswap-server
set -u
bin=${1:?usage: nginx_test.sh path/to/callswap-server}
root=$(cd "$(dirname "$0")/../.." && pwd)
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "FAIL: nginx is not installed (scripts/install-deps installs it)"; exit 1; }
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -f "$work/tmp/nginx.pid" ] && kill "$(cat "$work/tmp/nginx.pid")" 2>/dev/null
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  # Every log line of the suite goes to one place the privacy scan reads (tests/privacy).
  [ -n "${CALLSWAP_TEST_LOG_DIR:-}" ] && cat "$work/server.log" "$work"/log/*.log >>"$CALLSWAP_TEST_LOG_DIR/nginx.log" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
. "$root/tests/lib/check.sh"
free_port() {  # a port in the ephemeral range nothing listens on now (nginx cannot take port 0)
  local port
  for _ in $(seq 50); do
    port=$((32768 + RANDOM % 28000))
    [ -z "$(ss -Htln "sport = :$port")" ] && { echo "$port"; return 0; }
  done
  return 1
}

# The server: one site whose browsers come from https://acme.example, nginx trusted as proxy.
cat >"$work/callswap.json" <<'JSON'
{
  "sites": [{
    "config": {"site": "acme", "country": "DE", "targets": ["+49301234567"], "pools": ["ads"],
               "sources": [{"id": "google-ads", "static": "+49301111111", "pool": "ads", "match": {"click_ids": ["gclid"]}},
                           {"id": "direct", "static": "+49301234567", "default": true}]},
    "allowed_origins": ["https://acme.example"],
    "pools": {"ads": {"numbers": ["+49309000001", "+49309000002", "+49309000003", "+49309000004"], "cooldown_minutes": 0}}
  }],
  "limits": {"trust_proxy": ["127.0.0.1"], "rate_per_minute": 10, "rate_burst": 10}
}
JSON
"$bin" --config "$work/callswap.json" --db "$work/callswap.db" --listen 127.0.0.1:0 2>"$work/server.log" &
server_pid=$!
upstream=""
for _ in $(seq 100); do
  upstream=$(grep -o '"port":[0-9]*' "$work/server.log" | cut -d: -f2)
  [ -n "$upstream" ] && curl -sf "http://127.0.0.1:$upstream/healthz" >/dev/null && break
  sleep 0.05
done
[ -n "$upstream" ] || { echo "FAIL: callswap-server did not start"; cat "$work/server.log"; exit 1; }

# A self-signed certificate for track.test (ECDSA: cheap handshakes for 1,256 clients).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=track.test \
  -addext subjectAltName=DNS:track.test -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null ||
  { echo "FAIL: openssl could not make a certificate"; exit 1; }

# The shipped site file with this run's ports, certificate, paths and host name. Every
# replacement must hit, so a change of the example's shape fails here instead of testing less.
mkdir -p "$work/log" "$work/tmp"
template() {  # HTTPS_PORT HTTP_PORT → the site file on stdout
  local file=$root/examples/deploy/nginx.conf
  for pattern in 'listen 443 ssl http2;' 'listen \[::\]:443 ssl http2;' 'listen 80;' 'listen \[::\]:80;' 'server 127.0.0.1:8080;' \
    '/etc/letsencrypt/live/track.example.com/fullchain.pem' '/etc/letsencrypt/live/track.example.com/privkey.pem' \
    '/var/log/nginx/callswap.access.log' '/var/log/nginx/callswap.error.log' 'server_name track.example.com;'; do
    grep -q -- "$pattern" "$file" || { echo "FAIL: examples/deploy/nginx.conf no longer has '$pattern'" >&2; return 1; }
  done
  sed -e "s|listen 443 ssl http2;|listen 127.0.0.1:$1 ssl http2;|" -e '/listen \[::\]:443 ssl http2;/d' \
    -e "s|listen 80;|listen 127.0.0.1:$2;|" -e '/listen \[::\]:80;/d' \
    -e "s|server 127.0.0.1:8080;|server 127.0.0.1:$upstream;|" \
    -e "s|/etc/letsencrypt/live/track.example.com/fullchain.pem|$work/cert.pem|" \
    -e "s|/etc/letsencrypt/live/track.example.com/privkey.pem|$work/key.pem|" \
    -e "s|/var/log/nginx/callswap.access.log|$work/log/access.log|" \
    -e "s|/var/log/nginx/callswap.error.log|$work/log/error.log|" \
    -e "s|track.example.com|track.test|g" "$file"
}
# Debian's nginx.conf around it, as on a server, but in the temp dir: the events and http
# settings it has (worker_connections raised as docs/deploy.md says), no system paths.
start_nginx() {
  https=$(free_port)
  http=$(free_port)
  template "$https" "$http" >"$work/callswap-site.conf" || return 1
  cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/tmp/nginx.pid;
error_log $work/log/main-error.log;
events { worker_connections 4096; }
worker_rlimit_nofile 8192;
http {
  sendfile on;
  tcp_nopush on;
  types_hash_max_size 2048;
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  access_log $work/log/main-access.log;
  include $work/callswap-site.conf;
}
CONF
  # As root (CI), nginx's workers would switch to nobody; run all of it as nobody instead.
  local run=()
  if [ "$(id -u)" = 0 ]; then
    chown -R nobody "$work/log" "$work/tmp" "$work/key.pem"
    chmod 755 "$work"
    run=(runuser -u nobody --)
  fi
  "${run[@]}" "$nginx" -p "$work" -c "$work/nginx.conf" -e "$work/log/startup.log" -t 2>"$work/nginx-t.log" ||
    { cat "$work/nginx-t.log"; return 1; }
  "${run[@]}" "$nginx" -p "$work" -c "$work/nginx.conf" -e "$work/log/startup.log" 2>>"$work/nginx-t.log" || return 1
  for _ in $(seq 100); do
    curl -s -o /dev/null --cacert "$work/cert.pem" --resolve "track.test:$https:127.0.0.1" "https://track.test:$https/healthz" && return 0
    sleep 0.05
  done
  return 1
}
started=false
for _ in 1 2 3; do  # another process may take a free port between the check and nginx's bind
  if start_nginx; then started=true; break; fi
  [ -f "$work/tmp/nginx.pid" ] && kill "$(cat "$work/tmp/nginx.pid")" 2>/dev/null
done
check "nginx starts from examples/deploy/nginx.conf" $started
$started || { cat "$work/nginx-t.log" "$work/log/"*.log 2>/dev/null; exit 1; }

https_url="https://track.test:$https"
tls_curl() { curl -s --cacert "$work/cert.pem" --resolve "track.test:$https:127.0.0.1" "$@"; }

# A visitor's session over TLS: created, kept alive, ended.
tls_curl -D "$work/h1" -o "$work/b1" -X POST "$https_url/v1/sites/acme/sessions" -H 'Origin: https://acme.example' \
  -H 'Content-Type: application/json' -d '{"source": "google-ads", "consent": true}'
session=$(grep -o '"session":"[0-9a-f]*"' "$work/b1" | cut -d'"' -f4)
check "a session is created through nginx over TLS" grep -q '^HTTP/[0-9.]* 201' "$work/h1"
check "it has a 32-hex-digit id and a pool number" bash -c "[ ${#session} = 32 ] && grep -q '\"number\":\"+4930900000' '$work/b1'"
check "the CORS answer comes through" grep -qi '^access-control-allow-origin: https://acme.example' "$work/h1"
check "HSTS is set" grep -qi '^strict-transport-security: max-age=31536000' "$work/h1"
code=$(tls_curl -o /dev/null -w '%{http_code}' -X POST -d '' "$https_url/v1/sessions/$session/heartbeat" -H 'Origin: https://acme.example')
check "the heartbeat goes through" [ "$code" = 200 ]
code=$(tls_curl -o /dev/null -w '%{http_code}' -X DELETE "$https_url/v1/sessions/$session" -H 'Origin: https://acme.example')
check "the session ends" [ "$code" = 204 ]
code=$(tls_curl -o /dev/null -w '%{http_code}' -X POST -d '' "$https_url/v1/sessions/$session/heartbeat" -H 'Origin: https://acme.example')
check "an ended session is gone" [ "$code" = 404 ]
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: track.test' "http://127.0.0.1:$http/v1/sites/acme/config")
check "plain HTTP is redirected to HTTPS" [ "$code" = 301 ]
head -c 20000 /dev/zero | tr '\0' x >"$work/big.json"
code=$(tls_curl -o /dev/null -w '%{http_code}' -X POST "$https_url/v1/sites/acme/sessions" -H 'Content-Type: application/json' \
  --data-binary "@$work/big.json")
check "a body over 16 KB stops at nginx (413)" [ "$code" = 413 ]

# 256 slow and 1,000 idle TLS clients: nginx holds them, callswap-server does not see them.
node "$root/tests/deploy/slow_clients.mjs" 127.0.0.1 "$https" track.test "$work/cert.pem" "$upstream" >"$work/slow.json"
check "slow and idle clients through nginx: a new visitor within 1 s (slow_clients.mjs)" [ $? = 0 ]
cat "$work/slow.json"

# X-Forwarded-For is nginx's, not the client's: varying it does not escape the rate limit
# (10 a minute per address here; the requests above used most of it).
limited=0
for i in $(seq 12); do
  code=$(tls_curl -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: 203.0.113.$i" "$https_url/v1/sites/acme/config")
  [ "$code" = 429 ] && limited=$((limited + 1))
done
check "a client's own X-Forwarded-For is replaced (rate limited: $limited of 12)" [ "$limited" -gt 0 ]

# Privacy: no session id in nginx's logs, no client address in its access log.
sleep 0.2
check "the access log has lines, with the session route masked" grep -q 'POST /v1/sessions/:id/heartbeat 200' "$work/log/access.log"
check "no session id in nginx's logs" bash -c "! grep -rq '$session' '$work/log'"
check "no client address in the access log" bash -c "! grep -q '127.0.0.1' '$work/log/access.log'"
check "no session id in callswap-server's log" bash -c "! grep -q '$session' '$work/server.log'"

# The systemd unit as shipped (only the binary's path replaced) passes systemd's own check,
# without warnings: an unknown or misspelt hardening key would only be warned about.
if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/local/bin/callswap-server|$bin|" "$root/examples/deploy/callswap.service" >"$work/callswap.service"
  systemd-analyze verify "$work/callswap.service" >"$work/verify.log" 2>&1
  check "systemd-analyze verify examples/deploy/callswap.service: no error, no warning" \
    bash -c "[ $? = 0 ] && [ ! -s '$work/verify.log' ]" || cat "$work/verify.log"
else
  echo "NOTE: systemd-analyze not installed; examples/deploy/callswap.service not verified"
fi

checks_passed "nginx front"
