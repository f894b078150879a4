#!/usr/bin/env bash
# bench/server: session assign + release on loopback, against the bare cpp-httplib endpoint
# (the ceiling) in the same run; callswap-server with a new store and with 1,000,000 calls
# (and sessions) stored, a pool of 10,000 numbers without cool-down. At each connection
# count two clients: wrk (throughput; its p99 corrected for coordinated omission) and
# bench_closed_loop (every request timed on its own: p50, p99, max, requests over 2 s,
# socket errors). Every request is counted by what it did; the run fails if any did not
# assign or release (a static-number fallback, another status, a socket error), and every
# session assigned is released before the server stops. Requests over 2 s are printed
# (a target, not a failure: they did their work). See bench/README.md.
#   bench/server/run.sh [seconds=10] ["connection counts"="8 64"]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/build/bin
seconds=${1:-10}
connection_counts=${2:-"8 64"}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
failures=()

"$root/bench/server/make_config.sh" > "$work/callswap.json"

value() { sed -n "s/.*[ ^]$2=\([0-9.]*\).*/\1/p" <<<" $1"; }

# The sessions still holding a number in DATABASE: none may be left after a run.
live_sessions() { sqlite3 "file:$1?mode=ro" "SELECT id FROM sessions WHERE released_at IS NULL"; }

measure() {  # NAME PORT DATABASE|"" → one table row per connection count
  local name=$1 port=$2 database=$3
  for c in $connection_counts; do
    local w l stray leftover
    w=$(CALLSWAP_BENCH_LEFTOVER="$work/leftover" wrk -t2 -c"$c" -d"${seconds}s" --latency \
      -s "$root/bench/server/session.lua" "http://127.0.0.1:$port" | grep '^RESULT')
    # wrk stops with sessions assigned and not yet released: the ones it was told about
    # are in its queues; one whose answer was still on the way is only in the database.
    leftover=0
    while read -r id; do
      [ -n "$id" ] || continue
      code=$(curl -s -o "$work/queued.body" -w '%{http_code}' -X DELETE "http://127.0.0.1:$port/v1/sessions/$id")
      [ "$code" = 204 ] || failures+=("$name c=$c: releasing a queued session: HTTP $code $(cat "$work/queued.body")")
      leftover=$((leftover + 1))
    done <"$work/leftover"
    stray=0
    if [ -n "$database" ]; then
      # The server still finishes the requests wrk had sent: wait until no session changes.
      for _ in $(seq 40); do
        before=$(live_sessions "$database" | sort | md5sum)
        sleep 0.25
        [ "$before" = "$(live_sessions "$database" | sort | md5sum)" ] && break
      done
      for id in $(live_sessions "$database"); do
        code=$(curl -s -o "$work/stray.body" -w '%{http_code}' -X DELETE "http://127.0.0.1:$port/v1/sessions/$id")
        [ "$code" = 204 ] || failures+=("$name c=$c: releasing a stray session: HTTP $code $(cat "$work/stray.body")")
        stray=$((stray + 1))
      done
    fi
    l=$("$bin/bench_closed_loop" "$port" "$c" "$seconds" | grep '^RESULT') || failures+=("$name c=$c: closed loop: not every request did its work")
    if [ -n "$database" ] && [ -n "$(live_sessions "$database")" ]; then failures+=("$name c=$c: sessions left holding numbers"); fi
    for field in errors non2xx fallbacks other; do
      [ "$(value "$w" "$field")" = 0 ] || failures+=("$name c=$c: wrk $field=$(value "$w" "$field")")
    done
    for field in socket_errors fallbacks other; do
      [ "$(value "$l" "$field")" = 0 ] || failures+=("$name c=$c: closed loop $field=$(value "$l" "$field")")
    done
    printf '%s|%s|%s|%s|%s|%s\n' "$name" "$c" "$w" "$l" "$leftover" "$stray" >>"$work/rows"
  done
}

start_callswap() {  # DATABASE → port
  "$bin/callswap-server" --config "$work/callswap.json" --db "$1" --listen 127.0.0.1:0 2>"$1.log" &
  pids+=($!)
  port=""
  for _ in $(seq 600); do
    port=$(grep -o '"port":[0-9]*' "$1.log" | cut -d: -f2 || true)
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
    sleep 0.05
  done
  echo "callswap-server did not start: $(cat "$1.log")" >&2
  exit 1
}

"$bin/bench_hello_server" > "$work/hello.port" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/hello.port" ] && break; sleep 0.05; done
measure "ceiling: bare cpp-httplib" "$(cat "$work/hello.port")" ""

start_callswap "$work/empty.db"
measure "callswap-server, new store" "$port" "$work/empty.db"

"$bin/bench_preload" "$work/full.db" 1000000
start_callswap "$work/full.db"
[ "$(sqlite3 "file:$work/full.db?mode=ro" 'SELECT count(*) FROM calls')" = 1000000 ] || failures+=("the preload did not store 1,000,000 calls")
measure "callswap-server, 1,000,000 calls stored" "$port" "$work/full.db"

echo "bench/server: ${seconds} s per run; POST session + DELETE session; pool of 10,000 numbers, no cool-down"
echo "wrk: -t2, p99 corrected for coordinated omission, >2s = its timeouts; closed loop (cl): a thread and connection each, every request timed; ms"
printf '%-40s %5s | %9s %9s %5s | %9s %8s %8s %9s %5s %6s | %s\n' "server" "conns" "wrk req/s" "wrk p99" ">2s" \
  "cl req/s" "cl p50" "cl p99" "cl max" ">2s" "errors" "assigns / releases / fallbacks (wrk; closed loop; released after wrk)"
while IFS='|' read -r name c w l leftover stray; do
  printf '%-40s %5s | %9s %9s %5s | %9s %8s %8s %9s %5s %6s | %s / %s / %s; %s / %s / %s; %s queued + %s in flight\n' "$name" "$c" \
    "$(value "$w" requests_per_second)" "$(value "$w" p99_ms)" "$(value "$w" timeouts)" "$(value "$l" requests_per_second)" "$(value "$l" p50_ms)" \
    "$(value "$l" p99_ms)" "$(value "$l" max_ms)" "$(value "$l" over_2s)" "$(( $(value "$w" errors) + $(value "$l" socket_errors) ))" \
    "$(value "$w" assigns)" "$(value "$w" releases)" "$(value "$w" fallbacks)" \
    "$(value "$l" assigns)" "$(value "$l" releases)" "$(value "$l" fallbacks)" "$leftover" "$stray"
done <"$work/rows"
echo "ratios to the ceiling at the same connection count (throughput; closed-loop p99):"
for c in $connection_counts; do
  ceiling=$(grep "^ceiling[^|]*|$c|" "$work/rows")
  cw=$(value "$(cut -d'|' -f3 <<<"$ceiling")" requests_per_second)
  cl=$(value "$(cut -d'|' -f4 <<<"$ceiling")" requests_per_second)
  cp=$(value "$(cut -d'|' -f4 <<<"$ceiling")" p99_ms)
  grep "^callswap[^|]*|$c|" "$work/rows" | while IFS='|' read -r name _ w l _; do
    awk -v n="$name" -v c="$c" -v cw="$cw" -v cl="$cl" -v cp="$cp" \
      -v w="$(value "$w" requests_per_second)" -v l="$(value "$l" requests_per_second)" -v p="$(value "$l" p99_ms)" \
      'BEGIN { printf "  %-40s c=%-3s wrk %.2fx  closed loop %.2fx  closed-loop p99 %.1fx the ceiling'"'"'s\n", n, c, w / cw, l / cl, p / cp }'
  done
done
if [ ${#failures[@]} -gt 0 ]; then
  printf '%s\n' "${failures[@]}" | sort | uniq -c | sed 's/^ *\([0-9]*\) /FAILED (×\1): /'
  exit 1
fi
echo "every request did its work: all assigns real (no fallback), every session released"
