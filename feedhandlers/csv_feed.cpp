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
  for (std::size_t i = 0; i < n; ++i) {
    if ((i & 63) == 0 && stop.load(std::memory_order_relaxed)) {  // relaxed: a flag with no payload
      return;
    }
    const CsvRow& row = load_.rows[i];
    if (speed_ > 0) {
      wait_until(wall0 + static_cast<std::int64_t>(static_cast<double>(row.event_ns - event0) / speed_));
    }
    Tick t{};
    t.symbol = row.symbol;
    t.price = row.price;
    t.volume = row.volume;
    t.event_ns = row.event_ns;
    t.seq = i;
    port.publish(t);
  }
}

}  // namespace tickforge
