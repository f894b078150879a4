#!/usr/bin/env bash
# The callswap CLI as a user drives it: output, exit codes and one-line errors.
# Usage: cli_test.sh path/to/callswap
set -u
cli=${1:?usage: cli_test.sh path/to/callswap}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

# expect NAME WANT_EXIT WANT_STDOUT WANT_STDERR_SUBSTRING -- command...
expect() {
  local name=$1 want_exit=$2 want_out=$3 want_err=$4
  shift 5
  local out err code
  out=$("$@" 2>"$work/err")
  code=$?
  err=$(cat "$work/err")
  if [ "$code" != "$want_exit" ] || [ "$out" != "$want_out" ] || [[ "$err" != *"$want_err"* ]]; then
    echo "FAIL: $name"
    echo "  exit $code (want $want_exit)"
    echo "  stdout: $out"
    echo "  want:   $want_out"
    echo "  stderr: $err (want to contain: $want_err)"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
  if [ -n "$want_err" ] && [ "$(printf '%s' "$err" | wc -l)" -gt 0 ]; then
    echo "FAIL: $name: the error is more than one line"
    failed=$((failed + 1))
  fi
}

printf 'Tel.: 030 1234567-0 · Fax +49 (0)30 1234568\n<a href="tel:+49-30-1234567;ext=2">☎ 030/123 45 67</a>\n' > "$work/page.html"

expect "scan prints one JSON line per match with byte offsets" 0 \
'{"start":6,"end":17,"text":"030 1234567","target":"+49301234567","kind":"text","form":"national","extension":"0"}
{"start":54,"end":72,"text":"tel:+49-30-1234567","target":"+49301234567","kind":"tel","form":"international"}
{"start":84,"end":97,"text":"030/123 45 67","target":"+49301234567","kind":"text","form":"national"}' "" -- \
  "$cli" scan --country DE --target +49301234567 "$work/page.html"

expect "scan reads standard input with -" 0 \
'{"start":0,"end":14,"text":"(555) 123-4567","target":"+15551234567","kind":"text","form":"national"}' "" -- \
  bash -c "printf '(555) 123-4567' | '$cli' scan --country US --target +15551234567 -"

expect "scan with several targets" 0 \
'{"start":6,"end":17,"text":"030 1234567","target":"+49301234567","kind":"text","form":"national","extension":"0"}
{"start":27,"end":44,"text":"+49 (0)30 1234568","target":"+49301234568","kind":"text","form":"international"}
{"start":54,"end":72,"text":"tel:+49-30-1234567","target":"+49301234567","kind":"tel","form":"international"}
{"start":84,"end":97,"text":"030/123 45 67","target":"+49301234567","kind":"text","form":"national"}' "" -- \
  "$cli" scan --country DE --target +49301234567 --target +49301234568 "$work/page.html"

expect "swap keeps the page's style and the extension" 0 \
'Tel.: 030 9876543-0 · Fax +49 (0)30 1234568
<a href="tel:+49309876543;ext=2">☎ 030/987 65 43</a>' "" -- \
  "$cli" swap --country DE --target +49301234567 --to +49309876543 "$work/page.html"

expect "swap pairs each --to with its --target" 0 \
'Tel.: 030 9876543-0 · Fax +49 (0)30 5555555
<a href="tel:+49309876543;ext=2">☎ 030/987 65 43</a>' "" -- \
  "$cli" swap --country DE --target +49301234567 --to +49309876543 --target +49301234568 --to +49305555555 "$work/page.html"

expect "a text without numbers gives no output" 0 "" "" -- \
  bash -c "printf 'Nothing to see' | '$cli' scan --country DE --target +49301234567"

expect "help" 0 "$("$cli" help)" "" -- "$cli" --help
# The version is set once, in the top-level CMakeLists.txt.
version=$(sed -n 's/^project(callswap VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")
expect "--version prints the project's version" 0 "callswap $version" "" -- "$cli" --version

expect "an invalid E.164 target is refused" 2 "" '"+49 30 1234567" is not a valid E.164 number' -- \
  "$cli" scan --country DE --target "+49 30 1234567" "$work/page.html"
expect "an invalid --to is refused" 2 "" '--to "0301234567" is not a valid E.164 number' -- \
  "$cli" swap --country DE --target +49301234567 --to 0301234567 "$work/page.html"
expect "an unknown country is refused" 2 "" 'unknown country "XY"' -- \
  "$cli" scan --country XY --target +49301234567 "$work/page.html"
expect "a missing country is refused" 2 "" "--country is required" -- \
  "$cli" scan --target +49301234567 "$work/page.html"
expect "a missing target is refused" 2 "" "at least one --target" -- \
  "$cli" scan --country DE "$work/page.html"
expect "swap without --to is refused" 2 "" "swap needs a --to" -- \
  "$cli" swap --country DE --target +49301234567 "$work/page.html"
expect "--to before any target is refused" 2 "" "--to must follow" -- \
  "$cli" swap --country DE --to +49301234567 "$work/page.html"
expect "an unknown option is refused" 2 "" "unknown option '--colour'" -- \
  "$cli" scan --colour --country DE --target +49301234567
expect "an unknown command is refused" 2 "" "unknown command 'find'" -- \
  "$cli" find --country DE --target +49301234567
expect "no command" 2 "" "missing command" -- "$cli"
expect "an unreadable file is an input error" 1 "" "cannot read '$work/missing.html'" -- \
  "$cli" scan --country DE --target +49301234567 "$work/missing.html"
printf 'Tel 030 1234567 \xff\xfe and more' > "$work/bad.txt"
expect "invalid UTF-8 is an input error naming the byte" 1 "" "not valid UTF-8 (first bad byte at offset 16)" -- \
  "$cli" scan --country DE --target +49301234567 "$work/bad.txt"

# Site configs.
configs=$(cd "$(dirname "$0")/../../examples/configs" && pwd)
expect "check-config prints a one-line summary for a good config" 0 \
  "$configs/minimal.json: ok: site plumber-berlin (DE): 1 target number(s), 2 source(s) (0 with a dynamic pool, default direct), consent any of tcf,consent_mode,manual" "" -- \
  "$cli" check-config "$configs/minimal.json"
printf '{"site": "x", "country": "DE", "targets": ["+49 30"], "sources": [{"id": "a", "static": "+49301234567", "match": {}}], "extra": 1}' > "$work/bad.json"
out=$("$cli" check-config "$work/bad.json" 2>&1); code=$?
if [ "$code" = 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 3 ] \
   && [[ "$out" == *"bad.json: extra: unknown field"* ]] \
   && [[ "$out" == *'bad.json: targets[0]: "+49 30" is not a valid E.164 number'* ]] \
   && [[ "$out" == *"bad.json: sources[0].match: the source can never match"* ]]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAIL: check-config lists every error (exit $code): $out"
fi
printf '{"site": ' > "$work/truncated.json"
expect "check-config names where the JSON breaks" 1 "" "invalid JSON at line 1, column 10: unexpected end of input" -- \
  "$cli" check-config "$work/truncated.json"
expect "check-config without a file" 2 "" "usage: callswap check-config FILE" -- "$cli" check-config
expect "source names the source and why" 0 \
'source google-ads (click id gclid), static number +49301111111, dynamic numbers from pool google-ads
campaign {"utm_source":"google","utm_medium":"cpc","click_id":"gclid"}' "" -- \
  "$cli" source --config "$configs/acme.json" --url "https://acme.example/?utm_source=google&utm_medium=cpc&gclid=SECRET" --referrer "https://www.google.de/"
expect "source by referrer group" 0 \
'source organic (referrer duckduckgo.com in group search), static number +49301111115
campaign {}' "" -- \
  "$cli" source --config "$configs/acme.json" --url "https://acme.example/" --referrer "https://duckduckgo.com/"
expect "source needs --url" 2 "" "usage: callswap source" -- "$cli" source --config "$configs/acme.json"
expect "source refuses an unknown option" 2 "" "unknown option '--ref'" -- "$cli" source --ref x

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
