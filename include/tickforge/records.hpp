// tickforge — what the engine hands to callbacks: fresh metrics per tick, and alert records.
//
// Both are fixed-size PODs. The engine fills a preallocated instance and passes a pointer that is valid
// only during the callback; copy what you keep.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <tickforge/config.hpp>
#include <tickforge/tick.hpp>

namespace tickforge {

/// Metrics after a tick. NaN means "not defined yet" (window not full, no previous tick, no volume).
struct TickMetrics {
  std::uint32_t n_windows;          ///< how many of the per-window arrays are used (config sma_windows)
  std::uint32_t windows[kMaxSmaWindows];  ///< the window lengths, ascending
  double sma[kMaxSmaWindows];       ///< simple moving average over N ticks
  double variance[kMaxSmaWindows];  ///< rolling variance over N ticks (config ddof)
  double stddev[kMaxSmaWindows];    ///< its square root
  double ema[kMaxSmaWindows];       ///< EMA, alpha = 2/(N+1), seeded with the first price (pandas adjust=False)
  double pct_change;                ///< (p / p_prev - 1) × 100
  double volatility;                ///< rolling std (config ddof) of pct_change over volatility_window ticks
  double window_high;               ///< highest price with event time in [t - T, t]
  double window_low;                ///< lowest price with event time in [t - T, t]
  double move_up_pct;               ///< (p - window_low) / window_low × 100
  double move_down_pct;             ///< (window_high - p) / window_high × 100
  double vwap;                      ///< Σ p·v / Σ v since the ticker's first tick of this run
  double cum_volume;                ///< Σ v since the ticker's first tick of this run
  double volume_mean;               ///< mean volume of the previous volume_window ticks (excludes this one)
};
static_assert(std::is_trivially_copyable_v<TickMetrics>);

/// One ticker's state as of the last tick its shard processed (Engine::snapshot). Unlike the per-tick
/// TickMetrics, volume_mean here includes the last tick.
struct TickerSnapshot {
  SymbolId symbol;
  char ticker[16];              ///< NUL-terminated
  std::uint64_t ticks;          ///< ticks processed for this ticker; 0: nothing below is defined
  std::int64_t last_event_ns;
  double last_price;
  double last_volume;
  TickMetrics metrics;
};
static_assert(std::is_trivially_copyable_v<TickerSnapshot>);

enum class Rule : std::uint8_t { kWindowMove, kTickChange, kVolatility, kSmaCross, kVolumeSpike, kCount };
enum class Direction : std::int8_t { kDown = -1, kNone = 0, kUp = 1 };

const char* to_string(Rule r) noexcept;       ///< "window_move", "tick_change", "volatility", ...
const char* to_string(Direction d) noexcept;  ///< "down", "none", "up"

/// One alert. `value` is the metric that crossed `threshold`; `reference` is what it was measured
/// against (window low/high, previous price, long SMA, mean volume; the volatility itself for rule c).
struct Alert {
  std::uint64_t id;          ///< unique per engine run: shard i emits i+1, i+1+shards, … in order
  std::uint64_t tick_seq;    ///< Tick::seq of the tick that fired it
  std::int64_t event_ns;     ///< Tick::event_ns
  std::int64_t ingest_ns;    ///< Tick::ingest_ns (steady clock)
  SymbolId symbol;
  std::uint32_t feed;
  Rule rule;
  Direction direction;
  char ticker[16];           ///< NUL-terminated
  double price;
  double reference;
  double value;
  double threshold;
  double sma_short;          ///< shortest SMA (NaN until defined)
  double sma_long;           ///< longest SMA
  double volatility;
  double pct_change;
  double volume;
};
static_assert(std::is_trivially_copyable_v<Alert>);

/// One ticker's summary of one trading day: the ticks whose event time falls in the local calendar day
/// (DailyConfig::zone), cut to the session when one is configured. Emitted when the ticker's first tick
/// of a later day arrives, or at stop for a day still open (partial).
struct DailySummary {
  SymbolId symbol;
  std::int32_t day;               ///< the local date as days since 1970-01-01
  char ticker[16];                ///< NUL-terminated
  std::int64_t start_ns;          ///< the day's (session's) bounds in UTC: [start_ns, end_ns)
  std::int64_t end_ns;
  std::int64_t first_ns;          ///< event time of the first and the last tick counted
  std::int64_t last_ns;
  double open, high, low, close;  ///< first, highest, lowest and last price
  double mean;                    ///< mean price of the ticks
  double vwap;                    ///< Σ p·v / Σ v (NaN when the day had no volume)
  double volume;                  ///< Σ v
  std::uint64_t ticks;
  std::uint32_t moves_up;         ///< tick-to-tick moves within the day of ≥ DailyConfig::move_pct up
  std::uint32_t moves_down;       ///< … and down
  std::uint32_t alerts[static_cast<std::size_t>(Rule::kCount)];  ///< alerts fired by the day's ticks, by rule
  bool partial;                   ///< emitted at stop before the day ended
};
static_assert(std::is_trivially_copyable_v<DailySummary>);

/// Alert callback: called on the shard thread that evaluated the tick; must not block.
using AlertFn = void (*)(void* user, const Alert* alert);
/// Per-tick update callback: the tick and its fresh metrics; same thread contract.
using UpdateFn = void (*)(void* user, const Tick* tick, const TickMetrics* metrics);
/// Daily-summary callback: same thread contract (the shard thread; at stop, its last act).
using DailyFn = void (*)(void* user, const DailySummary* summary);

}  // namespace tickforge
