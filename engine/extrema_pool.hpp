// tickforge — the shared, preallocated storage of the window high/low deques (a buddy allocator).
//
// Private header. A shard's tickers share one arena of (time, price) entries sized at start-up; a deque
// takes a block of 2^k entries and doubles it when it fills (ShardCore: in place when the buddy is free,
// and back to a smaller block while the pool is short), so memory follows the candidates a ticker has
// instead of reserving the largest deque for every ticker (issue 15: 4 KiB per ticker before).
//
// Blocks are buddies (Knuth, TAOCP vol. 1, 2.5): block sizes are unit << k for k = 0 .. top, a block of
// class k starts at a multiple of its size, its buddy is at offset ^ size, and a freed block merges with a
// free buddy. The free lists are doubly linked through side arrays (a free block's entries are left
// alone, so a deque can allocate its new block before it frees the old one and copies between them).
// alloc() and release() are O(top) ≤ 16 steps, no system call, no allocation: the cold path of a tick
// whose deque changes size. Nothing here is thread-safe: one shard thread owns a pool.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>

namespace tickforge {

struct Extreme {
  std::int64_t t;  ///< event time, ns
  double p;        ///< price
};
static_assert(sizeof(Extreme) == 16, "four entries per cache line");

class ExtremaPool {
 public:
  static constexpr std::uint32_t kNone = 0xFFFF'FFFFu;  ///< no block
  static constexpr std::uint32_t kMaxClasses = 16;

  /// An arena of at least `entries` entries (rounded up to whole largest blocks) in blocks of `unit` ..
  /// `largest` entries (powers of two, unit ≤ largest). Every entry is written once here, so the
  /// arena's pages are resident before any tick. Throws std::bad_alloc when memory is short.
  ExtremaPool(std::uint64_t entries, std::uint32_t unit, std::uint32_t largest)
      : unit_(unit),
        shift_(static_cast<std::uint32_t>(std::countr_zero(unit))),
        top_(static_cast<std::uint32_t>(std::countr_zero(largest) - std::countr_zero(unit))),
        blocks_(static_cast<std::uint32_t>((entries + largest - 1) / largest)),
        units_(blocks_ * (largest / unit)),
        slots_(new Extreme[std::size_t{units_} * unit]()),
        next_(new std::uint32_t[units_]),
        prev_(new std::uint32_t[units_]),
        free_class_(new std::uint8_t[units_]()) {
    for (auto& h : heads_) {
      h = kNone;
    }
    // Every largest block free, the lowest addresses first (deques start close together).
    for (std::uint32_t b = blocks_; b-- > 0;) {
      push(b * (largest / unit), top_);
    }
    free_units_ = units_;
  }
  ExtremaPool(const ExtremaPool&) = delete;
  ExtremaPool& operator=(const ExtremaPool&) = delete;

  /// The class whose blocks hold at least n entries (n ≤ the largest block).
  [[nodiscard]] std::uint32_t class_for(std::uint32_t n) const noexcept {
    return n <= unit_ ? 0 : static_cast<std::uint32_t>(std::bit_width(n - 1)) - shift_;
  }
  [[nodiscard]] std::uint32_t entries_of(std::uint32_t cls) const noexcept { return unit_ << cls; }
  [[nodiscard]] std::uint32_t top_class() const noexcept { return top_; }
  [[nodiscard]] std::uint64_t capacity() const noexcept { return std::uint64_t{units_} * unit_; }
  [[nodiscard]] std::uint64_t free_entries() const noexcept { return std::uint64_t{free_units_} * unit_; }

  /// A block of class cls: its first entry's offset, or kNone when no free block is large enough.
  [[nodiscard]] std::uint32_t alloc(std::uint32_t cls) noexcept {
    std::uint32_t k = cls;
    while (k <= top_ && heads_[k] == kNone) {
      ++k;
    }
    if (k > top_) {
      return kNone;
    }
    const std::uint32_t u = heads_[k];
    unlink(u, k);
    while (k > cls) {  // split: the upper halves go to the lower lists
      --k;
      push(u + (1u << k), k);
    }
    free_units_ -= 1u << cls;
    return u << shift_;
  }

  /// Doubles the block at `offset` of class cls in place when it is the lower half of its buddy pair and
  /// the upper half is free (the block then has class cls + 1); false otherwise.
  [[nodiscard]] bool extend(std::uint32_t offset, std::uint32_t cls) noexcept {
    const std::uint32_t u = offset >> shift_;
    const std::uint32_t buddy = u ^ (1u << cls);
    if (cls >= top_ || buddy < u || free_class_[buddy] != cls + 1) {
      return false;
    }
    unlink(buddy, cls);
    free_units_ -= 1u << cls;
    return true;
  }

  /// Gives back the block at `offset` of class cls (from alloc(cls)), merging it with free buddies.
  void release(std::uint32_t offset, std::uint32_t cls) noexcept {
    std::uint32_t u = offset >> shift_;
    free_units_ += 1u << cls;
    std::uint32_t k = cls;
    while (k < top_) {
      const std::uint32_t buddy = u ^ (1u << k);
      if (free_class_[buddy] != k + 1) {
        break;
      }
      unlink(buddy, k);
      u &= ~(1u << k);
      ++k;
    }
    push(u, k);
  }

  [[nodiscard]] Extreme* at(std::uint32_t offset) noexcept { return &slots_[offset]; }
  [[nodiscard]] const Extreme* at(std::uint32_t offset) const noexcept { return &slots_[offset]; }

 private:
  // Units are blocks of class 0; free_class_[u] = k + 1 when a free block of class k starts at unit u.
  void push(std::uint32_t u, std::uint32_t k) noexcept {
    next_[u] = heads_[k];
    prev_[u] = kNone;
    if (heads_[k] != kNone) {
      prev_[heads_[k]] = u;
    }
    heads_[k] = u;
    free_class_[u] = static_cast<std::uint8_t>(k + 1);
  }
  void unlink(std::uint32_t u, std::uint32_t k) noexcept {
    if (prev_[u] != kNone) {
      next_[prev_[u]] = next_[u];
    } else {
      heads_[k] = next_[u];
    }
    if (next_[u] != kNone) {
      prev_[next_[u]] = prev_[u];
    }
    free_class_[u] = 0;
  }

  const std::uint32_t unit_;
  const std::uint32_t shift_;
  const std::uint32_t top_;
  const std::uint32_t blocks_;
  const std::uint32_t units_;
  std::unique_ptr<Extreme[]> slots_;
  std::unique_ptr<std::uint32_t[]> next_;
  std::unique_ptr<std::uint32_t[]> prev_;
  std::unique_ptr<std::uint8_t[]> free_class_;
  std::uint32_t heads_[kMaxClasses + 1];
  std::uint32_t free_units_ = 0;
};

}  // namespace tickforge
