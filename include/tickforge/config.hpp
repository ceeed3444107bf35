// tickforge — engine configuration (cold: built once, validated, then read-only).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tickforge {

/// What a feed does when the ring to a shard is full.
enum class FullPolicy : std::uint8_t {
  kBlock,       ///< back-pressure: the feed thread waits until the shard frees a slot (never loses a tick)
  kDropNewest,  ///< the tick being pushed is dropped and counted as drop reason "ring_full"
};

/// How a thread waits when it has no work.
enum class IdleKind : std::uint8_t {
  kBusySpin,   ///< pause instruction in a loop: lowest latency, burns the core (isolated cores only)
  kSpinYield,  ///< spin a while, then sched_yield()
  kBackoff,    ///< spin, then yield, then sleep 50 µs: the default, polite on a shared 2-core machine
  kSleep,      ///< sleep 1 ms at once
};

inline constexpr std::int64_t kNsPerSecond = 1'000'000'000;

/// Alert rule parameters. Global defaults, overridable per ticker. A threshold ≤ 0 disables its rule.
struct RuleParams {
  double window_move_pct = 5.0;        ///< (a) ≥ X % above the low or below the high within the window
  std::int64_t window_ns = 60 * kNsPerSecond;  ///< T: the event-time window [t - T, t]
  double tick_change_pct = 3.0;        ///< (b) |tick-to-tick change| ≥ X %
  double volatility_pct = 2.0;         ///< (c) volatility (std of % changes) ≥ X
  bool sma_cross = true;               ///< (d) shortest SMA crosses longest SMA
  double volume_spike_factor = 3.0;    ///< (e) volume ≥ F × mean volume of the previous ticks
  std::int64_t cooldown_ns = -1;       ///< per (ticker, rule, direction); -1: = window_ns; 0: no cooldown

  [[nodiscard]] std::int64_t effective_cooldown_ns() const noexcept {
    return cooldown_ns < 0 ? window_ns : cooldown_ns;
  }
};

/// The bounds of every engine setting, in one place: EngineConfig::validate() enforces them, the settings
/// table (flags, TOML, C API keys) shows and checks the same constants.
inline constexpr std::size_t kMaxSmaWindows = 8;
inline constexpr std::uint32_t kMaxWindowLength = 4096;       ///< ticks: SMA, volatility and volume windows
inline constexpr std::uint32_t kMaxTickers = 1u << 24;        ///< symbol table capacity
inline constexpr std::uint32_t kMinRingCapacity = 2;
inline constexpr std::uint32_t kMaxRingCapacity = 1u << 30;
inline constexpr std::uint32_t kMaxShards = 256;
inline constexpr std::uint32_t kMinExtremaCapacity = 2;
inline constexpr std::uint32_t kMaxExtremaCapacity = 65536;
inline constexpr std::uint32_t kMinExtremaPool = 4;
inline constexpr std::uint32_t kMaxExtremaPool = 65536;
/// A shard's high/low pool holds fewer entries than this (max_tickers × 2 × extrema_pool is checked).
inline constexpr std::uint64_t kMaxExtremaPoolEntries = std::uint64_t{1} << 31;

/// A time zone as the engine needs it: the UTC offset and the instants it changes, for the whole
/// supported event-time range. Built from the system tz database by the app layer (app/time_zone.hpp);
/// the engine itself knows no zone names. Default: UTC.
struct UtcOffsets {
  std::string name = "UTC";
  std::int32_t initial_offset_s = 0;        ///< local − UTC before the first transition, seconds
  std::vector<std::int64_t> transition_ns;  ///< ascending UTC instants at which the offset changes
  std::vector<std::int32_t> offset_s;       ///< the offset from transition_ns[i] on
};

inline constexpr std::int64_t kNsPerDay = 86'400 * kNsPerSecond;

/// Daily summaries (engine/day_calendar.hpp): per ticker and local calendar day.
struct DailyConfig {
  bool enabled = false;        ///< computed only when on (the pipeline turns it on for a daily sink)
  double move_pct = 5.0;       ///< a tick-to-tick move of ≥ X % (either way) within the day is counted
  UtcOffsets zone;             ///< the calendar day's time zone
  std::int64_t session_open_ns = 0;   ///< local time of day the session opens (0 = midnight)
  std::int64_t session_close_ns = 0;  ///< local time of day it closes, > open; 0 = the whole day
  [[nodiscard]] bool whole_day() const noexcept { return session_open_ns == 0 && session_close_ns == 0; }
};

struct EngineConfig {
  std::uint32_t max_tickers = 16384;                  ///< symbol table capacity (1 .. kMaxTickers)
  std::vector<std::uint32_t> sma_windows{5, 10, 20};  ///< SMA/variance/EMA periods in ticks, ascending
  std::uint32_t volatility_window = 0;                ///< ticks of returns; 0 = the longest SMA window
  std::uint32_t volume_window = 20;                   ///< ticks in the rolling mean volume (rule e)
  std::uint32_t ddof = 1;                             ///< 1: sample (pandas, Spark); 0: population (TA-Lib)
  std::uint32_t extrema_capacity = 4096;              ///< most entries of one window high/low deque
  std::uint32_t extrema_pool = 8;                     ///< the shards' shared deque storage: entries per deque, on average
  std::uint32_t ring_capacity = 65536;                ///< slots per (feed, shard) ring, rounded up to 2^k
  FullPolicy full_policy = FullPolicy::kBlock;
  std::uint32_t shards = 1;                           ///< engine shard threads; tickers split by id % shards
  RuleParams rules;                                   ///< global rule parameters
  std::vector<std::pair<std::string, RuleParams>> ticker_rules;  ///< per-ticker overrides
  DailyConfig daily;                                  ///< daily summaries (off unless a consumer wants them)

  /// Throws std::invalid_argument with a message naming the bad setting.
  void validate() const;
  [[nodiscard]] std::uint32_t effective_volatility_window() const noexcept {
    return volatility_window != 0 ? volatility_window : sma_windows.back();
  }
};

}  // namespace tickforge
