#include "pipeline.hpp"

#include "dashboard.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "agent.hpp"
#include "embedded_cluster.hpp"
#include "file_sinks.hpp"
#include "kafka_client.hpp"
#include "postgres_sink.hpp"

namespace tickforge {

struct Pipeline::RunningFeed {
  FeedSpec spec;
  std::unique_ptr<Feed> feed;
  FeedPort* port = nullptr;
  int cpu = -1;
  AgentRunner runner;
  std::atomic<bool> finished{false};  // release once finish() returned: its figures are final
  /// Whether report() may be read now (any thread).
  [[nodiscard]] bool reportable() const noexcept {
    return !runner.started() ? !feed->reports_after_finish() || finished.load(std::memory_order_acquire)
                             : runner.finished() && (!feed->reports_after_finish() ||
                                                     finished.load(std::memory_order_acquire));
  }
};

// Per-tick metrics go to the --metrics-out writer and/or the Kafka snapshot stream.
struct Pipeline::UpdateFanout {
  MetricsRelay* metrics = nullptr;
  kafka::KafkaPublisher* publisher = nullptr;
  PostgresSink* pg = nullptr;
  static void on_update(void* user, const Tick* t, const TickMetrics* m) noexcept {
    auto* self = static_cast<UpdateFanout*>(user);
    if (self->metrics != nullptr) {
      relay_metrics(self->metrics, t, m);
    }
    if (self->publisher != nullptr) {
      kafka::KafkaPublisher::on_update(self->publisher, t, m);
    }
    if (self->pg != nullptr) {
      PostgresSink::on_update(self->pg, t, m);
    }
  }
};

namespace {
bool needs_alert_sinks(const RunOptions& o) { return !o.alerts_out.empty() || o.print_alerts != 0; }
bool needs_sinks(const RunOptions& o) {
  return needs_alert_sinks(o) || !o.daily_out.empty() || !o.metrics_out.empty();
}
}  // namespace

Pipeline::Pipeline(RunOptions opt) : opt_(std::move(opt)) {
  opt_.finalize();  // per-ticker overrides resolved, the engine config validated
  engine_ = std::make_unique<Engine>(opt_.engine);
  // Producers may come and go (C API), and feeds end on their own: only stop() ends the shards.
  engine_->set_finish_when_ports_closed(false);
}

Pipeline::~Pipeline() { stop(); }

void Pipeline::add_feed(const FeedSpec& spec) {
  if (started_) {
    throw std::logic_error("add_feed: before start");
  }
  if (find_feed_kind(spec.kind) == nullptr) {
    throw std::invalid_argument("unknown feed kind '" + spec.kind + "' (" + feed_syntaxes() + ")");
  }
  opt_.feeds.push_back(spec);
}

bool Pipeline::uses_kafka() const noexcept {
  bool feeds = false;
  for (const FeedSpec& f : opt_.feeds) {
    const FeedKind* k = find_feed_kind(f.kind);
    feeds = feeds || (k != nullptr && k->needs_kafka);
  }
  return opt_.kafka.publish_alerts || !opt_.kafka.metrics_topic.empty() || !opt_.kafka.daily_topic.empty() || feeds;
}

std::uint32_t Pipeline::alert_callback_slots_left() const noexcept {
  const std::uint32_t own = (needs_alert_sinks(opt_) ? 1u : 0u) + (opt_.kafka.publish_alerts ? 1u : 0u) +
                            (opt_.sink.empty() ? 0u : 1u) + (opt_.http_host.empty() ? 0u : 1u);
  return static_cast<std::uint32_t>(kMaxAlertCallbacks) - own - embedder_callbacks_;
}

void Pipeline::add_alert_callback(AlertFn fn, void* user) {
  if (alert_callback_slots_left() == 0) {
    throw std::length_error("too many alert callbacks");
  }
  engine_->add_alert_callback(fn, user);
  ++embedder_callbacks_;
}

void Pipeline::check_cpus() const {
  for (const auto* cpus : {&opt_.feed_cpus, &opt_.engine_cpus}) {
    for (const int cpu : *cpus) {
      if (cpu >= 0 && !cpu_usable(cpu)) {
        throw RunError(RunError::Kind::kCpu, fmt::format("CPU {} does not exist or is not allowed for this process "
                                                         "({} online)", cpu, std::thread::hardware_concurrency()));
      }
    }
  }
  for (const int cpu : {opt_.kafka.publisher_cpu, opt_.sinks_cpu, opt_.http_cpu}) {
    if (cpu >= 0 && !cpu_usable(cpu)) {
      throw RunError(RunError::Kind::kCpu, fmt::format("CPU {} does not exist or is not allowed for this process", cpu));
    }
  }
}

void Pipeline::start_kafka() {
  if (!uses_kafka()) {
    return;
  }
  kafka_ctx_.bootstrap = opt_.kafka.brokers;
  if (kafka_ctx_.bootstrap.empty()) {
    try {
      cluster_ = std::make_unique<kafka::EmbeddedCluster>(opt_.kafka.embedded_brokers);
    } catch (const std::exception& e) {
      throw RunError(RunError::Kind::kKafka, e.what());
    }
    std::vector<std::string> topics;
    for (const std::string* t : {&opt_.kafka.alerts_topic, &opt_.kafka.metrics_topic, &opt_.kafka.daily_topic,
                                 &opt_.kafka.dead_letter_topic}) {
      if (!t->empty()) {
        topics.push_back(*t);
      }
    }
    for (const FeedSpec& f : opt_.feeds) {
      if (find_feed_kind(f.kind)->needs_kafka) {
        topics.push_back(f.arg);
      }
    }
    std::string names;
    for (const std::string& t : topics) {
      cluster_->create_topic(t, opt_.kafka.partitions);
      names += names.empty() ? "" : ", ";
      names += t;
    }
    kafka_ctx_.bootstrap = cluster_->bootstrap();
    kafka_ctx_.embedded = true;
    notices_.push_back(fmt::format("embedded Kafka cluster at {} (topics: {}; {} partitions each)",
                                   kafka_ctx_.bootstrap, names, opt_.kafka.partitions));
    if (opt_.kafka.publish_alerts) {
      notices_.push_back(
          fmt::format("read the alerts with: kcat -C -b {} -t {}", kafka_ctx_.bootstrap, opt_.kafka.alerts_topic));
    }
  }
  if (opt_.kafka.publish_alerts || !opt_.kafka.metrics_topic.empty() || !opt_.kafka.daily_topic.empty()) {
    kafka::PublisherOptions po;
    po.settings = &opt_.kafka;
    po.bootstrap = kafka_ctx_.bootstrap;
    po.embedded = kafka_ctx_.embedded;
    po.instance_id = opt_.kafka.instance_id;
    po.shards = engine_->shard_count();
    po.max_tickers = opt_.engine.max_tickers;
    po.time_zone = opt_.engine.daily.zone.name;
    try {
      publisher_ = std::make_unique<kafka::KafkaPublisher>(po, engine_->symbols());
    } catch (const std::exception& e) {
      throw RunError(RunError::Kind::kKafka, e.what());
    }
    kafka_ctx_.publisher = publisher_.get();
  }
}

void Pipeline::build_feeds() {
  std::vector<std::uint32_t> of_kind(feed_kinds().size(), 0);
  std::vector<std::uint32_t> count(feed_kinds().size(), 0);
  for (const FeedSpec& f : opt_.feeds) {
    ++count[static_cast<std::size_t>(find_feed_kind(f.kind) - feed_kinds().data())];
  }
  for (std::size_t i = 0; i < opt_.feeds.size(); ++i) {
    const FeedSpec& spec = opt_.feeds[i];
    const FeedKind& kind = *find_feed_kind(spec.kind);
    const auto k = static_cast<std::size_t>(&kind - feed_kinds().data());
    const FeedContext ctx{opt_, engine_->symbols(), static_cast<std::uint32_t>(i), of_kind[k]++, count[k],
                          kind.needs_kafka ? &kafka_ctx_ : nullptr};
    auto f = std::make_unique<RunningFeed>();
    f->spec = spec;
    f->cpu = i < opt_.feed_cpus.size() ? opt_.feed_cpus[i] : -1;
    try {
      f->feed = kind.make(ctx, spec);
    } catch (const std::invalid_argument& e) {  // a ticker the symbol table refuses, a bad option
      throw RunError(RunError::Kind::kConfig, e.what());
    }
    for (std::string& n : f->feed->notices()) {
      notices_.push_back(std::move(n));
    }
    try {
      f->port = &engine_->open_port();
    } catch (const std::length_error& e) {
      throw RunError(RunError::Kind::kConfig, e.what());
    }
    f->feed->attach(*f->port);
    feeds_.push_back(std::move(f));
  }
}

void Pipeline::build_outputs() {
  if (needs_sinks(opt_)) {
    if (needs_alert_sinks(opt_)) {
      relay_ = std::make_unique<AlertRelay>(engine_->shard_index(), opt_.sink_queue, RelayFull::kWait);
    }
    if (!opt_.daily_out.empty()) {
      daily_relay_ = std::make_unique<DailyRelay>(engine_->shard_index(), opt_.sink_queue, RelayFull::kWait);
    }
    if (!opt_.metrics_out.empty()) {
      metrics_relay_ = std::make_unique<MetricsRelay>(engine_->shard_index(), opt_.sink_queue, opt_.metrics_full);
    }
    FileSinkOptions so;
    so.alerts_path = opt_.alerts_out;
    so.print_per_second = opt_.print_alerts;
    so.instance = instance_id();
    so.daily_path = opt_.daily_out;
    so.time_zone = opt_.engine.daily.zone.name;
    so.metrics_path = opt_.metrics_out;
    so.windows = opt_.engine.sma_windows;
    so.rotation = opt_.rotation;
    try {
      sinks_ = std::make_unique<FileSinks>(relay_.get(), daily_relay_.get(), metrics_relay_.get(), engine_->symbols(), so);
    } catch (const std::runtime_error& e) {
      throw RunError(RunError::Kind::kIo, e.what());
    }
    if (relay_) {
      engine_->add_alert_callback(&relay_alert, relay_.get());
    }
    if (daily_relay_) {
      engine_->add_daily_callback(&relay_daily, daily_relay_.get());
    }
  }
  if (publisher_ && opt_.kafka.publish_alerts) {
    engine_->add_alert_callback(&kafka::KafkaPublisher::on_alert, publisher_.get());
  }
  if (publisher_ && publisher_->publishes_daily()) {
    engine_->add_daily_callback(&kafka::KafkaPublisher::on_daily, publisher_.get());
  }
  if (!opt_.sink.empty()) {
    PostgresOptions po = opt_.postgres;
    po.conninfo = postgres_conninfo(opt_.sink);
    po.instance = instance_id();
    po.time_zone = opt_.engine.daily.zone.name;
    po.max_tickers = opt_.engine.max_tickers;
    try {
      pg_ = std::make_unique<PostgresSink>(po, engine_->shard_index(), engine_->symbols());
    } catch (const std::runtime_error& e) {
      throw RunError(RunError::Kind::kIo, e.what());
    }
    engine_->add_alert_callback(&PostgresSink::on_alert, pg_.get());
    engine_->add_daily_callback(&PostgresSink::on_daily, pg_.get());
    notices_.push_back(fmt::format("PostgreSQL sink: {} (tables alerts, daily_summaries{})", pg_->server(),
                                   pg_->writes_metrics() ? ", metrics" : ""));
  }
  if (!opt_.http_host.empty()) {
    DashboardOptions d;
    d.http.host = opt_.http_host;
    d.http.port = opt_.http_port;
    d.http.token = opt_.http_token;
    d.http.max_clients = opt_.http_max_clients;
    d.http.cpu = opt_.http_cpu;
    d.http.write_timeout_ns = opt_.http_write_timeout_ns;
    d.history_points = opt_.http_history;
    try {
      dashboard_ = std::make_unique<Dashboard>(d, *this);
    } catch (const std::runtime_error& e) {
      throw RunError(RunError::Kind::kIo, e.what());
    }
    engine_->add_alert_callback(&Dashboard::on_alert, dashboard_.get());
    if (opt_.engine.daily.enabled) {
      engine_->add_daily_callback(&Dashboard::on_daily, dashboard_.get());
    }
    notices_.push_back(fmt::format("dashboard: {}  (API: {}api, Prometheus: {}metrics)", dashboard_->url(),
                                   dashboard_->url(), dashboard_->url()));
  }
  updates_ = std::make_unique<UpdateFanout>();
  updates_->metrics = metrics_relay_.get();
  updates_->publisher = publisher_ && publisher_->publishes_metrics() ? publisher_.get() : nullptr;
  updates_->pg = pg_ && pg_->writes_metrics() ? pg_.get() : nullptr;
  if (updates_->metrics != nullptr || updates_->publisher != nullptr || updates_->pg != nullptr) {
    engine_->set_update_callback(&UpdateFanout::on_update, updates_.get());
  }
}

void Pipeline::start() {
  if (started_) {
    throw std::logic_error("start: a run starts once");
  }
  started_ = true;
  set_phase("starting");
  try {
    check_cpus();
    start_kafka();   // the embedded cluster, the publisher (it checks the cluster answers)
    build_feeds();   // CSV files loaded, Kafka groups joined, tickers registered
    feeds_built_.store(feeds_.size(), std::memory_order_release);  // partner: progress()
    build_outputs();
    engine_->start(opt_.engine_idle, opt_.engine_cpus);
    if (sinks_) {
      sinks_runner_ = std::make_unique<AgentRunner>();
      sinks_runner_->start(*sinks_, AgentOptions{"tf-sinks", opt_.sinks_cpu, IdleKind::kSleep});
    }
    if (pg_) {
      pg_runner_ = std::make_unique<AgentRunner>();
      pg_runner_->start(*pg_, AgentOptions{"tf-pg", opt_.sinks_cpu, IdleKind::kSleep});
    }
    if (publisher_) {
      publisher_->start(opt_.kafka.publisher_cpu);
    }
    if (dashboard_) {
      dashboard_->start();
    }
    for (std::size_t i = 0; i < feeds_.size(); ++i) {
      RunningFeed& f = *feeds_[i];
      f.runner.start(static_cast<Agent&>(*f.feed), AgentOptions{"tf-feed-" + std::to_string(i), f.cpu, IdleKind::kBackoff});
    }
  } catch (const std::system_error& e) {  // a thread that could not be created
    stop();
    throw RunError(RunError::Kind::kConfig, std::string("cannot start a thread: ") + e.what());
  } catch (...) {
    stop();  // nothing half-started stays behind
    throw;
  }
  set_phase("running");
}

bool Pipeline::feeds_done() const noexcept {
  for (const auto& f : feeds_) {
    if (f->runner.running()) {
      return false;
    }
  }
  return true;
}

void Pipeline::stop() {
  if (stopped_ || !started_) {
    stopped_ = stopped_ || !started_;
    return;
  }
  stopped_ = true;
  if (dashboard_) {
    set_phase("closing the dashboard");
    dashboard_->stop();  // its clients closed: nothing asks the shards for snapshots from now on
  }
  set_phase("stopping the feeds");
  for (auto& f : feeds_) {
    if (f->feed) {
      f->feed->request_stop();
    }
  }
  for (auto& f : feeds_) {
    f->runner.join();  // a feed waiting on a full ring is freed by the shards, which keep draining
  }
  set_phase("draining the shards");
  engine_->stop();  // every tick in a ring is processed; the shards' callbacks have all returned
  set_phase("flushing the outputs");
  if (sinks_runner_) {
    sinks_->request_stop();
    sinks_runner_->join();
  }
  if (pg_runner_) {
    set_phase("flushing PostgreSQL");
    pg_->request_stop();
    pg_runner_->join();  // bounded by pg-flush-timeout
  }
  set_phase("flushing Kafka");
  if (publisher_) {
    publisher_->stop();  // delivers what is queued, bounded by flush-timeout
  }
  for (auto& f : feeds_) {
    if (f->feed) {
      f->feed->finish();  // Kafka feeds: the last commits, now that everything they gate on is done
      f->finished.store(true, std::memory_order_release);  // partner: reportable()
    }
  }
  set_phase("stopped");
}

PipelineStats Pipeline::stats() const {
  PipelineStats s;
  s.engine = engine_->stats();
  const std::string_view ph = phase();  // acquire: what start() built before publishing the phase
  s.stopped = ph == "stopped";
  // Any thread: the feeds built so far, each one's own figures once they are final; the outputs and
  // Kafka once start() has built them.
  for (std::size_t i = 0, n = feeds_built_.load(std::memory_order_acquire); i < n; ++i) {
    const RunningFeed& f = *feeds_[i];
    FeedReport r;
    f.feed->rejects(r.rejects);  // live, unlike the rest of the report
    for (const auto& [why, count] : r.rejects) {
      r.rejected += count;
    }
    if (f.reportable()) {
      f.feed->report(r);
    } else {
      r.label = f.feed->label();
    }
    r.published = f.port->published();
    s.feed_rejected += r.rejected;
    s.feeds.push_back(std::move(r));
  }
  if (ph == "created" || ph == "starting") {
    return s;
  }
  s.live.files = sinks_ != nullptr;
  if (sinks_) {
    s.live.alerts_written = sinks_->alerts_written();
    s.live.daily_written = sinks_->daily_written();
    s.live.metrics_written = sinks_->metrics_written();
    s.live.metrics_dropped = metrics_relay_ ? metrics_relay_->dropped() : 0;
  }
  s.live.postgres = pg_ != nullptr;
  if (pg_) {
    s.live.pg = pg_->live();
  }
  s.live.kafka = publisher_ != nullptr;
  if (publisher_) {
    s.live.kafka_live = publisher_->live();
  }
  s.file_sinks = sinks_ != nullptr;
  if (sinks_runner_ && sinks_runner_->finished()) {
    s.alerts_written = sinks_->alerts_written();
    s.daily_written = sinks_->daily_written();
    s.metrics_written = sinks_->metrics_written();
    s.alerts_not_printed = sinks_->not_printed();
    s.output_write_errors = sinks_->write_errors();
  }
  if (s.stopped) {
    s.relay_waits = (relay_ ? relay_->waits() : 0) + (daily_relay_ ? daily_relay_->waits() : 0) +
                    (metrics_relay_ ? metrics_relay_->waits() : 0);
    s.metrics_dropped = metrics_relay_ ? metrics_relay_->dropped() : 0;
  }
  if (dashboard_) {
    s.http = true;
    s.http_url = dashboard_->url();
    s.http_stats = dashboard_->http_stats();
    s.dashboard_dropped = dashboard_->dropped();
  }
  s.postgres = pg_ != nullptr;
  if (pg_runner_ && pg_runner_->finished()) {
    s.pg = pg_->stats();
  }
  s.kafka = publisher_ != nullptr;
  s.publish_alerts = publisher_ != nullptr && opt_.kafka.publish_alerts;
  s.alerts_topic = opt_.kafka.alerts_topic;
  s.metrics_topic = opt_.kafka.metrics_topic;
  s.daily_topic = opt_.kafka.daily_topic;
  s.instance_id = instance_id();
  if (publisher_ && s.stopped) {
    s.publisher = publisher_->stats();
  }
  return s;
}

Pipeline::Progress Pipeline::progress() const {
  Progress p;
  for (std::uint32_t s = 0; s < engine_->shard_count(); ++s) {
    p.shards.push_back(engine_->shard_progress(s));
  }
  for (std::size_t i = 0, n = feeds_built_.load(std::memory_order_acquire); i < n; ++i) {
    const RunningFeed& f = *feeds_[i];
    p.feeds.push_back({f.feed->label(), f.runner.running()});
  }
  // The sinks runner exists once the phase is "running" (release by start(), acquire by phase()).
  const std::string_view ph = phase();
  if (ph != "created" && ph != "starting") {
    p.sinks_running = sinks_runner_ && sinks_runner_->running();
  }
  return p;
}

std::uint64_t Pipeline::work_done() const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0, k = feeds_built_.load(std::memory_order_acquire); i < k; ++i) {
    const FeedPort& port = *feeds_[i]->port;
    for (std::uint32_t s = 0; s < port.shard_count(); ++s) {
      n += port.processed(s);
    }
  }
  // The outputs exist once the phase is past "starting" (release by start(), acquire by phase()).
  const std::string_view ph = phase();
  if (ph != "created" && ph != "starting") {
    n += sinks_ ? sinks_->records_taken() : 0;
    n += pg_ ? pg_->records_taken() : 0;
  }
  return n;
}

std::string Pipeline::instance_id() const {
  if (publisher_) {
    return publisher_->instance_id();
  }
  return opt_.kafka.instance_id.empty() ? kafka::default_instance_id() : opt_.kafka.instance_id;
}

}  // namespace tickforge
