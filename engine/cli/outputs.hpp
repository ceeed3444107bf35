// tickforge CLI — output sinks: buffered files, alert fan-out to the main thread, metrics CSV.
//
// Private header. The engine thread never writes alerts to a file: its alert callback copies the record
// into an SPSC ring that the main thread drains (prints, writes JSON lines). Per-tick metrics rows are
// the exception: --metrics-out is a verification tool and formats on the engine thread into a 1 MiB
// buffer (one write(2) per MiB); do not use it when measuring latency.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <tickforge/records.hpp>
#include <tickforge/spsc_ring.hpp>
#include <tickforge/symbol_table.hpp>

#include "kafka/record_json.hpp"  // format_utc, format_alert_json, put_number

namespace tickforge::cli {

/// Append-only file with a fixed buffer; flushes whole buffers with write(2).
class BufferedFile {
 public:
  /// path "-" is stdout. Throws std::runtime_error if the file cannot be opened.
  explicit BufferedFile(const std::string& path, std::size_t buffer = 1 << 20);
  ~BufferedFile();
  BufferedFile(const BufferedFile&) = delete;
  BufferedFile& operator=(const BufferedFile&) = delete;

  void append(const char* data, std::size_t n) noexcept;
  void flush() noexcept;
  [[nodiscard]] std::uint64_t write_errors() const noexcept { return write_errors_; }

 private:
  int fd_;
  bool owns_fd_;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_;
  std::size_t used_ = 0;
  std::uint64_t write_errors_ = 0;
};

/// A duration for people: three significant digits and a unit, "703 ns", "12.1 µs", "5 s", "2.50 min".
std::string format_duration(std::int64_t ns);

/// One alert as a human-readable line plus '\n'.
std::size_t format_alert_text(const Alert& a, char* out, std::size_t cap) noexcept;

/// Alert hand-off from shard threads to the main thread: one ring per shard.
class AlertRelay {
 public:
  AlertRelay(std::uint32_t shards, std::uint32_t capacity);
  /// The engine callback: user = this. Blocks (spins) only if the main thread is a full ring behind.
  static void on_alert(void* user, const Alert* alert) noexcept;
  /// Main thread: hands every queued alert to sink(const Alert&); returns how many.
  template <typename Sink>
  std::size_t drain(Sink&& sink) {
    std::size_t n = 0;
    for (auto& r : rings_) {
      n += r->consume(sink, SIZE_MAX);
    }
    return n;
  }
  [[nodiscard]] std::uint64_t waits() const noexcept;

 private:
  std::vector<std::unique_ptr<SpscRing<Alert>>> rings_;
  std::uint32_t shards_;
  std::vector<std::uint64_t> waits_;  // per shard, written by that shard thread only
};

/// --metrics-out: the update callback writes one CSV row per tick (engine thread, buffered).
/// Columns: ticker,seq,event_ns,timestamp,price,volume,sma{N}…,var{N}…,std{N}…,ema{N}…,pct_change,
/// volatility,window_high,window_low,move_up_pct,move_down_pct,vwap,cum_volume,volume_mean. Numbers in
/// shortest round-trip form; empty = not defined yet. Shard s writes through its own buffer to the same
/// O_APPEND file, so rows of different shards interleave by buffer, each row whole.
class MetricsWriter {
 public:
  MetricsWriter(const std::string& path, const std::vector<std::uint32_t>& windows, std::uint32_t shards,
                const SymbolTable& symbols);
  static void on_update(void* user, const Tick* t, const TickMetrics* m) noexcept;
  void flush() noexcept;

 private:
  std::vector<std::unique_ptr<BufferedFile>> files_;  // [shard]
  const SymbolTable& symbols_;
};

}  // namespace tickforge::cli
