// Proves the steady-state hot path allocates nothing: feed thread → ring → shard thread → calculators →
// rules → alert and update callbacks, over more than a million ticks with alerts firing. Every
// operator new and (outside sanitizer builds) every malloc/calloc/realloc in the process is counted
// while the measured window is open.
#include <tickforge/engine.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>

#include "itch_feed.hpp"
#include "publish_queue.hpp"
#include "synthetic.hpp"
#include "time_zone.hpp"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::uint64_t> g_allocs{0};
inline void note() noexcept {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
  }
}
}  // namespace

void* operator new(std::size_t n) {
  note();
  if (void* p = std::malloc(n ? n : 1)) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  note();
  if (void* p = std::aligned_alloc(static_cast<std::size_t>(a), (n + static_cast<std::size_t>(a) - 1) & ~(static_cast<std::size_t>(a) - 1))) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

#ifndef TICKFORGE_SANITIZED
// glibc: interpose malloc itself so C-level allocations are caught too.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* malloc(std::size_t n) {
  note();
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t s) {
  note();
  return __libc_calloc(n, s);
}
void* realloc(void* p, std::size_t n) {
  note();
  return __libc_realloc(p, n);
}
}
#endif

using namespace tickforge;

TEST(ZeroAlloc, ShouldNotAllocateInSteadyStateWithAlertsFiring) {
  constexpr std::uint64_t kWarm = 200'000;
  constexpr std::uint64_t kMeasured = 1'500'000;
  EngineConfig cfg;
  cfg.ring_capacity = 4096;
  // Daily summaries on, in a zone with DST, with a day roll every ~1,350 ticks per ticker (1 s of event
  // time per tick, 64 tickers): summaries are emitted all through the measured window.
  cfg.daily.enabled = true;
  cfg.daily.zone = load_utc_offsets("America/New_York");
  cfg.daily.session_open_ns = 9 * 3600 * kNsPerSecond;
  cfg.daily.session_close_ns = 17 * 3600 * kNsPerSecond;
  Engine e(cfg);
  SyntheticOptions so;
  so.count = 64;
  so.jump_probability = 0.01;  // plenty of alerts
  so.max_ticks = kWarm + kMeasured;
  so.saturate = true;
  so.step_ns = kNsPerSecond;
  SyntheticFeed feed(so, e.symbols());
  FeedPort& port = e.open_port();
  struct Counts {
    std::atomic<std::uint64_t> ticks{0};
    std::atomic<std::uint64_t> alerts{0};
    std::atomic<std::uint64_t> days{0};
  } counts;
  e.add_daily_callback(
      [](void* u, const DailySummary*) { static_cast<Counts*>(u)->days.fetch_add(1, std::memory_order_relaxed); },
      &counts);
  e.add_alert_callback(
      [](void* u, const Alert*) { static_cast<Counts*>(u)->alerts.fetch_add(1, std::memory_order_relaxed); }, &counts);
  // The Kafka publisher's hand-off: every alert into the bounded moodycamel queue, drained by a
  // "publisher" thread (no librdkafka here: its produce calls allocate by design, off the engine thread).
  tickforge::kafka::PublishQueue<Alert> to_kafka(1, 1024);
  e.add_alert_callback([](void* u, const Alert* a) { (void)static_cast<decltype(to_kafka)*>(u)->try_push(0, *a); },
                       &to_kafka);
  std::atomic<bool> drain_stop{false};
  std::atomic<std::uint64_t> drained{0};
  std::thread publisher([&] {
    Alert a;
    while (!drain_stop.load(std::memory_order_acquire) || drained.load() < to_kafka.enqueued(0)) {
      if (to_kafka.pop(0, a)) {
        drained.fetch_add(1, std::memory_order_relaxed);
      } else {
        std::this_thread::yield();
      }
    }
  });
  e.set_update_callback(
      [](void* u, const Tick*, const TickMetrics*) {
        static_cast<Counts*>(u)->ticks.fetch_add(1, std::memory_order_release);
      },
      &counts);
  std::atomic<bool> go{false};
  e.start(IdleKind::kBackoff);
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kWarm; ++i) {
      port.publish(feed.next());
    }
    while (!go.load(std::memory_order_acquire)) {
      cpu_relax();
    }
    // The measured ticks through the feed agent's own duty cycles (do_work → FeedPort::publish).
    feed.attach(port);
    run_inline(feed);
  });
  while (counts.ticks.load(std::memory_order_acquire) < kWarm) {
    std::this_thread::yield();
  }
  const std::uint64_t alerts_before = counts.alerts.load();
  const std::uint64_t days_before = counts.days.load();
  const std::uint64_t queued_before = to_kafka.enqueued(0);
  g_counting.store(true);
  go.store(true, std::memory_order_release);
  while (counts.ticks.load(std::memory_order_acquire) < kWarm + kMeasured) {
    cpu_relax();
  }
  g_counting.store(false);
  const std::uint64_t allocs = g_allocs.load();
  const std::uint64_t alerts = counts.alerts.load() - alerts_before;
  const std::uint64_t days = counts.days.load() - days_before;
  const std::uint64_t queued = to_kafka.enqueued(0) - queued_before;
  producer.join();
  port.close();
  e.stop();
  drain_stop.store(true, std::memory_order_release);  // the engine has stopped: nothing more is queued
  publisher.join();
  EXPECT_GT(queued, 100u) << "alerts must pass through the publisher queue during the measured window";
  EXPECT_EQ(drained.load(), to_kafka.enqueued(0)) << "every queued alert was taken by the publisher thread";
  EXPECT_EQ(allocs, 0u) << "heap allocations on the steady-state path";
  EXPECT_GT(alerts, 100u) << "alerts must fire during the measured window";
  EXPECT_GT(days, 500u) << "daily summaries must be emitted during the measured window";
  EXPECT_EQ(e.stats().ticks, kWarm + kMeasured);
  RecordProperty("measured_ticks", std::to_string(kMeasured));
  RecordProperty("measured_alerts", std::to_string(alerts));
}

// The exchange feed's whole replay: stock directory, orders in the open-addressing table, executions
// priced from it, trades → ticks → engine. Everything is sized when the feed is made.
TEST(ZeroAlloc, ShouldNotAllocateWhileReplayingAnItchFile) {
  EngineConfig cfg;
  Engine e(cfg);
  ItchFeedSpec spec;
  spec.path = std::string(TICKFORGE_TEST_DATA_DIR) + "/itch/ex20101224.TEST_ITCH_50.lenfixed";
  spec.date = "2010-12-24";
  spec.midnight_utc_ns = 1'293'166'800LL * kNsPerSecond;
  ItchFeed feed(spec, e.symbols());
  FeedPort& port = e.open_port();
  std::atomic<std::uint64_t> alerts{0};
  e.add_alert_callback([](void* u, const Alert*) { static_cast<std::atomic<std::uint64_t>*>(u)->fetch_add(1); },
                       &alerts);
  std::atomic<std::uint64_t> ticks{0};
  e.set_update_callback(
      [](void* u, const Tick*, const TickMetrics*) {
        static_cast<std::atomic<std::uint64_t>*>(u)->fetch_add(1, std::memory_order_release);
      },
      &ticks);
  e.start(IdleKind::kBackoff);
  feed.attach(port);
  g_allocs.store(0);
  g_counting.store(true);
  run_inline(feed);  // ends with the port closed
  while (ticks.load(std::memory_order_acquire) < 5180) {  // (Engine::stats() allocates: not here)
    std::this_thread::yield();
  }
  g_counting.store(false);
  e.stop();
  EXPECT_EQ(g_allocs.load(), 0u) << "heap allocations while replaying the ITCH file";
  EXPECT_EQ(e.stats().ticks, 5180u);
  EXPECT_GT(alerts.load(), 100u);
}

TEST(ZeroAlloc, CounterShouldSeeAnAllocationWhenOneHappens) {
  // The instrument itself must work, or the test above proves nothing.
  g_counting.store(true);
  auto* p = new int(5);
  void* q = std::malloc(16);
  g_counting.store(false);
  delete p;
  std::free(q);
#ifdef TICKFORGE_SANITIZED
  EXPECT_GE(g_allocs.load(), 1u);
#else
  EXPECT_GE(g_allocs.load(), 2u);
#endif
  g_allocs.store(0);
}
