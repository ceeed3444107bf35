// The CSV loader (parsers/csv_reader.hpp) on any text: no crash, no UB; every line counted once,
// rows sorted by time, each row a usable tick.
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <string_view>
#include <tickforge/tick.hpp>

#include "csv_reader.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tickforge::CsvOptions opt;
  opt.path = "fuzz.csv";
  std::uint32_t next = 0;
  const tickforge::CsvLoadResult r = tickforge::parse_csv(opt, text, [&](std::string_view ticker) {
    FUZZ_ASSERT(!ticker.empty() && ticker.size() <= 15);
    return next < 1000 ? next++ : tickforge::kCsvNoSymbol;
  });
  if (!r.ok) {
    FUZZ_ASSERT(!r.error.empty());
    return 0;
  }
  const std::uint64_t rejected =
      std::accumulate(std::begin(r.rejects), std::end(r.rejects), std::uint64_t{0});
  FUZZ_ASSERT(r.lines == r.blank + r.rows.size() + rejected);
  FUZZ_ASSERT(r.messages.size() <= opt.max_reported);
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const tickforge::CsvRow& row = r.rows[i];
    FUZZ_ASSERT(row.price > 0 && std::isfinite(row.price));
    FUZZ_ASSERT(row.volume >= 0 && std::isfinite(row.volume));
    FUZZ_ASSERT(tickforge::event_time_in_range(row.event_ns));
    FUZZ_ASSERT(i == 0 || r.rows[i - 1].event_ns <= row.event_ns);
  }
  return 0;
}
