#include "run_command.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <tickforge/engine.hpp>

#include "../runtime.hpp"
#include "csv_feed.hpp"
#include "kafka/kafka_publisher.hpp"
#include "kafka_feed.hpp"
#include "outputs.hpp"
#include "signals.hpp"
#include "synthetic.hpp"

namespace tickforge::cli {

namespace {

std::atomic<bool> g_signal{false};
std::atomic<int> g_signal_number{0};
std::atomic<ShutdownWatchdog*> g_watchdog{nullptr};

extern "C" void on_signal(int sig) {
  // Async-signal-safe only: lock-free atomics, sem_post (inside arm()), write(2) and _Exit.
  if (g_signal.exchange(true, std::memory_order_relaxed)) {
    static const char kMsg[] = "\ntickforge: second signal: exiting now, without draining\n";
    (void)!write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    std::_Exit(128 + sig);  // async-signal-safe, and no atexit work (sanitizers report nothing)
  }
  g_signal_number.store(sig, std::memory_order_relaxed);
  static const char kStopping[] = "\ntickforge: stopping: draining and flushing (a second signal exits at once)\n";
  (void)!write(STDERR_FILENO, kStopping, sizeof(kStopping) - 1);
  // Acquire: the watchdog's constructor finished before it was published (release below).
  if (ShutdownWatchdog* w = g_watchdog.load(std::memory_order_acquire); w != nullptr) {
    w->arm();  // the bound starts now, even if the main thread is stuck and never sees the flag
  }
}

}  // namespace

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool signalled() noexcept { return g_signal.load(std::memory_order_relaxed); }
int signal_number() noexcept { return g_signal_number.load(std::memory_order_relaxed); }

ShutdownWatchdog::ShutdownWatchdog(std::int64_t timeout_ns, std::function<void()> armed, std::function<void()> report)
    : timeout_ns_(timeout_ns), armed_fn_(std::move(armed)), report_fn_(std::move(report)) {
  sem_init(&armed_, 0, 0);
  sem_init(&finished_, 0, 0);
  thread_ = std::thread([this] { run(); });
  // Partner: the handler's acquire load; a signal that came before this line is seen by signalled().
  g_watchdog.store(this, std::memory_order_release);
  if (signalled()) {
    arm();
  }
}

ShutdownWatchdog::~ShutdownWatchdog() {
  g_watchdog.store(nullptr, std::memory_order_release);
  disarm();
  arm();  // wakes the thread if no stop ever began; it then sees `finished_` posted and returns
  thread_.join();
  sem_destroy(&armed_);
  sem_destroy(&finished_);
}

// Extra posts are harmless: the thread waits on each semaphore once.
void ShutdownWatchdog::arm() noexcept { sem_post(&armed_); }
void ShutdownWatchdog::disarm() noexcept { sem_post(&finished_); }

void ShutdownWatchdog::run() noexcept {
  while (sem_wait(&armed_) != 0) {  // EINTR
  }
  if (sem_trywait(&finished_) == 0) {
    return;  // finished (or destroyed) before any stop began
  }
  armed_fn_();
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  const std::int64_t end = deadline.tv_sec * kNsPerSecond + deadline.tv_nsec + timeout_ns_;
  deadline.tv_sec = end / kNsPerSecond;
  deadline.tv_nsec = end % kNsPerSecond;
  for (;;) {
    if (sem_clockwait(&finished_, CLOCK_MONOTONIC, &deadline) == 0) {
      return;
    }
    if (errno != EINTR) {
      break;  // ETIMEDOUT
    }
  }
  report_fn_();
  std::fflush(stderr);
  std::_Exit(kExitShutdownTimedOut);
}

namespace {

// Main-thread consumer of alerts: prints a rate-limited few, writes all to --alerts-out.
class AlertPrinter {
 public:
  AlertPrinter(const RunOptions& opt, std::string instance) : per_second_(opt.print_alerts), instance_(std::move(instance)) {
    if (!opt.alerts_out.empty()) {
      json_ = std::make_unique<BufferedFile>(opt.alerts_out);
    }
    if (per_second_ != 0 && opt.alerts_out != "-") {
      text_ = std::make_unique<BufferedFile>("-", 1 << 16);
    }
  }
  void operator()(const Alert& a) {
    char buf[kAlertJsonCapacity];
    if (json_) {
      std::size_t n = format_alert_json(a, instance_, buf, sizeof(buf) - 1);
      buf[n++] = '\n';
      json_->append(buf, n);
    }
    if (text_) {
      const std::int64_t sec = FeedPort::now_ns() / kNsPerSecond;
      if (sec != second_) {
        second_ = sec;
        printed_this_second_ = 0;
      }
      if (printed_this_second_ < per_second_) {
        ++printed_this_second_;
        text_->append(buf, format_alert_text(a, buf, sizeof(buf)));
        text_pending_ = true;
      } else {
        ++not_printed_;
      }
    }
  }
  void flush() {
    if (json_) {
      json_->flush();
    }
    if (text_) {
      text_->flush();
    }
  }
  /// The console lines printed since the last call, now (at most print-alerts per second of them).
  void flush_console() {
    if (text_pending_) {
      text_pending_ = false;
      text_->flush();
    }
  }
  [[nodiscard]] std::uint64_t not_printed() const { return not_printed_; }
  [[nodiscard]] std::uint64_t write_errors() const {
    return (json_ ? json_->write_errors() : 0) + (text_ ? text_->write_errors() : 0);
  }

 private:
  std::uint32_t per_second_;
  std::string instance_;
  std::unique_ptr<BufferedFile> json_;
  std::unique_ptr<BufferedFile> text_;
  std::int64_t second_ = 0;
  std::uint32_t printed_this_second_ = 0;
  std::uint64_t not_printed_ = 0;
  bool text_pending_ = false;
};

// Per-tick metrics go to the --metrics-out writer and/or the Kafka snapshot stream.
struct UpdateFanout {
  MetricsWriter* metrics;
  kafka::KafkaPublisher* publisher;
  static void on_update(void* user, const Tick* t, const TickMetrics* m) noexcept {
    auto* self = static_cast<UpdateFanout*>(user);
    if (self->metrics != nullptr) {
      MetricsWriter::on_update(self->metrics, t, m);
    }
    if (self->publisher != nullptr) {
      kafka::KafkaPublisher::on_update(self->publisher, t, m);
    }
  }
};

void print_kafka_feed(const kafka::KafkaFeed& feed) {
  const kafka::KafkaFeedStats s = feed.stats();
  fmt::print(stderr, "  kafka feed {}: messages {}  ticks {}  rejected {}", feed.topic(), s.messages, s.ticks,
             s.rejected());
  for (std::size_t k = 0; k < s.rejects.size(); ++k) {
    if (s.rejects[k] != 0) {
      fmt::print(stderr, ", {} {}", to_string(static_cast<JsonReject>(k)), s.rejects[k]);
    }
  }
  if (s.symbol_table_full != 0) {
    fmt::print(stderr, ", symbol_table_full {}", s.symbol_table_full);
  }
  fmt::print(stderr, "\n    dead-lettered {} (failed {})  unknown fields ignored {}  ring-full drops {}  offsets stored {}"
             "  rebalances {}  consumer errors {}{}\n",
             s.dead_lettered, s.dead_letter_failed, s.unknown_fields, s.dropped_ring_full, s.offsets_stored,
             s.rebalances, s.consumer_errors, s.ended_at_eof ? "  (read to the end)" : "");
  if (s.messages > 1 && s.last_message_ns > s.first_message_ns) {
    const double secs = static_cast<double>(s.last_message_ns - s.first_message_ns) / 1e9;
    fmt::print(stderr, "    consumed {} messages in {:.3f} s from the first to the last = {:.0f} messages/s\n",
               s.messages, secs, static_cast<double>(s.messages) / secs);
  }
  if (s.unfinished_at_exit != 0) {
    fmt::print(stderr, "    warning: {} messages unfinished at exit: not committed, they will be read again\n",
               s.unfinished_at_exit);
  }
}

// False when an alert was lost (dropped, failed or undelivered).
bool print_publisher(const kafka::KafkaPublisher& pub, const KafkaSettings& ks) {
  const kafka::PublisherStats s = pub.stats();
  auto line = [](const char* what, const std::string& topic, const kafka::ChannelStats& c) {
    fmt::print(stderr, "  kafka {} → {}: queued {}  dropped (queue full) {}  produced {}  delivered {}  failed {}"
               "  undelivered {}\n",
               what, topic, c.queued, c.dropped_full, c.produced, c.delivered, c.failed, c.in_flight);
  };
  if (ks.publish_alerts) {
    line("alerts", ks.alerts_topic, s.alerts);
  }
  if (!ks.metrics_topic.empty()) {
    line("metric snapshots", ks.metrics_topic, s.metrics);
  }
  fmt::print(stderr, "  kafka instance {}  client errors {}  local queue-full waits {}{}\n", pub.instance_id(),
             s.client_errors, s.local_queue_full_waits, s.flush_timed_out ? "  FLUSH TIMED OUT" : "");
  for (const auto& [name, n] : s.failed_by_error) {
    fmt::print(stderr, "    failed: {} {}\n", name, n);
  }
  const std::uint64_t lost = s.alerts.dropped_full + s.alerts.failed + s.alerts.in_flight;
  if (lost != 0) {
    fmt::print(stderr, "tickforge: error: {} alerts did not reach Kafka (see above)\n", lost);
    return false;
  }
  return true;
}

void print_notices(const Runtime& runtime) {
  for (const std::string& n : runtime.notices()) {
    fmt::print(stderr, "tickforge: {}\n", n);
  }
}

void print_latency(const char* what, const LatencySummary& l) {
  if (l.count == 0) {
    fmt::print(stderr, "  latency {:<22} no samples\n", what);
    return;
  }
  fmt::print(stderr, "  latency {:<22} p50 {} ns  p99 {} ns  p99.9 {} ns  max {} ns  ({} samples)\n", what, l.p50,
             l.p99, l.p999, l.max, l.count);
}

}  // namespace

int run(RunOptions opt) {
  if (opt.feeds.empty()) {
    opt.feeds.push_back({FeedSpec::Kind::kSynthetic, {}});
  }
  bool all_synthetic = true;
  bool kafka_feeds = false;
  for (const FeedSpec& f : opt.feeds) {
    all_synthetic = all_synthetic && f.kind == FeedSpec::Kind::kSynthetic;
    kafka_feeds = kafka_feeds || f.kind == FeedSpec::Kind::kKafka;
  }
  if (opt.duration_seconds < 0) {
    opt.duration_seconds = all_synthetic ? 5 : 0;
  }
  for (const auto* cpus : {&opt.feed_cpus, &opt.engine_cpus}) {
    for (const int cpu : *cpus) {
      if (cpu >= 0 && !cpu_usable(cpu)) {
        fmt::print(stderr, "tickforge: error: CPU {} does not exist or is not allowed for this process ({} online)\n",
                   cpu, std::thread::hardware_concurrency());
        return 2;
      }
    }
  }

  // Kafka (the embedded cluster unless --brokers names one, the publisher) and the feeds (CSV files are
  // loaded and their tickers registered here). The runtime outlives nothing it serves: declared after
  // the engine, destroyed before it.
  Engine engine(opt.engine);
  std::unique_ptr<Runtime> runtime;
  try {
    runtime = std::make_unique<Runtime>(opt, engine);
    runtime->build_feeds();
  } catch (const RuntimeError& e) {
    if (runtime) {
      print_notices(*runtime);
    }
    fmt::print(stderr, "tickforge: error: {}\n", e.what());
    return e.kind() == RuntimeError::Kind::kConfig ? 2 : 1;
  }
  print_notices(*runtime);
  kafka::KafkaPublisher* publisher = runtime->publisher();
  const auto& feeds = runtime->feeds();

  // Outputs.
  AlertRelay relay(opt.engine.shards, 1 << 16);
  engine.add_alert_callback(&AlertRelay::on_alert, &relay);
  runtime->attach_publisher();
  std::optional<MetricsWriter> metrics;
  if (!opt.metrics_out.empty()) {
    metrics.emplace(opt.metrics_out, opt.engine.sma_windows, opt.engine.shards, engine.symbols());
  }
  UpdateFanout updates{metrics ? &*metrics : nullptr, runtime->metrics_publisher()};
  if (updates.metrics != nullptr || updates.publisher != nullptr) {
    engine.set_update_callback(&UpdateFanout::on_update, &updates);
  }
  AlertPrinter printer(opt, runtime->instance_id());

  // Bounded shutdown: from the moment a stop begins, feeds and shards have shutdown-timeout to end.
  std::vector<std::uint64_t> cycles_at_stop(engine.shard_count());
  std::atomic<const char*> phase{"running"};  // where the stop is; the watchdog reports it
  ShutdownWatchdog watchdog(
      opt.shutdown_timeout_ns,
      [&] {
        for (std::uint32_t s = 0; s < engine.shard_count(); ++s) {
          cycles_at_stop[s] = engine.shard_progress(s).duty_cycles;
        }
      },
      [&] {
        fmt::print(stderr, "\ntickforge: error: the run did not stop within {} (--shutdown-timeout):\n",
                   format_duration(opt.shutdown_timeout_ns));
        const char* reached = phase.load(std::memory_order_relaxed);
        fmt::print(stderr, "  stop reached: {}\n", reached);
        if (std::string_view(reached) == "running") {
          fmt::print(stderr, "  the main thread has not begun the stop: it is stuck writing an output (a file or "
                             "pipe that takes no data?)\n");
        }
        bool any = false;
        for (std::uint32_t s = 0; s < engine.shard_count(); ++s) {
          const Engine::ShardProgress p = engine.shard_progress(s);
          if (!p.live) {
            continue;
          }
          any = true;
          if (p.duty_cycles == cycles_at_stop[s]) {
            fmt::print(stderr, "  shard {}: did not return to its duty-cycle check (stuck inside a tick or a "
                               "callback, e.g. waiting for a full output)\n", s);
          } else {
            fmt::print(stderr, "  shard {}: still running ({} duty cycles since the stop began)\n", s,
                       p.duty_cycles - cycles_at_stop[s]);
          }
        }
        for (const auto& f : feeds) {
          if (!f->done.load(std::memory_order_acquire)) {
            any = true;
            fmt::print(stderr, "  feed {}: still running (waiting on a full ring?)\n", f->label);
          }
        }
        if (!any && std::string_view(reached) != "running") {
          fmt::print(stderr, "  every feed and shard has ended: the main thread is stuck writing an output (a file "
                             "or pipe that takes no data?)\n");
        }
        fmt::print(stderr, "tickforge: exiting with status {} without a summary\n", kExitShutdownTimedOut);
      });
  install_signal_handlers();
  engine.start(opt.engine_idle, opt.engine_cpus);
  runtime->start();
  fmt::print(stderr, "tickforge: running: {} feed(s) → {} shard(s); SIGINT/SIGTERM stops, drains and reports\n",
             feeds.size(), engine.shard_count());

  // Main loop: relay alerts, watch the clock, the signals and the feeds.
  const auto t0 = std::chrono::steady_clock::now();
  const char* stop_reason = "input ended";
  for (;;) {
    const std::size_t n = relay.drain(printer);
    printer.flush_console();
    if (runtime->feeds_done()) {
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
    if (n == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  // Shutdown: stop the feeds, let the shards drain every ring, relay what is left, flush.
  watchdog.arm();
  phase.store("stopping the feeds", std::memory_order_relaxed);
  runtime->stop_feeds([&] { relay.drain(printer); });  // a blocked feed needs the relay to keep moving
  // stop() joins the shards, which may be waiting for room in the alert relay: keep draining meanwhile.
  phase.store("draining the shards", std::memory_order_relaxed);
  std::atomic<bool> engine_stopped{false};
  std::thread stopper([&engine, &engine_stopped] {
    engine.stop();
    engine_stopped.store(true, std::memory_order_release);  // partner: acquire load below
  });
  while (!engine_stopped.load(std::memory_order_acquire)) {
    if (relay.drain(printer) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  stopper.join();
  phase.store("flushing the outputs", std::memory_order_relaxed);
  relay.drain(printer);
  printer.flush();
  if (metrics) {
    metrics->flush();
  }
  watchdog.disarm();  // what follows is bounded by its own timeouts (Kafka: --flush-timeout)
  // Kafka: deliver everything queued (bounded by --flush-timeout), then the feeds' last commits.
  runtime->finish();

  // Summary.
  const EngineStats st = engine.stats();
  fmt::print(stderr, "\ntickforge summary ({})\n", stop_reason);
  for (auto& f : feeds) {
    const bool time_limit = f->synthetic && f->synthetic->reached_time_limit();
    fmt::print(stderr, "  feed {:<34} published {}{}{}\n", f->label, f->port->published(),
               time_limit ? "  (ended: the next event time would pass 2199-12-31)" : "",
               f->pin_error.empty() ? "" : "  [pinning failed: " + f->pin_error + "]");
  }
  const double secs = st.elapsed_seconds > 0 ? st.elapsed_seconds : 1e-9;
  fmt::print(stderr, "  ticks processed {}  in {:.3f} s  = {:.0f} ticks/s\n", st.ticks, st.elapsed_seconds,
             static_cast<double>(st.ticks) / secs);
  fmt::print(stderr, "  dropped: ring_full {}  symbol_table_full {}  time_out_of_range {}  csv rows rejected {}\n",
             st.dropped_ring_full, st.symbol_overflows, st.rejected_time, runtime->csv_rejected());
  for (auto& f : feeds) {
    if (f->csv) {
      const CsvLoadResult& r = f->csv->load();
      fmt::print(stderr, "  {}: {} lines, {} good, {} blank", f->label, r.lines, r.rows.size(), r.blank);
      for (std::size_t k = 0; k < static_cast<std::size_t>(CsvReject::kCount); ++k) {
        if (r.rejects[k] != 0) {
          fmt::print(stderr, ", {} {}", to_string(static_cast<CsvReject>(k)), r.rejects[k]);
        }
      }
      fmt::print(stderr, "\n");
    }
  }
  fmt::print(stderr, "  ring: capacity {}  high-water mark {}  back-pressure waits {}\n", st.ring_capacity,
             st.ring_high_water, st.full_waits);
  fmt::print(stderr, "  alerts {} (suppressed by cooldown {}, not printed {}):", st.alerts, st.suppressed,
             printer.not_printed());
  for (std::size_t r = 0; r < st.by_rule.size(); ++r) {
    fmt::print(stderr, " {} {}", to_string(static_cast<Rule>(r)),
               st.alerts_of(static_cast<Rule>(r)));
  }
  fmt::print(stderr, "\n  late ticks {}  window high/low evictions {}  tickers {}\n", st.late_ticks,
             st.extrema_evictions, st.symbols);
  if (st.pin_failures != 0) {
    fmt::print(stderr, "  warning: {} engine thread(s) could not be pinned and ran unpinned\n", st.pin_failures);
  }
  print_latency("ingest→processed", st.process_latency);
  print_latency("ingest→alert callback", st.alert_latency);
  int rc = 0;
  for (auto& f : feeds) {
    if (f->kafka) {
      print_kafka_feed(*f->kafka);
    }
  }
  if (publisher) {
    rc = print_publisher(*publisher, opt.kafka) ? rc : 1;
  }
  if (printer.write_errors() != 0) {
    fmt::print(stderr, "tickforge: error: {} output writes failed\n", printer.write_errors());
    rc = 1;
  }
  return rc;
}

}  // namespace tickforge::cli
