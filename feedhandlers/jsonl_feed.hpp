// tickforge — JSON-lines replay feed (`--feed jsonl:PATH`): the messages a Kafka topic carries, one per
// line, from a file (`kcat -C -t ticks -e > ticks.jsonl`), replayed in file order as fast as possible or
// paced by --speed against event time. The file is read and parsed once, before the run (cold); the
// replay neither parses nor allocates. Bad lines are counted by reason, the first five reported with
// their line numbers. This whole feed is this one file plus one line in app/feed_registry.cpp.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <tickforge/symbol_table.hpp>

#include "feed.hpp"
#include "json_tick.hpp"
#include "pacer.hpp"

namespace tickforge {

class JsonLinesFeed final : public Feed {
 public:
  /// Reads and parses the file; throws std::runtime_error if it cannot be read.
  JsonLinesFeed(const std::string& path, const JsonFieldMap& fields, double speed, std::uint64_t max_ticks,
                SymbolTable& symbols)
      : path_(path), speed_(speed) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw std::runtime_error(path + ": cannot be read");
    }
    JsonTickParser parser(JsonTickParser::kDefaultCapacity, fields);
    std::string line;
    for (std::uint64_t n = 1; std::getline(in, line); ++n) {
      JsonTick t;
      JsonReject why{};
      if (line.find_first_not_of(" \t\r") == std::string::npos) {
        continue;  // blank
      }
      if (!parser.parse(line, t, why)) {
        reject(n, to_string(why), static_cast<std::size_t>(why));
        continue;
      }
      const SymbolId id = symbols.intern(t.ticker);
      if (id == kNoSymbol) {
        reject(n, "symbol_table_full", static_cast<std::size_t>(JsonReject::kCount));
        continue;
      }
      ticks_.push_back(Tick{id, 0, t.price, t.volume, t.event_ns, ticks_.size(), 0});
    }
    end_ = max_ticks != 0 && max_ticks < ticks_.size() ? max_ticks : ticks_.size();
  }

  std::size_t do_work() noexcept override {
    if (wall0_ < 0) {
      wall0_ = FeedPort::now_ns();
    }
    std::size_t n = 0;
    for (; n < kTicksPerDutyCycle && next_ < end_; ++n, ++next_) {
      const Tick& t = ticks_[next_];
      // File order is not time order: a line older than the first one is sent at once.
      const std::int64_t due = speed_ > 0 && t.event_ns >= ticks_.front().event_ns
                                   ? schedule_at(wall0_, static_cast<double>(event_span_ns(ticks_.front().event_ns,
                                                                                           t.event_ns)) / speed_)
                                   : -1;
      if (!publish_due(port(), t, due, [this] { return stop_requested(); })) {
        break;
      }
    }
    return n;
  }
  [[nodiscard]] bool done() const noexcept override { return next_ == end_ || stop_requested(); }
  [[nodiscard]] std::string label() const override {
    return "jsonl " + path_ + " (" + std::to_string(ticks_.size()) + " messages)";
  }
  [[nodiscard]] std::vector<std::string> notices() const override { return messages_; }
  void report(FeedReport& out) const override {
    out.label = label();
    out.counts.emplace_back("good", ticks_.size());
    std::string line = out.label + ": " + std::to_string(ticks_.size()) + " good";
    for (std::size_t k = 0; k < rejects_.size(); ++k) {
      if (rejects_[k] != 0) {
        const char* why = reason(k);
        out.counts.emplace_back(why, rejects_[k]);
        line += std::string(", ") + why + " " + std::to_string(rejects_[k]);
      }
    }
    out.lines.push_back(std::move(line));
  }
  /// The lines the load refused (fixed when the feed was made).
  void rejects(std::vector<std::pair<std::string, std::uint64_t>>& out) const override {
    for (std::size_t k = 0; k < rejects_.size(); ++k) {
      out.emplace_back(reason(k), rejects_[k]);
    }
  }

 private:
  static const char* reason(std::size_t k) noexcept {
    return k < static_cast<std::size_t>(JsonReject::kCount) ? to_string(static_cast<JsonReject>(k)) : "symbol_table_full";
  }
  void reject(std::uint64_t line, const char* why, std::size_t k) {
    ++rejects_[k];
    if (messages_.size() < 5) {
      messages_.push_back("skipped line: " + path_ + ":" + std::to_string(line) + ": " + why);
    }
  }

  std::string path_;
  double speed_;
  std::vector<Tick> ticks_;
  std::size_t next_ = 0;
  std::size_t end_ = 0;
  std::int64_t wall0_ = -1;
  std::vector<std::uint64_t> rejects_ = std::vector<std::uint64_t>(static_cast<std::size_t>(JsonReject::kCount) + 1, 0);
  std::vector<std::string> messages_;
};

}  // namespace tickforge
