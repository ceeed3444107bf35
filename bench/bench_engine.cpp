// tickforge benchmarks — the per-tick work on one thread: calculators, rules, callbacks, symbol lookup,
// and the parsers that feed them.
//
// Calculator and rule costs run ShardCore::on_tick (the shard hot path) over a pre-generated synthetic
// stream (perf::synthetic_source: 64 tickers, random walk with jumps, 1 ms apart) replayed in laps
// (perf::Replay), with the engine's own latency clock off, so the figure is the tick's processing alone.
// Variants switch parts on and off through the public configuration; "per indicator" costs are the
// differences between variants, and the building block RollingMoments (SMA + variance of one window) is
// also timed alone.
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <tickforge/config.hpp>
#include <tickforge/records.hpp>
#include <tickforge/spsc_ring.hpp>
#include <tickforge/symbol_table.hpp>

#include "bench_common.hpp"
#include "csv_reader.hpp"
#include "engine_stream.hpp"
#include "harness.hpp"
#include "itch.hpp"
#include "itch_book.hpp"
#include "itch_generator.hpp"
#include "json_tick.hpp"
#include "rolling_moments.hpp"
#include "shard_core.hpp"

namespace {

using namespace tickforge;

using tfbench::kStream;
using tfbench::kTickers;
using tfbench::Stream;
using tfbench::stream;

enum Variant : int {
  kAll,            // default configuration: windows 5,10,20 + EMA, volatility, volume, VWAP, high/low, 5 rules
  kOneWindow,      // windows {20} only
  kNoRules,        // all indicators, every rule disabled
  kWithLatency,    // kAll + the engine's own ingest→processed latency clock and histogram
  kWithUpdateFn,   // kAll + a per-tick update callback receiving the metrics
  kWithDaily,      // kAll + daily summaries (UTC days), a callback counting them
  kWithDailySession,  // kAll + daily summaries cut to a 09:30–16:00 session
};

void on_tick(benchmark::State& st, Variant v) {
  const Stream& s = stream();
  EngineConfig cfg;  // the default capacity (16,384 tickers), so the high/low pool is the run command's
  if (v == kOneWindow) {
    cfg.sma_windows = {20};
  }
  if (v == kNoRules) {
    cfg.rules.window_move_pct = cfg.rules.tick_change_pct = cfg.rules.volatility_pct = 0;
    cfg.rules.volume_spike_factor = 0;
    cfg.rules.sma_cross = false;
  }
  if (v == kWithDaily || v == kWithDailySession) {
    cfg.daily.enabled = true;
    if (v == kWithDailySession) {
      cfg.daily.session_open_ns = (9 * 3600 + 1800) * kNsPerSecond;
      cfg.daily.session_close_ns = 16 * 3600 * kNsPerSecond;
    }
  }
  ShardCore core(cfg, cfg.max_tickers, 0, ShardIndex{1}, s.symbols);
  core.set_measure_latency(v == kWithLatency);
  std::uint64_t days = 0;
  if (cfg.daily.enabled) {
    core.add_daily_callback([](void* user, const DailySummary*) { ++*static_cast<std::uint64_t*>(user); }, &days);
  }
  double sink = 0;
  if (v == kWithUpdateFn) {
    core.set_update_callback(
        [](void* user, const Tick*, const TickMetrics* m) { *static_cast<double*>(user) += m->sma[0]; }, &sink);
  }
  perf::Replay replay(s.src);  // event time keeps rising lap after lap
  for (auto _ : st) {
    core.on_tick(replay.next());
  }
  benchmark::DoNotOptimize(sink);
  if (core.counters().ticks != static_cast<std::uint64_t>(st.iterations())) {
    tfbench::fail(st, "ticks lost");
  }
  if (v == kAll && st.iterations() > static_cast<benchmark::IterationCount>(kStream) &&
      core.counters().alerts == 0) {
    tfbench::fail(st, "no alert over a stream with jumps: rules not evaluated?");
  }
  st.SetItemsProcessed(st.iterations());
  st.counters["alerts"] = static_cast<double>(core.counters().alerts);
  st.counters["extrema_evictions"] = static_cast<double>(core.counters().extrema_evictions);
  if (cfg.daily.enabled) {
    st.counters["days"] = static_cast<double>(days);
  }
}

// The default configuration over a universe of range(0) tickers, range(1) ticks at a time: 1 = on_tick()
// per tick, more = on_ticks() over a batch (as a shard drains its ring), which prefetches the state of the
// ticks ahead once the universe's state outgrows the caches. The batch is copied out of the stream in both
// cases, so the difference is the call and the prefetching alone.
void universe(benchmark::State& st) {
  const auto tickers = static_cast<std::uint32_t>(st.range(0));
  const auto batch = static_cast<std::size_t>(st.range(1));
  // ~100 ticks per ticker per lap (the windows fill), at most 2^20 ticks.
  static std::map<std::uint32_t, perf::TickSource> sources;
  auto it = sources.find(tickers);
  if (it == sources.end()) {
    it = sources.emplace(tickers, perf::synthetic_source(tickers, std::min<std::size_t>(std::size_t{tickers} * 128, 1 << 20)))
             .first;
  }
  const perf::TickSource& src = it->second;
  SymbolTable symbols(std::bit_ceil(tickers * 2));
  for (const std::string& name : src.names) {
    (void)symbols.intern(name);
  }
  EngineConfig cfg;
  cfg.max_tickers = std::bit_ceil(tickers * 2);
  ShardCore core(cfg, cfg.max_tickers, 0, ShardIndex{1}, symbols);
  core.set_measure_latency(false);
  perf::Replay replay(src);
  std::vector<Tick> buf(batch);
  for (std::size_t k = 0; k < src.ticks.size(); ++k) {  // one lap first: every ticker's windows full
    core.on_tick(replay.next());
  }
  const std::uint64_t before = core.counters().ticks;
  for (auto _ : st) {
    for (std::size_t k = 0; k < batch; ++k) {
      buf[k] = replay.next();
    }
    if (batch == 1) {
      core.on_tick(buf[0]);
    } else {
      core.on_ticks(buf.data(), batch);
    }
  }
  if (core.counters().ticks - before != static_cast<std::uint64_t>(st.iterations()) * batch) {
    tfbench::fail(st, "ticks lost");
  }
  st.SetItemsProcessed(st.iterations() * static_cast<benchmark::IterationCount>(batch));
}

// SMA + variance of one window (the RollingMoments building block) over a price history ring.
void rolling_moments(benchmark::State& st) {
  const auto window = static_cast<std::uint32_t>(st.range(0));
  const Stream& s = stream();
  const std::uint32_t mask = std::bit_ceil(window + 1) - 1;
  std::vector<double> hist(mask + 1);
  const auto w = tickforge::MomentWindow::of(window, 1);
  RollingMoments m;
  std::uint32_t pos = 0;
  std::size_t i = 0;
  double sink = 0;
  for (auto _ : st) {
    hist[pos & mask] = s.ticks[i].price;
    m.push(tickforge::HistRing{hist.data(), mask + 1, pos & mask}, w, pos);
    sink += m.mean_full(w) + m.variance_full(w);
    ++pos;
    i = (i + 1) & (kStream - 1);
  }
  benchmark::DoNotOptimize(sink);
  st.SetItemsProcessed(st.iterations());
}

// The alert path: every tick fires (tick-change threshold 1e-9 %, cooldown 0), so each iteration is
// rules + alert record + one callback that copies the record into an SPSC ring (as the binary's relay).
void alert_path(benchmark::State& st) {
  const Stream& s = stream();
  EngineConfig cfg;
  cfg.max_tickers = 1024;
  cfg.rules.tick_change_pct = 1e-9;
  cfg.rules.cooldown_ns = 0;
  cfg.rules.window_move_pct = cfg.rules.volatility_pct = cfg.rules.volume_spike_factor = 0;
  cfg.rules.sma_cross = false;
  ShardCore core(cfg, cfg.max_tickers, 0, ShardIndex{1}, s.symbols);
  core.set_measure_latency(false);
  SpscRing<Alert> relay(1024);
  core.add_alert_callback([](void* user, const Alert* a) { (void)static_cast<SpscRing<Alert>*>(user)->try_push(*a); },
                          &relay);
  perf::Replay replay(s.src);
  std::uint64_t i = 0;
  std::uint64_t drained = 0;
  for (auto _ : st) {
    Tick t = replay.next();
    t.price *= 1.0 + 1e-6 * static_cast<double>((i >> 6) & 1);  // a ticker's price never repeats
    core.on_tick(t);
    if ((++i & 511) == 0) {  // the relay's reader (outside the engine thread in the binary)
      drained += relay.consume([](const Alert&) {}, SIZE_MAX);
    }
  }
  drained += relay.consume([](const Alert&) {}, SIZE_MAX);
  const auto n = static_cast<std::uint64_t>(st.iterations());
  if (n > 1024 && (core.counters().alerts + kTickers < n || drained == 0)) {
    tfbench::fail(st, "an alert per tick expected");
  }
  st.SetItemsProcessed(st.iterations());
  st.counters["alerts_per_tick"] =
      static_cast<double>(core.counters().alerts) / static_cast<double>(st.iterations());
}

// SymbolTable::find (the lock-free read path) over n registered tickers, names looked up in random order.
void symbol_lookup(benchmark::State& st) {
  const auto n = static_cast<std::uint32_t>(st.range(0));
  SymbolTable table(n * 2);
  std::vector<std::string> names;
  for (std::uint32_t k = 0; k < n; ++k) {
    std::string name = "T";
    name += std::to_string(k * 7919u % 1000003u);
    names.push_back(name);
    (void)table.intern(names.back());
  }
  std::mt19937 rng(7);
  std::vector<std::uint32_t> order(4096);
  for (auto& o : order) {
    o = static_cast<std::uint32_t>(rng() % n);
  }
  std::size_t i = 0;
  std::uint64_t misses = 0;
  for (auto _ : st) {
    misses += table.find(names[order[i]]) == kNoSymbol;
    i = (i + 1) & 4095;
  }
  if (misses != 0) {
    tfbench::fail(st, "registered ticker not found");
  }
  st.SetItemsProcessed(st.iterations());
}

// load_csv per row: read, split, parse date/price/volume, resolve the ticker, sort — a Yahoo-layout file.
void csv_load(benchmark::State& st) {
  const std::uint32_t rows = tfbench::options().quick ? 2'000 : 200'000;
  const std::string path = "/tmp/tickforge_bench_" + std::to_string(::getpid()) + ".csv";
  {
    std::ofstream out(path);
    out << "Date,Open,High,Low,Close,Adj Close,Volume\n";
    for (std::uint32_t r = 0; r < rows; ++r) {
      // 1,000 rows a day from 2000-01-01, a second apart (stays far inside the int64-ns range).
      const unsigned day = r / 1000;
      const unsigned sec = r % 1000;
      char line[160];
      const double p = 100.0 + 10.0 * std::sin(r * 0.01);
      std::snprintf(line, sizeof line, "%04u-%02u-%02u %02u:%02u:%02u,%.2f,%.2f,%.2f,%.2f,%.6f,%u\n",
                    2000 + day / 336, 1 + day / 28 % 12, 1 + day % 28, sec / 3600, sec / 60 % 60, sec % 60, p,
                    p + 1, p - 1, p, p * 0.98, 1'000'000 + r);
      out << line;
    }
  }
  SymbolTable symbols(16);
  CsvOptions opt;
  opt.path = path;
  opt.ticker = "AAPL";
  std::size_t accepted = 0;
  for (auto _ : st) {
    const CsvLoadResult res = load_csv(opt, [&](std::string_view t) { return symbols.intern(t); });
    accepted = res.rows.size();
  }
  std::remove(path.c_str());
  if (accepted != rows) {
    tfbench::fail(st, "rows rejected");
  }
  st.SetItemsProcessed(st.iterations() * rows);
}

// JsonTickParser::parse per message, over the seed pipeline's message format.
void json_parse(benchmark::State& st) {
  const Stream& s = stream();
  std::vector<std::string> msgs;
  for (std::size_t k = 0; k < 1024; ++k) {
    const Tick& t = s.ticks[k];
    char buf[160];
    const std::int64_t secs = t.event_ns / 1'000'000'000;
    std::snprintf(buf, sizeof buf, R"({"ticker":"%s","price":%.2f,"timestamp":"2024-12-09 %02lld:%02lld:%02lld"})",
                  s.symbols.name(t.symbol), t.price, static_cast<long long>(secs / 3600 % 24),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
    msgs.emplace_back(buf);
  }
  JsonTickParser parser(4096);
  JsonTick out;
  JsonReject why{};
  std::size_t i = 0;
  std::uint64_t bad = 0;
  std::size_t bytes = 0;
  for (auto _ : st) {
    bad += !parser.parse(msgs[i], out, why);
    bytes += msgs[i].size();
    benchmark::DoNotOptimize(out.price);
    i = (i + 1) & 1023;
  }
  if (bad != 0) {
    tfbench::fail(st, "valid message rejected");
  }
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

// Touches a field of every ITCH message so nothing is decoded for nothing.
struct ItchSum {
  std::uint64_t acc = 0;
  template <typename M>
  void on(const M& m) noexcept {
    acc += m.h.ns;
  }
  void on(const itch::AddOrder& m) noexcept { acc += m.ref + m.price + m.shares; }
  void on(const itch::OrderExecuted& m) noexcept { acc += m.ref + m.shares; }
  void on(const itch::OrderDelete& m) noexcept { acc += m.ref; }
  void on(const itch::Trade& m) noexcept { acc += m.price + m.shares; }
};

// The real-format ITCH sample (tests/data/itch), 12,012 messages in BinaryFILE framing.
std::vector<std::uint8_t> itch_sample_file() {
  std::ifstream in(std::string(TICKFORGE_SOURCE_DIR) + "/tests/data/itch/ex20101224.TEST_ITCH_50.lenfixed",
                   std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A print consumer that keeps the prints observable.
struct PrintSum {
  std::uint64_t* acc;
  void operator()(const ItchPrint& p) const noexcept { *acc += p.price * p.shares; }
};

// ITCH 5.0: BinaryFILE framing + decode of every message of the real-format sample file (12,012
// messages, 465 KB: it stays in the cache, so this is the decoder's own cost), per message.
void itch_decode(benchmark::State& st) {
  const std::vector<std::uint8_t> file = itch_sample_file();
  ItchSum sum;
  std::uint64_t messages = 0;
  for (auto _ : st) {
    itch::FileFramer f(file.data(), file.size());
    for (auto m = f.next(); m.data != nullptr; m = f.next()) {
      messages += itch::decode(m.data, m.size, sum) == itch::Status::kOk;
    }
    benchmark::DoNotOptimize(sum.acc);
  }
  if (messages != static_cast<std::uint64_t>(st.iterations()) * 12'012) {
    tfbench::fail(st, "the sample file did not decode to its 12,012 messages");
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(messages));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * file.size()));
}

// ITCH 5.0: framing + decoding + the order table → trade prints (feedhandlers/itch_book.hpp), per message,
// with the table sized for range(0) live orders (2^14: in the cache; 2^22: a day's scale, 96 MB of
// table, so lookups miss).
void itch_book(benchmark::State& st) {
  const std::vector<std::uint8_t> file = itch_sample_file();
  std::uint64_t messages = 0;
  std::uint64_t acc = 0;
  std::uint64_t prints = 0;
  std::unique_ptr<ItchBook<PrintSum>> book;
  for (auto _ : st) {
    st.PauseTiming();  // a fresh book per pass over the file (the same orders arrive again), untimed
    book.reset();
    book = std::make_unique<ItchBook<PrintSum>>(static_cast<std::size_t>(st.range(0)), PrintSum{&acc});
    st.ResumeTiming();
    itch::FileFramer f(file.data(), file.size());
    for (auto m = f.next(); m.data != nullptr; m = f.next()) {
      messages += itch::decode(m.data, m.size, *book) == itch::Status::kOk;
    }
    prints += book->counters().prints_e + book->counters().prints_p;
    benchmark::DoNotOptimize(acc);
  }
  if (messages != static_cast<std::uint64_t>(st.iterations()) * 12'012 ||
      prints != static_cast<std::uint64_t>(st.iterations()) * 5'180) {
    tfbench::fail(st, "the sample file did not give its 12,012 messages and 5,180 prints");
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(messages));
}

// A generated session (feedhandlers/itch_generator.hpp): 4 M order-flow messages over 500 stocks, the
// book around 100,000 live orders (≈ 123 MB, beyond every cache), made once per process.
const std::vector<std::uint8_t>& itch_generated() {
  static const std::vector<std::uint8_t> bytes = [] {
    ItchGenOptions o;
    o.messages = tfbench::options().quick ? 200'000 : 4'000'000;
    o.stocks = 500;
    o.live_orders = 100'000;
    return ItchGenerator(o).generate_all();
  }();
  return bytes;
}

// Framing + decode of the generated session, per message: the decoder streaming through memory.
void itch_decode_generated(benchmark::State& st) {
  const std::vector<std::uint8_t>& file = itch_generated();
  ItchSum sum;
  std::uint64_t messages = 0, bad = 0;
  for (auto _ : st) {
    itch::FileFramer f(file.data(), file.size());
    for (auto m = f.next(); m.data != nullptr; m = f.next()) {
      const bool ok = itch::decode(m.data, m.size, sum) == itch::Status::kOk;
      messages += ok;
      bad += !ok;
    }
    benchmark::DoNotOptimize(sum.acc);
  }
  if (bad != 0) {
    tfbench::fail(st, "the generated session did not decode");
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(messages));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * file.size()));
}

// Framing + decode + the order table → prints over the generated session, per message, the table sized
// for range(0) live orders (2^17: 6 MB of table for the ~100,000 live; 2^20: the feed's default, 48 MB;
// 2^22: 192 MB). A fresh book per pass (untimed).
void itch_book_generated(benchmark::State& st) {
  const std::vector<std::uint8_t>& file = itch_generated();
  std::uint64_t messages = 0, acc = 0, unknown = 0;
  std::unique_ptr<ItchBook<PrintSum>> book;
  for (auto _ : st) {
    st.PauseTiming();
    book.reset();
    book = std::make_unique<ItchBook<PrintSum>>(
        static_cast<std::size_t>(st.range(0)), PrintSum{&acc},
        st.range(1) != 0 ? ItchOrderTable::Index::kSequential : ItchOrderTable::Index::kHashed);
    st.ResumeTiming();
    itch::FileFramer f(file.data(), file.size());
    for (auto m = f.next(); m.data != nullptr; m = f.next()) {
      messages += itch::decode(m.data, m.size, *book) == itch::Status::kOk;
    }
    const ItchBookCounters& c = book->counters();
    unknown += c.unknown_execute + c.unknown_delete + c.unknown_cancel + c.unknown_replace + c.table_full;
    benchmark::DoNotOptimize(acc);
  }
  if (unknown != 0) {
    tfbench::fail(st, "the book met orders it did not have");
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(messages));
}

void register_all() {
  using tfbench::tune;
  tune(benchmark::RegisterBenchmark("OnTick/all_indicators_and_rules", [](auto& st) { on_tick(st, kAll); }));
  tune(benchmark::RegisterBenchmark("Itch/decode_sample_file", itch_decode));
  tune(benchmark::RegisterBenchmark("Itch/decode_and_book_sample_file", itch_book))->Arg(1 << 14);
  // The day-sized table takes ~30 ms (untimed) to build per pass: a fixed number of passes (not tune():
  // a fixed count excludes a minimum time).
  benchmark::RegisterBenchmark("Itch/decode_and_book_sample_file", itch_book)
      ->Arg(1 << 22)
      ->Iterations(tfbench::options().quick ? 1 : 30)
      ->Repetitions(tfbench::options().quick ? 1 : tfbench::kRepetitions)
      ->ReportAggregatesOnly(!tfbench::options().quick);
  tune(benchmark::RegisterBenchmark("Itch/decode_generated", itch_decode_generated));
  for (const std::int64_t orders : {std::int64_t{1} << 17, std::int64_t{1} << 20, std::int64_t{1} << 22}) {
    benchmark::RegisterBenchmark("Itch/decode_and_book_generated", itch_book_generated)
        ->ArgNames({"orders", "sequential"})
        ->Args({orders, 0})
        ->Args({orders, 1})
        ->Iterations(tfbench::options().quick ? 1 : 3)
        ->Repetitions(tfbench::options().quick ? 1 : tfbench::kRepetitions)
        ->ReportAggregatesOnly(!tfbench::options().quick);
  }
  tune(benchmark::RegisterBenchmark("OnTick/one_window_20", [](auto& st) { on_tick(st, kOneWindow); }));
  tune(benchmark::RegisterBenchmark("OnTick/all_indicators_no_rules", [](auto& st) { on_tick(st, kNoRules); }));
  tune(benchmark::RegisterBenchmark("OnTick/all+latency_clock", [](auto& st) { on_tick(st, kWithLatency); }));
  tune(benchmark::RegisterBenchmark("OnTick/all+update_callback", [](auto& st) { on_tick(st, kWithUpdateFn); }));
  tune(benchmark::RegisterBenchmark("OnTick/all+daily_summaries", [](auto& st) { on_tick(st, kWithDaily); }));
  tune(benchmark::RegisterBenchmark("OnTick/all+daily_session", [](auto& st) { on_tick(st, kWithDailySession); }));
  tune(benchmark::RegisterBenchmark("Universe/tickers_batch", universe))
      ->Args({64, 1})->Args({64, 64})->Args({10'000, 1})->Args({10'000, 64})->Args({100'000, 1})->Args({100'000, 64});
  tune(benchmark::RegisterBenchmark("RollingMoments/sma_variance", rolling_moments))->Arg(5)->Arg(20)->Arg(200);
  tune(benchmark::RegisterBenchmark("AlertPath/rule_record_callback_relay", alert_path));
  tune(benchmark::RegisterBenchmark("SymbolLookup/find", symbol_lookup))->Arg(64)->Arg(10'000)->Arg(1'000'000);
  tune(benchmark::RegisterBenchmark("Parse/csv_yahoo_row", csv_load))->Unit(benchmark::kMillisecond);
  tune(benchmark::RegisterBenchmark("Parse/json_tick_message", json_parse));
}

}  // namespace

int main(int argc, char** argv) { return tfbench::run_main(argc, argv, register_all); }
