#include "harness.hpp"

#include <readerwriterqueue/readerwriterqueue.h>

#include <atomic>
#include <bit>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <thread>

#include <tickforge/engine.hpp>
#include <tickforge/symbol_table.hpp>

#include "clock.hpp"
#include "csv_reader.hpp"
#include "agent.hpp"
#include "pacer.hpp"
#include "shard_core.hpp"
#include "synthetic.hpp"

namespace tickforge::perf {

const char* to_string(Transport t) noexcept { return t == Transport::kRing ? "ring" : "rwq"; }
const char* to_string(Mode m) noexcept { return m == Mode::kRate ? "rate" : "saturate"; }

TickSource synthetic_source(std::uint32_t tickers, std::size_t n) {
  TickSource src;
  src.name = "synthetic(" + std::to_string(tickers) + ")";
  SymbolTable symbols(tickers + 1);
  SyntheticOptions opt;
  opt.count = tickers;
  SyntheticFeed feed(opt, symbols);
  src.ticks.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    src.ticks.push_back(feed.next());
  }
  for (std::uint32_t id = 0; id < symbols.size(); ++id) {
    src.names.emplace_back(symbols.name(id));
  }
  src.lap_ns = src.ticks.back().event_ns - src.ticks.front().event_ns + opt.step_ns;
  return src;
}

TickSource csv_source(const std::string& path) {
  TickSource src;
  src.name = path;
  SymbolTable symbols(1 << 16);
  CsvOptions opt;
  opt.path = path;
  const CsvLoadResult res = load_csv(opt, [&](std::string_view t) { return symbols.intern(t); });
  if (!res.ok) {
    throw std::runtime_error(res.error);
  }
  if (res.rows.empty()) {
    throw std::runtime_error(path + ": no usable rows");
  }
  for (const CsvRow& r : res.rows) {
    Tick t{};
    t.symbol = r.symbol;
    t.price = r.price;
    t.volume = r.volume;
    t.event_ns = r.event_ns;
    src.ticks.push_back(t);
  }
  for (std::uint32_t id = 0; id < symbols.size(); ++id) {
    src.names.emplace_back(symbols.name(id));
  }
  src.lap_ns = src.ticks.back().event_ns - src.ticks.front().event_ns + kNsPerSecond;
  return src;
}

namespace {

// What the callbacks see; written by the engine thread only, read after it is joined.
struct Sink {
  std::int64_t measure_from = 0;  // ticks with an origin before this are warm-up
  std::int64_t stall_ns = 0;
  std::int64_t stall_every_ns = 0;
  std::int64_t next_stall = 0;
  std::int64_t last_ns = 0;
  std::uint64_t processed = 0;
  std::uint64_t measured = 0;
  std::uint64_t alerts = 0;
  std::uint64_t stalls = 0;
  std::uint64_t checksum = 0;
  LatencyHistogram latency;
  LatencyHistogram alert_latency;
};

// The time origin t0 (20 ms ahead: time for both threads to pin and spin up) and a sink measuring from
// the end of the warm-up, with the configured stalls.
std::unique_ptr<Sink> make_sink(const HarnessConfig& cfg, std::int64_t& t0) {
  t0 = now_ns() + 20'000'000;
  auto sink = std::make_unique<Sink>();
  sink->measure_from = t0 + static_cast<std::int64_t>(cfg.warmup_s * 1e9);
  sink->stall_ns = cfg.stall_ns;
  sink->stall_every_ns = cfg.stall_every_ns;
  sink->next_stall = sink->measure_from;
  return sink;
}

inline std::uint64_t bits(double d) noexcept {
  std::uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}
inline void mix(std::uint64_t& h, std::uint64_t v) noexcept { h = std::rotl(h ^ v, 17) * 0x9E3779B97F4A7C15ull; }

void on_update(void* user, const Tick* t, const TickMetrics* m) {
  auto& s = *static_cast<Sink*>(user);
  const std::int64_t now = now_ns();
  ++s.processed;
  mix(s.checksum, bits(m->sma[0]) ^ bits(m->stddev[m->n_windows - 1]) ^ bits(m->volatility) ^ bits(m->vwap));
  if (t->ingest_ns >= s.measure_from) {
    s.latency.record(now - t->ingest_ns);
    ++s.measured;
    s.last_ns = now;
  }
  if (s.stall_ns > 0 && now >= s.next_stall) [[unlikely]] {
    // The injected pause: the engine thread stops consuming for stall_ns (busy, so it stays on-CPU).
    while (now_ns() < now + s.stall_ns) {
      cpu_relax();
    }
    ++s.stalls;
    s.next_stall = now + s.stall_every_ns;
  }
}

void on_alert(void* user, const Alert* a) {
  auto& s = *static_cast<Sink*>(user);
  ++s.alerts;
  mix(s.checksum, a->tick_seq * 8 + static_cast<std::uint64_t>(a->rule));
  if (a->ingest_ns >= s.measure_from) {
    s.alert_latency.record(now_ns() - a->ingest_ns);
  }
}

// The common time origin, published by the main thread once the consumer side is set up.
struct Start {
  std::atomic<std::int64_t> t0{0};
};

struct FeedCounts {
  std::uint64_t sent = 0;
  std::uint64_t sent_after_warmup = 0;
};

template <typename Push>
FeedCounts run_feed(const HarnessConfig& cfg, const TickSource& src, Start& start, std::int64_t measure_from,
                    Push&& push) {
  while (start.t0.load(std::memory_order_acquire) == 0) {  // partner: main thread's release store
    cpu_relax();
  }
  const std::int64_t t0 = start.t0.load(std::memory_order_relaxed);
  const std::int64_t end = t0 + static_cast<std::int64_t>((cfg.warmup_s + cfg.duration_s) * 1e9);
  const double interval = cfg.mode == Mode::kRate ? 1e9 / cfg.rate : 0;
  Replay replay(src);
  std::uint64_t i = 0;
  std::uint64_t first_measured = UINT64_MAX;
  for (;; ++i) {
    Tick t = replay.next();
    t.seq = i;
    std::int64_t origin;
    if (interval > 0) {
      origin = t0 + static_cast<std::int64_t>(static_cast<double>(i) * interval);
      if (origin >= end) {
        break;
      }
      wait_until(origin);  // open loop: wait for the schedule, never behind it
    } else {
      origin = now_ns();
      if (origin >= end) {
        break;
      }
    }
    if (origin >= measure_from && first_measured == UINT64_MAX) {
      first_measured = i;
    }
    push(t, origin);
  }
  return FeedCounts{i, first_measured == UINT64_MAX ? 0 : i - first_measured};
}

void prepare_symbols(SymbolTable& table, const TickSource& src) {
  for (std::size_t id = 0; id < src.names.size(); ++id) {
    if (table.intern(src.names[id]) != id) {
      throw std::runtime_error("symbol table refused the source's tickers");
    }
  }
}

HarnessResult finish(const HarnessConfig& cfg, const TickSource& src, Sink& sink) {
  HarnessResult r;
  r.config = cfg;
  r.label = to_string(cfg.transport);
  r.label += ' ';
  r.label += to_string(cfg.mode);
  if (cfg.mode == Mode::kRate) {
    r.label += ' ';
    r.label += std::to_string(static_cast<long long>(cfg.rate));
    r.label += "/s";
  }
  r.label += cfg.update_callback ? " update-cb " : " alert-cb ";
  r.label += src.name;
  r.processed = sink.processed;
  r.measured = sink.measured;
  r.alerts = sink.alerts;
  r.stalls = sink.stalls;
  r.checksum = sink.checksum;
  r.latency = sink.latency;
  r.alert_latency = sink.alert_latency;
  if (cfg.update_callback) {
    r.measured_seconds = sink.measured != 0 ? static_cast<double>(sink.last_ns - sink.measure_from) / 1e9 : 0;
    r.throughput = r.measured_seconds > 0 ? static_cast<double>(sink.measured) / r.measured_seconds : 0;
  }
  return r;
}

// Without a per-tick callback: ticks published from the end of warm-up, over the time until the
// engine had drained them all (every published tick is processed: back-pressure, no drops).
void count_at_feed(HarnessResult& r, const Sink& sink, std::uint64_t sent_after_warmup, std::int64_t drained_ns) {
  r.measured = sent_after_warmup;
  r.measured_seconds = static_cast<double>(drained_ns - sink.measure_from) / 1e9;
  r.throughput = r.measured_seconds > 0 ? static_cast<double>(sent_after_warmup) / r.measured_seconds : 0;
}

// One shard, room for every ticker of the source, back-pressure: the same for both transports.
EngineConfig engine_config(const HarnessConfig& cfg, const TickSource& src) {
  EngineConfig ec = cfg.engine;
  ec.shards = 1;
  ec.ring_capacity = cfg.ring_capacity;
  ec.full_policy = FullPolicy::kBlock;
  ec.max_tickers = std::max<std::uint32_t>(ec.max_tickers, static_cast<std::uint32_t>(src.names.size()) + 1);
  ec.validate();
  return ec;
}

// Wires the sink's callbacks into an Engine or a ShardCore (same configuration interface).
template <typename Target>
void attach(Target& target, const HarnessConfig& cfg, Sink& sink) {
  if (cfg.update_callback) {
    target.set_update_callback(on_update, &sink);
  }
  target.add_alert_callback(on_alert, &sink);
  target.set_measure_latency(false);  // the sink measures; the engine's own clock would read it twice
}

HarnessResult run_ring(const HarnessConfig& cfg, const TickSource& src) {
  Engine engine(engine_config(cfg, src));
  prepare_symbols(engine.symbols(), src);
  std::int64_t t0 = 0;
  auto sink = make_sink(cfg, t0);
  attach(engine, cfg, *sink);
  FeedPort& port = engine.open_port();
  Start start;
  bool feed_pinned = true;
  FeedCounts sent;
  std::thread feed([&] {
    feed_pinned = cfg.feed_cpu < 0 || pin_current_thread(cfg.feed_cpu, nullptr);
    sent = run_feed(cfg, src, start, sink->measure_from,
                    [&](const Tick& t, std::int64_t origin) { port.publish_at(t, origin); });
    port.close();
  });
  engine.start(cfg.idle, {cfg.engine_cpu});
  start.t0.store(t0, std::memory_order_release);  // partner: the feed's acquire load
  feed.join();
  engine.stop();
  const std::int64_t drained = now_ns();
  const EngineStats st = engine.stats();
  HarnessResult r = finish(cfg, src, *sink);
  r.sent = sent.sent;
  if (!cfg.update_callback) {
    r.processed = st.ticks;
    count_at_feed(r, *sink, sent.sent_after_warmup, drained);
  }
  r.dropped = st.dropped_ring_full;
  r.full_waits = st.blocked_waits;
  r.pinned = feed_pinned && st.pin_failures == 0;
  return r;
}

HarnessResult run_rwq(const HarnessConfig& cfg, const TickSource& src) {
  const EngineConfig ec = engine_config(cfg, src);
  SymbolTable symbols(ec.max_tickers);
  prepare_symbols(symbols, src);
  ShardCore core(ec, ec.max_tickers, 0, ShardIndex{1}, symbols);
  std::int64_t t0 = 0;
  auto sink = make_sink(cfg, t0);
  attach(core, cfg, *sink);
  moodycamel::ReaderWriterQueue<Tick> queue(cfg.ring_capacity);
  std::atomic<bool> done{false};
  Start start;
  bool feed_pinned = true;
  bool engine_pinned = true;
  FeedCounts sent;
  std::uint64_t full_waits = 0;
  std::thread shard([&] {  // the Engine's shard loop, over the peer queue
    engine_pinned = cfg.engine_cpu < 0 || pin_current_thread(cfg.engine_cpu, nullptr);
    IdleStrategy idle(cfg.idle);
    Tick t;
    for (;;) {
      std::size_t n = 0;
      while (n < 256 && queue.try_dequeue(t)) {
        core.on_tick(t);
        ++n;
      }
      if (n != 0) {
        idle.reset();
        continue;
      }
      if (done.load(std::memory_order_acquire)) {  // partner: the feed's release store below
        while (queue.try_dequeue(t)) {
          core.on_tick(t);
        }
        return;
      }
      idle.idle();
    }
  });
  std::thread feed([&] {
    feed_pinned = cfg.feed_cpu < 0 || pin_current_thread(cfg.feed_cpu, nullptr);
    sent = run_feed(cfg, src, start, sink->measure_from, [&](const Tick& in, std::int64_t origin) {
      Tick t = in;
      t.ingest_ns = origin;
      if (!queue.try_enqueue(t)) [[unlikely]] {
        ++full_waits;
        while (!queue.try_enqueue(t)) {
          cpu_relax();
        }
      }
    });
    done.store(true, std::memory_order_release);  // every tick is enqueued before this
  });
  start.t0.store(t0, std::memory_order_release);
  feed.join();
  shard.join();
  const std::int64_t drained = now_ns();
  HarnessResult r = finish(cfg, src, *sink);
  r.sent = sent.sent;
  if (!cfg.update_callback) {
    r.processed = core.counters().ticks;
    count_at_feed(r, *sink, sent.sent_after_warmup, drained);
  }
  r.full_waits = full_waits;
  r.pinned = feed_pinned && engine_pinned;
  return r;
}

}  // namespace

HarnessResult run_harness(const HarnessConfig& cfg, const TickSource& src) {
  if (src.ticks.empty()) {
    throw std::runtime_error("empty tick source");
  }
  if (cfg.mode == Mode::kRate && !(cfg.rate > 0)) {
    throw std::runtime_error("rate must be positive");
  }
  for (int cpu : {cfg.feed_cpu, cfg.engine_cpu}) {
    if (cpu >= 0 && !cpu_usable(cpu)) {
      throw std::runtime_error("CPU " + std::to_string(cpu) + " does not exist or is not allowed");
    }
  }
  calibrate_clock();
  return cfg.transport == Transport::kRing ? run_ring(cfg, src) : run_rwq(cfg, src);
}

}  // namespace tickforge::perf
