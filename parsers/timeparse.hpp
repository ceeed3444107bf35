// Text-to-number parsers shared by the feed handlers (CSV now, JSON later).
//
// Contract for every function here: pure, thread-safe, no allocation, no exceptions, no locale.
// On failure they return false and leave the output untouched.
#pragma once

#include <cstdint>
#include <string_view>

namespace tickforge {

/// s without the leading and trailing characters that appear in `chars`. No allocation.
constexpr std::string_view trim_chars(std::string_view s, std::string_view chars) noexcept {
  const size_t first = s.find_first_not_of(chars);
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

/// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (negative before 1970).
/// m must be 1..12 and d 1..31; the date itself is not validated. Howard Hinnant's algorithm.
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);                 // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

/// Whether y-m-d is a date of the proleptic Gregorian calendar (month 1..12, day within the month, leap
/// years included).
constexpr bool valid_civil_date(int64_t y, unsigned m, unsigned d) noexcept {
  const bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
  const unsigned days = m == 2 ? (leap ? 29 : 28) : m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
  return m >= 1 && m <= 12 && d >= 1 && d <= days;
}

/// Parses a calendar timestamp into nanoseconds since the Unix epoch, UTC.
/// Surrounding spaces, tabs and double quotes are ignored. Grammar:
///   timestamp := date [ ('T' | ' ') time ]
///   date      := YYYY-MM-DD | YYYY/M/D | M/D/YYYY      (M and D: one or two digits in slash forms)
///   time      := H:MM [ :SS [ .fraction ] ] [ zone ]   (H: one or two digits)
///   zone      := 'Z' | ('+' | '-') HH [':'] MM
/// A fraction keeps its first 9 digits (later digits are truncated). Without a zone the time is UTC;
/// with an offset it is converted to UTC. Ranges: month 1-12, day within the month (leap years
/// included), hour < 24, minute < 60, second < 60, offset < 24:00; the result must fit in int64
/// nanoseconds (1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z).
[[nodiscard]] bool parse_timestamp(std::string_view s, int64_t& out_ns) noexcept;

/// Parses an epoch number `[+-]digits[.digits][(e|E)[+-]digits]` (spaces and quotes trimmed) into
/// nanoseconds: |value| >= 1e11 is milliseconds, anything smaller is seconds. Exact decimal
/// arithmetic (no double rounding); digits finer than a nanosecond are truncated toward zero.
/// Fails when the result does not fit in int64 or the exponent has more than 3 digits.
[[nodiscard]] bool parse_epoch(std::string_view s, int64_t& out_ns) noexcept;

/// Parses a decimal number such as `-1,234.56e0` (spaces and quotes trimmed, optional leading '+'
/// or '-'). Thousands separators are accepted only in the integer part and only as well-formed
/// groups of three ("1,234,567" yes; "1,5" and "12,3456" no), and then the text may be at most 64
/// characters. Rejects empty text, null, nan, inf, out-of-range exponents and trailing garbage.
[[nodiscard]] bool parse_price(std::string_view s, double& out) noexcept;

}  // namespace tickforge
