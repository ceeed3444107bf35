#include "pg_schema.hpp"

#include <bit>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "record_json.hpp"  // format_utc, format_date

namespace tickforge::pg {

namespace {

constexpr Column kAlertColumns[] = {
    {"alert_id", "text NOT NULL", "text"},   {"instance", "text NOT NULL", "text"},
    {"seq", "bigint NOT NULL", "int8"},      {"ticker", "text NOT NULL", "text"},
    {"rule", "text NOT NULL", "text"},       {"direction", "text NOT NULL", "text"},
    {"event_ns", "bigint NOT NULL", "int8"}, {"event_time", "timestamptz NOT NULL", "timestamptz"},
    {"tick_seq", "bigint", "int8"},          {"feed", "integer", "int4"},
    {"price", "double precision", "float8"}, {"reference", "double precision", "float8"},
    {"value", "double precision", "float8"}, {"threshold", "double precision", "float8"},
    {"sma_short", "double precision", "float8"}, {"sma_long", "double precision", "float8"},
    {"volatility", "double precision", "float8"}, {"pct_change", "double precision", "float8"},
    {"volume", "double precision", "float8"},
};

constexpr Column kDailyColumns[] = {
    {"ticker", "text NOT NULL", "text"},        {"day", "date NOT NULL", "date"},
    {"time_zone", "text NOT NULL", "text"},     {"open", "double precision", "float8"},
    {"high", "double precision", "float8"},     {"low", "double precision", "float8"},
    {"close", "double precision", "float8"},    {"mean", "double precision", "float8"},
    {"vwap", "double precision", "float8"},     {"volume", "double precision", "float8"},
    {"ticks", "bigint NOT NULL", "int8"},       {"moves_up", "integer NOT NULL", "int4"},
    {"moves_down", "integer NOT NULL", "int4"}, {"first_time", "timestamptz", "timestamptz"},
    {"last_time", "timestamptz", "timestamptz"}, {"alerts_window_move", "integer NOT NULL", "int4"},
    {"alerts_tick_change", "integer NOT NULL", "int4"}, {"alerts_volatility", "integer NOT NULL", "int4"},
    {"alerts_sma_cross", "integer NOT NULL", "int4"},   {"alerts_volume_spike", "integer NOT NULL", "int4"},
    {"partial", "boolean NOT NULL", "bool"},    {"instance", "text NOT NULL", "text"},
};
static_assert(static_cast<int>(Rule::kCount) == 5, "one alerts_<rule> column per rule");

constexpr Column kMetricsColumns[] = {
    {"ticker", "text NOT NULL", "text"},          {"event_ns", "bigint NOT NULL", "int8"},
    {"event_time", "timestamptz NOT NULL", "timestamptz"}, {"instance", "text NOT NULL", "text"},
    {"tick_seq", "bigint", "int8"},               {"price", "double precision", "float8"},
    {"volume", "double precision", "float8"},     {"windows", "integer[]", "_int4"},
    {"sma", "double precision[]", "_float8"},     {"variance", "double precision[]", "_float8"},
    {"stddev", "double precision[]", "_float8"},  {"ema", "double precision[]", "_float8"},
    {"pct_change", "double precision", "float8"}, {"volatility", "double precision", "float8"},
    {"window_high", "double precision", "float8"}, {"window_low", "double precision", "float8"},
    {"move_up_pct", "double precision", "float8"}, {"move_down_pct", "double precision", "float8"},
    {"vwap", "double precision", "float8"},       {"cum_volume", "double precision", "float8"},
    {"volume_mean", "double precision", "float8"},
};

const TableDef kTables[] = {
    {"alerts", kAlertColumns, "ticker, rule, direction, event_ns", "inserted_at timestamptz NOT NULL DEFAULT now()",
     "ON CONFLICT (ticker, rule, direction, event_ns) DO NOTHING"},
    {"daily_summaries", kDailyColumns, "ticker, day", "updated_at timestamptz NOT NULL DEFAULT now()", nullptr},
    {"metrics", kMetricsColumns, "ticker, event_ns", "", "ON CONFLICT (ticker, event_ns) DO NOTHING"},
};

// ---- binary ----

void be16(std::string& o, std::uint16_t v) {
  const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  o.append(b, 2);
}
void be32(std::string& o, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
  o.append(b, 4);
}
void be64(std::string& o, std::uint64_t v) {
  be32(o, static_cast<std::uint32_t>(v >> 32));
  be32(o, static_cast<std::uint32_t>(v));
}

constexpr std::int64_t kPgEpochUs = 946'684'800'000'000;  // 2000-01-01T00:00:00Z in µs since 1970
constexpr std::int32_t kPgEpochDays = 10'957;            // 2000-01-01 in days since 1970

std::int64_t micros(std::int64_t ns) noexcept {  // floor: both formats cut to the same microsecond
  return ns / 1000 - (ns % 1000 < 0 ? 1 : 0);
}

struct Binary {
  std::string& o;
  void row(std::uint16_t fields) { be16(o, fields); }
  void end_row() {}
  void null() { be32(o, 0xFFFFFFFFu); }
  void text(std::string_view s) {
    be32(o, static_cast<std::uint32_t>(s.size()));
    o.append(s);
  }
  void int8(std::int64_t v) {
    be32(o, 8);
    be64(o, static_cast<std::uint64_t>(v));
  }
  void int4(std::int64_t v) {
    be32(o, 4);
    be32(o, static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
  }
  void float8(double v) {
    if (!std::isfinite(v)) {
      null();
      return;
    }
    be32(o, 8);
    be64(o, std::bit_cast<std::uint64_t>(v));
  }
  void boolean(bool v) {
    be32(o, 1);
    o.push_back(v ? 1 : 0);
  }
  void timestamptz(std::int64_t ns) { int8(micros(ns) - kPgEpochUs); }
  void date(std::int32_t day) { int4(day - kPgEpochDays); }
  void float8_array(const double* v, std::uint32_t n) {
    std::uint32_t nulls = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      nulls += std::isfinite(v[i]) ? 0 : 1;
    }
    be32(o, 20 + n * 12 - nulls * 8);
    be32(o, 1);                 // dimensions
    be32(o, nulls != 0 ? 1 : 0);  // has nulls
    be32(o, 701);               // element type: float8
    be32(o, n);                 // length
    be32(o, 1);                 // lower bound
    for (std::uint32_t i = 0; i < n; ++i) {
      float8(v[i]);
    }
  }
  void int4_array(const std::uint32_t* v, std::uint32_t n) {
    be32(o, 20 + n * 8);
    be32(o, 1);
    be32(o, 0);
    be32(o, 23);  // element type: int4
    be32(o, n);
    be32(o, 1);
    for (std::uint32_t i = 0; i < n; ++i) {
      int4(v[i]);
    }
  }
};

// ---- text ----

struct Text {
  std::string& o;
  bool first = true;
  void sep() {
    if (!first) {
      o.push_back('\t');
    }
    first = false;
  }
  void row(std::uint16_t) { first = true; }
  void end_row() { o.push_back('\n'); }
  void null() {
    sep();
    o.append("\\N");
  }
  void text(std::string_view s) {
    sep();
    for (const char c : s) {
      switch (c) {
        case '\\': o.append("\\\\"); break;
        case '\t': o.append("\\t"); break;
        case '\n': o.append("\\n"); break;
        case '\r': o.append("\\r"); break;
        default: o.push_back(c);
      }
    }
  }
  void int8(std::int64_t v) {
    sep();
    fmt::format_to(std::back_inserter(o), "{}", v);
  }
  void int4(std::int64_t v) { int8(v); }
  void float8(double v) {
    if (!std::isfinite(v)) {
      null();
      return;
    }
    sep();
    fmt::format_to(std::back_inserter(o), "{}", v);
  }
  void boolean(bool v) {
    sep();
    o.push_back(v ? 't' : 'f');
  }
  void timestamptz(std::int64_t ns) {
    sep();
    char buf[48];
    o.append(buf, format_utc(micros(ns) * 1000, buf, sizeof(buf)));
  }
  void date(std::int32_t day) {
    sep();
    char buf[16];
    o.append(buf, format_date(day, buf, sizeof(buf)));
  }
  void float8_array(const double* v, std::uint32_t n) {
    sep();
    o.push_back('{');
    for (std::uint32_t i = 0; i < n; ++i) {
      if (i != 0) {
        o.push_back(',');
      }
      if (std::isfinite(v[i])) {
        fmt::format_to(std::back_inserter(o), "{}", v[i]);
      } else {
        o.append("NULL");
      }
    }
    o.push_back('}');
  }
  void int4_array(const std::uint32_t* v, std::uint32_t n) {
    sep();
    o.push_back('{');
    for (std::uint32_t i = 0; i < n; ++i) {
      fmt::format_to(std::back_inserter(o), "{}{}", i == 0 ? "" : ",", v[i]);
    }
    o.push_back('}');
  }
};

template <typename W>
void alert_row(W w, const Alert& a, std::string_view instance) {
  w.row(std::size(kAlertColumns));
  char id[320];
  const auto idn = fmt::format_to_n(id, sizeof(id), "{}-{}", instance.substr(0, 249), a.id).size;
  w.text(std::string_view(id, std::min(idn, sizeof(id))));
  w.text(instance);
  w.int8(static_cast<std::int64_t>(a.id));
  w.text(a.ticker);
  w.text(to_string(a.rule));
  w.text(to_string(a.direction));
  w.int8(a.event_ns);
  w.timestamptz(a.event_ns);
  w.int8(static_cast<std::int64_t>(a.tick_seq));
  w.int4(a.feed);
  for (const double v : {a.price, a.reference, a.value, a.threshold, a.sma_short, a.sma_long, a.volatility,
                         a.pct_change, a.volume}) {
    w.float8(v);
  }
  w.end_row();
}

template <typename W>
void daily_row(W w, const DailySummary& d, std::string_view instance, std::string_view zone) {
  w.row(std::size(kDailyColumns));
  w.text(d.ticker);
  w.date(d.day);
  w.text(zone);
  for (const double v : {d.open, d.high, d.low, d.close, d.mean, d.vwap, d.volume}) {
    w.float8(v);
  }
  w.int8(static_cast<std::int64_t>(d.ticks));
  w.int4(d.moves_up);
  w.int4(d.moves_down);
  w.timestamptz(d.first_ns);
  w.timestamptz(d.last_ns);
  for (const std::uint32_t n : d.alerts) {
    w.int4(n);
  }
  w.boolean(d.partial);
  w.text(instance);
  w.end_row();
}

template <typename W>
void metrics_row(W w, const MetricsRow& r, const char* ticker, std::string_view instance) {
  const TickMetrics& m = r.metrics;
  const std::uint32_t n = std::min<std::uint32_t>(m.n_windows, kMaxSmaWindows);
  w.row(std::size(kMetricsColumns));
  w.text(ticker);
  w.int8(r.tick.event_ns);
  w.timestamptz(r.tick.event_ns);
  w.text(instance);
  w.int8(static_cast<std::int64_t>(r.tick.seq));
  w.float8(r.tick.price);
  w.float8(r.tick.volume);
  w.int4_array(m.windows, n);
  for (const double* arr : {m.sma, m.variance, m.stddev, m.ema}) {
    w.float8_array(arr, n);
  }
  for (const double v : {m.pct_change, m.volatility, m.window_high, m.window_low, m.move_up_pct, m.move_down_pct,
                         m.vwap, m.cum_volume, m.volume_mean}) {
    w.float8(v);
  }
  w.end_row();
}

}  // namespace

const TableDef& table(Table t) noexcept { return kTables[static_cast<std::size_t>(t)]; }

std::string column_list(const TableDef& t) {
  std::string out;
  for (const Column& c : t.columns) {
    out += out.empty() ? "" : ", ";
    out += c.name;
  }
  return out;
}

std::string schema_sql() {
  std::string out;
  for (const TableDef& t : kTables) {
    out += fmt::format("CREATE TABLE IF NOT EXISTS {} (\n", t.name);
    for (const Column& c : t.columns) {
      out += fmt::format("  {} {},\n", c.name, c.sql_type);
    }
    if (*t.extra_ddl != '\0') {
      out += fmt::format("  {},\n", t.extra_ddl);
    }
    out += fmt::format("  PRIMARY KEY ({})\n);\n", t.primary_key);
  }
  return out;
}

std::string merge_sql(const TableDef& t, std::string_view staging) {
  const std::string cols = column_list(t);
  if (t.on_conflict != nullptr) {
    return fmt::format("INSERT INTO {0} ({1}) SELECT {1} FROM {2} {3}", t.name, cols, staging, t.on_conflict);
  }
  // Daily summaries: one row per (ticker, day) from the batch (a complete day before a partial one,
  // then the fullest), and a stored partial day is replaced by a complete one or by a fuller partial
  // one; a stored complete day is never changed, so a replay changes nothing.
  std::string set;
  for (const Column& c : t.columns) {
    if (std::strcmp(c.name, "ticker") != 0 && std::strcmp(c.name, "day") != 0) {
      set += fmt::format("{} = EXCLUDED.{}, ", c.name, c.name);
    }
  }
  return fmt::format(
      "INSERT INTO {0} ({1}) SELECT DISTINCT ON (ticker, day) {1} FROM {2} ORDER BY ticker, day, partial, ticks DESC "
      "ON CONFLICT (ticker, day) DO UPDATE SET {3}updated_at = now() "
      "WHERE {0}.partial AND (NOT EXCLUDED.partial OR EXCLUDED.ticks > {0}.ticks)",
      t.name, cols, staging, set);
}

void encode_alert(std::string& out, CopyFormat f, const Alert& a, std::string_view instance) {
  f == CopyFormat::kBinary ? alert_row(Binary{out}, a, instance) : alert_row(Text{out}, a, instance);
}

void encode_daily(std::string& out, CopyFormat f, const DailySummary& d, std::string_view instance,
                  std::string_view zone) {
  f == CopyFormat::kBinary ? daily_row(Binary{out}, d, instance, zone) : daily_row(Text{out}, d, instance, zone);
}

void encode_metrics(std::string& out, CopyFormat f, const MetricsRow& m, const char* ticker, std::string_view instance) {
  f == CopyFormat::kBinary ? metrics_row(Binary{out}, m, ticker, instance) : metrics_row(Text{out}, m, ticker, instance);
}

void begin_copy(std::string& out, CopyFormat f) {
  if (f == CopyFormat::kBinary) {
    out.append("PGCOPY\n\377\r\n\0", 11);
    be32(out, 0);  // flags
    be32(out, 0);  // header extension length
  }
}

void end_copy(std::string& out, CopyFormat f) {
  if (f == CopyFormat::kBinary) {
    be16(out, 0xFFFF);
  }
}

}  // namespace tickforge::pg
