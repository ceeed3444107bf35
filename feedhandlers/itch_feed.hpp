// tickforge — NASDAQ TotalView-ITCH 5.0 feeds: the exchange's own protocol, decoded (parsers/itch.hpp),
// its orders kept (itch_book.hpp) and every trade print turned into a Tick. The messages come from a
// file (`--feed itch:FILE`, plain or gzip) or from MoldUDP64 packets (itch_packets.hpp: a pcap capture,
// `--feed itch-pcap:FILE`, or live UDP, `--feed moldudp64:ADDR:PORT`).
//
//   file ──mmap──▶ FileFramer ──┐
//   (gzip: inflated piecewise)   ├─▶ itch::decode ──▶ ItchFeed::Handler ──print──▶ Tick ──▶ FeedPort
//   packets ──▶ ItchPackets ────┘    (in sequence)    R: locate → symbol (the stock directory)
//                                                     H: trading state per stock
//                                                     A F E C X D U P Q B: ItchBook
//
// Event time: an ITCH timestamp is nanoseconds since midnight of the session date in New York. The
// factory (app/feed_registry.cpp) resolves that midnight to a UTC instant with the tz database (cctz), so
// DST is right: 09:30 is 14:30 UTC in January and 13:30 UTC in July. The timestamp is taken as time
// elapsed since that midnight (on the two Sundays a year whose clocks change, elapsed and wall-clock time
// differ by an hour after 02:00; no session runs then).
//
// Replay: the file is memory-mapped (read-only, sequential advice) and decoded on the feed thread as it
// is replayed, as fast as possible or paced by the prints' timestamps (--speed, from the first print).
// No allocation and no lock per message; a stock directory message registers its ticker in the symbol
// table (a lock on that cold, once-per-stock path). With a ticker list only those stocks are registered;
// prints of the others are counted as not selected.
//
// Bad input is counted by reason, never a crash: messages shorter than their type, unknown types, a file
// whose framing breaks (where, and how many bytes were left), prints of a stock the directory never
// named, executions of orders the file never added (a file that starts mid-day: they have no price),
// and adds the order table had no room for. Broken trades are counted and their match numbers reported.
//
// Thread contract: as every Feed (feed.hpp): construct on the owning thread (maps the file), run on the
// feed thread; rejects() from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <tickforge/symbol_table.hpp>

#include "feed.hpp"
#include "itch.hpp"
#include "itch_book.hpp"
#include "itch_packets.hpp"
#include "mapped_file.hpp"

namespace tickforge {

/// The ITCH settings of a run (app/settings.cpp rows itch-date, itch-zone, itch-max-orders).
struct ItchFeedOptions {
  std::string date;                        ///< the session date, YYYY-MM-DD; empty: from the file name
  std::string zone = "America/New_York";   ///< the zone whose midnight the timestamps count from
  std::uint64_t max_orders = 1u << 20;     ///< live orders the order table holds (24 × 2 × this bytes)
  /// Where an order reference finds its slot: sequential (Nasdaq hands references out in order through
  /// the day, so recent orders sit together in the cache) or hashed (any references).
  ItchOrderTable::Index order_index = ItchOrderTable::Index::kSequential;
  // MoldUDP64 (itch-pcap: and moldudp64: feeds).
  std::uint64_t pcap_port = 0;             ///< the UDP destination port a capture's packets are kept by (0: all)
  std::string mold_request;                ///< the re-request server, ADDR:PORT (empty: none)
  std::string mold_interface = "0.0.0.0";  ///< the interface a multicast group is joined on
  std::uint64_t mold_window = 8192;        ///< packets held behind a gap
  std::int64_t mold_gap_wait_ns = 1'000'000;
  std::int64_t mold_timeout_ns = 50'000'000;
  std::uint32_t mold_retries = 3;
  bool mold_stop_on_gap = false;
  std::uint64_t mold_receive_buffer = 8u << 20;
};

/// One ITCH feed, resolved by the factory.
struct ItchFeedSpec {
  std::string path;                  ///< the file (for packets: see `packets`)
  bool from_packets = false;         ///< MoldUDP64 packets (a capture or live UDP) instead of a file
  ItchPacketSpec packets;
  std::string date;                  ///< YYYY-MM-DD, for the label
  std::int64_t midnight_utc_ns = 0;  ///< the session date's midnight in the zone, as UTC ns since the epoch
  std::uint64_t max_orders = 1u << 20;
  ItchOrderTable::Index order_index = ItchOrderTable::Index::kSequential;
  std::vector<std::string> tickers;  ///< only these stocks (empty: all)
  double speed = 0;                  ///< event time ÷ speed = wall time between prints; 0 = as fast as possible
  std::uint64_t max_ticks = 0;       ///< 0 = every print
};

/// "ex20101224.TEST_ITCH_50" → 2010-12-24, "01302019.NASDAQ_ITCH50.gz" → 2019-01-30: the first run of
/// exactly eight digits in the file's name, read as YYYYMMDD when that is a date from 1990 on, else as
/// MMDDYYYY. False when the name has no such date.
bool itch_date_from_file_name(const std::string& path, int& year, int& month, int& day);

class ItchFeed final : public Feed {
 public:
  /// Maps the file, or opens the capture or the sockets. Throws std::runtime_error if it cannot.
  ItchFeed(const ItchFeedSpec& spec, SymbolTable& symbols);
  ~ItchFeed() override;
  ItchFeed(const ItchFeed&) = delete;
  ItchFeed& operator=(const ItchFeed&) = delete;

  std::size_t do_work() noexcept override;
  [[nodiscard]] bool done() const noexcept override { return ended_ || stop_requested(); }
  [[nodiscard]] std::string label() const override;
  [[nodiscard]] std::vector<std::string> notices() const override;
  void report(FeedReport& out) const override;
  void rejects(std::vector<std::pair<std::string, std::uint64_t>>& out) const override;

  /// The decoder's and the book's figures (after the feed's thread has ended).
  [[nodiscard]] const ItchBookCounters& book_counters() const noexcept { return handler_.counters(); }

  /// Why input was refused: the reasons rejects() reports.
  enum class Reject : std::uint8_t {
    kTruncated,          ///< a message shorter than its type's length
    kUnknownType,        ///< a type byte ITCH 5.0 does not define
    kFraming,            ///< the file's framing broke: the rest of the file is not read
    kPrintWithoutStock,  ///< a print of a stock no directory message named (or the symbol table was full)
    kBadTimestamp,       ///< a print timestamped at or after 24:00
    kUnpricedExecution,  ///< an execution of an order never added: it has no price
    kOrderTableFull,     ///< an add the order table had no room for (raise --itch-max-orders)
    kCount
  };
  static const char* to_string(Reject r) noexcept;

 private:
  struct Printer {
    ItchFeed* feed;
    void operator()(const ItchPrint& p) const noexcept { feed->on_print(p); }
  };
  // The book plus the messages the feed itself keeps: the stock directory, trading actions, system
  // events and broken trades' match numbers.
  class Handler : public ItchBook<Printer> {
   public:
    Handler(std::size_t max_orders, ItchOrderTable::Index index, ItchFeed* feed)
        : ItchBook<Printer>(max_orders, Printer{feed}, index), feed_(feed) {}
    using ItchBook<Printer>::on;
    void on(const itch::StockDirectory& m) noexcept { feed_->on_directory(m); }
    // Adds and trades carry their stock's name: a file that starts mid-session (no directory message
    // for a stock) still names it. One compare per add when the stock is known.
    void on(const itch::AddOrder& m) noexcept {
      feed_->name_if_unnamed(m.h.locate, m.stock);
      ItchBook<Printer>::on(m);
    }
    void on(const itch::Trade& m) noexcept {
      feed_->name_if_unnamed(m.h.locate, m.stock);
      ItchBook<Printer>::on(m);
    }
    void on(const itch::CrossTrade& m) noexcept {
      feed_->name_if_unnamed(m.h.locate, m.stock);
      ItchBook<Printer>::on(m);
    }
    void on(const itch::TradingAction& m) noexcept { feed_->on_trading_action(m); }
    void on(const itch::SystemEvent& m) noexcept { feed_->on_system_event(m); }
    void on(const itch::BrokenTrade& m) noexcept {
      ItchBook<Printer>::on(m);
      feed_->on_broken(m);
    }

   private:
    ItchFeed* feed_;
  };

  void on_print(const ItchPrint& p) noexcept;
  void on_directory(const itch::StockDirectory& m) noexcept;
  // The stock by value (8 bytes, in a register): the decoded message need not be built in memory.
  void name_if_unnamed(std::uint16_t locate, itch::Stock stock) noexcept {
    if (symbol_of_[locate] == kNoSymbol) [[unlikely]] {
      name_from_order(locate, stock);
    }
  }
  [[gnu::cold, gnu::noinline]] void name_from_order(std::uint16_t locate, itch::Stock stock) noexcept;
  // The locate's symbol from a stock name (the directory's or an order's): registered, or marked not
  // selected, or (the table full) counted.
  void name_locate(std::uint16_t locate, const itch::Stock& stock) noexcept;
  void on_trading_action(const itch::TradingAction& m) noexcept;
  void on_system_event(const itch::SystemEvent& m) noexcept;
  void on_broken(const itch::BrokenTrade& m) noexcept;
  void publish_counts() noexcept;
  // The next message: from the mapping, or (gzip) from the window, inflating more when it runs out.
  itch::FileFramer::Message next_message() noexcept;
  // Packets: the session's next message; nothing now, or (packets_ended_) nothing more.
  std::unique_ptr<ItchPackets> packets_;
  bool packets_ended_ = false;
  // gzip: keeps the unframed tail of the window, inflates behind it, frames the window anew. False when
  // nothing more came.
  bool refill() noexcept;

  static constexpr std::size_t kLocates = 65536;
  static constexpr std::size_t kBrokenKept = 8;
  static constexpr SymbolId kNotSelected = kNoSymbol - 1;  // a stock outside the ticker list
  static constexpr SymbolId kTableFull = kNoSymbol - 2;    // named by an order when the table was full

  ItchFeedSpec spec_;
  SymbolTable& symbols_;
  MappedFile file_;  // the file (no mapping for an empty file, or packets)
  itch::FileFramer framer_;
  // gzip (a file starting 1f 8b): inflated on the feed thread into a fixed window, piece by piece.
  struct Gzip;
  std::unique_ptr<Gzip> gz_;
  std::vector<std::uint8_t> window_;
  std::size_t window_len_ = 0;
  std::uint64_t window_offset_ = 0;  // uncompressed bytes before the window's start
  bool derived_lengths_ = false;  // known at construction: the notice says so before the run
  Handler handler_;
  std::vector<SymbolId> symbol_of_;  // by stock locate; kNoSymbol until a directory message names it
  std::vector<char> trading_state_;  // by stock locate: the last H message's state (H, P, Q, T), ' ' none

  // Feed thread state.
  Tick pending_{};  // the print the last message made, until it is published
  bool has_pending_ = false;
  bool ended_ = false;
  std::uint64_t seq_ = 0;
  std::int64_t wall0_ = -1;    // steady clock of the first duty cycle (paced)
  std::int64_t event0_ = -1;   // event time of the first print (the pacing origin)
  std::int64_t end_ns_ = -1;   // steady clock when the input ended
  std::uint64_t messages_ = 0, longer_ = 0, not_selected_ = 0, halts_ = 0, stocks_ = 0;
  std::uint64_t directory_full_ = 0;  // stocks the symbol table had no room for
  std::uint64_t named_by_orders_ = 0;  // stocks named by an add or a trade: no directory message came first
  std::array<std::uint64_t, kBrokenKept> broken_match_{};
  std::string system_events_;  // the event codes in order (O S Q M E C), at most 16
  std::array<std::uint64_t, static_cast<std::size_t>(Reject::kCount)> counts_{};  // feed thread's copy

  // The rejects as rejects() reads them while the feed runs: single writer (the feed thread, once per
  // duty cycle), relaxed: each is a counter read on its own, carrying no other data.
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Reject::kCount)> live_{};
};

}  // namespace tickforge
