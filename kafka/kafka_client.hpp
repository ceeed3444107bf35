// tickforge — what every Kafka client of tickforge shares: configuration with our defaults, secrets
// kept out of every message, librdkafka's logs and errors routed to stderr (rate-limited) and counted.
//
// Private header. Cold path only.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "kafka_settings.hpp"

namespace tickforge::kafka {

/// True for librdkafka properties whose values must never be printed (passwords, keys, tokens, JAAS).
bool is_secret_property(std::string_view key) noexcept;

/// "<hostname>-<pid>-<unix ms>": unique per run, readable in an alert id.
std::string default_instance_id();

/// Per-client counters fed by librdkafka's error and log callbacks (called on librdkafka's threads or
/// inside poll: all atomic). The client's opaque must point at this (or an object derived from it).
struct ClientEvents {
  explicit ClientEvents(std::string client_name) : name(std::move(client_name)) {}
  std::string name;                         ///< shown in messages: "publisher", "feed ticks", …
  std::atomic<std::uint64_t> errors{0};     ///< error_cb calls (transport, all brokers down, …)
  std::atomic<std::uint64_t> all_brokers_down{0};
  std::atomic<std::uint64_t> fatal{0};      ///< fatal errors (the idempotent producer gave up)
};

enum class Role : std::uint8_t { kProducer, kConsumer };

struct ClientOptions {
  const KafkaSettings* settings = nullptr;
  std::string bootstrap;   ///< servers actually used (the embedded cluster's when settings->brokers is empty)
  bool embedded = false;   ///< mock cluster: group timings it can handle (see docs/kafka.md)
  Role role = Role::kProducer;
  ClientEvents* events = nullptr;  ///< becomes the client's opaque
  /// Producers: delivery report callback (served inside rd_kafka_poll/flush on the polling thread).
  void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr;
  /// Consumers: rebalance callback (served inside consumer_poll/close on the polling thread).
  void (*on_rebalance)(rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*, void*) = nullptr;
};

/// A conf with tickforge's defaults for the role, then TICKFORGE_KAFKA_* environment variables
/// (TICKFORGE_KAFKA_SASL_PASSWORD → sasl.password), then settings->properties. nullptr and *error on a
/// property librdkafka refuses; the message names the property but never a secret's value.
rd_kafka_conf_t* make_conf(const ClientOptions& opt, std::string* error);

/// Creates the client (takes the conf in every case). Throws std::runtime_error naming what failed.
rd_kafka_t* make_client(const ClientOptions& opt);

/// make_client(), then waits until the cluster answers a metadata request (settings->connect_timeout_ns).
/// Throws std::runtime_error("cannot reach Kafka at <bootstrap>: …") when it does not.
rd_kafka_t* connect_client(const ClientOptions& opt);

/// Shortest round-trip text of a librdkafka error: "Local: Broker transport failure" etc.
inline const char* error_text(rd_kafka_resp_err_t err) noexcept { return rd_kafka_err2str(err); }

}  // namespace tickforge::kafka
