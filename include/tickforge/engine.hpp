// tickforge — the engine: producer ports → SPSC rings → shard agents → callbacks.
//
//   producer k ──FeedPort k──┬─ ring(k,0) ─▶ shard 0 agent ─▶ calculators ─▶ rules ─▶ callbacks
//                            └─ ring(k,1) ─▶ shard 1 agent ─▶ …
//
// Each (port, shard) pair has its own SPSC ring, so every ring has exactly one producer and one consumer
// and no tick ever takes a lock. Tickers are partitioned by ShardIndex (symbol id → shard, local id), so
// one ticker's ticks from one port are processed in order by one thread (deterministic metrics and
// alerts). Each shard runs as an agent on its own pinned thread (engine/agent.hpp).
//
// Lifecycle (one owning thread): construct → open_port()/callbacks/set_ticker_rules → start() →
// producers publish and finally close() their ports → stop() (drains the rings, joins the shards) →
// stats().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include <tickforge/config.hpp>
#include <tickforge/counter.hpp>
#include <tickforge/latency.hpp>
#include <tickforge/platform.hpp>
#include <tickforge/records.hpp>
#include <tickforge/spsc_ring.hpp>
#include <tickforge/symbol_table.hpp>
#include <tickforge/tick.hpp>

namespace tickforge {

class ShardCore;
class Engine;
class AgentRunner;

/// Most producer ports (feeds and embedders' producers) one engine accepts.
inline constexpr std::uint32_t kMaxFeedPorts = 64;
/// Most alert callbacks one engine calls per alert.
inline constexpr std::size_t kMaxAlertCallbacks = 8;

/// Where a symbol's ticks go: its shard, and its dense id within that shard (the index into the shard's
/// per-ticker arrays). The one home of the formula. With a power-of-two shard count (1, the default,
/// included) both are a mask and a shift, no division; otherwise a modulo and a division.
class ShardIndex {
 public:
  explicit ShardIndex(std::uint32_t shards) noexcept
      : shards_(shards), pow2_((shards & (shards - 1)) == 0), mask_(shards - 1), shift_(log2_of(shards)) {}
  [[nodiscard]] std::uint32_t shards() const noexcept { return shards_; }
  [[nodiscard]] std::uint32_t shard_of(SymbolId symbol) const noexcept {
    return pow2_ ? symbol & mask_ : symbol % shards_;
  }
  [[nodiscard]] std::uint32_t local_of(SymbolId symbol) const noexcept {
    return pow2_ ? symbol >> shift_ : symbol / shards_;
  }
  /// The inverse: the symbol at `local` in shard `shard`.
  [[nodiscard]] SymbolId symbol_of(std::uint32_t shard, std::uint32_t local) const noexcept {
    return pow2_ ? (local << shift_) | shard : local * shards_ + shard;
  }
  /// Per-ticker slots each shard needs for a symbol table of `tickers` ids.
  [[nodiscard]] std::uint32_t per_shard(std::uint32_t tickers) const noexcept { return (tickers + shards_ - 1) / shards_; }

 private:
  static std::uint32_t log2_of(std::uint32_t n) noexcept {
    std::uint32_t k = 0;
    while ((1u << k) < n) {
      ++k;
    }
    return k;
  }
  std::uint32_t shards_;
  bool pow2_;
  std::uint32_t mask_;
  std::uint32_t shift_;
};

/// A producer's handle (Engine::open_port()): owns one ring per shard. Thread contract: exactly one thread
/// publishes on a port (each feed thread gets its own). No allocation; publish() never throws.
class FeedPort {
 public:
  enum class Push : std::uint8_t { kOk, kDroppedFull, kFull, kRejectedTime };

  /// Stamps feed index and ingest time, then routes the tick to its shard's ring. On a full ring:
  /// FullPolicy::kBlock waits (pause-spin) until the shard frees a slot; kDropNewest drops it and counts.
  /// An event time outside [kMinEventNs, kMaxEventNs] is refused (kRejectedTime) and counted: feeds
  /// check it themselves to report where the tick came from; this is the last line that no producer
  /// passes. Budget: one clock read (vDSO) + one range compare + one ring push.
  Push publish(const Tick& t) noexcept { return publish_at(t, now_ns()); }

  /// publish() with a given latency origin: an open-loop feed passes the tick's *scheduled* send time,
  /// so a stall anywhere (feed, ring, engine) shows in the latency of every tick it delayed instead
  /// of being hidden by a late send stamp (coordinated omission).
  // (The tick is taken by reference and copied here: a 64-byte-aligned Tick passed by value makes GCC
  // print an ABI note in every file that includes this one.)
  Push publish_at(const Tick& in, std::int64_t origin_ns) noexcept {
    Tick t = in;
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
  Push try_publish_at(const Tick& in, std::int64_t origin_ns) noexcept {
    Tick t = in;
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
  [[nodiscard]] std::uint32_t shard_of(SymbolId symbol) const noexcept { return index_of_.shard_of(symbol); }
  [[nodiscard]] std::uint32_t shard_count() const noexcept { return index_of_.shards(); }
  /// Ticks of this port that shard `shard` has fully processed (metrics, rules, callbacks), counted in
  /// the order they were published to that shard. Any thread; acquire: whatever the shard's callbacks
  /// did for those ticks (an alert queued for Kafka, say) is visible to the caller afterwards.
  [[nodiscard]] std::uint64_t processed(std::uint32_t shard) const noexcept { return rings_[shard]->consumed(); }

  static std::int64_t now_ns() noexcept;

 private:
  friend class Engine;
  FeedPort(std::uint32_t index, ShardIndex shards, FullPolicy policy, std::uint32_t ring_capacity);
  [[gnu::noinline, gnu::cold]] Push publish_full(SpscRing<Tick>& ring, const Tick& t) noexcept;
  [[gnu::noinline, gnu::cold]] Push reject_time() noexcept;

  const std::uint32_t index_;
  const ShardIndex index_of_;
  const FullPolicy policy_;
  std::vector<std::unique_ptr<SpscRing<Tick>>> rings_;  // [shard]
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> dropped_full_{0};
  std::atomic<std::uint64_t> full_waits_{0};   // pushes that found the ring full and waited (kBlock)
  std::atomic<std::uint64_t> rejected_time_{0};  // event time outside the supported range
  std::atomic<bool> closed_{false};
};

/// Engine-wide counters, summed over shards and ports. The names are those of the C API's tf_stats_t.
struct EngineStats {
  std::uint64_t pushed = 0;             ///< ticks accepted by ports
  std::uint64_t dropped_ring_full = 0;  ///< FullPolicy::kDropNewest drops
  std::uint64_t blocked_waits = 0;      ///< FullPolicy::kBlock: pushes that found the ring full and waited
  std::uint64_t rejected_time_out_of_range = 0;  ///< refused by ports: event time outside the supported range
  std::uint64_t ticks = 0;              ///< ticks processed by shards (metrics, rules, callbacks done)
  std::uint64_t in_flight = 0;          ///< pushed, not processed yet (0 once stopped and drained)
  std::uint64_t late_ticks = 0;
  std::uint64_t extrema_evictions = 0;
  std::uint64_t extrema_pool_full = 0;  ///< evictions because the shard's high/low pool was full
  std::uint64_t alerts = 0;
  std::array<std::array<std::uint64_t, 3>, static_cast<std::size_t>(Rule::kCount)>
      alerts_by_rule_direction{};       ///< [rule][direction + 1]
  std::uint64_t suppressed = 0;         ///< rule met inside its cooldown
  std::uint64_t symbols = 0;            ///< tickers registered
  std::uint64_t symbol_table_full = 0;  ///< registrations refused: table full
  std::uint64_t ring_capacity = 0;      ///< slots per (port, shard) ring
  std::uint64_t ring_high_water = 0;    ///< largest occupancy any ring reached
  std::uint32_t producers = 0;          ///< ports opened
  std::uint32_t shards = 0;
  std::uint32_t pin_failures = 0;       ///< shard threads whose CPU pinning failed (they ran unpinned)
  bool running = false;
  LatencySummary process_latency;       ///< ingest → tick fully processed (metrics + rules + callbacks)
  LatencySummary alert_latency;         ///< ingest → alert callback invoked
  LatencyBuckets process_buckets;       ///< process_latency as cumulative counts (Prometheus)
  LatencyBuckets alert_buckets;
  /// Per shard: ticks processed, alerts, the largest occupancy of its rings.
  struct Shard {
    std::uint64_t ticks = 0, alerts = 0, ring_high_water = 0;
  };
  std::vector<Shard> per_shard;
  double elapsed_seconds = 0;           ///< start() → end of stop() (→ now while running)
  /// From the first tick processed to the last (steady clock, over all shards): the time the ticks took,
  /// without start-up (a Kafka group join, a CSV load). 0 until two ticks were processed.
  double processing_seconds = 0;

  /// Alerts of one rule, every direction.
  [[nodiscard]] std::uint64_t alerts_of(Rule r) const noexcept {
    const auto& d = alerts_by_rule_direction[static_cast<std::size_t>(r)];
    return d[0] + d[1] + d[2];
  }
  /// Ticks per second over processing_seconds (0 when undefined).
  [[nodiscard]] double ticks_per_second() const noexcept {
    return processing_seconds > 0 ? static_cast<double>(ticks) / processing_seconds : 0;
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
  /// A daily-summary callback (at most kMaxAlertCallbacks). Needs config().daily.enabled.
  void add_daily_callback(DailyFn fn, void* user);
  void set_measure_latency(bool on);
  /// Registers the ticker and gives it its own rule parameters.
  void set_ticker_rules(std::string_view ticker, const RuleParams& params);
  /// Opens a new producer port (one ring per shard) for one producing thread: a feed handler, or an
  /// embedder's producer. At most kMaxFeedPorts (std::length_error beyond). Also while running: the
  /// shards pick it up within one duty cycle. Any thread (a mutex serialises openings). The reference
  /// stays valid for the engine's life.
  FeedPort& open_port();
  /// true (the default): the shards finish on their own once every port is closed and drained. false:
  /// only stop() ends them (an embedder may start the engine before it creates any producer).
  void set_finish_when_ports_closed(bool on);

  /// Starts one agent thread per shard ("tf-shard-N"). cpus[i] pins shard i (missing or -1: not
  /// pinned). Throws std::runtime_error if a CPU cannot be used.
  void start(IdleKind idle, const std::vector<int>& cpus = {});
  /// Asks the shards to finish: each drains its rings and exits once every port is closed (ports still
  /// open are treated as closed after their rings are empty). Joins. Idempotent.
  void stop();
  [[nodiscard]] bool running() const noexcept { return running_.load(std::memory_order_acquire); }
  /// Whether the calling thread is one of this engine's shard threads (a callback is running).
  [[nodiscard]] bool on_shard_thread() const noexcept { return t_shard_of_ == this; }

  /// Single-threaded use without start(): processes one tick on its shard in the calling thread.
  void process(const Tick& t) noexcept;
  /// Single-threaded use: emits every open day (partial) to the daily callbacks in the calling thread.
  /// (A started engine does so itself, on each shard thread, as stop() drains it.)
  void close_days();

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
  [[nodiscard]] std::uint32_t shard_count() const noexcept { return index_.shards(); }
  [[nodiscard]] const ShardIndex& shard_index() const noexcept { return index_; }

 private:
  struct ShardAgent;  // one shard's duty cycle (engine.cpp)
  struct Request;
  /// Runs req on the shard: by its thread while it is live, else directly. Callers serialised per shard.
  void ask_shard(std::uint32_t shard, Request& req) const;
  void serve(std::uint32_t shard, Request& req) const noexcept;

  EngineConfig cfg_;
  ShardIndex index_;
  SymbolTable symbols_;
  std::vector<std::unique_ptr<ShardCore>> shards_;
  std::vector<std::unique_ptr<ShardAgent>> agents_;    // [shard]
  std::vector<std::unique_ptr<AgentRunner>> runners_;  // [shard], made with the engine, started by start()
  bool started_ = false;
  std::array<std::unique_ptr<FeedPort>, kMaxFeedPorts> ports_;
  std::atomic<std::uint32_t> port_count_{0};  // release by open_port, acquire by the shards
  std::mutex open_port_mutex_;
  bool finish_when_ports_closed_ = true;
  static thread_local const Engine* t_shard_of_;  // set by each shard thread to its engine
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> running_{false};            // start() → end of stop(); read by any thread
  std::atomic<std::int64_t> started_ns_{0};
  std::atomic<double> elapsed_seconds_{0};
};

}  // namespace tickforge
