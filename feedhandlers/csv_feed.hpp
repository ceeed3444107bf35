// tickforge — CSV replay feed: loads a file once (cold), then replays its rows in event-time order, as
// fast as possible or paced by a speed factor against event time.
#pragma once

#include <atomic>
#include <cstdint>
#include <tickforge/engine.hpp>
#include <tickforge/symbol_table.hpp>

#include "csv_reader.hpp"

namespace tickforge {

class CsvFeed {
 public:
  /// Loads and validates the file, registering its tickers. Check load().ok before running.
  CsvFeed(const CsvOptions& opt, SymbolTable& symbols, double speed, std::uint64_t max_ticks);

  [[nodiscard]] const CsvLoadResult& load() const noexcept { return load_; }

  /// Publishes every loaded row (or max_ticks of them) unless `stop` is set first. No allocation.
  void run(FeedPort& port, const std::atomic<bool>& stop) noexcept;

 private:
  CsvLoadResult load_;
  double speed_;
  std::uint64_t max_ticks_;
};

}  // namespace tickforge
