#include "itch_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include "clock.hpp"
#include "itch.hpp"
#include "itch_packets.hpp"
#include "mapped_file.hpp"
#include "moldudp64.hpp"
#include "xoshiro.hpp"

namespace tickforge {

namespace {

constexpr std::uint64_t kCheckpointEvery = 64;   // messages between two indexed file offsets
constexpr std::size_t kAnswerPackets = 2048;     // packets sent at most for one request (a whole one)
constexpr std::size_t kBatch = 32;               // packets per sendmmsg

sockaddr_in endpoint(const std::string& text, const char* what, bool allow_port_zero) {
  std::string host;
  std::uint16_t port = 0;
  if (!parse_ipv4_endpoint(text, host, port, allow_port_zero)) {
    throw std::invalid_argument(std::string(what) + " '" + text + "': expected ADDR:PORT (IPv4" +
                                (allow_port_zero ? ", port 0: any free one)" : ", port 1-65535)"));
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  return a;
}

}  // namespace

struct ItchServer::Impl {
  ItchServeOptions o;
  MappedFile file;
  itch::FileFramer::Prefixes prefixes = itch::FileFramer::Prefixes::kDetect;
  std::vector<std::uint64_t> checkpoints;  // file offset of message 1 + k × kCheckpointEvery (its record)
  std::uint64_t total = 0;
  mold::Session session{};
  int out_fd = -1, request_fd = -1;
  sockaddr_in to{};
  Xoshiro256ss rng{1};         // the first sending's loss, duplication and reordering
  Xoshiro256ss answer_rng{1};  // answers left unanswered: its own, so requests' timing does not move the loss
  ItchServeStats st;

  // The packets waiting for sendmmsg.
  std::vector<std::uint8_t> bytes;
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iov{};
  std::array<sockaddr_in, kBatch> dest{};
  std::size_t queued = 0;

  ~Impl() {
    if (out_fd >= 0) {
      ::close(out_fd);
    }
    if (request_fd >= 0) {
      ::close(request_fd);
    }
  }

  std::uint8_t* slot(std::size_t k) { return bytes.data() + k * o.packet_bytes; }

  void flush() {
    std::size_t sent = 0;
    while (sent < queued) {
      const int n = ::sendmmsg(out_fd, msgs.data() + sent, static_cast<unsigned>(queued - sent), 0);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        if (errno == ENOBUFS || errno == EAGAIN) {  // the interface queue is full: a moment, then again
          std::this_thread::sleep_for(std::chrono::microseconds(50));
          continue;
        }
        st.send_errors += queued - sent;
        break;
      }
      sent += static_cast<std::size_t>(n);
    }
    queued = 0;
  }

  // Queues slot `queued` (already written, `len` bytes) for `dest_addr`.
  void queue(std::size_t len, int fd, const sockaddr_in& dest_addr) {
    if (fd != out_fd) {  // an answer goes out of the request socket, to the requester
      if (::sendto(fd, slot(queued), len, 0, reinterpret_cast<const sockaddr*>(&dest_addr), sizeof dest_addr) !=
          static_cast<ssize_t>(len)) {
        ++st.send_errors;
      }
      return;
    }
    iov[queued] = iovec{slot(queued), len};
    dest[queued] = dest_addr;
    msgs[queued].msg_hdr = msghdr{};
    msgs[queued].msg_hdr.msg_name = &dest[queued];
    msgs[queued].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    msgs[queued].msg_hdr.msg_iov = &iov[queued];
    msgs[queued].msg_hdr.msg_iovlen = 1;
    if (++queued == kBatch) {
      flush();
    }
  }

  // A framer positioned at message `seq` (1-based).
  itch::FileFramer framer_at(std::uint64_t seq) {
    const std::uint64_t k = (seq - 1) / kCheckpointEvery;
    const std::uint64_t off = checkpoints[k];
    itch::FileFramer f(file.data() + off, file.size() - off, prefixes);
    for (std::uint64_t s = k * kCheckpointEvery + 1; s < seq; ++s) {
      (void)f.next();
    }
    return f;
  }

  // Writes a packet of messages from `seq` (at most `limit`) into `p`; returns its length and count.
  std::size_t build(std::uint8_t* p, itch::FileFramer& f, std::uint64_t seq, std::uint64_t limit, std::uint16_t& count) {
    std::size_t at = mold::kHeaderLength;
    count = 0;
    while (count < limit && seq + count <= total && count < mold::kMaxRequestCount) {
      itch::FileFramer peek = f;
      const itch::FileFramer::Message m = peek.next();
      if (m.data == nullptr || at + 2 + m.size > o.packet_bytes) {
        break;
      }
      mold::put16(p + at, static_cast<std::uint16_t>(m.size));
      std::memcpy(p + at + 2, m.data, m.size);
      at += 2 + m.size;
      ++count;
      f = peek;
    }
    mold::write_header(p, session, seq, count);
    return at;
  }

  void answer(const std::uint8_t* p, std::size_t n, const sockaddr_in& from) {
    mold::Request r;
    if (!mold::parse_request(p, n, r) || r.session != session) {
      ++st.bad_requests;
      return;
    }
    ++st.requests;
    if (st.requests <= o.drop_answers || (o.answer_loss > 0 && answer_rng.uniform() < o.answer_loss)) {
      ++st.unanswered;
      return;
    }
    if (r.sequence > total) {
      return;  // nothing there: the end-of-session packets say where the session ends
    }
    flush();
    itch::FileFramer f = framer_at(r.sequence);
    std::uint64_t seq = r.sequence;
    const std::uint64_t end = std::min<std::uint64_t>(r.sequence + r.count, total + 1);
    for (std::size_t k = 0; k < kAnswerPackets && seq < end; ++k) {
      std::uint16_t count = 0;
      const std::size_t len = build(slot(0), f, seq, end - seq, count);
      if (count == 0) {
        break;
      }
      queue(len, request_fd, from);
      ++st.answer_packets;
      st.answer_messages += count;
      seq += count;
    }
  }

  // Answers what requests have come; waits up to `wait_ns` for the first one.
  void serve_requests(std::int64_t wait_ns) {
    if (request_fd < 0) {
      if (wait_ns > 0) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(wait_ns));
      }
      return;
    }
    pollfd pfd{request_fd, POLLIN, 0};
    const timespec wait{static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
    if (::ppoll(&pfd, 1, &wait, nullptr) <= 0) {
      return;
    }
    for (int i = 0; i < 256; ++i) {
      std::uint8_t b[64];
      sockaddr_in from{};
      socklen_t fl = sizeof from;
      const ssize_t n = ::recvfrom(request_fd, b, sizeof b, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n < 0) {
        break;
      }
      last_request = monotonic_ns();
      answer(b, static_cast<std::size_t>(n), from);
    }
  }

  void send_control(std::uint16_t count) {
    flush();
    std::uint8_t* p = slot(0);
    mold::write_header(p, session, sent_upto, count);  // the next message's number (past the last: the end)
    queue(mold::kHeaderLength, out_fd, to);
    flush();
  }

  std::uint64_t sent_upto = 1;  // the next sequence number of the first sending
  std::int64_t last_request = 0;
};

ItchServer::ItchServer(const ItchServeOptions& opt) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.o = opt;
  // A moldudp64: feed's session slot takes MoldSession::kSlotBytes; 64 bytes hold any ITCH message.
  constexpr std::size_t kLeast = mold::kHeaderLength + 2 + 64;
  if (opt.packet_bytes < kLeast || opt.packet_bytes > MoldSession::kSlotBytes) {
    throw std::invalid_argument("--serve-packet-bytes " + std::to_string(opt.packet_bytes) + ": expected " +
                                std::to_string(kLeast) + ".." + std::to_string(MoldSession::kSlotBytes));
  }
  if (opt.session.empty() || opt.session.size() > mold::kSessionLength) {
    throw std::invalid_argument("--serve-session '" + opt.session + "': 1 to 10 characters");
  }
  m.session = mold::make_session(opt.session);
  m.rng = Xoshiro256ss(opt.seed);
  m.answer_rng = Xoshiro256ss(opt.seed ^ 0x9E3779B97F4A7C15ull);
  m.file = MappedFile(opt.file);
  const std::uint8_t* data = m.file.data();
  const std::size_t size = m.file.size();
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    throw std::runtime_error(opt.file + ": gzip: itch-serve replays plain files (gunzip it first)");
  }
  // Index: the offset of every 64th message's record.
  itch::FileFramer f(data, size);
  for (;;) {
    if (m.total % kCheckpointEvery == 0) {
      m.checkpoints.push_back(size - f.unframed_bytes());
    }
    const itch::FileFramer::Message msg = f.next();
    if (msg.data == nullptr || (opt.max_messages != 0 && m.total == opt.max_messages)) {
      break;
    }
    if (m.total == 0) {
      m.prefixes = f.prefixes();
    }
    if (mold::kHeaderLength + 2 + msg.size > opt.packet_bytes) {
      throw std::invalid_argument(opt.file + ": message " + std::to_string(m.total + 1) + " is " +
                                  std::to_string(msg.size) + " bytes: more than --serve-packet-bytes " +
                                  std::to_string(opt.packet_bytes) + " can carry");
    }
    ++m.total;
  }
  if (*f.error() != '\0' && (opt.max_messages == 0 || m.total < opt.max_messages)) {
    std::fprintf(stderr, "itch-serve: %s: framing stopped at byte %zu (%s): serving the %llu messages before it\n",
                 opt.file.c_str(), f.error_offset(), f.error(), static_cast<unsigned long long>(m.total));
  }
  if (m.total == 0) {
    throw std::runtime_error(opt.file + ": no ITCH message in it");
  }
  m.to = endpoint(opt.to, "--serve-to", false);
  m.out_fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (m.out_fd < 0) {
    throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  }
  const int sndbuf = 4 << 20;
  (void)::setsockopt(m.out_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (is_multicast(m.to.sin_addr)) {
    in_addr ifa{};
    if (inet_pton(AF_INET, opt.interface_address.c_str(), &ifa) != 1) {
      throw std::invalid_argument("--serve-interface '" + opt.interface_address + "': not an IPv4 address");
    }
    const unsigned char ttl = 1, loop = 1;
    if (::setsockopt(m.out_fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof ifa) != 0 ||
        ::setsockopt(m.out_fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0 ||
        ::setsockopt(m.out_fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0) {
      throw std::runtime_error(std::string("multicast on ") + opt.interface_address + ": " + std::strerror(errno));
    }
  }
  if (!opt.requests.empty()) {
    const sockaddr_in r = endpoint(opt.requests, "--serve-requests", true);
    m.request_fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (m.request_fd < 0) {
      throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    }
    const int one = 1;
    (void)::setsockopt(m.request_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(m.request_fd, reinterpret_cast<const sockaddr*>(&r), sizeof r) != 0) {
      throw std::runtime_error("--serve-requests " + opt.requests + ": bind: " + std::strerror(errno));
    }
  }
  m.bytes.resize(kBatch * opt.packet_bytes);
}

ItchServer::~ItchServer() = default;

std::uint64_t ItchServer::message_count() const noexcept { return impl_->total; }

std::string ItchServer::request_endpoint() const {
  if (impl_->request_fd < 0) {
    return "";
  }
  sockaddr_in a{};
  socklen_t l = sizeof a;
  ::getsockname(impl_->request_fd, reinterpret_cast<sockaddr*>(&a), &l);
  char host[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(a.sin_port));
}

ItchServeStats ItchServer::run(const std::atomic<bool>& stop, std::FILE* log) {
  Impl& m = *impl_;
  const ItchServeOptions& o = m.o;
  std::fprintf(log, "itch-serve: sending %llu messages of %s to %s as session '%s'%s%s\n",
               static_cast<unsigned long long>(m.total), o.file.c_str(), o.to.c_str(), o.session.c_str(),
               m.request_fd >= 0 ? ", re-requests on " : " (no re-request server)",
               m.request_fd >= 0 ? request_endpoint().c_str() : "");
  std::fflush(log);
  itch::FileFramer f = m.framer_at(1);
  const std::int64_t t0 = monotonic_ns();
  std::int64_t last_send = t0;
  std::int64_t held_len = -1;  // a packet held back to be sent after the next one (reordering)
  std::vector<std::uint8_t> held(o.packet_bytes);
  std::uint64_t since_requests = 0;
  while (m.sent_upto <= m.total && !stop.load(std::memory_order_relaxed)) {
    if (o.rate > 0) {
      const std::int64_t due = t0 + static_cast<std::int64_t>(static_cast<double>(m.sent_upto - 1) / o.rate * 1e9);
      std::int64_t now = monotonic_ns();
      if (due > now) {
        m.flush();
        while (due > now && !stop.load(std::memory_order_relaxed)) {
          if (now - last_send >= o.heartbeat_ns) {
            m.send_control(0);
            ++m.st.heartbeats;
            last_send = now;
          }
          // Requests are answered while the next packet is not due: the wait is spent in ppoll, up to
          // 50 µs before it is due (the rest is spun, so the pace holds).
          const std::int64_t wait = std::min<std::int64_t>(due - now, 10'000'000);
          m.serve_requests(wait > 100'000 ? wait - 50'000 : 0);
          now = monotonic_ns();
        }
      }
    }
    std::uint16_t count = 0;
    std::uint8_t* p = m.slot(m.queued);
    const std::size_t len = m.build(p, f, m.sent_upto, mold::kMaxRequestCount, count);
    if (count == 0) {
      break;  // cannot happen: the file was framed to `total`, every message fits in a packet
    }
    m.sent_upto += count;
    m.st.messages += count;
    ++m.st.packets;
    const double u = o.loss > 0 || o.duplicate > 0 || o.reorder > 0 ? m.rng.uniform() : 1.0;
    if (u < o.loss) {
      ++m.st.lost;
    } else if (u < o.loss + o.reorder && held_len < 0) {
      std::memcpy(held.data(), p, len);  // goes after the next packet
      held_len = static_cast<std::int64_t>(len);
      ++m.st.reordered;
    } else {
      m.queue(len, m.out_fd, m.to);
      if (u >= o.loss + o.reorder && u < o.loss + o.reorder + o.duplicate) {  // (a reorder drawn while one
                                                                                 // is held goes out once)
        std::memcpy(m.slot(m.queued), p, len);
        m.queue(len, m.out_fd, m.to);
        ++m.st.duplicated;
      }
      if (held_len >= 0) {
        std::memcpy(m.slot(m.queued), held.data(), static_cast<std::size_t>(held_len));
        m.queue(static_cast<std::size_t>(held_len), m.out_fd, m.to);
        held_len = -1;
      }
    }
    last_send = monotonic_ns();
    if (++since_requests == 8 && m.request_fd >= 0) {  // answer requests as the session goes
      since_requests = 0;
      m.flush();
      m.serve_requests(0);
    }
  }
  if (held_len >= 0) {
    std::memcpy(m.slot(m.queued), held.data(), static_cast<std::size_t>(held_len));
    m.queue(static_cast<std::size_t>(held_len), m.out_fd, m.to);
  }
  m.flush();
  m.st.seconds = static_cast<double>(monotonic_ns() - t0) * 1e-9;
  // The end: end-of-session packets at each heartbeat while requests may still come.
  m.last_request = monotonic_ns();
  std::int64_t last_end = 0;
  while (!stop.load(std::memory_order_relaxed) && monotonic_ns() - m.last_request < o.linger_ns) {
    if (monotonic_ns() - last_end >= std::min<std::int64_t>(o.heartbeat_ns, 100'000'000) || m.st.end_packets < 3) {
      m.send_control(mold::kEndOfSessionCount);
      ++m.st.end_packets;
      last_end = monotonic_ns();
    }
    m.serve_requests(m.st.end_packets < 3 ? 1'000'000 : 10'000'000);
  }
  const ItchServeStats& s = m.st;
  std::fprintf(log,
               "itch-serve: sent %llu messages in %llu packets in %.3f s (%.2f M messages/s); injected: %llu lost, "
               "%llu duplicated, %llu reordered; requests %llu (%llu unanswered, %llu malformed), answered with %llu "
               "packets (%llu messages); %llu end-of-session packets, %llu heartbeats%s\n",
               static_cast<unsigned long long>(s.messages), static_cast<unsigned long long>(s.packets), s.seconds,
               s.seconds > 0 ? static_cast<double>(s.messages) / s.seconds / 1e6 : 0.0,
               static_cast<unsigned long long>(s.lost), static_cast<unsigned long long>(s.duplicated),
               static_cast<unsigned long long>(s.reordered), static_cast<unsigned long long>(s.requests),
               static_cast<unsigned long long>(s.unanswered), static_cast<unsigned long long>(s.bad_requests),
               static_cast<unsigned long long>(s.answer_packets), static_cast<unsigned long long>(s.answer_messages),
               static_cast<unsigned long long>(s.end_packets), static_cast<unsigned long long>(s.heartbeats),
               s.send_errors != 0 ? (", " + std::to_string(s.send_errors) + " send errors").c_str() : "");
  std::fflush(log);
  return s;
}

}  // namespace tickforge
