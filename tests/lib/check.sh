# The shell tests' one way to check: `check NAME COMMAND...` runs COMMAND, counts it and
# says FAIL with NAME when it fails; `checks_passed LABEL` prints the counts and fails if
# any check did. Sourced by tests/server/server_binary_test.sh and tests/deploy/nginx_test.sh.
passed=0
failed=0
check() {  # NAME CONDITION...
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name"; fi
}
checks_passed() {  # LABEL
  echo "$1: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
