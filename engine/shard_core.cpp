#include "shard_core.hpp"

#include "clock.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

namespace tickforge {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();

// A window of N values reads the newest and the one N places before it: N + 1 slots, exactly.
std::uint32_t ring_len_for(std::uint32_t window) { return window + 1; }
// The slot after / before `slot` in a ring of `len`.
std::uint16_t next_slot(std::uint32_t slot, std::uint32_t len) {
  return static_cast<std::uint16_t>(slot + 1 == len ? 0 : slot + 1);
}
std::uint32_t prev_slot(std::uint32_t slot, std::uint32_t len) { return slot == 0 ? len - 1 : slot - 1; }

// Neumaier's compensated add: sum + comp carries the rounding the plain sum lost. The rounding error of
// t = sum + x is computed by Knuth's TwoSum, without Neumaier's branch on |sum| ≥ |x|: both compute the
// exact error (a double), so the result is bit for bit Neumaier's, minus a data-dependent branch.
// T: a double, or a Double2 (two sums at once, each lane the scalar's bits).
template <typename T>
inline void neumaier_add(T& sum, T& comp, T x) noexcept {
  const T t = sum + x;
  const T xv = t - sum;
  comp += (sum - (t - xv)) + (x - xv);
  sum = t;
}

// Every line of [p, p + bytes), for writing soon (rw = 1), kept in all cache levels (locality 3). From
// the line p is in: a range that does not start on a line can span one line more than bytes / 64.
inline void prefetch_lines(const void* p, std::size_t bytes) noexcept {
  const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{kCacheLine - 1};
  const std::uintptr_t last = reinterpret_cast<std::uintptr_t>(p) + bytes - 1;
  for (std::uintptr_t a = first; a <= last; a += kCacheLine) {
    __builtin_prefetch(reinterpret_cast<const void*>(a), 1, 3);
  }
}

inline double pct(double now, double base) noexcept { return (now - base) / base * 100.0; }
// How far p is below the window high, in % of it: the window move down (the SSE2 lane rounds alike).
inline double pct_below(double high, double p) noexcept { return (high - p) / high * 100.0; }

// "Less than the cooldown cd since the alert at last" at event time now, without a subtraction that could
// overflow; never (kNever = INT64_MIN) compares false, and neither does any alert when cd is 0.
inline bool in_cooldown(std::int64_t last, std::int64_t now, std::int64_t cd) noexcept {
  return last > time_minus(now, cd);
}

// Set bits of every rule mask, by table: one load per tick. The popcnt instruction is not in the
// x86-64 baseline we build for (std::popcount would call libgcc's __popcountdi2), and a bit-twiddling
// count is ~20 instructions; the entries ticks use (mostly 0) stay in one cache line.
template <std::size_t kMasks>
constexpr std::array<std::uint8_t, kMasks> bits_set_table() {
  std::array<std::uint8_t, kMasks> t{};
  for (std::size_t i = 1; i < kMasks; ++i) {
    t[i] = static_cast<std::uint8_t>(t[i >> 1] + (i & 1));
  }
  return t;
}

// Two compares at once, a0 ≥ b0 as bit 0 and a1 ≥ b1 as bit 1 (false for NaN, as the scalar ≥): with
// SSE2 (every x86-64) one cmppd and one movmskpd instead of two compares, flag reads and shifts.
inline std::uint32_t ge2(double a0, double a1, double b0, double b1) noexcept {
#if defined(__SSE2__)
  return static_cast<std::uint32_t>(_mm_movemask_pd(_mm_cmpge_pd(_mm_set_pd(a1, a0), _mm_set_pd(b1, b0))));
#else
  return std::uint32_t{a0 >= b0} | (std::uint32_t{a1 >= b1} << 1);
#endif
}
// The same against a pair stored together (one 16-byte load).
inline std::uint32_t ge2(double a0, double a1, const double* b) noexcept {
#if defined(__SSE2__)
  return static_cast<std::uint32_t>(_mm_movemask_pd(_mm_cmpge_pd(_mm_set_pd(a1, a0), _mm_loadu_pd(b))));
#else
  return ge2(a0, a1, b[0], b[1]);
#endif
}

// The window move's two percentages, {move up % = pct(p, low), move down % = pct_below(high, p)},
// compared with the thresholds b: bit 0 up, bit 1 down. The lanes round exactly as the scalar forms.
inline std::uint32_t window_moves(double p, double low, double high, const double* b) noexcept {
#if defined(__SSE2__)
  const __m128d num = _mm_sub_pd(_mm_set_pd(high, p), _mm_set_pd(p, low));
  alignas(16) static constexpr double kHundred[2] = {100.0, 100.0};  // one load, not a load and a shuffle
  const __m128d pcts = _mm_mul_pd(_mm_div_pd(num, _mm_set_pd(high, low)), _mm_load_pd(kHundred));
  return static_cast<std::uint32_t>(_mm_movemask_pd(_mm_cmpge_pd(pcts, _mm_loadu_pd(b))));
#else
  return ge2(pct(p, low), pct_below(high, p), b);
#endif
}

// The first event time at which an alert at `last` is out of cooldown `cd`: the smallest e with
// !(last > time_minus(e, cd)), i.e. last + cd; INT64_MAX when that is beyond int64 (every later tick
// then rechecks, exactly).
inline std::int64_t cooldown_end(std::int64_t last, std::int64_t cd) noexcept {
  std::int64_t e = 0;
  return __builtin_add_overflow(last, cd, &e) ? std::numeric_limits<std::int64_t>::max() : e;
}

// The returns window reads its values from the price ring: return k places back is the % change between
// the prices k and k + 1 places back, the same double the tick computed (pct of the same two prices), so
// no returns ring is stored. The price ring holds the volatility window + 2 prices at least.
// (The price k + 1 back is in the slot before the one k back: one slot computation, not two.)
double return_back(const HistRing& prices, std::uint32_t k) noexcept {
  const std::uint32_t slot = prices.slot_back(k);
  return pct(prices.base[slot], prices.base[prev_slot(slot, prices.len)]);
}
// The returns window's view for RollingMoments: the newest return is the one the tick just computed
// (not divided again), the older ones come from the prices.
struct ReturnsView {
  const HistRing& prices;
  double newest;
  [[nodiscard]] double back(std::uint32_t k) const noexcept { return k == 0 ? newest : return_back(prices, k); }
  /// back(n − 1), …, back(0) for RollingMoments' recompute: one pass over the prices, each % change
  /// from the price and the one before it (the same doubles back(k) gives), no slot arithmetic per value.
  template <typename F>
  void for_each_oldest_first(std::uint32_t n, F&& f) const noexcept {
    std::uint32_t slot = prices.slot_back(n);  // the price before the oldest return's
    double prev = prices.base[slot];
    for (std::uint32_t k = n - 1; k > 0; --k) {
      slot = slot + 1 == prices.len ? 0 : slot + 1;
      const double cur = prices.base[slot];
      f(pct(cur, prev));
      prev = cur;
    }
    f(newest);
  }
};

}  // namespace

double sqrt_threshold(double x) noexcept {  // x² is within an ulp or two: the loops step to it
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double v = x * x;
  while (std::sqrt(v) < x) {
    v = std::nextafter(v, kInf);
  }
  while (v > 0.0 && std::sqrt(std::nextafter(v, 0.0)) >= x) {
    v = std::nextafter(v, 0.0);
  }
  return v;
}

const char* to_string(Rule r) noexcept {
  switch (r) {
    case Rule::kWindowMove:
      return "window_move";
    case Rule::kTickChange:
      return "tick_change";
    case Rule::kVolatility:
      return "volatility";
    case Rule::kSmaCross:
      return "sma_cross";
    case Rule::kVolumeSpike:
      return "volume_spike";
    case Rule::kCount:
      break;
  }
  return "unknown";
}

const char* to_string(Direction d) noexcept {
  return d == Direction::kUp ? "up" : d == Direction::kDown ? "down" : "none";
}

ShardCore::ShardCore(const EngineConfig& cfg, std::uint32_t capacity, std::uint32_t shard_index, ShardIndex shards,
                     const SymbolTable& symbols)
    : capacity_((cfg.validate(), capacity)),  // a bad setting throws before any array is allocated
      index_(shards),
      shard_(shard_index),
      n_windows_(static_cast<std::uint32_t>(cfg.sma_windows.size())),
      ret_w_(MomentWindow::of(cfg.effective_volatility_window(), cfg.ddof)),
      volu_w_(MomentWindow::of(cfg.volume_window, cfg.ddof)),
      rv_w_(MomentWindows2::of(ret_w_, volu_w_)),
      hist_len_(std::max(ring_len_for(cfg.sma_windows.back()), ring_len_for(cfg.effective_volatility_window() + 1))),
      volu_len_(ring_len_for(cfg.volume_window)),  // exactly: update_metrics() reads the leaving volume as the oldest
      symbols_(symbols),
      core_(new TickerCore[capacity]()),
      aux_(new TickerAux[capacity]()),
      blk_chunks_(n_windows_ * (sizeof(RollingMoments) + sizeof(double)) / sizeof(Chunk16)),
      price_blk_(new Chunk16[std::size_t{capacity} * blk_chunks_]()),
      price_hist_(new double[std::size_t{capacity} * hist_len_]()),
      volu_hist_(new double[std::size_t{capacity} * volu_len_]()),
      ext_(std::uint64_t{capacity} * 2 * cfg.extrema_pool, std::min(4u, std::bit_ceil(cfg.extrema_capacity)),
           std::bit_ceil(cfg.extrema_capacity)),
      ext_reserve_(std::uint64_t{capacity} * 2 * ext_.entries_of(0)),
      ticker_bytes_(sizeof(TickerCore) + sizeof(TickerAux) + n_windows_ * (sizeof(RollingMoments) + sizeof(double)) +
                    sizeof(double) * (hist_len_ + volu_len_) + 2 * sizeof(Extreme) * cfg.extrema_pool),
      params_{cfg.rules},
      gates_{gates_of(cfg.rules, static_cast<std::uint32_t>(cfg.sma_windows.size()))},
      days_(cfg.daily.enabled ? new DayState[capacity]() : nullptr),
      day_alerts_(cfg.daily.enabled ? new std::uint32_t[std::size_t{capacity} * kRuleCount]() : nullptr),
      daily_on_(cfg.daily.enabled),
      calendar_(cfg.daily),
      move_up_factor_(1.0 + cfg.daily.move_pct * 0.01 - 1e-9),
      move_down_factor_(1.0 - cfg.daily.move_pct * 0.01 + 1e-9),
      move_pct_(cfg.daily.move_pct),
      next_alert_id_(shard_index + 1) {
  calibrate_clock();
  for (std::uint32_t w = 0; w < n_windows_; ++w) {
    windows_[w] = cfg.sma_windows[w];
    mwin_[w] = MomentWindow::of(windows_[w], cfg.ddof);
    ema_alpha_[w] = 2.0 / (cfg.sma_windows[w] + 1.0);
  }
  for (std::uint32_t j = 0; j < n_windows_ / 2; ++j) {
    mwin2_[j] = MomentWindows2::of(mwin_[2 * j], mwin_[2 * j + 1]);
  }
  static_assert((sizeof(RollingMoments) + sizeof(double)) % sizeof(Chunk16) == 0,
                "a price block (48 bytes per window: 80 per pair, 40 for an odd one, 8 per EMA) is whole chunks");
  static_assert(alignof(Chunk16) >= alignof(MomentPair), "the pairs, first in a block, are aligned for SSE2");
  for (std::uint32_t i = 0; i < capacity; ++i) {
    // The block's objects, in its zeroed bytes, where pairs_of(), odd_of() and ema_of() find them.
    unsigned char* b = reinterpret_cast<unsigned char*>(block_of(i));
    const std::size_t pairs_end = n_windows_ / 2 * sizeof(MomentPair);
    for (std::size_t off = 0; off < pairs_end; off += sizeof(MomentPair)) {
      new (b + off) MomentPair();
    }
    if (n_windows_ % 2 != 0) {
      new (b + pairs_end) RollingMoments();
    }
    const std::size_t ema_at = pairs_end + n_windows_ % 2 * sizeof(RollingMoments);
    for (std::uint32_t w = 0; w < n_windows_; ++w) {
      new (b + ema_at + w * sizeof(double)) double(0.0);
    }
    core_[i].last_price = kNaN;
    core_[i].last_event_ns = kNever;
    aux_[i].volume_mean = kNaN;
    aux_[i].cool_until = std::numeric_limits<std::int64_t>::max();
    for (auto& by_dir : aux_[i].last_alert_ns) {
      by_dir[0] = by_dir[1] = kNever;
    }
    if (daily_on_) {
      days_[i].end_ns = kNever;  // the first tick starts a day
    }
  }
  metrics_.n_windows = n_windows_;
  std::memcpy(metrics_.windows, windows_.data(), sizeof(metrics_.windows));
}

void ShardCore::add_alert_callback(AlertFn fn, void* user) {
  if (n_alert_fns_ == kMaxAlertCallbacks) {
    throw std::length_error("too many alert callbacks (at most 8)");
  }
  alert_fns_[n_alert_fns_] = fn;
  alert_users_[n_alert_fns_] = user;
  ++n_alert_fns_;
}

void ShardCore::add_daily_callback(DailyFn fn, void* user) {
  if (n_daily_fns_ == kMaxAlertCallbacks) {
    throw std::length_error("too many daily-summary callbacks (at most 8)");
  }
  daily_fns_[n_daily_fns_] = fn;
  daily_users_[n_daily_fns_] = user;
  ++n_daily_fns_;
}

void ShardCore::set_update_callback(UpdateFn fn, void* user) noexcept {
  update_fn_ = fn;
  update_user_ = user;
}

void ShardCore::set_ticker_rules(SymbolId symbol, const RuleParams& params) {
  if (params_.size() > 0xFFFF) {
    throw std::length_error("too many per-ticker rule sets (at most 65,535)");
  }
  const std::uint32_t local = index_.local_of(symbol);
  if (local >= capacity_) {
    throw std::out_of_range("symbol id beyond shard capacity");
  }
  params_.push_back(params);
  gates_.push_back(gates_of(params, n_windows_));
  core_[local].params = static_cast<std::uint16_t>(params_.size() - 1);
  aux_[local].cool_until = std::numeric_limits<std::int64_t>::min();  // its next tick rebuilds the cooldowns
}

void ShardCore::on_tick(const Tick& t) noexcept {
  const std::uint32_t local = index_.local_of(t.symbol);  // a shift (power-of-two shard counts)
  TickerCore& c = core_[local];
  std::int64_t event_ns = t.event_ns;
  if (event_ns < c.last_event_ns) [[unlikely]] {
    ++counters_.late_ticks;  // windows never run backwards: treat it as happening at the last time
    event_ns = c.last_event_ns;
  }
  if (daily_on_) {
    update_day(local, t.price, t.volume, event_ns);  // first: this tick's alerts count in its day
  }
  TickerAux& a = aux_[local];
  const RuleGates& g = gates_[c.params];
  update_metrics(c, a, g, local, t, event_ns);
  evaluate_rules(c, a, g, local, t, event_ns);
  c.last_price = t.price;
  c.last_event_ns = event_ns;
  ++counters_.ticks;
  if (update_fn_ != nullptr) {
    complete_metrics(local, t.price, metrics_);
    update_fn_(update_user_, &t, &metrics_);
  }
  if (measure_latency_) {
    lat_process_.record(now_ns() - t.ingest_ns);
  }
}

template <std::uint32_t kWindows>
void ShardCore::price_windows(const HistRing& hist, std::uint64_t seen, Chunk16* block, double p) noexcept {
  const std::uint32_t nw = windows_count<kWindows>();
  const auto now = static_cast<std::uint32_t>(seen);  // the windows' push count (wraps: differences only)
  MomentPair* pairs = nw >= 2 ? pairs_of<kWindows>(block) : nullptr;
  RollingMoments* odd = odd_of<kWindows>(block);
  double* ema = ema_of<kWindows>(block);
  if (seen >= windows_[nw - 1]) [[likely]] {  // every window full (they ascend): no warm-up checks
    const Double2 x{p, p};
    for (std::uint32_t j = 0; j < nw / 2; ++j) {  // two windows per instruction
      const Double2 x_old{hist.back(windows_[2 * j]), hist.back(windows_[2 * j + 1])};
      const Double2 mean = pairs[j].push_full(hist, hist, mwin2_[j], now, x, x_old);
      metrics_.sma[2 * j] = mean[0];
      metrics_.sma[2 * j + 1] = mean[1];
    }
    if (nw % 2 != 0) {
      metrics_.sma[nw - 1] = odd->push_full(hist, mwin_[nw - 1], now);
    }
  } else {
    // mean_full when the window is full, else NaN
    for (std::uint32_t j = 0; j < nw / 2; ++j) {
      metrics_.sma[2 * j] = pairs[j].push_lane(0, hist, mwin_[2 * j], now);
      metrics_.sma[2 * j + 1] = pairs[j].push_lane(1, hist, mwin_[2 * j + 1], now);
    }
    if (nw % 2 != 0) {
      metrics_.sma[nw - 1] = odd->push(hist, mwin_[nw - 1], now);
    }
  }
  if (seen == 0) [[unlikely]] {
    for (std::uint32_t w = 0; w < nw; ++w) {
      ema[w] = p;
    }
  } else {
    const Double2 x{p, p};
    for (std::uint32_t j = 0; j < nw / 2; ++j) {  // two at once (unaligned: after an odd window's state)
      Double2 e;
      Double2 alpha;
      std::memcpy(&e, &ema[2 * j], sizeof e);
      std::memcpy(&alpha, &ema_alpha_[2 * j], sizeof alpha);
      e = e + alpha * (x - e);
      std::memcpy(&ema[2 * j], &e, sizeof e);
    }
    if (nw % 2 != 0) {
      ema[nw - 1] = ema[nw - 1] + ema_alpha_[nw - 1] * (p - ema[nw - 1]);
    }
  }
}

void ShardCore::on_ticks(const Tick* ticks, std::size_t n) noexcept {
  // The tickers registered so far, this shard's share (one acquire load per batch: a plain load on x86).
  if (std::size_t{symbols_.size()} / index_.shards() * ticker_bytes_ <= kPrefetchAbove) {
    for (std::size_t i = 0; i < n; ++i) {
      on_tick(ticks[i]);
    }
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kPrefetchFar < n) {
      prefetch_far(ticks[i + kPrefetchFar].symbol);
    }
    if (i + kPrefetchNear < n) {
      prefetch_near(ticks[i + kPrefetchNear].symbol);
    }
    on_tick(ticks[i]);
  }
}

// Prefetches for writing (rw = 1), kept in all cache levels (locality 3): every line is written soon.
void ShardCore::prefetch_far(SymbolId symbol) const noexcept {
  const std::uint32_t local = index_.local_of(symbol);
  __builtin_prefetch(&core_[local], 1, 3);
  prefetch_lines(&aux_[local], sizeof(TickerAux));
  prefetch_lines(block_of(local), sizeof(Chunk16) * blk_chunks_);
  if (daily_on_) {
    prefetch_lines(&days_[local], sizeof(DayState));
  }
}

void ShardCore::prefetch_near(SymbolId symbol) const noexcept {
  const std::uint32_t local = index_.local_of(symbol);
  const TickerCore& c = core_[local];  // prefetched far ahead: here it is (usually) in the cache
  // The slots written now and the oldest ones, read as they leave the longest window and the returns'
  // window (the ring holds just those: they follow the slot written; the shorter windows' are nearer).
  const double* hist = &price_hist_[std::size_t{local} * hist_len_];
  __builtin_prefetch(&hist[c.hist_slot], 1, 3);
  __builtin_prefetch(&hist[next_slot(c.hist_slot, hist_len_)], 0, 3);
  const double* vh = &volu_hist_[std::size_t{local} * volu_len_];
  __builtin_prefetch(&vh[c.volu_slot], 1, 3);
  __builtin_prefetch(&vh[next_slot(c.volu_slot, volu_len_)], 0, 3);
  // The deques' ends: the back (popped and pushed) and the front (expired, read).
  // (Before a ticker's first tick its deques point at block 0: a harmless prefetch.)
  const Extreme* mx = ext_.at(c.max.block);
  const std::uint32_t max_mask = c.max_mask;
  __builtin_prefetch(&mx[(c.max.head + c.max.size) & max_mask], 1, 3);
  __builtin_prefetch(&mx[c.max.head & max_mask], 1, 3);
  const Extreme* mn = ext_.at(c.min.block);
  const std::uint32_t min_mask = c.min_mask;
  __builtin_prefetch(&mn[(c.min.head + c.min.size) & min_mask], 1, 3);
  __builtin_prefetch(&mn[c.min.head & min_mask], 1, 3);
}

void ShardCore::update_metrics(TickerCore& c, TickerAux& a, const RuleGates& g, std::uint32_t local, const Tick& t,
                               std::int64_t event_ns) noexcept {
  TickMetrics& m = metrics_;
  const double p = t.price;

  // Prices: SMA, variance, EMA over each window, from one shared history ring.
  double* hist_base = &price_hist_[std::size_t{local} * hist_len_];
  const std::uint64_t seen = c.ticks;  // prices before this one
  const auto now = static_cast<std::uint32_t>(seen);
  if (seen == 0) [[unlikely]] {
    first_blocks(local);
  }
  const HistRing hist{hist_base, hist_len_, c.hist_slot};
  hist_base[hist.newest] = p;
  c.hist_slot = next_slot(hist.newest, hist_len_);
  ++c.ticks;
  Chunk16* block = block_of(local);
  // The usual window counts unrolled at compile time (a predictable branch, no indirect call).
  if (n_windows_ == 3) [[likely]] {
    price_windows<3>(hist, seen, block, p);
  } else if (n_windows_ == 1) {
    price_windows<1>(hist, seen, block, p);
  } else if (n_windows_ == 2) {
    price_windows<2>(hist, seen, block, p);
  } else {
    price_windows<0>(hist, seen, block, p);
  }

  // Returns (% change) and volumes, one window pair (lane 0, lane 1): the returns' rolling std is the
  // volatility; the volume mean is of the previous ticks (before this one joins).
  MomentPair& rv = a.rv;
  m.pct_change = seen != 0 ? pct(p, c.last_price) : kNaN;
  double* vh = &volu_hist_[std::size_t{local} * volu_len_];
  const HistRing vols{vh, volu_len_, c.volu_slot};
  vh[vols.newest] = t.volume;
  c.volu_slot = next_slot(vols.newest, volu_len_);
  const ReturnsView rets{hist, m.pct_change};
  // The volume window's mean_full, before this volume joins (NaN while the window fills).
  const auto volume_mean = [&rv, this] { return rv.shift[1] + rv.sum[1] * volu_w_.inv_n; };
  if (rv.full(rv_w_)) [[likely]] {
    m.volume_mean = volume_mean();
    // The volume ring holds exactly the window + 1 values (volu_len_): the one leaving the window,
    // vols.back(volu_w_.size), is the oldest, in the slot written next.
    rv.push_full(rets, vols, rv_w_, now, Double2{m.pct_change, t.volume},
                 Double2{return_back(hist, ret_w_.size), vh[c.volu_slot]});
    returns_var_ = rv.m2[0] * ret_w_.inv_dof;  // variance_full
  } else {  // warm-up: the first tick has no return
    m.volume_mean = rv.n[1] == volu_w_.size ? volume_mean() : kNaN;
    if (seen != 0) {
      rv.push_lane(0, rets, ret_w_, now);
    }
    rv.push_lane(1, vols, volu_w_, now);
    returns_var_ = rv.n[0] == ret_w_.size ? rv.m2[0] * ret_w_.inv_dof : kNaN;
  }
  a.volume_mean = m.volume_mean;
  neumaier_add(a.vwap_sum, a.vwap_comp, Double2{p * t.volume, t.volume});

  // Event-time window high/low.
  window_extremes(c, event_ns, p, g.window_ns);
}

// ---- daily summaries ---------------------------------------------------------------------------------

void ShardCore::update_day(std::uint32_t local, double p, double v, std::int64_t event_ns) noexcept {
  DayState& d = days_[local];
  if (event_ns >= d.end_ns) [[unlikely]] {  // once per ticker per day (event times never run backwards)
    roll_day(local, event_ns);
  }
  if (event_ns < d.open_ns || event_ns >= d.close_ns) [[unlikely]] {
    return;  // outside the session
  }
  if (d.ticks == 0) [[unlikely]] {
    d.open = d.high = d.low = p;
    d.first_ns = event_ns;
  } else {
    // Moves against the previous tick of the day: a multiplication pre-check, loose by 1e-9 as in
    // evaluate_rules, then the exact percentage decides.
    if (p >= d.close * move_up_factor_ || p <= d.close * move_down_factor_) [[unlikely]] {
      const double change = pct(p, d.close);
      d.moves_up += change >= move_pct_ ? 1u : 0u;
      d.moves_down += -change >= move_pct_ ? 1u : 0u;
    }
    d.high = p > d.high ? p : d.high;
    d.low = p < d.low ? p : d.low;
  }
  d.close = p;
  d.sum_p += p;
  d.sum_pv += p * v;
  d.sum_v += v;
  ++d.ticks;
  d.last_ns = event_ns;
}

void ShardCore::roll_day(std::uint32_t local, std::int64_t event_ns) noexcept {
  DayState& d = days_[local];
  if (d.ticks != 0) {
    emit_day(local, /*partial=*/false);
  }
  const DayCalendar::Day day = calendar_.day_of(event_ns);
  d = DayState{};
  d.end_ns = day.end_ns;
  d.open_ns = day.open_ns;
  d.close_ns = day.close_ns;
  d.start_ns = day.start_ns;
  d.day = day.day;
  std::fill_n(&day_alerts_[std::size_t{local} * kRuleCount], kRuleCount, 0u);
}

void ShardCore::emit_day(std::uint32_t local, bool partial) noexcept {
  const DayState& d = days_[local];
  DailySummary& s = summary_;
  s.symbol = index_.symbol_of(shard_, local);
  s.day = d.day;
  std::memcpy(s.ticker, symbols_.name(s.symbol), sizeof(s.ticker));
  s.start_ns = d.open_ns;
  s.end_ns = d.close_ns;
  s.first_ns = d.first_ns;
  s.last_ns = d.last_ns;
  s.open = d.open;
  s.high = d.high;
  s.low = d.low;
  s.close = d.close;
  s.mean = d.sum_p / static_cast<double>(d.ticks);
  s.volume = d.sum_v;
  s.vwap = d.sum_v > 0.0 ? d.sum_pv / d.sum_v : kNaN;
  s.ticks = d.ticks;
  s.moves_up = d.moves_up;
  s.moves_down = d.moves_down;
  std::memcpy(s.alerts, &day_alerts_[std::size_t{local} * kRuleCount], sizeof(s.alerts));
  s.partial = partial;
  for (std::uint32_t i = 0; i < n_daily_fns_; ++i) {
    daily_fns_[i](daily_users_[i], &s);
  }
}

void ShardCore::close_days() noexcept {
  if (!daily_on_) {
    return;
  }
  for (std::uint32_t local = 0; local < capacity_; ++local) {
    if (days_[local].ticks != 0) {
      emit_day(local, /*partial=*/true);
      days_[local] = DayState{};
      days_[local].end_ns = kNever;
    }
  }
}

void ShardCore::window_extremes(TickerCore& c, std::int64_t t, double p, std::int64_t window_ns) noexcept {
  const std::int64_t oldest = time_minus(t, window_ns);  // entries with time < t - T have left [t - T, t]

  // Monotonic deques: max holds decreasing prices front→back, min increasing. Each entry is pushed
  // and popped once, so the work is amortised O(1). A full deque moves to a larger block of the pool;
  // at extrema_capacity (or with the pool full) it drops its oldest entry instead (counted).
  // (On locals, stored once: through the references every pop would store the size.)
  auto step = [&](Deque& d, std::uint16_t& ring_mask, auto dominated) {
    Extreme* dq = ext_.at(d.block);
    std::uint32_t mask = ring_mask;
    std::uint32_t head = d.head;
    std::uint32_t size = d.size;
    while (size != 0 && dominated(dq[(head + size - 1) & mask].p)) {
      --size;
    }
    if (size > mask) [[unlikely]] {
      d.size = size;
      if (grow(d, ring_mask)) {
        dq = ext_.at(d.block);
        mask = ring_mask;
        head = d.head;
      } else {
        ++head;
        --size;
        ++counters_.extrema_evictions;
      }
    }
    dq[(head + size) & mask] = Extreme{t, p};
    ++size;
    while (dq[head & mask].t < oldest) {  // never the entry just pushed: its t ≥ oldest
      ++head;
      --size;
    }
    d.head = head;
    d.size = size;
    return dq[head & mask].p;
  };
  metrics_.window_high = step(c.max, c.max_mask, [p](double q) { return q <= p; });
  metrics_.window_low = step(c.min, c.min_mask, [p](double q) { return q >= p; });
  // Deques shrink only while the pool runs short: a random walk's new high empties the max deque at
  // once, and shrinking then regrowing through the classes on each one cost ~10 % of a tick (measured).
  if (ext_tight_) [[unlikely]] {
    shrink_if_sparse(c);
  }
}

void ShardCore::shrink_if_sparse(TickerCore& c) noexcept {
  const std::uint32_t smallest = ext_.entries_of(0);
  if (c.max_mask + 1u > smallest && c.max.size * 4 <= c.max_mask + 1u) {
    shrink(c.max, c.max_mask);
  }
  if (c.min_mask + 1u > smallest && c.min.size * 4 <= c.min_mask + 1u) {
    shrink(c.min, c.min_mask);
  }
}

void ShardCore::first_blocks(std::uint32_t local) noexcept {
  TickerCore& c = core_[local];
  // The reserve kept one smallest block for each of these two deques, so neither alloc fails.
  c.max = Deque{0, 0, ext_.alloc(0)};
  c.min = Deque{0, 0, ext_.alloc(0)};
  c.max_mask = c.min_mask = static_cast<std::uint16_t>(ext_.entries_of(0) - 1);
  ext_reserve_ -= 2 * ext_.entries_of(0);
  note_pool();
}

void ShardCore::note_pool() noexcept {
  // Hysteresis: tight below 1/16 of the pool spare (beyond the reserve), relaxed again above 1/4.
  const std::uint64_t free = ext_.free_entries();
  const std::uint64_t spare = free > ext_reserve_ ? free - ext_reserve_ : 0;
  if (spare < ext_.capacity() / 16) {
    ext_tight_ = true;
  } else if (spare >= ext_.capacity() / 4) {
    ext_tight_ = false;
  }
}

bool ShardCore::grow(Deque& d, std::uint16_t& mask) noexcept {
  const std::uint32_t cls = ext_.class_for(mask + 1u);
  if (cls == ext_.top_class()) {
    return false;  // at extrema_capacity: the documented eviction
  }
  // Only from what the reserve of the tickers not seen yet leaves (the old block comes back after).
  const std::uint32_t to = cls + 1u;
  if (ext_.free_entries() < ext_reserve_ + ext_.entries_of(to)) {
    ++counters_.extrema_pool_full;
    ext_tight_ = true;  // the deques that can give memory back do so on their next ticks
    return false;
  }
  if (ext_.extend(d.block, cls)) {
    // In place: the ring (full, its front at h) doubles; the h entries that had wrapped to the block's
    // start follow the others into the new upper half. No block moves, so no buddy pair is split.
    const std::uint32_t n = ext_.entries_of(cls);
    const std::uint32_t h = d.head & (n - 1);
    Extreme* dq = ext_.at(d.block);
    std::copy(dq, dq + h, dq + n);
    d.head = h;
    mask = static_cast<std::uint16_t>(2 * n - 1);
    note_pool();
    return true;
  }
  const std::uint32_t block = ext_.alloc(to);
  if (block == ExtremaPool::kNone) {  // free entries scattered in smaller blocks than this one
    ++counters_.extrema_pool_full;
    ext_tight_ = true;
    return false;
  }
  move_deque(d, mask, block, to);
  return true;
}

void ShardCore::shrink(Deque& d, std::uint16_t& mask) noexcept {
  const std::uint32_t cls = ext_.class_for(mask + 1u);
  // The smallest block with room for twice the entries (so the next grow is far), else the next ones
  // up: a freed large block may be the pool's only one of its size. It frees more than it takes, so
  // no reserve check; with no smaller block free at all it stays, and tries again on the next tick.
  for (std::uint32_t to = ext_.class_for(std::max(2 * d.size, 1u)); to < cls; ++to) {
    if (const std::uint32_t block = ext_.alloc(to); block != ExtremaPool::kNone) {
      move_deque(d, mask, block, to);
      return;
    }
  }
}

void ShardCore::move_deque(Deque& d, std::uint16_t& mask, std::uint32_t to_block, std::uint32_t to_cls) noexcept {
  const Extreme* from = ext_.at(d.block);
  Extreme* to = ext_.at(to_block);
  for (std::uint32_t i = 0; i < d.size; ++i) {
    to[i] = from[(d.head + i) & mask];
  }
  ext_.release(d.block, ext_.class_for(mask + 1u));
  d.head = 0;
  d.block = to_block;
  mask = static_cast<std::uint16_t>(ext_.entries_of(to_cls) - 1);
  note_pool();
}

void ShardCore::complete_metrics(std::uint32_t local, double p, TickMetrics& m) const noexcept {
  const TickerAux& a = aux_[local];
  const double* ema = ema_of(block_of(local));
  for (std::uint32_t w = 0; w < n_windows_; ++w) {
    const RollingMoments mom = price_moments(local, w);
    m.variance[w] = mom.n == windows_[w] ? mom.variance_full(mwin_[w]) : kNaN;
    m.stddev[w] = std::sqrt(m.variance[w]);
    m.ema[w] = ema[w];
  }
  const RollingMoments returns = a.rv.lane(0);
  m.volatility = returns.n == ret_w_.size ? std::sqrt(returns.variance_full(ret_w_)) : kNaN;
  m.move_up_pct = pct(p, m.window_low);
  m.move_down_pct = pct_below(m.window_high, p);
  m.cum_volume = a.vwap_sum[1] + a.vwap_comp[1];
  m.vwap = m.cum_volume > 0.0 ? (a.vwap_sum[0] + a.vwap_comp[0]) / m.cum_volume : kNaN;
}

void ShardCore::snapshot(SymbolId symbol, TickerSnapshot* out) const noexcept {
  const std::uint32_t local = index_.local_of(symbol);
  const TickerCore& c = core_[local];
  TickerSnapshot& s = *out;
  s.symbol = symbol;
  std::memcpy(s.ticker, symbols_.name(symbol), sizeof(s.ticker));
  s.ticks = c.ticks;
  TickMetrics& m = s.metrics;
  m.n_windows = n_windows_;
  std::memcpy(m.windows, windows_.data(), sizeof(m.windows));
  for (std::uint32_t w = 0; w < kMaxSmaWindows; ++w) {
    m.sma[w] = m.variance[w] = m.stddev[w] = m.ema[w] = kNaN;
  }
  if (c.ticks == 0) {
    s.last_event_ns = 0;
    s.last_price = s.last_volume = kNaN;
    m.pct_change = m.volatility = m.window_high = m.window_low = m.move_up_pct = m.move_down_pct = kNaN;
    m.vwap = m.volume_mean = kNaN;
    m.cum_volume = 0;
    return;
  }
  // The per-tick fields as the last tick computed them, from the state it left.
  const double p = c.last_price;
  s.last_event_ns = c.last_event_ns;
  s.last_price = p;
  s.last_volume = volu_hist_[std::size_t{local} * volu_len_ + prev_slot(c.volu_slot, volu_len_)];
  for (std::uint32_t w = 0; w < n_windows_; ++w) {
    const RollingMoments mom = price_moments(local, w);
    m.sma[w] = mom.n == windows_[w] ? mom.mean_full(mwin_[w]) : kNaN;
  }
  const HistRing prices{&price_hist_[std::size_t{local} * hist_len_], hist_len_, prev_slot(c.hist_slot, hist_len_)};
  m.pct_change = c.ticks == 1 ? kNaN : return_back(prices, 0);
  // The deque fronts: the window's extremes.
  m.window_high = ext_.at(c.max.block)[c.max.head & c.max_mask].p;
  m.window_low = ext_.at(c.min.block)[c.min.head & c.min_mask].p;
  m.volume_mean = aux_[local].volume_mean;
  complete_metrics(local, p, m);
}

ShardCore::RuleGates ShardCore::gates_of(const RuleParams& rp, std::uint32_t n_windows) noexcept {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  RuleGates g;
  // A rule that is off has its bits cleared from `on` (and a threshold no finite value reaches).
  const bool move = rp.window_move_pct > 0.0;
  const bool tick = rp.tick_change_pct > 0.0;
  const bool vol = rp.volatility_pct > 0.0;
  const bool spike = rp.volume_spike_factor > 0.0;
  g.move_pct[0] = g.move_pct[1] = move ? rp.window_move_pct : kInf;
  g.tick_pct[0] = g.tick_pct[1] = tick ? rp.tick_change_pct : kInf;
  g.vol_var = vol ? sqrt_threshold(rp.volatility_pct) : kInf;
  g.spike_factor = spike ? rp.volume_spike_factor : kInf;
  g.cooldown_ns = rp.effective_cooldown_ns();
  g.window_ns = rp.window_ns;
  g.cross = rp.sma_cross && n_windows >= 2;
  const auto both = [](Rule r) { return rule_bit(r, Direction::kDown) | rule_bit(r, Direction::kUp); };
  g.on = (move ? both(Rule::kWindowMove) : 0u) | (tick ? both(Rule::kTickChange) : 0u) |
         (vol ? rule_bit(Rule::kVolatility, Direction::kUp) : 0u) | (g.cross ? both(Rule::kSmaCross) : 0u) |
         (spike ? rule_bit(Rule::kVolumeSpike, Direction::kUp) : 0u);
  return g;
}

void ShardCore::evaluate_rules(TickerCore& c, const TickerAux& a, const RuleGates& g, std::uint32_t local,
                               const Tick& t, std::int64_t event_ns) noexcept {
  const TickMetrics& m = metrics_;
  const double p = t.price;
  const double diff = m.sma[0] - m.sma[n_windows_ - 1];  // NaN until the long window is full
  // Without a branch: with tickers interleaved, the sign seen by one branch is random (callgrind's
  // branch simulation: a mispredict on half the ticks).
  const auto sign = static_cast<std::int8_t>(int{diff > 0.0} - int{diff < 0.0});
  const bool crossed = g.cross & (sign != 0) & (c.cross_sign != 0) & (sign != c.cross_sign);
  // Every rule's exact condition, as a bit per (rule, direction) in rule_bit()'s order, without a
  // branch (NaN meets none). A tick change of +x reaches the threshold up, one of −x down. The spike
  // needs a positive mean volume (0 × factor would admit every volume).
  const double tc = m.pct_change;
  std::uint32_t met = window_moves(p, m.window_low, m.window_high, g.move_pct) |
                      (ge2(tc, -tc, g.tick_pct) << 2) |
                      (ge2(returns_var_, t.volume, g.vol_var, g.spike_factor * m.volume_mean) << 4) |
                      (std::uint32_t{crossed} << (sign > 0 ? 6 : 7));
  met &= g.on & ~(std::uint32_t{!(m.volume_mean > 0.0)} << 5);
  // Cooldowns: a mask exact until the earliest of them ends (one compare per tick), then rebuilt. A met
  // bit inside its cooldown is counted, not emitted; the one branch is taken when an alert fires.
  if (event_ns >= a.cool_until) [[unlikely]] {
    refresh_cooldowns(local, event_ns);
  }
  static_assert(rule_bits_fit(), "rule_bit(): one bit per (rule, direction), every bit below kRuleMasks used");
  static constexpr auto kBitsSet = bits_set_table<kRuleMasks>();
  counters_.suppressed += kBitsSet[met & c.cool];  // both < kRuleMasks
  if (const std::uint32_t fire = met & ~std::uint32_t{c.cool}; fire != 0) [[unlikely]] {
    fire_rules(local, t, event_ns, fire, diff, sign);
  }
  c.cross_sign = (g.cross && sign != 0) ? sign : c.cross_sign;  // the last nonzero sign (a cmov)
}

void ShardCore::refresh_cooldowns(std::uint32_t local, std::int64_t event_ns) noexcept {
  TickerCore& c = core_[local];
  TickerAux& a = aux_[local];
  const std::int64_t cd = gates_[c.params].cooldown_ns;
  std::uint32_t cool = 0;
  std::int64_t until = std::numeric_limits<std::int64_t>::max();
  for (std::uint32_t r = 0; r < kRuleCount; ++r) {
    for (std::uint32_t d = 0; d < 2; ++d) {
      const std::int64_t last = a.last_alert_ns[r][d];
      if (in_cooldown(last, event_ns, cd)) {
        cool |= rule_bit(static_cast<Rule>(r), d == 0 ? Direction::kDown : Direction::kUp);
        until = std::min(until, cooldown_end(last, cd));
      }
    }
  }
  c.cool = static_cast<std::uint16_t>(cool);
  a.cool_until = until;
}

void ShardCore::fire_rules(std::uint32_t local, const Tick& t, std::int64_t event_ns, std::uint32_t fire,
                           double diff, std::int8_t sign) noexcept {
  const TickerCore& c = core_[local];
  const RuleParams& rp = params_[c.params];
  const TickMetrics& m = metrics_;
  const double p = t.price;
  const auto has = [fire](Rule r, Direction d) { return (fire & rule_bit(r, d)) != 0; };
  // In the rules' order (alert ids follow it); the values are the doubles evaluate_rules() compared.
  if (has(Rule::kWindowMove, Direction::kUp)) {
    emit(local, t, event_ns, Rule::kWindowMove, Direction::kUp, pct(p, m.window_low), m.window_low,
         rp.window_move_pct);
  }
  if (has(Rule::kWindowMove, Direction::kDown)) {
    emit(local, t, event_ns, Rule::kWindowMove, Direction::kDown, pct_below(m.window_high, p),
         m.window_high, rp.window_move_pct);
  }
  if (has(Rule::kTickChange, Direction::kUp) || has(Rule::kTickChange, Direction::kDown)) {
    emit(local, t, event_ns, Rule::kTickChange, m.pct_change > 0 ? Direction::kUp : Direction::kDown,
         m.pct_change, c.last_price, rp.tick_change_pct);
  }
  if (has(Rule::kVolatility, Direction::kUp)) {
    const double vol = std::sqrt(returns_var_);
    emit(local, t, event_ns, Rule::kVolatility, Direction::kUp, vol, vol, rp.volatility_pct);
  }
  if (has(Rule::kSmaCross, Direction::kUp) || has(Rule::kSmaCross, Direction::kDown)) {
    emit(local, t, event_ns, Rule::kSmaCross, sign > 0 ? Direction::kUp : Direction::kDown, diff,
         m.sma[n_windows_ - 1], 0.0);
  }
  if (has(Rule::kVolumeSpike, Direction::kUp)) {
    emit(local, t, event_ns, Rule::kVolumeSpike, Direction::kUp, t.volume / m.volume_mean, m.volume_mean,
         rp.volume_spike_factor);
  }
}

void ShardCore::emit(std::uint32_t local, const Tick& t, std::int64_t event_ns, Rule rule, Direction dir,
                     double value, double reference, double threshold) noexcept {
  const auto r = static_cast<std::size_t>(rule);
  TickerAux& ax = aux_[local];
  ax.last_alert_ns[r][dir == Direction::kDown ? 0 : 1] = event_ns;
  // Its cooldown starts, by refresh_cooldowns()'s own test (none when the cooldown is 0, or at INT64_MIN,
  // which is "never"): the mask takes its bit and stays exact until the earliest end.
  const std::int64_t cd = gates_[core_[local].params].cooldown_ns;
  if (in_cooldown(event_ns, event_ns, cd)) {
    core_[local].cool = static_cast<std::uint16_t>(core_[local].cool | rule_bit(rule, dir));
    ax.cool_until = std::min(ax.cool_until, cooldown_end(event_ns, cd));
  }
  const TickMetrics& m = metrics_;
  Alert& a = alert_;
  a.id = next_alert_id_;
  next_alert_id_ += index_.shards();
  a.tick_seq = t.seq;
  a.event_ns = t.event_ns;
  a.ingest_ns = t.ingest_ns;
  a.symbol = t.symbol;
  a.feed = t.feed;
  a.rule = rule;
  a.direction = dir;
  std::memcpy(a.ticker, symbols_.name(t.symbol), sizeof(a.ticker));
  a.price = t.price;
  a.reference = reference;
  a.value = value;
  a.threshold = threshold;
  a.sma_short = m.sma[0];
  a.sma_long = m.sma[n_windows_ - 1];
  a.volatility = std::sqrt(returns_var_);
  a.pct_change = m.pct_change;
  a.volume = t.volume;
  ++counters_.alerts;
  ++counters_.by_rule[r][static_cast<int>(dir) + 1];
  if (daily_on_ && event_ns >= days_[local].open_ns && event_ns < days_[local].close_ns) {
    ++day_alerts_[std::size_t{local} * kRuleCount + r];
  }
  if (measure_latency_) {
    lat_alert_.record(now_ns() - t.ingest_ns);  // ingest → the moment the callbacks are called
  }
  for (std::uint32_t i = 0; i < n_alert_fns_; ++i) {
    alert_fns_[i](alert_users_[i], &a);
  }
}

}  // namespace tickforge
