// File sinks: rotation by size and by day (names, headers, nothing lost or doubled across parts), the
// relays' full-ring policies (wait: every record arrives, the waits counted; drop: the producer never
// blocks, the drops counted), and the metrics CSV written off the engine thread by the sinks agent.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent.hpp"
#include "file_sinks.hpp"
#include "temp_dir.hpp"

using namespace tickforge;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using test::TempDir;

constexpr std::int64_t kDay = kNsPerDay;

}  // namespace

TEST(RotatingFile, ShouldStartANewPartWithItsHeaderOnceAPartWouldPassTheSize) {
  TempDir dir;
  const std::string path = (dir.path / "metrics.csv").string();
  {
    RotatingFile f(path, "h\n", Rotation{25, false});  // header 2 bytes + at most 23 bytes of records
    for (int i = 0; i < 10; ++i) {
      const std::string line = "row" + std::to_string(i) + "\n";  // 5 bytes
      f.append(line.data(), line.size(), 0);
    }
    f.flush();
    EXPECT_EQ(f.parts(), 3u);
    EXPECT_EQ(f.write_errors(), 0u);
  }
  EXPECT_EQ(slurp(dir.path / "metrics.csv"), "h\nrow0\nrow1\nrow2\nrow3\n");
  EXPECT_EQ(slurp(dir.path / "metrics.1.csv"), "h\nrow4\nrow5\nrow6\nrow7\n");
  EXPECT_EQ(slurp(dir.path / "metrics.2.csv"), "h\nrow8\nrow9\n");
}

TEST(RotatingFile, ShouldWriteOneFilePerUtcDayOfEventTimeAndKeepALateRecordInTheCurrentDay) {
  TempDir dir;
  const std::string path = (dir.path / "alerts.jsonl").string();
  const std::int64_t jun5 = 16226 * kDay;  // 2014-06-05
  {
    RotatingFile f(path, "", Rotation{0, true});
    for (const auto& [t, text] : std::vector<std::pair<std::int64_t, std::string>>{
             {jun5 + 1, "a\n"}, {jun5 + kDay - 1, "b\n"}, {jun5 + kDay, "c\n"}, {jun5 + 5, "late\n"}, {jun5 + 4 * kDay, "d\n"}}) {
      f.append(text.data(), text.size(), t);
    }
    f.flush();
    EXPECT_EQ(f.parts(), 3u);
  }
  EXPECT_EQ(slurp(dir.path / "alerts-2014-06-05.jsonl"), "a\nb\n");
  EXPECT_EQ(slurp(dir.path / "alerts-2014-06-06.jsonl"), "c\nlate\n");
  EXPECT_EQ(slurp(dir.path / "alerts-2014-06-09.jsonl"), "d\n");
  EXPECT_FALSE(fs::exists(dir.path / "alerts.jsonl"));
}

TEST(RotatingFile, ShouldNameDailyPartsThatAlsoRotateBySizeAndRefuseAFolderItCannotWrite) {
  const RotatingFile f("/tmp/metrics", "", Rotation{1, true});  // by day: nothing opened before a record
  EXPECT_EQ(f.part_name(16226, 0), "/tmp/metrics-2014-06-05");
  EXPECT_EQ(f.part_name(16226, 2), "/tmp/metrics-2014-06-05.2");
  const RotatingFile g("/tmp/m.v1.csv", "", Rotation{1, true});
  EXPECT_EQ(g.part_name(0, 1), "/tmp/m.v1-1970-01-01.1.csv");
  const RotatingFile h("/tmp/.hidden", "", Rotation{1, true});
  EXPECT_EQ(h.part_name(0, 0), "/tmp/.hidden-1970-01-01");
  EXPECT_THROW(RotatingFile("/nonexistent-dir/m.csv", "", Rotation{0, true}), std::runtime_error);
  EXPECT_THROW(RotatingFile("/nonexistent-dir/m.csv", "", Rotation{}), std::runtime_error);
}

TEST(RecordRelay, ShouldDropAndCountWhenFullWithDropAndNeverBlock) {
  RecordRelay<Alert> relay(ShardIndex{2}, 4, RelayFull::kDrop);
  Alert a{};
  int queued = 0;
  for (int i = 0; i < 10; ++i) {
    queued += relay.push(1, a) ? 1 : 0;
  }
  EXPECT_EQ(queued, 4);
  EXPECT_EQ(relay.dropped(), 6u);
  EXPECT_EQ(relay.waits(), 0u);
  EXPECT_EQ(relay.drain([](const Alert&) {}), 4u);
}

TEST(RecordRelay, ShouldDeliverEveryRecordInOrderWhenFullWithWaitAndCountTheWaits) {
  RecordRelay<std::uint64_t> relay(ShardIndex{1}, 8, RelayFull::kWait);
  constexpr std::uint64_t kN = 200'000;
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kN; ++i) {
      relay.push(0, i);
    }
  });
  std::uint64_t next = 0;
  bool in_order = true;
  while (next < kN) {
    relay.drain([&](const std::uint64_t v) {
      in_order = in_order && v == next;
      ++next;
    });
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(relay.dropped(), 0u);
  EXPECT_GT(relay.waits(), 0u) << "an 8-slot ring must have filled at least once over 200,000 records";
}

TEST(FileSinks, ShouldWriteMetricsRowsFromItsOwnThreadAndEndOnlyWhenTheRelaysAreEmpty) {
  TempDir dir;
  SymbolTable symbols(16);
  const SymbolId s = symbols.intern("AAPL");
  MetricsRelay relay(ShardIndex{1}, 64, RelayFull::kWait);
  FileSinkOptions opt;
  opt.metrics_path = (dir.path / "m.csv").string();
  opt.windows = {5};
  FileSinks sinks(nullptr, nullptr, &relay, symbols, opt);
  AgentRunner runner;
  runner.start(sinks, AgentOptions{"tf-sinks-test", -1, IdleKind::kBackoff});
  for (int i = 0; i < 1000; ++i) {  // the "shard": more rows than the ring holds
    Tick t{};
    t.symbol = s;
    t.price = 100 + i;
    t.volume = 1;
    t.event_ns = i;
    t.seq = static_cast<std::uint64_t>(i);
    TickMetrics m{};
    m.n_windows = 1;
    m.windows[0] = 5;
    for (double* v : {&m.sma[0], &m.variance[0], &m.stddev[0], &m.ema[0], &m.pct_change, &m.volatility,
                      &m.window_high, &m.window_low, &m.move_up_pct, &m.move_down_pct, &m.vwap, &m.cum_volume,
                      &m.volume_mean}) {
      *v = std::nan("");
    }
    relay_metrics(&relay, &t, &m);
  }
  sinks.request_stop();
  runner.join();
  EXPECT_EQ(sinks.metrics_written(), 1000u);
  const std::string csv = slurp(dir.path / "m.csv");
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "ticker,seq,event_ns,timestamp,price,volume,sma5,var5,std5,ema5,pct_change,volatility,window_high,"
                  "window_low,move_up_pct,move_down_pct,vwap,cum_volume,volume_mean");
  std::getline(lines, line);
  EXPECT_EQ(line, "AAPL,0,0,1970-01-01T00:00:00Z,100,1,,,,,,,,,,,,,");
  int rows = 1;
  std::string last;
  while (std::getline(lines, line)) {
    ++rows;
    last = line;
  }
  EXPECT_EQ(rows, 1000);
  EXPECT_EQ(last.substr(0, 48), "AAPL,999,999,1970-01-01T00:00:00.000000999Z,1099");
}
