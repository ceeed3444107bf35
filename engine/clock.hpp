// tickforge — the latency clock: the CPU's invariant time-stamp counter scaled to nanoseconds.
//
// Private header. clock_gettime(CLOCK_MONOTONIC) costs ~40 ns on the VMs we run on and two are read per
// tick (ingest, end of processing); rdtsc costs a few. calibrate_clock() (cold: ~10 ms, once per process,
// thread-safe) measures the TSC rate against CLOCK_MONOTONIC when /proc/cpuinfo reports constant_tsc and
// nonstop_tsc; otherwise, or off x86-64, now_ns() falls back to CLOCK_MONOTONIC. Readings are steady-clock
// nanoseconds either way, comparable across threads and cores.
//
// Thread contract: call calibrate_clock() before starting threads that read now_ns() (Engine's
// constructor does); afterwards now_ns() is wait-free and never allocates or enters the kernel.
#pragma once

#include <time.h>

#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace tickforge {

struct ClockCalibration {
  bool use_tsc = false;
  std::uint64_t tsc0 = 0;
  std::int64_t ns0 = 0;
  double ns_per_tick = 0;
};

extern ClockCalibration g_clock;  // written once by calibrate_clock(), read-only afterwards

void calibrate_clock() noexcept;

inline std::int64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// Steady-clock nanoseconds. Budget: ~10 ns with the TSC.
inline std::int64_t now_ns() noexcept {
#if defined(__x86_64__)
  if (g_clock.use_tsc) [[likely]] {
    const std::uint64_t d = __rdtsc() - g_clock.tsc0;
    return g_clock.ns0 + static_cast<std::int64_t>(static_cast<double>(d) * g_clock.ns_per_tick);
  }
#endif
  return monotonic_ns();
}

}  // namespace tickforge
