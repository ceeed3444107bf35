// The JSON tick parser (parsers/json_tick.hpp) on any bytes: no crash, no UB, and an accepted
// message always holds a usable tick (price > 0 and finite, volume ≥ 0, ticker 1..15 bytes, event time
// in the engine's range).
#include <cmath>
#include <cstdint>
#include <string_view>
#include <tickforge/tick.hpp>

#include "fuzz_support.hpp"
#include "json_tick.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static tickforge::JsonTickParser parser(4096);
  static tickforge::JsonTickParser mapped(4096, tickforge::JsonFieldMap{"Index", "Close", "Date", "Volume"});
  const std::string_view msg(reinterpret_cast<const char*>(data), size);
  for (tickforge::JsonTickParser* p : {&parser, &mapped}) {
    tickforge::JsonTick t;
    tickforge::JsonReject why{};
    if (p->parse(msg, t, why)) {
      FUZZ_ASSERT(t.price > 0 && std::isfinite(t.price));
      FUZZ_ASSERT(t.volume >= 0 && std::isfinite(t.volume));
      FUZZ_ASSERT(!t.ticker.empty() && t.ticker.size() <= 15);
      FUZZ_ASSERT(tickforge::event_time_in_range(t.event_ns));
    } else {
      FUZZ_ASSERT(static_cast<std::size_t>(why) < static_cast<std::size_t>(tickforge::JsonReject::kCount));
    }
  }
  return 0;
}
