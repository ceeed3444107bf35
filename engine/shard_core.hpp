// tickforge — one shard's per-ticker calculators and alert rules (the per-tick hot path).
//
// Private header. A ShardCore owns flat arrays sized at construction for `capacity` tickers, indexed by
// the shard-local id (ShardIndex::local_of). on_tick() is O(1) per tick: it updates every indicator, checks
// the five rules, and calls the registered callbacks with pointers to preallocated records.
// Target: all indicators and rules together ≤ 25 ns per tick (measured 47–58 ns on a Zen 4 VM at 553
// instructions, 536 now; two windows per SSE2 instruction: BENCHMARKS.md, issue 15). on_ticks() serves a run of
// the ring, prefetching the state of the ticks ahead for large universes. No allocation, lock, syscall,
// exception or virtual call. The only clock read is the TSC-based latency clock (clock.hpp).
//
// Thread contract: one thread calls on_tick(); the constructor, configuration setters and readers of
// counters run before that thread starts or after it is joined.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#include <tickforge/config.hpp>
#include <tickforge/engine.hpp>  // ShardIndex
#include <tickforge/records.hpp>
#include <tickforge/symbol_table.hpp>
#include <tickforge/tick.hpp>

#include "day_calendar.hpp"
#include "extrema_pool.hpp"
#include "latency_histogram.hpp"
#include "rolling_moments.hpp"

namespace tickforge {

inline constexpr std::size_t kRuleCount = static_cast<std::size_t>(Rule::kCount);

/// The smallest double v with sqrt(v) ≥ x, for x > 0 (+∞ when only +∞ qualifies). sqrt is correctly
/// rounded, hence monotonic, so "sqrt(v) ≥ x" and "v ≥ sqrt_threshold(x)" decide alike for every double v
/// (NaN: both false): the volatility rule compares the variance, with no square root per tick.
double sqrt_threshold(double x) noexcept;

/// Counters of one shard. Written by the shard thread; read after it is joined.
struct ShardCounters {
  std::uint64_t ticks = 0;
  std::uint64_t late_ticks = 0;          ///< event time older than the ticker's previous tick (clamped)
  std::uint64_t extrema_evictions = 0;   ///< window high/low deque full: oldest entry dropped
  std::uint64_t extrema_pool_full = 0;   ///< of those, the deque was below extrema_capacity but the pool was full
  std::uint64_t alerts = 0;
  std::uint64_t suppressed = 0;          ///< rule met but inside the cooldown
  std::array<std::array<std::uint64_t, 3>, kRuleCount> by_rule{};  ///< [rule][direction + 1]
};

class ShardCore {
 public:
  /// rules[0] holds the global parameters; per-ticker overrides refer to later entries.
  /// Alert ids of shard i are i+1, i+1+shards, … so they are unique per engine.
  ShardCore(const EngineConfig& cfg, std::uint32_t capacity, std::uint32_t shard_index, ShardIndex shards,
            const SymbolTable& symbols);
  ShardCore(const ShardCore&) = delete;
  ShardCore& operator=(const ShardCore&) = delete;

  // ---- configuration (before the shard thread runs) ----
  void add_alert_callback(AlertFn fn, void* user);   ///< throws std::length_error past kMaxAlertCallbacks
  void set_update_callback(UpdateFn fn, void* user) noexcept;
  void add_daily_callback(DailyFn fn, void* user);   ///< throws std::length_error past kMaxAlertCallbacks
  /// Per-ticker rule parameters (params are copied). Throws std::length_error past 65,535 sets.
  void set_ticker_rules(SymbolId symbol, const RuleParams& params);
  void set_measure_latency(bool on) noexcept { measure_latency_ = on; }

  // ---- hot path ----
  void on_tick(const Tick& t) noexcept;
  /// Exactly n calls of on_tick() in order, and, when the registered tickers' state outgrows the caches,
  /// the state of the ticks kPrefetchFar and kPrefetchNear places ahead is prefetched so that their
  /// misses overlap this tick's work (far: the lines at fixed places; near: the ones the far lines
  /// locate: the history slots and the deques' ends).
  void on_ticks(const Tick* ticks, std::size_t n) noexcept;
  static constexpr std::size_t kPrefetchFar = 8;
  static constexpr std::size_t kPrefetchNear = 4;
  /// Emits every ticker's open day (marked partial) and forgets it. The shard thread at its end, or
  /// the owner when the shard never ran. Cold.
  void close_days() noexcept;

  // ---- read-outs (after the shard thread is joined) ----
  [[nodiscard]] const ShardCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const LatencyHistogram& process_latency() const noexcept { return lat_process_; }
  [[nodiscard]] const LatencyHistogram& alert_latency() const noexcept { return lat_alert_; }
  /// The ticker's metrics as of its last tick: exactly the TickMetrics the update callback received for
  /// it. Shard thread, or any thread while it does not run.
  void snapshot(SymbolId symbol, TickerSnapshot* out) const noexcept;
  /// Highest occupancy seen by the rings this shard consumes is tracked by the rings; the counters and
  /// histograms are copied/merged here. Same thread contract as snapshot().
  void readout(ShardCounters* counters, LatencyHistogram* process, LatencyHistogram* alert) const noexcept {
    *counters = counters_;
    process->merge(lat_process_);
    alert->merge(lat_alert_);
  }
  void reset_latency() noexcept {
    lat_process_.reset();
    lat_alert_.reset();
  }

 private:
  struct RuleGates;  // below: a rule set's per-tick constants
  // 16 bytes of a per-ticker block, aligned for the SSE2 pairs (MomentPair).
  struct alignas(16) Chunk16 {
    unsigned char bytes[16];
  };
  // One window high/low deque: a ring of `entries_of(cls)` entries at `block` of the shard's pool.
  struct Deque {
    std::uint32_t head;   // front at (head & mask), back at ((head + size - 1) & mask)
    std::uint32_t size;
    std::uint32_t block;  // offset in ext_ (0 and unused before the ticker's first tick)
  };
  // What every tick of a ticker reads and writes first: one cache line, line-aligned in its array.
  struct alignas(kCacheLine) TickerCore {
    double last_price;
    std::int64_t last_event_ns;
    std::uint64_t ticks;            // prices seen
    Deque max, min;                 // window high (prices decreasing front to back) and low (increasing)
    std::uint16_t params;
    std::int8_t cross_sign;         // last nonzero sign of (short SMA - long SMA)
    std::uint16_t max_mask, min_mask;  // the deques' block sizes in ext_, minus one
    std::uint16_t hist_slot, volu_slot;  // where the next price and volume go
    std::uint16_t cool;             // the (rule, direction) bits (rule_bit()) inside their cooldown
  };
  static_assert(sizeof(TickerCore) == kCacheLine, "TickerCore is one cache line");
  static_assert(kMaxWindowLength + 1 <= UINT16_MAX, "a history ring's slot fits TickerCore's 16-bit slot indices");
  // Daily summary of the ticker's current day: what every tick reads and writes, two cache lines.
  struct alignas(kCacheLine) DayState {
    // line 1: the bounds checked and the sums updated per tick
    std::int64_t end_ns;     // a tick at or after it starts the next day (kNever: no day yet)
    std::int64_t open_ns;    // the session [open_ns, close_ns) in UTC (= the day without a session)
    std::int64_t close_ns;
    double high, low, close;
    double sum_p, sum_pv;
    // line 2
    double sum_v;
    std::uint64_t ticks;     // ticks counted (in the session)
    std::int64_t first_ns, last_ns;
    double open;
    std::int64_t start_ns;
    std::int32_t day;
    std::uint32_t moves_up, moves_down;
  };
  static_assert(sizeof(DayState) == 2 * kCacheLine, "DayState is two cache lines");
  static_assert(offsetof(DayState, sum_v) == kCacheLine, "the per-tick bounds and sums share the first line");
  struct TickerAux {
    MomentPair rv;                              // lane 0: the returns (volatility), lane 1: the volumes
    Double2 vwap_sum, vwap_comp;                // lanes {Σ price × volume, Σ volume}, Neumaier-compensated
    double volume_mean;                         // mean volume of the previous volume_window ticks, as the last tick saw it
    // TickerCore::cool is exact until this event time: the earliest end of a cooldown in it (INT64_MAX:
    // none, or one that never ends).
    std::int64_t cool_until;
    std::int64_t last_alert_ns[kRuleCount][2];  // [rule][down, up/none]; INT64_MIN = never
  };

  // The per-tick steps take the ticker's state by reference from on_tick(): its address is computed once.
  [[gnu::always_inline]] inline void update_metrics(TickerCore& c, TickerAux& a, const RuleGates& g,
                                                    std::uint32_t local, const Tick& t, std::int64_t event_ns) noexcept;
  /// SMA, variance and EMA of every window from the shared price history; kWindows = the window count
  /// when known at compile time (unrolled), 0 = n_windows_.
  template <std::uint32_t kWindows>
  [[gnu::always_inline]] inline void price_windows(const HistRing& hist, std::uint64_t seen, Chunk16* block,
                                                   double p) noexcept;
  /// A ticker's price windows (the block at price_blk_): windows 2j and 2j + 1 in pair j, the last one of
  /// an odd count alone after the pairs, then every window's EMA. kWindows as in price_windows(). The
  /// addresses are computed on the block's bytes and laundered into the objects the constructor placed
  /// there; pairs_of() only when there is a pair (two windows or more).
  /// The window count: kWindows when known at compile time, else n_windows_.
  template <std::uint32_t kWindows = 0>
  [[nodiscard]] std::uint32_t windows_count() const noexcept {
    return kWindows != 0 ? kWindows : n_windows_;
  }
  template <std::uint32_t kWindows = 0>
  [[nodiscard]] MomentPair* pairs_of(Chunk16* block) const noexcept {
    return std::launder(reinterpret_cast<MomentPair*>(block));
  }
  template <std::uint32_t kWindows = 0>
  [[nodiscard]] RollingMoments* odd_of(Chunk16* block) const noexcept {
    const std::uint32_t nw = windows_count<kWindows>();
    return std::launder(
        reinterpret_cast<RollingMoments*>(reinterpret_cast<unsigned char*>(block) + nw / 2 * sizeof(MomentPair)));
  }
  template <std::uint32_t kWindows = 0>
  [[nodiscard]] double* ema_of(Chunk16* block) const noexcept {
    const std::uint32_t nw = windows_count<kWindows>();
    return std::launder(reinterpret_cast<double*>(reinterpret_cast<unsigned char*>(block) + nw / 2 * sizeof(MomentPair) +
                                                  nw % 2 * sizeof(RollingMoments)));
  }
  [[nodiscard]] Chunk16* block_of(std::uint32_t local) const noexcept {
    return &price_blk_[std::size_t{local} * blk_chunks_];
  }
  /// Price window w's running state as one RollingMoments (cold: snapshots and the update callback).
  [[nodiscard]] RollingMoments price_moments(std::uint32_t local, std::uint32_t w) const noexcept {
    Chunk16* b = block_of(local);
    return w / 2 < n_windows_ / 2 ? pairs_of(b)[w / 2].lane(w % 2) : *odd_of(b);
  }
  /// A (rule, direction)'s bit in a condition or cooldown mask, in the order evaluate_rules() builds
  /// them two at a time: window move up, down; tick change up, down; volatility; volume spike; SMA
  /// cross up, down.
  static constexpr std::uint32_t rule_bit(Rule r, Direction d) noexcept {
    const bool down = d == Direction::kDown;
    switch (r) {
      case Rule::kWindowMove:
        return down ? 1u << 1 : 1u << 0;
      case Rule::kTickChange:
        return down ? 1u << 3 : 1u << 2;
      case Rule::kVolatility:
        return 1u << 4;
      case Rule::kVolumeSpike:
        return 1u << 5;
      case Rule::kSmaCross:
        return down ? 1u << 7 : 1u << 6;
      case Rule::kCount:
        break;
    }
    return 0;
  }
  static constexpr std::uint32_t kRuleMasks = 1u << 8;  // every mask is below this
  static constexpr bool rule_bits_fit() noexcept {
    std::uint32_t all = 0;
    for (std::uint32_t r = 0; r < kRuleCount; ++r) {
      for (const Direction d : {Direction::kDown, Direction::kUp}) {
        const std::uint32_t b = rule_bit(static_cast<Rule>(r), d);
        // one bit each, below kRuleMasks (a rule with one direction has the same bit for both)
        if (b == 0 || b >= kRuleMasks || (b & (b - 1)) != 0) return false;
        all |= b;
      }
    }
    return all == kRuleMasks - 1;
  }
  // A rule set's per-tick constants (params_'s twin, same index): every rule's exact condition is
  // evaluated on every tick without a branch, as a bit per (rule, direction) (rule_bit()). The
  // thresholds come in pairs, one per lane of a two-double compare.
  struct alignas(16) RuleGates {
    double move_pct[2];   // window move up, down: move % ≥ this
    double tick_pct[2];   // tick change up, down: ± change % ≥ this
    double vol_var;       // the smallest variance whose square root reaches volatility_pct: the same
                          // decision as sqrt(variance) ≥ volatility_pct, without a square root
    double spike_factor;  // volume ≥ this × the mean volume
    std::int64_t cooldown_ns;
    std::int64_t window_ns;  // the window high/low's span (RuleParams::window_ns)
    std::uint32_t on;     // the bits of the rules that are on
    bool cross;           // SMA cross on (and at least two windows)
  };
  static RuleGates gates_of(const RuleParams& rp, std::uint32_t n_windows) noexcept;
  [[gnu::always_inline]] inline void evaluate_rules(TickerCore& c, const TickerAux& a, const RuleGates& g,
                                                    std::uint32_t local, const Tick& t, std::int64_t event_ns) noexcept;
  /// The alerts of the bits in `fire` (met, outside their cooldowns), in the rules' order.
  [[gnu::noinline]] void fire_rules(std::uint32_t local, const Tick& t, std::int64_t event_ns, std::uint32_t fire,
                                    double diff, std::int8_t sign) noexcept;
  void emit(std::uint32_t local, const Tick& t, std::int64_t event_ns, Rule rule, Direction dir,
            double value, double reference, double threshold) noexcept;
  /// Event time reached TickerAux::cool_until: which cooldowns still hold, and until when. Cold.
  [[gnu::noinline, gnu::cold]] void refresh_cooldowns(std::uint32_t local, std::int64_t event_ns) noexcept;
  void prefetch_far(SymbolId symbol) const noexcept;
  void prefetch_near(SymbolId symbol) const noexcept;
  void update_day(std::uint32_t local, double p, double v, std::int64_t event_ns) noexcept;
  [[gnu::noinline, gnu::cold]] void roll_day(std::uint32_t local, std::int64_t event_ns) noexcept;
  void emit_day(std::uint32_t local, bool partial) noexcept;
  [[gnu::always_inline]] inline void window_extremes(TickerCore& c, std::int64_t t, double p, std::int64_t window_ns) noexcept;
  /// The ticker's first tick: both deques take a smallest block (always there: see ext_reserve_).
  [[gnu::noinline, gnu::cold]] void first_blocks(std::uint32_t local) noexcept;
  /// A full deque moves to a block twice as large; false when it is at extrema_capacity or the pool
  /// cannot give one (then the caller evicts the oldest entry, as before the pool).
  [[gnu::noinline]] bool grow(Deque& d, std::uint16_t& mask) noexcept;
  /// While the pool is tight (ext_tight_), a deque of the ticker down to a quarter of its block moves to
  /// the smallest free block with room for twice its entries.
  [[gnu::noinline, gnu::cold]] void shrink_if_sparse(TickerCore& c) noexcept;
  void shrink(Deque& d, std::uint16_t& mask) noexcept;
  /// Copies d's entries to the front of a new block of class to_cls and releases the old one (of
  /// mask + 1 entries).
  void move_deque(Deque& d, std::uint16_t& mask, std::uint32_t to_block, std::uint32_t to_cls) noexcept;
  /// After the pool changed: tight when less than 1/16 of it is spare beyond the reserve (or a deque
  /// could not grow), no longer tight once 1/4 is.
  void note_pool() noexcept;
  /// Fills the metrics the rules do not need per tick (variances and square roots, EMA copies, move %,
  /// VWAP, cumulative volume) from the ticker's state into m, whose per-tick fields (sma, pct_change,
  /// window high/low, volume_mean) are already set. The update callback (via metrics_) and snapshot()
  /// both use it, so they cannot disagree.
  void complete_metrics(std::uint32_t local, double p, TickMetrics& m) const noexcept;

  // Immutable after construction.
  const std::uint32_t capacity_;
  const ShardIndex index_;
  const std::uint32_t shard_;
  const std::uint32_t n_windows_;
  const MomentWindow ret_w_;          // the returns' (volatility) and the volume's window constants
  const MomentWindow volu_w_;
  const MomentWindows2 rv_w_;         // both, as TickerAux::rv's lanes
  // Price history ring per ticker: the longest window + 1 slots, and the volatility window + 2 (its
  // returns are computed from the prices).
  const std::uint32_t hist_len_;
  const std::uint32_t volu_len_;      // volume ring: volume window + 1
  std::array<std::uint32_t, kMaxSmaWindows> windows_{};
  std::array<MomentWindow, kMaxSmaWindows> mwin_{};     // each price window's constants (1/N, period, …)
  std::array<MomentWindows2, kMaxSmaWindows / 2> mwin2_{};  // pair j: windows 2j and 2j + 1
  std::array<double, kMaxSmaWindows> ema_alpha_{};
  const SymbolTable& symbols_;

  // Flat per-ticker arrays (index = local id, or local id × stride).
  std::unique_ptr<TickerCore[]> core_;
  std::unique_ptr<TickerAux[]> aux_;
  // × blk_chunks_: each ticker's price windows' running state and EMAs (pairs_of(), odd_of(), ema_of()),
  // n_windows_ × 48 bytes (a multiple of 16 for every count: 80 per pair, 40 + 8 for the odd one, 8 per EMA).
  const std::uint32_t blk_chunks_;
  std::unique_ptr<Chunk16[]> price_blk_;
  std::unique_ptr<double[]> price_hist_;       // × hist_len_
  std::unique_ptr<double[]> volu_hist_;        // × volu_len_
  ExtremaPool ext_;                            // every ticker's window high/low deques
  // Entries kept free for the deques of tickers not seen yet (one smallest block each): a deque grows
  // only while the pool keeps them, so a new ticker always gets its first blocks.
  std::uint64_t ext_reserve_;
  bool ext_tight_ = false;                     // deques shrink only then (note_pool())
  const std::size_t ticker_bytes_;             // one ticker's state in all the arrays
  // The registered tickers' state beyond which on_ticks() prefetches (~ an L2: below it, prefetching
  // only costs instructions).
  static constexpr std::size_t kPrefetchAbove = std::size_t{1} << 20;
  std::vector<RuleParams> params_;             // [0] = global
  std::vector<RuleGates> gates_;               // [i]: params_[i]'s per-tick thresholds and masks
  std::unique_ptr<DayState[]> days_;           // daily summaries (empty when off)
  std::unique_ptr<std::uint32_t[]> day_alerts_;  // × kRuleCount: the current day's alerts by rule

  // Callback path: fixed arrays, preallocated records.
  std::array<AlertFn, kMaxAlertCallbacks> alert_fns_{};
  std::array<void*, kMaxAlertCallbacks> alert_users_{};
  std::uint32_t n_alert_fns_ = 0;
  std::array<DailyFn, kMaxAlertCallbacks> daily_fns_{};
  std::array<void*, kMaxAlertCallbacks> daily_users_{};
  std::uint32_t n_daily_fns_ = 0;
  const bool daily_on_;
  const DayCalendar calendar_;
  const double move_up_factor_;    // loose pre-checks of DailyConfig::move_pct (the exact test follows)
  const double move_down_factor_;
  const double move_pct_;
  DailySummary summary_{};
  UpdateFn update_fn_ = nullptr;
  void* update_user_ = nullptr;
  bool measure_latency_ = true;
  TickMetrics metrics_{};  // per tick: sma, pct_change, window high/low, volume_mean; the rest in materialize()
  double returns_var_ = 0;  // variance of the returns window (NaN until full): volatility²
  Alert alert_{};
  std::uint64_t next_alert_id_;

  ShardCounters counters_;
  LatencyHistogram lat_process_;
  LatencyHistogram lat_alert_;
};

}  // namespace tickforge
