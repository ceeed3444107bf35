// tickforge — the PostgreSQL tables and their COPY encodings (binary and text).
//
// Private header. The three tables are described once here (tables()): the DDL the sink runs and
// docs/postgresql.md shows (`tickforge sql-schema` prints it), the column check at start-up, the COPY
// column lists and the idempotent INSERT … ON CONFLICT from the staging table all come from the same
// rows. Encoders append one row to a caller's buffer (no allocation once the buffer has grown to a
// batch chunk), in either COPY format:
//   binary  PostgreSQL's COPY BINARY: network-order integers and IEEE doubles, timestamptz as µs since
//           2000-01-01, date as days since 2000-01-01, float8[]/int4[] as one-dimensional arrays;
//   text    tab-separated text, \N for NULL, doubles in shortest round-trip form.
// NaN ("not defined yet") is NULL in both.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <tickforge/records.hpp>
#include <tickforge/tick.hpp>

#include "record_relay.hpp"  // MetricsRow

namespace tickforge::pg {

enum class CopyFormat : std::uint8_t { kBinary, kText };

struct Column {
  const char* name;
  const char* sql_type;  ///< as written in the DDL
  const char* udt;       ///< as information_schema.columns.udt_name reports it (the check at start-up)
};

enum class Table : std::uint8_t { kAlerts, kDailySummaries, kMetrics, kCount };

struct TableDef {
  const char* name;
  std::span<const Column> columns;  ///< the columns tickforge writes, in COPY order
  const char* primary_key;          ///< "ticker, rule, direction, event_ns"
  const char* extra_ddl;            ///< further columns only the database fills ("" if none)
  const char* on_conflict;          ///< what a replayed row does
};

/// The three tables: alerts, daily_summaries, metrics.
[[nodiscard]] const TableDef& table(Table t) noexcept;
/// CREATE TABLE IF NOT EXISTS … for every table, as docs/postgresql.md shows it.
[[nodiscard]] std::string schema_sql();
/// "ticker, rule, …" (the COPY and INSERT column list).
[[nodiscard]] std::string column_list(const TableDef& t);
/// INSERT INTO <table> (cols) SELECT cols FROM <staging> … ON CONFLICT …: the staging table's rows into
/// the table, duplicates of earlier runs skipped (daily summaries: a partial day replaced by a later,
/// fuller or complete one).
[[nodiscard]] std::string merge_sql(const TableDef& t, std::string_view staging);

/// Appends a row to `out` in the given format. `instance` names the engine instance; `zone` the daily
/// summaries' time zone; `ticker` the metric row's ticker.
void encode_alert(std::string& out, CopyFormat f, const Alert& a, std::string_view instance);
void encode_daily(std::string& out, CopyFormat f, const DailySummary& d, std::string_view instance, std::string_view zone);
void encode_metrics(std::string& out, CopyFormat f, const MetricsRow& m, const char* ticker, std::string_view instance);
/// The binary format's 19-byte header and 2-byte trailer (nothing for text).
void begin_copy(std::string& out, CopyFormat f);
void end_copy(std::string& out, CopyFormat f);

}  // namespace tickforge::pg
