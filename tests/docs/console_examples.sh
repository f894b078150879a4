#!/usr/bin/env bash
# Runs every ```console block of the given Markdown files and compares the output, so the
# docs cannot rot. "$ " starts a command; the lines after it, up to the next command or the
# end of the block, are its expected output. Commands run in a scratch folder, as if at the
# repository's root: `build` points at the real build tree and `examples` at the examples.
# Usage: console_examples.sh BUILD_DIR FILE.md...
set -u
build=$(cd "${1:?usage: console_examples.sh BUILD_DIR FILE.md...}" && pwd)
shift
passed=0
failed=0
for doc in "$@"; do
  scratch=$(mktemp -d)
  ln -s "$build" "$scratch/build"
  ln -s "$(cd "$(dirname "$0")/../.." && pwd)/examples" "$scratch/examples"
  mapfile -t lines < <(awk '/^```console$/{inside=1; next} /^```$/{if (inside) print "\x1e"; inside=0} inside' "$doc")
  command=""
  expected=""
  run_pending() {
    [ -n "$command" ] || return 0
    actual=$(cd "$scratch" && bash -c "$command" 2>&1)
    if [ "$actual" == "$expected" ]; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "FAIL: $doc: \$ $command"
      diff <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") | sed 's/^/  /'
    fi
    command=""
    expected=""
  }
  for line in "${lines[@]}"; do
    if [[ "$line" == $'\x1e' ]]; then
      run_pending
    elif [[ "$line" == '$ '* ]]; then
      run_pending
      command=${line#\$ }
    else
      expected+=${expected:+$'\n'}$line
    fi
  done
  run_pending
  rm -rf "$scratch"
done
echo "docs: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
