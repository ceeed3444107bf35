#include <tickforge/engine.hpp>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <string>

#include "clock.hpp"  // ShardCore calibrates it
#include "idle.hpp"
#include "shard_core.hpp"

namespace tickforge {

namespace {

std::string fmt_error(const char* what, long value) { return std::string(what) + std::to_string(value); }

void check_window(const char* name, std::uint32_t v, std::uint32_t lo) {
  if (v < lo || v > kMaxWindowLength) {
    throw std::invalid_argument(std::string(name) + " must be in [" + std::to_string(lo) + ", " +
                                std::to_string(kMaxWindowLength) + "], got " + std::to_string(v));
  }
}

void check_rules(const RuleParams& r, const std::string& where) {
  auto finite = [&](double v, const char* name) {
    if (!std::isfinite(v)) {
      throw std::invalid_argument(where + name + " must be a finite number");
    }
  };
  finite(r.window_move_pct, "alert_pct");
  finite(r.tick_change_pct, "tick_change_pct");
  finite(r.volatility_pct, "volatility_pct");
  finite(r.volume_spike_factor, "volume_spike_factor");
  if (r.window_ns <= 0 || r.window_ns > kMaxDurationNs) {
    throw std::invalid_argument(where + "alert_window must be in [1ns, 36500d]");
  }
  if (r.cooldown_ns < -1 || r.cooldown_ns > kMaxDurationNs) {
    throw std::invalid_argument(where + "cooldown must be in [0, 36500d] (-1: the alert window)");
  }
}

}  // namespace

void EngineConfig::validate() const {
  if (max_tickers == 0 || max_tickers > (1u << 24)) {
    throw std::invalid_argument(fmt_error("max_tickers must be in [1, 16777216], got ", max_tickers));
  }
  if (sma_windows.empty() || sma_windows.size() > kMaxSmaWindows) {
    throw std::invalid_argument("sma windows: give 1 to 8 window lengths");
  }
  for (std::size_t i = 0; i < sma_windows.size(); ++i) {
    check_window("sma window", sma_windows[i], 1);
    if (i != 0 && sma_windows[i] <= sma_windows[i - 1]) {
      throw std::invalid_argument("sma windows must be strictly ascending (e.g. 5,10,20)");
    }
  }
  if (volatility_window != 0) {
    check_window("volatility_window", volatility_window, 2);
  }
  check_window("volume_window", volume_window, 1);
  if (ddof > 1) {
    throw std::invalid_argument(fmt_error("ddof must be 0 (population) or 1 (sample), got ", ddof));
  }
  if (extrema_capacity < 2 || extrema_capacity > 65536) {
    throw std::invalid_argument(fmt_error("extrema_capacity must be in [2, 65536], got ", extrema_capacity));
  }
  if (ring_capacity < 2 || ring_capacity > (1u << 30)) {
    throw std::invalid_argument(fmt_error("ring_capacity must be in [2, 1073741824], got ", ring_capacity));
  }
  if (shards == 0 || shards > 256) {
    throw std::invalid_argument(fmt_error("shards must be in [1, 256], got ", shards));
  }
  check_rules(rules, "");
  for (const auto& [ticker, r] : ticker_rules) {
    check_rules(r, "tickers." + ticker + ".");
  }
}

// ---- FeedPort ---------------------------------------------------------------------------------------

std::int64_t FeedPort::now_ns() noexcept { return tickforge::now_ns(); }

FeedPort::FeedPort(std::uint32_t index, std::uint32_t shard_count, FullPolicy policy, std::uint32_t ring_capacity)
    : index_(index), shard_count_(shard_count), policy_(policy) {
  for (std::uint32_t s = 0; s < shard_count; ++s) {
    rings_.push_back(std::make_unique<SpscRing<Tick>>(ring_capacity));
  }
}

FeedPort::Push FeedPort::reject_time() noexcept {
  bump(rejected_time_);
  return Push::kRejectedTime;
}

FeedPort::Push FeedPort::publish_full(SpscRing<Tick>& ring, const Tick& t) noexcept {
  if (policy_ == FullPolicy::kDropNewest) {
    unbump(published_);
    bump(dropped_full_);
    return Push::kDroppedFull;
  }
  bump(full_waits_);
  while (!ring.try_push(t)) {
    cpu_relax();
  }
  return Push::kOk;
}

// ---- Engine -----------------------------------------------------------------------------------------

// Reading a shard's state from another thread while it runs (snapshot, stats): the caller posts a
// Request in the shard's Mailbox and waits; the shard thread checks the mailbox once per duty cycle (one
// relaxed load of a line only callers write), serves the request between two ticks and releases `done`.
// When the shard thread is not live (before start, after it exited) the caller reads directly. The
// hand-over at exit: the shard clears `live` (release) after its last tick, then serves a request it
// finds; a caller that sees `live` false takes its request back with a CAS — if that fails, the shard
// took it and will finish it.
struct Engine::Request {
  enum class Kind : std::uint8_t { kSnapshot, kStats };
  Kind kind = Kind::kSnapshot;
  SymbolId symbol = kNoSymbol;
  TickerSnapshot* snapshot = nullptr;
  ShardCounters counters;
  LatencyHistogram* process = nullptr;
  LatencyHistogram* alert = nullptr;
  std::uint64_t high_water = 0;
  std::atomic<bool> done{false};
};

struct alignas(kFalseSharingRange) Engine::Mailbox {
  std::atomic<Request*> request{nullptr};  // written by callers, taken by the shard thread
  std::atomic<bool> live{false};           // the shard thread runs and serves requests
  std::atomic<std::uint64_t> cycles{0};    // duty cycles: written by the shard thread only (watchdogs read)
  std::mutex callers;                      // one request per shard at a time; never taken by the shard
};

Engine::Engine(EngineConfig cfg) : cfg_((cfg.validate(), std::move(cfg))), symbols_(cfg_.max_tickers) {
  const std::uint32_t per_shard = (cfg_.max_tickers + cfg_.shards - 1) / cfg_.shards;
  for (std::uint32_t s = 0; s < cfg_.shards; ++s) {
    shards_.push_back(std::make_unique<ShardCore>(cfg_, per_shard, s, cfg_.shards, symbols_));
    mailboxes_.push_back(std::make_unique<Mailbox>());
  }
  for (const auto& [ticker, params] : cfg_.ticker_rules) {
    set_ticker_rules(ticker, params);
  }
}

Engine::~Engine() {
  for (auto& p : ports_) {
    if (p) {
      p->close();
    }
  }
  stop();
}

void Engine::add_alert_callback(AlertFn fn, void* user) {
  if (running() || fn == nullptr) {
    throw std::logic_error("add_alert_callback: needs a function, before start()");
  }
  for (auto& s : shards_) {
    s->add_alert_callback(fn, user);
  }
}

void Engine::set_update_callback(UpdateFn fn, void* user) {
  if (running()) {
    throw std::logic_error("set_update_callback: before start()");
  }
  for (auto& s : shards_) {
    s->set_update_callback(fn, user);
  }
}

void Engine::set_measure_latency(bool on) {
  for (auto& s : shards_) {
    s->set_measure_latency(on);
  }
}

void Engine::set_ticker_rules(std::string_view ticker, const RuleParams& params) {
  if (running()) {
    throw std::logic_error("set_ticker_rules: before start()");
  }
  SymbolTable::Reject why{};
  const SymbolId id = symbols_.intern(ticker, &why);
  if (id == kNoSymbol) {
    throw std::invalid_argument("ticker '" + std::string(ticker) + "': " + SymbolTable::to_string(why));
  }
  shards_[id % cfg_.shards]->set_ticker_rules(id, params);
}

FeedPort& Engine::add_feed() {
  const std::lock_guard<std::mutex> lock(add_feed_mutex_);
  const std::uint32_t n = port_count_.load(std::memory_order_relaxed);
  if (n == kMaxFeedPorts) {
    throw std::length_error("too many feeds/producers (at most " + std::to_string(kMaxFeedPorts) + ")");
  }
  ports_[n].reset(new FeedPort(n, cfg_.shards, cfg_.full_policy, cfg_.ring_capacity));
  // Partner: the acquire loads in run_shard() and stats(): a port counted is fully constructed.
  port_count_.store(n + 1, std::memory_order_release);
  return *ports_[n];
}

void Engine::set_finish_when_ports_closed(bool on) {
  if (running()) {
    throw std::logic_error("set_finish_when_ports_closed: before start()");
  }
  finish_when_ports_closed_ = on;
}

void Engine::start(IdleKind idle, const std::vector<int>& cpus) {
  if (running()) {
    throw std::logic_error("start: already running");
  }
  for (std::size_t s = 0; s < shards_.size() && s < cpus.size(); ++s) {
    if (cpus[s] >= 0 && !cpu_usable(cpus[s])) {
      throw std::runtime_error("engine CPU " + std::to_string(cpus[s]) +
                               " does not exist or is not allowed for this process");
    }
  }
  stop_requested_.store(false, std::memory_order_relaxed);
  started_ns_.store(tickforge::now_ns(), std::memory_order_relaxed);
  running_.store(true, std::memory_order_release);
  for (std::uint32_t s = 0; s < shards_.size(); ++s) {
    const int cpu = s < cpus.size() ? cpus[s] : -1;
    Mailbox& mb = *mailboxes_[s];
    {
      // Under the callers' mutex: a caller reading a shard directly finishes before its thread exists.
      const std::lock_guard<std::mutex> lock(mb.callers);
      mb.live.store(true, std::memory_order_relaxed);  // the thread start below orders it for the shard
    }
    try {
      threads_.emplace_back([this, s, idle, cpu] { run_shard(s, idle, cpu); });
    } catch (...) {
      mb.live.store(false, std::memory_order_relaxed);  // no thread serves this shard
      stop();
      throw;
    }
  }
}

void Engine::run_shard(std::uint32_t shard, IdleKind idle_kind, int cpu) noexcept {
  if (cpu >= 0 && !pin_current_thread(cpu, nullptr)) {
    pin_failures_.fetch_add(1, std::memory_order_relaxed);
  }
  t_shard_of_ = this;
  ShardCore& core = *shards_[shard];
  Mailbox& mb = *mailboxes_[shard];
  IdleStrategy idle(idle_kind);
  std::array<SpscRing<Tick>*, kMaxFeedPorts> rings{};  // this shard's ring of every port so far
  std::uint32_t n_rings = 0;
  auto take_request = [&] {
    // Acquire: the caller's request fields (release store in ask_shard) are visible.
    if (Request* req = mb.request.exchange(nullptr, std::memory_order_acquire); req != nullptr) {
      serve(shard, *req);
      req->done.store(true, std::memory_order_release);  // partner: the caller's acquire load
    }
  };
  auto handle = [&core](const Tick& t) noexcept { core.on_tick(t); };
  constexpr std::size_t kBatch = 256;  // bounds how long one port can starve the others
  for (std::uint64_t cycle = 1;; ++cycle) {
    // Single writer, relaxed: a progress indicator for shard_progress(), it publishes no data.
    mb.cycles.store(cycle, std::memory_order_relaxed);
    // Partner: the release store in add_feed(): a port counted here is fully constructed.
    for (const std::uint32_t n = port_count_.load(std::memory_order_acquire); n_rings < n; ++n_rings) {
      rings[n_rings] = ports_[n_rings]->rings_[shard].get();
    }
    if (mb.request.load(std::memory_order_relaxed) != nullptr) [[unlikely]] {
      take_request();
    }
    std::size_t work = 0;
    for (std::uint32_t i = 0; i < n_rings; ++i) {
      work += rings[i]->consume(handle, kBatch);
    }
    if (work != 0) {
      idle.reset();
      continue;
    }
    // Acquire loads: everything a producer pushed before close() (release) is visible below.
    bool finished = stop_requested_.load(std::memory_order_acquire);
    if (!finished && finish_when_ports_closed_) {
      finished = true;
      for (std::uint32_t i = 0; i < n_rings; ++i) {
        finished = finished && ports_[i]->closed();
      }
    }
    if (finished) {
      std::size_t rest = 0;
      for (std::uint32_t i = 0; i < n_rings; ++i) {
        rest += rings[i]->consume(handle, SIZE_MAX);
      }
      if (rest == 0) {
        // Partner: the callers' acquire loads of `live`: after it, they may read this shard directly.
        mb.live.store(false, std::memory_order_release);
        take_request();  // one posted before `live` fell
        return;
      }
      continue;
    }
    idle.idle();
  }
}

void Engine::serve(std::uint32_t shard, Request& req) const noexcept {
  const ShardCore& core = *shards_[shard];
  if (req.kind == Request::Kind::kSnapshot) {
    core.snapshot(req.symbol, req.snapshot);
    return;
  }
  core.readout(&req.counters, req.process, req.alert);
  for (std::uint32_t i = 0, n = port_count_.load(std::memory_order_acquire); i < n; ++i) {
    req.high_water = std::max<std::uint64_t>(req.high_water, ports_[i]->rings_[shard]->high_water_mark());
  }
}

void Engine::ask_shard(std::uint32_t shard, Request& req) const {
  if (on_shard_thread()) {
    throw std::logic_error("snapshot/stats from a callback of this engine would wait for itself");
  }
  Mailbox& mb = *mailboxes_[shard];
  const std::lock_guard<std::mutex> lock(mb.callers);
  if (mb.live.load(std::memory_order_acquire)) {
    mb.request.store(&req, std::memory_order_release);  // partner: the shard's acquire exchange
    for (std::uint32_t spins = 0;; ++spins) {
      if (req.done.load(std::memory_order_acquire)) {  // partner: the shard's release store
        return;
      }
      if (!mb.live.load(std::memory_order_acquire)) {  // the shard exited: take the request back
        Request* expected = &req;
        if (mb.request.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel)) {
          break;  // never taken: read directly below
        }
      }
      if (spins < 1000) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
  }
  serve(shard, req);
}

bool Engine::snapshot(SymbolId symbol, TickerSnapshot* out) const {
  if (symbol >= symbols_.size() || out == nullptr) {
    return false;
  }
  Request req;
  req.kind = Request::Kind::kSnapshot;
  req.symbol = symbol;
  req.snapshot = out;
  ask_shard(symbol % cfg_.shards, req);
  return true;
}

void Engine::stop() {
  if (threads_.empty()) {
    return;
  }
  if (on_shard_thread()) {
    throw std::logic_error("stop() from a callback of this engine would join its own thread");
  }
  stop_requested_.store(true, std::memory_order_release);  // partner: acquire load in run_shard
  for (auto& t : threads_) {
    if (t.joinable()) {
      t.join();
    }
  }
  threads_.clear();
  elapsed_seconds_.store(static_cast<double>(tickforge::now_ns() - started_ns_.load(std::memory_order_relaxed)) / 1e9,
                         std::memory_order_relaxed);
  running_.store(false, std::memory_order_release);
}

thread_local const Engine* Engine::t_shard_of_ = nullptr;

Engine::ShardProgress Engine::shard_progress(std::uint32_t shard) const noexcept {
  if (shard >= mailboxes_.size()) {
    return {};
  }
  const Mailbox& mb = *mailboxes_[shard];
  // Relaxed: a diagnostic view; nothing is read through it.
  return {mb.live.load(std::memory_order_relaxed), mb.cycles.load(std::memory_order_relaxed)};
}

void Engine::process(const Tick& t) noexcept { shards_[t.symbol % cfg_.shards]->on_tick(t); }

void Engine::reset_latency() noexcept {
  for (auto& s : shards_) {
    s->reset_latency();
  }
}

EngineStats Engine::stats() const {
  EngineStats st;
  LatencyHistogram proc;
  LatencyHistogram alert;
  st.running = running();
  for (std::uint32_t s = 0; s < shards_.size(); ++s) {
    Request req;
    req.kind = Request::Kind::kStats;
    req.process = &proc;
    req.alert = &alert;
    ask_shard(s, req);
    const ShardCounters& c = req.counters;
    st.ring_high_water = std::max(st.ring_high_water, req.high_water);
    st.ticks += c.ticks;
    st.late_ticks += c.late_ticks;
    st.extrema_evictions += c.extrema_evictions;
    st.alerts += c.alerts;
    st.suppressed += c.suppressed;
    for (std::size_t r = 0; r < st.by_rule.size(); ++r) {
      for (std::size_t d = 0; d < 3; ++d) {
        st.by_rule[r][d] += c.by_rule[r][d];
      }
    }
  }
  st.ports = port_count_.load(std::memory_order_acquire);  // partner: release store in add_feed()
  for (std::uint32_t i = 0; i < st.ports; ++i) {
    const FeedPort& p = *ports_[i];
    st.published += p.published();
    st.dropped_ring_full += p.dropped_full();
    st.full_waits += p.full_waits();
    st.rejected_time += p.rejected_time();
  }
  st.ring_capacity = SpscRing<Tick>::capacity_for(cfg_.ring_capacity);
  st.in_flight = st.published > st.ticks ? st.published - st.ticks : 0;
  st.symbols = symbols_.size();
  st.symbol_overflows = symbols_.overflow_count();
  st.pin_failures = pin_failures_.load(std::memory_order_relaxed);
  st.process_latency = summarize(proc);
  st.alert_latency = summarize(alert);
  st.elapsed_seconds = st.running ? static_cast<double>(tickforge::now_ns() - started_ns_.load(std::memory_order_relaxed)) / 1e9
                                  : elapsed_seconds_.load(std::memory_order_relaxed);
  return st;
}

// ---- CPU affinity -----------------------------------------------------------------------------------

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

}  // namespace tickforge
