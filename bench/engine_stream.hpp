// tickforge benchmarks — the per-tick benchmarks' input: perf::synthetic_source (64 tickers, a random
// walk with jumps, 1 ms apart) and a symbol table holding its tickers (ids in order). bench_engine times
// ShardCore::on_tick over it; bench_ontick_count runs a fixed number of its ticks for callgrind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <tickforge/config.hpp>
#include <tickforge/symbol_table.hpp>
#include <tickforge/tick.hpp>

#include "harness.hpp"

namespace tfbench {

inline constexpr std::uint32_t kTickers = 64;
inline constexpr std::size_t kStream = 1 << 16;  // ticks cycled through (fits in L2 with the per-ticker state)

struct Stream {
  tickforge::perf::TickSource src = tickforge::perf::synthetic_source(kTickers, kStream);
  tickforge::SymbolTable symbols{tickforge::EngineConfig{}.max_tickers};
  const std::vector<tickforge::Tick>& ticks = src.ticks;
  Stream() {
    for (const std::string& name : src.names) {
      (void)symbols.intern(name);
    }
  }
};

/// Built once per process.
inline const Stream& stream() {
  static const Stream s;
  return s;
}

}  // namespace tfbench
