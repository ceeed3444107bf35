// End to end through the tickforge binary: real daily history replayed with --metrics-out and checked
// against values computed here from the source file; flags, errors, signals, alert output.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "support.hpp"

using tickforge::test::Child;
using tickforge::test::data_path;
using tickforge::test::exact_window;
using tickforge::test::read_plain_csv;
using tickforge::test::rel_err;

namespace {

struct Result {
  int exit_code;
  std::string out;  // stdout + stderr
};

// librdkafka starts its threads with C11 thrd_create, which GCC 12's ThreadSanitizer does not intercept:
// any librdkafka call in a TSan-built process crashes. So under TSan the binary runs without Kafka (the
// Kafka tests carry their own label and run in the Release and ASan+UBSan builds).
#if defined(__SANITIZE_THREAD__)
constexpr const char* kPublishAlerts = "false";
#else
constexpr const char* kPublishAlerts = "true";
#endif

Result run(const std::string& args) {
  std::string full = args;
  if (full.rfind("run", 0) == 0) {
    full.insert(3, std::string(" --publish-alerts ") + kPublishAlerts);
  }
  const std::string cmd = std::string(TICKFORGE_BINARY) + " " + full + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  Result r{-1, {}};
  if (p == nullptr) {
    return r;
  }
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) {
    r.out.append(buf.data(), n);
  }
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tickforge_cli_" + std::to_string(getpid()) + "_" + name)).string();
}

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// Header-indexed view of a CSV written by the engine (plain cells: no quoting in our output).
struct Table {
  std::map<std::string, std::size_t> col;
  std::vector<std::vector<std::string>> rows;
  double num(std::size_t r, const std::string& c) const {
    const std::string& cell = rows[r].at(col.at(c));
    return cell.empty() ? NAN : std::stod(cell);
  }
};
Table load_table(const std::string& path) {
  auto all = read_plain_csv(path);
  Table t;
  for (std::size_t i = 0; i < all[0].size(); ++i) {
    t.col[all[0][i]] = i;
  }
  t.rows.assign(all.begin() + 1, all.end());
  return t;
}

}  // namespace

TEST(Cli, ShouldReportVersionAndTheAllocatorInUse) {
  const Result r = run("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "tickforge 0.")) << r.out;
#if defined(TICKFORGE_EXPECT_MIMALLOC)
  EXPECT_TRUE(contains(r.out, "allocator: mimalloc")) << r.out;
  EXPECT_TRUE(contains(r.out, "serving malloc/new")) << r.out;
#else
  EXPECT_TRUE(contains(r.out, "allocator:")) << r.out;
#endif
}

TEST(Cli, ShouldFailWithAMessageOnBadFlagsAndValues) {
  Result r = run("run --no-such-flag");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "no-such-flag")) << r.out;
  r = run("run --alert-pct abc");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.out, "--alert-pct")) << r.out;
  r = run("run --sma 20,5");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.out, "ascending")) << r.out;
  r = run("run --engine-cpu 4096 --duration 1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.out, "CPU 4096")) << r.out;
  r = run("run --feed csv:/nonexistent/file.csv");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.out, "/nonexistent/file.csv")) << r.out;
  const std::string cfg = temp("bad.toml");
  std::ofstream(cfg) << "alert-pct = 5\nshards = 0\n";
  r = run("run --config " + cfg);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.out, "bad.toml:2")) << r.out;
}

TEST(Cli, ShouldReplayRealDailyHistoryWithMetricsMatchingAnIndependentComputation) {
  // plotly's AAPL daily history; closes read here straight from the source file.
  const auto src = read_plain_csv(data_path("plotly_finance-charts-apple.csv"));
  std::vector<double> close;
  std::vector<double> volume;
  for (std::size_t i = 1; i < src.size(); ++i) {
    close.push_back(std::stod(src[i][4]));   // AAPL.Close
    volume.push_back(std::stod(src[i][5]));  // AAPL.Volume
  }
  ASSERT_EQ(close.size(), 506u);
  const std::string metrics = temp("aapl_metrics.csv");
  const std::string alerts = temp("aapl_alerts.jsonl");
  const Result r = run("run --feed csv:" + data_path("plotly_finance-charts-apple.csv") +
                       " --sma 5,10,20 --alert-window 5d --metrics-out " + metrics + " --alerts-out " + alerts +
                       " --print-alerts 0");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "ticks processed 506")) << r.out;
  const Table t = load_table(metrics);
  ASSERT_EQ(t.rows.size(), close.size());
  double worst = 0;
  for (std::size_t i = 0; i < close.size(); ++i) {
    EXPECT_EQ(t.rows[i][t.col.at("ticker")], "AAPL");
    EXPECT_EQ(t.num(i, "price"), close[i]);
    for (const std::size_t w : {5u, 10u, 20u}) {
      const std::string n = std::to_string(w);
      if (i + 1 < w) {
        EXPECT_TRUE(std::isnan(t.num(i, "sma" + n)));
        continue;
      }
      const auto e = exact_window(close, i + 1, w, 1);
      worst = std::max(worst, rel_err(t.num(i, "sma" + n), e.mean));
      worst = std::max(worst, rel_err(t.num(i, "std" + n), std::sqrt(e.var), 1e-9L));
      worst = std::max(worst, rel_err(t.num(i, "var" + n), e.var, 1e-9L));
    }
    if (i > 0) {
      worst = std::max(worst, rel_err(t.num(i, "pct_change"), (static_cast<long double>(close[i]) - close[i - 1]) / close[i - 1] * 100, 1e-9L));
    }
  }
  EXPECT_LT(worst, 1e-9);
  std::printf("AAPL daily replay: worst relative error of sma/std/var/pct_change %.3g\n", worst);
  // Alerts: one JSON object per line, each with a rule; the count matches the summary.
  std::ifstream in(alerts);
  std::string line;
  std::size_t n_alerts = 0;
  while (std::getline(in, line)) {
    EXPECT_TRUE(contains(line, "\"rule\":\"")) << line;
    EXPECT_TRUE(contains(line, "\"ticker\":\"AAPL\"")) << line;
    ++n_alerts;
  }
  EXPECT_GT(n_alerts, 0u);
  EXPECT_TRUE(contains(r.out, "alerts " + std::to_string(n_alerts) + " ")) << r.out;
}

TEST(Cli, ShouldReplayMultiTickerFileInTimeOrder) {
  const std::string metrics = temp("dash_metrics.csv");
  const Result r = run("run --feed csv:" + data_path("plotly_dash-stock-ticker-demo.csv") + " --metrics-out " +
                       metrics + " --print-alerts 0");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const Table t = load_table(metrics);
  std::map<std::string, std::size_t> per_ticker;
  std::int64_t last = 0;
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    ++per_ticker[t.rows[i][t.col.at("ticker")]];
    const std::int64_t ev = std::stoll(t.rows[i][t.col.at("event_ns")]);
    EXPECT_GE(ev, last) << "row " << i;
    last = ev;
  }
  EXPECT_EQ(per_ticker.size(), 5u);
  for (const char* s : {"AAPL", "GOOGL", "TSLA", "COKE", "YHOO"}) {
    EXPECT_GT(per_ticker[s], 100u) << s;
  }
}

TEST(Cli, ShouldRunSyntheticFeedAndPrintSummary) {
  const Result r = run("run --duration 1 --print-alerts 3");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* what : {"tickforge summary (duration reached)", "ticks processed", "ticks/s", "high-water mark",
                           "ingest→processed", "p99.9", "dropped: ring_full 0"}) {
    EXPECT_TRUE(contains(r.out, what)) << what << "\n" << r.out;
  }
}

TEST(Cli, ShouldDrainFlushAndReportOnSigterm) {
  const std::string alerts = temp("sig_alerts.jsonl");
  Child c({"run", "--duration", "60", "--rate", "200000", "--alerts-out", alerts, "--jump-prob", "0.01",
           "--publish-alerts", kPublishAlerts},
          temp("sig.out"), temp("sig.err"));
  // Readiness, not time: an alert printed to stdout means ticks flow and alerts are being written.
  ASSERT_TRUE(c.wait_for_out("ALERT #", 120)) << c.err();
  c.signal(SIGTERM);
  ASSERT_EQ(c.wait_for_exit(120), 0) << c.err();
  const std::string out = c.err();
  EXPECT_TRUE(contains(out, "summary (SIGTERM)")) << out;
  // Every alert the engine counted was flushed to the file before exit.
  std::ifstream a(alerts);
  std::size_t lines = 0;
  for (std::string l; std::getline(a, l);) {
    ++lines;
  }
  EXPECT_GT(lines, 0u);
  EXPECT_TRUE(contains(out, "alerts " + std::to_string(lines) + " ")) << out;
}

// The ticks of issue 11: event times at and beyond both ends of int64 and of the supported range. The
// run ends by itself (it used to spin forever at INT64_MIN), each refused row counted and reported.
TEST(Cli, ShouldRefuseEventTimesOutsideTheSupportedRangeAndFinish) {
  const std::string csv = temp("range.csv");
  std::ofstream(csv) << "Date,Close\n"
                        "1677-09-21T00:12:43.145224192Z,1\n"
                        "1799-12-31T23:59:59.999999999Z,2\n"
                        "1800-01-01T00:00:00Z,100\n"
                        "1800-01-02T00:00:00Z,110\n"
                        "2199-12-31T23:59:59.999999999Z,121\n"
                        "2200-01-01T00:00:00Z,5\n"
                        "2262-04-11T23:47:16.854775807Z,6\n";
  Child c({"run", "--feed", "csv:" + csv, "--ticker", "FAR", "--publish-alerts", kPublishAlerts, "--print-alerts",
           "100"},
          temp("range.out"), temp("range.err"));
  ASSERT_EQ(c.wait_for_exit(120), 0) << c.err();
  const std::string err = c.err();
  EXPECT_TRUE(contains(err, "7 lines, 3 good, 0 blank, time_out_of_range 4")) << err;
  EXPECT_TRUE(contains(err, "range.csv:2: time_out_of_range: Date=\"1677-09-21T00:12:43.145224192Z\"")) << err;
  EXPECT_TRUE(contains(err, "range.csv:8: time_out_of_range")) << err;
  // 400 years apart, the second tick_change is not "inside the cooldown" of the first (it used to be).
  EXPECT_TRUE(contains(err, "suppressed by cooldown 0")) << err;
  EXPECT_TRUE(contains(err, "tick_change 2")) << err;
  EXPECT_TRUE(contains(c.out(), "ALERT #2 2199-12-31T23:59:59.999999999Z tick_change up")) << c.out();
}

// A paced replay waiting a day of event time for its next row still ends within moments of SIGTERM.
TEST(Cli, ShouldEndAPacedReplayPromptlyOnSigterm) {
  const std::string csv = temp("paced.csv");
  std::ofstream(csv) << "Date,Close\n2024-01-02,100\n2024-01-03,101\n2024-01-04,102\n";
  Child c({"run", "--feed", "csv:" + csv, "--ticker", "DAY", "--speed", "1", "--publish-alerts", kPublishAlerts},
          temp("paced.out"), temp("paced.err"));
  ASSERT_TRUE(c.wait_for_err("tickforge: running:", 120)) << c.err();
  c.signal(SIGTERM);
  ASSERT_EQ(c.wait_for_exit(60), 0) << c.err();
  EXPECT_TRUE(contains(c.err(), "summary (SIGTERM)")) << c.err();
}

// The alert sinks thread blocks writing to a FIFO nobody reads (and the shard behind it, once the relay
// is full): the run cannot drain. SIGTERM still ends it, within --shutdown-timeout, with exit status 3 and
// a report of what was stuck; a second signal ends it at once.
class StuckRun {
 public:
  explicit StuckRun(const std::string& tag, const std::string& shutdown_timeout) : fifo_(temp(tag + ".fifo")) {
    ::unlink(fifo_.c_str());
    EXPECT_EQ(mkfifo(fifo_.c_str(), 0600), 0);
    reader_ = ::open(fifo_.c_str(), O_RDONLY | O_NONBLOCK);  // opened, never read
    child_ = std::make_unique<Child>(
        std::vector<std::string>{"run", "--saturate", "--alerts-out", fifo_, "--tick-change-pct", "0.000001",
                                 "--cooldown", "1ns", "--print-alerts", "0", "--duration", "0", "--shutdown-timeout",
                                 shutdown_timeout, "--flush-timeout", "1s", "--publish-alerts", kPublishAlerts},
        temp(tag + ".out"), temp(tag + ".err"));
  }
  /// Readiness: the FIFO is full (the writer is blocked in write(2)), or the run ended (false).
  bool wait_until_stuck() {
    int pipe_size = fcntl(reader_, F_GETPIPE_SZ);
    for (;;) {
      int queued = 0;
      if (ioctl(reader_, FIONREAD, &queued) == 0 && pipe_size > 0 && queued >= pipe_size) {
        return true;
      }
      if (child_->exited()) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a poll interval
    }
  }
  ~StuckRun() {
    child_.reset();
    ::close(reader_);
    ::unlink(fifo_.c_str());
  }
  Child& child() { return *child_; }

 private:
  std::string fifo_;
  int reader_ = -1;
  std::unique_ptr<Child> child_;
};

TEST(Cli, ShouldExitWithAReportWhenTheShutdownIsStuck) {
  StuckRun run("stuck", "1s");
  Child& c = run.child();
  ASSERT_TRUE(run.wait_until_stuck()) << c.err();
  c.signal(SIGTERM);
  ASSERT_EQ(c.wait_for_exit(120), 3) << c.err();
  const std::string err = c.err();
  // 1 s, plus twice the 1 s flush timeout when Kafka is on (not in the ThreadSanitizer build).
  EXPECT_TRUE(contains(err, std::string("the run made no progress towards its stop for ") +
                                (kPublishAlerts[0] == 't' ? "3 s" : "1 s") + " (--shutdown-timeout"))
      << err;
  // Where it was stuck: the shard inside its callback, or the main thread inside a write (a sanitizer
  // build's slower shard may drain before the relay fills).
  EXPECT_TRUE(contains(err, "  stop reached: ")) << err;
  EXPECT_TRUE(contains(err, "  shard 0: did not return to its duty-cycle check") ||
              contains(err, "stuck writing an output"))
      << err;
  EXPECT_TRUE(contains(err, "exiting with status 3 without a summary")) << err;
  EXPECT_FALSE(contains(err, "tickforge summary")) << err;
}

TEST(Cli, ShouldExitAtOnceOnASecondSignal) {
  StuckRun run("twice", "10m");
  Child& c = run.child();
  ASSERT_TRUE(run.wait_until_stuck()) << c.err();
  c.signal(SIGINT);
  // Two signals sent back to back may merge into one: the second goes once the first was taken.
  ASSERT_TRUE(c.wait_for_err("a second signal exits at once", 120)) << c.err();
  c.signal(SIGINT);
  ASSERT_EQ(c.wait_for_exit(120), 128 + SIGINT) << c.err();  // at once: it writes nothing that could block
  EXPECT_FALSE(contains(c.err(), "tickforge summary")) << c.err();
}

// A synthetic feed whose steps would leave the range ends there and says so.
TEST(Cli, ShouldEndASyntheticFeedAtTheEndOfTheEventTimeRange) {
  const Result r = run("run --synthetic-step 36500d --tickers 1 --print-alerts 0");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // 2024-01-02 14:30 + 36,500 d = 2123-12-09 (in range); + 73,000 d = 2223 (not).
  EXPECT_TRUE(contains(r.out, "published 2  (ended: the next event time would pass 2199-12-31)")) << r.out;
  EXPECT_TRUE(contains(r.out, "ticks processed 2 ")) << r.out;
}

TEST(Cli, ShouldGiveEachSyntheticFeedItsOwnTickers) {
  Result r = run("run --feed synthetic --feed synthetic --tickers 3 --duration 0.5 --print-alerts 0");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "synthetic#0 (3 tickers)")) << r.out;
  EXPECT_TRUE(contains(r.out, "synthetic#1 (3 tickers)")) << r.out;
  EXPECT_TRUE(contains(r.out, "tickers 6")) << r.out;
  r = run("run --feed synthetic,synthetic --ticker ONLY --duration 0.5");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.out, "need at least 2 tickers")) << r.out;
}

// Each subcommand's --help lists the settings it uses, and only those.
TEST(Cli, ShouldListOnlyTheSettingsASubcommandUses) {
  const Result run_help = run("run --help");
  const Result broker_help = run("broker --help");
  const Result produce_help = run("produce --help");
  ASSERT_EQ(run_help.exit_code, 0);
  ASSERT_EQ(broker_help.exit_code, 0);
  ASSERT_EQ(produce_help.exit_code, 0);
  for (const char* flag : {"--shards", "--alert-pct", "--metrics-out", "--shutdown-timeout", "--saturate"}) {
    EXPECT_TRUE(contains(run_help.out, flag)) << flag;
    EXPECT_FALSE(contains(broker_help.out, flag)) << flag;
  }
  EXPECT_TRUE(contains(broker_help.out, "--embedded-brokers")) << broker_help.out;
  EXPECT_TRUE(contains(broker_help.out, "--topics")) << broker_help.out;
  EXPECT_FALSE(contains(broker_help.out, "--feed ")) << broker_help.out;
  EXPECT_TRUE(contains(produce_help.out, "--topic ")) << produce_help.out;
  EXPECT_FALSE(contains(produce_help.out, "--shards")) << produce_help.out;
  EXPECT_FALSE(contains(run_help.out, "--topics")) << run_help.out;
  // Durations say their syntax; defaults and bounds are shown.
  EXPECT_TRUE(contains(run_help.out, "--alert-window DURATION")) << run_help.out;
  EXPECT_TRUE(contains(run_help.out, "[65536] {[2, 1073741824]}")) << run_help.out;
}

// Every usage error is one message and exit status 2, CLI11's own codes included.
TEST(Cli, ShouldExitTwoWithAMessageOnUnknownFlagsAndSubcommands) {
  Result r = run("run --bogus-flag 1");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(contains(r.out, "tickforge: error:")) << r.out;
  EXPECT_TRUE(contains(r.out, "--bogus-flag")) << r.out;
  r = run("frobnicate");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(contains(r.out, "unknown subcommand 'frobnicate'")) << r.out;
  r = run("run --shards");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  r = run("run --saturate maybe");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(contains(r.out, "--saturate: expected true or false")) << r.out;
  r = run("broker --shards 2");  // a setting of another subcommand
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

// A boolean flag alone means true and does not swallow the flag after it.
TEST(Cli, ShouldTakeABareBooleanFlag) {
  const Result r = run("run --saturate --max-ticks 500 --print-alerts 0 --duration 0");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "published 500")) << r.out;
}

// The summary as data: every figure, the same as the text's.
TEST(Cli, ShouldWriteTheSummaryAsJson) {
  const std::string csv = temp("json_summary.csv");
  std::ofstream(csv) << "Date,Close\n2024-01-02,100\n2024-01-03,110\n2024-01-04,bad\n2024-01-05,121\n";
  const std::string json = temp("summary.json");
  const Result r = run("run --feed csv:" + csv + " --ticker JS --print-alerts 0 --summary-json " + json);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream in(json);
  const std::string s((std::istreambuf_iterator<char>(in)), {});
  for (const char* field : {"\"schema\":1", "\"stop_reason\":\"input ended\"", "\"ticks\":3", "\"feed_rejected\":1",
                            "\"bad_price\":1", "\"good\":3", "\"tick_change\":{\"down\":0,\"none\":0,\"up\":2}",
                            "\"process_latency\":{\"count\":3"}) {
    EXPECT_TRUE(contains(s, field)) << field << "\n" << s;
  }
  EXPECT_TRUE(contains(r.out, "ticks processed 3 ")) << r.out;
  EXPECT_TRUE(contains(r.out, "tick_change 2")) << r.out;
}

// The default synthetic feed is paced (latency means something) and its prices stay near where the
// market was (a mean-reverting walk), not drifting to 0.77 within a run.
TEST(Cli, ShouldRunARealisticPacedDefault) {
  const std::string metrics = temp("default_metrics.csv");
  const Result r = run("run --duration 1 --print-alerts 0 --metrics-out " + metrics);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const Table t = load_table(metrics);
  ASSERT_GT(t.rows.size(), 1000u);
  const std::map<std::string, double> start = {{"AAPL", 185.64}, {"MSFT", 370.87}, {"GOOGL", 138.17},
                                               {"AMZN", 149.93}, {"META", 346.29}, {"NVDA", 481.68},
                                               {"TSLA", 248.42}, {"AMD", 138.58}};
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const std::string& ticker = t.rows[i][t.col.at("ticker")];
    ASSERT_EQ(start.count(ticker), 1u) << ticker;
    const double p = t.num(i, "price");
    EXPECT_GT(p, start.at(ticker) * 0.6) << ticker << " row " << i;
    EXPECT_LT(p, start.at(ticker) * 1.6) << ticker << " row " << i;
  }
  // Paced at 100,000 ticks/s: about 100 k ticks in the second, not millions.
  EXPECT_LT(t.rows.size(), 250'000u);
}

// The feed added as one file and one registration line: JSON messages one per line, as a Kafka topic's
// dump holds them, through the same parser as the Kafka feed.
TEST(Cli, ShouldReplayAJsonLinesFile) {
  const std::string path = temp("ticks.jsonl");
  std::ofstream(path) << R"({"ticker":"AAPL","price":100,"timestamp":"2024-01-02 16:00:00","volume":10})" "\n"
                      << R"({"ticker":"AAPL","price":-1,"timestamp":"2024-01-03 16:00:00"})" "\n"
                      << "\n"
                      << R"({"symbol":"AAPL","price":"110","ts":1704297600})" "\n"
                      << R"({ "ticker" : "AAPL" , "price" : 121 , "timestamp" : "2024-01-05T16:00:00Z" })" "\n";
  const Result r = run("run --feed jsonl:" + path + " --print-alerts 0 --alert-window 5d --cooldown 0");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "skipped line: " + path + ":2: bad_price")) << r.out;
  EXPECT_TRUE(contains(r.out, "(3 messages)")) << r.out;
  EXPECT_TRUE(contains(r.out, ": 3 good, bad_price 1")) << r.out;
  EXPECT_TRUE(contains(r.out, "ticks processed 3 ")) << r.out;
  EXPECT_TRUE(contains(r.out, "tick_change 2")) << r.out;  // +10 % twice; cooldown 0: none suppressed
  EXPECT_TRUE(contains(r.out, "suppressed by cooldown 0")) << r.out;
}

// With several shards every shard writes through its own descriptor: the header stays, once.
TEST(Cli, ShouldKeepTheMetricsHeaderWithSeveralShards) {
  const std::string out = temp("two_shards_metrics.csv");
  const Result r = run("run --feed csv:" + data_path("plotly_dash-stock-ticker-demo.csv") +
                       " --shards 2 --print-alerts 0 --metrics-out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto rows = read_plain_csv(out);
  ASSERT_GT(rows.size(), 1000u);
  EXPECT_EQ(rows[0][0], "ticker");
  std::size_t headers = 0;
  for (const auto& row : rows) {
    headers += !row.empty() && row[0] == "ticker" ? 1 : 0;
  }
  EXPECT_EQ(headers, 1u);
  EXPECT_TRUE(contains(r.out, "ticks processed " + std::to_string(rows.size() - 1) + " ")) << r.out;
}
