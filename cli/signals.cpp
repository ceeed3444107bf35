#include "signals.hpp"

#include <limits.h>
#include <poll.h>
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
  // Async-signal-safe only: lock-free atomics, sem_post (inside arm()), write(2) and _Exit. Nothing that
  // can block comes before what ends or bounds the run: stderr may be a pipe nobody reads.
  if (g_signal.exchange(true, std::memory_order_relaxed)) {
    std::_Exit(128 + sig);  // the second signal: at once, no atexit work (sanitizers report nothing)
  }
  g_signal_number.store(sig, std::memory_order_relaxed);
  // Acquire: the watchdog's constructor finished before it was published (release below).
  if (ShutdownWatchdog* w = g_watchdog.load(std::memory_order_acquire); w != nullptr) {
    w->arm();  // the bound starts now, even if the main thread is stuck and never sees the flag
  }
  static const char kStopping[] =
      "\ntickforge: stopping: draining and flushing (a second signal exits at once, status 128 + signal)\n";
  (void)!write(STDERR_FILENO, kStopping, sizeof(kStopping) - 1);
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

ShutdownWatchdog::ShutdownWatchdog(std::int64_t timeout_ns, std::function<void()> armed,
                                   std::function<std::string()> report, std::function<std::uint64_t()> progress)
    : timeout_ns_(timeout_ns),
      armed_fn_(std::move(armed)),
      report_fn_(std::move(report)),
      progress_fn_(std::move(progress)) {
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
  auto now = [] {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * kNsPerSecond + ts.tv_nsec;
  };
  std::int64_t armed_at = now();
  std::uint64_t progress = progress_fn_ ? progress_fn_() : 0;
  // The bound may grow after arming (the run learns it needs Kafka's flush time): re-read it every 100 ms.
  for (std::int64_t t = armed_at;; t = now()) {
    if (t - armed_at >= timeout_ns_.load(std::memory_order_relaxed)) {
      const std::uint64_t p = progress_fn_ ? progress_fn_() : progress;
      if (p == progress) {
        break;  // nothing moved for a whole bound: stuck
      }
      progress = p;  // still draining: another bound
      armed_at = t;
    }
    const std::int64_t end = t + 100'000'000;
    const timespec deadline{static_cast<time_t>(end / kNsPerSecond), static_cast<long>(end % kNsPerSecond)};
    if (sem_clockwait(&finished_, CLOCK_MONOTONIC, &deadline) == 0) {
      return;
    }
  }
  write_bounded(STDERR_FILENO, report_fn_());
  std::_Exit(kExitShutdownTimedOut);
}

void write_bounded(int fd, const std::string& text) noexcept {
  // poll() first: a pipe nobody reads must not keep the process from exiting.
  std::size_t off = 0;
  while (off < text.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 1000) != 1 || (p.revents & POLLOUT) == 0) {
      return;
    }
    const std::size_t chunk = text.size() - off < PIPE_BUF ? text.size() - off : PIPE_BUF;  // fits when writable
    const ssize_t w = ::write(fd, text.data() + off, chunk);
    if (w <= 0) {
      return;
    }
    off += static_cast<std::size_t>(w);
  }
}

}  // namespace tickforge::cli
