// tickforge — ITCH messages from MoldUDP64 packets: read from a pcap capture (`--feed itch-pcap:FILE`) or
// received live over UDP (`--feed moldudp64:ADDR:PORT`, unicast or a multicast group), put in sequence
// by a MoldSession (moldudp64_session.hpp), gaps requested from a re-request server
// (`--moldudp64-request ADDR:PORT`). The ITCH feed (itch_feed.hpp) pulls the messages one at a time.
//
//   pcap:  libpcap ──▶ Ethernet / Linux cooked / raw IPv4 ──▶ UDP, destination port ──▶ MoldSession
//   live:  recvmmsg (a batch, non-blocking) on the feed socket and the request socket ──▶ MoldSession
//          MoldSession::poll ──request──▶ sendto(re-request server); answers come back to the request socket
//
// Time: a capture runs on its packets' timestamps (a gap waits for reordered packets and is given up in
// capture time; there is nobody to ask), so a replay is deterministic; the live feed on the steady clock.
//
// Bad input is counted, never a crash: frames that are not IPv4/UDP, other ports, IPv4 fragments,
// frames cut short by the capture's snap length, datagrams larger than a session slot, and everything
// the session refuses (malformed packets, another session's, duplicates).
//
// Thread contract: construct on the owning thread (opens the capture or the sockets; throws
// std::runtime_error with the reason); next() on the feed thread; report() after the feed's thread ended.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "feed.hpp"
#include "moldudp64_session.hpp"

namespace tickforge {

struct ItchPacketSpec {
  enum class Transport : std::uint8_t { kPcap, kUdp };
  Transport transport = Transport::kPcap;
  std::string pcap_path;
  std::uint16_t pcap_port = 0;    ///< pcap: the UDP destination port kept (0: every UDP datagram)
  std::string address;            ///< live: the address to listen on (a multicast group is joined)
  std::uint16_t port = 0;
  std::string interface_address = "0.0.0.0";  ///< live multicast: the interface joined on
  std::string request_address;    ///< live: the re-request server (empty: none; gaps are given up)
  std::uint16_t request_port = 0;
  std::uint32_t receive_buffer = 8u << 20;  ///< SO_RCVBUF of the feed socket (bytes)
  MoldSessionOptions session;
};

/// "239.1.1.1:26477" → host and port. False unless the host is a dotted IPv4 address and the port 1..65535
/// (or 0, "any free port", when allowed).
bool parse_ipv4_endpoint(const std::string& text, std::string& host, std::uint16_t& port, bool allow_port_zero = false);

/// A multicast group (224.0.0.0/4)?
[[nodiscard]] inline bool is_multicast(const in_addr& a) noexcept { return (ntohl(a.s_addr) >> 28) == 0xE; }

/// The capture time of the first packet of a pcap file, ns since the epoch (−1 when it has none).
/// Throws std::runtime_error when libpcap cannot open it.
std::int64_t pcap_first_packet_ns(const std::string& path);

class ItchPackets {
 public:
  explicit ItchPackets(const ItchPacketSpec& spec);
  ~ItchPackets();
  ItchPackets(const ItchPackets&) = delete;
  ItchPackets& operator=(const ItchPackets&) = delete;

  struct Next {
    const std::uint8_t* data;  ///< the next ITCH message in sequence; nullptr: none now
    std::size_t size;
    bool ended;                ///< with nullptr: none will come (end of session, capture read, or stopped on a gap)
  };
  /// The next message. Receives (a batch) or reads (a capture) only when the session has none ready.
  Next next() noexcept;

  [[nodiscard]] std::string label() const;
  /// The transport's and the session's figures (appended to the ITCH feed's).
  void report(FeedReport& out) const;
  [[nodiscard]] const MoldSession& session() const noexcept { return session_; }

  /// Refused input by reason (names for rejects()), live: single writer, relaxed.
  [[nodiscard]] std::uint64_t malformed_packets() const noexcept { return malformed_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t lost_messages() const noexcept { return lost_.load(std::memory_order_relaxed); }

 private:
  struct Udp;
  struct Pcap;
  std::size_t receive_udp(std::int64_t now) noexcept;
  std::size_t read_pcap() noexcept;
  void publish_counts() noexcept;

  ItchPacketSpec spec_;
  MoldSession session_;
  std::unique_ptr<Udp> udp_;
  std::unique_ptr<Pcap> pcap_;
  std::int64_t now_ = 0;  // the session's clock: the last capture timestamp, or the steady clock
  bool input_ended_ = false;
  std::vector<std::uint8_t> pending_;  // pcap: a packet the full window refused, offered again
  std::int64_t first_ns_ = -1, last_ns_ = -1;  // steady clock of the first and last datagram (live)

  // Transport figures (feed thread).
  std::uint64_t datagrams_ = 0, frames_ = 0, not_udp_ = 0, other_port_ = 0, fragments_ = 0, cut_short_ = 0;
  std::uint64_t request_errors_ = 0, receive_errors_ = 0, answers_ = 0, oversize_ = 0;
  std::string pcap_error_;  // libpcap's reason when reading the capture failed
  std::atomic<std::uint64_t> malformed_{0};
  std::atomic<std::uint64_t> lost_{0};
};

}  // namespace tickforge
