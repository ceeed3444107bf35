#include "timeparse.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace tickforge {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr size_t kFractionDigits = 9;
constexpr size_t kMaxExponentDigits = 3;
constexpr size_t kMaxGroupedPriceChars = 64;

std::string_view trim(std::string_view s) noexcept { return trim_chars(s, " \t\""); }

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

unsigned to_unsigned(std::string_view digits) noexcept {
  unsigned value = 0;
  for (const char c : digits) {
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

// Left-to-right reader over a trimmed piece of text.
class Cursor {
 public:
  explicit Cursor(std::string_view s) noexcept : s_(s) {}

  bool done() const noexcept { return pos_ == s_.size(); }
  char peek() const noexcept { return done() ? '\0' : s_[pos_]; }

  bool eat(char c) noexcept {
    if (peek() != c) {
      return false;
    }
    ++pos_;
    return true;
  }

  // Consumes and returns the run of digits at the cursor, at most max_digits long (may be empty).
  std::string_view digits(size_t max_digits = std::string_view::npos) noexcept {
    const size_t begin = pos_;
    while (pos_ - begin < max_digits && is_digit(peek())) {
      ++pos_;
    }
    return s_.substr(begin, pos_ - begin);
  }

  // Reads min_digits..max_digits digits as an unsigned number.
  bool number(size_t min_digits, size_t max_digits, unsigned& out) noexcept {
    const std::string_view run = digits(max_digits);
    out = to_unsigned(run);
    return run.size() >= min_digits;
  }

  // Consumes an optional '+' or '-'; returns -1 for '-', else +1.
  int sign() noexcept {
    if (eat('-')) {
      return -1;
    }
    eat('+');
    return 1;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// date := YYYY-MM-DD | YYYY/M/D | M/D/YYYY, as days since 1970-01-01.
bool parse_date(Cursor& c, int64_t& days) noexcept {
  unsigned y = 0;
  unsigned m = 0;
  unsigned d = 0;
  bool shaped = false;
  const std::string_view lead = c.digits(4);
  if (lead.size() == 4) {
    y = to_unsigned(lead);
    shaped = c.eat('-') ? c.number(2, 2, m) && c.eat('-') && c.number(2, 2, d)
                        : c.eat('/') && c.number(1, 2, m) && c.eat('/') && c.number(1, 2, d);
  } else {
    m = to_unsigned(lead);
    shaped = !lead.empty() && lead.size() <= 2 && c.eat('/') && c.number(1, 2, d) && c.eat('/') &&
             c.number(4, 4, y);
  }
  if (!shaped || !valid_civil_date(y, m, d)) {
    return false;
  }
  days = days_from_civil(y, m, d);
  return true;
}

// time := H:MM[:SS[.fraction]], as seconds of the day plus nanoseconds.
bool parse_time(Cursor& c, int64_t& seconds, int64_t& nanos) noexcept {
  unsigned h = 0;
  unsigned m = 0;
  unsigned s = 0;
  if (!c.number(1, 2, h) || !c.eat(':') || !c.number(2, 2, m)) {
    return false;
  }
  if (c.eat(':')) {
    if (!c.number(2, 2, s)) {
      return false;
    }
    if (c.eat('.')) {
      const std::string_view fraction = c.digits(kFractionDigits);
      if (fraction.empty()) {
        return false;
      }
      c.digits();  // digits finer than a nanosecond are truncated
      for (size_t i = 0; i < kFractionDigits; ++i) {
        nanos = nanos * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
      }
    }
  }
  seconds = h * 3600 + m * 60 + s;
  return h < 24 && m < 60 && s < 60;
}

// zone := 'Z' | ('+'|'-') HH[:]MM, as the offset of local time from UTC in seconds; none = 0.
bool parse_zone(Cursor& c, int64_t& offset) noexcept {
  if (c.eat('Z') || (c.peek() != '+' && c.peek() != '-')) {
    return true;
  }
  const int sign = c.sign();
  unsigned h = 0;
  unsigned m = 0;
  if (!c.number(2, 2, h)) {
    return false;
  }
  c.eat(':');
  if (!c.number(2, 2, m) || h >= 24 || m >= 60) {
    return false;
  }
  offset = sign * static_cast<int64_t>(h * 3600 + m * 60);
  return true;
}

// seconds * 1e9 + nanos (0 <= nanos < 1e9) without intermediate overflow, so INT64_MIN is reachable.
bool to_nanos(int64_t seconds, int64_t nanos, int64_t& out) noexcept {
  if (seconds < 0 && nanos > 0) {
    ++seconds;
    nanos -= kNanosPerSecond;
  }
  int64_t result = 0;
  if (__builtin_mul_overflow(seconds, kNanosPerSecond, &result) ||
      __builtin_add_overflow(result, nanos, &result)) {
    return false;
  }
  out = result;
  return true;
}

// [+-]digits[.digits][(e|E)[+-]digits], split but not yet evaluated.
struct Decimal {
  bool negative = false;
  std::string_view integer;
  std::string_view fraction;
  int exponent = 0;
};

bool split_decimal(std::string_view s, Decimal& d) noexcept {
  Cursor c(s);
  d.negative = c.sign() < 0;
  d.integer = c.digits();
  if (c.eat('.')) {
    d.fraction = c.digits();
  }
  if (d.integer.empty() && d.fraction.empty()) {
    return false;
  }
  if (c.eat('e') || c.eat('E')) {
    const int sign = c.sign();
    unsigned magnitude = 0;
    if (!c.number(1, kMaxExponentDigits, magnitude)) {
      return false;
    }
    d.exponent = sign * static_cast<int>(magnitude);
  }
  return c.done();
}

// trunc(value * 10^scale), exactly; false when it does not fit in int64.
bool to_scaled(const Decimal& d, int scale, int64_t& out) noexcept {
  const auto digit_at = [&d](size_t i) {
    if (i < d.integer.size()) {
      return d.integer[i];
    }
    i -= d.integer.size();
    return i < d.fraction.size() ? d.fraction[i] : '0';
  };
  // Digits of the scaled value that lie left of its decimal point.
  const int64_t whole_digits = static_cast<int64_t>(d.integer.size()) + d.exponent + scale;
  uint64_t magnitude = 0;
  for (int64_t i = 0; i < whole_digits; ++i) {
    if (__builtin_mul_overflow(magnitude, 10u, &magnitude) ||
        __builtin_add_overflow(magnitude, static_cast<unsigned>(digit_at(static_cast<size_t>(i)) - '0'),
                               &magnitude)) {
      return false;
    }
  }
  const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + (d.negative ? 1 : 0);
  if (magnitude > limit) {
    return false;
  }
  out = static_cast<int64_t>(d.negative ? 0 - magnitude : magnitude);  // modular, so 2^63 -> INT64_MIN
  return true;
}

}  // namespace

bool parse_timestamp(std::string_view s, int64_t& out_ns) noexcept {
  Cursor c(trim(s));
  int64_t days = 0;
  int64_t seconds = 0;
  int64_t nanos = 0;
  int64_t offset = 0;
  if (!parse_date(c, days)) {
    return false;
  }
  const bool has_time = c.eat('T') || c.eat(' ');
  if (has_time && !(parse_time(c, seconds, nanos) && parse_zone(c, offset))) {
    return false;
  }
  return c.done() && to_nanos(days * 86400 + seconds - offset, nanos, out_ns);
}

bool parse_epoch(std::string_view s, int64_t& out_ns) noexcept {
  Decimal d;
  int64_t hundred_billions = 0;
  if (!split_decimal(trim(s), d) || !to_scaled(d, -11, hundred_billions)) {
    return false;
  }
  return to_scaled(d, hundred_billions != 0 ? 6 : 9, out_ns);
}

bool parse_price(std::string_view s, double& out) noexcept {
  s = trim(s);
  const bool negative = s.starts_with('-');
  if (negative || s.starts_with('+')) {
    s.remove_prefix(1);
  }
  // from_chars would accept a second sign, "inf" and "nan": demand a digit or a point first.
  if (s.empty() || !(is_digit(s.front()) || s.front() == '.')) {
    return false;
  }
  const std::string_view integer = s.substr(0, s.find_first_not_of("0123456789,"));
  const size_t first_comma = integer.find(',');
  char ungrouped[kMaxGroupedPriceChars];
  if (first_comma != std::string_view::npos) {
    // Groups: 1-3 leading digits, then ",ddd" repeated; commas exactly every fourth character.
    if (first_comma == 0 || first_comma > 3 || (integer.size() - first_comma) % 4 != 0 ||
        s.size() > sizeof ungrouped) {
      return false;
    }
    for (size_t i = first_comma; i < integer.size(); ++i) {
      if ((integer[i] == ',') != ((i - first_comma) % 4 == 0)) {
        return false;
      }
    }
    const char* const ungrouped_end = std::remove_copy(s.begin(), s.end(), ungrouped, ',');
    s = std::string_view(ungrouped, static_cast<size_t>(ungrouped_end - ungrouped));
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) {
    return false;
  }
  out = negative ? -value : value;
  return true;
}

}  // namespace tickforge
