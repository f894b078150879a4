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
