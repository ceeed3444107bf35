// tickforge — time zones from the system tz database (Debian's tzdata, read by cctz) as the engine's
// offset tables, and the session syntax of the daily summaries.
//
// Private header. Cold path: runs once at start-up.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <tickforge/config.hpp>

namespace tickforge {

/// Every UTC offset change of the zone over the supported event-time range (1800..2199). "UTC" needs
/// no tz database. Throws std::invalid_argument for a name the tz database does not know.
UtcOffsets load_utc_offsets(const std::string& name);

/// The instant (UTC ns since the epoch) of midnight at the start of a date in a zone ("UTC" or a tz
/// database name): America/New_York 2019-07-30 → 2019-07-30T04:00:00Z. Throws std::invalid_argument for
/// an unknown zone or a date that does not exist.
std::int64_t local_midnight_utc_ns(const std::string& zone, int year, int month, int day);

/// The local calendar date in a zone of an instant (UTC ns since the epoch): the session date of a
/// capture from its first packet, or of a live feed from the clock. Throws std::invalid_argument for an
/// unknown zone.
void local_date_of(const std::string& zone, std::int64_t utc_ns, int& year, int& month, int& day);

/// "HH:MM-HH:MM" (or with :SS) as local times of day into open/close; "", "all" or "whole day" = the
/// whole day.
/// Throws std::invalid_argument with what is wrong.
void parse_session(std::string_view text, std::int64_t& open_ns, std::int64_t& close_ns);
/// The inverse: "09:30-16:00", or "whole day".
std::string session_text(std::int64_t open_ns, std::int64_t close_ns);

}  // namespace tickforge
