// tickforge — everything a run is configured with. Filled from the settings table (app/settings.hpp):
// flags, the TOML file and the C API's keys all set these fields through the same rows. The defaults are
// the member initialisers here and in the option structs of the lower layers: one home each, and what
// --help, docs/settings.md and the C API report is read from a default-constructed RunOptions.
//
// Private header. Cold path.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <tickforge/config.hpp>

#include "csv_feed.hpp"
#include "file_sinks.hpp"  // Rotation, RelayFull
#include "itch_feed.hpp"
#include "itch_server.hpp"
#include "kafka_settings.hpp"
#include "postgres_sink.hpp"
#include "synthetic.hpp"

namespace tickforge {

/// A set-up failure of a run and its class (the binary maps it to an exit code, the C API to an error).
class RunError : public std::runtime_error {
 public:
  enum class Kind : std::uint8_t { kConfig, kIo, kKafka, kCpu };
  RunError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  [[nodiscard]] Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

/// One --feed: a kind from the feed registry (app/feed_registry.hpp) and its argument ("csv:PATH").
struct FeedSpec {
  std::string kind;  ///< "synthetic", "csv", "kafka", …
  std::string arg;   ///< the path, topic… (empty for kinds without one)
  bool operator==(const FeedSpec&) const = default;
};

struct RunOptions {
  // ---- engine ----
  EngineConfig engine;
  IdleKind engine_idle = IdleKind::kBackoff;
  std::vector<int> engine_cpus;           // shard i pinned to engine_cpus[i]; -1 / missing = not pinned

  // ---- feeds ----
  std::vector<FeedSpec> feeds;            // empty: one synthetic feed (tickforge run)
  std::vector<int> feed_cpus;             // feed i pinned to feed_cpus[i]
  std::vector<std::string> tickers;       // synthetic ticker list / forced ticker of a CSV file
  SyntheticOptions synthetic;             // count, rate, saturate, seed, step, jump probability
  CsvFeedOptions csv;                     // speed and column names (csv.csv.path comes from the feed spec)
  ItchServeOptions serve;                 // tickforge itch-serve
  ItchFeedOptions itch;                   // session date, zone and order table of itch: feeds
  std::uint64_t max_ticks = 0;            // per feed; 0 = unlimited

  // ---- outputs ----
  std::string metrics_out;                // CSV, one row per tick (written by the sinks thread)
  RelayFull metrics_full = RelayFull::kWait;  // a full metrics ring: the shard waits, or the row is dropped
  Rotation rotation;                      // of the output files
  std::string alerts_out;                 // JSON lines; "-" = stdout
  std::uint32_t print_alerts = 20;        // human-readable alerts on stdout per second (0 = none)
  std::uint32_t sink_queue = 65536;       // alerts per shard between the engine and the sinks thread
  int sinks_cpu = -1;                     // the sinks thread's CPU; -1 = not pinned
  // The dashboard and /metrics (app/dashboard.hpp): "off" or HOST:PORT; parsed by finalize().
  std::string http = "off";
  std::string http_token;                 // needed to bind beyond loopback; never printed
  std::uint32_t http_max_clients = 64;
  int http_cpu = -1;
  std::uint32_t http_history = 3600;      // history points per ticker (one per second of event time)
  std::int64_t http_write_timeout_ns = 5'000'000'000;  // a client must take a response or an event within this
  std::string http_host;                  // from `http` by finalize(); empty = off
  std::uint16_t http_port = 0;
  std::string daily_out;                  // daily summaries: CSV, or JSON lines for a .jsonl name

  // ---- PostgreSQL ----
  std::string sink;                       // "postgresql://…" as given (may hold a password: never printed)
  PostgresOptions postgres;               // conninfo filled from `sink` by the pipeline

  // ---- Kafka ----
  KafkaSettings kafka;

  // ---- the tickforge binary only ----
  double duration_seconds = -1;           // < 0: synthetic 5 s, other feeds until their input ends; 0 = no limit
  std::int64_t shutdown_timeout_ns = 5'000'000'000;  // a stop that takes longer exits 3 with a report
  std::string summary_json;               // the summary's figures as JSON
  std::string produce_topic = "tickforge.ticks";     // tickforge produce: where ticks go
  std::vector<std::string> broker_topics;            // tickforge broker: topics to create (empty: the defaults)

  // Per-ticker rule overrides as written ([tickers.X] key = value); resolved against the final global
  // rules by finalize(), so a command-line flag that changes a global rule reaches every ticker that
  // does not override it.
  struct TickerOverride {
    std::string ticker;
    std::vector<std::pair<std::string, std::string>> settings;
  };
  std::vector<TickerOverride> ticker_overrides;

  /// Whether anything consumes daily summaries (the engine computes them only then).
  [[nodiscard]] bool wants_daily() const noexcept {
    return !daily_out.empty() || !sink.empty() || !kafka.daily_topic.empty();
  }
  /// Builds engine.ticker_rules from the overrides, turns the daily summaries on when wanted and
  /// validates the engine config.
  void finalize();
  /// `http` into http_host/http_port (off: empty host); the token from TICKFORGE_HTTP_TOKEN when unset.
  /// Throws std::invalid_argument.
  void parse_http();
};

}  // namespace tickforge
