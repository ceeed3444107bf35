#include "clock.hpp"

#include <fstream>
#include <mutex>
#include <string>

namespace tickforge {

ClockCalibration g_clock;

namespace {
bool cpu_has_invariant_tsc() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      return line.find(" constant_tsc") != std::string::npos && line.find(" nonstop_tsc") != std::string::npos;
    }
  }
  return false;
}
}  // namespace

void calibrate_clock() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
#if defined(__x86_64__)
    try {
      if (!cpu_has_invariant_tsc()) {
        return;
      }
    } catch (...) {
      return;
    }
    const std::uint64_t t0 = __rdtsc();
    const std::int64_t n0 = monotonic_ns();
    std::int64_t n1 = n0;
    while (n1 - n0 < 10'000'000) {  // 10 ms: rate known to ~1e-5, i.e. 10 µs/s drift at most
      n1 = monotonic_ns();
    }
    const std::uint64_t t1 = __rdtsc();
    if (t1 <= t0) {
      return;
    }
    ClockCalibration c;
    c.ns_per_tick = static_cast<double>(n1 - n0) / static_cast<double>(t1 - t0);
    c.tsc0 = t1;
    c.ns0 = n1;
    c.use_tsc = true;
    g_clock = c;
#endif
  });
}

}  // namespace tickforge
