// tickforge — what the HTTP server serves: the dashboard's JSON API and event stream, and /metrics.
//
//   shards ─on_alert/on_daily─▶ RecordRelay (drop, counted) ─┐
//   Engine::snapshot (≤ 256 tickers a tick, round robin) ────┼─▶ the server thread, every 100 ms: the
//   Pipeline::stats (at most every 500 ms) ──────────────────┘   tickers' views and history, the recent
//                                                                 alerts, the engine panel
//
//   GET /                     the page (web/page/, built into the binary); GET /static/NAME its files
//   GET /api                  the endpoints
//   GET /api/tickers          every ticker: last price, % change since its first tick, ticks, alerts
//   GET /api/ticker/SYMBOL    its snapshot (the metrics JSON) and its history (one point per second of
//                             event time, the last http-history points)
//   GET /api/alerts?since=N   the alerts after server sequence N (the newest 1,000 are kept), limit=M
//   GET /api/daily/SYMBOL     its daily summaries (the last 60), when daily summaries are on
//   GET /api/stats            every figure of the run (the --summary-json object, as of now)
//   GET /api/stream?ticker=S  server-sent events, ≤ 10 a second, each the newest state: the engine panel,
//                             the most active tickers, S's snapshot, the alerts the client has not seen
//   GET /metrics              Prometheus text format
//
// Private header. Everything but on_alert/on_daily (the shards') runs on the server thread; the history
// is kept here, never by a shard. Nothing here is on the hot path: a shard's callbacks copy a record into
// its ring and return; a full ring drops the record for the dashboard only (counted).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <tickforge/records.hpp>

#include "http_server.hpp"
#include "record_relay.hpp"

namespace tickforge {

class Pipeline;

struct DashboardOptions {
  web::HttpOptions http;
  std::uint32_t history_points = 3600;   ///< per ticker: one point per second of event time
  std::uint32_t history_tickers = 1024;  ///< tickers with a history (the first seen); the rest: snapshot only
  std::uint32_t queue = 4096;            ///< alerts / daily summaries per shard between shard and server
};

class Dashboard {
 public:
  /// Binds the server (throws std::runtime_error naming the address). The pipeline outlives it.
  Dashboard(const DashboardOptions& opt, Pipeline& pipeline);
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  // Engine callbacks (user = this), shard threads: a copy into the shard's ring, no allocation or lock.
  static void on_alert(void* user, const Alert* a) noexcept;
  static void on_daily(void* user, const DailySummary* d) noexcept;

  void start();
  void stop();
  /// "http://127.0.0.1:8080/"
  [[nodiscard]] std::string url() const;
  [[nodiscard]] web::HttpStats http_stats() const noexcept { return server_->stats(); }
  /// Records the dashboard's rings refused (the server thread behind): alerts and daily summaries.
  [[nodiscard]] std::uint64_t dropped() const noexcept;

 private:
  struct Point {
    std::int64_t t_s;  // event time, whole seconds
    double price, sma_short, sma_long, stddev_long, volume;
  };
  struct TickerView {
    bool seen = false;
    TickerSnapshot snap{};
    double first_price = 0;
    std::uint64_t alerts = 0;
    std::vector<Point> history;  // a ring of history_points, allocated when the ticker is first seen
    std::size_t history_head = 0, history_size = 0;
    std::deque<DailySummary> days;
  };
  struct AlertItem {
    std::uint64_t seq;  // the server's own arrival order: the ?since= cursor
    Alert alert;
  };

  void tick();  // the server thread, every 100 ms
  void refresh_stats();
  void add_point(TickerView& v);
  [[nodiscard]] std::string ticker_row(const TickerView& v) const;
  [[nodiscard]] std::string ticker_json(const TickerView& v, bool with_history) const;
  [[nodiscard]] std::string alert_json(const AlertItem& a) const;
  [[nodiscard]] std::string engine_panel() const;
  [[nodiscard]] std::string render_stream(const web::HttpRequest& req, std::uint64_t& cursor) const;
  [[nodiscard]] web::HttpResponse metrics() const;
  const TickerView* find(std::string_view symbol) const;

  DashboardOptions opt_;
  Pipeline& pipeline_;
  std::unique_ptr<web::HttpServer> server_;
  std::unique_ptr<RecordRelay<Alert>> alert_relay_;
  std::unique_ptr<RecordRelay<DailySummary>> daily_relay_;
  // The server thread only:
  std::vector<TickerView> tickers_;  // [symbol]
  std::size_t next_snapshot_ = 0;
  std::size_t with_history_ = 0;
  std::deque<AlertItem> alerts_;
  std::uint64_t alert_seq_ = 0;
  std::string stats_json_;   // the last Pipeline::stats, as /api/stats serves it
  std::string panel_json_;   // the engine panel of the stream
  std::int64_t stats_at_ns_ = 0;
  std::uint64_t last_ticks_ = 0;
  std::int64_t last_ticks_at_ns_ = 0;
  double ticks_per_s_ = 0;
  std::string instance_;
};

}  // namespace tickforge
