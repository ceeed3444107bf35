// ItchBook (feedhandlers/itch_book.hpp): ITCH orders → trade prints. The sample file against figures from
// an independent Python decoder (tests/itch_reference.py), the print rules on crafted messages, and the
// order table against std::unordered_map under random inserts and erases.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "itch.hpp"
#include "itch_book.hpp"
#include "itch_bytes.hpp"

using tickforge::ItchBook;
using tickforge::ItchOrderTable;
using tickforge::ItchPrint;
namespace itch = tickforge::itch;

namespace {

struct Collect {
  std::vector<ItchPrint>* out;
  void operator()(const ItchPrint& p) const noexcept { out->push_back(p); }
};

itch::Header hdr(char type, std::uint16_t locate, std::uint64_t ns) {
  return itch::Header{type, locate, 0, ns};
}

struct PerLocate {
  std::uint64_t prints = 0, shares = 0, notional = 0;
};

}  // namespace

// Every figure here was printed by `python3 tests/itch_reference.py
// tests/data/itch/ex20101224.TEST_ITCH_50.lenfixed`, which decodes the file with Python's struct module.
TEST(ItchBook, ShouldPrintTheSampleFileAsTheIndependentReferenceDoes) {
  const std::vector<std::uint8_t> file =
      tickforge::test::read_file(std::string(TICKFORGE_TEST_DATA_DIR) + "/itch/ex20101224.TEST_ITCH_50.lenfixed");
  ASSERT_FALSE(file.empty());
  std::vector<ItchPrint> prints;
  ItchBook<Collect> book(1 << 16, Collect{&prints});
  itch::FileFramer f(file.data(), file.size());
  for (auto m = f.next(); m.data != nullptr; m = f.next()) {
    ASSERT_EQ(itch::decode(m.data, m.size, book), itch::Status::kOk);
  }
  const auto& c = book.counters();
  EXPECT_EQ(prints.size(), 5180u);
  EXPECT_EQ(c.prints_p, 5000u);
  EXPECT_EQ(c.prints_e, 180u);
  EXPECT_EQ(c.prints_c + c.prints_q, 0u);
  EXPECT_EQ(c.adds, 5000u);
  EXPECT_EQ(c.unknown_execute, 18u);  // the manifest: 18 E messages refer to orders not in the file
  EXPECT_EQ(c.unknown_replace, 2u);   // … and 2 U messages
  EXPECT_EQ(c.unknown_cancel, 3u);
  EXPECT_EQ(c.unknown_delete, 94u);
  EXPECT_EQ(c.unknown_execute_c + c.over_execute + c.non_printable + c.cross_zero + c.broken + c.table_full +
                c.duplicate_add,
            0u);
  EXPECT_EQ(book.orders().size(), 3206u);

  std::map<std::uint16_t, PerLocate> by;
  std::uint64_t shares = 0, notional = 0, e_shares = 0, e_notional = 0;
  for (const ItchPrint& p : prints) {
    PerLocate& l = by[p.locate];
    ++l.prints;
    l.shares += p.shares;
    l.notional += p.shares * p.price;
    shares += p.shares;
    notional += p.shares * p.price;
    if (p.kind == 'E') {
      e_shares += p.shares;
      e_notional += p.shares * p.price;
    }
  }
  EXPECT_EQ(shares, 733'930u);
  EXPECT_EQ(notional, 71'084'987'716u);
  EXPECT_EQ(e_shares, 59'798u);
  EXPECT_EQ(e_notional, 3'782'360'518u);  // the executions' prices came from the book
  ASSERT_EQ(by.size(), 3u);
  EXPECT_EQ(by[1].prints, 1911u);
  EXPECT_EQ(by[1].shares, 95'822u);
  EXPECT_EQ(by[1].notional, 22'638'197'616u);
  EXPECT_EQ(by[2].prints, 1794u);
  EXPECT_EQ(by[2].shares, 579'962u);
  EXPECT_EQ(by[2].notional, 35'455'807'725u);
  EXPECT_EQ(by[3].prints, 1475u);
  EXPECT_EQ(by[3].shares, 58'146u);
  EXPECT_EQ(by[3].notional, 12'990'982'375u);
  // The first print of locate 2 is an execution: priced from its resting order.
  const auto first2 =
      std::find_if(prints.begin(), prints.end(), [](const ItchPrint& p) { return p.locate == 2; });
  ASSERT_NE(first2, prints.end());
  EXPECT_EQ(first2->ns, 32'857'937'604'189u);
  EXPECT_EQ(first2->price, 54'167u);
  EXPECT_EQ(first2->shares, 1220u);
  EXPECT_EQ(first2->kind, 'E');
}

TEST(ItchBook, ShouldPriceExecutionsFromTheRestingOrderThroughReplaces) {
  std::vector<ItchPrint> prints;
  ItchBook<Collect> book(16, Collect{&prints});
  book.on(itch::AddOrder{hdr('A', 7, 100), 11, 'B', 500, {}, 1'500'000, {}, false});
  book.on(itch::OrderExecuted{hdr('E', 7, 200), 11, 200, 9001});
  ASSERT_EQ(prints.size(), 1u);
  EXPECT_EQ(prints[0].price, 1'500'000u);
  EXPECT_EQ(prints[0].shares, 200u);
  EXPECT_EQ(prints[0].locate, 7);
  EXPECT_EQ(prints[0].match, 9001u);
  EXPECT_EQ(prints[0].ns, 200u);
  EXPECT_EQ(prints[0].kind, 'E');
  ASSERT_NE(book.order(11), nullptr);
  EXPECT_EQ(book.order(11)->shares, 300u);

  // Replace: a new reference, the new price and shares, the side kept; the old reference is gone.
  book.on(itch::OrderReplace{hdr('U', 7, 300), 11, 12, 400, 1'490'000});
  EXPECT_EQ(book.order(11), nullptr);
  ASSERT_NE(book.order(12), nullptr);
  EXPECT_EQ(book.order(12)->side, 'B');
  EXPECT_EQ(book.order(12)->shares, 400u);
  book.on(itch::OrderExecuted{hdr('E', 7, 400), 12, 400, 9002});
  ASSERT_EQ(prints.size(), 2u);
  EXPECT_EQ(prints[1].price, 1'490'000u);
  EXPECT_EQ(book.order(12), nullptr);  // fully executed
  book.on(itch::OrderExecuted{hdr('E', 7, 500), 12, 1, 9003});
  EXPECT_EQ(prints.size(), 2u);  // unknown now: not printed
  EXPECT_EQ(book.counters().unknown_execute, 1u);
  EXPECT_EQ(book.counters().unknown_replace, 0u);
  EXPECT_EQ(book.counters().adds, 1u);
}

TEST(ItchBook, ShouldApplyThePrintRulesOfEveryExecutionKind) {
  std::vector<ItchPrint> prints;
  ItchBook<Collect> book(16, Collect{&prints});
  book.on(itch::AddOrder{hdr('F', 3, 1), 21, 'S', 1000, {}, 2'000'000, {'M', 'S', 'C', 'O'}, true});
  // C: printable at its own price; non-printable shrinks the order but prints nothing.
  book.on(itch::OrderExecutedWithPrice{hdr('C', 3, 2), 21, 100, 1, 'Y', 1'999'900});
  book.on(itch::OrderExecutedWithPrice{hdr('C', 3, 3), 21, 100, 2, 'N', 1'999'800});
  ASSERT_EQ(prints.size(), 1u);
  EXPECT_EQ(prints[0].price, 1'999'900u);
  EXPECT_EQ(prints[0].kind, 'C');
  EXPECT_EQ(book.counters().non_printable, 1u);
  EXPECT_EQ(book.order(21)->shares, 800u);
  // X partial, then X of more than is left: the order goes, counted.
  book.on(itch::OrderCancel{hdr('X', 3, 4), 21, 300});
  EXPECT_EQ(book.order(21)->shares, 500u);
  book.on(itch::OrderCancel{hdr('X', 3, 5), 21, 600});
  EXPECT_EQ(book.order(21), nullptr);
  EXPECT_EQ(book.counters().over_execute, 1u);
  // C of an unknown order: printed (its price is in the message), counted.
  book.on(itch::OrderExecutedWithPrice{hdr('C', 3, 6), 999, 10, 3, 'Y', 1'000'000});
  EXPECT_EQ(prints.size(), 2u);
  EXPECT_EQ(book.counters().unknown_execute_c, 1u);
  // P prints without the book; Q prints only with shares; B is counted.
  book.on(itch::Trade{hdr('P', 4, 7), 0, 'B', 250, {}, 3'000'000, 4});
  book.on(itch::CrossTrade{hdr('Q', 4, 8), 0, {}, 3'100'000, 5, 'O'});
  book.on(itch::CrossTrade{hdr('Q', 4, 9), 5'000'000'000ULL, {}, 3'100'000, 6, 'C'});
  book.on(itch::BrokenTrade{hdr('B', 0, 10), 4});
  ASSERT_EQ(prints.size(), 4u);
  EXPECT_EQ(prints[2].kind, 'P');
  EXPECT_EQ(prints[2].shares, 250u);
  EXPECT_EQ(prints[3].kind, 'Q');
  EXPECT_EQ(prints[3].shares, 5'000'000'000u);  // 8-byte cross shares survive
  EXPECT_EQ(book.counters().cross_zero, 1u);
  EXPECT_EQ(book.counters().broken, 1u);
  // D of an unknown order; a replace of an unknown order still enters the new one.
  book.on(itch::OrderDelete{hdr('D', 3, 11), 12345});
  EXPECT_EQ(book.counters().unknown_delete, 1u);
  book.on(itch::OrderReplace{hdr('U', 3, 12), 777, 778, 50, 1'234'500});
  EXPECT_EQ(book.counters().unknown_replace, 1u);
  ASSERT_NE(book.order(778), nullptr);
  book.on(itch::OrderExecuted{hdr('E', 3, 13), 778, 50, 7});
  EXPECT_EQ(prints.back().price, 1'234'500u);
  EXPECT_EQ(prints.back().locate, 3);
}

TEST(ItchBook, ShouldCountAddsTheTableHasNoRoomForAndDuplicates) {
  std::vector<ItchPrint> prints;
  ItchBook<Collect> book(2, Collect{&prints});
  book.on(itch::AddOrder{hdr('A', 1, 1), 1, 'B', 10, {}, 100, {}, false});
  book.on(itch::AddOrder{hdr('A', 1, 2), 1, 'B', 10, {}, 100, {}, false});
  book.on(itch::AddOrder{hdr('A', 1, 3), 2, 'B', 10, {}, 100, {}, false});
  book.on(itch::AddOrder{hdr('A', 1, 4), 3, 'B', 10, {}, 100, {}, false});
  EXPECT_EQ(book.counters().duplicate_add, 1u);
  EXPECT_EQ(book.counters().table_full, 1u);
  EXPECT_EQ(book.orders().size(), 2u);
  book.on(itch::OrderExecuted{hdr('E', 1, 5), 3, 10, 1});
  EXPECT_TRUE(prints.empty());
  EXPECT_EQ(book.counters().unknown_execute, 1u);
  EXPECT_THROW(ItchOrderTable(0), std::invalid_argument);
}

TEST(ItchOrderTable, ShouldAgreeWithAMapUnderRandomInsertsAndErases) {
  std::mt19937_64 rng(42);
  for (const auto index : {ItchOrderTable::Index::kHashed, ItchOrderTable::Index::kSequential}) {
  for (const std::size_t cap : {1u, 3u, 64u, 1000u}) {
    SCOPED_TRACE(index == ItchOrderTable::Index::kHashed ? "hashed" : "sequential");
    ItchOrderTable t(cap, index);
    std::unordered_map<std::uint64_t, std::uint32_t> ref;
    for (int step = 0; step < 200'000; ++step) {
      // A small key range so inserts collide with live keys, runs wrap and erases shift entries back.
      const std::uint64_t key = rng() % (cap * 3 + 5);
      if (rng() % 2 == 0) {
        const auto r = t.insert({key, static_cast<std::uint32_t>(step), 0, 0, 'B'});
        if (ref.count(key) != 0) {
          ASSERT_EQ(r, ItchOrderTable::Insert::kDuplicate);
        } else if (ref.size() == cap) {
          ASSERT_EQ(r, ItchOrderTable::Insert::kFull);
        } else {
          ASSERT_EQ(r, ItchOrderTable::Insert::kOk);
          ref[key] = static_cast<std::uint32_t>(step);
        }
      } else if (ItchOrderTable::Order* o = t.find(key); o != nullptr) {
        ASSERT_EQ(ref.count(key), 1u);
        ASSERT_EQ(o->shares, ref[key]);
        t.erase(o);
        ref.erase(key);
      } else {
        ASSERT_EQ(ref.count(key), 0u) << "lost key " << key << " at step " << step;
      }
      ASSERT_EQ(t.size(), ref.size());
    }
    for (const auto& [key, shares] : ref) {
      ASSERT_NE(t.find(key), nullptr);
      EXPECT_EQ(t.find(key)->shares, shares);
    }
  }
  }
  ItchOrderTable t(4);
  EXPECT_EQ(t.insert({ItchOrderTable::kEmpty, 1, 1, 1, 'B'}), ItchOrderTable::Insert::kBadRef);
  EXPECT_EQ(t.find(ItchOrderTable::kEmpty), nullptr);
}

// The sequential index with references as an exchange hands them out: increasing through the day, most
// orders gone soon, some resting for long, and now and then a reference far away (its home wraps).
TEST(ItchOrderTable, ShouldKeepEveryOrderWithSequentialReferencesAndLongLivedSurvivors) {
  std::mt19937_64 rng(7);
  ItchOrderTable t(500, ItchOrderTable::Index::kSequential);
  std::vector<std::uint64_t> live;
  std::uint64_t next = 1;
  for (int step = 0; step < 300'000; ++step) {
    if (live.size() < 500 && (live.empty() || rng() % 100 < 52)) {
      const std::uint64_t ref = rng() % 1000 == 0 ? rng() : next++;
      if (t.insert({ref, 1, 2, 3, 'S'}) == ItchOrderTable::Insert::kOk) {
        live.push_back(ref);
      }
      continue;
    }
    // Four in five: one of the last eight; else any.
    const std::size_t k = rng() % 5 != 0 ? live.size() - 1 - rng() % std::min<std::size_t>(8, live.size())
                                         : rng() % live.size();
    ItchOrderTable::Order* o = t.find(live[k]);
    ASSERT_NE(o, nullptr) << "lost " << live[k] << " at step " << step;
    t.erase(o);
    live[k] = live.back();
    live.pop_back();
    ASSERT_EQ(t.size(), live.size());
  }
  for (const std::uint64_t ref : live) {
    ASSERT_NE(t.find(ref), nullptr);
  }
}

// The reference the table uses for a free slot arrives in messages (found by fuzz_itch: an execution
// of it once "found" a free slot and erased it, and the order count went below zero).
TEST(ItchBook, ShouldTreatTheFreeSlotMarkerAsAnUnknownOrder) {
  std::vector<ItchPrint> prints;
  ItchBook<Collect> book(4, Collect{&prints});
  constexpr std::uint64_t kMarker = ItchOrderTable::kEmpty;
  book.on(itch::AddOrder{hdr('A', 1, 1), 5, 'B', 10, {}, 100, {}, false});
  book.on(itch::AddOrder{hdr('A', 1, 1), kMarker, 'B', 10, {}, 100, {}, false});
  book.on(itch::OrderExecuted{hdr('E', 1, 2), kMarker, 10, 1});
  book.on(itch::OrderCancel{hdr('X', 1, 3), kMarker, 10});
  book.on(itch::OrderDelete{hdr('D', 1, 4), kMarker});
  book.on(itch::OrderReplace{hdr('U', 1, 5), kMarker, kMarker, 10, 100});
  EXPECT_EQ(book.orders().size(), 1u);
  EXPECT_NE(book.order(5), nullptr);
  EXPECT_TRUE(prints.empty());
  const auto& c = book.counters();
  EXPECT_EQ(c.unknown_execute, 1u);
  EXPECT_EQ(c.unknown_cancel, 1u);
  EXPECT_EQ(c.unknown_delete, 1u);
  EXPECT_EQ(c.unknown_replace, 1u);
  EXPECT_EQ(c.duplicate_add, 2u);  // the add and the replace's new order: refused
}
