#!/usr/bin/env bash
# callswap-server copy-store: a real SQLite file, written by the server itself (sessions, a
# release, a call with a sealed caller number, audit), copied into a throwaway PostgreSQL
# database; counts compared table by table, sealed numbers byte for byte, a second copy into
# the now non-empty database refused, bad arguments named; then the server runs on the copy.
# Run inside tests/server/with_postgres.sh.
# Usage: copy_store_test.sh path/to/callswap-server
set -u
bin=$(realpath "${1:?usage: copy_store_test.sh path/to/callswap-server}")
root=$(realpath "$(dirname "$0")/../..")
. "$root/tests/lib/check.sh"
. "$root/tests/lib/server.sh"
postgres_test_setup copy_store target
target=$url
pg() { psql "$CALLSWAP_TEST_POSTGRES dbname=target" -Atqc "$1"; }
lite() { sqlite3 "file:$work/callswap.db?mode=ro" "$1"; }
config=(--config "$root/examples/server/callswap.json")

# The source: what a SQLite deployment has written.
start_server "${config[@]}" --db "$work/callswap.db" --static "$work"
new_session() { curl -s -X POST "http://127.0.0.1:$port/v1/sites/acme/sessions" -d '{"source": "google-ads", "consent": true}' | grep -o '"session":"[0-9a-f]*"' | cut -d'"' -f4; }
kept=$(new_session)
gone=$(new_session)
called=$(new_session)
curl -s -o /dev/null -X DELETE "http://127.0.0.1:$port/v1/sessions/$gone"
to=$(lite "SELECT number FROM sessions WHERE id = '$called'")
url="https://track.acme.example/v1/webhooks/twilio"
data="${url}CallDuration42CallSidCA-copyCallStatuscompletedFrom+4917012345678To$to"
signature=$(printf '%s' "$data" | openssl dgst -sha1 -hmac "$CALLSWAP_TWILIO_AUTH_TOKEN" -binary | base64)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/webhooks/twilio" \
  -H "X-Twilio-Signature: $signature" -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-urlencode CallSid=CA-copy --data-urlencode To="$to" --data-urlencode From=+4917012345678 \
  --data-urlencode CallStatus=completed --data-urlencode CallDuration=42)
check "a call is stored in the SQLite file" [ "$code" = 201 ]
stop_server
"$bin" subject restrict --session "$kept" "${config[@]}" --db "$work/callswap.db" >/dev/null 2>>"$work/subject.log"
check "the source holds a sealed caller number" [ -n "$(lite "SELECT caller_ciphertext FROM calls WHERE provider_call_id = 'CA-copy'")" ]

"$bin" copy-store --from "sqlite://$work/callswap.db" --to "$target" >"$work/copy.out" 2>"$work/copy.log"
check "copy-store exits 0" [ $? = 0 ]
check "and says the counts match" grep -q 'the counts match table by table' "$work/copy.out"
for table in sessions calls number_releases audit erased_calls restricted_callers meta outbox pool_samples; do
  check "$table: as many rows in PostgreSQL as in SQLite" [ "$(pg "SELECT count(*) FROM $table")" = "$(lite "SELECT count(*) FROM $table")" ]
done
check "sessions and calls were copied" [ "$(pg 'SELECT count(*) FROM sessions')" = 2 -a "$(pg 'SELECT count(*) FROM calls')" = 1 ]
check "the sealed caller number is copied byte for byte" [ "$(pg "SELECT caller_ciphertext FROM calls WHERE provider_call_id = 'CA-copy'")" = "$(lite "SELECT caller_ciphertext FROM calls WHERE provider_call_id = 'CA-copy'")" ]
check "and stays sealed (no caller number in clear in the target)" bash -c "! pg_dump '$CALLSWAP_TEST_POSTGRES dbname=target' --data-only | grep -q 4917012345678"
check "the keyed caller hash is copied" [ "$(pg "SELECT caller_hash FROM calls")" = "$(lite "SELECT caller_hash FROM calls")" ]
check "a restriction (0/1 in SQLite) is a boolean in PostgreSQL" [ "$(pg "SELECT restricted FROM sessions WHERE id = '$kept'")" = t ]
check "a release for the cool-down is copied" [ "$(pg "SELECT count(*) FROM number_releases")" = 1 ]
check "the audit keeps its ids" [ "$(pg 'SELECT max(id) FROM audit')" = "$(lite 'SELECT max(id) FROM audit')" ]

"$bin" copy-store --from "sqlite://$work/callswap.db" --to "$target" >/dev/null 2>"$work/again.log"
check "a copy into a database that holds data exits 1" [ $? = 1 ]
check "and says the target is not empty" grep -q 'the target database is not empty (table [a-z_]* has [0-9]* rows)' "$work/again.log"
check "and copied nothing twice" [ "$(pg 'SELECT count(*) FROM sessions')" = 2 ]
"$bin" copy-store --from "$target" --to "$target" >/dev/null 2>"$work/bad.log"
check "a --from that is not sqlite:/// exits 2" [ $? = 2 ]
check "and says what it needs" grep -q "is not sqlite:///absolute/path" "$work/bad.log"
"$bin" copy-store --from "sqlite://$work/missing.db" --to "$target" >/dev/null 2>"$work/missing.log"
check "a missing SQLite file exits 1 and is named" grep -q "no SQLite file at $work/missing.db" "$work/missing.log"
check "and is not created" [ ! -e "$work/missing.db" ]
"$bin" copy-store --from "sqlite://$work/callswap.db" >/dev/null 2>&1
check "copy-store without --to exits 2" [ $? = 2 ]

# The server on the copy: the visitor's session goes on, the caller is found by the same keys.
start_server "${config[@]}" --db "$target" --static "$work"
code=$(curl -s -o /dev/null -w "%{http_code}" -X POST -d "" "http://127.0.0.1:$port/v1/sessions/$kept/heartbeat")
check "a session copied from SQLite goes on on PostgreSQL" [ "$code" = 200 ]
other=$(new_session)
check "a new session gets a number no copied session holds" [ "$(pg "SELECT count(DISTINCT number) FROM sessions WHERE released_at IS NULL")" = "$(pg "SELECT count(*) FROM sessions WHERE released_at IS NULL")" ]
stop_server
out=$("$bin" subject access --caller +4917012345678 "${config[@]}" --db "$target" 2>>"$work/subject.log")
check "the copied call is found by its caller and opened with the same keys" grep -q '"CA-copy"' <<<"$out"

checks_passed "copy-store"
