#include "kafka_feed.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace tickforge::kafka {

namespace {

std::int64_t steady_ns() noexcept { return FeedPort::now_ns(); }

constexpr std::int64_t kCommitEveryNs = 50'000'000;  // look for newly finished messages every 50 ms
constexpr std::uint32_t kReported = 40;  // bad messages printed in full (all are counted)

std::size_t round_pow2(std::size_t n) {
  std::size_t p = 1024;
  while (p < n) {
    p <<= 1;
  }
  return p;
}

}  // namespace

struct KafkaFeed::DeadLetter : ClientEvents {
  DeadLetter() : ClientEvents("dead-letter") {}
  rd_kafka_t* rk = nullptr;
  DeliveryTracker tracker;
  std::uint64_t delivered = 0, failed = 0;
};

KafkaFeed::KafkaFeed(const KafkaFeedOptions& opt, SymbolTable& symbols)
    : ClientEvents("feed " + opt.topic),
      settings_(*opt.settings),
      topic_(opt.topic),
      symbols_(symbols),
      publisher_(opt.publisher),
      parser_(JsonTickParser::kDefaultCapacity, opt.settings->fields),
      fifo_(round_pow2(opt.in_flight)) {
  ClientOptions co;
  co.settings = opt.settings;
  co.bootstrap = opt.bootstrap;
  co.embedded = opt.embedded;
  co.role = Role::kConsumer;
  co.events = this;
  co.on_rebalance = &KafkaFeed::on_rebalance;
  rk_ = connect_client(co);
  rd_kafka_poll_set_consumer(rk_);
  if (!settings_.dead_letter_topic.empty()) {
    dlq_ = std::make_unique<DeadLetter>();
    ClientOptions po = co;
    po.role = Role::kProducer;
    po.on_rebalance = nullptr;
    po.events = dlq_.get();
    po.on_delivery = &KafkaFeed::on_dead_letter_delivery;
    dlq_->rk = make_client(po);
  }
  rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, topic_.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t e = rd_kafka_subscribe(rk_, sub);
  rd_kafka_topic_partition_list_destroy(sub);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (dlq_) {
      rd_kafka_destroy(dlq_->rk);
    }
    rd_kafka_destroy(rk_);
    throw std::runtime_error("cannot subscribe to Kafka topic '" + topic_ + "': " + rd_kafka_err2str(e));
  }
}

KafkaFeed::~KafkaFeed() {
  finish();
  rd_kafka_destroy(rk_);
  if (dlq_) {
    rd_kafka_destroy(dlq_->rk);
  }
}

bool KafkaFeed::finished(const Entry& e) const noexcept {
  if (e.shard == kDone) {
    return true;
  }
  if (e.shard == kDeadLetter) {
    return e.index < dlq_->tracker.low_water();
  }
  return e.index < processed_[e.shard];
}

bool KafkaFeed::commit_step() noexcept {
  if (dlq_) {
    rd_kafka_poll(dlq_->rk, 0);  // dead-letter delivery reports
  }
  for (int round = 0; round < 2; ++round) {
    if (pending_ != 0) {
      if (publisher_ != nullptr && !publisher_->finished_through(goal_)) {
        break;
      }
      // Commit the candidate: the next offset of each partition is one past its last finished message.
      for (std::uint64_t i = 0; i < pending_; ++i) {
        const Entry& e = fifo_[(head_ + i) & (fifo_.size() - 1)];
        if (static_cast<std::size_t>(e.partition) < next_offset_.size()) {
          next_offset_[static_cast<std::size_t>(e.partition)] = e.offset + 1;
        }
      }
      head_ += pending_;
      pending_ = 0;
      rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(8);
      for (std::size_t p = 0; p < next_offset_.size(); ++p) {
        if (next_offset_[p] >= 0 && assigned_[p] != 0) {
          rd_kafka_topic_partition_list_add(list, topic_.c_str(), static_cast<std::int32_t>(p))->offset =
              next_offset_[p];
        }
        next_offset_[p] = -1;
      }
      if (list->cnt > 0 && rd_kafka_offsets_store(rk_, list) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        st_.offsets_stored += static_cast<std::uint64_t>(list->cnt);
      }
      rd_kafka_topic_partition_list_destroy(list);
    }
    // A new candidate: the oldest messages the engine has fully processed (acquire loads: whatever the
    // shard queued for them is visible, so the snapshot below covers it).
    for (std::size_t s = 0; s < processed_.size(); ++s) {
      processed_[s] = port_if_attached() != nullptr ? port().processed(static_cast<std::uint32_t>(s)) : 0;
    }
    std::uint64_t n = 0;
    while (head_ + n < tail_ && finished(fifo_[(head_ + n) & (fifo_.size() - 1)])) {
      ++n;
    }
    if (n == 0) {
      break;
    }
    pending_ = n;
    if (publisher_ != nullptr) {
      publisher_->snapshot(goal_);
    }
  }
  last_commit_ns_ = steady_ns();
  return head_ != tail_;
}

bool KafkaFeed::drain(std::int64_t timeout_ns) noexcept {
  const std::int64_t deadline = steady_ns() + timeout_ns;
  while (commit_step()) {
    if (steady_ns() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void KafkaFeed::push_entry(const Entry& e) noexcept {
  // Full: wait for the engine and the publisher to finish older messages (back-pressure on the topic).
  while (tail_ - head_ == fifo_.size()) {
    commit_step();
    if (tail_ - head_ == fifo_.size()) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  fifo_[tail_ & (fifo_.size() - 1)] = e;
  ++tail_;
}

void KafkaFeed::reject(const rd_kafka_message_t* m, const char* reason) noexcept {
  const std::string_view payload(static_cast<const char*>(m->payload), m->payload != nullptr ? m->len : 0);
  if (reported_ < kReported) {
    ++reported_;
    char shown[161];  // the start of the message, control characters as '?'
    const std::size_t n = std::min<std::size_t>(payload.size(), sizeof(shown) - 1);
    for (std::size_t i = 0; i < n; ++i) {
      shown[i] = static_cast<unsigned char>(payload[i]) < 0x20 ? '?' : payload[i];
    }
    shown[n] = '\0';
    std::fprintf(stderr, "tickforge: kafka feed %s[%d]@%lld: dropped bad message (%s): %s%s\n", topic_.c_str(),
                 m->partition, static_cast<long long>(m->offset), reason, shown, payload.size() > n ? "…" : "");
    if (reported_ == kReported) {
      std::fprintf(stderr, "tickforge: kafka feed %s: further bad messages are counted, not shown\n", topic_.c_str());
    }
  }
  Entry e{m->offset, 0, m->partition, kDone};
  if (dlq_) {
    char source[320];
    std::snprintf(source, sizeof(source), "%s/%d/%lld", topic_.c_str(), m->partition,
                  static_cast<long long>(m->offset));
    const std::uint64_t n = dlq_->tracker.next();
    for (;;) {
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          dlq_->rk, RD_KAFKA_V_TOPIC(settings_.dead_letter_topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(m->payload, m->len),
          RD_KAFKA_V_HEADER("tickforge.reason", reason, -1), RD_KAFKA_V_HEADER("tickforge.source", source, -1),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(n))), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        e.shard = kDeadLetter;
        e.index = n;
        break;
      }
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        ++dlq_->failed;
        dlq_->tracker.finish(n);
        break;
      }
      rd_kafka_poll(dlq_->rk, 10);
    }
  }
  push_entry(e);
}

void KafkaFeed::handle(const rd_kafka_message_t* m) noexcept {
  // One clock read per message: the throughput stamps and the tick's latency origin.
  const std::int64_t now = steady_ns();
  if (st_.messages++ == 0) {
    st_.first_message_ns = now;
  }
  st_.last_message_ns = now;
  if (static_cast<std::size_t>(m->partition) < eof_.size()) {
    eof_[static_cast<std::size_t>(m->partition)] = 0;
  }
  JsonTick jt;
  JsonReject why = JsonReject::kInvalidJson;
  const std::string_view payload(static_cast<const char*>(m->payload), m->payload != nullptr ? m->len : 0);
  if (!parser_.parse(payload, jt, why)) [[unlikely]] {
    bump(live_rejects_[static_cast<std::size_t>(why)]);
    reject(m, to_string(why));
    return;
  }
  const SymbolId id = symbols_.intern(jt.ticker);
  if (id == kNoSymbol) [[unlikely]] {
    bump(live_rejects_.back());
    reject(m, "symbol_table_full");
    return;
  }
  st_.unknown_fields += jt.unknown_fields;
  const Tick t{id, 0, jt.price, jt.volume, jt.event_ns, seq_++, 0};
  if (port().publish_at(t, now) == FeedPort::Push::kOk) [[likely]] {
    ++st_.ticks;
    const std::uint32_t shard = port().shard_of(id);
    push_entry(Entry{m->offset, pushed_[shard]++, m->partition, shard});
  } else {
    ++st_.dropped_ring_full;
    push_entry(Entry{m->offset, 0, m->partition, kDone});
  }
}

bool KafkaFeed::all_at_eof() const noexcept {
  bool any = false;
  for (std::size_t p = 0; p < assigned_.size(); ++p) {
    if (assigned_[p] != 0) {
      any = true;
      if (eof_[p] == 0) {
        return false;
      }
    }
  }
  return any;
}

std::size_t KafkaFeed::do_work() noexcept {
  if (pushed_.empty()) {  // first duty cycle (cold): the shard count comes with the port
    pushed_.assign(port().shard_count(), 0);
    processed_.assign(port().shard_count(), 0);
  }
  // The poll timeout bounds how late a stop request is seen.
  rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 20);
  if (steady_ns() - last_commit_ns_ >= kCommitEveryNs) {
    commit_step();
  }
  if (m == nullptr) {
    if (settings_.stop_at_eof && all_at_eof()) {
      st_.ended_at_eof = true;
      ended_ = true;
    }
    return 0;
  }
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) [[likely]] {
    handle(m);
  } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (static_cast<std::size_t>(m->partition) < eof_.size()) {
      eof_[static_cast<std::size_t>(m->partition)] = 1;
    }
  } else {
    ++st_.consumer_errors;
    std::fprintf(stderr, "tickforge: kafka feed %s: %s\n", topic_.c_str(), rd_kafka_message_errstr(m));
  }
  rd_kafka_message_destroy(m);
  return 1;
}

void KafkaFeed::finish() noexcept {
  if (finished_) {
    return;
  }
  finished_ = true;
  if (dlq_) {
    rd_kafka_flush(dlq_->rk, static_cast<int>(settings_.flush_timeout_ns / 1'000'000));
  }
  // The engine and the publisher have stopped: everything is finished or never will be.
  drain(0);
  st_.unfinished_at_exit = tail_ - head_;
  const rd_kafka_resp_err_t e = rd_kafka_commit(rk_, nullptr, 0);  // synchronous
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    std::fprintf(stderr, "tickforge: kafka feed %s: final commit failed: %s\n", topic_.c_str(), rd_kafka_err2str(e));
  }
  rd_kafka_consumer_close(rk_);  // leaves the group (serves the last revoke)
}

void KafkaFeed::on_assignment_change(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) noexcept {
  ++st_.rebalances;
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk_), "COOPERATIVE") == 0;
  const bool assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
  if (!assign && !rd_kafka_assignment_lost(rk_)) {
    // Before giving partitions away, finish and commit what was read from them, so the next owner
    // starts where this one stopped (no duplicates in a clean rebalance).
    // In finish() (the group is left at the end) the engine has stopped: what is unfinished now never
    // will be, so waiting for it would only spend the flush timeout a second time.
    if (!drain(finished_ ? 0 : settings_.flush_timeout_ns)) {
      std::fprintf(stderr, "tickforge: kafka feed %s: revoke: %llu messages unfinished (they will be read again)\n",
                   topic_.c_str(), static_cast<unsigned long long>(tail_ - head_));
    }
    rd_kafka_commit(rk_, nullptr, 0);
  }
  std::string list;
  for (int i = 0; i < parts->cnt; ++i) {
    const auto p = static_cast<std::size_t>(parts->elems[i].partition);
    if (p >= assigned_.size()) {
      assigned_.resize(p + 1, 0);
      eof_.resize(p + 1, 0);
      next_offset_.resize(p + 1, -1);
    }
    assigned_[p] = assign ? 1 : 0;
    eof_[p] = 0;
    if (!list.empty()) {
      list += ',';
    }
    list += std::to_string(p);
  }
  if (cooperative) {
    rd_kafka_error_t* e = assign ? rd_kafka_incremental_assign(rk_, parts) : rd_kafka_incremental_unassign(rk_, parts);
    if (e != nullptr) {
      std::fprintf(stderr, "tickforge: kafka feed %s: %s\n", topic_.c_str(), rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
    }
  } else {
    rd_kafka_assign(rk_, assign ? parts : nullptr);
  }
  std::string now;
  for (std::size_t p = 0; p < assigned_.size(); ++p) {
    if (assigned_[p] != 0) {
      if (!now.empty()) {
        now += ',';
      }
      now += std::to_string(p);
    }
  }
  std::fprintf(stderr, "tickforge: kafka feed %s: %s partitions %s (now assigned: %s)\n", topic_.c_str(),
               assign ? "assigned" : "revoked", list.c_str(), now.empty() ? "none" : now.c_str());
}

void KafkaFeed::on_rebalance(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                             void* opaque) {
  static_cast<KafkaFeed*>(static_cast<ClientEvents*>(opaque))->on_assignment_change(err, parts);
}

void KafkaFeed::on_dead_letter_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* d = static_cast<DeadLetter*>(static_cast<ClientEvents*>(opaque));
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++d->failed;
  } else {
    ++d->delivered;
  }
  d->tracker.finish(static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(msg->_private)));
}

std::string KafkaFeed::label() const { return "kafka " + topic_ + " (group " + settings_.group_id + ")"; }

void KafkaFeed::report(FeedReport& out) const {
  const KafkaFeedStats s = stats();
  out.label = label();
  std::string line = "kafka feed " + topic_ + ": messages " + std::to_string(s.messages) + "  ticks " +
                     std::to_string(s.ticks) + "  rejected " + std::to_string(s.rejected());
  out.counts = {{"messages", s.messages}, {"ticks", s.ticks}, {"rejected", s.rejected()}};
  for (std::size_t k = 0; k < s.rejects.size(); ++k) {
    if (s.rejects[k] != 0) {
      const char* why = to_string(static_cast<JsonReject>(k));
      line += std::string(", ") + why + " " + std::to_string(s.rejects[k]);
      out.counts.emplace_back(why, s.rejects[k]);
    }
  }
  if (s.symbol_table_full != 0) {
    line += ", symbol_table_full " + std::to_string(s.symbol_table_full);
    out.counts.emplace_back("symbol_table_full", s.symbol_table_full);
  }
  out.lines.push_back(std::move(line));
  out.lines.push_back("  dead-lettered " + std::to_string(s.dead_lettered) + " (failed " +
                      std::to_string(s.dead_letter_failed) + ")  unknown fields ignored " +
                      std::to_string(s.unknown_fields) + "  ring-full drops " + std::to_string(s.dropped_ring_full) +
                      "  offsets stored " + std::to_string(s.offsets_stored) + "  rebalances " +
                      std::to_string(s.rebalances) + "  consumer errors " + std::to_string(s.consumer_errors) +
                      (s.ended_at_eof ? "  (read to the end)" : ""));
  for (const auto& [what, v] :
       {std::pair<const char*, std::uint64_t>{"dead_lettered", s.dead_lettered}, {"dead_letter_failed", s.dead_letter_failed},
        {"unknown_fields", s.unknown_fields}, {"dropped_ring_full", s.dropped_ring_full},
        {"offsets_stored", s.offsets_stored}, {"rebalances", s.rebalances}, {"consumer_errors", s.consumer_errors},
        {"unfinished_at_exit", s.unfinished_at_exit}}) {
    out.counts.emplace_back(what, v);
  }
  if (s.messages > 1 && s.last_message_ns > s.first_message_ns) {
    const double secs = static_cast<double>(s.last_message_ns - s.first_message_ns) / 1e9;
    char buf[160];
    std::snprintf(buf, sizeof buf, "  consumed %llu messages in %.3f s from the first to the last = %.0f messages/s",
                  static_cast<unsigned long long>(s.messages), secs, static_cast<double>(s.messages) / secs);
    out.lines.emplace_back(buf);
  }
  if (s.unfinished_at_exit != 0) {
    out.lines.push_back("  warning: " + std::to_string(s.unfinished_at_exit) +
                        " messages unfinished at exit: not committed, they will be read again");
  }
}

void KafkaFeed::rejects(std::vector<std::pair<std::string, std::uint64_t>>& out) const {
  for (std::size_t k = 0; k + 1 < live_rejects_.size(); ++k) {
    out.emplace_back(to_string(static_cast<JsonReject>(k)), live_rejects_[k].load(std::memory_order_relaxed));
  }
  out.emplace_back("symbol_table_full", live_rejects_.back().load(std::memory_order_relaxed));
}

KafkaFeedStats KafkaFeed::stats() const {
  KafkaFeedStats s = st_;
  for (std::size_t k = 0; k < s.rejects.size(); ++k) {
    s.rejects[k] = live_rejects_[k].load(std::memory_order_relaxed);
  }
  s.symbol_table_full = live_rejects_.back().load(std::memory_order_relaxed);
  s.consumer_errors += errors.load(std::memory_order_relaxed);
  if (dlq_) {
    s.dead_lettered = dlq_->delivered;
    s.dead_letter_failed = dlq_->failed;
  }
  return s;
}

}  // namespace tickforge::kafka
