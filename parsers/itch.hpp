// tickforge — NASDAQ TotalView-ITCH 5.0: one message's bytes → a typed message, and the BinaryFILE framing.
//
// The message layouts are the published specification's (v5.0 of 2015-03-06, and the 2023-04-28
// revision's DLCR 'O'; offsets in docs/itch.md and ../shared/data/itch/ITCH50_LAYOUT.md):
//   * every integer is big-endian and read byte-wise (memcpy + byte swap: no alignment assumption);
//   * the timestamp is 6 bytes of nanoseconds since midnight;
//   * Price(4) is a uint32 with 4 implied decimals (kept as that integer here), Price(8) one with 8;
//   * alpha fields (stock, MPID) are ASCII padded with spaces, kept as the raw bytes.
//
// decode() dispatches on the type byte to the handler's on(const Message&) overload for that type — a
// switch, no virtual call, no allocation, no exception. A message shorter than its type's length is
// refused (kTruncated) and one of an unknown type is refused (kUnknownType); a longer one is decoded
// from its first bytes (a later revision may append fields) and reported as kLonger.
//
// A handler derives from itch::IgnoreRest (or declares every overload) and writes `using
// IgnoreRest::on;` so the types it does not handle fall through to the no-op.
//
// Thread contract: everything here is a pure function or a value type; one FileFramer per thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tickforge::itch {

inline constexpr std::size_t kHeaderLength = 11;  // type, stock locate, tracking number, timestamp

/// The length of a message of `type` without framing; 0 for a type the specification does not define.
[[nodiscard]] constexpr std::size_t message_length(std::uint8_t type) noexcept {
  switch (type) {
    case 'S':
      return 12;
    case 'R':
      return 39;
    case 'H':
      return 25;
    case 'Y':
      return 20;
    case 'L':
      return 26;
    case 'V':
      return 35;
    case 'W':
      return 12;
    case 'K':
      return 28;
    case 'J':
      return 35;
    case 'h':
      return 21;
    case 'A':
      return 36;
    case 'F':
      return 40;
    case 'E':
      return 31;
    case 'C':
      return 36;
    case 'X':
      return 23;
    case 'D':
      return 19;
    case 'U':
      return 35;
    case 'P':
      return 44;
    case 'Q':
      return 40;
    case 'B':
      return 19;
    case 'I':
      return 50;
    case 'N':
      return 20;
    case 'O':
      return 48;
    default:
      return 0;
  }
}

/// Every defined type, in the specification's order.
inline constexpr std::array<char, 23> kTypes{'S', 'R', 'H', 'Y', 'L', 'V', 'W', 'K', 'J', 'h', 'A', 'F',
                                             'E', 'C', 'X', 'D', 'U', 'P', 'Q', 'B', 'I', 'N', 'O'};

// ---- big-endian fields ----------------------------------------------------------------------------
[[nodiscard]] inline std::uint16_t be16(const std::uint8_t* p) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap16(v);
}
[[nodiscard]] inline std::uint32_t be32(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap32(v);
}
[[nodiscard]] inline std::uint64_t be64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap64(v);
}
/// The 6-byte timestamp: nanoseconds since midnight.
[[nodiscard]] inline std::uint64_t be48(const std::uint8_t* p) noexcept {
  return (std::uint64_t{be16(p)} << 32) | be32(p + 2);
}

/// An 8-byte space-padded stock symbol, as sent.
struct Stock {
  std::array<char, 8> raw;
  /// The symbol without its padding (trailing spaces and NULs).
  [[nodiscard]] std::size_t size() const noexcept {
    std::size_t n = raw.size();
    while (n != 0 && (raw[n - 1] == ' ' || raw[n - 1] == '\0')) {
      --n;
    }
    return n;
  }
};

struct Header {
  char type;
  std::uint16_t locate;    ///< stock locate code (0 for messages about no stock)
  std::uint16_t tracking;  ///< Nasdaq internal tracking number
  std::uint64_t ns;        ///< nanoseconds since midnight (6 bytes on the wire)
};

// ---- messages (field names after the specification) -------------------------------------------------
struct SystemEvent {
  Header h;
  char event_code;
};  // O S Q M E C
struct StockDirectory {
  Header h;
  Stock stock;
  char market_category, financial_status;
  std::uint32_t round_lot_size;
  char round_lots_only, issue_classification;
  std::array<char, 2> issue_subtype;
  char authenticity, short_sale_threshold, ipo_flag, luld_tier, etp_flag;
  std::uint32_t etp_leverage_factor;
  char inverse_indicator;
};
struct TradingAction {
  Header h;
  Stock stock;
  char state;
  char reserved;
  std::array<char, 4> reason;
};
struct RegShoRestriction {
  Header h;
  Stock stock;
  char action;
};
struct ParticipantPosition {
  Header h;
  std::array<char, 4> mpid;
  Stock stock;
  char primary_mm, mode, state;
};
struct MwcbDeclineLevel {
  Header h;
  std::uint64_t level1, level2, level3;
};  ///< Price(8)
struct MwcbStatus {
  Header h;
  char breached_level;
};
struct IpoQuotingPeriod {
  Header h;
  Stock stock;
  std::uint32_t release_time_s;
  char qualifier;
  std::uint32_t price;
};
struct LuldAuctionCollar {
  Header h;
  Stock stock;
  std::uint32_t reference_price, upper_collar, lower_collar, extension;
};
struct OperationalHalt {
  Header h;
  Stock stock;
  char market_code;
  char action;
};
/// 'A' (no attribution: `has_mpid` false) and 'F'.
struct AddOrder {
  Header h;
  std::uint64_t ref;
  char side;  ///< B or S
  std::uint32_t shares;
  Stock stock;
  std::uint32_t price;  ///< Price(4)
  std::array<char, 4> mpid;
  bool has_mpid;
};
struct OrderExecuted {
  Header h;
  std::uint64_t ref;
  std::uint32_t shares;
  std::uint64_t match;
};
struct OrderExecutedWithPrice {
  Header h;
  std::uint64_t ref;
  std::uint32_t shares;
  std::uint64_t match;
  char printable;  ///< Y or N: only printable executions count in volume
  std::uint32_t price;
};
struct OrderCancel {
  Header h;
  std::uint64_t ref;
  std::uint32_t shares;
};
struct OrderDelete {
  Header h;
  std::uint64_t ref;
};
struct OrderReplace {
  Header h;
  std::uint64_t orig_ref, new_ref;
  std::uint32_t shares, price;
};
struct Trade {
  Header h;
  std::uint64_t ref;
  char side;
  std::uint32_t shares;
  Stock stock;
  std::uint32_t price;
  std::uint64_t match;
};
struct CrossTrade {
  Header h;
  std::uint64_t shares;  ///< 8 bytes here, 4 everywhere else
  Stock stock;
  std::uint32_t price;
  std::uint64_t match;
  char cross_type;
};
struct BrokenTrade {
  Header h;
  std::uint64_t match;
};
struct Noii {
  Header h;
  std::uint64_t paired_shares, imbalance_shares;
  char direction;
  Stock stock;
  std::uint32_t far_price, near_price, reference_price;
  char cross_type, variation;
};
struct RetailInterest {
  Header h;
  Stock stock;
  char interest;
};
struct DlcrPriceDiscovery {
  Header h;
  Stock stock;
  char open_eligibility;
  std::uint32_t min_price, max_price, near_price;
  std::uint64_t near_time;
  std::uint32_t lower_collar, upper_collar;
};

/// A handler's default for the types it does not handle.
struct IgnoreRest {
  template <typename M>
  void on(const M&) noexcept {}
};

enum class Status : std::uint8_t {
  kOk,
  kLonger,       ///< longer than its type: decoded from its first bytes (the rest ignored)
  kTruncated,    ///< shorter than its type: not decoded
  kUnknownType,  ///< a type byte the specification does not define: not decoded
  kEmpty,        ///< no bytes at all
};

namespace detail {
inline Header header(const std::uint8_t* p) noexcept {
  return Header{static_cast<char>(p[0]), be16(p + 1), be16(p + 3), be48(p + 5)};
}
inline Stock stock(const std::uint8_t* p) noexcept {
  Stock s;
  std::memcpy(s.raw.data(), p, s.raw.size());
  return s;
}
template <std::size_t N>
inline std::array<char, N> alpha(const std::uint8_t* p) noexcept {
  std::array<char, N> a;
  std::memcpy(a.data(), p, N);
  return a;
}
inline char ch(const std::uint8_t* p) noexcept {
  return static_cast<char>(*p);
}
}  // namespace detail

/// Decodes one message (p[0] is the type byte, len its length without framing) and calls h.on(message).
template <typename Handler>
Status decode(const std::uint8_t* p, std::size_t len, Handler& h) noexcept {
  using namespace detail;
  if (len == 0) {
    return Status::kEmpty;
  }
  const std::size_t need = message_length(p[0]);
  if (need == 0) {
    return Status::kUnknownType;
  }
  if (len < need) {
    return Status::kTruncated;
  }
  const Header hd = header(p);
  switch (p[0]) {
    case 'S':
      h.on(SystemEvent{hd, ch(p + 11)});
      break;
    case 'R':
      h.on(StockDirectory{hd, stock(p + 11), ch(p + 19), ch(p + 20), be32(p + 21), ch(p + 25), ch(p + 26),
                          alpha<2>(p + 27), ch(p + 29), ch(p + 30), ch(p + 31), ch(p + 32), ch(p + 33),
                          be32(p + 34), ch(p + 38)});
      break;
    case 'H':
      h.on(TradingAction{hd, stock(p + 11), ch(p + 19), ch(p + 20), alpha<4>(p + 21)});
      break;
    case 'Y':
      h.on(RegShoRestriction{hd, stock(p + 11), ch(p + 19)});
      break;
    case 'L':
      h.on(ParticipantPosition{hd, alpha<4>(p + 11), stock(p + 15), ch(p + 23), ch(p + 24), ch(p + 25)});
      break;
    case 'V':
      h.on(MwcbDeclineLevel{hd, be64(p + 11), be64(p + 19), be64(p + 27)});
      break;
    case 'W':
      h.on(MwcbStatus{hd, ch(p + 11)});
      break;
    case 'K':
      h.on(IpoQuotingPeriod{hd, stock(p + 11), be32(p + 19), ch(p + 23), be32(p + 24)});
      break;
    case 'J':
      h.on(LuldAuctionCollar{hd, stock(p + 11), be32(p + 19), be32(p + 23), be32(p + 27), be32(p + 31)});
      break;
    case 'h':
      h.on(OperationalHalt{hd, stock(p + 11), ch(p + 19), ch(p + 20)});
      break;
    case 'A':
    case 'F': {  // F is A with the attribution appended
      const bool mpid = p[0] == 'F';
      h.on(AddOrder{hd, be64(p + 11), ch(p + 19), be32(p + 20), stock(p + 24), be32(p + 32),
                    mpid ? alpha<4>(p + 36) : std::array<char, 4>{' ', ' ', ' ', ' '}, mpid});
      break;
    }
    case 'E':
      h.on(OrderExecuted{hd, be64(p + 11), be32(p + 19), be64(p + 23)});
      break;
    case 'C':
      h.on(OrderExecutedWithPrice{hd, be64(p + 11), be32(p + 19), be64(p + 23), ch(p + 31), be32(p + 32)});
      break;
    case 'X':
      h.on(OrderCancel{hd, be64(p + 11), be32(p + 19)});
      break;
    case 'D':
      h.on(OrderDelete{hd, be64(p + 11)});
      break;
    case 'U':
      h.on(OrderReplace{hd, be64(p + 11), be64(p + 19), be32(p + 27), be32(p + 31)});
      break;
    case 'P':
      h.on(Trade{hd, be64(p + 11), ch(p + 19), be32(p + 20), stock(p + 24), be32(p + 32), be64(p + 36)});
      break;
    case 'Q':
      h.on(CrossTrade{hd, be64(p + 11), stock(p + 19), be32(p + 27), be64(p + 31), ch(p + 39)});
      break;
    case 'B':
      h.on(BrokenTrade{hd, be64(p + 11)});
      break;
    case 'I':
      h.on(Noii{hd, be64(p + 11), be64(p + 19), ch(p + 27), stock(p + 28), be32(p + 36), be32(p + 40),
                be32(p + 44), ch(p + 48), ch(p + 49)});
      break;
    case 'N':
      h.on(RetailInterest{hd, stock(p + 11), ch(p + 19)});
      break;
    case 'O':
      h.on(DlcrPriceDiscovery{hd, stock(p + 11), ch(p + 19), be32(p + 20), be32(p + 24), be32(p + 28),
                              be64(p + 32), be32(p + 40), be32(p + 44)});
      break;
    default:
      return Status::kUnknownType;  // unreachable: message_length() knows the same types
  }
  return len == need ? Status::kOk : Status::kLonger;
}

// ---- BinaryFILE framing -----------------------------------------------------------------------------

/// Splits a Nasdaq BinaryFILE (each message preceded by its 2-byte big-endian length) into messages.
/// A file whose length prefixes are all zero (some writers leave them so) is detected at its first
/// record (prefix 0, a defined type after it) and read with each message's length taken from its type;
/// `derived_lengths()` then says so. Framing that cannot be followed — a record running past the end, or a
/// zero prefix before a byte that is no type — ends the input; `error()` says where and why.
class FileFramer {
 public:
  struct Message {
    const std::uint8_t* data;  ///< type byte first; nullptr at the end
    std::size_t size;
  };

  /// How the length prefixes are read: detected at the first record, or known (a later piece of an
  /// input whose first piece was detected).
  enum class Prefixes : std::uint8_t { kDetect, kLengths, kZero };

  FileFramer(const std::uint8_t* data, std::size_t size, Prefixes prefixes = Prefixes::kDetect) noexcept
      : p_(data),
        end_(data + size),
        begin_(data),
        derived_(prefixes == Prefixes::kZero),
        started_(prefixes != Prefixes::kDetect) {}

  /// The next message, or {nullptr, 0} at the end of the input (or of what could be framed).
  Message next() noexcept;

  [[nodiscard]] bool derived_lengths() const noexcept { return derived_; }
  /// What a framer over the input's next piece is told (after the first record: known).
  [[nodiscard]] Prefixes prefixes() const noexcept {
    return !started_ ? Prefixes::kDetect : derived_ ? Prefixes::kZero : Prefixes::kLengths;
  }
  /// The framing stopped only because the input ended inside a record (more bytes may complete it).
  [[nodiscard]] bool stopped_at_end() const noexcept { return at_end_; }
  /// Empty when the whole input was framed; otherwise why it stopped, with the byte offset.
  [[nodiscard]] const char* error() const noexcept { return error_; }
  [[nodiscard]] std::size_t error_offset() const noexcept { return error_offset_; }
  /// Bytes of the input not framed (0 after a clean end).
  [[nodiscard]] std::size_t unframed_bytes() const noexcept { return static_cast<std::size_t>(end_ - p_); }

 private:
  Message stop(const char* why, bool at_end = false) noexcept {
    error_ = why;
    at_end_ = at_end;
    error_offset_ = static_cast<std::size_t>(p_ - begin_);
    return Message{nullptr, 0};
  }

  const std::uint8_t* p_;
  const std::uint8_t* end_;
  const std::uint8_t* begin_;
  bool derived_;
  bool started_;
  bool at_end_ = false;
  const char* error_ = "";
  std::size_t error_offset_ = 0;
};

inline FileFramer::Message FileFramer::next() noexcept {
  if (*error_ != '\0' || p_ == end_) {
    return Message{nullptr, 0};
  }
  if (end_ - p_ < 2) {
    return stop("a record's 2-byte length runs past the end of the input", true);
  }
  std::size_t len = be16(p_);
  if (!started_) {
    started_ = true;
    derived_ = len == 0 && end_ - p_ > 2 && message_length(p_[2]) != 0;
  }
  if (derived_) {
    if (len != 0) {
      return stop("a nonzero length prefix in a file whose prefixes were zero");
    }
    if (end_ - p_ == 2) {
      return stop("a record runs past the end of the input (truncated file)", true);
    }
    len = message_length(p_[2]);
    if (len == 0) {
      return stop("a zero length prefix before a byte that is no ITCH 5.0 message type");
    }
  } else if (len == 0) {
    return stop("a zero length prefix in a file whose first prefix was not zero");
  }
  if (static_cast<std::size_t>(end_ - p_ - 2) < len) {
    return stop("a record runs past the end of the input (truncated file)", true);
  }
  const Message m{p_ + 2, len};
  p_ += 2 + len;
  return m;
}

}  // namespace tickforge::itch
