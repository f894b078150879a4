#!/usr/bin/env bash
# callswap-server as an operator runs it: flags, a bad config, start, SIGTERM, restart.
# Usage: server_binary_test.sh path/to/callswap-server
set -u
bin=${1:?usage: server_binary_test.sh path/to/callswap-server}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")  # the operator commands below run from another folder
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lib/check.sh"
. "$root/tests/lib/server.sh"
server_test_setup server_binary

start() { start_server --config "$root/examples/server/callswap.json" --db "$work/callswap.db"; }
stop() { stop_server; }

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
# The schema a new database gets is the one written down; a migration that has shipped must
# not change (a change to the schema is a new migration and a new snapshot).
check "the SQLite schema is tests/server/schema/sqlite.txt" \
  diff -u "$root/tests/server/schema/sqlite.txt" <(sqlite3 "$work/callswap.db" .schema)
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

# The one version, set in the top-level CMakeLists.txt.
version=$(sed -n 's/^project(callswap VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
check "--version prints the project's version" [ "$("$bin" --version)" = "callswap-server $version" ]

# An operator's own layout, as keygen and check are meant to be used: keys from keygen, a
# site config in its own file, relative paths, and the commands run from another folder.
keys=$("$bin" keygen --key-id 2026-12)
check "keygen exits 0" [ $? = 0 ]
again=$("$bin" keygen)
check "keygen gives fresh keys each time" [ "$(grep '^CALLSWAP_CALLS_SECRET=' <<<"$keys")" != "$(grep '^CALLSWAP_CALLS_SECRET=' <<<"$again")" ]
check "keygen's key id is today's date unless given" grep -q "\"id\":\"$(date -u +%F)\"" <<<"$again"
"$bin" keygen --key-id 2>/dev/null
check "keygen with a bad argument exits 2" [ $? = 2 ]
admin_key=$(sed -n 's/^CALLSWAP_ADMIN_KEY=//p' <<<"$keys")
fields=$(grep '^{' <<<"$keys")
check "keygen's admin key is 64 hex characters" grep -Eq '^[0-9a-f]{64}$' <<<"$admin_key"
check "the config gets the admin key's SHA-256" grep -q "\"sha256\":\"$(printf %s "$admin_key" | sha256sum | cut -d' ' -f1)\"" <<<"$fields"
check "and never the key itself" bash -c "! grep -q '$admin_key' <<<'$fields'"
mapfile -t server_env < <(grep '^CALLSWAP_[A-Z0-9_]*=' <<<"$keys" | grep -v '^CALLSWAP_ADMIN_KEY=')
check "keygen prints the three server secrets" [ ${#server_env[@]} = 3 ]
mkdir -p "$work/op/sites" "$work/op/data" "$work/op/www"
printf 'sdk' > "$work/op/www/callswap.js"
printf '{"site": "shop", "country": "DE", "targets": ["+49301234567"], "sources": [{"id": "direct", "static": "+49301234567", "default": true}]}' \
  > "$work/op/sites/shop.json"
printf '%s, "listen": "127.0.0.1:0", "database": "data/callswap.db", "static_dir": "www", "sites": [{"config": "sites/shop.json"}]}\n' \
  "${fields%\}}" > "$work/op/callswap.json"
out=$(cd / && env "${server_env[@]}" "$bin" check --config "$work/op/callswap.json" 2>"$work/check.err")
check "check accepts keygen's output and exits 0" [ $? = 0 ]
check "check says the config is valid" grep -q "^callswap-server $version: $work/op/callswap.json is valid$" <<<"$out"
check "check resolves the database against the config's folder" grep -q "^database    $work/op/data/callswap.db (created at start)$" <<<"$out"
check "check names the static folder and the missing wasm files" grep -q "^static      $work/op/www at / (callswap.wasm is missing) (callswap-decide.wasm is missing)$" <<<"$out"
check "check lists the site read from its own file" grep -q "^site shop: 1 sources" <<<"$out"
check "check shows the keys by id" grep -q "^admin keys  admin (reports, subjects, config)$" <<<"$out"
check "check starts nothing: no database is created" [ ! -e "$work/op/data/callswap.db" ]
out=$(cd / && "$bin" check --config "$work/op/callswap.json" 2>&1)
check "check without the secrets exits 1" [ $? = 1 ]
check "and names the missing variable" grep -q "webhooks.calls_secret.env: the environment variable CALLSWAP_CALLS_SECRET is not set" <<<"$out"
sed 's|sites/shop.json|sites/nope.json|' "$work/op/callswap.json" > "$work/op/missing-site.json"
out=$(cd / && env "${server_env[@]}" "$bin" check --config "$work/op/missing-site.json" 2>&1)
check "a site config file that is missing fails the check" [ $? = 1 ]
check "and is named with its field" grep -q "sites\[0\].config: cannot read the site config file $work/op/sites/nope.json" <<<"$out"
mv "$work/op/www" "$work/op/www-moved"
out=$(cd / && env "${server_env[@]}" "$bin" check --config "$work/op/callswap.json" 2>&1)
check "a missing static folder fails the check" [ $? = 1 ]
check "and is named" grep -q "static_dir: the folder \"$work/op/www\" does not exist" <<<"$out"
(cd / && env "${server_env[@]}" "$bin" --config "$work/op/callswap.json" 2>"$work/missing.log")
check "the server does not start without its static folder" [ $? = 2 ]
check "and says why" grep -q 'static_dir: the folder' "$work/missing.log"
mv "$work/op/www-moved" "$work/op/www"
(cd / && exec env "${server_env[@]}" "$bin" --config "$work/op/callswap.json" 2>>"$work/op.log") &
pid=$!
op_port=""
for _ in $(seq 100); do
  op_port=$(grep -o '"port":[0-9]*' "$work/op.log" | tail -1 | cut -d: -f2)
  [ -n "$op_port" ] && curl -sf "http://127.0.0.1:$op_port/healthz" >/dev/null && break
  sleep 0.05
done
check "started from another folder it serves the static folder next to its config" [ "$(curl -s "http://127.0.0.1:$op_port/callswap.js")" = sdk ]
check "and the site config from its file" grep -q '"site":"shop"' <<<"$(curl -s "http://127.0.0.1:$op_port/v1/sites/shop/config")"
check "keygen's admin key opens the admin API" [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $admin_key" "http://127.0.0.1:$op_port/v1/admin/sites")" = 200 ]
check "the database is where the config says" [ -e "$work/op/data/callswap.db" ]
check "it stops" stop

echo "server: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
checks_passed "server"
