#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>

#include <toml++/toml.h>

#include <tickforge/tick.hpp>

#include "run_options.hpp"
#include "toml_guard.hpp"
#include "timeparse.hpp"

namespace tickforge {

namespace {

std::string trim(std::string_view s) { return std::string(trim_chars(s, " \t")); }

[[noreturn]] void bad(std::string_view why) { throw std::invalid_argument(std::string(why)); }

double to_double(std::string_view text) {
  const std::string s = trim(text);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) {
    bad("expected a number, got '" + s + "'");
  }
  return v;
}

double non_negative(std::string_view text) {
  const double v = to_double(text);
  if (v < 0) {
    bad("must not be negative");
  }
  return v;
}

template <typename Int>
Int to_int(std::string_view text, Int lo, Int hi) {
  const std::string s = trim(text);
  Int v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
    bad("expected a whole number, got '" + s + "'");
  }
  if (v < lo || v > hi) {
    bad("must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + s);
  }
  return v;
}

bool to_bool(std::string_view text) {
  const std::string s = trim(text);
  if (s == "true" || s == "1" || s == "yes" || s == "on") {
    return true;
  }
  if (s == "false" || s == "0" || s == "no" || s == "off") {
    return false;
  }
  bad("expected true or false, got '" + s + "'");
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? text.size() : comma;
    std::string item = trim(text.substr(start, end - start));
    if (!item.empty()) {
      out.push_back(std::move(item));
    }
    start = end + 1;
  }
  return out;
}

IdleKind to_idle(std::string_view text) {
  const std::string s = trim(text);
  if (s == "spin" || s == "busy-spin") {
    return IdleKind::kBusySpin;
  }
  if (s == "yield" || s == "spin-yield") {
    return IdleKind::kSpinYield;
  }
  if (s == "backoff") {
    return IdleKind::kBackoff;
  }
  if (s == "sleep") {
    return IdleKind::kSleep;
  }
  bad("expected spin, yield, backoff or sleep, got '" + s + "'");
}

std::string non_empty(std::string_view text, const char* expected) {
  std::string s = trim(text);
  if (s.empty()) {
    bad(std::string("expected ") + expected);
  }
  return s;
}

// Kafka's legal topic (and our instance id) characters: ASCII letters, digits, '.', '_', '-'; ≤ 249.
std::string topic_name(std::string_view text) {
  const std::string s = trim(text);
  if (s.empty() || s.size() > 249) {
    bad("expected a name of 1 to 249 characters");
  }
  for (const char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '_' && c != '-') {
      bad("'" + s + "' has a character other than letters, digits, '.', '_' and '-'");
    }
  }
  return s;
}

std::vector<int> to_cpus(std::string_view text) {
  std::vector<int> cpus;
  for (const std::string& item : split_list(text)) {
    cpus.push_back(to_int<int>(item, -1, 1 << 20));
  }
  return cpus;
}

std::string normalise(std::string_view name) {
  std::string n(name);
  while (!n.empty() && n.front() == '-') {
    n.erase(0, 1);
  }
  for (char& c : n) {
    if (c == '_') {
      c = '-';
    }
  }
  return n;
}

using Setter = std::function<void(RunOptions&, std::string_view)>;
struct Setting {
  SettingInfo info;
  Setter set;
};

// Rule settings exist globally (RunOptions::engine.rules) and per ticker; one list serves both.
using RuleSetter = void (*)(RuleParams&, std::string_view);
struct RuleSetting {
  SettingInfo info;
  RuleSetter set;
};

const std::vector<RuleSetting>& rule_settings() {
  static const std::vector<RuleSetting> table = {
      {{"alert-pct", "window move threshold X %: alert when the price is ≥ X % above the window low or below "
                     "the window high (≤ 0 disables) [5]"},
       [](RuleParams& r, std::string_view v) { r.window_move_pct = to_double(v); }},
      {{"alert-window", "event-time window T for rule (a) and the high/low metrics, e.g. 60s, 5m, 1d [60s]"},
       [](RuleParams& r, std::string_view v) { r.window_ns = parse_duration_ns(v); }},
      {{"tick-change-pct", "alert on a tick-to-tick change of ≥ X % either way (≤ 0 disables) [3]"},
       [](RuleParams& r, std::string_view v) { r.tick_change_pct = to_double(v); }},
      {{"volatility-pct", "alert when volatility (std of % changes) ≥ X (≤ 0 disables) [2]"},
       [](RuleParams& r, std::string_view v) { r.volatility_pct = to_double(v); }},
      {{"sma-cross", "alert when the shortest SMA crosses the longest [true]"},
       [](RuleParams& r, std::string_view v) { r.sma_cross = to_bool(v); }},
      {{"volume-spike", "alert when volume ≥ F × mean volume of the previous volume-window ticks (≤ 0 "
                        "disables) [3]"},
       [](RuleParams& r, std::string_view v) { r.volume_spike_factor = to_double(v); }},
      {{"cooldown", "per (ticker, rule, direction) quiet time after an alert, event time [= alert-window]"},
       [](RuleParams& r, std::string_view v) { r.cooldown_ns = parse_duration_ns(v); }},
  };
  return table;
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = [] {
    std::vector<Setting> t = {
        {{"feed", "input: synthetic, csv:PATH or kafka:TOPIC (repeatable; one thread each) [synthetic]"},
         [](RunOptions& o, std::string_view v) {
           for (const std::string& item : split_list(v)) {
             if (item == "synthetic") {
               o.feeds.push_back({FeedSpec::Kind::kSynthetic, {}});
             } else if (item.rfind("csv:", 0) == 0 && item.size() > 4) {
               o.feeds.push_back({FeedSpec::Kind::kCsv, item.substr(4)});
             } else if (item.rfind("kafka:", 0) == 0 && item.size() > 6) {
               o.feeds.push_back({FeedSpec::Kind::kKafka, item.substr(6)});
             } else {
               bad("expected synthetic, csv:PATH or kafka:TOPIC, got '" + item + "'");
             }
           }
         }},
        {{"ticker", "ticker list (comma-separated, repeatable): synthetic tickers, or the ticker of a "
                    "single-ticker CSV file"},
         [](RunOptions& o, std::string_view v) {
           for (std::string& name : split_list(v)) {
             o.tickers.push_back(std::move(name));
           }
         }},
        {{"tickers", "synthetic: number of tickers when no --ticker list is given [8]"},
         [](RunOptions& o, std::string_view v) { o.synthetic_tickers = to_int<std::uint32_t>(v, 1, 1u << 24); }},
        {{"rate", "synthetic: ticks per second per feed, 0 = as fast as possible [0]"},
         [](RunOptions& o, std::string_view v) { o.rate = non_negative(v); }},
        {{"seed", "synthetic: random seed (same seed, same ticks) [42]"},
         [](RunOptions& o, std::string_view v) {
           o.seed = to_int<std::uint64_t>(v, 0, std::numeric_limits<std::uint64_t>::max());
         }},
        {{"synthetic-step", "synthetic: event time between consecutive ticks of a feed [1ms]"},
         [](RunOptions& o, std::string_view v) { o.synthetic_step_ns = parse_duration_ns(v); }},
        {{"jump-prob", "synthetic: probability per tick of a 5-12 % jump [0.0002]"},
         [](RunOptions& o, std::string_view v) {
           o.jump_probability = non_negative(v);
           if (o.jump_probability > 1) {
             bad("must be ≤ 1");
           }
         }},
        {{"speed", "csv: replay speed factor against event time, 0 = as fast as possible [0]"},
         [](RunOptions& o, std::string_view v) { o.speed = non_negative(v); }},
        {{"price-col", "csv: price column [Close]"}, [](RunOptions& o, std::string_view v) { o.price_column = trim(v); }},
        {{"date-col", "csv: date column [auto]"}, [](RunOptions& o, std::string_view v) { o.date_column = trim(v); }},
        {{"ticker-col", "csv: ticker column [auto]"},
         [](RunOptions& o, std::string_view v) { o.ticker_column = trim(v); }},
        {{"volume-col", "csv: volume column [auto]"},
         [](RunOptions& o, std::string_view v) { o.volume_column = trim(v); }},
        {{"max-ticks", "stop each feed after this many ticks, 0 = no limit [0]"},
         [](RunOptions& o, std::string_view v) {
           o.max_ticks = to_int<std::uint64_t>(v, 0, std::numeric_limits<std::uint64_t>::max());
         }},
        {{"feed-cpu", "CPU for each feed thread, comma-separated (-1 = not pinned)"},
         [](RunOptions& o, std::string_view v) { o.feed_cpus = to_cpus(v); }},
        {{"engine-cpu", "CPU for each engine shard thread, comma-separated (-1 = not pinned)"},
         [](RunOptions& o, std::string_view v) { o.engine_cpus = to_cpus(v); }},
        {{"duration", "seconds to run, 0 = until the input ends [synthetic 10, csv 0]"},
         [](RunOptions& o, std::string_view v) { o.duration_seconds = non_negative(v); }},
        {{"shutdown-timeout", "once a stop begins (signal, --duration, end of input), feeds and shards must end "
                              "within this; otherwise what is stuck is reported and the process exits 3 [5s]"},
         [](RunOptions& o, std::string_view v) { o.shutdown_timeout_ns = parse_duration_ns(v); }},
        {{"metrics-out", "write every tick's metrics to this CSV file"},
         [](RunOptions& o, std::string_view v) { o.metrics_out = trim(v); }},
        {{"alerts-out", "write alerts as JSON lines to this file, - for stdout"},
         [](RunOptions& o, std::string_view v) { o.alerts_out = trim(v); }},
        {{"print-alerts", "print at most this many alerts per second to stdout, 0 = none [20]"},
         [](RunOptions& o, std::string_view v) { o.print_alerts = to_int<std::uint32_t>(v, 0, 1u << 30); }},
        {{"sma", "SMA / variance / EMA windows in ticks, ascending [5,10,20]"},
         [](RunOptions& o, std::string_view v) {
           o.engine.sma_windows.clear();
           for (const std::string& item : split_list(v)) {
             o.engine.sma_windows.push_back(to_int<std::uint32_t>(item, 1, kMaxWindowLength));
           }
         }},
        {{"ddof", "variance convention: 1 = sample (pandas, Spark), 0 = population (TA-Lib) [1]"},
         [](RunOptions& o, std::string_view v) { o.engine.ddof = to_int<std::uint32_t>(v, 0, 1); }},
        {{"volatility-window", "ticks of returns in the volatility, 0 = the longest SMA window [0]"},
         [](RunOptions& o, std::string_view v) {
           o.engine.volatility_window = to_int<std::uint32_t>(v, 0, kMaxWindowLength);
         }},
        {{"volume-window", "ticks in the rolling mean volume [20]"},
         [](RunOptions& o, std::string_view v) {
           o.engine.volume_window = to_int<std::uint32_t>(v, 1, kMaxWindowLength);
         }},
        {{"max-tickers", "symbol table capacity [16384]"},
         [](RunOptions& o, std::string_view v) { o.engine.max_tickers = to_int<std::uint32_t>(v, 1, 1u << 24); }},
        {{"extrema-capacity", "entries per ticker in the window high/low deques [128]"},
         [](RunOptions& o, std::string_view v) {
           o.engine.extrema_capacity = to_int<std::uint32_t>(v, 2, 65536);
         }},
        {{"ring-capacity", "slots per (feed, shard) ring [65536]"},
         [](RunOptions& o, std::string_view v) {
           o.engine.ring_capacity = to_int<std::uint32_t>(v, 2, 1u << 30);
         }},
        {{"full-policy", "full ring: block (feed waits) or drop (count and drop the tick) [block]"},
         [](RunOptions& o, std::string_view v) {
           const std::string s = trim(v);
           if (s == "block") {
             o.engine.full_policy = FullPolicy::kBlock;
           } else if (s == "drop") {
             o.engine.full_policy = FullPolicy::kDropNewest;
           } else {
             bad("expected block or drop, got '" + s + "'");
           }
         }},
        {{"shards", "engine shard threads [1]"},
         [](RunOptions& o, std::string_view v) { o.engine.shards = to_int<std::uint32_t>(v, 1, 256); }},
        {{"idle", "engine idle strategy: spin, yield, backoff, sleep [backoff]"},
         [](RunOptions& o, std::string_view v) { o.engine_idle = to_idle(v); }},
        // ---- Kafka (docs/kafka.md) ----
        {{"brokers", "Kafka bootstrap servers host:port,...; not given = start the embedded cluster"},
         [](RunOptions& o, std::string_view v) { o.kafka.brokers = non_empty(v, "host:port[,host:port...]"); }},
        {{"kafka", "one librdkafka property KEY=VALUE for every Kafka client (repeatable; in TOML a [kafka] "
                   "table); secrets are never printed"},
         [](RunOptions& o, std::string_view v) {
           const std::size_t eq = v.find('=');
           const std::string key = eq == std::string_view::npos ? std::string() : trim(v.substr(0, eq));
           if (key.empty()) {
             bad("expected KEY=VALUE, e.g. security.protocol=SASL_SSL");  // the value is not echoed
           }
           o.kafka.properties.emplace_back(key, std::string(v.substr(eq + 1)));
         }},
        {{"publish-alerts", "publish alerts to the Kafka alerts topic [true]"},
         [](RunOptions& o, std::string_view v) { o.kafka.publish_alerts = to_bool(v); }},
        {{"alerts-topic", "Kafka topic for alerts [tickforge.alerts]"},
         [](RunOptions& o, std::string_view v) { o.kafka.alerts_topic = topic_name(v); }},
        {{"metrics-topic", "Kafka topic for per-ticker metric snapshots (off when not given)"},
         [](RunOptions& o, std::string_view v) { o.kafka.metrics_topic = topic_name(v); }},
        {{"metrics-interval", "metric snapshots: at most one per ticker per this much event time, 0 = every "
                              "tick [1s]"},
         [](RunOptions& o, std::string_view v) {
           o.kafka.metrics_interval_ns = parse_duration_ns(v, /*allow_zero=*/true);
         }},
        {{"dead-letter-topic", "Kafka feeds: forward bad messages here with the reason (off when not given)"},
         [](RunOptions& o, std::string_view v) { o.kafka.dead_letter_topic = topic_name(v); }},
        {{"group-id", "Kafka feeds: consumer group id [tickforge]"},
         [](RunOptions& o, std::string_view v) { o.kafka.group_id = non_empty(v, "a group id"); }},
        {{"instance-id", "prefix of every alert id [hostname-pid-starttime]"},
         [](RunOptions& o, std::string_view v) { o.kafka.instance_id = topic_name(v); }},
        {{"embedded-brokers", "brokers in the embedded Kafka cluster [3]"},
         [](RunOptions& o, std::string_view v) { o.kafka.embedded_brokers = to_int<std::uint32_t>(v, 1, 16); }},
        {{"partitions", "partitions of each topic created in the embedded cluster [6]"},
         [](RunOptions& o, std::string_view v) { o.kafka.partitions = to_int<std::uint32_t>(v, 1, 1024); }},
        {{"publish-queue", "engine → Kafka publisher queue: alerts per engine shard; full = dropped and counted "
                            "[65536]"},
         [](RunOptions& o, std::string_view v) {
           o.kafka.queue_capacity = to_int<std::uint32_t>(v, 1024, 1u << 24);
         }},
        {{"flush-timeout", "at shutdown, wait this long for Kafka deliveries [10s]"},
         [](RunOptions& o, std::string_view v) { o.kafka.flush_timeout_ns = parse_duration_ns(v); }},
        {{"kafka-connect-timeout", "at start-up, the Kafka cluster must answer within this [10s]"},
         [](RunOptions& o, std::string_view v) { o.kafka.connect_timeout_ns = parse_duration_ns(v); }},
        {{"stop-at-eof", "Kafka feeds end once every assigned partition is read to its end [false]"},
         [](RunOptions& o, std::string_view v) { o.kafka.stop_at_eof = to_bool(v); }},
        {{"offset-reset", "Kafka feeds: where a group without committed offsets starts: earliest or latest "
                          "[earliest]"},
         [](RunOptions& o, std::string_view v) {
           const std::string s = trim(v);
           if (s != "earliest" && s != "latest") {
             bad("expected earliest or latest, got '" + s + "'");
           }
           o.kafka.offset_reset = s;
         }},
        {{"json-fields", "Kafka feeds: JSON keys, e.g. ticker=Index,price=Close,timestamp=Date,volume=Volume "
                         "[ticker|symbol, price, timestamp|ts|event_time, volume|size]"},
         [](RunOptions& o, std::string_view v) {
           for (const std::string& item : split_list(v)) {
             const std::size_t eq = item.find('=');
             const std::string field = trim(std::string_view(item).substr(0, eq));
             const std::string key = eq == std::string::npos ? std::string() : trim(item.substr(eq + 1));
             std::string* target = field == "ticker"      ? &o.kafka.fields.ticker
                                   : field == "price"     ? &o.kafka.fields.price
                                   : field == "timestamp" ? &o.kafka.fields.timestamp
                                   : field == "volume"    ? &o.kafka.fields.volume
                                                          : nullptr;
             if (target == nullptr || key.empty()) {
               bad("expected FIELD=KEY with FIELD one of ticker, price, timestamp, volume; got '" + item + "'");
             }
             *target = key;
           }
         }},
        {{"publisher-cpu", "CPU for the Kafka publisher thread (-1 = not pinned)"},
         [](RunOptions& o, std::string_view v) { o.kafka.publisher_cpu = to_int<int>(v, -1, 1 << 20); }},
        {{"topic", "tickforge produce: the topic ticks are written to [tickforge.ticks]"},
         [](RunOptions& o, std::string_view v) { o.produce_topic = topic_name(v); }},
        {{"topics", "tickforge broker: topics to create, comma-separated [tickforge.ticks,tickforge.alerts,"
                    "tickforge.metrics,tickforge.dead-letter]"},
         [](RunOptions& o, std::string_view v) {
           for (const std::string& name : split_list(v)) {
             o.broker_topics.push_back(topic_name(name));
           }
         }},
    };
    for (const RuleSetting& r : rule_settings()) {
      t.push_back({r.info, [set = r.set](RunOptions& o, std::string_view v) { set(o.engine.rules, v); }});
    }
    return t;
  }();
  return table;
}

template <typename Table>
auto* find_setting(const Table& table, std::string_view name) {
  const std::string n = normalise(name);
  for (const auto& s : table) {
    if (n == s.info.name) {
      return &s;
    }
  }
  return static_cast<decltype(&table.front())>(nullptr);
}

// A TOML value in the text form the setters take (arrays become comma lists).
std::string toml_text(const toml::node& node, const std::string& where) {
  if (const auto* arr = node.as_array()) {
    std::string out;
    for (const auto& item : *arr) {
      if (!out.empty()) {
        out += ',';
      }
      out += toml_text(item, where);
    }
    return out;
  }
  if (auto s = node.value<std::string>()) {
    return *s;
  }
  if (node.is_boolean()) {
    return *node.value<bool>() ? "true" : "false";
  }
  if (node.is_integer()) {
    return std::to_string(*node.value<std::int64_t>());
  }
  if (node.is_floating_point()) {
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof(buf), *node.value<double>());
    return std::string(buf, res.ptr);
  }
  bad(where + ": unsupported value type");
}

std::string where_of(const std::string& path, const toml::node& node) {
  return path + ":" + std::to_string(node.source().begin.line);
}

}  // namespace

std::int64_t parse_duration_ns(std::string_view text, bool allow_zero) {
  const std::string s = trim(text);
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) != 0 || s[i] == '.')) {
    ++i;
  }
  const std::string unit = s.substr(i);
  double scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1e9;
  } else if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "us") {
    scale = 1e3;
  } else if (unit == "ns") {
    scale = 1;
  } else if (unit == "m" || unit == "min") {
    scale = 60e9;
  } else if (unit == "h") {
    scale = 3600e9;
  } else if (unit == "d") {
    scale = 86400e9;
  } else {
    bad("expected a duration such as 60s, 500ms, 5m, 1h, 1d; got '" + s + "'");
  }
  const double value = to_double(s.substr(0, i));
  if (value == 0 && allow_zero) {
    return 0;
  }
  // Validated after rounding to whole nanoseconds: 0.4ns is not a positive duration.
  const double ns = value * scale;
  if (ns > static_cast<double>(kMaxDurationNs)) {
    bad("duration must be at most 36500d, got '" + s + "'");
  }
  const std::int64_t rounded = std::llround(ns);
  if (rounded <= 0) {
    bad(std::string(allow_zero ? "duration must be 0 or at least 1ns" : "duration must be at least 1ns") +
        " (whole nanoseconds), got '" + s + "'");
  }
  return rounded;
}

void apply_setting(RunOptions& opt, std::string_view name, std::string_view value) {
  const auto* s = find_setting(settings(), name);
  if (s == nullptr) {
    throw UnknownSetting("unknown setting '" + std::string(name) + "' (tickforge run --help lists them)");
  }
  try {
    s->set(opt, value);
  } catch (const std::invalid_argument& e) {
    bad("--" + std::string(s->info.name) + ": " + e.what());
  }
}

void apply_rule_setting(RuleParams& rules, std::string_view name, std::string_view value) {
  const auto* s = find_setting(rule_settings(), name);
  if (s == nullptr) {
    throw UnknownSetting("unknown per-ticker rule setting '" + std::string(name) +
        "' (alert-pct, alert-window, tick-change-pct, volatility-pct, sma-cross, volume-spike, cooldown)");
  }
  try {
    s->set(rules, value);
  } catch (const std::invalid_argument& e) {
    bad(std::string(s->info.name) + ": " + e.what());
  }
}

const std::vector<SettingInfo>& setting_table() {
  static const std::vector<SettingInfo> infos = [] {
    std::vector<SettingInfo> v;
    for (const Setting& s : settings()) {
      v.push_back(s.info);
    }
    return v;
  }();
  return infos;
}

namespace {

// Rethrows e with a location prefix, keeping "unknown setting" apart from "bad value".
[[noreturn]] void rethrow_at(const std::string& where, const std::invalid_argument& e) {
  if (dynamic_cast<const UnknownSetting*>(&e) != nullptr) {
    throw UnknownSetting(where + ": " + e.what());
  }
  bad(where + ": " + e.what());
}

void load_config_table(RunOptions& opt, const toml::table& root, const std::string& path);

}  // namespace

void load_config_file(RunOptions& opt, const std::string& path) {
  std::string text;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    throw ConfigFileError(path + ": cannot be read: " + std::strerror(errno));
  }
  char buf[1 << 14];
  for (std::size_t n = 0; (n = std::fread(buf, 1, sizeof buf, f)) != 0;) {
    text.append(buf, n);
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) {
    throw ConfigFileError(path + ": read failed");
  }
  load_config_string(opt, text, path);
}

void load_config_string(RunOptions& opt, std::string_view text, const std::string& name) {
  const std::string ascii = toml_ascii(text, name);  // toml++ 3.3.0 must not see non-ASCII (toml_guard.hpp)
  toml::table root;
  try {
    root = toml::parse(ascii, name);
  } catch (const toml::parse_error& e) {
    bad(name + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  load_config_table(opt, root, name);
}

namespace {

void load_config_table(RunOptions& opt, const toml::table& root, const std::string& path) {
  // Global settings first (tables iterate in key order, and [tickers] must not depend on it).
  for (const auto& [key, node] : root) {
    if (key.str() == "tickers") {
      continue;
    }
    if (const toml::table* props = node.as_table(); key.str() == "kafka" && props != nullptr) {
      for (const auto& [pk, pnode] : *props) {  // [kafka] "security.protocol" = "SASL_SSL"
        opt.kafka.properties.emplace_back(std::string(pk.str()), toml_text(pnode, where_of(path, pnode)));
      }
      continue;
    }
    const std::string where = where_of(path, node);
    try {
      apply_setting(opt, key.str(), toml_text(node, where));
    } catch (const std::invalid_argument& e) {
      rethrow_at(where, e);
    }
  }
  const toml::node* tickers_node = root.get("tickers");
  if (tickers_node == nullptr) {
    return;
  }
  const toml::table* tickers = tickers_node->as_table();
  if (tickers == nullptr) {
    bad(where_of(path, *tickers_node) + ": [tickers] must be a table of tables, e.g. [tickers.AAPL]");
  }
  for (const auto& [ticker, tnode] : *tickers) {
    const toml::table* t = tnode.as_table();
    if (t == nullptr) {
      bad(where_of(path, tnode) + ": tickers." + std::string(ticker.str()) + " must be a table");
    }
    RunOptions::TickerOverride ov{std::string(ticker.str()), {}};
    RuleParams scratch;  // checks every key and value now, so errors carry the file and line
    for (const auto& [rk, rnode] : *t) {
      const std::string rwhere = where_of(path, rnode);
      std::string value = toml_text(rnode, rwhere);
      try {
        apply_rule_setting(scratch, rk.str(), value);
      } catch (const std::invalid_argument& e) {
        rethrow_at(rwhere + ": tickers." + ov.ticker, e);
      }
      ov.settings.emplace_back(std::string(rk.str()), std::move(value));
    }
    opt.ticker_overrides.push_back(std::move(ov));
  }
}

}  // namespace

void RunOptions::finalize() {
  engine.ticker_rules.clear();
  for (const TickerOverride& ov : ticker_overrides) {
    RuleParams rules = engine.rules;
    for (const auto& [k, v] : ov.settings) {
      apply_rule_setting(rules, k, v);
    }
    engine.ticker_rules.emplace_back(ov.ticker, rules);
  }
  engine.validate();
}

}  // namespace tickforge
