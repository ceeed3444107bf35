#!/usr/bin/env bash
# Kafka figures for BENCHMARKS.md, all against the embedded (mock) cluster on this machine:
#   1. alerts/s delivered: a synthetic run whose rules fire on most ticks saturates the publisher
#   2. Kafka ticks/s consumed and processed: 300k JSON ticks produced first, then read to the end
#   3. the engine's tick → alert-callback latency with the publisher running vs without Kafka, at an
#      offered 1 M ticks/s, rounds interleaved so both see the same machine state
# Usage: scripts/bench-kafka.sh [BUILD_DIR]   (default build/; Release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build}/tickforge
rounds=${ROUNDS:-3}
common=(--feed-cpu 0 --engine-cpu 1 --print-alerts 0)

echo "== 1. alerts/s delivered to the embedded cluster (tick-change 0.01 %: an alert on most ticks)"
for r in $(seq "$rounds"); do
  "$bin" run "${common[@]}" --duration 5 --rate 200000 --tick-change-pct 0.01 --cooldown 1ns \
    --publish-queue 1048576 2>&1 | grep -E "kafka alerts|ticks processed" | sed 's/^/  /' || true
done

echo "== 2. Kafka ticks/s consumed and processed (200,000 JSON ticks, 6 partitions: under the mock's ~5 MiB per partition)"
log=$(mktemp)
"$bin" broker --topics bench.ticks --partitions 6 >"$log" 2>/dev/null &
broker=$!
trap 'kill $broker 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do [ -s "$log" ] && break; sleep 0.1; done
addr=$(head -1 "$log")
"$bin" produce --brokers "$addr" --topic bench.ticks --max-ticks 200000 2>&1 | sed 's/^/  /'
for r in $(seq "$rounds"); do
  "$bin" run "${common[@]}" --brokers "$addr" --feed kafka:bench.ticks --group-id "bench-$r-$$" \
    --stop-at-eof true --publish-alerts false --kafka session.timeout.ms=6000 --kafka heartbeat.interval.ms=1000 \
    2>&1 | grep -E "consumed|messages [0-9]+  ticks" | sed 's/^/  /'
done

echo "== 3. tick → alert callback latency, 1 M ticks/s offered, with the Kafka publisher vs without"
for r in $(seq "$rounds"); do
  for publish in true false; do
    echo "  round $r, publish-alerts $publish:"
    "$bin" run "${common[@]}" --duration 5 --rate 1000000 --jump-prob 0.002 --publish-alerts "$publish" 2>&1 |
      grep -E "latency|kafka alerts" | sed 's/^/    /'
  done
done
