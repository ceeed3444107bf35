// tickforge — a latency distribution summarised: what EngineStats and the perf harness report.
#pragma once

#include <cstdint>

namespace tickforge {

/// Percentiles of a latency distribution, in nanoseconds (count: samples).
struct LatencySummary {
  std::uint64_t count = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, p9999 = 0, max = 0;
};

/// The same distribution as cumulative counts at powers of two nanoseconds (a Prometheus histogram):
/// below[k] = samples below 2^(kMinLog2 + k) ns, exactly (the histogram's buckets end there).
struct LatencyBuckets {
  static constexpr int kMinLog2 = 7;  ///< 128 ns
  static constexpr int kCount = 30;   ///< up to 2^36 ns ≈ 68.7 s
  std::uint64_t below[kCount] = {};
  std::uint64_t count = 0;
  std::uint64_t sum_ns = 0;           ///< of every sample (negative samples count as 0)
};

}  // namespace tickforge
