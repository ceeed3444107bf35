#include "kafka_client.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace tickforge::kafka {

namespace {

// At most kBurst lines per second from all clients together; the rest are counted and summarised.
class RateLimit {
 public:
  bool allow() noexcept {
    const std::int64_t sec =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    std::int64_t seen = second_.load(std::memory_order_relaxed);
    if (sec != seen && second_.compare_exchange_strong(seen, sec, std::memory_order_relaxed)) {
      const std::uint32_t skipped = count_.exchange(0, std::memory_order_relaxed);
      if (skipped > kBurst) {
        std::fprintf(stderr, "tickforge: kafka: %u more messages in the last second not shown\n", skipped - kBurst);
      }
    }
    return count_.fetch_add(1, std::memory_order_relaxed) < kBurst;
  }

 private:
  static constexpr std::uint32_t kBurst = 10;
  std::atomic<std::int64_t> second_{0};
  std::atomic<std::uint32_t> count_{0};
};

RateLimit g_limit;

ClientEvents* events_of(rd_kafka_t* rk) noexcept { return static_cast<ClientEvents*>(rd_kafka_opaque(rk)); }

extern "C" void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* ev = static_cast<ClientEvents*>(opaque);
  if (ev == nullptr) {
    return;
  }
  ev->errors.fetch_add(1, std::memory_order_relaxed);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    ev->all_brokers_down.fetch_add(1, std::memory_order_relaxed);
  }
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    ev->fatal.fetch_add(1, std::memory_order_relaxed);
    char why[512];
    rd_kafka_fatal_error(rk, why, sizeof(why));
    std::fprintf(stderr, "tickforge: kafka %s: FATAL: %s\n", ev->name.c_str(), why);
    return;
  }
  if (g_limit.allow()) {
    std::fprintf(stderr, "tickforge: kafka %s: %s: %s\n", ev->name.c_str(), rd_kafka_err2name(code), reason);
  }
}

extern "C" void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  // Errors only (syslog level 3); connection failures ("FAIL") also reach on_error(), which prints them.
  if (level > 3 || std::strcmp(fac, "FAIL") == 0 || !g_limit.allow()) {
    return;
  }
  const ClientEvents* ev = events_of(const_cast<rd_kafka_t*>(rk));
  std::fprintf(stderr, "tickforge: kafka %s: %s: %s\n", ev != nullptr ? ev->name.c_str() : "client", fac, buf);
}

// librdkafka's messages for a refused property may quote the value: for secrets, say only which.
bool set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value, std::string* error) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof(err)) == RD_KAFKA_CONF_OK) {
    return true;
  }
  if (is_secret_property(key)) {
    *error = "Kafka property '" + key + "' was refused (its value is secret and not shown)";
  } else {
    *error = std::string("Kafka property: ") + err;
  }
  return false;
}

}  // namespace

bool is_secret_property(std::string_view key) noexcept {
  std::string k(key);
  for (char& c : k) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  for (const char* word : {"password", "secret", "jaas", "token", "oauthbearer.config", "ssl.key", "ssl_key",
                           "keystore", "credential"}) {
    if (k.find(word) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string default_instance_id() {
  char host[256] = "host";
  if (::gethostname(host, sizeof(host) - 1) != 0) {
    std::strcpy(host, "host");
  }
  host[sizeof(host) - 1] = '\0';
  std::string id;
  for (const char* p = host; *p != '\0' && id.size() < 64; ++p) {  // topic-safe characters only
    id += std::isalnum(static_cast<unsigned char>(*p)) != 0 || *p == '-' || *p == '.' ? *p : '_';
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  id += '-';
  id += std::to_string(::getpid());
  id += '-';
  id += std::to_string(ms);
  return id;
}

rd_kafka_conf_t* make_conf(const ClientOptions& opt, std::string* error) {
  const KafkaSettings& s = *opt.settings;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::vector<std::pair<std::string, std::string>> props = {
      {"bootstrap.servers", opt.bootstrap},
      {"client.id", "tickforge"},
      {"socket.nagle.disable", "true"},
  };
  if (opt.role == Role::kProducer) {
    props.insert(props.end(), {
                                  {"acks", "all"},
                                  {"enable.idempotence", "true"},
                                  {"linger.ms", "1"},  // latency first: a batch waits at most 1 ms
                                  {"partitioner", "murmur2_random"},  // the Java client's: same partition per key
                              });
  } else {
    props.insert(props.end(), {
                                  {"group.id", s.group_id},
                                  {"enable.auto.commit", "true"},
                                  {"auto.commit.interval.ms", "1000"},
                                  // Offsets are stored by the feed only for finished ticks (at-least-once).
                                  {"enable.auto.offset.store", "false"},
                                  {"auto.offset.reset", s.offset_reset},
                                  {"partition.assignment.strategy", "cooperative-sticky"},
                                  {"enable.partition.eof", s.stop_at_eof ? "true" : "false"},
                              });
    if (opt.embedded) {
      // The mock cluster makes a rebalance wait session.timeout.ms − 1 s: keep it short.
      props.insert(props.end(), {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "1000"}});
    }
  }
  // Environment (secrets usually come this way): TICKFORGE_KAFKA_SASL_PASSWORD → sasl.password.
  static constexpr std::string_view kPrefix = "TICKFORGE_KAFKA_";
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const std::size_t eq = entry.find('=');
    if (entry.rfind(kPrefix, 0) != 0 || eq == std::string_view::npos || eq <= kPrefix.size()) {
      continue;
    }
    std::string key(entry.substr(kPrefix.size(), eq - kPrefix.size()));
    for (char& c : key) {
      c = c == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    props.emplace_back(std::move(key), std::string(entry.substr(eq + 1)));
  }
  props.insert(props.end(), s.properties.begin(), s.properties.end());
  for (const auto& [k, v] : props) {
    if (!set(conf, k, v, error)) {
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  rd_kafka_conf_set_error_cb(conf, on_error);
  rd_kafka_conf_set_log_cb(conf, on_log);
  rd_kafka_conf_set_opaque(conf, opt.events);
  if (opt.on_delivery != nullptr) {
    rd_kafka_conf_set_dr_msg_cb(conf, opt.on_delivery);
  }
  if (opt.on_rebalance != nullptr) {
    rd_kafka_conf_set_rebalance_cb(conf, opt.on_rebalance);
  }
  return conf;
}

rd_kafka_t* make_client(const ClientOptions& opt) {
  std::string error;
  rd_kafka_conf_t* conf = make_conf(opt, &error);
  if (conf == nullptr) {
    throw std::runtime_error(error);
  }
  char err[512];
  rd_kafka_t* rk =
      rd_kafka_new(opt.role == Role::kProducer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) {  // rd_kafka_new() keeps the conf only on success
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("cannot create Kafka client: ") + err);
  }
  return rk;
}

namespace {

// Asks the cluster for metadata until it answers or timeout_ns passes. False with *error when not.
bool wait_for_cluster(rd_kafka_t* rk, std::int64_t timeout_ns, std::string* error) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout_ns);
  rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    const rd_kafka_metadata_t* md = nullptr;
    last = rd_kafka_metadata(rk, 0, nullptr, &md, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
    if (last == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const int brokers = md->broker_cnt;
      rd_kafka_metadata_destroy(md);
      if (brokers > 0) {
        return true;
      }
    }
  }
  *error = std::string("no answer from the Kafka cluster within ") + std::to_string(timeout_ns / 1'000'000) +
           " ms (" + rd_kafka_err2str(last) + ")";
  return false;
}

}  // namespace

rd_kafka_t* connect_client(const ClientOptions& opt) {
  rd_kafka_t* rk = make_client(opt);
  std::string error;
  if (!wait_for_cluster(rk, opt.settings->connect_timeout_ns, &error)) {
    rd_kafka_destroy(rk);
    throw std::runtime_error("cannot reach Kafka at " + opt.bootstrap + ": " + error);
  }
  return rk;
}

}  // namespace tickforge::kafka
