// SpscRing: single-thread semantics, then a two-thread stress test that checks every sequence number
// arrives exactly once and in order (run under ThreadSanitizer by the test command).
#include <tickforge/spsc_ring.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

using tickforge::SpscRing;
using tickforge::Tick;

TEST(SpscRing, ShouldRoundCapacityUpToPowerOfTwo) {
  EXPECT_EQ(SpscRing<int>(1).capacity(), 2u);
  EXPECT_EQ(SpscRing<int>(5).capacity(), 8u);
  EXPECT_EQ(SpscRing<int>(1024).capacity(), 1024u);
  EXPECT_THROW(SpscRing<int>(0), std::invalid_argument);
}

TEST(SpscRing, ShouldRejectPushWhenFullAndAcceptAfterPop) {
  SpscRing<int> r(4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(r.try_push(i));
  }
  EXPECT_FALSE(r.try_push(99));
  int v = -1;
  ASSERT_TRUE(r.try_pop(v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(r.try_push(4));
  EXPECT_FALSE(r.try_push(5));
  for (int want = 1; want <= 4; ++want) {
    ASSERT_TRUE(r.try_pop(v));
    EXPECT_EQ(v, want);
  }
  EXPECT_FALSE(r.try_pop(v));
  EXPECT_EQ(r.front(), nullptr);
}

TEST(SpscRing, ShouldKeepFifoOrderAcrossManyWraparounds) {
  SpscRing<std::uint64_t> r(8);
  std::uint64_t next_in = 0;
  std::uint64_t next_out = 0;
  for (int round = 0; round < 1000; ++round) {
    const int burst = 1 + round % 8;
    for (int i = 0; i < burst; ++i) {
      ASSERT_TRUE(r.try_push(next_in++));
    }
    for (int i = 0; i < burst; ++i) {
      const std::uint64_t* p = r.front();
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(*p, next_out++);
      r.pop();
    }
  }
  EXPECT_TRUE(r.empty_approx());
}

TEST(SpscRing, ShouldPushPartialBatchWhenNearlyFull) {
  SpscRing<int> r(8);
  const int items[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(r.try_push_n(items, 5), 5u);
  EXPECT_EQ(r.try_push_n(items + 5, 5), 3u);  // only 3 slots left
  EXPECT_EQ(r.try_push_n(items, 1), 0u);
  std::vector<int> seen;
  EXPECT_EQ(r.consume([&](const int& v) { seen.push_back(v); }, 6), 6u);
  EXPECT_EQ(r.consume([&](const int& v) { seen.push_back(v); }, 100), 2u);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(SpscRing, ShouldHandRunsOnEachSideOfTheWrapInOrder) {
  SpscRing<int> r(8);
  const int items[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  ASSERT_EQ(r.try_push_n(items, 6), 6u);
  EXPECT_EQ(r.consume([](const int&) {}, 6), 6u);
  ASSERT_EQ(r.try_push_n(items, 5), 5u);  // slots 6, 7, then 0, 1, 2
  std::vector<std::vector<int>> runs;
  EXPECT_EQ(r.consume_runs([&](const int* p, std::size_t n) { runs.emplace_back(p, p + n); }, 100), 5u);
  EXPECT_EQ(runs, (std::vector<std::vector<int>>{{0, 1}, {2, 3, 4}}));
  EXPECT_TRUE(r.empty_approx());
  ASSERT_EQ(r.try_push_n(items, 4), 4u);  // slots 3..6: one run, bounded by max
  runs.clear();
  EXPECT_EQ(r.consume_runs([&](const int* p, std::size_t n) { runs.emplace_back(p, p + n); }, 3), 3u);
  EXPECT_EQ(runs, (std::vector<std::vector<int>>{{0, 1, 2}}));
  EXPECT_EQ(r.consume_runs([](const int*, std::size_t) {}, 100), 1u);
  EXPECT_EQ(r.consume_runs([](const int*, std::size_t) { ADD_FAILURE() << "called on an empty ring"; }, 100), 0u);
}

TEST(SpscRing, ShouldReportHighWaterMarkSeenByConsumer) {
  SpscRing<int> r(16);
  for (int i = 0; i < 11; ++i) {
    ASSERT_TRUE(r.try_push(i));
  }
  EXPECT_EQ(r.consume([](const int&) {}, 3), 3u);
  EXPECT_EQ(r.high_water_mark(), 11u);
  EXPECT_EQ(r.size_approx(), 8u);
}

TEST(SpscRing, ShouldPlaceIndicesOnSeparateCacheLines) {
  // The layout is the point of the design: guard it.
  EXPECT_GE(alignof(SpscRing<Tick>), tickforge::kFalseSharingRange);
  EXPECT_GE(sizeof(SpscRing<Tick>), 3 * tickforge::kFalseSharingRange);
}

namespace {
// Producer sends 0..n-1 with a mix of single and batch pushes; consumer checks order and completeness.
void stress(std::size_t capacity, std::uint64_t n) {
  SpscRing<Tick> ring(capacity);
  std::thread producer([&] {
    Tick batch[7];
    std::uint64_t seq = 0;
    while (seq < n) {
      if (seq % 3 == 0) {
        std::size_t k = 0;
        for (; k < 7 && seq + k < n; ++k) {
          batch[k] = Tick{};
          batch[k].seq = seq + k;
        }
        std::size_t done = 0;
        while (done < k) {
          done += ring.try_push_n(batch + done, k - done);
        }
        seq += k;
      } else {
        Tick t{};
        t.seq = seq++;
        ring.push(t);
      }
    }
  });
  std::uint64_t expect = 0;
  std::uint64_t errors = 0;
  while (expect < n) {
    if (expect % 2 == 0) {
      ring.consume(
          [&](const Tick& t) {
            errors += t.seq != expect;
            ++expect;
          },
          13);
    } else {
      Tick t;
      if (ring.try_pop(t)) {
        errors += t.seq != expect;
        ++expect;
      }
    }
  }
  producer.join();
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(expect, n);
  Tick extra;
  EXPECT_FALSE(ring.try_pop(extra));
}
}  // namespace

#ifdef TICKFORGE_SANITIZED
constexpr std::uint64_t kStressItems = 300'000;
#else
constexpr std::uint64_t kStressItems = 5'000'000;
#endif

TEST(SpscRing, ShouldDeliverEverySequenceNumberOnceAndInOrderAcrossThreads) { stress(1024, kStressItems); }

TEST(SpscRing, ShouldDeliverEverySequenceNumberWithTinyRing) { stress(2, kStressItems / 10); }
