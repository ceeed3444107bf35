// The engine → Kafka publisher hand-off without librdkafka: PublishQueue (bounded moodycamel queue, one
// preallocated share per shard) and DeliveryTracker (finished low-water mark), under real threads —
// shards pushing, a publisher taking and "delivering" out of order, a feed waiting on the low-water
// mark like the Kafka feed's offset commits do. Runs in the ThreadSanitizer build.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <tickforge/records.hpp>

#include "delivery_tracker.hpp"
#include "publish_queue.hpp"

using tickforge::Alert;
using tickforge::kafka::DeliveryTracker;
using tickforge::kafka::PublishQueue;

TEST(DeliveryTracker, ShouldAdvanceTheLowWaterMarkOnlyOverContiguouslyFinishedRecords) {
  DeliveryTracker t(8);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.next(), static_cast<std::uint64_t>(i));
  }
  t.finish(1);
  t.finish(2);
  EXPECT_EQ(t.low_water(), 0u) << "record 0 is still out";
  t.finish(0);
  EXPECT_EQ(t.low_water(), 3u);
  t.finish(4);
  EXPECT_EQ(t.low_water(), 3u);
  t.finish(3);
  EXPECT_EQ(t.low_water(), 5u);
  EXPECT_EQ(t.unfinished(), 0u);
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(t.has_room());
    (void)t.next();
  }
  EXPECT_FALSE(t.has_room()) << "a window of 8 unfinished records is full";
}

TEST(PublishQueue, ShouldDropAndCountWhenAShardsShareIsFullWithoutWaiting) {
  PublishQueue<Alert> q(2, 1024);
  Alert a{};
  std::uint64_t accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    a.id = static_cast<std::uint64_t>(i);
    accepted += q.try_push(0, a) ? 1 : 0;
  }
  EXPECT_EQ(accepted, 1024u) << "exactly the configured share";
  EXPECT_EQ(q.enqueued(0), accepted);
  EXPECT_EQ(q.dropped(0), 5000 - accepted);
  EXPECT_TRUE(q.try_push(1, a)) << "another shard's share is untouched";
  Alert out{};
  std::uint64_t expect = 0;
  while (q.pop(0, out)) {
    ASSERT_EQ(out.id, expect++) << "FIFO per shard";
  }
  EXPECT_EQ(expect, accepted);
  EXPECT_TRUE(q.try_push(0, a)) << "room again once the publisher took them";
}

TEST(PublishQueue, ShouldHandEveryRecordOverInOrderAndLetAFeedWaitForItsDelivery) {
  constexpr std::uint32_t kShards = 2;
  constexpr std::uint64_t kPerShard = 200'000;
  PublishQueue<Alert> q(kShards, 4096);
  std::vector<std::unique_ptr<DeliveryTracker>> trackers;
  for (std::uint32_t s = 0; s < kShards; ++s) {
    trackers.push_back(std::make_unique<DeliveryTracker>(1 << 12));
  }
  std::atomic<bool> shards_done{false};
  std::atomic<std::uint64_t> order_errors{0};
  std::atomic<std::uint64_t> waits_satisfied{0};

  std::vector<std::thread> shards;
  for (std::uint32_t s = 0; s < kShards; ++s) {
    shards.emplace_back([&, s] {
      Alert a{};
      for (std::uint64_t k = 0; k < kPerShard;) {
        a.id = s + 1 + k * kShards;
        if (q.try_push(s, a)) {
          ++k;
        } else {
          std::this_thread::yield();  // the test wants every record; the engine would count a drop
        }
      }
    });
  }
  // Publisher: takes FIFO per shard, finishes records in reverse batches of 16 (out of order, like
  // delivery reports from different partitions).
  std::thread publisher([&] {
    std::vector<std::uint64_t> expect(kShards);
    for (std::uint32_t s = 0; s < kShards; ++s) {
      expect[s] = s + 1;
    }
    std::vector<std::uint64_t> batch;
    std::uint64_t total = 0;
    while (total < kShards * kPerShard) {
      for (std::uint32_t s = 0; s < kShards; ++s) {
        Alert a;
        batch.clear();
        while (batch.size() < 16 && trackers[s]->has_room() && q.pop(s, a)) {
          if (a.id != expect[s]) {
            order_errors.fetch_add(1, std::memory_order_relaxed);
          }
          expect[s] = a.id + kShards;
          batch.push_back(trackers[s]->next());
        }
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
          trackers[s]->finish(*it);
        }
        total += batch.size();
      }
    }
  });
  // Feed: snapshot what the shards queued, then wait until the publisher finished at least that much.
  std::thread feed([&] {
    while (!shards_done.load(std::memory_order_acquire)) {
      std::uint64_t goal[kShards];
      for (std::uint32_t s = 0; s < kShards; ++s) {
        goal[s] = q.enqueued(s);
      }
      for (std::uint32_t s = 0; s < kShards; ++s) {
        while (trackers[s]->low_water() < goal[s]) {
          std::this_thread::yield();
        }
      }
      waits_satisfied.fetch_add(1, std::memory_order_relaxed);
    }
  });
  for (auto& t : shards) {
    t.join();
  }
  shards_done.store(true, std::memory_order_release);
  publisher.join();
  feed.join();
  EXPECT_EQ(order_errors.load(), 0u);
  EXPECT_GT(waits_satisfied.load(), 0u);
  for (std::uint32_t s = 0; s < kShards; ++s) {
    EXPECT_EQ(q.enqueued(s), kPerShard);
    EXPECT_EQ(trackers[s]->low_water(), kPerShard);
  }
}
