#include <tickforge/symbol_table.hpp>

#include <stdexcept>

namespace tickforge {

namespace {
std::uint64_t slot_count_for(std::uint32_t capacity) {
  if (capacity == 0 || capacity > (1u << 24)) {
    throw std::invalid_argument("symbol capacity must be in [1, 16777216]");
  }
  std::uint64_t n = 2;
  while (n < 2ull * capacity) {
    n <<= 1;
  }
  return n;
}
}  // namespace

SymbolTable::SymbolTable(std::uint32_t capacity)
    : capacity_(capacity),
      slot_mask_(slot_count_for(capacity) - 1),
      slots_(new std::atomic<std::uint32_t>[slot_mask_ + 1]),
      names_(new Name[capacity]()) {
  for (std::uint64_t i = 0; i <= slot_mask_; ++i) {
    slots_[i].store(0, std::memory_order_relaxed);
  }
}

SymbolId SymbolTable::intern_slow(std::string_view ticker, Reject* why) noexcept {
  Reject reason = Reject::kNone;
  SymbolId id = kNoSymbol;
  if (ticker.empty()) {
    reason = Reject::kEmpty;
  } else if (ticker.size() > kMaxTickerLen) {
    reason = Reject::kTooLong;
  } else {
    const std::lock_guard<std::mutex> lock(intern_mutex_);
    id = find(ticker);  // another thread may have registered it while we waited
    if (id == kNoSymbol) {
      const std::uint32_t n = count_.load(std::memory_order_relaxed);  // only writers touch it, under the lock
      if (n == capacity_) {
        reason = Reject::kFull;
        overflows_.fetch_add(1, std::memory_order_relaxed);
      } else {
        id = n;
        std::memcpy(names_[id].text, ticker.data(), ticker.size());
        names_[id].text[ticker.size()] = '\0';
        std::uint64_t i = hash(ticker) & slot_mask_;
        while (slots_[i].load(std::memory_order_relaxed) != 0) {
          i = (i + 1) & slot_mask_;
        }
        // Publishes the name written above: pairs with the acquire load in find() and size().
        count_.store(n + 1, std::memory_order_release);
        slots_[i].store(id + 1, std::memory_order_release);
      }
    }
  }
  if (why != nullptr) {
    *why = reason;
  }
  return id;
}

const char* SymbolTable::to_string(Reject r) noexcept {
  switch (r) {
    case Reject::kNone:
      return "none";
    case Reject::kEmpty:
      return "empty_ticker";
    case Reject::kTooLong:
      return "ticker_too_long";
    case Reject::kFull:
      return "symbol_table_full";
  }
  return "unknown";
}

}  // namespace tickforge
