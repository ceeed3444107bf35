// tickforge — synthetic feed: a seeded random walk per ticker with occasional jumps and volume spikes,
// so that every alert rule fires. Deterministic: the same options give the same ticks.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <tickforge/engine.hpp>
#include <tickforge/symbol_table.hpp>
#include <tickforge/tick.hpp>
#include <vector>

namespace tickforge {

struct SyntheticOptions {
  std::vector<std::string> tickers;  ///< empty: `count` default names
  std::uint32_t count = 8;
  double rate = 0;  ///< ticks/s, 0 = as fast as possible
  std::uint64_t seed = 42;
  std::int64_t step_ns = 1'000'000;                         ///< event time between ticks
  std::int64_t start_event_ns = 1'704'205'800'000'000'000;  ///< 2024-01-02 14:30:00 UTC
  double jump_probability = 2e-4;
  double sigma = 0.0005;        ///< std of a tick's log return (0.05 %)
  std::uint64_t max_ticks = 0;  ///< 0 = until stopped
};

/// Event times run from start_event_ns in steps of step_ns; the feed ends before the first tick that would
/// leave the supported range (reached_time_limit()).
/// Thread contract: construct on the main thread (registers tickers: cold, may throw), then run() on
/// the feed thread. next() does not allocate.
class SyntheticFeed {
 public:
  SyntheticFeed(const SyntheticOptions& opt, SymbolTable& symbols);

  /// The next tick (symbol, price, volume, event time, seq); round-robin over the tickers.
  Tick next() noexcept;

  /// Publishes until `stop` is set or max_ticks ticks were sent; closes nothing (the caller does).
  void run(FeedPort& port, const std::atomic<bool>& stop) noexcept;

  [[nodiscard]] std::size_t ticker_count() const noexcept { return ids_.size(); }
  /// After run(): it ended because the next tick's event time would pass 2199-12-31 (kMaxEventNs).
  [[nodiscard]] bool reached_time_limit() const noexcept { return reached_time_limit_; }

  /// Default ticker names number `first`, `first + 1`, …: AAPL, MSFT, GOOGL, AMZN, META, NVDA, TSLA,
  /// AMD, then SYM00009 …
  static std::vector<std::string> default_tickers(std::uint32_t count, std::uint32_t first = 0);

 private:
  std::uint64_t rand() noexcept;  // xoshiro256**
  double uniform() noexcept { return static_cast<double>(rand() >> 11) * 0x1.0p-53; }

  SyntheticOptions opt_;
  std::vector<SymbolId> ids_;
  std::vector<double> prices_;
  std::uint64_t s_[4];
  std::uint64_t seq_ = 0;
  std::uint64_t ticks_in_range_ = 0;  // ticks whose event time stays ≤ kMaxEventNs
  bool reached_time_limit_ = false;
  std::size_t next_ticker_ = 0;
};

}  // namespace tickforge
