#!/usr/bin/env bash
# Runs every benchmark in full on this machine and keeps the raw results under
# perf/results/<date>-<commit>/ (JSON from Google Benchmark and tickforge-perf, the latency plots).
# Usage: scripts/run-benchmarks.sh [build-dir]      (default build-bench; configured Release here)
# Takes about 16 minutes on 2 cores. Nothing else should run meanwhile: every figure is a median of
# interleaved repetitions, but a busy machine still moves them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${1:-build-bench}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTICKFORGE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!perf/results' || echo "-dirty")
out=perf/results/$(date -u +%Y%m%d)-$commit
mkdir -p "$out"
echo "== results go to $out"

gbench() {  # name binary: 7 repetitions, interleaved at random so drifting machine state hits all alike
  "$build/bench/$2" --benchmark_enable_random_interleaving=true \
    --benchmark_out="$out/$1.json" --benchmark_out_format=json | tee "$out/$1.txt"
}
gbench bench_ring bench_ring
gbench bench_engine bench_engine

perf=$build/perf/tickforge-perf
# Open loop at 1 M ticks/s (the issue's latency target) and 100 k/s, ring and ReaderWriterQueue alternating.
"$perf" --mode rate --rate 100000,1000000 --transport both --rounds 3 --duration 5 --warmup 1 \
  --json "$out/perf_rate.json" --plot "$out/perf_rate.png" | tee "$out/perf_rate.txt"
# Saturation: as many ticks/s as the pipeline takes, alert callback only, then with the per-tick callback.
"$perf" --mode saturate --transport both --rounds 3 --duration 5 --warmup 1 \
  --json "$out/perf_saturate.json" | tee "$out/perf_saturate.txt"
"$perf" --mode saturate --callback update --transport both --rounds 3 --duration 5 --warmup 1 \
  --json "$out/perf_saturate_update.json" | tee "$out/perf_saturate_update.txt"
# A recorded feed: the five-ticker daily CSV replayed in laps at 1 M ticks/s.
"$perf" --source tests/data/plotly_dash-stock-ticker-demo.csv --rate 1000000 --transport both --duration 5 \
  --json "$out/perf_csv.json" --plot "$out/perf_csv.png" | tee "$out/perf_csv.txt"
# The open-loop check: the engine thread pauses 1 ms every 100 ms; the stall must show in the tail.
"$perf" --rate 1000000 --stall-us 1000 --stall-every-ms 100 --duration 5 \
  --json "$out/perf_stall.json" --plot "$out/perf_stall.png" | tee "$out/perf_stall.txt"
# The outputs: rows/s into a local PostgreSQL (binary vs text COPY) and the latency with the sinks on/off.
python3 scripts/bench-sinks.py "$build" | tee "$out/bench_sinks.txt"
# The dashboard's server: the engine's latency with 0, 50 and 100 event-stream clients; memory per client.
python3 scripts/bench-http.py "$build" | tee "$out/bench_http.txt"
if [ -x "$build/bench/bench_http_servers" ]; then
  python3 scripts/bench-http-libs.py "$build" | tee "$out/bench_http_libs.txt"
fi
{
  echo "commit $(git rev-parse HEAD)"
  echo "date   $(date -u +%FT%TZ)"
  echo "cpu    $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  echo "cores  $(nproc)"
  echo "kernel $(uname -r)"
  echo "cxx    $(c++ --version | head -1)"
  echo "flags  CMAKE_BUILD_TYPE=Release (-O3 -DNDEBUG), no -march (portable x86-64)"
} > "$out/machine.txt"
echo "== done: $out"
