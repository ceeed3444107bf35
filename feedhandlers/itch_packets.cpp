#include "itch_packets.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "clock.hpp"

namespace tickforge {

namespace {

constexpr std::size_t kBatch = 32;                          // datagrams per recvmmsg, packets per capture read
constexpr std::size_t kBuffer = MoldSession::kSlotBytes + 1;  // one byte more: a longer datagram shows as cut

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

bool parse_ipv4_endpoint(const std::string& text, std::string& host, std::uint16_t& port, bool allow_port_zero) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() || text.size() - colon - 1 > 5) {
    return false;
  }
  unsigned long p = 0;
  for (std::size_t i = colon + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
    p = p * 10 + static_cast<unsigned long>(text[i] - '0');
  }
  in_addr a{};
  const std::string h = text.substr(0, colon);
  if ((p == 0 && !allow_port_zero) || p > 65535 || inet_pton(AF_INET, h.c_str(), &a) != 1) {
    return false;
  }
  host = h;
  port = static_cast<std::uint16_t>(p);
  return true;
}

struct ItchPackets::Pcap {
  pcap_t* handle = nullptr;
  int link = 0;
  ~Pcap() {
    if (handle != nullptr) {
      pcap_close(handle);
    }
  }
};

namespace {

void set_receive_buffer(int fd, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
}

pcap_t* open_capture(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* h = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (h == nullptr) {
    // libpcap's message names the file itself when the file cannot be opened; not when it is no capture.
    const std::string why(err);
    throw std::runtime_error(why.rfind(path, 0) == 0 ? "itch-pcap: " + why : "itch-pcap: " + path + ": " + why);
  }
  return h;
}

}  // namespace

std::int64_t pcap_first_packet_ns(const std::string& path) {
  const std::unique_ptr<pcap_t, void (*)(pcap_t*)> p(open_capture(path), &pcap_close);
  pcap_pkthdr* h = nullptr;
  const std::uint8_t* data = nullptr;
  if (pcap_next_ex(p.get(), &h, &data) != 1) {
    return -1;
  }
  return static_cast<std::int64_t>(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec;  // nanosecond precision
}

struct ItchPackets::Udp {
  int fd = -1;          // the feed: unicast or a group
  int request_fd = -1;  // requests go out and answers come back here
  sockaddr_in server{};
  int receive_buffer = 0;  // what the kernel granted
  bool multicast = false;
  // One batch per socket; `pos` is the next datagram not yet offered (a full window without a server
  // keeps the rest of the batch until next() has drained the session).
  struct Batch {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov{};
    std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(kBatch * kBuffer);
    unsigned n = 0, pos = 0;
    Batch() {
      for (std::size_t i = 0; i < kBatch; ++i) {
        iov[i] = iovec{bytes.data() + i * kBuffer, kBuffer};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
    }
  };
  Batch feed, answers;
  ~Udp() {
    if (fd >= 0) {
      ::close(fd);
    }
    if (request_fd >= 0) {
      ::close(request_fd);
    }
  }
};

ItchPackets::ItchPackets(const ItchPacketSpec& spec) : spec_(spec), session_([&] {
  MoldSessionOptions o = spec.session;
  o.can_request = spec.transport == ItchPacketSpec::Transport::kUdp && !spec.request_address.empty();
  return o;
}()) {
  if (spec.transport == ItchPacketSpec::Transport::kPcap) {
    pcap_ = std::make_unique<Pcap>();
    pcap_->handle = open_capture(spec.pcap_path);
    pcap_->link = pcap_datalink(pcap_->handle);
    pending_.reserve(mold::kMaxDatagram);
    if (pcap_->link != DLT_EN10MB && pcap_->link != DLT_LINUX_SLL && pcap_->link != DLT_RAW &&
        pcap_->link != DLT_IPV4 && pcap_->link != DLT_NULL && pcap_->link != DLT_LOOP) {
      throw std::runtime_error(spec.pcap_path + ": link type " + std::to_string(pcap_->link) + " (" +
                               (pcap_datalink_val_to_name(pcap_->link) != nullptr ? pcap_datalink_val_to_name(pcap_->link) : "?") +
                               ") is not Ethernet, Linux cooked, BSD loopback or raw IPv4");
    }
    return;
  }
  udp_ = std::make_unique<Udp>();
  Udp& u = *udp_;
  in_addr listen{};
  if (inet_pton(AF_INET, spec.address.c_str(), &listen) != 1) {
    throw std::runtime_error("moldudp64:" + spec.address + ": not an IPv4 address");
  }
  u.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (u.fd < 0) {
    throw std::runtime_error(errno_text("socket"));
  }
  const int one = 1;
  (void)::setsockopt(u.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // A deep receive buffer rides out the engine's hiccups; SO_RCVBUFFORCE passes rmem_max when allowed.
  const int want = static_cast<int>(spec.receive_buffer);
  set_receive_buffer(u.fd, want);
  socklen_t len = sizeof u.receive_buffer;
  (void)::getsockopt(u.fd, SOL_SOCKET, SO_RCVBUF, &u.receive_buffer, &len);
  u.multicast = is_multicast(listen);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(spec.port);
  addr.sin_addr = listen;  // a group: bound to the group, so only its datagrams arrive
  if (::bind(u.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error(errno_text(("moldudp64: bind " + spec.address + ":" + std::to_string(spec.port)).c_str()));
  }
  if (u.multicast) {
    ip_mreq m{};
    m.imr_multiaddr = listen;
    if (inet_pton(AF_INET, spec.interface_address.c_str(), &m.imr_interface) != 1) {
      throw std::runtime_error("--moldudp64-interface " + spec.interface_address + ": not an IPv4 address");
    }
    if (::setsockopt(u.fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0) {
      throw std::runtime_error(errno_text(("moldudp64: joining " + spec.address + " on " + spec.interface_address).c_str()));
    }
  }
  if (!spec.request_address.empty()) {
    u.server.sin_family = AF_INET;
    u.server.sin_port = htons(spec.request_port);
    if (inet_pton(AF_INET, spec.request_address.c_str(), &u.server.sin_addr) != 1) {
      throw std::runtime_error("--moldudp64-request " + spec.request_address + ": not an IPv4 address");
    }
    u.request_fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (u.request_fd < 0) {
      throw std::runtime_error(errno_text("socket"));
    }
    set_receive_buffer(u.request_fd, want);  // answers come in bursts of packets
  }
}

ItchPackets::~ItchPackets() = default;

std::size_t ItchPackets::read_pcap() noexcept {
  Pcap& c = *pcap_;
  std::size_t n = 0;
  while (n < kBatch) {
    pcap_pkthdr* h = nullptr;
    const std::uint8_t* d = nullptr;
    const int rc = pcap_next_ex(c.handle, &h, &d);
    if (rc != 1) {  // -2: end of the file; -1: an error (a truncated capture): both end the input
      input_ended_ = true;
      if (rc == -1) {
        ++receive_errors_;
        pcap_error_ = pcap_geterr(c.handle);  // once, at the end of the input
      }
      break;
    }
    ++frames_;
    ++n;
    now_ = static_cast<std::int64_t>(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec;
    std::size_t at = 0;
    const std::size_t cap = h->caplen;
    bool ipv4 = false;
    switch (c.link) {
      case DLT_EN10MB: {
        at = 12;
        while (cap >= at + 2 && (mold::get16(d + at) == 0x8100 || mold::get16(d + at) == 0x88A8)) {
          at += 4;  // VLAN tags
        }
        ipv4 = cap >= at + 2 && mold::get16(d + at) == 0x0800;
        at += 2;
        break;
      }
      case DLT_LINUX_SLL:
        ipv4 = cap >= 16 && mold::get16(d + 14) == 0x0800;
        at = 16;
        break;
      case DLT_NULL:
      case DLT_LOOP: {
        if (cap >= 4) {
          std::uint32_t family = 0;
          std::memcpy(&family, d, 4);
          ipv4 = family == 2 || family == 0x02000000;  // AF_INET in either byte order
        }
        at = 4;
        break;
      }
      default:  // raw IPv4
        ipv4 = cap >= 1 && (d[0] >> 4) == 4;
        break;
    }
    if (!ipv4 || cap < at + 20 || (d[at] >> 4) != 4 || d[at + 9] != 17) {
      ++not_udp_;
      continue;
    }
    const std::size_t ihl = std::size_t{d[at] & 0x0Fu} * 4;
    if ((mold::get16(d + at + 6) & 0x3FFF) != 0) {  // more fragments, or an offset
      ++fragments_;
      continue;
    }
    if (ihl < 20 || cap < at + ihl + 8) {
      ++cut_short_;
      continue;
    }
    const std::uint8_t* udp = d + at + ihl;
    if (spec_.pcap_port != 0 && mold::get16(udp + 2) != spec_.pcap_port) {
      ++other_port_;
      continue;
    }
    const std::size_t udp_len = mold::get16(udp + 4);
    if (udp_len < 8 || cap < at + ihl + udp_len) {
      ++cut_short_;  // the snap length cut it, or a broken length
      continue;
    }
    const MoldSession::Offer o = session_.offer(udp + 8, udp_len - 8, now_);
    ++datagrams_;
    if (o == MoldSession::Offer::kFull) {
      // The window is full behind a gap that was just given up. libpcap reuses its buffer at the next
      // read, so the packet waits in a copy until next() has drained the held ones (within the
      // capacity reserved at construction: no allocation).
      pending_.assign(udp + 8, udp + udp_len);
      break;
    }
  }
  mold::Request r;
  (void)session_.poll(now_, r);  // no server: only gives gaps up once they have waited
  publish_counts();
  return n;
}

std::size_t ItchPackets::receive_udp(std::int64_t now) noexcept {
  Udp& u = *udp_;
  std::size_t got = 0;
  auto drain_socket = [&](int fd, Udp::Batch& b, bool answers) {
    if (fd < 0) {
      return;
    }
    if (b.pos == b.n) {
      const int n = ::recvmmsg(fd, b.msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        receive_errors_ += errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
        b.n = b.pos = 0;
        return;
      }
      b.n = static_cast<unsigned>(n);
      b.pos = 0;
    }
    for (; b.pos < b.n; ++b.pos) {
      const mmsghdr& m = b.msgs[b.pos];
      const std::uint8_t* p = b.bytes.data() + std::size_t{b.pos} * kBuffer;
      ++datagrams_;
      answers_ += answers;
      if (first_ns_ < 0) {
        first_ns_ = now;
      }
      last_ns_ = now;
      if ((m.msg_hdr.msg_flags & MSG_TRUNC) != 0 || m.msg_len >= kBuffer) {
        ++oversize_;  // larger than a session slot: its messages will be missing (a gap)
        continue;
      }
      if (session_.offer(p, m.msg_len, now) == MoldSession::Offer::kFull) {
        --datagrams_;  // offered again once next() has drained the held packets
        answers_ -= answers;
        break;
      }
      ++got;
    }
  };
  drain_socket(u.fd, u.feed, false);
  drain_socket(u.request_fd, u.answers, true);
  publish_counts();
  return got;
}

ItchPackets::Next ItchPackets::next() noexcept {
  for (int round = 0; round < 4; ++round) {
    const MoldSession::Message m = session_.next(now_);
    if (m.data != nullptr) {
      return Next{m.data, m.size, false};
    }
    if (session_.ended()) {
      publish_counts();
      return Next{nullptr, 0, true};
    }
    if (pcap_ != nullptr) {
      if (!pending_.empty()) {
        if (session_.offer(pending_.data(), pending_.size(), now_) != MoldSession::Offer::kFull) {
          pending_.clear();  // keeps its capacity: no allocation the next time
        }  // still full: the session gave a gap up to make room; drain, then offer it again
        continue;
      }
      if (!input_ended_) {
        (void)read_pcap();
        continue;
      }
      if (session_.give_up_gap()) {  // the capture ended with messages missing
        publish_counts();
        continue;
      }
      publish_counts();
      return Next{nullptr, 0, true};
    }
    now_ = now_ns();
    mold::Request r;
    if (session_.poll(now_, r)) {
      std::uint8_t b[mold::kHeaderLength];
      mold::write_request(b, r);
      const ssize_t sent = ::sendto(udp_->request_fd, b, sizeof b, MSG_DONTWAIT,
                                    reinterpret_cast<const sockaddr*>(&udp_->server), sizeof udp_->server);
      request_errors_ += sent != static_cast<ssize_t>(sizeof b);  // counted as sent by the session all the same
      continue;
    }
    if (receive_udp(now_) == 0) {
      const MoldSession::Message again = session_.next(now_);  // a gap given up by poll()
      if (again.data != nullptr) {
        return Next{again.data, again.size, false};
      }
      return Next{nullptr, 0, session_.ended()};
    }
  }
  return Next{nullptr, 0, false};
}

void ItchPackets::publish_counts() noexcept {
  const MoldCounters& c = session_.counters();
  malformed_.store(c.malformed + c.other_session + c.far_ahead + c.oversize + cut_short_ + oversize_,
                   std::memory_order_relaxed);
  lost_.store(c.messages_lost, std::memory_order_relaxed);
}

std::string ItchPackets::label() const {
  if (pcap_ != nullptr) {
    return "itch-pcap " + spec_.pcap_path + (spec_.pcap_port != 0 ? " (udp port " + std::to_string(spec_.pcap_port) + ")" : "");
  }
  return "moldudp64 " + spec_.address + ":" + std::to_string(spec_.port) +
         (spec_.request_address.empty() ? " (no re-request server)"
                                        : " (re-requests to " + spec_.request_address + ":" + std::to_string(spec_.request_port) + ")");
}

void ItchPackets::report(FeedReport& out) const {
  const MoldCounters& c = session_.counters();
  const std::pair<const char*, std::uint64_t> figures[] = {
      {"datagrams", datagrams_},
      {"frames", frames_},
      {"not_udp", not_udp_},
      {"other_port", other_port_},
      {"ip_fragments", fragments_},
      {"cut_short", cut_short_},
      {"oversize_datagrams", oversize_},
      {"receive_errors", receive_errors_},
      {"mold_packets", c.message_packets},
      {"mold_messages", c.messages},
      {"heartbeats", c.heartbeats},
      {"end_of_session_packets", c.end_packets},
      {"duplicate_packets", c.duplicate_packets},
      {"duplicate_messages", c.duplicate_messages},
      {"held_packets", c.held},
      {"malformed_packets", c.malformed},
      {"other_session_packets", c.other_session},
      {"far_ahead_packets", c.far_ahead},
      {"oversize_packets", c.oversize},
      {"window_full", c.window_full},
      {"gaps", c.gaps},
      {"gaps_filled", c.gaps_filled},
      {"gaps_lost", c.gaps_lost},
      {"messages_lost", c.messages_lost},
      {"requests", c.requests},
      {"requests_resent", c.requests_resent},
      {"requests_ahead", c.requests_ahead},
      {"retransmitted_datagrams", answers_},
  };
  for (const auto& [name, v] : figures) {
    out.counts.emplace_back(name, v);
  }
  std::string line = "  moldudp64: " + std::to_string(c.messages) + " messages in sequence";
  if (session_.has_session()) {
    line += " (session '" + std::string(mold::session_name(session_.session())) + "', next " +
            std::to_string(session_.next_expected()) + ")";
  }
  line += ", " + std::to_string(datagrams_) + " datagrams; " + std::to_string(c.duplicate_packets) +
          " duplicate packets, " + std::to_string(c.held) + " held behind a gap; " + std::to_string(c.gaps) +
          " gaps: " + std::to_string(c.gaps_filled) + " filled, " + std::to_string(c.gaps_lost) + " given up (" +
          std::to_string(c.messages_lost) + " messages)";
  out.lines.push_back(line);
  if (udp_ != nullptr) {
    out.lines.push_back("  requests: " + std::to_string(c.requests) + " sent (" + std::to_string(c.requests_ahead) +
                        " for holes behind the first gap), " + std::to_string(c.requests_resent) +
                        " sent again after a timeout, " + std::to_string(answers_) + " datagrams answered them" +
                        (request_errors_ != 0 ? ", " + std::to_string(request_errors_) + " could not be sent" : "") +
                        "; receive buffer " + std::to_string(udp_->receive_buffer) + " bytes");
  } else {
    out.lines.push_back("  capture: " + std::to_string(frames_) + " frames; skipped " + std::to_string(not_udp_) +
                        " not IPv4/UDP, " + std::to_string(other_port_) + " other ports, " + std::to_string(fragments_) +
                        " IP fragments, " + std::to_string(cut_short_) + " cut short");
  }
  const std::vector<std::int64_t>& lat = session_.fill_latencies();
  if (!lat.empty()) {
    std::vector<std::int64_t> sorted = lat;
    std::sort(sorted.begin(), sorted.end());
    char text[160];
    std::snprintf(text, sizeof text, "  gap fill latency (%zu gaps): median %.1f us, p99 %.1f us, max %.1f us",
                  sorted.size(), static_cast<double>(sorted[sorted.size() / 2]) * 1e-3,
                  static_cast<double>(sorted[std::min(sorted.size() - 1, sorted.size() * 99 / 100)]) * 1e-3,
                  static_cast<double>(sorted.back()) * 1e-3);
    out.lines.push_back(text);
    out.counts.emplace_back("gap_fill_median_ns", static_cast<std::uint64_t>(sorted[sorted.size() / 2]));
    out.counts.emplace_back("gap_fill_max_ns", static_cast<std::uint64_t>(sorted.back()));
  }
  if (c.gaps_lost != 0) {
    std::string lost = "  messages given up:";
    for (std::uint64_t k = 0; k < c.gaps_lost && k < MoldSession::kLostKept; ++k) {
      const MoldGap& g = session_.lost()[k];
      lost += " [" + std::to_string(g.from) + ", " + std::to_string(g.to) + ")";
    }
    out.lines.push_back(lost + (c.gaps_lost > MoldSession::kLostKept ? " …" : ""));
  }
  if (c.malformed != 0) {
    out.lines.push_back("  " + std::to_string(c.malformed) + " malformed packets refused (the last: " +
                        mold::to_string(session_.malformed_status()) + ")");
  }
  if (oversize_ != 0) {
    out.lines.push_back("  " + std::to_string(oversize_) + " datagrams larger than a " +
                        std::to_string(MoldSession::kSlotBytes) + "-byte session slot refused");
  }
  if (receive_errors_ != 0 && pcap_error_.empty()) {
    out.lines.push_back("  " + std::to_string(receive_errors_) + " receive errors on the sockets");
  }
  if (!pcap_error_.empty()) {
    out.ended_early = "the capture is cut short or corrupt: " + pcap_error_;
  } else if (session_.stopped_on_gap()) {
    out.ended_early = "a gap could not be filled and --moldudp64-gap-policy is stop";
  } else if (udp_ != nullptr && !session_.ended()) {
    out.ended_early = "the session had not ended (no end-of-session packet by then)";
  }
  if (first_ns_ >= 0 && last_ns_ > first_ns_) {
    char rate[96];
    const double s = static_cast<double>(last_ns_ - first_ns_) * 1e-9;
    std::snprintf(rate, sizeof rate, "  received over %.1f ms: %.2f M messages/s", s * 1e3,
                  static_cast<double>(c.messages) / s / 1e6);
    out.lines.push_back(rate);
  }
}

}  // namespace tickforge
