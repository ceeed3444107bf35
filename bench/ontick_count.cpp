// tickforge — exactly N ticks through ShardCore::on_tick, for instruction counts that repeat.
//
// bench_engine's OnTick/all_indicators_and_rules runs as many ticks as its timer asks for, so under
// callgrind the share of the warm-up (first ticks, growing deques, early recomputes) moves the per-tick
// count by a few instructions from run to run. This runs the same stream (perf::synthetic_source, 64
// tickers, replayed in laps) and the default configuration for a fixed count:
//
//   valgrind --tool=callgrind --toggle-collect='tickforge::ShardCore::on_tick*' build/bench/bench_ontick_count
//   (inclusive Ir of on_tick ÷ the ticks printed: the same number on any machine, loaded or not)
//
// Usage: bench_ontick_count [--ticks N] [--quick] (--benchmark_* flags, which the bench helper passes to
// every benchmark, are ignored). Exits non-zero when a tick is lost or no alert fired (the stream has
// jumps: the rules must see them).
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include <tickforge/config.hpp>

#include "engine_stream.hpp"
#include "shard_core.hpp"

int main(int argc, char** argv) {
  using namespace tickforge;
  std::size_t n = 300'000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      n = 70'000;  // a little over one lap of the stream
    } else if (std::strcmp(argv[i], "--ticks") == 0 && i + 1 < argc) {
      try {
        n = std::stoul(argv[++i]);
      } catch (const std::logic_error&) {
        std::fprintf(stderr, "bench_ontick_count: --ticks takes a whole number, not '%s'\n", argv[i]);
        return 2;
      }
    } else if (std::strncmp(argv[i], "--benchmark_", 12) == 0) {
      // the bench helper's flags for the Google Benchmark binaries (--benchmark_format=…): nothing to do
    } else {
      std::fprintf(stderr, "usage: bench_ontick_count [--ticks N] [--quick]\n");
      return 2;
    }
  }
  const tfbench::Stream& s = tfbench::stream();  // bench_engine's ticks
  const EngineConfig cfg;
  ShardCore core(cfg, cfg.max_tickers, 0, ShardIndex{1}, s.symbols);
  core.set_measure_latency(false);
  perf::Replay replay(s.src);
  for (std::size_t i = 0; i < n; ++i) {
    core.on_tick(replay.next());
  }
  const ShardCounters& c = core.counters();
  std::printf("ticks %llu alerts %llu\n", static_cast<unsigned long long>(c.ticks),
              static_cast<unsigned long long>(c.alerts));
  if (c.ticks != n || c.alerts == 0) {
    std::fprintf(stderr, "bench_ontick_count: %s\n", c.ticks != n ? "ticks lost" : "no alert over a stream with jumps");
    return 1;
  }
  return 0;
}
