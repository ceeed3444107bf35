#include "embedded_cluster.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace tickforge::kafka {

namespace {
extern "C" void discard_log(const rd_kafka_t*, int, const char*, const char*) {}
}  // namespace

EmbeddedCluster::EmbeddedCluster(std::uint32_t brokers) : brokers_(brokers) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, discard_log);  // the mock logs every connection; keep it quiet
  handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (handle_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("embedded Kafka: cannot create its handle: ") + err);
  }
  mock_ = rd_kafka_mock_cluster_new(handle_, static_cast<int>(brokers));
  if (mock_ == nullptr) {
    rd_kafka_destroy(handle_);
    throw std::runtime_error("embedded Kafka: cannot start the mock cluster");
  }
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(mock_);
}

EmbeddedCluster::~EmbeddedCluster() {
  rd_kafka_mock_cluster_destroy(mock_);
  rd_kafka_destroy(handle_);
}

void EmbeddedCluster::create_topic(const std::string& name, std::uint32_t partitions) {
  const int replication = static_cast<int>(std::min<std::uint32_t>(3, brokers_));
  const rd_kafka_resp_err_t e =
      rd_kafka_mock_topic_create(mock_, name.c_str(), static_cast<int>(partitions), replication);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("embedded Kafka: cannot create topic '" + name + "': " + rd_kafka_err2str(e));
  }
}

void EmbeddedCluster::broker_down(std::int32_t broker) { rd_kafka_mock_broker_set_down(mock_, broker); }
void EmbeddedCluster::broker_up(std::int32_t broker) { rd_kafka_mock_broker_set_up(mock_, broker); }

void EmbeddedCluster::set_leader(const std::string& topic, std::int32_t partition, std::int32_t broker) {
  rd_kafka_mock_partition_set_leader(mock_, topic.c_str(), partition, broker);
}

void EmbeddedCluster::set_coordinator(const std::string& group, std::int32_t broker) {
  rd_kafka_mock_coordinator_set(mock_, "group", group.c_str(), broker);
}

void EmbeddedCluster::push_request_errors(std::int16_t api_key, std::size_t count, int err) {
  std::vector<rd_kafka_resp_err_t> errs(count, static_cast<rd_kafka_resp_err_t>(err));
  rd_kafka_mock_push_request_errors_array(mock_, api_key, errs.size(), errs.data());
}

}  // namespace tickforge::kafka
