// tickforge — the embedded Kafka cluster: librdkafka's mock cluster (rdkafka_mock.h) in this process,
// on 127.0.0.1 with random ports, reachable by any Kafka client (kcat, Java, Python) while it runs.
//
// It is for development, demos and tests, not production: each partition keeps only about 5 MiB, it does
// not check idempotent sequence numbers (a lost response can duplicate a message), and it disappears
// with the process. See docs/kafka.md for what we measured and designed around.
//
// Thread contract: create, use and destroy from one thread. Destroy only after every client connected
// to it is destroyed (clients first, then the cluster, then its handle: the destructor does the last two).
#pragma once

#include <cstdint>
#include <string>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace tickforge::kafka {

class EmbeddedCluster {
 public:
  /// Starts `brokers` mock brokers (ids 1..brokers) on a private handle whose logs are discarded.
  /// Throws std::runtime_error when the cluster cannot start.
  explicit EmbeddedCluster(std::uint32_t brokers);
  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  /// "127.0.0.1:PORT,127.0.0.1:PORT,…": the bootstrap.servers clients use.
  [[nodiscard]] const std::string& bootstrap() const noexcept { return bootstrap_; }
  [[nodiscard]] std::uint32_t brokers() const noexcept { return brokers_; }

  /// Creates a topic, replicated on min(3, brokers) brokers. Throws std::runtime_error on failure.
  void create_topic(const std::string& name, std::uint32_t partitions);

  // Fault injection for tests and demos.
  void broker_down(std::int32_t broker);
  void broker_up(std::int32_t broker);
  void set_leader(const std::string& topic, std::int32_t partition, std::int32_t broker);
  /// The broker coordinating consumer group `group`.
  void set_coordinator(const std::string& group, std::int32_t broker);
  /// The next `count` requests of API `api_key` (e.g. 0 = Produce) fail with `err` (rd_kafka_resp_err_t).
  void push_request_errors(std::int16_t api_key, std::size_t count, int err);
  [[nodiscard]] rd_kafka_mock_cluster_s* mock() noexcept { return mock_; }

 private:
  rd_kafka_s* handle_ = nullptr;
  rd_kafka_mock_cluster_s* mock_ = nullptr;
  std::string bootstrap_;
  std::uint32_t brokers_;
};

}  // namespace tickforge::kafka
