#include "kafka_commands.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include <tickforge/engine.hpp>

#include "csv_feed.hpp"
#include "embedded_cluster.hpp"
#include "kafka_client.hpp"
#include "pacer.hpp"
#include "record_json.hpp"
#include "signals.hpp"
#include "synthetic.hpp"

namespace tickforge::cli {

int broker(RunOptions opt) {
  std::vector<std::string> topics = opt.broker_topics;
  if (topics.empty()) {
    topics = {opt.produce_topic, opt.kafka.alerts_topic, "tickforge.metrics", "tickforge.dead-letter"};
  }
  kafka::EmbeddedCluster cluster(opt.kafka.embedded_brokers);
  std::string names;
  for (const std::string& t : topics) {
    cluster.create_topic(t, opt.kafka.partitions);
    names += names.empty() ? "" : ", ";
    names += t;
  }
  install_signal_handlers();
  std::printf("%s\n", cluster.bootstrap().c_str());  // alone on stdout, for scripts: B=$(tickforge broker …)
  std::fflush(stdout);
  fmt::print(stderr,
             "tickforge broker: embedded Kafka cluster, {} brokers, at {}\n  topics ({} partitions each): {}\n"
             "  this is librdkafka's mock cluster: about 5 MiB kept per partition, nothing on disk\n"
             "  stop with Ctrl-C\n",
             cluster.brokers(), cluster.bootstrap(), opt.kafka.partitions, names);
  const auto t0 = std::chrono::steady_clock::now();
  while (!signalled()) {
    if (opt.duration_seconds > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= opt.duration_seconds) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  fmt::print(stderr, "tickforge broker: stopped\n");
  return 0;
}

namespace {

struct ProduceState : kafka::ClientEvents {
  ProduceState() : ClientEvents("producer") {}
  std::uint64_t delivered = 0, failed = 0;
  std::map<std::string, std::uint64_t> failed_by_error;
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<ProduceState*>(static_cast<kafka::ClientEvents*>(opaque));
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++self->failed;
      ++self->failed_by_error[rd_kafka_err2name(m->err)];
    } else {
      ++self->delivered;
    }
  }
};

}  // namespace

int produce(RunOptions opt) {
  if (opt.kafka.brokers.empty()) {
    fmt::print(stderr, "tickforge: error: produce needs --brokers HOST:PORT (a local cluster: tickforge broker)\n");
    return 2;
  }
  if (opt.feeds.size() > 1 || (!opt.feeds.empty() && opt.feeds[0].kind != "synthetic" && opt.feeds[0].kind != "csv")) {
    fmt::print(stderr, "tickforge: error: produce takes one --feed: synthetic or csv:PATH\n");
    return 2;
  }
  const bool synthetic = opt.feeds.empty() || opt.feeds[0].kind == "synthetic";
  if (opt.duration_seconds < 0) {
    opt.duration_seconds = synthetic && opt.max_ticks == 0 ? 5 : 0;
  }

  // The source: the same synthetic walk or CSV rows the engine replays.
  SymbolTable symbols(opt.engine.max_tickers);
  std::unique_ptr<SyntheticFeed> syn;
  std::unique_ptr<CsvFeed> csv;
  if (synthetic) {
    SyntheticOptions so = opt.synthetic;
    so.tickers = opt.tickers.empty() ? SyntheticFeed::default_tickers(so.count) : opt.tickers;
    syn = std::make_unique<SyntheticFeed>(so, symbols);
  } else {
    CsvFeedOptions co = opt.csv;
    co.csv.path = opt.feeds[0].arg;
    co.csv.ticker = opt.tickers.size() == 1 ? opt.tickers.front() : std::string();
    co.max_ticks = 0;
    csv = std::make_unique<CsvFeed>(co, symbols);
    if (!csv->load().ok) {
      fmt::print(stderr, "tickforge: error: {}\n", csv->load().error);
      return 1;
    }
    for (const std::string& m : csv->load().messages) {
      fmt::print(stderr, "tickforge: skipped row: {}\n", m);
    }
  }
  const std::uint64_t available = csv ? csv->load().rows.size() : UINT64_MAX;
  const std::uint64_t count = opt.max_ticks != 0 ? std::min<std::uint64_t>(opt.max_ticks, available) : available;

  ProduceState state;
  kafka::ClientOptions co;
  co.settings = &opt.kafka;
  co.bootstrap = opt.kafka.brokers;
  co.role = kafka::Role::kProducer;
  co.events = &state;
  co.on_delivery = &ProduceState::on_delivery;
  rd_kafka_t* rk = kafka::connect_client(co);  // throws: main() prints it and exits 1
  rd_kafka_topic_t* topic = rd_kafka_topic_new(rk, opt.produce_topic.c_str(), nullptr);
  install_signal_handlers();

  const std::int64_t start = FeedPort::now_ns();
  const std::int64_t end = opt.duration_seconds > 0
                               ? start + static_cast<std::int64_t>(opt.duration_seconds * 1e9)
                               : INT64_MAX;
  const double interval_ns = !opt.synthetic.saturate && opt.synthetic.rate > 0 ? 1e9 / opt.synthetic.rate : 0;
  char buf[512];
  std::uint64_t sent = 0;
  std::uint64_t local_full_waits = 0;
  const char* stop_reason = "input ended";
  for (std::uint64_t i = 0; i < count; ++i) {
    if ((i & 255) == 0) {
      if (signalled()) {
        stop_reason = "signal";
        break;
      }
      if (FeedPort::now_ns() >= end) {
        stop_reason = "duration reached";
        break;
      }
      rd_kafka_poll(rk, 0);
    }
    if (interval_ns > 0) {
      if (!wait_until(schedule_at(start, static_cast<double>(i) * interval_ns), [] { return signalled(); })) {
        stop_reason = "signal";
        break;
      }
    }
    const char* ticker = nullptr;
    double price = 0, volume = 0;
    std::int64_t event_ns = 0;
    if (syn) {
      const Tick t = syn->next();
      ticker = symbols.name(t.symbol);
      price = t.price;
      volume = t.volume;
      event_ns = t.event_ns;
    } else {
      const CsvRow& r = csv->load().rows[i];
      ticker = symbols.name(r.symbol);
      price = r.price;
      volume = r.volume;
      event_ns = r.event_ns;
    }
    const std::size_t len = format_tick_json(ticker, price, volume, event_ns, buf, sizeof(buf));
    while (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, buf, len, ticker, std::strlen(ticker),
                            nullptr) != 0) {
      if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        ++state.failed;
        ++state.failed_by_error[rd_kafka_err2name(rd_kafka_last_error())];
        break;
      }
      ++local_full_waits;
      rd_kafka_poll(rk, 10);
    }
    ++sent;
  }
  const bool timed_out =
      rd_kafka_flush(rk, static_cast<int>(opt.kafka.flush_timeout_ns / 1'000'000)) == RD_KAFKA_RESP_ERR__TIMED_OUT;
  const int undelivered = rd_kafka_outq_len(rk);
  const double secs = static_cast<double>(FeedPort::now_ns() - start) / 1e9;
  rd_kafka_topic_destroy(topic);
  rd_kafka_destroy(rk);
  fmt::print(stderr,
             "tickforge produce ({}): {} ticks → {} in {:.3f} s = {:.0f}/s; delivered {}  failed {}  undelivered {}"
             "{}  (local queue-full waits {})\n",
             stop_reason, sent, opt.produce_topic, secs, static_cast<double>(sent) / (secs > 0 ? secs : 1e-9),
             state.delivered, state.failed, undelivered, timed_out ? "  FLUSH TIMED OUT" : "", local_full_waits);
  for (const auto& [name, n] : state.failed_by_error) {
    fmt::print(stderr, "  failed: {} {}\n", name, n);
  }
  return state.delivered == sent ? 0 : 1;
}

}  // namespace tickforge::cli
