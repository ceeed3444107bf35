#include "synthetic.hpp"

#include <cmath>
#include <stdexcept>

#include "pacer.hpp"

namespace tickforge {

namespace {
std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) noexcept {
  return (x << k) | (x >> (64 - k));
}
}  // namespace

std::vector<std::string> SyntheticFeed::default_tickers(std::uint32_t count, std::uint32_t first) {
  static const char* const kNames[] = {"AAPL", "MSFT", "GOOGL", "AMZN", "META", "NVDA", "TSLA", "AMD"};
  std::vector<std::string> out;
  for (std::uint32_t i = first; i < first + count; ++i) {
    if (i < std::size(kNames)) {
      out.emplace_back(kNames[i]);
    } else {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "SYM%05u", i + 1);
      out.emplace_back(buf);
    }
  }
  return out;
}

SyntheticFeed::SyntheticFeed(const SyntheticOptions& opt, SymbolTable& symbols) : opt_(opt) {
  if (opt.step_ns <= 0 || opt.step_ns > kMaxDurationNs || !event_time_in_range(opt.start_event_ns)) {
    throw std::invalid_argument("synthetic feed: the event-time step must be in [1ns, 36500d] and the start "
                                "time in 1800-01-01 .. 2199-12-31");
  }
  // Tick k has event time start + k × step: the last k inside the supported range.
  ticks_in_range_ = event_span_ns(opt.start_event_ns, kMaxEventNs) / static_cast<std::uint64_t>(opt.step_ns) + 1;
  std::uint64_t x = opt.seed;
  for (auto& s : s_) {
    s = splitmix64(x);
  }
  const std::vector<std::string> names = opt.tickers.empty() ? default_tickers(opt.count) : opt.tickers;
  for (const std::string& name : names) {
    SymbolTable::Reject why{};
    const SymbolId id = symbols.intern(name, &why);
    if (id == kNoSymbol) {
      throw std::invalid_argument("synthetic ticker '" + name + "': " + SymbolTable::to_string(why));
    }
    ids_.push_back(id);
    prices_.push_back(20.0 + static_cast<double>(rand() % 48000) / 100.0);  // 20.00 … 499.99
  }
}

std::uint64_t SyntheticFeed::rand() noexcept {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

Tick SyntheticFeed::next() noexcept {
  const std::size_t k = next_ticker_;
  next_ticker_ = next_ticker_ + 1 == ids_.size() ? 0 : next_ticker_ + 1;
  // Approximately normal log return: the sum of four uniforms has variance 1/3.
  const double z = (uniform() + uniform() + uniform() + uniform() - 2.0) * 1.7320508075688772;
  double r = opt_.sigma * z;
  if (uniform() < opt_.jump_probability) [[unlikely]] {
    const double size = 0.05 + 0.07 * uniform();
    r += (rand() & 1) != 0 ? std::log1p(size) : std::log1p(-size);
  }
  prices_[k] *= std::exp(r);
  double volume = static_cast<double>(100 * (1 + rand() % 20));  // 100 … 2,000 shares
  if (uniform() < 1e-3) [[unlikely]] {
    volume *= 10;
  }
  Tick t{};
  t.symbol = ids_[k];
  t.price = prices_[k];
  t.volume = volume;
  // seq_ < ticks_in_range_ in run(); next() called past it (a benchmark) stays at the last time.
  const std::uint64_t step = seq_ < ticks_in_range_ ? seq_ : ticks_in_range_ - 1;
  t.event_ns = static_cast<std::int64_t>(static_cast<std::uint64_t>(opt_.start_event_ns) +
                                         step * static_cast<std::uint64_t>(opt_.step_ns));
  t.seq = seq_++;
  return t;
}

void SyntheticFeed::run(FeedPort& port, const std::atomic<bool>& stop) noexcept {
  const std::int64_t start = FeedPort::now_ns();
  const double interval = opt_.rate > 0 ? 1e9 / opt_.rate : 0;
  const std::uint64_t wanted = opt_.max_ticks == 0 ? UINT64_MAX : opt_.max_ticks;
  const std::uint64_t left = ticks_in_range_ - seq_;
  publish_paced(
      port, stop, wanted < left ? wanted : left,
      [&](std::uint64_t i) { return interval > 0 ? schedule_at(start, static_cast<double>(i) * interval) : -1; },
      [this](std::uint64_t) { return next(); });
  reached_time_limit_ = seq_ == ticks_in_range_;
}

}  // namespace tickforge
