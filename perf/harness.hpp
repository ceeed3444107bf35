// tickforge perf — end-to-end latency and throughput harness: feed thread → transport → engine shard →
// callbacks, on pinned CPUs.
//
// Transports:
//   kRing  the real Engine: FeedPort → SpscRing → Engine shard thread (Engine::start) → ShardCore
//   kRwq   the same ShardCore behind moodycamel::ReaderWriterQueue, with a shard loop shaped like the
//          Engine's (drain up to 256, same idle strategy): the peer transport, compared in one run
// Modes:
//   kRate      open loop at a fixed offered rate: tick i is due at t0 + i/rate and carries that
//              *scheduled* time as its latency origin (FeedPort::publish_at), so a stall anywhere shows
//              in every tick it delayed (no coordinated omission)
//   kSaturate  the feed publishes as fast as the transport takes ticks (back-pressure, never a drop);
//              latency there is queueing time, throughput is the figure
// Latency is tick → per-tick update callback (the callback receives the fresh metrics), recorded in a
// log-linear histogram (values within 1/32 of themselves); ticks due before t0 + warm-up are not recorded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tickforge/config.hpp>
#include <tickforge/tick.hpp>

#include "latency_histogram.hpp"

namespace tickforge::perf {

enum class Transport : std::uint8_t { kRing, kRwq };
enum class Mode : std::uint8_t { kRate, kSaturate };

const char* to_string(Transport t) noexcept;
const char* to_string(Mode m) noexcept;

/// A recorded stream replayed in laps: tick i is ticks[i % n] with event time + (i / n) × lap_ns, so
/// windows keep moving forward. Symbol ids are dense in the order of `names`.
struct TickSource {
  std::string name;                // "synthetic(64)" or the CSV path
  std::vector<std::string> names;  // ticker of id 0, 1, …
  std::vector<Tick> ticks;
  std::int64_t lap_ns = 0;
};

/// Walks a source in laps: next() returns ticks[i % n] with event time + (i / n) × lap_ns. Event times
/// stay in the engine's range: after the last lap that fits (a 40-year daily history fits 5 times before
/// 2200), laps start again from the recorded times, which the engine then counts as late ticks.
/// No allocation.
class Replay {
 public:
  explicit Replay(const TickSource& src) noexcept : src_(&src) {
    std::int64_t newest = kMinEventNs;
    for (const Tick& t : src.ticks) {
      newest = t.event_ns > newest ? t.event_ns : newest;
    }
    room_ = event_span_ns(newest, kMaxEventNs);
  }
  Tick next() noexcept {
    Tick t = src_->ticks[k_];
    t.event_ns = static_cast<std::int64_t>(static_cast<std::uint64_t>(t.event_ns) + lap_);
    if (++k_ == src_->ticks.size()) {
      k_ = 0;
      const auto step = static_cast<std::uint64_t>(src_->lap_ns);
      lap_ = room_ - lap_ >= step ? lap_ + step : 0;
    }
    return t;
  }

 private:
  const TickSource* src_;
  std::size_t k_ = 0;
  std::uint64_t lap_ = 0;   // ≤ room_
  std::uint64_t room_ = 0;  // how far the newest recorded tick may move and stay ≤ kMaxEventNs
};

/// Pre-generates n ticks of the synthetic feed (seeded random walk with jumps) over `tickers` tickers.
TickSource synthetic_source(std::uint32_t tickers, std::size_t n);
/// Loads a CSV history (any layout load_csv accepts); throws std::runtime_error with the reason.
TickSource csv_source(const std::string& path);

struct HarnessConfig {
  Mode mode = Mode::kRate;
  Transport transport = Transport::kRing;
  double rate = 1'000'000;  // ticks/s offered (kRate)
  double warmup_s = 1.0;
  double duration_s = 5.0;  // measured part, after the warm-up
  int feed_cpu = 0;
  int engine_cpu = 1;
  IdleKind idle = IdleKind::kBusySpin;
  /// true: a per-tick update callback (receives the metrics) records every tick's latency — what a
  /// consumer of every tick pays; false: only the alert callback, as for a user who wants alerts only
  /// (the engine then skips the metrics the rules do not need); throughput is counted at the feed.
  bool update_callback = true;
  std::uint32_t ring_capacity = 65536;
  std::int64_t stall_ns = 0;        // > 0: the engine thread busy-waits this long …
  std::int64_t stall_every_ns = 0;  // … once per this much time (to check that stalls show)
  EngineConfig engine;              // calculators and rules (shards, ring size and policy are set here)
};

struct HarnessResult {
  std::string label;
  HarnessConfig config;
  std::uint64_t sent = 0;       // ticks published
  std::uint64_t processed = 0;  // ticks through the callbacks
  std::uint64_t measured = 0;   // ticks recorded (after warm-up)
  std::uint64_t dropped = 0;    // always 0 (back-pressure), reported to prove it
  std::uint64_t full_waits = 0; // publishes that found the transport full and waited
  std::uint64_t alerts = 0;
  std::uint64_t stalls = 0;     // injected engine stalls
  std::uint64_t checksum = 0;   // hash of every tick's metrics and alerts: equal input → equal value
  double measured_seconds = 0;  // from the end of warm-up to the last measured tick's callback
  double throughput = 0;        // measured / measured_seconds (ticks/s)
  bool pinned = true;           // both threads pinned as asked
  LatencyHistogram latency;        // tick (scheduled or publish time) → update callback, ns (if installed)
  LatencyHistogram alert_latency;  // tick → alert callback, ns
};

/// Runs one configuration. Throws std::runtime_error on bad settings (CPU, empty source).
HarnessResult run_harness(const HarnessConfig& cfg, const TickSource& src);

}  // namespace tickforge::perf
