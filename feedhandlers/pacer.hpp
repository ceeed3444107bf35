// tickforge — open-loop pacing for feed threads: tick i is due at start + i × interval.
//
// Private header. A late feed does not slow down to hide it: due times stay on the schedule, so a stall
// shows up as a burst (and in latency), not as a lower offered rate.
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>
#include <tickforge/engine.hpp>
#include <tickforge/spsc_ring.hpp>

namespace tickforge {

/// Waits until due_ns on the steady clock: sleeps while more than 100 µs remain, then spins.
inline void wait_until(std::int64_t due_ns) noexcept {
  for (;;) {
    const std::int64_t left = due_ns - FeedPort::now_ns();
    if (left <= 0) {
      return;
    }
    if (left > 100'000) {
      timespec ts{0, static_cast<long>(left - 50'000 < 999'999'999 ? left - 50'000 : 999'999'999)};
      nanosleep(&ts, nullptr);
    } else {
      cpu_relax();
    }
  }
}

/// The loop every feed runs: for i in [0, n), stop early once `stop` is set, wait until due(i) when
/// due(i) ≥ 0 (open loop: the schedule never slips), then publish make(i). No allocation.
template <typename Due, typename Make>
void publish_paced(FeedPort& port, const std::atomic<bool>& stop, std::uint64_t n, Due&& due, Make&& make) noexcept {
  for (std::uint64_t i = 0; i < n; ++i) {
    // Relaxed is enough: the flag carries no data, and seeing it within 64 ticks is soon enough.
    if ((i & 63) == 0 && stop.load(std::memory_order_relaxed)) {
      return;
    }
    if (const std::int64_t due_ns = due(i); due_ns >= 0) {
      wait_until(due_ns);
      port.publish_at(make(i), due_ns);  // latency from the scheduled time: a stall is not hidden
    } else {
      port.publish(make(i));
    }
  }
}

}  // namespace tickforge
