// tickforge — MoldUDP64 1.0, the UDP transport of Nasdaq's TotalView-ITCH: packet bytes ↔ header and
// message blocks. Header-only, pure functions and value types (no allocation, no exception).
//
// Downstream packet (server → subscribers), all integers big-endian:
//   Session(10, alpha) SequenceNumber(8: the first message's) MessageCount(2), then MessageCount blocks
//   of [MessageLength(2)][message]. Count 0 is a heartbeat (its sequence number is the next one the
//   server will send); count 0xFFFF marks the end of the session (no blocks; its sequence number is one
//   past the last message).
// Request packet (subscriber → re-request server): Session(10) SequenceNumber(8) RequestedCount(2); the
// server answers with downstream packets starting at that number, to the requester's address.
//
// parse_packet() checks a whole packet before anyone reads a message of it: every block inside the
// packet, exactly MessageCount of them, nothing after the last. A packet that fails is refused whole
// (its messages will be missing, hence requested again, rather than half-read).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tickforge::mold {

inline constexpr std::size_t kHeaderLength = 20;
inline constexpr std::size_t kSessionLength = 10;
inline constexpr std::uint16_t kEndOfSessionCount = 0xFFFF;
/// The most messages one request may ask for (0xFFFF is the end-of-session count).
inline constexpr std::uint16_t kMaxRequestCount = 0xFFFE;
/// A UDP datagram's largest payload over IPv4.
inline constexpr std::size_t kMaxDatagram = 65507;

using Session = std::array<char, kSessionLength>;

[[nodiscard]] inline std::uint16_t get16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
[[nodiscard]] inline std::uint64_t get64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | p[i];
  }
  return v;
}
inline void put16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void put64(std::uint8_t* p, std::uint64_t v) noexcept {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

/// "NASDAQ" → "NASDAQ    " (padded with spaces, cut at 10).
[[nodiscard]] inline Session make_session(std::string_view name) noexcept {
  Session s;
  s.fill(' ');
  std::memcpy(s.data(), name.data(), name.size() < kSessionLength ? name.size() : kSessionLength);
  return s;
}
/// The session's name without its padding.
[[nodiscard]] inline std::string_view session_name(const Session& s) noexcept {
  std::size_t n = kSessionLength;
  while (n > 0 && s[n - 1] == ' ') {
    --n;
  }
  return {s.data(), n};
}

enum class PacketKind : std::uint8_t { kMessages, kHeartbeat, kEndOfSession };

enum class PacketStatus : std::uint8_t {
  kOk,
  kShort,          ///< fewer than 20 bytes
  kBlockOverrun,   ///< a block's length runs past the packet's end
  kCountMismatch,  ///< the packet ends before MessageCount blocks
  kTrailing,       ///< bytes after the last block (or after an end-of-session/heartbeat header)
  kSequenceWrap,   ///< sequence number + count overflows 64 bits
};

[[nodiscard]] constexpr const char* to_string(PacketStatus s) noexcept {
  switch (s) {
    case PacketStatus::kOk:
      return "ok";
    case PacketStatus::kShort:
      return "shorter than the 20-byte header";
    case PacketStatus::kBlockOverrun:
      return "a message block runs past the packet's end";
    case PacketStatus::kCountMismatch:
      return "fewer message blocks than its count";
    case PacketStatus::kTrailing:
      return "bytes after its last message block";
    case PacketStatus::kSequenceWrap:
      return "its sequence numbers overflow 64 bits";
  }
  return "?";
}

struct Packet {
  Session session{};
  std::uint64_t sequence = 0;  ///< the first message's (heartbeat, end of session: the next expected)
  std::uint16_t count = 0;     ///< messages in the packet (0 for a heartbeat or the end of session)
  PacketKind kind = PacketKind::kMessages;
  const std::uint8_t* blocks = nullptr;  ///< the first [length][message] block
  std::size_t blocks_size = 0;
};

/// Checks and reads a downstream packet. `out` is meaningful only with kOk.
[[nodiscard]] inline PacketStatus parse_packet(const std::uint8_t* p, std::size_t n, Packet& out) noexcept {
  if (n < kHeaderLength) {
    return PacketStatus::kShort;
  }
  std::memcpy(out.session.data(), p, kSessionLength);
  out.sequence = get64(p + 10);
  const std::uint16_t count = get16(p + 18);
  out.blocks = p + kHeaderLength;
  out.blocks_size = n - kHeaderLength;
  if (count == 0 || count == kEndOfSessionCount) {
    out.kind = count == 0 ? PacketKind::kHeartbeat : PacketKind::kEndOfSession;
    out.count = 0;
    return n == kHeaderLength ? PacketStatus::kOk : PacketStatus::kTrailing;
  }
  out.kind = PacketKind::kMessages;
  out.count = count;
  if (out.sequence > UINT64_MAX - count) {
    return PacketStatus::kSequenceWrap;
  }
  std::size_t at = kHeaderLength;
  for (std::uint16_t i = 0; i < count; ++i) {
    if (n - at < 2) {
      return at == n ? PacketStatus::kCountMismatch : PacketStatus::kBlockOverrun;
    }
    const std::size_t len = get16(p + at);
    if (n - at - 2 < len) {
      return PacketStatus::kBlockOverrun;
    }
    at += 2 + len;
  }
  return at == n ? PacketStatus::kOk : PacketStatus::kTrailing;
}

/// Reads the blocks of a checked packet one by one.
class BlockReader {
 public:
  BlockReader() = default;
  BlockReader(const std::uint8_t* blocks, std::size_t size) noexcept : p_(blocks), end_(blocks + size) {}
  /// The next message's bytes; {nullptr, 0} after the last. Only for blocks parse_packet() accepted.
  struct Message {
    const std::uint8_t* data;
    std::size_t size;
  };
  Message next() noexcept {
    if (p_ == end_) {
      return {nullptr, 0};
    }
    const std::size_t len = get16(p_);
    const Message m{p_ + 2, len};
    p_ += 2 + len;
    return m;
  }

 private:
  const std::uint8_t* p_ = nullptr;
  const std::uint8_t* end_ = nullptr;
};

/// Writes a downstream packet's header at `p` (20 bytes).
inline void write_header(std::uint8_t* p, const Session& s, std::uint64_t sequence, std::uint16_t count) noexcept {
  std::memcpy(p, s.data(), kSessionLength);
  put64(p + 10, sequence);
  put16(p + 18, count);
}

struct Request {
  Session session{};
  std::uint64_t sequence = 0;
  std::uint16_t count = 0;
};

/// A request packet's 20 bytes.
inline void write_request(std::uint8_t* p, const Request& r) noexcept { write_header(p, r.session, r.sequence, r.count); }

/// Reads a request packet: false unless it is exactly 20 bytes asking for 1..0xFFFE messages from 1 on.
[[nodiscard]] inline bool parse_request(const std::uint8_t* p, std::size_t n, Request& out) noexcept {
  if (n != kHeaderLength) {
    return false;
  }
  std::memcpy(out.session.data(), p, kSessionLength);
  out.sequence = get64(p + 10);
  out.count = get16(p + 18);
  return out.sequence != 0 && out.count != 0 && out.count <= kMaxRequestCount;
}

}  // namespace tickforge::mold
