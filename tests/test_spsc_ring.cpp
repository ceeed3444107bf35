// SpscRing: single-thread semantics of both protocols (the index, and the Tick's per-slot stamp), then a
// two-thread stress test of each that checks every item arrives exactly once, in order and whole (run
// under ThreadSanitizer by the test command).
#include <tickforge/spsc_ring.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
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

namespace {
// A tick whose every field tells its position, built over bytes of `fill` so that its padding (where the
// ring keeps its stamp) holds whatever a caller's memory happened to hold.
Tick tick_at(std::uint64_t i, unsigned char fill) {
  Tick t;
  std::memset(static_cast<void*>(&t), fill, sizeof t);  // the padding and the ring's stamp member too
  t.symbol = static_cast<tickforge::SymbolId>(i * 7 + 1);
  t.feed = static_cast<std::uint32_t>(i % 5);
  t.price = 100.0 + static_cast<double>(i) * 0.25;
  t.volume = static_cast<double>(i % 1000);
  t.event_ns = static_cast<std::int64_t>(i) * 1000 - 77;
  t.seq = i;
  t.ingest_ns = static_cast<std::int64_t>(i) * 3 + 5;
  return t;
}
// How many fields of t differ from tick_at(i): 0 when the tick arrived whole.
int field_errors(const Tick& t, std::uint64_t i) {
  const Tick w = tick_at(i, 0);
  return (t.symbol != w.symbol) + (t.feed != w.feed) + (t.price != w.price) + (t.volume != w.volume) +
         (t.event_ns != w.event_ns) + (t.seq != w.seq) + (t.ingest_ns != w.ingest_ns);
}
}  // namespace

TEST(SpscRing, ShouldStampEverySlotOfABatchWhateverTheCallersPaddingHolds) {
  static_assert(tickforge::RingStamp<Tick>::kEnabled && !tickforge::RingStamp<std::uint64_t>::kEnabled);
  // A stamp left as the caller's bytes (0, ~0, or the caller's own "stamp" pos + 1 of another lap) would
  // read "not ready" and stall a single-item consumer after the first item of a batch.
  for (const unsigned char fill : {0x00, 0xFF, 0x01}) {
    SCOPED_TRACE(static_cast<int>(fill));
    SpscRing<Tick> r(8);
    std::uint64_t in = 0;
    std::uint64_t out = 0;
    for (int round = 0; round < 40; ++round) {  // many laps, batches across the wrap
      Tick batch[5];
      const std::size_t n = 1 + static_cast<std::size_t>(round) % 5;
      for (std::size_t k = 0; k < n; ++k) {
        batch[k] = tick_at(in + k, fill);
      }
      ASSERT_EQ(r.try_push_n(batch, n), n);
      in += n;
      ASSERT_TRUE(r.try_push(tick_at(in++, fill)));  // a single push behind the batch
      Tick t;
      while (out < in - 1) {  // single pops: every slot's stamp
        ASSERT_TRUE(r.try_pop(t)) << "item " << out;
        EXPECT_EQ(field_errors(t, out), 0) << "item " << out;
        ++out;
      }
      // The last through consume_runs: its stamp is what a caught-up batch consumer asks.
      EXPECT_EQ(r.consume_runs([&](const Tick* p, std::size_t m) {
                  for (std::size_t k = 0; k < m; ++k) {
                    EXPECT_EQ(field_errors(p[k], out + k), 0);
                  }
                }, 100),
                1u);
      ++out;
      EXPECT_FALSE(r.try_pop(t));
      EXPECT_EQ(r.front(), nullptr);
      EXPECT_EQ(r.consume_runs([](const Tick*, std::size_t) { ADD_FAILURE() << "called on an empty ring"; }, 100), 0u);
    }
    EXPECT_EQ(r.consumed(), in);
  }
}

TEST(SpscRing, ShouldKeepTheHighWaterMarkWhenABatchConsumerFollowsStamps) {
  SpscRing<Tick> r(16);
  Tick t;
  ASSERT_TRUE(r.try_push(tick_at(0, 0)));
  ASSERT_TRUE(r.try_pop(t));  // taken by its stamp: the consumer has not read the index
  for (std::uint64_t i = 1; i <= 9; ++i) {
    ASSERT_TRUE(r.try_push(tick_at(i, 0)));
  }
  std::uint64_t got = 0;
  EXPECT_EQ(r.consume([&](const Tick& x) { got += field_errors(x, got + 1) == 0; }, 100), 9u);
  EXPECT_EQ(got, 9u);
  EXPECT_EQ(r.high_water_mark(), 9u);
}

TEST(SpscRing, ShouldPlaceIndicesOnSeparateCacheLines) {
  // The layout is the point of the design: guard it.
  EXPECT_GE(alignof(SpscRing<Tick>), tickforge::kFalseSharingRange);
  EXPECT_GE(sizeof(SpscRing<Tick>), 3 * tickforge::kFalseSharingRange);
}

namespace {
template <typename T>
T item_at(std::uint64_t i);
template <>
Tick item_at<Tick>(std::uint64_t i) {
  return tick_at(i, static_cast<unsigned char>(i));  // padding differs from item to item
}
template <>
std::uint64_t item_at<std::uint64_t>(std::uint64_t i) {
  return i * 0x9E3779B97F4A7C15ull;
}
int item_errors(const Tick& t, std::uint64_t i) { return field_errors(t, i); }
int item_errors(std::uint64_t v, std::uint64_t i) { return v != item_at<std::uint64_t>(i); }

// Producer sends 0..n-1 with a mix of single and batch pushes; consumer mixes single pops, in-place
// batches and front()/pop(), and checks order, completeness and every field.
template <typename T>
void stress(std::size_t capacity, std::uint64_t n) {
  SpscRing<T> ring(capacity);
  std::thread producer([&] {
    T batch[7];
    std::uint64_t seq = 0;
    while (seq < n) {
      if (seq % 3 == 0) {
        std::size_t k = 0;
        for (; k < 7 && seq + k < n; ++k) {
          batch[k] = item_at<T>(seq + k);
        }
        std::size_t done = 0;
        while (done < k) {
          done += ring.try_push_n(batch + done, k - done);
        }
        seq += k;
      } else {
        ring.push(item_at<T>(seq++));
      }
    }
  });
  std::uint64_t expect = 0;
  std::uint64_t errors = 0;
  while (expect < n) {
    if (expect % 3 == 0) {
      ring.consume(
          [&](const T& t) {
            errors += static_cast<std::uint64_t>(item_errors(t, expect));
            ++expect;
          },
          13);
    } else if (expect % 3 == 1) {
      T t;
      if (ring.try_pop(t)) {
        errors += static_cast<std::uint64_t>(item_errors(t, expect));
        ++expect;
      }
    } else if (const T* p = ring.front()) {
      errors += static_cast<std::uint64_t>(item_errors(*p, expect));
      ++expect;
      ring.pop();
    }
  }
  producer.join();
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(expect, n);
  T extra;
  EXPECT_FALSE(ring.try_pop(extra));
}
}  // namespace

#ifdef TICKFORGE_SANITIZED
constexpr std::uint64_t kStressItems = 300'000;
#else
constexpr std::uint64_t kStressItems = 5'000'000;
#endif

TEST(SpscRing, ShouldDeliverEveryTickOnceAndInOrderAcrossThreads) { stress<Tick>(1024, kStressItems); }

TEST(SpscRing, ShouldDeliverEveryTickWithTinyRing) { stress<Tick>(2, kStressItems / 10); }

// The index protocol (no stamp): the same mixes.
TEST(SpscRing, ShouldDeliverEveryWordOnceAndInOrderAcrossThreads) { stress<std::uint64_t>(1024, kStressItems); }

TEST(SpscRing, ShouldDeliverEveryWordWithTinyRing) { stress<std::uint64_t>(2, kStressItems / 10); }
