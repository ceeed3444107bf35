#include "time_zone.hpp"

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

#include <tickforge/tick.hpp>

namespace tickforge {

namespace {

// A tz database name, never a path: cctz would read any file it is given (/dev/zero, ../../etc/…).
cctz::time_zone load_zone(const std::string& name) {
  const bool safe = !name.empty() && name.size() <= 64 && name.front() != '/' && name.find("..") == std::string::npos &&
                    name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") ==
                        std::string::npos;
  if (!safe) {
    throw std::invalid_argument("time zone '" + name.substr(0, 64) +
                                "': give a tz database name such as America/New_York or Europe/London, or UTC");
  }
  cctz::time_zone tz;
  // cctz falls back to UTC and returns false for a name it cannot load; refuse that rather than run on
  // the wrong calendar.
  if (!cctz::load_time_zone(name, &tz)) {
    throw std::invalid_argument("unknown time zone '" + name +
                                "': give a tz database name such as America/New_York or Europe/London, or UTC");
  }
  return tz;
}

cctz::time_zone zone_of(const std::string& name) { return name == "UTC" ? cctz::utc_time_zone() : load_zone(name); }

}  // namespace

UtcOffsets load_utc_offsets(const std::string& name) {
  UtcOffsets z;
  z.name = name;
  if (name == "UTC") {
    return z;
  }
  const cctz::time_zone tz = load_zone(name);
  using seconds = std::chrono::seconds;
  using tp_t = cctz::time_point<seconds>;
  const tp_t first{seconds{kMinEventNs / kNsPerSecond}};
  const tp_t last{seconds{kMaxEventNs / kNsPerSecond}};
  z.initial_offset_s = tz.lookup(first).offset;
  std::int32_t current = z.initial_offset_s;
  cctz::time_zone::civil_transition trans;
  for (tp_t tp = first; tz.next_transition(tp, &trans);) {
    // The instant of the change: the first time of the civil time jumped to (UNIQUE after a gap; the
    // transition point of a repeated range).
    const tp_t at = tz.lookup(trans.to).trans;
    if (at <= tp || at > last) {
      break;
    }
    tp = at;
    const std::int32_t offset = tz.lookup(at).offset;
    if (offset == current) {
      continue;  // an abbreviation or DST-flag change only
    }
    z.transition_ns.push_back(at.time_since_epoch().count() * kNsPerSecond);
    z.offset_s.push_back(offset);
    current = offset;
  }
  return z;
}

std::int64_t local_midnight_utc_ns(const std::string& zone, int year, int month, int day) {
  const cctz::civil_day d(year, month, day);
  if (d.year() != year || d.month() != month || d.day() != day) {
    throw std::invalid_argument(fmt::format("no such date: {:04}-{:02}-{:02}", year, month, day));
  }
  const cctz::time_zone tz = zone_of(zone);
  // A zone whose clocks jump over midnight has no local midnight that day: the first instant of the day
  // (the transition) is taken, as cctz's pre-transition reading gives.
  const auto tp = cctz::convert(cctz::civil_second(d), tz);
  return static_cast<std::int64_t>(tp.time_since_epoch().count()) * kNsPerSecond;
}

void local_date_of(const std::string& zone, std::int64_t utc_ns, int& year, int& month, int& day) {
  const cctz::time_zone tz = zone_of(zone);
  const std::int64_t s = utc_ns >= 0 ? utc_ns / kNsPerSecond : -((-utc_ns + kNsPerSecond - 1) / kNsPerSecond);
  const auto tp = std::chrono::time_point_cast<cctz::seconds>(std::chrono::system_clock::from_time_t(0)) + cctz::seconds(s);
  const cctz::civil_day d = cctz::civil_day(cctz::convert(tp, tz));
  year = static_cast<int>(d.year());
  month = d.month();
  day = d.day();
}

namespace {

std::int64_t parse_clock(std::string_view t, std::string_view whole) {
  // HH:MM or HH:MM:SS, 00:00 .. 24:00
  int parts[3] = {0, 0, 0};
  int n = 0;
  std::size_t i = 0;
  while (n < 3) {
    if (i + 2 > t.size() || t[i] < '0' || t[i] > '9' || t[i + 1] < '0' || t[i + 1] > '9') {
      throw std::invalid_argument("session '" + std::string(whole) + "': expected HH:MM-HH:MM (local times, e.g. 09:30-16:00)");
    }
    parts[n++] = (t[i] - '0') * 10 + (t[i + 1] - '0');
    i += 2;
    if (i == t.size()) {
      break;
    }
    if (t[i] != ':') {
      throw std::invalid_argument("session '" + std::string(whole) + "': expected HH:MM-HH:MM (local times, e.g. 09:30-16:00)");
    }
    ++i;
  }
  if (n < 2 || i != t.size() || parts[1] > 59 || parts[2] > 59 || parts[0] > 24 ||
      (parts[0] == 24 && (parts[1] != 0 || parts[2] != 0))) {
    throw std::invalid_argument("session '" + std::string(whole) + "': times of day are 00:00 .. 24:00");
  }
  return ((parts[0] * 60LL + parts[1]) * 60 + parts[2]) * kNsPerSecond;
}

std::string clock_text(std::int64_t ns) {
  const std::int64_t s = ns / kNsPerSecond;
  return s % 60 == 0 ? fmt::format("{:02}:{:02}", s / 3600, s / 60 % 60)
                     : fmt::format("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

}  // namespace

void parse_session(std::string_view text, std::int64_t& open_ns, std::int64_t& close_ns) {
  if (text.empty() || text == "all" || text == "whole day") {
    open_ns = close_ns = 0;
    return;
  }
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    throw std::invalid_argument("session '" + std::string(text) + "': expected HH:MM-HH:MM (local times, e.g. 09:30-16:00)");
  }
  const std::int64_t open = parse_clock(text.substr(0, dash), text);
  const std::int64_t close = parse_clock(text.substr(dash + 1), text);
  if (open >= close) {
    throw std::invalid_argument("session '" + std::string(text) +
                                "': the open must come before the close (sessions across midnight are not supported)");
  }
  open_ns = open;
  close_ns = open == 0 && close == kNsPerDay ? 0 : close;  // 00:00-24:00 is the whole day
}

std::string session_text(std::int64_t open_ns, std::int64_t close_ns) {
  if (open_ns == 0 && close_ns == 0) {
    return "whole day";
  }
  return clock_text(open_ns) + "-" + clock_text(close_ns);
}

}  // namespace tickforge
