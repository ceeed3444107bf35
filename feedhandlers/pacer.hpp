// tickforge — open-loop pacing for feed threads: tick i is due at start + i × interval.
//
// Private header. A late feed does not slow down to hide it: due times stay on the schedule, so a stall
// shows up as a burst (and in latency), not as a lower offered rate.
#pragma once

#include <time.h>

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

}  // namespace tickforge
