#!/usr/bin/env bash
# Installs dependencies, then builds and runs every test in three builds:
#   1. Release            — all tests (unit, concurrent, end-to-end through the binary) and every
#                           benchmark and the perf harness in --quick mode (label "bench")
#   2. ThreadSanitizer    — the concurrent tests and the end-to-end runs of the binary, without librdkafka
#                           (it starts threads with C11 thrd_create, which GCC 12's TSan does not intercept;
#                           see tests/CMakeLists.txt) and with moodycamel's fences suppressed (scripts/tsan.supp)
#   3. AddressSanitizer + UndefinedBehaviorSanitizer — all tests
#   4. libFuzzer (clang, ASan + UBSan) — every parser's fuzz target for a few seconds from its committed
#      seed corpus (scripts/fuzz.sh; run it with a longer time to fuzz for real)
# Usage: scripts/test.sh            (from the repository root; build trees go to build-*/)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

build() {  # build DIR [cmake args…]
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

# check DIR [ctest args…]: ctest; when a test fails, its output again as the last thing printed (a long
# log is often cut in the middle, where --output-on-failure put it), then exit 1.
check() {
  local dir=$1
  shift
  if ctest --test-dir "$dir" -j "$jobs" --output-on-failure "$@"; then
    return 0
  fi
  echo "== failed in $dir, their output again:"
  local name
  while IFS=: read -r _ name; do
    awk -v t="$name" '$2 == "Test:" && $3 == t {p = 1} p {print} /^<end of output>/ {p = 0}' \
      "$dir/Testing/Temporary/LastTest.log" | tail -n 60
  done <"$dir/Testing/Temporary/LastTestsFailed.log"
  exit 1
}

echo "== Release build: all tests"
build build-release
# The browser test registers only where node, chromium and playwright-core are (install-deps put them
# here): on this machine it must be there, not silently skipped.
if ! ctest --test-dir build-release -N -R '^browser[.]dashboard$' | grep -q "Total Tests: 1"; then
  echo "scripts/test.sh: browser.dashboard is not registered (see the CMake warning above)" >&2
  exit 1
fi
check build-release

echo "== ThreadSanitizer build: concurrent and end-to-end tests"
build build-tsan -DTICKFORGE_SANITIZE=thread -DTICKFORGE_BUILD_BENCH=OFF
# setarch -R: TSan on newer kernels needs ASLR off for its shadow memory layout.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp" \
  setarch "$(uname -m)" -R bash -c "$(declare -f check); jobs=$jobs; check build-tsan -L 'concurrent|e2e'"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build: all tests"
build build-asan -DTICKFORGE_SANITIZE=address -DTICKFORGE_BUILD_BENCH=OFF
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  check build-asan

echo "== libFuzzer build: every parser's fuzz target, ${TICKFORGE_FUZZ_SECONDS:-10} s each from its seeds"
scripts/fuzz.sh "${TICKFORGE_FUZZ_SECONDS:-10}"

echo "== all test builds passed"
