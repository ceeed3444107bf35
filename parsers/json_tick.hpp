// tickforge — one JSON tick message → ticker, price, volume, event time (simdjson On-Demand).
//
// The shapes public Kafka tick producers use (see docs and tests/data/json):
//   ticker:    "ticker" or "symbol" (string, 1–15 bytes)
//   price:     "price" as a number or a numeric string (parse_price: > 0, finite)
//   time:      "timestamp", "ts" or "event_time": a calendar string (parse_timestamp: "YYYY-MM-DD HH:MM:SS",
//              ISO 8601 with fraction and Z/offset; naive times are UTC) or an epoch number / numeric
//              string (parse_epoch: seconds, integer or fractional; |value| ≥ 1e11 means milliseconds)
//   volume:    optional "volume" or "size", number or numeric string, ≥ 0 (absent → 0)
// Any other key is skipped and counted in JsonTick::unknown_fields (not an error). A JsonFieldMap replaces
// the key of any of the four fields, e.g. Kaggle's indexProcessed rows {"Index":"HSI","Date":"1986-12-31",
// "Open":…,"Close":…,"Adj Close":…,"Volume":0.0} with ticker=Index, price=Close, timestamp=Date,
// volume=Volume (the other columns are then unknown fields).
//
// Hot path: parse() copies the message into a preallocated padded buffer (simdjson reads up to 64 bytes
// past the end) and walks it once; no allocation, no exception, no lock. Messages longer than the
// capacity given to the constructor are rejected (kTooLong), never truncated.
// Thread contract: one JsonTickParser per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <array>
#include <memory>
#include <string>
#include <string_view>

namespace tickforge {

enum class JsonReject : std::uint8_t {
  kTooLong,           // longer than the parser's capacity
  kInvalidJson,       // not a JSON object, or malformed
  kMissingTicker,     // no "ticker" / "symbol"
  kBadTicker,         // not a string, empty or longer than 15 bytes
  kMissingPrice,      // no "price"
  kBadPrice,          // not a number / numeric string, NaN, zero or negative
  kMissingTimestamp,  // no "timestamp" / "ts" / "event_time"
  kBadTimestamp,      // unparseable calendar time or epoch
  kTimeOutOfRange,    // a valid time outside the engine's range (kMinEventNs..kMaxEventNs: 1800..2199)
  kBadVolume,         // not a number / numeric string, or negative
  kCount
};

const char* to_string(JsonReject r) noexcept;

/// Which JSON key carries each field. Empty keeps the built-in names (ticker|symbol, price,
/// timestamp|ts|event_time, volume|size); non-empty replaces them with exactly that key.
struct JsonFieldMap {
  std::string ticker, price, timestamp, volume;
};

struct JsonTick {
  std::string_view ticker;  ///< points into the parser's buffer: valid until the next parse()
  double price = 0;
  double volume = 0;
  std::int64_t event_ns = 0;  ///< ns since the Unix epoch, UTC
  std::uint32_t unknown_fields = 0;
};

class JsonTickParser {
 public:
  static constexpr std::size_t kDefaultCapacity = 64 * 1024;

  /// Allocates the padded buffer and simdjson's working memory for messages up to max_message bytes.
  explicit JsonTickParser(std::size_t max_message = kDefaultCapacity, const JsonFieldMap& fields = {});
  ~JsonTickParser();
  JsonTickParser(const JsonTickParser&) = delete;
  JsonTickParser& operator=(const JsonTickParser&) = delete;

  /// True with `out` filled, or false with `why` set (out is then unspecified).
  [[nodiscard]] bool parse(std::string_view message, JsonTick& out, JsonReject& why) noexcept;

 private:
  struct Impl;  // simdjson's parser: kept out of this header
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<char[]> buf_;
  std::size_t capacity_;
  std::array<std::string, 4> keys_;  // [ticker, price, timestamp, volume]: empty = built-in names
};

}  // namespace tickforge
