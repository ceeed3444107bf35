// tickforge — the settings table: every setting of every front end, declared once.
//
// Each setting is one row in settings.cpp (after librdkafka's property table): its name, the field of
// RunOptions it sets, its type and bounds, its unit, its documentation, its section and the scopes that
// use it. From those rows come: the flags of each subcommand and their --help (only the rows in its
// scope), the TOML keys of --config, the C API's tf_config_set keys (scope kEmbed: a CLI-only key is
// refused), validation, docs/settings.md (settings_markdown(), checked for drift by a test) and the
// defaults shown, which are read from a default-constructed RunOptions, never written a second time.
//
// Private header. Cold path: parsing allocates and throws std::invalid_argument ("--NAME: why").
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "run_options.hpp"

namespace tickforge {

/// Who uses a setting: the subcommands of the binary and the C API.
enum Scope : unsigned {
  kScopeRun = 1u << 0,      ///< tickforge run
  kScopeBroker = 1u << 1,   ///< tickforge broker
  kScopeProduce = 1u << 2,  ///< tickforge produce
  kScopeEmbed = 1u << 3,    ///< the C API (tf_config_set, tf_config_load_*)
  kScopeServe = 1u << 4,    ///< tickforge itch-serve
  kScopeAll = 0x1Fu,
};

/// One row as help, docs and tests read it.
struct SettingInfo {
  std::string name;          ///< "ring-capacity" (TOML and C API also accept "ring_capacity")
  std::string section;       ///< "engine", "synthetic feed", "Kafka", …: the help group
  unsigned scopes = 0;       ///< Scope bits
  std::string value;         ///< what the value looks like: "N", "X", "DURATION", "true|false", "SPEC", …
  std::string default_text;  ///< as applied when the setting is not given ("" when none)
  std::string embed_default; ///< the C API's default when it differs (embed_defaults()), else ""
  std::string range;         ///< "[2, 1073741824]", "" when any value of the type is taken
  std::string unit;          ///< "ticks", "%", "ticks/s", …
  std::string doc;
  bool is_bool = false;      ///< a bare flag means true
  bool repeatable = false;   ///< each occurrence adds (feed, ticker, kafka)
  bool per_ticker = false;   ///< also a key of a [tickers.SYMBOL] table
  bool derived_default = false;  ///< default_text names a rule ("= alert-window"), not a value
};

/// Every setting, in table order.
const std::vector<SettingInfo>& setting_table();

/// What tf_config_new() starts from: RunOptions{} (the binary's defaults) except publish-alerts = false
/// and no console alerts. The table shows both where they differ.
RunOptions embed_defaults();

/// An unknown setting name, or one outside the caller's scope (a bad value is a plain invalid_argument).
struct UnknownSetting : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
/// A config file that cannot be read at all.
struct ConfigFileError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// Applies one setting by name ("alert-pct", "alert_pct" or "--alert-pct") from its text form, if the
/// row is in `scope`. Throws UnknownSetting or std::invalid_argument("--NAME: why").
void apply_setting(RunOptions& opt, std::string_view name, std::string_view value, unsigned scope = kScopeAll);
/// A per-ticker rule override key (the rows marked per_ticker).
void apply_rule_setting(RuleParams& rules, std::string_view name, std::string_view value);

/// Loads a TOML document (top-level keys = setting names in `scope`; [tickers.SYMBOL] tables = rule
/// overrides; a [kafka] table = librdkafka properties). Throws std::invalid_argument "FILE:LINE: why".
void load_config_file(RunOptions& opt, const std::string& path, unsigned scope = kScopeAll);
void load_config_string(RunOptions& opt, std::string_view text, const std::string& name, unsigned scope = kScopeAll);

/// A setting's current value in `opt`, as text that apply_setting() takes back ("" for the repeatable
/// rows, which only add). Throws UnknownSetting.
std::string show_setting(const RunOptions& opt, std::string_view name);

/// docs/settings.md: every row, by section, with scope, default, range and documentation.
std::string settings_markdown();

/// "60s", "250ms", "1.5m", "2h", "1d", "30us", "100ns"; a bare number is seconds. The value is rounded to
/// whole nanoseconds and then checked: at least 1 ns (or exactly 0 when allow_zero), at most
/// kMaxDurationNs (36500d). Throws std::invalid_argument.
std::int64_t parse_duration_ns(std::string_view text, bool allow_zero = false);

}  // namespace tickforge
