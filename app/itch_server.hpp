// tickforge — `tickforge itch-serve`: an ITCH 5.0 file replayed as a MoldUDP64 session over UDP, for the
// tests, the benchmarks and a person trying the moldudp64: feed.
//
//   file ──mmap──▶ FileFramer ──▶ packets of ≤ --serve-packet-bytes ──▶ injected loss, duplication,
//   (plain BinaryFILE,            (sequence numbers from 1)              reordering (seeded: the same
//    or zero prefixes)                                                   seed loses the same packets)
//                                                                        ──sendmmsg──▶ ADDR:PORT
//   re-request socket ◀── request packets: answered from the file (up to 2,048 packets each: a whole request), the first
//                         --serve-drop-answers requests and a --serve-answer-loss share left unanswered
//   end of the file ──▶ end-of-session packets every --serve-heartbeat until --serve-linger has passed
//                       without a request (heartbeats while paced sending pauses)
//
// Paced at --serve-rate messages/s (0: as fast as the socket takes them). Unicast, or a multicast group
// sent on --serve-interface with TTL 1 and loopback on.
//
// Thread contract: one thread (the command's); stop() from a signal-polling loop (any thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace tickforge {

struct ItchServeOptions {
  std::string file;
  std::string to = "127.0.0.1:26400";  ///< where the packets go: ADDR:PORT, unicast or a multicast group
  std::string interface_address = "127.0.0.1";  ///< multicast: the interface sent on
  std::string requests;                ///< ADDR:PORT the re-request server listens on (empty: none)
  std::string session = "TICKFORGE1";  ///< the MoldUDP64 session name (10 characters at most)
  double rate = 0;                     ///< messages per second; 0 = as fast as possible
  std::uint32_t packet_bytes = 1400;   ///< largest packet, header included
  double loss = 0, duplicate = 0, reorder = 0;  ///< per packet of the first sending
  double answer_loss = 0;              ///< share of requests left unanswered
  std::uint64_t drop_answers = 0;      ///< the first N requests are left unanswered
  std::uint64_t seed = 1;
  std::int64_t heartbeat_ns = 1'000'000'000;
  std::int64_t linger_ns = 2'000'000'000;  ///< after the end: answer requests until this long has passed without one
  std::uint64_t max_messages = 0;      ///< 0: the whole file
};

struct ItchServeStats {
  std::uint64_t messages = 0, packets = 0, lost = 0, duplicated = 0, reordered = 0;
  std::uint64_t requests = 0, bad_requests = 0, unanswered = 0, answer_packets = 0, answer_messages = 0;
  std::uint64_t heartbeats = 0, end_packets = 0, send_errors = 0;
  double seconds = 0;  ///< from the first packet to the end of session
};

class ItchServer {
 public:
  /// Maps and indexes the file, opens the sockets. Throws std::runtime_error (or std::invalid_argument
  /// for a bad option) with the reason.
  explicit ItchServer(const ItchServeOptions& o);
  ~ItchServer();
  ItchServer(const ItchServer&) = delete;
  ItchServer& operator=(const ItchServer&) = delete;

  /// Sends the session, then answers requests until the linger has passed or stop(). Progress lines go
  /// to `log`; "itch-serve: sending …" is printed once the sockets are ready.
  ItchServeStats run(const std::atomic<bool>& stop, std::FILE* log);

  [[nodiscard]] std::uint64_t message_count() const noexcept;
  [[nodiscard]] std::string request_endpoint() const;  ///< ADDR:PORT actually bound (port 0 → the one chosen)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickforge
