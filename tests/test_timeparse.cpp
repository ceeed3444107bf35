// Expected epoch values were computed independently of this code with GNU date, e.g.
//   date -u -d '2024-12-09 23:09:22' +%s  -> 1733785762
// and python3 (datetime.date(y, m, d) - datetime.date(1970, 1, 1)).days for day counts.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <limits>
#include <string_view>

#include "record_json.hpp"
#include "timeparse.hpp"

namespace tickforge {
namespace {

constexpr int64_t kNs = 1'000'000'000;
constexpr int64_t kSample = 1733785762;     // 2024-12-09 23:09:22 UTC
constexpr int64_t kSampleDay = 1733702400;  // 2024-12-09 00:00:00 UTC

// python3: (date(2024,2,29) - date(1970,1,1)).days == 19782, date(2000,3,1) -> 11017.
static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(1969, 12, 31) == -1);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(days_from_civil(2024, 2, 29) == 19782);
static_assert(days_from_civil(1600, 1, 1) == -135140);
static_assert(days_from_civil(9999, 12, 31) == 2932896);

int64_t ts(std::string_view s) {
  int64_t ns = -1;
  EXPECT_TRUE(parse_timestamp(s, ns)) << s;
  return ns;
}

bool ts_fails(std::string_view s) {
  int64_t ns = 42;
  const bool failed = !parse_timestamp(s, ns);
  EXPECT_EQ(ns, 42) << "output must stay untouched on failure: " << s;
  return failed;
}

int64_t epoch(std::string_view s) {
  int64_t ns = -1;
  EXPECT_TRUE(parse_epoch(s, ns)) << s;
  return ns;
}

double price(std::string_view s) {
  double value = -1;
  EXPECT_TRUE(parse_price(s, value)) << s;
  return value;
}

TEST(ParseTimestamp, ShouldReadIsoDateAsMidnightUtc) {
  EXPECT_EQ(ts("2024-12-09"), kSampleDay * kNs);
  EXPECT_EQ(ts("1970-01-01"), 0);
  EXPECT_EQ(ts("1969-12-31"), -86400 * kNs);
}

TEST(ParseTimestamp, ShouldReadIsoDateTimeWithSpaceOrT) {
  EXPECT_EQ(ts("2024-12-09 23:09:22"), kSample * kNs);
  EXPECT_EQ(ts("2024-12-09T23:09:22"), kSample * kNs);
  EXPECT_EQ(ts("2024-12-09T23:09"), (kSample - 22) * kNs);
}

TEST(ParseTimestamp, ShouldKeepFractionUpToNanosecondsAndTruncateTheRest) {
  EXPECT_EQ(ts("2024-12-09 23:09:22.5"), kSample * kNs + 500'000'000);
  EXPECT_EQ(ts("2024-12-09T23:09:22.123"), kSample * kNs + 123'000'000);
  EXPECT_EQ(ts("2024-12-09T23:09:22.000123"), kSample * kNs + 123'000);
  EXPECT_EQ(ts("2024-12-09T23:09:22.123456789"), kSample * kNs + 123'456'789);
  EXPECT_EQ(ts("2024-12-09T23:09:22.1234567899999"), kSample * kNs + 123'456'789);
}

TEST(ParseTimestamp, ShouldConvertZonesToUtc) {
  EXPECT_EQ(ts("2024-12-09T23:09:22Z"), kSample * kNs);
  EXPECT_EQ(ts("2024-12-09T23:09:22+00:00"), kSample * kNs);
  // date -u -d '2024-12-09 17:39:22' +%s -> 1733765962 (23:09:22 at +05:30)
  EXPECT_EQ(ts("2024-12-09T23:09:22+05:30"), 1733765962 * kNs);
  EXPECT_EQ(ts("2024-12-09T23:09:22+0530"), 1733765962 * kNs);
  // date -u -d '2024-12-10 07:09:22' +%s -> 1733814562 (23:09:22 at -08:00, next day in UTC)
  EXPECT_EQ(ts("2024-12-09T23:09:22-08:00"), 1733814562 * kNs);
  EXPECT_EQ(ts("2024-12-09 23:09:22.25-0800"), 1733814562 * kNs + 250'000'000);
  // date -u -d '2023-12-31 23:30:00' +%s -> 1704065400 (crosses back over a year boundary)
  EXPECT_EQ(ts("2024-01-01T00:30:00+01:00"), 1704065400 * kNs);
}

TEST(ParseTimestamp, ShouldTrimSpacesAndQuotes) {
  EXPECT_EQ(ts("  \"2024-12-09 23:09:22\" "), kSample * kNs);
  EXPECT_EQ(ts("\t2024-12-09\t"), kSampleDay * kNs);
}

TEST(ParseTimestamp, ShouldReadYearFirstSlashDates) {
  EXPECT_EQ(ts("2024/12/09"), kSampleDay * kNs);
  EXPECT_EQ(ts("2024/12/09 23:09:22"), kSample * kNs);
  // date -u -d '2024-01-05' +%s -> 1704412800
  EXPECT_EQ(ts("2024/1/5"), 1704412800 * kNs);
}

TEST(ParseTimestamp, ShouldReadUsMonthDayYearDates) {
  EXPECT_EQ(ts("12/9/2024"), kSampleDay * kNs);
  EXPECT_EQ(ts("12/09/2024"), kSampleDay * kNs);
  EXPECT_EQ(ts("12/09/2024 23:09:22"), kSample * kNs);
  // date -u -d '2024-01-02 09:30' +%s -> 1704187800
  EXPECT_EQ(ts("1/2/2024 09:30"), 1704187800 * kNs);
  EXPECT_EQ(ts("01/02/2024 9:30"), 1704187800 * kNs);
}

TEST(ParseTimestamp, ShouldAcceptLeapDaysOnlyInLeapYears) {
  // date -u -d '2024-02-29' +%s -> 1709164800; date -u -d '2000-02-29' +%s -> 951782400
  EXPECT_EQ(ts("2024-02-29"), 1709164800 * kNs);
  EXPECT_EQ(ts("2000-02-29"), 951782400 * kNs);
  EXPECT_EQ(ts("2/29/2024"), 1709164800 * kNs);
  EXPECT_TRUE(ts_fails("2023-02-29"));
  EXPECT_TRUE(ts_fails("2100-02-29"));  // divisible by 100, not by 400
  EXPECT_TRUE(ts_fails("1900-02-29"));
  EXPECT_TRUE(ts_fails("2024-02-30"));
}

TEST(ParseTimestamp, ShouldRejectOutOfRangeFields) {
  EXPECT_TRUE(ts_fails("2024-00-10"));
  EXPECT_TRUE(ts_fails("2024-13-10"));
  EXPECT_TRUE(ts_fails("2024-12-00"));
  EXPECT_TRUE(ts_fails("2024-12-32"));
  EXPECT_TRUE(ts_fails("2024-04-31"));
  EXPECT_TRUE(ts_fails("13/01/2024"));  // US order: month 13
  EXPECT_TRUE(ts_fails("2024-12-09 24:00:00"));
  EXPECT_TRUE(ts_fails("2024-12-09 23:60:00"));
  EXPECT_TRUE(ts_fails("2024-12-09 23:59:60"));
  EXPECT_TRUE(ts_fails("2024-12-09 23:59:59+24:00"));
  EXPECT_TRUE(ts_fails("2024-12-09 23:59:59+05:60"));
}

TEST(ParseTimestamp, ShouldRejectMalformedText) {
  for (const std::string_view bad : {"",
                                     "   ",
                                     "\"\"",
                                     "abc",
                                     "1733785762",
                                     "2024-12-9",
                                     "2024-1-09",
                                     "24-12-09",
                                     "2024.12.09",
                                     "2024-12/09",
                                     "2024/12-09",
                                     "12/09/24",
                                     "123/09/2024",
                                     "12-09-2024",
                                     "2024-12-09x",
                                     "2024-12-09T",
                                     "2024-12-09 23",
                                     "2024-12-09  23:09:22",
                                     "2024-12-09 23:9:22",
                                     "2024-12-09 23:09:2",
                                     "2024-12-09 23:09:22.",
                                     "2024-12-09 23:09:22+05",
                                     "2024-12-09 23:09:22 +05:00",
                                     "2024-12-09Z",
                                     "2024-12-09 23:09:22ZZ",
                                     "2024-12-09 123:09:22",
                                     "+2024-12-09"}) {
    EXPECT_TRUE(ts_fails(bad)) << bad;
  }
}

TEST(ParseTimestamp, ShouldCoverExactlyTheInt64NanosecondRange) {
  // date -u -d '2262-04-11 23:47:16' +%s -> 9223372036; INT64_MAX = 9223372036854775807
  EXPECT_EQ(ts("2262-04-11T23:47:16.854775807Z"), std::numeric_limits<int64_t>::max());
  // date -u -d '1677-09-21 00:12:43' +%s -> -9223372037; INT64_MIN = -9223372036854775808
  EXPECT_EQ(ts("1677-09-21T00:12:43.145224192Z"), std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(ts_fails("2262-04-11T23:47:16.854775808Z"));
  EXPECT_TRUE(ts_fails("1677-09-21T00:12:43.145224191Z"));
  EXPECT_TRUE(ts_fails("2262-04-12"));
  EXPECT_TRUE(ts_fails("1000-01-01"));
  EXPECT_TRUE(ts_fails("9999-12-31"));
}

TEST(ParseEpoch, ShouldReadSecondsBelowOneHundredBillion) {
  EXPECT_EQ(epoch("1733785762"), kSample * kNs);
  EXPECT_EQ(epoch("1733785762.123456"), kSample * kNs + 123'456'000);
  EXPECT_EQ(epoch("\"1733785762.5\""), kSample * kNs + 500'000'000);
  EXPECT_EQ(epoch("1.733785762E9"), kSample * kNs);
  EXPECT_EQ(epoch("-1.5"), -1'500'000'000);
  EXPECT_EQ(epoch("0"), 0);
  EXPECT_EQ(epoch("1.0000000019"), 1'000'000'001);  // below a nanosecond: truncated
}

TEST(ParseEpoch, ShouldReadMillisecondsFromOneHundredBillionUp) {
  EXPECT_EQ(epoch("1733785762123"), kSample * kNs + 123'000'000);
  EXPECT_EQ(epoch("1733785762123.456"), kSample * kNs + 123'456'000);
  EXPECT_EQ(epoch("1.7337857621234e12"), kSample * kNs + 123'400'000);
  EXPECT_EQ(epoch("100000000000"), 100'000'000'000 * 1'000'000);
  EXPECT_EQ(epoch("-100000000000"), -100'000'000'000 * 1'000'000);
}

TEST(ParseEpoch, ShouldRejectGarbageAndOverflow) {
  for (const std::string_view bad : {"", "abc", ".", "-", "+", "--1", "1.2.3", "1e", "1e+", "0x10", "nan",
                                     "inf", "1733785762Z", "1e1000", "99999999999"}) {
    int64_t ns = 42;
    EXPECT_FALSE(parse_epoch(bad, ns)) << bad;
    EXPECT_EQ(ns, 42) << bad;
  }
}

TEST(ParsePrice, ShouldReadPlainSignedAndExponentNumbers) {
  EXPECT_DOUBLE_EQ(price("170.52"), 170.52);
  EXPECT_DOUBLE_EQ(price("+170.52"), 170.52);
  EXPECT_DOUBLE_EQ(price("-0.25"), -0.25);
  EXPECT_DOUBLE_EQ(price("1.5e3"), 1500.0);
  EXPECT_DOUBLE_EQ(price("25643711.0"), 25643711.0);
  EXPECT_DOUBLE_EQ(price(".5"), 0.5);
  EXPECT_DOUBLE_EQ(price("0"), 0.0);
}

TEST(ParsePrice, ShouldStripQuotesSpacesAndThousandsSeparators) {
  EXPECT_DOUBLE_EQ(price(" \"1,234.56\" "), 1234.56);
  EXPECT_DOUBLE_EQ(price("1,234,567"), 1234567.0);
  EXPECT_DOUBLE_EQ(price("-12,345.5"), -12345.5);
  EXPECT_DOUBLE_EQ(price("999,999.99"), 999999.99);
}

TEST(ParsePrice, ShouldRejectNonNumbersAndMisplacedSeparators) {
  for (const std::string_view bad :
       {"",     " ",       "\"\"",     "null", "NaN",    "nan",    "-nan",    "inf",   "-inf", "Infinity",
        "abc",  "1.5x",    "1.2.3",    "+-5",  "--5",    "++5",    "-",       "1e999", "0x1A", "1,5",
        "1,23", "12,3456", "1234,567", ",123", "1,234,", "1,,234", "1.234,5", "1 234"}) {
    double value = 42;
    EXPECT_FALSE(parse_price(bad, value)) << bad;
    EXPECT_EQ(value, 42) << bad;
  }
}

// The reference is libc's gmtime_r and strftime (not this code), the fraction printed by hand.
std::string libc_utc(int64_t ns) {
  int64_t secs = ns / kNs;
  int64_t frac = ns % kNs;
  if (frac < 0) {
    frac += kNs;
    --secs;
  }
  const std::time_t t = secs;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string s(buf, n);
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 9 - digits.size(), '0');
    digits.erase(digits.find_last_not_of('0') + 1);
    s += "." + digits;
  }
  return s + "Z";
}

std::string utc(int64_t ns, std::size_t cap = 64) {
  char buf[64];
  return std::string(buf, format_utc(ns, buf, cap));
}

TEST(FormatUtc, ShouldWriteWhatGmtimeWritesForEdgeAndRandomInstantsFrom1800To2199) {
  EXPECT_EQ(utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(utc(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(utc(kSample * kNs + 120'000'000), "2024-12-09T23:09:22.12Z");
  EXPECT_EQ(utc(kSample * kNs + 5), "2024-12-09T23:09:22.000000005Z");
  EXPECT_EQ(utc(kMinEventNs), libc_utc(kMinEventNs));
  EXPECT_EQ(utc(kMaxEventNs), libc_utc(kMaxEventNs));
  std::mt19937_64 rng(20261202);
  std::uniform_int_distribution<int64_t> any(kMinEventNs, kMaxEventNs);
  for (int i = 0; i < 200000; ++i) {
    int64_t ns = any(rng);
    if (i % 3 == 0) {
      ns -= ns % kNs;  // whole seconds: no fraction
    } else if (i % 3 == 1) {
      ns -= ns % 1'000'000;  // milliseconds: trailing zeros trimmed
    }
    ASSERT_EQ(utc(ns), libc_utc(ns)) << ns;
  }
}

TEST(FormatUtc, ShouldFitTheLongestTextInItsBoundAndNeverWritePastASmallBuffer) {
  const int64_t longest = kSample * kNs + 123'456'789;
  EXPECT_EQ(utc(longest).size(), kUtcTextMax);
  EXPECT_EQ(utc(longest, kUtcTextMax), "2024-12-09T23:09:22.123456789Z");
  char buf[16];
  std::memset(buf, '#', sizeof(buf));
  const std::size_t n = format_utc(longest, buf, 10);
  EXPECT_EQ(std::string(buf, n), "2024-12-09");
  EXPECT_EQ(buf[10], '#');
}

}  // namespace
}  // namespace tickforge
