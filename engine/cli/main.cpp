// tickforge — command-line entry point: `tickforge run …`, `tickforge --version`.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "../run_options.hpp"
#include "kafka_commands.hpp"
#include "run_command.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tickforge: low-latency market-data engine (SMA, variance, volatility, alerts)"};
  app.set_version_flag("--version", [] {
    return fmt::format("tickforge {}\nallocator: {}", TICKFORGE_VERSION, allocator_description());
  });
  app.require_subcommand(1);

  // Every subcommand takes every setting (one table, the same names as the config file): each uses what
  // concerns it. Values are string options applied in one place (apply_setting), after the config file,
  // so flags override the file.
  const auto& table = tickforge::setting_table();
  struct Command {
    CLI::App* app;
    std::string config_path;
    std::vector<std::vector<std::string>> values;
  };
  std::vector<std::unique_ptr<Command>> commands;
  auto add_command = [&](const char* name, const char* help) {
    auto c = std::make_unique<Command>();
    c->app = app.add_subcommand(name, help);
    c->values.resize(table.size());
    c->app->add_option("--config", c->config_path,
                       "TOML file: any setting below by name, [tickers.SYMBOL] overrides, [kafka] properties")
        ->check(CLI::ExistingFile);
    for (std::size_t i = 0; i < table.size(); ++i) {
      c->app->add_option(std::string("--") + table[i].name, c->values[i], table[i].help)
          ->expected(1)
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    }
    commands.push_back(std::move(c));
    return commands.back().get();
  };
  Command* run = add_command("run", "run the engine on feeds until they end, --duration passes or SIGINT; alerts go "
                                    "to Kafka (the embedded cluster unless --brokers)");
  Command* broker = add_command("broker", "run an embedded Kafka cluster (librdkafka's mock) and print its address");
  Command* produce = add_command("produce", "publish ticks (synthetic or csv:PATH) to a Kafka --topic as JSON, keyed "
                                            "by ticker");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  Command* chosen = run;
  for (const auto& c : commands) {
    if (c->app->parsed()) {
      chosen = c.get();
    }
  }
  tickforge::RunOptions opt;
  try {
    if (!chosen->config_path.empty()) {
      tickforge::load_config_file(opt, chosen->config_path);
    }
    for (std::size_t i = 0; i < table.size(); ++i) {
      for (const std::string& v : chosen->values[i]) {
        tickforge::apply_setting(opt, table[i].name, v);
      }
    }
    opt.finalize();
  } catch (const std::exception& e) {
    fmt::print(stderr, "tickforge: error: {}\n", e.what());
    return 2;
  }
  try {
    if (chosen == broker) {
      return tickforge::cli::broker(std::move(opt));
    }
    if (chosen == produce) {
      return tickforge::cli::produce(std::move(opt));
    }
    return tickforge::cli::run(std::move(opt));
  } catch (const std::exception& e) {
    fmt::print(stderr, "tickforge: error: {}\n", e.what());
    return 1;
  }
}
