// tickforge — the platform under every thread: the spin hint, CPU affinity and thread names.
//
// Thread contract: every function may be called from any thread. cpu_relax() is a single instruction;
// the others are cold (a system call each) and never allocate except to fill an error message.
#pragma once

#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace tickforge {

/// One pause instruction: tells the core we are spinning (saves power, frees the sibling hyperthread).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

/// Whether cpu is an online CPU this process may run on (its affinity at start-up, whatever mask the
/// calling thread has since pinned itself to).
bool cpu_usable(int cpu) noexcept;

/// Pins the calling thread to one CPU. Returns false with a message if the CPU does not exist or is not
/// in this process's allowed set.
bool pin_current_thread(int cpu, std::string* error) noexcept;

/// Names the calling thread for top, perf and gdb (at most 15 bytes are kept: "tf-shard-0").
void name_current_thread(const char* name) noexcept;

}  // namespace tickforge
