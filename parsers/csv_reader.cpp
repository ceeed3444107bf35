#include "csv_reader.hpp"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>

#include <tickforge/tick.hpp>


#include "timeparse.hpp"

namespace tickforge {
namespace {

using Resolver = std::function<uint32_t(std::string_view)>;
using Fields = std::vector<std::string_view>;

constexpr size_t kNoColumn = static_cast<size_t>(-1);
constexpr size_t kMaxTickerBytes = 15;
constexpr size_t kMaxDetailBytes = 64;
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

std::string_view trim(std::string_view s) noexcept { return trim_chars(s, " \t\r"); }

char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

bool is_null(std::string_view field) noexcept {
  return field.empty() || iequals(field, "null");
}

// Splits the line [pos, end) at unquoted commas into trimmed fields. Quoted fields are unescaped
// in place (the text only shrinks), so the views point into the line and nothing is allocated
// once `fields` has grown to the widest line. Spaces before an opening quote are dropped (so
// ` "1,234"` stays one field); text after a closing quote is kept, as Python's csv does.
void split_fields(char* pos, char* const end, Fields& fields) {
  fields.clear();
  for (;;) {
    char* const begin = pos;
    char* out = pos;
    char* const first = std::find_if_not(pos, end, [](char c) { return c == ' ' || c == '\t'; });
    bool quoted = first < end && *first == '"';
    if (quoted) {
      pos = first + 1;
    }
    for (; pos < end && (quoted || *pos != ','); ++pos) {
      if (quoted && *pos == '"') {
        const bool doubled = pos + 1 < end && pos[1] == '"';
        if (!doubled) {
          quoted = false;
          continue;
        }
        ++pos;
      }
      *out++ = *pos;
    }
    fields.push_back(trim(std::string_view(begin, static_cast<size_t>(out - begin))));
    if (pos == end) {
      return;
    }
    ++pos;  // the comma
  }
}

struct Column {
  size_t index = kNoColumn;
  std::string_view prefix;  // "AAPL" when "AAPL.Close" matched "Close" as a suffix
};

// The first header cell matching one of `names` (see CsvOptions); empty names match nothing.
Column find_column(const Fields& header, std::initializer_list<std::string_view> names) noexcept {
  for (const std::string_view name : names) {
    if (name.empty()) {
      continue;
    }
    for (size_t i = 0; i < header.size(); ++i) {
      if (iequals(header[i], name)) {
        return {i, {}};
      }
    }
    for (size_t i = 0; i < header.size(); ++i) {
      const std::string_view cell = header[i];
      if (cell.size() <= name.size() + 1) {
        continue;
      }
      const size_t dot = cell.size() - name.size() - 1;
      if (cell[dot] == '.' && iequals(cell.substr(dot + 1), name)) {
        return {i, cell.substr(0, dot)};
      }
    }
  }
  return {};
}

// The explicitly named column if `name` is set, else the first automatic candidate.
Column pick_column(const Fields& header, const std::string& name,
                   std::initializer_list<std::string_view> automatic) noexcept {
  return name.empty() ? find_column(header, automatic) : find_column(header, {name});
}

// Where the values of a data line are, decided once from the header.
struct Layout {
  Fields header;
  size_t date = kNoColumn;
  size_t price = kNoColumn;
  size_t volume = kNoColumn;  // kNoColumn: volume 0
  size_t ticker = kNoColumn;  // kNoColumn: every row gets fixed_symbol
  size_t needed = 0;          // fields a data line must have
  uint32_t fixed_symbol = kCsvNoSymbol;
};

// Fills `layout` from the header line; on failure returns why.
std::optional<std::string> make_layout(const CsvOptions& opt, const Resolver& resolve, Layout& layout) {
  const Fields& header = layout.header;
  const Column price = find_column(header, {opt.price_column, "price"});
  const Column volume = pick_column(header, opt.volume_column, {"Volume", "size", "qty"});
  const Column ticker =
      pick_column(header, opt.ticker_column, {"ticker", "symbol", "Index", "Stock", "Name"});
  layout.date = pick_column(header, opt.date_column, {"Date", "Datetime", "timestamp", "time", "ts"}).index;
  layout.price = price.index;
  layout.volume = volume.index;
  layout.ticker = opt.ticker.empty() ? ticker.index : kNoColumn;
  if (layout.date == kNoColumn) {
    return "no date column";
  }
  if (layout.price == kNoColumn) {
    return "no price column '" + opt.price_column + "' or 'price'";
  }
  if (layout.volume == kNoColumn && !opt.volume_column.empty()) {
    return "no volume column '" + opt.volume_column + "'";
  }
  if (ticker.index == kNoColumn && !opt.ticker_column.empty()) {
    return "no ticker column '" + opt.ticker_column + "'";
  }
  // kNoColumn + 1 wraps to 0, so absent optional columns need nothing.
  layout.needed = std::max({layout.date + 1, layout.price + 1, layout.volume + 1, layout.ticker + 1});
  if (layout.ticker == kNoColumn) {
    std::string fixed = opt.ticker;
    if (fixed.empty()) {
      fixed =
          price.prefix.empty() ? std::filesystem::path(opt.path).stem().string() : std::string(price.prefix);
    }
    if (fixed.empty() || fixed.size() > kMaxTickerBytes) {
      return "ticker '" + fixed + "' is empty or longer than 15 bytes";
    }
    layout.fixed_symbol = resolve(fixed);
    if (layout.fixed_symbol == kCsvNoSymbol) {
      return "ticker '" + fixed + "' refused by the resolver";
    }
  }
  return std::nullopt;
}

struct RowError {
  CsvReject why;
  size_t column;  // the offending field, kNoColumn for kMissingField
};

// Parses one split data line into `row`, or says why it is rejected.
std::optional<RowError> parse_row(const Fields& fields, const Layout& layout, const Resolver& resolve,
                                  CsvRow& row) {
  if (fields.size() < layout.needed) {
    return RowError{CsvReject::kMissingField, kNoColumn};
  }
  const std::string_view date = fields[layout.date];
  const std::string_view price = fields[layout.price];
  if (is_null(date) || is_null(price)) {
    return RowError{CsvReject::kNullValue, is_null(date) ? layout.date : layout.price};
  }
  if (!parse_timestamp(date, row.event_ns)) {
    return RowError{CsvReject::kBadTimestamp, layout.date};
  }
  if (!event_time_in_range(row.event_ns)) {
    return RowError{CsvReject::kTimeOutOfRange, layout.date};
  }
  if (!parse_price(price, row.price) || row.price <= 0) {
    return RowError{CsvReject::kBadPrice, layout.price};
  }
  row.volume = 0;
  if (layout.volume != kNoColumn && !is_null(fields[layout.volume]) &&
      (!parse_price(fields[layout.volume], row.volume) || row.volume < 0)) {
    return RowError{CsvReject::kBadVolume, layout.volume};
  }
  row.symbol = layout.fixed_symbol;
  if (layout.ticker != kNoColumn) {
    const std::string_view ticker = fields[layout.ticker];
    if (ticker.empty() || ticker.size() > kMaxTickerBytes) {
      return RowError{CsvReject::kBadTicker, layout.ticker};
    }
    row.symbol = resolve(ticker);
    if (row.symbol == kCsvNoSymbol) {
      return RowError{CsvReject::kSymbolRejected, layout.ticker};
    }
  }
  return std::nullopt;
}

// Counts the reject and, while under max_reported, describes it: "path:LINE: reason: detail".
void record_reject(const CsvOptions& opt, const Layout& layout, const Fields& fields, RowError error,
                   uint32_t line, CsvLoadResult& result) {
  ++result.rejects[static_cast<size_t>(error.why)];
  if (result.messages.size() >= opt.max_reported) {
    return;
  }
  std::string message = opt.path + ':' + std::to_string(line) + ": " + to_string(error.why) + ": ";
  if (error.column == kNoColumn) {
    message += std::to_string(fields.size()) + " fields, need " + std::to_string(layout.needed);
  } else {
    message += std::string(layout.header[error.column]) + "=\"" +
               std::string(fields[error.column].substr(0, kMaxDetailBytes)) + '"';
  }
  if (error.why == CsvReject::kTimeOutOfRange) {
    message += " (supported: 1800-01-01 to 2199-12-31 UTC)";
  }
  result.messages.push_back(std::move(message));
}

bool read_file(const std::string& path, std::string& text, std::string& error) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec) {
    std::ifstream in(path, std::ios::binary);
    text.resize(size);
    if (in.read(text.data(), static_cast<std::streamsize>(size))) {
      return true;
    }
  }
  error = path + ": " + (ec ? ec.message() : "read failed");
  return false;
}

CsvLoadResult parse(const CsvOptions& opt, std::string text, const Resolver& resolve) {
  CsvLoadResult result;
  char* pos = text.data() + (std::string_view(text).starts_with(kUtf8Bom) ? kUtf8Bom.size() : 0);
  char* const end = text.data() + text.size();
  result.rows.reserve(static_cast<size_t>(std::count(pos, end, '\n')) + 1);

  Layout layout;
  bool have_header = false;
  Fields fields;
  CsvRow row{};
  for (uint32_t line = 1; pos < end; ++line) {
    char* const line_end = std::find(pos, end, '\n');
    char* const next = line_end == end ? end : line_end + 1;
    const bool blank = trim(std::string_view(pos, static_cast<size_t>(line_end - pos))).empty();
    if (!have_header && !blank) {
      split_fields(pos, line_end, layout.header);
      if (const auto why = make_layout(opt, resolve, layout)) {
        result.error = opt.path + ": " + *why;
        return result;
      }
      have_header = true;
    } else {
      ++result.lines;
      if (blank) {
        ++result.blank;
      } else {
        split_fields(pos, line_end, fields);
        row.line = line;
        if (const auto error = parse_row(fields, layout, resolve, row)) {
          record_reject(opt, layout, fields, *error, line, result);
        } else {
          result.rows.push_back(row);
        }
      }
    }
    pos = next;
  }
  if (!have_header) {
    result.error = opt.path + ": no header line";
    return result;
  }
  std::stable_sort(result.rows.begin(), result.rows.end(),
                   [](const CsvRow& a, const CsvRow& b) { return a.event_ns < b.event_ns; });
  result.ok = true;
  return result;
}

// A failed result that cannot itself throw: if even the error text cannot be built, it stays empty.
CsvLoadResult failure(const std::string& path, const char* why) noexcept {
  CsvLoadResult result;
  try {
    result.error = path + ": " + why;
  } catch (...) {  // out of memory again: nothing more to say
  }
  return result;
}

}  // namespace

const char* to_string(CsvReject r) noexcept {
  switch (r) {
    case CsvReject::kNullValue:
      return "null_value";
    case CsvReject::kBadPrice:
      return "bad_price";
    case CsvReject::kBadVolume:
      return "bad_volume";
    case CsvReject::kBadTimestamp:
      return "bad_timestamp";
    case CsvReject::kTimeOutOfRange:
      return "time_out_of_range";
    case CsvReject::kMissingField:
      return "missing_field";
    case CsvReject::kBadTicker:
      return "bad_ticker";
    case CsvReject::kSymbolRejected:
      return "symbol_rejected";
    case CsvReject::kCount:
      break;
  }
  return "unknown";
}

CsvLoadResult load_csv(const CsvOptions& opt, const Resolver& resolve) noexcept {
  try {
    std::string text;
    CsvLoadResult result;
    if (!read_file(opt.path, text, result.error)) {
      return result;
    }
    return parse(opt, std::move(text), resolve);
  } catch (const std::exception& e) {
    return failure(opt.path, e.what());
  } catch (...) {
    return failure(opt.path, "unknown exception");
  }
}

CsvLoadResult parse_csv(const CsvOptions& opt, std::string_view text, const Resolver& resolve) noexcept {
  try {
    return parse(opt, std::string(text), resolve);
  } catch (const std::exception& e) {
    return failure(opt.path, e.what());
  } catch (...) {
    return failure(opt.path, "unknown exception");
  }
}

}  // namespace tickforge
