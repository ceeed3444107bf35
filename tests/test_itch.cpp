// The ITCH 5.0 decoder and BinaryFILE framer (parsers/itch.hpp): the real-format sample file against its
// manifest's counts (both framings), every message type from bytes written at the specification's
// offsets (the layout table in docs/itch.md, not the decoder's code), and truncated, unknown, longer and
// corrupted input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "itch.hpp"
#include "itch_bytes.hpp"

namespace itch = tickforge::itch;

namespace {

using tickforge::test::Bytes;
using tickforge::test::read_file;

std::string data_path(const char* name) {
  return std::string(TICKFORGE_TEST_DATA_DIR) + "/itch/" + name;
}

// Counts what a file holds, by type, and keeps what the manifest states.
struct Census : itch::IgnoreRest {
  using IgnoreRest::on;
  std::map<char, std::uint64_t> by_type;
  std::string system_events;
  std::uint64_t min_ns = UINT64_MAX, max_ns = 0;
  template <typename M>
  void seen(const M& m) {
    ++by_type[m.h.type];
    min_ns = std::min(min_ns, m.h.ns);
    max_ns = std::max(max_ns, m.h.ns);
  }
  void on(const itch::SystemEvent& m) { seen(m), system_events += m.event_code; }
  void on(const itch::StockDirectory& m) { seen(m); }
  void on(const itch::TradingAction& m) { seen(m); }
  void on(const itch::AddOrder& m) { seen(m); }
  void on(const itch::OrderExecuted& m) { seen(m); }
  void on(const itch::OrderCancel& m) { seen(m); }
  void on(const itch::OrderDelete& m) { seen(m); }
  void on(const itch::OrderReplace& m) { seen(m); }
  void on(const itch::Trade& m) { seen(m); }
};

struct FileResult {
  Census census;
  std::uint64_t messages = 0;
  std::uint64_t not_ok = 0;
  bool derived = false;
  std::string error;
};

FileResult census_of(const std::vector<std::uint8_t>& bytes) {
  FileResult r;
  itch::FileFramer f(bytes.data(), bytes.size());
  for (auto m = f.next(); m.data != nullptr; m = f.next()) {
    ++r.messages;
    r.not_ok += itch::decode(m.data, m.size, r.census) != itch::Status::kOk;
  }
  r.derived = f.derived_lengths();
  r.error = f.error();
  return r;
}

void expect_manifest_counts(const FileResult& r) {
  const std::map<char, std::uint64_t> want{{'S', 6},   {'R', 3},  {'H', 3},    {'A', 4997}, {'F', 3},
                                           {'E', 198}, {'X', 45}, {'D', 1745}, {'U', 12},   {'P', 5000}};
  EXPECT_EQ(r.census.by_type, want);
  EXPECT_EQ(r.messages, 12'012u);
  EXPECT_EQ(r.not_ok, 0u);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.census.system_events, "OSQMEC");
  EXPECT_EQ(r.census.min_ns, 11'202'475'298'710u);
  EXPECT_EQ(r.census.max_ns, 68'698'845'099'321u);
}

// Keeps the last message of each type.
struct Last {
  itch::SystemEvent s{};
  itch::StockDirectory r{};
  itch::TradingAction h{};
  itch::RegShoRestriction y{};
  itch::ParticipantPosition l{};
  itch::MwcbDeclineLevel v{};
  itch::MwcbStatus w{};
  itch::IpoQuotingPeriod k{};
  itch::LuldAuctionCollar j{};
  itch::OperationalHalt oh{};
  itch::AddOrder a{};
  itch::OrderExecuted e{};
  itch::OrderExecutedWithPrice cx{};
  itch::OrderCancel x{};
  itch::OrderDelete d{};
  itch::OrderReplace u{};
  itch::Trade p{};
  itch::CrossTrade q{};
  itch::BrokenTrade bt{};
  itch::Noii i{};
  itch::RetailInterest n{};
  itch::DlcrPriceDiscovery o{};
  int calls = 0;
  void on(const itch::SystemEvent& m) { s = m, ++calls; }
  void on(const itch::StockDirectory& m) { r = m, ++calls; }
  void on(const itch::TradingAction& m) { h = m, ++calls; }
  void on(const itch::RegShoRestriction& m) { y = m, ++calls; }
  void on(const itch::ParticipantPosition& m) { l = m, ++calls; }
  void on(const itch::MwcbDeclineLevel& m) { v = m, ++calls; }
  void on(const itch::MwcbStatus& m) { w = m, ++calls; }
  void on(const itch::IpoQuotingPeriod& m) { k = m, ++calls; }
  void on(const itch::LuldAuctionCollar& m) { j = m, ++calls; }
  void on(const itch::OperationalHalt& m) { oh = m, ++calls; }
  void on(const itch::AddOrder& m) { a = m, ++calls; }
  void on(const itch::OrderExecuted& m) { e = m, ++calls; }
  void on(const itch::OrderExecutedWithPrice& m) { cx = m, ++calls; }
  void on(const itch::OrderCancel& m) { x = m, ++calls; }
  void on(const itch::OrderDelete& m) { d = m, ++calls; }
  void on(const itch::OrderReplace& m) { u = m, ++calls; }
  void on(const itch::Trade& m) { p = m, ++calls; }
  void on(const itch::CrossTrade& m) { q = m, ++calls; }
  void on(const itch::BrokenTrade& m) { bt = m, ++calls; }
  void on(const itch::Noii& m) { i = m, ++calls; }
  void on(const itch::RetailInterest& m) { n = m, ++calls; }
  void on(const itch::DlcrPriceDiscovery& m) { o = m, ++calls; }
};

// Any message: its header.
struct HeaderOnly {
  itch::Header got{};
  int calls = 0;
  template <typename M>
  void on(const M& msg) {
    got = msg.h;
    ++calls;
  }
};

std::string str(const itch::Stock& s) {
  return std::string(s.raw.data(), s.size());
}
template <std::size_t N>
std::string str(const std::array<char, N>& a) {
  return std::string(a.data(), N);
}

constexpr std::uint64_t kNs = 0x0000'ABCD'1234'5678ULL;  // uses all six timestamp bytes

itch::Status decode(const Bytes& m, Last& last) {
  return itch::decode(m.b.data(), m.b.size(), last);
}

}  // namespace

TEST(Itch, ShouldMatchTheManifestCountsOfTheSampleFile) {
  const FileResult r = census_of(read_file(data_path("ex20101224.TEST_ITCH_50.lenfixed")));
  EXPECT_FALSE(r.derived);
  expect_manifest_counts(r);
}

TEST(Itch, ShouldReadTheZeroPrefixFileByMessageTypeAndSaySo) {
  const std::vector<std::uint8_t> bytes = read_file(data_path("ex20101224.TEST_ITCH_50"));
  ASSERT_EQ(bytes.at(0), 0);
  ASSERT_EQ(bytes.at(1), 0);
  const FileResult r = census_of(bytes);
  EXPECT_TRUE(r.derived);
  expect_manifest_counts(r);
}

TEST(Itch, ShouldDecodeTheHeaderOfEveryType) {
  for (const char t : itch::kTypes) {
    Bytes m(itch::message_length(static_cast<std::uint8_t>(t)), t, 0xBEEF, 0x0102, kNs);
    HeaderOnly h;
    EXPECT_EQ(itch::decode(m.b.data(), m.b.size(), h), itch::Status::kOk) << t;
    EXPECT_EQ(h.calls, 1) << t;
    EXPECT_EQ(h.got.type, t);
    EXPECT_EQ(h.got.locate, 0xBEEF) << t;
    EXPECT_EQ(h.got.tracking, 0x0102) << t;
    EXPECT_EQ(h.got.ns, kNs) << t;
  }
}

TEST(Itch, ShouldDecodeSystemDirectoryAndStatusMessages) {
  Last last;
  EXPECT_EQ(decode(Bytes(12, 'S', 0, 0, kNs).c(11, 'Q'), last), itch::Status::kOk);
  EXPECT_EQ(last.s.event_code, 'Q');

  Bytes r(39, 'R', 7, 0, kNs);
  r.alpha(11, "AAPL", 8).c(19, 'Q').c(20, 'N').be(21, 4, 100).c(25, 'N').c(26, 'C').alpha(27, "Z ", 2);
  r.c(29, 'P').c(30, 'N').c(31, ' ').c(32, '1').c(33, 'N').be(34, 4, 3).c(38, 'N');
  EXPECT_EQ(decode(r, last), itch::Status::kOk);
  EXPECT_EQ(str(last.r.stock), "AAPL");
  EXPECT_EQ(last.r.market_category, 'Q');
  EXPECT_EQ(last.r.financial_status, 'N');
  EXPECT_EQ(last.r.round_lot_size, 100u);
  EXPECT_EQ(last.r.round_lots_only, 'N');
  EXPECT_EQ(last.r.issue_classification, 'C');
  EXPECT_EQ(str(last.r.issue_subtype), "Z ");
  EXPECT_EQ(last.r.authenticity, 'P');
  EXPECT_EQ(last.r.short_sale_threshold, 'N');
  EXPECT_EQ(last.r.ipo_flag, ' ');
  EXPECT_EQ(last.r.luld_tier, '1');
  EXPECT_EQ(last.r.etp_flag, 'N');
  EXPECT_EQ(last.r.etp_leverage_factor, 3u);
  EXPECT_EQ(last.r.inverse_indicator, 'N');

  EXPECT_EQ(
      decode(Bytes(25, 'H', 7, 0, kNs).alpha(11, "AAPL", 8).c(19, 'H').c(20, ' ').alpha(21, "T1", 4), last),
      itch::Status::kOk);
  EXPECT_EQ(str(last.h.stock), "AAPL");
  EXPECT_EQ(last.h.state, 'H');
  EXPECT_EQ(str(last.h.reason), "T1  ");

  EXPECT_EQ(decode(Bytes(20, 'Y', 7, 0, kNs).alpha(11, "MSFT", 8).c(19, '1'), last), itch::Status::kOk);
  EXPECT_EQ(str(last.y.stock), "MSFT");
  EXPECT_EQ(last.y.action, '1');

  EXPECT_EQ(
      decode(
          Bytes(26, 'L', 7, 0, kNs).alpha(11, "GSCO", 4).alpha(15, "IBM", 8).c(23, 'Y').c(24, 'N').c(25, 'A'),
          last),
      itch::Status::kOk);
  EXPECT_EQ(str(last.l.mpid), "GSCO");
  EXPECT_EQ(str(last.l.stock), "IBM");
  EXPECT_EQ(last.l.primary_mm, 'Y');
  EXPECT_EQ(last.l.mode, 'N');
  EXPECT_EQ(last.l.state, 'A');

  const std::uint64_t l1 = 32'145'600'000'000ULL, l2 = 0x0102030405060708ULL, l3 = 1;
  EXPECT_EQ(decode(Bytes(35, 'V', 0, 0, kNs).be(11, 8, l1).be(19, 8, l2).be(27, 8, l3), last),
            itch::Status::kOk);
  EXPECT_EQ(last.v.level1, l1);
  EXPECT_EQ(last.v.level2, l2);
  EXPECT_EQ(last.v.level3, l3);

  EXPECT_EQ(decode(Bytes(12, 'W', 0, 0, kNs).c(11, '2'), last), itch::Status::kOk);
  EXPECT_EQ(last.w.breached_level, '2');

  EXPECT_EQ(
      decode(Bytes(28, 'K', 9, 0, kNs).alpha(11, "NEWCO", 8).be(19, 4, 34'200).c(23, 'A').be(24, 4, 215'000),
             last),
      itch::Status::kOk);
  EXPECT_EQ(str(last.k.stock), "NEWCO");
  EXPECT_EQ(last.k.release_time_s, 34'200u);
  EXPECT_EQ(last.k.qualifier, 'A');
  EXPECT_EQ(last.k.price, 215'000u);

  EXPECT_EQ(decode(Bytes(35, 'J', 9, 0, kNs)
                       .alpha(11, "XYZ", 8)
                       .be(19, 4, 1'000'000)
                       .be(23, 4, 1'100'000)
                       .be(27, 4, 900'000)
                       .be(31, 4, 2),
                   last),
            itch::Status::kOk);
  EXPECT_EQ(str(last.j.stock), "XYZ");
  EXPECT_EQ(last.j.reference_price, 1'000'000u);
  EXPECT_EQ(last.j.upper_collar, 1'100'000u);
  EXPECT_EQ(last.j.lower_collar, 900'000u);
  EXPECT_EQ(last.j.extension, 2u);

  EXPECT_EQ(decode(Bytes(21, 'h', 9, 0, kNs).alpha(11, "XYZ", 8).c(19, 'B').c(20, 'T'), last),
            itch::Status::kOk);
  EXPECT_EQ(str(last.oh.stock), "XYZ");
  EXPECT_EQ(last.oh.market_code, 'B');
  EXPECT_EQ(last.oh.action, 'T');
}

TEST(Itch, ShouldDecodeOrderMessages) {
  Last last;
  const std::uint64_t ref = 0x0011223344556677ULL;
  EXPECT_EQ(decode(Bytes(36, 'A', 3, 0, kNs)
                       .be(11, 8, ref)
                       .c(19, 'B')
                       .be(20, 4, 300)
                       .alpha(24, "AAPL", 8)
                       .be(32, 4, 1'500'100),
                   last),
            itch::Status::kOk);
  EXPECT_EQ(last.a.ref, ref);
  EXPECT_EQ(last.a.side, 'B');
  EXPECT_EQ(last.a.shares, 300u);
  EXPECT_EQ(str(last.a.stock), "AAPL");
  EXPECT_EQ(last.a.price, 1'500'100u);
  EXPECT_FALSE(last.a.has_mpid);

  EXPECT_EQ(decode(Bytes(40, 'F', 3, 0, kNs)
                       .be(11, 8, ref + 1)
                       .c(19, 'S')
                       .be(20, 4, 0xFFFFFFFF)
                       .alpha(24, "AAPL", 8)
                       .be(32, 4, 0x77359400)
                       .alpha(36, "MSCO", 4),
                   last),
            itch::Status::kOk);
  EXPECT_EQ(last.a.ref, ref + 1);
  EXPECT_EQ(last.a.side, 'S');
  EXPECT_EQ(last.a.shares, 0xFFFFFFFFu);
  EXPECT_EQ(last.a.price, 0x77359400u);  // the largest Price(4), 200,000.0000
  EXPECT_TRUE(last.a.has_mpid);
  EXPECT_EQ(str(last.a.mpid), "MSCO");

  EXPECT_EQ(decode(Bytes(31, 'E', 3, 0, kNs).be(11, 8, ref).be(19, 4, 100).be(23, 8, 987'654'321), last),
            itch::Status::kOk);
  EXPECT_EQ(last.e.ref, ref);
  EXPECT_EQ(last.e.shares, 100u);
  EXPECT_EQ(last.e.match, 987'654'321u);

  EXPECT_EQ(decode(Bytes(36, 'C', 3, 0, kNs)
                       .be(11, 8, ref)
                       .be(19, 4, 50)
                       .be(23, 8, 42)
                       .c(31, 'N')
                       .be(32, 4, 1'499'900),
                   last),
            itch::Status::kOk);
  EXPECT_EQ(last.cx.ref, ref);
  EXPECT_EQ(last.cx.shares, 50u);
  EXPECT_EQ(last.cx.match, 42u);
  EXPECT_EQ(last.cx.printable, 'N');
  EXPECT_EQ(last.cx.price, 1'499'900u);

  EXPECT_EQ(decode(Bytes(23, 'X', 3, 0, kNs).be(11, 8, ref).be(19, 4, 25), last), itch::Status::kOk);
  EXPECT_EQ(last.x.ref, ref);
  EXPECT_EQ(last.x.shares, 25u);

  EXPECT_EQ(decode(Bytes(19, 'D', 3, 0, kNs).be(11, 8, ref), last), itch::Status::kOk);
  EXPECT_EQ(last.d.ref, ref);

  // Replace: shares at 27 and price at 31, not where A and P keep them.
  EXPECT_EQ(
      decode(Bytes(35, 'U', 3, 0, kNs).be(11, 8, ref).be(19, 8, ref + 9).be(27, 4, 400).be(31, 4, 1'501'000),
             last),
      itch::Status::kOk);
  EXPECT_EQ(last.u.orig_ref, ref);
  EXPECT_EQ(last.u.new_ref, ref + 9);
  EXPECT_EQ(last.u.shares, 400u);
  EXPECT_EQ(last.u.price, 1'501'000u);
}

TEST(Itch, ShouldDecodeTradeCrossBrokenAndAuctionMessages) {
  Last last;
  EXPECT_EQ(decode(Bytes(44, 'P', 2, 0, kNs)
                       .be(11, 8, 0)
                       .c(19, 'B')
                       .be(20, 4, 200)
                       .alpha(24, "BOB", 8)
                       .be(32, 4, 1'234'500)
                       .be(36, 8, 77),
                   last),
            itch::Status::kOk);
  EXPECT_EQ(last.p.ref, 0u);
  EXPECT_EQ(last.p.side, 'B');
  EXPECT_EQ(last.p.shares, 200u);
  EXPECT_EQ(str(last.p.stock), "BOB");
  EXPECT_EQ(last.p.price, 1'234'500u);
  EXPECT_EQ(last.p.match, 77u);

  // Cross trade: shares in 8 bytes.
  const std::uint64_t big = 0x0000'0001'0000'0002ULL;
  EXPECT_EQ(decode(Bytes(40, 'Q', 2, 0, kNs)
                       .be(11, 8, big)
                       .alpha(19, "BOB", 8)
                       .be(27, 4, 1'000'000)
                       .be(31, 8, 78)
                       .c(39, 'O'),
                   last),
            itch::Status::kOk);
  EXPECT_EQ(last.q.shares, big);
  EXPECT_EQ(str(last.q.stock), "BOB");
  EXPECT_EQ(last.q.price, 1'000'000u);
  EXPECT_EQ(last.q.match, 78u);
  EXPECT_EQ(last.q.cross_type, 'O');

  EXPECT_EQ(decode(Bytes(19, 'B', 2, 0, kNs).be(11, 8, 77), last), itch::Status::kOk);
  EXPECT_EQ(last.bt.match, 77u);

  EXPECT_EQ(decode(Bytes(50, 'I', 2, 0, kNs)
                       .be(11, 8, 1000)
                       .be(19, 8, 250)
                       .c(27, 'S')
                       .alpha(28, "BOB", 8)
                       .be(36, 4, 1'010'000)
                       .be(40, 4, 1'005'000)
                       .be(44, 4, 1'000'000)
                       .c(48, 'C')
                       .c(49, 'L'),
                   last),
            itch::Status::kOk);
  EXPECT_EQ(last.i.paired_shares, 1000u);
  EXPECT_EQ(last.i.imbalance_shares, 250u);
  EXPECT_EQ(last.i.direction, 'S');
  EXPECT_EQ(str(last.i.stock), "BOB");
  EXPECT_EQ(last.i.far_price, 1'010'000u);
  EXPECT_EQ(last.i.near_price, 1'005'000u);
  EXPECT_EQ(last.i.reference_price, 1'000'000u);
  EXPECT_EQ(last.i.cross_type, 'C');
  EXPECT_EQ(last.i.variation, 'L');

  EXPECT_EQ(decode(Bytes(20, 'N', 2, 0, kNs).alpha(11, "BOB", 8).c(19, 'A'), last), itch::Status::kOk);
  EXPECT_EQ(str(last.n.stock), "BOB");
  EXPECT_EQ(last.n.interest, 'A');

  EXPECT_EQ(decode(Bytes(48, 'O', 2, 0, kNs)
                       .alpha(11, "BOB", 8)
                       .c(19, 'Y')
                       .be(20, 4, 900'000)
                       .be(24, 4, 1'100'000)
                       .be(28, 4, 1'000'500)
                       .be(32, 8, 0x0102030405060708ULL)
                       .be(40, 4, 950'000)
                       .be(44, 4, 1'050'000),
                   last),
            itch::Status::kOk);
  EXPECT_EQ(str(last.o.stock), "BOB");
  EXPECT_EQ(last.o.open_eligibility, 'Y');
  EXPECT_EQ(last.o.min_price, 900'000u);
  EXPECT_EQ(last.o.max_price, 1'100'000u);
  EXPECT_EQ(last.o.near_price, 1'000'500u);
  EXPECT_EQ(last.o.near_time, 0x0102030405060708ULL);
  EXPECT_EQ(last.o.lower_collar, 950'000u);
  EXPECT_EQ(last.o.upper_collar, 1'050'000u);
  EXPECT_EQ(last.calls, 6);
}

TEST(Itch, ShouldRefuseShortUnknownAndEmptyMessagesAndDecodeLongerOnes) {
  for (const char t : itch::kTypes) {
    const std::size_t len = itch::message_length(static_cast<std::uint8_t>(t));
    Bytes m(len, t, 1, 0, kNs);
    Last last;
    EXPECT_EQ(itch::decode(m.b.data(), len - 1, last), itch::Status::kTruncated) << t;
    EXPECT_EQ(itch::decode(m.b.data(), 1, last), itch::Status::kTruncated) << t;
    EXPECT_EQ(last.calls, 0) << t;
    m.b.push_back(0xAA);  // a field a later revision might append
    EXPECT_EQ(itch::decode(m.b.data(), m.b.size(), last), itch::Status::kLonger) << t;
    EXPECT_EQ(last.calls, 1) << t;
  }
  int undefined = 0;
  for (int t = 0; t < 256; ++t) {
    if (itch::message_length(static_cast<std::uint8_t>(t)) == 0) {
      ++undefined;
      std::vector<std::uint8_t> b(64, 0);
      b[0] = static_cast<std::uint8_t>(t);
      Last last;
      EXPECT_EQ(itch::decode(b.data(), b.size(), last), itch::Status::kUnknownType) << t;
      EXPECT_EQ(last.calls, 0);
    }
  }
  EXPECT_EQ(undefined, 256 - static_cast<int>(itch::kTypes.size()));
  Last last;
  EXPECT_EQ(itch::decode(nullptr, 0, last), itch::Status::kEmpty);
}

TEST(Itch, ShouldStopAtFramingItCannotFollowAndSayWhere) {
  const std::vector<std::uint8_t> good = read_file(data_path("ex20101224.TEST_ITCH_50.lenfixed"));
  ASSERT_GT(good.size(), 1000u);
  {  // cut in the middle of the 3rd record (records: 2 + 12 bytes of S, 2 + 39 of R, …)
    std::vector<std::uint8_t> cut(good.begin(), good.begin() + 14 + 41 + 20);
    itch::FileFramer f(cut.data(), cut.size());
    int n = 0;
    while (f.next().data != nullptr) {
      ++n;
    }
    EXPECT_EQ(n, 2);
    EXPECT_STREQ(f.error(), "a record runs past the end of the input (truncated file)");
    EXPECT_EQ(f.error_offset(), 55u);
    EXPECT_EQ(f.unframed_bytes(), 20u);
  }
  {  // a zero length in a prefixed file
    std::vector<std::uint8_t> bad = good;
    bad[14] = bad[15] = 0;
    itch::FileFramer f(bad.data(), bad.size());
    EXPECT_NE(f.next().data, nullptr);
    EXPECT_EQ(f.next().data, nullptr);
    EXPECT_STREQ(f.error(), "a zero length prefix in a file whose first prefix was not zero");
    EXPECT_EQ(f.error_offset(), 14u);
  }
  {  // one odd byte at the end
    std::vector<std::uint8_t> odd = good;
    odd.push_back(0x00);
    itch::FileFramer f(odd.data(), odd.size());
    std::uint64_t n = 0;
    while (f.next().data != nullptr) {
      ++n;
    }
    EXPECT_EQ(n, 12'012u);
    EXPECT_STREQ(f.error(), "a record's 2-byte length runs past the end of the input");
    EXPECT_EQ(f.unframed_bytes(), 1u);
  }
  {  // a zero-prefix file whose type byte is corrupted: the framing is lost there
    std::vector<std::uint8_t> z = read_file(data_path("ex20101224.TEST_ITCH_50"));
    z[14 + 2] = 'z';  // the 2nd record's type byte
    itch::FileFramer f(z.data(), z.size());
    EXPECT_NE(f.next().data, nullptr);
    EXPECT_EQ(f.next().data, nullptr);
    EXPECT_TRUE(f.derived_lengths());
    EXPECT_STREQ(f.error(), "a zero length prefix before a byte that is no ITCH 5.0 message type");
    EXPECT_EQ(f.error_offset(), 14u);
  }
  {  // empty input: nothing, no error
    itch::FileFramer f(nullptr, 0);
    EXPECT_EQ(f.next().data, nullptr);
    EXPECT_STREQ(f.error(), "");
  }
}
