// The ITCH file feed (feedhandlers/itch_feed.hpp) through a real engine: the shared sample file's trades
// as ticks (the counts and sums tests/itch_reference.py computes independently, see test_itch_book.cpp),
// event time from the session's midnight, the zero-prefix framing, a ticker selection, --max-ticks, and
// bad files: truncated, corrupt framing, unknown types, short messages, prints of unnamed stocks.
#include <tickforge/engine.hpp>

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "itch_bytes.hpp"
#include "itch_feed.hpp"
#include "temp_dir.hpp"

using namespace tickforge;

namespace {

const std::string kSample = std::string(TICKFORGE_TEST_DATA_DIR) + "/itch/ex20101224.TEST_ITCH_50.lenfixed";
const std::string kSampleZero = std::string(TICKFORGE_TEST_DATA_DIR) + "/itch/ex20101224.TEST_ITCH_50";
// 2010-12-24 00:00 in New York (EST, UTC−5) = 05:00 UTC: 1293166800 s since the epoch.
constexpr std::int64_t kMidnight = 1'293'166'800LL * 1'000'000'000LL;

struct Seen {
  std::string ticker;
  Tick tick;
};

struct Replay {
  std::vector<Seen> ticks;
  std::vector<std::pair<std::string, std::uint64_t>> rejects;
  FeedReport report;
  std::vector<std::string> notices;
  EngineStats stats;
};

std::vector<Seen>* g_seen = nullptr;  // the shard thread appends; read after the engine stopped

Replay replay(ItchFeedSpec spec) {
  if (spec.midnight_utc_ns == 0) {
    spec.midnight_utc_ns = kMidnight;
  }
  spec.date = "2010-12-24";
  EngineConfig cfg;
  Engine e(cfg);
  Replay r;
  r.ticks.reserve(8192);
  g_seen = &r.ticks;
  static Engine* engine = nullptr;
  engine = &e;
  e.set_update_callback(
      [](void*, const Tick* t, const TickMetrics*) { g_seen->push_back({engine->symbols().name(t->symbol), *t}); },
      nullptr);
  ItchFeed feed(spec, e.symbols());
  r.notices = feed.notices();
  FeedPort& port = e.open_port();
  e.start(IdleKind::kBackoff);
  feed.attach(port);
  run_inline(feed);
  e.stop();
  feed.rejects(r.rejects);
  feed.report(r.report);
  r.stats = e.stats();
  g_seen = nullptr;
  return r;
}

std::uint64_t reject(const Replay& r, const char* why) {
  for (const auto& [k, v] : r.rejects) {
    if (k == why) {
      return v;
    }
  }
  ADD_FAILURE() << "no reject reason " << why;
  return 0;
}

std::uint64_t count(const Replay& r, const char* what) {
  for (const auto& [k, v] : r.report.counts) {
    if (k == what) {
      return v;
    }
  }
  ADD_FAILURE() << "no count " << what;
  return 0;
}

void write(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// One BinaryFILE record: the 2-byte length, then the message.
void record(std::vector<std::uint8_t>& out, const std::vector<std::uint8_t>& msg) {
  out.push_back(static_cast<std::uint8_t>(msg.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(msg.size()));
  out.insert(out.end(), msg.begin(), msg.end());
}

std::vector<std::uint8_t> directory(std::uint16_t locate, const char* stock) {
  return test::Bytes(39, 'R', locate, 0, 1).alpha(11, stock, 8).b;
}

// A non-cross trade 'P' (44 bytes): reference 7, match 99.
std::vector<std::uint8_t> trade(std::uint16_t locate, std::uint64_t ns, std::uint32_t shares, std::uint32_t price4) {
  return test::Bytes(44, 'P', locate, 0, ns).be(11, 8, 7).c(19, 'B').be(20, 4, shares).alpha(24, "", 8).be(32, 4, price4).be(36, 8, 99).b;
}

}  // namespace

TEST(ItchFeed, ShouldTurnTheSampleFilesTradesIntoTicksAsTheIndependentReferenceDoes) {
  ItchFeedSpec spec;
  spec.path = kSample;
  const Replay r = replay(spec);
  // tests/itch_reference.py: 5,180 prints (5,000 P, 180 E), every one a tick.
  ASSERT_EQ(r.ticks.size(), 5180u);
  EXPECT_EQ(r.stats.ticks, 5180u);
  EXPECT_EQ(count(r, "messages"), 12012u);  // MANIFEST.md
  EXPECT_EQ(count(r, "stocks"), 3u);
  EXPECT_EQ(count(r, "prints_p"), 5000u);
  EXPECT_EQ(count(r, "prints_e"), 180u);
  EXPECT_EQ(count(r, "ticks"), 5180u);
  EXPECT_EQ(count(r, "live_orders"), 3206u);
  EXPECT_EQ(reject(r, "execution_of_unknown_order"), 18u);  // the manifest: executions of orders not in the file
  EXPECT_EQ(reject(r, "broken_framing") + reject(r, "truncated_message") + reject(r, "unknown_message_type") +
                reject(r, "print_without_stock"),
            0u);
  EXPECT_TRUE(r.notices.empty());
  // The per-stock sums of the reference (locates 1, 2, 3 = ALC, BOB, CHAR); Price(4) / 10^4 as the tick's price.
  std::map<std::string, std::pair<std::uint64_t, double>> by;  // prints, shares
  double notional = 0;
  for (std::size_t i = 0; i < r.ticks.size(); ++i) {
    const Tick& t = r.ticks[i].tick;
    by[r.ticks[i].ticker].first += 1;
    by[r.ticks[i].ticker].second += t.volume;
    notional += t.volume * t.price;
    EXPECT_EQ(t.seq, i);
    ASSERT_GE(t.event_ns, kMidnight);
    ASSERT_LT(t.event_ns, kMidnight + 86'400'000'000'000LL);
  }
  EXPECT_EQ(by["ALC"].first, 1911u);
  EXPECT_EQ(by["ALC"].second, 95'822.0);
  EXPECT_EQ(by["BOB"].first, 1794u);
  EXPECT_EQ(by["BOB"].second, 579'962.0);
  EXPECT_EQ(by["CHAR"].first, 1475u);
  EXPECT_EQ(by["CHAR"].second, 58'146.0);
  EXPECT_NEAR(notional, 71'084'987'716 / 1e4, 1e-3);
  // BOB's first print is an execution at 32,857,937,604,189 ns after midnight (09:07:37.937604189 New York,
  // 14:07:37.937604189 UTC), priced from its resting order.
  const auto bob = std::find_if(r.ticks.begin(), r.ticks.end(), [](const Seen& s) { return s.ticker == "BOB"; });
  ASSERT_NE(bob, r.ticks.end());
  EXPECT_EQ(bob->tick.event_ns, kMidnight + 32'857'937'604'189LL);
}

TEST(ItchFeed, ShouldDecodeTheZeroPrefixFileAlikeWithAWarning) {
  ItchFeedSpec a;
  a.path = kSample;
  ItchFeedSpec b;
  b.path = kSampleZero;
  const Replay ra = replay(a);
  const Replay rb = replay(b);
  ASSERT_EQ(rb.ticks.size(), ra.ticks.size());
  for (std::size_t i = 0; i < ra.ticks.size(); ++i) {
    ASSERT_EQ(rb.ticks[i].ticker, ra.ticks[i].ticker);
    ASSERT_EQ(rb.ticks[i].tick.price, ra.ticks[i].tick.price);
    ASSERT_EQ(rb.ticks[i].tick.volume, ra.ticks[i].tick.volume);
    ASSERT_EQ(rb.ticks[i].tick.event_ns, ra.ticks[i].tick.event_ns);
  }
  ASSERT_EQ(rb.notices.size(), 1u);
  EXPECT_NE(rb.notices[0].find("length prefixes are zero"), std::string::npos) << rb.notices[0];
}

TEST(ItchFeed, ShouldKeepOnlyTheSelectedStocksAndCountTheOthers) {
  ItchFeedSpec spec;
  spec.path = kSample;
  spec.tickers = {"BOB"};
  const Replay r = replay(spec);
  ASSERT_EQ(r.ticks.size(), 1794u);
  for (const Seen& s : r.ticks) {
    ASSERT_EQ(s.ticker, "BOB");
  }
  EXPECT_EQ(count(r, "not_selected"), 1911u + 1475u);
  EXPECT_EQ(count(r, "stocks"), 1u);
  EXPECT_EQ(reject(r, "print_without_stock"), 0u);  // not selected is not refused
}

TEST(ItchFeed, ShouldStopAtMaxTicks) {
  ItchFeedSpec spec;
  spec.path = kSample;
  spec.max_ticks = 100;
  const Replay r = replay(spec);
  EXPECT_EQ(r.ticks.size(), 100u);
  EXPECT_EQ(count(r, "ticks"), 100u);
}

TEST(ItchFeed, ShouldReportWhereATruncatedFileEndsAndKeepWhatCameBefore) {
  test::TempDir dir;
  std::vector<std::uint8_t> bytes = test::read_file(kSample);
  const std::size_t cut = bytes.size() / 2;
  bytes.resize(cut);
  const std::string path = (dir.path / "cut20101224.itch").string();
  write(path, bytes);
  ItchFeedSpec spec;
  spec.path = path;
  const Replay r = replay(spec);
  EXPECT_EQ(reject(r, "broken_framing"), 1u);
  EXPECT_GT(r.ticks.size(), 1000u);
  EXPECT_LT(r.ticks.size(), 5180u);
  EXPECT_NE(r.report.ended_early.find("truncated"), std::string::npos) << r.report.ended_early;
  EXPECT_NE(r.report.ended_early.find("bytes not read"), std::string::npos) << r.report.ended_early;
}

TEST(ItchFeed, ShouldCountShortUnknownAndUnnamedMessagesAndGoOn) {
  test::TempDir dir;
  std::vector<std::uint8_t> f;
  record(f, directory(5, "ZZZ"));
  record(f, trade(5, 1'000, 100, 123'4567));                 // 123.4567 × 100
  record(f, {'Z', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});          // no such type
  std::vector<std::uint8_t> short_trade = trade(5, 2'000, 1, 1);
  short_trade.resize(20);
  record(f, short_trade);                                    // a P of 20 bytes
  record(f, trade(9, 3'000, 50, 10'0000));                   // locate 9: never named
  record(f, trade(5, 86'400'000'000'000ULL, 1, 1));          // 24:00: no such time of day
  record(f, trade(5, 4'000, 200, 124'0000));
  const std::string path = (dir.path / "crafted.itch").string();
  write(path, f);
  ItchFeedSpec spec;
  spec.path = path;
  const Replay r = replay(spec);
  ASSERT_EQ(r.ticks.size(), 2u);
  EXPECT_EQ(r.ticks[0].ticker, "ZZZ");
  EXPECT_EQ(r.ticks[0].tick.price, 123.4567);
  EXPECT_EQ(r.ticks[0].tick.volume, 100.0);
  EXPECT_EQ(r.ticks[0].tick.event_ns, kMidnight + 1'000);
  EXPECT_EQ(r.ticks[1].tick.price, 124.0);
  EXPECT_EQ(r.ticks[1].tick.event_ns, kMidnight + 4'000);
  EXPECT_EQ(r.ticks[1].tick.seq, 1u);
  EXPECT_EQ(reject(r, "unknown_message_type"), 1u);
  EXPECT_EQ(reject(r, "truncated_message"), 1u);
  EXPECT_EQ(reject(r, "print_without_stock"), 1u);
  EXPECT_EQ(reject(r, "bad_timestamp"), 1u);
  EXPECT_EQ(reject(r, "broken_framing"), 0u);
  EXPECT_EQ(count(r, "messages"), 7u);
}

// A file that starts mid-session has no stock directory messages: adds and trades carry the stock's
// name, so their prints are still ticks of the right ticker.
TEST(ItchFeed, ShouldNameStocksFromTheirOrdersAndTradesWhenNoDirectoryMessageCame) {
  test::TempDir dir;
  std::vector<std::uint8_t> f;
  // A (36 bytes): reference 41, buy 300 of MIDD at 20.5000; E (31 bytes): 100 of it executed.
  record(f, test::Bytes(36, 'A', 7, 0, 1'000).be(11, 8, 41).c(19, 'B').be(20, 4, 300).alpha(24, "MIDD", 8).be(32, 4, 20'5000).b);
  record(f, test::Bytes(31, 'E', 7, 0, 2'000).be(11, 8, 41).be(19, 4, 100).be(23, 8, 5).b);
  record(f, test::Bytes(44, 'P', 8, 0, 3'000).be(11, 8, 0).c(19, 'B').be(20, 4, 10).alpha(24, "PQRS", 8).be(32, 4, 7'2500).be(36, 8, 6).b);
  record(f, test::Bytes(44, 'P', 9, 0, 4'000).be(11, 8, 0).c(19, 'B').be(20, 4, 10).alpha(24, "NOPE", 8).be(32, 4, 1'0000).be(36, 8, 7).b);
  const std::string path = (dir.path / "midday.itch").string();
  write(path, f);
  ItchFeedSpec spec;
  spec.path = path;
  spec.tickers = {"MIDD", "PQRS"};  // NOPE is named too, and not selected
  const Replay r = replay(spec);
  ASSERT_EQ(r.ticks.size(), 2u);
  EXPECT_EQ(r.ticks[0].ticker, "MIDD");
  EXPECT_EQ(r.ticks[0].tick.price, 20.5);
  EXPECT_EQ(r.ticks[0].tick.volume, 100.0);
  EXPECT_EQ(r.ticks[1].ticker, "PQRS");
  EXPECT_EQ(r.ticks[1].tick.price, 7.25);
  EXPECT_EQ(count(r, "stocks_named_by_orders"), 2u);
  EXPECT_EQ(count(r, "stocks"), 2u);
  EXPECT_EQ(count(r, "not_selected"), 1u);
  EXPECT_EQ(reject(r, "print_without_stock"), 0u);
  bool said = false;
  for (const std::string& line : r.report.lines) {
    said = said || line.find("2 stocks named by their orders or trades") != std::string::npos;
  }
  EXPECT_TRUE(said);
}

namespace {

// `bytes` gzip-compressed as one member (zlib's gzip wrapper, level 6).
std::vector<std::uint8_t> gzip(const std::vector<std::uint8_t>& bytes) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<std::uint8_t> out(deflateBound(&z, bytes.size()));
  z.next_in = const_cast<Bytef*>(bytes.data());
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

void expect_same_ticks(const Replay& a, const Replay& b) {
  ASSERT_EQ(a.ticks.size(), b.ticks.size());
  for (std::size_t i = 0; i < a.ticks.size(); ++i) {
    ASSERT_EQ(a.ticks[i].ticker, b.ticks[i].ticker) << i;
    ASSERT_EQ(a.ticks[i].tick.price, b.ticks[i].tick.price) << i;
    ASSERT_EQ(a.ticks[i].tick.volume, b.ticks[i].tick.volume) << i;
    ASSERT_EQ(a.ticks[i].tick.event_ns, b.ticks[i].tick.event_ns) << i;
  }
}

}  // namespace

// A gzip file is recognised by its magic bytes and inflated piece by piece (a 256 KiB window: the
// 465 KB sample crosses it, so records split between pieces are joined).
TEST(ItchFeed, ShouldReadGzipFilesAsThePlainOnes) {
  test::TempDir dir;
  ItchFeedSpec plain;
  plain.path = kSample;
  const Replay want = replay(plain);
  const std::vector<std::uint8_t> bytes = test::read_file(kSample);
  const std::vector<std::uint8_t> gz = gzip(bytes);
  ASSERT_LT(gz.size(), bytes.size());
  ItchFeedSpec spec;
  spec.path = (dir.path / "s20101224.itch.gz").string();
  write(spec.path, gz);
  const Replay r = replay(spec);
  expect_same_ticks(want, r);
  EXPECT_EQ(reject(r, "broken_framing"), 0u);
  EXPECT_NE(r.report.label.find("gzip"), std::string::npos) << r.report.label;
  EXPECT_TRUE(r.report.ended_early.empty()) << r.report.ended_early;

  // Two members one after the other (`cat a.gz b.gz`): the first half, then the rest.
  std::size_t half = 0;  // a record boundary near the middle
  while (half < bytes.size() / 2) {
    half += 2 + ((bytes[half] << 8) | bytes[half + 1]);
  }
  std::vector<std::uint8_t> two = gzip({bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(half)});
  const std::vector<std::uint8_t> second = gzip({bytes.begin() + static_cast<std::ptrdiff_t>(half), bytes.end()});
  two.insert(two.end(), second.begin(), second.end());
  write(spec.path, two);
  expect_same_ticks(want, replay(spec));

  // The zero-prefix framing is detected through gzip too.
  write(spec.path, gzip(test::read_file(kSampleZero)));
  const Replay z = replay(spec);
  expect_same_ticks(want, z);
  ASSERT_EQ(z.notices.size(), 1u);
}

TEST(ItchFeed, ShouldReportATruncatedOrCorruptGzipFileAndKeepWhatCameBefore) {
  test::TempDir dir;
  const std::vector<std::uint8_t> gz = gzip(test::read_file(kSample));
  ItchFeedSpec spec;
  spec.path = (dir.path / "s20101224.itch.gz").string();
  write(spec.path, {gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() * 3 / 4)});
  const Replay cut = replay(spec);
  EXPECT_EQ(reject(cut, "broken_framing"), 1u);
  EXPECT_GT(cut.ticks.size(), 2000u);
  EXPECT_LT(cut.ticks.size(), 5180u);
  EXPECT_NE(cut.report.ended_early.find("gzip stream ends before its end marker"), std::string::npos)
      << cut.report.ended_early;

  std::vector<std::uint8_t> bad = gz;
  for (std::size_t i = bad.size() / 2; i < bad.size() / 2 + 64; ++i) {
    bad[i] ^= 0x5a;
  }
  write(spec.path, bad);
  const Replay corrupt = replay(spec);
  EXPECT_EQ(reject(corrupt, "broken_framing"), 1u);
  EXPECT_LT(corrupt.ticks.size(), 5180u);
  // Garbled deflate data either fails zlib's checks or inflates to bytes whose framing breaks first.
  EXPECT_TRUE(corrupt.report.ended_early.find("gzip broke at compressed byte") != std::string::npos ||
              corrupt.report.ended_early.find("framing broke at byte") != std::string::npos)
      << corrupt.report.ended_early;
}

TEST(ItchFeed, ShouldRefuseAFileThatCannotBeRead) {
  ItchFeedSpec spec;
  spec.path = "/nonexistent/20101224.itch";
  SymbolTable symbols(16);
  try {
    ItchFeed feed(spec, symbols);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/20101224.itch: cannot be opened"), std::string::npos) << e.what();
  }
  spec.path = TICKFORGE_TEST_DATA_DIR;  // a directory
  EXPECT_THROW(ItchFeed(spec, symbols), std::runtime_error);
}

TEST(ItchFeed, ShouldReadTheSessionDateFromTheFileName) {
  int y = 0, m = 0, d = 0;
  ASSERT_TRUE(itch_date_from_file_name("/data/ex20101224.TEST_ITCH_50", y, m, d));
  EXPECT_EQ(y * 10000 + m * 100 + d, 20101224);
  ASSERT_TRUE(itch_date_from_file_name("01302019.NASDAQ_ITCH50.gz", y, m, d));  // MMDDYYYY
  EXPECT_EQ(y * 10000 + m * 100 + d, 20190130);
  ASSERT_TRUE(itch_date_from_file_name("S20200229-v50.bin", y, m, d));  // a leap day
  EXPECT_EQ(y * 10000 + m * 100 + d, 20200229);
  EXPECT_FALSE(itch_date_from_file_name("S20190229-v50.bin", y, m, d));       // not a leap year; no MMDDYYYY either
  EXPECT_FALSE(itch_date_from_file_name("20190130/itch.bin", y, m, d));       // the directory's digits do not count
  EXPECT_FALSE(itch_date_from_file_name("itch_201901301.bin", y, m, d));      // nine digits
  EXPECT_FALSE(itch_date_from_file_name("itch.bin", y, m, d));
}
