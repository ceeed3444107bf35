// tickforge — the Kafka publisher: engine shards → bounded queue → one publisher thread → librdkafka.
//
//   shard 0 ─on_alert()─▶ ┐                                   ┌─▶ alerts topic (key = ticker)
//   shard 1 ─on_alert()─▶ ├ PublishQueue ─▶ publisher thread ─┼─▶ metrics topic   delivery reports →
//   shard k ─on_update()▶ │ (per-shard FIFO)   (JSON, produce,  └─▶ daily topic     counters and
//   shard k ─on_daily()─▶ ┘                     poll)                              DeliveryTrackers
//
// The engine thread never calls librdkafka (every produce call allocates inside it), never allocates,
// never blocks: on_alert()/on_update() copy a fixed-size record into the shard's preallocated share of
// the queue, or count a drop when it is full. The publisher thread formats each record into a reused
// buffer, produces it (librdkafka copies it), and polls every loop so delivery reports flow.
//
// Delivery is tracked per shard in produce order, so a Kafka feed can ask "is every record the engine
// queued up to now finished?" (snapshot() then finished_through()) before it commits the offsets of the
// ticks behind them: at-least-once from the input topic to the alerts topic.
//
// Thread contract: construct, register (attach) and start() on the main thread before the engine starts;
// on_alert/on_update on shard threads; snapshot/finished_through from any thread; stop() on the main
// thread after the engine has stopped; stats() after stop().
#pragma once

#include <librdkafka/rdkafka.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <tickforge/counter.hpp>
#include <tickforge/records.hpp>
#include <tickforge/symbol_table.hpp>

#include "delivery_tracker.hpp"
#include "kafka_client.hpp"
#include "publish_queue.hpp"

namespace tickforge::kafka {

/// One stream's counters (alerts or metric snapshots).
struct ChannelStats {
  std::uint64_t queued = 0;          ///< accepted into the queue by the engine
  std::uint64_t dropped_full = 0;    ///< refused: the shard's share of the queue was full
  std::uint64_t produced = 0;        ///< handed to librdkafka
  std::uint64_t delivered = 0;       ///< acknowledged by the cluster (acks=all)
  std::uint64_t failed = 0;          ///< given up by librdkafka (see PublisherStats::failed_by_error)
  std::uint64_t in_flight = 0;       ///< produced, neither delivered nor failed (at stop: undelivered)
};

/// What a publisher has done so far, readable from any thread while it runs (relaxed counters).
struct PublisherLive {
  struct Channel {
    std::uint64_t queued = 0, dropped_full = 0, produced = 0, delivered = 0, failed = 0;
  };
  Channel alerts, metrics, daily;
  std::uint64_t client_errors = 0;
};

struct PublisherStats {
  ChannelStats alerts;
  ChannelStats metrics;
  ChannelStats daily;
  std::map<std::string, std::uint64_t> failed_by_error;  ///< librdkafka error name → count
  std::uint64_t local_queue_full_waits = 0;  ///< produce found librdkafka's own queue full and waited
  std::uint64_t client_errors = 0;           ///< error_cb calls (broker down, transport, …)
  bool flush_timed_out = false;
};

/// A metric snapshot as queued: the tick and its metrics (fixed size, trivially copyable).
struct MetricsRecord {
  Tick tick;
  TickMetrics metrics;
};

struct PublisherOptions {
  const KafkaSettings* settings = nullptr;
  std::string bootstrap;
  bool embedded = false;
  std::string instance_id;
  std::uint32_t shards = 1;
  std::uint32_t max_tickers = 16384;  ///< for the per-ticker snapshot rate limit
  std::string time_zone = "UTC";      ///< the daily summaries' zone, written in their JSON
};

class KafkaPublisher : public ClientEvents {
 public:
  /// Creates the producer and checks the cluster answers within settings->connect_timeout_ns.
  /// Throws std::runtime_error (no secret in the message) on a bad property or an unreachable cluster.
  KafkaPublisher(const PublisherOptions& opt, const SymbolTable& symbols);
  ~KafkaPublisher();
  KafkaPublisher(const KafkaPublisher&) = delete;
  KafkaPublisher& operator=(const KafkaPublisher&) = delete;

  /// Engine alert callback (user = this). Shard thread; no allocation, no lock, no syscall.
  static void on_alert(void* user, const Alert* alert) noexcept;
  /// Engine update callback for metric snapshots (user = this): queues one per ticker per
  /// metrics_interval of event time. Same contract.
  static void on_update(void* user, const Tick* tick, const TickMetrics* metrics) noexcept;
  [[nodiscard]] bool publishes_metrics() const noexcept { return metrics_topic_ != nullptr; }
  /// Engine daily-summary callback (user = this): one message per summary on the daily topic, key =
  /// ticker. Same contract.
  static void on_daily(void* user, const DailySummary* summary) noexcept;
  [[nodiscard]] bool publishes_daily() const noexcept { return daily_topic_ != nullptr; }

  /// Starts the publisher thread (pinned when cpu ≥ 0).
  void start(int cpu);
  /// After the engine stopped: sends everything queued, flushes with settings->flush_timeout_ns, joins.
  void stop();

  /// The number of records each (stream, shard) has queued so far: the goal for finished_through().
  void snapshot(std::vector<std::uint64_t>& goal) const;
  /// Whether every record counted in the snapshot is delivered or finally failed.
  [[nodiscard]] bool finished_through(const std::vector<std::uint64_t>& goal) const noexcept;

  [[nodiscard]] PublisherStats stats() const;
  /// Any thread, any time (the dashboard's /metrics): counters as of now.
  [[nodiscard]] PublisherLive live() const noexcept;
  [[nodiscard]] const std::string& instance_id() const noexcept { return instance_; }

 private:
  void run(int cpu) noexcept;
  std::size_t pump() noexcept;
  [[nodiscard]] bool all_sent() const noexcept;
  void produce(std::uint32_t stream, std::uint32_t shard, const char* key, std::size_t key_len, const char* payload,
               std::size_t len) noexcept;
  DeliveryTracker& tracker(std::uint32_t stream, std::uint32_t shard) const noexcept {
    return *trackers_[stream * shards_ + shard];
  }
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);

  std::string instance_;
  const SymbolTable& symbols_;
  std::uint32_t shards_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* alerts_topic_ = nullptr;
  rd_kafka_topic_t* metrics_topic_ = nullptr;
  rd_kafka_topic_t* daily_topic_ = nullptr;
  std::unique_ptr<PublishQueue<Alert>> alerts_;
  std::unique_ptr<PublishQueue<MetricsRecord>> metrics_;
  std::unique_ptr<PublishQueue<DailySummary>> daily_;
  std::string time_zone_;
  std::vector<std::unique_ptr<DeliveryTracker>> trackers_;  // [stream * shards + shard]: alerts, metrics, daily
  std::vector<ChannelStats> counts_;                        // [stream], publisher thread (queued: unused)
  // The same produced/delivered/failed as single-writer atomics (the publisher thread), for live().
  struct LiveCounts {
    std::atomic<std::uint64_t> produced{0}, delivered{0}, failed{0};
  };
  std::array<LiveCounts, 3> live_counts_;
  std::vector<std::int64_t> last_snapshot_ns_;              // [symbol], written by the symbol's shard only
  std::int64_t metrics_interval_ns_ = 0;
  std::int64_t flush_timeout_ns_ = 0;
  std::map<std::string, std::uint64_t> failed_by_error_;   // publisher thread
  std::uint64_t local_full_waits_ = 0;
  bool flush_timed_out_ = false;
  std::unique_ptr<char[]> buf_;                             // the reused JSON buffer
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace tickforge::kafka
