#include "dashboard.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>
#include <cmath>

#include <fmt/format.h>

#include "assets.hpp"
#include "clock.hpp"
#include "pipeline.hpp"
#include "record_json.hpp"
#include "summary.hpp"

namespace tickforge {

namespace {

constexpr std::size_t kAlertsKept = 1000;
constexpr std::size_t kDaysKept = 60;
constexpr std::size_t kSnapshotsPerTick = 256;
constexpr std::size_t kStreamTickers = 30;
constexpr std::size_t kStreamAlerts = 50;
constexpr std::int64_t kStatsEveryNs = 500'000'000;

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string num(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

bool parse_u64(const std::string& s, std::uint64_t& v) {
  const auto* end = s.data() + s.size();
  const auto r = std::from_chars(s.data(), end, v);
  return !s.empty() && r.ec == std::errc() && r.ptr == end;
}

// Prometheus text format (version 0.0.4): one family at a time.
struct Prom {
  std::string out;
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void sample(std::string_view name, std::string_view labels, double v) {
    out += fmt::format("{}{}{}{} {}\n", name, labels.empty() ? "" : "{", labels, labels.empty() ? "" : "}",
                       std::isfinite(v) ? fmt::format("{}", v) : "NaN");
  }
  void counter(std::string_view name, std::string_view help, std::uint64_t v) {
    family(name, "counter", help);
    sample(name, "", static_cast<double>(v));
  }
  void gauge(std::string_view name, std::string_view help, double v) {
    family(name, "gauge", help);
    sample(name, "", v);
  }
  void histogram(std::string_view name, std::string_view help, const LatencyBuckets& b) {
    family(name, "histogram", help);
    const std::string bucket = std::string(name) + "_bucket";
    for (int k = 0; k < LatencyBuckets::kCount; ++k) {
      const double le = std::ldexp(1.0, LatencyBuckets::kMinLog2 + k) / 1e9;
      sample(bucket, fmt::format("le=\"{}\"", le), static_cast<double>(b.below[k]));
    }
    sample(bucket, "le=\"+Inf\"", static_cast<double>(b.count));
    sample(std::string(name) + "_sum", "", static_cast<double>(b.sum_ns) / 1e9);
    sample(std::string(name) + "_count", "", static_cast<double>(b.count));
  }
};

}  // namespace

Dashboard::Dashboard(const DashboardOptions& opt, Pipeline& pipeline)
    : opt_(opt), pipeline_(pipeline), server_(std::make_unique<web::HttpServer>(opt.http)) {
  const ShardIndex shards = pipeline.engine().shard_index();
  alert_relay_ = std::make_unique<RecordRelay<Alert>>(shards, opt.queue, RelayFull::kDrop);
  if (pipeline.engine().config().daily.enabled) {
    daily_relay_ = std::make_unique<RecordRelay<DailySummary>>(shards, opt.queue, RelayFull::kDrop);
  }
  tickers_.resize(pipeline.engine().config().max_tickers);
  instance_ = pipeline.instance_id();

  server_->on_tick([this] { tick(); });
  // The page: files built into the binary, looked up by name (never a path on disk).
  auto asset = [](std::string_view name) {
    const web::Asset* a = web::find_asset(name);
    if (a == nullptr) {
      return web::HttpResponse::error(404, "no such file");
    }
    web::HttpResponse r;
    r.content_type = std::string(a->content_type);
    r.body = std::string(a->data);
    return r;
  };
  server_->route("/", [asset](const web::HttpRequest&) { return asset("index.html"); });
  server_->route("/static/", [asset](const web::HttpRequest& req) {
    return asset(req.path.substr(std::string_view("/static/").size()));
  });
  server_->route("/api", [](const web::HttpRequest&) {
    web::HttpResponse r;
    r.body =
        R"({"endpoints":["/api/tickers","/api/ticker/SYMBOL","/api/alerts?since=N&limit=M","/api/daily/SYMBOL",)"
        R"("/api/stats","/api/stream?ticker=SYMBOL","/metrics"]})"
        "\n";
    return r;
  });
  server_->route("/api/tickers", [this](const web::HttpRequest&) {
    web::HttpResponse r;
    r.body = "{\"tickers\":[";
    bool first = true;
    for (const TickerView& v : tickers_) {
      if (v.seen) {
        r.body += first ? "" : ",";
        r.body += ticker_row(v);
        first = false;
      }
    }
    r.body += "]}\n";
    return r;
  });
  server_->route("/api/ticker/", [this](const web::HttpRequest& req) {
    const std::string_view sym = req.path.substr(std::string_view("/api/ticker/").size());
    const TickerView* v = find(sym);
    if (v == nullptr) {
      return web::HttpResponse::error(404, "no such ticker (yet): see /api/tickers");
    }
    web::HttpResponse r;
    r.body = ticker_json(*v, true) + "\n";
    return r;
  });
  server_->route("/api/daily/", [this](const web::HttpRequest& req) {
    if (!daily_relay_) {
      return web::HttpResponse::error(404, "daily summaries are off (daily-out, sink or daily-topic turn them on)");
    }
    const TickerView* v = find(req.path.substr(std::string_view("/api/daily/").size()));
    if (v == nullptr) {
      return web::HttpResponse::error(404, "no such ticker (yet): see /api/tickers");
    }
    web::HttpResponse r;
    r.body = "{\"days\":[";
    char buf[kDailyCapacity];
    bool first = true;
    for (const DailySummary& d : v->days) {
      r.body += first ? "" : ",";
      r.body.append(buf, format_daily_json(d, instance_, pipeline_.options().engine.daily.zone.name, buf, sizeof(buf)));
      first = false;
    }
    r.body += "]}\n";
    return r;
  });
  server_->route("/api/alerts", [this](const web::HttpRequest& req) {
    std::uint64_t since = 0;
    std::uint64_t limit = 100;
    std::string v;
    if (req.param("since", v) && !parse_u64(v, since)) {
      return web::HttpResponse::error(400, "since: a whole number ≥ 0 (the seq of the last alert seen)");
    }
    if (req.param("limit", v) && (!parse_u64(v, limit) || limit == 0 || limit > kAlertsKept)) {
      return web::HttpResponse::error(400, fmt::format("limit: a whole number in [1, {}]", kAlertsKept));
    }
    web::HttpResponse r;
    r.body = "{\"alerts\":[";
    // The newest `limit` after `since`, oldest first.
    auto it = std::upper_bound(alerts_.begin(), alerts_.end(), since,
                               [](std::uint64_t s, const AlertItem& a) { return s < a.seq; });
    if (static_cast<std::uint64_t>(alerts_.end() - it) > limit) {
      it = alerts_.end() - static_cast<std::ptrdiff_t>(limit);
    }
    for (bool first = true; it != alerts_.end(); ++it, first = false) {
      r.body += first ? "" : ",";
      r.body += alert_json(*it);
    }
    r.body += fmt::format("],\"last_seq\":{}}}\n", alert_seq_);
    return r;
  });
  server_->route("/api/stats", [this](const web::HttpRequest&) {
    refresh_stats();
    web::HttpResponse r;
    r.body = stats_json_;
    return r;
  });
  server_->route("/metrics", [this](const web::HttpRequest&) { return metrics(); });
  server_->stream("/api/stream", [this](const web::HttpRequest& req, std::uint64_t& cursor) {
    return render_stream(req, cursor);
  });
}

Dashboard::~Dashboard() { stop(); }

void Dashboard::on_alert(void* user, const Alert* a) noexcept {
  auto* self = static_cast<Dashboard*>(user);
  self->alert_relay_->push(self->alert_relay_->shards().shard_of(a->symbol), *a);
}

void Dashboard::on_daily(void* user, const DailySummary* d) noexcept {
  auto* self = static_cast<Dashboard*>(user);
  if (self->daily_relay_) {
    self->daily_relay_->push(self->daily_relay_->shards().shard_of(d->symbol), *d);
  }
}

void Dashboard::start() { server_->start(); }
void Dashboard::stop() { server_->stop(); }

std::string Dashboard::url() const {
  const std::string& h = server_->host();
  const bool v6 = h.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}/", v6 ? "[" : "", h, v6 ? "]" : "", server_->port());
}

std::uint64_t Dashboard::dropped() const noexcept {
  return alert_relay_->dropped() + (daily_relay_ ? daily_relay_->dropped() : 0);
}

const Dashboard::TickerView* Dashboard::find(std::string_view symbol) const {
  const SymbolId id = pipeline_.engine().symbols().find(symbol);
  if (id == kNoSymbol || id >= tickers_.size() || !tickers_[id].seen) {
    return nullptr;
  }
  return &tickers_[id];
}

void Dashboard::tick() {
  alert_relay_->drain([this](const Alert& a) {
    alerts_.push_back(AlertItem{++alert_seq_, a});
    if (alerts_.size() > kAlertsKept) {
      alerts_.pop_front();
    }
    if (a.symbol < tickers_.size()) {
      ++tickers_[a.symbol].alerts;
    }
  });
  if (daily_relay_) {
    daily_relay_->drain([this](const DailySummary& d) {
      if (d.symbol < tickers_.size()) {
        auto& days = tickers_[d.symbol].days;
        if (!days.empty() && days.back().day == d.day) {
          days.back() = d;  // a partial day completed
        } else {
          days.push_back(d);
        }
        if (days.size() > kDaysKept) {
          days.pop_front();
        }
      }
    });
  }
  // Snapshots, round robin: each is one request to the ticker's shard, served between two ticks.
  Engine& engine = pipeline_.engine();
  const std::size_t n = std::min<std::size_t>(engine.symbols().size(), tickers_.size());
  for (std::size_t k = 0; k < std::min(n, kSnapshotsPerTick); ++k) {
    if (next_snapshot_ >= n) {
      next_snapshot_ = 0;
    }
    TickerView& v = tickers_[next_snapshot_];
    TickerSnapshot s;
    if (engine.snapshot(static_cast<SymbolId>(next_snapshot_), &s) && s.ticks != 0) {
      if (!v.seen) {
        v.seen = true;
        v.first_price = s.last_price;
        if (with_history_ < opt_.history_tickers) {
          v.history.resize(opt_.history_points);
          ++with_history_;
        }
      }
      v.snap = s;
      add_point(v);
    }
    ++next_snapshot_;
  }
  const std::int64_t now = now_ns();
  if (now - stats_at_ns_ >= kStatsEveryNs) {
    refresh_stats();
  }
}

void Dashboard::refresh_stats() {
  const PipelineStats st = pipeline_.stats();
  const std::int64_t now = now_ns();
  if (last_ticks_at_ns_ != 0 && now > last_ticks_at_ns_) {
    ticks_per_s_ = static_cast<double>(st.engine.ticks - std::min(st.engine.ticks, last_ticks_)) * 1e9 /
                   static_cast<double>(now - last_ticks_at_ns_);
  }
  last_ticks_ = st.engine.ticks;
  last_ticks_at_ns_ = now;
  stats_at_ns_ = now;
  stats_json_ = summary_json(st, "running");
  const EngineStats& e = st.engine;
  panel_json_ = fmt::format(
      R"({{"ticks":{},"ticks_per_s":{:.0f},"alerts":{},"suppressed":{},"dropped_ring_full":{},"rejected":{},)"
      R"("in_flight":{},"ring_high_water":{},"ring_capacity":{},"tickers":{},"latency_ns":{{"p50":{},"p90":{},)"
      R"("p99":{},"p999":{},"max":{}}},"latency_buckets":[)",
      e.ticks, ticks_per_s_, e.alerts, e.suppressed, e.dropped_ring_full,
      e.rejected_time_out_of_range + st.feed_rejected, e.in_flight, e.ring_high_water, e.ring_capacity, e.symbols,
      e.process_latency.p50, e.process_latency.p90, e.process_latency.p99, e.process_latency.p999,
      e.process_latency.max);
  // The latency histogram for the panel's plot: samples per power-of-two bucket (not cumulative).
  std::uint64_t prev = 0;
  for (int k = 0; k < LatencyBuckets::kCount; ++k) {
    panel_json_ += fmt::format("{}[{},{}]", k == 0 ? "" : ",", std::uint64_t{1} << (LatencyBuckets::kMinLog2 + k),
                               e.process_buckets.below[k] - prev);
    prev = e.process_buckets.below[k];
  }
  const web::HttpStats h = server_->stats();
  panel_json_ += fmt::format(R"(],"http":{{"clients":{},"streams":{},"dropped_slow":{}}},"dashboard_dropped":{})",
                             h.open, h.streams, h.dropped_slow, dropped());
  // The outputs' health: null when an output is off.
  const OutputsLive& o = st.live;
  const kafka::PublisherLive& k = o.kafka_live;
  panel_json_ += o.kafka ? fmt::format(R"(,"kafka":{{"delivered":{},"failed":{},"dropped":{},"in_flight":{},"client_errors":{}}})",
                                       k.alerts.delivered + k.metrics.delivered + k.daily.delivered,
                                       k.alerts.failed + k.metrics.failed + k.daily.failed,
                                       k.alerts.dropped_full + k.metrics.dropped_full + k.daily.dropped_full,
                                       (k.alerts.produced + k.metrics.produced + k.daily.produced) -
                                           std::min(k.alerts.produced + k.metrics.produced + k.daily.produced,
                                                    k.alerts.delivered + k.metrics.delivered + k.daily.delivered +
                                                        k.alerts.failed + k.metrics.failed + k.daily.failed),
                                       k.client_errors)
                         : std::string(R"(,"kafka":null)");
  panel_json_ += o.postgres ? fmt::format(R"(,"postgresql":{{"connected":{},"written":{},"dropped":{},"lost":{},"reconnects":{}}})",
                                          o.pg.connected, o.pg.written[0] + o.pg.written[1] + o.pg.written[2],
                                          o.pg.dropped_full[0] + o.pg.dropped_full[1] + o.pg.dropped_full[2],
                                          o.pg.lost[0] + o.pg.lost[1] + o.pg.lost[2], o.pg.reconnects)
                            : std::string(R"(,"postgresql":null)");
  panel_json_ += o.files ? fmt::format(R"(,"files":{{"alerts":{},"daily":{},"metrics":{},"metrics_dropped":{}}}}})",
                                       o.alerts_written, o.daily_written, o.metrics_written, o.metrics_dropped)
                         : std::string(R"(,"files":null})");
}

void Dashboard::add_point(TickerView& v) {
  if (v.history.empty()) {
    return;
  }
  const TickerSnapshot& s = v.snap;
  const std::int64_t t_s = s.last_event_ns >= 0 ? s.last_event_ns / 1'000'000'000
                                                : -((-s.last_event_ns + 999'999'999) / 1'000'000'000);
  const std::size_t cap = v.history.size();
  const std::uint32_t nw = std::max<std::uint32_t>(1, s.metrics.n_windows);
  const Point p{t_s, s.last_price, s.metrics.sma[0], s.metrics.sma[nw - 1], s.metrics.stddev[nw - 1],
                s.metrics.cum_volume};
  if (v.history_size != 0) {
    Point& last = v.history[(v.history_head + v.history_size - 1) % cap];
    if (last.t_s == t_s) {
      last = p;  // the same second: the newest state of it
      return;
    }
    if (t_s < last.t_s) {
      return;
    }
  }
  if (v.history_size < cap) {
    v.history[(v.history_head + v.history_size) % cap] = p;
    ++v.history_size;
  } else {
    v.history[v.history_head] = p;
    v.history_head = (v.history_head + 1) % cap;
  }
}

std::string Dashboard::ticker_row(const TickerView& v) const {
  const TickerSnapshot& s = v.snap;
  const double change = v.first_price > 0 ? (s.last_price / v.first_price - 1) * 100 : 0;
  return fmt::format(R"({{"ticker":{},"price":{},"change_pct":{},"pct_change":{},"ticks":{},"alerts":{},"event_ns":{}}})",
                     json_string(s.ticker), num(s.last_price), num(change), num(s.metrics.pct_change), s.ticks,
                     v.alerts, s.last_event_ns);
}

std::string Dashboard::ticker_json(const TickerView& v, bool with_history) const {
  const TickerSnapshot& s = v.snap;
  Tick t{};
  t.symbol = s.symbol;
  t.price = s.last_price;
  t.volume = s.last_volume;
  t.event_ns = s.last_event_ns;
  t.seq = s.ticks;
  char buf[kMetricsJsonCapacity];
  std::string out = "{\"summary\":" + ticker_row(v) + ",\"snapshot\":";
  out.append(buf, format_metrics_json(t, s.metrics, s.ticker, instance_, buf, sizeof(buf)));
  if (with_history) {
    // Columns: event time (s), price, short SMA, long SMA, long-window std, volume in that second.
    out += R"(,"history_columns":["t","price","sma_short","sma_long","std_long","volume"],"history":[)";
    const std::size_t cap = v.history.size();
    double prev_cum = NAN;
    for (std::size_t i = 0; i < v.history_size; ++i) {
      const Point& p = v.history[(v.history_head + i) % cap];
      const double vol = std::isnan(prev_cum) ? 0 : p.volume - prev_cum;
      prev_cum = p.volume;
      out += fmt::format("{}[{},{},{},{},{},{}]", i == 0 ? "" : ",", p.t_s, num(p.price), num(p.sma_short),
                         num(p.sma_long), num(p.stddev_long), num(vol));
    }
    out += "]";
  }
  return out + "}";
}

std::string Dashboard::alert_json(const AlertItem& a) const {
  char buf[kAlertJsonCapacity];
  std::string out = fmt::format("{{\"seq\":{},\"alert\":", a.seq);
  out.append(buf, format_alert_json(a.alert, instance_, buf, sizeof(buf)));
  return out + "}";
}

std::string Dashboard::render_stream(const web::HttpRequest& req, std::uint64_t& cursor) const {
  std::string out = "{\"type\":\"update\",\"engine\":";
  out += panel_json_.empty() ? std::string_view("null") : std::string_view(panel_json_);
  // The most active tickers (by ticks), for the list.
  std::vector<const TickerView*> seen;
  for (const TickerView& v : tickers_) {
    if (v.seen) {
      seen.push_back(&v);
    }
  }
  const std::size_t top = std::min(seen.size(), kStreamTickers);
  std::partial_sort(seen.begin(), seen.begin() + static_cast<std::ptrdiff_t>(top), seen.end(),
                    [](const TickerView* a, const TickerView* b) { return a->snap.ticks > b->snap.ticks; });
  out += ",\"tickers\":[";
  for (std::size_t i = 0; i < top; ++i) {
    out += i == 0 ? "" : ",";
    out += ticker_row(*seen[i]);
  }
  out += "],\"ticker\":";
  std::string sym;
  const TickerView* v = req.param("ticker", sym) ? find(sym) : nullptr;
  out += v != nullptr ? ticker_json(*v, false) : "null";
  // The alerts this client has not seen: at most the newest kStreamAlerts (a client that fell behind
  // skips the rest, as a conflated stream does).
  out += ",\"alerts\":[";
  auto it = std::upper_bound(alerts_.begin(), alerts_.end(), cursor,
                             [](std::uint64_t s, const AlertItem& a) { return s < a.seq; });
  if (static_cast<std::size_t>(alerts_.end() - it) > kStreamAlerts) {
    it = alerts_.end() - static_cast<std::ptrdiff_t>(kStreamAlerts);
  }
  for (bool first = true; it != alerts_.end(); ++it, first = false) {
    out += first ? "" : ",";
    out += alert_json(*it);
  }
  cursor = alert_seq_;
  return out + "]}";
}

web::HttpResponse Dashboard::metrics() const {
  const PipelineStats st = pipeline_.stats();
  const EngineStats& e = st.engine;
  Prom p;
  p.family("tickforge_ticks_total", "counter", "Ticks processed by the engine (metrics, rules and callbacks done).");
  for (std::size_t s = 0; s < e.per_shard.size(); ++s) {
    p.sample("tickforge_ticks_total", fmt::format("shard=\"{}\"", s), static_cast<double>(e.per_shard[s].ticks));
  }
  p.family("tickforge_feed_ticks_total", "counter", "Ticks a feed handed to the engine.");
  for (std::size_t f = 0; f < st.feeds.size(); ++f) {
    const std::string& label = st.feeds[f].label;
    p.sample("tickforge_feed_ticks_total",
             fmt::format("feed=\"{}\",kind=\"{}\"", f, label.substr(0, label.find(' '))),
             static_cast<double>(st.feeds[f].published));
  }
  p.family("tickforge_dropped_total", "counter", "Ticks dropped before the engine, by reason.");
  p.sample("tickforge_dropped_total", "reason=\"ring_full\"", static_cast<double>(e.dropped_ring_full));
  p.sample("tickforge_dropped_total", "reason=\"symbol_table_full\"", static_cast<double>(e.symbol_table_full));
  p.family("tickforge_rejected_total", "counter", "Ticks the engine refused, by reason.");
  p.sample("tickforge_rejected_total", "reason=\"time_out_of_range\"", static_cast<double>(e.rejected_time_out_of_range));
  p.family("tickforge_feed_rejected_total", "counter", "Input a feed refused (rows, messages), by reason, live.");
  for (std::size_t f = 0; f < st.feeds.size(); ++f) {
    const std::string& label = st.feeds[f].label;
    for (const auto& [why, count] : st.feeds[f].rejects) {
      p.sample("tickforge_feed_rejected_total",
               fmt::format("feed=\"{}\",kind=\"{}\",reason=\"{}\"", f, label.substr(0, label.find(' ')), why),
               static_cast<double>(count));
    }
  }
  p.family("tickforge_alerts_total", "counter", "Alerts fired, by rule and direction.");
  for (std::size_t r = 0; r < e.alerts_by_rule_direction.size(); ++r) {
    static constexpr const char* kDir[] = {"down", "none", "up"};
    for (std::size_t d = 0; d < 3; ++d) {
      if (e.alerts_by_rule_direction[r][d] != 0 || d != 1) {
        p.sample("tickforge_alerts_total",
                 fmt::format("rule=\"{}\",direction=\"{}\"", to_string(static_cast<Rule>(r)), kDir[d]),
                 static_cast<double>(e.alerts_by_rule_direction[r][d]));
      }
    }
  }
  p.counter("tickforge_alerts_suppressed_total", "Rule conditions met inside their cooldown.", e.suppressed);
  p.counter("tickforge_late_ticks_total", "Ticks older than their ticker's last (taken at the last time).", e.late_ticks);
  p.gauge("tickforge_in_flight_ticks", "Ticks accepted and not yet processed.", static_cast<double>(e.in_flight));
  p.gauge("tickforge_ring_capacity", "Slots of each feed-to-shard ring.", static_cast<double>(e.ring_capacity));
  p.family("tickforge_ring_high_water", "gauge", "The largest occupancy a shard's rings reached.");
  for (std::size_t s = 0; s < e.per_shard.size(); ++s) {
    p.sample("tickforge_ring_high_water", fmt::format("shard=\"{}\"", s), static_cast<double>(e.per_shard[s].ring_high_water));
  }
  p.gauge("tickforge_tickers", "Tickers registered.", static_cast<double>(e.symbols));
  p.histogram("tickforge_process_latency_seconds", "Ingest to tick fully processed (callbacks included).",
              e.process_buckets);
  p.histogram("tickforge_alert_latency_seconds", "Ingest to alert callback.", e.alert_buckets);
  const OutputsLive& o = st.live;
  if (o.files) {
    p.family("tickforge_file_records_total", "counter", "Records the file outputs wrote, by kind.");
    p.sample("tickforge_file_records_total", "kind=\"alerts\"", static_cast<double>(o.alerts_written));
    p.sample("tickforge_file_records_total", "kind=\"daily\"", static_cast<double>(o.daily_written));
    p.sample("tickforge_file_records_total", "kind=\"metrics\"", static_cast<double>(o.metrics_written));
    p.counter("tickforge_file_metrics_dropped_total", "--metrics-out rows dropped (metrics-full drop).", o.metrics_dropped);
  }
  if (o.postgres) {
    static constexpr const char* kTable[] = {"alerts", "daily_summaries", "metrics"};
    for (const auto& [name, help, field] :
         {std::tuple{"tickforge_postgresql_rows_written_total", "Rows inserted or updated in PostgreSQL, by table.", &PgLive::written},
          std::tuple{"tickforge_postgresql_dropped_total", "Records refused by the sink's full rings, by table.", &PgLive::dropped_full},
          std::tuple{"tickforge_postgresql_lost_total", "Records given up (rejected batches, flush timeout), by table.", &PgLive::lost}}) {
      p.family(name, "counter", help);
      for (std::size_t t = 0; t < 3; ++t) {
        p.sample(name, fmt::format("table=\"{}\"", kTable[t]), static_cast<double>((o.pg.*field)[t]));
      }
    }
    p.counter("tickforge_postgresql_reconnects_total", "Reconnections to PostgreSQL.", o.pg.reconnects);
    p.counter("tickforge_postgresql_failed_transactions_total", "Transactions rolled back or cut off.",
              o.pg.failed_transactions);
    p.gauge("tickforge_postgresql_connected", "1 while the sink holds a connection.", o.pg.connected ? 1 : 0);
  }
  if (o.kafka) {
    const kafka::PublisherLive& k = o.kafka_live;
    const std::pair<const char*, const kafka::PublisherLive::Channel*> streams[] = {
        {"alerts", &k.alerts}, {"metrics", &k.metrics}, {"daily", &k.daily}};
    for (const auto& [name, help, field] :
         {std::tuple{"tickforge_kafka_produced_total", "Messages handed to librdkafka, by stream.", &kafka::PublisherLive::Channel::produced},
          std::tuple{"tickforge_kafka_delivered_total", "Messages the cluster acknowledged, by stream.", &kafka::PublisherLive::Channel::delivered},
          std::tuple{"tickforge_kafka_failed_total", "Messages librdkafka gave up, by stream.", &kafka::PublisherLive::Channel::failed},
          std::tuple{"tickforge_kafka_dropped_total", "Records refused by the publisher's full queue, by stream.", &kafka::PublisherLive::Channel::dropped_full}}) {
      p.family(name, "counter", help);
      for (const auto& [stream, ch] : streams) {
        p.sample(name, fmt::format("stream=\"{}\"", stream), static_cast<double>(ch->*field));
      }
    }
    p.counter("tickforge_kafka_client_errors_total", "librdkafka error callbacks (broker down, transport).", k.client_errors);
  }
  const web::HttpStats h = server_->stats();
  p.counter("tickforge_http_requests_total", "HTTP requests answered.", h.requests);
  p.family("tickforge_http_refused_total", "counter", "HTTP requests or clients refused, by reason.");
  p.sample("tickforge_http_refused_total", "reason=\"busy\"", static_cast<double>(h.refused_busy));
  p.sample("tickforge_http_refused_total", "reason=\"bad_request\"", static_cast<double>(h.bad_requests));
  p.sample("tickforge_http_refused_total", "reason=\"not_found\"", static_cast<double>(h.not_found));
  p.sample("tickforge_http_refused_total", "reason=\"unauthorized\"", static_cast<double>(h.unauthorized));
  p.counter("tickforge_http_clients_dropped_slow_total", "Clients dropped: a response or event not taken in time.",
            h.dropped_slow);
  p.counter("tickforge_http_events_total", "Event-stream events sent.", h.events_sent);
  p.gauge("tickforge_http_clients", "HTTP connections open.", static_cast<double>(h.open));
  p.gauge("tickforge_http_streams", "Event streams open.", static_cast<double>(h.streams));
  p.counter("tickforge_dashboard_dropped_total", "Alerts and daily summaries the dashboard's rings refused.", dropped());
  p.gauge("tickforge_uptime_seconds", "Since the engine started.", e.elapsed_seconds);
  web::HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(p.out);
  return r;
}

}  // namespace tickforge
