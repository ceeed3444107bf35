#include "moldudp64_session.hpp"

#include <algorithm>
#include <cstring>

namespace tickforge {

MoldSession::MoldSession(const MoldSessionOptions& o)
    : o_(o),
      bytes_((std::max<std::size_t>(o.window, 1) + 1) * kSlotBytes),
      slots_(std::max<std::size_t>(o.window, 1) + 1),
      free_(slots_.size()),
      heap_(slots_.size()),
      expected_(std::max<std::uint64_t>(o.first_sequence, 1)),
      known_end_(expected_) {
  o_.window = slots_.size() - 1;
  for (std::size_t i = 0; i < free_.size(); ++i) {
    free_[i] = static_cast<std::uint32_t>(free_.size() - 1 - i);
  }
  free_size_ = free_.size();
  latencies_.reserve(kLatenciesKept);
}

void MoldSession::heap_push(std::uint32_t slot) noexcept {
  std::size_t i = heap_size_++;
  heap_[i] = slot;
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (slots_[heap_[parent]].sequence <= slots_[heap_[i]].sequence) {
      break;
    }
    std::swap(heap_[parent], heap_[i]);
    i = parent;
  }
}

std::uint32_t MoldSession::heap_pop() noexcept {
  const std::uint32_t top = heap_[0];
  heap_[0] = heap_[--heap_size_];
  std::size_t i = 0;
  for (;;) {
    const std::size_t l = 2 * i + 1, r = l + 1;
    std::size_t m = i;
    if (l < heap_size_ && slots_[heap_[l]].sequence < slots_[heap_[m]].sequence) {
      m = l;
    }
    if (r < heap_size_ && slots_[heap_[r]].sequence < slots_[heap_[m]].sequence) {
      m = r;
    }
    if (m == i) {
      break;
    }
    std::swap(heap_[m], heap_[i]);
    i = m;
  }
  return top;
}

MoldSession::Offer MoldSession::offer(const std::uint8_t* p, std::size_t n, std::int64_t now) noexcept {
  ++c_.packets;
  mold::Packet pk;
  const mold::PacketStatus st = mold::parse_packet(p, n, pk);
  if (st != mold::PacketStatus::kOk) {
    ++c_.malformed;
    last_malformed_ = st;
    return Offer::kMalformed;
  }
  if (!has_session_) {
    has_session_ = true;
    session_ = pk.session;
  } else if (pk.session != session_) {
    ++c_.other_session;
    return Offer::kOtherSession;
  }
  if (pk.sequence > expected_ + kFarAhead) {
    ++c_.far_ahead;  // a corrupt sequence number would otherwise open a gap of billions of messages
    return Offer::kMalformed;
  }
  if (pk.kind == mold::PacketKind::kHeartbeat) {
    ++c_.heartbeats;
    known_end_ = std::max(known_end_, end_seen_ ? std::min(pk.sequence, end_sequence_) : pk.sequence);
    return Offer::kAccepted;
  }
  if (pk.kind == mold::PacketKind::kEndOfSession) {
    ++c_.end_packets;
    if (!end_seen_ || pk.sequence < end_sequence_) {
      end_seen_ = true;
      end_sequence_ = pk.sequence;
    }
    known_end_ = std::max(known_end_, end_sequence_);
    return Offer::kAccepted;
  }
  const std::uint64_t end = pk.sequence + pk.count;
  if (end_seen_ && pk.sequence >= end_sequence_) {
    c_.after_end += pk.count;
    return Offer::kAfterEnd;
  }  // a packet across the end is kept: next() delivers what is before it and counts the rest
  if (end <= expected_) {
    ++c_.duplicate_packets;
    return Offer::kDuplicate;
  }
  if (n > kSlotBytes) {
    ++c_.oversize;
    return Offer::kOversize;
  }
  const bool fills = pk.sequence <= expected_;  // holds the next expected message
  // The last free slot is kept for the packet that holds the next expected message, so a gap can
  // always be filled however many packets wait behind it.
  if (free_size_ == 0 || (free_size_ == 1 && !fills)) {
    if (o_.can_request || !gap_open()) {
      ++c_.window_full;
      return o_.can_request ? Offer::kDropped : Offer::kFull;
    }
    lose_gap();
    return Offer::kFull;
  }
  const std::uint32_t s = free_[--free_size_];
  std::memcpy(bytes_.data() + std::size_t{s} * kSlotBytes, p, n);
  slots_[s] = Slot{pk.sequence, static_cast<std::uint32_t>(n), pk.count, ++arrivals_, now};
  heap_push(s);
  if (o_.can_request) {  // holes are noted only to be asked for
    highest_end_ = std::max(highest_end_, expected_);
    if (pk.sequence > highest_end_) {
      note_hole(highest_end_, pk.sequence, now);
    } else if (pk.sequence < highest_end_ && hole_count_ != 0) {
      shrink_holes(pk.sequence, end);  // a late packet: a hole it fills needs no request
    }
    highest_end_ = std::max(highest_end_, end);
  }
  known_end_ = std::max(known_end_, end_seen_ ? std::min(end, end_sequence_) : end);
  return Offer::kAccepted;
}

std::uint64_t MoldSession::gap_end() const noexcept {
  return heap_size_ != 0 ? std::min(top_sequence(), known_end_) : known_end_;
}

std::uint64_t MoldSession::gap_limit() const noexcept {
  return end_seen_ ? std::min(gap_end(), end_sequence_) : gap_end();
}

bool MoldSession::gap_open() const noexcept {
  return !current_ && expected_ < gap_limit() && (heap_size_ == 0 || top_sequence() > expected_);
}

MoldSession::Message MoldSession::next(std::int64_t now) noexcept {
  for (;;) {
    if (current_) {
      const mold::BlockReader::Message m = reader_.next();
      if (m.data != nullptr) {
        const std::uint64_t seq = current_sequence_++;
        if (seq < expected_) {
          ++c_.duplicate_messages;
          continue;
        }
        if (end_seen_ && seq >= end_sequence_) {
          ++c_.after_end;  // past the end of session (seen before or after the packet came)
          continue;
        }
        expected_ = seq + 1;
        ++c_.messages;
        c_.empty_messages += m.size == 0;
        return Message{m.data, m.size, seq};
      }
      current_ = false;
      free_[free_size_++] = current_slot_;
      continue;
    }
    if (heap_size_ == 0 || top_sequence() > expected_) {
      break;
    }
    const std::uint32_t s = heap_pop();
    const Slot& slot = slots_[s];
    if (slot.sequence + slot.count <= expected_) {  // held twice, or overtaken by a retransmission
      ++c_.duplicate_packets;
      free_[free_size_++] = s;
      continue;
    }
    // It waited behind a gap exactly when a packet that arrived after it was delivered before it.
    if (slot.arrival < latest_delivered_) {
      ++c_.held;
    } else {
      latest_delivered_ = slot.arrival;
    }
    current_ = true;
    current_slot_ = s;
    current_sequence_ = slot.sequence;
    const std::uint8_t* b = bytes_.data() + std::size_t{s} * kSlotBytes;
    reader_ = mold::BlockReader(b + mold::kHeaderLength, slot.size - mold::kHeaderLength);
  }
  check_filled(now);  // nothing deliverable: has the open gap been filled, or is one open now?
  note_gap(now);
  return Message{nullptr, 0, 0};
}

void MoldSession::lose_gap() noexcept {
  const std::uint64_t to = gap_limit();
  c_.gaps += gap_since_ < 0;  // given up before anyone looked (a full window)
  if (c_.gaps_lost < kLostKept) {
    lost_[c_.gaps_lost] = MoldGap{expected_, to};
  }
  ++c_.gaps_lost;
  c_.messages_lost += to - expected_;
  expected_ = to;
  gap_since_ = -1;
  in_flight_ = false;
  if (o_.stop_on_gap) {
    stopped_ = true;
  }
}

bool MoldSession::poll(std::int64_t now, mold::Request& out) noexcept {
  check_filled(now);
  if (stopped_ || !gap_open()) {
    return false;
  }
  note_gap(now);
  const std::uint64_t to = gap_limit();
  if (in_flight_) {
    if (expected_ >= request_end_) {
      in_flight_ = false;  // answered; what is still missing is asked for now
    } else if (expected_ > progress_mark_) {
      progress_mark_ = expected_;  // answered in part: the server is at work, wait again
      request_sent_ = now;
      tries_ = 0;
      answered_part_ = true;
    } else if (answered_part_ && now - request_sent_ >= quiet_ns()) {
      in_flight_ = false;  // the answer stopped short (a server that answers one packet a time): ask on
    }
  }
  auto ask = [&] {
    const std::uint64_t count = std::min<std::uint64_t>(to - expected_, mold::kMaxRequestCount);
    request_end_ = expected_ + count;
    progress_mark_ = expected_;
    request_sent_ = now;
    in_flight_ = true;
    answered_part_ = false;
    out.session = session_;
    out.sequence = expected_;
    out.count = static_cast<std::uint16_t>(count);
    return true;
  };
  if (!in_flight_) {
    if (!requested_ && now - gap_since_ < o_.gap_wait_ns) {
      return ask_ahead(now, out);  // reordered packets may still come (no holes without a server)
    }
    if (!o_.can_request) {
      lose_gap();
      return false;
    }
    if (!adopt_hole()) {  // (a hole asked for early is in flight already: its timeout runs below)
      requested_ = true;
      tries_ = 0;
      ++c_.requests;
      return ask();
    }
  }
  if (now - request_sent_ < o_.request_timeout_ns) {
    return ask_ahead(now, out);  // the first gap's request is on its way: the holes after it go too
  }
  if (tries_ < o_.retries) {
    ++tries_;
    ++c_.requests_resent;
    return ask();
  }
  lose_gap();
  return false;
}

void MoldSession::note_hole(std::uint64_t from, std::uint64_t to, std::int64_t now) noexcept {
  if (hole_count_ == kHolesAhead) {
    return;  // more holes than noted: the later ones are asked for in turn, as the first gap
  }
  holes_[(hole_first_ + hole_count_++) % kHolesAhead] = Hole{from, to, now, -1, 0, false};
}

void MoldSession::shrink_holes(std::uint64_t from, std::uint64_t to) noexcept {
  for (std::size_t i = 0; i < hole_count_; ++i) {
    Hole& h = holes_[(hole_first_ + i) % kHolesAhead];
    if (from <= h.from && to >= h.to) {
      h.to = h.from;  // filled: empty, skipped and dropped in turn
    } else if (from <= h.from && to > h.from) {
      h.from = to;
    } else if (from < h.to && to >= h.to) {
      h.to = from;
    }  // a packet inside a hole leaves it whole: asked for whole, the duplicates are dropped
  }
}

bool MoldSession::ask_ahead(std::int64_t now, mold::Request& out) noexcept {
  while (hole_count_ != 0 && holes_[hole_first_].to <= expected_) {
    hole_first_ = (hole_first_ + 1) % kHolesAhead;  // filled, or passed
    --hole_count_;
  }
  for (std::size_t i = 0; i < hole_count_; ++i) {
    Hole& h = holes_[(hole_first_ + i) % kHolesAhead];
    if (h.from <= expected_ || h.asked >= 0 || h.to <= h.from) {
      continue;  // the first gap (poll's own), asked for already, or filled
    }
    if (now - h.seen < o_.gap_wait_ns) {
      return false;  // the later ones were seen later still
    }
    h.asked = now;
    h.asked_end = h.from + std::min<std::uint64_t>(h.to - h.from, mold::kMaxRequestCount);
    ++c_.requests;
    ++c_.requests_ahead;
    out.session = session_;
    out.sequence = h.from;
    out.count = static_cast<std::uint16_t>(h.asked_end - h.from);
    return true;
  }
  return false;
}

bool MoldSession::adopt_hole() noexcept {
  for (std::size_t i = 0; i < hole_count_; ++i) {
    Hole& h = holes_[(hole_first_ + i) % kHolesAhead];
    if (h.from <= expected_ && expected_ < h.to && h.asked >= 0 && !h.adopted) {
      h.adopted = true;  // once: what is missing after its answer is asked for anew
      // Asked for while a gap before it was open: that request is this gap's, in flight since then.
      requested_ = true;
      in_flight_ = true;
      answered_part_ = false;
      request_sent_ = h.asked;
      request_end_ = h.asked_end;
      progress_mark_ = expected_;
      tries_ = 0;
      return true;
    }
  }
  return false;
}

void MoldSession::note_gap(std::int64_t now) noexcept {
  if (gap_since_ < 0 && !stopped_ && gap_open()) {
    // A gap before a held packet has been open since that packet came: behind an earlier gap it has
    // waited for its reordered packets already, and is asked for as soon as it is the first.
    gap_since_ = heap_size_ != 0 ? std::min(now, slots_[heap_[0]].arrived) : now;
    gap_target_ = gap_limit();
    requested_ = false;
    ++c_.gaps;
    (void)adopt_hole();  // (no holes are noted without a server)
  }
}

void MoldSession::check_filled(std::int64_t now) noexcept {
  if (gap_since_ >= 0 && expected_ >= gap_target_) {
    ++c_.gaps_filled;
    if (latencies_.size() < kLatenciesKept) {
      latencies_.push_back(now - gap_since_);  // within the reserved capacity: no allocation
    }
    gap_since_ = -1;
    in_flight_ = false;
  }
}

bool MoldSession::give_up_gap() noexcept {
  if (!gap_open()) {
    return false;
  }
  lose_gap();
  return true;
}

bool MoldSession::ended() const noexcept {
  return stopped_ || (end_seen_ && !current_ && expected_ >= end_sequence_);
}

}  // namespace tickforge
