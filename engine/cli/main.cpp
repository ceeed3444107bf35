// tickforge — command-line entry point: `tickforge run …`, `tickforge --version`.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "../run_options.hpp"
#include "run_command.hpp"

#ifdef TICKFORGE_WITH_MIMALLOC
#include <mimalloc.h>
#endif

namespace {

// Which allocator serves malloc in this process, checked rather than assumed.
std::string allocator_description() {
#ifdef TICKFORGE_WITH_MIMALLOC
  void* p = std::malloc(64);
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

  CLI::App* run = app.add_subcommand("run", "run the engine on feeds until they end, --duration passes or SIGINT");
  std::string config_path;
  run->add_option("--config", config_path, "TOML file: any setting below by name, [tickers.SYMBOL] overrides")
      ->check(CLI::ExistingFile);
  // Every setting is a string option; values are applied in one place (apply_setting), after the config
  // file, so flags override the file and the same names work in both.
  const auto& table = tickforge::setting_table();
  std::vector<std::vector<std::string>> values(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    run->add_option(std::string("--") + table[i].name, values[i], table[i].help)
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  tickforge::RunOptions opt;
  try {
    if (!config_path.empty()) {
      tickforge::load_config_file(opt, config_path);
    }
    for (std::size_t i = 0; i < table.size(); ++i) {
      for (const std::string& v : values[i]) {
        tickforge::apply_setting(opt, table[i].name, v);
      }
    }
    opt.finalize();
  } catch (const std::exception& e) {
    fmt::print(stderr, "tickforge: error: {}\n", e.what());
    return 2;
  }
  try {
    return tickforge::cli::run(std::move(opt));
  } catch (const std::exception& e) {
    fmt::print(stderr, "tickforge: error: {}\n", e.what());
    return 1;
  }
}
