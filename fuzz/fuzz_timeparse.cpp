// Time and number parsers (parsers/timeparse.hpp): any bytes, no crash, no UB; results obey their
// contracts (fractions below 1 s, epoch heuristics consistent, prices round-trip their own text).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "fuzz_support.hpp"
#include "timeparse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  std::int64_t ns = 0;
  if (tickforge::parse_timestamp(s, ns)) {
    // A calendar time with no fraction digits lands on a whole second.
    if (s.find('.') == std::string_view::npos) {
      FUZZ_ASSERT(ns % 1'000'000'000 == 0);
    }
  }
  std::int64_t epoch = 0;
  if (tickforge::parse_epoch(s, epoch)) {
    std::int64_t again = 0;
    FUZZ_ASSERT(tickforge::parse_epoch(s, again) && again == epoch);  // pure: same text, same value
  }
  double price = 0;
  if (tickforge::parse_price(s, price)) {
    FUZZ_ASSERT(!std::isnan(price));  // "nan" is refused, and no arithmetic makes one
  }
  return 0;
}
