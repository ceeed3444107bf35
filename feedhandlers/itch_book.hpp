// tickforge — ITCH 5.0 orders → trade prints: the order table the executions need for their price.
//
// An execution ('E') carries no price: it is the price of the resting order, which an add ('A'/'F')
// gave and a replace ('U') may have changed. ItchBook keeps every live order in an open-addressing
// table sized at construction (linear probing, backward-shift deletion: no tombstones, no allocation
// per message) and turns the messages into prints, in the specification's terms:
//   E  order executed             → a print at the order's price; the order shrinks (gone at 0)
//   C  executed with price        → the order shrinks; a print at the execution price when printable
//                                   ('N' prints are counted, not printed: they would count volume twice)
//   P  trade (non-cross)          → a print; the book is not touched (non-displayed orders)
//   Q  cross trade                → a print when its shares are > 0
//   X  cancel / D delete / U replace (new reference, same side and stock, new shares and price)
//   B  broken trade               → counted (a print already sent cannot be taken back)
// Messages about orders the table never saw (a file that starts mid-day, or a selection) are counted
// and tolerated: an 'E' of an unknown order cannot be priced and is not printed; a 'C' still is (its
// price is in the message); a 'U' of an unknown order enters the new order so later executions of it
// are priced. An add the full table cannot take is counted (`table_full`), and executions of it are then
// unknown orders.
//
// Handler contract: OnPrint is called as on_print(const ItchPrint&) noexcept, on the decoding thread.
// Thread contract: one ItchBook per feed thread.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include "itch.hpp"

namespace tickforge {

/// One trade print from an ITCH stream.
struct ItchPrint {
  std::uint64_t ns;      ///< ITCH timestamp: ns since midnight (New York time) of the session date
  std::uint64_t shares;  ///< shares traded (Q carries 8 bytes; the others 4)
  std::uint64_t match;   ///< match number
  std::uint32_t price;   ///< Price(4): 4 implied decimals
  std::uint16_t locate;  ///< stock locate code (the stock directory 'R' names it)
  char kind;             ///< the message type it came from: E, C, P or Q
};

/// Live orders by reference: open addressing, linear probing, backward-shift deletion.
class ItchOrderTable {
 public:
  struct Order {
    std::uint64_t ref;
    std::uint32_t shares;
    std::uint32_t price;
    std::uint16_t locate;
    char side;
  };
  static_assert(sizeof(Order) == 24);
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};  // no order has this reference

  /// Room for max_orders live orders (the table is twice that, rounded up to a power of two, so probes
  /// stay short). Throws std::invalid_argument on 0 or more than 2^31.
  /// How a reference finds its home slot.
  enum class Index : std::uint8_t {
    kHashed,      ///< Fibonacci hashing: spread over the table, whatever the references are
    kSequential,  ///< the reference modulo the table: consecutive references in consecutive slots
  };

  explicit ItchOrderTable(std::size_t max_orders, Index index = Index::kHashed)
      : sequential_(index == Index::kSequential),
        max_orders_(check(max_orders)),
        mask_(std::bit_ceil(max_orders * 2) - 1),
        shift_(64 - std::countr_zero(mask_ + 1)),
        slots_(new Order[mask_ + 1]) {
    for (std::size_t i = 0; i <= mask_; ++i) {
      slots_[i].ref = kEmpty;  // also touches every page now, not on the first adds
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t max_orders() const noexcept { return max_orders_; }

  /// The order with this reference, or nullptr.
  [[nodiscard]] Order* find(std::uint64_t ref) noexcept {
    if (ref == kEmpty) [[unlikely]] {  // it would match the first free slot (found by the fuzzer)
      return nullptr;
    }
    for (std::size_t i = home(ref);; i = (i + 1) & mask_) {
      if (slots_[i].ref == ref) {
        return &slots_[i];
      }
      if (slots_[i].ref == kEmpty) {
        return nullptr;
      }
    }
  }

  enum class Insert : std::uint8_t { kOk, kFull, kDuplicate, kBadRef };
  Insert insert(const Order& o) noexcept {
    if (o.ref == kEmpty) {
      return Insert::kBadRef;
    }
    std::size_t i = home(o.ref);
    for (; slots_[i].ref != kEmpty; i = (i + 1) & mask_) {  // ends: the table is never more than half full
      if (slots_[i].ref == o.ref) {
        return Insert::kDuplicate;
      }
    }
    if (size_ == max_orders_) {
      return Insert::kFull;
    }
    slots_[i] = o;
    ++size_;
    return Insert::kOk;
  }

  /// Removes the order found by find(); the entries after it in its run move back so every lookup still
  /// finds its entry before an empty slot.
  void erase(Order* o) noexcept {
    std::size_t hole = static_cast<std::size_t>(o - slots_.get());
    for (std::size_t i = (hole + 1) & mask_; slots_[i].ref != kEmpty; i = (i + 1) & mask_) {
      // An entry may fill the hole if its home is not in (hole, i] (cyclically).
      const std::size_t h = home(slots_[i].ref);
      if (((i - h) & mask_) >= ((i - hole) & mask_)) {
        slots_[hole] = slots_[i];
        hole = i;
      }
    }
    slots_[hole].ref = kEmpty;
    --size_;
  }

 private:
  static std::size_t check(std::size_t n) {
    if (n == 0 || n > (std::size_t{1} << 31)) {
      throw std::invalid_argument("the ITCH order table holds 1 to 2^31 orders");
    }
    return n;
  }
  [[nodiscard]] std::size_t home(std::uint64_t ref) const noexcept {
    return sequential_ ? static_cast<std::size_t>(ref) & mask_
                       : static_cast<std::size_t>((ref * 0x9E3779B97F4A7C15ULL) >> shift_);
  }

  const bool sequential_;
  const std::size_t max_orders_;
  const std::size_t mask_;
  const int shift_;
  std::unique_ptr<Order[]> slots_;
  std::size_t size_ = 0;
};

/// What an ItchBook saw that did not become a print, and the prints by kind.
struct ItchBookCounters {
  std::uint64_t adds = 0;
  std::uint64_t prints_e = 0, prints_c = 0, prints_p = 0, prints_q = 0;
  std::uint64_t non_printable = 0;      ///< C with Printable = 'N'
  std::uint64_t cross_zero = 0;         ///< Q with 0 shares
  std::uint64_t broken = 0;             ///< B
  std::uint64_t unknown_execute = 0;    ///< E of an order not in the table: not printed
  std::uint64_t unknown_execute_c = 0;  ///< C of an order not in the table: printed when printable
  std::uint64_t unknown_cancel = 0;     ///< X
  std::uint64_t unknown_delete = 0;     ///< D
  std::uint64_t unknown_replace = 0;    ///< U: the new order is entered all the same
  std::uint64_t duplicate_add =
      0;                           ///< an add of a reference already live (the first is kept), or of 2^64 - 1
  std::uint64_t table_full = 0;    ///< an add the table had no room for
  std::uint64_t over_execute = 0;  ///< E/C/X of more shares than the order had left (it is removed)
};

template <typename OnPrint>
class ItchBook : public itch::IgnoreRest {
 public:
  using IgnoreRest::on;

  ItchBook(std::size_t max_orders, OnPrint on_print,
           ItchOrderTable::Index index = ItchOrderTable::Index::kHashed)
      : orders_(max_orders, index), print_(on_print) {}

  void on(const itch::AddOrder& m) noexcept {
    ++c_.adds;
    enter({m.ref, m.shares, m.price, m.h.locate, m.side});
  }
  void on(const itch::OrderExecuted& m) noexcept {
    ItchOrderTable::Order* o = orders_.find(m.ref);
    if (o == nullptr) {
      ++c_.unknown_execute;
      return;
    }
    ++c_.prints_e;
    print_(ItchPrint{m.h.ns, m.shares, m.match, o->price, o->locate, 'E'});
    reduce(o, m.shares);
  }
  void on(const itch::OrderExecutedWithPrice& m) noexcept {
    if (ItchOrderTable::Order* o = orders_.find(m.ref); o != nullptr) {
      reduce(o, m.shares);
    } else {
      ++c_.unknown_execute_c;
    }
    if (m.printable != 'Y') {
      ++c_.non_printable;
      return;
    }
    ++c_.prints_c;
    print_(ItchPrint{m.h.ns, m.shares, m.match, m.price, m.h.locate, 'C'});
  }
  void on(const itch::OrderCancel& m) noexcept {
    if (ItchOrderTable::Order* o = orders_.find(m.ref); o != nullptr) {
      reduce(o, m.shares);
    } else {
      ++c_.unknown_cancel;
    }
  }
  void on(const itch::OrderDelete& m) noexcept {
    if (ItchOrderTable::Order* o = orders_.find(m.ref); o != nullptr) {
      orders_.erase(o);
    } else {
      ++c_.unknown_delete;
    }
  }
  void on(const itch::OrderReplace& m) noexcept {
    char side = ' ';
    if (ItchOrderTable::Order* o = orders_.find(m.orig_ref); o != nullptr) {
      side = o->side;
      orders_.erase(o);
    } else {
      ++c_.unknown_replace;
    }
    enter({m.new_ref, m.shares, m.price, m.h.locate, side});
  }
  void on(const itch::Trade& m) noexcept {
    ++c_.prints_p;
    print_(ItchPrint{m.h.ns, m.shares, m.match, m.price, m.h.locate, 'P'});
  }
  void on(const itch::CrossTrade& m) noexcept {
    if (m.shares == 0) {
      ++c_.cross_zero;
      return;
    }
    ++c_.prints_q;
    print_(ItchPrint{m.h.ns, m.shares, m.match, m.price, m.h.locate, 'Q'});
  }
  void on(const itch::BrokenTrade&) noexcept { ++c_.broken; }

  [[nodiscard]] const ItchBookCounters& counters() const noexcept { return c_; }
  [[nodiscard]] const ItchOrderTable& orders() const noexcept { return orders_; }
  /// The live order with this reference (tests, snapshots), or nullptr.
  [[nodiscard]] const ItchOrderTable::Order* order(std::uint64_t ref) noexcept { return orders_.find(ref); }

 private:
  // An add's or a replace's new order.
  void enter(const ItchOrderTable::Order& o) noexcept {
    switch (orders_.insert(o)) {
      case ItchOrderTable::Insert::kOk:
        break;
      case ItchOrderTable::Insert::kFull:
        ++c_.table_full;
        break;
      case ItchOrderTable::Insert::kDuplicate:
      case ItchOrderTable::Insert::kBadRef:
        ++c_.duplicate_add;
        break;
    }
  }
  void reduce(ItchOrderTable::Order* o, std::uint32_t shares) noexcept {
    if (shares >= o->shares) {
      c_.over_execute += shares > o->shares;
      orders_.erase(o);
    } else {
      o->shares -= shares;
    }
  }

  ItchOrderTable orders_;
  OnPrint print_;
  ItchBookCounters c_;
};

}  // namespace tickforge
