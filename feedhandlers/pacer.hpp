// tickforge — open-loop pacing for feed threads: tick i is due at start + offset(i).
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

/// One tick of an open-loop schedule: when due_ns ≥ 0, waits until then (interruptibly) and publishes
/// with the scheduled time as the latency origin, so a stall anywhere is not hidden by a late send stamp
/// (coordinated omission); due_ns < 0 publishes at once. False when `stopped()` ended the wait (the tick
/// was not published). No allocation.
template <typename Stopped>
bool publish_due(FeedPort& port, const Tick& t, std::int64_t due_ns, Stopped&& stopped) noexcept {
  if (due_ns < 0) {
    port.publish(t);
    return true;
  }
  if (!wait_until(due_ns, stopped)) {
    return false;
  }
  port.publish_at(t, due_ns);
  return true;
}

/// Ticks a feed publishes per duty cycle at most: the stop flag is looked at between duty cycles.
inline constexpr std::uint64_t kTicksPerDutyCycle = 64;

}  // namespace tickforge
