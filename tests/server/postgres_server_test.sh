#!/usr/bin/env bash
# callswap-server on PostgreSQL as an operator runs it: migrate, serve, restart, the one-shot
# commands, erasure leaving no row, and a second serving instance beside the first (the
# pools are decided in the database). Run inside tests/server/with_postgres.sh.
# Usage: postgres_server_test.sh path/to/callswap-server
set -u
bin=${1:?usage: postgres_server_test.sh path/to/callswap-server}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lib/check.sh"
. "$root/tests/lib/server.sh"
postgres_test_setup postgres_server callswap
sql() { psql "$CALLSWAP_TEST_POSTGRES dbname=callswap" -Atqc "$1"; }
config=(--config "$root/examples/server/callswap.json" --db "$url")

start() {
  : >"$work/log"
  start_server "${config[@]}" --static "$work"
}
stop() { stop_server; }

"$bin" migrate "${config[@]}" >"$work/migrate.out" 2>"$work/migrate.log"
check "migrate exits 0" [ $? = 0 ]
# One row per migration applied, versions 1..N without a gap (N grows with the schema).
versions=$(sql 'SELECT count(*) FROM schema_version')
max_version=$(sql 'SELECT max(version) FROM schema_version')
check "migrate made the schema" [ "$versions" -ge 1 -a "$max_version" = "$versions" ]
"$bin" migrate "${config[@]}" >/dev/null 2>>"$work/migrate.log"
check "migrate again changes nothing" [ "$(sql 'SELECT count(*) FROM schema_version')" = "$versions" ]
# The schema as written down, without pg_dump's comments, blank lines and per-run tokens.
check "the PostgreSQL schema is tests/server/schema/postgresql.txt" \
  diff -u "$root/tests/server/schema/postgresql.txt" \
  <(pg_dump -s "$CALLSWAP_TEST_POSTGRES dbname=callswap" | grep -v -e '^--' -e '^$' -e '^\\')

check "the server starts on PostgreSQL" start
session=$(curl -s -X POST "http://127.0.0.1:$port/v1/sites/acme/sessions" -d '{"source": "google-ads", "consent": true}' | grep -o '"session":"[0-9a-f]*"' | cut -d'"' -f4)
check "a session is created" [ ${#session} = 32 ]
check "the session is a row in PostgreSQL, holding a number" [ "$(sql "SELECT count(*) FROM sessions WHERE id = '$session' AND released_at IS NULL")" = 1 ]

"$bin" "${config[@]}" --static "$work" --listen 127.0.0.1:0 2>"$work/second.log" &
second_pid=$!
trap 'kill "$second_pid" 2>/dev/null; server_test_cleanup' EXIT
for _ in $(seq 100); do
  second_port=$(grep -o '"port":[0-9]*' "$work/second.log" | tail -1 | cut -d: -f2)
  [ -n "$second_port" ] && curl -sf "http://127.0.0.1:$second_port/healthz" >/dev/null && break
  sleep 0.05
done
check "a second serving instance starts on the same database" curl -sf "http://127.0.0.1:$second_port/healthz"
other=$(curl -s -X POST "http://127.0.0.1:$second_port/v1/sites/acme/sessions" -d '{"source": "google-ads", "consent": true}' | grep -o '"session":"[0-9a-f]*"' | cut -d'"' -f4)
check "it hands out another number than the first instance's session holds" [ "$(sql "SELECT count(DISTINCT number) FROM sessions WHERE id IN ('$session', '$other') AND released_at IS NULL")" = 2 ]
code=$(curl -s -o /dev/null -w "%{http_code}" -X POST -d "" "http://127.0.0.1:$second_port/v1/sessions/$session/heartbeat")
check "the first instance's session is kept alive through the second" [ "$code" = 200 ]
kill -TERM "$second_pid"
wait "$second_pid"
check "the second instance stops cleanly" [ $? = 0 ]
cat "$work/second.log" >>"$work/log"

check "SIGTERM stops it cleanly" stop
check "the server starts again on the same database" start
code=$(curl -s -o /dev/null -w "%{http_code}" -X POST -d "" "http://127.0.0.1:$port/v1/sessions/$session/heartbeat")
check "the session survived the restart" [ "$code" = 200 ]
check "SIGTERM stops it again" stop

"$bin" purge "${config[@]}" 2>"$work/purge.log"
check "purge runs once and exits 0" [ $? = 0 ]
subject() { "$bin" subject "$@" "${config[@]}" 2>>"$work/subject.log"; }
out=$(subject access --session "$session")
check "subject access exports the session" grep -q "\"session\":\"$session\"" <<<"$out"
out=$(subject erase --session "$session")
check "subject erase erases it" grep -q '"erased_sessions":1' <<<"$out"
check "no row of the erased session is left" [ "$(sql "SELECT count(*) FROM sessions WHERE id = '$session'")" = 0 ]
check "its number's release is kept for the cool-down" [ "$(sql "SELECT count(*) FROM number_releases")" = 1 ]
check "the erased session's id is in no table" bash -c "! pg_dump '$CALLSWAP_TEST_POSTGRES dbname=callswap' --data-only | grep -q '$session'"

checks_passed "postgres server"
