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

// ---- AlertRelay -------------------------------------------------------------------------------------

AlertRelay::AlertRelay(ShardIndex shards, std::uint32_t capacity) : shards_(shards), waits_(shards.shards(), 0) {
  for (std::uint32_t s = 0; s < shards.shards(); ++s) {
    rings_.push_back(std::make_unique<SpscRing<Alert>>(capacity));
  }
}

void AlertRelay::on_alert(void* user, const Alert* alert) noexcept {
  auto* self = static_cast<AlertRelay*>(user);
  const std::uint32_t s = self->shards_.shard_of(alert->symbol);  // the calling shard: the ring's producer
  if (!self->rings_[s]->try_push(*alert)) [[unlikely]] {
    ++self->waits_[s];  // the sinks thread is behind: wait for it rather than lose an alert
    self->rings_[s]->push(*alert);
  }
}

std::uint64_t AlertRelay::waits() const noexcept {
  std::uint64_t n = 0;
  for (const std::uint64_t w : waits_) {
    n += w;
  }
  return n;
}

// ---- AlertSinks ----------------------------------------------------------------------------------------

AlertSinks::AlertSinks(AlertRelay& relay, const AlertSinkOptions& opt)
    : relay_(relay), per_second_(opt.print_per_second), instance_(opt.instance) {
  if (!opt.json_path.empty()) {
    json_ = std::make_unique<BufferedFile>(opt.json_path);
  }
  if (per_second_ != 0 && opt.json_path != "-") {
    text_ = std::make_unique<BufferedFile>("-", 1 << 16);
  }
}

void AlertSinks::sink(const Alert& a) noexcept {
  ++written_;
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

std::size_t AlertSinks::do_work() noexcept {
  // Acquire: once the stop request is seen, every alert the stopped shards queued is in the relay.
  const bool last = stop_.load(std::memory_order_acquire);
  const std::size_t n = relay_.drain([this](const Alert& a) { sink(a); });
  if (text_pending_) {  // console lines now, not in 64 KiB chunks
    text_pending_ = false;
    text_->flush();
  }
  ended_ = last && n == 0;
  return n;
}

void AlertSinks::on_close() noexcept {
  if (json_) {
    json_->flush();
  }
  if (text_) {
    text_->flush();
  }
}

std::uint64_t AlertSinks::write_errors() const noexcept {
  return (json_ ? json_->write_errors() : 0) + (text_ ? text_->write_errors() : 0);
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
