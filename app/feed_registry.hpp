// tickforge — the feed registry: every kind of feed `--feed KIND[:ARG]` can name, one line each in
// feed_registry.cpp. Adding a feed kind is one new file in feedhandlers/ (or its own folder) and one
// registration line; the pipeline, the settings (--feed), the summary and the C API need nothing more.
//
// Private header. Cold path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tickforge/symbol_table.hpp>

#include "feed.hpp"
#include "run_options.hpp"

namespace tickforge {

namespace kafka {
class KafkaPublisher;
}

/// The Kafka cluster a run uses (null in a FeedContext when the run has none).
struct KafkaContext {
  std::string bootstrap;
  bool embedded = false;
  const kafka::KafkaPublisher* publisher = nullptr;  ///< offsets wait for its deliveries (null: none)
};

/// What a factory gets to build one feed.
struct FeedContext {
  const RunOptions& opt;
  SymbolTable& symbols;
  std::uint32_t index;       ///< the feed's position in the run (its label, its seed offset)
  std::uint32_t kind_index;  ///< its position among the feeds of its kind
  std::uint32_t kind_count;  ///< how many feeds of its kind the run has
  const KafkaContext* kafka;
};

struct FeedKind {
  const char* name;     ///< "csv": what --feed names before the ':'
  const char* syntax;   ///< "csv:PATH"
  bool takes_argument;  ///< "csv:PATH" needs the PATH; "synthetic" takes none
  bool needs_kafka;     ///< the run must connect to (or start) a Kafka cluster; the argument is a topic
  const char* doc;
  /// Builds the feed (loading its input, registering tickers, connecting). Throws RunError.
  std::unique_ptr<Feed> (*make)(const FeedContext& ctx, const FeedSpec& spec);
  /// Checks the argument's form when the spec is parsed (before any feed is built): what is wrong, or
  /// nullptr. Optional.
  const char* (*check)(std::string_view arg) = nullptr;
};

const std::vector<FeedKind>& feed_kinds();
/// The kind of a spec, or nullptr.
const FeedKind* find_feed_kind(std::string_view name) noexcept;
/// "synthetic", "csv:PATH" … → a spec of a registered kind. Throws std::invalid_argument naming the kinds,
/// or what the kind's check found wrong with the argument.
FeedSpec parse_feed_spec(std::string_view text);
/// "synthetic, csv:PATH, kafka:TOPIC": for messages and help.
std::string feed_syntaxes();

}  // namespace tickforge
