// tickforge — which of the records handed to librdkafka are finished (delivered or finally failed).
//
// Private header. Records get consecutive numbers in the order they were produced; delivery reports
// arrive in any order (different partitions, retries). The tracker keeps a window of "finished" flags
// and a low-water mark: every record numbered below it is finished. That mark is what a Kafka feed waits
// for before it commits the offsets of the ticks that produced those records (at-least-once).
//
// Thread contract: next()/finish()/has_room() on the owning thread (the one serving delivery reports);
// low_water() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace tickforge::kafka {

class DeliveryTracker {
 public:
  /// window: the most records that may be unfinished at once (power of two).
  explicit DeliveryTracker(std::uint32_t window = 1u << 17) : done_(window, 0), mask_(window - 1) {}

  /// Room for one more unfinished record?
  [[nodiscard]] bool has_room() const noexcept { return next_ - low_ < done_.size(); }
  /// Number for the next record produced.
  std::uint64_t next() noexcept { return next_++; }
  /// Record n is finished. Advances the low-water mark over every finished record.
  void finish(std::uint64_t n) noexcept {
    done_[n & mask_] = 1;
    std::uint64_t low = low_;
    while (low < next_ && done_[low & mask_] != 0) {
      done_[low & mask_] = 0;
      ++low;
    }
    if (low != low_) {
      low_ = low;
      // Release: pairs with the acquire in low_water(); a feed that sees the mark also sees whatever
      // this thread did before (the delivery report it counted).
      low_shared_.store(low, std::memory_order_release);
    }
  }
  /// Every record numbered below this is finished (any thread).
  [[nodiscard]] std::uint64_t low_water() const noexcept { return low_shared_.load(std::memory_order_acquire); }
  [[nodiscard]] std::uint64_t unfinished() const noexcept { return next_ - low_; }
  /// Records numbered so far (owning thread).
  [[nodiscard]] std::uint64_t numbered() const noexcept { return next_; }

 private:
  std::vector<std::uint8_t> done_;
  std::uint64_t mask_;
  std::uint64_t next_ = 0;
  std::uint64_t low_ = 0;
  std::atomic<std::uint64_t> low_shared_{0};
};

}  // namespace tickforge::kafka
