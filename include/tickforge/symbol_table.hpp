// tickforge — ticker text ⇄ dense symbol id.
//
// Thread contract: find() and name() are lock-free and may be called from any number of threads while
// one or more threads call intern(). intern() of a new ticker takes a mutex (cold path, once per
// ticker). Nothing allocates after construction.
//
// Layout: an open-addressing table of atomic slot words (id + 1, 0 = empty) with linear probing, twice
// the capacity rounded to a power of two, and a flat array of fixed 16-byte names indexed by id. A new
// name is written before its slot word is published with a release store, so a reader that acquires
// the slot sees the whole name. Slots are never removed.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string_view>

#include <tickforge/tick.hpp>

namespace tickforge {

class SymbolTable {
 public:
  /// Longest ticker accepted, in bytes (ITCH stocks are 8, OCC option roots 6, Kaggle indices < 10).
  static constexpr std::size_t kMaxTickerLen = 15;

  /// Why intern() did not return an id.
  enum class Reject : std::uint8_t { kNone, kEmpty, kTooLong, kFull };

  /// capacity: most distinct tickers; ids are 0..capacity-1. Throws std::invalid_argument if 0 or
  /// above 2^24, std::bad_alloc if memory is short.
  explicit SymbolTable(std::uint32_t capacity);

  /// Id of a registered ticker or kNoSymbol. Lock-free; no allocation. Budget: one hash, ~1 probe.
  [[nodiscard]] SymbolId find(std::string_view ticker) const noexcept {
    if (ticker.empty() || ticker.size() > kMaxTickerLen) [[unlikely]] {
      return kNoSymbol;
    }
    for (std::uint64_t i = hash(ticker) & slot_mask_;; i = (i + 1) & slot_mask_) {
      // Pairs with the release store in intern(): the name of a published id is complete.
      const std::uint32_t word = slots_[i].load(std::memory_order_acquire);
      if (word == 0) {
        return kNoSymbol;
      }
      if (name_equals(word - 1, ticker)) {
        return word - 1;
      }
    }
  }

  /// find(), registering the ticker when new. On failure returns kNoSymbol and, if why is given, the
  /// reason; kFull failures are also counted (overflow_count()).
  [[nodiscard]] SymbolId intern(std::string_view ticker, Reject* why = nullptr) noexcept {
    const SymbolId id = find(ticker);
    if (id != kNoSymbol) [[likely]] {
      if (why != nullptr) {
        *why = Reject::kNone;
      }
      return id;
    }
    return intern_slow(ticker, why);
  }

  /// NUL-terminated name of a registered id (valid for the table's lifetime). Any thread that learnt
  /// the id through find()/intern() or a ring that carried it.
  [[nodiscard]] const char* name(SymbolId id) const noexcept { return names_[id].text; }

  [[nodiscard]] std::uint32_t size() const noexcept { return count_.load(std::memory_order_acquire); }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return capacity_; }
  /// Number of intern() calls refused because the table was full.
  [[nodiscard]] std::uint64_t overflow_count() const noexcept {
    return overflows_.load(std::memory_order_relaxed);
  }

  static const char* to_string(Reject r) noexcept;

 private:
  struct Name {
    char text[kMaxTickerLen + 1];
  };
  static_assert(sizeof(Name) == 16);

  [[gnu::noinline, gnu::cold]] SymbolId intern_slow(std::string_view ticker, Reject* why) noexcept;

  static std::uint64_t hash(std::string_view s) noexcept {
    // FNV-1a then a murmur3 finaliser: tickers are short and similar ("AAPL", "AAPU").
    std::uint64_t h = 1469598103934665603ull;
    for (const char c : s) {
      h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
  }

  bool name_equals(SymbolId id, std::string_view s) const noexcept {
    const char* t = names_[id].text;
    return std::memcmp(t, s.data(), s.size()) == 0 && t[s.size()] == '\0';
  }

  const std::uint32_t capacity_;
  const std::uint64_t slot_mask_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> slots_;
  std::unique_ptr<Name[]> names_;
  std::atomic<std::uint32_t> count_{0};
  std::atomic<std::uint64_t> overflows_{0};
  std::mutex intern_mutex_;  // serialises registrations only; readers never take it
};

}  // namespace tickforge
