// tickforge — O(1) rolling mean and variance that stay exact to ~1e-12 relative.
//
// Private header. See docs/calculators.md for the derivation. In short:
//   * the window's values live in a caller-owned history ring; this struct keeps only running state;
//   * values are shifted by a reference K (the newest value at the last exact recompute), so prices near
//     1e9 with a spread of a few units keep all their significant digits (x - K is exact for nearby x);
//   * add/remove is the sliding Welford update of Σ(y) and M2 = Σ(y - ȳ)²;
//   * an exact two-pass recompute over the ≤ N window values runs every max(N, 64) updates (amortised
//     O(1), bounds rounding drift to a few dozen steps) and at once when M2 collapses below kCollapse × its peak since
//     the last recompute (a huge value left the window: the running M2 then holds only rounding noise,
//     the cases where pandas and Σx/Σx² go wrong). Negative M2 is impossible after that check.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace tickforge {

/// One window's constants, shared by every ticker that uses the window (the caller owns one per
/// window): RollingMoments keeps only the running state, 40 bytes per ticker and window.
struct MomentWindow {
  /// Exact recompute at least this often (in updates), and at least every N.
  static constexpr std::uint32_t kMinPeriod = 64;

  std::uint32_t size = 1;        ///< N: values in a full window
  std::uint32_t period = kMinPeriod;  ///< exact recompute every max(N, kMinPeriod) updates
  double inv_n = 1.0;            ///< 1 / N
  double inv_dof = 0.0;          ///< 1 / (N - ddof), NaN when N ≤ ddof

  [[nodiscard]] static MomentWindow of(std::uint32_t n, std::uint32_t ddof) noexcept {
    MomentWindow w;
    w.size = n;
    w.period = n > kMinPeriod ? n : kMinPeriod;
    w.inv_n = 1.0 / n;
    w.inv_dof = n > ddof ? 1.0 / (n - ddof) : std::numeric_limits<double>::quiet_NaN();
    return w;
  }
};

/// A window's values in a caller-owned ring of `len` slots (len greater than every window read from it;
/// any length, not only a power of two); `newest` is the slot of the value just stored. Slots wrap with
/// a compare, never a division.
struct HistRing {
  const double* base;
  std::uint32_t len;
  std::uint32_t newest;

  /// The slot k places before the newest, k < len.
  [[nodiscard]] std::uint32_t slot_back(std::uint32_t k) const noexcept {
    return newest >= k ? newest - k : newest + len - k;
  }
  [[nodiscard]] double back(std::uint32_t k) const noexcept { return base[slot_back(k)]; }
  /// f(back(n − 1)), …, f(back(0)), n ≤ len: the values oldest first, as at most two contiguous runs
  /// (no slot arithmetic per value).
  template <typename F>
  void for_each_oldest_first(std::uint32_t n, F&& f) const noexcept {
    const std::uint32_t first = slot_back(n - 1);
    const std::uint32_t run = len - first < n ? len - first : n;
    for (std::uint32_t i = first; i < first + run; ++i) {
      f(base[i]);
    }
    for (std::uint32_t i = 0; i < n - run; ++i) {
      f(base[i]);
    }
  }
};

/// The sliding Welford update of a full window, on doubles or on two lanes at once (Double2): x joins, x_old
/// leaves; returns the new mean. RollingMoments and MomentPair both run this one expression, which is what
/// makes a lane's bits its scalar twin's.
template <typename T>
inline T slide_full(T& sum, T& m2, T shift, T inv_n, T x, T x_old) noexcept {
  const T y = x - shift;
  const T y_old = x_old - shift;
  const T old_mean = sum * inv_n;
  sum += y - y_old;
  const T new_mean = sum * inv_n;
  m2 += (y - y_old) * (y - new_mean + y_old - old_mean);
  return shift + new_mean;
}

struct RollingMoments {
  /// M2 below this fraction of its recent peak is treated as cancellation and recomputed exactly.
  static constexpr double kCollapse = 1e-3;

  double shift = 0.0;    ///< K: values are stored raw, used as y = x - K
  double sum = 0.0;      ///< Σ y over the window
  double m2 = 0.0;       ///< Σ (y - mean_y)² over the window
  double m2_floor = 0.0; ///< kCollapse × the largest m2 since the last exact recompute (its peak)
  std::uint32_t n = 0;   ///< values in the window (≤ N)
  /// The caller's update count (`now`, one more per push, wrapping) at which the next periodic exact
  /// recompute is due: a compare per push instead of a counter's load, increment and store.
  std::uint32_t due = 0;

  /// Adds h's newest value h.back(0) (already stored by the caller) to window w; when the window is
  /// full, h.back(w.size) leaves. Src is a HistRing, or any view with the same back(k) and
  /// for_each_oldest_first(n, f) (the engine's returns are computed from the price ring instead of being
  /// stored). `now` is the caller's count of
  /// pushes to this window, one more on each (the engine uses the ticker's tick count; only its
  /// differences matter, and it may wrap). Returns mean_full(w) when the window is full after the push,
  /// else NaN: the same double the caller would compute, without reloading the state (the full window's
  /// mean is the product the update itself needs).
  template <typename Src>
  double push(const Src& h, const MomentWindow& w, std::uint32_t now) noexcept {
    if (n < w.size) [[unlikely]] {
      const double x = h.back(0);
      grow(x, x - shift, now + w.period - 1);
      return settle(h, w, now, n == w.size ? shift + sum * w.inv_n : std::numeric_limits<double>::quiet_NaN());
    }
    return push_full(h, w, now);
  }

  /// push() on a window known to be full (n == w.size), as the engine's price windows are once the
  /// ticker has had the longest window's ticks: no warm-up check per window.
  template <typename Src>
  double push_full(const Src& h, const MomentWindow& w, std::uint32_t now) noexcept {
    return settle(h, w, now, slide_full(sum, m2, shift, w.inv_n, h.back(0), h.back(w.size)));
  }

  /// Mean and variance of a full window (n == w.size): no division.
  [[nodiscard]] double mean_full(const MomentWindow& w) const noexcept { return shift + sum * w.inv_n; }
  [[nodiscard]] double variance_full(const MomentWindow& w) const noexcept { return m2 * w.inv_dof; }

  /// The end of every push: the collapse floor follows M2's peak, and the exact recompute runs every
  /// period-th push or when M2 collapsed; returns the window's mean (the recompute's, if it ran).
  template <typename Src>
  double settle(const Src& h, const MomentWindow& w, std::uint32_t now, double mean) noexcept {
    // The floor follows the peak (kCollapse × m2 is the product the check compared against); a max,
    // not a branch: a new peak comes at random (a mispredicted branch on a few % of the ticks).
    const double floor = m2 * kCollapse;
    m2_floor = floor > m2_floor ? floor : m2_floor;
    if (recompute_due(now)) [[unlikely]] {
      recompute(h, now + w.period);
      mean = n == w.size ? mean_full(w) : mean;  // new shift and sum: the mean as they give it
    }
    return mean;
  }

  /// Every period-th push since the last recompute (due − now, as a signed distance, reaches 0), or M2
  /// collapsed below the floor (already following the peak).
  [[nodiscard]] bool recompute_due(std::uint32_t now) const noexcept {
    return (static_cast<std::int32_t>(now - due) >= 0) | (m2 < m2_floor);
  }

  /// Warm-up: the window is not full yet, so n grows (the only place that divides per update). The
  /// factors are 1.0 / n exactly as a full window's 1 / N, so the results are the same doubles.
  /// first_due: the recompute schedule's start, when this is the window's first value.
  void grow(double x, double y, std::uint32_t first_due) noexcept {
    if (n == 0) {
      shift = x;
      sum = m2 = m2_floor = 0.0;
      due = first_due;
      n = 1;
      return;
    }
    const double old_mean = sum * (1.0 / n);
    sum += y;
    ++n;
    m2 += (y - old_mean) * (y - sum * (1.0 / n));
  }

  /// Exact (corrected two-pass) recompute over the n values ending at h's newest, oldest first; the next
  /// periodic one is due at next_due. Cold, O(n).
  template <typename Src>
  [[gnu::noinline]] void recompute(const Src& h, std::uint32_t next_due) noexcept {
    shift = h.back(0);
    const double inv_n = 1.0 / n;
    const double k_shift = shift;  // a local: the passes' stores cannot be thought to change it
    double s = 0.0;
    h.for_each_oldest_first(n, [&s, k_shift](double x) { s += x - k_shift; });
    const double mean_y = s * inv_n;
    double d = 0.0;
    double q = 0.0;
    h.for_each_oldest_first(n, [&d, &q, k_shift, mean_y](double x) {
      const double e = x - k_shift - mean_y;
      d += e;
      q += e * e;
    });
    sum = s + d;  // d is the rounding residue of the first pass
    m2 = q - d * d * inv_n;
    if (m2 < 0.0) {
      m2 = 0.0;
    }
    m2_floor = m2 * kCollapse;
    due = next_due;
  }
};

static_assert(sizeof(RollingMoments) == 40, "per-ticker running state only: the window constants live in MomentWindow");

// ---- two windows at once ----------------------------------------------------------------------------

/// Two doubles in one SSE2 register (a GCC/Clang vector: two scalar doubles where there is no SIMD).
/// Each lane's +, −, × and compare is the scalar operation's IEEE double result, so a lane gives the same
/// bits as RollingMoments on the targets we build for (x86-64, whose doubles are SSE2, never x87, and
/// ARMv8), because the build turns contraction into FMA off (-ffp-contract=off in CMakeLists.txt).
using Double2 = double __attribute__((vector_size(16)));
using Mask2 = std::int64_t __attribute__((vector_size(16)));  ///< a lane compare: all ones or zero

/// True when either lane of a compare is set: one movmskpd with SSE2.
[[nodiscard]] inline bool any_lane(Mask2 m) noexcept {
#if defined(__SSE2__)
  return __builtin_ia32_movmskpd(reinterpret_cast<Double2>(m)) != 0;
#else
  return (m[0] | m[1]) != 0;
#endif
}
/// a > b ? a : b per lane: the scalar select RollingMoments::settle uses (maxpd computes exactly it).
[[nodiscard]] inline Double2 max_lanes(Double2 a, Double2 b) noexcept {
#if defined(__SSE2__)
  return __builtin_ia32_maxpd(a, b);
#else
  return Double2{a[0] > b[0] ? a[0] : b[0], a[1] > b[1] ? a[1] : b[1]};
#endif
}

/// Two windows' constants: 1/N of both in one register, and each lane's MomentWindow (cold paths).
struct MomentWindows2 {
  Double2 inv_n;
  MomentWindow lane[2];
  std::uint32_t full_n;  ///< MomentPair::n of two full windows, as one word

  [[nodiscard]] static MomentWindows2 of(const MomentWindow& w0, const MomentWindow& w1) noexcept {
    const std::uint16_t sizes[2] = {static_cast<std::uint16_t>(w0.size), static_cast<std::uint16_t>(w1.size)};
    std::uint32_t full_n;
    std::memcpy(&full_n, sizes, sizeof full_n);
    return MomentWindows2{Double2{w0.inv_n, w1.inv_n}, {w0, w1}, full_n};
  }
};

/// The running state of two windows side by side (structure of arrays, 80 bytes = two RollingMoments):
/// one push updates both with the instructions of one, lane i giving bit for bit what a RollingMoments
/// of lane i's values gives (tests/test_rolling_moments.cpp checks it). Lanes are read and written as
/// RollingMoments on the cold paths: warm-up and the exact recomputes.
struct alignas(16) MomentPair {
  Double2 shift{};
  Double2 sum{};
  Double2 m2{};
  Double2 m2_floor{};
  std::uint32_t due = 0;          ///< the nearer of the lanes' next periodic recomputes (one compare per push)
  std::uint32_t lane_due[2] = {0, 0};
  std::uint16_t n[2] = {0, 0};    ///< values in each lane's window (≤ kMaxWindowLength), read as one word by full()

  [[nodiscard]] RollingMoments lane(unsigned i) const noexcept {
    RollingMoments r;
    r.shift = shift[i];
    r.sum = sum[i];
    r.m2 = m2[i];
    r.m2_floor = m2_floor[i];
    r.n = n[i];
    r.due = lane_due[i];
    return r;
  }
  /// Stores lane i (its due without the pair's: refresh_due() after the lanes are stored).
  void set_lane(unsigned i, const RollingMoments& r) noexcept {
    shift[i] = r.shift;
    sum[i] = r.sum;
    m2[i] = r.m2;
    m2_floor[i] = r.m2_floor;
    n[i] = static_cast<std::uint16_t>(r.n);
    lane_due[i] = r.due;
  }
  /// The pair's due: the nearer lane's, as signed distances from `now`, the push count just used (the
  /// lanes' dues are after it).
  void refresh_due(std::uint32_t now) noexcept {
    due = static_cast<std::int32_t>(lane_due[0] - now) <= static_cast<std::int32_t>(lane_due[1] - now) ? lane_due[0]
                                                                                                   : lane_due[1];
  }
  /// Both lanes' windows full: one 32-bit compare of n[] with MomentWindows2::full_n.
  [[nodiscard]] bool full(const MomentWindows2& w) const noexcept {
    std::uint32_t both;
    std::memcpy(&both, n, sizeof both);
    return both == w.full_n;
  }
  /// RollingMoments::push() of lane i (h's newest value joins it): the warm-up path. Returns its result.
  template <typename Src>
  double push_lane(unsigned i, const Src& h, const MomentWindow& w, std::uint32_t now) noexcept {
    RollingMoments r = lane(i);
    const double mean = r.push(h, w, now);
    set_lane(i, r);
    refresh_due(now);
    return mean;
  }

  /// RollingMoments::push_full() of both lanes (full(w)): x joins and x_old leaves each lane's window;
  /// h0 and h1 are the lanes' sources (read only by an exact recompute). Returns both windows' means.
  template <typename Src0, typename Src1>
  Double2 push_full(const Src0& h0, const Src1& h1, const MomentWindows2& w, std::uint32_t now, Double2 x,
                    Double2 x_old) noexcept {
    Double2 mean = slide_full(sum, m2, shift, w.inv_n, x, x_old);
    m2_floor = max_lanes(m2 * RollingMoments::kCollapse, m2_floor);
    if ((static_cast<std::int32_t>(now - due) >= 0) | any_lane(m2 < m2_floor)) [[unlikely]] {
      settle_lanes(h0, h1, w, now, mean);
    }
    return mean;
  }

  /// A lane is due for its periodic recompute or collapsed: RollingMoments::settle's recompute, per lane.
  template <typename Src0, typename Src1>
  [[gnu::noinline]] void settle_lanes(const Src0& h0, const Src1& h1, const MomentWindows2& w, std::uint32_t now,
                                      Double2& mean) noexcept {
    const auto settle = [&](unsigned i, const auto& h) {
      RollingMoments r = lane(i);
      if (r.recompute_due(now)) {
        r.recompute(h, now + w.lane[i].period);
        mean[i] = r.mean_full(w.lane[i]);
        set_lane(i, r);
      }
    };
    settle(0, h0);
    settle(1, h1);
    refresh_due(now);
  }
};

static_assert(sizeof(MomentPair) == 2 * sizeof(RollingMoments), "a pair of windows takes the room of two");

}  // namespace tickforge
