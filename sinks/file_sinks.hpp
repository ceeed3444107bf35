// tickforge — file and console sinks: alerts as JSON lines and as human-readable lines, daily summaries
// as CSV or JSON lines, every tick's metrics as CSV. All of it on one thread of its own.
//
//   shard s ─relay_alert()──▶ AlertRelay ring s ───┐
//   shard s ─relay_daily()──▶ DailyRelay ring s ───┼▶ FileSinks agent ("tf-sinks")
//   shard s ─relay_metrics()▶ MetricsRelay ring s ─┘   ├─▶ --alerts-out: JSON lines
//                                                       ├─▶ console: at most print-alerts lines a second
//                                                       ├─▶ --daily-out: CSV or JSON lines
//                                                       └─▶ --metrics-out: CSV, one row per tick
//
// Private header. The engine thread never formats or writes: its callbacks copy the record into the
// shard's own SPSC ring. Alerts and daily summaries wait for the sink when their ring is full (rare:
// a few records per second); the per-tick metrics rows follow `metrics-full`: block (the shard waits,
// counted, and the file is complete) or drop (the shard never waits; rows dropped are counted). Files
// are written in 1 MiB buffers and can rotate by size and/or by UTC day of the records' event time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tickforge/counter.hpp>
#include <tickforge/engine.hpp>  // ShardIndex
#include <tickforge/records.hpp>
#include <tickforge/symbol_table.hpp>

#include "agent.hpp"
#include "record_json.hpp"  // format_utc, format_alert_json, put_number
#include "record_relay.hpp"

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

/// How output files rotate. Parts are named after the path: with rotation by day, the record's UTC date
/// goes before the extension (metrics-2014-06-05.csv); a part that reaches `max_bytes` is followed by
/// .1, .2, … (metrics.1.csv). Each part of a CSV file starts with its header.
struct Rotation {
  std::uint64_t max_bytes = 0;  ///< 0: no rotation by size
  bool daily = false;           ///< a new file for each UTC day of event time
};

/// A BufferedFile that rotates. "-" (stdout) never does. A part that cannot be opened counts as a
/// write error and its records are lost (counted); the next part is tried at the next rotation.
class RotatingFile {
 public:
  /// Opens the first part (for rotation by day: when the first record arrives). Throws
  /// std::runtime_error when the file or its folder cannot be written.
  RotatingFile(std::string path, std::string header, Rotation rotation);
  /// One whole record (a line), stamped with its event time.
  void append(const char* data, std::size_t n, std::int64_t event_ns) noexcept;
  void flush() noexcept;
  [[nodiscard]] std::uint64_t write_errors() const noexcept;
  [[nodiscard]] std::uint64_t parts() const noexcept { return parts_; }
  /// The name of part `index` for a day (days since 1970; ignored without rotation by day).
  [[nodiscard]] std::string part_name(std::int32_t day, std::uint32_t index) const;

 private:
  void open(std::int32_t day, std::uint32_t index) noexcept;

  std::string path_;
  std::string header_;
  Rotation rotation_;
  std::unique_ptr<BufferedFile> file_;
  std::int32_t day_ = INT32_MIN;
  std::uint32_t index_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t parts_ = 0;
  std::uint64_t open_errors_ = 0;
  std::uint64_t retired_errors_ = 0;  // write errors of parts already closed
};

/// One alert as a human-readable line plus '\n'.
std::size_t format_alert_text(const Alert& a, char* out, std::size_t cap) noexcept;
/// The --metrics-out CSV header for these windows (with '\n'), and one row (with '\n'); cap ≥ 2048.
std::string metrics_csv_header(const std::vector<std::uint32_t>& windows);
std::size_t format_metrics_csv(const MetricsRow& r, const char* ticker, char* out, std::size_t cap) noexcept;

using AlertRelay = RecordRelay<Alert>;
using DailyRelay = RecordRelay<DailySummary>;
using MetricsRelay = RecordRelay<MetricsRow>;

/// Engine callbacks (user = the relay): queue a copy on the calling shard's ring.
void relay_alert(void* user, const Alert* alert) noexcept;
void relay_daily(void* user, const DailySummary* summary) noexcept;
void relay_metrics(void* user, const Tick* tick, const TickMetrics* metrics) noexcept;

struct FileSinkOptions {
  std::string alerts_path;             ///< --alerts-out: JSON lines; "-" = stdout; empty = none
  std::uint32_t print_per_second = 0;  ///< human-readable alerts on stdout per second (0 = none)
  std::string instance;                ///< alert id prefix in the JSON
  std::string daily_path;              ///< --daily-out: CSV, or JSON lines for a .jsonl name; "-" = stdout (CSV)
  std::string time_zone;               ///< the daily summaries' zone, written in their JSON
  std::string metrics_path;            ///< --metrics-out: CSV
  std::vector<std::uint32_t> windows;  ///< the engine's SMA windows (the metrics columns)
  Rotation rotation;
};

/// The file sinks agent ("tf-sinks"): drains the relays into the files and the console. Console lines
/// are written as they come (a few a second). Thread contract: construct and request_stop() on the
/// owning thread; the agent runs on its own thread; figures after it ended.
class FileSinks final : public Agent {
 public:
  /// A relay may be null (nothing of that kind). Throws std::runtime_error when a file cannot be opened.
  FileSinks(AlertRelay* alerts, DailyRelay* daily, MetricsRelay* metrics, const SymbolTable& symbols,
            const FileSinkOptions& opt);
  std::size_t do_work() noexcept override;
  /// Done once asked to stop (after the shards have stopped) and the relays are empty.
  [[nodiscard]] bool done() const noexcept override { return ended_; }
  void on_close() noexcept override;  ///< the final flush
  /// The shards have stopped: drain what is left, flush and end. Any thread.
  void request_stop() noexcept { stop_.store(true, std::memory_order_release); }

  /// Any thread (single-writer relaxed counters: the sinks thread's).
  [[nodiscard]] std::uint64_t alerts_written() const noexcept { return alerts_written_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t daily_written() const noexcept { return daily_written_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t metrics_written() const noexcept { return metrics_written_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t not_printed() const noexcept { return not_printed_; }
  [[nodiscard]] std::uint64_t write_errors() const noexcept;
  /// Records taken from the relays so far. Any thread (a watchdog's progress count).
  [[nodiscard]] std::uint64_t records_taken() const noexcept { return taken_.load(std::memory_order_relaxed); }

 private:
  /// Records taken from one ring per duty cycle, at most: a long backlog is drained in many cycles, so
  /// records_taken() moves while it is.
  static constexpr std::size_t kDrainPerRing = 4096;
  void alert(const Alert& a) noexcept;
  void daily(const DailySummary& d) noexcept;
  void metrics(const MetricsRow& r) noexcept;

  AlertRelay* alerts_;
  DailyRelay* daily_;
  MetricsRelay* metrics_;
  const SymbolTable& symbols_;
  std::uint32_t per_second_;
  std::string instance_;
  std::string time_zone_;
  bool daily_json_ = false;
  std::unique_ptr<RotatingFile> json_;
  std::unique_ptr<BufferedFile> text_;
  std::unique_ptr<RotatingFile> daily_file_;
  std::unique_ptr<RotatingFile> metrics_file_;
  std::int64_t second_ = 0;
  std::uint32_t printed_this_second_ = 0;
  std::uint64_t not_printed_ = 0;
  std::atomic<std::uint64_t> alerts_written_{0};
  std::atomic<std::uint64_t> daily_written_{0};
  std::atomic<std::uint64_t> metrics_written_{0};
  bool text_pending_ = false;
  bool ended_ = false;
  std::atomic<std::uint64_t> taken_{0};  // single writer (the sinks thread), read by a watchdog
  std::atomic<bool> stop_{false};  // release by request_stop: the shards' last records are in the relays
};

}  // namespace tickforge
