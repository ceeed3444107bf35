// Settings shared by flags and the TOML config: names, values, errors with file and line, overrides.
#include <gtest/gtest.h>

#include <algorithm>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

#include <tickforge/tickforge.h>

#include "pg_schema.hpp"
#include "postgres_sink.hpp"
#include "settings.hpp"

using namespace tickforge;

namespace {
std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("tickforge_settings_" + name);
  std::ofstream(path) << text;
  return path.string();
}
std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Settings, ShouldParseDurationsInEveryUnit) {
  EXPECT_EQ(parse_duration_ns("60s"), 60'000'000'000);
  EXPECT_EQ(parse_duration_ns("60"), 60'000'000'000);
  EXPECT_EQ(parse_duration_ns("250ms"), 250'000'000);
  EXPECT_EQ(parse_duration_ns("1.5m"), 90'000'000'000);
  EXPECT_EQ(parse_duration_ns("2h"), 7'200'000'000'000);
  EXPECT_EQ(parse_duration_ns("1d"), 86'400'000'000'000);
  EXPECT_EQ(parse_duration_ns("30us"), 30'000);
  EXPECT_THROW(parse_duration_ns("5 parsecs"), std::invalid_argument);
  EXPECT_THROW(parse_duration_ns("-5s"), std::invalid_argument);
  EXPECT_THROW(parse_duration_ns("0"), std::invalid_argument);
}

// Checked after rounding to whole nanoseconds, and bounded so that t − d never leaves int64.
TEST(Settings, ShouldValidateDurationsAfterRoundingAndWithinBounds) {
  EXPECT_EQ(parse_duration_ns("1ns"), 1);
  EXPECT_EQ(parse_duration_ns("0.5ns"), 1);  // rounds to 1 ns
  EXPECT_EQ(parse_duration_ns("0.0015us"), 2);
  EXPECT_EQ(parse_duration_ns("36500d"), 36'500LL * 86'400 * 1'000'000'000);
  for (const char* bad : {"0.4ns", "0.0004us", "1e-10", "36500.1d", "36501d", "9e9h"}) {
    EXPECT_THROW(parse_duration_ns(bad), std::invalid_argument) << bad;
  }
  EXPECT_NE(error_of([] { parse_duration_ns("0.4ns"); }).find("at least 1ns"), std::string::npos);
  EXPECT_NE(error_of([] { parse_duration_ns("36501d"); }).find("at most 36500d"), std::string::npos);
  // Zero where a setting allows it (metrics-interval: every tick), but never by rounding.
  EXPECT_EQ(parse_duration_ns("0", true), 0);
  EXPECT_EQ(parse_duration_ns("0s", true), 0);
  EXPECT_EQ(parse_duration_ns("0.0ms", true), 0);
  EXPECT_THROW(parse_duration_ns("0.4ns", true), std::invalid_argument);
  // Through the settings: every duration setting says so, naming itself.
  RunOptions o;
  for (const char* name : {"cooldown", "alert-window", "synthetic-step", "metrics-interval", "shutdown-timeout"}) {
    const std::string msg = error_of([&] { apply_setting(o, name, "0.4ns"); });
    EXPECT_NE(msg.find(std::string("--") + name + ": duration must be"), std::string::npos) << msg;
  }
  apply_setting(o, "metrics-interval", "0");
  EXPECT_EQ(o.kafka.metrics_interval_ns, 0);
  // The engine's own check, for C++ users who fill RuleParams directly.
  EngineConfig cfg;
  cfg.rules.window_ns = 36'501LL * 86'400 * 1'000'000'000;
  EXPECT_THROW(cfg.validate(), std::invalid_argument);
  cfg.rules.window_ns = 60'000'000'000;
  cfg.rules.cooldown_ns = -2;
  EXPECT_THROW(cfg.validate(), std::invalid_argument);
}

// toml++ 3.3.0 reaches __builtin_unreachable() on most non-ASCII characters outside strings (UBSan
// caught it on the two bytes D0 AF); toml_guard rewrites documents so that it never sees one, and must
// keep every legal document's meaning.
TEST(Settings, ShouldRefuseNonAsciiOutsideStringsWithALineAndKeepItsMeaningInside) {
  RunOptions o;
  const char* const refused[] = {
      "\xD0\xAF",                        // "Я" as a document
      "alert-pct = 5\n\xC2\xA0= 1\n",    // a no-break space between tokens
      "alert-pct = 5\xD0\xAF\n",         // right after a value
      "sma = [5,\xE3\x80\x80 10]\n",     // an ideographic space inside an array
  };
  for (const char* doc : refused) {
    const std::string msg = error_of([&] { load_config_string(o, doc, "cfg.toml"); });
    EXPECT_NE(msg.find("non-ASCII character outside a string or comment"), std::string::npos) << msg;
  }
  EXPECT_NE(error_of([&] { load_config_string(o, "alert-pct = 5\n\xD0\xAF\n", "cfg.toml"); }).find("cfg.toml:2:"),
            std::string::npos);
  for (const char* doc : {"a = \"\xC3\x28\"\n", "# \xFF\n", "a = 'x\xED\xA0\x80'\n", "\xF0\x9F\x98"}) {
    const std::string msg = error_of([&] { load_config_string(o, doc, "cfg.toml"); });
    EXPECT_NE(msg.find("not valid UTF-8"), std::string::npos) << msg;
  }
  EXPECT_NE(error_of([&] { load_config_string(o, "sma = [5]\n\n# \xFF\n", "cfg.toml"); }).find("cfg.toml:3:"),
            std::string::npos);
  EXPECT_NE(error_of([&] { load_config_string(o, "a = \"\\\xD0\xAF\"", "cfg.toml"); }).find("not a TOML escape"),
            std::string::npos);

  // toml++ 3.3.0 also asserts that a key follows a table header's '[' (found by fuzz_settings): refused
  // here, with the line; control characters (TOML allows none but tab) likewise.
  for (const char* doc : {"[=]", "a = 1\n[.a]\n", "[[ ,]]", "[#]"}) {
    const std::string msg = error_of([&] { load_config_string(o, doc, "cfg.toml"); });
    EXPECT_NE(msg.find("a table header needs a key"), std::string::npos) << doc << ": " << msg;
  }
  EXPECT_NE(error_of([&] { load_config_string(o, "a = 1\n[=]\n", "cfg.toml"); }).find("cfg.toml:2:"), std::string::npos);
  for (const char* doc : {"[\x01]", "a = \"x\x02\"", "# \x7F", "a = 1\x00"}) {
    const std::string text(doc, std::strlen(doc) + (doc[std::strlen(doc) - 1] == '1' ? 1 : 0));
    const std::string msg = error_of([&] { load_config_string(o, text, "cfg.toml"); });
    EXPECT_NE(msg.find("control character"), std::string::npos) << msg;
  }
  // Arrays that start a line are values, not headers; quoted and spaced headers are fine.
  RunOptions arrays;
  load_config_string(arrays, "sma = [\n  5,\n  10\n]\n[tickers.\"A\"]\nalert-pct = 1\n[ tickers.B ]\nalert-pct = 2\n",
                     "cfg.toml");
  EXPECT_EQ(arrays.engine.sma_windows, (std::vector<std::uint32_t>{5, 10}));
  EXPECT_EQ(arrays.ticker_overrides.size(), 2u);
  // Legal non-ASCII: comments, basic and literal strings (one and many lines), quoted keys.
  RunOptions ok;
  load_config_string(ok, R"toml(# Настройки — comment 📈
alert-pct = 4 # порог
alerts-out = "/tmp/Я \"ü\".jsonl"
metrics-out = 'C:\data\日本 "x".csv'
instance-id = """\
   node-1"""
[kafka]
"sasl.password" = '''p\ä'ss"''''
[tickers."Я"]
alert-pct = 3
)toml",
                     "cfg.toml");
  EXPECT_EQ(ok.engine.rules.window_move_pct, 4.0);
  EXPECT_EQ(ok.alerts_out, "/tmp/Я \"ü\".jsonl");
  EXPECT_EQ(ok.metrics_out, R"(C:\data\日本 "x".csv)");
  EXPECT_EQ(ok.kafka.instance_id, "node-1");  // line-ending backslash: the newline and indent are trimmed
  ASSERT_EQ(ok.kafka.properties.size(), 1u);
  EXPECT_EQ(ok.kafka.properties[0].first, "sasl.password");
  EXPECT_EQ(ok.kafka.properties[0].second, R"(p\ä'ss"')");  // ''' … '''' ends with one quote of content
  ASSERT_EQ(ok.ticker_overrides.size(), 1u);
  EXPECT_EQ(ok.ticker_overrides[0].ticker, "Я");
}

TEST(Settings, ShouldAcceptDashOrUnderscoreNamesAndApplyValues) {
  RunOptions o;
  apply_setting(o, "alert-pct", "2.5");
  apply_setting(o, "alert_window", "30s");
  apply_setting(o, "--sma", "3, 7,30");
  apply_setting(o, "feed", "synthetic,csv:/tmp/x.csv");
  apply_setting(o, "full-policy", "drop");
  apply_setting(o, "engine-cpu", "1");
  EXPECT_EQ(o.engine.rules.window_move_pct, 2.5);
  EXPECT_EQ(o.engine.rules.window_ns, 30'000'000'000);
  EXPECT_EQ(o.engine.sma_windows, (std::vector<std::uint32_t>{3, 7, 30}));
  ASSERT_EQ(o.feeds.size(), 2u);
  EXPECT_EQ(o.feeds[1].kind, "csv");
  EXPECT_EQ(o.feeds[1].arg, "/tmp/x.csv");
  EXPECT_EQ(o.engine.full_policy, FullPolicy::kDropNewest);
  EXPECT_EQ(o.engine_cpus, (std::vector<int>{1}));
}

TEST(Settings, ShouldNameTheSettingInEveryError) {
  RunOptions o;
  EXPECT_NE(error_of([&] { apply_setting(o, "alert-pct", "five"); }).find("--alert-pct"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_setting(o, "ddof", "2"); }).find("--ddof"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_setting(o, "feed", "ftp:x"); }).find("--feed"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_setting(o, "no-such-thing", "1"); }).find("unknown setting"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_setting(o, "alert-pct", "nan"); }).find("--alert-pct"), std::string::npos);
}

TEST(Settings, ShouldParseKafkaSettingsAndNeverEchoAPropertyValue) {
  RunOptions o;
  apply_setting(o, "feed", "kafka:stock_prices");
  ASSERT_EQ(o.feeds.size(), 1u);
  EXPECT_EQ(o.feeds[0].kind, "kafka");
  EXPECT_EQ(o.feeds[0].arg, "stock_prices");
  apply_setting(o, "brokers", "k1:9092,k2:9092");
  EXPECT_EQ(o.kafka.brokers, "k1:9092,k2:9092");
  apply_setting(o, "kafka", "sasl.password=a=b,c");  // everything after the first '=' is the value
  ASSERT_EQ(o.kafka.properties.size(), 1u);
  EXPECT_EQ(o.kafka.properties[0].first, "sasl.password");
  EXPECT_EQ(o.kafka.properties[0].second, "a=b,c");
  const std::string no_key = error_of([&] { apply_setting(o, "kafka", "hunter2"); });
  EXPECT_NE(no_key.find("--kafka"), std::string::npos);
  EXPECT_EQ(no_key.find("hunter2"), std::string::npos) << no_key;
  apply_setting(o, "json-fields", "ticker=Index, price=Close,timestamp=Date,volume=Volume");
  EXPECT_EQ(o.kafka.fields.ticker, "Index");
  EXPECT_EQ(o.kafka.fields.price, "Close");
  EXPECT_EQ(o.kafka.fields.timestamp, "Date");
  EXPECT_EQ(o.kafka.fields.volume, "Volume");
  EXPECT_NE(error_of([&] { apply_setting(o, "json-fields", "colour=red"); }).find("--json-fields"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_setting(o, "alerts-topic", "bad topic"); }).find("--alerts-topic"),
            std::string::npos);
  EXPECT_NE(error_of([&] { apply_setting(o, "offset-reset", "middle"); }).find("--offset-reset"), std::string::npos);
  apply_setting(o, "metrics-interval", "0");
  EXPECT_EQ(o.kafka.metrics_interval_ns, 0);
  apply_setting(o, "metrics-interval", "250ms");
  EXPECT_EQ(o.kafka.metrics_interval_ns, 250'000'000);
  apply_setting(o, "publish-alerts", "false");
  EXPECT_FALSE(o.kafka.publish_alerts);
}

TEST(Settings, ShouldReadAKafkaTableOfLibrdkafkaProperties) {
  const std::string path = write_temp("kafka.toml", R"(
brokers = "broker-1:9093"
dead-letter-topic = "ticks.dlq"
[kafka]
"security.protocol" = "SASL_SSL"
"sasl.mechanisms" = "PLAIN"
)");
  RunOptions o;
  load_config_file(o, path);
  EXPECT_EQ(o.kafka.brokers, "broker-1:9093");
  EXPECT_EQ(o.kafka.dead_letter_topic, "ticks.dlq");
  using Prop = std::pair<std::string, std::string>;
  ASSERT_EQ(o.kafka.properties.size(), 2u);
  EXPECT_EQ(std::count(o.kafka.properties.begin(), o.kafka.properties.end(), Prop{"security.protocol", "SASL_SSL"}), 1);
  EXPECT_EQ(std::count(o.kafka.properties.begin(), o.kafka.properties.end(), Prop{"sasl.mechanisms", "PLAIN"}), 1);
}

TEST(Settings, ShouldLoadTomlWithPerTickerOverridesResolvedAgainstFinalGlobals) {
  const std::string path = write_temp("good.toml", R"(
sma = [5, 10, 30]
alert-pct = 4
alert_window = "2m"
feed = ["synthetic"]

[tickers.TSLA]
alert-pct = 8
cooldown = "10s"
)");
  RunOptions o;
  load_config_file(o, path);
  apply_setting(o, "tick-change-pct", "1.5");  // a flag after the file: reaches TSLA too
  o.finalize();
  EXPECT_EQ(o.engine.sma_windows.back(), 30u);
  EXPECT_EQ(o.engine.rules.window_move_pct, 4.0);
  ASSERT_EQ(o.engine.ticker_rules.size(), 1u);
  const auto& [ticker, r] = o.engine.ticker_rules[0];
  EXPECT_EQ(ticker, "TSLA");
  EXPECT_EQ(r.window_move_pct, 8.0);
  EXPECT_EQ(r.window_ns, 120'000'000'000);
  EXPECT_EQ(r.cooldown_ns, 10'000'000'000);
  EXPECT_EQ(r.tick_change_pct, 1.5);
}

TEST(Settings, ShouldReportFileAndLineForBadConfig) {
  RunOptions o;
  const std::string bad_value = write_temp("bad_value.toml", "sma = [5, 10]\nddof = 7\n");
  EXPECT_NE(error_of([&] { load_config_file(o, bad_value); }).find("bad_value.toml:2"), std::string::npos);
  const std::string bad_key = write_temp("bad_key.toml", "[tickers.AAPL]\nalert-pct = 3\nbogus = 1\n");
  const std::string msg = error_of([&] { load_config_file(o, bad_key); });
  EXPECT_NE(msg.find("bad_key.toml:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bogus"), std::string::npos) << msg;
  const std::string syntax = write_temp("syntax.toml", "sma = [5, 10\n");
  EXPECT_NE(error_of([&] { load_config_file(o, syntax); }).find("syntax.toml:"), std::string::npos);
}

TEST(Settings, ShouldRejectUnorderedWindowsAtFinalize) {
  RunOptions o;
  apply_setting(o, "sma", "20,5");
  EXPECT_THROW(o.finalize(), std::invalid_argument);
}

TEST(Settings, ShouldLoadTheShippedExampleConfig) {
  RunOptions o;
  load_config_file(o, std::string(TICKFORGE_TEST_DATA_DIR) + "/../../examples/tickforge.toml");
  o.finalize();
  EXPECT_EQ(o.tickers, (std::vector<std::string>{"AAPL", "MSFT", "NVDA", "TSLA"}));
  ASSERT_EQ(o.engine.ticker_rules.size(), 1u);
  EXPECT_EQ(o.engine.ticker_rules[0].second.window_move_pct, 8.0);
  EXPECT_EQ(o.engine.ticker_rules[0].second.tick_change_pct, 3.0);
}

// ---- the table: every row walked ------------------------------------------------------------------------

namespace {

// "[lo, hi]" → (lo, hi) when both are numbers.
bool numeric_range(const std::string& range, double& lo, double& hi) {
  if (range.size() < 5 || range.front() != '[' || range.back() != ']') {
    return false;
  }
  const std::size_t comma = range.find(", ");
  char* end = nullptr;
  lo = std::strtod(range.c_str() + 1, &end);
  if (end != range.c_str() + comma) {
    return false;
  }
  hi = std::strtod(range.c_str() + comma + 2, &end);
  return end == range.c_str() + range.size() - 1;
}

std::string number(double v, bool integral) {
  if (integral) {
    return std::to_string(static_cast<long long>(v));
  }
  std::ostringstream ss;
  ss.precision(17);
  ss << v;
  return ss.str();
}

// The C API's refusal of one key=value: its code and message.
std::pair<tf_err_t, std::string> capi_set(const std::string& key, const std::string& value) {
  tf_config_t* c = tf_config_new();
  char err[512] = "";
  const tf_err_t rc = tf_config_set(c, key.c_str(), value.c_str(), err, sizeof err);
  tf_config_destroy(c);
  return {rc, err};
}

}  // namespace

TEST(SettingsTable, ShouldShowAsDefaultTheValueAFreshRunApplies) {
  const RunOptions fresh;
  std::size_t checked = 0;
  for (const SettingInfo& row : setting_table()) {
    if (row.derived_default) {
      continue;  // "= alert-window", "not pinned": a rule, not a value
    }
    if (row.default_text.empty() || row.repeatable) {
      continue;
    }
    // Applying the shown default changes nothing: the text is the value.
    RunOptions o;
    ASSERT_NO_THROW(apply_setting(o, row.name, row.default_text)) << row.name << " = " << row.default_text;
    EXPECT_EQ(show_setting(o, row.name), row.default_text) << row.name;
    ++checked;
  }
  EXPECT_GE(checked, 40u);
  // The C API starts from other defaults for two rows; the table says so where a C API user reads it.
  const auto publish = std::find_if(setting_table().begin(), setting_table().end(),
                                    [](const SettingInfo& r) { return r.name == "publish-alerts"; });
  ASSERT_NE(publish, setting_table().end());
  EXPECT_EQ(publish->default_text, "true");
  EXPECT_EQ(publish->embed_default, "false");
  EXPECT_EQ(show_setting(embed_defaults(), "publish-alerts"), "false");
  EXPECT_NE(settings_markdown().find("| true (C API: false) |"), std::string::npos);
  (void)fresh;
}

TEST(SettingsTable, ShouldEnforceEveryBoundTheSameWayFromAFlagTomlAndTheCApi) {
  std::size_t bounded = 0;
  for (const SettingInfo& row : setting_table()) {
    double lo = 0;
    double hi = 0;
    if (!numeric_range(row.range, lo, hi)) {
      continue;
    }
    const bool integral = row.value == "N";
    const bool list = row.value == "N,…";
    const std::string within[] = {number(lo, integral || list), number(hi, integral || list)};
    const std::string outside[] = {number(integral || list ? lo - 1 : lo - std::max(1e-6, std::fabs(lo) * 1e-6), integral || list),
                                   number(integral || list ? hi + 1 : hi * (1 + 1e-6), integral || list)};
    for (const std::string& v : within) {
      RunOptions o;
      EXPECT_NO_THROW(apply_setting(o, row.name, v)) << row.name << " = " << v;
    }
    for (const std::string& v : outside) {
      if (v.front() == '-' && lo >= 0 && integral) {
        continue;  // below 0 for an unsigned field: refused as "not a whole number" instead
      }
      RunOptions flag;
      const std::string from_flag = error_of([&] { apply_setting(flag, row.name, v); });
      EXPECT_NE(from_flag.find("--" + row.name + ": must be in ["), std::string::npos) << row.name << " = " << v << ": " << from_flag;
      RunOptions toml;
      const std::string doc = row.name + " = " + (list ? "[" + v + "]" : v) + "\n";
      const std::string from_toml = error_of([&] { load_config_string(toml, doc, "cfg.toml"); });
      EXPECT_EQ(from_toml, "cfg.toml:1: " + from_flag) << row.name;
      if ((row.scopes & kScopeEmbed) != 0) {
        const auto [rc, msg] = capi_set(row.name, v);
        EXPECT_EQ(rc, TF_ERR_BAD_VALUE) << row.name;
        EXPECT_EQ(msg, from_flag) << row.name;
      }
    }
    ++bounded;
  }
  EXPECT_GT(bounded, 15u);
}

TEST(SettingsTable, ShouldRefuseThroughTheCApiTheKeysOnlyTheBinaryUses) {
  std::size_t cli_only = 0;
  for (const SettingInfo& row : setting_table()) {
    const std::string sample = row.is_bool ? "true" : row.value == "DURATION" ? "5s" : "1";
    const auto [rc, msg] = capi_set(row.name, sample);
    if ((row.scopes & kScopeEmbed) == 0) {
      EXPECT_EQ(rc, TF_ERR_UNKNOWN_KEY) << row.name << ": " << msg;
      EXPECT_NE(msg.find("is not a setting here"), std::string::npos) << msg;
      ++cli_only;
    } else {
      EXPECT_NE(rc, TF_ERR_UNKNOWN_KEY) << row.name << ": " << msg;
    }
  }
  EXPECT_GE(cli_only, 5u);  // duration, shutdown-timeout, print-alerts, summary-json, topic, topics
  // And the TOML file a C API user loads: the same refusal, with the line.
  tf_config_t* c = tf_config_new();
  char err[256];
  EXPECT_EQ(tf_config_load_string(c, "sma = [5, 20]\nduration = 5\n", err, sizeof err), TF_ERR_UNKNOWN_KEY);
  EXPECT_NE(std::string(err).find("<string>:2:"), std::string::npos) << err;
  tf_config_destroy(c);
}

TEST(SettingsTable, ShouldCheckAZeroOrRangeSettingAtTheFlagWithItsName) {
  RunOptions o;
  apply_setting(o, "volatility-window", "0");
  apply_setting(o, "volatility-window", "2");
  EXPECT_EQ(error_of([&] { apply_setting(o, "volatility-window", "1"); }),
            "--volatility-window: must be 0 or in [2, 4096], got 1");
}

TEST(SettingsTable, ShouldTakeABareBooleanAsTrueAndCooldownZeroAsNoCooldown) {
  RunOptions o;
  apply_setting(o, "stop-at-eof", "");  // what the binary passes for a bare --stop-at-eof
  EXPECT_TRUE(o.kafka.stop_at_eof);
  apply_setting(o, "saturate", "");
  EXPECT_TRUE(o.synthetic.saturate);
  apply_setting(o, "sma-cross", "false");
  EXPECT_FALSE(o.engine.rules.sma_cross);
  EXPECT_NE(error_of([&] { apply_setting(o, "saturate", "maybe"); }).find("--saturate: expected true or false"),
            std::string::npos);
  apply_setting(o, "cooldown", "0");
  EXPECT_EQ(o.engine.rules.cooldown_ns, 0);
  EXPECT_EQ(o.engine.rules.effective_cooldown_ns(), 0);
}

TEST(SettingsTable, ShouldMatchTheCommittedSettingsDocument) {
  std::ifstream in(std::string(TICKFORGE_TEST_DATA_DIR) + "/../../docs/settings.md");
  ASSERT_TRUE(in) << "docs/settings.md is missing";
  const std::string committed((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(committed, settings_markdown()) << "docs/settings.md drifted from the table: regenerate it with "
                                               "build/tickforge settings --markdown > docs/settings.md";
}

TEST(SettingsTable, ShouldMaskTheSinkPasswordAndNeverRepeatABadSinkInItsError) {
  RunOptions o;
  apply_setting(o, "sink", "postgresql://tf:hunter2@db.example:5433/markets?sslmode=require");
  EXPECT_EQ(o.sink, "postgresql://tf:hunter2@db.example:5433/markets?sslmode=require");
  EXPECT_EQ(show_setting(o, "sink"), "postgresql://tf:***@db.example:5433/markets?sslmode=require");
  apply_setting(o, "sink", "postgresql:host=/tmp dbname=m password=hunter2 user=tf");
  EXPECT_EQ(show_setting(o, "sink"), "postgresql:host=/tmp dbname=m password=*** user=tf");
  EXPECT_EQ(postgres_conninfo(o.sink), "host=/tmp dbname=m password=hunter2 user=tf");
  const std::string e = error_of([&] { apply_setting(o, "sink", "mysql://u:hunter2@h/db"); });
  EXPECT_NE(e.find("unknown sink"), std::string::npos) << e;
  EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
  EXPECT_TRUE(o.wants_daily());
}

TEST(SettingsTable, ShouldShowInDocsTheSchemaTheSinkCreates) {
  std::ifstream in(std::string(TICKFORGE_TEST_DATA_DIR) + "/../../docs/postgresql.md");
  ASSERT_TRUE(in) << "docs/postgresql.md is missing";
  const std::string doc((std::istreambuf_iterator<char>(in)), {});
  const std::string begin = "<!-- tickforge sql-schema: begin -->\n```sql\n";
  const std::size_t b = doc.find(begin);
  const std::size_t e = doc.find("```\n<!-- tickforge sql-schema: end -->");
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(doc.substr(b + begin.size(), e - b - begin.size()), pg::schema_sql())
      << "docs/postgresql.md drifted from sinks/pg_schema.cpp: paste `build/tickforge sql-schema` between the markers";
}
