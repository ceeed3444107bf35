// tickforge — xoshiro256** (Blackman and Vigna), seeded by splitmix64: the random numbers of the
// synthetic feed and the ITCH generator. A fixed algorithm, so the same seed gives the same stream on
// every platform and library version (unlike std:: distributions).
//
// Private header. Thread contract: one generator per thread.
#pragma once

#include <cstdint>

namespace tickforge {

class Xoshiro256ss {
 public:
  explicit Xoshiro256ss(std::uint64_t seed) noexcept {
    for (std::uint64_t& w : s_) {  // splitmix64
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      w = z ^ (z >> 31);
    }
  }
  std::uint64_t operator()() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform in [0, 1), 53 bits.
  double uniform() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace tickforge
