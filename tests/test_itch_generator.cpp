// The ITCH 5.0 stream generator (feedhandlers/itch_generator.hpp): what it writes is read back with the
// decoder and the order book, and judged by them — every message decodes, every execution, cancel,
// delete and replace finds its order, the mix is the one documented, time never goes back, the same seed
// gives the same bytes. (tests/itch_feed_check.py also checks a generated file against the independent
// Python decoder.)
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "itch.hpp"
#include "itch_book.hpp"
#include "itch_generator.hpp"

using namespace tickforge;

namespace {

struct CountPrints {
  std::uint64_t* n;
  void operator()(const ItchPrint&) const noexcept { ++*n; }
};

}  // namespace

TEST(ItchGenerator, ShouldWriteAValidSessionWithTheDocumentedMix) {
  ItchGenOptions o;
  o.messages = 300'000;
  o.stocks = 20;
  o.live_orders = 5'000;
  ItchGenerator gen(o);
  const std::vector<std::uint8_t> bytes = gen.generate_all();
  EXPECT_EQ(bytes.size(), gen.counts().bytes);

  std::uint64_t prints = 0;
  ItchBook<CountPrints> book(1 << 16, CountPrints{&prints});
  std::map<char, std::uint64_t> types;
  std::uint64_t last_ns = 0, backwards = 0, last_add = 0, adds_not_increasing = 0;
  itch::FileFramer f(bytes.data(), bytes.size());
  std::uint64_t n = 0;
  for (auto m = f.next(); m.data != nullptr; m = f.next(), ++n) {
    ASSERT_EQ(itch::decode(m.data, m.size, book), itch::Status::kOk) << "message " << n;
    const char t = static_cast<char>(m.data[0]);
    ++types[t];
    const std::uint64_t ns = itch::be48(m.data + 5);
    backwards += ns < last_ns;
    last_ns = ns;
    if (t == 'A' || t == 'F') {
      const std::uint64_t ref = itch::be64(m.data + 11);
      adds_not_increasing += ref <= last_add;
      last_add = ref;
    }
  }
  EXPECT_STREQ(f.error(), "");
  EXPECT_FALSE(f.derived_lengths());
  EXPECT_EQ(n, gen.counts().messages);
  EXPECT_EQ(backwards, 0u) << "timestamps never go back";
  EXPECT_EQ(adds_not_increasing, 0u) << "order references increase through the day";
  // Every reference is to a live order: the book meets nothing unknown.
  const ItchBookCounters& c = book.counters();
  EXPECT_EQ(c.unknown_execute + c.unknown_execute_c + c.unknown_cancel + c.unknown_delete + c.unknown_replace, 0u);
  EXPECT_EQ(c.over_execute + c.duplicate_add + c.table_full, 0u);
  EXPECT_GT(c.non_printable, 0u);
  // The session frame.
  EXPECT_EQ(types['S'], 6u);
  EXPECT_EQ(types['R'], 20u);
  EXPECT_EQ(types['H'], 20u);
  EXPECT_EQ(types['Q'], 40u);  // opening and closing cross per stock
  // The order flow's mix (docs: add 45 %, delete 42 %, replace 7.5 %, execute 2.5 %, C 0.3 %, X 1.5 %, P 1.2 %).
  auto share = [&](std::uint64_t k) { return static_cast<double>(k) / static_cast<double>(o.messages); };
  EXPECT_NEAR(share(types['A'] + types['F']), 0.45, 0.03);
  EXPECT_NEAR(share(types['F']), 0.45 * 0.02, 0.003);
  EXPECT_NEAR(share(types['D']), 0.42, 0.03);
  EXPECT_NEAR(share(types['U']), 0.075, 0.01);
  EXPECT_NEAR(share(types['E']), 0.025, 0.005);
  EXPECT_NEAR(share(types['C']), 0.003, 0.001);
  EXPECT_NEAR(share(types['X']), 0.015, 0.005);
  EXPECT_NEAR(share(types['P']), 0.012, 0.004);
  // The book hovers around its target and the generator's own count of it agrees.
  EXPECT_GT(book.orders().size(), 4'000u);
  EXPECT_LT(book.orders().size(), 6'500u);
  EXPECT_GE(gen.counts().max_live, book.orders().size());
  EXPECT_EQ(prints, c.prints_e + c.prints_c + c.prints_p + c.prints_q);
  EXPECT_GT(c.prints_e, 5'000u);
}

TEST(ItchGenerator, ShouldGiveTheSameBytesForTheSameSeed) {
  ItchGenOptions o;
  o.messages = 20'000;
  const std::vector<std::uint8_t> a = ItchGenerator(o).generate_all();
  const std::vector<std::uint8_t> b = ItchGenerator(o).generate_all();
  EXPECT_EQ(a, b);
  o.seed = 2;
  EXPECT_NE(ItchGenerator(o).generate_all(), a);
}

TEST(ItchGenerator, ShouldWriteZeroPrefixesThatTheFramerDetects) {
  ItchGenOptions o;
  o.messages = 5'000;
  const std::vector<std::uint8_t> plain = ItchGenerator(o).generate_all();
  o.zero_prefix = true;
  const std::vector<std::uint8_t> zero = ItchGenerator(o).generate_all();
  ASSERT_EQ(zero.size(), plain.size());
  itch::FileFramer a(plain.data(), plain.size());
  itch::FileFramer b(zero.data(), zero.size());
  std::uint64_t n = 0;
  for (auto x = a.next(), y = b.next(); x.data != nullptr || y.data != nullptr; x = a.next(), y = b.next(), ++n) {
    ASSERT_NE(x.data, nullptr);
    ASSERT_NE(y.data, nullptr);
    ASSERT_EQ(x.size, y.size);
    ASSERT_EQ(std::vector<std::uint8_t>(x.data, x.data + x.size), std::vector<std::uint8_t>(y.data, y.data + y.size));
  }
  EXPECT_TRUE(b.derived_lengths());
  EXPECT_GT(n, 5'000u);
}

TEST(ItchGenerator, ShouldRefuseImpossibleOptions) {
  ItchGenOptions o;
  o.stocks = 0;
  EXPECT_THROW(ItchGenerator{o}, std::invalid_argument);
  o.stocks = 65'536;
  EXPECT_THROW(ItchGenerator{o}, std::invalid_argument);
  o.stocks = 1;
  o.live_orders = 0;
  EXPECT_THROW(ItchGenerator{o}, std::invalid_argument);
}
