#include "json_tick.hpp"

#include <simdjson.h>

#include <cstring>
#include <new>
#include <utility>

#include <tickforge/tick.hpp>

#include "timeparse.hpp"

namespace tickforge {

namespace ond = simdjson::ondemand;

const char* to_string(JsonReject r) noexcept {
  switch (r) {
    case JsonReject::kTooLong:
      return "message_too_long";
    case JsonReject::kInvalidJson:
      return "invalid_json";
    case JsonReject::kMissingTicker:
      return "missing_ticker";
    case JsonReject::kBadTicker:
      return "bad_ticker";
    case JsonReject::kMissingPrice:
      return "missing_price";
    case JsonReject::kBadPrice:
      return "bad_price";
    case JsonReject::kMissingTimestamp:
      return "missing_timestamp";
    case JsonReject::kBadTimestamp:
      return "bad_timestamp";
    case JsonReject::kTimeOutOfRange:
      return "time_out_of_range";
    case JsonReject::kBadVolume:
      return "bad_volume";
    case JsonReject::kCount:
      break;
  }
  return "unknown";
}

struct JsonTickParser::Impl {
  explicit Impl(std::size_t max_message) : parser(max_message) {}
  ond::parser parser;
};

JsonTickParser::JsonTickParser(std::size_t max_message, const JsonFieldMap& fields)
    : impl_(std::make_unique<Impl>(max_message)),
      buf_(new char[max_message + simdjson::SIMDJSON_PADDING]),
      capacity_(max_message),
      keys_{fields.ticker, fields.price, fields.timestamp, fields.volume} {
  // Reserve simdjson's working memory now so that parse() never allocates.
  if (impl_->parser.allocate(max_message) != simdjson::SUCCESS) {
    throw std::bad_alloc();
  }
}

JsonTickParser::~JsonTickParser() = default;

namespace {

enum class Field : std::uint8_t { kTicker, kPrice, kTime, kVolume, kOther };  // kTicker..kVolume index keys_

Field classify_builtin(std::string_view key) noexcept {
  switch (key.size()) {
    case 2:
      return key == "ts" ? Field::kTime : Field::kOther;
    case 4:
      return key == "size" ? Field::kVolume : Field::kOther;
    case 5:
      return key == "price" ? Field::kPrice : Field::kOther;
    case 6:
      return key == "ticker" || key == "symbol" ? Field::kTicker : key == "volume" ? Field::kVolume : Field::kOther;
    case 9:
      return key == "timestamp" ? Field::kTime : Field::kOther;
    case 10:
      return key == "event_time" ? Field::kTime : Field::kOther;
    default:
      return Field::kOther;
  }
}

// JSON's whitespace (RFC 8259 §2): the only bytes allowed between tokens.
constexpr std::string_view kJsonSpace = " \t\n\r";
constexpr std::size_t kMaxUnknownDepth = 64;

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// The number token at the start of simdjson's raw token (which runs to the next structural character and
// so carries any whitespace after the number), checked against RFC 8259 §6:
//   -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?
// False when the token is not a JSON number ("01", "+1", ".5", "1.", "1e", "0x10", "1 2").
bool json_number(std::string_view raw, std::string_view& out) noexcept {
  const std::size_t last = raw.find_last_not_of(kJsonSpace);
  if (last == std::string_view::npos) {
    return false;
  }
  raw = raw.substr(0, last + 1);
  std::size_t i = 0;
  const std::size_t n = raw.size();
  auto digits = [&] {
    const std::size_t from = i;
    while (i < n && is_digit(raw[i])) {
      ++i;
    }
    return i != from;
  };
  if (i < n && raw[i] == '-') {
    ++i;
  }
  if (i < n && raw[i] == '0') {
    ++i;
  } else if (!(i < n && raw[i] >= '1' && raw[i] <= '9' && digits())) {
    return false;
  }
  if (i < n && raw[i] == '.' && !(++i, digits())) {
    return false;
  }
  if (i < n && (raw[i] == 'e' || raw[i] == 'E')) {
    ++i;
    if (i < n && (raw[i] == '+' || raw[i] == '-')) {
      ++i;
    }
    if (!digits()) {
      return false;
    }
  }
  if (i != n) {
    return false;
  }
  out = raw;
  return true;
}

// On-Demand skips a value nobody reads without checking its atoms; an unknown field is still part of
// the message, so it is checked here: numbers by the grammar, literals and strings (escapes) by
// simdjson, containers recursively (at most kMaxUnknownDepth deep).
bool valid_value(ond::value v, std::size_t depth) noexcept {
  ond::json_type type;
  if (depth > kMaxUnknownDepth || v.type().get(type) != simdjson::SUCCESS) {
    return false;
  }
  switch (type) {
    case ond::json_type::number: {
      std::string_view text;
      return json_number(v.raw_json_token(), text);
    }
    case ond::json_type::string: {
      std::string_view text;
      return v.get_string().get(text) == simdjson::SUCCESS;
    }
    case ond::json_type::boolean: {
      bool b = false;
      return v.get_bool().get(b) == simdjson::SUCCESS;
    }
    case ond::json_type::null: {
      bool is_null = false;
      return v.is_null().get(is_null) == simdjson::SUCCESS && is_null;
    }
    case ond::json_type::array: {
      ond::array arr;
      if (v.get_array().get(arr) != simdjson::SUCCESS) {
        return false;
      }
      for (auto item : arr) {
        ond::value iv;
        if (item.get(iv) != simdjson::SUCCESS || !valid_value(iv, depth + 1)) {
          return false;
        }
      }
      return true;
    }
    case ond::json_type::object: {
      ond::object obj;
      if (v.get_object().get(obj) != simdjson::SUCCESS) {
        return false;
      }
      for (auto field_result : obj) {
        ond::field field;
        std::string_view key;
        if (std::move(field_result).get(field) != simdjson::SUCCESS ||
            field.unescaped_key().get(key) != simdjson::SUCCESS || !valid_value(field.value(), depth + 1)) {
          return false;
        }
      }
      return true;
    }
  }
  return false;
}

enum class Scalar : std::uint8_t { kOk, kNotNumeric, kInvalidJson };

// A number (its exact JSON text, for our own exact parsers) or a string holding one. A number token that
// breaks the JSON grammar makes the whole message invalid JSON.
Scalar numeric_text(ond::value& v, std::string_view& text) noexcept {
  ond::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) {
    return Scalar::kInvalidJson;
  }
  if (type == ond::json_type::number) {
    return json_number(v.raw_json_token(), text) ? Scalar::kOk : Scalar::kInvalidJson;
  }
  if (type == ond::json_type::string) {
    return v.get_string().get(text) == simdjson::SUCCESS ? Scalar::kOk : Scalar::kInvalidJson;
  }
  return valid_value(v, 0) ? Scalar::kNotNumeric : Scalar::kInvalidJson;
}

// A string's unescaped text; any other (valid) value is kNotNumeric.
Scalar string_text(ond::value& v, std::string_view& text) noexcept {
  ond::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) {
    return Scalar::kInvalidJson;
  }
  if (type == ond::json_type::string) {
    return v.get_string().get(text) == simdjson::SUCCESS ? Scalar::kOk : Scalar::kInvalidJson;
  }
  return valid_value(v, 0) ? Scalar::kNotNumeric : Scalar::kInvalidJson;
}

// A configured key wins; a built-in name whose field has a configured key is just another field.
Field classify(std::string_view key, const std::array<std::string, 4>& keys) noexcept {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i].empty() && key == keys[i]) {
      return static_cast<Field>(i);
    }
  }
  const Field f = classify_builtin(key);
  return f != Field::kOther && !keys[static_cast<std::size_t>(f)].empty() ? Field::kOther : f;
}

}  // namespace

bool JsonTickParser::parse(std::string_view message, JsonTick& out, JsonReject& why) noexcept {
  if (message.size() > capacity_) {
    why = JsonReject::kTooLong;
    return false;
  }
  std::memcpy(buf_.get(), message.data(), message.size());
  std::memset(buf_.get() + message.size(), 0, simdjson::SIMDJSON_PADDING);

  ond::document doc;
  ond::object obj;
  if (impl_->parser.iterate(buf_.get(), message.size(), message.size() + simdjson::SIMDJSON_PADDING).get(doc) !=
          simdjson::SUCCESS ||
      doc.get_object().get(obj) != simdjson::SUCCESS) {
    why = JsonReject::kInvalidJson;
    return false;
  }
  bool have_ticker = false;
  bool have_price = false;
  bool have_time = false;
  out = JsonTick{};
  // A bad field is remembered, not returned at once: the whole message must still be valid JSON,
  // and invalid JSON is the more useful reason to report.
  bool bad = false;
  JsonReject bad_why = JsonReject::kInvalidJson;
  auto mark_bad = [&](JsonReject r) {
    if (!bad) {
      bad = true;
      bad_why = r;
    }
  };
  for (auto field_result : obj) {
    ond::field field;
    std::string_view key;
    if (std::move(field_result).get(field) != simdjson::SUCCESS || field.unescaped_key().get(key) != simdjson::SUCCESS) {
      why = JsonReject::kInvalidJson;
      return false;
    }
    ond::value v = field.value();
    std::string_view text;
    switch (classify(key, keys_)) {
      case Field::kTicker: {
        have_ticker = true;
        const Scalar s = string_text(v, text);
        if (s == Scalar::kInvalidJson) {
          why = JsonReject::kInvalidJson;
          return false;
        }
        if (s != Scalar::kOk || text.empty() || text.size() > 15) {
          mark_bad(JsonReject::kBadTicker);
        } else {
          out.ticker = text;
        }
        break;
      }
      case Field::kPrice: {
        have_price = true;
        const Scalar s = numeric_text(v, text);
        if (s == Scalar::kInvalidJson) {
          why = JsonReject::kInvalidJson;
          return false;
        }
        if (s != Scalar::kOk || !parse_price(text, out.price) || !(out.price > 0.0)) {
          mark_bad(JsonReject::kBadPrice);
        }
        break;
      }
      case Field::kTime: {
        have_time = true;
        ond::json_type type;
        if (v.type().get(type) != simdjson::SUCCESS) {
          why = JsonReject::kInvalidJson;
          return false;
        }
        bool ok = false;
        if (type == ond::json_type::number) {
          if (!json_number(v.raw_json_token(), text)) {
            why = JsonReject::kInvalidJson;
            return false;
          }
          ok = parse_epoch(text, out.event_ns);
        } else if (type == ond::json_type::string) {
          if (v.get_string().get(text) != simdjson::SUCCESS) {
            why = JsonReject::kInvalidJson;
            return false;
          }
          ok = parse_timestamp(text, out.event_ns) || parse_epoch(text, out.event_ns);
        } else if (!valid_value(v, 0)) {
          why = JsonReject::kInvalidJson;
          return false;
        }
        if (!ok) {
          mark_bad(JsonReject::kBadTimestamp);
        } else if (!event_time_in_range(out.event_ns)) {
          mark_bad(JsonReject::kTimeOutOfRange);
        }
        break;
      }
      case Field::kVolume: {
        const Scalar s = numeric_text(v, text);
        if (s == Scalar::kInvalidJson) {
          why = JsonReject::kInvalidJson;
          return false;
        }
        if (s != Scalar::kOk || !parse_price(text, out.volume) || out.volume < 0.0) {
          mark_bad(JsonReject::kBadVolume);
        }
        break;
      }
      case Field::kOther:
        ++out.unknown_fields;
        if (!valid_value(v, 0)) {
          why = JsonReject::kInvalidJson;
          return false;
        }
        break;
    }
  }
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) {  // content after the object
    why = JsonReject::kInvalidJson;
    return false;
  }
  if (bad) {
    why = bad_why;
    return false;
  }
  if (!have_ticker) {
    why = JsonReject::kMissingTicker;
  } else if (!have_price) {
    why = JsonReject::kMissingPrice;
  } else if (!have_time) {
    why = JsonReject::kMissingTimestamp;
  } else {
    return true;
  }
  return false;
}

}  // namespace tickforge
