#include "kafka_publisher.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <tickforge/engine.hpp>

#include "record_json.hpp"

namespace tickforge::kafka {

namespace {

constexpr std::uint32_t kAlerts = 0;
constexpr std::uint32_t kMetrics = 1;
constexpr std::uint32_t kDaily = 2;
constexpr std::uint32_t kStreams = 3;
constexpr std::size_t kBatch = 64;  // records taken from one shard before looking at the next

// Per-message opaque: stream (2 bits) | shard (9 bits) | number in that (stream, shard) (53 bits).
void* encode(std::uint32_t stream, std::uint32_t shard, std::uint64_t n) noexcept {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>((n << 11) | (std::uint64_t{shard} << 2) | stream));
}

}  // namespace

KafkaPublisher::KafkaPublisher(const PublisherOptions& opt, const SymbolTable& symbols)
    : ClientEvents("publisher"),
      instance_(opt.instance_id.empty() ? default_instance_id() : opt.instance_id),
      symbols_(symbols),
      shards_(opt.shards),
      counts_(kStreams),
      metrics_interval_ns_(opt.settings->metrics_interval_ns),
      flush_timeout_ns_(opt.settings->flush_timeout_ns),
      buf_(new char[kMetricsJsonCapacity]) {
  if (shards_ > 256) {
    throw std::runtime_error("Kafka publisher: at most 256 shards");
  }
  const KafkaSettings& s = *opt.settings;
  ClientOptions co;
  co.settings = opt.settings;
  co.bootstrap = opt.bootstrap;
  co.embedded = opt.embedded;
  co.role = Role::kProducer;
  co.events = this;
  co.on_delivery = &KafkaPublisher::on_delivery;
  rk_ = connect_client(co);
  if (s.publish_alerts) {
    alerts_topic_ = rd_kafka_topic_new(rk_, s.alerts_topic.c_str(), nullptr);
    alerts_ = std::make_unique<PublishQueue<Alert>>(shards_, s.queue_capacity);
  }
  if (!s.metrics_topic.empty()) {
    metrics_topic_ = rd_kafka_topic_new(rk_, s.metrics_topic.c_str(), nullptr);
    metrics_ = std::make_unique<PublishQueue<MetricsRecord>>(shards_, std::max<std::uint32_t>(1024, s.queue_capacity / 4));
    last_snapshot_ns_.assign(opt.max_tickers, std::numeric_limits<std::int64_t>::min());
  }
  if (!s.daily_topic.empty()) {
    daily_topic_ = rd_kafka_topic_new(rk_, s.daily_topic.c_str(), nullptr);
    daily_ = std::make_unique<PublishQueue<DailySummary>>(shards_, std::max<std::uint32_t>(1024, s.queue_capacity / 16));
    time_zone_ = opt.time_zone;
  }
  for (std::uint32_t i = 0; i < kStreams * shards_; ++i) {
    trackers_.push_back(std::make_unique<DeliveryTracker>());
  }
}

KafkaPublisher::~KafkaPublisher() {
  stop();
  if (alerts_topic_ != nullptr) {
    rd_kafka_topic_destroy(alerts_topic_);
  }
  for (rd_kafka_topic_t* t : {metrics_topic_, daily_topic_}) {
    if (t != nullptr) {
      rd_kafka_topic_destroy(t);
    }
  }
  rd_kafka_destroy(rk_);
}

void KafkaPublisher::on_alert(void* user, const Alert* alert) noexcept {
  auto* self = static_cast<KafkaPublisher*>(user);
  if (self->alerts_) [[likely]] {
    // Shard i numbers its alerts i+1, i+1+shards, …: the id names the calling shard.
    (void)self->alerts_->try_push(static_cast<std::uint32_t>((alert->id - 1) % self->shards_), *alert);
  }
}

void KafkaPublisher::on_update(void* user, const Tick* tick, const TickMetrics* metrics) noexcept {
  auto* self = static_cast<KafkaPublisher*>(user);
  if (!self->metrics_ || tick->symbol >= self->last_snapshot_ns_.size()) [[unlikely]] {
    return;
  }
  // Only this symbol's shard thread reads or writes its slot.
  // At most one snapshot per metrics interval of event time; t − interval never overflows, t + interval
  // could (2199 + 36,500 days).
  std::int64_t& last = self->last_snapshot_ns_[tick->symbol];
  if (time_minus(tick->event_ns, self->metrics_interval_ns_) < last) {
    return;
  }
  last = tick->event_ns;
  (void)self->metrics_->try_push(self->shards_ == 1 ? 0 : tick->symbol % self->shards_,
                                 MetricsRecord{*tick, *metrics});
}

void KafkaPublisher::on_daily(void* user, const DailySummary* d) noexcept {
  auto* self = static_cast<KafkaPublisher*>(user);
  if (self->daily_) [[likely]] {
    (void)self->daily_->try_push(d->symbol % self->shards_, *d);  // the calling shard (ShardIndex::shard_of)
  }
}

void KafkaPublisher::start(int cpu) {
  thread_ = std::thread([this, cpu] { run(cpu); });
}

void KafkaPublisher::stop() {
  if (thread_.joinable()) {
    stop_.store(true, std::memory_order_release);  // partner: the acquire load in run()
    thread_.join();
  }
}

void KafkaPublisher::produce(std::uint32_t stream, std::uint32_t shard, const char* key, std::size_t key_len,
                             const char* payload, std::size_t len) noexcept {
  DeliveryTracker& tr = tracker(stream, shard);
  const std::uint64_t n = tr.next();
  rd_kafka_topic_t* topic = stream == kAlerts ? alerts_topic_ : stream == kMetrics ? metrics_topic_ : daily_topic_;
  ChannelStats& c = counts_[stream];
  std::int64_t give_up_at = 0;  // set on the first full-queue wait: no clock read on the common path
  for (;;) {
    if (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, const_cast<char*>(payload), len, key,
                         key_len, encode(stream, shard, n)) == 0) {
      ++c.produced;
      bump(live_counts_[stream].produced);
      return;
    }
    const rd_kafka_resp_err_t err = rd_kafka_last_error();
    // librdkafka's own queue is full (the cluster is slow or away): wait for it, serving reports. While
    // stopping, give up after the flush timeout instead of waiting for ever.
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      const std::int64_t now = FeedPort::now_ns();
      if (give_up_at == 0) {
        give_up_at = now + flush_timeout_ns_;
      }
      if (!stop_.load(std::memory_order_relaxed) || now <= give_up_at) {
        ++local_full_waits_;
        rd_kafka_poll(rk_, 10);
        continue;
      }
    }
    ++c.failed;
    ++failed_by_error_[rd_kafka_err2name(err)];
    tr.finish(n);
    return;
  }
}

std::size_t KafkaPublisher::pump() noexcept {
  std::size_t work = 0;
  for (std::uint32_t s = 0; s < shards_; ++s) {
    if (alerts_) {
      Alert a;
      for (std::size_t k = 0; k < kBatch && tracker(kAlerts, s).has_room() && alerts_->pop(s, a); ++k, ++work) {
        const std::size_t len = format_alert_json(a, instance_, buf_.get(), kMetricsJsonCapacity);
        produce(kAlerts, s, a.ticker, std::strlen(a.ticker), buf_.get(), len);
      }
    }
    if (metrics_) {
      MetricsRecord r;
      for (std::size_t k = 0; k < kBatch && tracker(kMetrics, s).has_room() && metrics_->pop(s, r); ++k, ++work) {
        const char* ticker = symbols_.name(r.tick.symbol);
        const std::size_t len = format_metrics_json(r.tick, r.metrics, ticker, instance_, buf_.get(),
                                                    kMetricsJsonCapacity);
        produce(kMetrics, s, ticker, std::strlen(ticker), buf_.get(), len);
      }
    }
    if (daily_) {
      DailySummary d;
      for (std::size_t k = 0; k < kBatch && tracker(kDaily, s).has_room() && daily_->pop(s, d); ++k, ++work) {
        const std::size_t len = format_daily_json(d, instance_, time_zone_, buf_.get(), kMetricsJsonCapacity);
        produce(kDaily, s, d.ticker, std::strlen(d.ticker), buf_.get(), len);
      }
    }
  }
  return work;
}

bool KafkaPublisher::all_sent() const noexcept {
  for (std::uint32_t s = 0; s < shards_; ++s) {
    // Every record a shard queued has been taken and numbered (produced or failed at once).
    if ((alerts_ && alerts_->enqueued(s) != tracker(kAlerts, s).numbered()) ||
        (metrics_ && metrics_->enqueued(s) != tracker(kMetrics, s).numbered()) ||
        (daily_ && daily_->enqueued(s) != tracker(kDaily, s).numbered())) {
      return false;
    }
  }
  return true;
}

void KafkaPublisher::run(int cpu) noexcept {
  if (cpu >= 0) {
    pin_current_thread(cpu, nullptr);
  }
  for (;;) {
    // Read the flag before pumping: once it is set the engine has stopped, so a pump that then finds
    // nothing left to send has sent everything.
    const bool stopping = stop_.load(std::memory_order_acquire);
    const std::size_t n = pump();
    rd_kafka_poll(rk_, n != 0 ? 0 : 1);  // delivery reports; when idle, wait up to 1 ms for one
    if (stopping && n == 0 && all_sent()) {
      break;
    }
  }
  const int timeout_ms = static_cast<int>(std::min<std::int64_t>(flush_timeout_ns_ / 1'000'000, 1 << 30));
  flush_timed_out_ = rd_kafka_flush(rk_, timeout_ms) == RD_KAFKA_RESP_ERR__TIMED_OUT;
  if (flush_timed_out_) {
    // Whatever is still queued will not be delivered by us: purge it so its reports (as failures,
    // "Local: Purged …") are counted, then serve those reports.
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk_, 100);
  }
}

void KafkaPublisher::on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<KafkaPublisher*>(static_cast<ClientEvents*>(opaque));
  const auto bits = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(msg->_private));
  const auto stream = static_cast<std::uint32_t>(bits & 3);
  const auto shard = static_cast<std::uint32_t>((bits >> 2) & 511);
  ChannelStats& c = self->counts_[stream];
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++c.failed;
    bump(self->live_counts_[stream].failed);
    ++self->failed_by_error_[rd_kafka_err2name(msg->err)];
  } else {
    ++c.delivered;
    bump(self->live_counts_[stream].delivered);
  }
  self->tracker(stream, shard).finish(bits >> 11);
}

void KafkaPublisher::snapshot(std::vector<std::uint64_t>& goal) const {
  goal.assign(kStreams * static_cast<std::size_t>(shards_), 0);
  for (std::uint32_t s = 0; s < shards_; ++s) {
    goal[kAlerts * shards_ + s] = alerts_ ? alerts_->enqueued(s) : 0;
    goal[kMetrics * shards_ + s] = metrics_ ? metrics_->enqueued(s) : 0;
    goal[kDaily * shards_ + s] = daily_ ? daily_->enqueued(s) : 0;
  }
}

bool KafkaPublisher::finished_through(const std::vector<std::uint64_t>& goal) const noexcept {
  for (std::size_t i = 0; i < goal.size() && i < trackers_.size(); ++i) {
    if (trackers_[i]->low_water() < goal[i]) {
      return false;
    }
  }
  return true;
}

PublisherStats KafkaPublisher::stats() const {
  PublisherStats st;
  st.alerts = counts_[kAlerts];
  st.metrics = counts_[kMetrics];
  st.daily = counts_[kDaily];
  for (std::uint32_t s = 0; s < shards_; ++s) {
    if (alerts_) {
      st.alerts.queued += alerts_->enqueued(s);
      st.alerts.dropped_full += alerts_->dropped(s);
    }
    if (metrics_) {
      st.metrics.queued += metrics_->enqueued(s);
      st.metrics.dropped_full += metrics_->dropped(s);
    }
    if (daily_) {
      st.daily.queued += daily_->enqueued(s);
      st.daily.dropped_full += daily_->dropped(s);
    }
    st.alerts.in_flight += tracker(kAlerts, s).unfinished();
    st.metrics.in_flight += tracker(kMetrics, s).unfinished();
    st.daily.in_flight += tracker(kDaily, s).unfinished();
  }
  st.failed_by_error = failed_by_error_;
  st.local_queue_full_waits = local_full_waits_;
  st.client_errors = errors.load(std::memory_order_relaxed);
  st.flush_timed_out = flush_timed_out_;
  return st;
}

PublisherLive KafkaPublisher::live() const noexcept {
  PublisherLive l;
  auto fill = [this](PublisherLive::Channel& c, std::uint32_t stream, const auto* queue) {
    c.produced = live_counts_[stream].produced.load(std::memory_order_relaxed);
    c.delivered = live_counts_[stream].delivered.load(std::memory_order_relaxed);
    c.failed = live_counts_[stream].failed.load(std::memory_order_relaxed);
    for (std::uint32_t s = 0; queue != nullptr && s < shards_; ++s) {
      c.queued += queue->enqueued(s);
      c.dropped_full += queue->dropped(s);
    }
  };
  fill(l.alerts, kAlerts, alerts_.get());
  fill(l.metrics, kMetrics, metrics_.get());
  fill(l.daily, kDaily, daily_.get());
  l.client_errors = errors.load(std::memory_order_relaxed);
  return l;
}

}  // namespace tickforge::kafka
