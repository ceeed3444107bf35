// CSV loader for historical bars and tick files (cold path: runs once before replay).
//
// Layouts seen in public data and handled without options: Yahoo
// `Date,Open,High,Low,Close,Adj Close,Volume`, Kaggle `Index,Date,...,Close,Adj Close,Volume,CloseUSD`,
// tick files `ticker,price,volume,timestamp`, plotly `,Date,...,Close,Volume,...,Stock` (unnamed
// index column) and plotly `Date,AAPL.Open,...,AAPL.Close,AAPL.Volume,...`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace tickforge {

/// Returned by a ticker resolver that refuses a ticker.
inline constexpr uint32_t kCsvNoSymbol = 0xFFFFFFFFu;

/// Why a data line was rejected; indexes CsvLoadResult::rejects.
enum class CsvReject : uint8_t {
  kNullValue,       // date or price empty or "null"
  kBadPrice,        // price unparseable, NaN, zero or negative
  kBadVolume,       // volume unparseable or negative
  kBadTimestamp,    // date present but not a timestamp parse_timestamp accepts
  kTimeOutOfRange,  // a valid timestamp outside the engine's range (kMinEventNs..kMaxEventNs: 1800..2199)
  kMissingField,    // fewer fields than the columns in use need
  kBadTicker,       // ticker cell empty or longer than 15 bytes
  kSymbolRejected,  // the resolver returned kCsvNoSymbol
  kCount
};

/// Snake-case name of `r` ("null_value", "bad_price", ...); "unknown" out of range. Static storage.
const char* to_string(CsvReject r) noexcept;

/// What to load and how to find the columns. Column names match ASCII case-insensitively, first
/// exactly and otherwise as a ".name" suffix of a header cell (plotly's "AAPL.Close"); each list of
/// candidates is tried in order and the first header cell that matches wins.
struct CsvOptions {
  std::string path;
  /// Forced ticker for every row. Empty: the ticker column; without one, the prefix of a price
  /// header matched by suffix ("AAPL.Close" -> "AAPL"); otherwise the file stem (AAPL.csv -> "AAPL").
  std::string ticker;
  /// Price column; when no header cell matches it, a column named "price" is used.
  std::string price_column = "Close";
  /// Empty: first of Date, Datetime, timestamp, time, ts. Required.
  std::string date_column;
  /// Empty: first of ticker, symbol, Index, Stock, Name (optional). Set: must exist.
  std::string ticker_column;
  /// Empty: first of Volume, size, qty; no such column gives volume 0. Set: must exist.
  std::string volume_column;
  /// How many rejected lines get a message in CsvLoadResult::messages.
  size_t max_reported = 5;
};

/// One accepted line. `symbol` is the resolver's id; `line` is the 1-based line number in the file.
struct CsvRow {
  int64_t event_ns;  // nanoseconds since the Unix epoch, UTC (parse_timestamp)
  double price;
  double volume;
  uint32_t symbol;
  uint32_t line;
};
static_assert(std::is_trivially_copyable_v<CsvRow>);

/// Outcome of load_csv. When ok, every line but the header is counted exactly once:
/// lines == blank + rows.size() + sum(rejects).
struct CsvLoadResult {
  bool ok = false;           // false: file unreadable, header unusable or fixed ticker refused; see error
  std::string error;         // "path: reason" when !ok
  std::vector<CsvRow> rows;  // accepted lines, stably sorted by event_ns (ties keep file order)
  uint64_t lines = 0;        // every line but the header, blank ones included
  uint64_t blank = 0;        // empty or whitespace-only lines (skipped, not errors)
  uint64_t rejects[static_cast<size_t>(CsvReject::kCount)] = {};
  std::vector<std::string> messages;  // first max_reported rejects: "path:LINE: reason: detail"
};

/// Reads the whole file at opt.path and parses it. The header is the first non-blank line; a UTF-8
/// BOM, CRLF or LF line ends and RFC-4180 quoting ("1,234.50", doubled quotes, spaces before the
/// opening quote tolerated) are understood, but a quoted field cannot span lines. Fields are trimmed
/// of spaces and tabs. Empty or "null" volume is 0.
///
/// `resolve` maps ticker text (1..15 bytes) to a dense id or kCsvNoSymbol. It is called on the
/// calling thread, once for a fixed ticker (before any row; refusal makes the load fail) or else
/// once per line that passed every other check, in file order.
///
/// Thread-safe (no shared state besides what `resolve` touches); allocates; blocks on file I/O.
/// Never throws: exceptions, including from `resolve`, end the load with ok = false.
CsvLoadResult load_csv(const CsvOptions& opt,
                       const std::function<uint32_t(std::string_view)>& resolve) noexcept;

/// load_csv() of text already in memory (opt.path only names it in messages and gives the file-stem
/// ticker). Same contract otherwise.
CsvLoadResult parse_csv(const CsvOptions& opt, std::string_view text,
                        const std::function<uint32_t(std::string_view)>& resolve) noexcept;

}  // namespace tickforge
