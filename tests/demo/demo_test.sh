#!/usr/bin/env bash
# scripts/demo (what `make demo` runs after building) starts, serves the site, the SDK and the
# admin page, and stops cleanly on Ctrl-C. The demo's behaviour in a browser is
# tests/browser/demo.test.js.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
"$root/scripts/demo" --site-port 0 --callswap-port 0 --db "$work/demo.db" >"$work/out" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q 'Ctrl-C stops it' "$work/out" && break; sleep 0.05; done
failed=0
check() { if "${@:2}"; then :; else echo "FAIL: $1"; failed=1; fi; }
site=$(grep -o 'Example website *http://[0-9.:]*/' "$work/out" | grep -o 'http.*')
admin=$(grep -o 'Admin report *http://[0-9.:]*/admin' "$work/out" | grep -o 'http.*')
check "it prints the site's URL" [ -n "$site" ]
check "it prints the admin page's URL" [ -n "$admin" ]
check "the site is served with the SDK's script tag" bash -c "curl -sf '$site' | grep -q 'callswap.js\" data-site=\"demo\"'"
check "the SDK is served" curl -sf -o /dev/null "${admin%/admin}/callswap.wasm"
check "its second module is served" curl -sf -o /dev/null "${admin%/admin}/callswap-decide.wasm"
check "the admin page is served" bash -c "curl -sf '$admin' | grep -q 'calls and pools'"
check "the examples are served" curl -sf -o /dev/null "${site}tcf/"
kill -INT "$pid"
wait "$pid"
check "Ctrl-C stops it with exit 0" [ $? = 0 ]
check "it says it stopped" grep -q 'stopped\.' "$work/out"
check "callswap-server stopped too" bash -c "! curl -s -o /dev/null '$admin'"
[ "$failed" = 0 ] && echo "demo: ok"
exit "$failed"
