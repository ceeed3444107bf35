// tickforge — a latency distribution summarised: what EngineStats and the perf harness report.
#pragma once

#include <cstdint>

namespace tickforge {

/// Percentiles of a latency distribution, in nanoseconds (count: samples).
struct LatencySummary {
  std::uint64_t count = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, p9999 = 0, max = 0;
};

}  // namespace tickforge
