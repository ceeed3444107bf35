#include "signals.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include <tickforge/config.hpp>

namespace tickforge::cli {

namespace {

std::atomic<bool> g_signal{false};
std::atomic<int> g_signal_number{0};
std::atomic<ShutdownWatchdog*> g_watchdog{nullptr};

extern "C" void on_signal(int sig) {
  // Async-signal-safe only: lock-free atomics, sem_post (inside arm()), write(2) and _Exit.
  if (g_signal.exchange(true, std::memory_order_relaxed)) {
    static const char kMsg[] = "\ntickforge: second signal: exiting now, without draining\n";
    (void)!write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    std::_Exit(128 + sig);  // async-signal-safe, and no atexit work (sanitizers report nothing)
  }
  g_signal_number.store(sig, std::memory_order_relaxed);
  static const char kStopping[] = "\ntickforge: stopping: draining and flushing (a second signal exits at once)\n";
  (void)!write(STDERR_FILENO, kStopping, sizeof(kStopping) - 1);
  // Acquire: the watchdog's constructor finished before it was published (release below).
  if (ShutdownWatchdog* w = g_watchdog.load(std::memory_order_acquire); w != nullptr) {
    w->arm();  // the bound starts now, even if the main thread is stuck and never sees the flag
  }
}

}  // namespace

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool signalled() noexcept { return g_signal.load(std::memory_order_relaxed); }
int signal_number() noexcept { return g_signal_number.load(std::memory_order_relaxed); }

ShutdownWatchdog::ShutdownWatchdog(std::int64_t timeout_ns, std::function<void()> armed, std::function<void()> report)
    : timeout_ns_(timeout_ns), armed_fn_(std::move(armed)), report_fn_(std::move(report)) {
  sem_init(&armed_, 0, 0);
  sem_init(&finished_, 0, 0);
  thread_ = std::thread([this] { run(); });
  // Partner: the handler's acquire load; a signal that came before this line is seen by signalled().
  g_watchdog.store(this, std::memory_order_release);
  if (signalled()) {
    arm();
  }
}

ShutdownWatchdog::~ShutdownWatchdog() {
  g_watchdog.store(nullptr, std::memory_order_release);
  disarm();
  arm();  // wakes the thread if no stop ever began; it then sees `finished_` posted and returns
  thread_.join();
  sem_destroy(&armed_);
  sem_destroy(&finished_);
}

// Extra posts are harmless: the thread waits on each semaphore once.
void ShutdownWatchdog::arm() noexcept { sem_post(&armed_); }
void ShutdownWatchdog::disarm() noexcept { sem_post(&finished_); }

void ShutdownWatchdog::run() noexcept {
  while (sem_wait(&armed_) != 0) {  // EINTR
  }
  if (sem_trywait(&finished_) == 0) {
    return;  // finished (or destroyed) before any stop began
  }
  armed_fn_();
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  const std::int64_t end =
      deadline.tv_sec * kNsPerSecond + deadline.tv_nsec + timeout_ns_.load(std::memory_order_relaxed);
  deadline.tv_sec = end / kNsPerSecond;
  deadline.tv_nsec = end % kNsPerSecond;
  for (;;) {
    if (sem_clockwait(&finished_, CLOCK_MONOTONIC, &deadline) == 0) {
      return;
    }
    if (errno != EINTR) {
      break;  // ETIMEDOUT
    }
  }
  report_fn_();
  std::fflush(stderr);
  std::_Exit(kExitShutdownTimedOut);
}

}  // namespace tickforge::cli
