// JSON tick messages: the shapes public producers send, and every way a message can be bad.
#include "json_tick.hpp"

#include <tickforge/tick.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace tickforge {
namespace {

constexpr std::int64_t kNs = 1'000'000'000;

struct Parsed {
  bool ok;
  JsonTick tick;
  std::string ticker;
  JsonReject why;
};

Parsed parse(JsonTickParser& p, std::string_view msg) {
  Parsed r{};
  r.ok = p.parse(msg, r.tick, r.why);
  if (r.ok) {
    r.ticker = std::string(r.tick.ticker);
  }
  return r;
}

TEST(JsonTick, ShouldParseTheSeedPipelineFormat) {
  JsonTickParser p;
  const auto r = parse(p, R"({"ticker":"AAPL","price":220.78,"timestamp":"2024-12-09 23:09:22"})");
  ASSERT_TRUE(r.ok) << to_string(r.why);
  EXPECT_EQ(r.ticker, "AAPL");
  EXPECT_EQ(r.tick.price, 220.78);
  EXPECT_EQ(r.tick.event_ns, 1733785762 * kNs);  // python: datetime(2024,12,9,23,9,22,tzinfo=utc)
  EXPECT_EQ(r.tick.volume, 0.0);
  EXPECT_EQ(r.tick.unknown_fields, 0u);
}

TEST(JsonTick, ShouldAcceptTheVariantShapesOfPublicProducers) {
  JsonTickParser p;
  const std::int64_t t0 = 1733785762 * kNs;
  struct Case {
    const char* msg;
    const char* ticker;
    double price;
    std::int64_t ns;
    double volume;
  };
  const Case cases[] = {
      {R"({"symbol":"MSFT","price":"415.5","timestamp":"2024-12-09 23:09:22"})", "MSFT", 415.5, t0, 0},
      {R"({"ticker":"A","price":1,"timestamp":"2024-12-09T23:09:22.123456Z"})", "A", 1.0, t0 + 123'456'000, 0},
      {R"({"ticker":"A","price":1,"timestamp":"2024-12-10T01:09:22+02:00"})", "A", 1.0, t0, 0},
      {R"({"ticker":"A","price":1,"ts":1733785762123})", "A", 1.0, t0 + 123'000'000, 0},
      {R"({"ticker":"A","price":1,"event_time":1733785762.5})", "A", 1.0, t0 + 500'000'000, 0},
      {R"({"ticker":"A","price":1,"timestamp":"1733785762"})", "A", 1.0, t0, 0},
      {R"({"ticker":"A","price":2.5,"timestamp":1733785762,"volume":300})", "A", 2.5, t0, 300},
      {R"({"ticker":"A","price":2.5,"timestamp":1733785762,"size":"12.5"})", "A", 2.5, t0, 12.5},
      {R"(  {"timestamp":1733785762, "price":3e2 ,"ticker":"B"}  )", "B", 300.0, t0, 0},
  };
  for (const Case& c : cases) {
    const auto r = parse(p, c.msg);
    ASSERT_TRUE(r.ok) << c.msg << ": " << to_string(r.why);
    EXPECT_EQ(r.ticker, c.ticker) << c.msg;
    EXPECT_EQ(r.tick.price, c.price) << c.msg;
    EXPECT_EQ(r.tick.event_ns, c.ns) << c.msg;
    EXPECT_EQ(r.tick.volume, c.volume) << c.msg;
  }
}

TEST(JsonTick, ShouldReadKaggleIndexRowsThroughAFieldMapping) {
  // Kaggle "Stock Exchange Data" indexProcessed.csv as JSON rows: a space inside a key, volume a float.
  JsonTickParser p(JsonTickParser::kDefaultCapacity, JsonFieldMap{"Index", "Close", "Date", "Volume"});
  JsonTick t;
  JsonReject why{};
  ASSERT_TRUE(p.parse(R"({"Index":"HSI","Date":"1986-12-31","Open":2568.300049,"High":2568.300049,)"
                      R"("Low":2568.300049,"Close":2568.300049,"Adj Close":2568.300049,"Volume":0.0,)"
                      R"("CloseUSD":333.87900637})",
                      t, why))
      << to_string(why);
  EXPECT_EQ(t.ticker, "HSI");
  EXPECT_DOUBLE_EQ(t.price, 2568.300049);
  EXPECT_EQ(t.volume, 0.0);
  EXPECT_EQ(t.event_ns, 536371200LL * 1'000'000'000);  // 1986-12-31T00:00:00Z
  EXPECT_EQ(t.unknown_fields, 5u);                      // Open, High, Low, Adj Close, CloseUSD
  // A mapped field replaces the built-in names: "ticker" is now just another field.
  EXPECT_FALSE(p.parse(R"({"ticker":"AAPL","Close":1,"Date":"2024-01-02"})", t, why));
  EXPECT_EQ(why, JsonReject::kMissingTicker);
}

TEST(JsonTick, ShouldCountUnknownFieldsWithoutRejecting) {
  JsonTickParser p;
  const auto r = parse(p, R"({"ticker":"A","exchange":"XNAS","price":1,"meta":{"a":[1,2,{"b":null}]},)"
                          R"("timestamp":"2024-12-09 23:09:22"})");
  ASSERT_TRUE(r.ok) << to_string(r.why);
  EXPECT_EQ(r.tick.unknown_fields, 2u);
  EXPECT_EQ(r.tick.price, 1.0);
}

TEST(JsonTick, ShouldRejectBadMessagesWithTheReason) {
  JsonTickParser p(256);
  struct Case {
    std::string msg;
    JsonReject why;
  };
  const Case cases[] = {
      {R"({"ticker":"A","price":1,"timestamp":"2024-12-09 23:09:22")", JsonReject::kInvalidJson},
      {R"(["A",1])", JsonReject::kInvalidJson},
      {"", JsonReject::kInvalidJson},
      {"not json", JsonReject::kInvalidJson},
      {R"({"ticker":"A","price":1,"timestamp":"2024-12-09 23:09:22"} trailing)", JsonReject::kInvalidJson},
      {R"({"price":1,"timestamp":"2024-12-09 23:09:22"})", JsonReject::kMissingTicker},
      {R"({"ticker":"","price":1,"timestamp":"2024-12-09 23:09:22"})", JsonReject::kBadTicker},
      {R"({"ticker":"ABCDEFGHIJKLMNOP","price":1,"timestamp":"2024-12-09 23:09:22"})", JsonReject::kBadTicker},
      {R"({"ticker":7,"price":1,"timestamp":"2024-12-09 23:09:22"})", JsonReject::kBadTicker},
      {R"({"ticker":"A","timestamp":"2024-12-09 23:09:22"})", JsonReject::kMissingPrice},
      {R"({"ticker":"A","price":0,"timestamp":"2024-12-09 23:09:22"})", JsonReject::kBadPrice},
      {R"({"ticker":"A","price":-3.5,"timestamp":"2024-12-09 23:09:22"})", JsonReject::kBadPrice},
      {R"({"ticker":"A","price":"NaN","timestamp":"2024-12-09 23:09:22"})", JsonReject::kBadPrice},
      {R"({"ticker":"A","price":null,"timestamp":"2024-12-09 23:09:22"})", JsonReject::kBadPrice},
      {R"({"ticker":"A","price":true,"timestamp":"2024-12-09 23:09:22"})", JsonReject::kBadPrice},
      {R"({"ticker":"A","price":1})", JsonReject::kMissingTimestamp},
      {R"({"ticker":"A","price":1,"timestamp":"2024-13-09 23:09:22"})", JsonReject::kBadTimestamp},
      {R"({"ticker":"A","price":1,"timestamp":"yesterday"})", JsonReject::kBadTimestamp},
      {R"({"ticker":"A","price":1,"timestamp":null})", JsonReject::kBadTimestamp},
      {R"({"ticker":"A","price":1,"timestamp":1e400})", JsonReject::kBadTimestamp},
      {R"({"ticker":"A","price":1,"timestamp":1733785762,"volume":-1})", JsonReject::kBadVolume},
      {R"({"ticker":"A","price":1,"timestamp":1733785762,"size":"many"})", JsonReject::kBadVolume},
      {std::string(300, ' '), JsonReject::kTooLong},
  };
  for (const Case& c : cases) {
    const auto r = parse(p, c.msg);
    EXPECT_FALSE(r.ok) << c.msg;
    EXPECT_EQ(r.why, c.why) << c.msg << " gave " << to_string(r.why) << ", want " << to_string(c.why);
  }
  // The parser is still good after every kind of failure.
  EXPECT_TRUE(parse(p, R"({"ticker":"A","price":1,"timestamp":1733785762})").ok);
}

TEST(JsonTick, ShouldParseEveryMessageOfTheSeedFileLikeAPlainTextReading) {
  std::ifstream in(std::string(TICKFORGE_TEST_DATA_DIR) + "/json/seed_format_mag7_2023_daily_close.jsonl");
  ASSERT_TRUE(in) << "test data missing";
  JsonTickParser p;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    const auto r = parse(p, line);
    ASSERT_TRUE(r.ok) << line << ": " << to_string(r.why);
    // Independent reading of the same text: the value after "price": and the ticker between quotes.
    const auto price_at = line.find("\"price\":");
    ASSERT_NE(price_at, std::string::npos);
    EXPECT_EQ(r.tick.price, std::strtod(line.c_str() + price_at + 8, nullptr)) << line;
    const auto t0 = line.find(':') + 1;
    const auto q1 = line.find('"', t0);
    EXPECT_EQ(r.ticker, line.substr(q1 + 1, line.find('"', q1 + 1) - q1 - 1)) << line;
    EXPECT_EQ(r.tick.event_ns % (86'400 * kNs), 16 * 3'600 * kNs) << line;  // every message at 16:00:00 UTC
    ++n;
  }
  EXPECT_EQ(n, 1250);
}

// RFC 8259: whitespace (space, tab, CR, LF) may surround any token. simdjson's raw number tokens carry
// the whitespace that follows them; the parser must not take it for part of the number.
TEST(JsonTick, ShouldAcceptEveryKindOfWhitespaceAroundEveryToken) {
  JsonTickParser p;
  const std::int64_t t0 = 1672761600 * kNs;  // 2023-01-03T16:00:00Z
  const char* const messages[] = {
      "{\"ticker\":\"AAPL\",\"price\":125.07\n,\"timestamp\":1672761600}",
      "{\n  \"ticker\": \"AAPL\",\n  \"price\": 125.07,\n  \"volume\": 1500,\n  \"timestamp\": 1672761600\n}\n",
      "{\r\n\t\"ticker\"\t:\t\"AAPL\"\t,\r\n\t\"price\"\r\n:\r\n125.07\r\n,\r\n\t\"volume\" : 1500 \t\r\n,"
      "\"timestamp\" \n : \n 1672761600 \t\r\n}\r\n",
      " \t\r\n{\"ticker\":\"AAPL\",\"volume\":1500\r,\"price\":125.07\t,\"timestamp\":1672761600\n} \t\r\n",
      "{\"ticker\":\"AAPL\",\"price\":125.07,\"timestamp\":1672761600,\"volume\":1500\n}",
      "{\"ticker\":\"AAPL\",\"price\":1.2507e2 ,\"timestamp\":1.6727616e9\r\n,\"volume\":1.5E3\t}",
  };
  for (const char* m : messages) {
    const auto r = parse(p, m);
    ASSERT_TRUE(r.ok) << m << ": " << to_string(r.why);
    EXPECT_EQ(r.ticker, "AAPL") << m;
    EXPECT_EQ(r.tick.price, 125.07) << m;
    EXPECT_EQ(r.tick.event_ns, t0) << m;
    if (std::string_view(m).find("volume") != std::string_view::npos) {
      EXPECT_EQ(r.tick.volume, 1500.0) << m;
    }
  }
}

// Numbers and literals exactly as the grammar spells them, in the fields we read and in the ones we skip.
TEST(JsonTick, ShouldRefuseNumbersAndLiteralsTheGrammarDoesNotAllow) {
  JsonTickParser p;
  const char* const invalid[] = {
      R"({"ticker":"A","price":01,"timestamp":1672761600})",
      R"({"ticker":"A","price":-01.5,"timestamp":1672761600})",
      R"({"ticker":"A","price":1.,"timestamp":1672761600})",
      R"({"ticker":"A","price":.5,"timestamp":1672761600})",
      R"({"ticker":"A","price":1e,"timestamp":1672761600})",
      R"({"ticker":"A","price":1e+,"timestamp":1672761600})",
      R"({"ticker":"A","price":- 1,"timestamp":1672761600})",
      R"({"ticker":"A","price":1 2,"timestamp":1672761600})",
      R"({"ticker":"A","price":0x10,"timestamp":1672761600})",
      R"({"ticker":"A","price":1,"timestamp":01672761600})",
      R"({"ticker":"A","price":1,"timestamp":1672761600,"volume":1.5.5})",
      R"({"ticker":"A","price":1,"timestamp":1672761600,"open":tru})",
      R"({"ticker":"A","price":1,"timestamp":1672761600,"open":nulll})",
      R"({"ticker":"A","price":1,"timestamp":1672761600,"open":01})",
      R"({"ticker":"A","price":1,"timestamp":1672761600,"open":[1,02]})",
      R"({"ticker":"A","price":1,"timestamp":1672761600,"open":{"x":fals}})",
      R"({"ticker":"A","price":1,"timestamp":1672761600,"open":"\q"})",
      R"({"ticker":01,"price":1,"timestamp":1672761600})",
  };
  for (const char* m : invalid) {
    const auto r = parse(p, m);
    EXPECT_FALSE(r.ok) << m;
    EXPECT_EQ(r.why, JsonReject::kInvalidJson) << m << " gave " << to_string(r.why);
  }
  // The same shapes, spelled validly: accepted, the unknown fields skipped and counted.
  const auto r = parse(p, "{\"ticker\":\"A\",\"price\":-0.5e-0 ,\"timestamp\":1672761600,"
                          "\"open\":true,\"o2\":null,\"o3\":[1,0.25,{\"x\":false}],\"o4\":\"\\n\"}");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.why, JsonReject::kBadPrice);  // a valid number, but not a price > 0
  const auto good = parse(p, "{\"ticker\":\"A\",\"price\":0.5e-0 ,\"timestamp\":1672761600,"
                             "\"open\":true,\"o2\":null,\"o3\":[1,0.25,{\"x\":false}],\"o4\":\"\\n\"}");
  ASSERT_TRUE(good.ok) << to_string(good.why);
  EXPECT_EQ(good.tick.price, 0.5);
  EXPECT_EQ(good.tick.unknown_fields, 4u);
  // Literals where a number belongs are bad values, not bad JSON.
  EXPECT_EQ(parse(p, R"({"ticker":"A","price":true,"timestamp":1672761600})").why, JsonReject::kBadPrice);
  EXPECT_EQ(parse(p, R"({"ticker":"A","price":null,"timestamp":1672761600})").why, JsonReject::kBadPrice);
  EXPECT_EQ(parse(p, R"({"ticker":"A","price":1,"timestamp":false})").why, JsonReject::kBadTimestamp);
  EXPECT_EQ(parse(p, R"({"ticker":null,"price":1,"timestamp":1})").why, JsonReject::kBadTicker);
}

// The engine's event-time range: 1800-01-01T00:00:00Z ≤ t < 2200-01-01T00:00:00Z.
TEST(JsonTick, ShouldRefuseEventTimesOutsideTheSupportedRange) {
  JsonTickParser p;
  struct Case {
    const char* time;  // JSON value text
    bool ok;
    std::int64_t ns;
  };
  const Case cases[] = {
      {R"("1800-01-01T00:00:00Z")", true, kMinEventNs},
      {R"("2199-12-31T23:59:59.999999999Z")", true, kMaxEventNs},
      {R"("1799-12-31T23:59:59.999999999Z")", false, 0},
      {R"("2200-01-01T00:00:00Z")", false, 0},
      {R"("1677-09-21T00:12:43.145224192Z")", false, 0},  // INT64_MIN ns
      {R"("2262-04-11T23:47:16.854775807Z")", false, 0},  // INT64_MAX ns
      {"-9223372036", false, 0},                          // seconds: INT64_MIN / 1e9, truncated
      {"-5364662400", true, kMinEventNs},                 // epoch seconds of 1800-01-01
      {"-5364662401", false, 0},
      {"7258118399.999999999", true, kMaxEventNs},
      {"7258118400", false, 0},
      {"-5364662400000", true, kMinEventNs},  // milliseconds (|value| ≥ 1e11)
      {"7258118400000", false, 0},
  };
  for (const Case& c : cases) {
    const std::string m = std::string(R"({"ticker":"A","price":1,"ts":)") + c.time + "}";
    const auto r = parse(p, m);
    EXPECT_EQ(r.ok, c.ok) << m << " gave " << to_string(r.why);
    if (c.ok) {
      EXPECT_EQ(r.tick.event_ns, c.ns) << m;
    } else {
      EXPECT_EQ(r.why, JsonReject::kTimeOutOfRange) << m << " gave " << to_string(r.why);
    }
  }
  EXPECT_STREQ(to_string(JsonReject::kTimeOutOfRange), "time_out_of_range");
}

}  // namespace
}  // namespace tickforge
