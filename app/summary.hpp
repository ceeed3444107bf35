// tickforge — the run summary, for people (stderr) and as data (--summary-json FILE).
//
// Private header. Both come from the same PipelineStats, so the JSON holds every figure the text shows.
#pragma once

#include <cstdint>
#include <string>

#include "pipeline.hpp"

namespace tickforge {

/// A duration for people: three significant digits and a unit, "703 ns", "12.1 µs", "5 s", "2.50 min".
std::string format_duration(std::int64_t ns);

/// The summary as text; `reason` says why the run stopped ("input ended", "SIGTERM", …).
std::string summary_text(const PipelineStats& st, const char* reason);
/// The same figures as one JSON object (schema 1).
std::string summary_json(const PipelineStats& st, const char* reason);

}  // namespace tickforge
