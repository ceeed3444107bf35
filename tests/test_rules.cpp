// Alert rules on crafted sequences: thresholds exactly at and just below the boundary, the event-time
// window edge, cooldown per (ticker, rule, direction), per-ticker overrides and the alert record.
// Expected percentages were computed by hand (e.g. (105 - 100) / 100 × 100 = 5 exactly in doubles,
// checked with python3).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "support.hpp"

using namespace tickforge;
using tickforge::test::Harness;

namespace {

constexpr std::int64_t kSec = kNsPerSecond;

// Only the named rule enabled; window 60 s, cooldown = window.
EngineConfig only(Rule r) {
  EngineConfig c;
  c.rules.window_move_pct = r == Rule::kWindowMove ? 5.0 : 0.0;
  c.rules.tick_change_pct = r == Rule::kTickChange ? 3.0 : 0.0;
  c.rules.volatility_pct = r == Rule::kVolatility ? 2.0 : 0.0;
  c.rules.sma_cross = r == Rule::kSmaCross;
  c.rules.volume_spike_factor = r == Rule::kVolumeSpike ? 3.0 : 0.0;
  return c;
}

}  // namespace

TEST(Rules, ShouldFireWindowMoveUpAtExactlyThresholdAndNotBelow) {
  Harness below(only(Rule::kWindowMove));
  const SymbolId s1 = below.id("AAA");
  below.tick(s1, 100.0, 1, 0);
  below.tick(s1, 104.99, 1, 10 * kSec);
  EXPECT_TRUE(below.alerts.empty());

  Harness at(only(Rule::kWindowMove));
  const SymbolId s2 = at.id("AAA");
  at.tick(s2, 100.0, 1, 0);
  at.tick(s2, 105.0, 1, 10 * kSec);
  ASSERT_EQ(at.alerts.size(), 1u);
  const Alert& a = at.alerts[0];
  EXPECT_EQ(a.rule, Rule::kWindowMove);
  EXPECT_EQ(a.direction, Direction::kUp);
  EXPECT_EQ(a.price, 105.0);
  EXPECT_EQ(a.reference, 100.0);
  EXPECT_EQ(a.value, 5.0);
  EXPECT_EQ(a.threshold, 5.0);
  EXPECT_STREQ(a.ticker, "AAA");
  EXPECT_EQ(a.tick_seq, 1u);
  EXPECT_EQ(a.event_ns, 10 * kSec);
  EXPECT_EQ(a.id, 1u);
}

TEST(Rules, ShouldFireWindowMoveDownAgainstTheWindowHigh) {
  Harness h(only(Rule::kWindowMove));
  const SymbolId s = h.id("B");
  h.tick(s, 100.0, 1, 0);
  h.tick(s, 98.0, 1, 5 * kSec);
  h.tick(s, 95.0, 1, 20 * kSec);
  ASSERT_EQ(h.alerts.size(), 1u);
  EXPECT_EQ(h.alerts[0].direction, Direction::kDown);
  EXPECT_EQ(h.alerts[0].reference, 100.0);
  EXPECT_EQ(h.alerts[0].value, 5.0);
}

TEST(Rules, ShouldIncludeTicksExactlyAtTheWindowStartAndExcludeOlderOnes) {
  Harness inside(only(Rule::kWindowMove));
  const SymbolId s = inside.id("C");
  inside.tick(s, 100.0, 1, 0);
  inside.tick(s, 105.0, 1, 60 * kSec);  // t - T = 0: the low at t = 0 is in [t - T, t]
  EXPECT_EQ(inside.alerts.size(), 1u);

  Harness outside(only(Rule::kWindowMove));
  const SymbolId s2 = outside.id("C");
  outside.tick(s2, 100.0, 1, 0);
  outside.tick(s2, 105.0, 1, 60 * kSec + 1);  // 1 ns later the low has left
  EXPECT_TRUE(outside.alerts.empty());
  EXPECT_EQ(outside.metrics.back().window_low, 105.0);
}

TEST(Rules, ShouldSuppressRepeatsWithinCooldownPerDirection) {
  Harness h(only(Rule::kWindowMove));
  const SymbolId s = h.id("D");
  h.tick(s, 100.0, 1, 0);
  h.tick(s, 106.0, 1, 1 * kSec);    // up alert at t = 1 s
  h.tick(s, 107.0, 1, 30 * kSec);   // still ≥ 5 % above the low: suppressed
  h.tick(s, 100.0, 1, 40 * kSec);   // 6.5 % below the high 107: a down alert is a different key
  h.tick(s, 108.0, 1, 60 * kSec);   // 8 % above low 100: up again but 59 s after the last up alert
  h.tick(s, 108.5, 1, 61 * kSec);   // 61 - 1 = 60 s ≥ cooldown: fires
  ASSERT_EQ(h.alerts.size(), 3u);
  EXPECT_EQ(h.alerts[0].direction, Direction::kUp);
  EXPECT_EQ(h.alerts[0].event_ns, 1 * kSec);
  EXPECT_EQ(h.alerts[1].direction, Direction::kDown);
  EXPECT_EQ(h.alerts[1].event_ns, 40 * kSec);
  EXPECT_EQ(h.alerts[2].direction, Direction::kUp);
  EXPECT_EQ(h.alerts[2].event_ns, 61 * kSec);
  EXPECT_EQ(h.core.counters().suppressed, 2u);
  EXPECT_EQ(h.alerts[2].id, 3u);
}

TEST(Rules, ShouldKeepCooldownsPerTicker) {
  Harness h(only(Rule::kWindowMove));
  const SymbolId a = h.id("A");
  const SymbolId b = h.id("B");
  h.tick(a, 100.0, 1, 0);
  h.tick(b, 100.0, 1, 0);
  h.tick(a, 110.0, 1, kSec);
  h.tick(b, 110.0, 1, kSec);
  ASSERT_EQ(h.alerts.size(), 2u);
  EXPECT_STREQ(h.alerts[0].ticker, "A");
  EXPECT_STREQ(h.alerts[1].ticker, "B");
}

TEST(Rules, ShouldFireTickChangeBothWaysAtThreshold) {
  EngineConfig c = only(Rule::kTickChange);
  c.rules.cooldown_ns = 0;
  Harness h(c);
  const SymbolId s = h.id("E");
  h.tick(s, 100.0, 1, 0);
  h.tick(s, 103.0, 1, kSec);   // +3 %
  h.tick(s, 103.0, 1, 2 * kSec);
  h.tick(s, 100.0, 1, 3 * kSec);   // -2.91 %: below threshold
  h.tick(s, 97.0, 1, 4 * kSec);    // -3 %
  ASSERT_EQ(h.alerts.size(), 2u);
  EXPECT_EQ(h.alerts[0].direction, Direction::kUp);
  EXPECT_EQ(h.alerts[0].value, 3.0);
  EXPECT_EQ(h.alerts[0].reference, 100.0);
  EXPECT_EQ(h.alerts[1].direction, Direction::kDown);
  EXPECT_EQ(h.alerts[1].value, -3.0);
}

TEST(Rules, ShouldFireVolatilityWhenStdOfReturnsReachesThreshold) {
  EngineConfig c = only(Rule::kVolatility);
  c.sma_windows = {2, 4};  // volatility window = 4 returns
  Harness h(c);
  const SymbolId s = h.id("F");
  // Returns +1 %, -1 %, +1 %, -1 % … have sample std ≈ 1.15 < 2: quiet.
  double p = 100;
  std::int64_t t = 0;
  for (int i = 0; i < 10; ++i) {
    h.tick(s, p, 1, t += kSec);
    p *= i % 2 == 0 ? 1.01 : 1 / 1.01;
  }
  EXPECT_TRUE(h.alerts.empty());
  // Then ±4 % swings: std ≈ 4.6 ≥ 2.
  for (int i = 0; i < 4; ++i) {
    p *= i % 2 == 0 ? 1.04 : 0.96;
    h.tick(s, p, 1, t += kSec);
  }
  ASSERT_EQ(h.alerts.size(), 1u);  // cooldown 60 s holds the rest back
  EXPECT_EQ(h.alerts[0].rule, Rule::kVolatility);
  EXPECT_GE(h.alerts[0].value, 2.0);
  EXPECT_EQ(h.alerts[0].value, h.alerts[0].volatility);
}

TEST(Rules, ShouldFireSmaCrossOnSignChangeOnly) {
  EngineConfig c = only(Rule::kSmaCross);
  c.sma_windows = {2, 4};
  c.rules.cooldown_ns = 0;
  Harness h(c);
  const SymbolId s = h.id("G");
  std::int64_t t = 0;
  // SMA2 vs SMA4: falling prices put SMA2 below; a rebound puts it above (golden cross), a fall again
  // below (death cross). Equal SMAs in between do not count as a cross.
  for (const double p : {10.0, 9.0, 8.0, 7.0, 6.0}) {  // SMA2 < SMA4 once both exist
    h.tick(s, p, 1, t += kSec);
  }
  EXPECT_TRUE(h.alerts.empty());
  for (const double p : {9.0, 12.0}) {  // SMA2 (6,9)=7.5 vs SMA4 (8,7,6,9)=7.5 equal; then (9,12)=10.5 > 8.5
    h.tick(s, p, 1, t += kSec);
  }
  ASSERT_EQ(h.alerts.size(), 1u);
  EXPECT_EQ(h.alerts[0].direction, Direction::kUp);
  EXPECT_EQ(h.alerts[0].sma_short, 10.5);
  EXPECT_EQ(h.alerts[0].sma_long, 8.5);
  for (const double p : {5.0, 4.0}) {  // (12,5)=8.5 vs (6,9,12,5)=8 above; (5,4)=4.5 vs 7.5 below
    h.tick(s, p, 1, t += kSec);
  }
  ASSERT_EQ(h.alerts.size(), 2u);
  EXPECT_EQ(h.alerts[1].direction, Direction::kDown);
}

TEST(Rules, ShouldFireVolumeSpikeAgainstMeanOfPreviousTicks) {
  EngineConfig c = only(Rule::kVolumeSpike);
  c.volume_window = 4;
  c.rules.cooldown_ns = 0;
  Harness h(c);
  const SymbolId s = h.id("H");
  std::int64_t t = 0;
  for (int i = 0; i < 4; ++i) {
    h.tick(s, 10, 100, t += kSec);
  }
  h.tick(s, 10, 299, t += kSec);  // mean 100: 2.99×
  EXPECT_TRUE(h.alerts.empty());
  // previous four: 100, 100, 100, 299 → mean 149.75; 3 × 149.75 = 449.25
  h.tick(s, 10, 449.25, t += kSec);
  ASSERT_EQ(h.alerts.size(), 1u);
  EXPECT_EQ(h.alerts[0].reference, 149.75);
  EXPECT_EQ(h.alerts[0].value, 3.0);
}

TEST(Rules, ShouldApplyPerTickerOverrides) {
  EngineConfig c = only(Rule::kWindowMove);
  RuleParams tight = c.rules;
  tight.window_move_pct = 2.0;
  Harness h(c);
  const SymbolId normal = h.id("NORMAL");
  const SymbolId t = h.id("TIGHT");
  h.core.set_ticker_rules(t, tight);
  h.tick(normal, 100, 1, 0);
  h.tick(t, 100, 1, 0);
  h.tick(normal, 103, 1, kSec);
  h.tick(t, 103, 1, kSec);
  ASSERT_EQ(h.alerts.size(), 1u);
  EXPECT_STREQ(h.alerts[0].ticker, "TIGHT");
  EXPECT_EQ(h.alerts[0].threshold, 2.0);
}

TEST(Rules, ShouldStayQuietWhenEveryRuleIsDisabled) {
  EngineConfig c;
  c.rules.window_move_pct = 0;
  c.rules.tick_change_pct = -1;
  c.rules.volatility_pct = 0;
  c.rules.sma_cross = false;
  c.rules.volume_spike_factor = 0;
  Harness h(c);
  const SymbolId s = h.id("Q");
  double p = 100;
  for (int i = 0; i < 200; ++i) {
    p *= i % 2 == 0 ? 1.2 : 0.8;
    h.tick(s, p, i % 10 == 0 ? 1e6 : 1, i * kSec);
  }
  EXPECT_TRUE(h.alerts.empty());
  EXPECT_EQ(h.core.counters().alerts, 0u);
}

// Event times at both ends of the supported range (1800-01-01 .. 2199-12-31), 400 years apart — a span
// that overflows int64 nanoseconds — with the longest window and cooldown: cooldowns still end, windows
// still start, nothing overflows (the ASan+UBSan build checks the arithmetic).
TEST(Rules, ShouldKeepCooldownsAndWindowsRightAcrossTheWholeEventTimeRange) {
  EngineConfig c = only(Rule::kTickChange);
  c.rules.window_move_pct = 5.0;
  c.rules.window_ns = kMaxDurationNs;
  c.rules.cooldown_ns = kMaxDurationNs;
  Harness h(c);
  const SymbolId s = h.id("FAR");
  h.tick(s, 100.0, 1, kMinEventNs);
  h.tick(s, 110.0, 1, kMinEventNs + 86'400 * kSec);  // +10 %: window_move up and tick_change up
  h.tick(s, 121.0, 1, kMinEventNs + 2 * 86'400 * kSec);  // inside both cooldowns: suppressed twice
  h.tick(s, 133.1, 1, kMaxEventNs);  // 400 years later: both cooldowns long over
  ASSERT_EQ(h.alerts.size(), 3u);
  EXPECT_EQ(h.core.counters().suppressed, 2u);
  EXPECT_EQ(h.alerts[0].rule, Rule::kWindowMove);
  EXPECT_EQ(h.alerts[1].rule, Rule::kTickChange);
  EXPECT_EQ(h.alerts[2].rule, Rule::kTickChange);  // the cooldown ended, 36,500 days after day 1
  EXPECT_EQ(h.alerts[2].event_ns, kMaxEventNs);
  // The window [t − 36,500 d, t] at 2199 no longer holds the 1800 prices: only the tick itself.
  ASSERT_EQ(h.metrics.size(), 4u);
  EXPECT_EQ(h.metrics[2].window_low, 100.0);
  EXPECT_EQ(h.metrics[3].window_low, 133.1);
  EXPECT_EQ(h.metrics[3].window_high, 133.1);
}

// A ShardCore driven directly (no FeedPort to refuse the time) with the int64 extremes: it processes the
// ticks and returns — the window eviction loop used to run forever at INT64_MIN.
TEST(Rules, ShouldNeverHangOrOverflowOnInt64ExtremeTimesWhenDrivenDirectly) {
  Harness h(only(Rule::kWindowMove));
  const SymbolId s = h.id("X");
  h.tick(s, 1.0, 1, INT64_MIN);
  h.tick(s, 2.0, 1, INT64_MIN + 1);
  h.tick(s, 3.0, 1, INT64_MAX);
  ASSERT_EQ(h.metrics.size(), 3u);
  EXPECT_EQ(h.metrics[1].window_low, 1.0);  // both inside [t − 60 s, t] (saturated at INT64_MIN)
  EXPECT_EQ(h.metrics[2].window_low, 3.0);
  EXPECT_EQ(h.core.counters().ticks, 3u);
}

// The volatility rule compares the variance with sqrt_threshold(X) instead of taking a square root per
// tick: the threshold must be exactly the first double whose square root reaches X, for thresholds of
// every magnitude (x² rounding up or down, subnormal and overflowing squares).
TEST(Rules, ShouldPlaceTheVolatilityThresholdAtTheFirstVarianceWhoseRootReachesIt) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> mant(1.0, 2.0);
  std::uniform_int_distribution<int> expo(-540, 540);
  std::vector<double> xs = {2.0, 0.5, 1.0, 3.0, 1e-160, 1e-200, 1e154, 1.3407807929942596e154, 1e200,
                            std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max()};
  for (int i = 0; i < 20000; ++i) {
    xs.push_back(std::ldexp(mant(rng), expo(rng)));
  }
  for (const double x : xs) {
    const double v = sqrt_threshold(x);
    ASSERT_GE(std::sqrt(v), x) << "x = " << x;
    if (v > 0.0) {
      ASSERT_LT(std::sqrt(std::nextafter(v, 0.0)), x) << "x = " << x;
    }
  }
}

namespace {

// An independent model of the five rules and their cooldowns, applied to the metrics the engine
// reported for each tick (those are checked against exact arithmetic elsewhere): the conditions as the
// rules are documented, one last-alert time per (ticker, rule, direction) in a map.
struct RuleModel {
  struct Out {
    SymbolId symbol;
    Rule rule;
    Direction dir;
    std::int64_t event_ns;
    double value;
    double reference;
    double threshold;
    bool operator==(const Out&) const = default;
  };
  std::map<SymbolId, RuleParams> params;
  RuleParams global;
  std::uint32_t n_windows = 3;
  std::map<std::tuple<SymbolId, Rule, Direction>, std::int64_t> last;
  std::map<SymbolId, int> cross_sign;
  std::map<SymbolId, double> last_price;
  std::map<SymbolId, std::int64_t> last_time;
  std::uint64_t suppressed = 0;
  std::vector<Out> out;

  void on(SymbolId s, double p, double v, std::int64_t t, const TickMetrics& m) {
    const RuleParams& rp = params.count(s) != 0 ? params[s] : global;
    const std::int64_t tick_time = t;  // the alert reports the tick's own time
    if (last_time.count(s) != 0 && t < last_time[s]) {
      t = last_time[s];  // a late tick counts at its ticker's last time
    }
    last_time[s] = t;
    const std::int64_t cd = rp.cooldown_ns < 0 ? rp.window_ns : rp.cooldown_ns;
    auto met = [&](Rule r, Direction d, double value, double reference, double threshold) {
      const auto key = std::make_tuple(s, r, d);
      if (last.count(key) != 0 && t - last[key] < cd) {
        ++suppressed;
        return;
      }
      last[key] = t;
      out.push_back({s, r, d, tick_time, value, reference, threshold});
    };
    if (rp.window_move_pct > 0) {
      const double up = (p - m.window_low) / m.window_low * 100.0;
      const double down = (m.window_high - p) / m.window_high * 100.0;
      if (up >= rp.window_move_pct) met(Rule::kWindowMove, Direction::kUp, up, m.window_low, rp.window_move_pct);
      if (down >= rp.window_move_pct) {
        met(Rule::kWindowMove, Direction::kDown, down, m.window_high, rp.window_move_pct);
      }
    }
    if (rp.tick_change_pct > 0 && std::fabs(m.pct_change) >= rp.tick_change_pct) {
      met(Rule::kTickChange, m.pct_change > 0 ? Direction::kUp : Direction::kDown, m.pct_change, last_price[s],
          rp.tick_change_pct);
    }
    if (rp.volatility_pct > 0 && m.volatility >= rp.volatility_pct) {
      met(Rule::kVolatility, Direction::kUp, m.volatility, m.volatility, rp.volatility_pct);
    }
    if (rp.sma_cross && n_windows >= 2) {
      const double diff = m.sma[0] - m.sma[n_windows - 1];
      const int sign = diff > 0 ? 1 : diff < 0 ? -1 : 0;
      if (sign != 0 && cross_sign[s] != 0 && sign != cross_sign[s]) {
        met(Rule::kSmaCross, sign > 0 ? Direction::kUp : Direction::kDown, diff, m.sma[n_windows - 1], 0.0);
      }
      if (sign != 0) cross_sign[s] = sign;
    }
    if (rp.volume_spike_factor > 0 && m.volume_mean > 0 && v >= rp.volume_spike_factor * m.volume_mean) {
      met(Rule::kVolumeSpike, Direction::kUp, v / m.volume_mean, m.volume_mean, rp.volume_spike_factor);
    }
    last_price[s] = p;
  }
};

}  // namespace

// Random walks on a price grid (so moves land exactly on the thresholds), equal and late event times,
// zero volumes, a per-ticker override and several cooldowns, 0 included: every alert and the count
// of suppressed ones equal the model's, tick by tick.
TEST(Rules, ShouldMatchAnIndependentModelOfTheRulesAndCooldownsOnRandomWalks) {
  for (const std::int64_t cooldown : {std::int64_t{-1}, std::int64_t{0}, kSec, 7 * kSec, 200 * kSec}) {
    EngineConfig c;
    c.rules.volatility_pct = 1.0;
    c.rules.cooldown_ns = cooldown;
    Harness h(c);
    RuleModel model;
    model.global = c.rules;
    const SymbolId ids[4] = {h.id("W"), h.id("X"), h.id("Y"), h.id("Z")};
    RuleParams over = c.rules;
    over.window_move_pct = 3.0;
    over.window_ns = 20 * kSec;
    over.cooldown_ns = 5 * kSec;
    over.sma_cross = false;
    h.core.set_ticker_rules(ids[3], over);
    model.params[ids[3]] = over;
    std::mt19937_64 rng(static_cast<std::uint64_t>(cooldown) + 11);
    std::uniform_int_distribution<int> step(-4, 4), who(0, 3), gap(0, 9), vol(0, 99);
    double price[4] = {100.0, 100.0, 40.0, 250.0};
    std::int64_t now[4] = {0, 0, 0, 0};
    for (int i = 0; i < 20000; ++i) {
      const int k = who(rng);
      const int g = gap(rng);
      price[k] += 0.5 * step(rng) + (g == 9 ? 0.04 * price[k] : 0.0);  // sometimes a 4 % jump
      price[k] = std::max(price[k], 5.0);
      price[k] = std::round(price[k] * 4.0) / 4.0;
      now[k] += g == 0 ? 0 : g == 1 ? -3 * kSec : g * kSec;  // equal times, late ticks, gaps
      const int r = vol(rng);
      const double v = i < 200 ? 0.0 : r == 0 ? 1000.0 : r;  // all-zero volumes first, then spikes
      const std::size_t before = h.metrics.size();
      h.tick(ids[k], price[k], v, now[k]);
      ASSERT_EQ(h.metrics.size(), before + 1);
      model.on(ids[k], price[k], v, now[k], h.metrics.back());
    }
    ASSERT_EQ(h.alerts.size(), model.out.size()) << "cooldown " << cooldown;
    std::map<std::pair<Rule, Direction>, int> seen;
    for (std::size_t i = 0; i < h.alerts.size(); ++i) {
      const Alert& a = h.alerts[i];
      const RuleModel::Out got{a.symbol, a.rule, a.direction, a.event_ns, a.value, a.reference, a.threshold};
      ASSERT_EQ(got, model.out[i]) << "alert " << i << ", cooldown " << cooldown;
      EXPECT_EQ(a.id, i + 1);  // one shard: ids in order
      ++seen[{a.rule, a.direction}];
    }
    EXPECT_EQ(h.core.counters().suppressed, model.suppressed) << "cooldown " << cooldown;
    EXPECT_EQ(h.core.counters().alerts, model.out.size());
    EXPECT_GT(model.suppressed, 100u);
    // Every rule and direction had its alerts (the volatility and the spike have one direction).
    EXPECT_EQ(seen.size(), 8u) << "cooldown " << cooldown;
  }
}

// Rules set for a ticker after it has ticked apply to the cooldowns already running, as they did when
// each tick looked the cooldown up: a 60 s cooldown turned to 0 lets the next move fire, and a 0 turned
// to 60 s holds it.
TEST(Rules, ShouldApplyRulesChangedBetweenTicksToTheCooldownsAlreadyRunning) {
  for (const bool to_zero : {true, false}) {
    EngineConfig c = only(Rule::kWindowMove);
    c.rules.cooldown_ns = to_zero ? 60 * kSec : 0;
    Harness h(c);
    const SymbolId s = h.id("R");
    h.tick(s, 100.0, 1, 0);
    h.tick(s, 110.0, 1, kSec);  // up 10 %: an alert, its cooldown starts (or not)
    ASSERT_EQ(h.alerts.size(), 1u);
    RuleParams p = c.rules;
    p.cooldown_ns = to_zero ? 0 : 60 * kSec;
    h.core.set_ticker_rules(s, p);
    h.tick(s, 121.0, 1, 2 * kSec);  // up 21 % from the low: fires only without a cooldown
    EXPECT_EQ(h.alerts.size(), to_zero ? 2u : 1u) << (to_zero ? "60 s -> 0" : "0 -> 60 s");
    EXPECT_EQ(h.core.counters().suppressed, to_zero ? 0u : 1u);
  }
}

// INT64_MIN is the "never" of the last-alert times: an alert there starts no cooldown (a ShardCore
// driven directly; a FeedPort refuses such times).
TEST(Rules, ShouldStartNoCooldownAtTheInt64MinimumTime) {
  Harness h(only(Rule::kWindowMove));
  const SymbolId s = h.id("M");
  h.tick(s, 100.0, 1, INT64_MIN);
  h.tick(s, 110.0, 1, INT64_MIN);
  h.tick(s, 121.0, 1, INT64_MIN);
  ASSERT_EQ(h.alerts.size(), 2u);
  EXPECT_EQ(h.alerts[1].price, 121.0);
  EXPECT_EQ(h.core.counters().suppressed, 0u);
}

// A rule that is off stays off when its metric overflows to infinity (a jump from 1e-10 to 1e300 is an
// infinite % change and window move), and a rule that is on decides by its exact formula at any
// threshold, however large.
TEST(Rules, ShouldKeepOffRulesOffOnInfiniteMetricsAndDecideHugeThresholdsExactly) {
  Harness off(only(Rule::kVolumeSpike));
  const SymbolId s = off.id("I");
  off.tick(s, 1e-10, 1, 0);
  off.tick(s, 1e300, 1, kSec);
  ASSERT_EQ(off.metrics.size(), 2u);
  ASSERT_TRUE(std::isinf(off.metrics[1].pct_change));  // the case is reached
  EXPECT_TRUE(off.alerts.empty());

  EngineConfig c = only(Rule::kWindowMove);
  c.rules.window_move_pct = 1e10;
  Harness huge(c);
  const SymbolId u = huge.id("U");
  const double low = 137.758;
  const double p = 13775800137.758;
  const double move = (p - low) / low * 100.0;  // the rule's formula, in doubles
  huge.tick(u, low, 1, 0);
  huge.tick(u, p, 1, kSec);
  ASSERT_EQ(huge.alerts.size(), move >= 1e10 ? 1u : 0u);
  ASSERT_GE(move, 1e10);  // this pair does reach it (the old multiplied pre-check missed it)
  EXPECT_EQ(huge.alerts[0].value, move);
}
