// tickforge — log-linear latency histogram (HdrHistogram-style, fixed memory).
//
// Private header. Values 0..63 ns get a bucket each; above, each power of two is split into 32 buckets,
// so any recorded value is reported within 1/32 (~3 %) of itself. 1,920 counters, no allocation.
// Thread contract: one writer thread; read after the writer is joined (or accept torn snapshots).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

#include <tickforge/latency.hpp>

namespace tickforge {

class LatencyHistogram {
 public:
  static constexpr std::size_t kBuckets = 64 + 58 * 32;

  void record(std::int64_t ns) noexcept {
    const std::uint64_t v = ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
    ++counts_[index_of(v)];
    ++total_;
    sum_ += v;
    max_ = std::max(max_, v);
  }

  void merge(const LatencyHistogram& o) noexcept {
    for (std::size_t i = 0; i < kBuckets; ++i) {
      counts_[i] += o.counts_[i];
    }
    total_ += o.total_;
    sum_ += o.sum_;
    max_ = std::max(max_, o.max_);
  }

  /// Cumulative counts below each power of two from 2^LatencyBuckets::kMinLog2 ns: a bucket's values are
  /// all below 2^e once its upper bound is (every power of two from 64 up starts a bucket).
  [[nodiscard]] LatencyBuckets buckets() const noexcept {
    LatencyBuckets b;
    b.count = total_;
    b.sum_ns = sum_;
    std::uint64_t seen = 0;
    std::size_t i = 0;
    for (int k = 0; k < LatencyBuckets::kCount; ++k) {
      const std::uint64_t bound = std::uint64_t{1} << (LatencyBuckets::kMinLog2 + k);
      for (; i < kBuckets && upper_bound_of(i) < bound; ++i) {
        seen += counts_[i];
      }
      b.below[k] = seen;
    }
    return b;
  }

  void reset() noexcept { *this = LatencyHistogram{}; }

  [[nodiscard]] std::uint64_t count() const noexcept { return total_; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }

  /// Smallest bucket upper bound at or below which a fraction q of the values lie (0 when empty);
  /// never above max().
  [[nodiscard]] std::uint64_t percentile(double q) const noexcept {
    if (total_ == 0) {
      return 0;
    }
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_) + 0.5);
    const std::uint64_t want = std::clamp<std::uint64_t>(rank, 1, total_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= want) {
        return std::min(upper_bound_of(i), max_);
      }
    }
    return max_;
  }

  static constexpr std::size_t index_of(std::uint64_t v) noexcept {
    if (v < 64) {
      return static_cast<std::size_t>(v);
    }
    const int e = 63 - std::countl_zero(v);  // 6..63
    const auto sub = static_cast<std::size_t>((v >> (e - 5)) & 31);
    return 64 + static_cast<std::size_t>(e - 6) * 32 + sub;
  }
  static constexpr std::uint64_t upper_bound_of(std::size_t i) noexcept {
    if (i < 64) {
      return i;
    }
    const std::size_t e = (i - 64) / 32 + 6;
    const std::size_t sub = (i - 64) % 32;
    const std::uint64_t lo = (std::uint64_t{32} + sub) << (e - 5);
    return lo + (std::uint64_t{1} << (e - 5)) - 1;
  }

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

/// The percentiles the engine and the harness report.
inline LatencySummary summarize(const LatencyHistogram& h) noexcept {
  return LatencySummary{h.count(),           h.percentile(0.50),   h.percentile(0.90), h.percentile(0.99),
                        h.percentile(0.999), h.percentile(0.9999), h.max()};
}

}  // namespace tickforge
