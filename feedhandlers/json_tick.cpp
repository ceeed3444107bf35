#include "json_tick.hpp"

#include <simdjson.h>

#include <cstring>
#include <new>
#include <utility>

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

// A number (its JSON text, parsed exactly by our parsers) or a string holding one.
bool numeric_text(ond::value& v, std::string_view& text) noexcept {
  ond::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) {
    return false;
  }
  if (type == ond::json_type::number) {
    text = v.raw_json_token();
    return true;
  }
  return type == ond::json_type::string && v.get_string().get(text) == simdjson::SUCCESS;
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
      case Field::kTicker:
        have_ticker = true;
        if (v.get_string().get(text) != simdjson::SUCCESS || text.empty() || text.size() > 15) {
          mark_bad(JsonReject::kBadTicker);
        } else {
          out.ticker = text;
        }
        break;
      case Field::kPrice:
        have_price = true;
        if (!numeric_text(v, text) || !parse_price(text, out.price) || !(out.price > 0.0)) {
          mark_bad(JsonReject::kBadPrice);
        }
        break;
      case Field::kTime: {
        have_time = true;
        ond::json_type type;
        bool ok = v.type().get(type) == simdjson::SUCCESS;
        if (ok && type == ond::json_type::number) {
          ok = parse_epoch(v.raw_json_token(), out.event_ns);
        } else if (ok && type == ond::json_type::string && v.get_string().get(text) == simdjson::SUCCESS) {
          ok = parse_timestamp(text, out.event_ns) || parse_epoch(text, out.event_ns);
        } else {
          ok = false;
        }
        if (!ok) {
          mark_bad(JsonReject::kBadTimestamp);
        }
        break;
      }
      case Field::kVolume:
        if (!numeric_text(v, text) || !parse_price(text, out.volume) || out.volume < 0.0) {
          mark_bad(JsonReject::kBadVolume);
        }
        break;
      case Field::kOther:
        ++out.unknown_fields;  // the iterator skips (and checks) the value on the next step
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
