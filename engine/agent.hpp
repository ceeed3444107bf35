// tickforge — agents and the one runner every thread of a run uses (after Aeron's Agent and AgentRunner).
//
//   AgentRunner::start(agent) ─▶ thread: pin (CPU or not), name, then duty cycles until agent.done():
//        work = agent.do_work();  work != 0 ? idle.reset() : idle.idle();
//      then agent.on_close() on that thread, and the runner is finished.
//
// Engine shards, feed handlers and the output (sink) thread are agents. An agent owns its stop semantics
// (a shard drains its rings first, a feed ends at once); the runner only pins, idles, counts duty cycles
// (a watchdog's progress indicator) and joins. A feed's do_work() is one virtual call per duty cycle;
// the shard runner is instantiated on the concrete shard type, so its cycle is a direct call. The
// per-tick work inside a duty cycle never goes through a virtual call.
//
// Private header. Thread contract: start/join/request from one owning thread; duty_cycles(), finished()
// and pin_error() (after finished()) from any thread.
#pragma once

#include <sched.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>

#include <tickforge/config.hpp>
#include <tickforge/platform.hpp>
#include <tickforge/tick.hpp>  // kFalseSharingRange

namespace tickforge {

/// How a thread waits when a duty cycle found nothing to do (IdleKind: spin, spin-yield, backoff, sleep).
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

/// The interface of agents whose type the runner does not know (feeds, sinks).
class Agent {
 public:
  virtual ~Agent() = default;
  /// One duty cycle: do what is ready and return how much was done (0: nothing; the runner idles).
  virtual std::size_t do_work() noexcept = 0;
  /// Whether the agent has finished: the runner stops calling do_work() and ends the thread.
  [[nodiscard]] virtual bool done() const noexcept = 0;
  /// On the agent's thread, once, before its first duty cycle.
  virtual void on_start() noexcept {}
  /// On the agent's thread, once, after its last duty cycle.
  virtual void on_close() noexcept {}
};

/// Runs an agent on the calling thread until it is done (tests, tools): the runner's loop without a
/// thread, a CPU or an idle strategy.
template <typename A>
void run_inline(A& agent) noexcept {
  agent.on_start();
  while (!agent.done()) {
    agent.do_work();
  }
  agent.on_close();
}

struct AgentOptions {
  std::string name;                    ///< thread name (15 bytes kept): "tf-shard-0", "tf-feed-1"
  int cpu = -1;                        ///< pin to this CPU; -1: not pinned
  IdleKind idle = IdleKind::kBackoff;
};

class AgentRunner {
 public:
  AgentRunner() = default;
  ~AgentRunner() { join(); }
  AgentRunner(const AgentRunner&) = delete;
  AgentRunner& operator=(const AgentRunner&) = delete;

  /// Starts the thread. A is Agent or any type with the same four members (called directly then).
  /// Throws std::system_error when the thread cannot be created (nothing runs then).
  template <typename A>
  void start(A& agent, AgentOptions opt) {
    thread_ = std::thread([this, &agent, opt = std::move(opt)] { run(agent, opt); });
    started_.store(true, std::memory_order_release);
  }

  /// Waits for the thread to end (the agent decides when: see done()). Idempotent.
  void join() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  /// start() succeeded (any thread).
  [[nodiscard]] bool started() const noexcept { return started_.load(std::memory_order_acquire); }
  /// Started and not finished yet (any thread).
  [[nodiscard]] bool running() const noexcept { return started() && !finished(); }
  /// The agent's thread has run on_close() (acquire: everything it did is visible).
  [[nodiscard]] bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
  /// Duty cycles so far (relaxed: a progress indicator; a live agent whose count stops is stuck).
  [[nodiscard]] std::uint64_t duty_cycles() const noexcept { return cycles_.load(std::memory_order_relaxed); }
  /// Whether the thread asked to be pinned and could not be (it runs unpinned). Any thread; once true,
  /// pin_error() says why (acquire: the message was written before).
  [[nodiscard]] bool pin_failed() const noexcept { return pin_failed_.load(std::memory_order_acquire); }
  [[nodiscard]] std::string pin_error() const { return pin_failed() ? pin_error_ : std::string(); }

 private:
  template <typename A>
  void run(A& agent, const AgentOptions& opt) noexcept {
    if (opt.cpu >= 0 && !pin_current_thread(opt.cpu, &pin_error_)) {
      pin_failed_.store(true, std::memory_order_release);  // partner: pin_failed()'s acquire load
    }
    name_current_thread(opt.name.c_str());
    agent.on_start();
    IdleStrategy idle(opt.idle);
    for (std::uint64_t n = 1; !agent.done(); ++n) {
      cycles_.store(n, std::memory_order_relaxed);  // single writer: a plain store
      if (agent.do_work() != 0) {
        idle.reset();
      } else {
        idle.idle();
      }
    }
    agent.on_close();
    finished_.store(true, std::memory_order_release);  // partner: finished()'s acquire load
  }

  std::thread thread_;
  // Written by the agent's thread every duty cycle: on its own block, so that neighbouring runners (and
  // the flags below, which other threads poll) never share its line.
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> cycles_{0};
  alignas(kFalseSharingRange) std::atomic<bool> started_{false};
  std::atomic<bool> finished_{false};
  std::atomic<bool> pin_failed_{false};
  std::string pin_error_;  // written by the thread before pin_failed_ is set, never after
};

}  // namespace tickforge
