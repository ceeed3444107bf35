/*
 * tickforge — test of the C API (include/tickforge/tickforge.h), written in C99 against the header only.
 *
 * Every function of the header is called, with its misuse: NULL handles and pointers, bad ticks and
 * tickers, calls in the wrong engine state, fixed limits (callbacks, producers, symbol table, ring).
 * Expected values are computed here, independently of the library (two-pass means and variances,
 * the EMA recursion, VWAP, % changes), never copied from a run.
 *
 * Self-contained: its own CHECK macros (file:line, the failed expression and the values), one line per
 * test as it runs, exit status 1 if any check failed. Threads: POSIX threads; data shared with engine
 * threads (alert callbacks) or test threads is guarded by pthread mutexes or read after a join.
 *
 * Build: C99, -D_POSIX_C_SOURCE=200809L (clock_gettime, nanosleep, getpid), link -lpthread -lm.
 * -DTF_TEST_QUICK: 10,000 instead of 50,000 ticks per producer thread in the concurrency test.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tickforge/tickforge.h>

/* ---- checks ------------------------------------------------------------------------------------- */

static pthread_mutex_t g_check_mu = PTHREAD_MUTEX_INITIALIZER; /* checks also run on test threads */
static unsigned long g_checks;
static unsigned long g_failures;

static int check_report(int ok, const char *file, int line, const char *expr, const char *detail) {
  pthread_mutex_lock(&g_check_mu);
  ++g_checks;
  if (!ok) {
    ++g_failures;
    fprintf(stderr, "%s:%d: CHECK failed: %s%s%s\n", file, line, expr, detail[0] != '\0' ? "\n    " : "", detail);
    fflush(stderr);
  }
  pthread_mutex_unlock(&g_check_mu);
  return ok;
}

static int check_true(int ok, const char *file, int line, const char *expr) {
  return check_report(ok, file, line, expr, "");
}

static int check_rc(tf_err_t got, tf_err_t want, const char *file, int line, const char *expr, const char *wexpr) {
  char detail[512];
  char e[256];
  const char *gs = tf_err_str(got);
  const char *ws = tf_err_str(want);
  snprintf(detail, sizeof(detail), "got %d (%s), want %d (%s)", (int)got, gs != NULL ? gs : "(null)", (int)want,
           ws != NULL ? ws : "(null)");
  snprintf(e, sizeof(e), "%s == %s", expr, wexpr);
  return check_report(got == want, file, line, e, detail);
}

static int check_u64(unsigned long long a, unsigned long long b, const char *file, int line, const char *ea,
                     const char *eb) {
  char detail[128];
  char e[256];
  snprintf(detail, sizeof(detail), "%llu != %llu", a, b);
  snprintf(e, sizeof(e), "%s == %s", ea, eb);
  return check_report(a == b, file, line, e, detail);
}

static int check_i64(long long a, long long b, const char *file, int line, const char *ea, const char *eb) {
  char detail[128];
  char e[256];
  snprintf(detail, sizeof(detail), "%lld != %lld", a, b);
  snprintf(e, sizeof(e), "%s == %s", ea, eb);
  return check_report(a == b, file, line, e, detail);
}

static int near_rel(double a, double b, double rel) {
  if (a == b) {
    return 1;
  }
  if (isnan(a) || isnan(b) || isinf(a) || isinf(b)) {
    return 0;
  }
  return fabs(a - b) <= rel * fmax(fabs(a), fabs(b));
}

static int check_near(double a, double b, double rel, const char *file, int line, const char *ea, const char *eb) {
  char detail[160];
  char e[256];
  snprintf(detail, sizeof(detail), "%.17g vs %.17g (relative tolerance %g)", a, b, rel);
  snprintf(e, sizeof(e), "%s ≈ %s", ea, eb);
  return check_report(near_rel(a, b, rel), file, line, e, detail);
}

static int check_str(const char *a, const char *b, const char *file, int line, const char *ea, const char *eb) {
  char detail[256];
  char e[256];
  snprintf(detail, sizeof(detail), "\"%s\" vs \"%s\"", a != NULL ? a : "(null)", b != NULL ? b : "(null)");
  snprintf(e, sizeof(e), "%s equals %s", ea, eb);
  return check_report(a != NULL && b != NULL && strcmp(a, b) == 0, file, line, e, detail);
}

static int check_contains(const char *hay, const char *needle, const char *file, int line, const char *eh,
                          const char *en) {
  char detail[600];
  char e[256];
  snprintf(detail, sizeof(detail), "\"%s\" does not contain \"%s\"", hay != NULL ? hay : "(null)", needle);
  snprintf(e, sizeof(e), "%s contains %s", eh, en);
  return check_report(hay != NULL && strstr(hay, needle) != NULL, file, line, e, detail);
}

#define CHECK(cond) check_true((cond) ? 1 : 0, __FILE__, __LINE__, #cond)
#define CHECK_RC(expr, want) check_rc((expr), (want), __FILE__, __LINE__, #expr, #want)
#define CHECK_EQ_U(a, b) check_u64((unsigned long long)(a), (unsigned long long)(b), __FILE__, __LINE__, #a, #b)
#define CHECK_EQ_I(a, b) check_i64((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)
#define CHECK_NEAR(a, b) check_near((a), (b), 1e-9, __FILE__, __LINE__, #a, #b)
#define CHECK_STREQ(a, b) check_str((a), (b), __FILE__, __LINE__, #a, #b)
#define CHECK_CONTAINS(hay, needle) check_contains((hay), (needle), __FILE__, __LINE__, #hay, #needle)

/* ---- helpers ------------------------------------------------------------------------------------ */

/* The setting that lists the SMA/variance/EMA windows. engine/settings.cpp names it "sma" (the header
 * mentions "sma-windows" in two comments; see the report). */
#define SMA_KEY "sma"

#ifdef TF_TEST_QUICK
#define CONC_TICKS_PER_THREAD 10000
#else
#define CONC_TICKS_PER_THREAD 50000
#endif

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

static double mean_of(const double *x, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) {
    s += x[i];
  }
  return s / n;
}

/* Two-pass variance with ddof. */
static double var_of(const double *x, int n, int ddof) {
  const double m = mean_of(x, n);
  double s = 0;
  for (int i = 0; i < n; ++i) {
    s += (x[i] - m) * (x[i] - m);
  }
  return s / (n - ddof);
}

/* EMA with alpha = 2/(N+1), seeded with the first price. */
static double ema_of(const double *x, int n, int window) {
  const double alpha = 2.0 / (window + 1.0);
  double e = x[0];
  for (int i = 1; i < n; ++i) {
    e = e + alpha * (x[i] - e);
  }
  return e;
}

static tf_tick_t make_tick(uint32_t symbol, int64_t event_ns, double price, double volume) {
  tf_tick_t t;
  memset(&t, 0, sizeof(t));
  t.symbol = symbol;
  t.event_ns = event_ns;
  t.price = price;
  t.volume = volume;
  return t;
}

/* A config from NULL-terminated key/value pairs; every set must succeed. */
static tf_config_t *config_from(const char *const *kv, const char *file, int line) {
  tf_config_t *conf = tf_config_new();
  check_true(conf != NULL, file, line, "tf_config_new() != NULL");
  if (conf == NULL) {
    return NULL;
  }
  for (int i = 0; kv != NULL && kv[i] != NULL; i += 2) {
    char err[256] = "";
    const tf_err_t rc = tf_config_set(conf, kv[i], kv[i + 1], err, sizeof(err));
    char expr[300];
    snprintf(expr, sizeof(expr), "tf_config_set(\"%s\", \"%s\") == TF_OK [%s]", kv[i], kv[i + 1], err);
    check_true(rc == TF_OK, file, line, expr);
  }
  return conf;
}

/* tf_config_load_string(conf, toml) must fail with `want` and a message containing `where`. */
#define EXPECT_LOAD_ERROR(conf, toml, want, where)                                  \
  do {                                                                              \
    char err_[512] = "";                                                            \
    CHECK_RC(tf_config_load_string((conf), (toml), err_, sizeof(err_)), (want));    \
    CHECK_CONTAINS(err_, (where));                                                  \
  } while (0)

/* An engine from key/value pairs; the config is destroyed at once (the engine keeps a copy). */
static tf_engine_t *engine_from(const char *const *kv, const char *file, int line) {
  tf_config_t *conf = config_from(kv, file, line);
  if (conf == NULL) {
    return NULL;
  }
  char err[512] = "";
  tf_engine_t *e = tf_engine_new(conf, err, sizeof(err));
  char expr[600];
  snprintf(expr, sizeof(expr), "tf_engine_new() != NULL [%s]", err);
  check_true(e != NULL, file, line, expr);
  tf_config_destroy(conf);
  return e;
}
#define ENGINE_FROM(kv) engine_from((kv), __FILE__, __LINE__)

static tf_stats_t stats_of(tf_engine_t *e) {
  tf_stats_t s;
  memset(&s, 0xAB, sizeof(s));
  CHECK_RC(tf_engine_stats(e, &s), TF_OK);
  return s;
}

/* Polls until the ticker's snapshot shows `want` ticks (the engine is running); returns whether it did. */
static int wait_snapshot_ticks(tf_engine_t *e, uint32_t symbol, uint64_t want, double timeout_s) {
  const double end = now_s() + timeout_s;
  for (;;) {
    tf_snapshot_t s;
    if (tf_engine_snapshot(e, symbol, &s) == TF_OK && s.ticks >= want) {
      return s.ticks == want;
    }
    if (now_s() > end) {
      return 0;
    }
    sleep_ms(1);
  }
}

static void check_latency_order(const tf_latency_t *l, const char *file, int line) {
  check_true(l->p50 <= l->p90 && l->p90 <= l->p99 && l->p99 <= l->p999 && l->p999 <= l->max, file, line,
             "latency percentiles ascending: p50 <= p90 <= p99 <= p999 <= max");
}

/* ---- alert recording (the callback runs on an engine thread) -------------------------------------- */

#define REC_MAX 4096

typedef struct recorder {
  pthread_mutex_t mu;
  unsigned long total;          /* every call */
  int n;                        /* alerts kept in a[] (at most REC_MAX) */
  tf_alert_t a[REC_MAX];
  int order[64];                /* callback indices in call order (registration-order test) */
  int n_order;
} recorder_t;

static recorder_t *recorder_new(void) {
  recorder_t *r = (recorder_t *)calloc(1, sizeof(recorder_t));
  if (r != NULL) {
    pthread_mutex_init(&r->mu, NULL);
  }
  return r;
}

static void recorder_free(recorder_t *r) {
  if (r != NULL) {
    pthread_mutex_destroy(&r->mu);
    free(r);
  }
}

static void on_alert_record(void *user, const tf_alert_t *alert) {
  recorder_t *r = (recorder_t *)user;
  pthread_mutex_lock(&r->mu);
  if (r->n < REC_MAX) {
    r->a[r->n++] = *alert;
  }
  ++r->total;
  pthread_mutex_unlock(&r->mu);
}

typedef struct order_slot {
  recorder_t *rec;
  int index;
} order_slot_t;

static void on_alert_order(void *user, const tf_alert_t *alert) {
  order_slot_t *slot = (order_slot_t *)user;
  (void)alert;
  pthread_mutex_lock(&slot->rec->mu);
  if (slot->rec->n_order < 64) {
    slot->rec->order[slot->rec->n_order++] = slot->index;
  }
  ++slot->rec->total;
  pthread_mutex_unlock(&slot->rec->mu);
}

static void on_alert_ignore(void *user, const tf_alert_t *alert) {
  (void)user;
  (void)alert;
}

/* Rules off except the tick-to-tick change (≥ 3 %). */
#define ONLY_TICK_CHANGE                                                                                  \
  "tick-change-pct", "3", "alert-pct", "0", "volatility-pct", "0", "sma-cross", "false", "volume-spike", "0"

/* ======================================================================================================
 * 1. version, error names, rule names
 * ==================================================================================================== */

static void test_version(void) {
  CHECK_EQ_I(tf_version(), TF_VERSION);
  CHECK_EQ_I((tf_version() >> 24) & 0xff, TF_VERSION_MAJOR);
  CHECK_EQ_I((tf_version() >> 16) & 0xff, TF_VERSION_MINOR);
  CHECK_EQ_I((tf_version() >> 8) & 0xff, TF_VERSION_PATCH);
  CHECK_EQ_I(tf_version() & 0xff, 0);
  char want[32];
  snprintf(want, sizeof(want), "%d.%d.%d", TF_VERSION_MAJOR, TF_VERSION_MINOR, TF_VERSION_PATCH);
  CHECK_STREQ(tf_version_str(), want);
}

static void test_err_str(void) {
  static const struct {
    tf_err_t code;
    int value;
    const char *name;
  } codes[] = {
      {TF_OK, 0, "TF_OK"},
      {TF_ERR_BACK_PRESSURE, -1, "TF_ERR_BACK_PRESSURE"},
      {TF_ERR_STOPPED, -2, "TF_ERR_STOPPED"},
      {TF_ERR_BAD_TICK, -3, "TF_ERR_BAD_TICK"},
      {TF_ERR_BAD_TICKER, -4, "TF_ERR_BAD_TICKER"},
      {TF_ERR_UNKNOWN_SYMBOL, -5, "TF_ERR_UNKNOWN_SYMBOL"},
      {TF_ERR_SYMBOL_TABLE_FULL, -6, "TF_ERR_SYMBOL_TABLE_FULL"},
      {TF_ERR_INVALID_ARG, -7, "TF_ERR_INVALID_ARG"},
      {TF_ERR_UNKNOWN_KEY, -8, "TF_ERR_UNKNOWN_KEY"},
      {TF_ERR_BAD_VALUE, -9, "TF_ERR_BAD_VALUE"},
      {TF_ERR_STATE, -10, "TF_ERR_STATE"},
      {TF_ERR_LIMIT, -11, "TF_ERR_LIMIT"},
      {TF_ERR_IO, -12, "TF_ERR_IO"},
      {TF_ERR_KAFKA, -13, "TF_ERR_KAFKA"},
      {TF_ERR_CPU, -14, "TF_ERR_CPU"},
      {TF_ERR_TIMED_OUT, -15, "TF_ERR_TIMED_OUT"},
      {TF_ERR_NO_MEMORY, -16, "TF_ERR_NO_MEMORY"},
      {TF_ERR_INTERNAL, -17, "TF_ERR_INTERNAL"},
      {TF_ERR_TIME_OUT_OF_RANGE, -18, "TF_ERR_TIME_OUT_OF_RANGE"},
  };
  const int n = (int)(sizeof(codes) / sizeof(codes[0]));
  for (int i = 0; i < n; ++i) {
    CHECK_EQ_I(codes[i].code, codes[i].value); /* the numeric ABI */
    const char *s = tf_err_str(codes[i].code);
    if (!CHECK(s != NULL)) {
      continue;
    }
    CHECK_CONTAINS(s, codes[i].name);
    for (int j = 0; j < i; ++j) {
      const char *o = tf_err_str(codes[j].code);
      CHECK(o != NULL && strcmp(s, o) != 0);
    }
  }
  /* A name that contains a longer one must still be told apart (TF_ERR_BAD_TICK vs TF_ERR_BAD_TICKER). */
  CHECK(strstr(tf_err_str(TF_ERR_BAD_TICK), "TF_ERR_BAD_TICKER") == NULL);
  CHECK(tf_err_str((tf_err_t)12345) != NULL);
  CHECK(tf_err_str((tf_err_t)-100) != NULL);
  CHECK(tf_err_str((tf_err_t)1) != NULL);
}

static void test_rule_name(void) {
  CHECK_STREQ(tf_rule_name(TF_RULE_WINDOW_MOVE), "window_move");
  CHECK_STREQ(tf_rule_name(TF_RULE_TICK_CHANGE), "tick_change");
  CHECK_STREQ(tf_rule_name(TF_RULE_VOLATILITY), "volatility");
  CHECK_STREQ(tf_rule_name(TF_RULE_SMA_CROSS), "sma_cross");
  CHECK_STREQ(tf_rule_name(TF_RULE_VOLUME_SPIKE), "volume_spike");
  CHECK_EQ_I(TF_RULE_WINDOW_MOVE, 0);
  CHECK_EQ_I(TF_RULE_VOLUME_SPIKE, 4);
  CHECK_EQ_I(TF_RULE_COUNT, 5);
  CHECK_STREQ(tf_rule_name(TF_RULE_COUNT), "unknown");
  CHECK_STREQ(tf_rule_name(99), "unknown");
  CHECK_STREQ(tf_rule_name(-1), "unknown");
}

/* ======================================================================================================
 * 2. configuration
 * ==================================================================================================== */

static void test_config_set(void) {
  tf_config_t *conf = tf_config_new();
  if (!CHECK(conf != NULL)) {
    return;
  }
  char err[256];

  CHECK_RC(tf_config_set(conf, "shards", "2", err, sizeof(err)), TF_OK);
  CHECK_RC(tf_config_set(conf, SMA_KEY, "5,10", err, sizeof(err)), TF_OK);
  CHECK_RC(tf_config_set(conf, "alert_pct", "5", err, sizeof(err)), TF_OK);  /* underscore form */
  CHECK_RC(tf_config_set(conf, "alert-pct", "5", err, sizeof(err)), TF_OK);
  CHECK_RC(tf_config_set(conf, "tick_change_pct", "3", err, sizeof(err)), TF_OK);
  CHECK_RC(tf_config_set(conf, "ring-capacity", "1024", err, sizeof(err)), TF_OK);
  CHECK_RC(tf_config_set(conf, "alert-window", "60s", err, sizeof(err)), TF_OK);
  CHECK_RC(tf_config_set(conf, "sma-cross", "true", err, sizeof(err)), TF_OK);
  CHECK_RC(tf_config_set(conf, "kafka.client.id", "x", err, sizeof(err)), TF_OK); /* kafka.PROPERTY */
  CHECK_RC(tf_config_set(conf, "feed", "synthetic", err, sizeof(err)), TF_OK);   /* repeatable */
  CHECK_RC(tf_config_set(conf, "feed", "synthetic", err, sizeof(err)), TF_OK);

  /* unknown key: the message names it */
  err[0] = '\0';
  CHECK_RC(tf_config_set(conf, "no-such-key", "1", err, sizeof(err)), TF_ERR_UNKNOWN_KEY);
  CHECK_CONTAINS(err, "no-such-key");

  /* keys only the tickforge binary uses are refused, not silently ignored */
  static const char *const cli_only[] = {"duration", "print-alerts", "shutdown-timeout", "summary-json", "topic"};
  for (size_t i = 0; i < sizeof(cli_only) / sizeof(cli_only[0]); ++i) {
    err[0] = '\0';
    CHECK_RC(tf_config_set(conf, cli_only[i], "1", err, sizeof(err)), TF_ERR_UNKNOWN_KEY);
    CHECK_CONTAINS(err, "is not a setting here");
  }
  /* a boolean and a cooldown of 0 (no cooldown) */
  CHECK_RC(tf_config_set(conf, "cooldown", "0", err, sizeof(err)), TF_OK);
  CHECK_RC(tf_config_set(conf, "saturate", "true", err, sizeof(err)), TF_OK);

  /* bad values */
  err[0] = '\0';
  CHECK_RC(tf_config_set(conf, "shards", "zero", err, sizeof(err)), TF_ERR_BAD_VALUE);
  CHECK(strlen(err) > 0);
  err[0] = '\0';
  CHECK_RC(tf_config_set(conf, "shards", "0", err, sizeof(err)), TF_ERR_BAD_VALUE);
  CHECK(strlen(err) > 0);
  err[0] = '\0';
  CHECK_RC(tf_config_set(conf, "sma-cross", "maybe", err, sizeof(err)), TF_ERR_BAD_VALUE);
  CHECK(strlen(err) > 0);
  err[0] = '\0';
  CHECK_RC(tf_config_set(conf, "ddof", "2", err, sizeof(err)), TF_ERR_BAD_VALUE);
  CHECK(strlen(err) > 0);
  err[0] = '\0';
  CHECK_RC(tf_config_set(conf, "alert-window", "soon", err, sizeof(err)), TF_ERR_BAD_VALUE);
  CHECK(strlen(err) > 0);
  err[0] = '\0';
  CHECK_RC(tf_config_set(conf, "feed", "nonsense:x", err, sizeof(err)), TF_ERR_BAD_VALUE);
  CHECK(strlen(err) > 0);

  /* errstr may be NULL: the code is still right */
  CHECK_RC(tf_config_set(conf, "no-such-key", "1", NULL, 0), TF_ERR_UNKNOWN_KEY);
  CHECK_RC(tf_config_set(conf, "no-such-key", "1", NULL, 100), TF_ERR_UNKNOWN_KEY);
  CHECK_RC(tf_config_set(conf, "shards", "zero", NULL, 0), TF_ERR_BAD_VALUE);
  CHECK_RC(tf_config_set(conf, "shards", "1", NULL, 0), TF_OK);

  /* NULL pointers */
  CHECK_RC(tf_config_set(conf, NULL, "1", err, sizeof(err)), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_config_set(conf, "shards", NULL, err, sizeof(err)), TF_ERR_INVALID_ARG);
  tf_config_destroy(conf);
}

static void test_config_errstr_truncation(void) {
  tf_config_t *conf = tf_config_new();
  if (!CHECK(conf != NULL)) {
    return;
  }
  const char *key = "a-rather-long-unknown-configuration-key";
  char buf[64];

  memset(buf, 'X', sizeof(buf));
  CHECK_RC(tf_config_set(conf, key, "1", buf, 8), TF_ERR_UNKNOWN_KEY);
  CHECK(memchr(buf, '\0', 8) != NULL); /* NUL-terminated within the 8 bytes given */
  CHECK(strlen(buf) <= 7);
  CHECK(strlen(buf) >= 1); /* the message is longer than 7 bytes: something was written */
  int untouched = 1;
  for (size_t i = 8; i < sizeof(buf); ++i) {
    untouched = untouched && buf[i] == 'X';
  }
  CHECK(untouched); /* nothing written past errstr_size */

  memset(buf, 'X', sizeof(buf));
  CHECK_RC(tf_config_set(conf, key, "1", buf, 1), TF_ERR_UNKNOWN_KEY);
  CHECK(buf[0] == '\0');
  CHECK(buf[1] == 'X');

  memset(buf, 'X', sizeof(buf));
  CHECK_RC(tf_config_set(conf, key, "1", buf, 0), TF_ERR_UNKNOWN_KEY);
  CHECK(buf[0] == 'X'); /* size 0: not a byte written */

  /* the same for an engine-creation message */
  memset(buf, 'X', sizeof(buf));
  CHECK(tf_engine_new(NULL, buf, 8) == NULL);
  CHECK(memchr(buf, '\0', 8) != NULL);
  CHECK(strlen(buf) <= 7);
  CHECK(buf[8] == 'X');
  tf_config_destroy(conf);
}

static void test_config_load_string(void) {
  tf_config_t *conf = tf_config_new();
  if (!CHECK(conf != NULL)) {
    return;
  }
  char err[512];

  err[0] = '\0';
  CHECK_RC(tf_config_load_string(conf,
                                 "shards = 1\n" SMA_KEY " = \"5,10\"\n[tickers.AAPL]\nalert-pct = 2\n", err,
                                 sizeof(err)),
           TF_OK);
  CHECK_RC(tf_config_load_string(conf, "# arrays, booleans, numbers, [kafka]\n" SMA_KEY " = [5, 10, 20]\n"
                                       "sma-cross = false\nalert-pct = 2.5\n[kafka]\n\"client.id\" = \"x\"\n",
                                 err, sizeof(err)),
           TF_OK);
  CHECK_RC(tf_config_load_string(conf, "", err, sizeof(err)), TF_OK);

  /* invalid TOML */
  EXPECT_LOAD_ERROR(conf, "shards = = 1\n", TF_ERR_BAD_VALUE, "<string>:");
  EXPECT_LOAD_ERROR(conf, "[tickers.AAPL\nalert-pct = 2\n", TF_ERR_BAD_VALUE, "<string>:");

  /* errors on line 3: an unknown key, then a bad value */
  err[0] = '\0';
  CHECK_RC(tf_config_load_string(conf, "shards = 1\n# comment\nshards-typo-free = 1\n", err, sizeof(err)),
           TF_ERR_UNKNOWN_KEY);
  CHECK_CONTAINS(err, "<string>:3");
  CHECK_CONTAINS(err, "shards-typo-free");
  EXPECT_LOAD_ERROR(conf, "shards = 1\n# comment\nsma-cross = \"maybe\"\n", TF_ERR_BAD_VALUE, "<string>:3");
  EXPECT_LOAD_ERROR(conf, "shards = 0\n", TF_ERR_BAD_VALUE, "<string>:1");

  /* per-ticker rule overrides are checked at load */
  EXPECT_LOAD_ERROR(conf, "[tickers.AAPL]\nalert-pct = \"abc\"\n", TF_ERR_BAD_VALUE, "<string>:2");
  EXPECT_LOAD_ERROR(conf, "[tickers.AAPL]\nnot-a-rule = 1\n", TF_ERR_UNKNOWN_KEY, "<string>:2");

  /* errstr NULL */
  CHECK_RC(tf_config_load_string(conf, "shards = = 1\n", NULL, 0), TF_ERR_BAD_VALUE);
  CHECK_RC(tf_config_load_string(conf, NULL, err, sizeof(err)), TF_ERR_INVALID_ARG);
  tf_config_destroy(conf);
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    return 0;
  }
  const size_t n = strlen(text);
  const int ok = fwrite(text, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

/* One ticker, one tick through a started engine: the windows the engine was configured with. */
static void engine_windows(const tf_config_t *conf, uint32_t *n, uint32_t windows[TF_MAX_WINDOWS]) {
  *n = 0;
  char err[512] = "";
  tf_engine_t *e = tf_engine_new(conf, err, sizeof(err));
  if (!CHECK(e != NULL)) {
    fprintf(stderr, "    tf_engine_new: %s\n", err);
    return;
  }
  tf_producer_t *p = tf_producer_new(e, err, sizeof(err));
  CHECK(p != NULL);
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
  CHECK_RC(tf_producer_push_ticker(p, "WIN", 1000000000, 100.0, 1.0), TF_OK);
  CHECK_RC(tf_engine_stop(e), TF_OK);
  tf_snapshot_t s;
  if (CHECK_RC(tf_engine_snapshot_ticker(e, "WIN", &s), TF_OK) && CHECK_EQ_U(s.ticks, 1)) {
    *n = s.metrics.n_windows;
    memcpy(windows, s.metrics.windows, sizeof(s.metrics.windows));
  }
  tf_engine_destroy(e);
}

static void test_config_load_file(void) {
  tf_config_t *conf = tf_config_new();
  if (!CHECK(conf != NULL)) {
    return;
  }
  char err[512];
  char missing[128];
  snprintf(missing, sizeof(missing), "/nonexistent-dir/tf_capi_missing_%ld.toml", (long)getpid());
  err[0] = '\0';
  CHECK_RC(tf_config_load_file(conf, missing, err, sizeof(err)), TF_ERR_IO);
  CHECK_CONTAINS(err, missing);
  CHECK_RC(tf_config_load_file(conf, missing, NULL, 0), TF_ERR_IO);
  CHECK_RC(tf_config_load_file(conf, NULL, err, sizeof(err)), TF_ERR_INVALID_ARG);

  char path[128];
  snprintf(path, sizeof(path), "/tmp/tf_capi_test_%ld.toml", (long)getpid());
  if (CHECK(write_file(path, "# written by test_capi\nshards = 1\n" SMA_KEY " = [3, 6]\n"
                             "[tickers.AAPL]\nalert-pct = 2\n"))) {
    err[0] = '\0';
    CHECK_RC(tf_config_load_file(conf, path, err, sizeof(err)), TF_OK);
    uint32_t n = 0;
    uint32_t w[TF_MAX_WINDOWS];
    engine_windows(conf, &n, w);
    if (CHECK_EQ_U(n, 2)) {
      CHECK_EQ_U(w[0], 3);
      CHECK_EQ_U(w[1], 6);
    }
  }
  /* an error on line 2 of a file names FILE:2 */
  if (CHECK(write_file(path, "shards = 1\nsma-cross = \"maybe\"\n"))) {
    err[0] = '\0';
    CHECK_RC(tf_config_load_file(conf, path, err, sizeof(err)), TF_ERR_BAD_VALUE);
    char where[160];
    snprintf(where, sizeof(where), "%s:2", path);
    CHECK_CONTAINS(err, where);
  }
  remove(path);
  tf_config_destroy(conf);
}

static void test_config_null(void) {
  char err[128];
  err[0] = '\0';
  CHECK_RC(tf_config_set(NULL, "shards", "1", err, sizeof(err)), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_config_load_string(NULL, "shards = 1\n", err, sizeof(err)), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_config_load_file(NULL, "/tmp/whatever.toml", err, sizeof(err)), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_config_set(NULL, "shards", "1", NULL, 0), TF_ERR_INVALID_ARG);
  tf_config_destroy(NULL); /* no crash */
}

/* Settings take effect; later calls override earlier ones; the engine keeps its own copy. */
static void test_config_applies(void) {
  tf_config_t *conf = tf_config_new();
  if (!CHECK(conf != NULL)) {
    return;
  }
  char err[256];
  uint32_t n = 0;
  uint32_t w[TF_MAX_WINDOWS];

  CHECK_RC(tf_config_set(conf, SMA_KEY, "5,10", err, sizeof(err)), TF_OK);
  CHECK_RC(tf_config_load_string(conf, SMA_KEY " = [3, 7]\n", err, sizeof(err)), TF_OK);
  engine_windows(conf, &n, w);
  if (CHECK_EQ_U(n, 2)) {
    CHECK_EQ_U(w[0], 3);
    CHECK_EQ_U(w[1], 7);
  }
  CHECK_RC(tf_config_set(conf, SMA_KEY, "4,8,16", err, sizeof(err)), TF_OK);
  engine_windows(conf, &n, w);
  if (CHECK_EQ_U(n, 3)) {
    CHECK_EQ_U(w[0], 4);
    CHECK_EQ_U(w[1], 8);
    CHECK_EQ_U(w[2], 16);
  }

  /* The engine copies the config: changing or destroying it afterwards changes nothing. */
  tf_engine_t *e = tf_engine_new(conf, err, sizeof(err));
  if (!CHECK(e != NULL)) {
    tf_config_destroy(conf);
    return;
  }
  CHECK_RC(tf_config_set(conf, SMA_KEY, "2,3", err, sizeof(err)), TF_OK);
  tf_config_destroy(conf);
  tf_producer_t *p = tf_producer_new(e, err, sizeof(err));
  CHECK(p != NULL);
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
  CHECK_RC(tf_producer_push_ticker(p, "COPY", 1, 10.0, 1.0), TF_OK);
  CHECK_RC(tf_engine_stop(e), TF_OK);
  tf_snapshot_t s;
  if (CHECK_RC(tf_engine_snapshot_ticker(e, "COPY", &s), TF_OK) && CHECK_EQ_U(s.ticks, 1) &&
      CHECK_EQ_U(s.metrics.n_windows, 3)) {
    CHECK_EQ_U(s.metrics.windows[0], 4);
    CHECK_EQ_U(s.metrics.windows[2], 16);
  }
  tf_engine_destroy(e);
}

/* ======================================================================================================
 * 3. engine creation
 * ==================================================================================================== */

static void test_engine_new(void) {
  char err[512];
  err[0] = '\0';
  CHECK(tf_engine_new(NULL, err, sizeof(err)) == NULL);
  CHECK(strlen(err) > 0);
  CHECK(tf_engine_new(NULL, NULL, 0) == NULL);

  /* windows not ascending: refused at set or at engine creation */
  {
    tf_config_t *conf = tf_config_new();
    CHECK(conf != NULL);
    err[0] = '\0';
    const tf_err_t rc = tf_config_set(conf, SMA_KEY, "10,5", err, sizeof(err));
    CHECK(rc == TF_OK || rc == TF_ERR_BAD_VALUE);
    if (rc == TF_OK) {
      err[0] = '\0';
      tf_engine_t *e = tf_engine_new(conf, err, sizeof(err));
      CHECK(e == NULL);
      CHECK(strlen(err) > 0);
      tf_engine_destroy(e);
    } else {
      CHECK(strlen(err) > 0);
    }
    tf_config_destroy(conf);
  }
  /* more windows than TF_MAX_WINDOWS: the same */
  {
    tf_config_t *conf = tf_config_new();
    CHECK(conf != NULL);
    const tf_err_t rc = tf_config_set(conf, SMA_KEY, "1,2,3,4,5,6,7,8,9", err, sizeof(err));
    CHECK(rc == TF_OK || rc == TF_ERR_BAD_VALUE);
    if (rc == TF_OK) {
      err[0] = '\0';
      tf_engine_t *e = tf_engine_new(conf, err, sizeof(err));
      CHECK(e == NULL);
      CHECK(strlen(err) > 0);
      tf_engine_destroy(e);
    }
    tf_config_destroy(conf);
  }
  /* TF_MAX_WINDOWS windows are fine */
  {
    static const char *const kv[] = {SMA_KEY, "2,3,4,5,6,7,8,9", NULL};
    tf_engine_t *e = ENGINE_FROM(kv);
    tf_engine_destroy(e);
  }
  /* a default configuration makes an engine (no feed, no Kafka) that starts and stops */
  {
    tf_config_t *conf = tf_config_new();
    CHECK(conf != NULL);
    tf_engine_t *e = tf_engine_new(conf, err, sizeof(err));
    tf_config_destroy(conf);
    if (CHECK(e != NULL)) {
      CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
      CHECK_RC(tf_engine_wait_feeds(e, 0), TF_OK); /* no built-in feed: nothing to wait for */
      CHECK_RC(tf_engine_stop(e), TF_OK);
      const tf_stats_t s = stats_of(e);
      CHECK_EQ_U(s.ticks, 0);
      CHECK_EQ_U(s.pushed, 0);
      CHECK_EQ_U(s.producers, 0); /* no built-in feed by default */
      CHECK_EQ_U(s.shards, 1);
      CHECK_EQ_U(s.kafka_alerts_delivered, 0);
    }
    tf_engine_destroy(e);
  }
}

/* ======================================================================================================
 * 4. lifecycle and callbacks
 * ==================================================================================================== */

static void test_callbacks(void) {
  static const char *const kv[] = {"shards", "1", ONLY_TICK_CHANGE, NULL};
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e == NULL) {
    return;
  }
  recorder_t *rec = recorder_new();
  order_slot_t slots[TF_MAX_ALERT_CALLBACKS + 1];

  CHECK_RC(tf_engine_on_alert(NULL, on_alert_ignore, NULL), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_engine_on_alert(e, NULL, NULL), TF_ERR_INVALID_ARG);
  for (int i = 0; i < TF_MAX_ALERT_CALLBACKS; ++i) {
    slots[i].rec = rec;
    slots[i].index = i;
    CHECK_RC(tf_engine_on_alert(e, on_alert_order, &slots[i]), TF_OK);
  }
  slots[TF_MAX_ALERT_CALLBACKS].rec = rec;
  slots[TF_MAX_ALERT_CALLBACKS].index = TF_MAX_ALERT_CALLBACKS;
  CHECK_RC(tf_engine_on_alert(e, on_alert_order, &slots[TF_MAX_ALERT_CALLBACKS]), TF_ERR_LIMIT);

  /* One tick change of +10 %: one alert, every callback once, in registration order. */
  char err[256];
  tf_producer_t *p = tf_producer_new(e, err, sizeof(err));
  CHECK(p != NULL);
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
  CHECK_RC(tf_producer_push_ticker(p, "CB", 1000000000, 100.0, 1.0), TF_OK);
  CHECK_RC(tf_producer_push_ticker(p, "CB", 2000000000, 110.0, 1.0), TF_OK);
  CHECK_RC(tf_engine_stop(e), TF_OK);

  pthread_mutex_lock(&rec->mu);
  const int n_order = rec->n_order;
  int in_order = n_order == TF_MAX_ALERT_CALLBACKS;
  for (int i = 0; i < n_order && i < TF_MAX_ALERT_CALLBACKS; ++i) {
    in_order = in_order && rec->order[i] == i;
  }
  pthread_mutex_unlock(&rec->mu);
  CHECK_EQ_I(n_order, TF_MAX_ALERT_CALLBACKS);
  CHECK(in_order);
  const tf_stats_t s = stats_of(e);
  CHECK_EQ_U(s.alerts, 1);
  CHECK_EQ_U(s.alerts_by_rule[TF_RULE_TICK_CHANGE], 1);
  tf_engine_destroy(e);
  recorder_free(rec);
}

static void test_lifecycle(void) {
  char err[512];

  /* NULL handles */
  CHECK_RC(tf_engine_start(NULL, err, sizeof(err)), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_engine_stop(NULL), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_engine_wait_feeds(NULL, 0), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_engine_add_feed(NULL, "synthetic", err, sizeof(err)), TF_ERR_INVALID_ARG);
  tf_engine_destroy(NULL); /* no crash */

  /* stop without start: TF_OK */
  {
    tf_engine_t *e = ENGINE_FROM(NULL);
    if (e != NULL) {
      CHECK_RC(tf_engine_stop(e), TF_OK);
      CHECK_RC(tf_engine_stop(e), TF_OK);
    }
    tf_engine_destroy(e);
  }

  static const char *const kv[] = {"shards", "1", NULL};
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e == NULL) {
    return;
  }
  CHECK_RC(tf_engine_wait_feeds(e, 0), TF_ERR_STATE); /* not started */
  CHECK_RC(tf_engine_wait_feeds(e, 10), TF_ERR_STATE);
  err[0] = '\0';
  CHECK_RC(tf_engine_add_feed(e, "nonsense:x", err, sizeof(err)), TF_ERR_BAD_VALUE);
  CHECK(strlen(err) > 0);
  CHECK_RC(tf_engine_add_feed(e, "csv:", err, sizeof(err)), TF_ERR_BAD_VALUE);
  CHECK_RC(tf_engine_add_feed(e, "", err, sizeof(err)), TF_ERR_BAD_VALUE);
  CHECK_RC(tf_engine_add_feed(e, NULL, err, sizeof(err)), TF_ERR_INVALID_ARG);
  CHECK_EQ_U(stats_of(e).running, 0);

  err[0] = '\0';
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_ERR_STATE);
  CHECK_EQ_U(stats_of(e).running, 1);
  CHECK_RC(tf_engine_on_alert(e, on_alert_ignore, NULL), TF_ERR_STATE);
  CHECK_RC(tf_engine_add_feed(e, "synthetic", err, sizeof(err)), TF_ERR_STATE);
  CHECK_RC(tf_engine_wait_feeds(e, 0), TF_OK); /* started, no built-in feed */

  CHECK_RC(tf_engine_stop(e), TF_OK);
  CHECK_RC(tf_engine_stop(e), TF_OK);
  const tf_stats_t s = stats_of(e);
  CHECK_EQ_U(s.running, 0);
  CHECK(s.elapsed_seconds >= 0.0);
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_ERR_STATE); /* runs once */
  CHECK_RC(tf_engine_on_alert(e, on_alert_ignore, NULL), TF_ERR_STATE);
  CHECK_RC(tf_engine_add_feed(e, "synthetic", err, sizeof(err)), TF_ERR_STATE);
  tf_engine_destroy(e);

  /* destroy stops a running engine, with a producer and ticks in flight */
  {
    e = ENGINE_FROM(kv);
    if (e != NULL) {
      tf_producer_t *p = tf_producer_new(e, err, sizeof(err));
      CHECK(p != NULL);
      CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
      for (int i = 0; i < 100; ++i) {
        CHECK_RC(tf_producer_push_ticker(p, "DESTROY", (int64_t)i * 1000, 50.0 + i * 0.01, 1.0), TF_OK);
      }
    }
    tf_engine_destroy(e);
  }
}

/* ======================================================================================================
 * symbols
 * ==================================================================================================== */

static void test_symbols(void) {
  tf_engine_t *e = ENGINE_FROM(NULL);
  if (e == NULL) {
    return;
  }
  uint32_t a = 0xFFFFFFFFu, b = 0xFFFFFFFFu, c = 0xFFFFFFFFu, again = 0xFFFFFFFFu;
  CHECK_RC(tf_engine_symbol(e, "AAPL", &a), TF_OK);
  CHECK_RC(tf_engine_symbol(e, "AAPL", &again), TF_OK);
  CHECK_EQ_U(a, again);
  CHECK_RC(tf_engine_symbol(e, "MSFT", &b), TF_OK);
  CHECK(a != b);
  CHECK_RC(tf_engine_symbol(e, "ABCDEFGHIJKLMNO", &c), TF_OK); /* 15 bytes: the longest */
  CHECK(c != a && c != b);
  /* dense ids: three tickers, ids 0, 1, 2 in some order */
  CHECK(a < 3 && b < 3 && c < 3);

  uint32_t x = 0;
  CHECK_RC(tf_engine_symbol(e, "ABCDEFGHIJKLMNOP", &x), TF_ERR_BAD_TICKER); /* 16 bytes */
  CHECK_RC(tf_engine_symbol(e, "", &x), TF_ERR_BAD_TICKER);
  CHECK_RC(tf_engine_symbol(e, NULL, &x), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_engine_symbol(e, "AAPL", NULL), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_engine_symbol(NULL, "AAPL", &x), TF_ERR_INVALID_ARG);

  CHECK_STREQ(tf_engine_ticker(e, a), "AAPL");
  CHECK_STREQ(tf_engine_ticker(e, b), "MSFT");
  CHECK_STREQ(tf_engine_ticker(e, c), "ABCDEFGHIJKLMNO");
  CHECK_STREQ(tf_engine_ticker(e, 3), "");      /* next id: not registered */
  CHECK_STREQ(tf_engine_ticker(e, 999999), ""); /* beyond the table */
  CHECK_STREQ(tf_engine_ticker(e, 0xFFFFFFFFu), "");
  {
    const char *t = tf_engine_ticker(NULL, 0); /* NULL handle: NULL or "", no crash */
    CHECK(t == NULL || t[0] == '\0');
  }
  CHECK_EQ_U(stats_of(e).symbols, 3);

  /* snapshot of a registered ticker without ticks: TF_OK, ticks 0 */
  tf_snapshot_t s;
  memset(&s, 0xAB, sizeof(s));
  CHECK_RC(tf_engine_snapshot(e, b, &s), TF_OK);
  CHECK_EQ_U(s.ticks, 0);
  memset(&s, 0xAB, sizeof(s));
  CHECK_RC(tf_engine_snapshot_ticker(e, "AAPL", &s), TF_OK);
  CHECK_EQ_U(s.ticks, 0);
  tf_engine_destroy(e);
}

/* ======================================================================================================
 * 5. deterministic alerts and metrics
 * ==================================================================================================== */

static void test_deterministic_alert_and_metrics(void) {
  static const char *const kv[] = {"shards", "1", SMA_KEY, "5,10", ONLY_TICK_CHANGE, "volume-window", "20",
                                   "volatility-window", "10", "alert-window", "60s", NULL};
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e == NULL) {
    return;
  }
  recorder_t *rec = recorder_new();
  CHECK_RC(tf_engine_on_alert(e, on_alert_record, rec), TF_OK);
  uint32_t id = 0;
  CHECK_RC(tf_engine_symbol(e, "AAPL", &id), TF_OK);
  char err[256];
  tf_producer_t *p = tf_producer_new(e, err, sizeof(err));
  if (!CHECK(p != NULL)) {
    tf_engine_destroy(e);
    recorder_free(rec);
    return;
  }
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);

  /* 100, 101, …, 119, then 130 (+9.24 % > 3 %); every other change is ≤ 1 %. */
  enum { N = 21 };
  double price[N];
  for (int i = 0; i < N; ++i) {
    price[i] = i < 20 ? 100.0 + i : 130.0;
    const tf_tick_t t = make_tick(id, (int64_t)i * 1000000000LL, price[i], 10.0);
    CHECK_RC(tf_producer_push(p, &t), TF_OK);
  }
  /* while running: the snapshot catches up with the 21 ticks */
  CHECK(wait_snapshot_ticks(e, id, N, 30.0));
  {
    tf_snapshot_t s;
    CHECK_RC(tf_engine_snapshot(e, id, &s), TF_OK);
    CHECK(s.last_price == 130.0);
    const tf_stats_t live = stats_of(e);
    CHECK_EQ_U(live.running, 1);
    CHECK(live.elapsed_seconds >= 0.0);
  }
  CHECK_RC(tf_engine_stop(e), TF_OK);

  /* expected values, computed here */
  const double *last5 = price + (N - 5);
  const double *last10 = price + (N - 10);
  const double sma5 = mean_of(last5, 5);
  const double sma10 = mean_of(last10, 10);
  const double var5 = var_of(last5, 5, 1);
  const double var10 = var_of(last10, 10, 1);
  const double ema5 = ema_of(price, N, 5);
  const double ema10 = ema_of(price, N, 10);
  double ret[N - 1];
  for (int i = 1; i < N; ++i) {
    ret[i - 1] = (price[i] / price[i - 1] - 1.0) * 100.0;
  }
  const double pct = (130.0 / 119.0 - 1.0) * 100.0;
  const double vol10 = sqrt(var_of(ret + (N - 1 - 10), 10, 1));
  double pv = 0, v = 0;
  for (int i = 0; i < N; ++i) {
    pv += price[i] * 10.0;
    v += 10.0;
  }
  const double vwap = pv / v;

  /* the alert */
  pthread_mutex_lock(&rec->mu);
  const int n_alerts = rec->n;
  const tf_alert_t a = rec->a[0];
  pthread_mutex_unlock(&rec->mu);
  if (CHECK_EQ_I(n_alerts, 1)) {
    CHECK_EQ_I(a.rule, TF_RULE_TICK_CHANGE);
    CHECK_EQ_I(a.direction, TF_DIR_UP);
    CHECK(memchr(a.ticker, '\0', sizeof(a.ticker)) != NULL);
    CHECK_STREQ(a.ticker, "AAPL");
    CHECK_EQ_U(a.symbol, id);
    CHECK_EQ_U(a.producer, 0); /* the engine's only producer */
    CHECK_EQ_U(a.tick_seq, 20);
    CHECK_EQ_I(a.event_ns, 20000000000LL);
    CHECK(a.ingest_ns > 0);
    CHECK(a.price == 130.0);
    CHECK(a.reference == 119.0);
    CHECK_NEAR(a.value, pct);
    CHECK(a.threshold == 3.0);
    CHECK_NEAR(a.pct_change, pct);
    CHECK_NEAR(a.sma_short, sma5);
    CHECK_NEAR(a.sma_long, sma10);
    CHECK_NEAR(a.volatility, vol10);
    CHECK(a.volume == 10.0);
  }

  /* the snapshot */
  tf_snapshot_t s;
  memset(&s, 0xAB, sizeof(s));
  if (CHECK_RC(tf_engine_snapshot_ticker(e, "AAPL", &s), TF_OK)) {
    CHECK_EQ_U(s.symbol, id);
    CHECK_STREQ(s.ticker, "AAPL");
    CHECK_EQ_U(s.ticks, 21);
    CHECK_EQ_I(s.last_event_ns, 20000000000LL);
    CHECK(s.last_price == 130.0);
    CHECK(s.last_volume == 10.0);
    const tf_metrics_t *m = &s.metrics;
    if (CHECK_EQ_U(m->n_windows, 2)) {
      CHECK_EQ_U(m->windows[0], 5);
      CHECK_EQ_U(m->windows[1], 10);
      CHECK_NEAR(m->sma[0], sma5);
      CHECK_NEAR(m->sma[1], sma10);
      CHECK_NEAR(m->variance[0], var5);
      CHECK_NEAR(m->variance[1], var10);
      CHECK_NEAR(m->stddev[0], sqrt(var5));
      CHECK_NEAR(m->stddev[1], sqrt(var10));
      CHECK_NEAR(m->ema[0], ema5);
      CHECK_NEAR(m->ema[1], ema10);
    }
    CHECK_NEAR(m->pct_change, pct);
    CHECK_NEAR(m->volatility, vol10);
    CHECK(m->window_high == 130.0); /* all 21 ticks lie within [t - 60 s, t] */
    CHECK(m->window_low == 100.0);
    CHECK_NEAR(m->move_up_pct, (130.0 - 100.0) / 100.0 * 100.0);
    CHECK_NEAR(m->move_down_pct, 0.0);
    CHECK_NEAR(m->vwap, vwap);
    CHECK_NEAR(m->cum_volume, 210.0);
    CHECK_NEAR(m->volume_mean, 10.0);
  }

  /* the counters */
  const tf_stats_t st = stats_of(e);
  CHECK_EQ_U(st.ticks, 21);
  CHECK_EQ_U(st.pushed, 21);
  CHECK_EQ_U(st.alerts, 1);
  CHECK_EQ_U(st.alerts_by_rule[TF_RULE_WINDOW_MOVE], 0);
  CHECK_EQ_U(st.alerts_by_rule[TF_RULE_TICK_CHANGE], 1);
  CHECK_EQ_U(st.alerts_by_rule[TF_RULE_VOLATILITY], 0);
  CHECK_EQ_U(st.alerts_by_rule[TF_RULE_SMA_CROSS], 0);
  CHECK_EQ_U(st.alerts_by_rule[TF_RULE_VOLUME_SPIKE], 0);
  CHECK_EQ_U(st.suppressed, 0);
  CHECK_EQ_U(st.in_flight, 0);
  CHECK_EQ_U(st.running, 0);
  CHECK(st.symbols >= 1);
  CHECK_EQ_U(st.producers, 1);
  CHECK_EQ_U(st.shards, 1);
  CHECK_EQ_U(st.back_pressure, 0);
  CHECK_EQ_U(st.rejected_bad_tick, 0);
  CHECK_EQ_U(st.rejected_bad_ticker, 0);
  CHECK_EQ_U(st.rejected_symbol_table_full, 0);
  CHECK_EQ_U(st.rejected_stopped, 0);
  CHECK_EQ_U(st.dropped_ring_full, 0);
  CHECK_EQ_U(st.late_ticks, 0);
  CHECK_EQ_U(st.feed_rejected, 0);
  CHECK_EQ_U(st.process_latency.count, 21);
  CHECK_EQ_U(st.alert_latency.count, 1);
  CHECK(st.process_latency.max > 0);
  check_latency_order(&st.process_latency, __FILE__, __LINE__);
  check_latency_order(&st.alert_latency, __FILE__, __LINE__);
  CHECK(st.ring_capacity >= 1);
  CHECK(st.ring_high_water >= 1 && st.ring_high_water <= st.ring_capacity);
  CHECK(st.elapsed_seconds > 0.0);
  tf_engine_destroy(e);
  recorder_free(rec);
}

/* [tickers.SYMBOL] overrides from TOML apply to that ticker only. */
static void test_ticker_override(void) {
  tf_config_t *conf = tf_config_new();
  if (!CHECK(conf != NULL)) {
    return;
  }
  char err[512] = "";
  CHECK_RC(tf_config_load_string(conf,
                                 "shards = 1\ntick-change-pct = 3\nalert-pct = 0\nvolatility-pct = 0\n"
                                 "sma-cross = false\nvolume-spike = 0\n[tickers.MSFT]\ntick-change-pct = 50\n",
                                 err, sizeof(err)),
           TF_OK);
  tf_engine_t *e = tf_engine_new(conf, err, sizeof(err));
  tf_config_destroy(conf);
  if (!CHECK(e != NULL)) {
    return;
  }
  recorder_t *rec = recorder_new();
  CHECK_RC(tf_engine_on_alert(e, on_alert_record, rec), TF_OK);
  tf_producer_t *p = tf_producer_new(e, err, sizeof(err));
  CHECK(p != NULL);
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
  CHECK_RC(tf_producer_push_ticker(p, "AAPL", 1, 100.0, 1.0), TF_OK);
  CHECK_RC(tf_producer_push_ticker(p, "MSFT", 1, 100.0, 1.0), TF_OK);
  CHECK_RC(tf_producer_push_ticker(p, "AAPL", 2, 110.0, 1.0), TF_OK); /* +10 % ≥ 3 %: alert */
  CHECK_RC(tf_producer_push_ticker(p, "MSFT", 2, 110.0, 1.0), TF_OK); /* +10 % < 50 %: none */
  CHECK_RC(tf_engine_stop(e), TF_OK);
  pthread_mutex_lock(&rec->mu);
  const int n = rec->n;
  const tf_alert_t a = rec->a[0];
  pthread_mutex_unlock(&rec->mu);
  if (CHECK_EQ_I(n, 1)) {
    CHECK_STREQ(a.ticker, "AAPL");
    CHECK(a.threshold == 3.0);
  }
  CHECK_EQ_U(stats_of(e).alerts, 1);
  tf_engine_destroy(e);
  recorder_free(rec);
}

/* ======================================================================================================
 * 6. producer misuse
 * ==================================================================================================== */

static void test_producer_misuse(void) {
  static const char *const kv[] = {"shards", "1", NULL};
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e == NULL) {
    return;
  }
  char err[256];
  uint32_t id = 0;
  CHECK_RC(tf_engine_symbol(e, "AAPL", &id), TF_OK);
  CHECK(tf_producer_new(NULL, err, sizeof(err)) == NULL);
  tf_producer_t *p = tf_producer_new(e, err, sizeof(err));
  if (!CHECK(p != NULL)) {
    tf_engine_destroy(e);
    return;
  }
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
  const tf_tick_t good = make_tick(id, 1000, 10.0, 1.0);
  tf_tick_t t;
  size_t taken = 99;

  /* NULL handle / pointer */
  CHECK_RC(tf_producer_offer(NULL, &good), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_producer_offer(p, NULL), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_producer_push(NULL, &good), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_producer_push(p, NULL), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_producer_offer_ticker(NULL, "AAPL", 1, 10.0, 1.0), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_producer_offer_ticker(p, NULL, 1, 10.0, 1.0), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_producer_push_ticker(NULL, "AAPL", 1, 10.0, 1.0), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_producer_push_ticker(p, NULL, 1, 10.0, 1.0), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_producer_offer_batch(NULL, &good, 1, &taken), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_producer_offer_batch(p, NULL, 3, &taken), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_producer_push_batch(NULL, &good, 1, &taken), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_producer_push_batch(p, NULL, 3, &taken), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_producer_close(NULL), TF_ERR_INVALID_ARG);

  /* bad ticks: 10 refusals */
  unsigned long bad_tick = 0;
  t = good; t.price = NAN;       CHECK_RC(tf_producer_offer(p, &t), TF_ERR_BAD_TICK); ++bad_tick;
  t = good; t.price = 0.0;       CHECK_RC(tf_producer_offer(p, &t), TF_ERR_BAD_TICK); ++bad_tick;
  t = good; t.price = -1.0;      CHECK_RC(tf_producer_offer(p, &t), TF_ERR_BAD_TICK); ++bad_tick;
  t = good; t.price = INFINITY;  CHECK_RC(tf_producer_offer(p, &t), TF_ERR_BAD_TICK); ++bad_tick;
  t = good; t.price = -INFINITY; CHECK_RC(tf_producer_offer(p, &t), TF_ERR_BAD_TICK); ++bad_tick;
  t = good; t.volume = -1.0;     CHECK_RC(tf_producer_offer(p, &t), TF_ERR_BAD_TICK); ++bad_tick;
  t = good; t.volume = NAN;      CHECK_RC(tf_producer_offer(p, &t), TF_ERR_BAD_TICK); ++bad_tick;
  t = good; t.volume = INFINITY; CHECK_RC(tf_producer_offer(p, &t), TF_ERR_BAD_TICK); ++bad_tick;
  t = good; t.price = 0.0;       CHECK_RC(tf_producer_push(p, &t), TF_ERR_BAD_TICK); ++bad_tick;
  CHECK_RC(tf_producer_offer_ticker(p, "AAPL", 1000, NAN, 1.0), TF_ERR_BAD_TICK); ++bad_tick;

  /* unknown symbol ids and bad ticker texts: 5 refusals counted in rejected_bad_ticker */
  unsigned long bad_ticker = 0;
  t = good; t.symbol = 999999; CHECK_RC(tf_producer_offer(p, &t), TF_ERR_UNKNOWN_SYMBOL); ++bad_ticker;
  t = good; t.symbol = id + 1; CHECK_RC(tf_producer_push(p, &t), TF_ERR_UNKNOWN_SYMBOL); ++bad_ticker;
  CHECK_RC(tf_producer_offer_ticker(p, "", 1000, 10.0, 1.0), TF_ERR_BAD_TICKER); ++bad_ticker;
  CHECK_RC(tf_producer_offer_ticker(p, "ABCDEFGHIJKLMNOP", 1000, 10.0, 1.0), TF_ERR_BAD_TICKER); ++bad_ticker;
  CHECK_RC(tf_producer_push_ticker(p, "", 1000, 10.0, 1.0), TF_ERR_BAD_TICKER); ++bad_ticker;

  /* event times outside 1800-01-01 .. 2199-12-31 (UTC): 6 refusals, the ends themselves accepted */
  unsigned long bad_time = 0;
  CHECK_EQ_I(TF_MIN_EVENT_NS, -5364662400LL * 1000000000LL); /* date -u -d 1800-01-01 +%s */
  CHECK_EQ_I(TF_MAX_EVENT_NS, 7258118400LL * 1000000000LL - 1); /* date -u -d 2200-01-01 +%s, - 1 ns */
  t = good; t.event_ns = INT64_MIN;           CHECK_RC(tf_producer_offer(p, &t), TF_ERR_TIME_OUT_OF_RANGE); ++bad_time;
  t = good; t.event_ns = TF_MIN_EVENT_NS - 1; CHECK_RC(tf_producer_offer(p, &t), TF_ERR_TIME_OUT_OF_RANGE); ++bad_time;
  t = good; t.event_ns = TF_MAX_EVENT_NS + 1; CHECK_RC(tf_producer_push(p, &t), TF_ERR_TIME_OUT_OF_RANGE); ++bad_time;
  t = good; t.event_ns = INT64_MAX;           CHECK_RC(tf_producer_push(p, &t), TF_ERR_TIME_OUT_OF_RANGE); ++bad_time;
  CHECK_RC(tf_producer_offer_ticker(p, "AAPL", INT64_MIN, 10.0, 1.0), TF_ERR_TIME_OUT_OF_RANGE); ++bad_time;
  CHECK_RC(tf_producer_push_ticker(p, "AAPL", INT64_MAX, 10.0, 1.0), TF_ERR_TIME_OUT_OF_RANGE); ++bad_time;

  /* one good tick */
  CHECK_RC(tf_producer_offer(p, &good), TF_OK);

  /* a closed producer: refused, counted as stopped */
  unsigned long stopped = 0;
  tf_producer_t *closed = tf_producer_new(e, err, sizeof(err));
  if (CHECK(closed != NULL)) {
    CHECK_RC(tf_producer_close(closed), TF_OK);
    CHECK_RC(tf_producer_offer(closed, &good), TF_ERR_STOPPED); ++stopped;
    CHECK_RC(tf_producer_push(closed, &good), TF_ERR_STOPPED); ++stopped;
    CHECK_RC(tf_producer_offer_ticker(closed, "AAPL", 2000, 10.0, 1.0), TF_ERR_STOPPED); ++stopped;
  }

  /* snapshots: misuse */
  tf_snapshot_t s;
  const uint64_t symbols_before = stats_of(e).symbols;
  CHECK_RC(tf_engine_snapshot(e, id, NULL), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_engine_snapshot(NULL, id, &s), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_engine_snapshot(e, 999999, &s), TF_ERR_UNKNOWN_SYMBOL);
  CHECK_RC(tf_engine_snapshot(e, id + 1, &s), TF_ERR_UNKNOWN_SYMBOL);
  CHECK_RC(tf_engine_snapshot_ticker(e, "NOPE", &s), TF_ERR_UNKNOWN_SYMBOL);
  CHECK_RC(tf_engine_snapshot_ticker(e, NULL, &s), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_engine_snapshot_ticker(e, "AAPL", NULL), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_engine_snapshot_ticker(NULL, "AAPL", &s), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_engine_stats(e, NULL), TF_ERR_INVALID_ARG);
  CHECK_RC(tf_engine_stats(NULL, NULL), TF_ERR_INVALID_ARG);
  {
    tf_stats_t st;
    CHECK_RC(tf_engine_stats(NULL, &st), TF_ERR_INVALID_ARG);
  }
  CHECK_EQ_U(stats_of(e).symbols, symbols_before); /* a snapshot by text registers nothing */
  CHECK_STREQ(tf_engine_ticker(e, id), "AAPL");
  CHECK_STREQ(tf_engine_ticker(e, 999999), "");

  /* after stop: every push refused with TF_ERR_STOPPED, and no new producer */
  CHECK_RC(tf_engine_stop(e), TF_OK);
  CHECK_RC(tf_producer_offer(p, &good), TF_ERR_STOPPED); ++stopped;
  CHECK_RC(tf_producer_push(p, &good), TF_ERR_STOPPED); ++stopped; /* does not wait */
  CHECK_RC(tf_producer_offer_ticker(p, "AAPL", 3000, 10.0, 1.0), TF_ERR_STOPPED); ++stopped;
  CHECK_RC(tf_producer_push_ticker(p, "AAPL", 3000, 10.0, 1.0), TF_ERR_STOPPED); ++stopped;
  err[0] = '\0';
  CHECK(tf_producer_new(e, err, sizeof(err)) == NULL);
  CHECK(strlen(err) > 0);
  CHECK(tf_producer_new(e, NULL, 0) == NULL);

  const tf_stats_t st = stats_of(e);
  CHECK_EQ_U(st.rejected_bad_tick, bad_tick);
  CHECK_EQ_U(st.rejected_bad_ticker, bad_ticker);
  CHECK_EQ_U(st.rejected_stopped, stopped);
  CHECK_EQ_U(st.rejected_time_out_of_range, bad_time);
  CHECK_EQ_U(st.rejected_symbol_table_full, 0);
  CHECK_EQ_U(st.back_pressure, 0);
  CHECK_EQ_U(st.pushed, 1);
  CHECK_EQ_U(st.ticks, 1);
  CHECK_EQ_U(st.symbols, 1); /* no bad ticker got registered */
  CHECK_EQ_U(st.producers, 2);

  /* batches after stop: nothing taken */
  tf_tick_t batch[3] = {good, good, good};
  taken = 99;
  CHECK_RC(tf_producer_offer_batch(p, batch, 3, &taken), TF_ERR_STOPPED);
  CHECK_EQ_U(taken, 0);
  taken = 99;
  CHECK_RC(tf_producer_push_batch(p, batch, 3, &taken), TF_ERR_STOPPED);
  CHECK_EQ_U(taken, 0);
  CHECK_EQ_U(stats_of(e).pushed, 1);
  tf_engine_destroy(e);
}

/* ======================================================================================================
 * 11. offer/push by ticker text; batches with a bad tick in the middle
 * ==================================================================================================== */

static void test_ticker_variants_and_batches(void) {
  static const char *const kv[] = {"shards", "1", NULL};
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e == NULL) {
    return;
  }
  char err[256];
  tf_producer_t *p = tf_producer_new(e, err, sizeof(err));
  if (!CHECK(p != NULL)) {
    tf_engine_destroy(e);
    return;
  }
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);

  uint64_t aapl_ticks = 0, msft_ticks = 0;
  double aapl_last = 0;
  int64_t ev = 1000;
  /* by text: registers the ticker on first use */
  CHECK_RC(tf_producer_offer_ticker(p, "AAPL", ev++, 100.0, 5.0), TF_OK); ++aapl_ticks;
  CHECK_RC(tf_producer_push_ticker(p, "AAPL", ev++, 101.0, 5.0), TF_OK); ++aapl_ticks;
  CHECK_RC(tf_producer_push_ticker(p, "MSFT", ev++, 300.0, 0.0), TF_OK); ++msft_ticks;
  CHECK_RC(tf_producer_offer_ticker(p, "ABCDEFGHIJKLMNO", ev++, 1.0, 0.0), TF_OK); /* 15 bytes */
  uint32_t aapl = 0, msft = 0;
  CHECK_RC(tf_engine_symbol(e, "AAPL", &aapl), TF_OK);
  CHECK_RC(tf_engine_symbol(e, "MSFT", &msft), TF_OK);
  CHECK(aapl != msft);

  /* offer_batch: ticks[2] is bad → *taken == 2, TF_ERR_BAD_TICK; resume from ticks[3] */
  tf_tick_t b[5];
  for (int i = 0; i < 5; ++i) {
    b[i] = make_tick(aapl, ev++, 102.0 + i, 5.0);
  }
  b[2].price = -1.0;
  size_t taken = 99;
  CHECK_RC(tf_producer_offer_batch(p, b, 5, &taken), TF_ERR_BAD_TICK);
  CHECK_EQ_U(taken, 2);
  aapl_ticks += 2;
  taken = 99;
  CHECK_RC(tf_producer_offer_batch(p, b + 3, 2, &taken), TF_OK);
  CHECK_EQ_U(taken, 2);
  aapl_ticks += 2;
  aapl_last = b[4].price;

  /* push_batch: ticks[1] has a NaN volume → *taken == 1; resume from ticks[2] */
  tf_tick_t c[4];
  for (int i = 0; i < 4; ++i) {
    c[i] = make_tick(i % 2 == 0 ? aapl : msft, ev++, 110.0 + i, 1.0);
  }
  c[1].volume = NAN;
  taken = 99;
  CHECK_RC(tf_producer_push_batch(p, c, 4, &taken), TF_ERR_BAD_TICK);
  CHECK_EQ_U(taken, 1);
  aapl_ticks += 1; /* c[0] */
  taken = 99;
  CHECK_RC(tf_producer_push_batch(p, c + 2, 2, &taken), TF_OK);
  CHECK_EQ_U(taken, 2);
  aapl_ticks += 1; /* c[2] */
  msft_ticks += 1; /* c[3] */
  aapl_last = c[2].price;

  /* an unknown symbol in a batch stops it too */
  tf_tick_t d[2];
  d[0] = make_tick(aapl, ev++, 120.0, 1.0);
  d[1] = make_tick(999999, ev++, 120.0, 1.0);
  taken = 99;
  CHECK_RC(tf_producer_offer_batch(p, d, 2, &taken), TF_ERR_UNKNOWN_SYMBOL);
  CHECK_EQ_U(taken, 1);
  aapl_ticks += 1;
  aapl_last = d[0].price;

  /* empty batch, taken NULL */
  taken = 99;
  CHECK_RC(tf_producer_offer_batch(p, d, 0, &taken), TF_OK);
  CHECK_EQ_U(taken, 0);
  taken = 99;
  CHECK_RC(tf_producer_push_batch(p, d, 0, &taken), TF_OK);
  CHECK_EQ_U(taken, 0);
  tf_tick_t one = make_tick(msft, ev++, 301.0, 2.0);
  CHECK_RC(tf_producer_offer_batch(p, &one, 1, NULL), TF_OK);
  ++msft_ticks;
  one.event_ns = ev++;
  one.price = 302.0;
  CHECK_RC(tf_producer_push_batch(p, &one, 1, NULL), TF_OK);
  ++msft_ticks;

  /* close: what was pushed is still processed */
  CHECK_RC(tf_producer_close(p), TF_OK);
  CHECK_RC(tf_producer_offer_ticker(p, "AAPL", ev++, 1.0, 1.0), TF_ERR_STOPPED);
  CHECK_RC(tf_engine_stop(e), TF_OK);

  tf_snapshot_t s;
  if (CHECK_RC(tf_engine_snapshot(e, aapl, &s), TF_OK)) {
    CHECK_EQ_U(s.ticks, aapl_ticks);
    CHECK(s.last_price == aapl_last);
  }
  if (CHECK_RC(tf_engine_snapshot(e, msft, &s), TF_OK)) {
    CHECK_EQ_U(s.ticks, msft_ticks);
    CHECK(s.last_price == 302.0);
    CHECK(s.last_volume == 2.0);
    CHECK_NEAR(s.metrics.cum_volume, 0.0 + 1.0 + 2.0 + 2.0);
    CHECK_NEAR(s.metrics.vwap, (300.0 * 0.0 + 113.0 * 1.0 + 301.0 * 2.0 + 302.0 * 2.0) / 5.0);
  }
  if (CHECK_RC(tf_engine_snapshot_ticker(e, "ABCDEFGHIJKLMNO", &s), TF_OK)) {
    CHECK_EQ_U(s.ticks, 1);
    CHECK(s.last_price == 1.0);
  }
  const tf_stats_t st = stats_of(e);
  CHECK_EQ_U(st.ticks, aapl_ticks + msft_ticks + 1);
  CHECK_EQ_U(st.pushed, aapl_ticks + msft_ticks + 1);
  CHECK_EQ_U(st.rejected_bad_tick, 2);
  CHECK_EQ_U(st.rejected_bad_ticker, 1); /* the unknown symbol id in the batch */
  CHECK_EQ_U(st.rejected_stopped, 1);
  CHECK_EQ_U(st.symbols, 3);
  tf_engine_destroy(e);
}

/* ======================================================================================================
 * 7. symbol table full
 * ==================================================================================================== */

static void test_symbol_table_full(void) {
  static const char *const kv[] = {"shards", "1", "max-tickers", "4", NULL};
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e == NULL) {
    return;
  }
  const char *names[4] = {"T0", "T1", "T2", "T3"};
  uint32_t ids[4];
  for (int i = 0; i < 4; ++i) {
    CHECK_RC(tf_engine_symbol(e, names[i], &ids[i]), TF_OK);
  }
  uint32_t x = 0;
  CHECK_RC(tf_engine_symbol(e, "T4", &x), TF_ERR_SYMBOL_TABLE_FULL);
  CHECK_RC(tf_engine_symbol(e, "T1", &x), TF_OK); /* known tickers still resolve */
  CHECK_EQ_U(x, ids[1]);
  CHECK_STREQ(tf_engine_ticker(e, ids[3]), "T3");

  char err[256];
  tf_producer_t *p = tf_producer_new(e, err, sizeof(err));
  if (CHECK(p != NULL)) {
    CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
    CHECK_RC(tf_producer_offer_ticker(p, "T5", 1, 10.0, 1.0), TF_ERR_SYMBOL_TABLE_FULL);
    CHECK_RC(tf_producer_push_ticker(p, "T6", 2, 10.0, 1.0), TF_ERR_SYMBOL_TABLE_FULL);
    CHECK_RC(tf_producer_offer_ticker(p, "T1", 3, 10.0, 1.0), TF_OK);
    CHECK_RC(tf_engine_stop(e), TF_OK);
  }
  tf_snapshot_t s;
  CHECK_RC(tf_engine_snapshot_ticker(e, "T5", &s), TF_ERR_UNKNOWN_SYMBOL);
  const tf_stats_t st = stats_of(e);
  CHECK_EQ_U(st.rejected_symbol_table_full, 2); /* pushes only, not tf_engine_symbol */
  CHECK_EQ_U(st.symbols, 4);
  CHECK_EQ_U(st.ticks, 1);
  tf_engine_destroy(e);
}

/* ======================================================================================================
 * 8. back-pressure
 * ==================================================================================================== */

static void test_back_pressure(void) {
  static const char *const kv[] = {"shards", "1", "ring-capacity", "8", NULL};
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e == NULL) {
    return;
  }
  char err[256];
  uint32_t a = 0, b = 0;
  CHECK_RC(tf_engine_symbol(e, "A", &a), TF_OK);
  CHECK_RC(tf_engine_symbol(e, "B", &b), TF_OK);
  tf_producer_t *p1 = tf_producer_new(e, err, sizeof(err));
  tf_producer_t *p2 = tf_producer_new(e, err, sizeof(err));
  if (!CHECK(p1 != NULL && p2 != NULL)) {
    tf_engine_destroy(e);
    return;
  }

  /* not started: the ring fills up */
  int taken1 = 0;
  tf_err_t rc = TF_OK;
  double last_a = 0;
  for (int i = 0; i < 100; ++i) {
    const tf_tick_t t = make_tick(a, i, 10.0 + i, 1.0);
    rc = tf_producer_offer(p1, &t);
    if (rc != TF_OK) {
      break;
    }
    last_a = t.price;
    ++taken1;
  }
  CHECK_RC(rc, TF_ERR_BACK_PRESSURE);
  CHECK_EQ_I(taken1, 8);
  uint64_t refused = 1;
  {
    const tf_tick_t t = make_tick(a, 1000, 50.0, 1.0);
    CHECK_RC(tf_producer_offer(p1, &t), TF_ERR_BACK_PRESSURE); ++refused;
    CHECK_RC(tf_producer_offer(p1, &t), TF_ERR_BACK_PRESSURE); ++refused;
    CHECK_RC(tf_producer_offer_ticker(p1, "A", 1000, 50.0, 1.0), TF_ERR_BACK_PRESSURE); ++refused;
  }
  tf_stats_t st = stats_of(e);
  CHECK_EQ_U(st.back_pressure, refused);
  CHECK_EQ_U(st.pushed, 8);
  CHECK_EQ_U(st.ring_capacity, 8);
  CHECK_EQ_U(st.ticks, 0);
  CHECK_EQ_U(st.in_flight, 8);
  CHECK_EQ_U(st.running, 0);

  /* a batch of 20 on a fresh producer: 8 taken */
  tf_tick_t batch[20];
  for (int i = 0; i < 20; ++i) {
    batch[i] = make_tick(b, i, 20.0 + i, 2.0);
  }
  size_t taken = 99;
  CHECK_RC(tf_producer_offer_batch(p2, batch, 20, &taken), TF_ERR_BACK_PRESSURE);
  CHECK_EQ_U(taken, 8);
  st = stats_of(e);
  CHECK_EQ_U(st.pushed, 16);
  /* the refused batch counts at least one refusal and at most the 12 ticks not taken */
  CHECK(st.back_pressure >= refused + 1 && st.back_pressure <= refused + 12);

  /* started: a blocking push gets through, and so does the rest of the batch */
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
  {
    const tf_tick_t t = make_tick(a, 2000, 77.0, 1.0);
    CHECK_RC(tf_producer_push(p1, &t), TF_OK);
    last_a = t.price;
  }
  taken = 99;
  CHECK_RC(tf_producer_push_batch(p2, batch + 8, 12, &taken), TF_OK);
  CHECK_EQ_U(taken, 12);
  CHECK_RC(tf_engine_stop(e), TF_OK);

  st = stats_of(e);
  CHECK_EQ_U(st.pushed, 8 + 8 + 1 + 12);
  CHECK_EQ_U(st.ticks, 8 + 8 + 1 + 12);
  CHECK_EQ_U(st.in_flight, 0);
  CHECK_EQ_U(st.ring_high_water, 8);
  CHECK_EQ_U(st.dropped_ring_full, 0);
  tf_snapshot_t s;
  if (CHECK_RC(tf_engine_snapshot(e, a, &s), TF_OK)) {
    CHECK_EQ_U(s.ticks, 9);
    CHECK(s.last_price == last_a);
  }
  if (CHECK_RC(tf_engine_snapshot(e, b, &s), TF_OK)) {
    CHECK_EQ_U(s.ticks, 20);
    CHECK(s.last_price == batch[19].price);
    CHECK_NEAR(s.metrics.cum_volume, 40.0);
  }
  tf_engine_destroy(e);
}

/* ======================================================================================================
 * 9. too many producers
 * ==================================================================================================== */

static void test_too_many_producers(void) {
  static const char *const kv[] = {"shards", "1", "ring-capacity", "2", NULL};
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e == NULL) {
    return;
  }
  char err[256];
  tf_producer_t *ps[TF_MAX_PRODUCERS];
  int made = 0;
  for (int i = 0; i < TF_MAX_PRODUCERS; ++i) {
    ps[i] = tf_producer_new(e, err, sizeof(err));
    if (ps[i] != NULL) {
      ++made;
    }
  }
  CHECK_EQ_I(made, TF_MAX_PRODUCERS);
  int distinct = 1;
  for (int i = 0; i < TF_MAX_PRODUCERS; ++i) {
    for (int j = 0; j < i; ++j) {
      distinct = distinct && ps[i] != ps[j];
    }
  }
  CHECK(distinct);
  err[0] = '\0';
  CHECK(tf_producer_new(e, err, sizeof(err)) == NULL);
  CHECK(strlen(err) > 0);
  CHECK(tf_producer_new(e, NULL, 0) == NULL);
  CHECK_EQ_U(stats_of(e).producers, TF_MAX_PRODUCERS);

  /* all usable: the last one pushes a tick through */
  if (made == TF_MAX_PRODUCERS) {
    CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
    CHECK_RC(tf_producer_push_ticker(ps[TF_MAX_PRODUCERS - 1], "LAST", 1, 1.0, 1.0), TF_OK);
    CHECK_RC(tf_producer_push_ticker(ps[0], "FIRST", 1, 1.0, 1.0), TF_OK);
    CHECK_RC(tf_engine_stop(e), TF_OK);
    CHECK_EQ_U(stats_of(e).ticks, 2);
  }
  tf_engine_destroy(e);
}

/* ======================================================================================================
 * 10. concurrency: 4 producer threads, a reader thread, 2 shards
 * ==================================================================================================== */

enum { CONC_THREADS = 4, CONC_TICKERS = 8, CONC_BATCH = 64 };

typedef struct conc_producer {
  tf_engine_t *engine;
  tf_producer_t *producer; /* NULL: the thread creates its own (after start) */
  int index;
  uint32_t ids[CONC_TICKERS];
  /* written by the thread, read by main after the join */
  double last_price[CONC_TICKERS];
  int64_t last_event[CONC_TICKERS];
  double cum_volume[CONC_TICKERS];
  uint64_t count[CONC_TICKERS];
  uint64_t pushed;
} conc_producer_t;

static double conc_price(int thread, int k, int j) {
  const double base = 50.0 + 10.0 * thread + 5.0 * k;
  return base * (1.0 + 0.04 * sin(0.0007 * (double)j * (double)(k + 1) + (double)thread));
}

static void *conc_producer_main(void *arg) {
  conc_producer_t *cp = (conc_producer_t *)arg;
  char err[256] = "";
  if (cp->producer == NULL) {
    cp->producer = tf_producer_new(cp->engine, err, sizeof(err));
    if (!CHECK(cp->producer != NULL)) {
      return NULL;
    }
  }
  for (int k = 0; k < CONC_TICKERS; ++k) {
    char name[16];
    snprintf(name, sizeof(name), "T%d_%d", cp->index, k);
    CHECK_RC(tf_engine_symbol(cp->engine, name, &cp->ids[k]), TF_OK);
  }
  tf_tick_t batch[CONC_BATCH];
  int j = 0;
  while (j < CONC_TICKS_PER_THREAD) {
    int n = 0;
    for (; n < CONC_BATCH && j < CONC_TICKS_PER_THREAD; ++n, ++j) {
      const int k = j % CONC_TICKERS;
      batch[n] = make_tick(cp->ids[k], (int64_t)j * 1000 + 1, conc_price(cp->index, k, j), (double)(j % 100));
    }
    size_t taken = 0;
    const tf_err_t rc = tf_producer_push_batch(cp->producer, batch, (size_t)n, &taken);
    if (!CHECK_RC(rc, TF_OK) || !CHECK_EQ_U(taken, n)) {
      break;
    }
    for (int i = 0; i < n; ++i) {
      int k = -1;
      for (int q = 0; q < CONC_TICKERS; ++q) {
        if (cp->ids[q] == batch[i].symbol) {
          k = q;
        }
      }
      if (!CHECK(k >= 0)) {
        return NULL;
      }
      cp->last_price[k] = batch[i].price;
      cp->last_event[k] = batch[i].event_ns;
      cp->cum_volume[k] += batch[i].volume;
      ++cp->count[k];
    }
    cp->pushed += (uint64_t)n;
  }
  return NULL;
}

typedef struct conc_reader {
  tf_engine_t *engine;
  uint32_t watched;
  pthread_mutex_t mu;
  int done; /* under mu */
  unsigned long iterations;
} conc_reader_t;

static void *conc_reader_main(void *arg) {
  conc_reader_t *r = (conc_reader_t *)arg;
  uint64_t prev_ticks = 0;
  uint64_t prev_stats_ticks = 0;
  int ok = 1;
  for (;;) {
    pthread_mutex_lock(&r->mu);
    const int done = r->done;
    pthread_mutex_unlock(&r->mu);
    if (done) {
      break;
    }
    tf_snapshot_t s;
    if (!CHECK_RC(tf_engine_snapshot(r->engine, r->watched, &s), TF_OK)) {
      break;
    }
    ok = ok && CHECK(s.ticks >= prev_ticks); /* never goes back */
    prev_ticks = s.ticks;
    if (s.ticks > 0) {
      ok = ok && CHECK(s.last_price > 0.0 && isfinite(s.last_price));
    }
    tf_stats_t st;
    if (!CHECK_RC(tf_engine_stats(r->engine, &st), TF_OK)) {
      break;
    }
    ok = ok && CHECK(st.ticks <= st.pushed);
    ok = ok && CHECK(st.in_flight <= st.pushed);
    ok = ok && CHECK(st.ticks >= prev_stats_ticks);
    ok = ok && CHECK_EQ_U(st.running, 1);
    prev_stats_ticks = st.ticks;
    ++r->iterations;
    if (!ok) {
      break; /* one report is enough */
    }
  }
  return NULL;
}

static void test_concurrency(void) {
  static const char *const kv[] = {"shards", "2", "ring-capacity", "256", SMA_KEY, "5,10", NULL};
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e == NULL) {
    return;
  }
  recorder_t *rec = recorder_new();
  CHECK_RC(tf_engine_on_alert(e, on_alert_record, rec), TF_OK);
  char err[256];

  conc_producer_t *cps = (conc_producer_t *)calloc(CONC_THREADS, sizeof(conc_producer_t));
  conc_reader_t reader;
  memset(&reader, 0, sizeof(reader));
  pthread_mutex_init(&reader.mu, NULL);
  reader.engine = e;
  CHECK_RC(tf_engine_symbol(e, "T0_0", &reader.watched), TF_OK);

  for (int i = 0; i < CONC_THREADS; ++i) {
    cps[i].engine = e;
    cps[i].index = i;
    /* threads 0..2: producers made before start (handed over by pthread_create); thread 3 makes its own */
    if (i < CONC_THREADS - 1) {
      cps[i].producer = tf_producer_new(e, err, sizeof(err));
      CHECK(cps[i].producer != NULL);
    }
  }
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);

  pthread_t reader_thread;
  pthread_t threads[CONC_THREADS];
  CHECK(pthread_create(&reader_thread, NULL, conc_reader_main, &reader) == 0);
  for (int i = 0; i < CONC_THREADS; ++i) {
    CHECK(pthread_create(&threads[i], NULL, conc_producer_main, &cps[i]) == 0);
  }
  for (int i = 0; i < CONC_THREADS; ++i) {
    pthread_join(threads[i], NULL);
  }
  pthread_mutex_lock(&reader.mu);
  reader.done = 1;
  pthread_mutex_unlock(&reader.mu);
  pthread_join(reader_thread, NULL);
  CHECK(reader.iterations >= 1);
  CHECK_RC(tf_engine_stop(e), TF_OK);

  const uint64_t total = (uint64_t)CONC_THREADS * CONC_TICKS_PER_THREAD;
  uint64_t pushed_by_threads = 0;
  uint64_t sum_ticks = 0;
  for (int i = 0; i < CONC_THREADS; ++i) {
    pushed_by_threads += cps[i].pushed;
    for (int k = 0; k < CONC_TICKERS; ++k) {
      tf_snapshot_t s;
      if (!CHECK_RC(tf_engine_snapshot(e, cps[i].ids[k], &s), TF_OK)) {
        continue;
      }
      char name[16];
      snprintf(name, sizeof(name), "T%d_%d", i, k);
      CHECK_STREQ(s.ticker, name);
      CHECK_EQ_U(s.ticks, cps[i].count[k]);
      CHECK(s.last_price == cps[i].last_price[k]); /* per-producer order preserved */
      CHECK_EQ_I(s.last_event_ns, cps[i].last_event[k]);
      CHECK(s.metrics.cum_volume == cps[i].cum_volume[k]); /* integer volumes: exact */
      sum_ticks += s.ticks;
    }
  }
  CHECK_EQ_U(pushed_by_threads, total);
  CHECK_EQ_U(sum_ticks, total);

  const tf_stats_t st = stats_of(e);
  CHECK_EQ_U(st.ticks, total);
  CHECK_EQ_U(st.pushed, total);
  CHECK_EQ_U(st.in_flight, 0);
  CHECK_EQ_U(st.back_pressure, 0);
  CHECK_EQ_U(st.rejected_bad_tick, 0);
  CHECK_EQ_U(st.rejected_bad_ticker, 0);
  CHECK_EQ_U(st.rejected_symbol_table_full, 0);
  CHECK_EQ_U(st.rejected_stopped, 0);
  CHECK_EQ_U(st.dropped_ring_full, 0);
  CHECK_EQ_U(st.late_ticks, 0);
  CHECK_EQ_U(st.symbols, CONC_THREADS * CONC_TICKERS);
  CHECK_EQ_U(st.producers, CONC_THREADS);
  CHECK_EQ_U(st.shards, 2);
  CHECK_EQ_U(st.running, 0);
  CHECK_EQ_U(st.ring_capacity, 256);
  CHECK(st.ring_high_water <= 256);
  CHECK_EQ_U(st.process_latency.count, total);
  check_latency_order(&st.process_latency, __FILE__, __LINE__);
  uint64_t by_rule = 0;
  for (int r = 0; r < TF_RULE_COUNT; ++r) {
    by_rule += st.alerts_by_rule[r];
  }
  CHECK_EQ_U(by_rule, st.alerts);

  /* the alerts the callback saw */
  pthread_mutex_lock(&rec->mu);
  const unsigned long seen = rec->total;
  const int kept = rec->n;
  pthread_mutex_unlock(&rec->mu);
  CHECK_EQ_U(seen, st.alerts);
  int unique = 1, consistent = 1;
  for (int i = 0; i < kept; ++i) {
    const tf_alert_t *a = &rec->a[i];
    consistent = consistent && a->rule < TF_RULE_COUNT && a->producer < CONC_THREADS &&
                 a->tick_seq < CONC_TICKS_PER_THREAD && strcmp(a->ticker, tf_engine_ticker(e, a->symbol)) == 0;
    for (int j = 0; j < i && unique; ++j) {
      unique = rec->a[j].id != a->id;
    }
  }
  CHECK(unique);
  CHECK(consistent);

  tf_engine_destroy(e);
  pthread_mutex_destroy(&reader.mu);
  free(cps);
  recorder_free(rec);
}

/* ======================================================================================================
 * 12. built-in feeds
 * ==================================================================================================== */

static void test_synthetic_feed(void) {
  static const char *const kv[] = {"max-ticks", "5000", "tickers", "4", NULL};
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e == NULL) {
    return;
  }
  char err[512] = "";
  CHECK_RC(tf_engine_add_feed(e, "synthetic", err, sizeof(err)), TF_OK);
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
  CHECK_RC(tf_engine_wait_feeds(e, 30000), TF_OK);
  CHECK_RC(tf_engine_wait_feeds(e, 0), TF_OK); /* ended: no waiting */
  CHECK_RC(tf_engine_stop(e), TF_OK);
  const tf_stats_t st = stats_of(e);
  CHECK_EQ_U(st.ticks, 5000);
  CHECK_EQ_U(st.pushed, 5000);
  CHECK_EQ_U(st.in_flight, 0);
  CHECK_EQ_U(st.symbols, 4);
  CHECK_EQ_U(st.producers, 1); /* the built-in feed */
  uint64_t sum = 0;
  for (uint32_t id = 0; id < 4; ++id) {
    CHECK(strlen(tf_engine_ticker(e, id)) > 0);
    tf_snapshot_t s;
    if (CHECK_RC(tf_engine_snapshot(e, id, &s), TF_OK)) {
      sum += s.ticks;
      if (s.ticks > 0) {
        CHECK(s.last_price > 0.0);
      }
    }
  }
  CHECK_EQ_U(sum, 5000);
  tf_engine_destroy(e);

  /* the "feed" key and tf_engine_add_feed both add a feed; max-ticks is per feed; a producer alongside */
  static const char *const kv2[] = {"feed", "synthetic", "max-ticks", "1000", "tickers", "2", NULL};
  e = ENGINE_FROM(kv2);
  if (e == NULL) {
    return;
  }
  CHECK_RC(tf_engine_add_feed(e, "synthetic", err, sizeof(err)), TF_OK);
  tf_producer_t *p = tf_producer_new(e, err, sizeof(err));
  CHECK(p != NULL);
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
  for (int i = 0; i < 10; ++i) {
    CHECK_RC(tf_producer_push_ticker(p, "MINE", i, 5.0 + i, 1.0), TF_OK);
  }
  CHECK_RC(tf_engine_wait_feeds(e, 30000), TF_OK);
  CHECK_RC(tf_engine_stop(e), TF_OK);
  const tf_stats_t st2 = stats_of(e);
  CHECK_EQ_U(st2.ticks, 2 * 1000 + 10);
  CHECK_EQ_U(st2.pushed, 2 * 1000 + 10);
  CHECK_EQ_U(st2.producers, 3);
  tf_snapshot_t s;
  if (CHECK_RC(tf_engine_snapshot_ticker(e, "MINE", &s), TF_OK)) {
    CHECK_EQ_U(s.ticks, 10);
    CHECK(s.last_price == 14.0);
  }
  tf_engine_destroy(e);
}

static void test_feed_wait_timeout(void) {
  static const char *const kv[] = {"rate", "1000", "tickers", "2", NULL}; /* no max-ticks: never ends */
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e == NULL) {
    return;
  }
  char err[512] = "";
  CHECK_RC(tf_engine_add_feed(e, "synthetic", err, sizeof(err)), TF_OK);
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
  CHECK_RC(tf_engine_wait_feeds(e, 0), TF_ERR_TIMED_OUT);
  double t0 = now_s();
  CHECK_RC(tf_engine_wait_feeds(e, 50), TF_ERR_TIMED_OUT);
  const double waited = now_s() - t0;
  CHECK(waited >= 0.045); /* it did wait (about) the 50 ms given */
  CHECK(waited < 10.0);
  /* Readiness, not a fixed time: on a loaded machine the paced feed's first tick may come later. */
  t0 = now_s();
  while (stats_of(e).ticks == 0 && now_s() - t0 < 10.0) {
    sleep_ms(1);
  }
  t0 = now_s();
  CHECK_RC(tf_engine_stop(e), TF_OK);
  CHECK(now_s() - t0 < 5.0); /* the feed ends on stop */
  const tf_stats_t st = stats_of(e);
  CHECK(st.ticks >= 1);
  CHECK_EQ_U(st.ticks, st.pushed);
  CHECK_EQ_U(st.in_flight, 0);
  CHECK_EQ_U(st.running, 0);
  tf_engine_destroy(e);
}

/* Adds one built-in feed, starts, waits for its input to end, stops: the final stats. */
static tf_stats_t run_feed_to_end(tf_engine_t *e, const char *spec) {
  char err[512];
  CHECK_RC(tf_engine_add_feed(e, spec, err, sizeof(err)), TF_OK);
  err[0] = '\0';
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
  CHECK_RC(tf_engine_wait_feeds(e, 30000), TF_OK);
  CHECK_RC(tf_engine_stop(e), TF_OK);
  return stats_of(e);
}

static void test_csv_feed(void) {
  char err[512];
  /* a missing file: add_feed accepts the spec, start reads the file and fails naming it */
  {
    char spec[160];
    char path[140];
    snprintf(path, sizeof(path), "/nonexistent-dir/tf_capi_%ld.csv", (long)getpid());
    snprintf(spec, sizeof(spec), "csv:%s", path);
    tf_engine_t *e = ENGINE_FROM(NULL);
    if (e != NULL) {
      err[0] = '\0';
      CHECK_RC(tf_engine_add_feed(e, spec, err, sizeof(err)), TF_OK);
      err[0] = '\0';
      CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_ERR_IO);
      CHECK_CONTAINS(err, path);
      CHECK_EQ_U(stats_of(e).running, 0);
      CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_ERR_STATE); /* the engine is then stopped */
      CHECK_RC(tf_engine_stop(e), TF_OK);
    }
    tf_engine_destroy(e);
  }
  /* a small file: 3 good rows, 1 bad */
  {
    char path[128];
    char spec[160];
    snprintf(path, sizeof(path), "/tmp/tf_capi_test_%ld.csv", (long)getpid());
    snprintf(spec, sizeof(spec), "csv:%s", path);
    if (!CHECK(write_file(path, "Date,ticker,Close,Volume\n"
                                "2020-01-02,AAA,10.5,100\n"
                                "2020-01-02,BBB,5,50\n"
                                "2020-01-03,AAA,11,200\n"
                                "2020-01-03,BBB,abc,1\n"))) {
      return;
    }
    tf_engine_t *e = ENGINE_FROM(NULL);
    if (e != NULL) {
      const tf_stats_t st = run_feed_to_end(e, spec);
      CHECK_EQ_U(st.ticks, 3);
      CHECK_EQ_U(st.pushed, 3);
      CHECK_EQ_U(st.feed_rejected, 1);
      CHECK_EQ_U(st.producers, 1);
      tf_snapshot_t s;
      if (CHECK_RC(tf_engine_snapshot_ticker(e, "AAA", &s), TF_OK)) {
        CHECK_EQ_U(s.ticks, 2);
        CHECK(s.last_price == 11.0);
        CHECK_NEAR(s.metrics.cum_volume, 300.0);
        CHECK_NEAR(s.metrics.vwap, (10.5 * 100.0 + 11.0 * 200.0) / 300.0);
        CHECK_NEAR(s.metrics.pct_change, (11.0 / 10.5 - 1.0) * 100.0);
        /* 2020-01-03 00:00 UTC = 18264 days after the epoch */
        CHECK_EQ_I(s.last_event_ns, 18264LL * 86400LL * 1000000000LL);
      }
      if (CHECK_RC(tf_engine_snapshot_ticker(e, "BBB", &s), TF_OK)) {
        CHECK_EQ_U(s.ticks, 1);
        CHECK(s.last_price == 5.0);
      }
    }
    tf_engine_destroy(e);
    remove(path);
  }
}

/* ---- main --------------------------------------------------------------------------------------- */

/* Misuse from inside an alert callback: snapshot, stats, stop and destroy would wait for (or join) the
 * calling engine thread itself; they must refuse instead of hanging or aborting. */
typedef struct {
  tf_engine_t *engine;
  int calls;
  tf_err_t snapshot_rc, stats_rc, stop_rc;
} reentry_t;

static void on_alert_reenter(void *user, const tf_alert_t *a) {
  reentry_t *r = (reentry_t *)user;
  if (r->calls++ == 0) {
    tf_snapshot_t s;
    tf_stats_t st;
    r->snapshot_rc = tf_engine_snapshot(r->engine, a->symbol, &s);
    r->stats_rc = tf_engine_stats(r->engine, &st);
    r->stop_rc = tf_engine_stop(r->engine);
    tf_engine_destroy(r->engine); /* refused: nothing freed */
  }
}

static void test_reentry_from_callback(void) {
  static const char *const kv[] = {"shards", "1", ONLY_TICK_CHANGE, NULL};
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e == NULL) {
    return;
  }
  reentry_t r;
  memset(&r, 0, sizeof(r));
  r.engine = e;
  CHECK_RC(tf_engine_on_alert(e, on_alert_reenter, &r), TF_OK);
  char err[256];
  tf_producer_t *p = tf_producer_new(e, err, sizeof(err));
  CHECK_RC(tf_engine_start(e, err, sizeof(err)), TF_OK);
  CHECK_RC(tf_producer_push_ticker(p, "AAPL", 1000000000LL, 100.0, 1.0), TF_OK);
  CHECK_RC(tf_producer_push_ticker(p, "AAPL", 2000000000LL, 110.0, 1.0), TF_OK); /* +10 %: alert */
  CHECK_RC(tf_engine_stop(e), TF_OK);
  CHECK_EQ_U(r.calls, 1);
  CHECK_RC(r.snapshot_rc, TF_ERR_STATE);
  CHECK_RC(r.stats_rc, TF_ERR_STATE);
  CHECK_RC(r.stop_rc, TF_ERR_STATE);
  const tf_stats_t st = stats_of(e); /* the engine survived the refused destroy */
  CHECK_EQ_U(st.ticks, 2);
  CHECK_EQ_U(st.alerts, 1);
  tf_engine_destroy(e);
}

#define RUN(fn)                                   \
  do {                                            \
    printf("%s\n", #fn);                          \
    fflush(stdout);                               \
    fn();                                         \
  } while (0)

/* An ITCH 5.0 file as a built-in feed: the same spec as --feed, the same settings as the flags. */
static void test_itch_feed(void) {
  char err[512];
  char spec[512];
  snprintf(spec, sizeof(spec), "itch:%s/itch/ex20101224.TEST_ITCH_50.lenfixed", TICKFORGE_TEST_DATA_DIR);
  static const char *const kv[] = {"ticker", "BOB", NULL};
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e == NULL) {
    return;
  }
  const tf_stats_t st = run_feed_to_end(e, spec);
  CHECK_EQ_U(st.ticks, 1794);        /* BOB's prints (tests/itch_reference.py) */
  CHECK_EQ_U(st.feed_rejected, 18);  /* executions of orders the file never added */
  tf_snapshot_t s;
  if (CHECK_RC(tf_engine_snapshot_ticker(e, "BOB", &s), TF_OK)) {
    CHECK_EQ_U(s.ticks, 1794);
    CHECK_NEAR(s.metrics.cum_volume, 579962.0);
  }
  CHECK_RC(tf_engine_snapshot_ticker(e, "ALC", &s), TF_ERR_UNKNOWN_SYMBOL); /* not selected: never registered */
  tf_engine_destroy(e);

  /* a session date that does not exist: start fails and says why */
  static const char *const bad[] = {"itch-date", "2010-02-30", NULL};
  e = ENGINE_FROM(bad);
  if (e != NULL) {
    CHECK_RC(tf_engine_add_feed(e, spec, err, sizeof(err)), TF_OK);
    err[0] = '\0';
    CHECK(tf_engine_start(e, err, sizeof(err)) != TF_OK);
    CHECK_CONTAINS(err, "no such date: 2010-02-30");
    CHECK_RC(tf_engine_stop(e), TF_OK);
  }
  tf_engine_destroy(e);
}

/* MoldUDP64 in a pcap capture (bytes written here: pcap, Ethernet, IPv4, UDP, MoldUDP64, ITCH), and a
 * live spec the registry refuses: the feed kinds of --feed, through tf_engine_add_feed. */
static size_t put_be(uint8_t *p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    p[i] = (uint8_t)(v & 0xFF);
    v >>= 8;
  }
  return (size_t)bytes;
}

static void test_itch_packet_feeds(void) {
  char err[512];
  uint8_t mold[256];
  size_t n = 0;
  memcpy(mold, "CAPITEST01", 10);
  n = 10;
  n += put_be(mold + n, 1, 8); /* first sequence */
  n += put_be(mold + n, 2, 2); /* two messages */
  /* R: stock directory, locate 1, "CAPI    " */
  n += put_be(mold + n, 39, 2);
  uint8_t *r = mold + n;
  memset(r, 0, 39);
  r[0] = 'R';
  put_be(r + 1, 1, 2);
  put_be(r + 5, 34200000000000ull, 6); /* 09:30:00 */
  memcpy(r + 11, "CAPI    ", 8);
  r[19] = 'Q';
  r[20] = 'N';
  put_be(r + 21, 100, 4);
  r[25] = 'N';
  r[26] = 'C';
  r[27] = 'Z';
  r[29] = 'P';
  r[30] = 'N';
  r[31] = ' ';
  r[32] = '1';
  r[33] = 'N';
  r[38] = 'N';
  n += 39;
  /* P: a non-cross trade of 300 shares at 12.3400 */
  n += put_be(mold + n, 44, 2);
  uint8_t *t = mold + n;
  memset(t, 0, 44);
  t[0] = 'P';
  put_be(t + 1, 1, 2);
  put_be(t + 5, 34200000001000ull, 6);
  put_be(t + 11, 77, 8);
  t[19] = 'B';
  put_be(t + 20, 300, 4);
  memcpy(t + 24, "CAPI    ", 8);
  put_be(t + 32, 123400, 4);
  put_be(t + 36, 9001, 8);
  n += 44;

  uint8_t frame[512];
  memset(frame, 0, sizeof(frame));
  size_t f = 12;
  f += put_be(frame + f, 0x0800, 2); /* Ethernet: IPv4 */
  frame[f] = 0x45;
  put_be(frame + f + 2, 20 + 8 + n, 2);
  frame[f + 8] = 64;
  frame[f + 9] = 17; /* UDP */
  put_be(frame + f + 12, 0x7F000001, 4);
  put_be(frame + f + 16, 0x7F000001, 4);
  f += 20;
  put_be(frame + f, 4000, 2);
  put_be(frame + f + 2, 26400, 2);
  put_be(frame + f + 4, 8 + n, 2);
  f += 8;
  memcpy(frame + f, mold, n);
  f += n;

  char path[128];
  snprintf(path, sizeof(path), "/tmp/tf_capi_test_%ld.pcap", (long)getpid());
  FILE *out = fopen(path, "wb");
  if (!CHECK(out != NULL)) {
    return;
  }
  uint8_t head[24];
  memset(head, 0, sizeof(head));
  /* the pcap global header, little-endian: magic (microseconds), version 2.4, snap length, Ethernet */
  const uint8_t le_head[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0};
  memcpy(head, le_head, sizeof(head));
  const uint32_t rec[4] = {1293201000u, 0, (uint32_t)f, (uint32_t)f}; /* seconds, µs, lengths (host order) */
  const int ok = fwrite(head, 1, sizeof(head), out) == sizeof(head) && fwrite(rec, 1, sizeof(rec), out) == sizeof(rec) &&
                 fwrite(frame, 1, f, out) == f;
  CHECK(fclose(out) == 0 && ok);

  char spec[160];
  snprintf(spec, sizeof(spec), "itch-pcap:%s", path);
  static const char *const kv[] = {"itch-date", "2010-12-24", "itch-pcap-port", "26400", NULL};
  tf_engine_t *e = ENGINE_FROM(kv);
  if (e != NULL) {
    const tf_stats_t st = run_feed_to_end(e, spec);
    CHECK_EQ_U(st.ticks, 1);
    CHECK_EQ_U(st.feed_rejected, 0);
    tf_snapshot_t s;
    if (CHECK_RC(tf_engine_snapshot_ticker(e, "CAPI", &s), TF_OK)) {
      CHECK_EQ_U(s.ticks, 1);
      CHECK(s.last_price == 12.34);
      CHECK_NEAR(s.metrics.cum_volume, 300.0);
      /* 2010-12-24 09:30:00.000001 in New York (EST, UTC-5) */
      CHECK(s.last_event_ns == (int64_t)1293201000 * 1000000000 + 1000);
    }
  }
  tf_engine_destroy(e);
  /* the same capture filtered on another port: no ticks */
  static const char *const other[] = {"itch-date", "2010-12-24", "itch-pcap-port", "26401", NULL};
  e = ENGINE_FROM(other);
  if (e != NULL) {
    CHECK_EQ_U(run_feed_to_end(e, spec).ticks, 0);
  }
  tf_engine_destroy(e);
  unlink(path);

  e = ENGINE_FROM(NULL);
  if (e != NULL) {
    err[0] = '\0';
    CHECK_RC(tf_engine_add_feed(e, "moldudp64:1.2.3:99", err, sizeof(err)), TF_ERR_BAD_VALUE);
    CHECK_CONTAINS(err, "moldudp64:ADDR:PORT");
  }
  tf_engine_destroy(e);
}

int main(void) {
  const double t0 = now_s();
  RUN(test_version);
  RUN(test_err_str);
  RUN(test_rule_name);
  RUN(test_config_set);
  RUN(test_config_errstr_truncation);
  RUN(test_config_load_string);
  RUN(test_config_load_file);
  RUN(test_config_null);
  RUN(test_config_applies);
  RUN(test_engine_new);
  RUN(test_callbacks);
  RUN(test_lifecycle);
  RUN(test_symbols);
  RUN(test_deterministic_alert_and_metrics);
  RUN(test_reentry_from_callback);
  RUN(test_ticker_override);
  RUN(test_producer_misuse);
  RUN(test_ticker_variants_and_batches);
  RUN(test_symbol_table_full);
  RUN(test_back_pressure);
  RUN(test_too_many_producers);
  RUN(test_concurrency);
  RUN(test_synthetic_feed);
  RUN(test_feed_wait_timeout);
  RUN(test_csv_feed);
  RUN(test_itch_feed);
  RUN(test_itch_packet_feeds);
  printf("%lu checks, %lu failed (%.2f s)\n", g_checks, g_failures, now_s() - t0);
  return g_failures == 0 ? 0 : 1;
}
