/*
 * embed.c — embedding the tickforge engine in a C program.
 *
 * The whole life of an engine through the C API (<tickforge/tickforge.h>): a configuration, an alert
 * callback, a thread of our own that pushes ticks through a producer, snapshots read while the engine
 * runs, stop, statistics, clean-up. Every return code is checked.
 *
 *   embed [FILE.csv]   FILE: lines "TICKER,EPOCH_SECONDS,PRICE,VOLUME" (malformed lines are skipped
 *                      and counted). Without FILE: a deterministic random walk of AAPL, MSFT and NVDA
 *                      with a few ±6 % jumps, so that alerts fire.
 *
 * Exit status 0 only if the engine processed every tick pushed and at least one alert arrived.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tickforge/tickforge.h>

#define WALK_STEPS 20000          /* random walk: ticks per ticker, one second of event time apart */
#define WALK_START_S 1704205800LL /* 2024-01-02 14:30:00 UTC: event time of the first tick */
#define MAX_SHOWN 16              /* tickers remembered for the snapshot table */

/* The pusher thread's input and results. main reads the results after pthread_join. */
typedef struct pusher {
  tf_engine_t *engine;
  const char *csv_path;         /* NULL: random walk */
  uint64_t pushed;              /* ticks the engine took */
  uint64_t malformed;           /* CSV lines skipped */
  uint64_t refused;             /* ticks the engine refused with TF_ERR_BAD_TICK (e.g. price <= 0) */
  char shown[MAX_SHOWN][TF_MAX_TICKER_LEN + 1];
  unsigned n_shown;
  const char *failed;           /* NULL, or the call that failed */
  tf_err_t rc;                  /* its code (TF_OK for a call that returns none) */
  char errstr[256];
} pusher_t;

/* Records a failure for main to report; returns 0 so that callers can `return fail(...)`. */
static int fail(pusher_t *p, const char *call, tf_err_t rc) {
  p->failed = call;
  p->rc = rc;
  return 0;
}

static void report(const char *call, tf_err_t rc, const char *errstr) {
  fprintf(stderr, "embed: %s failed: %s%s%s\n", call, rc != TF_OK ? tf_err_str(rc) : "",
          rc != TF_OK && errstr[0] != '\0' ? ": " : "", errstr);
}

/* Alert callback. It runs on the engine thread that evaluated the tick, with a record valid only during
 * the call. Printing is fine for an example; a real embedder copies the record to its own queue and
 * returns at once (a slow callback delays every tick of its shard). */
static void on_alert(void *user, const tf_alert_t *a) {
  uint64_t *alerts_seen = user; /* shards = 1: one engine thread calls us; more shards need an atomic */
  ++*alerts_seen;
  fprintf(stdout, "alert  %-6s %-12s %-4s price=%.2f value=%.3f threshold=%.3f\n", a->ticker,
          tf_rule_name(a->rule), a->direction > 0 ? "up" : a->direction < 0 ? "down" : "-", a->price,
          a->value, a->threshold);
}

static void remember(pusher_t *p, const char *ticker) {
  for (unsigned i = 0; i < p->n_shown; ++i) {
    if (strcmp(p->shown[i], ticker) == 0) return;
  }
  if (p->n_shown < MAX_SHOWN) strcpy(p->shown[p->n_shown++], ticker); /* length checked: <= 15 */
}

/* xorshift64*: a tiny deterministic generator (rand() differs between C libraries). [0, 1). */
static double uniform(uint64_t *s) {
  *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
  return (double)((*s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* Random walk: every step one tick per ticker, 0.05 % noise, and a ±6 % jump with 5× volume every
 * 4,000 steps per ticker (a tick change, a window move and a volume spike alert each). */
static int push_walk(pusher_t *p, tf_producer_t *prod) {
  static const char *const tickers[3] = {"AAPL", "MSFT", "NVDA"};
  double price[3] = {190.0, 410.0, 480.0};
  uint32_t ids[3];
  uint64_t rng = 7;
  for (int k = 0; k < 3; ++k) { /* resolve each ticker once, then push by id */
    tf_err_t rc = tf_engine_symbol(p->engine, tickers[k], &ids[k]);
    if (rc != TF_OK) return fail(p, "tf_engine_symbol", rc);
    remember(p, tickers[k]);
  }
  for (int64_t i = 0; i < WALK_STEPS; ++i) {
    for (int k = 0; k < 3; ++k) {
      double move = 0.0005 * 2.0 * (uniform(&rng) + uniform(&rng) + uniform(&rng) - 1.5); /* ~N(0, 0.05 %) */
      double volume = 100.0 + 400.0 * uniform(&rng);
      if ((i + 500 * k) % 4000 == 2000) {
        move = (i / 4000) % 2 == 0 ? 0.06 : -0.06;
        volume *= 5.0;
      }
      price[k] *= 1.0 + move;
      const tf_tick_t tick = {ids[k], 0, (WALK_START_S + i) * 1000000000LL, price[k], volume};
      /* Blocking push: waits while the ring is full (tf_producer_offer would return back-pressure). */
      tf_err_t rc = tf_producer_push(prod, &tick);
      if (rc != TF_OK) return fail(p, "tf_producer_push", rc);
      ++p->pushed;
    }
  }
  return 1;
}

/* "TICKER,EPOCH_SECONDS,PRICE,VOLUME" → ticker and tick; 0 if malformed (header, blank line, bad number).
 * Values are the engine's to judge: a price <= 0 parses here and is refused with TF_ERR_BAD_TICK. */
static int parse_line(char *line, char ticker[TF_MAX_TICKER_LEN + 1], tf_tick_t *tick) {
  char *field[4], *end, *s = line;
  int n = 0;
  line[strcspn(line, "\r\n")] = '\0';
  while (n < 4) { /* split at the commas */
    field[n++] = s;
    if ((s = strchr(s, ',')) == NULL) break;
    *s++ = '\0';
  }
  if (n != 4 || s != NULL) return 0; /* fewer or more than 4 fields */
  size_t len = strlen(field[0]);
  if (len == 0 || len > TF_MAX_TICKER_LEN) return 0;
  memcpy(ticker, field[0], len + 1);
  long long seconds = strtoll(field[1], &end, 10);
  if (end == field[1] || *end != '\0' || seconds < 0 || seconds > 9000000000LL) return 0;
  tick->event_ns = seconds * 1000000000LL;
  tick->price = strtod(field[2], &end);
  if (end == field[2] || *end != '\0') return 0;
  tick->volume = strtod(field[3], &end);
  return end != field[3] && *end == '\0';
}

static int push_csv(pusher_t *p, tf_producer_t *prod) {
  char line[512], ticker[TF_MAX_TICKER_LEN + 1];
  tf_tick_t tick = {0, 0, 0, 0.0, 0.0};
  FILE *f = fopen(p->csv_path, "r");
  if (f == NULL) {
    snprintf(p->errstr, sizeof p->errstr, "%s: %s", p->csv_path, strerror(errno));
    return fail(p, "fopen", TF_OK); /* not a library call: no tf_err_t */
  }
  while (p->failed == NULL && fgets(line, sizeof line, f) != NULL) {
    if (!parse_line(line, ticker, &tick)) {
      ++p->malformed;
      continue;
    }
    /* Lock-free for a known ticker; a new one is registered (once, under a mutex). */
    tf_err_t rc = tf_engine_symbol(p->engine, ticker, &tick.symbol);
    if (rc != TF_OK) {
      fail(p, "tf_engine_symbol", rc);
    } else if ((rc = tf_producer_push(prod, &tick)) == TF_OK) {
      ++p->pushed;
      remember(p, ticker);
    } else if (rc == TF_ERR_BAD_TICK) {
      ++p->refused; /* the engine counts it too (stats.rejected_bad_tick); go on with the next line */
    } else {
      fail(p, "tf_producer_push", rc);
    }
  }
  fclose(f);
  return p->failed == NULL;
}

static void *pusher_main(void *arg) {
  pusher_t *p = arg;
  /* One producer per pushing thread: its rings have exactly one writer, so pushes take no lock. */
  tf_producer_t *prod = tf_producer_new(p->engine, p->errstr, sizeof p->errstr);
  if (prod == NULL) {
    fail(p, "tf_producer_new", TF_OK); /* no code returned: errstr says why */
    return NULL;
  }
  if (p->csv_path != NULL ? push_csv(p, prod) : push_walk(p, prod)) {
    /* No more ticks from this thread; what it pushed is still processed. */
    tf_err_t rc = tf_producer_close(prod);
    if (rc != TF_OK) fail(p, "tf_producer_close", rc);
  }
  return NULL;
}

/* On failure: report the call, its code and message, then clean up and exit 1. */
#define CHECK(call, name) \
  do { if ((rc = (call)) != TF_OK) { report(name, rc, err); goto done; } } while (0)

int main(int argc, char **argv) {
  static const char *const settings[][2] = {
      {"shards", "1"},          /* one engine thread */
      {"sma", "5,20"},          /* SMA / variance / EMA windows in ticks (metrics.sma[0], sma[1]) */
      {"tick-change-pct", "2"}, /* rule: |tick-to-tick change| >= 2 % */
      {"alert-pct", "4"},       /* rule: >= 4 % above the window low or below the window high ... */
      {"alert-window", "60s"},  /* ... within 60 s of event time */
      {"sma-cross", "false"},   /* a random walk crosses its SMAs every few ticks: too chatty here */
  };
  pusher_t p = {.engine = NULL}; /* every other member zero */
  char err[256] = "";
  uint64_t alerts_seen = 0;
  tf_config_t *conf = NULL;
  tf_engine_t *engine = NULL;
  tf_snapshot_t snap;
  tf_stats_t st;
  tf_err_t rc;
  pthread_t thread;
  int status = 1, e;

  /* The library loaded at run time must have the ABI this program was compiled against. */
  if ((tf_version() >> 16) != (TF_VERSION >> 16)) {
    fprintf(stderr, "embed: compiled against tickforge %d.%d, loaded %s\n", TF_VERSION_MAJOR,
            TF_VERSION_MINOR, tf_version_str());
    return 1;
  }
  if ((conf = tf_config_new()) == NULL) {
    fprintf(stderr, "embed: tf_config_new: out of memory\n");
    return 1;
  }
  for (size_t i = 0; i < sizeof settings / sizeof settings[0]; ++i) {
    CHECK(tf_config_set(conf, settings[i][0], settings[i][1], err, sizeof err), "tf_config_set");
  }
  engine = tf_engine_new(conf, err, sizeof err); /* copies conf: it can go now */
  tf_config_destroy(conf);
  conf = NULL;
  if (engine == NULL) {
    report("tf_engine_new", TF_OK, err);
    goto done;
  }
  CHECK(tf_engine_on_alert(engine, on_alert, &alerts_seen), "tf_engine_on_alert"); /* before start */
  CHECK(tf_engine_start(engine, err, sizeof err), "tf_engine_start");

  p.engine = engine;
  p.csv_path = argc > 1 ? argv[1] : NULL;
  if ((e = pthread_create(&thread, NULL, pusher_main, &p)) != 0) {
    fprintf(stderr, "embed: pthread_create: %s\n", strerror(e));
    goto done;
  }
  if ((e = pthread_join(thread, NULL)) != 0) {
    fprintf(stderr, "embed: pthread_join: %s\n", strerror(e));
    goto done;
  }
  if (p.failed != NULL) {
    report(p.failed, p.rc, p.errstr);
    goto done;
  }
  printf("pushed %" PRIu64 " ticks (%" PRIu64 " malformed lines skipped, %" PRIu64 " refused)\n", p.pushed,
         p.malformed, p.refused);

  /* Snapshots while the engine runs: each is a consistent state between two ticks. The last ticks may
   * still be in flight, so `ticks` can be below what was pushed. NaN: not defined yet. */
  for (unsigned i = 0; i < p.n_shown; ++i) {
    CHECK(tf_engine_snapshot_ticker(engine, p.shown[i], &snap), "tf_engine_snapshot_ticker");
    const tf_metrics_t *m = &snap.metrics; /* n_windows = 2 here: windows[] = {5, 20} */
    printf("%-6s last=%.2f sma%" PRIu32 "=%.2f sma%" PRIu32 "=%.2f stddev%" PRIu32
           "=%.4f volatility=%.4f vwap=%.2f ticks=%" PRIu64 "\n",
           snap.ticker, snap.last_price, m->windows[0], m->sma[0], m->windows[1], m->sma[1], m->windows[0],
           m->stddev[0], m->volatility, m->vwap, snap.ticks);
  }

  /* Stop: producers are refused from now on, every tick already pushed is processed, threads joined.
   * After it the statistics are exact, and the callback will not run again. */
  CHECK(tf_engine_stop(engine), "tf_engine_stop");
  CHECK(tf_engine_stats(engine, &st), "tf_engine_stats");
  printf("stats: ticks=%" PRIu64 " pushed=%" PRIu64 " alerts=%" PRIu64 " (", st.ticks, st.pushed, st.alerts);
  for (int r = 0; r < TF_RULE_COUNT; ++r) {
    printf("%s%s=%" PRIu64, r > 0 ? " " : "", tf_rule_name(r), st.alerts_by_rule[r]);
  }
  printf(")\n       back_pressure=%" PRIu64 " rejected: bad_tick=%" PRIu64 " bad_ticker=%" PRIu64
         " table_full=%" PRIu64 " stopped=%" PRIu64 "\n",
         st.back_pressure, st.rejected_bad_tick, st.rejected_bad_ticker, st.rejected_symbol_table_full,
         st.rejected_stopped);
  printf("       latency ingest->processed p50=%.1f us p99=%.1f us, ingest->alert p50=%.1f us p99=%.1f us\n",
         st.process_latency.p50 / 1e3, st.process_latency.p99 / 1e3, st.alert_latency.p50 / 1e3,
         st.alert_latency.p99 / 1e3);

  if (st.ticks != p.pushed || alerts_seen == 0 || alerts_seen != st.alerts) {
    fprintf(stderr, "embed: FAILED: ticks=%" PRIu64 " pushed=%" PRIu64 " alerts seen=%" PRIu64
            " counted=%" PRIu64 "\n", st.ticks, p.pushed, alerts_seen, st.alerts);
    goto done;
  }
  printf("embed: OK ticks=%" PRIu64 " alerts=%" PRIu64 "\n", st.ticks, alerts_seen);
  status = 0;
done:
  tf_engine_destroy(engine); /* stops first if still running; frees every producer. NULL is ignored. */
  tf_config_destroy(conf);
  return status;
}
