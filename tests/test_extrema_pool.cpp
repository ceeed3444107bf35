// The window high/low deques' shared storage (engine/extrema_pool.hpp) and the deques on it: blocks never
// overlap, merge back whole, and a deque that grows, shrinks or finds the pool full keeps the window's
// exact high and low (checked against a brute-force scan) or counts what it dropped.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "extrema_pool.hpp"
#include "support.hpp"

using namespace tickforge;
using tickforge::test::Harness;

namespace {

struct Block {
  std::uint32_t offset, cls;
};

// Every allocated block lies inside the arena, starts at a multiple of its size and overlaps no other.
void expect_disjoint(const ExtremaPool& pool, std::vector<Block> blocks) {
  std::sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) { return a.offset < b.offset; });
  std::uint64_t end = 0;
  std::uint64_t used = 0;
  for (const Block& b : blocks) {
    const std::uint32_t n = pool.entries_of(b.cls);
    ASSERT_EQ(b.offset % n, 0u) << "a block of " << n << " entries at " << b.offset;
    ASSERT_GE(b.offset, end) << "blocks overlap at " << b.offset;
    end = std::uint64_t{b.offset} + n;
    used += n;
  }
  ASSERT_LE(end, pool.capacity());
  ASSERT_EQ(pool.free_entries(), pool.capacity() - used);
}

}  // namespace

TEST(ExtremaPool, ShouldRoundUpToWholeLargestBlocksAndNameTheClasses) {
  const ExtremaPool pool(100, 4, 64);
  EXPECT_EQ(pool.capacity(), 128u);  // two blocks of 64
  EXPECT_EQ(pool.free_entries(), 128u);
  EXPECT_EQ(pool.top_class(), 4u);   // 4, 8, 16, 32, 64
  EXPECT_EQ(pool.class_for(1), 0u);
  EXPECT_EQ(pool.class_for(4), 0u);
  EXPECT_EQ(pool.class_for(5), 1u);
  EXPECT_EQ(pool.class_for(64), 4u);
  EXPECT_EQ(pool.entries_of(3), 32u);
}

TEST(ExtremaPool, ShouldSplitMergeAndRefuseWhenNothingLargeEnoughIsFree) {
  ExtremaPool pool(64, 4, 64);  // one largest block
  const std::uint32_t a = pool.alloc(0);
  EXPECT_EQ(a, 0u);                       // the lowest addresses first
  EXPECT_EQ(pool.alloc(4), ExtremaPool::kNone) << "the only 64-entry block is split";
  const std::uint32_t b = pool.alloc(3);  // the upper half
  EXPECT_EQ(b, 32u);
  EXPECT_EQ(pool.free_entries(), 64u - 4 - 32);
  pool.release(a, 0);                     // merges 0..31 back together
  EXPECT_EQ(pool.alloc(3), 0u);
  EXPECT_EQ(pool.free_entries(), 0u);
  EXPECT_EQ(pool.alloc(0), ExtremaPool::kNone);
  pool.release(0, 3);
  pool.release(b, 3);
  EXPECT_EQ(pool.alloc(4), 0u) << "both halves merged into the whole block again";
}

TEST(ExtremaPool, ShouldExtendABlockInPlaceOnlyIntoItsFreeUpperBuddy) {
  ExtremaPool pool(64, 4, 64);
  const std::uint32_t a = pool.alloc(0);  // 0..3
  const std::uint32_t b = pool.alloc(0);  // 4..7
  EXPECT_EQ(b, 4u);
  EXPECT_FALSE(pool.extend(a, 0)) << "its buddy (4..7) is taken";
  EXPECT_FALSE(pool.extend(b, 0)) << "an upper half never grows downwards";
  pool.release(b, 0);
  EXPECT_TRUE(pool.extend(a, 0));         // now 0..7
  EXPECT_TRUE(pool.extend(a, 1));         // 0..15
  EXPECT_EQ(pool.free_entries(), 48u);
  EXPECT_EQ(pool.alloc(1), 16u) << "the next free block is past the extended one";
  EXPECT_FALSE(pool.extend(a, 2)) << "16..31 is split and partly taken";
  EXPECT_FALSE(pool.extend(a, pool.top_class()));
}

TEST(ExtremaPool, ShouldKeepBlocksDisjointAndMergeEverythingBackUnderRandomUse) {
  ExtremaPool pool(4096, 4, 256);  // 16 largest blocks
  std::mt19937 rng(7);
  std::vector<Block> live;
  std::size_t refused = 0;
  for (int step = 0; step < 20'000; ++step) {
    if (!live.empty() && rng() % 100 < 10) {
      Block& g = live[rng() % live.size()];
      if (pool.extend(g.offset, g.cls)) {
        ++g.cls;
      }
    } else if (live.empty() || rng() % 100 < 55) {
      const std::uint32_t cls = rng() % (pool.top_class() + 1);
      const std::uint32_t off = pool.alloc(cls);
      if (off == ExtremaPool::kNone) {
        ++refused;
        ASSERT_LT(pool.free_entries(), pool.capacity());
        continue;
      }
      live.push_back({off, cls});
    } else {
      const std::size_t i = rng() % live.size();
      pool.release(live[i].offset, live[i].cls);
      live[i] = live.back();
      live.pop_back();
    }
    if (step % 97 == 0) {
      expect_disjoint(pool, live);
    }
  }
  expect_disjoint(pool, live);
  EXPECT_GT(refused, 0u) << "the run should have filled the pool at times";
  for (const Block& b : live) {
    pool.release(b.offset, b.cls);
  }
  EXPECT_EQ(pool.free_entries(), pool.capacity());
  for (std::uint32_t i = 0; i < 16; ++i) {
    EXPECT_NE(pool.alloc(pool.top_class()), ExtremaPool::kNone) << "largest block " << i << " after merging";
  }
}

namespace {

// Brute-force high and low of one ticker's prices over [t - T, t].
struct Series {
  std::vector<double> p;
  std::vector<std::int64_t> t;
  void add(double price, std::int64_t ns) {
    p.push_back(price);
    t.push_back(ns);
  }
  [[nodiscard]] std::pair<double, double> high_low(std::int64_t window_ns) const {
    double hi = -INFINITY;
    double lo = INFINITY;
    for (std::size_t k = p.size(); k-- > 0 && t[k] >= t.back() - window_ns;) {
      hi = std::max(hi, p[k]);
      lo = std::min(lo, p[k]);
    }
    return {hi, lo};
  }
};

}  // namespace

TEST(ExtremaDeques, ShouldGrowThroughEveryClassAndKeepTheExactHighAndLow) {
  EngineConfig cfg;
  cfg.max_tickers = 2;
  cfg.extrema_capacity = 4096;
  cfg.extrema_pool = 4096;  // room for either deque at its largest
  cfg.rules.window_ns = 1'000'000 * kNsPerSecond;
  Harness h(cfg);
  const SymbolId s = h.id("S");
  Series ref;
  std::int64_t t = 0;
  // 3,000 falling prices (each a candidate high: the max deque grows through every class), then 3,000
  // rising ones: each is a candidate low (the min deque grows the same way) and pops the highs below it,
  // so the max deque empties down to 10,000 and the newest price. (The pool is not short here, so
  // nothing shrinks: the last test covers that.)
  auto feed = [&](double price) {
    h.tick(s, price, 1, t);
    ref.add(price, t);
    const auto [hi, lo] = ref.high_low(cfg.rules.window_ns);
    ASSERT_EQ(h.metrics.back().window_high, hi) << "tick " << ref.p.size();
    ASSERT_EQ(h.metrics.back().window_low, lo) << "tick " << ref.p.size();
    t += kNsPerSecond;
  };
  for (int i = 0; i < 3000; ++i) {
    feed(10'000.0 - i);
  }
  for (int i = 0; i < 3000; ++i) {
    feed(7'000.5 + i);
  }
  EXPECT_EQ(h.core.counters().extrema_evictions, 0u);
  EXPECT_EQ(h.metrics.back().window_high, 10'000.0);
  EXPECT_EQ(h.metrics.back().window_low, 7'000.5);
}

TEST(ExtremaDeques, ShouldEvictAndCountWhenThePoolIsFullAndStillServeNewTickers) {
  EngineConfig cfg;
  cfg.max_tickers = 64;
  cfg.extrema_capacity = 1024;
  cfg.extrema_pool = 8;  // 64 × 2 × 8 = 1,024 entries in all: one largest block
  cfg.rules.window_ns = 1'000'000 * kNsPerSecond;
  Harness h(cfg);
  std::int64_t t = 0;
  // Ticker A falls for 2,000 ticks: its max deque would need 2,048 entries, the pool has 1,024 minus the
  // reserve of the 63 tickers not seen yet (2 × 4 entries each) and A's own blocks.
  const SymbolId a = h.id("A");
  for (int i = 0; i < 2000; ++i) {
    h.tick(a, 10'000.0 - i, 1, t);
    t += kNsPerSecond;
  }
  const ShardCounters& c = h.core.counters();
  EXPECT_GT(c.extrema_pool_full, 0u);
  EXPECT_GT(c.extrema_evictions, 0u);
  EXPECT_LE(c.extrema_pool_full, c.extrema_evictions);
  EXPECT_LT(h.metrics.back().window_high, 10'000.0) << "the oldest highs were dropped: documented";
  EXPECT_EQ(h.metrics.back().window_low, 10'000.0 - 1999);
  // Every other ticker still gets its deques, and with few candidates its high/low is exact.
  const std::uint64_t evicted = c.extrema_evictions;
  for (int k = 1; k < 64; ++k) {
    const std::string name = "T" + std::to_string(k);
    const SymbolId s = h.id(name.c_str());
    Series ref;
    for (int i = 0; i < 3; ++i) {
      const double price = 100.0 + k + (i == 1 ? 5.0 : 0.0);
      h.tick(s, price, 1, t);
      ref.add(price, t);
      t += kNsPerSecond;
      const auto [hi, lo] = ref.high_low(cfg.rules.window_ns);
      ASSERT_EQ(h.metrics.back().window_high, hi) << name;
      ASSERT_EQ(h.metrics.back().window_low, lo) << name;
    }
  }
  EXPECT_EQ(c.extrema_evictions, evicted) << "no new ticker lost a candidate";
}

TEST(ExtremaDeques, ShouldGiveTheMemoryAShrunkDequeFreesToAnotherTicker) {
  EngineConfig cfg;
  cfg.max_tickers = 2;
  cfg.extrema_capacity = 1024;
  cfg.extrema_pool = 512;  // 2 × 2 × 512 = 2,048 entries: two largest blocks
  cfg.rules.window_ns = 100 * kNsPerSecond;
  Harness h(cfg);
  const SymbolId a = h.id("A");
  const SymbolId b = h.id("B");
  std::int64_t t = 0;
  Series ra, rb;
  auto tick = [&](SymbolId s, Series& ref, double price, bool exact = true) {
    h.tick(s, price, 1, t);
    ref.add(price, t);
    if (exact) {
      const auto [hi, lo] = ref.high_low(cfg.rules.window_ns);
      ASSERT_EQ(h.metrics.back().window_high, hi) << "tick " << ref.p.size();
      ASSERT_EQ(h.metrics.back().window_low, lo) << "tick " << ref.p.size();
    }
    t += 1'000'000;  // 1 ms: 1,000 ticks inside the 100 s window
  };
  // A falls 1,000 times: its max deque takes a whole largest block (1,024).
  for (int i = 0; i < 1000; ++i) {
    tick(a, ra, 5'000.0 - i);
  }
  // B falls too: the other largest block holds the small blocks, so B cannot reach 1,024.
  for (int i = 0; i < 1000; ++i) {
    tick(b, rb, 5'000.0 - i, /*exact=*/false);
  }
  EXPECT_LT(h.metrics.back().window_high, 5'000.0) << "B lost its oldest highs";
  const std::uint64_t full_while_a_holds = h.core.counters().extrema_pool_full;
  EXPECT_GT(full_while_a_holds, 0u);
  // A ticks once after its highs have left the window: its max deque falls to that one entry and moves to
  // a smallest block, giving its largest one back.
  t += 200 * kNsPerSecond;
  tick(a, ra, 6'000.0);
  // B starts a new fall (its old prices leave the window first): now it grows to 1,000 without loss.
  t += 200 * kNsPerSecond;
  rb = Series{};
  const std::uint64_t evictions = h.core.counters().extrema_evictions;
  for (int i = 0; i < 1000; ++i) {
    tick(b, rb, 4'000.0 - i);
  }
  EXPECT_EQ(h.core.counters().extrema_evictions, evictions) << "B used the memory A gave back";
}
