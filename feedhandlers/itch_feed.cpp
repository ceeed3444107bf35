#include "itch_feed.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "pacer.hpp"
#include "timeparse.hpp"

namespace tickforge {

namespace {

// Messages decoded per duty cycle at most (besides kTicksPerDutyCycle prints): the stop flag is looked
// at between duty cycles, and a stretch of a file without trades still ends a duty cycle.
constexpr std::size_t kMessagesPerDutyCycle = 1024;
// A gzip file is inflated into a window this large, a piece at a time (written, then read while it is
// still in the L2 cache).
constexpr std::size_t kGzipWindow = 256 * 1024;

// A session date: a calendar date from 1990 (ITCH 5.0 is from 2015) to the end of the event-time range.
bool valid_date(int y, int m, int d) {
  return y >= 1990 && y <= 2199 && valid_civil_date(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

int digits(const std::string& s, std::size_t at, std::size_t n) {
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    v = v * 10 + (s[at + i] - '0');
  }
  return v;
}

}  // namespace

bool itch_date_from_file_name(const std::string& path, int& year, int& month, int& day) {
  const std::size_t slash = path.find_last_of('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  for (std::size_t i = 0; i < name.size();) {
    if (!is_digit(name[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < name.size() && is_digit(name[j])) {
      ++j;
    }
    if (j - i == 8) {
      if (valid_date(digits(name, i, 4), digits(name, i + 4, 2), digits(name, i + 6, 2))) {
        year = digits(name, i, 4), month = digits(name, i + 4, 2), day = digits(name, i + 6, 2);
        return true;
      }
      if (valid_date(digits(name, i + 4, 4), digits(name, i, 2), digits(name, i + 2, 2))) {
        year = digits(name, i + 4, 4), month = digits(name, i, 2), day = digits(name, i + 2, 2);
        return true;
      }
    }
    i = j;
  }
  return false;
}

const char* ItchFeed::to_string(Reject r) noexcept {
  switch (r) {
    case Reject::kTruncated:
      return "truncated_message";
    case Reject::kUnknownType:
      return "unknown_message_type";
    case Reject::kFraming:
      return "broken_framing";
    case Reject::kPrintWithoutStock:
      return "print_without_stock";
    case Reject::kBadTimestamp:
      return "bad_timestamp";
    case Reject::kUnpricedExecution:
      return "execution_of_unknown_order";
    case Reject::kOrderTableFull:
      return "order_table_full";
    case Reject::kCount:
      break;
  }
  return "?";
}

struct ItchFeed::Gzip {
  z_stream z{};
  bool done = false;              // nothing more will come out
  const char* error = nullptr;    // why it broke (zlib's message), or nullptr
  std::uint64_t error_at = 0;     // compressed byte offset
};

ItchFeed::ItchFeed(const ItchFeedSpec& spec, SymbolTable& symbols)
    : spec_(spec),
      symbols_(symbols),
      framer_(nullptr, 0),
      handler_(spec.max_orders, spec.order_index, this),
      symbol_of_(kLocates, kNoSymbol),
      trading_state_(kLocates, ' ') {
  system_events_.reserve(16);
  if (spec.from_packets) {
    packets_ = std::make_unique<ItchPackets>(spec.packets);
    return;
  }
  file_ = MappedFile(spec.path);
  const std::uint8_t* first = file_.data();
  std::size_t first_size = file_.size();
  if (file_.size() >= 2 && file_.data()[0] == 0x1f && file_.data()[1] == 0x8b) {
    gz_ = std::make_unique<Gzip>();
    if (inflateInit2(&gz_->z, 16 + MAX_WBITS) != Z_OK) {  // 16: a gzip header, not zlib's
      gz_.reset();
      throw std::runtime_error(spec.path + ": zlib could not start");
    }
    gz_->z.next_in = const_cast<Bytef*>(file_.data());
    gz_->z.avail_in = 0;
    window_.resize(kGzipWindow);
    (void)refill();
    first = window_.data();
    first_size = window_len_;
  } else {
    framer_ = itch::FileFramer(file_.data(), file_.size());
  }
  itch::FileFramer probe(first, first_size);
  (void)probe.next();
  derived_lengths_ = probe.derived_lengths();
}

bool ItchFeed::refill() noexcept {
  Gzip& g = *gz_;
  const std::size_t tail = framer_.unframed_bytes();
  const itch::FileFramer::Prefixes prefixes = framer_.prefixes();
  std::memmove(window_.data(), window_.data() + window_len_ - tail, tail);
  window_offset_ += window_len_ - tail;
  window_len_ = tail;
  while (window_len_ < window_.size() && !g.done) {
    if (g.z.avail_in == 0) {  // the next piece of the mapping (avail_in is 32 bits)
      const std::size_t used = static_cast<std::size_t>(g.z.next_in - file_.data());
      if (used == file_.size()) {
        g.done = true;
        g.error = "the gzip stream ends before its end marker (truncated file)";
        g.error_at = used;
        break;
      }
      g.z.avail_in = static_cast<uInt>(std::min<std::size_t>(file_.size() - used, std::size_t{1} << 30));
    }
    g.z.next_out = window_.data() + window_len_;
    g.z.avail_out = static_cast<uInt>(window_.size() - window_len_);
    const int rc = inflate(&g.z, Z_NO_FLUSH);
    window_len_ = window_.size() - g.z.avail_out;
    const std::size_t used = static_cast<std::size_t>(g.z.next_in - file_.data());
    if (rc == Z_STREAM_END) {
      if (used == file_.size()) {
        g.done = true;
      } else {
        (void)inflateReset(&g.z);  // another gzip member follows (concatenated files)
      }
    } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && g.z.avail_in == 0)) {
      g.done = true;
      g.error = g.z.msg != nullptr ? g.z.msg : "corrupt gzip data";
      g.error_at = used;
    }
  }
  framer_ = itch::FileFramer(window_.data(), window_len_, prefixes);
  return window_len_ > tail;
}

itch::FileFramer::Message ItchFeed::next_message() noexcept {
  if (packets_ != nullptr) {
    const ItchPackets::Next n = packets_->next();
    packets_ended_ = n.ended;
    return itch::FileFramer::Message{n.data, n.size};
  }
  itch::FileFramer::Message m = framer_.next();
  while (m.data == nullptr && gz_ != nullptr && !gz_->done &&
         (framer_.stopped_at_end() || *framer_.error() == '\0')) {
    if (!refill()) {
      break;
    }
    m = framer_.next();
  }
  return m;
}

ItchFeed::~ItchFeed() {
  if (gz_ != nullptr) {
    inflateEnd(&gz_->z);
  }
}

void ItchFeed::on_print(const ItchPrint& p) noexcept {
  const SymbolId id = symbol_of_[p.locate];
  if (id >= kTableFull) [[unlikely]] {
    if (id == kNotSelected) {
      ++not_selected_;
    } else {
      ++counts_[static_cast<std::size_t>(Reject::kPrintWithoutStock)];
    }
    return;
  }
  if (p.ns >= static_cast<std::uint64_t>(kNsPerDay)) [[unlikely]] {
    ++counts_[static_cast<std::size_t>(Reject::kBadTimestamp)];
    return;
  }
  pending_.symbol = id;
  pending_.price = static_cast<double>(p.price) / 10'000.0;  // Price(4): correctly rounded
  pending_.volume = static_cast<double>(p.shares);
  pending_.event_ns = spec_.midnight_utc_ns + static_cast<std::int64_t>(p.ns);
  has_pending_ = true;
}

void ItchFeed::on_directory(const itch::StockDirectory& m) noexcept {
  if (symbol_of_[m.h.locate] < kNotSelected) {
    return;  // a repeated directory message: the locate keeps its symbol
  }
  name_locate(m.h.locate, m.stock);
}

void ItchFeed::name_from_order(std::uint16_t locate, itch::Stock stock) noexcept {
  if (stock.size() == 0) {
    return;  // no name to go by: its prints are refused (print_without_stock)
  }
  name_locate(locate, stock);
  if (symbol_of_[locate] == kNoSymbol) {
    symbol_of_[locate] = kTableFull;  // counted once (symbol_table_full), not tried again each message
  }
  named_by_orders_ += symbol_of_[locate] < kTableFull;
}

void ItchFeed::name_locate(std::uint16_t locate, const itch::Stock& stock) noexcept {
  const std::string_view name(stock.raw.data(), stock.size());
  if (!spec_.tickers.empty()) {
    bool wanted = false;
    for (const std::string& t : spec_.tickers) {
      wanted = wanted || t == name;
    }
    if (!wanted) {
      symbol_of_[locate] = kNotSelected;
      return;
    }
  }
  // Cold: once per stock, at the start of the session (the symbol table's registration takes a lock).
  const SymbolId id = symbols_.intern(name);
  if (id == kNoSymbol) {
    ++directory_full_;
    return;
  }
  symbol_of_[locate] = id;
  ++stocks_;
}

void ItchFeed::on_trading_action(const itch::TradingAction& m) noexcept {
  halts_ += m.state == 'H' && trading_state_[m.h.locate] != 'H';
  trading_state_[m.h.locate] = m.state;
}

void ItchFeed::on_system_event(const itch::SystemEvent& m) noexcept {
  if (system_events_.size() < system_events_.capacity()) {
    system_events_.push_back(m.event_code);  // within the reserved capacity: no allocation
  }
}

void ItchFeed::on_broken(const itch::BrokenTrade& m) noexcept {
  const std::uint64_t n = handler_.counters().broken;  // already counted by the book
  if (n <= kBrokenKept) {
    broken_match_[n - 1] = m.match;
  }
}

void ItchFeed::publish_counts() noexcept {
  const ItchBookCounters& b = handler_.counters();
  counts_[static_cast<std::size_t>(Reject::kUnpricedExecution)] = b.unknown_execute;
  counts_[static_cast<std::size_t>(Reject::kOrderTableFull)] = b.table_full;
  for (std::size_t k = 0; k < counts_.size(); ++k) {
    live_[k].store(counts_[k], std::memory_order_relaxed);
  }
}

std::size_t ItchFeed::do_work() noexcept {
  if (wall0_ < 0) {
    wall0_ = FeedPort::now_ns();
  }
  auto stopped = [this] { return stop_requested(); };
  std::size_t messages = 0;
  std::size_t ticks = 0;
  while (messages < kMessagesPerDutyCycle && ticks < kTicksPerDutyCycle) {
    if (!has_pending_) {
      const itch::FileFramer::Message m = next_message();
      if (m.data == nullptr) {
        if (packets_ != nullptr && !packets_ended_) {
          break;  // nothing received yet: the runner idles and calls again
        }
        if (*framer_.error() != '\0' || (gz_ != nullptr && gz_->error != nullptr)) {
          counts_[static_cast<std::size_t>(Reject::kFraming)] = 1;
        }
        ended_ = true;
        end_ns_ = FeedPort::now_ns();
        break;
      }
      ++messages;
      ++messages_;
      switch (itch::decode(m.data, m.size, handler_)) {
        case itch::Status::kOk:
          break;
        case itch::Status::kLonger:
          ++longer_;
          break;
        case itch::Status::kEmpty:  // a MoldUDP64 block of length 0 (the file framer never gives one)
        case itch::Status::kTruncated:
          ++counts_[static_cast<std::size_t>(Reject::kTruncated)];
          break;
        case itch::Status::kUnknownType:
          ++counts_[static_cast<std::size_t>(Reject::kUnknownType)];
          break;
      }
      if (!has_pending_) {
        continue;
      }
    }
    if (spec_.max_ticks != 0 && seq_ == spec_.max_ticks) {
      ended_ = true;
      break;
    }
    if (event0_ < 0) {
      event0_ = pending_.event_ns;
    }
    // Prints are in timestamp order in a session's file; an earlier one (a corrupt file) goes at once.
    const std::int64_t due = spec_.speed > 0 && pending_.event_ns >= event0_
                                 ? schedule_at(wall0_, static_cast<double>(pending_.event_ns - event0_) / spec_.speed)
                                 : -1;
    pending_.seq = seq_;
    if (!publish_due(port(), pending_, due, stopped)) {
      break;
    }
    ++seq_;
    has_pending_ = false;
    ++ticks;
  }
  publish_counts();
  return messages + ticks;
}

std::string ItchFeed::label() const {
  if (packets_ != nullptr) {
    return packets_->label() + " (session " + spec_.date + ")";
  }
  return "itch " + spec_.path + " (session " + spec_.date + (gz_ != nullptr ? ", gzip)" : ")");
}

std::vector<std::string> ItchFeed::notices() const {
  std::vector<std::string> out;
  if (derived_lengths_) {
    out.push_back(spec_.path +
                  ": warning: its length prefixes are zero; each message is framed by its type's length instead");
  }
  return out;
}

void ItchFeed::report(FeedReport& out) const {
  const ItchBookCounters& b = handler_.counters();
  out.label = label();
  const std::uint64_t prints = b.prints_e + b.prints_c + b.prints_p + b.prints_q;
  const std::pair<const char*, std::uint64_t> figures[] = {
      {"messages", messages_},
      {"stocks", stocks_},
      {"prints", prints},
      {"prints_e", b.prints_e},
      {"prints_c", b.prints_c},
      {"prints_p", b.prints_p},
      {"prints_q", b.prints_q},
      {"ticks", seq_},
      {"not_selected", not_selected_},
      {"adds", b.adds},
      {"live_orders", handler_.orders().size()},
      {"non_printable", b.non_printable},
      {"cross_zero_shares", b.cross_zero},
      {"broken_trades", b.broken},
      {"unknown_cancel", b.unknown_cancel},
      {"unknown_delete", b.unknown_delete},
      {"unknown_replace", b.unknown_replace},
      {"unknown_execute_with_price", b.unknown_execute_c},
      {"duplicate_add", b.duplicate_add},
      {"over_execute", b.over_execute},
      {"halts", halts_},
      {"longer_messages", longer_},
      {"symbol_table_full", directory_full_},
      {"stocks_named_by_orders", named_by_orders_},
  };
  for (const auto& [name, v] : figures) {
    out.counts.emplace_back(name, v);
  }
  out.lines.push_back(out.label + ": " + std::to_string(messages_) + " messages, " + std::to_string(stocks_) +
                      " stocks, " + std::to_string(prints) + " prints (E " + std::to_string(b.prints_e) + ", C " +
                      std::to_string(b.prints_c) + ", P " + std::to_string(b.prints_p) + ", Q " +
                      std::to_string(b.prints_q) + ") -> " + std::to_string(seq_) + " ticks" +
                      (not_selected_ != 0 ? ", " + std::to_string(not_selected_) + " prints not selected" : ""));
  out.lines.push_back("  book: " + std::to_string(b.adds) + " adds, " + std::to_string(handler_.orders().size()) +
                      " orders live at the end; orders never added: " + std::to_string(b.unknown_execute) +
                      " executions (unpriced), " + std::to_string(b.unknown_execute_c) + " executions with price, " +
                      std::to_string(b.unknown_cancel) + " cancels, " + std::to_string(b.unknown_delete) +
                      " deletes, " + std::to_string(b.unknown_replace) + " replaces");
  std::string refused;
  for (std::size_t k = 0; k < counts_.size(); ++k) {
    if (counts_[k] != 0) {
      refused += refused.empty() ? "  refused: " : ", ";
      refused += to_string(static_cast<Reject>(k));
      refused += ' ';
      refused += std::to_string(counts_[k]);
    }
  }
  if (!refused.empty()) {
    out.lines.push_back(refused);
  }
  const bool live = packets_ != nullptr && spec_.packets.transport == ItchPacketSpec::Transport::kUdp;
  if (end_ns_ > wall0_ && wall0_ >= 0 && !live) {  // a live feed's rate is its packets' (below)
    const double s = static_cast<double>(end_ns_ - wall0_) * 1e-9;
    char rate[96];
    std::snprintf(rate, sizeof rate, "  read in %.1f ms: %.2f M messages/s", s * 1e3, static_cast<double>(messages_) / s / 1e6);
    out.lines.push_back(rate);
  }
  if (!system_events_.empty()) {
    out.lines.push_back("  system events: " + system_events_ +
                        (system_events_.back() == 'C' ? " (end of messages)" : " (no end of messages)"));
  }
  if (b.broken != 0) {
    std::string line = "  broken trades: " + std::to_string(b.broken) + ", match numbers";
    for (std::uint64_t k = 0; k < b.broken && k < kBrokenKept; ++k) {
      line += ' ';
      line += std::to_string(broken_match_[k]);
    }
    out.lines.push_back(line + (b.broken > kBrokenKept ? " …" : ""));
  }
  if (packets_ != nullptr) {
    packets_->report(out);
  }
  if (gz_ != nullptr && gz_->error != nullptr) {
    out.ended_early = std::string("gzip broke at compressed byte ") + std::to_string(gz_->error_at) + ": " +
                      gz_->error + "; the messages inflated before it were read";
  } else if (*framer_.error() != '\0') {
    out.ended_early = std::string("framing broke at byte ") + std::to_string(window_offset_ + framer_.error_offset()) +
                      ": " + framer_.error() + "; " + std::to_string(framer_.unframed_bytes()) + " bytes not read";
  }
  if (b.table_full != 0) {
    out.lines.push_back("  " + std::to_string(b.table_full) + " adds found the order table full (" +
                        std::to_string(spec_.max_orders) + " orders): raise --itch-max-orders");
  }
  if (named_by_orders_ != 0) {
    out.lines.push_back("  " + std::to_string(named_by_orders_) +
                        " stocks named by their orders or trades: no stock directory message for them came "
                        "first (a file that starts mid-session?)");
  }
  if (directory_full_ != 0) {
    out.lines.push_back("  " + std::to_string(directory_full_) + " stocks found the symbol table full: raise --max-tickers");
  }
}

void ItchFeed::rejects(std::vector<std::pair<std::string, std::uint64_t>>& out) const {
  for (std::size_t k = 0; k < live_.size(); ++k) {
    out.emplace_back(to_string(static_cast<Reject>(k)), live_[k].load(std::memory_order_relaxed));
  }
  if (packets_ != nullptr) {
    out.emplace_back("malformed_packet", packets_->malformed_packets());
    out.emplace_back("messages_lost", packets_->lost_messages());
  }
}

}  // namespace tickforge
