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

/// Waits until due_ns on the steady clock: sleeps while more than 100 µs remain (at most 10 ms at a
/// time, then asks stopped()), then spins. Returns false as soon as stopped() says so: a feed paced a
/// day ahead (a daily history at --speed 1) still ends within 10 ms of a stop request.
template <typename Stopped>
bool wait_until(std::int64_t due_ns, Stopped&& stopped) noexcept {
  for (;;) {
    const std::int64_t left = due_ns - FeedPort::now_ns();
    if (left <= 0) {
      return true;
    }
    if (left > 100'000) {
      if (stopped()) {
        return false;
      }
      const std::int64_t nap = left - 50'000 < 10'000'000 ? left - 50'000 : 10'000'000;
      timespec ts{0, static_cast<long>(nap)};
      nanosleep(&ts, nullptr);
    } else {
      cpu_relax();
    }
  }
}

/// wait_until() that nothing interrupts (benchmarks, whose waits are microseconds).
inline void wait_until(std::int64_t due_ns) noexcept {
  (void)wait_until(due_ns, [] { return false; });
}

/// now + ns on the steady clock for a schedule offset that may be absurd (a 400-year history paced at
/// speed 1): clamped to about 100 years ahead, so the sum never overflows and the feed simply waits
/// (interruptibly) instead.
inline std::int64_t schedule_at(std::int64_t origin_ns, double offset_ns) noexcept {
  constexpr double kFar = 3.0e18;
  return origin_ns + static_cast<std::int64_t>(offset_ns < kFar ? offset_ns : kFar);
}

/// The loop every feed runs: for i in [0, n), stop early once `stop` is set, wait until due(i) when
/// due(i) ≥ 0 (open loop: the schedule never slips), then publish make(i). No allocation.
template <typename Due, typename Make>
void publish_paced(FeedPort& port, const std::atomic<bool>& stop, std::uint64_t n, Due&& due, Make&& make) noexcept {
  // Relaxed is enough: the flag carries no data, and seeing it within 64 ticks is soon enough.
  auto stopped = [&stop] { return stop.load(std::memory_order_relaxed); };
  for (std::uint64_t i = 0; i < n; ++i) {
    if ((i & 63) == 0 && stopped()) {
      return;
    }
    if (const std::int64_t due_ns = due(i); due_ns >= 0) {
      if (!wait_until(due_ns, stopped)) {
        return;
      }
      port.publish_at(make(i), due_ns);  // latency from the scheduled time: a stall is not hidden
    } else {
      port.publish(make(i));
    }
  }
}

}  // namespace tickforge
