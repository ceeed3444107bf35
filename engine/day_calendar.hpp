// tickforge — local calendar days in UTC: where a day (and its session) begins and ends.
//
// Private header. Cold path: the shard asks once per ticker per day (when a tick falls past the day it
// has cached); nothing here runs per tick. No allocation after construction, no syscall, no exception
// from the queries.
//
// The definitions, which hold through DST changes and through transitions at midnight:
//   local(u)       = u + offset(u), offset from UtcOffsets (the tz database's answer for instant u)
//   first_at(L)    = the first UTC instant u whose local time is ≥ L (L a local time, ns since the local
//                    epoch): a local time skipped by a spring-forward gap maps to the transition itself, a
//                    repeated one to its first occurrence
//   day D          = [first_at(D · 24 h), first_at((D + 1) · 24 h)): so days tile the time line, never
//                    overlap and never run backwards, whatever the offsets do; a day is 23 or 25 hours
//                    long on DST days in America/New_York
//   session of D   = [first_at(D · 24 h + open), first_at(D · 24 h + close))
#pragma once

#include <cstdint>

#include <tickforge/config.hpp>
#include <tickforge/tick.hpp>

namespace tickforge {

class DayCalendar {
 public:
  /// Throws std::invalid_argument when the zone's table is not ascending or an offset is beyond ±26 h.
  explicit DayCalendar(const DailyConfig& cfg);

  struct Day {
    std::int32_t day;              ///< local date, days since 1970-01-01
    std::int64_t start_ns, end_ns;  ///< the day [start, end) in UTC
    std::int64_t open_ns, close_ns;  ///< its session [open, close) in UTC (= the day without a session)
  };
  /// The day containing UTC instant u, u in [kMinEventNs, kMaxEventNs].
  [[nodiscard]] Day day_of(std::int64_t u) const noexcept;
  /// local − UTC at instant u, seconds.
  [[nodiscard]] std::int32_t offset_at(std::int64_t u) const noexcept;
  /// first_at(L) above.
  [[nodiscard]] std::int64_t first_at(std::int64_t local_ns) const noexcept;

 private:
  [[nodiscard]] std::int64_t day_start(std::int64_t day) const noexcept { return first_at(day * kNsPerDay); }

  UtcOffsets zone_;  // a copy: the calendar outlives any config it was made from
  std::int64_t open_ns_;
  std::int64_t close_ns_;
};

}  // namespace tickforge
