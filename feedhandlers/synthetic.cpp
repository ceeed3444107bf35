#include "synthetic.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "pacer.hpp"

namespace tickforge {

namespace {
struct Named {
  const char* name;
  double price;  // closing price on 2024-01-02 (USD, rounded), so the walk starts where the market was
};
constexpr Named kNames[] = {{"AAPL", 185.64}, {"MSFT", 370.87}, {"GOOGL", 138.17}, {"AMZN", 149.93},
                            {"META", 346.29}, {"NVDA", 481.68}, {"TSLA", 248.42}, {"AMD", 138.58}};
}  // namespace

std::vector<std::string> SyntheticFeed::default_tickers(std::uint32_t count, std::uint32_t first) {
  std::vector<std::string> out;
  for (std::uint32_t i = first; i < first + count; ++i) {
    if (i < std::size(kNames)) {
      out.emplace_back(kNames[i].name);
    } else {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "SYM%05u", i + 1);
      out.emplace_back(buf);
    }
  }
  return out;
}

SyntheticFeed::SyntheticFeed(const SyntheticOptions& opt, SymbolTable& symbols) : opt_(opt), rng_(opt.seed) {
  if (opt.step_ns <= 0 || opt.step_ns > kMaxDurationNs || !event_time_in_range(opt.start_event_ns)) {
    throw std::invalid_argument("synthetic feed: the event-time step must be in [1ns, 36500d] and the start "
                                "time in 1800-01-01 .. 2199-12-31");
  }
  // Tick k has event time start + k × step: the last k inside the supported range.
  ticks_in_range_ = event_span_ns(opt.start_event_ns, kMaxEventNs) / static_cast<std::uint64_t>(opt.step_ns) + 1;
  limit_ = opt.max_ticks != 0 && opt.max_ticks < ticks_in_range_ ? opt.max_ticks : ticks_in_range_;
  interval_ns_ = !opt.saturate && opt.rate > 0 ? 1e9 / opt.rate : 0;
  const std::vector<std::string> names = opt.tickers.empty() ? default_tickers(opt.count) : opt.tickers;
  for (const std::string& name : names) {
    SymbolTable::Reject why{};
    const SymbolId id = symbols.intern(name, &why);
    if (id == kNoSymbol) {
      throw std::invalid_argument("synthetic ticker '" + name + "': " + SymbolTable::to_string(why));
    }
    ids_.push_back(id);
    double p0 = 20.0 + static_cast<double>(rand() % 48000) / 100.0;  // 20.00 … 499.99 for other names
    for (const Named& n : kNames) {
      p0 = name == n.name ? n.price : p0;
    }
    log_start_.push_back(std::log(p0));
    log_price_.push_back(std::log(p0));
  }
}


Tick SyntheticFeed::next() noexcept {
  const std::size_t k = next_ticker_;
  next_ticker_ = next_ticker_ + 1 == ids_.size() ? 0 : next_ticker_ + 1;
  // Approximately normal log return: the sum of four uniforms has variance 1/3.
  const double z = (uniform() + uniform() + uniform() + uniform() - 2.0) * 1.7320508075688772;
  double r = opt_.reversion * (log_start_[k] - log_price_[k]) + opt_.sigma * z;
  if (uniform() < opt_.jump_probability) [[unlikely]] {
    const double size = 0.05 + 0.07 * uniform();
    r += (rand() & 1) != 0 ? std::log1p(size) : std::log1p(-size);
  }
  log_price_[k] += r;
  double volume = static_cast<double>(100 * (1 + rand() % 20));  // 100 … 2,000 shares
  if (uniform() < 1e-3) [[unlikely]] {
    volume *= 10;
  }
  Tick t{};
  t.symbol = ids_[k];
  t.price = std::exp(log_price_[k]);
  t.volume = volume;
  // seq_ < ticks_in_range_ in a run; next() called past it (a benchmark) stays at the last time.
  const std::uint64_t step = seq_ < ticks_in_range_ ? seq_ : ticks_in_range_ - 1;
  t.event_ns = static_cast<std::int64_t>(static_cast<std::uint64_t>(opt_.start_event_ns) +
                                         step * static_cast<std::uint64_t>(opt_.step_ns));
  t.seq = seq_++;
  return t;
}

std::size_t SyntheticFeed::do_work() noexcept {
  if (wall0_ < 0) {
    wall0_ = FeedPort::now_ns();
  }
  std::size_t n = 0;
  auto stopped = [this] { return stop_requested(); };
  while (n < kTicksPerDutyCycle && seq_ < limit_) {
    const std::int64_t due = interval_ns_ > 0 ? schedule_at(wall0_, static_cast<double>(seq_) * interval_ns_) : -1;
    if (due >= 0 && !wait_until(due, stopped)) {
      return n;
    }
    const Tick t = next();
    due >= 0 ? port().publish_at(t, due) : port().publish(t);
    ++n;
  }
  if (seq_ == limit_) {
    ended_ = true;
    reached_time_limit_ = limit_ == ticks_in_range_;
  }
  return n;
}

std::string SyntheticFeed::label() const {
  return "synthetic#" + std::to_string(opt_.index) + " (" + std::to_string(ids_.size()) + " tickers)";
}

void SyntheticFeed::report(FeedReport& out) const {
  out.label = label();
  out.counts.emplace_back("tickers", ids_.size());
  out.counts.emplace_back("generated", seq_);
  if (reached_time_limit_) {
    out.ended_early = "the next event time would pass 2199-12-31";
  }
}

}  // namespace tickforge
