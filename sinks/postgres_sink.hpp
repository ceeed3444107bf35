// tickforge — the PostgreSQL sink: alerts, daily summaries and rate-limited metric snapshots into three
// tables (sinks/pg_schema.hpp), written by a thread of its own through libpq.
//
//   shard s ─on_alert/on_daily/on_update─▶ RecordRelay rings (kDrop) ─▶ "tf-pg" thread
//       ─▶ bounded pending buffers ─▶ BEGIN; COPY staging (binary or text); INSERT … ON CONFLICT; COMMIT
//
// Private header. The engine thread only copies a fixed-size record into its own ring, or counts a drop
// when the ring is full: it never waits for the database. The sink thread moves records into pending
// buffers of at most `buffer_rows` rows per table, and writes them in one transaction per batch (at most
// `batch_rows` rows per table, at least every `flush_interval`): COPY into a temporary staging table,
// then one INSERT … SELECT … ON CONFLICT into the real table, so that a replay of the same input adds no
// row (see pg_schema.hpp for the keys). When the server goes away the batch stays pending and the thread
// reconnects with exponential backoff (100 ms … 5 s); meanwhile the buffers fill, then the rings, and
// records beyond both are dropped and counted. At stop, what is pending is written within
// `flush_timeout` (reconnecting as needed), and whatever could not be is reported lost, by table.
//
// The connection string is any libpq one (URI or key=value). The password comes from libpq's own
// sources (PGPASSWORD, ~/.pgpass, PGPASSFILE) or from `password_file`; it is never printed, and
// describe() names a server without it.
//
// Thread contract: construct (connects, creates and checks the tables; throws std::runtime_error with a
// clear message) and request_stop() on the owning thread; callbacks on shard threads; the agent on its
// own thread; stats() after it ended (or any time, approximately).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <tickforge/counter.hpp>
#include <tickforge/engine.hpp>
#include <tickforge/records.hpp>
#include <tickforge/symbol_table.hpp>

#include "agent.hpp"
#include "pg_schema.hpp"
#include "record_relay.hpp"

struct pg_conn;

namespace tickforge {

struct PostgresOptions {
  std::string conninfo;                   ///< libpq URI or key=value string
  std::string password_file;              ///< optional: the password is this file's first line
  std::string instance;                   ///< the engine instance written with every row
  std::string time_zone = "UTC";          ///< the daily summaries' zone
  pg::CopyFormat copy = pg::CopyFormat::kBinary;
  std::uint32_t queue = 16384;            ///< records per shard and table between engine and sink thread
  std::uint32_t batch_rows = 50000;       ///< rows per table per transaction, at most
  std::uint32_t buffer_rows = 200'000;    ///< pending rows per table kept while the server is away
  std::int64_t flush_interval_ns = 200'000'000;  ///< a partial batch is written after this long
  std::int64_t connect_timeout_ns = 5'000'000'000;
  std::int64_t flush_timeout_ns = 10'000'000'000;  ///< at stop: write what is pending within this
  bool metrics = true;                    ///< write metric snapshots
  std::int64_t metrics_interval_ns = 1'000'000'000;  ///< at most one snapshot per ticker per this much event time
  std::uint32_t max_tickers = 16384;
};

/// Per table.
struct PgTableStats {
  std::uint64_t queued = 0;        ///< accepted from the engine
  std::uint64_t dropped_full = 0;  ///< refused by a full ring: the sink was behind (server away, buffers full)
  std::uint64_t copied = 0;        ///< rows sent in committed transactions
  std::uint64_t written = 0;       ///< rows inserted or updated by them (copied − written = replays skipped)
  std::uint64_t lost = 0;          ///< pending at the end and not written within flush-timeout
};

struct PgStats {
  PgTableStats tables[static_cast<std::size_t>(pg::Table::kCount)];
  std::uint64_t transactions = 0;
  std::uint64_t failed_transactions = 0;  ///< rolled back or cut off (the batch was kept and retried)
  std::uint64_t reconnects = 0;
  std::uint64_t rejected_batches = 0;     ///< refused by the server with the connection intact (data error): lost
  std::uint64_t direct_conflicts = 0;     ///< metric batches COPYed straight into the table that hit a row already
                                          ///< there (a replay): rolled back to a savepoint and merged instead
  double write_seconds = 0;               ///< time spent in committed transactions (rows/s = copied / this)
  std::string last_error;                 ///< the server's or libpq's message (never holds the password)
  std::string server;                     ///< user@host:port/db
  [[nodiscard]] std::uint64_t lost_or_dropped(pg::Table t) const noexcept {
    const PgTableStats& s = tables[static_cast<std::size_t>(t)];
    return s.dropped_full + s.lost;
  }
};

/// What the sink has done so far, readable from any thread while it runs.
struct PgLive {
  std::uint64_t written[static_cast<std::size_t>(pg::Table::kCount)] = {};
  std::uint64_t dropped_full[static_cast<std::size_t>(pg::Table::kCount)] = {};
  std::uint64_t lost[static_cast<std::size_t>(pg::Table::kCount)] = {};
  std::uint64_t reconnects = 0;
  std::uint64_t failed_transactions = 0;
  bool connected = false;
};

class PostgresSink final : public Agent {
 public:
  PostgresSink(const PostgresOptions& opt, ShardIndex shards, const SymbolTable& symbols);
  ~PostgresSink() override;
  PostgresSink(const PostgresSink&) = delete;
  PostgresSink& operator=(const PostgresSink&) = delete;

  // Engine callbacks (user = this), shard threads: no allocation, lock or syscall.
  static void on_alert(void* user, const Alert* a) noexcept;
  static void on_daily(void* user, const DailySummary* d) noexcept;
  static void on_update(void* user, const Tick* t, const TickMetrics* m) noexcept;
  [[nodiscard]] bool writes_metrics() const noexcept { return metrics_relay_ != nullptr; }

  std::size_t do_work() noexcept override;
  [[nodiscard]] bool done() const noexcept override { return ended_; }
  void on_close() noexcept override;
  /// The shards have stopped: write what is left (within flush_timeout) and end. Any thread.
  void request_stop() noexcept { stop_.store(true, std::memory_order_release); }

  [[nodiscard]] PgStats stats() const;
  /// Any thread, any time (the dashboard's /metrics).
  [[nodiscard]] PgLive live() const noexcept;
  /// Records taken from the rings plus rows committed so far. Any thread (a watchdog's progress count).
  [[nodiscard]] std::uint64_t records_taken() const noexcept { return taken_.load(std::memory_order_relaxed); }
  /// user@host:port/db of the connection (never the password).
  [[nodiscard]] const std::string& server() const noexcept { return server_; }

 private:
  static constexpr std::size_t kTables = static_cast<std::size_t>(pg::Table::kCount);
  bool connect(std::string& error);  // sink thread, or the constructor
  void prepare_session();            // staging tables; throws std::runtime_error
  bool write_batch();                // true when the batch was committed (or rejected and dropped)
  // COPY rows[0, rows) of table t into its staging table, or into the table itself (direct). Sets
  // copy_sqlstate_ on failure and copy_count_ (rows the server took) on success.
  bool copy_table(pg::Table t, std::size_t rows, bool direct, std::string& error);
  bool exec_ok(const char* sql, std::string& error);
  void encode(pg::Table t, std::size_t i);
  [[nodiscard]] std::size_t pending(pg::Table t) const noexcept;
  void drain_relays() noexcept;
  void forget_batch(std::size_t alerts, std::size_t daily, std::size_t metrics);
  std::int64_t now() const noexcept;

  PostgresOptions opt_;
  const SymbolTable& symbols_;
  ShardIndex shards_;
  std::vector<const char*> keywords_;     // PQconnectdbParams
  std::vector<const char*> values_;
  std::string password_;                  // from password_file; never printed
  std::string connect_timeout_s_;
  pg_conn* conn_ = nullptr;
  std::string server_;

  std::unique_ptr<RecordRelay<Alert>> alert_relay_;
  std::unique_ptr<RecordRelay<DailySummary>> daily_relay_;
  std::unique_ptr<RecordRelay<MetricsRow>> metrics_relay_;
  std::vector<std::int64_t> last_snapshot_ns_;  // [symbol], written by the symbol's shard only
  // Pending rows (the sink thread only): bounded by buffer_rows each.
  std::vector<Alert> alerts_;
  std::vector<DailySummary> daily_;
  std::deque<MetricsRow> metrics_;  // a batch leaves from the front: no memmove of what stays
  std::string copy_buf_;
  std::string copy_sqlstate_;
  std::uint64_t copy_count_ = 0;
  // Metric rows are COPYed straight into their table (no staging, no merge: twice the rows/s) while no
  // batch has met a row already there; after a conflict the next kMergeBatches batches are merged.
  static constexpr std::uint32_t kMergeBatches = 64;
  std::uint32_t merge_batches_left_ = 0;
  // Mirrors of stats_ that any thread may read (the sink thread writes them).
  std::atomic<std::uint64_t> live_written_[kTables] = {};
  std::atomic<std::uint64_t> live_lost_[kTables] = {};
  std::atomic<std::uint64_t> live_reconnects_{0};
  std::atomic<std::uint64_t> live_failed_{0};
  std::atomic<bool> live_connected_{false};
  std::int64_t oldest_pending_ns_ = 0;    // when the first pending row of this batch arrived
  std::int64_t retry_at_ns_ = 0;          // reconnect no sooner than this
  std::int64_t backoff_ns_ = 0;
  std::int64_t stop_deadline_ns_ = 0;
  std::atomic<bool> stop_{false};         // release by request_stop: the shards' last records are queued
  std::atomic<std::uint64_t> taken_{0};   // single writer (the sink thread), read by a watchdog
  bool ended_ = false;
  PgStats stats_;
};

/// "postgresql://…", "postgres://…" or "postgresql:key=value …" → the libpq connection string; throws
/// std::invalid_argument for anything else (the message never repeats the value: it may hold a
/// password).
std::string postgres_conninfo(const std::string& sink);
/// The sink string with any password in it replaced by ***.
std::string mask_password(const std::string& sink);

}  // namespace tickforge
