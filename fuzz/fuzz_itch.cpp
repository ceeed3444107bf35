// The ITCH 5.0 decoder and BinaryFILE framer (parsers/itch.hpp) on any bytes: no crash, no UB, no read
// outside the input (ASan); the framer accounts for every byte (messages + prefixes + what it could not
// frame), each message it returns lies inside the input, and decode() calls the handler exactly when it
// says kOk or kLonger, with the type byte it was given.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "itch.hpp"
#include "itch_book.hpp"

namespace itch = tickforge::itch;

namespace {
struct Check {
  char type = 0;
  int calls = 0;
  template <typename M>
  void on(const M& m) noexcept {
    FUZZ_ASSERT(m.h.type == type);
    ++calls;
  }
  void on(const itch::AddOrder& m) noexcept {
    FUZZ_ASSERT(m.h.type == type && (m.has_mpid == (type == 'F')));
    FUZZ_ASSERT(m.stock.size() <= 8);
    ++calls;
  }
};

void decode_one(const std::uint8_t* p, std::size_t n) {
  Check c;
  c.type = n != 0 ? static_cast<char>(p[0]) : 0;
  const itch::Status s = itch::decode(p, n, c);
  const bool decoded = s == itch::Status::kOk || s == itch::Status::kLonger;
  FUZZ_ASSERT(c.calls == (decoded ? 1 : 0));
  if (decoded) {
    const std::size_t need = itch::message_length(p[0]);
    FUZZ_ASSERT(need >= itch::kHeaderLength && n >= need && (s == itch::Status::kOk) == (n == need));
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  decode_one(data, size);  // the input as one message
  itch::FileFramer f(data, size);
  std::size_t framed = 0;
  std::uint64_t prints = 0;
  auto count = [&prints](const tickforge::ItchPrint& p) noexcept {
    FUZZ_ASSERT(p.kind == 'E' || p.kind == 'C' || p.kind == 'P' || (p.kind == 'Q' && p.shares != 0));
    ++prints;
  };
  // Both indexes of the order table see the same messages and must agree on everything.
  tickforge::ItchBook<decltype(count)> book(8, count);
  std::uint64_t seq_prints = 0;
  auto seq_count = [&seq_prints](const tickforge::ItchPrint&) noexcept { ++seq_prints; };
  tickforge::ItchBook<decltype(seq_count)> seq(8, seq_count, tickforge::ItchOrderTable::Index::kSequential);
  for (auto m = f.next(); m.data != nullptr; m = f.next()) {
    FUZZ_ASSERT(m.data >= data + 2 && m.data + m.size <= data + size && m.size != 0);
    framed += 2 + m.size;
    decode_one(m.data, m.size);
    (void)itch::decode(m.data, m.size, book);
    (void)itch::decode(m.data, m.size, seq);
    FUZZ_ASSERT(book.orders().size() <= 8);
    FUZZ_ASSERT(seq.orders().size() == book.orders().size());
  }
  const tickforge::ItchBookCounters& c = book.counters();
  FUZZ_ASSERT(prints == c.prints_e + c.prints_c + c.prints_p + c.prints_q);
  FUZZ_ASSERT(seq_prints == prints && seq.counters().unknown_execute == c.unknown_execute &&
              seq.counters().table_full == c.table_full && seq.counters().over_execute == c.over_execute);
  FUZZ_ASSERT(framed + f.unframed_bytes() == size);
  FUZZ_ASSERT((*f.error() == '\0') == (f.unframed_bytes() == 0));
  return 0;
}
