// tickforge — a MoldUDP64 subscriber's session: packets in any order, messages out in sequence, gaps
// requested and, when they cannot be filled, reported.
//
//   offer(packet, now) ──▶ held packets (a min-heap by sequence, fixed slots) ──▶ next(now): the next
//                          message in sequence, once                             ▲
//   poll(now) ──▶ a gap? wait gap_wait for reordered packets, then one request ──┘ answers are offered
//                 in flight at a time; resent after request_timeout, at most      like any packet
//                 `retries` times; then the gap is lost: reported [from, to), the session goes on (or
//                 stops, with stop_on_gap). An answer that stops short (a server answering with one
//                 packet per request) is followed by a request for the rest once it has been quiet for
//                 max(gap_wait, min(request_timeout / 8, 1 ms)) (not at once with a gap wait of 0: the
//                 rest of a long answer may still be on its way).
//
// Holes further on (between held packets) are not left to wait their turn: each one seen is noted (up
// to kHolesAhead) and asked for once, gap_wait after the packet that showed it came, while the first gap
// is still open; when it becomes the first gap, that request is the one in flight (no second request
// for the same messages). Under steady loss the requests then overlap instead of queueing one
// round trip each, and the window need only hold rate × (gap_wait + round trip).
//
// Sequence numbers start at `first_sequence` (1: a subscriber that needs the order book needs every
// message of the session). A packet wholly before the next expected message is a duplicate and dropped;
// one that overlaps it gives only its new messages. A heartbeat or the end-of-session packet says how far
// the session has gone, so loss at the tail is seen as a gap too. The session ends once every message
// before the end-of-session packet's sequence number has been delivered (or given up).
//
// Time is the caller's (`now`, ns): the steady clock live, the capture's clock in a pcap replay, a
// counter in the tests and the fuzzer — the session itself never reads a clock, so it is deterministic.
//
// Memory: `window` + 1 slots of kSlotBytes bytes, allocated at construction; no allocation, lock or
// syscall afterwards. When every slot holds a packet waiting behind a gap, a packet that is not the next
// expected one is refused: with a re-request server it is dropped and requested again later; without one
// the gap is given up so the held packets can be delivered, and the caller offers the packet again once
// next() has drained them (Offer::kFull).
//
// Thread contract: one thread (the feed's); counters() after it has ended or from that thread.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "moldudp64.hpp"

namespace tickforge {

struct MoldSessionOptions {
  std::size_t window = 8192;                 ///< packets held while a gap is open
  std::int64_t gap_wait_ns = 1'000'000;      ///< a gap waits this long for reordered packets before it is requested
  std::int64_t request_timeout_ns = 50'000'000;  ///< an unanswered request is sent again after this long
  unsigned retries = 3;                      ///< requests sent again before the gap is given up
  bool can_request = true;                   ///< false: no re-request server (pcap, or none configured)
  bool stop_on_gap = false;                  ///< a gap given up ends the session
  std::uint64_t first_sequence = 1;
};

struct MoldGap {
  std::uint64_t from = 0;  ///< the first missing message
  std::uint64_t to = 0;    ///< one past the last
};

struct MoldCounters {
  std::uint64_t packets = 0;             ///< every packet offered
  std::uint64_t message_packets = 0;     ///< accepted packets carrying messages
  std::uint64_t heartbeats = 0;
  std::uint64_t end_packets = 0;         ///< end-of-session packets (a server repeats them)
  std::uint64_t messages = 0;            ///< messages delivered by next()
  std::uint64_t empty_messages = 0;      ///< blocks of length 0 (delivered; ITCH refuses them)
  std::uint64_t duplicate_packets = 0;   ///< packets wholly before the next expected message
  std::uint64_t duplicate_messages = 0;  ///< messages of overlapping packets already delivered
  std::uint64_t held = 0;                ///< packets that waited behind a gap (delivered after a packet that came later)
  std::uint64_t malformed = 0;           ///< packets parse_packet() refused
  std::uint64_t other_session = 0;       ///< packets of a session other than the first packet's
  std::uint64_t far_ahead = 0;           ///< packets numbered more than kFarAhead past the next expected message
  std::uint64_t after_end = 0;           ///< messages at or past the end of session
  std::uint64_t oversize = 0;            ///< packets larger than a slot (their messages will be missing)
  std::uint64_t window_full = 0;         ///< packets refused because every slot held one
  std::uint64_t gaps = 0;                ///< gaps seen (a run of missing messages behind a later one)
  std::uint64_t gaps_filled = 0;         ///< gaps closed by late or retransmitted packets
  std::uint64_t gaps_lost = 0;           ///< gaps given up
  std::uint64_t messages_lost = 0;       ///< messages in the gaps given up
  std::uint64_t requests = 0;            ///< request packets (first sends)
  std::uint64_t requests_resent = 0;     ///< requests sent again after a timeout
  std::uint64_t requests_ahead = 0;      ///< of `requests`: for holes behind the first gap, sent while it was open
};

class MoldSession {
 public:
  static constexpr std::size_t kSlotBytes = 2048;  ///< more than an Ethernet frame's payload
  static constexpr std::size_t kLostKept = 8;      ///< lost ranges kept for the report
  static constexpr std::size_t kLatenciesKept = 1u << 16;
  static constexpr std::size_t kHolesAhead = 64;   ///< holes behind the first gap noted for early requests
  /// A packet whose sequence number is further ahead than this of the next expected message is refused
  /// (`far_ahead`): no session day comes near 2^32 messages, and one corrupt number must not make the
  /// feed give up everything up to it.
  static constexpr std::uint64_t kFarAhead = std::uint64_t{1} << 32;

  explicit MoldSession(const MoldSessionOptions& o);

  enum class Offer : std::uint8_t {
    kAccepted,      ///< held, or a heartbeat / end of session taken into account
    kDuplicate,     ///< every message already delivered (or already held)
    kMalformed,     ///< parse_packet() refused it (malformed_status() says why)
    kOtherSession,  ///< another session's packet
    kAfterEnd,      ///< messages past the end of session
    kOversize,      ///< larger than a slot
    kDropped,       ///< the window was full: dropped, to be requested again
    kFull,          ///< the window was full and there is no server to ask: drain next(), then offer again
  };
  /// A downstream packet received at `now`. Its bytes are copied: the caller's buffer is free at return.
  Offer offer(const std::uint8_t* p, std::size_t n, std::int64_t now) noexcept;

  struct Message {
    const std::uint8_t* data;  ///< nullptr: nothing deliverable now
    std::size_t size;
    std::uint64_t sequence;
  };
  /// The next message in sequence, valid until the next call. {nullptr} when the next one has not
  /// arrived (a gap, or nothing more yet).
  Message next(std::int64_t now) noexcept;

  /// Advances the gap's timers; true when a request packet should be sent now (`out`). Call after next()
  /// returned nothing, and regularly while it does (the timers run on `now`).
  bool poll(std::int64_t now, mold::Request& out) noexcept;

  /// Gives up the open gap now, if there is one (the input ended: a capture's last packet); the packets
  /// held behind it become deliverable. False when no gap was open.
  bool give_up_gap() noexcept;

  /// The session ended: every message before its end was delivered or given up, or (stop_on_gap) a gap
  /// was given up.
  [[nodiscard]] bool ended() const noexcept;
  [[nodiscard]] bool stopped_on_gap() const noexcept { return stopped_; }
  [[nodiscard]] bool end_seen() const noexcept { return end_seen_; }
  [[nodiscard]] std::uint64_t next_expected() const noexcept { return expected_; }
  [[nodiscard]] bool has_session() const noexcept { return has_session_; }
  [[nodiscard]] const mold::Session& session() const noexcept { return session_; }
  [[nodiscard]] const MoldCounters& counters() const noexcept { return c_; }
  [[nodiscard]] mold::PacketStatus malformed_status() const noexcept { return last_malformed_; }
  /// The first kLostKept gaps given up.
  [[nodiscard]] const std::array<MoldGap, kLostKept>& lost() const noexcept { return lost_; }
  /// Gap-fill latencies (ns from the gap being seen to its last message arriving), the first
  /// kLatenciesKept, in order.
  [[nodiscard]] const std::vector<std::int64_t>& fill_latencies() const noexcept { return latencies_; }
  [[nodiscard]] std::size_t held_packets() const noexcept { return heap_size_; }

 private:
  struct Slot {
    std::uint64_t sequence;
    std::uint32_t size;
    std::uint16_t count;
    std::uint64_t arrival;  // the order it was accepted in
    std::int64_t arrived;   // when (the caller's clock): the gap before it has been open since then
  };
  [[nodiscard]] std::uint64_t gap_end() const noexcept;  // the first message known to exist after expected_
  [[nodiscard]] bool gap_open() const noexcept;
  [[nodiscard]] std::uint64_t gap_limit() const noexcept;  // gap_end(), but not past the end of session
  void note_gap(std::int64_t now) noexcept;
  void lose_gap() noexcept;
  void check_filled(std::int64_t now) noexcept;
  void note_hole(std::uint64_t from, std::uint64_t to, std::int64_t now) noexcept;
  void shrink_holes(std::uint64_t from, std::uint64_t to) noexcept;
  bool ask_ahead(std::int64_t now, mold::Request& out) noexcept;
  bool adopt_hole() noexcept;
  [[nodiscard]] std::int64_t quiet_ns() const noexcept {  // an answer that paused this long stopped short
    return std::max<std::int64_t>(o_.gap_wait_ns, std::min<std::int64_t>(o_.request_timeout_ns / 8, 1'000'000));
  }
  void heap_push(std::uint32_t slot) noexcept;
  std::uint32_t heap_pop() noexcept;
  [[nodiscard]] std::uint64_t top_sequence() const noexcept { return slots_[heap_[0]].sequence; }

  MoldSessionOptions o_;
  std::vector<std::uint8_t> bytes_;   // (window + 1) × kSlotBytes
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;   // a stack of free slots
  std::size_t free_size_ = 0;
  std::vector<std::uint32_t> heap_;   // held slots, a min-heap by sequence
  std::size_t heap_size_ = 0;

  bool has_session_ = false;
  mold::Session session_{};
  std::uint64_t expected_;
  std::uint64_t known_end_;           // one past the highest message known to exist
  std::uint64_t arrivals_ = 0;        // packets accepted so far: a slot's arrival number (for `held`)
  std::uint64_t latest_delivered_ = 0; // the highest arrival number of a packet delivered so far
  bool end_seen_ = false;
  std::uint64_t end_sequence_ = 0;
  bool stopped_ = false;

  // The packet being delivered.
  bool current_ = false;
  std::uint32_t current_slot_ = 0;
  std::uint64_t current_sequence_ = 0;
  mold::BlockReader reader_;

  // The open gap.
  std::int64_t gap_since_ = -1;      // when it was seen (-1: none open)
  std::uint64_t gap_target_ = 0;     // its end when it was seen: filled once expected_ reaches it
  bool requested_ = false;           // a request went out for it (a remainder is asked for at once)
  bool in_flight_ = false;
  bool answered_part_ = false;       // the request in flight brought some of its messages
  std::uint64_t request_end_ = 0;    // one past the last message the request in flight asks for
  std::uint64_t progress_mark_ = 0;  // expected_ when the request was (re)sent
  std::int64_t request_sent_ = 0;
  unsigned tries_ = 0;

  // Holes seen further on, in sequence order (a ring): [from, to), when seen, when asked for (-1: not yet).
  struct Hole {
    std::uint64_t from;
    std::uint64_t to;
    std::int64_t seen;
    std::int64_t asked;
    std::uint64_t asked_end;  // one past the last message asked for (at most kMaxRequestCount of them)
    bool adopted;             // its request became the first gap's
  };
  std::array<Hole, kHolesAhead> holes_{};
  std::size_t hole_first_ = 0;
  std::size_t hole_count_ = 0;
  std::uint64_t highest_end_ = 0;  // one past the highest message accepted so far

  MoldCounters c_;
  mold::PacketStatus last_malformed_ = mold::PacketStatus::kOk;
  std::array<MoldGap, kLostKept> lost_{};
  std::vector<std::int64_t> latencies_;
};

}  // namespace tickforge
