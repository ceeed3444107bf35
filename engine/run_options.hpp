// tickforge — everything a run is configured with, and the one table of setting names shared by the
// command line, the TOML config file and (later) the C API.
//
// Private header. Cold path: parsing allocates and reports errors as std::invalid_argument.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tickforge/config.hpp>

#include "kafka_settings.hpp"

namespace tickforge {

struct FeedSpec {
  enum class Kind : std::uint8_t { kSynthetic, kCsv, kKafka };
  Kind kind = Kind::kSynthetic;
  std::string path;  // csv: the file; kafka: the topic
};

struct RunOptions {
  EngineConfig engine;
  IdleKind engine_idle = IdleKind::kBackoff;

  std::vector<FeedSpec> feeds;            // empty: one synthetic feed
  std::vector<std::string> tickers;       // synthetic ticker list / forced ticker of a CSV file
  std::uint32_t synthetic_tickers = 8;    // when no list is given: AAPL, MSFT, … then SYM0009 …
  double rate = 0;                        // ticks/s per feed; 0 = as fast as possible
  std::uint64_t seed = 42;
  std::int64_t synthetic_step_ns = 1'000'000;  // event-time step between synthetic ticks
  double jump_probability = 2e-4;         // per tick: a 5–12 % jump so that every rule fires
  double speed = 0;                       // CSV replay: event-time speed factor; 0 = as fast as possible
  std::string price_column = "Close";
  std::string date_column, ticker_column, volume_column;
  std::uint64_t max_ticks = 0;            // per feed; 0 = unlimited

  std::vector<int> feed_cpus;             // feed i pinned to feed_cpus[i]; -1 / missing = not pinned
  std::vector<int> engine_cpus;
  double duration_seconds = -1;           // < 0: synthetic 10 s, CSV until the input ends; 0 = no limit
  std::int64_t shutdown_timeout_ns = 5'000'000'000;  // a stop that takes longer exits 3 with a report
  std::string metrics_out;                // CSV, one row per tick
  std::string alerts_out;                 // JSON lines; "-" = stdout
  std::uint32_t print_alerts = 20;        // human-readable alerts on stdout per second (0 = none)
  KafkaSettings kafka;
  std::string produce_topic = "tickforge.ticks";  // tickforge produce: where ticks go
  std::vector<std::string> broker_topics;        // tickforge broker: topics to create (empty: the defaults)

  // Per-ticker rule overrides as written ([tickers.X] key = value); resolved against the final global
  // rules by finalize(), so a command-line flag that changes a global rule reaches every ticker that
  // does not override it.
  struct TickerOverride {
    std::string ticker;
    std::vector<std::pair<std::string, std::string>> settings;
  };
  std::vector<TickerOverride> ticker_overrides;

  /// Builds engine.ticker_rules from the overrides and validates the engine config.
  void finalize();
};

/// An unknown setting name (a bad value is a plain std::invalid_argument).
struct UnknownSetting : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
/// A config file that cannot be read at all.
struct ConfigFileError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// Applies one setting by name ("alert-pct" or "alert_pct") from its text form. Throws
/// std::invalid_argument("--NAME: why") on an unknown name or a bad value.
void apply_setting(RunOptions& opt, std::string_view name, std::string_view value);
/// Per-ticker rule override keys (a subset: alert-pct, alert-window, tick-change-pct, volatility-pct,
/// sma-cross, volume-spike, cooldown).
void apply_rule_setting(RuleParams& rules, std::string_view name, std::string_view value);

/// One setting's name and help text, in the order the CLI lists them.
struct SettingInfo {
  const char* name;
  const char* help;
};
const std::vector<SettingInfo>& setting_table();

/// Loads a TOML file (top-level keys = setting names; [tickers.SYMBOL] tables = rule overrides).
/// Throws std::invalid_argument with "FILE:LINE: why".
void load_config_file(RunOptions& opt, const std::string& path);

/// The same from TOML text in memory; errors name `name`:LINE.
void load_config_string(RunOptions& opt, std::string_view text, const std::string& name);

/// "60s", "250ms", "1.5m", "2h", "1d", "30us", "100ns"; a bare number is seconds. The value is rounded to
/// whole nanoseconds and then checked: at least 1 ns (or exactly 0 when allow_zero), at most
/// kMaxDurationNs (36500d). Throws std::invalid_argument.
std::int64_t parse_duration_ns(std::string_view text, bool allow_zero = false);

}  // namespace tickforge
