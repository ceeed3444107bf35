// tickforge — the Tick that crosses every ring.
//
// Thread contract: a plain value type; copied into and out of rings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace tickforge {

/// Size of a cache line on the x86-64 and ARMv8 parts we target.
inline constexpr std::size_t kCacheLine = 64;
/// Distance that avoids false sharing on x86 (the adjacent-line prefetcher pulls pairs of lines).
inline constexpr std::size_t kFalseSharingRange = 128;

/// Dense symbol id; kNoSymbol marks "not registered".
using SymbolId = std::uint32_t;
inline constexpr SymbolId kNoSymbol = 0xFFFFFFFFu;

/// One market-data event. Fixed size and trivially copyable so rings move it with memcpy.
struct Tick {
  SymbolId symbol;          ///< dense id from the SymbolTable
  std::uint32_t feed;       ///< index of the feed that produced it
  double price;             ///< last trade / close price, > 0 and finite (feeds reject the rest)
  double volume;            ///< size of this tick (shares); 0 when the source has none
  std::int64_t event_ns;    ///< event time, ns since the Unix epoch, UTC: windows run on this
  std::uint64_t seq;        ///< per-feed sequence number, from 0, strictly increasing
  std::int64_t ingest_ns;   ///< steady-clock ns when the feed handed it to the ring (latency origin)
};

static_assert(std::is_trivially_copyable_v<Tick>);
static_assert(sizeof(Tick) == 48, "Tick layout changed: update the docs and benchmarks");
static_assert(sizeof(Tick) <= kCacheLine);

}  // namespace tickforge
