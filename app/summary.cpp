#include "summary.hpp"

#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace tickforge {

std::string format_duration(std::int64_t ns) {
  struct Unit {
    double scale;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1, "ns"}, {1e3, "µs"}, {1e6, "ms"}, {1e9, "s"}, {60e9, "min"}, {3600e9, "h"},
                                    {86400e9, "d"}};
  const double v = static_cast<double>(ns < 0 ? -ns : ns);
  std::size_t u = 0;
  while (u + 1 < std::size(kUnits) && v >= kUnits[u + 1].scale) {
    ++u;
  }
  double x = v / kUnits[u].scale;
  if (x >= 999.5 && u + 1 < std::size(kUnits) && kUnits[u + 1].scale / kUnits[u].scale == 1000) {
    ++u;  // 999.7 ms rounds to 1000 ms: say 1 s
    x = v / kUnits[u].scale;
  }
  const char* sign = ns < 0 ? "-" : "";
  // Three significant digits; "5 s" rather than "5.00 s" when the value is whole.
  if (u == 0 || (x == std::floor(x) && x < 1000)) {
    return fmt::format("{}{:.0f} {}", sign, x, kUnits[u].name);
  }
  const int decimals = x >= 100 ? 0 : x >= 10 ? 1 : 2;
  return fmt::format("{}{:.{}f} {}", sign, x, decimals, kUnits[u].name);
}

namespace {

template <typename... Args>
void put_to(std::string& out, fmt::format_string<Args...> f, Args&&... args) {
  fmt::format_to(std::back_inserter(out), f, std::forward<Args>(args)...);
}

// 3 significant digits with a thousands-free SI suffix: 7.03 M, 512 k, 999.
std::string format_rate(double per_second) {
  const char* suffix = "";
  double x = per_second;
  if (x >= 1e9) {
    x /= 1e9;
    suffix = " G";
  } else if (x >= 1e6) {
    x /= 1e6;
    suffix = " M";
  } else if (x >= 1e3) {
    x /= 1e3;
    suffix = " k";
  }
  const int decimals = x >= 100 || *suffix == '\0' ? 0 : x >= 10 ? 1 : 2;
  return fmt::format("{:.{}f}{}", x, decimals, suffix);
}

void latency_line(std::string& out, const char* what, const LatencySummary& l) {
  if (l.count == 0) {
    fmt::format_to(std::back_inserter(out), "  latency {:<22} no samples\n", what);
    return;
  }
  auto d = [](std::uint64_t ns) { return format_duration(static_cast<std::int64_t>(ns)); };
  fmt::format_to(std::back_inserter(out), "  latency {:<22} p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  ({} samples)\n",
                 what, d(l.p50), d(l.p90), d(l.p99), d(l.p999), d(l.max), l.count);
}

void channel_line(std::string& out, const char* what, const std::string& topic, const kafka::ChannelStats& c) {
  fmt::format_to(std::back_inserter(out),
                 "  kafka {} → {}: queued {}  dropped (queue full) {}  produced {}  delivered {}  failed {}  "
                 "undelivered {}\n",
                 what, topic, c.queued, c.dropped_full, c.produced, c.delivered, c.failed, c.in_flight);
}

// JSON text of a string we produced (labels, reasons): quotes and backslashes escaped.
std::string js(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string latency_json(const LatencySummary& l) {
  return fmt::format(R"({{"count":{},"p50_ns":{},"p90_ns":{},"p99_ns":{},"p999_ns":{},"p9999_ns":{},"max_ns":{}}})", l.count,
                     l.p50, l.p90, l.p99, l.p999, l.p9999, l.max);
}

std::string channel_json(const kafka::ChannelStats& c) {
  return fmt::format(R"({{"queued":{},"dropped_queue_full":{},"produced":{},"delivered":{},"failed":{},"undelivered":{}}})",
                     c.queued, c.dropped_full, c.produced, c.delivered, c.failed, c.in_flight);
}

}  // namespace

std::string summary_text(const PipelineStats& st, const char* reason) {
  const EngineStats& e = st.engine;
  std::string out;
  put_to(out, "\ntickforge summary ({})\n", reason);
  for (const FeedReport& f : st.feeds) {
    put_to(out, "  feed {:<34} published {}{}\n", f.label, f.published,
        f.ended_early.empty() ? "" : "  (ended: " + f.ended_early + ")");
  }
  put_to(out, "  ticks processed {}  in {}  = {} ticks/s (from the first tick processed to the last)\n", e.ticks,
      format_duration(static_cast<std::int64_t>(e.processing_seconds * 1e9)), format_rate(e.ticks_per_second()));
  put_to(out, "  dropped: ring_full {}  symbol_table_full {}  time_out_of_range {}  feed rejected {}\n", e.dropped_ring_full,
      e.symbol_table_full, e.rejected_time_out_of_range, st.feed_rejected);
  for (const FeedReport& f : st.feeds) {
    for (const std::string& line : f.lines) {
      put_to(out, "  {}\n", line);
    }
  }
  put_to(out, "  ring: capacity {}  high-water mark {}  back-pressure waits {}\n", e.ring_capacity, e.ring_high_water,
      e.blocked_waits);
  put_to(out, "  alerts {} (suppressed by cooldown {}, not printed {}):", e.alerts, e.suppressed, st.alerts_not_printed);
  for (std::size_t r = 0; r < static_cast<std::size_t>(Rule::kCount); ++r) {
    put_to(out, " {} {}", to_string(static_cast<Rule>(r)), e.alerts_of(static_cast<Rule>(r)));
  }
  put_to(out, "\n  late ticks {}  window high/low evictions {} (pool full {})  tickers {}\n", e.late_ticks,
         e.extrema_evictions, e.extrema_pool_full, e.symbols);
  if (e.pin_failures != 0) {
    put_to(out, "  warning: {} engine thread(s) could not be pinned and ran unpinned\n", e.pin_failures);
  }
  latency_line(out, "ingest→processed", e.process_latency);
  latency_line(out, "ingest→alert callback", e.alert_latency);
  if (st.file_sinks) {
    put_to(out, "  outputs (files, console): alerts {}  daily summaries {}  metrics rows {} (dropped {})  write errors {}  "
        "waits for the sinks thread {}\n", st.alerts_written, st.daily_written, st.metrics_written, st.metrics_dropped,
        st.output_write_errors, st.relay_waits);
  }
  if (st.http) {
    const web::HttpStats& h = st.http_stats;
    put_to(out, "  dashboard {}  requests {}  refused: busy {}  bad {}  not found {}  unauthorized {}  clients dropped (slow) {}  "
           "events sent {}  records dropped {}\n",
           st.http_url, h.requests, h.refused_busy, h.bad_requests, h.not_found, h.unauthorized, h.dropped_slow,
           h.events_sent, st.dashboard_dropped);
  }
  if (st.postgres) {
    static constexpr const char* kNames[] = {"alerts", "daily summaries", "metric snapshots"};
    for (std::size_t t = 0; t < std::size(kNames); ++t) {
      const PgTableStats& p = st.pg.tables[t];
      put_to(out, "  postgresql {:<16} queued {}  written {}  (replayed, skipped {})  dropped (queue full) {}  lost {}\n",
          kNames[t], p.queued, p.written, p.copied - std::min(p.copied, p.written), p.dropped_full, p.lost);
    }
    put_to(out, "  postgresql {}  transactions {}  failed {}  reconnects {}{}\n", st.pg.server, st.pg.transactions,
        st.pg.failed_transactions, st.pg.reconnects,
        st.pg.last_error.empty() ? "" : "  last error: " + st.pg.last_error);
  }
  if (st.kafka) {
    if (st.publish_alerts) {
      channel_line(out, "alerts", st.alerts_topic, st.publisher.alerts);
    }
    if (!st.metrics_topic.empty()) {
      channel_line(out, "metric snapshots", st.metrics_topic, st.publisher.metrics);
    }
    if (!st.daily_topic.empty()) {
      channel_line(out, "daily summaries", st.daily_topic, st.publisher.daily);
    }
    put_to(out, "  kafka instance {}  client errors {}  local queue-full waits {}{}\n", st.instance_id,
        st.publisher.client_errors, st.publisher.local_queue_full_waits,
        st.publisher.flush_timed_out ? "  FLUSH TIMED OUT" : "");
    for (const auto& [name, n] : st.publisher.failed_by_error) {
      put_to(out, "    failed: {} {}\n", name, n);
    }
  }
  return out;
}

std::string summary_json(const PipelineStats& st, const char* reason) {
  const EngineStats& e = st.engine;
  std::string out;
  put_to(out, R"({{"schema":1,"stop_reason":{},"feeds":[)", js(reason));
  for (std::size_t i = 0; i < st.feeds.size(); ++i) {
    const FeedReport& f = st.feeds[i];
    put_to(out, R"({}{{"label":{},"published":{},"rejected":{},"ended_early":{},"counts":{{)", i == 0 ? "" : ",", js(f.label),
        f.published, f.rejected, f.ended_early.empty() ? "null" : js(f.ended_early));
    for (std::size_t k = 0; k < f.counts.size(); ++k) {
      put_to(out, "{}{}:{}", k == 0 ? "" : ",", js(f.counts[k].first), f.counts[k].second);
    }
    put_to(out, R"(}},"rejects":{{)");
    for (std::size_t k = 0; k < f.rejects.size(); ++k) {
      put_to(out, "{}{}:{}", k == 0 ? "" : ",", js(f.rejects[k].first), f.rejects[k].second);
    }
    put_to(out, "}}}}");
  }
  put_to(out, R"(],"engine":{{"pushed":{},"ticks":{},"processing_seconds":{},"ticks_per_second":{},"elapsed_seconds":{},)",
      e.pushed, e.ticks, e.processing_seconds, e.ticks_per_second(), e.elapsed_seconds);
  put_to(out, R"("dropped_ring_full":{},"symbol_table_full":{},"rejected_time_out_of_range":{},"feed_rejected":{},)",
      e.dropped_ring_full, e.symbol_table_full, e.rejected_time_out_of_range, st.feed_rejected);
  put_to(out, R"("in_flight":{},"ring_capacity":{},"ring_high_water":{},"blocked_waits":{},"producers":{},"shards":{},)",
      e.in_flight, e.ring_capacity, e.ring_high_water, e.blocked_waits, e.producers, e.shards);
  put_to(out, R"("late_ticks":{},"extrema_evictions":{},"extrema_pool_full":{},"symbols":{},"pin_failures":{},)",
      e.late_ticks, e.extrema_evictions, e.extrema_pool_full, e.symbols, e.pin_failures);
  put_to(out, R"("alerts":{},"suppressed":{},"alerts_by_rule":{{)", e.alerts, e.suppressed);
  for (std::size_t r = 0; r < static_cast<std::size_t>(Rule::kCount); ++r) {
    const auto& d = e.alerts_by_rule_direction[r];
    put_to(out, R"({}"{}":{{"down":{},"none":{},"up":{}}})", r == 0 ? "" : ",", to_string(static_cast<Rule>(r)), d[0], d[1], d[2]);
  }
  put_to(out, R"(}},"process_latency":{},"alert_latency":{}}},)", latency_json(e.process_latency), latency_json(e.alert_latency));
  put_to(out, R"("outputs":{{"alerts_written":{},"alerts_not_printed":{},"daily_written":{},"metrics_written":{},"metrics_dropped":{},"write_errors":{},"relay_waits":{}}},)",
      st.alerts_written, st.alerts_not_printed, st.daily_written, st.metrics_written, st.metrics_dropped,
      st.output_write_errors, st.relay_waits);
  if (st.http) {
    const web::HttpStats& h = st.http_stats;
    put_to(out, R"("http":{{"url":{},"accepted":{},"requests":{},"refused_busy":{},"bad_requests":{},"not_found":{},)"
           R"("unauthorized":{},"dropped_slow":{},"idle_closed":{},"events_sent":{},"open":{},"streams":{},"dashboard_dropped":{}}},)",
           js(st.http_url), h.accepted, h.requests, h.refused_busy, h.bad_requests, h.not_found, h.unauthorized,
           h.dropped_slow, h.idle_closed, h.events_sent, h.open, h.streams, st.dashboard_dropped);
  }
  if (st.postgres) {
    put_to(out, R"("postgresql":{{"server":{},"transactions":{},"failed_transactions":{},"reconnects":{},"rejected_batches":{},"direct_conflicts":{},"write_seconds":{},"last_error":{},"tables":{{)",
        js(st.pg.server), st.pg.transactions, st.pg.failed_transactions, st.pg.reconnects, st.pg.rejected_batches,
        st.pg.direct_conflicts, st.pg.write_seconds, js(st.pg.last_error));
    for (std::size_t t = 0; t < static_cast<std::size_t>(pg::Table::kCount); ++t) {
      const PgTableStats& p = st.pg.tables[t];
      put_to(out, R"({}"{}":{{"queued":{},"copied":{},"written":{},"dropped_queue_full":{},"lost":{}}})", t == 0 ? "" : ",",
          pg::table(static_cast<pg::Table>(t)).name, p.queued, p.copied, p.written, p.dropped_full, p.lost);
    }
    put_to(out, "}}}},");
  }
  if (st.kafka) {
    put_to(out, R"("kafka":{{"instance":{},"alerts_topic":{},"alerts":{},"metrics_topic":{},"metrics":{},)", js(st.instance_id),
        st.publish_alerts ? js(st.alerts_topic) : "null", channel_json(st.publisher.alerts),
        st.metrics_topic.empty() ? "null" : js(st.metrics_topic), channel_json(st.publisher.metrics));
    put_to(out, R"("daily_topic":{},"daily":{},)", st.daily_topic.empty() ? "null" : js(st.daily_topic),
        channel_json(st.publisher.daily));
    put_to(out, R"("client_errors":{},"local_queue_full_waits":{},"flush_timed_out":{},"alerts_lost":{},"failed_by_error":{{)",
        st.publisher.client_errors, st.publisher.local_queue_full_waits, st.publisher.flush_timed_out,
        st.alerts_lost());
    bool first = true;
    for (const auto& [name, n] : st.publisher.failed_by_error) {
      put_to(out, "{}{}:{}", first ? "" : ",", js(name), n);
      first = false;
    }
    put_to(out, "}}}}");
  } else {
    put_to(out, R"("kafka":null)");
  }
  put_to(out, "}}\n");
  return out;
}

}  // namespace tickforge
