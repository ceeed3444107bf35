// MoldUDP64: the packet format (parsers/moldudp64.hpp) and the subscriber's session
// (feedhandlers/moldudp64_session.hpp): loss, duplication, reordering, a lost retransmission, the end of
// the session, heartbeats, malformed packets, a full window. Time is a counter the test advances.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "moldudp64.hpp"
#include "moldudp64_session.hpp"

namespace tickforge {
namespace {

constexpr std::int64_t kMs = 1'000'000;

// A packet of messages first..first+count-1; message k's bytes are "m<k>" (so delivery is checkable).
std::vector<std::uint8_t> packet(std::uint64_t first, std::uint16_t count, const char* session = "TEST01") {
  std::vector<std::uint8_t> p(mold::kHeaderLength);
  mold::write_header(p.data(), mold::make_session(session), first, count);
  for (std::uint64_t k = first; k < first + count; ++k) {
    std::string body = "m";
    body += std::to_string(k);
    p.push_back(0);
    p.push_back(static_cast<std::uint8_t>(body.size()));
    p.insert(p.end(), body.begin(), body.end());
  }
  return p;
}
std::vector<std::uint8_t> heartbeat(std::uint64_t next) {
  std::vector<std::uint8_t> p(mold::kHeaderLength);
  mold::write_header(p.data(), mold::make_session("TEST01"), next, 0);
  return p;
}
std::vector<std::uint8_t> end_of_session(std::uint64_t next) {
  std::vector<std::uint8_t> p(mold::kHeaderLength);
  mold::write_header(p.data(), mold::make_session("TEST01"), next, mold::kEndOfSessionCount);
  return p;
}

MoldSession::Offer offer(MoldSession& s, const std::vector<std::uint8_t>& p, std::int64_t now = 0) {
  return s.offer(p.data(), p.size(), now);
}

// Every message deliverable now, as their sequence numbers; checks each one's bytes.
std::vector<std::uint64_t> drain(MoldSession& s, std::int64_t now = 0) {
  std::vector<std::uint64_t> out;
  for (MoldSession::Message m = s.next(now); m.data != nullptr; m = s.next(now)) {
    const std::string body(reinterpret_cast<const char*>(m.data), m.size);
    std::string want = "m";
    want += std::to_string(m.sequence);
    EXPECT_EQ(body, want);
    out.push_back(m.sequence);
  }
  return out;
}

std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t k = from; k < to; ++k) {
    v.push_back(k);
  }
  return v;
}

MoldSessionOptions options() {
  MoldSessionOptions o;
  o.window = 16;
  o.gap_wait_ns = 1 * kMs;
  o.request_timeout_ns = 10 * kMs;
  o.retries = 2;
  return o;
}

TEST(MoldPacket, ShouldReadAHeaderAndItsBlocks) {
  const auto p = packet(41, 3, "NASDAQ");
  mold::Packet pk;
  ASSERT_EQ(mold::parse_packet(p.data(), p.size(), pk), mold::PacketStatus::kOk);
  EXPECT_EQ(mold::session_name(pk.session), "NASDAQ");
  EXPECT_EQ(pk.sequence, 41u);
  EXPECT_EQ(pk.count, 3u);
  EXPECT_EQ(pk.kind, mold::PacketKind::kMessages);
  // Bytes as the specification lays them out: session padded with spaces, big-endian fields.
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(p.data()), 10), "NASDAQ    ");
  EXPECT_EQ(p[17], 41);
  EXPECT_EQ(p[19], 3);
  EXPECT_EQ(p[20], 0);
  EXPECT_EQ(p[21], 3);  // "m41"
  mold::BlockReader r(pk.blocks, pk.blocks_size);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.next().data), 3), "m41");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.next().data), 3), "m42");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.next().data), 3), "m43");
  EXPECT_EQ(r.next().data, nullptr);
}

TEST(MoldPacket, ShouldRefuseMalformedPackets) {
  mold::Packet pk;
  auto p = packet(1, 2);
  EXPECT_EQ(mold::parse_packet(p.data(), 19, pk), mold::PacketStatus::kShort);
  EXPECT_EQ(mold::parse_packet(p.data(), p.size() - 1, pk), mold::PacketStatus::kBlockOverrun);
  EXPECT_EQ(mold::parse_packet(p.data(), p.size() - 4, pk), mold::PacketStatus::kCountMismatch);  // one block gone
  auto longer = p;
  longer.push_back(7);
  EXPECT_EQ(mold::parse_packet(longer.data(), longer.size(), pk), mold::PacketStatus::kTrailing);
  auto hb = heartbeat(5);
  hb.push_back(0);
  EXPECT_EQ(mold::parse_packet(hb.data(), hb.size(), pk), mold::PacketStatus::kTrailing);
  auto wrap = packet(UINT64_MAX, 2);
  EXPECT_EQ(mold::parse_packet(wrap.data(), wrap.size(), pk), mold::PacketStatus::kSequenceWrap);
  const auto eos = end_of_session(9);
  ASSERT_EQ(mold::parse_packet(eos.data(), eos.size(), pk), mold::PacketStatus::kOk);
  EXPECT_EQ(pk.kind, mold::PacketKind::kEndOfSession);
  EXPECT_EQ(pk.sequence, 9u);
}

TEST(MoldPacket, ShouldReadAndWriteRequests) {
  std::uint8_t b[20];
  mold::write_request(b, mold::Request{mold::make_session("S1"), 1234567890123ull, 77});
  mold::Request r;
  ASSERT_TRUE(mold::parse_request(b, 20, r));
  EXPECT_EQ(mold::session_name(r.session), "S1");
  EXPECT_EQ(r.sequence, 1234567890123ull);
  EXPECT_EQ(r.count, 77u);
  EXPECT_FALSE(mold::parse_request(b, 19, r));
  mold::write_request(b, mold::Request{mold::make_session("S1"), 0, 77});
  EXPECT_FALSE(mold::parse_request(b, 20, r));  // sequence numbers start at 1
  mold::write_request(b, mold::Request{mold::make_session("S1"), 5, 0});
  EXPECT_FALSE(mold::parse_request(b, 20, r));
}

TEST(MoldSession, ShouldDeliverInOrderPacketsAndEndAtTheEndOfSession) {
  MoldSession s(options());
  EXPECT_EQ(offer(s, packet(1, 3)), MoldSession::Offer::kAccepted);
  EXPECT_EQ(drain(s), range(1, 4));
  EXPECT_EQ(offer(s, packet(4, 2)), MoldSession::Offer::kAccepted);
  EXPECT_EQ(drain(s), range(4, 6));
  EXPECT_FALSE(s.ended());
  EXPECT_EQ(offer(s, end_of_session(6)), MoldSession::Offer::kAccepted);
  EXPECT_TRUE(s.ended());
  mold::Request r;
  EXPECT_FALSE(s.poll(100 * kMs, r));
  EXPECT_EQ(s.counters().messages, 5u);
  EXPECT_EQ(s.counters().gaps, 0u);
  EXPECT_EQ(mold::session_name(s.session()), "TEST01");
}

TEST(MoldSession, ShouldDropDuplicatesAndOverlaps) {
  MoldSession s(options());
  offer(s, packet(1, 3));
  EXPECT_EQ(drain(s), range(1, 4));
  EXPECT_EQ(offer(s, packet(1, 3)), MoldSession::Offer::kDuplicate);
  EXPECT_EQ(offer(s, packet(2, 4)), MoldSession::Offer::kAccepted);  // 2 and 3 seen, 4 and 5 new
  EXPECT_EQ(drain(s), range(4, 6));
  EXPECT_EQ(s.counters().duplicate_packets, 1u);
  EXPECT_EQ(s.counters().duplicate_messages, 2u);
  // The same packet held twice behind a gap is delivered once.
  offer(s, packet(8, 2));
  offer(s, packet(8, 2));
  EXPECT_TRUE(drain(s).empty());
  offer(s, packet(6, 2));
  EXPECT_EQ(drain(s), range(6, 10));
  EXPECT_EQ(s.counters().duplicate_packets, 2u);
}

TEST(MoldSession, ShouldReorderWithinTheWindowWithoutARequest) {
  MoldSession s(options());
  offer(s, packet(1, 2), 0);
  EXPECT_EQ(drain(s), range(1, 3));
  offer(s, packet(5, 2), 0);  // 3-4 late
  offer(s, packet(7, 1), 0);
  EXPECT_TRUE(drain(s).empty());
  mold::Request r;
  EXPECT_FALSE(s.poll(kMs / 2, r));  // within gap_wait: no request yet
  offer(s, packet(3, 2), kMs / 2);
  EXPECT_EQ(drain(s, kMs / 2 + 10), range(3, 8));
  EXPECT_FALSE(s.poll(2 * kMs, r));
  EXPECT_EQ(s.counters().requests, 0u);
  EXPECT_EQ(s.counters().held, 2u);
  EXPECT_EQ(s.counters().gaps, 1u);
  EXPECT_EQ(s.counters().gaps_filled, 1u);
  ASSERT_EQ(s.fill_latencies().size(), 1u);
  EXPECT_EQ(s.fill_latencies()[0], kMs / 2 + 10);  // from the drain that saw it to the one that filled it
}

TEST(MoldSession, ShouldRequestAGapAndDeliverTheRetransmission) {
  MoldSession s(options());
  offer(s, packet(1, 2));
  drain(s);
  offer(s, packet(10, 2), 0);  // 3..9 lost
  mold::Request r;
  EXPECT_FALSE(s.poll(0, r));
  ASSERT_TRUE(s.poll(kMs, r));  // gap_wait passed
  EXPECT_EQ(r.sequence, 3u);
  EXPECT_EQ(r.count, 7u);
  EXPECT_EQ(mold::session_name(r.session), "TEST01");
  EXPECT_FALSE(s.poll(2 * kMs, r));  // one request in flight: no duplicate
  // The server answers in two packets; the first one is partial progress.
  offer(s, packet(3, 4), 3 * kMs);
  EXPECT_EQ(drain(s, 3 * kMs), range(3, 7));
  EXPECT_FALSE(s.poll(3 * kMs, r));
  offer(s, packet(7, 3), 4 * kMs);
  EXPECT_EQ(drain(s, 4 * kMs), range(7, 12));
  EXPECT_FALSE(s.poll(100 * kMs, r));
  EXPECT_EQ(s.counters().requests, 1u);
  EXPECT_EQ(s.counters().requests_resent, 0u);
  EXPECT_EQ(s.counters().gaps_filled, 1u);
  EXPECT_EQ(s.counters().messages_lost, 0u);
  ASSERT_EQ(s.fill_latencies().size(), 1u);
  EXPECT_EQ(s.fill_latencies()[0], 4 * kMs);
}

TEST(MoldSession, ShouldAskForHolesBehindTheFirstGapWithoutWaitingForItsAnswer) {
  MoldSession s(options());  // gap_wait 1 ms, timeout 10 ms
  offer(s, packet(1, 2), 0);
  drain(s);
  offer(s, packet(5, 2), 0);  // 3-4 missing, seen at 0
  EXPECT_TRUE(drain(s, 0).empty());
  mold::Request r;
  ASSERT_TRUE(s.poll(kMs, r));
  EXPECT_EQ(r.sequence, 3u);
  EXPECT_EQ(r.count, 2u);
  offer(s, packet(9, 1), kMs);            // 7-8 missing, seen at 1 ms
  offer(s, packet(12, 1), 3 * kMs / 2);   // 10-11 missing, seen at 1.5 ms
  offer(s, packet(14, 1), 3 * kMs / 2);   // 13 missing: a reordered packet comes for it
  offer(s, packet(13, 1), 3 * kMs / 2);
  EXPECT_FALSE(s.poll(kMs + kMs / 2, r));  // the first's request is in flight; the others are young
  ASSERT_TRUE(s.poll(2 * kMs, r));          // 7-8 has waited its gap_wait: asked for at once
  EXPECT_EQ(r.sequence, 7u);
  EXPECT_EQ(r.count, 2u);
  EXPECT_FALSE(s.poll(2 * kMs, r));         // 10-11 not yet
  ASSERT_TRUE(s.poll(5 * kMs / 2, r));
  EXPECT_EQ(r.sequence, 10u);
  EXPECT_EQ(r.count, 2u);
  EXPECT_FALSE(s.poll(3 * kMs, r));         // 13 came: no request for it
  // The answers, the last first.
  offer(s, packet(10, 2), 3 * kMs);
  offer(s, packet(7, 2), 3 * kMs);
  EXPECT_TRUE(drain(s, 3 * kMs).empty());   // 3-4 still missing
  offer(s, packet(3, 2), 4 * kMs);
  EXPECT_EQ(drain(s, 4 * kMs), range(3, 15));
  EXPECT_FALSE(s.poll(100 * kMs, r));
  EXPECT_EQ(s.counters().requests, 3u);
  EXPECT_EQ(s.counters().requests_ahead, 2u);
  EXPECT_EQ(s.counters().requests_resent, 0u);
  EXPECT_EQ(s.counters().gaps_lost, 0u);
}

TEST(MoldSession, ShouldTakeAHoleAskedForEarlyAsTheGapsRequestWhenItComesFirst) {
  MoldSession s(options());  // 2 retries, 10 ms timeout
  offer(s, packet(1, 1), 0);
  drain(s);
  offer(s, packet(3, 1), 0);  // 2 missing
  EXPECT_TRUE(drain(s, 0).empty());
  mold::Request r;
  ASSERT_TRUE(s.poll(kMs, r));
  EXPECT_EQ(r.sequence, 2u);
  offer(s, packet(5, 1), kMs);  // 4 missing
  ASSERT_TRUE(s.poll(2 * kMs, r));
  EXPECT_EQ(r.sequence, 4u);
  offer(s, packet(2, 1), 3 * kMs);  // the first answer; 4's is lost
  EXPECT_EQ(drain(s, 3 * kMs), range(2, 4));
  // 4 is the first gap now, its request 1 ms old: no second request before its timeout ...
  EXPECT_FALSE(s.poll(3 * kMs, r));
  EXPECT_FALSE(s.poll(11 * kMs, r));
  // ... then it is sent again, as a retry.
  ASSERT_TRUE(s.poll(12 * kMs, r));
  EXPECT_EQ(r.sequence, 4u);
  EXPECT_EQ(r.count, 1u);
  EXPECT_EQ(s.counters().requests, 2u);
  EXPECT_EQ(s.counters().requests_resent, 1u);
  offer(s, packet(4, 1), 13 * kMs);
  EXPECT_EQ(drain(s, 13 * kMs), range(4, 6));
  EXPECT_EQ(s.counters().gaps_filled, 2u);
}

TEST(MoldSession, ShouldNotAskAgainForAHoleAskedForEarlyInsideATailGap) {
  // The end of session shows a gap at the tail; its answer comes with a hole; the hole is asked for
  // early; when the first request's answer is through, the hole's request is the one in flight.
  MoldSession s(options());  // gap_wait 1 ms, timeout 10 ms
  offer(s, packet(1, 1), 0);
  drain(s);
  offer(s, end_of_session(11), 0);  // 2..10 missing, nothing held
  EXPECT_TRUE(drain(s, 0).empty());
  mold::Request r;
  ASSERT_TRUE(s.poll(kMs, r));
  EXPECT_EQ(r.sequence, 2u);
  EXPECT_EQ(r.count, 9u);
  offer(s, packet(2, 2), 2 * kMs);
  offer(s, packet(6, 2), 2 * kMs);  // 4..5 lost from the answer
  offer(s, packet(9, 2), 2 * kMs);  // 8 lost from the answer
  EXPECT_EQ(drain(s, 2 * kMs), range(2, 4));
  EXPECT_FALSE(s.poll(2 * kMs, r));  // progress: the request is at work
  ASSERT_TRUE(s.poll(3 * kMs, r));   // the answer paused 1 ms: it stopped short; the rest of the first hole
  EXPECT_EQ(r.sequence, 4u);
  EXPECT_EQ(r.count, 2u);  // up to the first held packet
  ASSERT_TRUE(s.poll(3 * kMs, r));   // the hole at 8 has waited gap_wait: asked for early
  EXPECT_EQ(r.sequence, 8u);
  EXPECT_EQ(r.count, 1u);
  offer(s, packet(4, 2), 4 * kMs);
  EXPECT_EQ(drain(s, 4 * kMs), range(4, 8));
  // 8 is the first missing now, asked for at 3 ms: no second request for it before that one times out.
  EXPECT_FALSE(s.poll(4 * kMs, r));
  EXPECT_FALSE(s.poll(12 * kMs, r));
  ASSERT_TRUE(s.poll(13 * kMs, r));
  EXPECT_EQ(r.sequence, 8u);
  EXPECT_EQ(s.counters().requests_resent, 1u);
  offer(s, packet(8, 1), 14 * kMs);
  EXPECT_EQ(drain(s, 14 * kMs), range(8, 11));
  EXPECT_TRUE(s.ended());
}

TEST(MoldSession, ShouldRefuseASequenceNumberImplausiblyFarAhead) {
  MoldSession s(options());
  offer(s, packet(1, 2));
  EXPECT_EQ(offer(s, heartbeat(3 + MoldSession::kFarAhead + 1)), MoldSession::Offer::kMalformed);
  EXPECT_EQ(offer(s, packet(3 + MoldSession::kFarAhead + 1, 1)), MoldSession::Offer::kMalformed);
  EXPECT_EQ(s.counters().far_ahead, 2u);
  EXPECT_EQ(drain(s), range(1, 3));
  mold::Request r;
  EXPECT_FALSE(s.poll(100 * kMs, r));  // no gap opened by them
  offer(s, packet(3, 1));
  EXPECT_EQ(drain(s), range(3, 4));
  EXPECT_EQ(s.counters().gaps, 0u);
}

TEST(MoldSession, ShouldResendALostRetransmissionThenGiveUpAndGoOn) {
  MoldSession s(options());  // 2 retries, 10 ms timeout
  offer(s, packet(1, 1));
  drain(s);
  offer(s, packet(5, 1), 0);
  EXPECT_TRUE(drain(s, 0).empty());  // sees the gap
  mold::Request r;
  ASSERT_TRUE(s.poll(kMs, r));
  EXPECT_EQ(r.sequence, 2u);
  EXPECT_EQ(r.count, 3u);
  EXPECT_FALSE(s.poll(10 * kMs, r));  // 9 ms after the request
  ASSERT_TRUE(s.poll(11 * kMs, r));   // the answer was lost: sent again
  EXPECT_EQ(r.sequence, 2u);
  ASSERT_TRUE(s.poll(21 * kMs, r));
  EXPECT_FALSE(s.poll(31 * kMs, r));  // retries exhausted: given up
  EXPECT_EQ(s.counters().requests, 1u);
  EXPECT_EQ(s.counters().requests_resent, 2u);
  EXPECT_EQ(s.counters().gaps_lost, 1u);
  EXPECT_EQ(s.counters().messages_lost, 3u);
  EXPECT_EQ(s.lost()[0].from, 2u);
  EXPECT_EQ(s.lost()[0].to, 5u);
  EXPECT_FALSE(s.stopped_on_gap());
  EXPECT_EQ(drain(s, 31 * kMs), std::vector<std::uint64_t>{5});  // the feed goes on
  // A late answer to the given-up gap is a duplicate now.
  EXPECT_EQ(offer(s, packet(2, 3)), MoldSession::Offer::kDuplicate);
}

TEST(MoldSession, ShouldFillFromAResentRequest) {
  MoldSession s(options());
  offer(s, packet(1, 1));
  drain(s);
  offer(s, packet(4, 1));
  drain(s, 0);
  mold::Request r;
  ASSERT_TRUE(s.poll(kMs, r));
  ASSERT_TRUE(s.poll(11 * kMs, r));  // first answer lost
  offer(s, packet(2, 2), 12 * kMs);
  EXPECT_EQ(drain(s, 12 * kMs), range(2, 5));
  EXPECT_EQ(s.counters().gaps_filled, 1u);
  EXPECT_EQ(s.counters().gaps_lost, 0u);
  EXPECT_EQ(s.fill_latencies()[0], 12 * kMs);  // seen at 0, filled at 12 ms
}

TEST(MoldSession, ShouldStopOnAGapWhenThePolicySaysSo) {
  MoldSessionOptions o = options();
  o.stop_on_gap = true;
  o.retries = 0;
  MoldSession s(o);
  offer(s, packet(1, 1));
  drain(s);
  offer(s, packet(3, 1));
  drain(s, 0);
  mold::Request r;
  ASSERT_TRUE(s.poll(kMs, r));
  EXPECT_FALSE(s.poll(11 * kMs, r));
  EXPECT_TRUE(s.stopped_on_gap());
  EXPECT_TRUE(s.ended());
  EXPECT_EQ(s.counters().messages_lost, 1u);
}

TEST(MoldSession, ShouldSeeLossAtTheTailFromAHeartbeatAndTheEndOfSession) {
  MoldSession s(options());
  offer(s, packet(1, 2));
  drain(s);
  offer(s, heartbeat(5));  // 3 and 4 were sent and lost
  EXPECT_TRUE(drain(s, 0).empty());
  mold::Request r;
  ASSERT_TRUE(s.poll(kMs, r));
  EXPECT_EQ(r.sequence, 3u);
  EXPECT_EQ(r.count, 2u);
  offer(s, end_of_session(6));  // and 5 too
  offer(s, packet(3, 2), 2 * kMs);
  EXPECT_EQ(drain(s, 2 * kMs), range(3, 5));
  EXPECT_FALSE(s.ended());
  EXPECT_FALSE(s.poll(2 * kMs, r));  // a new gap (5, seen at the end of session) waits for reordering
  ASSERT_TRUE(s.poll(3 * kMs, r));
  EXPECT_EQ(r.sequence, 5u);
  EXPECT_EQ(r.count, 1u);
  offer(s, packet(5, 1), 3 * kMs);
  EXPECT_EQ(drain(s, 3 * kMs), range(5, 6));
  EXPECT_TRUE(s.ended());
  EXPECT_EQ(s.counters().heartbeats, 1u);
  EXPECT_EQ(s.counters().end_packets, 1u);
  EXPECT_EQ(offer(s, packet(6, 1)), MoldSession::Offer::kAfterEnd);
}

TEST(MoldSession, ShouldAskForTheWholeSessionWhenTheFirstPacketsAreMissing) {
  MoldSession s(options());
  offer(s, packet(3, 1));
  EXPECT_TRUE(drain(s, 0).empty());
  mold::Request r;
  ASSERT_TRUE(s.poll(kMs, r));
  EXPECT_EQ(r.sequence, 1u);
  EXPECT_EQ(r.count, 2u);
}

TEST(MoldSession, ShouldRefuseMalformedAndForeignPackets) {
  MoldSession s(options());
  offer(s, packet(1, 1));
  auto bad = packet(2, 2);
  bad.pop_back();
  EXPECT_EQ(offer(s, bad), MoldSession::Offer::kMalformed);
  EXPECT_EQ(s.malformed_status(), mold::PacketStatus::kBlockOverrun);
  EXPECT_EQ(offer(s, packet(2, 2, "OTHER")), MoldSession::Offer::kOtherSession);
  EXPECT_EQ(drain(s), range(1, 2));
  EXPECT_EQ(s.counters().malformed, 1u);
  EXPECT_EQ(s.counters().other_session, 1u);
}

TEST(MoldSession, ShouldKeepTheLastSlotForTheGapsFillerWhenTheWindowIsFull) {
  MoldSessionOptions o = options();
  o.window = 4;
  MoldSession s(o);
  offer(s, packet(1, 1));
  drain(s);
  for (std::uint64_t k = 3; k < 7; ++k) {
    EXPECT_EQ(offer(s, packet(k, 1)), MoldSession::Offer::kAccepted);
  }
  EXPECT_EQ(offer(s, packet(7, 1)), MoldSession::Offer::kDropped);  // every slot but the filler's taken
  EXPECT_EQ(s.counters().window_full, 1u);
  EXPECT_EQ(offer(s, packet(2, 1)), MoldSession::Offer::kAccepted);
  EXPECT_EQ(drain(s), range(2, 7));
  offer(s, packet(8, 1));  // 7 was dropped: a new gap, requested
  mold::Request r;
  (void)s.poll(0, r);
  ASSERT_TRUE(s.poll(kMs, r));
  EXPECT_EQ(r.sequence, 7u);
  EXPECT_EQ(r.count, 1u);
}

TEST(MoldSession, ShouldGiveUpAGapWithoutAServerWhenTheWindowIsFullOrTheWaitIsOver) {
  MoldSessionOptions o = options();
  o.window = 3;
  o.can_request = false;
  MoldSession s(o);
  offer(s, packet(1, 1));
  drain(s);
  offer(s, packet(3, 1));
  offer(s, packet(4, 1));
  offer(s, packet(5, 1));  // three held: the window
  EXPECT_EQ(offer(s, packet(6, 1)), MoldSession::Offer::kFull);  // message 2 is given up ...
  EXPECT_EQ(drain(s), range(3, 6));
  EXPECT_EQ(offer(s, packet(6, 1)), MoldSession::Offer::kAccepted);  // ... and the caller offers again
  EXPECT_EQ(drain(s), range(6, 7));
  EXPECT_EQ(s.counters().messages_lost, 1u);
  // Without a server a gap waits gap_wait for reordered packets, then it is given up.
  offer(s, packet(8, 1), 10 * kMs);
  mold::Request r;
  EXPECT_FALSE(s.poll(10 * kMs, r));
  EXPECT_EQ(s.counters().gaps_lost, 1u);
  EXPECT_FALSE(s.poll(11 * kMs, r));  // never a request
  EXPECT_EQ(s.counters().gaps_lost, 2u);
  EXPECT_EQ(drain(s, 11 * kMs), range(8, 9));
  EXPECT_EQ(s.lost()[1].from, 7u);
  EXPECT_EQ(s.lost()[1].to, 8u);
  EXPECT_EQ(s.counters().requests, 0u);
}

TEST(MoldSession, ShouldGiveUpTheOpenGapWhenTheInputEnds) {
  MoldSessionOptions o = options();
  o.can_request = false;
  MoldSession s(o);
  offer(s, packet(2, 2));
  EXPECT_TRUE(drain(s).empty());
  EXPECT_TRUE(s.give_up_gap());
  EXPECT_EQ(drain(s), range(2, 4));
  EXPECT_FALSE(s.give_up_gap());
  EXPECT_EQ(s.lost()[0].from, 1u);
  EXPECT_EQ(s.lost()[0].to, 2u);
}

TEST(MoldSession, ShouldAskForTheRestWhenAnAnswerStopsShort) {
  MoldSession s(options());
  offer(s, packet(1, 1));
  drain(s);
  offer(s, packet(9, 1));
  drain(s, 0);
  mold::Request r;
  ASSERT_TRUE(s.poll(kMs, r));
  EXPECT_EQ(r.sequence, 2u);
  EXPECT_EQ(r.count, 7u);
  offer(s, packet(2, 3), 2 * kMs);  // one packet of the answer (2..4)
  EXPECT_EQ(drain(s, 2 * kMs), range(2, 5));
  EXPECT_FALSE(s.poll(2 * kMs, r));  // more may be on its way
  EXPECT_FALSE(s.poll(2 * kMs + kMs / 2, r));
  ASSERT_TRUE(s.poll(3 * kMs, r));  // quiet for gap_wait (1 ms): the rest
  EXPECT_EQ(r.sequence, 5u);
  EXPECT_EQ(r.count, 4u);
  EXPECT_EQ(s.counters().requests, 2u);
  EXPECT_EQ(s.counters().requests_resent, 0u);
}

TEST(MoldSession, ShouldLetALongAnswerArriveBeforeAskingForTheRestWithAGapWaitOfZero) {
  MoldSessionOptions o = options();
  o.gap_wait_ns = 0;  // a gap is asked for at once
  MoldSession s(o);
  offer(s, packet(1, 1), 0);
  drain(s);
  offer(s, packet(9, 1), 0);
  drain(s, 0);
  mold::Request r;
  ASSERT_TRUE(s.poll(0, r));
  EXPECT_EQ(r.count, 7u);
  offer(s, packet(2, 3), 1000);  // the answer's first packet
  EXPECT_EQ(drain(s, 1000), range(2, 5));
  EXPECT_FALSE(s.poll(1000, r));      // progress
  EXPECT_FALSE(s.poll(2000, r));      // a pause of 1 µs: the rest may be on its way
  EXPECT_FALSE(s.poll(kMs, r));
  ASSERT_TRUE(s.poll(kMs + 1000, r));  // quiet for 1 ms: asked for
  EXPECT_EQ(r.sequence, 5u);
  EXPECT_EQ(r.count, 4u);
}

TEST(MoldSession, ShouldNotAskForMoreThanARequestCanCarry) {
  MoldSession s(options());
  offer(s, packet(100000, 1));
  mold::Request r;
  (void)s.poll(0, r);
  ASSERT_TRUE(s.poll(kMs, r));
  EXPECT_EQ(r.sequence, 1u);
  EXPECT_EQ(r.count, mold::kMaxRequestCount);
  offer(s, packet(1, 2), 2 * kMs);  // a partial answer: the rest waits for the in-flight request
  EXPECT_EQ(drain(s, 2 * kMs), range(1, 3));
  EXPECT_FALSE(s.poll(2 * kMs, r));
}

}  // namespace
}  // namespace tickforge
