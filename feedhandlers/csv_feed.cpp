#include "csv_feed.hpp"

#include "pacer.hpp"

namespace tickforge {

CsvFeed::CsvFeed(const CsvFeedOptions& opt, SymbolTable& symbols)
    : opt_(opt), load_(load_csv(opt.csv, [&symbols](std::string_view ticker) { return symbols.intern(ticker); })) {
  end_ = opt.max_ticks != 0 && opt.max_ticks < load_.rows.size() ? opt.max_ticks : load_.rows.size();
}

std::size_t CsvFeed::do_work() noexcept {
  if (wall0_ < 0) {
    wall0_ = FeedPort::now_ns();
  }
  const std::int64_t event0 = end_ != 0 ? load_.rows.front().event_ns : 0;
  auto stopped = [this] { return stop_requested(); };
  std::size_t n = 0;
  for (; n < kTicksPerDutyCycle && next_ < end_; ++n, ++next_) {
    const CsvRow& row = load_.rows[next_];
    Tick t{};
    t.symbol = row.symbol;
    t.price = row.price;
    t.volume = row.volume;
    t.event_ns = row.event_ns;
    t.seq = next_;
    // Rows are sorted and in the supported range: the span is ≥ 0 but may exceed INT64_MAX.
    const std::int64_t due =
        opt_.speed > 0 ? schedule_at(wall0_, static_cast<double>(event_span_ns(event0, row.event_ns)) / opt_.speed)
                       : -1;
    if (!publish_due(port(), t, due, stopped)) {
      break;
    }
  }
  return n;
}

std::string CsvFeed::label() const {
  return "csv " + opt_.csv.path + " (" + std::to_string(load_.rows.size()) + " rows)";
}

std::vector<std::string> CsvFeed::notices() const {
  std::vector<std::string> out;
  for (const std::string& m : load_.messages) {
    out.push_back("skipped row: " + m);
  }
  return out;
}

void CsvFeed::report(FeedReport& out) const {
  out.label = label();
  std::string line = out.label + ": " + std::to_string(load_.lines) + " lines, " +
                     std::to_string(load_.rows.size()) + " good, " + std::to_string(load_.blank) + " blank";
  out.counts.emplace_back("lines", load_.lines);
  out.counts.emplace_back("good", load_.rows.size());
  out.counts.emplace_back("blank", load_.blank);
  for (std::size_t k = 0; k < static_cast<std::size_t>(CsvReject::kCount); ++k) {
    if (load_.rejects[k] != 0) {
      const char* why = to_string(static_cast<CsvReject>(k));
      line += std::string(", ") + why + " " + std::to_string(load_.rejects[k]);
      out.counts.emplace_back(why, load_.rejects[k]);
    }
  }
  out.lines.push_back(std::move(line));
}

void CsvFeed::rejects(std::vector<std::pair<std::string, std::uint64_t>>& out) const {
  for (std::size_t k = 0; k < static_cast<std::size_t>(CsvReject::kCount); ++k) {
    out.emplace_back(to_string(static_cast<CsvReject>(k)), load_.rejects[k]);
  }
}

}  // namespace tickforge
