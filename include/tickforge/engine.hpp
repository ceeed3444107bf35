// tickforge — the engine: feed ports → SPSC rings → shard threads → callbacks.
//
//   feed thread k ──FeedPort k──┬─ ring(k,0) ─▶ shard 0 thread ─▶ calculators ─▶ rules ─▶ callbacks
//                               └─ ring(k,1) ─▶ shard 1 thread ─▶ …
//
// Each (feed, shard) pair has its own SPSC ring, so every ring has exactly one producer and one
// consumer and no tick ever takes a lock. Tickers are partitioned by symbol id % shards, so one ticker's
// ticks from one feed are processed in order by one thread (deterministic metrics and alerts).
//
// Lifecycle (main thread): construct → add_feed()/callbacks/set_ticker_rules → start() → producers
// publish and finally close() their ports → stop() (drains the rings, joins the shards) → stats().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include <tickforge/config.hpp>
#include <tickforge/records.hpp>
#include <tickforge/spsc_ring.hpp>
#include <tickforge/symbol_table.hpp>
#include <tickforge/tick.hpp>

namespace tickforge {

class ShardCore;
class Engine;

/// Most feed ports (producers) one engine accepts.
inline constexpr std::uint32_t kMaxFeedPorts = 64;

/// A producer's handle: owns one ring per shard. Thread contract: exactly one thread publishes on a
/// port (each feed thread gets its own). No allocation; publish() never throws.
class FeedPort {
 public:
  enum class Push : std::uint8_t { kOk, kDroppedFull, kFull, kRejectedTime };

  /// Stamps feed index and ingest time, then routes the tick to its shard's ring. On a full ring:
  /// FullPolicy::kBlock waits (pause-spin) until the shard frees a slot; kDropNewest drops it and counts.
  /// An event time outside [kMinEventNs, kMaxEventNs] is refused (kRejectedTime) and counted: feeds
  /// check it themselves to report where the tick came from; this is the last line that no producer
  /// passes. Budget: one clock read (vDSO) + one range compare + one ring push.
  Push publish(Tick t) noexcept { return publish_at(t, now_ns()); }

  /// publish() with a given latency origin: an open-loop feed passes the tick's *scheduled* send time,
  /// so a stall anywhere (feed, ring, engine) shows in the latency of every tick it delayed instead
  /// of being hidden by a late send stamp (coordinated omission).
  Push publish_at(Tick t, std::int64_t origin_ns) noexcept {
    if (!event_time_in_range(t.event_ns)) [[unlikely]] {
      return reject_time();
    }
    t.feed = index_;
    t.ingest_ns = origin_ns;
    SpscRing<Tick>& ring = *rings_[shard_of(t.symbol)];
    bump(published_);  // before the ring write: a tick a shard has processed is always counted
    if (ring.try_push(t)) [[likely]] {
      return Push::kOk;
    }
    return publish_full(ring, t);
  }

  /// publish_at() without the full policy: a full ring returns kFull at once and the tick is not
  /// taken (nor counted): back-pressure for a caller that keeps the tick and decides itself.
  Push try_publish_at(Tick t, std::int64_t origin_ns) noexcept {
    if (!event_time_in_range(t.event_ns)) [[unlikely]] {
      return reject_time();
    }
    t.feed = index_;
    t.ingest_ns = origin_ns;
    bump(published_);  // before the ring write, as in publish_at()
    if (rings_[shard_of(t.symbol)]->try_push(t)) [[likely]] {
      return Push::kOk;
    }
    unbump(published_);
    return Push::kFull;
  }

  /// No more ticks from this port; the shards may finish once every port is closed and drained.
  /// Pairs (release) with the shards' acquire load in their exit check.
  void close() noexcept { closed_.store(true, std::memory_order_release); }
  [[nodiscard]] bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

  /// Any thread (single-writer counters: exact from the producer thread or after it is joined, a
  /// recent value from elsewhere).
  [[nodiscard]] std::uint64_t published() const noexcept { return published_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t dropped_full() const noexcept { return dropped_full_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t full_waits() const noexcept { return full_waits_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t rejected_time() const noexcept { return rejected_time_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint32_t index() const noexcept { return index_; }

  /// The shard (and so the ring of this port) a symbol's ticks go to.
  [[nodiscard]] std::uint32_t shard_of(SymbolId symbol) const noexcept {
    return shard_count_ == 1 ? 0 : symbol % shard_count_;
  }
  [[nodiscard]] std::uint32_t shard_count() const noexcept { return shard_count_; }
  /// Ticks of this port that shard `shard` has fully processed (metrics, rules, callbacks), counted in
  /// the order they were published to that shard. Any thread; acquire: whatever the shard's callbacks
  /// did for those ticks (an alert queued for Kafka, say) is visible to the caller afterwards.
  [[nodiscard]] std::uint64_t processed(std::uint32_t shard) const noexcept { return rings_[shard]->consumed(); }

  static std::int64_t now_ns() noexcept;

 private:
  friend class Engine;
  FeedPort(std::uint32_t index, std::uint32_t shard_count, FullPolicy policy, std::uint32_t ring_capacity);
  [[gnu::noinline, gnu::cold]] Push publish_full(SpscRing<Tick>& ring, const Tick& t) noexcept;
  [[gnu::noinline, gnu::cold]] Push reject_time() noexcept;
  /// Single-writer counter: a relaxed load and store (a plain add on x86), readable from any thread.
  static void bump(std::atomic<std::uint64_t>& c) noexcept { c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
  static void unbump(std::atomic<std::uint64_t>& c) noexcept { c.store(c.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed); }

  const std::uint32_t index_;
  const std::uint32_t shard_count_;
  const FullPolicy policy_;
  std::vector<std::unique_ptr<SpscRing<Tick>>> rings_;  // [shard]
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> dropped_full_{0};
  std::atomic<std::uint64_t> full_waits_{0};   // pushes that found the ring full and waited (kBlock)
  std::atomic<std::uint64_t> rejected_time_{0};  // event time outside the supported range
  std::atomic<bool> closed_{false};
};

/// Latency summary in nanoseconds.
struct LatencySummary {
  std::uint64_t count = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, p9999 = 0, max = 0;
};

/// Engine-wide counters, summed over shards and ports.
struct EngineStats {
  std::uint64_t published = 0;          ///< ticks accepted by ports
  std::uint64_t dropped_ring_full = 0;  ///< FullPolicy::kDropNewest drops
  std::uint64_t full_waits = 0;         ///< FullPolicy::kBlock waits
  std::uint64_t rejected_time = 0;      ///< refused by ports: event time outside [kMinEventNs, kMaxEventNs]
  std::uint64_t ticks = 0;              ///< ticks processed by shards
  std::uint64_t late_ticks = 0;
  std::uint64_t extrema_evictions = 0;
  std::uint64_t alerts = 0;
  std::uint64_t suppressed = 0;
  std::array<std::array<std::uint64_t, 3>, static_cast<std::size_t>(Rule::kCount)> by_rule{};  ///< [rule][direction + 1]
  std::uint64_t in_flight = 0;          ///< published, not processed yet (0 once stopped and drained)
  std::uint64_t ring_high_water = 0;    ///< largest occupancy any ring reached
  std::uint64_t ring_capacity = 0;
  std::uint64_t symbols = 0;            ///< tickers registered
  std::uint64_t symbol_overflows = 0;   ///< registrations refused: table full
  std::uint32_t pin_failures = 0;       ///< shard threads whose CPU pinning failed (they ran unpinned)
  std::uint32_t ports = 0;              ///< feed ports created
  bool running = false;
  LatencySummary process_latency;       ///< ingest → tick fully processed (metrics + rules + callbacks)
  LatencySummary alert_latency;         ///< ingest → alert callback invoked
  double elapsed_seconds = 0;           ///< start() → end of stop()

  /// Alerts of one rule, every direction.
  [[nodiscard]] std::uint64_t alerts_of(Rule r) const noexcept {
    const auto& d = by_rule[static_cast<std::size_t>(r)];
    return d[0] + d[1] + d[2];
  }
};

class Engine {
 public:
  /// Validates cfg (std::invalid_argument with a message) and allocates all state up front.
  explicit Engine(EngineConfig cfg);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  [[nodiscard]] SymbolTable& symbols() noexcept { return symbols_; }
  [[nodiscard]] const EngineConfig& config() const noexcept { return cfg_; }

  // ---- set-up, before start() (cold; may allocate; throw on misuse) ----
  void add_alert_callback(AlertFn fn, void* user);
  void set_update_callback(UpdateFn fn, void* user);
  void set_measure_latency(bool on);
  /// Registers the ticker and gives it its own rule parameters.
  void set_ticker_rules(std::string_view ticker, const RuleParams& params);
  /// A new producer port with one ring per shard (at most kMaxFeedPorts; std::length_error beyond).
  /// Also while running: the shards pick it up within one duty cycle. Any thread (a mutex serialises
  /// creations). The reference stays valid for the engine's life.
  FeedPort& add_feed();
  /// true (the default): the shards finish on their own once every port is closed and drained. false:
  /// only stop() ends them (an embedder may start the engine before it creates any producer).
  void set_finish_when_ports_closed(bool on);

  /// Starts one thread per shard. cpus[i] pins shard i (missing or -1: not pinned). Throws
  /// std::runtime_error if a CPU cannot be used.
  void start(IdleKind idle, const std::vector<int>& cpus = {});
  /// Asks the shards to finish: each drains its rings and exits once every port is closed (ports still
  /// open are treated as closed after their rings are empty). Joins. Idempotent.
  void stop();
  [[nodiscard]] bool running() const noexcept { return running_.load(std::memory_order_acquire); }
  /// Whether the calling thread is one of this engine's shard threads (a callback is running).
  [[nodiscard]] bool on_shard_thread() const noexcept { return t_shard_of_ == this; }

  /// Single-threaded use without start(): processes one tick on its shard in the calling thread.
  void process(const Tick& t) noexcept;

  /// Counters and latency. Any thread, any time: while running, each shard thread reports its own
  /// between two duty cycles (the caller waits microseconds); exact once stop() returned.
  [[nodiscard]] EngineStats stats() const;
  /// The ticker's metrics as of the last tick its shard processed. false if the id is not registered.
  /// Any thread, any time, except a callback of this engine: while running, the shard fills *out
  /// between two ticks (the caller waits, spinning then yielding); otherwise it is read directly.
  bool snapshot(SymbolId symbol, TickerSnapshot* out) const;
  /// Forgets latency samples so far (end of warm-up). Not while running.
  void reset_latency() noexcept;

  /// One shard thread's progress as a watchdog sees it: any thread, any time, never waits for the shard
  /// (two relaxed loads). A live shard whose duty_cycles stops advancing is stuck inside a tick or a
  /// callback: it has not come back to check its rings, its mailbox or a stop request.
  struct ShardProgress {
    bool live = false;              ///< the shard thread runs (from start() until it has drained and exits)
    std::uint64_t duty_cycles = 0;  ///< polls of its rings so far
  };
  [[nodiscard]] ShardProgress shard_progress(std::uint32_t shard) const noexcept;
  [[nodiscard]] std::uint32_t shard_count() const noexcept { return cfg_.shards; }

 private:
  struct Mailbox;
  struct Request;
  void run_shard(std::uint32_t shard, IdleKind idle, int cpu) noexcept;
  /// Runs req on the shard: by its thread while it is live, else directly. Callers serialised per shard.
  void ask_shard(std::uint32_t shard, Request& req) const;
  void serve(std::uint32_t shard, Request& req) const noexcept;

  EngineConfig cfg_;
  SymbolTable symbols_;
  std::vector<std::unique_ptr<ShardCore>> shards_;
  std::vector<std::unique_ptr<Mailbox>> mailboxes_;  // [shard]
  std::array<std::unique_ptr<FeedPort>, kMaxFeedPorts> ports_;
  std::atomic<std::uint32_t> port_count_{0};  // release by add_feed, acquire by the shards
  std::mutex add_feed_mutex_;
  bool finish_when_ports_closed_ = true;
  std::vector<std::thread> threads_;
  static thread_local const Engine* t_shard_of_;  // set by each shard thread to its engine
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> running_{false};            // start() → end of stop(); read by any thread
  std::atomic<std::uint32_t> pin_failures_{0};  // shard threads that could not be pinned
  std::atomic<std::int64_t> started_ns_{0};
  std::atomic<double> elapsed_seconds_{0};
};

/// Pins the calling thread to one CPU. Returns false with a message if the CPU does not exist or is not
/// in this process's allowed set.
bool pin_current_thread(int cpu, std::string* error) noexcept;
/// Whether cpu is an online CPU this process may run on (its affinity at start-up, whatever mask the
/// calling thread has since pinned itself to).
bool cpu_usable(int cpu) noexcept;

}  // namespace tickforge
