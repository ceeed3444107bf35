#include "settings.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#if defined(TICKFORGE_TOML_NO_ASSERT)
// Sanitizer and fuzz builds compile toml++ into this file: its debug assertions off, as in Debian's library
// (see tickforge_toml in CMakeLists.txt); its __builtin_unreachable() stays, for UBSan to catch.
#define TOML_ASSERT(expr) static_assert(true)
#endif
#include <toml++/toml.h>

#include <fmt/format.h>

#include <tickforge/engine.hpp>
#include <tickforge/tick.hpp>

#include "feed_registry.hpp"
#include "timeparse.hpp"
#include "time_zone.hpp"
#include "toml_guard.hpp"

namespace tickforge {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string trim(std::string_view s) { return std::string(trim_chars(s, " \t")); }

[[noreturn]] void bad(std::string_view why) { throw std::invalid_argument(std::string(why)); }

std::string number_text(double v) { return fmt::format("{}", v); }  // shortest round-trip, no exponent for 1e5

double to_double(std::string_view text) {
  const std::string s = trim(text);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) {
    bad("expected a number, got '" + s + "'");
  }
  return v;
}

template <typename Int>
Int to_int(std::string_view text) {
  const std::string s = trim(text);
  Int v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
    bad("expected a whole number, got '" + s + "'");
  }
  return v;
}

bool to_bool(std::string_view text) {
  const std::string s = trim(text);
  if (s.empty() || s == "true" || s == "1" || s == "yes" || s == "on") {  // empty: a bare --flag
    return true;
  }
  if (s == "false" || s == "0" || s == "no" || s == "off") {
    return false;
  }
  bad("expected true or false, got '" + s + "'");
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? text.size() : comma;
    std::string item = trim(text.substr(start, end - start));
    if (!item.empty()) {
      out.push_back(std::move(item));
    }
    start = end + 1;
  }
  return out;
}

template <typename T>
std::string join(const std::vector<T>& items) {
  std::string out;
  for (const auto& i : items) {
    out += out.empty() ? "" : ",";
    if constexpr (std::is_same_v<T, std::string>) {
      out += i;
    } else {
      out += std::to_string(i);
    }
  }
  return out;
}

// Kafka's legal topic (and our instance id) characters: ASCII letters, digits, '.', '_', '-'; ≤ 249.
std::string topic_name(std::string_view text) {
  const std::string s = trim(text);
  if (s.empty() || s.size() > 249) {
    bad("expected a name of 1 to 249 characters");
  }
  for (const char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '_' && c != '-') {
      bad("'" + s + "' has a character other than letters, digits, '.', '_' and '-'");
    }
  }
  return s;
}

std::string format_duration_setting(std::int64_t ns) {
  if (ns == 0) {
    return "0";
  }
  struct Unit {
    std::int64_t ns;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{86'400'000'000'000, "d"}, {3'600'000'000'000, "h"}, {60'000'000'000, "m"},
                                    {1'000'000'000, "s"},      {1'000'000, "ms"},          {1'000, "us"}};
  for (const Unit& u : kUnits) {
    if (ns % u.ns == 0) {
      return std::to_string(ns / u.ns) + u.name;
    }
  }
  return std::to_string(ns) + "ns";
}

std::string normalise(std::string_view name) {
  std::string n(name);
  while (!n.empty() && n.front() == '-') {
    n.erase(0, 1);
  }
  for (char& c : n) {
    c = c == '_' ? '-' : c;
  }
  return n;
}

// ---- the rows -------------------------------------------------------------------------------------
//
// rows(o, v) names every setting once, with the field of `o` it sets; rule_rows() the rule settings,
// which exist globally and per ticker. A visitor `v` gives the rows a meaning: Apply parses one value
// into its field, Describe reads the shown default and the range off a default-constructed RunOptions.

struct Meta {
  const char* section;
  unsigned scopes;
  const char* doc;
  const char* unit = "";
  const char* default_text = nullptr;  // shown instead of the field's value (a derived default)
  bool per_ticker = false;
};

constexpr unsigned kRun = kScopeRun, kBroker = kScopeBroker, kProduce = kScopeProduce, kEmbed = kScopeEmbed,
                   kServe = kScopeServe;
constexpr unsigned kEngineScopes = kRun | kEmbed;
constexpr unsigned kFeedScopes = kRun | kProduce | kEmbed;
constexpr unsigned kKafkaScopes = kRun | kProduce | kEmbed;

template <typename V>
void rule_rows(RuleParams& r, V& v) {
  const char* s = "alert rules";
  const unsigned sc = kEngineScopes;
  v.real("alert-pct", r.window_move_pct, -kInf, kInf,
         {s, sc, "rule (a): alert when the price is ≥ X % above the window low or below the window high; ≤ 0 "
                 "disables", "%", nullptr, true});
  v.duration("alert-window", r.window_ns, false,
             {s, sc, "the event-time window T of rule (a) and of the high/low metrics, [t − T, t]", "", nullptr,
              true});
  v.real("tick-change-pct", r.tick_change_pct, -kInf, kInf,
         {s, sc, "rule (b): alert on a tick-to-tick change of ≥ X % either way; ≤ 0 disables", "%", nullptr, true});
  v.real("volatility-pct", r.volatility_pct, -kInf, kInf,
         {s, sc, "rule (c): alert when the volatility (std of % changes) ≥ X; ≤ 0 disables", "%", nullptr, true});
  v.flag("sma-cross", r.sma_cross, {s, sc, "rule (d): alert when the shortest SMA crosses the longest", "", nullptr, true});
  v.real("volume-spike", r.volume_spike_factor, -kInf, kInf,
         {s, sc, "rule (e): alert when volume ≥ F × the mean volume of the previous volume-window ticks; ≤ 0 "
                 "disables", "×", nullptr, true});
  v.cooldown("cooldown", r.cooldown_ns,
             {s, sc, "quiet time per (ticker, rule, direction) after an alert, in event time; 0 = no cooldown", "",
              "= alert-window", true});
}

template <typename V>
void rows(RunOptions& o, V& v) {
  // ---- feeds ----
  {
    const char* s = "feeds";
    v.feeds("feed", o.feeds,
            {s, kRun | kProduce | kEmbed, "an input, one thread each; repeatable (feed kinds: docs/settings.md)", "",
             "synthetic"});
    v.cpus("feed-cpu", o.feed_cpus, {s, kRun | kEmbed, "CPU of each feed thread, comma-separated; -1 = not pinned", "",
                                     "not pinned"});
    v.text_list("ticker", o.tickers,
                {s, kFeedScopes, "ticker list (comma-separated, repeatable): the synthetic feeds' tickers (split "
                                 "between several), the ticker of a single-ticker CSV file, or the stocks an itch "
                                 "feed keeps",
                 "", "the defaults"});
    v.uint64("max-ticks", o.max_ticks, 0, UINT64_MAX, {s, kFeedScopes, "stop each feed after this many ticks; 0 = no limit", "ticks"});
  }
  // ---- synthetic feed ----
  {
    const char* s = "synthetic feed";
    SyntheticOptions& y = o.synthetic;
    v.uint32("tickers", y.count, 1, kMaxTickers,
             {s, kFeedScopes, "number of tickers when no --ticker list is given (AAPL, MSFT, … then SYM00009 …)"});
    v.real("rate", y.rate, 1e-3, 1e9, {s, kFeedScopes, "ticks per second per feed, paced on the clock (open loop)", "ticks/s"});
    v.flag("saturate", y.saturate, {s, kFeedScopes, "as fast as possible instead of --rate (a throughput test)"});
    v.uint64("seed", y.seed, 0, UINT64_MAX, {s, kFeedScopes, "random seed: the same seed gives the same ticks"});
    v.duration("synthetic-step", y.step_ns, false, {s, kFeedScopes, "event time between consecutive ticks of a feed"});
    v.real("jump-prob", y.jump_probability, 0, 1, {s, kFeedScopes, "probability per tick of a 5–12 % jump (then reverting)"});
  }
  // ---- CSV replay ----
  {
    const char* s = "CSV replay";
    CsvFeedOptions& c = o.csv;
    v.real("speed", c.speed, 0, 1e12,
           {s, kFeedScopes, "replay speed of csv, jsonl and itch feeds against event time (2 = twice as fast); 0 = "
                            "as fast as possible", "×"});
    v.text("price-col", c.csv.price_column, false, {s, kFeedScopes, "price column (falls back to a column named price)"});
    v.text("date-col", c.csv.date_column, false,
           {s, kFeedScopes, "date column", "", "auto: Date, Datetime, timestamp, time or ts"});
    v.text("ticker-col", c.csv.ticker_column, false,
           {s, kFeedScopes, "ticker column", "", "auto: ticker, symbol, Index, Stock or Name (optional)"});
    v.text("volume-col", c.csv.volume_column, false, {s, kFeedScopes, "volume column", "", "auto: Volume, size or qty (optional)"});
  }
  // ---- ITCH replay ----
  {
    const char* s = "ITCH replay";
    ItchFeedOptions& i = o.itch;
    v.text("itch-date", i.date, false,
           {s, kFeedScopes, "session date of itch: files, YYYY-MM-DD", "", "from the file name (YYYYMMDD or MMDDYYYY)"});
    v.text("itch-zone", i.zone, false,
           {s, kFeedScopes, "time zone whose midnight ITCH timestamps count from (UTC or a tz database name)"});
    v.uint64("itch-max-orders", i.max_orders, 1, std::uint64_t{1} << 31,
             {s, kFeedScopes, "live orders the ITCH order table holds (48 bytes each); adds beyond are counted",
              "orders"});
    v.choice("itch-order-index", i.order_index,
             {{"sequential", ItchOrderTable::Index::kSequential}, {"hashed", ItchOrderTable::Index::kHashed}},
             {s, kFeedScopes, "how an order reference finds its slot: sequential (reference modulo the table: Nasdaq's "
                              "references increase through the day, recent orders share cache lines) or hashed "
                              "(Fibonacci: any references)"});
  }
  // ---- MoldUDP64 ----
  {
    const char* s = "MoldUDP64";
    ItchFeedOptions& i = o.itch;
    v.uint64("itch-pcap-port", i.pcap_port, 0, 65535,
             {s, kFeedScopes, "UDP destination port of the MoldUDP64 packets an itch-pcap: capture is read for; 0 = "
                              "every UDP datagram"});
    v.text("moldudp64-request", i.mold_request, false,
           {s, kFeedScopes, "re-request server of moldudp64: feeds, ADDR:PORT (IPv4); gaps are asked for there", "",
            "none: gaps are given up"});
    v.text("moldudp64-interface", i.mold_interface, false,
           {s, kFeedScopes, "IPv4 address of the interface a moldudp64: multicast group is joined on (127.0.0.1: "
                            "loopback)"});
    v.uint64("moldudp64-window", i.mold_window, 1, 65536,
             {s, kFeedScopes, "packets held out of order behind a gap (2 KiB each)", "packets"});
    v.duration("moldudp64-gap-wait", i.mold_gap_wait_ns, true,
               {s, kFeedScopes, "how long a gap waits for reordered packets before it is requested (a capture: "
                                "given up), on the clock or the capture's timestamps"});
    v.duration("moldudp64-timeout", i.mold_timeout_ns, false,
               {s, kFeedScopes, "an unanswered retransmission request is sent again after this long"});
    v.uint32("moldudp64-retries", i.mold_retries, 0, 1000,
             {s, kFeedScopes, "requests sent again before a gap is given up (reported with its range)"});
    v.choice("moldudp64-gap-policy", i.mold_stop_on_gap, {{"continue", false}, {"stop", true}},
             {s, kFeedScopes, "a gap given up: continue with the next messages, or stop the feed"});
    v.uint64("moldudp64-receive-buffer", i.mold_receive_buffer, 65536, std::uint64_t{1} << 30,
             {s, kFeedScopes, "receive buffer of the moldudp64: socket (SO_RCVBUF; SO_RCVBUFFORCE when allowed)",
              "bytes"});
  }
  // ---- itch-serve ----
  {
    const char* s = "itch-serve";
    ItchServeOptions& q = o.serve;
    v.text("serve-file", q.file, false, {s, kServe, "the ITCH 5.0 file to replay (BinaryFILE, plain)"});
    v.text("serve-to", q.to, false, {s, kServe, "where the MoldUDP64 packets go: ADDR:PORT, unicast or a multicast group"});
    v.text("serve-interface", q.interface_address, false, {s, kServe, "IPv4 address of the interface multicast is sent on"});
    v.text("serve-requests", q.requests, false,
           {s, kServe, "ADDR:PORT to answer retransmission requests on (port 0: any free one)", "", "none"});
    v.text("serve-session", q.session, false, {s, kServe, "the MoldUDP64 session name (1-10 characters)"});
    v.real("serve-rate", q.rate, 0, 1e10, {s, kServe, "messages per second; 0 = as fast as the socket takes them", "messages/s"});
    v.uint32("serve-packet-bytes", q.packet_bytes, 86, 2048,
             {s, kServe, "largest packet, the 20-byte header included (a moldudp64: feed takes up to 2048)", "bytes"});
    v.real("serve-loss", q.loss, 0, 1, {s, kServe, "share of packets not sent the first time (seeded)"});
    v.real("serve-duplicate", q.duplicate, 0, 1, {s, kServe, "share of packets sent twice"});
    v.real("serve-reorder", q.reorder, 0, 1, {s, kServe, "share of packets sent after the next one"});
    v.real("serve-answer-loss", q.answer_loss, 0, 1, {s, kServe, "share of retransmission requests left unanswered"});
    v.uint64("serve-drop-answers", q.drop_answers, 0, UINT64_MAX,
             {s, kServe, "leave the first N retransmission requests unanswered (a lost retransmission)", "requests"});
    v.uint64("serve-seed", q.seed, 0, UINT64_MAX, {s, kServe, "seed of the injected loss, duplication and reordering"});
    v.duration("serve-heartbeat", q.heartbeat_ns, false,
               {s, kServe, "a heartbeat when paced sending pauses this long; end-of-session packets this often (at most 100 ms apart)"});
    v.duration("serve-linger", q.linger_ns, true,
               {s, kServe, "after the end of session, keep answering requests until this long passes without one"});
    v.uint64("serve-max-messages", q.max_messages, 0, UINT64_MAX, {s, kServe, "serve only the first N messages; 0 = all", "messages"});
  }
  // ---- engine ----
  {
    const char* s = "engine";
    EngineConfig& e = o.engine;
    v.uint32_list("sma", e.sma_windows, 1, kMaxWindowLength, 1, kMaxSmaWindows,
                  {s, kEngineScopes, "SMA, variance, standard deviation and EMA windows, ascending", "ticks"});
    v.uint32("ddof", e.ddof, 0, 1, {s, kEngineScopes, "variance convention: 1 = sample (pandas, Spark), 0 = population (TA-Lib)"});
    v.uint32_or_zero("volatility-window", e.volatility_window, 2, kMaxWindowLength,
             {s, kEngineScopes, "returns in the volatility; 0 = the longest SMA window", "ticks"});
    v.uint32("volume-window", e.volume_window, 1, kMaxWindowLength, {s, kEngineScopes, "ticks in the rolling mean volume", "ticks"});
    v.uint32("max-tickers", e.max_tickers, 1, kMaxTickers, {s, kEngineScopes, "symbol table capacity", "tickers"});
    v.uint32("extrema-capacity", e.extrema_capacity, kMinExtremaCapacity, kMaxExtremaCapacity,
             {s, kEngineScopes, "most entries of one window high/low deque (beyond: the oldest is dropped and "
                                "counted)"});
    v.uint32("extrema-pool", e.extrema_pool, kMinExtremaPool, kMaxExtremaPool,
             {s, kEngineScopes, "the high/low deques' shared storage, entries per deque on average (max-tickers × 2 × "
                                "this × 16 bytes); a deque that cannot grow drops its oldest entry (counted)"});
    v.uint32("ring-capacity", e.ring_capacity, kMinRingCapacity, kMaxRingCapacity,
             {s, kEngineScopes, "slots per (feed, shard) ring, rounded up to a power of two", "ticks"});
    v.choice("full-policy", e.full_policy, {{"block", FullPolicy::kBlock}, {"drop", FullPolicy::kDropNewest}},
             {s, kEngineScopes, "a full ring: block (the feed waits, nothing lost) or drop (counted)"});
    v.uint32("shards", e.shards, 1, kMaxShards, {s, kEngineScopes, "engine shard threads; tickers are split between them"});
    v.cpus("engine-cpu", o.engine_cpus, {s, kEngineScopes, "CPU of each shard thread, comma-separated; -1 = not pinned", "",
                                         "not pinned"});
    v.choice("idle", o.engine_idle,
             {{"spin", IdleKind::kBusySpin}, {"yield", IdleKind::kSpinYield}, {"backoff", IdleKind::kBackoff},
              {"sleep", IdleKind::kSleep}},
             {s, kEngineScopes, "shard threads with empty rings: spin, yield (spin then yield), backoff (spin, yield, "
                                "then 50 µs sleeps) or sleep (1 ms)"});
  }
  rule_rows(o.engine.rules, v);
  // ---- outputs ----
  {
    const char* s = "outputs";
    v.text("metrics-out", o.metrics_out, false,
           {s, kRun | kEmbed, "every tick's metrics as CSV to this file (written by the sinks thread)", "", "none"});
    v.choice("metrics-full", o.metrics_full, {{"block", RelayFull::kWait}, {"drop", RelayFull::kDrop}},
             {s, kRun | kEmbed, "--metrics-out behind the engine: block (the shard waits, counted; the file is complete) "
                                "or drop (the shard never waits; dropped rows are counted)"});
    v.uint64("rotate-size", o.rotation.max_bytes, 0, UINT64_MAX,
             {s, kRun | kEmbed, "output files (alerts-out, daily-out, metrics-out) continue in NAME.1.EXT, NAME.2.EXT, … "
                                "once a part reaches this many bytes; 0 = never", "bytes"});
    v.flag("rotate-daily", o.rotation.daily,
           {s, kRun | kEmbed, "output files: one per UTC day of event time, NAME-YYYY-MM-DD.EXT"});
    v.text("alerts-out", o.alerts_out, false, {s, kRun | kEmbed, "every alert as a JSON line to this file; - = stdout", "", "none"});
    v.uint32("print-alerts", o.print_alerts, 0, 1u << 30, {s, kRun, "human-readable alerts on stdout, at most this many a second; 0 = none", "alerts/s"});
    v.text("summary-json", o.summary_json, false, {s, kRun, "every figure of the summary as JSON to this file", "", "none"});
    v.int32("sinks-cpu", o.sinks_cpu, -1, 1 << 20, {s, kRun | kEmbed, "CPU of the alert sinks thread; -1 = not pinned"});
    v.uint32("sink-queue", o.sink_queue, 2, 1u << 24,
             {s, kRun | kEmbed, "records per shard and kind (alerts, daily summaries, metrics rows) between the engine and the sinks thread", "records"});
  }
  // ---- the dashboard ----
  {
    const char* s = "dashboard";
    v.text("http", o.http, true,
           {s, kRun | kEmbed, "serve the dashboard's API, its event stream and /metrics (Prometheus) on HOST:PORT "
                              "(port 0: any free one; the URL is printed); off = none", "", "off"});
    v.text("http-token", o.http_token, false,
           {s, kRun | kEmbed, "every HTTP request must carry this (Authorization: Bearer TOKEN or ?token=); needed "
                              "to listen beyond loopback; also from TICKFORGE_HTTP_TOKEN; never printed", "", "none"});
    v.uint32("http-max-clients", o.http_max_clients, 1, 10000,
             {s, kRun | kEmbed, "HTTP connections open at once, event streams included; beyond, 503", "clients"});
    v.int32("http-cpu", o.http_cpu, -1, 1 << 20, {s, kRun | kEmbed, "CPU of the HTTP server thread; -1 = not pinned"});
    v.duration("http-write-timeout", o.http_write_timeout_ns, false,
               {s, kRun | kEmbed, "a client that does not take a response or an event within this is dropped "
                                  "(counted), so that a stuck browser never holds the server"});
    v.uint32("http-history", o.http_history, 2, 86400,
             {s, kRun | kEmbed, "per ticker, the dashboard keeps this many points of history, one per second of "
                                "event time", "points"});
  }
  // ---- daily summaries ----
  {
    const char* s = "daily summaries";
    DailyConfig& d = o.engine.daily;
    v.text("daily-out", o.daily_out, false,
           {s, kRun | kEmbed, "per ticker and day: open, high, low, close, mean, VWAP, volume, ticks, moves, alerts; CSV, "
                              "or JSON lines for a .jsonl name; - = stdout", "", "none"});
    v.zone("daily-time-zone", d.zone, {s, kRun | kEmbed, "the time zone of the calendar day (DST handled), e.g. America/New_York"});
    v.session("daily-session", d, {s, kRun | kEmbed, "count only ticks in this local session of each day, e.g. 09:30-16:00"});
    v.real("daily-move-pct", d.move_pct, 1e-9, 1e9,
           {s, kRun | kEmbed, "a tick-to-tick move of at least this much within a day counts as a move up or down", "%"});
  }
  // ---- PostgreSQL ----
  {
    const char* s = "PostgreSQL";
    PostgresOptions& p = o.postgres;
    v.conninfo("sink", o.sink,
               {s, kRun | kEmbed, "write alerts, daily summaries and metric snapshots to PostgreSQL: a libpq URI "
                                  "(postgresql://user@host:port/db) or postgresql:key=value …; the password from "
                                  "PGPASSWORD, ~/.pgpass or sink-password-file, never printed", "", "none"});
    v.text("sink-password-file", p.password_file, false,
           {s, kRun | kEmbed, "PostgreSQL: read the password from this file's first line", "", "none"});
    v.choice("pg-copy", p.copy, {{"binary", pg::CopyFormat::kBinary}, {"text", pg::CopyFormat::kText}},
             {s, kRun | kEmbed, "COPY format of the batches: binary or text"});
    v.uint32("pg-batch", p.batch_rows, 1, 10'000'000, {s, kRun | kEmbed, "rows per table per transaction, at most", "rows"});
    v.uint32("pg-buffer", p.buffer_rows, 1, 100'000'000,
             {s, kRun | kEmbed, "rows per table kept by the sink while the server is away; beyond, dropped and counted",
              "rows"});
    v.uint32("pg-queue", p.queue, 2, 1u << 24,
             {s, kRun | kEmbed, "records per shard and table between the engine and the sink thread; full = dropped and "
                                "counted (the engine never waits)", "records"});
    v.duration("pg-flush-interval", p.flush_interval_ns, false,
               {s, kRun | kEmbed, "a batch smaller than pg-batch is written after this long"});
    v.flag("pg-metrics", p.metrics, {s, kRun | kEmbed, "write per-ticker metric snapshots (table metrics)"});
    v.duration("pg-metrics-interval", p.metrics_interval_ns, true,
               {s, kRun | kEmbed, "metric snapshots: at most one per ticker per this much event time; 0 = every tick"});
    v.duration("pg-connect-timeout", p.connect_timeout_ns, false,
               {s, kRun | kEmbed, "the server must answer within this (at start-up and on each reconnect)"});
    v.duration("pg-flush-timeout", p.flush_timeout_ns, false,
               {s, kRun | kEmbed, "at the end, write what is pending within this (reconnecting as needed), then report "
                                  "the rest lost"});
  }
  // ---- run ----
  {
    const char* s = "run";
    v.seconds("duration", o.duration_seconds,
              {s, kRun | kBroker | kProduce, "seconds to run; 0 = until the input ends or a signal", "s",
               "synthetic 5, other feeds until their input ends"});
    v.duration("shutdown-timeout", o.shutdown_timeout_ns, false,
               {s, kRun, "once a stop begins, it must make progress (ticks drained, records written) at least once "
                         "per this, or the run reports what is stuck and exits 3"});
  }
  // ---- Kafka ----
  {
    const char* s = "Kafka";
    KafkaSettings& k = o.kafka;
    v.text("brokers", k.brokers, true, {s, kRun | kProduce | kEmbed, "bootstrap servers host:port,…", "", "the embedded cluster"});
    v.kafka_property("kafka", k.properties,
                     {s, kKafkaScopes, "one librdkafka property KEY=VALUE for every client (repeatable; in TOML a "
                                       "[kafka] table); secrets are never printed", "", "none"});
    v.flag("publish-alerts", k.publish_alerts, {s, kRun | kEmbed, "publish every alert to the alerts topic"});
    v.topic("alerts-topic", k.alerts_topic, {s, kRun | kBroker | kEmbed, "topic of the alerts"});
    v.topic("metrics-topic", k.metrics_topic, {s, kRun | kEmbed, "topic of per-ticker metric snapshots", "", "off"});
    v.topic("daily-topic", k.daily_topic, {s, kRun | kEmbed, "topic of the daily summaries (JSON, key = ticker)", "", "off"});
    v.duration("metrics-interval", k.metrics_interval_ns, true,
               {s, kRun | kEmbed, "metric snapshots: at most one per ticker per this much event time; 0 = every tick"});
    v.topic("dead-letter-topic", k.dead_letter_topic, {s, kRun | kEmbed, "Kafka feeds: bad messages go here with the reason", "", "off"});
    v.text("group-id", k.group_id, true, {s, kRun | kEmbed, "Kafka feeds: consumer group id"});
    v.topic("instance-id", k.instance_id, {s, kRun | kEmbed, "prefix of every alert id", "", "hostname-pid-starttime"});
    v.uint32("embedded-brokers", k.embedded_brokers, 1, 16, {s, kRun | kBroker | kEmbed, "brokers of the embedded cluster"});
    v.uint32("partitions", k.partitions, 1, 1024, {s, kRun | kBroker | kEmbed, "partitions of each topic created in the embedded cluster"});
    v.uint32("publish-queue", k.queue_capacity, 1024, 1u << 24,
             {s, kRun | kEmbed, "engine → publisher queue, alerts per shard; full = dropped and counted", "alerts"});
    v.duration("flush-timeout", k.flush_timeout_ns, false, {s, kRun | kProduce | kEmbed, "at the end, wait this long for Kafka deliveries"});
    v.duration("kafka-connect-timeout", k.connect_timeout_ns, false,
               {s, kRun | kProduce | kEmbed, "at start-up, the cluster must answer within this"});
    v.flag("stop-at-eof", k.stop_at_eof, {s, kRun | kEmbed, "Kafka feeds end once every assigned partition is read to its end"});
    v.choice("offset-reset", k.offset_reset, {{"earliest", std::string("earliest")}, {"latest", std::string("latest")}},
             {s, kRun | kEmbed, "Kafka feeds: where a group without committed offsets starts"});
    v.json_fields("json-fields", k.fields,
                  {s, kRun | kEmbed, "JSON keys of the tick fields, e.g. ticker=Index,price=Close,timestamp=Date,volume=Volume",
                   "", "ticker|symbol, price, timestamp|ts|event_time, volume|size"});
    v.int32("publisher-cpu", k.publisher_cpu, -1, 1 << 20, {s, kRun | kEmbed, "CPU of the Kafka publisher thread; -1 = not pinned"});
  }
  // ---- subcommands ----
  v.topic("topic", o.produce_topic, {"produce", kProduce, "the topic ticks are written to"});
  v.topic_list("topics", o.broker_topics,
               {"broker", kBroker, "topics to create, comma-separated", "",
                "tickforge.ticks,tickforge.alerts,tickforge.metrics,tickforge.dead-letter"});
}

// ---- Apply: one value into its field ----------------------------------------------------------------

struct Apply {
  std::string name;  // normalised
  std::string_view value;
  unsigned scope;
  bool per_ticker_only = false;
  bool found = false;

  bool mine(const char* row, const Meta& m) {
    if (found || name != row || (per_ticker_only && !m.per_ticker)) {
      return false;
    }
    if ((m.scopes & scope) == 0) {
      throw UnknownSetting("'" + name + "' is not a setting here (tickforge " + scope_names(m.scopes) + ")");
    }
    found = true;
    return true;
  }
  static std::string scope_names(unsigned scopes) {
    std::string out;
    for (const auto& [bit, n] : {std::pair{kRun, "run"}, std::pair{kBroker, "broker"}, std::pair{kProduce, "produce"},
                                        std::pair{kServe, "itch-serve"}}) {
      if ((scopes & bit) != 0) {
        out += out.empty() ? "" : ", ";
        out += n;
      }
    }
    return out + ((scopes & kEmbed) != 0 ? " and the C API" : " only");
  }
  template <typename T>
  static void in_range(T v, T lo, T hi) {
    if (v < lo || v > hi) {
      if constexpr (std::is_floating_point_v<T>) {
        bad("must be in [" + number_text(lo) + ", " + number_text(hi) + "], got " + number_text(v));
      } else {
        bad("must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(v));
      }
    }
  }

  void uint32(const char* n, std::uint32_t& f, std::uint32_t lo, std::uint32_t hi, const Meta& m) {
    if (mine(n, m)) {
      const auto v = to_int<std::uint64_t>(value);
      in_range<std::uint64_t>(v, lo, hi);
      f = static_cast<std::uint32_t>(v);
    }
  }
  void uint32_or_zero(const char* n, std::uint32_t& f, std::uint32_t lo, std::uint32_t hi, const Meta& m) {
    if (mine(n, m)) {
      const auto v = to_int<std::uint64_t>(value);
      if (v != 0 && (v < lo || v > hi)) {
        bad("must be 0 or in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(v));
      }
      f = static_cast<std::uint32_t>(v);
    }
  }
  void uint64(const char* n, std::uint64_t& f, std::uint64_t lo, std::uint64_t hi, const Meta& m) {
    if (mine(n, m)) {
      const auto v = to_int<std::uint64_t>(value);
      in_range(v, lo, hi);
      f = v;
    }
  }
  void int32(const char* n, std::int32_t& f, std::int32_t lo, std::int32_t hi, const Meta& m) {
    if (mine(n, m)) {
      const auto v = to_int<std::int64_t>(value);
      in_range<std::int64_t>(v, lo, hi);
      f = static_cast<std::int32_t>(v);
    }
  }
  void real(const char* n, double& f, double lo, double hi, const Meta& m) {
    if (mine(n, m)) {
      const double v = to_double(value);
      in_range(v, lo, hi);
      f = v;
    }
  }
  void seconds(const char* n, double& f, const Meta& m) {
    if (mine(n, m)) {
      const double v = to_double(value);
      in_range(v, 0.0, 3.2e9);  // ~100 years
      f = v;
    }
  }
  void duration(const char* n, std::int64_t& f, bool allow_zero, const Meta& m) {
    if (mine(n, m)) {
      f = parse_duration_ns(value, allow_zero);
    }
  }
  void cooldown(const char* n, std::int64_t& f, const Meta& m) {
    if (mine(n, m)) {
      f = parse_duration_ns(value, /*allow_zero=*/true);
    }
  }
  void flag(const char* n, bool& f, const Meta& m) {
    if (mine(n, m)) {
      f = to_bool(value);
    }
  }
  void zone(const char* n, UtcOffsets& f, const Meta& m) {
    if (mine(n, m)) {
      f = load_utc_offsets(trim(value));
    }
  }
  void session(const char* n, DailyConfig& f, const Meta& m) {
    if (mine(n, m)) {
      parse_session(trim(value), f.session_open_ns, f.session_close_ns);
    }
  }
  void conninfo(const char* n, std::string& f, const Meta& m) {
    if (mine(n, m)) {
      const std::string v = trim(value);
      (void)postgres_conninfo(v);  // refuses an unknown scheme without repeating the value
      f = v;
    }
  }
  void text(const char* n, std::string& f, bool required, const Meta& m) {
    if (mine(n, m)) {
      f = trim(value);
      if (required && f.empty()) {
        bad("expected a value");
      }
    }
  }
  void topic(const char* n, std::string& f, const Meta& m) {
    if (mine(n, m)) {
      f = topic_name(value);
    }
  }
  void topic_list(const char* n, std::vector<std::string>& f, const Meta& m) {
    if (mine(n, m)) {
      for (const std::string& t : split_list(value)) {
        f.push_back(topic_name(t));
      }
    }
  }
  void text_list(const char* n, std::vector<std::string>& f, const Meta& m) {
    if (mine(n, m)) {
      for (std::string& t : split_list(value)) {
        f.push_back(std::move(t));
      }
    }
  }
  void uint32_list(const char* n, std::vector<std::uint32_t>& f, std::uint32_t lo, std::uint32_t hi, std::size_t min_n,
                   std::size_t max_n, const Meta& m) {
    if (mine(n, m)) {
      std::vector<std::uint32_t> out;
      for (const std::string& item : split_list(value)) {
        const auto v = to_int<std::uint64_t>(item);
        in_range<std::uint64_t>(v, lo, hi);
        out.push_back(static_cast<std::uint32_t>(v));
      }
      if (out.size() < min_n || out.size() > max_n) {
        bad("give " + std::to_string(min_n) + " to " + std::to_string(max_n) + " values");
      }
      f = std::move(out);
    }
  }
  void cpus(const char* n, std::vector<int>& f, const Meta& m) {
    if (mine(n, m)) {
      std::vector<int> out;
      for (const std::string& item : split_list(value)) {
        const auto v = to_int<std::int64_t>(item);
        in_range<std::int64_t>(v, -1, 1 << 20);
        out.push_back(static_cast<int>(v));
      }
      f = std::move(out);
    }
  }
  template <typename T>
  void choice(const char* n, T& f, std::initializer_list<std::pair<const char*, T>> options, const Meta& m) {
    if (mine(n, m)) {
      const std::string s = trim(value);
      std::string names;
      for (const auto& [text, v] : options) {
        if (s == text) {
          f = v;
          return;
        }
        names += names.empty() ? "" : ", ";
        names += text;
      }
      bad("expected one of " + names + ", got '" + s + "'");
    }
  }
  void feeds(const char* n, std::vector<FeedSpec>& f, const Meta& m) {
    if (mine(n, m)) {
      for (const std::string& item : split_list(value)) {
        f.push_back(parse_feed_spec(item));
      }
    }
  }
  void kafka_property(const char* n, std::vector<std::pair<std::string, std::string>>& f, const Meta& m) {
    if (mine(n, m)) {
      const std::size_t eq = value.find('=');
      const std::string key = eq == std::string_view::npos ? std::string() : trim(value.substr(0, eq));
      if (key.empty()) {
        bad("expected KEY=VALUE, e.g. security.protocol=SASL_SSL");  // the value is not echoed
      }
      f.emplace_back(key, std::string(value.substr(eq + 1)));
    }
  }
  void json_fields(const char* n, JsonFieldMap& f, const Meta& m) {
    if (mine(n, m)) {
      for (const std::string& item : split_list(value)) {
        const std::size_t eq = item.find('=');
        const std::string field = trim(std::string_view(item).substr(0, eq));
        const std::string key = eq == std::string::npos ? std::string() : trim(item.substr(eq + 1));
        std::string* target = field == "ticker"      ? &f.ticker
                              : field == "price"     ? &f.price
                              : field == "timestamp" ? &f.timestamp
                              : field == "volume"    ? &f.volume
                                                     : nullptr;
        if (target == nullptr || key.empty()) {
          bad("expected FIELD=KEY with FIELD one of ticker, price, timestamp, volume; got '" + item + "'");
        }
        *target = key;
      }
    }
  }
};

// ---- Describe: what help and docs show ---------------------------------------------------------------

struct Describe {
  std::vector<SettingInfo> out;
  bool raw = false;  // the field's own value, never a derived default's text (show_setting)

  SettingInfo& add(const char* n, const Meta& m, const char* value, std::string shown, std::string range = {}) {
    SettingInfo i;
    i.name = n;
    i.section = m.section;
    i.scopes = m.scopes;
    i.value = value;
    i.doc = m.doc;
    i.unit = m.unit;
    i.per_ticker = m.per_ticker;
    i.derived_default = m.default_text != nullptr && !raw;
    i.default_text = i.derived_default ? m.default_text : std::move(shown);
    i.range = std::move(range);
    out.push_back(std::move(i));
    return out.back();
  }
  template <typename T>
  static std::string bounds(T lo, T hi) {
    if constexpr (std::is_floating_point_v<T>) {
      return std::isinf(lo) && std::isinf(hi) ? "finite" : "[" + number_text(lo) + ", " + number_text(hi) + "]";
    } else {
      return hi == std::numeric_limits<T>::max() ? "≥ " + std::to_string(lo)
                                                 : "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    }
  }

  void uint32(const char* n, std::uint32_t& f, std::uint32_t lo, std::uint32_t hi, const Meta& m) {
    add(n, m, "N", std::to_string(f), bounds(lo, hi));
  }
  void uint32_or_zero(const char* n, std::uint32_t& f, std::uint32_t lo, std::uint32_t hi, const Meta& m) {
    add(n, m, "N", std::to_string(f), "0 or " + bounds(lo, hi));
  }
  void uint64(const char* n, std::uint64_t& f, std::uint64_t lo, std::uint64_t hi, const Meta& m) {
    add(n, m, "N", std::to_string(f), bounds(lo, hi));
  }
  void int32(const char* n, std::int32_t& f, std::int32_t lo, std::int32_t hi, const Meta& m) {
    add(n, m, "N", std::to_string(f), bounds(lo, hi));
  }
  void real(const char* n, double& f, double lo, double hi, const Meta& m) {
    add(n, m, "X", number_text(f), bounds(lo, hi));
  }
  void seconds(const char* n, double& f, const Meta& m) { add(n, m, "SECONDS", number_text(f), "[0, 3.2e9]"); }
  void duration(const char* n, std::int64_t& f, bool allow_zero, const Meta& m) {
    add(n, m, "DURATION", format_duration_setting(f), allow_zero ? "0 or [1ns, 36500d]" : "[1ns, 36500d]");
  }
  void cooldown(const char* n, std::int64_t& f, const Meta& m) {
    add(n, m, "DURATION", format_duration_setting(f), "0 or [1ns, 36500d]");
  }
  void flag(const char* n, bool& f, const Meta& m) { add(n, m, "true|false", f ? "true" : "false").is_bool = true; }
  void zone(const char* n, UtcOffsets& f, const Meta& m) { add(n, m, "ZONE", f.name, "UTC or a tz database name"); }
  void conninfo(const char* n, std::string& f, const Meta& m) {
    add(n, m, "URL", mask_password(f), "postgresql://… or postgresql:key=value …");
  }
  void session(const char* n, DailyConfig& f, const Meta& m) {
    add(n, m, "HH:MM-HH:MM", session_text(f.session_open_ns, f.session_close_ns), "local times, open < close; all = the whole day");
  }
  void text(const char* n, std::string& f, bool required, const Meta& m) {
    add(n, m, "TEXT", f, required ? "not empty" : "");
  }
  void topic(const char* n, std::string& f, const Meta& m) { add(n, m, "NAME", f, "1-249 of [A-Za-z0-9._-]"); }
  void topic_list(const char* n, std::vector<std::string>& f, const Meta& m) {
    add(n, m, "NAME,…", join(f), "1-249 of [A-Za-z0-9._-] each");
  }
  void text_list(const char* n, std::vector<std::string>& f, const Meta& m) {
    add(n, m, "TEXT,…", join(f)).repeatable = true;
  }
  void uint32_list(const char* n, std::vector<std::uint32_t>& f, std::uint32_t lo, std::uint32_t hi, std::size_t min_n,
                   std::size_t max_n, const Meta& m) {
    add(n, m, "N,…", join(f),
        std::to_string(min_n) + " to " + std::to_string(max_n) + " values in " + bounds(lo, hi));
  }
  void cpus(const char* n, std::vector<int>& f, const Meta& m) { add(n, m, "CPU,…", join(f), "-1 or a CPU of this process"); }
  template <typename T>
  void choice(const char* n, T& f, std::initializer_list<std::pair<const char*, T>> options, const Meta& m) {
    std::string names;
    std::string shown;
    for (const auto& [text, v] : options) {
      names += names.empty() ? "" : "|";
      names += text;
      shown = v == f ? text : shown;
    }
    add(n, m, names.c_str(), shown);
  }
  void feeds(const char* n, std::vector<FeedSpec>&, const Meta& m) {
    add(n, m, "SPEC", "", feed_syntaxes()).repeatable = true;
  }
  void kafka_property(const char* n, std::vector<std::pair<std::string, std::string>>&, const Meta& m) {
    add(n, m, "KEY=VALUE", "").repeatable = true;
  }
  void json_fields(const char* n, JsonFieldMap&, const Meta& m) { add(n, m, "FIELD=KEY,…", ""); }
};

Apply apply_to(RunOptions& o, std::string_view name, std::string_view value, unsigned scope) {
  Apply a{normalise(name), value, scope};
  try {
    rows(o, a);
  } catch (const UnknownSetting&) {
    throw;
  } catch (const std::invalid_argument& e) {
    bad("--" + a.name + ": " + e.what());
  }
  return a;
}

// A TOML value in the text form the setters take (arrays become comma lists).
std::string toml_text(const toml::node& node, const std::string& where) {
  if (const auto* arr = node.as_array()) {
    std::string out;
    for (const auto& item : *arr) {
      if (!out.empty()) {
        out += ',';
      }
      out += toml_text(item, where);
    }
    return out;
  }
  if (auto s = node.value<std::string>()) {
    return *s;
  }
  if (node.is_boolean()) {
    return *node.value<bool>() ? "true" : "false";
  }
  if (node.is_integer()) {
    return std::to_string(*node.value<std::int64_t>());
  }
  if (node.is_floating_point()) {
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof(buf), *node.value<double>());
    return std::string(buf, res.ptr);
  }
  bad(where + ": unsupported value type");
}

std::string where_of(const std::string& path, const toml::node& node) {
  return path + ":" + std::to_string(node.source().begin.line);
}


}  // namespace

std::int64_t parse_duration_ns(std::string_view text, bool allow_zero) {
  const std::string s = trim(text);
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) != 0 || s[i] == '.')) {
    ++i;
  }
  const std::string unit = s.substr(i);
  double scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1e9;
  } else if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "us") {
    scale = 1e3;
  } else if (unit == "ns") {
    scale = 1;
  } else if (unit == "m" || unit == "min") {
    scale = 60e9;
  } else if (unit == "h") {
    scale = 3600e9;
  } else if (unit == "d") {
    scale = 86400e9;
  } else {
    bad("expected a duration such as 60s, 500ms, 5m, 1h, 1d; got '" + s + "'");
  }
  const double value = to_double(s.substr(0, i));
  if (value == 0 && allow_zero) {
    return 0;
  }
  // Validated after rounding to whole nanoseconds: 0.4ns is not a positive duration.
  const double ns = value * scale;
  if (ns > static_cast<double>(kMaxDurationNs)) {
    bad("duration must be at most 36500d, got '" + s + "'");
  }
  const std::int64_t rounded = std::llround(ns);
  if (rounded <= 0) {
    bad(std::string(allow_zero ? "duration must be 0 or at least 1ns" : "duration must be at least 1ns") +
        " (whole nanoseconds), got '" + s + "'");
  }
  return rounded;
}

void apply_setting(RunOptions& opt, std::string_view name, std::string_view value, unsigned scope) {
  if (!apply_to(opt, name, value, scope).found) {
    throw UnknownSetting("unknown setting '" + std::string(name) + "' (tickforge run --help lists them)");
  }
}

void apply_rule_setting(RuleParams& rules, std::string_view name, std::string_view value) {
  Apply a{normalise(name), value, kScopeAll, /*per_ticker_only=*/true};
  try {
    rule_rows(rules, a);
  } catch (const std::invalid_argument& e) {
    bad(a.name + ": " + e.what());
  }
  if (!a.found) {
    throw UnknownSetting("unknown per-ticker rule setting '" + std::string(name) +
                         "' (alert-pct, alert-window, tick-change-pct, volatility-pct, sma-cross, volume-spike, cooldown)");
  }
}

RunOptions embed_defaults() {
  RunOptions o;
  o.kafka.publish_alerts = false;  // an embedded engine starts no Kafka client unless asked
  o.print_alerts = 0;              // nor writes to the embedder's stdout (not a C API key either)
  return o;
}

const std::vector<SettingInfo>& setting_table() {
  static const std::vector<SettingInfo> table = [] {
    RunOptions run_defaults;
    Describe d;
    rows(run_defaults, d);
    RunOptions embed = embed_defaults();
    Describe e;
    rows(embed, e);
    for (std::size_t i = 0; i < d.out.size(); ++i) {
      if ((d.out[i].scopes & kScopeEmbed) != 0 && e.out[i].default_text != d.out[i].default_text) {
        d.out[i].embed_default = e.out[i].default_text;
      }
    }
    return std::move(d.out);
  }();
  return table;
}

std::string show_setting(const RunOptions& opt, std::string_view name) {
  RunOptions copy = opt;
  Describe d;
  d.raw = true;
  rows(copy, d);
  const std::string n = normalise(name);
  for (const SettingInfo& i : d.out) {
    if (i.name == n) {
      return i.default_text;
    }
  }
  throw UnknownSetting("unknown setting '" + std::string(name) + "'");
}

std::string settings_markdown() {
  std::ostringstream md;
  md << "# Settings\n\n"
        "Generated from the settings table (`app/settings.cpp`) by `tickforge settings --markdown`; a test fails "
        "when this file and the table differ.\n\n"
        "Every setting is a flag (`--alert-pct 3`; a boolean alone means true: `--stop-at-eof`), a top-level key "
        "of the TOML file given with `--config` (`alert-pct = 3`; `alert_pct` works too) and, when its scope "
        "says C API, a key of `tf_config_set`. Flags override the file. Per-ticker rule overrides live in "
        "`[tickers.SYMBOL]` tables (the rows marked *per ticker*); librdkafka properties in a `[kafka]` table "
        "or `--kafka KEY=VALUE`. Durations are a number and a unit: `500ms`, `60s`, `5m`, `2h`, `1d`, `30us`, "
        "`100ns` (a bare number is seconds), rounded to whole nanoseconds and then checked.\n\n"
        "Feed kinds (`--feed`):\n\n";
  for (const FeedKind& k : feed_kinds()) {
    md << "- `" << k.syntax << "`: " << k.doc << "\n";
  }
  std::string section;
  for (const SettingInfo& i : setting_table()) {
    if (i.section != section) {
      section = i.section;
      md << "\n## " << section << "\n\n| setting | value | default | range | used by | meaning |\n"
            "|---|---|---|---|---|---|\n";
    }
    std::string scopes = Apply::scope_names(i.scopes);
    std::string value = i.value + (i.unit.empty() ? "" : " " + i.unit);
    for (std::size_t at = value.find('|'); at != std::string::npos; at = value.find('|', at + 2)) {
      value.insert(at, 1, '\\');  // a pipe would end the table cell
    }
    md << "| `" << i.name << "`" << (i.per_ticker ? " (per ticker)" : "") << " | " << value << " | "
       << (i.default_text.empty() ? "—" : i.default_text)
       << (i.embed_default.empty() ? "" : " (C API: " + i.embed_default + ")") << " | " << (i.range.empty() ? "—" : i.range) << " | "
       << scopes << " | " << i.doc << (i.repeatable ? " (repeatable)" : "") << " |\n";
  }
  return md.str();
}

namespace {

// Rethrows e with a location prefix, keeping "unknown setting" apart from "bad value".
[[noreturn]] void rethrow_at(const std::string& where, const std::invalid_argument& e) {
  if (dynamic_cast<const UnknownSetting*>(&e) != nullptr) {
    throw UnknownSetting(where + ": " + e.what());
  }
  bad(where + ": " + e.what());
}

void load_config_table(RunOptions& opt, const toml::table& root, const std::string& path, unsigned scope);

}  // namespace

void load_config_file(RunOptions& opt, const std::string& path, unsigned scope) {
  std::string text;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    throw ConfigFileError(path + ": cannot be read: " + std::strerror(errno));
  }
  char buf[1 << 14];
  for (std::size_t n = 0; (n = std::fread(buf, 1, sizeof buf, f)) != 0;) {
    text.append(buf, n);
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) {
    throw ConfigFileError(path + ": read failed");
  }
  load_config_string(opt, text, path, scope);
}

void load_config_string(RunOptions& opt, std::string_view text, const std::string& name, unsigned scope) {
  const std::string ascii = toml_ascii(text, name);  // toml++ 3.3.0 must not see non-ASCII (toml_guard.hpp)
  toml::table root;
  try {
    root = toml::parse(ascii, name);
  } catch (const toml::parse_error& e) {
    bad(name + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  load_config_table(opt, root, name, scope);
}

namespace {

void load_config_table(RunOptions& opt, const toml::table& root, const std::string& path, unsigned scope) {
  // Global settings first (tables iterate in key order, and [tickers] must not depend on it).
  // "tickers" is both a setting (a count) and the table of per-ticker overrides: a table is the latter.
  for (const auto& [key, node] : root) {
    if (key.str() == "tickers" && node.is_table()) {
      continue;
    }
    if (const toml::table* props = node.as_table(); key.str() == "kafka" && props != nullptr) {
      for (const auto& [pk, pnode] : *props) {  // [kafka] "security.protocol" = "SASL_SSL"
        opt.kafka.properties.emplace_back(std::string(pk.str()), toml_text(pnode, where_of(path, pnode)));
      }
      continue;
    }
    const std::string where = where_of(path, node);
    try {
      apply_setting(opt, key.str(), toml_text(node, where), scope);
    } catch (const std::invalid_argument& e) {
      rethrow_at(where, e);
    }
  }
  const toml::node* tickers_node = root.get("tickers");
  const toml::table* tickers = tickers_node != nullptr ? tickers_node->as_table() : nullptr;
  if (tickers == nullptr) {
    return;
  }
  for (const auto& [ticker, tnode] : *tickers) {
    const toml::table* t = tnode.as_table();
    if (t == nullptr) {
      bad(where_of(path, tnode) + ": tickers." + std::string(ticker.str()) + " must be a table");
    }
    RunOptions::TickerOverride ov{std::string(ticker.str()), {}};
    RuleParams scratch;  // checks every key and value now, so errors carry the file and line
    for (const auto& [rk, rnode] : *t) {
      const std::string rwhere = where_of(path, rnode);
      std::string value = toml_text(rnode, rwhere);
      try {
        apply_rule_setting(scratch, rk.str(), value);
      } catch (const std::invalid_argument& e) {
        rethrow_at(rwhere + ": tickers." + ov.ticker, e);
      }
      ov.settings.emplace_back(std::string(rk.str()), std::move(value));
    }
    opt.ticker_overrides.push_back(std::move(ov));
  }
}

}  // namespace

void RunOptions::finalize() {
  engine.ticker_rules.clear();
  for (const TickerOverride& ov : ticker_overrides) {
    RuleParams rules = engine.rules;
    for (const auto& [k, v] : ov.settings) {
      apply_rule_setting(rules, k, v);
    }
    engine.ticker_rules.emplace_back(ov.ticker, rules);
  }
  engine.daily.enabled = engine.daily.enabled || wants_daily();
  engine.validate();
  parse_http();
}

void RunOptions::parse_http() {
  http_host.clear();
  http_port = 0;
  if (http == "off") {
    return;
  }
  // HOST:PORT, [V6]:PORT
  const std::size_t colon = http.rfind(':');
  std::string host = colon == std::string::npos ? std::string() : http.substr(0, colon);
  const std::string port = colon == std::string::npos ? std::string() : http.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned long p = 0;
  const auto r = std::from_chars(port.data(), port.data() + port.size(), p);
  if (host.empty() || port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || p > 65535) {
    throw std::invalid_argument("http: '" + http + "': expected HOST:PORT (127.0.0.1:8080, [::1]:8080, port 0 = any) or off");
  }
  if (http_token.empty()) {
    if (const char* t = std::getenv("TICKFORGE_HTTP_TOKEN"); t != nullptr) {
      http_token = t;
    }
  }
  const bool loopback = host.rfind("127.", 0) == 0 || host == "::1" || host == "localhost";
  if (!loopback && http_token.empty()) {
    throw std::invalid_argument("http: listening on " + host +
                                " (beyond loopback) needs http-token (or TICKFORGE_HTTP_TOKEN)");
  }
  http_host = host == "localhost" ? "127.0.0.1" : host;
  http_port = static_cast<std::uint16_t>(p);
}

}  // namespace tickforge
