#!/usr/bin/env bash
# Builds the libFuzzer targets of every parser with clang (ASan + UBSan + libFuzzer) and runs each one
# from its committed seed corpus (fuzz/corpus/<target>/) for SECONDS seconds (default 60). New inputs
# found go to a scratch corpus under the build tree, never into the repository. A crash, a sanitizer
# report or a failed property stops the run with the reproducer's path (exit 1).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 600 fuzz_json_tick
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_timeparse fuzz_csv fuzz_json_tick fuzz_itch fuzz_moldudp64 fuzz_settings fuzz_capi_config)
fi
dir=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTICKFORGE_SANITIZE=fuzz \
  -DTICKFORGE_BUILD_TESTS=OFF -DTICKFORGE_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j "$(nproc)" --target fuzzers
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
for t in "${targets[@]}"; do
  scratch="$dir/corpus/$t"
  mkdir -p "$scratch" "$dir/crashes"
  log="$dir/$t.log"
  if ! "$dir/fuzz/$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$dir/crashes/$t-" "$scratch" "fuzz/corpus/$t" >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz: $t FAILED (reproducer in $dir/crashes/, full log $log)"
    exit 1
  fi
  runs=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1)
  echo "fuzz: $t ok: ${runs:-no summary} ($(ls "$scratch" | wc -l) inputs in the scratch corpus)"
done
