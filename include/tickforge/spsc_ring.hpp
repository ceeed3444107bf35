// tickforge — bounded single-producer/single-consumer ring.
//
// Design (after rigtorp/SPSCQueue, with 64-bit positions and batch operations):
//   * capacity is a power of two; positions are free-running uint64 counters, slot = pos & mask, so
//     "full" is tail - head == capacity and no slot is wasted;
//   * the producer owns tail_ and a cached copy of head_, the consumer owns head_ and a cached copy of
//     tail_; each group sits on its own 128-byte block so neither side's stores invalidate the other's
//     line (x86 prefetches lines in pairs);
//   * a side reads the other's index (acquire) only when its cached copy says full/empty, so in steady
//     state each operation touches one shared line;
//   * batch forms publish many slots with one release store;
//   * a type with an 8-byte member for the ring after its fields (RingStamp<T>, e.g. Tick::ring_stamp,
//     in what would be padding) also gets a per-slot stamp, as in FastForward and Vyukov's bounded
//     queue: the producer writes the item's fields, then release-stores pos + 1 into the slot's stamp,
//     then its index. A consumer that has caught up
//     polls the stamp of the slot it wants, in the line it reads next anyway, instead of the producer's
//     index: the index line no longer crosses between the cores once per item. Measured on Zen 4
//     (BENCHMARKS.md, "The stamped slot"). A batch push writes every stamp of its run, the first one last,
//     so any mix of single and batch pushes and pops stays correct.
//
// Thread contract: exactly one producer thread calls the push side and exactly one consumer thread calls
// the pop side; observers (size_approx) may be called from any thread. Nothing allocates after the
// constructor; no member blocks except push(), which spins.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>

#include <tickforge/platform.hpp>
#include <tickforge/tick.hpp>

namespace tickforge {

/// Opt-in per-slot stamp (see the design notes above). A specialisation names kMember, the std::uint64_t
/// member the ring owns (written and read only through std::atomic_ref while the slot is shared), and
/// copy_fields(), which copies every other member: the only stores a push makes into a slot besides the
/// stamp. (Member by member, not a memcpy of the leading bytes: that made GCC build the item on the stack
/// and reload it in wider pieces than it stored — a store-forwarding stall measured at +7 ns per C API push.)
template <typename T>
struct RingStamp {
  static constexpr bool kEnabled = false;
};
template <>
struct RingStamp<Tick> {
  static constexpr bool kEnabled = true;
  static constexpr std::uint64_t Tick::*kMember = &Tick::ring_stamp;
  static void copy_fields(Tick& to, const Tick& from) noexcept {
    to.symbol = from.symbol;
    to.feed = from.feed;
    to.price = from.price;
    to.volume = from.volume;
    to.event_ns = from.event_ns;
    to.seq = from.seq;
    to.ingest_ns = from.ingest_ns;
  }
  // The members copy_fields() lists fill every byte before the stamp (and the stamp ends the line).
  static_assert(sizeof(Tick::symbol) + sizeof(Tick::feed) + sizeof(Tick::price) + sizeof(Tick::volume) +
                        sizeof(Tick::event_ns) + sizeof(Tick::seq) + sizeof(Tick::ingest_ns) ==
                    offsetof(Tick, ring_stamp),
                "copy_fields() copies every member before the stamp: a new Tick field must be added there");
  static_assert(alignof(Tick) % std::atomic_ref<std::uint64_t>::required_alignment == 0 &&
                    offsetof(Tick, ring_stamp) % std::atomic_ref<std::uint64_t>::required_alignment == 0,
                "every slot's stamp is aligned for an atomic_ref");
  static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
};

template <typename T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "ring slots are copied with plain stores");
  static constexpr bool kStamped = RingStamp<T>::kEnabled;

 public:
  /// Allocates max(2, next power of two ≥ min_capacity) slots. Throws std::invalid_argument on 0 or
  /// absurd sizes, std::bad_alloc when memory is short. Cold path.
  explicit SpscRing(std::size_t min_capacity) : mask_(capacity_for(min_capacity) - 1) {
    slots_.reset(static_cast<T*>(::operator new[]((mask_ + 1) * sizeof(T), std::align_val_t{kFalseSharingRange})));
    // Touch every page now: the first lap of the hot path must not take page faults (measured: ~30 ns
    // per tick over a fresh 3 MiB ring, tickforge-capi-perf's burst).
    std::memset(static_cast<void*>(slots_.get()), 0, (mask_ + 1) * sizeof(T));
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }

  // ---- producer side ----------------------------------------------------------------------------

  /// Appends one item; false (and nothing written) when the ring is full. Budget: one slot store plus
  /// one release store; one acquire load of head_ only when the cached copy says full.
  [[nodiscard]] bool try_push(const T& v) noexcept {
    const std::uint64_t tail = prod_.tail.load(std::memory_order_relaxed);  // own index
    if (tail - prod_.cached_head > mask_) [[unlikely]] {
      // Pairs with the consumer's release store of head_: slots it freed are no longer being read.
      prod_.cached_head = cons_.head.load(std::memory_order_acquire);
      if (tail - prod_.cached_head > mask_) {
        return false;
      }
    }
    T& slot = slots_[tail & mask_];
    if constexpr (kStamped) {
      // The fields only: the stamp may be under a consumer's poll right now.
      RingStamp<T>::copy_fields(slot, v);
      // Publishes the slot to a consumer polling stamps: pairs with its acquire load of this stamp.
      stamp(slot).store(tail + 1, std::memory_order_release);
    } else {
      slot = v;
    }
    // Publishes the slot: pairs with the consumer's acquire load of tail_.
    prod_.tail.store(tail + 1, std::memory_order_release);
    return true;
  }

  /// Appends as many of v[0..n) as fit, in order, with one publishing store; returns how many.
  [[nodiscard]] std::size_t try_push_n(const T* v, std::size_t n) noexcept {
    const std::uint64_t tail = prod_.tail.load(std::memory_order_relaxed);
    std::uint64_t room = capacity() - (tail - prod_.cached_head);
    if (room < n) [[unlikely]] {
      prod_.cached_head = cons_.head.load(std::memory_order_acquire);  // partner: consumer's release of head_
      room = capacity() - (tail - prod_.cached_head);
    }
    const std::size_t k = n < room ? n : static_cast<std::size_t>(room);
    if (k == 0) {
      return 0;
    }
    if constexpr (kStamped) {
      // A consumer that has caught up polls the first slot's stamp, so that slot gets its fields only
      // and its stamp last. The later slots are block-copied whole, stamp bytes and all, then stamped
      // (relaxed): no consumer reads them before it has acquired the first stamp or the new tail_,
      // both released after these stores.
      T& head_slot = slots_[tail & mask_];
      RingStamp<T>::copy_fields(head_slot, v[0]);
      copy_in(tail + 1, v + 1, k - 1);
      for (std::uint64_t p = tail + 1; p != tail + k; ++p) {
        stamp(slots_[p & mask_]).store(p + 1, std::memory_order_relaxed);
      }
      // Publishes the whole run to a stamp-polling consumer: pairs with its acquire load of this stamp.
      stamp(head_slot).store(tail + 1, std::memory_order_release);
    } else {
      copy_in(tail, v, k);
    }
    prod_.tail.store(tail + k, std::memory_order_release);  // partner: consumer's acquire of tail_
    return k;
  }

  /// Blocking form: spins (pause) until the item fits. Use only when the consumer is known to run.
  void push(const T& v) noexcept {
    while (!try_push(v)) {
      cpu_relax();
    }
  }

  // ---- consumer side ----------------------------------------------------------------------------

  /// Zero-copy access to the oldest item, or nullptr when empty. Follow with pop().
  [[nodiscard]] const T* front() noexcept {
    const std::uint64_t head = cons_.head.load(std::memory_order_relaxed);  // own index
    if (head == cons_.cached_tail && !refresh_tail(head, /*count=*/false)) {
      return nullptr;
    }
    return &slots_[head & mask_];
  }

  /// Releases the item returned by front(). Precondition: front() returned non-null.
  void pop() noexcept {
    const std::uint64_t head = cons_.head.load(std::memory_order_relaxed);
    // Hands the slot back: pairs with the producer's acquire load of head_ when it finds the ring full.
    cons_.head.store(head + 1, std::memory_order_release);
  }

  /// Copies out the oldest item; false when empty.
  [[nodiscard]] bool try_pop(T& out) noexcept {
    const T* p = front();
    if (p == nullptr) {
      return false;
    }
    out = *p;
    pop();
    return true;
  }

  /// Calls f(const T&) on up to max items in place, oldest first, then frees them with one release
  /// store. Returns how many were consumed. f must not touch this ring.
  template <typename F>
  std::size_t consume(F&& f, std::size_t max) noexcept(noexcept(f(std::declval<const T&>()))) {
    return consume_runs(
        [&f](const T* p, std::size_t n) noexcept(noexcept(f(std::declval<const T&>()))) {
          for (std::size_t i = 0; i < n; ++i) {
            f(p[i]);
          }
        },
        max);
  }

  /// The same, a run at a time: f(const T* first, std::size_t n) on the up to two contiguous runs of the
  /// up to max oldest items (before and after the wrap), so that f sees items ahead of the one it works
  /// on (a consumer prefetching their data). Then frees them all with one release store.
  template <typename F>
  std::size_t consume_runs(F&& f, std::size_t max) noexcept(noexcept(f(std::declval<const T*>(), std::size_t{}))) {
    const std::uint64_t head = cons_.head.load(std::memory_order_relaxed);
    if (head == cons_.cached_tail && !refresh_tail(head, /*count=*/true)) {
      return 0;
    }
    const std::uint64_t avail = cons_.cached_tail - head;
    const std::size_t k = avail < max ? static_cast<std::size_t>(avail) : max;
    const std::size_t first = static_cast<std::size_t>(head & mask_);
    const std::size_t run = k < capacity() - first ? k : capacity() - first;
    f(&slots_[first], run);
    if (run < k) {
      f(&slots_[0], k - run);
    }
    cons_.head.store(head + k, std::memory_order_release);  // partner: producer's acquire of head_
    return k;
  }

  /// Largest occupancy the consumer has observed (exact at the moments it looked) in consume() and
  /// consume_runs(); a stamped ring's front()/try_pop() do not read the producer's index, so a consumer
  /// using only those leaves it at 0. Consumer thread, or any thread after the consumer has been joined.
  [[nodiscard]] std::uint64_t high_water_mark() const noexcept { return cons_.high_water; }

  // ---- observers (any thread) ---------------------------------------------------------------------

  /// Occupancy at some instant during the call; exact only when both sides are quiescent. (With stamps
  /// the consumer may take items of a push that has not stored its index yet: then it reads low.)
  [[nodiscard]] std::size_t size_approx() const noexcept {
    const std::uint64_t head = cons_.head.load(std::memory_order_acquire);
    const std::uint64_t tail = prod_.tail.load(std::memory_order_acquire);
    return tail >= head ? static_cast<std::size_t>(tail - head) : 0;
  }
  [[nodiscard]] bool empty_approx() const noexcept { return size_approx() == 0; }

  /// How many items the consumer has finished with since construction (any thread). consume() publishes
  /// a batch only after its function returned for every item, so an item counted here has been fully
  /// handled, and everything the consumer did while handling it happens-before this acquire load
  /// returns (partner: the consumer's release store of head_).
  [[nodiscard]] std::uint64_t consumed() const noexcept { return cons_.head.load(std::memory_order_acquire); }

  /// The capacity a ring built with min_capacity has: max(2, next power of two). Throws like the
  /// constructor on 0 or absurd sizes.
  static std::size_t capacity_for(std::size_t n) {
    if (n == 0 || n > (std::size_t{1} << 40)) {
      throw std::invalid_argument("SpscRing capacity must be in [1, 2^40]");
    }
    std::size_t c = 2;
    while (c < n) {
      c <<= 1;
    }
    return c;
  }

 private:
  // Cold: the cached tail says empty; whether the item at head is there. With stamps a failed poll
  // reads the slot's line, not the producer's; then, for a consumer that takes many (count), the
  // producer's index says how many more are ready.
  bool refresh_tail(std::uint64_t head, bool count) noexcept {
    if constexpr (kStamped) {
      if (!stamped(head)) {
        return false;
      }
      if (!count) {
        cons_.cached_tail = head + 1;  // one item known (high_water_mark is left to the counting path)
        return true;
      }
    }
    // Pairs with the producer's release store of tail_: the slots below it are fully written.
    const std::uint64_t tail = prod_.tail.load(std::memory_order_acquire);
    // With stamps the index may not count the stamped slot yet (a push stores it after its stamps), and
    // after stamps followed into a batch it may even read below head: that slot itself is ready.
    cons_.cached_tail = kStamped && tail <= head ? head + 1 : tail;
    const std::uint64_t used = cons_.cached_tail - head;
    if (used > cons_.high_water) {
      cons_.high_water = used;
    }
    return used != 0;
  }

  // The slot's stamp (RingStamp<T>::kMember), accessed only atomically while the slot is shared.
  static std::atomic_ref<std::uint64_t> stamp(T& slot) noexcept {
    return std::atomic_ref<std::uint64_t>(slot.*RingStamp<T>::kMember);
  }
  // Whether the item at position pos is written. Pairs with the producer's release store of that stamp:
  // the slot's fields (and, for the first slot of a batch, every slot of the batch) are visible.
  bool stamped(std::uint64_t pos) noexcept {
    return stamp(slots_[pos & mask_]).load(std::memory_order_acquire) == pos + 1;
  }

  // Copies v[0..n) into the slots from position pos on: at most two contiguous runs (before and after
  // the wrap), block copies, no per-slot masking.
  void copy_in(std::uint64_t pos, const T* v, std::size_t n) noexcept {
    const std::size_t first = static_cast<std::size_t>(pos & mask_);
    const std::size_t run = n < capacity() - first ? n : capacity() - first;
    std::memcpy(static_cast<void*>(&slots_[first]), v, run * sizeof(T));
    std::memcpy(static_cast<void*>(&slots_[0]), v + run, (n - run) * sizeof(T));
  }

  struct ArrayDelete {
    void operator()(T* p) const noexcept { ::operator delete[](p, std::align_val_t{kFalseSharingRange}); }
  };

  // Written by the producer thread only (tail) / read by the consumer.
  struct alignas(kFalseSharingRange) ProducerSide {
    std::atomic<std::uint64_t> tail{0};
    std::uint64_t cached_head = 0;  // producer's stale view of head_
  };
  // Written by the consumer thread only (head) / read by the producer.
  struct alignas(kFalseSharingRange) ConsumerSide {
    std::atomic<std::uint64_t> head{0};
    std::uint64_t cached_tail = 0;  // consumer's stale view of tail_
    std::uint64_t high_water = 0;
  };

  // Read-only after construction; on its own block so it never shares a line with a written index.
  alignas(kFalseSharingRange) const std::uint64_t mask_;
  std::unique_ptr<T[], ArrayDelete> slots_;
  ProducerSide prod_;
  ConsumerSide cons_;
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

}  // namespace tickforge
