// tickforge — file and console sinks: alerts as JSON lines and as human-readable lines, metrics CSV.
//
//   shard s ─on_alert()─▶ AlertRelay ring s ─▶ AlertSinks agent (its own thread, "tf-sinks")
//                                               ├─▶ --alerts-out: JSON lines (buffered, write(2) per MiB)
//                                               └─▶ console: at most print-alerts lines a second
//
// Private header. The engine thread never writes alerts to a file: its alert callback copies the record
// into its own SPSC ring, which the sinks agent drains. Per-tick metrics rows are the exception:
// --metrics-out is a verification tool and formats on the engine thread into a 1 MiB buffer (one
// write(2) per MiB); do not use it when measuring latency.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <tickforge/engine.hpp>  // ShardIndex
#include <tickforge/records.hpp>
#include <tickforge/spsc_ring.hpp>
#include <tickforge/symbol_table.hpp>

#include "agent.hpp"
#include "record_json.hpp"  // format_utc, format_alert_json, put_number

namespace tickforge {

/// Append-only file with a fixed buffer; flushes whole buffers with write(2).
class BufferedFile {
 public:
  /// path "-" is stdout. Throws std::runtime_error if the file cannot be opened. Appends (O_APPEND), after
  /// truncating the file unless `truncate` is false.
  explicit BufferedFile(const std::string& path, std::size_t buffer = 1 << 20, bool truncate = true);
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

/// One alert as a human-readable line plus '\n'.
std::size_t format_alert_text(const Alert& a, char* out, std::size_t cap) noexcept;

/// Alert hand-off from shard threads to the sinks thread: one ring per shard (its only producer).
class AlertRelay {
 public:
  AlertRelay(ShardIndex shards, std::uint32_t capacity);
  /// The engine callback: user = this. Blocks (spins) only if the sinks thread is a full ring behind.
  static void on_alert(void* user, const Alert* alert) noexcept;
  /// Consumer thread: hands every queued alert to sink(const Alert&); returns how many.
  template <typename Sink>
  std::size_t drain(Sink&& sink) {
    std::size_t n = 0;
    for (auto& r : rings_) {
      n += r->consume(sink, SIZE_MAX);
    }
    return n;
  }
  /// Times a shard found its ring full and waited. After the shards are joined.
  [[nodiscard]] std::uint64_t waits() const noexcept;

 private:
  std::vector<std::unique_ptr<SpscRing<Alert>>> rings_;
  ShardIndex shards_;
  std::vector<std::uint64_t> waits_;  // per shard, written by that shard thread only
};

struct AlertSinkOptions {
  std::string json_path;            ///< --alerts-out: JSON lines; "-" = stdout; empty = none
  std::uint32_t print_per_second = 0;  ///< human-readable lines on stdout per second (0 = none)
  std::string instance;             ///< alert id prefix in the JSON
};

/// The sinks agent: drains the relay into the JSON-lines file and the console. Console lines are written
/// as they come (a few a second); the file in 1 MiB buffers. Thread contract: construct and request_stop()
/// on the owning thread; the agent runs on its own thread; figures after it ended.
class AlertSinks final : public Agent {
 public:
  AlertSinks(AlertRelay& relay, const AlertSinkOptions& opt);  ///< throws when the file cannot be opened
  std::size_t do_work() noexcept override;
  /// Done once asked to stop (after the shards have stopped) and the relay is empty.
  [[nodiscard]] bool done() const noexcept override { return ended_; }
  void on_close() noexcept override;  ///< the final flush
  /// The shards have stopped: drain what is left, flush and end. Any thread.
  void request_stop() noexcept { stop_.store(true, std::memory_order_release); }

  [[nodiscard]] std::uint64_t written() const noexcept { return written_; }
  [[nodiscard]] std::uint64_t not_printed() const noexcept { return not_printed_; }
  [[nodiscard]] std::uint64_t write_errors() const noexcept;

 private:
  void sink(const Alert& a) noexcept;

  AlertRelay& relay_;
  std::uint32_t per_second_;
  std::string instance_;
  std::unique_ptr<BufferedFile> json_;
  std::unique_ptr<BufferedFile> text_;
  std::int64_t second_ = 0;
  std::uint32_t printed_this_second_ = 0;
  std::uint64_t not_printed_ = 0;
  std::uint64_t written_ = 0;
  bool text_pending_ = false;
  bool ended_ = false;
  std::atomic<bool> stop_{false};  // release by request_stop: the shards' last alerts are in the relay
};

/// --metrics-out: the update callback writes one CSV row per tick (engine thread, buffered).
/// Columns: ticker,seq,event_ns,timestamp,price,volume,sma{N}…,var{N}…,std{N}…,ema{N}…,pct_change,
/// volatility,window_high,window_low,move_up_pct,move_down_pct,vwap,cum_volume,volume_mean. Numbers in
/// shortest round-trip form; empty = not defined yet. Shard s writes through its own buffer to the same
/// O_APPEND file, so rows of different shards interleave by buffer, each row whole.
class MetricsWriter {
 public:
  MetricsWriter(const std::string& path, const std::vector<std::uint32_t>& windows, ShardIndex shards,
                const SymbolTable& symbols);
  static void on_update(void* user, const Tick* t, const TickMetrics* m) noexcept;
  void flush() noexcept;

 private:
  std::vector<std::unique_ptr<BufferedFile>> files_;  // [shard]
  ShardIndex shards_;
  const SymbolTable& symbols_;
};

}  // namespace tickforge
