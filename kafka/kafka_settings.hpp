// tickforge — Kafka settings of a run: plain data that the settings table fills and the Kafka clients of
// this folder read. No librdkafka type appears here.
//
// Private header. Cold: read once at start-up.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "json_tick.hpp"  // JsonFieldMap

namespace tickforge {

struct KafkaSettings {
  std::string brokers;                   ///< bootstrap servers; empty = start the embedded (mock) cluster
  /// librdkafka properties applied to every client, in order, after tickforge's defaults (later wins).
  /// Values may be secrets: never print them (kafka::is_secret_property()).
  std::vector<std::pair<std::string, std::string>> properties;
  bool publish_alerts = true;            ///< alerts → alerts_topic (starts the embedded cluster if needed)
  std::string alerts_topic = "tickforge.alerts";
  std::string metrics_topic;             ///< per-ticker metric snapshots; empty = off
  std::string daily_topic;               ///< daily summaries; empty = off
  std::int64_t metrics_interval_ns = 1'000'000'000;  ///< per ticker, event time; 0 = every tick
  std::string dead_letter_topic;         ///< bad input messages with the reason; empty = count only
  std::string group_id = "tickforge";
  std::string instance_id;               ///< alert id prefix; empty = <hostname>-<pid>-<start time>
  std::uint32_t embedded_brokers = 3;    ///< brokers in the embedded cluster
  std::uint32_t partitions = 6;          ///< partitions of the topics tickforge creates in the embedded cluster
  std::uint32_t queue_capacity = 65536;  ///< engine → publisher queue (alerts); full = dropped and counted
  std::int64_t flush_timeout_ns = 10'000'000'000;    ///< at shutdown: wait this long for deliveries
  std::int64_t connect_timeout_ns = 10'000'000'000;  ///< at start-up: the cluster must answer within this
  bool stop_at_eof = false;              ///< Kafka feeds end once every assigned partition is read to its end
  std::string offset_reset = "earliest"; ///< a group with no committed offset starts here (earliest|latest)
  JsonFieldMap fields;
  std::int32_t publisher_cpu = -1;       ///< pin the publisher thread (-1: not pinned)
};

}  // namespace tickforge
