// The Kafka publisher against the embedded (mock) cluster, read back with an independent librdkafka
// consumer: every alert delivered and found by id while brokers go down and leaders move, and under
// injected transport errors (duplicates allowed and recognised by id, nothing missing); configuration
// errors that never show a secret; an unreachable cluster refused at start-up with a clear message.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <tickforge/symbol_table.hpp>

#include "embedded_cluster.hpp"
#include "kafka_client.hpp"
#include "kafka_publisher.hpp"
#include "kafka_support.hpp"

using tickforge::Alert;
using tickforge::KafkaSettings;
using tickforge::SymbolTable;
using tickforge::kafka::EmbeddedCluster;
using tickforge::kafka::KafkaPublisher;
using tickforge::kafka::PublisherOptions;
using tickforge::test::json_field;
using tickforge::test::read_topic;

namespace {

constexpr const char* kTopic = "alerts";

KafkaSettings settings_for_test() {
  KafkaSettings s;
  s.alerts_topic = kTopic;
  s.flush_timeout_ns = 60'000'000'000;
  s.queue_capacity = 1 << 16;
  return s;
}

// Shard s emits alerts s+1, s+1+shards, … like the engine; `pace` lets faults happen mid-stream.
void emit(KafkaPublisher& pub, std::uint32_t shard, std::uint32_t shards, std::uint32_t n) {
  static const char* tickers[] = {"AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "META", "GOOGL", "AMD"};
  for (std::uint32_t k = 0; k < n; ++k) {
    Alert a{};
    a.id = shard + 1 + static_cast<std::uint64_t>(k) * shards;
    a.tick_seq = k;
    a.event_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(k) * 1'000'000;
    a.rule = tickforge::Rule::kWindowMove;
    a.direction = tickforge::Direction::kUp;
    std::snprintf(a.ticker, sizeof(a.ticker), "%s", tickers[(k + shard) % 8]);
    a.price = 100 + k;
    a.value = 5.5;
    a.threshold = 5;
    KafkaPublisher::on_alert(&pub, &a);
    if (k % 50 == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

struct Readback {
  std::set<std::string> ids;
  std::size_t messages = 0;
  std::size_t duplicates() const { return messages - ids.size(); }
};

Readback read_alerts(const std::string& bootstrap) {
  Readback r;
  for (const auto& m : read_topic(bootstrap, kTopic, 60)) {
    ++r.messages;
    r.ids.insert(json_field(m.value, "alert_id"));
    EXPECT_EQ(m.key, json_field(m.value, "ticker")) << "the key is the ticker";
  }
  return r;
}

void expect_all_ids(const Readback& r, const std::string& instance, std::uint32_t shards, std::uint32_t per_shard) {
  std::size_t missing = 0;
  for (std::uint64_t id = 1; id <= static_cast<std::uint64_t>(shards) * per_shard; ++id) {
    if (r.ids.count(instance + "-" + std::to_string(id)) == 0) {
      ++missing;
    }
  }
  EXPECT_EQ(missing, 0u) << "alerts missing from the topic";
  EXPECT_EQ(r.ids.size(), static_cast<std::size_t>(shards) * per_shard) << "ids that were never emitted";
}

// A publisher fed by `shards` emitting threads while `faults` runs on this thread; returns its counters
// after stop() (everything queued sent, flushed).
template <typename Faults>
tickforge::kafka::PublisherStats publish_through(EmbeddedCluster& cluster, const char* instance, std::uint32_t shards,
                                                 std::uint32_t per_shard, Faults&& faults) {
  const KafkaSettings ks = settings_for_test();
  SymbolTable symbols(64);
  PublisherOptions po{&ks, cluster.bootstrap(), true, instance, shards, 64};
  KafkaPublisher pub(po, symbols);
  pub.start(-1);
  std::vector<std::thread> emitters;
  for (std::uint32_t s = 0; s < shards; ++s) {
    emitters.emplace_back([&, s] { emit(pub, s, shards, per_shard); });
  }
  faults();
  for (auto& t : emitters) {
    t.join();
  }
  pub.stop();
  return pub.stats();
}

}  // namespace

TEST(KafkaPublisher, ShouldDeliverEveryAlertWhileBrokersGoDownAndLeadersMove) {
  EmbeddedCluster cluster(3);
  cluster.create_topic(kTopic, 6);
  constexpr std::uint32_t kPerShard = 4000;
  // Faults while the shards emit (~0.4 s of emission): a broker down and up, leaders moved both ways.
  const auto st = publish_through(cluster, "faults", 2, kPerShard, [&] {
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  cluster.broker_down(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  for (int p = 0; p < 6; ++p) {
    cluster.set_leader(kTopic, p, 2 + p % 2);
  }
  cluster.broker_up(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  cluster.broker_down(3);
  for (int p = 0; p < 6; ++p) {
    cluster.set_leader(kTopic, p, 1 + p % 2);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  cluster.broker_up(3);
  });
  EXPECT_EQ(st.alerts.queued, 2u * kPerShard);
  EXPECT_EQ(st.alerts.dropped_full, 0u);
  EXPECT_EQ(st.alerts.delivered, 2u * kPerShard);
  EXPECT_EQ(st.alerts.failed, 0u);
  EXPECT_EQ(st.alerts.in_flight, 0u);
  const Readback r = read_alerts(cluster.bootstrap());
  expect_all_ids(r, "faults", 2, kPerShard);
  std::printf("delivered %zu messages for %zu alerts (%zu duplicates)\n", r.messages, r.ids.size(), r.duplicates());
}

TEST(KafkaPublisher, ShouldLoseNothingUnderInjectedTransportErrorsAndMarkDuplicatesById) {
  EmbeddedCluster cluster(3);
  cluster.create_topic(kTopic, 6);
  // Connections dropped under Produce requests in flight: their responses are lost, the client
  // retries, and the mock (which does not check idempotent sequence numbers) may store a batch twice.
  const auto st = publish_through(cluster, "transport", 1, 6000, [&] {
    for (int round = 0; round < 4; ++round) {
      std::this_thread::sleep_for(std::chrono::milliseconds(80));
      cluster.push_request_errors(0 /* Produce */, 3, RD_KAFKA_RESP_ERR__TRANSPORT);
    }
  });
  EXPECT_EQ(st.alerts.delivered, 6000u);
  EXPECT_EQ(st.alerts.failed, 0u);
  const Readback r = read_alerts(cluster.bootstrap());
  expect_all_ids(r, "transport", 1, 6000);
  std::printf("delivered %zu messages for %zu alerts (%zu duplicates, recognised by id)\n", r.messages, r.ids.size(),
              r.duplicates());
}

TEST(KafkaPublisher, ShouldRefuseAnUnreachableClusterAtStartWithAClearMessage) {
  KafkaSettings ks = settings_for_test();
  ks.connect_timeout_ns = 1'000'000'000;
  SymbolTable symbols(8);
  PublisherOptions po{&ks, "127.0.0.1:1", false, "x", 1, 8};
  try {
    KafkaPublisher pub(po, symbols);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot reach Kafka at 127.0.0.1:1"), std::string::npos) << what;
  }
}

TEST(KafkaConfig, ShouldNeverPutASecretValueInAnError) {
  KafkaSettings ks;
  ks.properties = {{"sasl.password", "hunter2-secret"}, {"ssl.key.password", "another-secret"},
                   {"no.such.property", "visible-value"}};
  tickforge::kafka::ClientOptions co;
  co.settings = &ks;
  co.bootstrap = "127.0.0.1:1";
  std::string error;
  // sasl.password is accepted (no error at all); the unknown, non-secret property is named.
  rd_kafka_conf_t* conf = tickforge::kafka::make_conf(co, &error);
  EXPECT_EQ(conf, nullptr);
  EXPECT_NE(error.find("no.such.property"), std::string::npos) << error;
  // Secrets librdkafka accepts leave no trace; one it refuses is named, its value replaced by a notice.
  ks.properties = {{"sasl.oauthbearer.config", "x"}, {"ssl.keystore.password", "hunter2"},
                   {"ssl.key.passwordd", "hunter2-typo"}};
  error.clear();
  conf = tickforge::kafka::make_conf(co, &error);
  EXPECT_EQ(conf, nullptr);
  EXPECT_NE(error.find("ssl.key.passwordd"), std::string::npos) << error;
  EXPECT_NE(error.find("not shown"), std::string::npos) << error;
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
  EXPECT_TRUE(tickforge::kafka::is_secret_property("sasl.password"));
  EXPECT_TRUE(tickforge::kafka::is_secret_property("SASL.JAAS.CONFIG"));
  EXPECT_TRUE(tickforge::kafka::is_secret_property("ssl.key.pem"));
  EXPECT_FALSE(tickforge::kafka::is_secret_property("security.protocol"));
  EXPECT_FALSE(tickforge::kafka::is_secret_property("sasl.username"));
}

TEST(KafkaConfig, ShouldTakeSecretsFromTheEnvironment) {
  KafkaSettings ks;
  ::setenv("TICKFORGE_KAFKA_SASL_USERNAME", "svc-ticks", 1);
  tickforge::kafka::ClientOptions co;
  co.settings = &ks;
  co.bootstrap = "127.0.0.1:1";
  std::string error;
  rd_kafka_conf_t* conf = tickforge::kafka::make_conf(co, &error);
  ::unsetenv("TICKFORGE_KAFKA_SASL_USERNAME");
  ASSERT_NE(conf, nullptr) << error;
  char value[64];
  std::size_t size = sizeof(value);
  ASSERT_EQ(rd_kafka_conf_get(conf, "sasl.username", value, &size), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(value, "svc-ticks");
  size = sizeof(value);
  ASSERT_EQ(rd_kafka_conf_get(conf, "partitioner", value, &size), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(value, "murmur2_random");
  rd_kafka_conf_destroy(conf);
}
