#!/usr/bin/env bash
# The privacy scan: every server log line written during the test run (the
# in-process server tests, the server binary test and the browser tests collect theirs in
# CALLSWAP_TEST_LOG_DIR) must hold no test caller's number and no session id.
# Usage: log_scan.sh LOG_DIR        (ctest runs it after the tests that write the logs)
set -u
dir=${1:?usage: log_scan.sh LOG_DIR}
shopt -s nullglob
logs=("$dir"/*.log)
if [ ${#logs[@]} -eq 0 ]; then
  echo "log scan: no logs in $dir: the tests that write them did not run" >&2
  exit 1
fi
failed=0
total=0
for log in "${logs[@]}"; do
  lines=$(wc -l <"$log")
  total=$((total + lines))
  echo "log scan: $(basename "$log"): $lines lines"
done
[ "$total" -ge 20 ] || { echo "log scan: only $total lines: too few to mean anything" >&2; exit 1; }
# The callers the tests use, in every spelling a log could carry them.
callers='(\+?49|0)?(15112345678|17699887766)|491511234567[0-9]'
if grep -HnE "$callers" "${logs[@]}"; then
  echo "log scan: a caller's number is in the logs (above)" >&2
  failed=1
fi
# A session id is exactly 32 hex digits.
if grep -HnE '(^|[^0-9a-f])[0-9a-f]{32}([^0-9a-f]|$)' "${logs[@]}"; then
  echo "log scan: a session id is in the logs (above)" >&2
  failed=1
fi
[ "$failed" -eq 0 ] && echo "log scan: $total lines, no caller number, no session id"
exit "$failed"
