// tickforge-capi-perf — push → alert callback latency through the C API (libtickforge.so) beside the
// native C++ path (Engine + FeedPort), in one process, rounds interleaved so both see the same machine.
//
// Every tick fires one alert (tick-change rule at 0.0001 %, prices alternating ±0.1 %, 1 ns cooldown),
// so every tick is a latency sample taken in the alert callback (on the pinned shard thread). Open loop:
// tick i is due at t0 + i/rate and its latency counts from that due time, taken just before the push
// call, so a stall delays — and shows in — every tick behind it. Before the engine starts, a burst of
// ring-capacity ticks is offered into the idle ring and timed: the push call's own cost in ns per tick,
// with no consumer competing for the cache lines.
//
// Usage: tickforge-capi-perf [--rounds 5] [--rate 200000] [--ticks 400000] [--producer-cpu 0]
//                            [--engine-cpu 1] [--json FILE]
#include <tickforge/engine.hpp>
#include <tickforge/tickforge.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "clock.hpp"
#include "settings.hpp"
#include "latency_histogram.hpp"
#include "pacer.hpp"

using namespace tickforge;

namespace {

struct Options {
  int rounds = 5;
  double rate = 200'000;
  std::uint64_t ticks = 400'000;
  std::uint64_t warmup = 50'000;
  std::uint64_t burst = 65536;  // = ring-capacity below: the burst fills the idle ring exactly
  int producer_cpu = 0;
  int engine_cpu = 1;
  std::string json;
};

// Written by the shard thread (callback), read after the engine stopped.
struct Probe {
  const std::int64_t* sent = nullptr;  // [seq] = due time of tick seq
  std::uint64_t warmup = 0;
  std::uint64_t alerts = 0;
  LatencyHistogram hist;
  void on(std::uint64_t seq) noexcept {
    ++alerts;
    if (seq >= warmup) {
      hist.record(now_ns() - sent[seq]);
    }
  }
  static void native(void* self, const Alert* a) noexcept { static_cast<Probe*>(self)->on(a->tick_seq); }
  static void c_api(void* self, const tf_alert_t* a) { static_cast<Probe*>(self)->on(a->tick_seq); }
};

double price_of(std::uint64_t i) { return (i & 1) != 0 ? 100.1 : 100.0; }
std::int64_t event_of(std::uint64_t i) { return 1'700'000'000'000'000'000 + static_cast<std::int64_t>(i) * 1'000'000; }

const char* const kSettings[][2] = {
    {"shards", "1"},          {"sma", "5,20"},        {"tick-change-pct", "0.0001"}, {"cooldown", "1ns"},
    {"alert-pct", "0"},       {"volatility-pct", "0"}, {"sma-cross", "false"},       {"volume-spike", "0"},
    {"ring-capacity", "65536"}, {"idle", "spin"},
};

EngineConfig native_config() {
  RunOptions opt;
  for (const auto& kv : kSettings) {
    apply_setting(opt, kv[0], kv[1]);
  }
  opt.finalize();
  return opt.engine;
}

struct Result {
  LatencySummary latency;
  std::uint64_t alerts = 0;
  double burst_ns_per_tick = 0;
};

void die(const std::string& what) {
  fmt::print(stderr, "tickforge-capi-perf: {}\n", what);
  std::exit(1);
}

// One path: the burst into the idle ring (ticks 0..burst-1, timed), start(), then the paced ticks.
// offer(i) must take tick i without waiting; push(i) may wait for room.
template <typename Offer, typename Start, typename Push>
void drive(const Options& o, std::vector<std::int64_t>& sent, Offer&& offer, Start&& start, Push&& push,
           double* burst_ns) {
  const std::int64_t b0 = now_ns();
  for (std::uint64_t i = 0; i < o.burst; ++i) {
    offer(i);
  }
  *burst_ns = static_cast<double>(now_ns() - b0) / static_cast<double>(o.burst);
  start();
  const std::int64_t t0 = now_ns() + 1'000'000;
  const double interval = 1e9 / o.rate;
  for (std::uint64_t i = o.burst; i < o.burst + o.ticks; ++i) {
    const auto due = t0 + static_cast<std::int64_t>(static_cast<double>(i - o.burst) * interval);
    wait_until(due);
    sent[i] = due;
    push(i);
  }
}

Result run_native(const Options& o, std::vector<std::int64_t>& sent) {
  Engine e(native_config());
  Probe probe{sent.data(), o.burst + o.warmup, 0, {}};
  e.add_alert_callback(&Probe::native, &probe);
  e.set_measure_latency(false);
  FeedPort& port = e.open_port();
  const SymbolId sym = e.symbols().intern("AAPL");
  Result r;
  // The same work the C API does per tick: build the tick, stamp it, one ring write.
  auto tick = [&](std::uint64_t i) { return Tick{sym, 0, price_of(i), 10.0, event_of(i), i, 0}; };
  drive(
      o, sent,
      [&](std::uint64_t i) {
        if (port.try_publish_at(tick(i), FeedPort::now_ns()) != FeedPort::Push::kOk) [[unlikely]] {
          die("native burst: ring full");
        }
      },
      [&] { e.start(IdleKind::kBusySpin, {o.engine_cpu}); },
      [&](std::uint64_t i) {
        while (port.try_publish_at(tick(i), FeedPort::now_ns()) != FeedPort::Push::kOk) {
          cpu_relax();
        }
      },
      &r.burst_ns_per_tick);
  port.close();
  e.stop();
  r.latency = summarize(probe.hist);
  r.alerts = probe.alerts;
  return r;
}

Result run_capi(const Options& o, std::vector<std::int64_t>& sent) {
  char err[512];
  tf_config_t* conf = tf_config_new();
  for (const auto& kv : kSettings) {
    if (tf_config_set(conf, kv[0], kv[1], err, sizeof(err)) != TF_OK) {
      die(err);
    }
  }
  const std::string cpu = std::to_string(o.engine_cpu);
  if (tf_config_set(conf, "engine-cpu", cpu.c_str(), err, sizeof(err)) != TF_OK) {
    die(err);
  }
  tf_engine_t* e = tf_engine_new(conf, err, sizeof(err));
  tf_config_destroy(conf);
  if (e == nullptr) {
    die(err);
  }
  Probe probe{sent.data(), o.burst + o.warmup, 0, {}};
  std::uint32_t sym = 0;
  tf_producer_t* p = tf_producer_new(e, err, sizeof(err));
  if (p == nullptr || tf_engine_on_alert(e, &Probe::c_api, &probe) != TF_OK ||
      tf_engine_symbol(e, "AAPL", &sym) != TF_OK) {
    die(std::string("C API set-up failed: ") + err);
  }
  Result r;
  drive(
      o, sent,
      [&](std::uint64_t i) {
        const tf_tick_t t{sym, 0, event_of(i), price_of(i), 10.0};
        if (tf_producer_offer(p, &t) != TF_OK) [[unlikely]] {
          die("C API burst: tf_producer_offer refused a tick");
        }
      },
      [&] {
        if (tf_engine_start(e, err, sizeof(err)) != TF_OK) {
          die(err);
        }
      },
      [&](std::uint64_t i) {
        const tf_tick_t t{sym, 0, event_of(i), price_of(i), 10.0};
        if (tf_producer_push(p, &t) != TF_OK) [[unlikely]] {
          die("tf_producer_push failed");
        }
      },
      &r.burst_ns_per_tick);
  tf_engine_stop(e);
  tf_engine_destroy(e);
  r.latency = summarize(probe.hist);
  r.alerts = probe.alerts;
  return r;
}

template <typename T>
T median(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"push → alert callback latency: C API vs native C++, interleaved rounds"};
  app.add_option("--rounds", o.rounds, "rounds per path (interleaved)")->check(CLI::Range(1, 100));
  app.add_option("--rate", o.rate, "paced ticks per second")->check(CLI::Range(1.0, 1e8));
  app.add_option("--ticks", o.ticks, "paced ticks per round")->check(CLI::Range(1000ull, 100'000'000ull));
  app.add_option("--warmup", o.warmup, "first paced ticks not measured");
  app.add_option("--producer-cpu", o.producer_cpu, "CPU of the pushing thread (-1: not pinned)");
  app.add_option("--engine-cpu", o.engine_cpu, "CPU of the shard thread");
  app.add_option("--json", o.json, "write the per-round results here");
  CLI11_PARSE(app, argc, argv);
  if (o.warmup >= o.ticks) {
    die("--warmup must be below --ticks");
  }
  calibrate_clock();
  if (o.producer_cpu >= 0) {
    std::string why;
    if (!pin_current_thread(o.producer_cpu, &why)) {
      die(why);
    }
  }
  if (tf_version() != TF_VERSION) {
    die("library version differs from the header");
  }
  std::vector<std::int64_t> sent(o.burst + o.ticks);
  std::vector<Result> native, capi;
  fmt::print("{:>5} {:>7} {:>10} {:>10} {:>10} {:>10} {:>12}\n", "round", "path", "p50 ns", "p99 ns", "p99.9 ns",
             "max ns", "burst ns/tick");
  for (int round = 0; round < o.rounds; ++round) {
    // Alternate which path goes first, so neither always runs on a warmer (or hotter) machine.
    for (int k = 0; k < 2; ++k) {
      const bool c = ((round + k) & 1) != 0;
      Result r = c ? run_capi(o, sent) : run_native(o, sent);
      const std::uint64_t expected = o.burst + o.ticks - 1;  // the first tick has no change to alert on
      if (r.alerts != expected) {
        die(fmt::format("{}: {} alerts for {} ticks (every tick must alert)", c ? "capi" : "native", r.alerts,
                        expected));
      }
      fmt::print("{:>5} {:>7} {:>10} {:>10} {:>10} {:>10} {:>12.1f}\n", round, c ? "capi" : "native", r.latency.p50,
                 r.latency.p99, r.latency.p999, r.latency.max, r.burst_ns_per_tick);
      (c ? capi : native).push_back(r);
    }
  }
  auto med = [](const std::vector<Result>& v, auto field) {
    std::vector<double> xs;
    for (const Result& r : v) {
      xs.push_back(field(r));
    }
    return median(xs);
  };
  const auto p50 = [](const Result& r) { return static_cast<double>(r.latency.p50); };
  const auto p99 = [](const Result& r) { return static_cast<double>(r.latency.p99); };
  const auto burst = [](const Result& r) { return r.burst_ns_per_tick; };
  fmt::print("\nmedian of {} rounds at {:.0f} ticks/s ({} measured ticks per round; burst of {} ticks into the idle "
             "ring):\n", o.rounds, o.rate, o.ticks - o.warmup, o.burst);
  fmt::print("  native C++: p50 {:.0f} ns  p99 {:.0f} ns  burst {:.1f} ns/tick\n", med(native, p50), med(native, p99),
             med(native, burst));
  fmt::print("  C API     : p50 {:.0f} ns  p99 {:.0f} ns  burst {:.1f} ns/tick\n", med(capi, p50), med(capi, p99),
             med(capi, burst));
  fmt::print("  C API - native: p50 {:+.0f} ns  burst {:+.1f} ns/tick\n", med(capi, p50) - med(native, p50),
             med(capi, burst) - med(native, burst));
  if (!o.json.empty()) {
    std::FILE* f = std::fopen(o.json.c_str(), "w");
    if (f == nullptr) {
      die("cannot write " + o.json);
    }
    fmt::print(f, "{{\"rate\": {}, \"ticks\": {}, \"warmup\": {}, \"burst\": {}, \"rounds\": [", o.rate, o.ticks,
               o.warmup, o.burst);
    for (std::size_t i = 0; i < native.size(); ++i) {
      for (const auto* pr : {&native[i], &capi[i]}) {
        fmt::print(f, "{}{{\"round\": {}, \"path\": \"{}\", \"p50\": {}, \"p99\": {}, \"p999\": {}, \"max\": {}, "
                      "\"burst_ns_per_tick\": {:.2f}}}",
                   i == 0 && pr == &native[i] ? "" : ", ", i, pr == &native[i] ? "native" : "capi",
                   pr->latency.p50, pr->latency.p99, pr->latency.p999, pr->latency.max, pr->burst_ns_per_tick);
      }
    }
    fmt::print(f, "]}}\n");
    std::fclose(f);
  }
  return 0;
}
