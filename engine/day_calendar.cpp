#include "day_calendar.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace tickforge {

namespace {

constexpr std::int64_t kNsPerS = kNsPerSecond;

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// a + b without overflow (saturating): the tables span 1800..2200, far inside int64 ns, but day_of()
// accepts any instant.
std::int64_t add_sat(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? INT64_MAX : INT64_MIN;
  }
  return r;
}

}  // namespace

DayCalendar::DayCalendar(const DailyConfig& cfg)
    : zone_(cfg.zone), open_ns_(cfg.session_open_ns), close_ns_(cfg.whole_day() ? kNsPerDay : cfg.session_close_ns) {
  const auto& t = zone_.transition_ns;
  if (t.size() != zone_.offset_s.size()) {
    throw std::invalid_argument("time zone " + zone_.name + ": transitions and offsets differ in number");
  }
  constexpr std::int32_t kMaxOffset = 26 * 3600;
  auto check = [&](std::int32_t o) {
    if (o < -kMaxOffset || o > kMaxOffset) {
      throw std::invalid_argument("time zone " + zone_.name + ": offset beyond ±26 h");
    }
  };
  check(zone_.initial_offset_s);
  for (std::size_t i = 0; i < t.size(); ++i) {
    check(zone_.offset_s[i]);
    // Ascending, and the local times at which segments end ascending too (first_at's binary search
    // relies on it): segment i ends at t[i] with the offset before t[i]. Real zones change at most a few
    // times a year, by hours.
    const std::int32_t before = i == 0 ? zone_.initial_offset_s : zone_.offset_s[i - 1];
    const std::int32_t before_prev = i <= 1 ? zone_.initial_offset_s : zone_.offset_s[i - 2];
    if (i != 0 && (t[i] <= t[i - 1] || t[i] + std::int64_t{before} * kNsPerS <= t[i - 1] + std::int64_t{before_prev} * kNsPerS)) {
      throw std::invalid_argument("time zone " + zone_.name + ": transitions not ascending");
    }
  }
  if (open_ns_ < 0 || close_ns_ > kNsPerDay || open_ns_ >= close_ns_) {
    throw std::invalid_argument("daily session: needs 00:00 <= open < close <= 24:00");
  }
}

std::int32_t DayCalendar::offset_at(std::int64_t u) const noexcept {
  const auto& t = zone_.transition_ns;
  const auto it = std::upper_bound(t.begin(), t.end(), u);  // the first transition after u
  return it == t.begin() ? zone_.initial_offset_s : zone_.offset_s[static_cast<std::size_t>(it - t.begin() - 1)];
}

std::int64_t DayCalendar::first_at(std::int64_t local) const noexcept {
  // Segment i is [T_i, T_{i+1}) with offset o_i (segment 0 starts at -inf with the initial offset); its
  // local times run over [T_i + o_i, T_{i+1} + o_i). The answer lies in the first segment whose local
  // end exceeds L: u = max(T_i, L − o_i). Those ends ascend (checked in the constructor): binary search.
  const auto& t = zone_.transition_ns;
  const auto offset_of_segment = [&](std::size_t i) -> std::int64_t {
    return std::int64_t{i == 0 ? zone_.initial_offset_s : zone_.offset_s[i - 1]} * kNsPerS;
  };
  // segments 0..n; segment i (i ≥ 1) begins at t[i - 1] and ends at t[i] (segment n never ends).
  std::size_t lo = 0;
  std::size_t hi = t.size();  // segment hi always qualifies (it never ends)
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (add_sat(t[mid], offset_of_segment(mid)) > local) {  // segment mid's local end > L
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  const std::int64_t u = add_sat(local, -offset_of_segment(lo));
  return lo == 0 ? u : std::max(t[lo - 1], u);
}

DayCalendar::Day DayCalendar::day_of(std::int64_t u) const noexcept {
  // A first guess from the local time at u, corrected by at most a day either way (a backward jump at
  // midnight can make local(u) name the previous date).
  std::int64_t d = floor_div(add_sat(u, std::int64_t{offset_at(u)} * kNsPerS), kNsPerDay);
  std::int64_t start = day_start(d);
  if (u < start) {
    --d;
    start = day_start(d);
  }
  std::int64_t end = day_start(d + 1);
  if (u >= end) {
    ++d;
    start = end;
    end = day_start(d + 1);
  }
  Day out;
  out.day = static_cast<std::int32_t>(d);
  out.start_ns = start;
  out.end_ns = end;
  out.open_ns = open_ns_ == 0 ? start : first_at(add_sat(d * kNsPerDay, open_ns_));
  out.close_ns = close_ns_ == kNsPerDay ? end : first_at(add_sat(d * kNsPerDay, close_ns_));
  return out;
}

}  // namespace tickforge
