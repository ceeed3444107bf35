// tickforge — the JSON forms of what tickforge writes: alerts (Kafka alerts topic and --alerts-out),
// metric snapshots (Kafka metrics topic) and ticks (tickforge produce). Schemas: docs/kafka.md.
//
// Private header. Every function formats into a caller-provided buffer, allocates nothing and never
// throws; each returns the bytes written, a trailing '\n' not included unless stated.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <fmt/compile.h>
#include <fmt/format.h>

#include <tickforge/records.hpp>
#include <tickforge/tick.hpp>

namespace tickforge {

/// A double in shortest round-trip form; NaN/inf as `null_text`.
template <typename It>
It put_number(It out, double v, const char* null_text) {
  if (!std::isfinite(v)) {
    return fmt::format_to(out, "{}", null_text);
  }
  return fmt::format_to(out, FMT_COMPILE("{}"), v);  // compiled: no format-string parsing per number
}

/// "2024-01-02T14:30:00.123456789Z" (fraction trimmed of trailing zeros, omitted when whole).
inline constexpr std::size_t kUtcTextMax = 30;  ///< its longest: years 0000..9999 with 9 fraction digits
std::size_t format_utc(std::int64_t ns, char* out, std::size_t cap) noexcept;

inline constexpr std::size_t kAlertJsonCapacity = 1536;    ///< enough for any alert and a 249-byte instance
inline constexpr std::size_t kMetricsJsonCapacity = 4096;  ///< enough for any snapshot (8 windows)

/// {"schema":1,"type":"alert","alert_id":"<instance>-<id>","instance":…,"seq":id,…}. The alert id is
/// unique across runs and shards: consumers de-duplicate on it.
std::size_t format_alert_json(const Alert& a, std::string_view instance, char* out, std::size_t cap) noexcept;

/// {"schema":1,"type":"metrics","instance":…,"ticker":…,"event_time":…,"windows":[…],"sma":[…],…};
/// NaN (not defined yet) is null.
std::size_t format_metrics_json(const Tick& t, const TickMetrics& m, const char* ticker, std::string_view instance,
                                char* out, std::size_t cap) noexcept;

inline constexpr std::size_t kDailyCapacity = 2048;  ///< enough for any daily summary, CSV or JSON

/// "2014-06-05": a day number (days since 1970-01-01) as a date.
std::size_t format_date(std::int32_t day, char* out, std::size_t cap) noexcept;

/// The CSV header of the daily summaries (with '\n'), and one row (with '\n'):
/// ticker,day,open,high,low,close,mean,vwap,volume,ticks,moves_up,moves_down,first_time,last_time,partial,
/// alerts_window_move,alerts_tick_change,alerts_volatility,alerts_sma_cross,alerts_volume_spike
std::string_view daily_csv_header() noexcept;
std::size_t format_daily_csv(const DailySummary& d, char* out, std::size_t cap) noexcept;
/// {"schema":1,"type":"daily","instance":…,"ticker":…,"day":"2014-06-05","time_zone":…,"open":…,…,
/// "alerts":{"window_move":0,…},"partial":false}. cap ≥ kDailyCapacity.
std::size_t format_daily_json(const DailySummary& d, std::string_view instance, std::string_view time_zone, char* out,
                              std::size_t cap) noexcept;

/// {"ticker":"AAPL","price":220.78,"timestamp":"2024-12-09T23:09:22.001Z","volume":100}: the tick
/// format the Kafka feed reads (and the seeds' producers write, with a fraction and a Z).
std::size_t format_tick_json(const char* ticker, double price, double volume, std::int64_t event_ns, char* out,
                             std::size_t cap) noexcept;

}  // namespace tickforge
