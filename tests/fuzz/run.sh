#!/usr/bin/env bash
# Runs the libFuzzer targets built in build-fuzz/ (see `make fuzz` and `make fuzz-long`).
#
#   tests/fuzz/run.sh short SECONDS SEED [TARGET...]  each target in turn for SECONDS, after
#       replaying its committed corpus and regressions; fails on the first crash.
#   tests/fuzz/run.sh long RUNS JOBS [TARGET...]     each target to RUNS executions, JOBS at
#       a time, then a table of executions, coverage (cov, ft) and time per target
#       (FUZZ_MAX_SECONDS, if set, stops a target after that many seconds).
#
#   tests/fuzz/run.sh report [TARGET...]             the table again, from the logs.
#   tests/fuzz/run.sh merge [TARGET...]              minimises what the runs found together
#       with the committed corpus (-merge=1) into tests/fuzz/<name>/corpus.
#
# Each target reads tests/fuzz/<name>/seeds (hand-written inputs), corpus (what fuzzing
# found, minimised) and regressions (inputs that once crashed it), and grows
# build-fuzz/corpus/<name> (git-ignored). A crash leaves its input in
# build-fuzz/artifacts/<name>-crash-*; keep it in tests/fuzz/<name>/regressions once fixed.
set -euo pipefail
cd "$(dirname "$0")/../.."

ALL_TARGETS=(matcher config compact operator_config session_request call_webhook twilio request_path admin conversion_feed time_zone)
mode=${1:?"usage: $0 short SECONDS SEED | long RUNS JOBS | merge [TARGET...]"}
shift

# The corpus directories and options of one target.
fuzzer_args() {
  local name=$1
  mkdir -p "build-fuzz/corpus/$name" build-fuzz/artifacts
  local args=("-artifact_prefix=build-fuzz/artifacts/$name-" "-print_final_stats=1")
  for dict in tests/fuzz/"$name"/*.dict; do [[ -e $dict ]] && args+=("-dict=$dict"); done
  args+=("build-fuzz/corpus/$name")
  for dir in seeds corpus regressions; do
    if [[ -d tests/fuzz/$name/$dir ]]; then args+=("tests/fuzz/$name/$dir"); fi
  done
  printf '%s\n' "${args[@]}"
}

# A table of the long runs' figures from their logs in build-fuzz/logs/.
report() {
  local runs_wanted=${runs:-${FUZZ_RUNS:-10000000}}
  printf '%-22s %12s %8s %8s %9s %8s  %s\n' target executions cov ft seconds exec/s result
  for name in "$@"; do
    log=build-fuzz/logs/$name.log
    [[ -f $log ]] || continue
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
    elapsed=$(sed -n 's/^elapsed_seconds: \([0-9]*\) exit: \([0-9]*\)/\1/p' "$log")
    code=$(sed -n 's/^elapsed_seconds: [0-9]* exit: \([0-9]*\)/\1/p' "$log")
    result=ok
    if [[ -z $code ]]; then
      # Still running, or stopped from outside: the last status line's figures.
      execs=$(sed -n 's/^#\([0-9]*\)[[:space:]].*/\1/p' <<<"$done_line")
      rate=$(sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p' <<<"$done_line")
      result="not finished"
    elif grep -q 'libFuzzer: run interrupted' "$log"; then
      result="interrupted"
    elif grep -q 'libFuzzer: fuzzing process timed out' "$log" || [[ $code != 0 ]]; then
      result="FAILED (exit $code, see $log)"
    elif [[ ${execs:-0} -lt $runs_wanted ]]; then
      result="time cap reached"
    fi
    printf '%-22s %12s %8s %8s %9s %8s  %s\n' "${name}_fuzz" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${elapsed:-?}" "${rate:-?}" "$result"
  done
}

# The targets named on the command line, or all of them.
pick_targets() {
  targets=("${ALL_TARGETS[@]}")
  if [[ $# -gt 0 ]]; then targets=("$@"); fi
  mkdir -p build-fuzz/logs
}

case $mode in
  short)
    seconds=${1:?seconds}
    seed=${2:?seed}
    shift 2
    pick_targets "$@"
    for name in "${targets[@]}"; do
      mapfile -t args < <(fuzzer_args "$name")
      log=build-fuzz/logs/$name-short.log
      if "build-fuzz/bin/${name}_fuzz" -max_total_time="$seconds" -seed="$seed" "${args[@]}" >"$log" 2>&1; then
        echo "${name}_fuzz: $(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)"
      else
        cat "$log" >&2
        echo "${name}_fuzz failed: the input is in build-fuzz/artifacts/" >&2
        exit 1
      fi
    done
    ;;
  long)
    runs=${1:?runs}
    jobs=${2:?jobs}
    shift 2
    pick_targets "$@"
    export runs
    run_one() {
      local name=$1
      mapfile -t args < <(fuzzer_args "$name")
      local start=$SECONDS
      local status=0
      # FUZZ_MAX_SECONDS caps a target's time when the machine cannot give it enough.
      "build-fuzz/bin/${name}_fuzz" -runs="$runs" -max_total_time="${FUZZ_MAX_SECONDS:-0}" "${args[@]}" \
        >"build-fuzz/logs/$name.log" 2>&1 || status=$?
      echo "elapsed_seconds: $((SECONDS - start)) exit: $status" >>"build-fuzz/logs/$name.log"
      return $status
    }
    export -f run_one fuzzer_args
    status=0
    printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}' || status=$?
    report "${targets[@]}"
    exit $status
    ;;
  report)
    pick_targets "$@"
    report "${targets[@]}"
    ;;
  merge)
    pick_targets "$@"
    for name in "${targets[@]}"; do
      [[ -d build-fuzz/corpus/$name ]] || continue
      # Minimise what the runs found together with what is committed into a fresh directory.
      rm -rf "build-fuzz/merged/$name"
      mkdir -p "build-fuzz/merged/$name"
      mkdir -p "tests/fuzz/$name/corpus" build-fuzz/logs
      # Only inputs up to FUZZ_MERGE_MAX_BYTES (200) are kept, so the committed corpora stay
      # small; the seeds hold the large realistic documents.
      rm -rf "build-fuzz/candidates/$name"
      mkdir -p "build-fuzz/candidates/$name"
      for dir in "tests/fuzz/$name/corpus" "build-fuzz/corpus/$name"; do
        find "$dir" -type f -size -"${FUZZ_MERGE_MAX_BYTES:-200}"c -exec cp -n -t "build-fuzz/candidates/$name" {} +
      done
      # A target without regressions (none has failed yet) has no such folder.
      kept_dirs=()
      for dir in regressions seeds; do
        [[ -d tests/fuzz/$name/$dir ]] && kept_dirs+=("tests/fuzz/$name/$dir")
      done
      "build-fuzz/bin/${name}_fuzz" -merge=1 "build-fuzz/merged/$name" "${kept_dirs[@]}" \
        "build-fuzz/candidates/$name" >"build-fuzz/logs/$name-merge.log" 2>&1
      # libFuzzer names merged inputs by their SHA-1: drop copies of seeds and regressions.
      for kept in "tests/fuzz/$name"/seeds/* "tests/fuzz/$name"/regressions/*; do
        [[ -f $kept ]] && rm -f "build-fuzz/merged/$name/$(sha1sum "$kept" | cut -d' ' -f1)"
      done
      rm -rf "tests/fuzz/$name/corpus"
      mv "build-fuzz/merged/$name" "tests/fuzz/$name/corpus"
      echo "$name: $(ls "tests/fuzz/$name/corpus" | wc -l) inputs, $(du -sk "tests/fuzz/$name/corpus" | cut -f1) KB"
    done
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
