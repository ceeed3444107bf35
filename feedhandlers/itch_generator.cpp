#include "itch_generator.hpp"

#include <algorithm>
#include <stdexcept>

#include "itch.hpp"
#include "synthetic.hpp"

namespace tickforge {

namespace {

constexpr std::uint64_t kSecond = 1'000'000'000ULL;
constexpr std::uint64_t kHour = 3600 * kSecond;
constexpr std::uint64_t kOpen = 9 * kHour + 30 * 60 * kSecond;  // 09:30
constexpr std::uint64_t kClose = 16 * kHour;                   // 16:00
constexpr std::uint32_t kCent = 100;                           // in Price(4)
constexpr std::size_t kFlushBytes = 1 << 20;

__extension__ typedef unsigned __int128 U128;


}  // namespace

ItchGenerator::ItchGenerator(const ItchGenOptions& opt) : opt_(opt), rng_(opt.seed) {
  if (opt.stocks == 0 || opt.stocks > 65'535) {
    throw std::invalid_argument("stocks: 1 to 65535, got " + std::to_string(opt.stocks));
  }
  if (opt.live_orders == 0) {
    throw std::invalid_argument("live orders: at least 1");
  }
  names_ = SyntheticFeed::default_tickers(opt.stocks);
  double sum = 0;
  for (std::uint32_t i = 0; i < opt.stocks; ++i) {
    sum += 1.0 / (i + 1);
    zipf_cdf_.push_back(sum);
  }
  for (double& c : zipf_cdf_) {
    c /= sum;
  }
  mid_.assign(opt.stocks + 1, 0);
  for (std::uint32_t l = 1; l <= opt.stocks; ++l) {
    mid_[l] = static_cast<std::uint32_t>(20 + below(480)) * 10'000;  // $20 .. $500
  }
  live_.reserve(opt.live_orders * 2);
  buf_.reserve(kFlushBytes + 64);
}


std::uint64_t ItchGenerator::below(std::uint64_t n) noexcept {
  return static_cast<std::uint64_t>((static_cast<U128>(rng_()) * n) >> 64);
}

bool ItchGenerator::chance(std::uint32_t per_million) noexcept { return below(1'000'000) < per_million; }

std::uint16_t ItchGenerator::pick_stock() noexcept {
  const double u = rng_.uniform();
  const auto it = std::lower_bound(zipf_cdf_.begin(), zipf_cdf_.end(), u);
  return static_cast<std::uint16_t>(std::min<std::size_t>(it - zipf_cdf_.begin(), opt_.stocks - 1) + 1);
}

std::size_t ItchGenerator::pick_order() noexcept {
  const std::size_t n = live_.size();
  if (chance(800'000)) {  // one of the most recent: geometric, mean ~32
    std::size_t back = 0;
    while (back + 1 < n && chance(969'000)) {
      ++back;
    }
    return n - 1 - back;
  }
  return static_cast<std::size_t>(below(n));
}

void ItchGenerator::begin(char type, std::uint16_t locate) {
  if (!opt_.zero_prefix) {
    be(itch::message_length(static_cast<std::uint8_t>(type)), 2);
  } else {
    be(0, 2);
  }
  msg_start_ = buf_.size();
  u8(static_cast<std::uint8_t>(type));
  be(locate, 2);
  be(0, 2);  // tracking number
  be(ns_, 6);
}

void ItchGenerator::be(std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    buf_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

void ItchGenerator::stock(std::uint16_t locate) {
  std::string s = names_[locate - 1];
  s.resize(8, ' ');
  buf_.insert(buf_.end(), s.begin(), s.end());
}

void ItchGenerator::end() {
  const std::uint8_t type = buf_[msg_start_];
  if (buf_.size() - msg_start_ != itch::message_length(type)) {
    throw std::logic_error(std::string("ITCH generator: message ") + static_cast<char>(type) + " has the wrong length");
  }
  ++counts_.by_type[type];
  ++counts_.messages;
  flush(false);
}

void ItchGenerator::flush(bool force) {
  if (buf_.size() >= kFlushBytes || (force && !buf_.empty())) {
    counts_.bytes += buf_.size();
    sink_fn_(sink_, buf_.data(), buf_.size());
    buf_.clear();
  }
}

std::vector<std::uint8_t> ItchGenerator::generate_all() {
  std::vector<std::uint8_t> out;
  generate([&out](const std::uint8_t* p, std::size_t n) { out.insert(out.end(), p, p + n); });
  return out;
}

void ItchGenerator::run(SinkFn fn, void* sink) {
  sink_fn_ = fn;
  sink_ = sink;
  auto system_event = [this](char code, std::uint64_t at) {
    ns_ = at;
    begin('S', 0);
    u8(static_cast<std::uint8_t>(code));
    end();
  };
  auto cross = [this](std::uint16_t l, char type) {
    begin('Q', l);
    be(100 + below(100'000), 8);  // shares
    stock(l);
    be(mid_[l], 4);
    be(next_match_++, 8);
    u8(static_cast<std::uint8_t>(type));  // O opening, C closing
    end();
  };
  system_event('O', 3 * kHour);
  for (std::uint16_t l = 1; l <= opt_.stocks; ++l) {
    ns_ += 1'000;
    begin('R', l);
    stock(l);
    u8('Q');  // market category: NASDAQ Global Select
    u8('N');  // financial status: normal
    be(100, 4);  // round lot
    u8('N');
    u8('C');  // common stock
    u8(' ');
    u8(' ');
    u8('P');  // live/production
    u8('N');
    u8(' ');
    u8('1');  // LULD tier
    u8('N');
    be(0, 4);
    u8('N');
    end();
    begin('H', l);
    stock(l);
    u8('T');  // trading
    u8(' ');
    be(0x20202020, 4);
    end();
  }
  system_event('S', 4 * kHour);
  system_event('Q', kOpen);
  for (std::uint16_t l = 1; l <= opt_.stocks; ++l) {
    cross(l, 'O');
  }
  const std::uint64_t step = opt_.messages != 0 ? std::max<std::uint64_t>((kClose - kOpen) / opt_.messages, 1) : 1;
  for (std::uint64_t i = 0; i < opt_.messages; ++i) {
    ns_ += below(2 * step) + 1;
    // Below the target book the adds gain two points, above it they lose two: the book hovers there.
    if (live_.empty() || chance(live_.size() < opt_.live_orders ? 470'000 : 430'000)) {
      const std::uint16_t l = pick_stock();
      const char side = chance(500'000) ? 'B' : 'S';
      const std::uint32_t off = static_cast<std::uint32_t>(1 + below(10)) * kCent;
      if (chance(20'000)) {  // the mid's random walk, one cent, rarely below a dollar
        mid_[l] = chance(500'000) || mid_[l] < 100 * kCent ? mid_[l] + kCent : mid_[l] - kCent;
      }
      const Live o{next_ref_++, static_cast<std::uint32_t>(100 * (1 + below(10))), side == 'B' ? mid_[l] - off : mid_[l] + off,
                   l, side};
      const bool mpid = chance(20'000);
      begin(mpid ? 'F' : 'A', l);
      be(o.ref, 8);
      u8(static_cast<std::uint8_t>(side));
      be(o.shares, 4);
      stock(l);
      be(o.price, 4);
      if (mpid) {
        be(0x4e534456, 4);  // "NSDV"
      }
      end();
      live_.push_back(o);
      counts_.max_live = std::max<std::uint64_t>(counts_.max_live, live_.size());
      continue;
    }
    const std::uint64_t r = below(550'000);  // the other 55 points of the mix
    const std::size_t k = pick_order();
    Live& o = live_[k];
    auto remove = [this, k] {
      live_[k] = live_.back();
      live_.pop_back();
    };
    if (r < 420'000) {  // delete
      begin('D', o.locate);
      be(o.ref, 8);
      end();
      remove();
    } else if (r < 495'000) {  // replace: a new reference, price and size, same side
      const std::uint64_t new_ref = next_ref_++;
      const std::uint32_t price = o.side == 'B' ? o.price - kCent * static_cast<std::uint32_t>(below(2))
                                                : o.price + kCent * static_cast<std::uint32_t>(below(2));
      const std::uint32_t shares = static_cast<std::uint32_t>(100 * (1 + below(10)));
      begin('U', o.locate);
      be(o.ref, 8);
      be(new_ref, 8);
      be(shares, 4);
      be(price, 4);
      end();
      o.ref = new_ref;
      o.price = price;
      o.shares = shares;
    } else if (r < 523'000) {  // execution (2.5 %) or execution with price (0.3 %)
      const std::uint32_t shares = std::min<std::uint32_t>(o.shares, static_cast<std::uint32_t>(100 * (1 + below(5))));
      if (r < 520'000) {
        begin('E', o.locate);
        be(o.ref, 8);
        be(shares, 4);
        be(next_match_++, 8);
      } else {
        begin('C', o.locate);
        be(o.ref, 8);
        be(shares, 4);
        be(next_match_++, 8);
        u8(chance(900'000) ? 'Y' : 'N');
        be(o.price + (o.side == 'B' ? kCent : 0), 4);
      }
      end();
      o.shares -= shares;
      if (o.shares == 0) {
        remove();
      }
    } else if (r < 538'000 && o.shares > 100) {  // partial cancel
      const std::uint32_t shares = static_cast<std::uint32_t>(100 * (1 + below(o.shares / 100 - 1)));
      begin('X', o.locate);
      be(o.ref, 8);
      be(shares, 4);
      end();
      o.shares -= shares;
    } else {  // a non-displayed trade at the mid
      const std::uint16_t l = o.locate;
      begin('P', l);
      be(0, 8);
      u8(chance(500'000) ? 'B' : 'S');
      be(1 + below(500), 4);
      stock(l);
      be(mid_[l], 4);
      be(next_match_++, 8);
      end();
    }
  }
  ns_ = std::max(ns_ + 1, kClose);
  for (std::uint16_t l = 1; l <= opt_.stocks; ++l) {
    cross(l, 'C');
  }
  system_event('M', ns_ + 1);
  system_event('E', 20 * kHour);
  system_event('C', 20 * kHour + 5 * 60 * kSecond);
  flush(true);
}

}  // namespace tickforge
