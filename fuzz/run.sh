#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS; fails if any target finds a crash, a
# timeout or a memory blow-up. See docs/fuzzing.md.
#
#   fuzz/run.sh SECONDS [TARGET...]      # every target when none is named
#
# FUZZ_JOBS=N runs N targets at once (default 1: one core). Each target grows its own corpus in
# fuzz/work/<target>/ (not committed) from the seeds in fuzz/corpus/<target>/; findings go to
# fuzz/artifacts/<target>/, logs to fuzz/work/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
jobs=${FUZZ_JOBS:-1}

# One build serves every run; libFuzzer's flags bound each run: time, memory, and the time one
# input may take (a hang or super-linear input fails the run instead of stalling it).
export CARGO_INCREMENTAL=0
cargo +nightly fuzz build
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin=target/$triple/release

if [ $# -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
else
    targets=("$@")
fi

mkdir -p work/logs
run() {
    local target=$1
    mkdir -p "work/$target" "artifacts/$target"
    "$bin/$target" "work/$target" "corpus/$target" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="artifacts/$target/" \
        >"work/logs/$target.log" 2>&1
}

failed=()
pids=()
names=()
wait_one() {
    local pid=${pids[0]} name=${names[0]}
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
    if wait "$pid"; then
        echo "ok      $name: $(grep -m1 'DONE ' "work/logs/$name.log" || true)"
    else
        echo "FAILED  $name: see fuzz/work/logs/$name.log and fuzz/artifacts/$name/"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|thread .* panicked)' "work/logs/$name.log" | head -5 || true
        failed+=("$name")
    fi
}
for target in "${targets[@]}"; do
    [ ${#pids[@]} -ge "$jobs" ] && wait_one
    run "$target" &
    pids+=($!)
    names+=("$target")
done
while [ ${#pids[@]} -gt 0 ]; do
    wait_one
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found problems in: ${failed[*]}" >&2
    exit 1
fi
echo "no crash in ${#targets[@]} target(s), ${seconds}s each"
