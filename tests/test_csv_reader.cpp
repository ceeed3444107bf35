// Expected epoch values were computed independently of this code with GNU date, e.g.
//   date -u -d 2024-01-02 +%s -> 1704153600
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "csv_reader.hpp"

#ifndef TICKFORGE_TEST_DATA_DIR
#define TICKFORGE_TEST_DATA_DIR "tests/data"
#endif

namespace tickforge {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kNs = 1'000'000'000;
constexpr int64_t kJan2 = 1704153600 * kNs;    // 2024-01-02 00:00:00 UTC
constexpr int64_t kJan3 = 1704240000 * kNs;    // 2024-01-03
constexpr int64_t kJan4 = 1704326400 * kNs;    // 2024-01-04
constexpr int64_t kSample = 1733785762 * kNs;  // 2024-12-09 23:09:22 UTC

using RejectCounts = std::map<std::string, uint64_t>;

// Non-zero reject counters by name, so one comparison checks every counter.
RejectCounts reject_counts(const CsvLoadResult& r) {
  RejectCounts counts;
  for (size_t i = 0; i < static_cast<size_t>(CsvReject::kCount); ++i) {
    if (r.rejects[i] != 0) {
      counts[to_string(static_cast<CsvReject>(i))] = r.rejects[i];
    }
  }
  return counts;
}

void expect_every_line_counted_once(const CsvLoadResult& r) {
  const uint64_t rejected = std::accumulate(std::begin(r.rejects), std::end(r.rejects), uint64_t{0});
  EXPECT_EQ(r.lines, r.blank + r.rows.size() + rejected);
}

std::vector<uint32_t> lines_of(const CsvLoadResult& r) {
  std::vector<uint32_t> lines;
  for (const CsvRow& row : r.rows) {
    lines.push_back(row.line);
  }
  return lines;
}

class CsvReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("tickforge_csv_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, std::string_view content) const {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  CsvLoadResult load(const CsvOptions& opt) {
    return load_csv(opt, [this](std::string_view ticker) { return resolve(ticker); });
  }

  CsvLoadResult load(const std::string& name, std::string_view content) {
    CsvOptions opt;
    opt.path = write(name, content);
    opt.max_reported = 100;
    return load(opt);
  }

  // Dense ids in order of first sight; tickers in refused_ get kCsvNoSymbol.
  uint32_t resolve(std::string_view ticker) {
    calls_.emplace_back(ticker);
    if (refused_.count(std::string(ticker)) != 0) {
      return kCsvNoSymbol;
    }
    const auto it = std::find(names_.begin(), names_.end(), ticker);
    if (it != names_.end()) {
      return static_cast<uint32_t>(it - names_.begin());
    }
    names_.emplace_back(ticker);
    return static_cast<uint32_t>(names_.size() - 1);
  }

  fs::path dir_;
  std::vector<std::string> names_;
  std::vector<std::string> calls_;
  std::set<std::string> refused_;
};

TEST_F(CsvReaderTest, ShouldLoadYahooBarsAndSkipNullRowsCountingThem) {
  const CsvLoadResult r = load("AAPL.csv",
                               "Date,Open,High,Low,Close,Adj Close,Volume\n"
                               "2024-01-02,187.15,188.44,183.89,185.64,184.94,82488700\n"
                               "2024-01-03,null,null,null,null,null,null\n"
                               "2024-01-04,182.15,183.09,180.88,181.91,181.22,71983600\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].event_ns, kJan2);
  EXPECT_DOUBLE_EQ(r.rows[0].price, 185.64);  // Close, not Adj Close
  EXPECT_DOUBLE_EQ(r.rows[0].volume, 82488700.0);
  EXPECT_EQ(r.rows[1].event_ns, kJan4);
  EXPECT_DOUBLE_EQ(r.rows[1].price, 181.91);
  EXPECT_EQ(lines_of(r), (std::vector<uint32_t>{2, 4}));
  EXPECT_EQ(names_, std::vector<std::string>{"AAPL"});  // ticker from the file stem
  EXPECT_EQ(r.rows[0].symbol, 0u);
  EXPECT_EQ(r.lines, 3u);
  EXPECT_EQ(r.blank, 0u);
  EXPECT_EQ(reject_counts(r), (RejectCounts{{"null_value", 1}}));
  EXPECT_EQ(r.messages,
            std::vector<std::string>{(dir_ / "AAPL.csv").string() + ":3: null_value: Close=\"null\""});
}

TEST_F(CsvReaderTest, ShouldUnderstandBomCrlfQuotesAndThousandsSeparators) {
  const CsvLoadResult r = load("BRK-A.csv",
                               "\xEF\xBB\xBF\"Date\",Close,Volume\r\n"
                               "\"2024-01-02\",\"1,234.50\",\"1,000\"\r\n"
                               "2024-01-03, \"1,240.25\" ,2000\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].event_ns, kJan2);
  EXPECT_DOUBLE_EQ(r.rows[0].price, 1234.50);
  EXPECT_DOUBLE_EQ(r.rows[0].volume, 1000.0);
  EXPECT_EQ(r.rows[1].event_ns, kJan3);
  EXPECT_DOUBLE_EQ(r.rows[1].price, 1240.25);
  EXPECT_DOUBLE_EQ(r.rows[1].volume, 2000.0);
  EXPECT_EQ(names_, std::vector<std::string>{"BRK-A"});
  EXPECT_TRUE(reject_counts(r).empty());
}

TEST_F(CsvReaderTest, ShouldSkipBlankAndWhitespaceLinesCountingThem) {
  const CsvLoadResult r = load("X.csv",
                               "\n"                 // 1 blank, before the header
                               "  \n"               // 2 blank
                               "Date,Close\n"       // 3 header
                               "2024-01-02,10\n"    // 4
                               "\n"                 // 5 blank
                               "   \t \n"           // 6 blank
                               "2024-01-03,11\r\n"  // 7
                               "\r\n"               // 8 blank
                               "2024-01-04,12");    // 9, no final newline
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(lines_of(r), (std::vector<uint32_t>{4, 7, 9}));
  EXPECT_EQ(r.blank, 5u);
  EXPECT_EQ(r.lines, 8u);
  EXPECT_DOUBLE_EQ(r.rows[2].price, 12.0);
  EXPECT_DOUBLE_EQ(r.rows[2].volume, 0.0);  // no volume column
  EXPECT_TRUE(reject_counts(r).empty());
  expect_every_line_counted_once(r);
}

TEST_F(CsvReaderTest, ShouldRejectEachMalformedLineWithItsReasonAndLineNumber) {
  refused_ = {"HALTED"};
  const CsvLoadResult r = load("ticks.csv",
                               "ticker,price,volume,timestamp\n"                   // 1
                               "AAPL,190.5,100,2024-12-09 23:09:22\n"              // 2 ok
                               "AAPL,abc,100,2024-12-09 23:09:23\n"                // 3
                               "AAPL,-1.5,100,2024-12-09 23:09:24\n"               // 4
                               "AAPL,0,100,2024-12-09 23:09:25\n"                  // 5
                               "AAPL,NaN,100,2024-12-09 23:09:26\n"                // 6
                               "AAPL,null,100,2024-12-09 23:09:27\n"               // 7
                               "AAPL,190.5,100,\n"                                 // 8
                               "AAPL,190.5,100,2024-13-01 00:00:00\n"              // 9
                               "AAPL,190.5,-5,2024-12-09 23:09:28\n"               // 10
                               "AAPL,190.5,lots,2024-12-09 23:09:29\n"             // 11
                               "AAPL,190.5,100\n"                                  // 12
                               ",190.5,100,2024-12-09 23:09:30\n"                  // 13
                               "ABCDEFGHIJKLMNOP,190.5,100,2024-12-09 23:09:31\n"  // 14: 16 bytes
                               "ABCDEFGHIJKLMNO,190.5,,2024-12-09 23:09:32\n"      // 15 ok: 15 bytes
                               "MSFT,\"1,190.5\",7,2024-12-09 23:09:33\n"          // 16 ok
                               "HALTED,10,1,2024-12-09 23:09:34\n"                 // 17
                               "AAPL,191,null,2024-12-09 23:09:35\n");             // 18 ok
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(lines_of(r), (std::vector<uint32_t>{2, 15, 16, 18}));
  EXPECT_EQ(r.rows[0].event_ns, kSample);
  EXPECT_DOUBLE_EQ(r.rows[1].volume, 0.0);  // empty volume
  EXPECT_DOUBLE_EQ(r.rows[2].price, 1190.5);
  EXPECT_DOUBLE_EQ(r.rows[3].volume, 0.0);  // null volume
  EXPECT_EQ(reject_counts(r), (RejectCounts{{"bad_price", 4},
                                            {"null_value", 2},
                                            {"bad_timestamp", 1},
                                            {"bad_volume", 2},
                                            {"missing_field", 1},
                                            {"bad_ticker", 2},
                                            {"symbol_rejected", 1}}));
  const std::string p = (dir_ / "ticks.csv").string() + ":";
  EXPECT_EQ(r.messages, (std::vector<std::string>{
                            p + "3: bad_price: price=\"abc\"",
                            p + "4: bad_price: price=\"-1.5\"",
                            p + "5: bad_price: price=\"0\"",
                            p + "6: bad_price: price=\"NaN\"",
                            p + "7: null_value: price=\"null\"",
                            p + "8: null_value: timestamp=\"\"",
                            p + "9: bad_timestamp: timestamp=\"2024-13-01 00:00:00\"",
                            p + "10: bad_volume: volume=\"-5\"",
                            p + "11: bad_volume: volume=\"lots\"",
                            p + "12: missing_field: 3 fields, need 4",
                            p + "13: bad_ticker: ticker=\"\"",
                            p + "14: bad_ticker: ticker=\"ABCDEFGHIJKLMNOP\"",
                            p + "17: symbol_rejected: ticker=\"HALTED\"",
                        }));
  // The resolver only sees lines that passed every other check.
  EXPECT_EQ(calls_, (std::vector<std::string>{"AAPL", "ABCDEFGHIJKLMNO", "MSFT", "HALTED", "AAPL"}));
  EXPECT_EQ((std::vector<uint32_t>{r.rows[0].symbol, r.rows[1].symbol, r.rows[2].symbol, r.rows[3].symbol}),
            (std::vector<uint32_t>{0, 1, 2, 0}));
  expect_every_line_counted_once(r);
}

TEST_F(CsvReaderTest, ShouldReportOnlyTheFirstMaxReportedRejects) {
  CsvOptions opt;
  opt.path = write("X.csv", "Date,Close\n2024-01-02,x\n2024-01-03,10\nbad,1\n2024-01-04,-1\n2024-01-04,\n");
  opt.max_reported = 2;
  const CsvLoadResult r = load(opt);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(reject_counts(r), (RejectCounts{{"bad_price", 2}, {"bad_timestamp", 1}, {"null_value", 1}}));
  EXPECT_EQ(r.messages, (std::vector<std::string>{opt.path + ":2: bad_price: Close=\"x\"",
                                                  opt.path + ":4: bad_timestamp: Date=\"bad\""}));
  opt.max_reported = 0;
  EXPECT_TRUE(load(opt).messages.empty());
}

TEST_F(CsvReaderTest, ShouldSortDescendingDatesAscendingKeepingTiesInFileOrder) {
  const CsvLoadResult r = load("multi.csv",
                               "Date,Close,Stock\n"
                               "2024-01-03,3,AAA\n"
                               "2024-01-03,30,BBB\n"
                               "2024-01-02,2,AAA\n"
                               "2024-01-02,20,BBB\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(lines_of(r), (std::vector<uint32_t>{4, 5, 2, 3}));
  EXPECT_EQ(r.rows[0].event_ns, kJan2);
  EXPECT_EQ(r.rows[3].event_ns, kJan3);
  EXPECT_DOUBLE_EQ(r.rows[1].price, 20.0);
  EXPECT_EQ(names_, (std::vector<std::string>{"AAA", "BBB"}));
}

TEST_F(CsvReaderTest, ShouldReadKaggleRowsWithTickerFromIndexColumn) {
  const CsvLoadResult r =
      load("indexProcessed.csv",
           "Index,Date,Open,High,Low,Close,Adj Close,Volume,CloseUSD\n"
           "HSI,1986-12-31,2568.300049,2568.300049,2568.300049,2568.300049,2568.300049,0.0,"
           "333.87900637\n"
           "NYA,1965-12-31,528.690002,528.690002,528.690002,528.690002,528.690002,0.0,528.690002\n"
           "HSI,1987-01-02,2540.100098,2540.100098,2540.100098,2540.100098,2540.100098,1.5e3,"
           "330.213012740\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.rows.size(), 3u);
  // date -u -d 1965-12-31 +%s -> -126316800; 1986-12-31 -> 536371200; 1987-01-02 -> 536544000
  EXPECT_EQ(r.rows[0].event_ns, -126316800 * kNs);
  EXPECT_EQ(r.rows[1].event_ns, 536371200 * kNs);
  EXPECT_EQ(r.rows[2].event_ns, 536544000 * kNs);
  EXPECT_DOUBLE_EQ(r.rows[1].price, 2568.300049);  // Close, not CloseUSD
  EXPECT_DOUBLE_EQ(r.rows[2].volume, 1500.0);
  EXPECT_EQ(names_, (std::vector<std::string>{"HSI", "NYA"}));
  EXPECT_EQ((std::vector<uint32_t>{r.rows[0].symbol, r.rows[1].symbol, r.rows[2].symbol}),
            (std::vector<uint32_t>{1, 0, 0}));
}

TEST_F(CsvReaderTest, ShouldFallBackToPriceColumnInTickFiles) {
  const CsvLoadResult r = load("ticks.csv",
                               "ticker,price,volume,timestamp\n"
                               "AAPL,190.25,300,2024-12-09T23:09:22.123456Z\n"
                               "MSFT,410.5,10,2024-12-09T18:09:22-05:00\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].event_ns, kSample);  // 18:09:22-05:00 is 23:09:22Z, before AAPL's .123456
  EXPECT_EQ(r.rows[0].symbol, 1u);
  EXPECT_EQ(r.rows[1].event_ns, kSample + 123'456'000);
  EXPECT_DOUBLE_EQ(r.rows[1].price, 190.25);
  EXPECT_DOUBLE_EQ(r.rows[1].volume, 300.0);
}

TEST_F(CsvReaderTest, ShouldPreferForcedTickerOverTickerColumnAndFileStem) {
  CsvOptions opt;
  opt.path = write("AAPL.csv", "Date,Close,Stock\n2024-01-02,1,MSFT\n2024-01-03,2,\n");
  opt.ticker = "ZZZ";
  const CsvLoadResult r = load(opt);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.rows.size(), 2u);                        // an empty Stock cell does not matter
  EXPECT_EQ(calls_, std::vector<std::string>{"ZZZ"});  // resolved once, before the rows
}

TEST_F(CsvReaderTest, ShouldUseExplicitColumnNamesCaseInsensitively) {
  CsvOptions opt;
  opt.path = write("X.csv", "when,Close,PX_LAST,shares,sym\n2024-01-02,1,99.5,12,IBM\n");
  opt.date_column = "WHEN";
  opt.price_column = "px_last";
  opt.volume_column = "Shares";
  opt.ticker_column = "SYM";
  const CsvLoadResult r = load(opt);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].event_ns, kJan2);
  EXPECT_DOUBLE_EQ(r.rows[0].price, 99.5);
  EXPECT_DOUBLE_EQ(r.rows[0].volume, 12.0);
  EXPECT_EQ(names_, std::vector<std::string>{"IBM"});
}

TEST_F(CsvReaderTest, ShouldUnescapeDoubledQuotesInQuotedFields) {
  const CsvLoadResult r = load("X.csv", "Date,Close,symbol\n2024-01-02,5,\"A\"\"B\"\n2024-01-03,6,\"C,D\"\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(names_, (std::vector<std::string>{"A\"B", "C,D"}));
}

TEST_F(CsvReaderTest, ShouldFailWithReasonWhenFileOrHeaderIsUnusable) {
  const auto error_of = [this](const std::string& path, const std::string& ticker_column = {}) {
    CsvOptions opt;
    opt.path = path;
    opt.ticker_column = ticker_column;
    const CsvLoadResult r = load(opt);
    EXPECT_FALSE(r.ok) << path;
    EXPECT_TRUE(r.rows.empty()) << path;
    EXPECT_EQ(r.error.rfind(path + ": ", 0), 0u) << r.error;  // starts with the path
    return r.error.substr(path.size() + 2);
  };
  EXPECT_EQ(error_of((dir_ / "missing.csv").string()), "No such file or directory");
  EXPECT_EQ(error_of(dir_.string()), "Is a directory");
  EXPECT_EQ(error_of(write("empty.csv", "")), "no header line");
  EXPECT_EQ(error_of(write("blank.csv", "\n \r\n")), "no header line");
  EXPECT_EQ(error_of(write("X.csv", "Day,Close\n2024-01-02,1\n")), "no date column");
  EXPECT_EQ(error_of(write("X.csv", "Date,Open\n2024-01-02,1\n")), "no price column 'Close' or 'price'");
  EXPECT_EQ(error_of(write("X.csv", "Date,Close\n"), "sym"), "no ticker column 'sym'");
  EXPECT_EQ(error_of(write("a_very_long_file_stem.csv", "Date,Close\n")),
            "ticker 'a_very_long_file_stem' is empty or longer than 15 bytes");
  refused_ = {"X"};
  EXPECT_EQ(error_of(write("X.csv", "Date,Close\n")), "ticker 'X' refused by the resolver");
}

TEST_F(CsvReaderTest, ShouldTurnResolverExceptionsIntoAFailedLoad) {
  CsvOptions opt;
  opt.path = write("X.csv", "Date,Close,ticker\n2024-01-02,1,AAPL\n");
  const CsvLoadResult r =
      load_csv(opt, [](std::string_view) -> uint32_t { throw std::runtime_error("symbol table full"); });
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, opt.path + ": symbol table full");
}

// Reference values below were read from the files with awk/grep, not from this loader:
//   tr -d '\r' < plotly_dash-stock-ticker-demo.csv | awk -F, 'NR>1{n[$15]++} END{for(k in n) print k, n[k]}'
//     -> AAPL 753, GOOGL 754, TSLA 754, COKE 754, YHOO 619 (3634 data lines, 3635 with the header)
//   grep -n ',2015-01-02,' ... -> line 754 AAPL Close 109.33 Volume 53204626.0 (first AAPL-block date)
//   grep -n ',2017-12-29,' ... -> lines 2 AAPL, 755 TSLA, 1509 COKE, 2882 GOOGL 1053.4 (last in file order)
//   grep -n ',2017-06-16,' ... -> line 2263 YHOO Close 52.5892 (YHOO ends there)
//   grep -n ',2016-06-01,' ... -> line 399 AAPL Close 98.46, line 3280 GOOGL Close 748.46
//   date -u -d 2015-01-02 +%s -> 1420156800; 2017-12-29 -> 1514505600; 2017-06-16 -> 1497571200;
//   2016-06-01 -> 1464739200
TEST_F(CsvReaderTest, ShouldLoadPlotlyDashMultiTickerFile) {
  CsvOptions opt;
  opt.path = TICKFORGE_TEST_DATA_DIR "/plotly_dash-stock-ticker-demo.csv";
  const CsvLoadResult r = load(opt);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.lines, 3634u);
  EXPECT_EQ(r.blank, 0u);
  EXPECT_TRUE(reject_counts(r).empty());
  ASSERT_EQ(r.rows.size(), 3634u);
  // Ids follow first sight in the file: the blocks are AAPL, TSLA, COKE, YHOO, GOOGL.
  ASSERT_EQ(names_, (std::vector<std::string>{"AAPL", "TSLA", "COKE", "YHOO", "GOOGL"}));
  std::map<std::string, size_t> per_ticker;
  for (const CsvRow& row : r.rows) {
    ++per_ticker[names_.at(row.symbol)];
  }
  EXPECT_EQ(per_ticker, (std::map<std::string, size_t>{
                            {"AAPL", 753}, {"GOOGL", 754}, {"TSLA", 754}, {"COKE", 754}, {"YHOO", 619}}));
  EXPECT_TRUE(std::is_sorted(r.rows.begin(), r.rows.end(),
                             [](const CsvRow& a, const CsvRow& b) { return a.event_ns < b.event_ns; }));

  const CsvRow& first = r.rows.front();
  EXPECT_EQ(first.event_ns, 1420156800 * kNs);
  EXPECT_EQ(first.line, 754u);
  EXPECT_EQ(names_[first.symbol], "AAPL");
  EXPECT_DOUBLE_EQ(first.price, 109.33);
  EXPECT_DOUBLE_EQ(first.volume, 53204626.0);

  const CsvRow& last = r.rows.back();
  EXPECT_EQ(last.event_ns, 1514505600 * kNs);
  EXPECT_EQ(last.line, 2882u);
  EXPECT_EQ(names_[last.symbol], "GOOGL");
  EXPECT_DOUBLE_EQ(last.price, 1053.4);

  const auto at_line = [&r](uint32_t line) {
    return *std::find_if(r.rows.begin(), r.rows.end(),
                         [line](const CsvRow& row) { return row.line == line; });
  };
  EXPECT_EQ(at_line(2263).event_ns, 1497571200 * kNs);
  EXPECT_DOUBLE_EQ(at_line(2263).price, 52.5892);
  EXPECT_EQ(at_line(399).event_ns, 1464739200 * kNs);
  EXPECT_DOUBLE_EQ(at_line(399).price, 98.46);
  EXPECT_DOUBLE_EQ(at_line(3280).price, 748.46);
}

// Reference values read with awk/grep:
//   tr -d '\r' < plotly_finance-charts-apple.csv | awk -F, 'NR>1' | wc -l -> 506, dates ascending
//   line 2:   2015-02-17, AAPL.Close 127.830002, AAPL.Volume 63152400
//   line 327: 2016-06-01, AAPL.Close 98.459999
//   line 507: 2017-02-16, AAPL.Close 135.350006, AAPL.Volume 22118000
//   date -u -d 2015-02-17 +%s -> 1424131200; 2017-02-16 -> 1487203200
TEST_F(CsvReaderTest, ShouldLoadPlotlyAppleFileTakingTickerFromPriceHeader) {
  CsvOptions opt;
  opt.path = TICKFORGE_TEST_DATA_DIR "/plotly_finance-charts-apple.csv";
  const CsvLoadResult r = load(opt);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.lines, 506u);
  EXPECT_TRUE(reject_counts(r).empty());
  ASSERT_EQ(r.rows.size(), 506u);
  EXPECT_EQ(names_, std::vector<std::string>{"AAPL"});  // "AAPL.Close" -> "AAPL"

  EXPECT_EQ(r.rows.front().event_ns, 1424131200 * kNs);
  EXPECT_EQ(r.rows.front().line, 2u);
  EXPECT_DOUBLE_EQ(r.rows.front().price, 127.830002);
  EXPECT_DOUBLE_EQ(r.rows.front().volume, 63152400.0);  // "AAPL.Volume" matched as a suffix
  EXPECT_EQ(r.rows[325].line, 327u);
  EXPECT_DOUBLE_EQ(r.rows[325].price, 98.459999);
  EXPECT_EQ(r.rows.back().event_ns, 1487203200 * kNs);
  EXPECT_EQ(r.rows.back().line, 507u);
  EXPECT_DOUBLE_EQ(r.rows.back().price, 135.350006);
  EXPECT_DOUBLE_EQ(r.rows.back().volume, 22118000.0);

  opt.ticker = "AAPL_FORCED";
  ASSERT_TRUE(load(opt).ok);
  EXPECT_EQ(names_.back(), "AAPL_FORCED");
}

}  // namespace
}  // namespace tickforge
