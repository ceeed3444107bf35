// tickforge — the engine → publisher hand-off: a bounded moodycamel ConcurrentQueue, many shards → one
// publisher thread.
//
// Private header. Each engine shard owns one explicit ProducerToken and a share of `capacity` records; at
// construction every token is "warmed" by filling its share once and draining it, so that the producer
// already owns all the blocks and block-index room it will ever use. try_push() itself keeps each shard
// within its share (moodycamel's bound is the shared block pool, not per producer), so it never needs a
// new block and never allocates: when the share is full it returns false at once and the caller counts a
// drop (the policy: the engine never waits for Kafka; size the queue for the longest broker outage you
// want to ride out in memory).
//
// Thread contract: try_push(shard, …) only from that shard's thread; pop(shard, …) and everything else
// from the one publisher thread, except enqueued(), which any thread may read.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include <concurrentqueue/concurrentqueue.h>
#include <tickforge/tick.hpp>

namespace tickforge::kafka {

struct PublishQueueTraits : moodycamel::ConcurrentQueueDefaultTraits {
  static const size_t BLOCK_SIZE = 256;  // fewer block hops per item than the default 32
  // Implicit (tokenless) producers would allocate on a thread's first enqueue: forbid them.
  static const size_t INITIAL_IMPLICIT_PRODUCER_HASH_SIZE = 0;
};

template <typename Record>
class PublishQueue {
 public:
  /// capacity: records per shard (rounded up to whole blocks). Allocates everything; throws on failure.
  PublishQueue(std::uint32_t shards, std::uint32_t capacity)
      : queue_(static_cast<std::size_t>(capacity) * shards + PublishQueueTraits::BLOCK_SIZE, shards, 0),
        shards_(shards),
        capacity_(capacity) {
    for (std::uint32_t s = 0; s < shards; ++s) {
      side_.push_back(std::make_unique<ShardSide>());
      taken_.push_back(std::make_unique<TakenSide>());
      tokens_.push_back(std::make_unique<moodycamel::ProducerToken>(queue_));
      // Warm-up (cold, allocating): take ownership of this shard's blocks and index, then give the items
      // back. The blocks stay in the producer's circular list and are reused from now on.
      Record r{};
      std::uint32_t n = 0;
      while (n < capacity + PublishQueueTraits::BLOCK_SIZE && queue_.enqueue(*tokens_[s], r)) {
        ++n;
      }
      if (n < capacity + PublishQueueTraits::BLOCK_SIZE) {  // the share may straddle one more block
        throw std::runtime_error("publish queue: cannot reserve capacity");
      }
      while (queue_.try_dequeue_from_producer(*tokens_[s], r)) {
      }
      // The warm-up may have left the last block only partly used: the share is at least `capacity`.
    }
  }

  /// Engine shard thread. False (and nothing queued) when this shard's share is full. No allocation,
  /// no lock, no syscall: a few relaxed/release stores inside moodycamel plus one release store here.
  [[nodiscard]] bool try_push(std::uint32_t shard, const Record& r) noexcept {
    ShardSide& side = *side_[shard];
    const std::uint64_t queued = side.enqueued.load(std::memory_order_relaxed);  // own counter
    if (queued - side.cached_taken >= capacity_) [[unlikely]] {
      // Pairs with the publisher's release in pop(): the slots it took are free for reuse.
      side.cached_taken = taken_[shard]->taken.load(std::memory_order_acquire);
    }
    if (queued - side.cached_taken >= capacity_ || !queue_.try_enqueue(*tokens_[shard], r)) [[unlikely]] {
      side.dropped.store(side.dropped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return false;
    }
    // Release: a reader that sees this count (acquire, enqueued()) also sees the record queued before it,
    // so "the publisher has finished with the first N records of shard s" is a well-defined goal.
    side.enqueued.store(queued + 1, std::memory_order_release);
    return true;
  }

  /// Publisher thread: the oldest record from this shard (FIFO per shard). No allocation.
  [[nodiscard]] bool pop(std::uint32_t shard, Record& out) noexcept {
    if (!queue_.try_dequeue_from_producer(*tokens_[shard], out)) {
      return false;
    }
    std::atomic<std::uint64_t>& taken = taken_[shard]->taken;
    taken.store(taken.load(std::memory_order_relaxed) + 1, std::memory_order_release);  // partner: try_push
    return true;
  }

  /// Records this shard has queued so far (any thread; acquire, see try_push()).
  [[nodiscard]] std::uint64_t enqueued(std::uint32_t shard) const noexcept {
    return side_[shard]->enqueued.load(std::memory_order_acquire);
  }
  /// Records refused because the shard's share was full (any thread; a count, nothing else hangs on it).
  [[nodiscard]] std::uint64_t dropped(std::uint32_t shard) const noexcept {
    return side_[shard]->dropped.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint32_t shards() const noexcept { return shards_; }

 private:
  // Written by one shard thread each; on its own false-sharing range.
  struct alignas(kFalseSharingRange) ShardSide {
    std::atomic<std::uint64_t> enqueued{0};
    std::atomic<std::uint64_t> dropped{0};
    std::uint64_t cached_taken = 0;  // the shard's last view of TakenSide::taken
  };
  // Written by the publisher thread: records it took from that shard.
  struct alignas(kFalseSharingRange) TakenSide {
    std::atomic<std::uint64_t> taken{0};
  };

  moodycamel::ConcurrentQueue<Record, PublishQueueTraits> queue_;
  std::uint32_t shards_;
  std::uint64_t capacity_;
  std::vector<std::unique_ptr<ShardSide>> side_;
  std::vector<std::unique_ptr<TakenSide>> taken_;
  std::vector<std::unique_ptr<moodycamel::ProducerToken>> tokens_;
};

}  // namespace tickforge::kafka
