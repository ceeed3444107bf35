#include "csv_feed.hpp"

#include "pacer.hpp"

namespace tickforge {

CsvFeed::CsvFeed(const CsvOptions& opt, SymbolTable& symbols, double speed, std::uint64_t max_ticks)
    : load_(load_csv(opt, [&symbols](std::string_view ticker) { return symbols.intern(ticker); })),
      speed_(speed),
      max_ticks_(max_ticks) {}

void CsvFeed::run(FeedPort& port, const std::atomic<bool>& stop) noexcept {
  const std::size_t n = max_ticks_ != 0 && max_ticks_ < load_.rows.size() ? max_ticks_ : load_.rows.size();
  const std::int64_t wall0 = FeedPort::now_ns();
  const std::int64_t event0 = n != 0 ? load_.rows.front().event_ns : 0;
  publish_paced(
      port, stop, n,
      [&](std::uint64_t i) {
        // Rows are sorted and in the supported range: the span is ≥ 0 but may exceed INT64_MAX.
        const double since = static_cast<double>(event_span_ns(event0, load_.rows[i].event_ns));
        return speed_ > 0 ? schedule_at(wall0, since / speed_) : -1;
      },
      [this](std::uint64_t i) {
        const CsvRow& row = load_.rows[i];
        Tick t{};
        t.symbol = row.symbol;
        t.price = row.price;
        t.volume = row.volume;
        t.event_ns = row.event_ns;
        t.seq = i;
        return t;
      });
}

}  // namespace tickforge
