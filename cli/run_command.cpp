#include "run_command.hpp"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "pipeline.hpp"
#include "signals.hpp"
#include "summary.hpp"

namespace tickforge::cli {

namespace {

void print_notices(const Pipeline& p) {
  for (const std::string& n : p.notices()) {
    fmt::print(stderr, "tickforge: {}\n", n);
  }
}

// What the watchdog prints when the stop overran its bound: where the stop was, which shard did not come
// back to its duty-cycle check, which feed or output is still running.
std::string report_stuck(const Pipeline& p, const std::vector<std::uint64_t>& cycles_at_stop, std::int64_t bound_ns) {
  std::string out;
  auto put = [&out](std::string_view line) { out.append(line); };
  put(fmt::format("\ntickforge: error: the run made no progress towards its stop for {} (--shutdown-timeout{}{}):\n",
                  format_duration(bound_ns), p.uses_kafka() ? ", and twice --flush-timeout for Kafka" : "",
                  p.options().sink.empty() ? "" : ", and --pg-flush-timeout"));
  const std::string_view reached = p.phase();
  put(fmt::format("  stop reached: {}\n", reached));
  const Pipeline::Progress pr = p.progress();
  bool any = false;
  for (std::uint32_t s = 0; s < pr.shards.size(); ++s) {
    if (!pr.shards[s].live) {
      continue;
    }
    any = true;
    if (s < cycles_at_stop.size() && pr.shards[s].duty_cycles == cycles_at_stop[s]) {
      put(fmt::format("  shard {}: did not return to its duty-cycle check (stuck inside a tick or a callback, e.g. "
                      "waiting for a full output)\n", s));
    } else {
      put(fmt::format("  shard {}: still running ({} duty cycles since the stop began)\n", s,
                      pr.shards[s].duty_cycles - (s < cycles_at_stop.size() ? cycles_at_stop[s] : 0)));
    }
  }
  for (const auto& f : pr.feeds) {
    if (f.running) {
      any = true;
      put(fmt::format("  feed {}: still running (waiting on a full ring?)\n", f.label));
    }
  }
  if (pr.sinks_running) {
    any = true;
    put("  the file sinks thread is stuck writing an output (a file or pipe that takes no data?)\n");
  }
  if (!any) {
    put(fmt::format("  every feed, shard and output has ended: the stop is stuck at '{}'\n", reached));
  }
  put(fmt::format("tickforge: exiting with status {} without a summary\n", kExitShutdownTimedOut));
  return out;
}

}  // namespace

int run(RunOptions opt) {
  // Signals first: a SIGTERM during a slow start (a Kafka connect, a large CSV) must still end the run.
  install_signal_handlers();
  if (opt.feeds.empty()) {
    opt.feeds.push_back({"synthetic", {}});
  }
  bool all_synthetic = true;
  for (const FeedSpec& f : opt.feeds) {
    all_synthetic = all_synthetic && f.kind == "synthetic";
  }
  if (opt.duration_seconds < 0) {
    opt.duration_seconds = all_synthetic ? 5 : 0;
  }

  // The bound on the stop: from its first moment (a signal, the end of the input or of --duration) the
  // feeds, shards and outputs have shutdown-timeout to end, and a Kafka flush its own flush-timeout more.
  std::unique_ptr<Pipeline> pipeline;
  std::atomic<const Pipeline*> watched{nullptr};  // release once built: the watchdog thread reads it
  std::atomic<std::int64_t> bound_ns{opt.shutdown_timeout_ns};
  std::vector<std::uint64_t> cycles_at_stop;      // the watchdog thread's own
  ShutdownWatchdog watchdog(
      opt.shutdown_timeout_ns,
      [&] {
        if (const Pipeline* p = watched.load(std::memory_order_acquire); p != nullptr) {
          for (const Engine::ShardProgress& s : p->progress().shards) {
            cycles_at_stop.push_back(s.duty_cycles);
          }
        }
      },
      [&]() -> std::string {
        if (const Pipeline* p = watched.load(std::memory_order_acquire); p != nullptr) {
          return report_stuck(*p, cycles_at_stop, bound_ns.load(std::memory_order_relaxed));
        }
        return fmt::format("\ntickforge: error: the run did not stop within {} of the signal (still starting)\n",
                           format_duration(opt.shutdown_timeout_ns));
      },
      [&]() -> std::uint64_t {
        const Pipeline* p = watched.load(std::memory_order_acquire);
        return p != nullptr ? p->work_done() : 0;
      });

  try {
    pipeline = std::make_unique<Pipeline>(opt);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "tickforge: error: {}\n", e.what());
    return 2;
  }
  watched.store(pipeline.get(), std::memory_order_release);  // partner: the watchdog's acquire loads
  // Kafka's stop may take the publisher's flush and a dead-letter flush, each up to flush-timeout;
  // PostgreSQL's its own flush timeout.
  bound_ns.store(opt.shutdown_timeout_ns + (pipeline->uses_kafka() ? 2 * opt.kafka.flush_timeout_ns : 0) +
                     (opt.sink.empty() ? 0 : opt.postgres.flush_timeout_ns),
                 std::memory_order_relaxed);
  watchdog.set_timeout(bound_ns.load(std::memory_order_relaxed));
  try {
    pipeline->start();
  } catch (const RunError& e) {
    print_notices(*pipeline);
    fmt::print(stderr, "tickforge: error: {}\n", e.what());
    return e.kind() == RunError::Kind::kConfig || e.kind() == RunError::Kind::kCpu ? 2 : 1;
  } catch (const std::invalid_argument& e) {
    print_notices(*pipeline);
    fmt::print(stderr, "tickforge: error: {}\n", e.what());
    return 2;
  }
  print_notices(*pipeline);
  fmt::print(stderr, "tickforge: running: {} feed(s) → {} shard(s); SIGINT/SIGTERM stops, drains and reports\n",
             opt.feeds.size(), pipeline->engine().shard_count());

  // Watch the clock, the signals and the feeds; everything else runs on its own threads.
  const auto t0 = std::chrono::steady_clock::now();
  const char* stop_reason = "input ended";
  for (;;) {
    if (pipeline->feeds_done()) {
      break;
    }
    if (signalled()) {
      stop_reason = signal_number() == SIGINT ? "SIGINT" : "SIGTERM";
      break;
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (opt.duration_seconds > 0 && elapsed >= opt.duration_seconds) {
      stop_reason = "duration reached";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }

  watchdog.arm();
  pipeline->stop();  // feeds → shards → sinks → Kafka, in that order
  watchdog.disarm();

  const PipelineStats st = pipeline->stats();
  fmt::print(stderr, "{}", summary_text(st, stop_reason));
  int rc = 0;
  if (!opt.summary_json.empty()) {
    std::FILE* f = std::fopen(opt.summary_json.c_str(), "w");
    const std::string json = summary_json(st, stop_reason);
    if (f == nullptr || std::fwrite(json.data(), 1, json.size(), f) != json.size() || std::fclose(f) != 0) {
      fmt::print(stderr, "tickforge: error: cannot write the summary to {}\n", opt.summary_json);
      rc = 1;
    }
  }
  if (st.alerts_lost() != 0) {
    fmt::print(stderr, "tickforge: error: {} alerts did not reach Kafka (see above)\n", st.alerts_lost());
    rc = 1;
  }
  if (st.daily_lost_kafka() != 0) {
    fmt::print(stderr, "tickforge: error: {} daily summaries did not reach Kafka (see above)\n", st.daily_lost_kafka());
    rc = 1;
  }
  if (st.pg_lost() != 0) {
    fmt::print(stderr, "tickforge: error: {} alerts and daily summaries did not reach PostgreSQL (see above)\n",
               st.pg_lost());
    rc = 1;
  }
  if (st.output_write_errors != 0) {
    fmt::print(stderr, "tickforge: error: {} output writes failed\n", st.output_write_errors);
    rc = 1;
  }
  return rc;
}

}  // namespace tickforge::cli
