#!/usr/bin/env bash
# callswap-server as an operator runs it: flags, a bad config, start, SIGTERM, restart.
# Usage: server_binary_test.sh path/to/callswap-server
set -u
bin=${1:?usage: server_binary_test.sh path/to/callswap-server}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  # Every log line of the suite goes to one place the privacy scan reads (tests/privacy).
  [ -n "${CALLSWAP_TEST_LOG_DIR:-}" ] && cat "$work"/*.log "$work/log" >>"$CALLSWAP_TEST_LOG_DIR/server_binary.log" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
. "$root/tests/lib/check.sh"
export CALLSWAP_TWILIO_AUTH_TOKEN=twilio-token-from-env-0123
export CALLSWAP_CALLER_KEY_2026_11=$(printf '%064d' 1)
export CALLSWAP_CALLER_HASH_KEY=$(printf '%064d' 2)

start() {
  "$bin" --config "$root/examples/server/callswap.json" --db "$work/callswap.db" --listen 127.0.0.1:0 2>>"$work/log" &
  pid=$!
  for _ in $(seq 100); do
    port=$(grep -o '"port":[0-9]*' "$work/log" | tail -1 | cut -d: -f2)
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
    sleep 0.05
  done
  return 1
}
stop() {
  kill -TERM "$pid"
  wait "$pid"
  local code=$?
  pid=""
  return $code
}

# A bad config names the field and the reason, and the server does not start.
printf '{"sites": [], "listen": "nowhere"}' > "$work/bad.json"
"$bin" --config "$work/bad.json" 2>"$work/bad.err"
check "a bad config exits 2" [ $? = 2 ]
check "a bad config names each field" grep -q 'bad.json: listen: "nowhere" is not host:port' "$work/bad.err"
check "a bad config names each field (sites)" grep -q 'bad.json: sites: must list at least one site' "$work/bad.err"
"$bin" 2>/dev/null
check "no --config exits 2" [ $? = 2 ]
CALLSWAP_TWILIO_AUTH_TOKEN= "$bin" --config "$root/examples/server/callswap.json" 2>"$work/env.err"
check "a secret missing from the environment is named" grep -q 'webhooks.twilio_auth_token.env: the environment variable CALLSWAP_TWILIO_AUTH_TOKEN is not set' "$work/env.err"

check "the server starts" start
session=$(curl -s -X POST "http://127.0.0.1:$port/v1/sites/acme/sessions" -d '{"source": "google-ads", "consent": true}' | grep -o '"session":"[0-9a-f]*"' | cut -d'"' -f4)
check "a session is created" [ ${#session} = 32 ]
check "SIGTERM stops it cleanly" stop
check "it says it stopped" grep -q '"msg":"stopped"' "$work/log"
check "the session id is not in the log" bash -c "! grep -q '$session' '$work/log'"

check "the server starts again on the same database" start
code=$(curl -s -o /dev/null -w "%{http_code}" -X POST -d "" "http://127.0.0.1:$port/v1/sessions/$session/heartbeat")
check "the session survived the restart" [ "$code" = 200 ]
check "SIGTERM stops it again" stop

"$bin" purge --config "$root/examples/server/callswap.json" --db "$work/callswap.db" 2>"$work/purge.log"
check "purge runs once and exits 0" [ $? = 0 ]
check "purge says what it deleted" grep -q '"msg":"retention purge","site":"acme"' "$work/purge.log"

"$bin" rotate-key --config "$root/examples/server/callswap.json" --db "$work/callswap.db" 2>"$work/rotate.log"
check "rotate-key runs once and exits 0" [ $? = 0 ]
check "rotate-key says what it did" grep -q '"msg":"caller numbers re-sealed","key":"2026-11"' "$work/rotate.log"
# Data-subject requests from the command line (the same code as /v1/admin/subjects/...).
subject() { "$bin" subject "$@" --config "$root/examples/server/callswap.json" --db "$work/callswap.db" 2>>"$work/subject.log"; }
out=$(subject access --session "$session")
check "subject access exits 0 and exports the session" grep -q "\"session\":\"$session\"" <<<"$out"
out=$(subject erase --session "$session")
check "subject erase erases it" grep -q '"erased_sessions":1' <<<"$out"
out=$(subject access --session "$session")
check "an erased subject is unknown (exit 1)" [ $? = 1 ]
check "and says so" grep -q '"code":"unknown_subject"' <<<"$out"
subject access --caller 030 >/dev/null
check "a bad caller number exits 1" [ $? = 1 ]
"$bin" subject --config "$root/examples/server/callswap.json" 2>/dev/null
check "subject without an action exits 2" [ $? = 2 ]
check "no session id in the subject log" bash -c "! grep -q '$session' '$work/subject.log'"
# Secrets from files (systemd credentials, container secrets): NAME_FILE or {"file": ...}.
mkdir -m 700 "$work/keys"
printf '%064d\n' 1 > "$work/keys/caller-key"
chmod 600 "$work/keys/caller-key"
with_key_file() { env -u CALLSWAP_CALLER_KEY_2026_11 CALLSWAP_CALLER_KEY_2026_11_FILE="$work/keys/caller-key" "$@"; }
with_key_file "$bin" rotate-key --config "$root/examples/server/callswap.json" --db "$work/callswap.db" 2>"$work/keyfile.log"
check "a key read from NAME_FILE (mode 0600) is used" grep -q '"msg":"caller numbers re-sealed","key":"2026-11"' "$work/keyfile.log"
chmod 640 "$work/keys/caller-key"
with_key_file "$bin" privacy-record --config "$root/examples/server/callswap.json" >/dev/null 2>"$work/keyfile.err"
check "a key file readable by the group (0640) is accepted" [ $? = 0 ]
chmod 644 "$work/keys/caller-key"
with_key_file "$bin" rotate-key --config "$root/examples/server/callswap.json" --db "$work/callswap.db" 2>"$work/keyfile.err"
check "a world-readable key file exits 2" [ $? = 2 ]
check "and names the field, the file and the fix" grep -qF "caller_numbers.keys[0].key.env: CALLSWAP_CALLER_KEY_2026_11_FILE: $work/keys/caller-key is readable by every user on this machine (mode 0644): chmod 600 $work/keys/caller-key" "$work/keyfile.err"
chmod 600 "$work/keys/caller-key"
CALLSWAP_CALLER_KEY_2026_11_FILE="$work/keys/caller-key" "$bin" privacy-record --config "$root/examples/server/callswap.json" >/dev/null 2>"$work/keyfile.err"
check "a key in NAME and NAME_FILE at once exits 2" [ $? = 2 ]
check "and says both are set" grep -qF "caller_numbers.keys[0].key.env: both CALLSWAP_CALLER_KEY_2026_11 and CALLSWAP_CALLER_KEY_2026_11_FILE are set" "$work/keyfile.err"
env -u CALLSWAP_CALLER_KEY_2026_11 CALLSWAP_CALLER_KEY_2026_11_FILE="$work/keys" "$bin" privacy-record --config "$root/examples/server/callswap.json" >/dev/null 2>"$work/keyfile.err"
check "a folder as key file is refused" grep -qF "CALLSWAP_CALLER_KEY_2026_11_FILE: $work/keys is not a regular file" "$work/keyfile.err"
sed "s|{\"env\": \"CALLSWAP_CALLER_HASH_KEY\"}|{\"file\": \"$work/keys/hash-key\"}|" "$root/examples/server/callswap.json" > "$work/file-key.json"
printf '%064d' 2 > "$work/keys/hash-key"
chmod 400 "$work/keys/hash-key"
env -u CALLSWAP_CALLER_HASH_KEY "$bin" rotate-key --config "$work/file-key.json" --db "$work/callswap.db" 2>"$work/keyfile.log"
check "a key from {\"file\": ...} in the config is used" grep -q '"msg":"caller numbers re-sealed"' "$work/keyfile.log"

# The record of processing: from the config alone, no database opened.
mkdir "$work/record"
bin_path=$(realpath "$bin")
(cd "$work/record" && "$bin_path" privacy-record --config "$root/examples/server/callswap.json" >"$work/record.md" 2>"$work/record.err")
check "privacy-record exits 0" [ $? = 0 ]
check "privacy-record prints the Art. 30 record" grep -q '^# Record of processing activities (GDPR Art. 30)$' "$work/record.md"
check "with the site's retention" grep -qF '| 180 days (`retention.calls_days`) |' "$work/record.md"
check "and the telephony provider" grep -qF -- '- Twilio, the telephony provider' "$work/record.md"
check "privacy-record opens no database" [ ! -e "$work/record/callswap.db" ]
sed 's/"calls_days": 180/"calls_days": 200/' "$root/examples/server/callswap.json" > "$work/record.json"
"$bin" privacy-record --config "$work/record.json" >"$work/record2.md" 2>/dev/null
check "a changed retention changes the record" grep -qF '| 200 days (`retention.calls_days`) |' "$work/record2.md"
printf '{"sites": []}' > "$work/record-bad.json"
"$bin" privacy-record --config "$work/record-bad.json" >/dev/null 2>&1
check "privacy-record with a bad config exits 2" [ $? = 2 ]

"$bin" explode --config "$root/examples/server/callswap.json" 2>/dev/null
check "an unknown command exits 2" [ $? = 2 ]

checks_passed "server"
