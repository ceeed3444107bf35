#include "outputs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace tickforge::cli {


// ---- BufferedFile -----------------------------------------------------------------------------------

BufferedFile::BufferedFile(const std::string& path, std::size_t buffer)
    : fd_(path == "-" ? STDOUT_FILENO : ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644)),
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

std::string format_duration(std::int64_t ns) {
  struct Unit {
    double scale;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1, "ns"}, {1e3, "µs"}, {1e6, "ms"}, {1e9, "s"}, {60e9, "min"}, {3600e9, "h"},
                                    {86400e9, "d"}};
  const double v = static_cast<double>(ns < 0 ? -ns : ns);
  std::size_t u = 0;
  while (u + 1 < std::size(kUnits) && v >= kUnits[u + 1].scale) {
    ++u;
  }
  const double x = v / kUnits[u].scale;
  const char* sign = ns < 0 ? "-" : "";
  if (u == 0) {
    return fmt::format("{}{:.0f} {}", sign, x, kUnits[u].name);
  }
  // Three significant digits; "5 s" rather than "5.00 s" when the value is whole.
  if (x == std::floor(x) && x < 1000) {
    return fmt::format("{}{:.0f} {}", sign, x, kUnits[u].name);
  }
  const int decimals = x >= 100 ? 0 : x >= 10 ? 1 : 2;
  return fmt::format("{}{:.{}f} {}", sign, x, decimals, kUnits[u].name);
}


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

AlertRelay::AlertRelay(std::uint32_t shards, std::uint32_t capacity) : shards_(shards), waits_(shards, 0) {
  for (std::uint32_t s = 0; s < shards; ++s) {
    rings_.push_back(std::make_unique<SpscRing<Alert>>(capacity));
  }
}

void AlertRelay::on_alert(void* user, const Alert* alert) noexcept {
  auto* self = static_cast<AlertRelay*>(user);
  const std::uint32_t s = alert->symbol % self->shards_;
  if (!self->rings_[s]->try_push(*alert)) [[unlikely]] {
    ++self->waits_[s];  // the main thread is behind: wait for it rather than lose an alert
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

// ---- MetricsWriter ----------------------------------------------------------------------------------

MetricsWriter::MetricsWriter(const std::string& path, const std::vector<std::uint32_t>& windows,
                             std::uint32_t shards, const SymbolTable& symbols)
    : symbols_(symbols) {
  for (std::uint32_t s = 0; s < shards; ++s) {
    files_.push_back(std::make_unique<BufferedFile>(path));
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
  self->files_[t->symbol % self->files_.size()]->append(row, static_cast<std::size_t>(it - row));
}

void MetricsWriter::flush() noexcept {
  for (auto& f : files_) {
    f->flush();
  }
}

}  // namespace tickforge::cli
