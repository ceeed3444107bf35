// The threaded pipeline: feed threads → rings → shard threads. Every tick processed once, per-ticker
// order kept, determinism against the single-threaded path, the full-ring policies.
#include <sched.h>

#include <tickforge/engine.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "synthetic.hpp"

using namespace tickforge;

namespace {

#ifdef TICKFORGE_SANITIZED
constexpr std::uint64_t kTicks = 100'000;
#else
constexpr std::uint64_t kTicks = 1'000'000;
#endif

struct AlertKey {
  std::uint64_t tick_seq;
  SymbolId symbol;
  Rule rule;
  Direction dir;
  double value;
  bool operator==(const AlertKey&) const = default;
};

// Collected on a shard thread; read by the test thread after stop() joined it.
struct Collector {
  std::vector<AlertKey> alerts;
  static void on_alert(void* u, const Alert* a) {
    static_cast<Collector*>(u)->alerts.push_back({a->tick_seq, a->symbol, a->rule, a->direction, a->value});
  }
};

SyntheticOptions busy_feed(std::uint64_t n) {
  SyntheticOptions o;
  o.count = 16;
  o.max_ticks = n;
  o.saturate = true;
  o.jump_probability = 0.002;
  return o;
}

std::vector<AlertKey> run_threaded(IdleKind idle, std::uint32_t ring) {
  EngineConfig cfg;
  cfg.ring_capacity = ring;
  Engine e(cfg);
  SyntheticFeed feed(busy_feed(kTicks), e.symbols());
  FeedPort& port = e.open_port();
  Collector c;
  e.add_alert_callback(&Collector::on_alert, &c);
  e.start(idle);
  std::thread producer([&] {
    feed.attach(port);
    run_inline(feed);  // the feed agent's duty cycles until max_ticks; on_close() closes the port
  });
  producer.join();
  e.stop();
  const EngineStats st = e.stats();
  EXPECT_EQ(st.pushed, kTicks);
  EXPECT_EQ(st.ticks, kTicks);
  EXPECT_EQ(st.dropped_ring_full, 0u);
  EXPECT_EQ(st.alerts, c.alerts.size());
  EXPECT_LE(st.ring_high_water, ring);
  EXPECT_EQ(st.process_latency.count, kTicks);
  return c.alerts;
}

}  // namespace

TEST(Engine, ShouldProcessEveryTickAndMatchTheSingleThreadedPath) {
  // Reference: the same ticks processed inline, no threads.
  EngineConfig cfg;
  Engine inline_engine(cfg);
  SyntheticFeed feed(busy_feed(kTicks), inline_engine.symbols());
  Collector ref;
  inline_engine.add_alert_callback(&Collector::on_alert, &ref);
  for (std::uint64_t i = 0; i < kTicks; ++i) {
    inline_engine.process(feed.next());
  }
  ASSERT_GT(ref.alerts.size(), 10u) << "the synthetic feed must make rules fire";
  // A tiny ring forces constant back-pressure; a large one lets the feed run ahead.
  EXPECT_EQ(run_threaded(IdleKind::kBackoff, 64), ref.alerts);
  EXPECT_EQ(run_threaded(IdleKind::kSpinYield, 65536), ref.alerts);
}

TEST(Engine, ShouldKeepPerTickerOrderAcrossFeedsAndShards) {
  EngineConfig cfg;
  cfg.shards = 2;
  cfg.ring_capacity = 256;
  Engine e(cfg);
  // Two feeds with disjoint tickers (so each ticker's order is defined by one feed).
  SyntheticOptions o1 = busy_feed(kTicks / 2);
  o1.tickers = {"A1", "A2", "A3"};
  SyntheticOptions o2 = busy_feed(kTicks / 2);
  o2.tickers = {"B1", "B2", "B3", "B4"};
  SyntheticFeed f1(o1, e.symbols());
  SyntheticFeed f2(o2, e.symbols());
  FeedPort& p1 = e.open_port();
  FeedPort& p2 = e.open_port();
  struct Order {
    std::vector<std::uint64_t> last_seq = std::vector<std::uint64_t>(16, 0);
    std::vector<std::uint64_t> count = std::vector<std::uint64_t>(16, 0);
    std::uint64_t violations = 0;
  };
  // Each symbol belongs to one shard, so each slot is written by one thread only.
  static Order order;
  order = Order{};
  e.set_update_callback(
      [](void*, const Tick* t, const TickMetrics*) {
        if (order.count[t->symbol] != 0 && t->seq <= order.last_seq[t->symbol]) {
          ++order.violations;
        }
        order.last_seq[t->symbol] = t->seq;
        ++order.count[t->symbol];
      },
      nullptr);
  e.start(IdleKind::kBackoff);
  f1.attach(p1);
  f2.attach(p2);
  std::thread t1([&] { run_inline(f1); });
  std::thread t2([&] { run_inline(f2); });
  t1.join();
  t2.join();
  e.stop();
  EXPECT_EQ(e.stats().ticks, kTicks);
  EXPECT_EQ(order.violations, 0u);
  std::uint64_t total = 0;
  for (const auto n : order.count) {
    total += n;
  }
  EXPECT_EQ(total, kTicks);
}

TEST(Engine, ShouldCountDropsWithDropNewestPolicy) {
  EngineConfig cfg;
  cfg.ring_capacity = 8;
  cfg.full_policy = FullPolicy::kDropNewest;
  Engine e(cfg);
  FeedPort& port = e.open_port();
  const SymbolId s = e.symbols().intern("X");
  int ok = 0;
  for (int i = 0; i < 20; ++i) {  // shards not started: nothing drains
    Tick t{};
    t.symbol = s;
    t.price = 10;
    t.seq = static_cast<std::uint64_t>(i);
    ok += port.publish(t) == FeedPort::Push::kOk;
  }
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(port.dropped_full(), 12u);
  e.start(IdleKind::kSleep);
  port.close();
  e.stop();
  const EngineStats st = e.stats();
  EXPECT_EQ(st.ticks, 8u);
  EXPECT_EQ(st.dropped_ring_full, 12u);
  EXPECT_EQ(st.ring_high_water, 8u);
}

TEST(Engine, ShouldRejectBadConfigurationWithAMessage) {
  EngineConfig cfg;
  cfg.sma_windows = {20, 10};
  EXPECT_THROW(Engine{cfg}, std::invalid_argument);
  cfg.sma_windows = {5};
  cfg.ddof = 2;
  try {
    Engine e(cfg);
    FAIL() << "ddof 2 accepted";
  } catch (const std::invalid_argument& ex) {
    EXPECT_NE(std::string(ex.what()).find("ddof"), std::string::npos);
  }
}

TEST(Engine, ShouldRefuseCpusThatDoNotExist) {
  Engine e(EngineConfig{});
  EXPECT_FALSE(cpu_usable(100000));
  EXPECT_THROW(e.start(IdleKind::kBackoff, {100000}), std::runtime_error);
  EXPECT_FALSE(e.running());
}

TEST(Engine, ShouldPinToAnyProcessCpuEvenFromAThreadPinnedElsewhere) {
  if (!cpu_usable(0) || !cpu_usable(1)) {
    GTEST_SKIP() << "needs CPUs 0 and 1";
  }
  // A thread pinned to CPU 1 starts a child: the child inherits {1} but may still pin itself to CPU 0.
  int child_cpu = -1;
  bool child_pinned = false;
  std::thread parent([&] {
    ASSERT_TRUE(pin_current_thread(1, nullptr));
    std::thread child([&] {
      std::string err;
      child_pinned = pin_current_thread(0, &err);
      child_cpu = sched_getcpu();
      EXPECT_TRUE(err.empty()) << err;
    });
    child.join();
  });
  parent.join();
  EXPECT_TRUE(child_pinned);
  EXPECT_EQ(child_cpu, 0);
}

// Snapshots and stats read from another thread while the shards run: each snapshot is the state after
// a whole number of ticks (prices i = 1, 2, … so SMA5 after k ticks is k - 2 exactly), the counts
// never go backwards, and producers created after start() are picked up.
TEST(Engine, ShouldServeConsistentSnapshotsAndStatsWhileRunning) {
  EngineConfig cfg;
  cfg.shards = 2;
  cfg.ring_capacity = 64;
  cfg.sma_windows = {5};
  Engine e(cfg);
  e.set_finish_when_ports_closed(false);
  const SymbolId a = e.symbols().intern("AAA");
  const SymbolId b = e.symbols().intern("BBB");
  ASSERT_NE(a % 2, b % 2) << "the two tickers must land on different shards";
  e.start(IdleKind::kSpinYield);
  FeedPort& port = e.open_port();  // after start
  constexpr std::uint64_t kN = 20'000;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    std::uint64_t last_ticks = 0;
    std::uint64_t last_processed = 0;
    while (!done.load(std::memory_order_acquire)) {
      TickerSnapshot s{};
      ASSERT_TRUE(e.snapshot(a, &s));
      ASSERT_GE(s.ticks, last_ticks);
      last_ticks = s.ticks;
      if (s.ticks >= 5) {
        ASSERT_EQ(s.last_price, static_cast<double>(s.ticks));
        ASSERT_EQ(s.metrics.sma[0], static_cast<double>(s.ticks) - 2.0);
        ASSERT_EQ(s.last_event_ns, static_cast<std::int64_t>(s.ticks) * 1000);
      }
      const EngineStats st = e.stats();
      ASSERT_TRUE(st.running);
      ASSERT_GE(st.ticks, last_processed);
      ASSERT_LE(st.ticks, st.pushed);
      last_processed = st.ticks;
    }
  });
  for (std::uint64_t i = 1; i <= kN; ++i) {
    for (const SymbolId s : {a, b}) {
      const Tick t{s, 0, static_cast<double>(i), 1.0, static_cast<std::int64_t>(i) * 1000, i - 1, 0};
      port.publish(t);
    }
  }
  while (e.stats().ticks != 2 * kN) {
    std::this_thread::yield();
  }
  done.store(true, std::memory_order_release);
  reader.join();
  e.stop();
  TickerSnapshot s{};
  ASSERT_TRUE(e.snapshot(b, &s));
  EXPECT_EQ(s.ticks, kN);
  EXPECT_STREQ(s.ticker, "BBB");
  EXPECT_EQ(s.metrics.sma[0], static_cast<double>(kN) - 2.0);
  EXPECT_DOUBLE_EQ(s.metrics.pct_change, (1.0 / (kN - 1.0)) * 100.0);
  EXPECT_EQ(s.metrics.cum_volume, static_cast<double>(kN));
  EXPECT_FALSE(e.snapshot(99, &s));
  const EngineStats st = e.stats();
  EXPECT_FALSE(st.running);
  EXPECT_EQ(st.producers, 1u);
  EXPECT_EQ(st.in_flight, 0u);
}

// FeedPort is the last line no producer passes: a tick outside 1800-01-01 .. 2199-12-31 is refused and
// counted, whatever feed (or C++ embedder) made it.
TEST(Engine, ShouldRefuseAndCountTicksOutsideTheEventTimeRangeAtThePort) {
  Engine e(EngineConfig{});
  FeedPort& port = e.open_port();
  const SymbolId s = e.symbols().intern("X");
  const std::int64_t times[] = {INT64_MIN, kMinEventNs - 1, kMinEventNs, 0, kMaxEventNs, kMaxEventNs + 1, INT64_MAX};
  std::vector<FeedPort::Push> got;
  for (const std::int64_t t : times) {
    Tick tick{};
    tick.symbol = s;
    tick.price = 10;
    tick.event_ns = t;
    got.push_back(port.publish(tick));
    got.push_back(port.try_publish_at(tick, FeedPort::now_ns()));
  }
  using P = FeedPort::Push;
  const std::vector<P> want = {P::kRejectedTime, P::kRejectedTime, P::kRejectedTime, P::kRejectedTime, P::kOk,
                               P::kOk,           P::kOk,           P::kOk,           P::kOk,           P::kOk,
                               P::kRejectedTime, P::kRejectedTime, P::kRejectedTime, P::kRejectedTime};
  EXPECT_EQ(got, want);
  e.start(IdleKind::kSleep);
  port.close();
  e.stop();
  const EngineStats st = e.stats();
  EXPECT_EQ(st.rejected_time_out_of_range, 8u);
  EXPECT_EQ(st.pushed, 6u);
  EXPECT_EQ(st.ticks, 6u);
  EXPECT_EQ(port.rejected_time(), 8u);
}

// A watchdog's view of a shard: a callback that never returns stops its duty cycles while it stays live.
TEST(Engine, ShouldShowAShardStuckInACallbackAsLiveWithoutDutyCycles) {
  EngineConfig cfg;
  cfg.rules.tick_change_pct = 1;
  Engine e(cfg);
  FeedPort& port = e.open_port();
  struct Gate {
    std::atomic<bool> entered{false};
    std::atomic<bool> release{false};
  } gate;
  e.add_alert_callback(
      [](void* u, const Alert*) {
        auto* g = static_cast<Gate*>(u);
        g->entered.store(true, std::memory_order_release);
        while (!g->release.load(std::memory_order_acquire)) {
          std::this_thread::yield();
        }
      },
      &gate);
  EXPECT_FALSE(e.shard_progress(0).live);
  e.start(IdleKind::kSpinYield);
  const SymbolId s = e.symbols().intern("X");
  Tick t{};
  t.symbol = s;
  t.price = 100;
  ASSERT_EQ(port.publish(t), FeedPort::Push::kOk);
  t.price = 110;  // +10 %: tick_change fires, the callback blocks
  ASSERT_EQ(port.publish(t), FeedPort::Push::kOk);
  while (!gate.entered.load(std::memory_order_acquire)) {
    std::this_thread::yield();
  }
  const Engine::ShardProgress stuck = e.shard_progress(0);
  EXPECT_TRUE(stuck.live);
  // However long we watch, the count does not move: yield a few thousand times.
  for (int i = 0; i < 5000; ++i) {
    std::this_thread::yield();
  }
  EXPECT_EQ(e.shard_progress(0).duty_cycles, stuck.duty_cycles);
  gate.release.store(true, std::memory_order_release);
  // Released, it polls again: wait for the count to move (readiness, not time).
  while (e.shard_progress(0).duty_cycles == stuck.duty_cycles) {
    std::this_thread::yield();
  }
  port.close();
  e.stop();
  EXPECT_FALSE(e.shard_progress(0).live);
  EXPECT_EQ(e.stats().ticks, 2u);
}
