// Daily summaries: the calendar against cctz's own civil-time conversion in zones with DST, half-hour
// DST, midnight transitions and a skipped day; the per-ticker summary on crafted ticks whose figures
// are worked out by hand below; the session cut; partial days at the end.
#include <gtest/gtest.h>

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "day_calendar.hpp"
#include "record_json.hpp"
#include "support.hpp"
#include "time_zone.hpp"

using namespace tickforge;

namespace {

constexpr std::int64_t kSec = kNsPerSecond;
constexpr std::int64_t kHour = 3600 * kSec;

// cctz's answer for "the first instant of local civil time cs": a skipped time maps to the transition,
// a repeated one to its first occurrence.
std::int64_t cctz_first_at(const cctz::time_zone& tz, const cctz::civil_second& cs) {
  const auto l = tz.lookup(cs);
  const auto tp = l.kind == cctz::time_zone::civil_lookup::SKIPPED ? l.trans : l.pre;
  return tp.time_since_epoch().count() * kSec;
}

std::int64_t days_since_epoch(const cctz::civil_day& d) { return d - cctz::civil_day(1970, 1, 1); }

// 2014-06-05 is day 16226 (python3: (date(2014,6,5) - date(1970,1,1)).days).
constexpr std::int32_t kJun5 = 16226;

DailyConfig daily(const char* zone = "UTC", const char* session = "") {
  DailyConfig d;
  d.enabled = true;
  d.zone = load_utc_offsets(zone);
  parse_session(session, d.session_open_ns, d.session_close_ns);
  return d;
}

// The shared shard harness (tests/support.hpp) with the daily summaries recorded too.
struct DayHarness : test::Harness {
  explicit DayHarness(DailyConfig d) : Harness(make(std::move(d))) {
    core.add_daily_callback([](void* u, const DailySummary* s) { static_cast<DayHarness*>(u)->days.push_back(*s); },
                            this);
  }
  static EngineConfig make(DailyConfig d) {
    EngineConfig c;
    c.daily = std::move(d);
    c.rules.window_move_pct = c.rules.volatility_pct = c.rules.volume_spike_factor = 0;
    c.rules.sma_cross = false;
    c.rules.tick_change_pct = 3.0;  // rule (b) only, cooldown 0: one alert per big tick
    c.rules.cooldown_ns = 0;
    return c;
  }
  std::vector<DailySummary> days;
};

}  // namespace

// ---- the calendar ---------------------------------------------------------------------------------------

TEST(DayCalendar, ShouldAgreeWithCctzOnEveryDayStartFrom1900To2100InZonesWithAwkwardTransitions) {
  // New York (DST at 02:00), London, Lord Howe (30-minute DST), Sao Paulo (DST changed at midnight until
  // 2019: 00:00 skipped), Santiago (falls back at 24:00 to 23:00), Apia (skipped 2011-12-30 entirely),
  // St John's (-03:30), Kolkata, and UTC.
  for (const char* name : {"America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Sao_Paulo",
                           "America/Santiago", "Pacific/Apia", "America/St_Johns", "Asia/Kolkata", "UTC"}) {
    SCOPED_TRACE(name);
    cctz::time_zone tz;
    ASSERT_TRUE(cctz::load_time_zone(name, &tz));
    const DailyConfig cfg = daily(name);
    const DayCalendar cal(cfg);
    std::uint64_t days = 0;
    for (cctz::civil_day d(1900, 1, 1); d <= cctz::civil_day(2100, 12, 31); ++d) {
      const std::int64_t start = cctz_first_at(tz, cctz::civil_second(d));
      const std::int64_t next = cctz_first_at(tz, cctz::civil_second(d + 1));
      ASSERT_EQ(cal.first_at(days_since_epoch(d) * kNsPerDay), start) << cctz::format("%Y-%m-%d", cctz::convert(cctz::civil_second(d), tz), tz);
      if (next == start) {
        continue;  // a day that never happened (Apia, 2011-12-30)
      }
      const DayCalendar::Day got = cal.day_of(start);
      ASSERT_EQ(got.day, days_since_epoch(d));
      ASSERT_EQ(got.start_ns, start);
      ASSERT_EQ(got.end_ns, next);
      ASSERT_EQ(cal.day_of(next - 1).day, days_since_epoch(d));
      ++days;
    }
    EXPECT_GT(days, 73'000u);
  }
}

TEST(DayCalendar, ShouldPutRandomInstantsInTheDayCctzNamesAndGiveTheOffsetCctzGives) {
  std::mt19937_64 rng(42);
  for (const char* name : {"America/New_York", "Australia/Lord_Howe", "America/Santiago", "Pacific/Apia"}) {
    SCOPED_TRACE(name);
    cctz::time_zone tz;
    ASSERT_TRUE(cctz::load_time_zone(name, &tz));
    const DailyConfig cfg = daily(name);
    const DayCalendar cal(cfg);
    std::uniform_int_distribution<std::int64_t> when(kMinEventNs, kMaxEventNs);
    for (int i = 0; i < 200'000; ++i) {
      const std::int64_t u = when(rng);
      const cctz::time_point<std::chrono::seconds> tp{std::chrono::seconds{u / kSec - (u % kSec < 0 ? 1 : 0)}};
      ASSERT_EQ(cal.offset_at(u), tz.lookup(tp).offset) << u;
      const DayCalendar::Day d = cal.day_of(u);
      ASSERT_LE(d.start_ns, u);
      ASSERT_LT(u, d.end_ns);
      // The zones above never jump back across midnight, so the day is the local date of u.
      ASSERT_EQ(d.day, days_since_epoch(cctz::civil_day(cctz::convert(tp, tz)))) << u;
    }
  }
}

TEST(DayCalendar, ShouldMakeDstDaysInNewYork23And25HoursLongAndCutTheSessionInLocalTime) {
  const DailyConfig cfg = daily("America/New_York", "09:30-16:00");
  const DayCalendar cal(cfg);
  // 2024-03-10 (spring forward) and 2024-11-03 (fall back); 2024-03-11 is a plain EDT day.
  const std::int64_t mar10 = 1710028800LL * kSec + 5 * kHour;  // 2024-03-10T05:00Z = 00:00 EST
  const DayCalendar::Day spring = cal.day_of(mar10 + 12 * kHour);
  EXPECT_EQ(spring.start_ns, mar10);
  EXPECT_EQ(spring.end_ns - spring.start_ns, 23 * kHour);
  const DayCalendar::Day next = cal.day_of(spring.end_ns);
  EXPECT_EQ(next.open_ns, next.start_ns + 9 * kHour + 30 * 60 * kSec);  // 09:30 EDT = 13:30Z
  EXPECT_EQ(next.open_ns, 1710163800LL * kSec);                         // 2024-03-11T13:30:00Z
  EXPECT_EQ(next.close_ns, 1710187200LL * kSec);                        // 2024-03-11T20:00:00Z
  const std::int64_t nov3 = 1730606400LL * kSec;                        // 2024-11-03T04:00Z = 00:00 EDT
  const DayCalendar::Day fall = cal.day_of(nov3 + kHour);
  EXPECT_EQ(fall.start_ns, nov3);
  EXPECT_EQ(fall.end_ns - fall.start_ns, 25 * kHour);
  EXPECT_EQ(fall.open_ns, 1730644200LL * kSec);  // 2024-11-03T14:30:00Z: 09:30 EST
}

TEST(DayCalendar, ShouldRefuseUnknownZonesAndBadSessionsWithAMessage) {
  EXPECT_THROW(load_utc_offsets("Mars/Olympus_Mons"), std::invalid_argument);
  EXPECT_THROW(load_utc_offsets(""), std::invalid_argument);
  for (const char* path : {"/etc/passwd", "../../../../dev/zero", "America/../../../dev/zero", "Europe/London\n"}) {
    EXPECT_THROW(load_utc_offsets(path), std::invalid_argument) << path;  // a name, never a path
  }
  EXPECT_EQ(load_utc_offsets("Etc/GMT+5").initial_offset_s, -5 * 3600);
  std::int64_t o = 0;
  std::int64_t c = 0;
  for (const char* bad : {"16:00-09:30", "9:30-16:00", "09:30", "09:60-10:00", "25:00-26:00", "09:30-16:00x", "-"}) {
    EXPECT_THROW(parse_session(bad, o, c), std::invalid_argument) << bad;
  }
  parse_session("09:30-16:00", o, c);
  EXPECT_EQ(o, (9 * 3600 + 1800) * kSec);
  EXPECT_EQ(c, 16 * kHour);
  EXPECT_EQ(session_text(o, c), "09:30-16:00");
  parse_session("00:00-24:00", o, c);
  EXPECT_EQ(o, 0);
  EXPECT_EQ(c, 0);
  EXPECT_EQ(session_text(o, c), "whole day");
  EngineConfig e;
  e.daily.zone.transition_ns = {10 * kHour, 5 * kHour};
  e.daily.zone.offset_s = {3600, 0};
  EXPECT_THROW(e.validate(), std::invalid_argument);
  e.daily = DailyConfig{};
  e.daily.move_pct = 0;
  EXPECT_THROW(e.validate(), std::invalid_argument);
}

// ---- the summaries ----------------------------------------------------------------------------------

TEST(DailySummary, ShouldSummariseEachDayWhenTheNextBeginsWithFiguresWorkedOutByHand) {
  DayHarness h(daily());
  const SymbolId a = h.symbols.intern("AAA");
  const std::int64_t d0 = kJun5 * kNsPerDay;
  // Day 1: 100 (v 10), 106 (+6 %: a move up, v 20), 100 (−5.66 %: down, v 30), 101 (+1 %, v 40).
  h.tick(a, 100.0, 10, d0 + 1 * kHour);
  h.tick(a, 106.0, 20, d0 + 2 * kHour);
  h.tick(a, 100.0, 30, d0 + 3 * kHour);
  h.tick(a, 101.0, 40, d0 + 23 * kHour);
  EXPECT_TRUE(h.days.empty());
  // Day 2 begins: day 1 is emitted before this tick's own alert (the +10 % move from 101 is overnight:
  // no move of day 2, but the tick-change rule sees it).
  h.tick(a, 111.1, 5, d0 + kNsPerDay + 30 * 60 * kSec);
  ASSERT_EQ(h.days.size(), 1u);
  const DailySummary& s = h.days[0];
  EXPECT_STREQ(s.ticker, "AAA");
  EXPECT_EQ(s.symbol, a);
  EXPECT_EQ(s.day, kJun5);
  EXPECT_EQ(s.start_ns, d0);
  EXPECT_EQ(s.end_ns, d0 + kNsPerDay);
  EXPECT_EQ(s.first_ns, d0 + 1 * kHour);
  EXPECT_EQ(s.last_ns, d0 + 23 * kHour);
  EXPECT_EQ(s.open, 100.0);
  EXPECT_EQ(s.high, 106.0);
  EXPECT_EQ(s.low, 100.0);
  EXPECT_EQ(s.close, 101.0);
  EXPECT_DOUBLE_EQ(s.mean, (100.0 + 106.0 + 100.0 + 101.0) / 4);
  EXPECT_EQ(s.volume, 100.0);
  EXPECT_DOUBLE_EQ(s.vwap, (100.0 * 10 + 106.0 * 20 + 100.0 * 30 + 101.0 * 40) / 100);
  EXPECT_EQ(s.ticks, 4u);
  EXPECT_EQ(s.moves_up, 1u);    // 100 → 106 (+6 %)
  EXPECT_EQ(s.moves_down, 1u);  // 106 → 100 (−5.66 %)
  // Tick-change alerts of day 1: 106 (+6 %) and 100 (−5.66 %); 101 (+1 %) none.
  EXPECT_EQ(s.alerts[static_cast<int>(Rule::kTickChange)], 2u);
  EXPECT_EQ(s.alerts[static_cast<int>(Rule::kWindowMove)], 0u);
  EXPECT_FALSE(s.partial);
  ASSERT_EQ(h.alerts.size(), 3u);  // the overnight +10 % counts in day 2

  h.core.close_days();
  ASSERT_EQ(h.days.size(), 2u);
  const DailySummary& p = h.days[1];
  EXPECT_EQ(p.day, kJun5 + 1);
  EXPECT_TRUE(p.partial);
  EXPECT_EQ(p.ticks, 1u);
  EXPECT_EQ(p.open, 111.1);
  EXPECT_EQ(p.moves_up + p.moves_down, 0u);
  EXPECT_EQ(p.alerts[static_cast<int>(Rule::kTickChange)], 1u);
  h.core.close_days();  // nothing open any more
  EXPECT_EQ(h.days.size(), 2u);
}

TEST(DailySummary, ShouldNotCountAMoveJustBelowTheThresholdAndKeepTickersApart) {
  DayHarness h(daily());
  const SymbolId a = h.symbols.intern("A");
  const SymbolId b = h.symbols.intern("B");
  const std::int64_t d0 = kJun5 * kNsPerDay;
  h.tick(a, 100.0, 1, d0);
  h.tick(b, 50.0, 0, d0);
  h.tick(a, 104.99, 1, d0 + kSec);  // +4.99 %: no move
  h.tick(b, 52.5, 0, d0 + kSec);    // +5 % exactly: a move
  h.core.close_days();
  ASSERT_EQ(h.days.size(), 2u);
  const DailySummary& sa = h.days[0].symbol == a ? h.days[0] : h.days[1];
  const DailySummary& sb = h.days[0].symbol == a ? h.days[1] : h.days[0];
  EXPECT_EQ(sa.moves_up, 0u);
  EXPECT_EQ(sb.moves_up, 1u);
  EXPECT_TRUE(std::isnan(sb.vwap));  // no volume
  EXPECT_EQ(sb.volume, 0.0);
  EXPECT_EQ(sa.high, 104.99);
}

TEST(DailySummary, ShouldCountOnlySessionTicksInLocalTimeAcrossADstChange) {
  DayHarness h(daily("America/New_York", "09:30-16:00"));
  const SymbolId a = h.symbols.intern("A");
  const std::int64_t mar8 = 1709874000LL * kSec;  // 2024-03-08T05:00Z = Friday 00:00 EST
  h.tick(a, 10.0, 1, mar8 + 9 * kHour);           // 09:00 EST: pre-market, not counted
  h.tick(a, 11.0, 1, mar8 + 9 * kHour + 1800 * kSec);  // 09:30: the open
  h.tick(a, 12.0, 1, mar8 + 16 * kHour - kSec);   // 15:59:59
  h.tick(a, 99.0, 1, mar8 + 16 * kHour);          // 16:00: after the close, not counted
  // Monday 2024-03-11, EDT: 09:30 local is 13:30Z.
  const std::int64_t mar11_open = 1710163800LL * kSec;
  h.tick(a, 20.0, 1, mar11_open - kSec);
  h.tick(a, 21.0, 1, mar11_open);
  h.core.close_days();
  ASSERT_EQ(h.days.size(), 2u);
  const DailySummary& fri = h.days[0];
  EXPECT_EQ(fri.day, 19790);  // 2024-03-08
  EXPECT_EQ(fri.ticks, 2u);
  EXPECT_EQ(fri.open, 11.0);
  EXPECT_EQ(fri.close, 12.0);
  EXPECT_EQ(fri.high, 12.0);
  EXPECT_EQ(fri.start_ns, mar8 + 9 * kHour + 1800 * kSec);  // the session's bounds
  EXPECT_EQ(fri.end_ns, mar8 + 16 * kHour);
  EXPECT_FALSE(fri.partial);
  const DailySummary& mon = h.days[1];
  EXPECT_EQ(mon.day, 19793);
  EXPECT_EQ(mon.ticks, 1u);
  EXPECT_EQ(mon.open, 21.0);
  EXPECT_EQ(mon.start_ns, mar11_open);
  EXPECT_TRUE(mon.partial);
}

TEST(DailySummary, ShouldKeepALateTickInTheDayItArrivesIn) {
  DayHarness h(daily());
  const SymbolId a = h.symbols.intern("A");
  const std::int64_t d1 = (kJun5 + 1) * kNsPerDay;
  h.tick(a, 10.0, 1, d1 - kSec);
  h.tick(a, 11.0, 1, d1 + kSec);      // day 2
  h.tick(a, 12.0, 1, d1 - 2 * kSec);  // late (stamped in day 1): the engine treats it as at d1 + 1 s
  h.core.close_days();
  ASSERT_EQ(h.days.size(), 2u);
  EXPECT_EQ(h.days[0].ticks, 1u);
  EXPECT_EQ(h.days[1].ticks, 2u);
  EXPECT_EQ(h.days[1].close, 12.0);
  EXPECT_EQ(h.days[1].last_ns, d1 + kSec);
}

TEST(DailySummary, ShouldFormatCsvAndJsonWithTheDocumentedColumns) {
  DailySummary d{};
  d.day = kJun5;
  std::strcpy(d.ticker, "AAPL");
  d.first_ns = kJun5 * kNsPerDay + 13 * kHour + 1800 * kSec;
  d.last_ns = kJun5 * kNsPerDay + 19 * kHour + 3540 * kSec;
  d.open = 646.2;
  d.high = 649.37;
  d.low = 642.61;
  d.close = 647.35;
  d.mean = 0.1 + 0.2;  // 0.30000000000000004: shortest round-trip
  d.vwap = std::nan("");
  d.volume = 12;
  d.ticks = 390;
  d.moves_up = 1;
  d.alerts[static_cast<int>(Rule::kSmaCross)] = 7;
  char buf[kDailyCapacity];
  const std::string csv(buf, format_daily_csv(d, buf, sizeof(buf)));
  EXPECT_EQ(csv,
            "AAPL,2014-06-05,646.2,649.37,642.61,647.35,0.30000000000000004,,12,390,1,0,2014-06-05T13:30:00Z,"
            "2014-06-05T19:59:00Z,false,0,0,0,7,0\n");
  EXPECT_EQ(std::string(daily_csv_header()),
            "ticker,day,open,high,low,close,mean,vwap,volume,ticks,moves_up,moves_down,first_time,last_time,partial,"
            "alerts_window_move,alerts_tick_change,alerts_volatility,alerts_sma_cross,alerts_volume_spike\n");
  d.partial = true;
  const std::string json(buf, format_daily_json(d, "i1", "America/New_York", buf, sizeof(buf)));
  EXPECT_EQ(json,
            R"({"schema":1,"type":"daily","instance":"i1","ticker":"AAPL","day":"2014-06-05","time_zone":"America/New_York",)"
            R"("first_time":"2014-06-05T13:30:00Z","last_time":"2014-06-05T19:59:00Z","open":646.2,"high":649.37,)"
            R"("low":642.61,"close":647.35,"mean":0.30000000000000004,"vwap":null,"volume":12,"ticks":390,"moves_up":1,)"
            R"("moves_down":0,"alerts":{"window_move":0,"tick_change":0,"volatility":0,"sma_cross":7,"volume_spike":0},)"
            R"("partial":true})");
}
