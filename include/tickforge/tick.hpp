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

/// Event times the engine supports: [1800-01-01T00:00:00Z, 2200-01-01T00:00:00Z), in ns since the Unix
/// epoch. Wide enough for any real history, and narrow enough that every window and cooldown arithmetic
/// stays inside int64 (see kMaxDurationNs). Every entry point refuses a tick outside it and counts it as
/// `time_out_of_range`: the CSV and JSON parsers, the Kafka feed, the C API push and FeedPort itself.
inline constexpr std::int64_t kMinEventNs = -5'364'662'400'000'000'000;  ///< 1800-01-01T00:00:00Z
inline constexpr std::int64_t kEndEventNs = 7'258'118'400'000'000'000;   ///< 2200-01-01T00:00:00Z (excluded)
inline constexpr std::int64_t kMaxEventNs = kEndEventNs - 1;

/// Longest duration a setting may give (alert window, cooldown, metrics interval, event-time steps):
/// 36,500 days. t − d never leaves int64 for any supported t and any d ≤ kMaxDurationNs; the engine never
/// computes t + d (a sum that could), it compares `last > t − d` instead.
inline constexpr std::int64_t kMaxDurationNs = 36'500LL * 86'400 * 1'000'000'000;
static_assert(kMinEventNs - kMaxDurationNs > INT64_MIN, "t - d must stay inside int64");

/// Whether t lies in the supported event-time range. One subtraction and one compare.
[[nodiscard]] constexpr bool event_time_in_range(std::int64_t t) noexcept {
  return static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(kMinEventNs) <
         static_cast<std::uint64_t>(kEndEventNs) - static_cast<std::uint64_t>(kMinEventNs);
}
static_assert(event_time_in_range(kMinEventNs) && event_time_in_range(kMaxEventNs));
static_assert(!event_time_in_range(kMinEventNs - 1) && !event_time_in_range(kEndEventNs));
static_assert(!event_time_in_range(INT64_MIN) && !event_time_in_range(INT64_MAX));

/// to − from for from ≤ to, both in the supported range: the span can exceed INT64_MAX (400 years is
/// 1.26e19 ns), so it is unsigned.
[[nodiscard]] constexpr std::uint64_t event_span_ns(std::int64_t from, std::int64_t to) noexcept {
  return static_cast<std::uint64_t>(to) - static_cast<std::uint64_t>(from);
}

/// t − d for d ≥ 0, saturated at INT64_MIN: exact for every supported t and d ≤ kMaxDurationNs, and still
/// defined for any t (a ShardCore driven directly, outside a FeedPort). Window starts and cooldown checks
/// use it: "less than d since t0" is `t0 > time_minus(t, d)`.
[[nodiscard]] constexpr std::int64_t time_minus(std::int64_t t, std::int64_t d) noexcept {
  std::int64_t r = 0;
  return __builtin_sub_overflow(t, d, &r) ? INT64_MIN : r;
}

/// One market-data event. Fixed size and trivially copyable so rings move it with memcpy.
///
/// Padded to one cache line (48 bytes of fields, 64 with the padding): in a ring of 48-byte slots every
/// other tick straddles two lines, and a consumer reading tick k right behind the producer holds the line
/// the producer is writing tick k + 1 into, so a line crosses between the cores twice per tick. Measured
/// on an Intel Xeon VM (BENCHMARKS.md, "The ring's slot"): single-item transfer 2x, round trip 30 % less;
/// the cost is a third more ring memory and ~2 % of a saturated engine's throughput. The last 8 bytes are
/// the ring's (its per-slot stamp, RingStamp<Tick> in spsc_ring.hpp).
struct alignas(kCacheLine) Tick {
  SymbolId symbol;          ///< dense id from the SymbolTable
  std::uint32_t feed;       ///< index of the feed that produced it
  double price;             ///< last trade / close price, > 0 and finite (feeds reject the rest)
  double volume;            ///< size of this tick (shares); 0 when the source has none
  std::int64_t event_ns;    ///< event time, ns since the Unix epoch, UTC, in [kMinEventNs, kMaxEventNs]
  std::uint64_t seq;        ///< per-feed sequence number, from 0, strictly increasing
  std::int64_t ingest_ns;   ///< steady-clock ns when the feed handed it to the ring (latency origin)
  /// Owned by SpscRing (a slot's readiness stamp, written and read atomically there): what a caller puts
  /// here is never copied into a ring, and what a consumer reads here is not data.
  std::uint64_t ring_stamp = 0;
};

static_assert(std::is_trivially_copyable_v<Tick> && std::is_standard_layout_v<Tick>);
static_assert(sizeof(Tick) == kCacheLine && alignof(Tick) == kCacheLine,
              "a Tick is one cache line (see above): update the docs and benchmarks if that changes");

}  // namespace tickforge
