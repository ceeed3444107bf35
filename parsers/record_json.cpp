#include "record_json.hpp"

#include <algorithm>

#include <cmath>
#include <initializer_list>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace tickforge {

namespace {

// Days since 1970-01-01 → civil date (Howard Hinnant's civil_from_days).
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

// ,"name":value for each field; NaN/inf as null.
char* put_fields(char* p, std::initializer_list<std::pair<const char*, double>> fields) noexcept {
  for (const auto& [name, v] : fields) {
    p = fmt::format_to(p, ",\"{}\":", name);
    p = put_number(p, v, "null");
  }
  return p;
}

}  // namespace

namespace {
char* put_digits(char* p, unsigned v, int n) noexcept {  // v in exactly n digits, zero-padded
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + n;
}
}  // namespace

std::size_t format_utc(std::int64_t ns, char* out, std::size_t cap) noexcept {
  std::int64_t secs = ns / kNsPerSecond;
  std::int64_t frac = ns % kNsPerSecond;
  if (frac < 0) {
    frac += kNsPerSecond;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(days, y, m, d);
  if (y < 0 || y > 9999 || cap < kUtcTextMax) [[unlikely]] {  // outside any event time: the general path
    auto res = fmt::format_to_n(out, cap, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, sod / 3600, sod / 60 % 60,
                                sod % 60);
    char* p = res.out;
    if (frac != 0) {
      char digits[10];
      fmt::format_to_n(digits, sizeof(digits), "{:09}", frac);
      int len = 9;
      while (digits[len - 1] == '0') {
        --len;
      }
      p = fmt::format_to_n(p, cap - static_cast<std::size_t>(p - out), ".{}", std::string_view(digits, len)).out;
    }
    return static_cast<std::size_t>(fmt::format_to_n(p, cap - static_cast<std::size_t>(p - out), "Z").out - out);
  }
  // Digits by hand: a metrics file formats one of these per row (fmt's padded fields cost ~10× more).
  char* p = put_digits(out, static_cast<unsigned>(y), 4);
  *p++ = '-';
  p = put_digits(p, m, 2);
  *p++ = '-';
  p = put_digits(p, d, 2);
  *p++ = 'T';
  p = put_digits(p, static_cast<unsigned>(sod / 3600), 2);
  *p++ = ':';
  p = put_digits(p, static_cast<unsigned>(sod / 60 % 60), 2);
  *p++ = ':';
  p = put_digits(p, static_cast<unsigned>(sod % 60), 2);
  if (frac != 0) {
    *p++ = '.';
    put_digits(p, static_cast<unsigned>(frac), 9);
    int len = 9;
    while (p[len - 1] == '0') {
      --len;
    }
    p += len;
  }
  *p++ = 'Z';
  return static_cast<std::size_t>(p - out);
}

std::size_t format_alert_json(const Alert& a, std::string_view instance, char* out, std::size_t cap) noexcept {
  char when[40];
  const std::size_t wn = format_utc(a.event_ns, when, sizeof(when));
  auto it = fmt::format_to_n(out, cap,
                             "{{\"schema\":1,\"type\":\"alert\",\"alert_id\":\"{}-{}\",\"instance\":\"{}\",\"seq\":{},"
                             "\"rule\":\"{}\",\"direction\":\"{}\",\"ticker\":\"{}\",\"event_time\":\"{}\","
                             "\"event_ns\":{},\"tick_seq\":{},\"feed\":{}",
                             instance, a.id, instance, a.id, to_string(a.rule), to_string(a.direction), a.ticker,
                             std::string_view(when, wn), a.event_ns, a.tick_seq, a.feed);
  // Every field below is bounded (≤ 40 bytes), so cap ≥ kAlertJsonCapacity cannot overflow.
  char* p = out + std::min(it.size, cap);
  p = put_fields(p, {{"price", a.price},
                     {"reference", a.reference},
                     {"value", a.value},
                     {"threshold", a.threshold},
                     {"sma_short", a.sma_short},
                     {"sma_long", a.sma_long},
                     {"volatility", a.volatility},
                     {"pct_change", a.pct_change},
                     {"volume", a.volume}});
  p = fmt::format_to(p, ",\"ingest_ns\":{}}}", a.ingest_ns);
  return static_cast<std::size_t>(p - out);
}

std::size_t format_metrics_json(const Tick& t, const TickMetrics& m, const char* ticker, std::string_view instance,
                                char* out, std::size_t cap) noexcept {
  if (cap < kMetricsJsonCapacity) {
    return 0;
  }
  char when[40];
  const std::size_t wn = format_utc(t.event_ns, when, sizeof(when));
  char* p = fmt::format_to(out,
                           "{{\"schema\":1,\"type\":\"metrics\",\"instance\":\"{}\",\"ticker\":\"{}\","
                           "\"event_time\":\"{}\",\"event_ns\":{},\"tick_seq\":{},\"feed\":{}",
                           instance.substr(0, 249), ticker, std::string_view(when, wn), t.event_ns, t.seq, t.feed);
  p = put_fields(p, {{"price", t.price}, {"volume", t.volume}});
  const std::uint32_t n = std::min<std::uint32_t>(m.n_windows, kMaxSmaWindows);
  p = fmt::format_to(p, ",\"windows\":[");
  for (std::uint32_t w = 0; w < n; ++w) {
    p = fmt::format_to(p, "{}{}", w == 0 ? "" : ",", m.windows[w]);
  }
  p = fmt::format_to(p, "]");
  const std::pair<const char*, const double*> arrays[] = {
      {"sma", m.sma}, {"variance", m.variance}, {"stddev", m.stddev}, {"ema", m.ema}};
  for (const auto& [name, arr] : arrays) {
    p = fmt::format_to(p, ",\"{}\":[", name);
    for (std::uint32_t w = 0; w < n; ++w) {
      if (w != 0) {
        *p++ = ',';
      }
      p = put_number(p, arr[w], "null");
    }
    *p++ = ']';
  }
  p = put_fields(p, {{"pct_change", m.pct_change},
                     {"volatility", m.volatility},
                     {"window_high", m.window_high},
                     {"window_low", m.window_low},
                     {"move_up_pct", m.move_up_pct},
                     {"move_down_pct", m.move_down_pct},
                     {"vwap", m.vwap},
                     {"cum_volume", m.cum_volume},
                     {"volume_mean", m.volume_mean}});
  *p++ = '}';
  return static_cast<std::size_t>(p - out);
}

std::size_t format_date(std::int32_t day, char* out, std::size_t cap) noexcept {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(day, y, m, d);
  const auto r = fmt::format_to_n(out, cap, "{:04}-{:02}-{:02}", y, m, d);
  return std::min(r.size, cap);
}

std::string_view daily_csv_header() noexcept {
  return "ticker,day,open,high,low,close,mean,vwap,volume,ticks,moves_up,moves_down,first_time,last_time,partial,"
         "alerts_window_move,alerts_tick_change,alerts_volatility,alerts_sma_cross,alerts_volume_spike\n";
}

std::size_t format_daily_csv(const DailySummary& d, char* out, std::size_t cap) noexcept {
  if (cap < kDailyCapacity) {
    return 0;
  }
  char day[16];
  char first[40];
  char last[40];
  const std::size_t dn = format_date(d.day, day, sizeof(day));
  const std::size_t fn = format_utc(d.first_ns, first, sizeof(first));
  const std::size_t ln = format_utc(d.last_ns, last, sizeof(last));
  char* p = fmt::format_to(out, "{},{}", d.ticker, std::string_view(day, dn));
  for (const double v : {d.open, d.high, d.low, d.close, d.mean, d.vwap, d.volume}) {
    *p++ = ',';
    p = put_number(p, v, "");
  }
  p = fmt::format_to(p, ",{},{},{},{},{},{}", d.ticks, d.moves_up, d.moves_down, std::string_view(first, fn),
                     std::string_view(last, ln), d.partial ? "true" : "false");
  for (const std::uint32_t n : d.alerts) {
    p = fmt::format_to(p, ",{}", n);
  }
  *p++ = '\n';
  return static_cast<std::size_t>(p - out);
}

std::size_t format_daily_json(const DailySummary& d, std::string_view instance, std::string_view time_zone, char* out,
                              std::size_t cap) noexcept {
  if (cap < kDailyCapacity) {
    return 0;
  }
  char day[16];
  char first[40];
  char last[40];
  const std::size_t dn = format_date(d.day, day, sizeof(day));
  const std::size_t fn = format_utc(d.first_ns, first, sizeof(first));
  const std::size_t ln = format_utc(d.last_ns, last, sizeof(last));
  char* p = fmt::format_to(out, "{{\"schema\":1,\"type\":\"daily\",\"instance\":\"{}\",\"ticker\":\"{}\",\"day\":\"{}\","
                           "\"time_zone\":\"{}\",\"first_time\":\"{}\",\"last_time\":\"{}\"",
                           instance.substr(0, 249), d.ticker, std::string_view(day, dn), time_zone.substr(0, 64),
                           std::string_view(first, fn), std::string_view(last, ln));
  p = put_fields(p, {{"open", d.open},
                     {"high", d.high},
                     {"low", d.low},
                     {"close", d.close},
                     {"mean", d.mean},
                     {"vwap", d.vwap},
                     {"volume", d.volume}});
  p = fmt::format_to(p, ",\"ticks\":{},\"moves_up\":{},\"moves_down\":{},\"alerts\":{{", d.ticks, d.moves_up,
                     d.moves_down);
  for (std::size_t r = 0; r < static_cast<std::size_t>(Rule::kCount); ++r) {
    p = fmt::format_to(p, "{}\"{}\":{}", r == 0 ? "" : ",", to_string(static_cast<Rule>(r)), d.alerts[r]);
  }
  p = fmt::format_to(p, "}},\"partial\":{}}}", d.partial ? "true" : "false");
  return static_cast<std::size_t>(p - out);
}

std::size_t format_tick_json(const char* ticker, double price, double volume, std::int64_t event_ns, char* out,
                             std::size_t cap) noexcept {
  char when[40];
  const std::size_t wn = format_utc(event_ns, when, sizeof(when));
  const auto r = fmt::format_to_n(out, cap, "{{\"ticker\":\"{}\",\"price\":{},\"timestamp\":\"{}\",\"volume\":{}}}",
                                  ticker, price, std::string_view(when, wn), volume);
  return std::min(r.size, cap);
}

}  // namespace tickforge
