#include <tickforge/platform.hpp>

#include <pthread.h>
#include <sched.h>

#include <cstring>

namespace tickforge {

namespace {

// The CPUs this process may use, read once before main() runs. A thread's own mask is the wrong
// reference: once a thread has pinned itself to CPU 1, its children inherit {1} and would see CPU 0
// as "not allowed" although the process may use it (found by bench_ring).
struct ProcessCpus {
  cpu_set_t set{};
  bool ok = false;
  ProcessCpus() noexcept {
    CPU_ZERO(&set);
    ok = sched_getaffinity(0, sizeof(set), &set) == 0;
  }
};
const ProcessCpus g_process_cpus;

}  // namespace

bool cpu_usable(int cpu) noexcept {
  if (cpu < 0 || cpu >= CPU_SETSIZE || !g_process_cpus.ok) {
    return false;
  }
  return CPU_ISSET(cpu, &g_process_cpus.set) != 0;
}

bool pin_current_thread(int cpu, std::string* error) noexcept {
  if (!cpu_usable(cpu)) {
    if (error != nullptr) {
      *error = "CPU " + std::to_string(cpu) + " does not exist or is not allowed for this process";
    }
    return false;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  // The kernel checks the CPU against the process's cpuset, not against this thread's current mask.
  const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  if (rc != 0 && error != nullptr) {
    *error = "pthread_setaffinity_np(" + std::to_string(cpu) + ") failed: error " + std::to_string(rc);
  }
  return rc == 0;
}

void name_current_thread(const char* name) noexcept {
  char buf[16];
  std::strncpy(buf, name, sizeof buf - 1);
  buf[sizeof buf - 1] = '\0';
  pthread_setname_np(pthread_self(), buf);
}

}  // namespace tickforge
