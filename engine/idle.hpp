// tickforge — idle strategies for agent threads (after Aeron's IdleStrategy).
//
// Private header. idle() is called after a duty cycle that did no work, reset() after one that did.
#pragma once

#include <sched.h>
#include <time.h>

#include <cstdint>

#include <tickforge/config.hpp>
#include <tickforge/spsc_ring.hpp>

namespace tickforge {

class IdleStrategy {
 public:
  static constexpr std::uint32_t kSpins = 2000;
  static constexpr std::uint32_t kYields = 200;

  explicit IdleStrategy(IdleKind kind) noexcept : kind_(kind) {}

  void reset() noexcept { idle_count_ = 0; }

  void idle() noexcept {
    switch (kind_) {
      case IdleKind::kBusySpin:
        cpu_relax();
        return;
      case IdleKind::kSpinYield:
        if (idle_count_ < kSpins) {
          ++idle_count_;
          cpu_relax();
        } else {
          sched_yield();
        }
        return;
      case IdleKind::kBackoff:
        if (idle_count_ < kSpins) {
          ++idle_count_;
          cpu_relax();
        } else if (idle_count_ < kSpins + kYields) {
          ++idle_count_;
          sched_yield();
        } else {
          sleep_ns(50'000);
        }
        return;
      case IdleKind::kSleep:
        sleep_ns(1'000'000);
        return;
    }
  }

 private:
  static void sleep_ns(long ns) noexcept {
    timespec ts{0, ns};
    nanosleep(&ts, nullptr);
  }

  IdleKind kind_;
  std::uint32_t idle_count_ = 0;
};

}  // namespace tickforge
