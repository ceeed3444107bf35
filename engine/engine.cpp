#include <tickforge/engine.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <string>

#include "agent.hpp"
#include "clock.hpp"  // ShardCore calibrates it
#include "day_calendar.hpp"
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
  auto in = [](const char* name, std::uint32_t v, std::uint32_t lo, std::uint32_t hi) {
    if (v < lo || v > hi) {
      throw std::invalid_argument(std::string(name) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                  "], got " + std::to_string(v));
    }
  };
  in("max_tickers", max_tickers, 1, kMaxTickers);
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
  in("extrema_capacity", extrema_capacity, kMinExtremaCapacity, kMaxExtremaCapacity);
  in("extrema_pool", extrema_pool, kMinExtremaPool, kMaxExtremaPool);
  if (std::uint64_t{max_tickers} * 2 * extrema_pool >= kMaxExtremaPoolEntries) {
    throw std::invalid_argument(fmt_error("max_tickers × 2 × extrema_pool must stay below 2^31 entries, got ",
                                          static_cast<long>(std::uint64_t{max_tickers} * 2 * extrema_pool)));
  }
  in("ring_capacity", ring_capacity, kMinRingCapacity, kMaxRingCapacity);
  in("shards", shards, 1, kMaxShards);
  check_rules(rules, "");
  for (const auto& [ticker, r] : ticker_rules) {
    check_rules(r, "tickers." + ticker + ".");
  }
  if (!(daily.move_pct > 0.0) || !std::isfinite(daily.move_pct)) {
    throw std::invalid_argument("daily move-pct must be a positive number of percent");
  }
  const DayCalendar check(daily);  // the zone's table and the session (throws with a message)
}

// ---- FeedPort ---------------------------------------------------------------------------------------

std::int64_t FeedPort::now_ns() noexcept { return tickforge::now_ns(); }

FeedPort::FeedPort(std::uint32_t index, ShardIndex shards, FullPolicy policy, std::uint32_t ring_capacity)
    : index_(index), index_of_(shards), policy_(policy) {
  for (std::uint32_t s = 0; s < shards.shards(); ++s) {
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
// Request in the shard agent's mailbox and waits; the shard checks the mailbox once per duty cycle (one
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
  std::int64_t first_tick_ns = 0;
  std::int64_t last_tick_ns = 0;
  std::atomic<bool> done{false};
};

// One shard's duty cycle, run by an AgentRunner on the shard's thread: pick up ports opened since the
// last cycle, serve a mailbox request, consume every ring (at most kBatch ticks each), and finish once a
// stop is requested (or every port is closed) and the rings are empty.
struct Engine::ShardAgent {
  ShardAgent(Engine& e, std::uint32_t s) : engine(e), shard(s), core(*e.shards_[s]) {}

  std::size_t do_work() noexcept {
    // Partner: the release store in open_port(): a port counted here is fully constructed.
    for (const std::uint32_t n = engine.port_count_.load(std::memory_order_acquire); n_rings < n; ++n_rings) {
      rings[n_rings] = engine.ports_[n_rings]->rings_[shard].get();
    }
    if (mb.request.load(std::memory_order_relaxed) != nullptr) [[unlikely]] {
      take_request();
    }
    std::size_t work = 0;
    // A run of the ring at a time: on_ticks() prefetches the state of the ticks ahead (large universes).
    auto handle = [this](const Tick* t, std::size_t n) noexcept { core.on_ticks(t, n); };
    for (std::uint32_t i = 0; i < n_rings; ++i) {
      work += rings[i]->consume_runs(handle, kBatch);
    }
    if (work != 0) {
      // One clock read per busy duty cycle: when the first and the last tick were processed.
      last_tick_ns = now_ns();
      first_tick_ns = first_tick_ns != 0 ? first_tick_ns : last_tick_ns;
      return work;
    }
    // Acquire loads: everything a producer pushed before close() (release) is visible below.
    bool finish = engine.stop_requested_.load(std::memory_order_acquire);
    if (!finish && engine.finish_when_ports_closed_) {
      finish = true;
      for (std::uint32_t i = 0; i < n_rings; ++i) {
        finish = finish && engine.ports_[i]->closed();
      }
    }
    if (!finish) {
      return 0;
    }
    for (std::uint32_t i = 0; i < n_rings; ++i) {
      work += rings[i]->consume_runs(handle, SIZE_MAX);
    }
    if (work == 0) {
      core.close_days();  // the days still open, marked partial: the shard's last callbacks
      // Partner: the callers' acquire loads of `live`: after it, they may read this shard directly.
      mb.live.store(false, std::memory_order_release);
      take_request();  // one posted before `live` fell
      finished = true;
    }
    return work;
  }
  [[nodiscard]] bool done() const noexcept { return finished; }
  void on_start() noexcept { t_shard_of_ = &engine; }
  void on_close() noexcept {}

  void take_request() noexcept {
    // Acquire: the caller's request fields (release store in ask_shard) are visible.
    if (Request* req = mb.request.exchange(nullptr, std::memory_order_acquire); req != nullptr) {
      engine.serve(shard, *req);
      req->done.store(true, std::memory_order_release);  // partner: the caller's acquire load
    }
  }

  static constexpr std::size_t kBatch = 256;  // bounds how long one port can starve the others

  Engine& engine;
  const std::uint32_t shard;
  ShardCore& core;
  std::array<SpscRing<Tick>*, kMaxFeedPorts> rings{};  // this shard's ring of every port so far
  std::uint32_t n_rings = 0;
  bool finished = false;
  std::int64_t first_tick_ns = 0;  // shard thread; read through a kStats request or after the join
  std::int64_t last_tick_ns = 0;

  // The mailbox: written by callers (request) and by the shard (live); its own false-sharing block.
  struct alignas(kFalseSharingRange) Mailbox {
    std::atomic<Request*> request{nullptr};  // written by callers, taken by the shard thread
    std::atomic<bool> live{false};           // the shard thread runs and serves requests
    std::mutex callers;                      // one request per shard at a time; never taken by the shard
  } mb;
};

Engine::Engine(EngineConfig cfg)
    : cfg_((cfg.validate(), std::move(cfg))), index_(cfg_.shards), symbols_(cfg_.max_tickers) {
  for (std::uint32_t s = 0; s < cfg_.shards; ++s) {
    shards_.push_back(std::make_unique<ShardCore>(cfg_, index_.per_shard(cfg_.max_tickers), s, index_, symbols_));
  }
  for (std::uint32_t s = 0; s < cfg_.shards; ++s) {
    agents_.push_back(std::make_unique<ShardAgent>(*this, s));
    runners_.push_back(std::make_unique<AgentRunner>());  // passive until start(): a watchdog may read it
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

void Engine::add_daily_callback(DailyFn fn, void* user) {
  if (running() || fn == nullptr) {
    throw std::logic_error("add_daily_callback: needs a function, before start()");
  }
  if (!cfg_.daily.enabled) {
    throw std::logic_error("add_daily_callback: daily summaries are off in the engine config");
  }
  for (auto& s : shards_) {
    s->add_daily_callback(fn, user);
  }
}

void Engine::close_days() {
  if (running()) {
    throw std::logic_error("close_days: only without start(); stop() closes them itself");
  }
  for (auto& s : shards_) {
    s->close_days();
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
  shards_[index_.shard_of(id)]->set_ticker_rules(id, params);
}

FeedPort& Engine::open_port() {
  const std::lock_guard<std::mutex> lock(open_port_mutex_);
  const std::uint32_t n = port_count_.load(std::memory_order_relaxed);
  if (n == kMaxFeedPorts) {
    throw std::length_error("too many feeds/producers (at most " + std::to_string(kMaxFeedPorts) + ")");
  }
  ports_[n].reset(new FeedPort(n, index_, cfg_.full_policy, cfg_.ring_capacity));
  // Partner: the acquire loads in the shard agents and stats(): a port counted is fully constructed.
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
  if (started_) {
    throw std::logic_error("start: an engine starts once");
  }
  for (std::size_t s = 0; s < shards_.size() && s < cpus.size(); ++s) {
    if (cpus[s] >= 0 && !cpu_usable(cpus[s])) {
      throw std::runtime_error("engine CPU " + std::to_string(cpus[s]) +
                               " does not exist or is not allowed for this process");
    }
  }
  started_ = true;
  stop_requested_.store(false, std::memory_order_relaxed);
  started_ns_.store(tickforge::now_ns(), std::memory_order_relaxed);
  running_.store(true, std::memory_order_release);
  for (std::uint32_t s = 0; s < shards_.size(); ++s) {
    ShardAgent& agent = *agents_[s];
    {
      // Under the callers' mutex: a caller reading a shard directly finishes before its thread exists.
      const std::lock_guard<std::mutex> lock(agent.mb.callers);
      agent.mb.live.store(true, std::memory_order_relaxed);  // the thread start below orders it for the shard
    }
    try {
      runners_[s]->start(agent, AgentOptions{"tf-shard-" + std::to_string(s), s < cpus.size() ? cpus[s] : -1, idle});
    } catch (...) {
      agent.mb.live.store(false, std::memory_order_relaxed);  // no thread serves this shard
      stop();
      throw;
    }
  }
}

void Engine::serve(std::uint32_t shard, Request& req) const noexcept {
  const ShardCore& core = *shards_[shard];
  if (req.kind == Request::Kind::kSnapshot) {
    core.snapshot(req.symbol, req.snapshot);
    return;
  }
  core.readout(&req.counters, req.process, req.alert);
  req.first_tick_ns = agents_[shard]->first_tick_ns;
  req.last_tick_ns = agents_[shard]->last_tick_ns;
  for (std::uint32_t i = 0, n = port_count_.load(std::memory_order_acquire); i < n; ++i) {
    req.high_water = std::max<std::uint64_t>(req.high_water, ports_[i]->rings_[shard]->high_water_mark());
  }
}

void Engine::ask_shard(std::uint32_t shard, Request& req) const {
  if (on_shard_thread()) {
    throw std::logic_error("snapshot/stats from a callback of this engine would wait for itself");
  }
  auto& mb = agents_[shard]->mb;
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
  ask_shard(index_.shard_of(symbol), req);
  return true;
}

void Engine::stop() {
  if (!running()) {
    return;
  }
  if (on_shard_thread()) {
    throw std::logic_error("stop() from a callback of this engine would join its own thread");
  }
  stop_requested_.store(true, std::memory_order_release);  // partner: the shard agents' acquire load
  for (auto& r : runners_) {
    r->join();
  }
  elapsed_seconds_.store(static_cast<double>(tickforge::now_ns() - started_ns_.load(std::memory_order_relaxed)) / 1e9,
                         std::memory_order_relaxed);
  running_.store(false, std::memory_order_release);
}

thread_local const Engine* Engine::t_shard_of_ = nullptr;

Engine::ShardProgress Engine::shard_progress(std::uint32_t shard) const noexcept {
  if (shard >= agents_.size()) {
    return {};
  }
  // Relaxed: a diagnostic view; nothing is read through it.
  const bool live = agents_[shard]->mb.live.load(std::memory_order_relaxed);
  return {live, runners_[shard]->duty_cycles()};
}

void Engine::process(const Tick& t) noexcept { shards_[index_.shard_of(t.symbol)]->on_tick(t); }

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
  std::int64_t first = 0;
  std::int64_t last = 0;
  for (std::uint32_t s = 0; s < shards_.size(); ++s) {
    Request req;
    req.kind = Request::Kind::kStats;
    req.process = &proc;
    req.alert = &alert;
    ask_shard(s, req);
    const ShardCounters& c = req.counters;
    st.ring_high_water = std::max(st.ring_high_water, req.high_water);
    st.per_shard.push_back(EngineStats::Shard{c.ticks, c.alerts, req.high_water});
    st.ticks += c.ticks;
    st.late_ticks += c.late_ticks;
    st.extrema_evictions += c.extrema_evictions;
    st.extrema_pool_full += c.extrema_pool_full;
    st.alerts += c.alerts;
    st.suppressed += c.suppressed;
    for (std::size_t r = 0; r < st.alerts_by_rule_direction.size(); ++r) {
      for (std::size_t d = 0; d < 3; ++d) {
        st.alerts_by_rule_direction[r][d] += c.by_rule[r][d];
      }
    }
    if (req.first_tick_ns != 0) {
      first = first == 0 ? req.first_tick_ns : std::min(first, req.first_tick_ns);
      last = std::max(last, req.last_tick_ns);
    }
  }
  st.producers = port_count_.load(std::memory_order_acquire);  // partner: release store in open_port()
  for (std::uint32_t i = 0; i < st.producers; ++i) {
    const FeedPort& p = *ports_[i];
    st.pushed += p.published();
    st.dropped_ring_full += p.dropped_full();
    st.blocked_waits += p.full_waits();
    st.rejected_time_out_of_range += p.rejected_time();
  }
  st.ring_capacity = SpscRing<Tick>::capacity_for(cfg_.ring_capacity);
  st.in_flight = st.pushed > st.ticks ? st.pushed - st.ticks : 0;
  st.symbols = symbols_.size();
  st.symbol_table_full = symbols_.overflow_count();
  st.shards = index_.shards();
  for (std::uint32_t s = 0; s < runners_.size(); ++s) {
    if (runners_[s]->pin_failed()) {
      ++st.pin_failures;
    }
  }
  st.process_latency = summarize(proc);
  st.alert_latency = summarize(alert);
  st.process_buckets = proc.buckets();
  st.alert_buckets = alert.buckets();
  st.elapsed_seconds = st.running ? static_cast<double>(tickforge::now_ns() - started_ns_.load(std::memory_order_relaxed)) / 1e9
                                  : elapsed_seconds_.load(std::memory_order_relaxed);
  st.processing_seconds = last > first ? static_cast<double>(last - first) / 1e9 : 0;
  return st;
}

}  // namespace tickforge
