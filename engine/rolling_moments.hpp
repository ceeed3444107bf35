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
#include <limits>

namespace tickforge {

struct RollingMoments {
  /// M2 below this fraction of its recent peak is treated as cancellation and recomputed exactly.
  static constexpr double kCollapse = 1e-3;
  /// Exact recompute at least this often (in updates), and at least every N.
  static constexpr std::uint32_t kMinPeriod = 64;

  double shift = 0.0;    ///< K: values are stored raw, used as y = x - K
  double sum = 0.0;      ///< Σ y over the window
  double m2 = 0.0;       ///< Σ (y - mean_y)² over the window
  double m2_floor = 0.0; ///< kCollapse × the largest m2 since the last exact recompute (its peak)
  double inv_n = 0.0;    ///< 1 / n: no division once the window is full
  double inv_dof = 0.0;  ///< 1 / (n - ddof), NaN while n ≤ ddof
  std::uint32_t n = 0;   ///< values in the window (≤ N)
  std::uint32_t since = 0;  ///< updates since the last exact recompute
  std::uint32_t ddof = 1;   ///< delta degrees of freedom of variance()

  /// Adds hist[pos & mask] (already stored by the caller) to a window of N values; when the window is
  /// full, hist[(pos - N) & mask] leaves. The ring must hold more than N values (mask + 1 > N).
  void push(const double* hist, std::uint32_t mask, std::uint32_t pos, std::uint32_t window) noexcept {
    push(hist, mask, pos, window, window > kMinPeriod ? window : kMinPeriod);
  }
  /// The same with the recompute period max(N, kMinPeriod) computed once by the caller.
  void push(const double* hist, std::uint32_t mask, std::uint32_t pos, std::uint32_t window,
            std::uint32_t period) noexcept {
    const double y = hist[pos & mask] - shift;
    if (n < window) [[unlikely]] {
      grow(hist[pos & mask], y);
    } else {
      const double y_old = hist[(pos - window) & mask] - shift;
      const double old_mean = sum * inv_n;
      sum += y - y_old;
      m2 += (y - y_old) * (y - sum * inv_n + y_old - old_mean);
    }
    // The floor moves with the peak (kCollapse × m2 is the product the check compared against), so a
    // tick pays one multiplication only when m2 reaches a new peak. Both conditions in one branch.
    if (m2 * kCollapse > m2_floor) {
      m2_floor = m2 * kCollapse;
    }
    if ((++since >= period) | (m2 < m2_floor)) [[unlikely]] {
      recompute(hist, mask, pos);
    }
  }

  [[nodiscard]] double mean() const noexcept { return shift + sum * inv_n; }
  /// Variance with `ddof` delta degrees of freedom (1 = sample, 0 = population); NaN while n ≤ ddof.
  [[nodiscard]] double variance() const noexcept { return m2 * inv_dof; }

  /// Warm-up: the window is not full yet, so n grows (the only place that divides).
  void grow(double x, double y) noexcept {
    if (n == 0) {
      shift = x;
      sum = m2 = m2_floor = 0.0;
      since = 0;
      set_n(1);
      return;
    }
    const double old_mean = sum * inv_n;
    sum += y;
    set_n(n + 1);
    m2 += (y - old_mean) * (y - sum * inv_n);
  }

  void set_n(std::uint32_t count) noexcept {
    n = count;
    inv_n = 1.0 / count;
    inv_dof = count > ddof ? 1.0 / (count - ddof) : std::numeric_limits<double>::quiet_NaN();
  }

  /// Exact (corrected two-pass) recompute over the n values ending at pos. Cold, O(n).
  [[gnu::noinline]] void recompute(const double* hist, std::uint32_t mask, std::uint32_t pos) noexcept {
    shift = hist[pos & mask];
    const std::uint32_t first = pos - n + 1;
    double s = 0.0;
    for (std::uint32_t i = 0; i < n; ++i) {
      s += hist[(first + i) & mask] - shift;
    }
    const double mean_y = s * inv_n;
    double d = 0.0;
    double q = 0.0;
    for (std::uint32_t i = 0; i < n; ++i) {
      const double e = hist[(first + i) & mask] - shift - mean_y;
      d += e;
      q += e * e;
    }
    sum = s + d;  // d is the rounding residue of the first pass
    m2 = q - d * d * inv_n;
    if (m2 < 0.0) {
      m2 = 0.0;
    }
    m2_floor = m2 * kCollapse;
    since = 0;
  }
};

}  // namespace tickforge
