#include "feed_registry.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "csv_feed.hpp"
#include "itch_feed.hpp"
#include "jsonl_feed.hpp"
#include "kafka_feed.hpp"
#include "synthetic.hpp"
#include "time_zone.hpp"

namespace tickforge {

namespace {

// Synthetic feeds never share a ticker (two random walks of one ticker would interleave
// nondeterministically): feed k of n takes every n-th listed ticker, or its own default names.
std::unique_ptr<Feed> make_synthetic(const FeedContext& c, const FeedSpec&) {
  SyntheticOptions so = c.opt.synthetic;
  if (c.opt.tickers.empty()) {
    so.tickers = SyntheticFeed::default_tickers(so.count, c.kind_index * so.count);
  } else {
    for (std::size_t j = c.kind_index; j < c.opt.tickers.size(); j += c.kind_count) {
      so.tickers.push_back(c.opt.tickers[j]);
    }
    if (so.tickers.empty()) {
      throw RunError(RunError::Kind::kConfig, std::to_string(c.kind_count) + " synthetic feeds need at least " +
                                                  std::to_string(c.kind_count) + " tickers, got " +
                                                  std::to_string(c.opt.tickers.size()));
    }
  }
  so.seed = c.opt.synthetic.seed + c.index;
  so.max_ticks = c.opt.max_ticks;
  so.index = c.index;
  return std::make_unique<SyntheticFeed>(so, c.symbols);
}

std::unique_ptr<Feed> make_csv(const FeedContext& c, const FeedSpec& spec) {
  CsvFeedOptions co = c.opt.csv;
  co.csv.path = spec.arg;
  co.csv.ticker = c.opt.tickers.size() == 1 ? c.opt.tickers.front() : std::string();
  co.max_ticks = c.opt.max_ticks;
  auto f = std::make_unique<CsvFeed>(co, c.symbols);
  if (!f->load().ok) {
    throw RunError(RunError::Kind::kIo, f->load().error);
  }
  return f;
}

std::unique_ptr<Feed> make_kafka(const FeedContext& c, const FeedSpec& spec) {
  kafka::KafkaFeedOptions ko;
  ko.settings = &c.opt.kafka;
  ko.bootstrap = c.kafka->bootstrap;
  ko.embedded = c.kafka->embedded;
  ko.topic = spec.arg;
  ko.publisher = c.kafka->publisher;
  try {
    return std::make_unique<kafka::KafkaFeed>(ko, c.symbols);
  } catch (const std::runtime_error& e) {
    throw RunError(RunError::Kind::kKafka, e.what());
  }
}

constexpr const char* kMoldEndpointForm = "expected moldudp64:ADDR:PORT (an IPv4 address, a port 1-65535)";

enum class ItchInput { kFile, kPcap, kLive };

std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The feed's spec. The session date: --itch-date, else the file's name (a file; a capture), else the
// capture's first packet's date or, live, today's, in --itch-zone; its midnight there is the origin of
// the messages' timestamps.
ItchFeedSpec itch_session(const FeedContext& c, const FeedSpec& spec, ItchInput input) {
  const ItchFeedOptions& io = c.opt.itch;
  const std::string what = spec.kind + ":" + spec.arg;
  int y = 0, m = 0, d = 0;
  if (!io.date.empty()) {
    // YYYY-MM-DD exactly (digits only: no sign, no spaces); whether the date exists is checked below.
    const std::string& t = io.date;
    bool shaped = t.size() == 10 && t[4] == '-' && t[7] == '-';
    for (std::size_t i = 0; shaped && i < t.size(); ++i) {
      shaped = i == 4 || i == 7 || (t[i] >= '0' && t[i] <= '9');
    }
    if (!shaped) {
      throw RunError(RunError::Kind::kConfig, "--itch-date '" + io.date + "': expected YYYY-MM-DD");
    }
    y = std::stoi(t.substr(0, 4));
    m = std::stoi(t.substr(5, 2));
    d = std::stoi(t.substr(8, 2));
  } else if (input != ItchInput::kLive && itch_date_from_file_name(spec.arg, y, m, d)) {
    // the date in the file's name
  } else if (input == ItchInput::kFile) {
    throw RunError(RunError::Kind::kConfig, what +
                                                ": the file name carries no session date (YYYYMMDD or MMDDYYYY): "
                                                "give it with --itch-date YYYY-MM-DD");
  } else {
    std::int64_t at = wall_clock_ns();  // live: today
    if (input == ItchInput::kPcap) {
      try {
        at = pcap_first_packet_ns(spec.arg);
      } catch (const std::runtime_error& e) {
        throw RunError(RunError::Kind::kIo, e.what());
      }
      if (at < 0) {
        throw RunError(RunError::Kind::kConfig, what + ": the capture has no packet to date it by and its name "
                                                       "no session date: give it with --itch-date YYYY-MM-DD");
      }
    }
    try {
      local_date_of(io.zone, at, y, m, d);
    } catch (const std::invalid_argument& e) {
      throw RunError(RunError::Kind::kConfig, what + ": " + e.what());
    }
  }
  ItchFeedSpec is;
  is.path = spec.arg;
  try {
    is.midnight_utc_ns = local_midnight_utc_ns(io.zone, y, m, d);
  } catch (const std::invalid_argument& e) {
    throw RunError(RunError::Kind::kConfig, what + ": " + e.what());
  }
  char date[16];
  std::snprintf(date, sizeof date, "%04d-%02d-%02d", y, m, d);
  is.date = date;
  is.max_orders = io.max_orders;
  is.order_index = io.order_index;
  is.tickers = c.opt.tickers;
  is.speed = input == ItchInput::kLive ? 0 : c.opt.csv.speed;  // a live feed comes at its own pace
  is.max_ticks = c.opt.max_ticks;
  if (input != ItchInput::kFile) {
    ItchPacketSpec& p = is.packets;
    is.from_packets = true;
    p.session.window = io.mold_window;
    p.session.gap_wait_ns = io.mold_gap_wait_ns;
    p.session.request_timeout_ns = io.mold_timeout_ns;
    p.session.retries = io.mold_retries;
    p.session.stop_on_gap = io.mold_stop_on_gap;
    if (input == ItchInput::kPcap) {
      p.transport = ItchPacketSpec::Transport::kPcap;
      p.pcap_path = spec.arg;
      p.pcap_port = static_cast<std::uint16_t>(io.pcap_port);
    } else {
      p.transport = ItchPacketSpec::Transport::kUdp;
      if (!parse_ipv4_endpoint(spec.arg, p.address, p.port)) {
        throw RunError(RunError::Kind::kConfig, what + ": " + kMoldEndpointForm);
      }
      if (!io.mold_request.empty() && !parse_ipv4_endpoint(io.mold_request, p.request_address, p.request_port)) {
        throw RunError(RunError::Kind::kConfig, "--moldudp64-request '" + io.mold_request + "': expected ADDR:PORT (IPv4)");
      }
      p.interface_address = io.mold_interface;
      p.receive_buffer = static_cast<std::uint32_t>(io.mold_receive_buffer);
    }
  }
  return is;
}

std::unique_ptr<Feed> make_itch_input(const FeedContext& c, const FeedSpec& spec, ItchInput input) {
  const ItchFeedSpec is = itch_session(c, spec, input);
  try {
    return std::make_unique<ItchFeed>(is, c.symbols);
  } catch (const std::runtime_error& e) {
    throw RunError(RunError::Kind::kIo, e.what());
  }
}

std::unique_ptr<Feed> make_itch(const FeedContext& c, const FeedSpec& spec) { return make_itch_input(c, spec, ItchInput::kFile); }
std::unique_ptr<Feed> make_itch_pcap(const FeedContext& c, const FeedSpec& spec) { return make_itch_input(c, spec, ItchInput::kPcap); }
std::unique_ptr<Feed> make_moldudp64(const FeedContext& c, const FeedSpec& spec) { return make_itch_input(c, spec, ItchInput::kLive); }
const char* check_moldudp64(std::string_view arg) {
  std::string host;
  std::uint16_t port = 0;
  return parse_ipv4_endpoint(std::string(arg), host, port) ? nullptr : kMoldEndpointForm;
}

}  // namespace

const std::vector<FeedKind>& feed_kinds() {
  // One line per kind: name, syntax, takes an argument, needs Kafka, documentation, factory.
  static const std::vector<FeedKind> kinds = {
      {"synthetic", "synthetic", false, false, "a seeded random walk per ticker around realistic prices, paced at --rate", &make_synthetic},
      {"csv", "csv:PATH", true, false, "a CSV history or tick file, replayed in time order (--speed)", &make_csv},
      {"kafka", "kafka:TOPIC", true, true, "JSON ticks from a Kafka topic, in a consumer group (at-least-once)", &make_kafka},
      {"jsonl", "jsonl:PATH", true, false, "JSON tick messages, one per line (a Kafka topic's dump), replayed in file order (--speed)", [](const FeedContext& c, const FeedSpec& s) -> std::unique_ptr<Feed> { try { return std::make_unique<JsonLinesFeed>(s.arg, c.opt.kafka.fields, c.opt.csv.speed, c.opt.max_ticks, c.symbols); } catch (const std::runtime_error& e) { throw RunError(RunError::Kind::kIo, e.what()); } }},
      {"itch", "itch:PATH", true, false, "a NASDAQ TotalView-ITCH 5.0 file (BinaryFILE): its trades, replayed (--speed; --itch-date)", &make_itch},
      {"itch-pcap", "itch-pcap:PATH", true, false, "a pcap capture of ITCH 5.0 over MoldUDP64 (UDP, --itch-pcap-port): its trades, replayed in sequence (--speed)", &make_itch_pcap},
      {"moldudp64", "moldudp64:ADDR:PORT", true, false, "live ITCH 5.0 over MoldUDP64 on a UDP address or multicast group; gaps requested from --moldudp64-request", &make_moldudp64, &check_moldudp64},
  };
  return kinds;
}

const FeedKind* find_feed_kind(std::string_view name) noexcept {
  for (const FeedKind& k : feed_kinds()) {
    if (name == k.name) {
      return &k;
    }
  }
  return nullptr;
}

std::string feed_syntaxes() {
  std::string out;
  for (const FeedKind& k : feed_kinds()) {
    out += out.empty() ? "" : ", ";
    out += k.syntax;
  }
  return out;
}

FeedSpec parse_feed_spec(std::string_view text) {
  const std::size_t colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  const std::string_view arg = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  const FeedKind* k = find_feed_kind(kind);
  if (k == nullptr || k->takes_argument == arg.empty() || (!k->takes_argument && colon != std::string_view::npos)) {
    throw std::invalid_argument("expected " + feed_syntaxes() + ", got '" + std::string(text) + "'");
  }
  if (k->check != nullptr) {
    if (const char* wrong = k->check(arg)) {
      throw std::invalid_argument(std::string(text) + ": " + wrong);
    }
  }
  return FeedSpec{std::string(kind), std::string(arg)};
}

}  // namespace tickforge
