// Per-ticker calculators (ShardCore) against independent references: TA-Lib's 252-bar series with
// exact derived values and TA-Lib's published outputs, and brute-force recomputation of every metric.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "support.hpp"

using namespace tickforge;
using tickforge::test::data_path;
using tickforge::test::exact_window;
using tickforge::test::Harness;
using tickforge::test::read_plain_csv;
using tickforge::test::rel_err;

namespace {

// Half a unit in the last printed decimal of `cell`: the reference is only that precise.
double printed_precision(const std::string& cell) {
  const auto dot = cell.find('.');
  const std::size_t decimals = dot == std::string::npos ? 0 : cell.size() - dot - 1;
  return 0.5 * std::pow(10.0, -static_cast<double>(decimals));
}

std::vector<double> talib_closes() {
  const auto rows = read_plain_csv(data_path("talib_ref_252.csv"));
  std::vector<double> close;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    close.push_back(std::stod(rows[i][4]));
  }
  return close;
}

}  // namespace

TEST(Calculators, ShouldMatchExactReferenceOnTaLibSeries) {
  const auto rows = read_plain_csv(data_path("ref_talib252_close_sma_std_pct.csv"));
  ASSERT_GT(rows.size(), 250u);
  const auto& header = rows[0];
  auto col = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return static_cast<std::size_t>(it - header.begin());
  };
  for (const std::uint32_t ddof : {0u, 1u}) {
    EngineConfig cfg;
    cfg.ddof = ddof;
    Harness h(cfg);
    const SymbolId s = h.id("TALIB");
    for (std::size_t i = 1; i < rows.size(); ++i) {
      h.tick(s, std::stod(rows[i][col("close")]));
    }
    int checked = 0;
    for (std::size_t i = 1; i < rows.size(); ++i) {
      const TickMetrics& m = h.metrics[i - 1];
      for (std::size_t w = 0; w < 3; ++w) {
        const std::string n = std::to_string(m.windows[w]);
        std::vector<std::pair<std::string, double>> cmp = {{"sma" + n, m.sma[w]},
                                                           {"std" + n + "_ddof" + std::to_string(ddof), m.stddev[w]}};
        if (ddof == 1) {
          cmp.emplace_back("var" + n + "_ddof1", m.variance[w]);
        }
        for (const auto& [name, got] : cmp) {
          const std::string& cell = rows[i][col(name)];
          if (cell.empty()) {
            EXPECT_TRUE(std::isnan(got)) << name << " row " << i;
            continue;
          }
          const double want = std::stod(cell);
          EXPECT_LE(std::fabs(got - want), std::max(1e-9 * std::fabs(want), printed_precision(cell)))
              << name << " row " << i;
          ++checked;
        }
      }
      const std::string& pc = rows[i][col("pct_change_pct")];
      if (pc.empty()) {
        EXPECT_TRUE(std::isnan(m.pct_change));
      } else {
        EXPECT_LE(std::fabs(m.pct_change - std::stod(pc)), std::max(1e-9 * std::fabs(std::stod(pc)), printed_precision(pc)));
      }
    }
    EXPECT_GT(checked, ddof == 1 ? 1500 : 1000);
  }
}

TEST(Calculators, ShouldReproduceTaLibPublishedSma30AndStddev5) {
  const std::vector<double> close = talib_closes();
  ASSERT_EQ(close.size(), 252u);
  {
    EngineConfig cfg;
    cfg.sma_windows = {30};
    Harness h(cfg);
    const SymbolId s = h.id("T");
    for (const double c : close) {
      h.tick(s, c);
    }
    // TA-Lib SMA(30) output k is input index k + 29; its regression test lists the values cut (not
    // rounded) to two decimals, e.g. 90.4263… is listed as 90.42.
    const std::pair<int, double> published[] = {{0, 90.42}, {1, 90.21}, {2, 89.96}, {29, 87.12}, {221, 107.95}, {222, 108.42}};
    for (const auto& [k, want] : published) {
      EXPECT_GE(h.metrics[k + 29].sma[0], want - 1e-9) << "SMA30 output " << k;
      EXPECT_LT(h.metrics[k + 29].sma[0], want + 0.01) << "SMA30 output " << k;
    }
  }
  {
    EngineConfig cfg;
    cfg.sma_windows = {5};
    cfg.ddof = 0;  // TA-Lib STDDEV is the population deviation
    Harness h(cfg);
    const SymbolId s = h.id("T");
    for (const double c : close) {
      h.tick(s, c);
    }
    EXPECT_NEAR(h.metrics[4].stddev[0], 1.2856, 1e-4);
    EXPECT_NEAR(h.metrics[5].stddev[0], 0.4462, 1e-4);
    EXPECT_NEAR(h.metrics.back().stddev[0], 0.7144, 1e-4);
  }
}

namespace {

// Every metric of two interleaved random tickers against brute force, for the given SMA windows (the
// engine keeps them two by two, an odd last one alone, and unrolls 1–3 windows: each count takes its own
// path). At the end each ticker's snapshot must be bit for bit its last update's metrics.
void check_every_metric_by_brute_force(const std::vector<std::uint32_t>& windows, std::uint32_t vol_window) {
  EngineConfig cfg;
  cfg.sma_windows = windows;
  cfg.volatility_window = vol_window;
  cfg.volume_window = 4;
  cfg.rules.window_ns = 10 * kNsPerSecond;
  cfg.extrema_capacity = 4096;  // large enough that no eviction can happen
  Harness h(cfg);
  const SymbolId a = h.id("A");
  const SymbolId b = h.id("B");
  std::mt19937_64 rng(3);
  std::normal_distribution<double> step(0.0, 0.004);
  std::uniform_int_distribution<int> gap_ms(0, 900);
  std::uniform_int_distribution<int> vol(0, 5000);
  struct Series {
    std::vector<double> p, v, ret;
    std::vector<std::int64_t> t;
    long double pv = 0, vs = 0;
    std::vector<double> ema;
  };
  Series sa, sb;
  TickMetrics last_a{};
  TickMetrics last_b{};
  const std::size_t nw = windows.size();
  double pa = 50, pb = 3000;
  std::int64_t t = 0;
  std::size_t checks = 0;
  for (int i = 0; i < 20'000; ++i) {
    const bool is_a = (i % 3) != 0;
    Series& s = is_a ? sa : sb;
    double& p = is_a ? pa : pb;
    p *= std::exp(step(rng));
    t += gap_ms(rng) * 1'000'000LL;
    const double v = vol(rng);
    h.tick(is_a ? a : b, p, v, t);
    const TickMetrics& m = h.metrics.back();
    (is_a ? last_a : last_b) = m;
    if (!s.p.empty()) {
      s.ret.push_back((p - s.p.back()) / s.p.back() * 100.0);
    }
    // Previous-volume mean excludes this tick.
    if (s.v.size() >= cfg.volume_window) {
      long double sum = 0;
      for (std::size_t k = s.v.size() - cfg.volume_window; k < s.v.size(); ++k) {
        sum += s.v[k];
      }
      EXPECT_LT(rel_err(m.volume_mean, sum / cfg.volume_window, 1e-6), 1e-9);
    } else {
      EXPECT_TRUE(std::isnan(m.volume_mean));
    }
    s.p.push_back(p);
    s.v.push_back(v);
    s.t.push_back(t);
    s.pv += static_cast<long double>(p) * v;
    s.vs += v;
    for (std::size_t w = 0; w < nw; ++w) {
      const std::uint32_t n = cfg.sma_windows[w];
      if (s.ema.size() < nw) {
        s.ema.push_back(p);
      } else {
        s.ema[w] += 2.0 / (n + 1.0) * (p - s.ema[w]);
      }
      EXPECT_LT(rel_err(m.ema[w], s.ema[w]), 1e-12);
      if (s.p.size() < n) {
        EXPECT_TRUE(std::isnan(m.sma[w]));
        continue;
      }
      const auto e = exact_window(s.p, s.p.size(), n, 1);
      EXPECT_LT(rel_err(m.sma[w], e.mean), 1e-9);
      EXPECT_LT(rel_err(m.stddev[w], std::sqrt(e.var), 1e-9L * e.mean), 1e-9);
      ++checks;
    }
    if (s.ret.size() >= vol_window) {
      const auto e = exact_window(s.ret, s.ret.size(), vol_window, 1);
      EXPECT_LT(rel_err(m.volatility, std::sqrt(e.var), 1e-9L), 1e-9);
    } else {
      EXPECT_TRUE(std::isnan(m.volatility));
    }
    // Window high/low over [t - T, t], brute force.
    double hi = -INFINITY;
    double lo = INFINITY;
    for (std::size_t k = s.t.size(); k-- > 0 && s.t[k] >= t - cfg.rules.window_ns;) {
      hi = std::max(hi, s.p[k]);
      lo = std::min(lo, s.p[k]);
    }
    EXPECT_EQ(m.window_high, hi);
    EXPECT_EQ(m.window_low, lo);
    EXPECT_DOUBLE_EQ(m.move_up_pct, (p - lo) / lo * 100.0);
    EXPECT_DOUBLE_EQ(m.move_down_pct, (hi - p) / hi * 100.0);
    if (s.vs > 0) {
      EXPECT_LT(rel_err(m.vwap, s.pv / s.vs), 1e-12);
    }
    EXPECT_EQ(m.cum_volume, static_cast<double>(s.vs));
  }
  EXPECT_GT(checks, 16'000u * nw);
  EXPECT_EQ(h.core.counters().extrema_evictions, 0u);
  const auto same = [](double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; };
  for (const auto& [id, last] : {std::pair{a, last_a}, std::pair{b, last_b}}) {
    TickerSnapshot snap{};
    h.core.snapshot(id, &snap);
    const TickMetrics& sm = snap.metrics;
    int differ = 0;
    for (std::size_t w = 0; w < nw; ++w) {
      differ += !same(sm.sma[w], last.sma[w]) + !same(sm.variance[w], last.variance[w]) +
                !same(sm.stddev[w], last.stddev[w]) + !same(sm.ema[w], last.ema[w]);
    }
    differ += !same(sm.pct_change, last.pct_change) + !same(sm.volatility, last.volatility) +
              !same(sm.window_high, last.window_high) + !same(sm.window_low, last.window_low) +
              !same(sm.move_up_pct, last.move_up_pct) + !same(sm.move_down_pct, last.move_down_pct) +
              !same(sm.vwap, last.vwap) + !same(sm.cum_volume, last.cum_volume) +
              !same(sm.volume_mean, last.volume_mean);
    EXPECT_EQ(differ, 0) << "snapshot of ticker " << id << " against its last update, " << nw << " windows";
  }
}

}  // namespace

TEST(Calculators, ShouldMatchBruteForceForEveryMetricOnRandomTicks) {
  check_every_metric_by_brute_force({3, 8, 21}, 6);
}

TEST(Calculators, ShouldMatchBruteForceForEveryMetricWithOneToFiveWindows) {
  check_every_metric_by_brute_force({5}, 6);                // one window, alone
  check_every_metric_by_brute_force({2, 9}, 3);             // one pair
  check_every_metric_by_brute_force({3, 5, 8, 21}, 21);     // two pairs (the generic path)
  check_every_metric_by_brute_force({2, 3, 5, 8, 13}, 7);   // two pairs and one alone (generic)
}

TEST(Calculators, ShouldDropOldestExtremeAndCountWhenDequeIsFull) {
  EngineConfig cfg;
  cfg.extrema_capacity = 4;
  cfg.rules.window_ns = 1000 * kNsPerSecond;
  Harness h(cfg);
  const SymbolId s = h.id("S");
  // Strictly falling prices: every one stays in the max deque, so the fifth evicts the first.
  for (int i = 0; i < 6; ++i) {
    h.tick(s, 100.0 - i, 1, i * kNsPerSecond);
  }
  EXPECT_EQ(h.core.counters().extrema_evictions, 2u);
  EXPECT_EQ(h.metrics.back().window_high, 98.0);  // the window lost 100 and 99: documented behaviour
  EXPECT_EQ(h.metrics.back().window_low, 95.0);
}

TEST(Calculators, ShouldClampLateTicksToTheTickersLastEventTime) {
  Harness h;
  const SymbolId s = h.id("S");
  h.tick(s, 100, 1, 100 * kNsPerSecond);
  h.tick(s, 101, 1, 50 * kNsPerSecond);  // out of order
  EXPECT_EQ(h.core.counters().late_ticks, 1u);
  EXPECT_EQ(h.metrics.back().window_high, 101.0);
  EXPECT_EQ(h.metrics.back().window_low, 100.0);
}

// A shard drains its ring a run at a time (ShardCore::on_ticks): with a universe whose state outgrows the
// caches it prefetches the state of the ticks ahead. The metrics and alerts must be those of one
// on_tick() per tick, bit for bit, whatever the batch sizes.
TEST(Calculators, ShouldComputeTheSameInBatchesWithPrefetchingAsTickByTick) {
  EngineConfig cfg;
  cfg.max_tickers = 8192;  // ~45 MB of per-ticker state: prefetching is on
  Harness one(cfg);
  Harness batched(cfg);
  constexpr int kTickers = 5000;
  std::vector<SymbolId> ids;
  for (int k = 0; k < kTickers; ++k) {
    char name[16];
    std::snprintf(name, sizeof name, "T%d", k);  // (GCC 12 warns falsely on "T" + std::to_string(k))
    ids.push_back(one.id(name));
    ASSERT_EQ(batched.id(name), ids.back());
  }
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> pick(0, kTickers - 1);
  std::uniform_int_distribution<int> batch_size(1, 300);
  std::normal_distribution<double> step(0.0, 0.01);
  std::bernoulli_distribution jump(0.002);
  std::uniform_int_distribution<int> vol(1, 5000);
  std::vector<double> price(kTickers, 100.0);
  std::vector<Tick> pending;
  std::int64_t t = 0;
  for (std::uint64_t i = 0; i < 200'000; ++i) {
    const int k = pick(rng);
    price[k] *= std::exp(step(rng) + (jump(rng) ? 0.08 : 0.0));
    t += 1'000'000;
    Tick tick{};
    tick.symbol = ids[k];
    tick.price = price[k];
    tick.volume = vol(rng) * (jump(rng) ? 10.0 : 1.0);
    tick.event_ns = t;
    tick.seq = i;
    one.core.on_tick(tick);
    pending.push_back(tick);
    if (pending.size() >= static_cast<std::size_t>(batch_size(rng))) {
      batched.core.on_ticks(pending.data(), pending.size());
      pending.clear();
    }
  }
  batched.core.on_ticks(pending.data(), pending.size());
  ASSERT_EQ(one.metrics.size(), 200'000u);
  ASSERT_EQ(batched.metrics.size(), one.metrics.size());
  for (std::size_t i = 0; i < one.metrics.size(); ++i) {
    ASSERT_EQ(std::memcmp(&one.metrics[i], &batched.metrics[i], sizeof(TickMetrics)), 0) << "tick " << i;
  }
  ASSERT_GT(one.alerts.size(), 100u);
  ASSERT_EQ(batched.alerts.size(), one.alerts.size());
  for (std::size_t i = 0; i < one.alerts.size(); ++i) {
    ASSERT_EQ(std::memcmp(&one.alerts[i], &batched.alerts[i], sizeof(Alert)), 0) << "alert " << i;
  }
}
