#include "file_sinks.hpp"

#include "clock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <fmt/compile.h>
#include <fmt/format.h>

namespace tickforge {


// ---- BufferedFile -----------------------------------------------------------------------------------

BufferedFile::BufferedFile(const std::string& path, std::size_t buffer, bool truncate)
    : fd_(path == "-" ? STDOUT_FILENO
                      : ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | (truncate ? O_TRUNC : 0), 0644)),
      owns_fd_(path != "-"),
      buf_(new char[buffer]),
      cap_(buffer) {
  if (fd_ < 0) {
    throw std::runtime_error("cannot open '" + path + "' for writing: " + std::strerror(errno));
  }
}

BufferedFile::~BufferedFile() {
  flush();
  if (owns_fd_) {
    ::close(fd_);
  }
}

void BufferedFile::append(const char* data, std::size_t n) noexcept {
  if (used_ + n > cap_) {
    flush();
  }
  if (n > cap_) {
    std::memcpy(buf_.get(), data, cap_);  // a single record larger than the buffer: truncate (never happens)
    used_ = cap_;
    return;
  }
  std::memcpy(buf_.get() + used_, data, n);
  used_ += n;
}

void BufferedFile::flush() noexcept {
  std::size_t off = 0;
  while (off < used_) {
    const ssize_t w = ::write(fd_, buf_.get() + off, used_ - off);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      ++write_errors_;
      break;
    }
    off += static_cast<std::size_t>(w);
  }
  used_ = 0;
}

// ---- RotatingFile -------------------------------------------------------------------------------------

RotatingFile::RotatingFile(std::string path, std::string header, Rotation rotation)
    : path_(std::move(path)), header_(std::move(header)), rotation_(path_ == "-" ? Rotation{} : rotation) {
  if (!rotation_.daily) {
    file_ = std::make_unique<BufferedFile>(path_);  // throws with the reason
    file_->append(header_.data(), header_.size());
    bytes_ = header_.size();
    parts_ = 1;
    day_ = INT32_MIN;
    return;
  }
  // By day the first part opens with the first record; check now that its folder takes files.
  const std::size_t slash = path_.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw std::runtime_error("cannot write files in '" + dir + "': " + std::strerror(errno));
  }
}

std::string RotatingFile::part_name(std::int32_t day, std::uint32_t index) const {
  const std::size_t slash = path_.rfind('/');
  std::size_t dot = path_.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == slash + 1) {
    dot = path_.size();  // no extension (or a dot file)
  }
  std::string name = path_.substr(0, dot);
  if (rotation_.daily) {
    char date[16];
    name += "-";
    name.append(date, format_date(day, date, sizeof(date)));
  }
  if (index != 0) {
    name.push_back('.');
    name.append(std::to_string(index));
  }
  name.append(path_, dot, std::string::npos);
  return name;
}

void RotatingFile::open(std::int32_t day, std::uint32_t index) noexcept {
  if (file_) {
    file_->flush();
    retired_errors_ += file_->write_errors();
    file_.reset();
  }
  day_ = day;
  index_ = index;
  bytes_ = 0;
  try {
    file_ = std::make_unique<BufferedFile>(part_name(day, index));
  } catch (const std::exception&) {  // counted; the records of this part are lost (write errors)
    ++open_errors_;
    return;
  }
  file_->append(header_.data(), header_.size());
  bytes_ = header_.size();
  ++parts_;
}

void RotatingFile::append(const char* data, std::size_t n, std::int64_t event_ns) noexcept {
  if (rotation_.daily) {
    const auto day = static_cast<std::int32_t>(event_ns / kNsPerDay - (event_ns % kNsPerDay < 0 ? 1 : 0));
    if (day > day_) {  // a record of an earlier day (a late tick) stays in the current part
      open(day, 0);
    }
  }
  if (rotation_.max_bytes != 0 && bytes_ > header_.size() && bytes_ + n > rotation_.max_bytes) {
    open(day_, index_ + 1);
  }
  if (!file_) {
    ++open_errors_;
    return;
  }
  file_->append(data, n);
  bytes_ += n;
}

void RotatingFile::flush() noexcept {
  if (file_) {
    file_->flush();
  }
}

std::uint64_t RotatingFile::write_errors() const noexcept {
  return retired_errors_ + open_errors_ + (file_ ? file_->write_errors() : 0);
}

// ---- formatting -----------------------------------------------------------------------------------

std::size_t format_alert_text(const Alert& a, char* out, std::size_t cap) noexcept {
  char when[40];
  const std::size_t wn = format_utc(a.event_ns, when, sizeof(when));
  const bool is_pct = a.rule != Rule::kSmaCross && a.rule != Rule::kVolumeSpike;
  const auto r = fmt::format_to_n(out, cap, "ALERT #{} {} {} {:<6} {} price={:.4f} value={:.4g}{} (threshold {:g}{}) ref={:.4f}\n",
                                  a.id, std::string_view(when, wn), to_string(a.rule), to_string(a.direction),
                                  a.ticker, a.price, a.value, is_pct ? "%" : "", a.threshold,
                                  is_pct ? "%" : (a.rule == Rule::kVolumeSpike ? "x" : ""), a.reference);
  return std::min(r.size, cap);
}

// ---- relays -----------------------------------------------------------------------------------------

void relay_alert(void* user, const Alert* alert) noexcept {
  auto* relay = static_cast<AlertRelay*>(user);
  relay->push(relay->shards().shard_of(alert->symbol), *alert);  // the calling shard: the ring's producer
}

void relay_daily(void* user, const DailySummary* summary) noexcept {
  auto* relay = static_cast<DailyRelay*>(user);
  relay->push(relay->shards().shard_of(summary->symbol), *summary);
}

void relay_metrics(void* user, const Tick* tick, const TickMetrics* metrics) noexcept {
  auto* relay = static_cast<MetricsRelay*>(user);
  relay->push(relay->shards().shard_of(tick->symbol), MetricsRow{*tick, *metrics});
}

// ---- FileSinks ------------------------------------------------------------------------------------------

namespace {
bool ends_with(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
}  // namespace

FileSinks::FileSinks(AlertRelay* alerts, DailyRelay* daily, MetricsRelay* metrics, const SymbolTable& symbols,
                     const FileSinkOptions& opt)
    : alerts_(alerts),
      daily_(daily),
      metrics_(metrics),
      symbols_(symbols),
      per_second_(opt.print_per_second),
      instance_(opt.instance),
      time_zone_(opt.time_zone) {
  if (!opt.alerts_path.empty()) {
    json_ = std::make_unique<RotatingFile>(opt.alerts_path, "", opt.rotation);
  }
  if (per_second_ != 0 && opt.alerts_path != "-") {
    text_ = std::make_unique<BufferedFile>("-", 1 << 16);
  }
  if (!opt.daily_path.empty()) {
    daily_json_ = ends_with(opt.daily_path, ".jsonl") || ends_with(opt.daily_path, ".ndjson");
    daily_file_ = std::make_unique<RotatingFile>(opt.daily_path, daily_json_ ? "" : std::string(daily_csv_header()),
                                                 opt.rotation);
  }
  if (!opt.metrics_path.empty()) {
    metrics_file_ = std::make_unique<RotatingFile>(opt.metrics_path, metrics_csv_header(opt.windows), opt.rotation);
  }
}

void FileSinks::alert(const Alert& a) noexcept {
  bump(alerts_written_);
  char buf[kAlertJsonCapacity];
  if (json_) {
    std::size_t n = format_alert_json(a, instance_, buf, sizeof(buf) - 1);
    buf[n++] = '\n';
    json_->append(buf, n, a.event_ns);
  }
  if (text_) {
    const std::int64_t sec = now_ns() / kNsPerSecond;
    if (sec != second_) {
      second_ = sec;
      printed_this_second_ = 0;
    }
    if (printed_this_second_ < per_second_) {
      ++printed_this_second_;
      text_->append(buf, format_alert_text(a, buf, sizeof(buf)));
      text_pending_ = true;
    } else {
      ++not_printed_;
    }
  }
}

void FileSinks::daily(const DailySummary& d) noexcept {
  bump(daily_written_);
  if (!daily_file_) {
    return;
  }
  char buf[kDailyCapacity + 1];
  std::size_t n = 0;
  if (daily_json_) {
    n = format_daily_json(d, instance_, time_zone_, buf, kDailyCapacity);
    buf[n++] = '\n';
  } else {
    n = format_daily_csv(d, buf, sizeof(buf));
  }
  daily_file_->append(buf, n, d.start_ns);
}

void FileSinks::metrics(const MetricsRow& r) noexcept {
  bump(metrics_written_);
  char row[2048];
  metrics_file_->append(row, format_metrics_csv(r, symbols_.name(r.tick.symbol), row, sizeof(row)), r.tick.event_ns);
}

std::size_t FileSinks::do_work() noexcept {
  // Acquire: once the stop request is seen, every record the stopped shards queued is in the relays.
  const bool last = stop_.load(std::memory_order_acquire);
  std::size_t n = 0;
  if (alerts_ != nullptr) {
    n += alerts_->drain([this](const Alert& a) { alert(a); }, kDrainPerRing);
  }
  if (daily_ != nullptr) {
    n += daily_->drain([this](const DailySummary& d) { daily(d); }, kDrainPerRing);
  }
  if (metrics_ != nullptr) {
    n += metrics_->drain([this](const MetricsRow& r) { metrics(r); }, kDrainPerRing);
  }
  taken_.store(taken_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  if (text_pending_) {  // console lines now, not in 64 KiB chunks
    text_pending_ = false;
    text_->flush();
  }
  ended_ = last && n == 0;
  return n;
}

void FileSinks::on_close() noexcept {
  for (auto* f : {json_.get(), daily_file_.get(), metrics_file_.get()}) {
    if (f != nullptr) {
      f->flush();
    }
  }
  if (text_) {
    text_->flush();
  }
}

std::uint64_t FileSinks::write_errors() const noexcept {
  std::uint64_t n = text_ ? text_->write_errors() : 0;
  for (auto* f : {json_.get(), daily_file_.get(), metrics_file_.get()}) {
    n += f != nullptr ? f->write_errors() : 0;
  }
  return n;
}

// ---- metrics CSV ------------------------------------------------------------------------------------

std::string metrics_csv_header(const std::vector<std::uint32_t>& windows) {
  fmt::memory_buffer header;
  fmt::format_to(std::back_inserter(header), "ticker,seq,event_ns,timestamp,price,volume");
  for (const char* stat : {"sma", "var", "std", "ema"}) {
    for (const std::uint32_t w : windows) {
      fmt::format_to(std::back_inserter(header), ",{}{}", stat, w);
    }
  }
  fmt::format_to(std::back_inserter(header),
                 ",pct_change,volatility,window_high,window_low,move_up_pct,move_down_pct,vwap,cum_volume,"
                 "volume_mean\n");
  return fmt::to_string(header);
}

std::size_t format_metrics_csv(const MetricsRow& r, const char* ticker, char* out, std::size_t cap) noexcept {
  if (cap < 2048) {  // 6 + 4 × 8 + 9 numbers of ≤ 25 characters, a ticker and two times fit easily
    return 0;
  }
  const Tick& t = r.tick;
  const TickMetrics& m = r.metrics;
  char when[40];
  const std::size_t wn = format_utc(t.event_ns, when, sizeof(when));
  char* it = fmt::format_to(out, FMT_COMPILE("{},{},{},{},"), ticker, t.seq, t.event_ns, std::string_view(when, wn));
  it = put_number(it, t.price, "");
  *it++ = ',';
  it = put_number(it, t.volume, "");
  const std::uint32_t n = std::min<std::uint32_t>(m.n_windows, kMaxSmaWindows);
  for (const double* arr : {m.sma, m.variance, m.stddev, m.ema}) {
    for (std::uint32_t w = 0; w < n; ++w) {
      *it++ = ',';
      it = put_number(it, arr[w], "");
    }
  }
  for (const double v : {m.pct_change, m.volatility, m.window_high, m.window_low, m.move_up_pct, m.move_down_pct,
                         m.vwap, m.cum_volume, m.volume_mean}) {
    *it++ = ',';
    it = put_number(it, v, "");
  }
  *it++ = '\n';
  return static_cast<std::size_t>(it - out);
}

}  // namespace tickforge
