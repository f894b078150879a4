# What a shell test of callswap-server shares. server_test_setup NAME makes $work (removed
# at exit, the server stopped), sends every log line to the privacy scan's folder as
# NAME.log (tests/privacy), and exports the secrets examples/server/callswap.json names.
# KEEP_WORK=1 prints the logs at exit, for debugging.
server_test_setup() {
  server_test_name=$1
  work=$(mktemp -d)
  pid=""
  trap server_test_cleanup EXIT
  export CALLSWAP_TWILIO_AUTH_TOKEN=twilio-token-from-env-0123
  export CALLSWAP_CALLER_KEY_2026_11=$(printf '%064d' 1)
  export CALLSWAP_CALLER_HASH_KEY=$(printf '%064d' 2)
}
server_test_cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  [ -n "${CALLSWAP_TEST_LOG_DIR:-}" ] && cat "$work"/*.log "$work/log" >>"$CALLSWAP_TEST_LOG_DIR/$server_test_name.log" 2>/dev/null
  [ -n "${KEEP_WORK:-}" ] && cat "$work/log" "$work"/*.log >&2
  rm -rf "$work"
}

# Starting and stopping callswap-server in a shell test. The caller sets $bin (the binary)
# and $work (its temporary folder); the server logs to $work/log and listens on a free
# loopback port, found in its "listening" line: $port and $pid are set for the test.
start_server() {
  "$bin" "$@" --listen 127.0.0.1:0 2>>"$work/log" &
  pid=$!
  for _ in $(seq 100); do
    port=$(grep -o '"port":[0-9]*' "$work/log" | tail -1 | cut -d: -f2)
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# Stops the server as systemd would (SIGTERM) and returns its exit code.
stop_server() {
  kill -TERM "$pid"
  wait "$pid"
  local code=$?
  pid=""
  return $code
}

# A shell test of callswap-server on the throwaway PostgreSQL cluster of
# tests/server/with_postgres.sh: server_test_setup NAME, then an empty database DATABASE,
# its URL in $url and the cluster's socket folder in $socket_dir.
postgres_test_setup() {  # NAME DATABASE
  : "${CALLSWAP_TEST_POSTGRES:?run through tests/server/with_postgres.sh}"
  server_test_setup "$1"
  socket_dir=$(sed 's/.*host=\([^ ]*\).*/\1/' <<<"$CALLSWAP_TEST_POSTGRES")
  psql "$CALLSWAP_TEST_POSTGRES dbname=postgres" -qc "CREATE DATABASE $2" >/dev/null
  url="postgresql:///$2?host=$socket_dir&user=postgres"
}
