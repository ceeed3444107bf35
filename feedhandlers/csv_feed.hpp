// tickforge — CSV replay feed: loads a file once (cold), then replays its rows in event-time order, as
// fast as possible or paced by a speed factor against event time.
#pragma once

#include <cstdint>
#include <string>

#include <tickforge/symbol_table.hpp>

#include "csv_reader.hpp"
#include "feed.hpp"

namespace tickforge {

struct CsvFeedOptions {
  CsvOptions csv;               ///< path, columns, forced ticker
  double speed = 0;             ///< event time ÷ speed = wall time between rows; 0 = as fast as possible
  std::uint64_t max_ticks = 0;  ///< 0 = every row
};

/// Thread contract: construct on the owning thread (loads the file, registers its tickers), then the
/// agent runs on the feed thread: no parsing, no allocation while replaying.
class CsvFeed final : public Feed {
 public:
  /// Loads and validates the file. Check load().ok before running.
  CsvFeed(const CsvFeedOptions& opt, SymbolTable& symbols);

  [[nodiscard]] const CsvLoadResult& load() const noexcept { return load_; }

  std::size_t do_work() noexcept override;
  [[nodiscard]] bool done() const noexcept override { return next_ == end_ || stop_requested(); }
  [[nodiscard]] std::string label() const override;
  [[nodiscard]] std::vector<std::string> notices() const override;
  void report(FeedReport& out) const override;
  /// The rows the load refused (fixed when the feed was made).
  void rejects(std::vector<std::pair<std::string, std::uint64_t>>& out) const override;

 private:
  CsvFeedOptions opt_;
  CsvLoadResult load_;
  std::size_t next_ = 0;
  std::size_t end_ = 0;
  std::int64_t wall0_ = -1;  // steady clock of the first row (paced), set by the first duty cycle
};

}  // namespace tickforge
