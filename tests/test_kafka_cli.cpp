// The tickforge binary with Kafka, end to end, against an embedded cluster hosted by this test process
// (so it outlives the engine processes) or the binary's own default cluster; everything written is read
// back with an independent librdkafka consumer or with kcat, a Kafka client of its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "embedded_cluster.hpp"
#include "kafka_support.hpp"
#include "support.hpp"

using tickforge::kafka::EmbeddedCluster;
using tickforge::test::Child;
using tickforge::test::data_path;
using tickforge::test::json_field;
using tickforge::test::produce_all;
using tickforge::test::read_plain_csv;
using tickforge::test::read_topic;
using tickforge::test::run_binary;
using tickforge::test::slurp;

namespace {

std::string temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tickforge_kc_" + std::to_string(getpid()) + "_" + name)).string();
}

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// Runs a shell command and returns its stdout.
std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    return out;
  }
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
    out.append(buf, n);
  }
  pclose(p);
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) {
    if (!line.empty()) {
      out.push_back(line);
    }
  }
  return out;
}

// A seed-format message's ticker ({"ticker": "AAPL", ...}).
std::string seed_ticker(const std::string& json) {
  const std::size_t a = json.find("\"ticker\": \"") + 11;
  return json.substr(a, json.find('"', a) - a);
}

std::vector<std::string> seed_messages() {
  return lines_of(slurp(data_path("json/seed_format_mag7_2023_daily_close.jsonl")));
}

// Synthetic ticks in the feed's JSON format: `tickers` names, distinct event times, keyed by ticker.
std::vector<std::pair<std::string, std::string>> make_ticks(std::size_t n, std::size_t tickers, std::size_t first = 0) {
  std::vector<std::pair<std::string, std::string>> kv;
  for (std::size_t i = first; i < first + n; ++i) {
    const std::string t = "TK" + std::to_string(i % tickers);
    const double price = 100.0 + static_cast<double>(i % 97) * 0.25;
    kv.emplace_back(t, "{\"ticker\":\"" + t + "\",\"price\":" + std::to_string(price) +
                           ",\"timestamp\":" + std::to_string(1'700'000'000'000 + i) + "}");  // epoch ms
  }
  return kv;
}

// "ticker@event_ns" of every metric snapshot in the topic, with the instance that sent it.
std::vector<std::pair<std::string, std::string>> snapshots(const std::string& bootstrap, const std::string& topic) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& m : read_topic(bootstrap, topic, 60)) {
    out.emplace_back(json_field(m.value, "ticker") + "@" + json_field(m.value, "event_ns"),
                     json_field(m.value, "instance"));
  }
  return out;
}

std::string bootstrap_from(const std::string& err) {
  const std::string tag = "embedded Kafka cluster at ";
  const std::size_t a = err.find(tag);
  if (a == std::string::npos) {
    return {};
  }
  return err.substr(a + tag.size(), err.find(' ', a + tag.size()) - a - tag.size());
}

// The last "now assigned: …" partition list a feed printed.
std::set<int> assigned_now(const std::string& err) {
  std::set<int> parts;
  const std::size_t a = err.rfind("now assigned: ");
  if (a == std::string::npos) {
    return parts;
  }
  std::stringstream ss(err.substr(a + 14, err.find(')', a) - a - 14));
  for (std::string item; std::getline(ss, item, ',');) {
    if (item != "none") {
      parts.insert(std::stoi(item));
    }
  }
  return parts;
}

}  // namespace

TEST(KafkaCli, ShouldServeAlertsToKcatWhileRunningOnTheEmbeddedDefault) {
  const std::string alerts = temp("default_alerts.jsonl");
  Child c({"run", "--duration", "5", "--rate", "100000", "--print-alerts", "0", "--alerts-out", alerts,
           "--instance-id", "e2e-default"},
          temp("default.out"), temp("default.err"));
  ASSERT_TRUE(c.wait_for_err("read the alerts with: kcat", 30)) << c.err();
  const std::string bootstrap = bootstrap_from(c.err());
  ASSERT_FALSE(bootstrap.empty()) << c.err();
  // kcat, while tickforge runs: everything published so far, once there is something (polled, not slept).
  std::vector<std::string> read;
  while (read.size() <= 10 && !c.exited()) {
    read = lines_of(shell("kcat -C -b " + bootstrap + " -t tickforge.alerts -o beginning -e -q -f '%k %s\\n' 2>/dev/null"));
  }
  ASSERT_EQ(c.wait(), 0) << c.err();
  ASSERT_GT(read.size(), 10u) << "kcat read nothing from " << bootstrap;
  std::set<std::string> written;
  for (const std::string& line : lines_of(slurp(alerts))) {
    written.insert(json_field(line, "alert_id"));
  }
  for (const std::string& line : read) {
    const std::string key = line.substr(0, line.find(' '));
    const std::string json = line.substr(line.find(' ') + 1);
    EXPECT_EQ(key, json_field(json, "ticker"));
    EXPECT_EQ(json_field(json, "instance"), "e2e-default");
    EXPECT_EQ(written.count(json_field(json, "alert_id")), 1u) << json;
  }
  // At exit every alert was delivered, none lost.
  EXPECT_TRUE(contains(c.err(), "failed 0  undelivered 0")) << c.err();
  EXPECT_TRUE(contains(c.err(), "produced " + std::to_string(written.size()) + "  delivered " +
                                    std::to_string(written.size())))
      << c.err();
}

TEST(KafkaCli, ShouldComputeFromKafkaWhatItComputesFromTheSameTicksAsCsvAndDeadLetterTheBad) {
  EmbeddedCluster cluster(3);
  cluster.create_topic("ticks", 6);
  cluster.create_topic("ticks.dlq", 2);
  cluster.create_topic("daily", 3);
  std::vector<std::pair<std::string, std::string>> kv;
  std::ofstream csv(temp("seed.csv"));
  csv << "ticker,Date,Close\n";
  // Every third message pretty-printed and every third oddly spaced (CR, LF, tab around every token):
  // JSON allows whitespace anywhere between tokens, and the metrics must not change.
  auto respace = [](std::string m, const char* comma, const char* colon, const char* open, const char* close) {
    std::string out;
    for (std::size_t i = 0; i < m.size(); ++i) {
      const bool in_string = std::count(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(i), '"') % 2 == 1;
      const char ch = m[i];
      if (!in_string && ch == ' ') {
        continue;  // the seed's own spaces go; ours come in
      }
      out += !in_string && ch == ',' ? std::string(comma)
             : !in_string && ch == ':' ? std::string(colon)
             : !in_string && ch == '{' ? std::string(open)
             : !in_string && ch == '}' ? std::string(close)
                                       : std::string(1, ch);
    }
    return out;
  };
  std::size_t n = 0;
  for (const std::string& m : seed_messages()) {
    const std::size_t k = n++ % 3;
    kv.emplace_back(seed_ticker(m), k == 0   ? respace(m, ",\n  ", ": ", "{\n  ", "\n}\n")
                                    : k == 1 ? respace(m, "\r\n,\t", "\t:\r\n", " \t{\r\n", "\n\t}\r\n")
                                             : m);
    const std::size_t p = m.find("\"price\": ") + 9;
    const std::size_t t = m.find("\"timestamp\": \"") + 14;
    csv << seed_ticker(m) << "," << m.substr(t, m.find('"', t) - t) << "," << m.substr(p, m.find(',', p) - p) << "\n";
  }
  csv.close();
  // Bad messages from real producers' mistakes, interleaved with the good ones.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"AAPL", R"({"ticker":"AAPL","price":"NaN","timestamp":"2023-06-01 16:00:00"})"},
      {"MSFT", R"({"ticker":"MSFT","price":-3,"timestamp":"2023-06-01 16:00:00"})"},
      {"NVDA", R"({"ticker":"NVDA","price":0,"timestamp":"2023-06-01 16:00:00"})"},
      {"TSLA", R"({"ticker":"TSLA","price":250.5,"timestamp":"yesterday"})"},
      {"AMZN", R"({"ticker":"AMZN","price":120.1})"},
      {"GOOGL", R"({"ticker":"GOOGL","price":120.1,"timestamp":"2023-06-01 16:00:00")"},
      {"", "not json at all"},
      {"AMD", R"({"ticker":"AMD","price":1,"ts":-9223372036})"},  // 1677-09-21: int64's minimum ns
      {"AMD", "{\"ticker\":\"AMD\",\"price\":1,\n\"timestamp\":\"2262-04-11T23:47:16Z\"}"},
  };
  kv.insert(kv.begin() + 400, bad.begin(), bad.end());
  ASSERT_EQ(produce_all(cluster.bootstrap(), "ticks", kv), kv.size());

  const auto [rc1, out1] = run_binary({"run", "--brokers", cluster.bootstrap(), "--feed", "kafka:ticks",
                                       "--stop-at-eof", "true", "--dead-letter-topic", "ticks.dlq", "--group-id",
                                       "csv-vs-kafka", "--publish-alerts", "false", "--print-alerts", "0",
                                       "--alert-window", "5d", "--metrics-out", temp("kafka_metrics.csv"),
                                       "--daily-out", temp("kafka_daily.csv"), "--daily-topic", "daily"},
                                      "kafka_vs_csv_k");
  ASSERT_EQ(rc1, 0) << out1;
  EXPECT_TRUE(contains(out1, "messages 1259  ticks 1250  rejected 9")) << out1;
  for (const char* reason :
       {"bad_price 3", "bad_timestamp 1", "missing_timestamp 1", "invalid_json 2", "time_out_of_range 2"}) {
    EXPECT_TRUE(contains(out1, reason)) << reason << "\n" << out1;
  }
  EXPECT_TRUE(contains(out1, "dead-lettered 9 (failed 0)")) << out1;
  const auto [rc2, out2] = run_binary({"run", "--feed", "csv:" + temp("seed.csv"), "--publish-alerts", "false",
                                       "--print-alerts", "0", "--alert-window", "5d", "--metrics-out",
                                       temp("csv_metrics.csv"), "--daily-out", temp("csv_daily.csv")},
                                      "kafka_vs_csv_c");
  ASSERT_EQ(rc2, 0) << out2;

  // Per ticker, the same rows in the same order (seq and feed differ; everything computed must not).
  auto by_ticker = [](const std::string& path) {
    std::map<std::string, std::vector<std::vector<std::string>>> m;
    const auto rows = read_plain_csv(path);
    for (std::size_t r = 1; r < rows.size(); ++r) {
      std::vector<std::string> row = rows[r];
      row.erase(row.begin() + 1);  // seq
      m[row[0]].push_back(row);
    }
    return m;
  };
  const auto k = by_ticker(temp("kafka_metrics.csv"));
  const auto c = by_ticker(temp("csv_metrics.csv"));
  ASSERT_EQ(k.size(), 5u);
  EXPECT_EQ(k, c);

  // Daily summaries (one tick per ticker and day here): the same from Kafka as from the CSV, and the
  // daily topic holds one message per row, keyed by ticker.
  auto rows_of = [](const std::string& path) {
    auto rows = read_plain_csv(path);
    rows.erase(rows.begin());
    std::sort(rows.begin(), rows.end());
    return rows;
  };
  const auto kd = rows_of(temp("kafka_daily.csv"));
  ASSERT_EQ(kd.size(), 1250u);
  EXPECT_EQ(kd, rows_of(temp("csv_daily.csv")));
  std::set<std::pair<std::string, std::string>> in_file;
  for (const auto& r : kd) {
    in_file.emplace(r[0], r[1]);
  }
  std::set<std::pair<std::string, std::string>> on_topic;
  const auto daily = read_topic(cluster.bootstrap(), "daily");
  for (const auto& m : daily) {
    EXPECT_EQ(m.key, json_field(m.value, "ticker"));
    EXPECT_EQ(json_field(m.value, "type"), "daily");
    on_topic.emplace(json_field(m.value, "ticker"), json_field(m.value, "day"));
  }
  EXPECT_EQ(daily.size(), 1250u);
  EXPECT_EQ(on_topic, in_file);
  EXPECT_TRUE(contains(out1, "kafka daily summaries → daily: queued 1250  dropped (queue full) 0  produced 1250  "
                             "delivered 1250")) << out1;

  // The dead-letter topic holds each bad message unchanged, with its reason and source.
  const auto dlq = read_topic(cluster.bootstrap(), "ticks.dlq");
  ASSERT_EQ(dlq.size(), bad.size());
  std::multiset<std::string> reasons;
  for (const auto& m : dlq) {
    EXPECT_TRUE(std::any_of(bad.begin(), bad.end(), [&](const auto& b) { return b.second == m.value; })) << m.value;
    for (const auto& [h, v] : m.headers) {
      if (h == "tickforge.reason") {
        reasons.insert(v);
      }
      if (h == "tickforge.source") {
        EXPECT_EQ(v.rfind("ticks/", 0), 0u) << v;
      }
    }
  }
  EXPECT_EQ(reasons, (std::multiset<std::string>{"bad_price", "bad_price", "bad_price", "bad_timestamp",
                                                 "missing_timestamp", "invalid_json", "invalid_json",
                                                 "time_out_of_range", "time_out_of_range"}));
}

TEST(KafkaCli, ShouldConsumeTicksProducedByKcatAndPublishAlertsKcatReads) {
  EmbeddedCluster cluster(1);
  cluster.create_topic("ticks", 3);
  cluster.create_topic("tickforge.alerts", 3);
  const std::vector<std::string> seed = seed_messages();
  std::ofstream in(temp("kcat_in.txt"));
  for (std::size_t i = 0; i < 600; ++i) {
    in << seed_ticker(seed[i]) << "|" << seed[i] << "\n";
  }
  in.close();
  shell("kcat -P -b " + cluster.bootstrap() + " -t ticks -K '|' -X partitioner=murmur2_random < " +
        temp("kcat_in.txt") + " 2>&1");
  const std::string alerts = temp("kcat_alerts.jsonl");
  const auto [rc, out] = run_binary({"run", "--brokers", cluster.bootstrap(), "--feed", "kafka:ticks",
                                     "--stop-at-eof", "true", "--group-id", "kcat", "--print-alerts", "0",
                                     "--alert-window", "5d", "--tick-change-pct", "2", "--instance-id", "kcat-run",
                                     "--alerts-out", alerts},
                                    "kcat");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(contains(out, "messages 600  ticks 600  rejected 0")) << out;
  std::set<std::string> written;
  for (const std::string& line : lines_of(slurp(alerts))) {
    written.insert(json_field(line, "alert_id"));
  }
  ASSERT_GT(written.size(), 5u);
  std::set<std::string> read;
  for (const std::string& line :
       lines_of(shell("kcat -C -b " + cluster.bootstrap() + " -t tickforge.alerts -o beginning -e -q 2>/dev/null"))) {
    read.insert(json_field(line, "alert_id"));
  }
  EXPECT_EQ(read, written);
}

TEST(KafkaCli, ShouldSkipNoTickAfterSigkillAndRestart) {
  EmbeddedCluster cluster(3);
  cluster.create_topic("ticks", 6);
  cluster.create_topic("snapshots", 6);
  // Ticks and the group on brokers 1 and 2, snapshots on broker 3: taking broker 3 down leaves the feed
  // consuming and processing while the snapshots of what it processed cannot be delivered. Committing
  // those ticks' offsets then (handed over, or processed, but not delivered) would lose them for good.
  for (int p = 0; p < 6; ++p) {
    cluster.set_leader("ticks", p, 1 + p % 2);
    cluster.set_leader("snapshots", p, 3);
  }
  cluster.set_coordinator("restart", 1);
  constexpr std::size_t kFirst = 3000, kSecond = 3000;
  ASSERT_EQ(produce_all(cluster.bootstrap(), "ticks", make_ticks(kFirst, 16)), kFirst);
  auto args = [&](const char* instance) {
    return std::vector<std::string>{"run", "--brokers", cluster.bootstrap(), "--feed", "kafka:ticks", "--group-id",
                                    "restart", "--publish-alerts", "false", "--metrics-topic", "snapshots",
                                    "--metrics-interval", "0", "--print-alerts", "0", "--instance-id", instance,
                                    "--duration", "120",
                                    // A real cluster (--brokers) gets librdkafka's 45 s session timeout: the
                                    // killed member would hold its partitions that long. Shorter here.
                                    "--kafka", "session.timeout.ms=6000", "--kafka", "heartbeat.interval.ms=1000"};
  };
  {
    Child a(args("run-a"), temp("a.out"), temp("a.err"));
    ASSERT_TRUE(a.wait_for_err("assigned partitions", 60)) << a.err();
    std::size_t delivered = 0;
    for (int i = 0; i < 120 && delivered < kFirst; ++i) {  // the first half: processed and delivered
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      delivered = snapshots(cluster.bootstrap(), "snapshots").size();
    }
    ASSERT_GE(delivered, kFirst);
    cluster.broker_down(3);
    // More ticks arrive and are processed; their snapshots wait in the client; two auto-commit periods
    // pass; then the process dies without any chance to flush or commit.
    ASSERT_EQ(produce_all(cluster.bootstrap(), "ticks", make_ticks(kSecond, 16, kFirst)), kSecond);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    a.signal(SIGKILL);
    EXPECT_EQ(a.wait(), 128 + SIGKILL);
    cluster.broker_up(3);
  }
  std::vector<std::string> b_args = args("run-b");
  b_args.insert(b_args.end(), {"--stop-at-eof", "true"});
  const auto [rc, out] = run_binary(b_args, "restart_b");
  ASSERT_EQ(rc, 0) << out;
  std::map<std::string, std::set<std::string>> seen;  // tick → instances that published its snapshot
  std::size_t from_a = 0;
  for (const auto& [tick, instance] : snapshots(cluster.bootstrap(), "snapshots")) {
    seen[tick].insert(instance);
    from_a += instance == "run-a" ? 1 : 0;
  }
  EXPECT_GT(from_a, 0u) << "the first run was killed before it processed anything";
  std::size_t missing = 0;
  for (std::size_t i = 0; i < kFirst + kSecond; ++i) {
    const std::string tick = "TK" + std::to_string(i % 16) + "@" + std::to_string((1'700'000'000'000 + i) * 1'000'000);
    missing += seen.count(tick) == 0 ? 1 : 0;
  }
  EXPECT_EQ(missing, 0u) << "ticks skipped across the restart";
  EXPECT_EQ(seen.size(), kFirst + kSecond);
}

TEST(KafkaCli, ShouldSplitPartitionsBetweenTwoProcessesOfOneGroupAndProcessEveryTickOnce) {
  EmbeddedCluster cluster(3);
  cluster.create_topic("ticks", 6);
  cluster.create_topic("snapshots", 6);
  auto args = [&](const char* instance) {
    return std::vector<std::string>{"run", "--brokers", cluster.bootstrap(), "--feed", "kafka:ticks", "--group-id",
                                    "pair", "--publish-alerts", "false", "--metrics-topic", "snapshots",
                                    "--metrics-interval", "0", "--print-alerts", "0", "--instance-id", instance,
                                    "--duration", "120"};
  };
  Child a(args("pair-a"), temp("pa.out"), temp("pa.err"));
  Child b(args("pair-b"), temp("pb.out"), temp("pb.err"));
  // Wait for the group to settle: six partitions, split between the two, none twice.
  bool split = false;
  for (int i = 0; i < 600 && !split; ++i) {
    const std::set<int> pa = assigned_now(a.err());
    const std::set<int> pb = assigned_now(b.err());
    std::set<int> both = pa;
    both.insert(pb.begin(), pb.end());
    split = !pa.empty() && !pb.empty() && both.size() == 6 && pa.size() + pb.size() == 6;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(split) << a.err() << "\n---\n" << b.err();
  constexpr std::size_t kTicks = 4800;
  ASSERT_EQ(produce_all(cluster.bootstrap(), "ticks", make_ticks(kTicks, 24)), kTicks);
  std::vector<std::pair<std::string, std::string>> got;
  for (int i = 0; i < 120 && got.size() < kTicks; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    got = snapshots(cluster.bootstrap(), "snapshots");
  }
  a.signal(SIGTERM);
  b.signal(SIGTERM);
  EXPECT_EQ(a.wait(), 0) << a.err();
  EXPECT_EQ(b.wait(), 0) << b.err();
  got = snapshots(cluster.bootstrap(), "snapshots");
  std::map<std::string, std::size_t> times;
  std::map<std::string, std::set<std::string>> owner;  // ticker → instances
  std::map<std::string, std::size_t> per_instance;
  for (const auto& [tick, instance] : got) {
    ++times[tick];
    owner[tick.substr(0, tick.find('@'))].insert(instance);
    ++per_instance[instance];
  }
  EXPECT_EQ(times.size(), kTicks) << "every tick processed";
  EXPECT_EQ(got.size(), kTicks) << "and each exactly once";
  for (const auto& [ticker, instances] : owner) {
    EXPECT_EQ(instances.size(), 1u) << ticker << " was processed by both processes";
  }
  EXPECT_GT(per_instance["pair-a"], 0u);
  EXPECT_GT(per_instance["pair-b"], 0u);
}

TEST(KafkaCli, ShouldFailFastOnAnUnreachableClusterWithoutPrintingSecrets) {
  const auto [rc, out] = run_binary({"run", "--brokers", "127.0.0.1:1", "--kafka-connect-timeout", "1s", "--kafka",
                                     "sasl.password=hunter2", "--kafka", "security.protocol=PLAINTEXT",
                                     "--duration", "1"},
                                    "unreachable");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_TRUE(contains(out, "cannot reach Kafka at 127.0.0.1:1")) << out;
  EXPECT_FALSE(contains(out, "hunter2")) << out;
  const auto [rc2, out2] = run_binary({"produce", "--max-ticks", "10"}, "produce_no_brokers");
  EXPECT_EQ(rc2, 2);
  EXPECT_TRUE(contains(out2, "produce needs --brokers")) << out2;
}

TEST(KafkaCli, ShouldRunAStandaloneBrokerThatProduceAndKcatUse) {
  Child broker({"broker", "--topics", "ticks", "--partitions", "2", "--embedded-brokers", "1"}, temp("broker.out"),
               temp("broker.err"));
  ASSERT_TRUE(broker.wait_for_err("stop with Ctrl-C", 30)) << broker.err();
  const std::string bootstrap = lines_of(broker.out()).at(0);
  const auto [rc, out] = run_binary({"produce", "--brokers", bootstrap, "--topic", "ticks", "--max-ticks", "500",
                                     "--ticker", "AAPL,MSFT"},
                                    "produce");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(contains(out, "500 ticks → ticks")) << out;
  EXPECT_TRUE(contains(out, "delivered 500  failed 0")) << out;
  const std::vector<std::string> read =
      lines_of(shell("kcat -C -b " + bootstrap + " -t ticks -o beginning -e -q -f '%k %s\\n' 2>/dev/null"));
  ASSERT_EQ(read.size(), 500u);
  for (const std::string& line : read) {
    const std::string key = line.substr(0, line.find(' '));
    EXPECT_TRUE(key == "AAPL" || key == "MSFT") << line;
    EXPECT_EQ(json_field(line.substr(line.find(' ') + 1), "ticker"), key);
  }
  broker.signal(SIGINT);
  EXPECT_EQ(broker.wait(), 0);
}
