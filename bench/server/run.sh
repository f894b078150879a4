#!/usr/bin/env bash
# bench/server: session assign + release throughput and p99 latency with wrk on loopback,
# against a minimal cpp-httplib server in the same run; callswap with an empty store and
# with 1,000,000 calls (and sessions) preloaded. Prints ratios. See bench/README.md.
#   bench/server/run.sh [seconds=10] [connections=16]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/build/bin
seconds=${1:-10}
connections=${2:-16}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$root/bench/server/make_config.sh" > "$work/callswap.json"

run_wrk() {  # PORT → the RESULT line
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$root/bench/server/session.lua" "http://127.0.0.1:$1" | grep '^RESULT'
}
start_callswap() {  # DATABASE → port
  "$bin/callswap-server" --config "$work/callswap.json" --db "$1" --listen 127.0.0.1:0 2>"$1.log" &
  pids+=($!)
  for _ in $(seq 200); do
    port=$(grep -o '"port":[0-9]*' "$1.log" | cut -d: -f2 || true)
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.05
  done
}

"$bin/bench_hello_server" > "$work/hello.port" &
pids+=($!)
sleep 0.3
hello=$(run_wrk "$(cat "$work/hello.port")")

start_callswap "$work/empty.db"
empty=$(run_wrk "$port")

"$bin/bench_preload" "$work/full.db" 1000000
start_callswap "$work/full.db"
full=$(run_wrk "$port")

value() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" <<<"$1"; }
echo "wrk -t2 -c$connections -d${seconds}s, POST session + DELETE session alternating, pool of 10,000 numbers"
printf '%-44s %12s %10s %10s\n' "" "requests/s" "p50 ms" "p99 ms"
for row in "baseline: minimal cpp-httplib server|$hello" "callswap-server, empty store|$empty" "callswap-server, 1,000,000 calls stored|$full"; do
  name=${row%%|*}
  line=${row#*|}
  printf '%-44s %12s %10s %10s   (%s)\n' "$name" "$(value "$line" requests_per_second)" "$(value "$line" p50_ms)" "$(value "$line" p99_ms)" \
    "errors $(value "$line" errors), non-2xx $(value "$line" non2xx)"
done
awk -v h="$(value "$hello" requests_per_second)" -v e="$(value "$empty" requests_per_second)" -v f="$(value "$full" requests_per_second)" \
  'BEGIN { printf "callswap/baseline throughput: %.2f (empty store), %.2f (1M calls); full/empty: %.2f\n", e / h, f / h, f / e }'
