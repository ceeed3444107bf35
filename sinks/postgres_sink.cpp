#include "postgres_sink.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "clock.hpp"

namespace tickforge {

namespace {

constexpr std::int64_t kMinBackoffNs = 100'000'000;
constexpr std::int64_t kMaxBackoffNs = 5'000'000'000;
constexpr std::size_t kCopyChunk = 1 << 18;  // bytes handed to libpq at a time

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

std::string trim_message(const char* m) {
  std::string s = m != nullptr ? m : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  for (char& c : s) {
    c = c == '\n' ? ' ' : c;
  }
  return s;
}

// One result, cleared on every path.
struct Result {
  PGresult* r;
  explicit Result(PGresult* p) : r(p) {}
  ~Result() { PQclear(r); }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  [[nodiscard]] ExecStatusType status() const { return PQresultStatus(r); }
};

std::string describe_server(PGconn* c) {
  if (c == nullptr) {
    return "the server";
  }
  const char* host = PQhost(c);
  const char* port = PQport(c);
  const char* db = PQdb(c);
  const char* user = PQuser(c);
  return fmt::format("{}@{}:{}/{}", user != nullptr ? user : "?", host != nullptr && *host != '\0' ? host : "localhost",
                     port != nullptr && *port != '\0' ? port : "5432", db != nullptr ? db : "?");
}

}  // namespace

std::string postgres_conninfo(const std::string& sink) {
  if (starts_with(sink, "postgresql://") || starts_with(sink, "postgres://")) {
    return sink;  // a libpq URI as it is
  }
  if (starts_with(sink, "postgresql:")) {
    return sink.substr(std::strlen("postgresql:"));  // key=value pairs
  }
  throw std::invalid_argument(
      "unknown sink: give postgresql://user@host:port/db (a libpq URI) or postgresql:host=… dbname=… (key=value)");
}

std::string mask_password(const std::string& sink) {
  std::string s = sink;
  // URI: scheme://user:PASSWORD@host
  if (const auto scheme = s.find("://"); scheme != std::string::npos) {
    const auto at = s.find('@', scheme + 3);
    const auto colon = s.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      s.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // key=value: password=… (to the next space), and ?password=… / &password=… in a URI
  for (const char* key : {"password="}) {
    for (std::size_t p = s.find(key); p != std::string::npos; p = s.find(key, p + 1)) {
      const std::size_t v = p + std::strlen(key);
      std::size_t end = s.find_first_of(" &", v);
      end = end == std::string::npos ? s.size() : end;
      s.replace(v, end - v, "***");
    }
  }
  return s;
}

PostgresSink::PostgresSink(const PostgresOptions& opt, ShardIndex shards, const SymbolTable& symbols)
    : opt_(opt), symbols_(symbols), shards_(shards) {
  if (!opt_.password_file.empty()) {
    std::ifstream in(opt_.password_file);
    if (!in || !std::getline(in, password_)) {
      throw std::runtime_error("PostgreSQL: cannot read the password file '" + opt_.password_file + "'");
    }
    while (!password_.empty() && (password_.back() == '\r' || password_.back() == ' ')) {
      password_.pop_back();
    }
  }
  // Our defaults first: the user's connection string (expanded from "dbname") overrides them, the
  // password file overrides it.
  connect_timeout_s_ = std::to_string(std::max<std::int64_t>(1, (opt_.connect_timeout_ns + 999'999'999) / 1'000'000'000));
  keywords_ = {"application_name", "connect_timeout", "dbname"};
  values_ = {"tickforge", connect_timeout_s_.c_str(), opt_.conninfo.c_str()};
  if (!password_.empty()) {
    keywords_.push_back("password");
    values_.push_back(password_.c_str());
  }
  keywords_.push_back(nullptr);
  values_.push_back(nullptr);

  std::string error;
  if (!connect(error)) {
    throw std::runtime_error("PostgreSQL: cannot connect to " + server_ + ": " + error);
  }
  // A constructor that throws runs no destructor: a refused table closes the connection here.
  struct CloseOnThrow {
    pg_conn*& conn;
    bool armed = true;
    ~CloseOnThrow() {
      if (armed && conn != nullptr) {
        PQfinish(conn);
        conn = nullptr;
      }
    }
  } guard{conn_};
  // Tables: created if missing, then every column tickforge writes checked by name and type.
  {
    const Result r(PQexec(conn_, pg::schema_sql().c_str()));
    if (r.status() != PGRES_COMMAND_OK) {
      throw std::runtime_error("PostgreSQL " + server_ + ": cannot create the tables: " +
                               trim_message(PQresultErrorMessage(r.r)));
    }
  }
  for (std::size_t t = 0; t < kTables; ++t) {
    const pg::TableDef& def = pg::table(static_cast<pg::Table>(t));
    const char* params[] = {def.name};
    const Result r(PQexecParams(conn_,
                                "SELECT column_name, udt_name FROM information_schema.columns "
                                "WHERE table_schema = current_schema() AND table_name = $1",
                                1, nullptr, params, nullptr, nullptr, 0));
    if (r.status() != PGRES_TUPLES_OK) {
      throw std::runtime_error("PostgreSQL " + server_ + ": cannot read the columns of " + def.name + ": " +
                               trim_message(PQresultErrorMessage(r.r)));
    }
    std::map<std::string, std::string> have;
    for (int i = 0; i < PQntuples(r.r); ++i) {
      have[PQgetvalue(r.r, i, 0)] = PQgetvalue(r.r, i, 1);
    }
    for (const pg::Column& c : def.columns) {
      const auto it = have.find(c.name);
      if (it == have.end()) {
        throw std::runtime_error(fmt::format(
            "PostgreSQL {}: table {} exists but has no column {} (it was not made by this version of tickforge: "
            "drop or rename it, or give the sink another schema, e.g. options=-csearch_path=tickforge)",
            server_, def.name, c.name));
      }
      if (it->second != c.udt) {
        throw std::runtime_error(fmt::format("PostgreSQL {}: table {} column {} is of type {}, expected {} ({})",
                                             server_, def.name, c.name, it->second, c.udt, c.sql_type));
      }
    }
  }
  prepare_session();
  guard.armed = false;
  live_connected_.store(true, std::memory_order_relaxed);

  alert_relay_ = std::make_unique<RecordRelay<Alert>>(shards, opt_.queue, RelayFull::kDrop);
  daily_relay_ = std::make_unique<RecordRelay<DailySummary>>(shards, opt_.queue, RelayFull::kDrop);
  if (opt_.metrics) {
    metrics_relay_ = std::make_unique<RecordRelay<MetricsRow>>(shards, opt_.queue, RelayFull::kDrop);
    last_snapshot_ns_.assign(opt_.max_tickers, std::numeric_limits<std::int64_t>::min());
  }
  copy_buf_.reserve(kCopyChunk + 8192);
}

PostgresSink::~PostgresSink() {
  if (conn_ != nullptr) {
    PQfinish(conn_);
  }
}

std::int64_t PostgresSink::now() const noexcept { return now_ns(); }

bool PostgresSink::connect(std::string& error) {
  if (conn_ != nullptr) {
    PQfinish(conn_);
  }
  conn_ = PQconnectdbParams(keywords_.data(), values_.data(), /*expand_dbname=*/1);
  if (server_.empty()) {  // named once, by the constructor's connect (other threads may read it after)
    server_ = describe_server(conn_);
  }
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    error = conn_ != nullptr ? trim_message(PQerrorMessage(conn_)) : "out of memory";
    if (conn_ != nullptr) {
      PQfinish(conn_);
      conn_ = nullptr;
    }
    return false;
  }
  // Notices (e.g. "relation already exists, skipping") are not for the user's terminal.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  return true;
}

void PostgresSink::prepare_session() {
  auto exec = [this](const std::string& sql, const char* what) {
    const Result r(PQexec(conn_, sql.c_str()));
    if (r.status() != PGRES_COMMAND_OK) {
      const std::string why = trim_message(PQresultErrorMessage(r.r));
      Result(PQexec(conn_, "ROLLBACK"));
      throw std::runtime_error("PostgreSQL " + server_ + ": " + what + ": " + why);
    }
  };
  // Staging tables live as long as the session (a reconnect makes them again); one PQexec is one
  // implicit transaction, so these go alone.
  std::string sql = "SET statement_timeout = '60s';";
  for (std::size_t t = 0; t < kTables; ++t) {
    const pg::TableDef& def = pg::table(static_cast<pg::Table>(t));
    sql += fmt::format("CREATE TEMP TABLE IF NOT EXISTS tf_stage_{0} (LIKE {0} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;", def.name);
  }
  exec(sql, "cannot create the staging tables");
  // Every merge statement once against the empty staging tables: a table without the expected primary
  // key fails here, at start-up, with the server's reason.
  sql = "BEGIN;";
  for (std::size_t t = 0; t < kTables; ++t) {
    const pg::TableDef& def = pg::table(static_cast<pg::Table>(t));
    sql += pg::merge_sql(def, std::string("tf_stage_") + def.name) + ";";
  }
  sql += "ROLLBACK;";
  exec(sql, "the tables cannot take tickforge's rows");
}

// ---- engine callbacks (shard threads) ------------------------------------------------------------------

void PostgresSink::on_alert(void* user, const Alert* a) noexcept {
  auto* self = static_cast<PostgresSink*>(user);
  self->alert_relay_->push(self->shards_.shard_of(a->symbol), *a);
}

void PostgresSink::on_daily(void* user, const DailySummary* d) noexcept {
  auto* self = static_cast<PostgresSink*>(user);
  self->daily_relay_->push(self->shards_.shard_of(d->symbol), *d);
}

void PostgresSink::on_update(void* user, const Tick* t, const TickMetrics* m) noexcept {
  auto* self = static_cast<PostgresSink*>(user);
  if (self->metrics_relay_ == nullptr || t->symbol >= self->last_snapshot_ns_.size()) [[unlikely]] {
    return;
  }
  // As the Kafka metrics topic: at most one snapshot per ticker per interval of event time (only this
  // symbol's shard reads or writes its slot; t − interval never overflows).
  std::int64_t& last = self->last_snapshot_ns_[t->symbol];
  if (time_minus(t->event_ns, self->opt_.metrics_interval_ns) < last) {
    return;
  }
  last = t->event_ns;
  self->metrics_relay_->push(self->shards_.shard_of(t->symbol), MetricsRow{*t, *m});
}

// ---- the sink thread ------------------------------------------------------------------------------------

std::size_t PostgresSink::pending(pg::Table t) const noexcept {
  switch (t) {
    case pg::Table::kAlerts: return alerts_.size();
    case pg::Table::kDailySummaries: return daily_.size();
    default: return metrics_.size();
  }
}

void PostgresSink::drain_relays() noexcept {
  const std::size_t per_ring_cap = std::max<std::size_t>(1, opt_.buffer_rows / shards_.shards());
  auto room = [&](std::size_t have) -> std::size_t {
    return have >= opt_.buffer_rows ? 0 : std::min<std::size_t>(per_ring_cap, opt_.buffer_rows - have);
  };
  const std::size_t before = alerts_.size() + daily_.size() + metrics_.size();
  // The buffers grow on this thread only (never the engine's), bounded by buffer_rows.
  if (const std::size_t n = room(alerts_.size()); n != 0) {
    alert_relay_->drain([this](const Alert& a) { alerts_.push_back(a); }, n);
  }
  if (const std::size_t n = room(daily_.size()); n != 0) {
    daily_relay_->drain([this](const DailySummary& d) { daily_.push_back(d); }, n);
  }
  if (metrics_relay_) {
    if (const std::size_t n = room(metrics_.size()); n != 0) {
      metrics_relay_->drain([this](const MetricsRow& m) { metrics_.push_back(m); }, n);
    }
  }
  const std::size_t after = alerts_.size() + daily_.size() + metrics_.size();
  if (before == 0 && after != 0) {
    oldest_pending_ns_ = now();
  }
}

void PostgresSink::encode(pg::Table t, std::size_t i) {
  switch (t) {
    case pg::Table::kAlerts:
      pg::encode_alert(copy_buf_, opt_.copy, alerts_[i], opt_.instance);
      break;
    case pg::Table::kDailySummaries:
      pg::encode_daily(copy_buf_, opt_.copy, daily_[i], opt_.instance, opt_.time_zone);
      break;
    default:
      pg::encode_metrics(copy_buf_, opt_.copy, metrics_[i], symbols_.name(metrics_[i].tick.symbol), opt_.instance);
      break;
  }
}

bool PostgresSink::exec_ok(const char* sql, std::string& error) {
  const Result r(PQexec(conn_, sql));
  if (r.status() != PGRES_COMMAND_OK) {
    error = trim_message(PQresultErrorMessage(r.r));
    return false;
  }
  return true;
}

bool PostgresSink::copy_table(pg::Table t, std::size_t rows, bool direct, std::string& error) {
  const pg::TableDef& def = pg::table(t);
  const std::string sql = fmt::format("COPY {}{} ({}) FROM STDIN (FORMAT {})", direct ? "" : "tf_stage_", def.name,
                                      pg::column_list(def), opt_.copy == pg::CopyFormat::kBinary ? "binary" : "text");
  copy_sqlstate_.clear();
  copy_count_ = 0;
  {
    const Result r(PQexec(conn_, sql.c_str()));
    if (r.status() != PGRES_COPY_IN) {
      error = trim_message(PQresultErrorMessage(r.r));
      return false;
    }
  }
  copy_buf_.clear();
  pg::begin_copy(copy_buf_, opt_.copy);
  bool ok = true;
  for (std::size_t i = 0; i < rows && ok; ++i) {
    encode(t, i);
    if (copy_buf_.size() >= kCopyChunk) {
      ok = PQputCopyData(conn_, copy_buf_.data(), static_cast<int>(copy_buf_.size())) == 1;
      copy_buf_.clear();
    }
  }
  pg::end_copy(copy_buf_, opt_.copy);
  ok = ok && PQputCopyData(conn_, copy_buf_.data(), static_cast<int>(copy_buf_.size())) == 1;
  copy_buf_.clear();
  if (PQputCopyEnd(conn_, ok ? nullptr : "tickforge: the copy was cut short") != 1) {
    ok = false;
  }
  bool result_ok = true;
  while (PGresult* res = PQgetResult(conn_)) {
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      result_ok = false;
      error = trim_message(PQresultErrorMessage(res));
      const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
      copy_sqlstate_ = state != nullptr ? state : "";
    } else {
      copy_count_ = std::strtoull(PQcmdTuples(res), nullptr, 10);
    }
    PQclear(res);
  }
  if (!ok && error.empty()) {
    error = trim_message(PQerrorMessage(conn_));
  }
  return ok && result_ok;
}

void PostgresSink::forget_batch(std::size_t alerts, std::size_t daily, std::size_t metrics) {
  alerts_.erase(alerts_.begin(), alerts_.begin() + static_cast<std::ptrdiff_t>(alerts));
  daily_.erase(daily_.begin(), daily_.begin() + static_cast<std::ptrdiff_t>(daily));
  metrics_.erase(metrics_.begin(), metrics_.begin() + static_cast<std::ptrdiff_t>(metrics));
  oldest_pending_ns_ = now();
}

bool PostgresSink::write_batch() {
  std::size_t rows[kTables];
  for (std::size_t t = 0; t < kTables; ++t) {
    rows[t] = std::min<std::size_t>(pending(static_cast<pg::Table>(t)), opt_.batch_rows);
  }
  std::uint64_t merged[kTables] = {0, 0, 0};
  std::string error;
  bool ok = true;
  const std::int64_t started = now();
  ok = exec_ok("BEGIN", error);
  for (std::size_t t = 0; t < kTables && ok; ++t) {
    if (rows[t] == 0) {
      continue;
    }
    const auto table = static_cast<pg::Table>(t);
    const pg::TableDef& def = pg::table(table);
    if (table == pg::Table::kMetrics && merge_batches_left_ == 0) {
      // Straight into the table under a savepoint. A row already there (a replay, or the same ticker and
      // event time twice) fails the COPY with unique_violation: back to the savepoint and merge below,
      // which skips such rows as ON CONFLICT DO NOTHING does.
      ok = exec_ok("SAVEPOINT tf_direct", error);
      if (ok && copy_table(table, rows[t], /*direct=*/true, error)) {
        merged[t] = copy_count_;
        ok = exec_ok("RELEASE SAVEPOINT tf_direct", error);
        continue;
      }
      if (!ok || copy_sqlstate_ != "23505" || !exec_ok("ROLLBACK TO SAVEPOINT tf_direct", error)) {
        ok = false;
        break;
      }
      error.clear();
      ++stats_.direct_conflicts;
      merge_batches_left_ = kMergeBatches;
    } else if (table == pg::Table::kMetrics) {
      --merge_batches_left_;
    }
    ok = copy_table(table, rows[t], /*direct=*/false, error);
    if (ok) {
      const Result r(PQexec(conn_, pg::merge_sql(def, std::string("tf_stage_") + def.name).c_str()));
      ok = r.status() == PGRES_COMMAND_OK;
      if (ok) {
        merged[t] = std::strtoull(PQcmdTuples(r.r), nullptr, 10);
      } else {
        error = trim_message(PQresultErrorMessage(r.r));
      }
    }
  }
  if (ok) {
    const Result r(PQexec(conn_, "COMMIT"));
    ok = r.status() == PGRES_COMMAND_OK;
    if (!ok) {
      error = trim_message(PQresultErrorMessage(r.r));
    }
  }
  if (ok) {
    ++stats_.transactions;
    stats_.write_seconds += static_cast<double>(now() - started) / 1e9;
    for (std::size_t t = 0; t < kTables; ++t) {
      stats_.tables[t].copied += rows[t];
      stats_.tables[t].written += merged[t];
      bump(live_written_[t], merged[t]);
    }
    forget_batch(rows[0], rows[1], rows[2]);
    backoff_ns_ = 0;
    taken_.store(taken_.load(std::memory_order_relaxed) + rows[0] + rows[1] + rows[2], std::memory_order_relaxed);
    return true;
  }
  stats_.last_error = error;
  ++stats_.failed_transactions;
  bump(live_failed_, 1);
  if (PQstatus(conn_) == CONNECTION_OK) {
    // The server refused the rows with the connection intact: retrying cannot help. Drop the batch,
    // counted as lost, rather than retry it forever.
    Result(PQexec(conn_, "ROLLBACK"));
    ++stats_.rejected_batches;
    for (std::size_t t = 0; t < kTables; ++t) {
      stats_.tables[t].lost += rows[t];
      bump(live_lost_[t], rows[t]);
    }
    forget_batch(rows[0], rows[1], rows[2]);
    return true;
  }
  // The connection is gone: keep the batch, reconnect later.
  PQfinish(conn_);
  conn_ = nullptr;
  backoff_ns_ = kMinBackoffNs;
  retry_at_ns_ = now() + backoff_ns_;
  return false;
}

std::size_t PostgresSink::do_work() noexcept {
  live_connected_.store(conn_ != nullptr, std::memory_order_relaxed);  // as of the last cycle
  // Acquire: once the stop request is seen, every record of the stopped shards is in the relays.
  const bool stopping = stop_.load(std::memory_order_acquire);
  const std::size_t before = alerts_.size() + daily_.size() + metrics_.size();
  drain_relays();
  const std::size_t total = alerts_.size() + daily_.size() + metrics_.size();
  const std::size_t drained = total - before;
  taken_.store(taken_.load(std::memory_order_relaxed) + drained, std::memory_order_relaxed);
  const std::int64_t t = now();
  if (stopping && stop_deadline_ns_ == 0) {
    stop_deadline_ns_ = t + opt_.flush_timeout_ns;
  }
  if (total == 0) {
    ended_ = stopping && drained == 0;
    return drained;
  }
  const bool full_batch = alerts_.size() >= opt_.batch_rows || daily_.size() >= opt_.batch_rows ||
                          metrics_.size() >= opt_.batch_rows;
  if (!stopping && !full_batch && t - oldest_pending_ns_ < opt_.flush_interval_ns) {
    return drained;
  }
  try {
    if (conn_ == nullptr) {
      if (stopping && t >= stop_deadline_ns_) {
        // Out of time: what is still pending is lost, by table.
        for (std::size_t k = 0; k < kTables; ++k) {
          stats_.tables[k].lost += pending(static_cast<pg::Table>(k));
          bump(live_lost_[k], pending(static_cast<pg::Table>(k)));
        }
        alerts_.clear();
        daily_.clear();
        metrics_.clear();
        ended_ = true;
        return drained;
      }
      if (t < retry_at_ns_) {
        return drained;
      }
      std::string error;
      if (!connect(error)) {
        stats_.last_error = error;
        backoff_ns_ = std::min(kMaxBackoffNs, std::max(kMinBackoffNs, backoff_ns_ * 2));
        retry_at_ns_ = now() + backoff_ns_;
        return drained;
      }
      prepare_session();
      ++stats_.reconnects;
      bump(live_reconnects_, 1);
    }
    return drained + (write_batch() ? 1 : 0);
  } catch (const std::exception& e) {  // prepare_session after a reconnect; std::bad_alloc
    stats_.last_error = e.what();
    if (conn_ != nullptr) {
      PQfinish(conn_);
      conn_ = nullptr;
    }
    backoff_ns_ = std::min(kMaxBackoffNs, std::max(kMinBackoffNs, backoff_ns_ * 2));
    retry_at_ns_ = now() + backoff_ns_;
    return drained;
  }
}

void PostgresSink::on_close() noexcept {
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
}

PgLive PostgresSink::live() const noexcept {
  PgLive l;
  for (std::size_t t = 0; t < kTables; ++t) {
    l.written[t] = live_written_[t].load(std::memory_order_relaxed);
    l.lost[t] = live_lost_[t].load(std::memory_order_relaxed);
  }
  l.dropped_full[0] = alert_relay_ ? alert_relay_->dropped() : 0;
  l.dropped_full[1] = daily_relay_ ? daily_relay_->dropped() : 0;
  l.dropped_full[2] = metrics_relay_ ? metrics_relay_->dropped() : 0;
  l.reconnects = live_reconnects_.load(std::memory_order_relaxed);
  l.failed_transactions = live_failed_.load(std::memory_order_relaxed);
  l.connected = live_connected_.load(std::memory_order_relaxed);
  return l;
}

PgStats PostgresSink::stats() const {
  PgStats s = stats_;
  s.server = server_;
  s.tables[0].queued = s.tables[0].copied + s.tables[0].lost + alerts_.size();
  s.tables[1].queued = s.tables[1].copied + s.tables[1].lost + daily_.size();
  s.tables[2].queued = s.tables[2].copied + s.tables[2].lost + metrics_.size();
  s.tables[0].dropped_full = alert_relay_->dropped();
  s.tables[1].dropped_full = daily_relay_->dropped();
  s.tables[2].dropped_full = metrics_relay_ ? metrics_relay_->dropped() : 0;
  return s;
}

}  // namespace tickforge
