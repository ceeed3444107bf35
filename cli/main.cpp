// tickforge — command-line entry point: `tickforge run|broker|produce|itch-serve|settings|sql-schema …`,
// `tickforge --version`.
//
// The flags of each subcommand are the rows of the settings table (app/settings.hpp) in its scope, so
// each --help lists only what that subcommand uses. Values are applied in one place (apply_setting),
// after the config file, so flags override the file. Every error — an unknown flag or subcommand, a bad
// value — prints one message and exits 2.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "itch_serve.hpp"
#include "kafka_commands.hpp"
#include "run_command.hpp"
#include "pg_schema.hpp"
#include "settings.hpp"

#ifdef TICKFORGE_WITH_MIMALLOC
#include <mimalloc.h>
#endif

namespace {

// Which allocator serves malloc in this process, checked rather than assumed.
std::string allocator_description() {
#ifdef TICKFORGE_WITH_MIMALLOC
  void* p = std::calloc(1, 64);
  const bool ours = mi_is_in_heap_region(p);
  std::free(p);
  const int v = mi_version();
  return fmt::format("mimalloc {}.{}.{} ({})", v / 100, v / 10 % 10, v % 10,
                     ours ? "serving malloc/new" : "linked but NOT serving malloc");
#else
  return "system malloc (built without mimalloc)";
#endif
}

struct Command {
  const char* name;
  const char* help;
  unsigned scope;
  CLI::App* app = nullptr;
  std::string config_path;
  std::vector<std::vector<std::string>> values;  // [row of the table]
};

// One line of --help: the doc, then the default and the range.
std::string help_of(const tickforge::SettingInfo& i) {
  std::string h = i.doc;
  if (!i.unit.empty()) {
    h += " (" + i.unit + ")";
  }
  if (!i.default_text.empty()) {
    h += " [" + i.default_text + "]";
  }
  if (!i.range.empty() && i.range != "finite") {
    h += " {" + i.range + "}";
  }
  return h;
}

[[noreturn]] void usage_error(const std::string& what) {
  fmt::print(stderr, "tickforge: error: {}\n", what);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tickforge;
  CLI::App app{"tickforge: low-latency market-data engine (SMA, variance, volatility, alerts)"};
  app.set_version_flag("--version", [] {
    return fmt::format("tickforge {}\nallocator: {}", TICKFORGE_VERSION, allocator_description());
  });
  app.require_subcommand(1);

  std::vector<Command> commands = {
      {"run", "run the engine on feeds until they end, --duration passes or SIGINT; alerts go to Kafka (the "
              "embedded cluster unless --brokers)", kScopeRun, nullptr, {}, {}},
      {"broker", "run an embedded Kafka cluster (librdkafka's mock) and print its address", kScopeBroker, nullptr, {}, {}},
      {"produce", "publish ticks (synthetic or csv:PATH) to a Kafka --topic as JSON, keyed by ticker", kScopeProduce,
       nullptr, {}, {}},
      {"itch-serve", "replay an ITCH 5.0 file as a MoldUDP64 session over UDP (injected loss, duplication, "
                     "reordering) and answer retransmission requests", kScopeServe, nullptr, {}, {}},
  };
  const auto& table = setting_table();
  for (Command& c : commands) {
    c.app = app.add_subcommand(c.name, c.help);
    c.app->footer("Values: DURATION is a number and a unit, 500ms, 60s, 5m, 2h, 1d, 30us, 100ns (a bare number is "
                  "seconds); X a number; N a whole number; true|false may be left out (--stop-at-eof means true); "
                  "[default] {bounds}. Every setting is also a TOML key of --config; docs/settings.md lists them all.");
    c.values.resize(table.size());
    c.app->add_option("--config", c.config_path, "TOML file: any setting below by name, [tickers.SYMBOL] rule overrides, "
                                                 "[kafka] librdkafka properties")
        ->check(CLI::ExistingFile);
    for (std::size_t i = 0; i < table.size(); ++i) {
      const SettingInfo& row = table[i];
      if ((row.scopes & c.scope) == 0) {
        continue;
      }
      CLI::Option* o = c.app->add_option("--" + row.name, c.values[i], help_of(row));
      o->type_name(row.value)->group(row.section)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
      row.is_bool ? o->expected(0, 1) : o->expected(1);  // a bare --stop-at-eof means true
    }
  }
  bool markdown = false;
  CLI::App* settings_cmd = app.add_subcommand("settings", "list every setting of every subcommand and the C API");
  settings_cmd->add_flag("--markdown", markdown, "as docs/settings.md");
  CLI::App* schema_cmd = app.add_subcommand("sql-schema", "print the PostgreSQL tables the sink creates (docs/postgresql.md)");

  // An unknown subcommand gets its own message (CLI11 would only say that one is required).
  if (argc > 1 && argv[1][0] != '-') {
    const std::string_view sub = argv[1];
    if (sub != "settings" && sub != "sql-schema" && std::none_of(commands.begin(), commands.end(), [&](const Command& c) { return sub == c.name; })) {
      usage_error(fmt::format("unknown subcommand '{}' (run, broker, produce, itch-serve, settings, sql-schema; tickforge --help)", sub));
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    usage_error(fmt::format("{} (tickforge SUBCOMMAND --help lists the settings)", e.what()));
  }

  if (schema_cmd->parsed()) {
    fmt::print("{}", pg::schema_sql());
    return 0;
  }
  if (settings_cmd->parsed()) {
    if (markdown) {
      fmt::print("{}", settings_markdown());
      return 0;
    }
    for (const SettingInfo& i : table) {
      fmt::print("{:<24} {:<16} {}\n", i.name, i.section, help_of(i));
    }
    return 0;
  }
  Command* chosen = &commands[0];
  for (Command& c : commands) {
    if (c.app->parsed()) {
      chosen = &c;
    }
  }
  RunOptions opt;
  try {
    if (!chosen->config_path.empty()) {
      load_config_file(opt, chosen->config_path, chosen->scope);
    }
    for (std::size_t i = 0; i < table.size(); ++i) {
      for (const std::string& v : chosen->values[i]) {
        apply_setting(opt, table[i].name, v, chosen->scope);
      }
      // CLI11 records a bare flag (expected 0..1) as one empty value; apply_setting reads "" as true.
    }
    opt.finalize();
  } catch (const std::exception& e) {
    usage_error(e.what());
  }
  try {
    if (chosen->scope == kScopeBroker) {
      return cli::broker(std::move(opt));
    }
    if (chosen->scope == kScopeProduce) {
      return cli::produce(std::move(opt));
    }
    if (chosen->scope == kScopeServe) {
      return cli::itch_serve(std::move(opt));
    }
    return cli::run(std::move(opt));
  } catch (const std::exception& e) {
    fmt::print(stderr, "tickforge: error: {}\n", e.what());
    return 1;
  }
}
