// tickforge — what a run owns besides the engine: the Kafka cluster and publisher, the built-in feeds
// and their threads. Shared by `tickforge run` and the C API, so both build feeds the same way.
//
// Private header. Cold path: everything here allocates and reports set-up failures as RuntimeError.
// Thread contract: one thread (the lifecycle thread) calls every member; feeds run on their own threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <tickforge/engine.hpp>

#include "run_options.hpp"

namespace tickforge {

class SyntheticFeed;
class CsvFeed;
namespace kafka {
class EmbeddedCluster;
class KafkaPublisher;
class KafkaFeed;
}  // namespace kafka

/// A set-up failure and its class (the C API maps it to an error code, the binary to an exit code).
class RuntimeError : public std::runtime_error {
 public:
  enum class Kind : std::uint8_t { kConfig, kIo, kKafka };
  RuntimeError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  [[nodiscard]] Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

/// One built-in feed: exactly one of the three sources is set.
struct RuntimeFeed {
  RuntimeFeed();
  ~RuntimeFeed();
  std::string label;
  std::unique_ptr<SyntheticFeed> synthetic;
  std::unique_ptr<CsvFeed> csv;
  std::unique_ptr<kafka::KafkaFeed> kafka;
  FeedPort* port = nullptr;
  int cpu = -1;
  std::thread thread;
  std::atomic<bool> done{false};  // release by the feed thread when it has closed its port
  std::string pin_error;
};

class Runtime {
 public:
  /// Starts the embedded Kafka cluster when Kafka is needed and no brokers are given, then the alert
  /// publisher when publish-alerts or a metrics topic is set (it checks the cluster answers). Lines worth
  /// showing the user (cluster address, kcat command) go to notices().
  Runtime(const RunOptions& opt, Engine& engine);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /// Builds every feed of opt.feeds with its port (CSV files are loaded here; skipped rows go to
  /// notices()). Throws RuntimeError.
  void build_feeds();
  /// Registers the publisher's alert callback (publish-alerts). Before engine.start().
  void attach_publisher();
  /// The metric snapshot stream wants the engine's update callback (see kafka::KafkaPublisher).
  [[nodiscard]] kafka::KafkaPublisher* metrics_publisher() const noexcept;
  /// Starts the publisher thread and one thread per feed (after engine.start()).
  void start();
  [[nodiscard]] bool feeds_done() const noexcept;
  /// Asks the feeds to end and joins them, calling pump() while any is still running (a feed blocked
  /// on a full ring needs the caller to keep the engine's outputs moving).
  template <typename Pump>
  void stop_feeds(Pump&& pump) {
    stop_feeds_.store(true, std::memory_order_relaxed);
    for (auto& f : feeds_) {
      while (f->thread.joinable() && !f->done.load(std::memory_order_acquire)) {  // partner: feed thread
        pump();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (f->thread.joinable()) {
        f->thread.join();
      }
    }
  }
  /// After engine.stop(): the publisher delivers what is queued (bounded by flush-timeout) and joins,
  /// then the Kafka feeds make their last commits. Idempotent.
  void finish();

  [[nodiscard]] const std::vector<std::unique_ptr<RuntimeFeed>>& feeds() const noexcept { return feeds_; }
  [[nodiscard]] kafka::KafkaPublisher* publisher() const noexcept { return publisher_.get(); }
  [[nodiscard]] const std::vector<std::string>& notices() const noexcept { return notices_; }
  [[nodiscard]] std::uint64_t csv_rejected() const noexcept { return csv_rejected_; }
  /// The instance id alerts carry (the publisher's, or the configured/default one).
  [[nodiscard]] std::string instance_id() const;

 private:
  const RunOptions& opt_;
  Engine& engine_;
  std::unique_ptr<kafka::EmbeddedCluster> cluster_;  // declared first: destroyed after its clients
  std::string bootstrap_;
  std::unique_ptr<kafka::KafkaPublisher> publisher_;
  std::vector<std::unique_ptr<RuntimeFeed>> feeds_;
  std::atomic<bool> stop_feeds_{false};
  std::vector<std::string> notices_;
  std::uint64_t csv_rejected_ = 0;
  bool finished_ = false;
};

}  // namespace tickforge
