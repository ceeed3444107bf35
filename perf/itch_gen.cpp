// tickforge-itch-gen — writes a valid NASDAQ TotalView-ITCH 5.0 session (BinaryFILE) with a realistic
// message mix (feedhandlers/itch_generator.hpp), for throughput runs of --feed itch:FILE and the ITCH
// benchmarks:
//
//   tickforge-itch-gen --out /tmp/gen20240102.itch --messages 10000000 --stocks 500
//   tickforge run --feed itch:/tmp/gen20240102.itch --print-alerts 0 --publish-alerts false
//
// (the date in the file's name is the session date the feed reads). Exit 0, 1 if the file cannot be
// written, 2 on bad flags.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "itch_generator.hpp"

int main(int argc, char** argv) {
  tickforge::ItchGenOptions o;
  std::string out;
  CLI::App app{"tickforge-itch-gen: a valid ITCH 5.0 session with a realistic message mix"};
  app.add_option("--out", out, "the file to write (BinaryFILE framing)")->required();
  app.add_option("--messages", o.messages, "order-flow messages")->capture_default_str()->check(CLI::Range(0ULL, 4'000'000'000ULL));
  app.add_option("--stocks", o.stocks, "stocks")->capture_default_str()->check(CLI::Range(1U, 65535U));
  app.add_option("--seed", o.seed, "random seed: the same seed gives the same bytes")->capture_default_str();
  app.add_option("--live-orders", o.live_orders, "the book size the order flow hovers around")
      ->capture_default_str()
      ->check(CLI::Range(1U, 1U << 30));
  app.add_flag("--zero-prefix", o.zero_prefix, "write zero length prefixes (as some tools do)");
  CLI11_PARSE(app, argc, argv);
  std::FILE* f = std::fopen(out.c_str(), "wb");
  if (f == nullptr) {
    fmt::print(stderr, "tickforge-itch-gen: {}: {}\n", out, std::strerror(errno));
    return 1;
  }
  bool ok = true;
  tickforge::ItchGenerator gen(o);
  gen.generate([&](const std::uint8_t* p, std::size_t n) { ok = ok && std::fwrite(p, 1, n, f) == n; });
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    fmt::print(stderr, "tickforge-itch-gen: {}: write failed: {}\n", out, std::strerror(errno));
    return 1;
  }
  const auto& c = gen.counts();
  std::string mix;
  for (int t = 0; t < 128; ++t) {
    if (c.by_type[t] != 0) {
      mix += fmt::format("{}{} {}", mix.empty() ? "" : ", ", static_cast<char>(t), c.by_type[t]);
    }
  }
  fmt::print("wrote {}: {} messages, {} bytes ({}); at most {} orders live\n", out, c.messages, c.bytes, mix,
             c.max_live);
  return 0;
}
