// The MoldUDP64 packet parser (parsers/moldudp64.hpp) and a subscriber's session
// (feedhandlers/moldudp64_session.hpp) under any sequence of packets, polls, clock steps and give-ups:
// no crash, no UB, no read outside a packet (ASan), and the session's promises hold — messages come out
// in strictly increasing sequence, each exactly once, a jump only where a gap was given up (counted);
// each message's bytes are the ones its packet carried; a request asks for 1..0xFFFE messages starting
// at the next expected one, never while another is in flight unless it timed out, or (a hole behind the
// first gap) after it, each hole once; the window's bound.
//
// Input: a script of operations. Each starts with an op byte; raw packets take a 2-byte length and that
// many bytes; built packets take a sequence offset and a count and are written well-formed (the
// fuzzer reaches deep states faster than with raw bytes alone).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_support.hpp"
#include "moldudp64.hpp"
#include "moldudp64_session.hpp"

namespace mold = tickforge::mold;
using tickforge::MoldSession;

namespace {

struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  bool empty() const { return n == 0; }
  std::uint8_t byte() {
    if (n == 0) {
      return 0;
    }
    --n;
    return *p++;
  }
};

// A well-formed packet whose message k is 3 bytes: k's low byte, k's next byte, 0x5A.
std::vector<std::uint8_t> build(std::uint64_t first, std::uint16_t count, bool other_session) {
  std::vector<std::uint8_t> out(mold::kHeaderLength);
  mold::write_header(out.data(), mold::make_session(other_session ? "OTHER" : "FUZZ"), first, count);
  if (count != 0 && count != mold::kEndOfSessionCount) {
    for (std::uint64_t k = first; k < first + count; ++k) {
      const std::uint8_t block[5] = {0, 3, static_cast<std::uint8_t>(k), static_cast<std::uint8_t>(k >> 8), 0x5A};
      out.insert(out.end(), block, block + 5);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader in{data, size};
  tickforge::MoldSessionOptions o;
  const std::uint8_t cfg = in.byte();
  o.window = 1 + (cfg & 7);
  o.can_request = (cfg & 8) != 0;
  o.stop_on_gap = (cfg & 16) != 0;
  o.retries = (cfg >> 5) & 3;
  o.gap_wait_ns = 2;
  o.request_timeout_ns = 5;
  MoldSession s(o);
  std::int64_t now = 0;
  std::uint64_t last = 0;  // the last sequence delivered (0: none)
  std::vector<std::uint64_t> asked_ahead;  // holes behind the first gap requested so far
  bool built_only = true;  // every packet offered so far was built here (so message bytes are known)
  int ops = 0;
  while (!in.empty() && ops++ < 2000) {
    const std::uint8_t op = in.byte();
    switch (op % 6) {
      case 0: {  // a raw packet
        std::size_t len = in.byte();
        len = (len << 8) | in.byte();
        len = len < in.n ? len : in.n;
        std::vector<std::uint8_t> p(in.p, in.p + len);  // its own allocation: ASan sees overreads
        in.p += len;
        in.n -= len;
        (void)s.offer(p.data(), p.size(), now);
        built_only = false;
        break;
      }
      case 1: {  // a built packet near the next expected message
        const std::int64_t offset = static_cast<std::int8_t>(in.byte());
        const std::uint8_t c = in.byte();
        const std::uint16_t count = c == 255 ? mold::kEndOfSessionCount : static_cast<std::uint16_t>(c % 40);
        const std::int64_t first = static_cast<std::int64_t>(s.next_expected()) + offset;
        const auto p = build(first < 1 ? 1 : static_cast<std::uint64_t>(first), count, (op & 0x80) != 0);
        (void)s.offer(p.data(), p.size(), now);
        break;
      }
      case 2: {  // drain
        for (MoldSession::Message m = s.next(now); m.data != nullptr; m = s.next(now)) {
          FUZZ_ASSERT(m.sequence > last);
          if (last != 0 && m.sequence != last + 1) {
            FUZZ_ASSERT(s.counters().messages_lost >= m.sequence - last - 1);
          }
          if (built_only) {
            FUZZ_ASSERT(m.size == 3 && m.data[0] == static_cast<std::uint8_t>(m.sequence) &&
                        m.data[1] == static_cast<std::uint8_t>(m.sequence >> 8) && m.data[2] == 0x5A);
          }
          FUZZ_ASSERT(m.sequence + 1 == s.next_expected());
          last = m.sequence;
        }
        break;
      }
      case 3: {  // the clock moves; a poll
        now += in.byte() % 8;
        mold::Request r;
        const std::uint64_t resent = s.counters().requests_resent, first = s.counters().requests,
                            ahead = s.counters().requests_ahead;
        if (s.poll(now, r)) {
          FUZZ_ASSERT(r.count >= 1 && r.count <= mold::kMaxRequestCount);
          FUZZ_ASSERT(s.counters().requests + s.counters().requests_resent == first + resent + 1);
          if (s.counters().requests_ahead != ahead) {
            // A hole behind the first gap: after the next expected message, and asked for once.
            FUZZ_ASSERT(s.counters().requests_ahead == ahead + 1 && r.sequence > s.next_expected());
            for (const std::uint64_t a : asked_ahead) {
              FUZZ_ASSERT(a != r.sequence);
            }
            if (asked_ahead.size() < 4096) {
              asked_ahead.push_back(r.sequence);
            }
          } else {
            FUZZ_ASSERT(r.sequence == s.next_expected());
          }
          FUZZ_ASSERT(o.can_request);
          std::uint8_t b[mold::kHeaderLength];
          mold::write_request(b, r);
          mold::Request back;
          FUZZ_ASSERT(mold::parse_request(b, sizeof b, back) && back.sequence == r.sequence && back.count == r.count);
        }
        break;
      }
      case 4:
        (void)s.give_up_gap();
        break;
      case 5: {  // the packet parser alone, on the rest of the input
        mold::Packet pk;
        if (mold::parse_packet(in.p, in.n, pk) == mold::PacketStatus::kOk && pk.kind == mold::PacketKind::kMessages) {
          mold::BlockReader r(pk.blocks, pk.blocks_size);
          std::size_t blocks = 0;
          for (auto m = r.next(); m.data != nullptr; m = r.next()) {
            FUZZ_ASSERT(m.data >= in.p && m.data + m.size <= in.p + in.n);
            ++blocks;
          }
          FUZZ_ASSERT(blocks == pk.count);
        }
        break;
      }
    }
    FUZZ_ASSERT(s.held_packets() <= o.window + 1);
    const auto& c = s.counters();
    FUZZ_ASSERT(c.gaps_filled + c.gaps_lost <= c.gaps);
    if (s.ended() && !s.stopped_on_gap()) {
      FUZZ_ASSERT(s.end_seen());
    }
  }
  return 0;
}
