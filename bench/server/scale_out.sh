#!/usr/bin/env bash
# bench/server/scale_out.sh: session assign + release (bench/server/session.lua, the same wrk
# script as run.sh) through one nginx in front of: callswap-server on SQLite (one instance),
# and callswap-server on PostgreSQL with 1, 2 and 3 instances sharing one database (nginx
# upstream, round robin, keep-alive). Same pool (10,000 numbers, no cool-down), same
# connections, same seconds, one run; ratios to SQLite. PostgreSQL is a throwaway cluster
# (tests/server/with_postgres.sh) with its durable defaults (fsync on, synchronous_commit on).
# Every request is counted by what it did; the run fails if any did not assign or release,
# and every session assigned is released before the servers stop. See bench/README.md.
#   bench/server/scale_out.sh [seconds=10] [connections=64]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${CALLSWAP_TEST_POSTGRES:-}" ]; then
  # PostgreSQL's durable defaults unless told otherwise (CALLSWAP_TEST_POSTGRES_FSYNC=off shows
  # what the commits' flushes cost).
  CALLSWAP_TEST_POSTGRES_FSYNC=${CALLSWAP_TEST_POSTGRES_FSYNC:-on} exec bash "$root/tests/server/with_postgres.sh" "$0" "$@"
fi
bin=$root/build/bin
seconds=${1:-10}
connections=${2:-64}
work=$(mktemp -d)
chmod 755 "$work"
pids=()
nginx_pid=""
cleanup() {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
failures=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
socket_dir=$(sed 's/.*host=\([^ ]*\).*/\1/' <<<"$CALLSWAP_TEST_POSTGRES")
"$root/bench/server/make_config.sh" >"$work/callswap.json"
value() { sed -n "s/.*[ ^]$2=\([0-9.]*\).*/\1/p" <<<" $1"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_callswap() {  # STORE LOG → appends the port to $ports
  "$bin/callswap-server" --config "$work/callswap.json" --db "$1" --listen 127.0.0.1:0 2>"$2" &
  pids+=($!)
  local port=""
  for _ in $(seq 600); do
    port=$(grep -o '"port":[0-9]*' "$2" | cut -d: -f2 || true)
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "callswap-server did not start: $(cat "$2")" >&2; exit 1; }
  ports+=("$port")
}

start_nginx() {  # PORTS... → $front
  front=$(free_port)
  local upstream=""
  for p in "$@"; do upstream+="server 127.0.0.1:$p max_fails=0; "; done
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  upstream callswap { $upstream keepalive 256; }
  server {
    listen 127.0.0.1:$front;
    location / {
      proxy_pass http://callswap;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
  nginx_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$front/healthz" >/dev/null && return 0; sleep 0.05; done
  echo "nginx did not start: $(cat "$work/nginx/error.log")" >&2
  exit 1
}

stop_all() {
  kill "$nginx_pid" && wait "$nginx_pid" 2>/dev/null || true
  nginx_pid=""
  for p in "${pids[@]}"; do kill "$p" && wait "$p" 2>/dev/null || true; done
  pids=()
}

measure() {  # NAME LIVE-SESSIONS-COMMAND → one row
  local name=$1 live=$2 w leftover=0 stray=0
  w=$(CALLSWAP_BENCH_LEFTOVER="$work/leftover" wrk -t2 -c"$connections" -d"${seconds}s" --latency \
    -s "$root/bench/server/session.lua" "http://127.0.0.1:$front" | grep '^RESULT')
  while read -r id; do
    [ -n "$id" ] || continue
    code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$front/v1/sessions/$id")
    [ "$code" = 204 ] || failures+=("$name: releasing a queued session: HTTP $code")
    leftover=$((leftover + 1))
  done <"$work/leftover"
  # The servers still finish what wrk had sent: wait until no session changes, then release
  # the ones whose answer wrk never read.
  for _ in $(seq 40); do
    before=$($live | sort | md5sum)
    sleep 0.25
    [ "$before" = "$($live | sort | md5sum)" ] && break
  done
  for id in $($live); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$front/v1/sessions/$id")
    [ "$code" = 204 ] || failures+=("$name: releasing a stray session: HTTP $code")
    stray=$((stray + 1))
  done
  [ -z "$($live)" ] || failures+=("$name: sessions left holding numbers")
  for field in errors non2xx fallbacks other; do
    [ "$(value "$w" "$field")" = 0 ] || failures+=("$name: wrk $field=$(value "$w" "$field")")
  done
  printf '%s|%s|%s|%s\n' "$name" "$w" "$leftover" "$stray" >>"$work/rows"
}

# SQLite: one instance (a SQLite file has one serving process).
ports=()
start_callswap "$work/sqlite.db" "$work/sqlite.log"
start_nginx "${ports[@]}"
sqlite_live() { sqlite3 "file:$work/sqlite.db?mode=ro" "SELECT id FROM sessions WHERE released_at IS NULL"; }
measure "SQLite, 1 instance" sqlite_live
stop_all

# PostgreSQL: a fresh database for each instance count.
for n in 1 2 3; do
  db=bench_$n
  psql "$CALLSWAP_TEST_POSTGRES dbname=postgres" -qc "CREATE DATABASE $db" >/dev/null
  url="postgresql:///$db?host=$socket_dir&user=postgres"
  ports=()
  for i in $(seq "$n"); do start_callswap "$url" "$work/pg_${n}_$i.log"; done
  start_nginx "${ports[@]}"
  eval "pg_live_$n() { psql '$CALLSWAP_TEST_POSTGRES dbname=$db' -Atqc 'SELECT id FROM sessions WHERE released_at IS NULL'; }"
  measure "PostgreSQL, $n instance$([ "$n" = 1 ] || echo s)" "pg_live_$n"
  double=$(psql "$CALLSWAP_TEST_POSTGRES dbname=$db" -Atqc "SELECT count(*) FROM (SELECT number FROM sessions WHERE released_at IS NULL GROUP BY number HAVING count(*) > 1) AS t")
  [ "$double" = 0 ] || failures+=("PostgreSQL, $n: $double numbers held twice")
  stop_all
done

echo "bench/server/scale_out.sh: ${seconds} s per run, $connections connections (wrk -t2), through nginx (1 worker, keep-alive upstream); PostgreSQL fsync=$(psql "$CALLSWAP_TEST_POSTGRES dbname=postgres" -Atqc 'SHOW fsync')"
echo "POST session + DELETE session; pool of 10,000 numbers, no cool-down; load average before the run: $load_before"
printf '%-26s | %9s %9s %9s | %7s | %s\n' "store" "req/s" "p50 ms" "p99 ms" "vs SQLite" "assigns / releases / fallbacks / other; released after wrk"
base=""
while IFS='|' read -r name w leftover stray; do
  rps=$(value "$w" requests_per_second)
  [ -n "$base" ] || base=$rps
  printf '%-26s | %9s %9s %9s | %6.2fx | %s / %s / %s / %s; %s queued + %s in flight\n' "$name" "$rps" \
    "$(value "$w" p50_ms)" "$(value "$w" p99_ms)" "$(awk -v a="$rps" -v b="$base" 'BEGIN { print a / b }')" \
    "$(value "$w" assigns)" "$(value "$w" releases)" "$(value "$w" fallbacks)" "$(value "$w" other)" "$leftover" "$stray"
done <"$work/rows"
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ${#failures[@]} -gt 0 ]; then
  printf '%s\n' "${failures[@]}" | sort | uniq -c | sed 's/^ *\([0-9]*\) /FAILED (×\1): /'
  exit 1
fi
echo "every request did its work: all assigns real (no fallback), every session released, no number held twice"
