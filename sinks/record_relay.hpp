// tickforge — the hand-off from engine shards to one output thread: one SPSC ring per shard.
//
//   shard 0 ─push(0, r)─▶ ring 0 ─┐
//   shard 1 ─push(1, r)─▶ ring 1 ─┼─▶ drain() on the sink's own thread
//   shard k ─push(k, r)─▶ ring k ─┘
//
// Private header. Each ring has exactly one producer (its shard) and one consumer (the sink thread), so a
// push is the SPSC ring's two stores and no lock. What a full ring does is the relay's policy, fixed at
// construction and counted per shard:
//   kWait  the shard waits for the sink (pause-spin) and counts a wait: nothing is lost, the engine is
//          back-pressured (alerts and daily summaries to files, a per-tick metrics file by default);
//   kDrop  the record is dropped and counted at once: the engine never waits (PostgreSQL, whose server
//          may go away; a metrics file with --metrics-full drop).
// Nothing allocates after construction.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <tickforge/counter.hpp>
#include <tickforge/engine.hpp>  // ShardIndex
#include <tickforge/records.hpp>
#include <tickforge/spsc_ring.hpp>

namespace tickforge {

/// A tick and its metrics as a sink queues them (fixed size, trivially copyable).
struct MetricsRow {
  Tick tick;
  TickMetrics metrics;
};

enum class RelayFull : std::uint8_t { kWait, kDrop };

template <typename T>
class RecordRelay {
 public:
  RecordRelay(ShardIndex shards, std::uint32_t capacity, RelayFull policy)
      : shards_(shards), policy_(policy), counts_(shards.shards()) {
    for (std::uint32_t s = 0; s < shards.shards(); ++s) {
      rings_.push_back(std::make_unique<SpscRing<T>>(capacity));
    }
  }

  /// Shard `shard`'s thread (the ring's only producer). True if queued, false if dropped (kDrop).
  bool push(std::uint32_t shard, const T& r) noexcept {
    if (rings_[shard]->try_push(r)) [[likely]] {
      return true;
    }
    Counts& c = counts_[shard];
    if (policy_ == RelayFull::kDrop) {
      bump(c.dropped);
      return false;
    }
    bump(c.waits);
    rings_[shard]->push(r);  // spins until the sink thread frees a slot
    return true;
  }
  [[nodiscard]] const ShardIndex& shards() const noexcept { return shards_; }

  /// The sink thread: hands every queued record to sink(const T&), ring by ring; returns how many.
  template <typename Sink>
  std::size_t drain(Sink&& sink, std::size_t max_per_ring = SIZE_MAX) {
    std::size_t n = 0;
    for (auto& r : rings_) {
      n += r->consume(sink, max_per_ring);
    }
    return n;
  }

  /// Summed over shards; any thread (single-writer relaxed counters), exact once the shards are joined.
  [[nodiscard]] std::uint64_t waits() const noexcept { return sum(&Counts::waits); }
  [[nodiscard]] std::uint64_t dropped() const noexcept { return sum(&Counts::dropped); }

 private:
  struct alignas(kFalseSharingRange) Counts {  // written by one shard thread each, read by any
    std::atomic<std::uint64_t> waits{0};
    std::atomic<std::uint64_t> dropped{0};
  };
  [[nodiscard]] std::uint64_t sum(std::atomic<std::uint64_t> Counts::*field) const noexcept {
    std::uint64_t n = 0;
    for (const Counts& c : counts_) {
      n += (c.*field).load(std::memory_order_relaxed);
    }
    return n;
  }

  ShardIndex shards_;
  RelayFull policy_;
  std::vector<std::unique_ptr<SpscRing<T>>> rings_;  // [shard]
  std::vector<Counts> counts_;                       // [shard]
};

}  // namespace tickforge
