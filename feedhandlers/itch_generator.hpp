// tickforge — a generator of valid NASDAQ TotalView-ITCH 5.0 streams with a realistic message mix, for
// throughput measurements (the shared sample has 12,012 messages) and for tests.
//
// The stream is one session: system events (O, S, Q at 09:30, M at 16:00, E, C), a stock directory
// message (R) and a trading action (H, trading) per stock, an opening and a closing cross (Q) per stock,
// and between 09:30 and 16:00 the order flow, whose mix follows a public AAPL day (about 0.9 M adds,
// 0.87 M deletes, 0.15 M replaces, 55 k executions):
//   add 45 % (1 in 50 with an MPID, F), delete 42 %, replace 7.5 %, execute 2.5 %, execute with price
//   0.3 % (1 in 10 non-printable), partial cancel 1.5 %, non-cross trade (P) 1.2 %.
// Every execution, cancel, delete and replace refers to an order that is live at that moment (so the
// book never meets an unknown order), with the locality real books show: four times in five one of the
// ~32 most recent orders, else any live order. Stocks are busy by Zipf (the first the busiest); each has a
// mid price on a random walk of one cent; orders rest one to ten cents from it. Order references and
// match numbers increase through the day, timestamps never go back.
//
// Deterministic: the same options give the same bytes (the random numbers are a fixed xoshiro256**, with
// no standard-library distribution whose output could change between library versions).
//
// Cold path: a tool, not the engine. Thread contract: one generator per thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xoshiro.hpp"

namespace tickforge {

struct ItchGenOptions {
  std::uint64_t messages = 1'000'000;  ///< order-flow messages (the session's other messages come on top)
  std::uint32_t stocks = 8;            ///< 1 .. 65,535; named as the synthetic feed names its tickers
  std::uint64_t seed = 1;
  std::uint32_t live_orders = 100'000;  ///< the book's size (all stocks) the flow hovers around
  bool zero_prefix = false;             ///< write zero length prefixes (as some tools do) instead of lengths
};

/// What a generated stream holds, by message type.
struct ItchGenCounts {
  std::array<std::uint64_t, 128> by_type{};  ///< indexed by the type byte
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  std::uint64_t max_live = 0;  ///< the most orders live at once
};

class ItchGenerator {
 public:
  /// Throws std::invalid_argument for 0 or more than 65,535 stocks or 0 live orders.
  explicit ItchGenerator(const ItchGenOptions& opt);

  /// Generates the whole stream, calling sink(const std::uint8_t* bytes, std::size_t n) with BinaryFILE
  /// records (length prefix and message), a batch at a time.
  template <typename Sink>
  void generate(Sink&& sink) {
    run([](void* s, const std::uint8_t* p, std::size_t n) { (*static_cast<Sink*>(s))(p, n); }, &sink);
  }
  /// The whole stream in memory.
  std::vector<std::uint8_t> generate_all();

  [[nodiscard]] const ItchGenCounts& counts() const noexcept { return counts_; }
  [[nodiscard]] const std::vector<std::string>& stock_names() const noexcept { return names_; }

 private:
  struct Live {
    std::uint64_t ref;
    std::uint32_t shares;
    std::uint32_t price;
    std::uint16_t locate;
    char side;
  };
  using SinkFn = void (*)(void*, const std::uint8_t*, std::size_t);

  void run(SinkFn fn, void* sink);
  std::uint64_t below(std::uint64_t n) noexcept;  // uniform in [0, n)
  bool chance(std::uint32_t per_million) noexcept;
  std::uint16_t pick_stock() noexcept;
  std::size_t pick_order() noexcept;
  void begin(char type, std::uint16_t locate);
  void u8(std::uint8_t v) { buf_.push_back(v); }
  void be(std::uint64_t v, int bytes);
  void stock(std::uint16_t locate);
  void end();
  void flush(bool force);

  ItchGenOptions opt_;
  Xoshiro256ss rng_;
  std::vector<std::string> names_;
  std::vector<double> zipf_cdf_;
  std::vector<std::uint32_t> mid_;  // per locate, Price(4)
  std::vector<Live> live_;
  std::vector<std::uint8_t> buf_;
  std::size_t msg_start_ = 0;
  std::uint64_t ns_ = 0;
  std::uint64_t next_ref_ = 1;
  std::uint64_t next_match_ = 1;
  SinkFn sink_fn_ = nullptr;
  void* sink_ = nullptr;
  ItchGenCounts counts_;
};

}  // namespace tickforge
