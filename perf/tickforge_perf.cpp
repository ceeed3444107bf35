// tickforge-perf — end-to-end latency/throughput harness (see harness.hpp for what is measured).
//
//   tickforge-perf --mode rate --rate 1000000 --transport both --json out.json --plot out.png
//   tickforge-perf --mode saturate --transport both
//   tickforge-perf --source tests/data/plotly_dash-stock-ticker-demo.csv --rate 100000
//
// Every configuration (rate × transport, repeated --rounds times, transports alternating so both see
// the same machine) prints p50/p90/p99/p99.9/p99.99/max and throughput; with two transports the
// rwq/ring ratios follow. --json writes everything (with the percentile curves), --plot a PNG of the
// latency percentile distributions (gnuplot), one line per configuration.
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/os.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <thread>

#include <sys/utsname.h>

#include <tickforge/engine.hpp>

#include "clock.hpp"
#include "harness.hpp"

namespace {

using namespace tickforge;
using namespace tickforge::perf;


// The latency a configuration is judged by: every tick's (update callback) or the alerts' (alert callback only).
const LatencyHistogram& shown(const HarnessResult& r) { return r.config.update_callback ? r.latency : r.alert_latency; }

std::string us(std::uint64_t ns) { return fmt::format("{:.3f}", static_cast<double>(ns) / 1000.0); }

// HdrHistogram-style percentile curve: q = 1 - 10^(-k/10), k = 0, 1, …, while the rank stays inside the data.
std::vector<std::pair<double, std::uint64_t>> curve(const LatencyHistogram& h) {
  std::vector<std::pair<double, std::uint64_t>> pts;
  const double n = static_cast<double>(h.count());
  for (int k = 0; k <= 70; ++k) {
    const double q = 1.0 - std::pow(10.0, -k / 10.0);
    if (n * (1.0 - q) < 1.0 && k != 0) {
      break;
    }
    pts.emplace_back(q, h.percentile(q));
  }
  pts.emplace_back(1.0, h.max());
  return pts;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

void write_json(const std::string& path, const std::vector<HarnessResult>& results, const std::string& machine) {
  std::ofstream out(path);
  if (!out) {
    throw std::runtime_error("cannot write " + path);
  }
  out << "{\n  \"tool\": \"tickforge-perf\",\n  \"machine\": \"" << json_escape(machine) << "\",\n  \"results\": [\n";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const HarnessResult& r = results[i];
    const LatencySummary s = summarize(r.latency);
    const LatencySummary a = summarize(r.alert_latency);
    out << fmt::format(
        "    {{\"label\": \"{}\", \"transport\": \"{}\", \"mode\": \"{}\", \"offered_rate\": {}, "
        "\"warmup_s\": {}, \"duration_s\": {}, \"feed_cpu\": {}, \"engine_cpu\": {}, \"pinned\": {}, "
        "\"stall_ns\": {}, \"stall_every_ns\": {},\n"
        "     \"sent\": {}, \"processed\": {}, \"measured\": {}, \"dropped\": {}, \"full_waits\": {}, "
        "\"alerts\": {}, \"stalls\": {}, \"checksum\": \"{:016x}\", \"measured_seconds\": {:.6f}, "
        "\"throughput\": {:.1f},\n"
        "     \"latency_ns\": {{\"count\": {}, \"p50\": {}, \"p90\": {}, \"p99\": {}, \"p99_9\": {}, \"p99_99\": {}, "
        "\"max\": {}}},\n"
        "     \"alert_latency_ns\": {{\"count\": {}, \"p50\": {}, \"p99\": {}, \"max\": {}}},\n"
        "     \"percentile_curve\": [",
        json_escape(r.label), to_string(r.config.transport), to_string(r.config.mode),
        r.config.mode == Mode::kRate ? r.config.rate : 0.0, r.config.warmup_s, r.config.duration_s,
        r.config.feed_cpu, r.config.engine_cpu, r.pinned ? "true" : "false", r.config.stall_ns,
        r.config.stall_every_ns, r.sent, r.processed, r.measured, r.dropped, r.full_waits, r.alerts, r.stalls,
        r.checksum, r.measured_seconds, r.throughput, r.latency.count(), s.p50, s.p90, s.p99, s.p999, s.p9999,
        s.max, r.alert_latency.count(), a.p50, a.p99, a.max);
    const auto pts = curve(shown(r));
    for (std::size_t k = 0; k < pts.size(); ++k) {
      out << fmt::format("{}[{:.10f}, {}]", k == 0 ? "" : ", ", pts[k].first, pts[k].second);
    }
    out << "]}" << (i + 1 == results.size() ? "\n" : ",\n");
  }
  out << "  ]\n}\n";
}

// One data block per configuration: x = 1/(1-q) (log axis: 2 = p50, 10 = p90, 100 = p99, …), y = µs.
bool write_plot(const std::string& png, const std::vector<HarnessResult>& results, const std::string& title) {
  const std::string dat = png + ".dat";
  const std::string gp = png + ".gp";
  {
    std::ofstream d(dat);
    for (const HarnessResult& r : results) {
      d << "# " << r.label << "\n";
      for (const auto& [q, v] : curve(shown(r))) {
        const double x = q >= 1.0 ? 1e7 : 1.0 / (1.0 - q);
        d << fmt::format("{:.6g} {:.4f}\n", std::min(x, 1e7), std::max(static_cast<double>(v), 1.0) / 1000.0);
      }
      d << "\n\n";
    }
  }
  {
    std::ofstream g(gp);
    g << "set terminal pngcairo size 1100,650 noenhanced\n"
      << "set output '" << png << "'\n"
      << "set title '" << title << "'\n"
      << "set logscale x\nset logscale y\nset grid\n"
      << "set xlabel 'percentile'\nset ylabel 'tick -> callback latency (us)'\n"
      << "set xtics ('0%%' 1, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000, '99.999%%' 100000, "
         "'99.9999%%' 1000000, 'max' 10000000)\n"
      << "set key top left\n"
      << "plot ";
    for (std::size_t i = 0; i < results.size(); ++i) {
      g << (i == 0 ? "" : ", ") << "'" << dat << "' index " << i << " using 1:2 with linespoints title '"
        << results[i].label << "'";
    }
    g << "\n";
  }
  const std::string cmd = "gnuplot '" + gp + "'";
  return std::system(cmd.c_str()) == 0;
}

std::string machine_description() {
  std::string cpu = "unknown CPU";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  utsname u{};
  uname(&u);
  return fmt::format("{}; {} CPUs online; Linux {}; compiler {}", cpu, std::thread::hardware_concurrency(),
                     u.release, __VERSION__);
}

// The platform's own hiccups: one pinned thread reads the clock in a tight loop; every gap between two
// reads is time the CPU was taken away (interrupts, hypervisor, other tasks). No engine involved: this is
// the floor under any tail latency measured on the same CPU.
int jitter_probe(int cpu, double seconds) {
  if (cpu >= 0 && !pin_current_thread(cpu, nullptr)) {
    fmt::print(stderr, "tickforge-perf: cannot pin to CPU {}\n", cpu);
    return 2;
  }
  calibrate_clock();
  LatencyHistogram gaps;
  std::int64_t lost_ns = 0;
  std::uint64_t hiccups = 0;
  const std::int64_t start = now_ns();
  const std::int64_t end = start + static_cast<std::int64_t>(seconds * 1e9);
  std::int64_t prev = start;
  for (std::int64_t t = now_ns(); t < end; t = now_ns()) {
    const std::int64_t gap = t - prev;
    gaps.record(gap);
    if (gap >= 1'000) {
      lost_ns += gap;
      ++hiccups;
    }
    prev = t;
  }
  const double total = static_cast<double>(prev - start);
  fmt::print("jitter probe on CPU {} for {:.1f} s: clock-read gaps p50 {} ns, p99.99 {} ns, max {} us; "
             "{} gaps >= 1 us ({:.0f}/s) took {:.3f} % of the time\n",
             cpu, total / 1e9, gaps.percentile(0.5), gaps.percentile(0.9999), us(gaps.max()), hiccups,
             static_cast<double>(hiccups) / (total / 1e9), 100.0 * static_cast<double>(lost_ns) / total);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tickforge-perf: end-to-end tick -> callback latency and throughput on pinned CPUs"};
  std::string mode = "rate";
  std::string transport = "ring";
  std::vector<double> rates{1'000'000};
  std::string source = "synthetic";
  std::uint32_t tickers = 64;
  HarnessConfig base;
  std::string idle = "spin";
  int rounds = 1;
  double stall_us = 0;
  double stall_every_ms = 100;
  std::string json_path;
  std::string plot_path;
  bool quick = false;
  std::string callback = "auto";
  app.add_option("--mode", mode,
                 "rate (open loop at --rate), saturate (as fast as possible) or jitter (the platform's own "
                 "hiccups on --engine-cpu: no engine)")
      ->check(CLI::IsMember({"rate", "saturate", "jitter"}));
  app.add_option("--rate", rates, "offered ticks/s; several (comma-separated) give one configuration each")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  app.add_option("--transport", transport, "ring (the engine), rwq (moodycamel ReaderWriterQueue) or both")
      ->check(CLI::IsMember({"ring", "rwq", "both"}));
  app.add_option("--rounds", rounds, "repeat every configuration; transports alternate")->check(CLI::Range(1, 100));
  app.add_option("--source", source, "synthetic, or a CSV history file to replay in laps");
  app.add_option("--tickers", tickers, "synthetic tickers")->check(CLI::Range(1, 100000));
  app.add_option("--duration", base.duration_s, "measured seconds per configuration")->check(CLI::PositiveNumber);
  app.add_option("--warmup", base.warmup_s, "seconds not recorded at the start")->check(CLI::NonNegativeNumber);
  app.add_option("--feed-cpu", base.feed_cpu, "CPU of the feed thread (-1: unpinned)");
  app.add_option("--engine-cpu", base.engine_cpu, "CPU of the engine shard thread (-1: unpinned)");
  app.add_option("--idle", idle, "engine idle strategy: spin, yield, backoff, sleep")
      ->check(CLI::IsMember({"spin", "yield", "backoff", "sleep"}));
  app.add_option("--ring-capacity", base.ring_capacity, "slots in the transport")->check(CLI::Range(2u, 1u << 26));
  app.add_option("--stall-us", stall_us, "pause the engine thread this long (busy) …")->check(CLI::NonNegativeNumber);
  app.add_option("--stall-every-ms", stall_every_ms, "… once per this many ms")->check(CLI::PositiveNumber);
  app.add_option("--json", json_path, "write results (with percentile curves) as JSON");
  app.add_option("--plot", plot_path, "write a PNG of the percentile distributions (gnuplot)");
  app.add_option("--callback", callback,
                 "update: per-tick update callback, every tick's latency; alert: alert callback only, "
                 "throughput counted at the feed; auto: update for rate, alert for saturate")
      ->check(CLI::IsMember({"auto", "update", "alert"}));
  app.add_flag("--quick", quick, "short run (0.3 s, 0.05 s warm-up) for the test command");
  CLI11_PARSE(app, argc, argv);

  if (quick) {
    base.duration_s = 0.3;
    base.warmup_s = 0.05;
  }
  if (mode == "jitter") {
    return jitter_probe(base.engine_cpu, base.duration_s);
  }
  base.mode = mode == "rate" ? Mode::kRate : Mode::kSaturate;
  base.idle = idle == "spin"    ? IdleKind::kBusySpin
              : idle == "yield" ? IdleKind::kSpinYield
              : idle == "backoff" ? IdleKind::kBackoff
                                  : IdleKind::kSleep;
  base.update_callback = callback == "update" || (callback == "auto" && base.mode == Mode::kRate);
  base.stall_ns = static_cast<std::int64_t>(stall_us * 1e3);
  base.stall_every_ns = static_cast<std::int64_t>(stall_every_ms * 1e6);

  try {
    const TickSource src = source == "synthetic" ? synthetic_source(tickers, quick ? 1 << 16 : 1 << 20)
                                                 : csv_source(source);
    std::vector<Transport> transports;
    if (transport != "rwq") {
      transports.push_back(Transport::kRing);
    }
    if (transport != "ring") {
      transports.push_back(Transport::kRwq);
    }
    if (base.mode == Mode::kSaturate) {
      rates = {0};
    }
    const std::string machine = machine_description();
    fmt::print("tickforge-perf: {}; source {} ({} ticks, {} tickers); feed CPU {}, engine CPU {}, idle {}\n",
               machine, src.name, src.ticks.size(), src.names.size(), base.feed_cpu, base.engine_cpu, idle);
    fmt::print("{:<56} {:>10} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>12} {:>7}\n", "configuration (latency in µs)",
               "p50", "p90", "p99", "p99.9", "p99.99", "max", "alerts", "ticks/s", "waits");
    std::vector<HarnessResult> results;
    for (int round = 0; round < rounds; ++round) {
      for (double rate : rates) {
        for (Transport t : transports) {
          HarnessConfig cfg = base;
          cfg.transport = t;
          cfg.rate = rate;
          HarnessResult r = run_harness(cfg, src);
          if (rounds > 1) {
            r.label += fmt::format(" #{}", round + 1);
          }
          const LatencySummary s = summarize(shown(r));
          fmt::print("{:<56} {:>10} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>12.0f} {:>7}{}\n", r.label, us(s.p50),
                     us(s.p90), us(s.p99), us(s.p999), us(s.p9999), us(s.max), r.alerts, r.throughput, r.full_waits,
                     r.pinned ? "" : "  (NOT pinned)");
          if (r.dropped != 0 || r.processed != r.sent) {
            fmt::print(stderr, "error: {} sent, {} processed, {} dropped\n", r.sent, r.processed, r.dropped);
            return 1;
          }
          results.push_back(std::move(r));
        }
      }
    }
    if (transports.size() == 2) {
      // Ratios per (rate, round): rwq over ring for latency (> 1: ring faster), ring over rwq for throughput.
      for (std::size_t i = 0; i + 1 < results.size(); i += 2) {
        const LatencySummary a = summarize(shown(results[i]));
        const LatencySummary b = summarize(shown(results[i + 1]));
        auto ratio = [](std::uint64_t x, std::uint64_t y) { return y == 0 ? 0.0 : static_cast<double>(x) / y; };
        fmt::print("ratio rwq/ring {:<44} p50 {:.2f}x  p99 {:.2f}x  p99.9 {:.2f}x  throughput ring/rwq {:.2f}x  "
                   "checksums {}\n",
                   results[i].label, ratio(b.p50, a.p50), ratio(b.p99, a.p99), ratio(b.p999, a.p999),
                   results[i + 1].throughput > 0 ? results[i].throughput / results[i + 1].throughput : 0.0,
                   results[i].sent != results[i + 1].sent               ? "n/a (different tick counts)"
                   : results[i].checksum == results[i + 1].checksum ? "equal"
                                                                    : "DIFFER");
      }
    }
    if (!json_path.empty()) {
      write_json(json_path, results, machine);
      fmt::print("wrote {}\n", json_path);
    }
    if (!plot_path.empty()) {
      if (write_plot(plot_path, results, "tickforge-perf: " + src.name + ", " + machine)) {
        fmt::print("wrote {}\n", plot_path);
      } else {
        fmt::print(stderr, "gnuplot failed: is gnuplot-nox installed? (data in {}.dat)\n", plot_path);
        return 1;
      }
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "tickforge-perf: {}\n", e.what());
    return 2;
  }
  return 0;
}
