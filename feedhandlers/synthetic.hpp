// tickforge — synthetic feed: a seeded, mean-reverting geometric random walk per ticker around a
// realistic start price, with occasional jumps and volume spikes so that every alert rule fires.
// Deterministic: the same options give the same ticks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tickforge/symbol_table.hpp>
#include <tickforge/tick.hpp>

#include "feed.hpp"
#include "xoshiro.hpp"

namespace tickforge {

struct SyntheticOptions {
  std::vector<std::string> tickers;  ///< empty: `count` default names
  std::uint32_t count = 8;           ///< tickers when no list is given
  double rate = 100'000;             ///< ticks/s, paced on the steady clock (open loop)
  bool saturate = false;             ///< as fast as possible instead (rate ignored)
  std::uint64_t seed = 42;
  std::int64_t step_ns = 1'000'000;                         ///< event time between ticks
  std::int64_t start_event_ns = 1'704'205'800'000'000'000;  ///< 2024-01-02 14:30:00 UTC
  double jump_probability = 2e-4;    ///< per tick: a 5–12 % jump (then reverting)
  double sigma = 0.0005;             ///< std of a tick's log return (0.05 %)
  double reversion = 0.002;          ///< share of the log distance to the start price closed per tick
  std::uint64_t max_ticks = 0;       ///< 0 = until stopped
  std::uint32_t index = 0;           ///< the feed's number in its run: its label is synthetic#index
};

/// Event times run from start_event_ns in steps of step_ns; the feed ends before the first tick that
/// would leave the supported range (its report says so). Prices follow
///   log p ← log p + reversion·(log p₀ − log p) + σ·z (+ a jump), p₀ the ticker's start price,
/// so they wander a few percent around p₀ and come back after a jump (AAPL stays near 190, never 0.77).
/// Thread contract: construct on the owning thread (registers tickers: cold, may throw), then the agent
/// runs on the feed thread. next() does not allocate.
class SyntheticFeed final : public Feed {
 public:
  SyntheticFeed(const SyntheticOptions& opt, SymbolTable& symbols);

  /// The next tick (symbol, price, volume, event time, seq); round-robin over the tickers.
  Tick next() noexcept;

  std::size_t do_work() noexcept override;
  [[nodiscard]] bool done() const noexcept override { return ended_ || stop_requested(); }
  [[nodiscard]] std::string label() const override;
  void report(FeedReport& out) const override;

  [[nodiscard]] std::size_t ticker_count() const noexcept { return ids_.size(); }
  /// It ended because the next tick's event time would pass 2199-12-31 (kMaxEventNs).
  [[nodiscard]] bool reached_time_limit() const noexcept { return reached_time_limit_; }

  /// Default ticker names number `first`, `first + 1`, …: AAPL, MSFT, GOOGL, AMZN, META, NVDA, TSLA,
  /// AMD, then SYM00009 …
  static std::vector<std::string> default_tickers(std::uint32_t count, std::uint32_t first = 0);

 private:
  std::uint64_t rand() noexcept { return rng_(); }
  double uniform() noexcept { return rng_.uniform(); }

  SyntheticOptions opt_;
  std::vector<SymbolId> ids_;
  std::vector<double> log_start_;  // log of each ticker's start price
  std::vector<double> log_price_;
  Xoshiro256ss rng_;
  std::uint64_t seq_ = 0;
  std::size_t next_ticker_ = 0;
  std::uint64_t ticks_in_range_ = 0;  // ticks whose event time stays ≤ kMaxEventNs
  std::uint64_t limit_ = 0;           // ticks this run publishes: min(max_ticks, ticks_in_range_)
  std::int64_t wall0_ = -1;           // steady clock of tick 0 (paced), set by the first duty cycle
  double interval_ns_ = 0;
  bool ended_ = false;
  bool reached_time_limit_ = false;
};

}  // namespace tickforge
