// tickforge CLI — SIGINT/SIGTERM and the bounded shutdown.
//
// The handlers only set flags and post a semaphore (async-signal-safe); the commands' loops poll the
// flags. A second signal ends the process at once (exit 128 + signal). The ShutdownWatchdog bounds the
// rest: once a stop is requested, the run must make progress (ticks drained, records written) at least
// once per timeout until it has stopped, or the watchdog thread reports what is stuck and exits the
// process with status 3 — also when the main thread itself is stuck (a write to a pipe nobody reads).
#pragma once

#include <semaphore.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace tickforge::cli {

/// Installs the handlers (idempotent).
void install_signal_handlers();
/// Whether SIGINT or SIGTERM arrived, and which (0 when none).
[[nodiscard]] bool signalled() noexcept;
[[nodiscard]] int signal_number() noexcept;

/// Exit status when a shutdown did not finish within its bound.
inline constexpr int kExitShutdownTimedOut = 3;

/// Writes text to fd, each piece only once poll() says it can be taken (gives up after 1 s of a full
/// pipe): for the last words of a process that must exit whatever its stderr is connected to.
void write_bounded(int fd, const std::string& text) noexcept;

class ShutdownWatchdog {
 public:
  /// `armed` runs on the watchdog thread when the stop begins (to sample progress); `report` runs there
  /// if the stop makes no progress for timeout_ns, and what it returns is written to stderr
  /// (write_bounded) just before std::_Exit(kExitShutdownTimedOut). `progress` (any thread, never
  /// blocking) counts work done (ticks processed, records written): a stop whose count still moves at
  /// the end of a bound gets another, so a slow but draining stop is not cut off and a stuck one is.
  ShutdownWatchdog(std::int64_t timeout_ns, std::function<void()> armed, std::function<std::string()> report,
                   std::function<std::uint64_t()> progress = {});
  ~ShutdownWatchdog();  // disarms and joins
  ShutdownWatchdog(const ShutdownWatchdog&) = delete;
  ShutdownWatchdog& operator=(const ShutdownWatchdog&) = delete;

  /// The stop begins (the main loop ended, or a signal arrived: the handler calls this through the
  /// process-wide watchdog). Async-signal-safe and idempotent.
  void arm() noexcept;
  /// The stop finished in time.
  void disarm() noexcept;
  /// A longer bound once the run knows it needs one (a Kafka flush of its own flush-timeout).
  void set_timeout(std::int64_t timeout_ns) noexcept { timeout_ns_.store(timeout_ns, std::memory_order_relaxed); }

 private:
  void run() noexcept;

  std::atomic<std::int64_t> timeout_ns_;
  std::function<void()> armed_fn_;
  std::function<std::string()> report_fn_;
  std::function<std::uint64_t()> progress_fn_;
  sem_t armed_{};
  sem_t finished_{};
  std::thread thread_;
};

}  // namespace tickforge::cli
