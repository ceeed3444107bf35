// RollingMoments against an exact two-pass reference: realistic prices over 10 million ticks, prices
// near 1e9, huge outliers leaving the window, and the published cases where pandas and Σx/Σx² fail
// (tests/data/rolling_variance_pathological_cases.json, from ../shared/data/indicators).
#include "rolling_moments.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "support.hpp"

using tickforge::RollingMoments;
using tickforge::test::exact_window;
using tickforge::test::rel_err;

namespace {

constexpr double kTol = 1e-9;

struct Checked {
  double worst_mean = 0;
  double worst_std = 0;
};

// Pushes every x through a RollingMoments of `window`, comparing mean and std with the exact reference
// at every full window. Zero-spread windows must give exactly zero; `floor` is the absolute scale under
// which the std is compared absolutely (the "near zero" case).
Checked run_series(const std::vector<double>& x, std::uint32_t window, unsigned ddof, double floor) {
  const std::uint32_t len = window + 1;  // the engine's ring: exactly N + 1 slots
  std::vector<double> hist(len);
  const auto w = tickforge::MomentWindow::of(window, ddof);
  RollingMoments m;
  Checked c;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto pos = static_cast<std::uint32_t>(i);
    hist[pos % len] = x[i];
    m.push(tickforge::HistRing{hist.data(), len, pos % len}, w, pos);
    if (i + 1 < window) {
      continue;
    }
    const auto e = exact_window(x, i + 1, window, ddof);
    const double sd = std::sqrt(m.variance_full(w));
    c.worst_mean = std::max(c.worst_mean, rel_err(m.mean_full(w), e.mean, floor));
    const long double exact_sd = std::sqrt(std::max<long double>(e.var, 0));
    if (exact_sd == 0) {
      EXPECT_EQ(sd, 0.0) << "at " << i;
    }
    c.worst_std = std::max(c.worst_std, rel_err(sd, exact_sd, floor));
  }
  return c;
}

#ifdef TICKFORGE_SANITIZED
constexpr std::size_t kLongRun = 1'000'000;
#else
constexpr std::size_t kLongRun = 10'000'000;
#endif

}  // namespace

TEST(RollingMoments, ShouldMatchExactTwoPassOverTenMillionRealisticTicks) {
  // Geometric random walk around 150 with 0.05 % steps, rounded to cents like real quotes.
  std::mt19937_64 rng(7);
  std::normal_distribution<double> step(0.0, 0.0005);
  std::vector<double> x(kLongRun);
  double p = 150.0;
  for (auto& v : x) {
    p *= std::exp(step(rng));
    v = std::round(p * 100.0) / 100.0;
  }
  for (const std::uint32_t w : {5u, 20u}) {
    const Checked c = run_series(x, w, 1, 1e-6);
    EXPECT_LT(c.worst_mean, kTol) << "window " << w;
    EXPECT_LT(c.worst_std, kTol) << "window " << w;
    RecordProperty("worst_rel_err_std_w" + std::to_string(w), std::to_string(c.worst_std));
    std::printf("window %u over %zu ticks: worst relative error mean %.3g, std %.3g\n", w, x.size(), c.worst_mean,
                c.worst_std);
  }
}

TEST(RollingMoments, ShouldRecomputeOnTheSameScheduleWhenTheCallersCountWraps) {
  // The caller's update count is a wrapping 32-bit clock: started just below 2^32, the recomputes (every
  // max(N, 64) pushes, and on collapse) fall on the same pushes as when it starts at 0, so every mean
  // and variance is the same double; a count that did not compare as a signed distance would stop the
  // periodic recompute after the wrap and drift.
  std::mt19937_64 rng(9);
  std::normal_distribution<double> step(0.0, 0.3);
  const std::uint32_t n = 20;
  const std::uint32_t len = n + 1;
  std::vector<double> hist(len);
  const auto w = tickforge::MomentWindow::of(n, 1);
  RollingMoments from_zero;
  RollingMoments wrapping;
  double p = 100.0;
  int differ = 0;
  for (std::uint32_t i = 0; i < 5'000; ++i) {
    p += step(rng) + (i % 700 == 350 ? 1e6 : 0.0) - (i % 700 == 351 ? 1e6 : 0.0);  // outliers: collapses
    hist[i % len] = p;
    const tickforge::HistRing h{hist.data(), len, i % len};
    const double a = from_zero.push(h, w, i);
    const double b = wrapping.push(h, w, 0xFFFF'F000u + i);
    differ += std::memcmp(&a, &b, sizeof a) != 0 || from_zero.m2 != wrapping.m2;
  }
  EXPECT_EQ(differ, 0);
  EXPECT_EQ(from_zero.due - 0u, wrapping.due - 0xFFFF'F000u);
}

TEST(RollingMoments, ShouldStayExactForPricesNearOneBillion) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> noise(-20, 20);
  std::vector<double> x(200'000);
  for (auto& v : x) {
    v = 1e9 + noise(rng) * 0.25;
  }
  for (const unsigned ddof : {0u, 1u}) {
    const Checked c = run_series(x, 10, ddof, 1e-6);
    EXPECT_LT(c.worst_mean, kTol);
    EXPECT_LT(c.worst_std, kTol);
  }
}

TEST(RollingMoments, ShouldRecoverExactlyAfterHugeOutlierLeavesTheWindow) {
  std::vector<double> x;
  for (int i = 0; i < 50; ++i) {
    x.push_back(100.0 + (i % 7) * 0.01);
  }
  x.push_back(1e15);  // a fat-finger print
  for (int i = 0; i < 100; ++i) {
    x.push_back(100.0 + (i % 5) * 0.01);
  }
  x.push_back(-1e12);
  for (int i = 0; i < 40; ++i) {
    x.push_back(100.0);  // flat: exact std 0
  }
  const Checked c = run_series(x, 20, 1, 1e-6);
  EXPECT_LT(c.worst_mean, kTol);
  EXPECT_LT(c.worst_std, kTol);
}

TEST(RollingMoments, ShouldPassThePublishedPathologicalCases) {
  std::string text;
  {
    std::ifstream in(tickforge::test::data_path("rolling_variance_pathological_cases.json"));
    ASSERT_TRUE(in) << "missing tests/data/rolling_variance_pathological_cases.json";
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  // The file is Python's json.dump output: NaN is a bare token. Our feeds drop NaN prices before they
  // reach a calculator, so a NaN becomes "absent" here and min_periods windows are handled below.
  for (std::size_t at = text.find("NaN"); at != std::string::npos; at = text.find("NaN", at)) {
    text.replace(at, 3, "null");
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(text);
  int cases = 0;
  for (auto [name, c] : root.get_object()) {
    std::vector<double> input;
    const auto in = c["input"];
    if (in.is_string()) {
      ASSERT_EQ(std::string(in.get_string().value()), "[1000.0] + [0.0]*999");
      input.push_back(1000.0);
      input.insert(input.end(), 999, 0.0);
    } else {
      for (auto v : in.get_array()) {
        if (!v.is_null()) {
          input.push_back(v.get_double());
        }
      }
    }
    auto window = static_cast<std::uint32_t>(std::int64_t(c["window"]));
    const auto ddof = static_cast<unsigned>(std::int64_t(c["ddof"]));
    const auto min_periods = static_cast<std::uint32_t>(std::int64_t(c["min_periods"]));
    const std::size_t n_nan = std::size_t(std::int64_t(c["n"])) - input.size();
    // pandas' window of `window` slots holding one NaN is our window of (window - NaNs) valid prices for
    // the outputs after the NaN (gh28244); the case guarantees min_periods ≤ that.
    window -= static_cast<std::uint32_t>(n_nan);
    ASSERT_LE(min_periods, window) << name;
    std::vector<double> expected;
    for (auto v : c["exact_std_last6"].get_array()) {
      expected.push_back(v.is_null() ? NAN : double(v));
    }
    const std::uint32_t len = window + 7;  // a ring longer than N + 1 works the same
    std::vector<double> hist(len);
    const auto w = tickforge::MomentWindow::of(window, ddof);
    RollingMoments m;
    std::vector<double> got;
    for (std::size_t i = 0; i < input.size(); ++i) {
      const auto slot = static_cast<std::uint32_t>(i % len);
      hist[slot] = input[i];
      m.push(tickforge::HistRing{hist.data(), len, slot}, w, static_cast<std::uint32_t>(i));
      got.push_back(m.n == window ? std::sqrt(m.variance_full(w)) : NAN);
    }
    // Compare the tail: pandas' last outputs ↔ ours. Where pandas used min_periods on a window that
    // still held the NaN, our (NaN-free) window is not full yet: only those may be missing.
    const std::size_t k = std::min(expected.size(), got.size());
    int compared = 0;
    for (std::size_t j = 1; j <= k; ++j) {
      const double want = expected[expected.size() - j];
      const double have = got[got.size() - j];
      if (std::isnan(want)) {
        continue;
      }
      if (std::isnan(have)) {
        EXPECT_GT(n_nan, 0u) << name << " output -" << j << " missing";
        continue;
      }
      if (want == 0) {
        EXPECT_EQ(have, 0.0) << name << " output -" << j;
      } else {
        EXPECT_LT(std::fabs(have - want) / want, kTol) << name << " output -" << j << ": " << have << " vs " << want;
      }
      ++compared;
    }
    EXPECT_GE(compared, 1) << name;
    ++cases;
  }
  EXPECT_EQ(cases, 6);
}

namespace {

// Two independent series in two rings of their own sizes (lane 0: window n0, lane 1: window n1), pushed
// through one MomentPair as the engine does (per lane until both are full, then both at once) and through
// two RollingMoments: every mean and every field of both lanes must be the same bits. Outliers make the
// lanes collapse (and recompute) on different pushes, so their schedules drift apart. With lag0, lane 0
// starts that many pushes after lane 1, as the engine's returns start a tick after its volumes.
int pair_differences(std::uint32_t n0, std::uint32_t n1, std::uint32_t start, std::uint64_t seed,
                     std::uint32_t lag0 = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> step(0.0, 0.4);
  const auto w0 = tickforge::MomentWindow::of(n0, 1);
  const auto w1 = tickforge::MomentWindow::of(n1, 0);
  const auto w = tickforge::MomentWindows2::of(w0, w1);
  std::vector<double> h0(n0 + 1);
  std::vector<double> h1(n1 + 1);
  tickforge::MomentPair pair;
  RollingMoments r0;
  RollingMoments r1;
  double a = 1e9;  // near 1e9, as the precision tests
  double b = 50.0;
  int differ = 0;
  int both_full = 0;
  const auto same = [](double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; };
  for (std::uint32_t i = 0; i < 20'000; ++i) {
    a += step(rng) + (i % 997 == 500 ? 1e7 : 0.0) - (i % 997 == 501 ? 1e7 : 0.0);
    b = std::abs(b + step(rng)) + (i % 613 == 300 ? 1e9 : 0.0) - (i % 613 == 301 ? 1e9 : 0.0);
    const std::uint32_t now = start + i;
    const tickforge::HistRing g0{h0.data(), n0 + 1, i % (n0 + 1)};
    const tickforge::HistRing g1{h1.data(), n1 + 1, i % (n1 + 1)};
    h0[g0.newest] = a;
    h1[g1.newest] = b;
    const bool lane0 = i >= lag0;
    const double e0 = lane0 ? r0.push(g0, w0, now) : 0.0;
    const double e1 = r1.push(g1, w1, now);
    double m0 = 0;
    double m1 = 0;
    if (pair.full(w)) {
      const tickforge::Double2 mean = pair.push_full(g0, g1, w, now, tickforge::Double2{a, b},
                                                     tickforge::Double2{g0.back(n0), g1.back(n1)});
      m0 = mean[0];
      m1 = mean[1];
      ++both_full;
    } else {
      m0 = lane0 ? pair.push_lane(0, g0, w0, now) : 0.0;
      m1 = pair.push_lane(1, g1, w1, now);
    }
    const RollingMoments l0 = pair.lane(0);
    const RollingMoments l1 = pair.lane(1);
    const auto lane_differs = [&same](const RollingMoments& l, const RollingMoments& r) {
      return !same(l.shift, r.shift) || !same(l.sum, r.sum) || !same(l.m2, r.m2) || !same(l.m2_floor, r.m2_floor) ||
             l.n != r.n || l.due != r.due;
    };
    differ += !same(m0, e0) || !same(m1, e1) || lane_differs(l0, r0) || lane_differs(l1, r1);
  }
  EXPECT_GT(both_full, 15'000);  // the pair path ran (after the longest window's warm-up)
  return differ;
}

}  // namespace

TEST(MomentPair, ShouldGiveEachLaneTheBitsOfItsOwnRollingMoments) {
  EXPECT_EQ(pair_differences(5, 10, 0, 1), 0);
  EXPECT_EQ(pair_differences(20, 20, 0, 2), 0);
  EXPECT_EQ(pair_differences(200, 3, 0, 3), 0);      // periods 200 and 64: different schedules
  EXPECT_EQ(pair_differences(1, 4096, 0, 4), 0);
  EXPECT_EQ(pair_differences(20, 7, 0xFFFF'F000u, 5), 0);  // the push count wraps
  EXPECT_EQ(pair_differences(20, 20, 0, 6, 1), 0);          // lane 0 a push behind: the returns and volumes
  EXPECT_EQ(pair_differences(64, 5, 0xFFFF'FFF0u, 7, 3), 0);  // behind, across the wrap
}

TEST(MomentPair, ShouldSelectTheLargerLaneAsTheScalarSelectDoesWithNaNAndSignedZeros) {
  // RollingMoments::settle keeps `floor > m2_floor ? floor : m2_floor`; the pair's max_lanes must pick
  // the same operand in every lane, also when they compare false (NaN, equal, −0 against +0).
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double cases[][2] = {{1.0, 2.0}, {2.0, 1.0}, {nan, 1.0}, {1.0, nan}, {0.0, -0.0}, {-0.0, 0.0}, {3.0, 3.0}};
  const auto bits = [](double x) {
    std::uint64_t u;
    std::memcpy(&u, &x, sizeof u);
    return u;
  };
  for (const auto& c : cases) {
    const tickforge::Double2 m = tickforge::max_lanes(tickforge::Double2{c[0], c[1]}, tickforge::Double2{c[1], c[0]});
    EXPECT_EQ(bits(m[0]), bits(c[0] > c[1] ? c[0] : c[1])) << c[0] << " vs " << c[1];
    EXPECT_EQ(bits(m[1]), bits(c[1] > c[0] ? c[1] : c[0])) << c[1] << " vs " << c[0];
  }
}
