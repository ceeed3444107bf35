// tickforge — single-writer counters: one thread adds, any thread reads.
//
// A relaxed load and a relaxed store, not an atomic read-modify-write (a plain add on x86, no lock
// prefix): correct because only one thread ever writes the counter. Relaxed, because a counter orders
// nothing; a reader sees some recent value, the exact one once the writer has been joined.
#pragma once

#include <atomic>
#include <cstdint>

namespace tickforge {

inline void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

inline void unbump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
  c.store(c.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
}

}  // namespace tickforge
