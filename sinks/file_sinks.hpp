// tickforge — file and console sinks: alerts as JSON lines and as human-readable lines, daily summaries
// as CSV or JSON lines, metrics CSV.
//
//   shard s ─relay_alert()─▶ AlertRelay ring s ─┐
//   shard s ─relay_daily()─▶ DailyRelay ring s ─┴▶ FileSinks agent (its own thread, "tf-sinks")
//                                                  ├─▶ --alerts-out: JSON lines (buffered, write(2) per MiB)
//                                                  ├─▶ console: at most print-alerts lines a second
//                                                  └─▶ --daily-out: CSV or JSON lines
//
// Private header. The engine thread never writes alerts or summaries to a file: its callbacks copy the
// record into its own SPSC ring, which the sinks agent drains. Per-tick metrics rows are the exception:
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
#include "record_relay.hpp"
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

/// Alerts and daily summaries from the shards to the file sinks (kWait: nothing is lost).
using AlertRelay = RecordRelay<Alert>;
using DailyRelay = RecordRelay<DailySummary>;

/// Engine callbacks (user = the relay): queue a copy on the calling shard's ring.
void relay_alert(void* user, const Alert* alert) noexcept;
void relay_daily(void* user, const DailySummary* summary) noexcept;

struct FileSinkOptions {
  std::string alerts_path;             ///< --alerts-out: JSON lines; "-" = stdout; empty = none
  std::uint32_t print_per_second = 0;  ///< human-readable alerts on stdout per second (0 = none)
  std::string instance;                ///< alert id prefix in the JSON
  std::string daily_path;              ///< --daily-out: CSV, or JSON lines for a .jsonl name; "-" = stdout (CSV)
  std::string time_zone;               ///< the daily summaries' zone, written in their JSON
};

/// The file sinks agent ("tf-sinks"): drains the relays into the files and the console. Console lines
/// are written as they come (a few a second); files in 1 MiB buffers. Thread contract: construct and
/// request_stop() on the owning thread; the agent runs on its own thread; figures after it ended.
class FileSinks final : public Agent {
 public:
  /// Either relay may be null (nothing of that kind). Throws std::runtime_error when a file cannot be
  /// opened.
  FileSinks(AlertRelay* alerts, DailyRelay* daily, const FileSinkOptions& opt);
  std::size_t do_work() noexcept override;
  /// Done once asked to stop (after the shards have stopped) and the relays are empty.
  [[nodiscard]] bool done() const noexcept override { return ended_; }
  void on_close() noexcept override;  ///< the final flush
  /// The shards have stopped: drain what is left, flush and end. Any thread.
  void request_stop() noexcept { stop_.store(true, std::memory_order_release); }

  [[nodiscard]] std::uint64_t alerts_written() const noexcept { return alerts_written_; }
  [[nodiscard]] std::uint64_t daily_written() const noexcept { return daily_written_; }
  [[nodiscard]] std::uint64_t not_printed() const noexcept { return not_printed_; }
  [[nodiscard]] std::uint64_t write_errors() const noexcept;

 private:
  void alert(const Alert& a) noexcept;
  void daily(const DailySummary& d) noexcept;

  AlertRelay* alerts_;
  DailyRelay* daily_;
  std::uint32_t per_second_;
  std::string instance_;
  std::string time_zone_;
  bool daily_json_ = false;
  std::unique_ptr<BufferedFile> json_;
  std::unique_ptr<BufferedFile> text_;
  std::unique_ptr<BufferedFile> daily_file_;
  std::int64_t second_ = 0;
  std::uint32_t printed_this_second_ = 0;
  std::uint64_t not_printed_ = 0;
  std::uint64_t alerts_written_ = 0;
  std::uint64_t daily_written_ = 0;
  bool text_pending_ = false;
  bool ended_ = false;
  std::atomic<bool> stop_{false};  // release by request_stop: the shards' last records are in the relays
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
