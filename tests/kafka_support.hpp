// Test support for Kafka: read a whole topic, produce lines, start the tickforge binary as a child
// process (its output in files) and wait for or kill it. Uses librdkafka directly, not tickforge code,
// so what tickforge wrote is read back by an independent client.
#pragma once

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "child_process.hpp"

namespace tickforge::test {

struct KMessage {
  std::string key, value;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::vector<std::pair<std::string, std::string>> headers;
};

inline rd_kafka_t* test_client(rd_kafka_type_t type, const std::string& bootstrap,
                               std::vector<std::pair<std::string, std::string>> props = {}) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  props.insert(props.begin(), {"bootstrap.servers", bootstrap});
  props.emplace_back("log_level", "3");
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      throw std::runtime_error(err);
    }
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));
  if (rk == nullptr) {
    throw std::runtime_error(err);
  }
  return rk;
}

/// Every message of every partition of `topic`, from the beginning to the end at the time of reading.
inline std::vector<KMessage> read_topic(const std::string& bootstrap, const std::string& topic,
                                        int timeout_s = 30) {
  rd_kafka_t* rk = test_client(RD_KAFKA_CONSUMER, bootstrap,
                               {{"group.id", "tickforge-test-reader"}, {"enable.partition.eof", "true"},
                                {"enable.auto.commit", "false"}});
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk, 0, t, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1) {
    throw std::runtime_error("no metadata for " + topic);
  }
  const int parts = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(t);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(parts);
  for (int p = 0; p < parts; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<KMessage> out;
  int eofs = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (eofs < parts && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) {
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++eofs;
    } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      KMessage k;
      k.key.assign(static_cast<const char*>(m->key), m->key != nullptr ? m->key_len : 0);
      k.value.assign(static_cast<const char*>(m->payload), m->payload != nullptr ? m->len : 0);
      k.partition = m->partition;
      k.offset = m->offset;
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* val = nullptr;
        std::size_t size = 0;
        for (std::size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          k.headers.emplace_back(name, std::string(static_cast<const char*>(val), size));
        }
      }
      out.push_back(std::move(k));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  if (eofs < parts) {
    throw std::runtime_error("reading " + topic + " timed out");
  }
  return out;
}

/// Produces (key, value) pairs and waits for every delivery. Returns how many were delivered.
inline std::size_t produce_all(const std::string& bootstrap, const std::string& topic,
                               const std::vector<std::pair<std::string, std::string>>& kv) {
  rd_kafka_t* rk = test_client(RD_KAFKA_PRODUCER, bootstrap, {{"partitioner", "murmur2_random"}});
  for (const auto& [k, v] : kv) {
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(k.data(), k.size()),
                             RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 10);
    }
  }
  rd_kafka_flush(rk, 30000);
  const int left = rd_kafka_outq_len(rk);
  rd_kafka_destroy(rk);
  return kv.size() - static_cast<std::size_t>(left);
}

/// The value of a top-level JSON string field in one of our flat JSON records ("" when absent).
inline std::string json_field(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  const std::size_t at = json.find(key);
  if (at == std::string::npos) {
    return {};
  }
  std::size_t b = at + key.size();
  if (json[b] == '"') {
    const std::size_t e = json.find('"', b + 1);
    return json.substr(b + 1, e - b - 1);
  }
  std::size_t e = b;
  while (e < json.size() && json[e] != ',' && json[e] != '}' && json[e] != ']') {
    ++e;
  }
  return json.substr(b, e - b);
}

}  // namespace tickforge::test
