#include "file_sinks.hpp"

#include "clock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

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

// ---- FileSinks ------------------------------------------------------------------------------------------

namespace {
bool ends_with(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
}  // namespace

FileSinks::FileSinks(AlertRelay* alerts, DailyRelay* daily, const FileSinkOptions& opt)
    : alerts_(alerts), daily_(daily), per_second_(opt.print_per_second), instance_(opt.instance), time_zone_(opt.time_zone) {
  if (!opt.alerts_path.empty()) {
    json_ = std::make_unique<BufferedFile>(opt.alerts_path);
  }
  if (per_second_ != 0 && opt.alerts_path != "-") {
    text_ = std::make_unique<BufferedFile>("-", 1 << 16);
  }
  if (!opt.daily_path.empty()) {
    daily_file_ = std::make_unique<BufferedFile>(opt.daily_path);
    daily_json_ = ends_with(opt.daily_path, ".jsonl") || ends_with(opt.daily_path, ".ndjson");
    if (!daily_json_) {
      const std::string_view h = daily_csv_header();
      daily_file_->append(h.data(), h.size());
    }
  }
}

void FileSinks::alert(const Alert& a) noexcept {
  ++alerts_written_;
  char buf[kAlertJsonCapacity];
  if (json_) {
    std::size_t n = format_alert_json(a, instance_, buf, sizeof(buf) - 1);
    buf[n++] = '\n';
    json_->append(buf, n);
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
  ++daily_written_;
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
  daily_file_->append(buf, n);
}

std::size_t FileSinks::do_work() noexcept {
  // Acquire: once the stop request is seen, every record the stopped shards queued is in the relays.
  const bool last = stop_.load(std::memory_order_acquire);
  std::size_t n = 0;
  if (alerts_ != nullptr) {
    n += alerts_->drain([this](const Alert& a) { alert(a); });
  }
  if (daily_ != nullptr) {
    n += daily_->drain([this](const DailySummary& d) { daily(d); });
  }
  if (text_pending_) {  // console lines now, not in 64 KiB chunks
    text_pending_ = false;
    text_->flush();
  }
  ended_ = last && n == 0;
  return n;
}

void FileSinks::on_close() noexcept {
  for (auto* f : {json_.get(), text_.get(), daily_file_.get()}) {
    if (f != nullptr) {
      f->flush();
    }
  }
}

std::uint64_t FileSinks::write_errors() const noexcept {
  std::uint64_t n = 0;
  for (auto* f : {json_.get(), text_.get(), daily_file_.get()}) {
    n += f != nullptr ? f->write_errors() : 0;
  }
  return n;
}

// ---- MetricsWriter ----------------------------------------------------------------------------------

MetricsWriter::MetricsWriter(const std::string& path, const std::vector<std::uint32_t>& windows, ShardIndex shards,
                             const SymbolTable& symbols)
    : shards_(shards), symbols_(symbols) {
  for (std::uint32_t s = 0; s < shards.shards(); ++s) {
    // One O_APPEND descriptor per shard; only the first truncates (a later one would cut the header).
    files_.push_back(std::make_unique<BufferedFile>(path, 1 << 20, /*truncate=*/s == 0));
    if (s == 0) {
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
      files_[0]->append(header.data(), header.size());
      files_[0]->flush();
    }
  }
}

void MetricsWriter::on_update(void* user, const Tick* t, const TickMetrics* m) noexcept {
  auto* self = static_cast<MetricsWriter*>(user);
  char row[2048];
  char when[40];
  const std::size_t wn = format_utc(t->event_ns, when, sizeof(when));
  char* it = fmt::format_to(row, "{},{},{},{},", self->symbols_.name(t->symbol), t->seq, t->event_ns,
                            std::string_view(when, wn));
  it = put_number(it, t->price, "");
  *it++ = ',';
  it = put_number(it, t->volume, "");
  for (const double* arr : {m->sma, m->variance, m->stddev, m->ema}) {
    for (std::uint32_t w = 0; w < m->n_windows; ++w) {
      *it++ = ',';
      it = put_number(it, arr[w], "");
    }
  }
  for (const double v : {m->pct_change, m->volatility, m->window_high, m->window_low, m->move_up_pct,
                         m->move_down_pct, m->vwap, m->cum_volume, m->volume_mean}) {
    *it++ = ',';
    it = put_number(it, v, "");
  }
  *it++ = '\n';
  self->files_[self->shards_.shard_of(t->symbol)]->append(row, static_cast<std::size_t>(it - row));
}

void MetricsWriter::flush() noexcept {
  for (auto& f : files_) {
    f->flush();
  }
}

}  // namespace tickforge
