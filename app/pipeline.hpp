// tickforge — the lifecycle owner of a run: one object owns the engine, the feeds, the outputs (sinks)
// and the Kafka cluster and publisher. It checks every CPU once, starts the parts in one order and stops
// them in one order, and sums their counters (the lost-alert account included). `tickforge run` and the
// C API are thin adapters over it.
//
//   Pipeline(opt)  validate every setting, build the engine (tickers may be registered from now on)
//   start()        CPUs → Kafka cluster (embedded unless --brokers) → publisher → feeds (CSV loaded,
//                  Kafka joined) → sinks, dashboard (its port bound) → shard agents → sinks agent →
//                  publisher thread → dashboard thread → feed agents
//   stop()         dashboard (clients closed) → feeds → shards (every ring drained) → sinks (drained,
//                  flushed) → publisher (delivered, bounded by flush-timeout) → Kafka feeds (last commits)
//
//   feed agents ─FeedPort─▶ rings ─▶ shard agents ─┬─ Alert/DailyRelay ─▶ sinks agent (files, console)
//                                                   ├─ KafkaPublisher queue ─▶ publisher thread ─▶ Kafka
//                                                   ├─ MetricsRelay ─▶ sinks agent (--metrics-out)
//                                                   ├─ PostgresSink rings ─▶ PostgreSQL thread
//                                                   ├─ Dashboard rings ─▶ HTTP thread (+ snapshots)
//                                                   └─ the embedder's callbacks (C API)
//
// Private header. Thread contract: one owning thread calls every member except stats(), progress(),
// phase() and engine().snapshot(), which any thread may call. Cold path: everything here allocates and
// reports set-up failures as RunError (std::invalid_argument for a bad setting).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <tickforge/engine.hpp>

#include "feed.hpp"
#include "http_server.hpp"  // HttpStats
#include "feed_registry.hpp"
#include "kafka_publisher.hpp"
#include "postgres_sink.hpp"  // PgStats
#include "run_options.hpp"

namespace tickforge {

class AgentRunner;
template <typename T>
class RecordRelay;
class FileSinks;
class PostgresSink;
class Dashboard;
namespace kafka {
class EmbeddedCluster;
}

/// The outputs' counters as of now, from any thread while running (the dashboard's /metrics and panel).
struct OutputsLive {
  bool files = false;
  std::uint64_t alerts_written = 0, daily_written = 0, metrics_written = 0, metrics_dropped = 0;
  bool postgres = false;
  PgLive pg;
  bool kafka = false;
  kafka::PublisherLive kafka_live;
};

/// Every figure of a run: what the summary prints and --summary-json writes, and what the C API reports.
struct PipelineStats {
  EngineStats engine;
  std::vector<FeedReport> feeds;     ///< figures of a feed are exact once it has ended
  std::uint64_t feed_rejected = 0;   ///< every feed's refused input, every reason (tf_stats_t::feed_rejected)
  bool file_sinks = false;           ///< the file/console sinks ran (the four figures below)
  std::uint64_t alerts_written = 0;  ///< handed to the sinks (files, console)
  std::uint64_t daily_written = 0;   ///< daily summaries handed to the sinks
  std::uint64_t metrics_written = 0; ///< --metrics-out rows written
  std::uint64_t metrics_dropped = 0; ///< --metrics-out rows dropped (metrics-full drop, the sink behind)
  std::uint64_t alerts_not_printed = 0;  ///< over the console's per-second limit (still in the file)
  std::uint64_t output_write_errors = 0;
  std::uint64_t relay_waits = 0;     ///< a shard found the sinks a full ring behind and waited
  bool kafka = false;                ///< a publisher ran; the fields below are exact once stopped
  bool publish_alerts = false;
  std::string alerts_topic, metrics_topic, daily_topic, instance_id;
  kafka::PublisherStats publisher;
  bool postgres = false;             ///< a PostgreSQL sink ran; pg is exact once stopped
  PgStats pg;
  OutputsLive live;                  ///< the outputs as of now (while running; final once stopped)
  bool http = false;                 ///< the dashboard's server ran
  std::string http_url;
  web::HttpStats http_stats;
  std::uint64_t dashboard_dropped = 0;
  bool stopped = false;
  /// Alerts that did not reach Kafka: dropped (queue full), failed or undelivered. 0 without Kafka.
  [[nodiscard]] std::uint64_t alerts_lost() const noexcept {
    return publish_alerts ? publisher.alerts.dropped_full + publisher.alerts.failed + publisher.alerts.in_flight : 0;
  }
  /// Daily summaries that did not reach Kafka (dropped, failed or undelivered). 0 without the daily topic.
  [[nodiscard]] std::uint64_t daily_lost_kafka() const noexcept {
    return daily_topic.empty() ? 0 : publisher.daily.dropped_full + publisher.daily.failed + publisher.daily.in_flight;
  }
  /// Alerts and daily summaries that did not reach PostgreSQL (dropped or lost). 0 without the sink.
  [[nodiscard]] std::uint64_t pg_lost() const noexcept {
    return postgres ? pg.lost_or_dropped(pg::Table::kAlerts) + pg.lost_or_dropped(pg::Table::kDailySummaries) : 0;
  }
};

class Pipeline {
 public:
  /// Resolves the per-ticker overrides, validates every setting and builds the engine. Throws
  /// std::invalid_argument naming the setting.
  explicit Pipeline(RunOptions opt);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  [[nodiscard]] Engine& engine() noexcept { return *engine_; }
  [[nodiscard]] const Engine& engine() const noexcept { return *engine_; }
  [[nodiscard]] const RunOptions& options() const noexcept { return opt_; }

  // ---- before start() ----
  /// One more built-in feed. Throws std::invalid_argument / std::length_error (too many).
  void add_feed(const FeedSpec& spec);
  /// An embedder's alert callback (the C API's). Throws std::length_error when none is left.
  void add_alert_callback(AlertFn fn, void* user);
  /// Callback slots the embedder may still take: the engine's kMaxAlertCallbacks less those the
  /// pipeline will need for its sinks and publisher.
  [[nodiscard]] std::uint32_t alert_callback_slots_left() const noexcept;
  /// Whether the run connects to (or starts) a Kafka cluster.
  [[nodiscard]] bool uses_kafka() const noexcept;

  /// Starts everything (see above). Throws RunError (a file, Kafka, a CPU) or std::invalid_argument; on
  /// failure whatever had started is stopped again. An engine starts once.
  void start();
  /// Lines worth showing the user: the embedded cluster's address, the kcat command, skipped CSV rows.
  [[nodiscard]] const std::vector<std::string>& notices() const noexcept { return notices_; }
  /// Every feed has ended its input.
  [[nodiscard]] bool feeds_done() const noexcept;
  /// Stops everything in one order (see above). Idempotent.
  void stop();

  /// Where the run is: "created", "starting", "running", "stopping the feeds", "draining the shards",
  /// "flushing the outputs", "flushing PostgreSQL", "flushing Kafka", "stopped". Any thread.
  [[nodiscard]] const char* phase() const noexcept { return phase_.load(std::memory_order_acquire); }
  /// Any thread while running (feeds' own figures once they have ended; Kafka's once stopped); exact
  /// after stop().
  [[nodiscard]] PipelineStats stats() const;

  /// A watchdog's view: any thread, never waits for a stuck part.
  struct Progress {
    std::vector<Engine::ShardProgress> shards;
    struct FeedState {
      std::string label;
      bool running;
    };
    std::vector<FeedState> feeds;
    bool sinks_running = false;
  };
  [[nodiscard]] Progress progress() const;
  /// Work done so far, as one count that only grows: ticks the shards processed from the feeds, and
  /// records the output threads took. A watchdog's "is the stop still moving?". Any thread, never waits.
  [[nodiscard]] std::uint64_t work_done() const noexcept;
  /// The instance id alerts carry (the publisher's, or the configured/default one).
  [[nodiscard]] std::string instance_id() const;

 private:
  struct RunningFeed;
  void start_kafka();
  void build_feeds();
  void build_outputs();
  void check_cpus() const;
  void set_phase(const char* p) noexcept { phase_.store(p, std::memory_order_release); }

  RunOptions opt_;
  std::unique_ptr<kafka::EmbeddedCluster> cluster_;  // declared before its clients: destroyed after them
  KafkaContext kafka_ctx_;
  std::unique_ptr<kafka::KafkaPublisher> publisher_;
  std::unique_ptr<Engine> engine_;
  std::vector<std::unique_ptr<RunningFeed>> feeds_;
  std::atomic<std::size_t> feeds_built_{0};  // release once feeds_ is complete: progress() reads that many
  std::unique_ptr<RecordRelay<Alert>> relay_;
  std::unique_ptr<RecordRelay<DailySummary>> daily_relay_;
  std::unique_ptr<FileSinks> sinks_;
  std::unique_ptr<AgentRunner> sinks_runner_;
  std::unique_ptr<RecordRelay<MetricsRow>> metrics_relay_;
  std::unique_ptr<PostgresSink> pg_;
  std::unique_ptr<AgentRunner> pg_runner_;
  std::unique_ptr<Dashboard> dashboard_;
  struct UpdateFanout;
  std::unique_ptr<UpdateFanout> updates_;
  std::uint32_t embedder_callbacks_ = 0;
  std::vector<std::string> notices_;
  std::atomic<const char*> phase_{"created"};
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace tickforge
