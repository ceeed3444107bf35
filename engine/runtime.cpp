#include "runtime.hpp"

#include <fmt/format.h>

#include "csv_feed.hpp"
#include "kafka/embedded_cluster.hpp"
#include "kafka/kafka_publisher.hpp"
#include "kafka_feed.hpp"
#include "synthetic.hpp"

namespace tickforge {

RuntimeFeed::RuntimeFeed() = default;
RuntimeFeed::~RuntimeFeed() {
  if (thread.joinable()) {
    thread.join();
  }
}

Runtime::Runtime(const RunOptions& opt, Engine& engine) : opt_(opt), engine_(engine) {
  bool kafka_feeds = false;
  for (const FeedSpec& f : opt.feeds) {
    kafka_feeds = kafka_feeds || f.kind == FeedSpec::Kind::kKafka;
  }
  const bool need_kafka = opt.kafka.publish_alerts || kafka_feeds || !opt.kafka.metrics_topic.empty();
  bootstrap_ = opt.kafka.brokers;
  if (need_kafka && bootstrap_.empty()) {
    try {
      cluster_ = std::make_unique<kafka::EmbeddedCluster>(opt.kafka.embedded_brokers);
    } catch (const std::exception& e) {
      throw RuntimeError(RuntimeError::Kind::kKafka, e.what());
    }
    std::vector<std::string> topics;
    for (const std::string* t : {&opt.kafka.alerts_topic, &opt.kafka.metrics_topic, &opt.kafka.dead_letter_topic}) {
      if (!t->empty()) {
        topics.push_back(*t);
      }
    }
    for (const FeedSpec& f : opt.feeds) {
      if (f.kind == FeedSpec::Kind::kKafka) {
        topics.push_back(f.path);
      }
    }
    std::string names;
    for (const std::string& t : topics) {
      cluster_->create_topic(t, opt.kafka.partitions);
      names += names.empty() ? "" : ", ";
      names += t;
    }
    bootstrap_ = cluster_->bootstrap();
    notices_.push_back(fmt::format("embedded Kafka cluster at {} (topics: {}; {} partitions each)", bootstrap_, names,
                                   opt.kafka.partitions));
    if (opt.kafka.publish_alerts) {
      notices_.push_back(fmt::format("read the alerts with: kcat -C -b {} -t {}", bootstrap_, opt.kafka.alerts_topic));
    }
  }
  if (opt.kafka.publish_alerts || !opt.kafka.metrics_topic.empty()) {
    kafka::PublisherOptions po;
    po.settings = &opt.kafka;
    po.bootstrap = bootstrap_;
    po.embedded = cluster_ != nullptr;
    po.instance_id = opt.kafka.instance_id;
    po.shards = opt.engine.shards;
    po.max_tickers = opt.engine.max_tickers;
    try {
      publisher_ = std::make_unique<kafka::KafkaPublisher>(po, engine.symbols());
    } catch (const std::exception& e) {
      throw RuntimeError(RuntimeError::Kind::kKafka, e.what());
    }
  }
}

Runtime::~Runtime() {
  stop_feeds([] {});
  finish();
}

void Runtime::build_feeds() {
  std::size_t synthetic_feeds = 0;
  std::size_t synthetic_index = 0;
  for (const FeedSpec& spec : opt_.feeds) {
    synthetic_feeds += spec.kind == FeedSpec::Kind::kSynthetic ? 1 : 0;
  }
  for (std::size_t i = 0; i < opt_.feeds.size(); ++i) {
    const FeedSpec& spec = opt_.feeds[i];
    auto f = std::make_unique<RuntimeFeed>();
    f->cpu = i < opt_.feed_cpus.size() ? opt_.feed_cpus[i] : -1;
    if (spec.kind == FeedSpec::Kind::kSynthetic) {
      SyntheticOptions so;
      // Synthetic feeds never share a ticker (two random walks of one ticker would interleave
      // nondeterministically): feed k of n takes every n-th listed ticker, or its own default names.
      const std::size_t k = synthetic_index++;
      if (opt_.tickers.empty()) {
        so.tickers = SyntheticFeed::default_tickers(opt_.synthetic_tickers,
                                                    static_cast<std::uint32_t>(k) * opt_.synthetic_tickers);
      } else {
        for (std::size_t j = k; j < opt_.tickers.size(); j += synthetic_feeds) {
          so.tickers.push_back(opt_.tickers[j]);
        }
        if (so.tickers.empty()) {
          throw RuntimeError(RuntimeError::Kind::kConfig,
                             fmt::format("{} synthetic feeds need at least {} tickers, got {}", synthetic_feeds,
                                         synthetic_feeds, opt_.tickers.size()));
        }
      }
      so.rate = opt_.rate;
      so.seed = opt_.seed + i;
      so.step_ns = opt_.synthetic_step_ns;
      so.jump_probability = opt_.jump_probability;
      so.max_ticks = opt_.max_ticks;
      f->synthetic = std::make_unique<SyntheticFeed>(so, engine_.symbols());
      f->label = fmt::format("synthetic#{} ({} tickers)", i, f->synthetic->ticker_count());
    } else if (spec.kind == FeedSpec::Kind::kKafka) {
      kafka::KafkaFeedOptions ko;
      ko.settings = &opt_.kafka;
      ko.bootstrap = bootstrap_;
      ko.embedded = cluster_ != nullptr;
      ko.topic = spec.path;
      ko.publisher = publisher_.get();
      try {
        f->kafka = std::make_unique<kafka::KafkaFeed>(ko, engine_.symbols());
      } catch (const std::exception& e) {
        throw RuntimeError(RuntimeError::Kind::kKafka, e.what());
      }
      f->label = fmt::format("kafka {} (group {})", spec.path, opt_.kafka.group_id);
    } else {
      CsvOptions co;
      co.path = spec.path;
      co.ticker = opt_.tickers.size() == 1 ? opt_.tickers.front() : std::string();
      co.price_column = opt_.price_column;
      co.date_column = opt_.date_column;
      co.ticker_column = opt_.ticker_column;
      co.volume_column = opt_.volume_column;
      f->csv = std::make_unique<CsvFeed>(co, engine_.symbols(), opt_.speed, opt_.max_ticks);
      const CsvLoadResult& r = f->csv->load();
      if (!r.ok) {
        throw RuntimeError(RuntimeError::Kind::kIo, r.error);
      }
      f->label = fmt::format("csv {} ({} rows)", spec.path, r.rows.size());
      for (const std::string& m : r.messages) {
        notices_.push_back("skipped row: " + m);
      }
      for (const std::uint64_t n : r.rejects) {
        csv_rejected_ += n;
      }
    }
    try {
      f->port = &engine_.add_feed();
    } catch (const std::length_error& e) {
      throw RuntimeError(RuntimeError::Kind::kConfig, e.what());
    }
    feeds_.push_back(std::move(f));
  }
}

void Runtime::attach_publisher() {
  if (publisher_ && opt_.kafka.publish_alerts) {
    engine_.add_alert_callback(&kafka::KafkaPublisher::on_alert, publisher_.get());
  }
}

kafka::KafkaPublisher* Runtime::metrics_publisher() const noexcept {
  return publisher_ && publisher_->publishes_metrics() ? publisher_.get() : nullptr;
}

void Runtime::start() {
  if (publisher_) {
    publisher_->start(opt_.kafka.publisher_cpu);
  }
  for (auto& f : feeds_) {
    RuntimeFeed* fp = f.get();
    fp->thread = std::thread([fp, this] {
      if (fp->cpu >= 0) {
        pin_current_thread(fp->cpu, &fp->pin_error);
      }
      if (fp->synthetic) {
        fp->synthetic->run(*fp->port, stop_feeds_);
      } else if (fp->kafka) {
        fp->kafka->run(*fp->port, stop_feeds_);
      } else {
        fp->csv->run(*fp->port, stop_feeds_);
      }
      fp->port->close();
      fp->done.store(true, std::memory_order_release);  // partner: acquire loads in feeds_done()/stop_feeds()
    });
  }
}

bool Runtime::feeds_done() const noexcept {
  for (const auto& f : feeds_) {
    if (!f->done.load(std::memory_order_acquire)) {
      return false;
    }
  }
  return true;
}

void Runtime::finish() {
  if (finished_) {
    return;
  }
  finished_ = true;
  if (publisher_) {
    publisher_->stop();
  }
  for (auto& f : feeds_) {
    if (f->kafka) {
      f->kafka->finish();
    }
  }
}

std::string Runtime::instance_id() const {
  if (publisher_) {
    return publisher_->instance_id();
  }
  return opt_.kafka.instance_id.empty() ? kafka::default_instance_id() : opt_.kafka.instance_id;
}

}  // namespace tickforge
