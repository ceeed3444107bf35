// tickforge — Kafka tick feed: a consumer-group member that turns JSON tick messages into Ticks on a
// FeedPort, with at-least-once offsets.
//
//   topic partitions ─consumer_poll─▶ JsonTickParser ─▶ FeedPort (ring) ─▶ engine shard ─▶ publisher
//          ▲                                 │ bad                                         │
//          └── offsets committed only for ───┴─▶ dead-letter topic (reason in headers)      │
//              messages whose whole effect is finished ◀────────────────────────────────────┘
//
// A message is finished when (1) the engine has processed its tick (FeedPort::processed), (2) every alert
// and metric snapshot the engine queued up to then is delivered or finally failed
// (KafkaPublisher::finished_through), and (3) a bad message's dead-letter copy is delivered. Offsets are
// stored per partition only up to the oldest unfinished message, and auto-commit (1 s) or the final and
// rebalance commits send them. After a crash the group resumes from the last commit: messages may be
// processed twice, never skipped. Window state (SMA, high/low…) starts cold after a restart.
//
// Thread contract: construct on the main thread; run() on the feed thread; finish() on the main thread
// after the feed thread is joined and the engine and publisher have stopped; stats() after finish().
// Parsing and handing a tick to the ring allocate nothing; librdkafka allocates per message internally.
#pragma once

#include <librdkafka/rdkafka.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <tickforge/counter.hpp>
#include <tickforge/engine.hpp>
#include <tickforge/symbol_table.hpp>

#include "feed.hpp"
#include "json_tick.hpp"
#include "delivery_tracker.hpp"
#include "kafka_client.hpp"
#include "kafka_publisher.hpp"

namespace tickforge::kafka {

struct KafkaFeedStats {
  std::uint64_t messages = 0;            ///< consumed, good and bad
  std::uint64_t ticks = 0;               ///< handed to the engine
  std::array<std::uint64_t, static_cast<std::size_t>(JsonReject::kCount)> rejects{};
  std::uint64_t symbol_table_full = 0;   ///< good message, but its ticker could not be registered
  std::uint64_t dropped_ring_full = 0;   ///< full-policy drop: counted, offset still committed
  std::uint64_t unknown_fields = 0;      ///< fields ignored in good messages
  std::uint64_t dead_lettered = 0;       ///< bad messages delivered to the dead-letter topic
  std::uint64_t dead_letter_failed = 0;
  std::uint64_t offsets_stored = 0;      ///< partition offsets stored for commit
  std::uint64_t unfinished_at_exit = 0;  ///< messages whose offsets could not be committed at the end
  std::uint64_t consumer_errors = 0;
  std::uint64_t rebalances = 0;
  bool ended_at_eof = false;
  std::int64_t first_message_ns = 0;     ///< steady clock: first and last message consumed (throughput)
  std::int64_t last_message_ns = 0;
  [[nodiscard]] std::uint64_t rejected() const noexcept {
    std::uint64_t n = symbol_table_full;
    for (const std::uint64_t r : rejects) {
      n += r;
    }
    return n;
  }
};

struct KafkaFeedOptions {
  const KafkaSettings* settings = nullptr;
  std::string bootstrap;
  bool embedded = false;
  std::string topic;
  const KafkaPublisher* publisher = nullptr;  ///< null: nothing downstream to wait for
  std::uint32_t in_flight = 1u << 18;          ///< most messages not yet finished (rounded up to 2^k)
};

class KafkaFeed final : public Feed, public ClientEvents {
 public:
  /// Creates the consumer (and the dead-letter producer) and subscribes. Throws std::runtime_error.
  KafkaFeed(const KafkaFeedOptions& opt, SymbolTable& symbols);
  ~KafkaFeed() override;
  KafkaFeed(const KafkaFeed&) = delete;
  KafkaFeed& operator=(const KafkaFeed&) = delete;

  /// One consumer poll (at most 20 ms) and the message it brought. The feed is done once stopped, or
  /// (stop-at-eof) when every assigned partition has been read to its end.
  std::size_t do_work() noexcept override;
  [[nodiscard]] bool done() const noexcept override { return ended_ || stop_requested(); }
  /// The last commit and a clean leave from the group. Owning thread, after the engine and publisher
  /// stopped.
  void finish() noexcept override;
  [[nodiscard]] bool reports_after_finish() const noexcept override { return true; }
  [[nodiscard]] std::string label() const override;
  void report(FeedReport& out) const override;
  /// Live: the bad messages so far by reason, and good ones whose ticker could not be registered.
  void rejects(std::vector<std::pair<std::string, std::uint64_t>>& out) const override;
  [[nodiscard]] KafkaFeedStats stats() const;
  [[nodiscard]] const std::string& topic() const noexcept { return topic_; }

 private:
  struct Entry {
    std::int64_t offset;
    std::uint64_t index;   // the n-th tick this feed sent to `shard`, or the dead-letter record number
    std::int32_t partition;
    std::uint32_t shard;   // kDone / kDeadLetter / a shard
  };
  static constexpr std::uint32_t kDone = 0xFFFFFFFFu;
  static constexpr std::uint32_t kDeadLetter = 0xFFFFFFFEu;

  void handle(const rd_kafka_message_t* m) noexcept;
  void reject(const rd_kafka_message_t* m, const char* reason) noexcept;
  void push_entry(const Entry& e) noexcept;
  [[nodiscard]] bool finished(const Entry& e) const noexcept;
  /// Advances the committable position; returns whether anything is still unfinished.
  bool commit_step() noexcept;
  /// Waits (serving deliveries) until every message so far is finished or timeout_ns passes.
  bool drain(std::int64_t timeout_ns) noexcept;
  void on_assignment_change(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) noexcept;
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque);
  static void on_dead_letter_delivery(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
  [[nodiscard]] bool all_at_eof() const noexcept;

  const KafkaSettings& settings_;
  std::string topic_;
  SymbolTable& symbols_;
  const KafkaPublisher* publisher_;
  JsonTickParser parser_;
  rd_kafka_t* rk_ = nullptr;
  bool ended_ = false;
  std::uint64_t seq_ = 0;
  std::vector<std::uint64_t> pushed_;        // [shard] ticks sent
  std::vector<std::uint64_t> processed_;     // [shard] scratch for commit_step
  // Unfinished messages in consumption order (a ring; head_ = oldest).
  std::vector<Entry> fifo_;
  std::uint64_t head_ = 0, tail_ = 0;
  // The candidate: the oldest `pending_` entries are processed; commit them once the publisher has
  // finished everything it had queued when they were counted (goal_).
  std::uint64_t pending_ = 0;
  std::vector<std::uint64_t> goal_;
  std::vector<std::int64_t> next_offset_;    // [partition] offset to store, -1 = nothing new
  std::vector<std::uint8_t> assigned_, eof_; // [partition]
  std::int64_t last_commit_ns_ = 0;
  // Dead-letter producer (optional): its own client, polled on the feed thread.
  struct DeadLetter;
  std::unique_ptr<DeadLetter> dlq_;
  KafkaFeedStats st_;
  // The bad messages by JsonReject, and symbol_table_full in the last slot: single-writer relaxed atomics
  // (the feed thread counts, rejects() and stats() read from any thread while the feed runs: /metrics);
  // st_ leaves its reject fields at zero, stats() fills them from here.
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(JsonReject::kCount) + 1> live_rejects_{};

  std::uint32_t reported_ = 0;  // bad messages printed (the first kReported; all are counted)
  bool finished_ = false;
};

}  // namespace tickforge::kafka
