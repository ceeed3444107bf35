/*
 * tickforge — the C API: embed the engine in any process, from any language that can call C.
 *
 * Conventions (read these once; every function below follows them):
 *
 *  1. Prefix. Every symbol is tf_* (functions, types), every constant and macro TF_*. Nothing else is
 *     exported by libtickforge.
 *  2. Handles are opaque: tf_config_t, tf_engine_t, tf_producer_t. They are created by *_new() and
 *     released by *_destroy() (producers: tf_producer_close(); their memory belongs to the engine).
 *     Passing NULL for a handle never crashes: the call returns TF_ERR_INVALID_ARG (or NULL / nothing).
 *  3. Errors. Functions that can fail return tf_err_t: TF_OK (0) or a negative code; tf_err_str() names
 *     it. Set-up calls also take `char *errstr, size_t errstr_size`: on failure a NUL-terminated,
 *     human-readable message is written there (truncated to fit; errstr may be NULL). Messages never
 *     contain credentials.
 *  4. No C++ exception ever crosses this boundary; no call aborts the process on bad input.
 *  5. Hot-path calls (tf_producer_offer*, tf_producer_push*) never allocate, lock or make a system call
 *     (except the blocking variants while they wait: they yield the CPU). Back-pressure is a return code,
 *     TF_ERR_BACK_PRESSURE, returned at once.
 *  6. Callbacks are `fn(void *user, const record *)`. They run on an engine thread with a pointer to a
 *     preallocated record that is valid only during the call: copy what you keep. They must not block and
 *     must not call tf_engine_stop()/tf_engine_destroy().
 *  7. Threads. Each function documents its thread contract. "Lifecycle thread" means: the calls that
 *     create, start, stop and destroy one engine must not run concurrently with each other.
 *  8. Strings passed in are copied when kept; strings returned are static or owned by the library.
 *  9. Times are int64_t nanoseconds: event times since the Unix epoch (UTC); latencies as durations.
 * 10. Version: TF_VERSION (compile time) and tf_version() (run time) are 0xMMmmpp00-style integers.
 *
 * Lifecycle: tf_config_new → tf_config_set / tf_config_load_* → tf_engine_new → tf_engine_on_alert,
 * tf_producer_new (any time before stop), tf_engine_add_feed → tf_engine_start → push ticks, read
 * snapshots and stats → tf_engine_stop → tf_engine_stats → tf_engine_destroy. An engine runs once: it
 * cannot be started again after it stopped.
 *
 * Header requirements: C99 or C++; includes only <stdint.h>, <stddef.h>, <stdbool.h>.
 */
#ifndef TICKFORGE_H
#define TICKFORGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- version ------------------------------------------------------------------------------------ */
/* CMakeLists.txt reads the project version from these three lines. */
#define TF_VERSION_MAJOR 0
#define TF_VERSION_MINOR 3
#define TF_VERSION_PATCH 0
/** 0xMMmmpp00: major, minor, patch as hex byte fields (like librdkafka's RD_KAFKA_VERSION). */
#define TF_VERSION ((TF_VERSION_MAJOR << 24) | (TF_VERSION_MINOR << 16) | (TF_VERSION_PATCH << 8))

/* ---- export macro ------------------------------------------------------------------------------- */
/* The library is built with hidden visibility; only functions marked TF_API are exported. */
#if defined(TF_BUILDING_LIBRARY) && defined(__GNUC__)
#define TF_API __attribute__((visibility("default")))
#else
#define TF_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------------------------------- */
typedef enum tf_err {
  TF_OK = 0,
  TF_ERR_BACK_PRESSURE = -1,     /**< the ring is full: nothing was taken, offer again later */
  TF_ERR_STOPPED = -2,           /**< the engine has stopped (or the producer was closed): tick refused */
  TF_ERR_BAD_TICK = -3,          /**< price NaN, infinite, zero or negative; volume NaN, infinite or < 0 */
  TF_ERR_BAD_TICKER = -4,        /**< ticker text empty or longer than TF_MAX_TICKER_LEN bytes */
  TF_ERR_UNKNOWN_SYMBOL = -5,    /**< symbol id or ticker not registered with this engine */
  TF_ERR_SYMBOL_TABLE_FULL = -6, /**< more distinct tickers than the max-tickers setting */
  TF_ERR_INVALID_ARG = -7,       /**< NULL handle or pointer, or an argument out of range */
  TF_ERR_UNKNOWN_KEY = -8,       /**< configuration key not known */
  TF_ERR_BAD_VALUE = -9,         /**< configuration value not valid for its key */
  TF_ERR_STATE = -10,            /**< not allowed in the engine's current state (see the function) */
  TF_ERR_LIMIT = -11,            /**< a fixed limit reached: alert callbacks, producers */
  TF_ERR_IO = -12,               /**< a file could not be read */
  TF_ERR_KAFKA = -13,            /**< Kafka refused the settings or the cluster did not answer */
  TF_ERR_CPU = -14,              /**< a CPU given for pinning does not exist or is not allowed */
  TF_ERR_TIMED_OUT = -15,        /**< the wait ended before the condition held */
  TF_ERR_NO_MEMORY = -16,        /**< allocation failed (set-up calls only) */
  TF_ERR_INTERNAL = -17,         /**< unexpected internal failure; the message says what */
  TF_ERR_TIME_OUT_OF_RANGE = -18 /**< event time outside [TF_MIN_EVENT_NS, TF_MAX_EVENT_NS] */
} tf_err_t;

/** Short stable name of a code, e.g. "TF_ERR_BACK_PRESSURE: ring full". Static string; never NULL. */
TF_API const char *tf_err_str(tf_err_t err);

/** TF_VERSION of the library actually loaded (compare with TF_VERSION to detect a mismatch). */
TF_API int tf_version(void);
/** "0.3.0". Static string. */
TF_API const char *tf_version_str(void);

/* ---- records -------------------------------------------------------------------------------------- */
#define TF_MAX_TICKER_LEN 15 /**< bytes, without the NUL */
#define TF_MAX_WINDOWS 8     /**< SMA/variance/EMA windows (setting sma) */
#define TF_MAX_ALERT_CALLBACKS 8
#define TF_MAX_PRODUCERS 64  /**< producer handles + built-in feeds per engine */
/** Supported event times: 1800-01-01T00:00:00Z (included) to 2200-01-01T00:00:00Z (excluded), ns since
 * the Unix epoch. A push outside returns TF_ERR_TIME_OUT_OF_RANGE. */
#define TF_MIN_EVENT_NS (-5364662400000000000LL)
#define TF_MAX_EVENT_NS (7258118399999999999LL)

/** Alert rules (the `rule` field of tf_alert_t). */
typedef enum tf_rule {
  TF_RULE_WINDOW_MOVE = 0,  /**< price ≥ X % above the window low or below the window high */
  TF_RULE_TICK_CHANGE = 1,  /**< |tick-to-tick change| ≥ X % */
  TF_RULE_VOLATILITY = 2,   /**< rolling std of % changes ≥ X */
  TF_RULE_SMA_CROSS = 3,    /**< shortest SMA crosses the longest */
  TF_RULE_VOLUME_SPIKE = 4, /**< volume ≥ F × mean of the previous ticks */
  TF_RULE_COUNT = 5
} tf_rule_t;
/** "window_move", "tick_change", "volatility", "sma_cross", "volume_spike"; "unknown" otherwise. */
TF_API const char *tf_rule_name(int rule);

typedef enum tf_direction { TF_DIR_DOWN = -1, TF_DIR_NONE = 0, TF_DIR_UP = 1 } tf_direction_t;

/** A tick pushed by the embedder. */
typedef struct tf_tick {
  uint32_t symbol;  /**< from tf_engine_symbol() (ignored by the *_ticker variants) */
  uint32_t reserved;
  int64_t event_ns; /**< event time, ns since the Unix epoch, UTC, in [TF_MIN_EVENT_NS, TF_MAX_EVENT_NS] */
  double price;     /**< > 0 and finite */
  double volume;    /**< ≥ 0 and finite; 0 when the source has none */
} tf_tick_t;

/** One alert. `value` crossed `threshold`; `reference` is what it was measured against (window
 * low/high, previous price, long SMA, mean volume; the volatility itself for TF_RULE_VOLATILITY).
 * NaN means "not defined yet". */
typedef struct tf_alert {
  uint64_t id;        /**< unique per engine run */
  uint64_t tick_seq;  /**< sequence of the tick that fired it within its producer, from 0 */
  int64_t event_ns;   /**< the tick's event time */
  int64_t ingest_ns;  /**< steady-clock ns (TSC calibrated to CLOCK_MONOTONIC) when the tick entered the engine */
  uint32_t symbol;
  uint32_t producer;  /**< index of the producer or built-in feed that pushed the tick */
  uint8_t rule;       /**< tf_rule_t */
  int8_t direction;   /**< tf_direction_t */
  char ticker[16];    /**< NUL-terminated */
  double price;
  double reference;
  double value;
  double threshold;
  double sma_short;   /**< shortest SMA */
  double sma_long;    /**< longest SMA */
  double volatility;
  double pct_change;
  double volume;
} tf_alert_t;

/** Alert callback: engine thread, preallocated record valid during the call only (convention 6). */
typedef void (*tf_alert_fn)(void *user, const tf_alert_t *alert);

/** Metrics of one ticker. NaN means "not defined yet" (window not full, no previous tick, no volume). */
typedef struct tf_metrics {
  uint32_t n_windows;                /**< entries used in the per-window arrays */
  uint32_t windows[TF_MAX_WINDOWS];  /**< window lengths in ticks, ascending */
  double sma[TF_MAX_WINDOWS];
  double variance[TF_MAX_WINDOWS];   /**< rolling variance (setting ddof) */
  double stddev[TF_MAX_WINDOWS];
  double ema[TF_MAX_WINDOWS];        /**< alpha = 2/(N+1), seeded with the first price */
  double pct_change;                 /**< last tick against the one before, % */
  double volatility;                 /**< rolling std of % changes over volatility-window ticks */
  double window_high;                /**< highest price with event time in [t - T, t], t = last tick */
  double window_low;
  double move_up_pct;                /**< (last - window_low) / window_low × 100 */
  double move_down_pct;              /**< (window_high - last) / window_high × 100 */
  double vwap;                       /**< Σ p·v / Σ v since the ticker's first tick */
  double cum_volume;
  double volume_mean;                /**< mean volume of the last volume-window ticks */
} tf_metrics_t;

/** A ticker's state as of the last tick the engine processed for it. */
typedef struct tf_snapshot {
  uint32_t symbol;
  char ticker[16];
  uint64_t ticks;         /**< ticks processed for this ticker; 0: nothing below is defined */
  int64_t last_event_ns;
  double last_price;
  double last_volume;
  tf_metrics_t metrics;
} tf_snapshot_t;

typedef struct tf_latency {
  uint64_t count, p50, p90, p99, p999, max; /**< nanoseconds (count: samples) */
} tf_latency_t;

/** Engine counters. Every tick offered is in exactly one of: pushed, back_pressure (the caller still
 * holds it), rejected_* (refused with a code) or a built-in feed's own counts. */
typedef struct tf_stats {
  uint64_t pushed;                     /**< ticks taken into the engine's rings (producers + built-in feeds) */
  uint64_t back_pressure;              /**< offers refused with TF_ERR_BACK_PRESSURE */
  uint64_t blocked_waits;              /**< blocking pushes that found the ring full and waited */
  uint64_t dropped_ring_full;          /**< built-in feeds with full-policy = drop */
  uint64_t rejected_bad_tick;          /**< TF_ERR_BAD_TICK */
  uint64_t rejected_bad_ticker;        /**< TF_ERR_BAD_TICKER and TF_ERR_UNKNOWN_SYMBOL on push */
  uint64_t rejected_symbol_table_full; /**< TF_ERR_SYMBOL_TABLE_FULL on push */
  uint64_t rejected_stopped;           /**< TF_ERR_STOPPED on push */
  uint64_t rejected_time_out_of_range; /**< TF_ERR_TIME_OUT_OF_RANGE on push */
  uint64_t ticks;                      /**< ticks processed (metrics, rules, callbacks done) */
  uint64_t in_flight;                  /**< pushed but not processed yet */
  uint64_t late_ticks;                 /**< event time older than the ticker's previous tick */
  uint64_t extrema_evictions;          /**< window high/low deque full: oldest entry dropped */
  uint64_t alerts;
  uint64_t alerts_by_rule[TF_RULE_COUNT];
  uint64_t suppressed;                 /**< rule met inside its cooldown */
  uint64_t feed_rejected;              /**< built-in feeds: bad CSV rows, Kafka messages, ITCH messages */
  uint64_t kafka_alerts_delivered;     /**< when publish-alerts is on */
  uint64_t kafka_alerts_lost;          /**< dropped (queue full), failed or undelivered */
  uint64_t symbols;                    /**< tickers registered */
  uint64_t ring_capacity;              /**< slots per (producer, shard) ring */
  uint64_t ring_high_water;            /**< largest occupancy any ring reached */
  uint32_t producers;                  /**< producer handles + built-in feeds created */
  uint32_t shards;
  uint32_t pin_failures;               /**< engine threads that could not be pinned */
  uint32_t running;                    /**< 1 between tf_engine_start and tf_engine_stop */
  tf_latency_t process_latency;        /**< ingest → tick processed */
  tf_latency_t alert_latency;          /**< ingest → alert callback called */
  double elapsed_seconds;              /**< start → stop (→ now while running) */
} tf_stats_t;

/* ---- configuration -------------------------------------------------------------------------------- */
typedef struct tf_config tf_config_t;

/** A configuration with the defaults of `tickforge run`, except: no built-in feed and
 * publish-alerts = false (an embedded engine starts no Kafka client unless asked).
 * Thread: any. Allocates. Returns NULL only when memory is short. Release with tf_config_destroy(). */
TF_API tf_config_t *tf_config_new(void);
/** Thread: the config's owner. Does not block. NULL is ignored. */
TF_API void tf_config_destroy(tf_config_t *conf);
/** Sets one key, the same names as the TOML file and `tickforge run --KEY` ("sma",
 * "alert_pct", "shards", "ring-capacity", "feed", "kafka.PROPERTY" for a librdkafka property …), value
 * as text ("5,10,20", "60s", "true"). A repeatable key ("feed") adds one more each time. docs/settings.md
 * lists every key with its default and bounds; keys only the binary uses ("duration", "print-alerts", …)
 * are refused with TF_ERR_UNKNOWN_KEY.
 * Errors: TF_ERR_UNKNOWN_KEY, TF_ERR_BAD_VALUE (+ errstr). Thread: the config's owner. Allocates. */
TF_API tf_err_t tf_config_set(tf_config_t *conf, const char *key, const char *value, char *errstr,
                              size_t errstr_size);
/** Loads a TOML file: top-level keys as tf_config_set(), [kafka] properties, [tickers.SYMBOL] rule
 * overrides. Later calls and sets override earlier ones. Errors name FILE:LINE.
 * Errors: TF_ERR_IO, TF_ERR_UNKNOWN_KEY, TF_ERR_BAD_VALUE. Thread: the config's owner. Blocks on file I/O. */
TF_API tf_err_t tf_config_load_file(tf_config_t *conf, const char *path, char *errstr, size_t errstr_size);
/** The same from TOML text in memory (errors name "<string>:LINE"). */
TF_API tf_err_t tf_config_load_string(tf_config_t *conf, const char *toml, char *errstr, size_t errstr_size);

/* ---- engine ---------------------------------------------------------------------------------------- */
typedef struct tf_engine tf_engine_t;
typedef struct tf_producer tf_producer_t;

/** Creates an engine from a configuration (copied: conf may be destroyed at once). Validates every
 * setting and allocates all per-ticker state up front. Returns NULL with errstr on an invalid
 * configuration (TF_ERR_BAD_VALUE class) or short memory. Thread: any. Allocates (cold). */
TF_API tf_engine_t *tf_engine_new(const tf_config_t *conf, char *errstr, size_t errstr_size);
/** Stops the engine if running (as tf_engine_stop), then frees it and every producer handle.
 * Thread: the lifecycle thread, with no other call on this engine or its producers in progress or
 * later. Blocks until the engine threads are joined. NULL is ignored. */
TF_API void tf_engine_destroy(tf_engine_t *engine);

/** Registers an alert callback (at most TF_MAX_ALERT_CALLBACKS, one fewer with publish-alerts on: the
 * Kafka publisher takes a slot), called in registration order on the
 * engine thread that evaluated the tick. Only before tf_engine_start (else TF_ERR_STATE).
 * Thread: the lifecycle thread. Allocates nothing per alert. */
TF_API tf_err_t tf_engine_on_alert(tf_engine_t *engine, tf_alert_fn fn, void *user);
/** Adds a built-in feed: "synthetic", "csv:PATH", "jsonl:PATH", "itch:PATH" (NASDAQ TotalView-ITCH 5.0)
 * or "kafka:TOPIC" (same as the "feed" key). Feeds run on their own threads (pinned by feed-cpu) from
 * tf_engine_start until their input ends or tf_engine_stop. Only before start. Errors: TF_ERR_BAD_VALUE, TF_ERR_STATE, TF_ERR_LIMIT.
 * Thread: the lifecycle thread. Allocates. */
TF_API tf_err_t tf_engine_add_feed(tf_engine_t *engine, const char *spec, char *errstr, size_t errstr_size);
/** Starts the shard threads (pinned by engine-cpu), then the Kafka clients and built-in feeds the
 * configuration names. CSV files are read and Kafka connected here: TF_ERR_IO, TF_ERR_KAFKA, TF_ERR_CPU
 * with errstr (the engine is then stopped). TF_ERR_STATE if already started. Thread: the lifecycle
 * thread. Blocks while connecting (bounded by kafka-connect-timeout). Allocates (cold). */
TF_API tf_err_t tf_engine_start(tf_engine_t *engine, char *errstr, size_t errstr_size);
/** Waits until every built-in feed's input has ended (CSV end, max-ticks, Kafka stop-at-eof).
 * timeout_ms < 0 waits without limit. TF_OK, TF_ERR_TIMED_OUT, or TF_ERR_STATE when not started.
 * Thread: any. Blocks (sleeps). */
TF_API tf_err_t tf_engine_wait_feeds(tf_engine_t *engine, int64_t timeout_ms);
/** Stops: built-in feeds end, producers are refused from now on (TF_ERR_STOPPED), the engine processes
 * every tick already in its rings, joins its threads, then Kafka publishing is flushed (bounded by
 * flush-timeout). Idempotent; TF_OK also when never started. A tick offered by another thread at the
 * very moment of the stop may still be taken (TF_OK) after the shards drained: tf_engine_stats reports
 * it as in_flight, never silently. From an alert callback: TF_ERR_STATE. Thread: the lifecycle thread.
 * Blocks. */
TF_API tf_err_t tf_engine_stop(tf_engine_t *engine);

/** The dense id of a ticker, registering it when new (ticker: NUL-terminated, 1..15 bytes). Known
 * tickers: lock-free; a new one takes a mutex once. Errors: TF_ERR_BAD_TICKER, TF_ERR_SYMBOL_TABLE_FULL.
 * Thread: any. Allocates nothing. */
TF_API tf_err_t tf_engine_symbol(tf_engine_t *engine, const char *ticker, uint32_t *symbol);
/** The ticker text of an id ("" for an unregistered id). Valid as long as the engine. Thread: any. */
TF_API const char *tf_engine_ticker(const tf_engine_t *engine, uint32_t symbol);

/** Copies one ticker's current metrics into *out. While the engine runs, the ticker's shard thread
 * fills it between two ticks (a consistent state, never half a tick); the call waits for that: one
 * duty cycle — microseconds while ticks flow (at most one ring batch of 256 ticks per producer), up to
 * the idle strategy's sleep when the shard idles (50 µs with idle = backoff, 1 ms with sleep).
 * Errors: TF_ERR_UNKNOWN_SYMBOL, TF_ERR_INVALID_ARG; TF_ERR_STATE from an alert callback of this
 * engine (it would wait for itself). Thread: any. Blocks briefly (spins, then yields). Allocates nothing. */
TF_API tf_err_t tf_engine_snapshot(tf_engine_t *engine, uint32_t symbol, tf_snapshot_t *out);
/** The same by ticker text (not registered: TF_ERR_UNKNOWN_SYMBOL). */
TF_API tf_err_t tf_engine_snapshot_ticker(tf_engine_t *engine, const char *ticker, tf_snapshot_t *out);
/** Copies the engine's counters and latency percentiles. Exact once stopped; while running, each shard
 * reports its own between two ticks (same waiting as tf_engine_snapshot, per shard). The Kafka and
 * feed_rejected counts of Kafka feeds are filled once stopped; a built-in feed's rejects once it has ended.
 * TF_ERR_STATE from an alert callback. Thread: any, in any state. Allocates (a few small blocks for the
 * feeds' figures): call it from a monitoring thread, not per tick. */
TF_API tf_err_t tf_engine_stats(tf_engine_t *engine, tf_stats_t *out);

/* ---- producers: the embedder's own threads push ticks ---------------------------------------------- */

/** A producer handle: one SPSC ring per engine shard, written by exactly one thread at a time (the
 * thread that pushes; hand it to another thread only with your own synchronisation). Create one per
 * pushing thread, before or after tf_engine_start. Ticks of one producer and one ticker are processed
 * in push order. Errors (NULL + errstr): TF_ERR_LIMIT (TF_MAX_PRODUCERS), TF_ERR_STATE (stopped).
 * Thread: any. Allocates its rings (ring-capacity slots per shard). Owned by the engine. */
TF_API tf_producer_t *tf_producer_new(tf_engine_t *engine, char *errstr, size_t errstr_size);
/** No more ticks from this producer; what it pushed is still processed. Pushes afterwards return
 * TF_ERR_STOPPED. The memory stays with the engine until tf_engine_destroy. Thread: the producer's. */
TF_API tf_err_t tf_producer_close(tf_producer_t *producer);

/** Offers one tick by symbol id. TF_OK: taken. TF_ERR_BACK_PRESSURE: the ring to that ticker's shard
 * is full, nothing taken, offer again. TF_ERR_STOPPED, TF_ERR_BAD_TICK, TF_ERR_UNKNOWN_SYMBOL:
 * refused and counted. Thread: the producer's. Never blocks, never allocates.
 * Budget: validation + one clock read + one ring write (tens of ns). */
TF_API tf_err_t tf_producer_offer(tf_producer_t *producer, const tf_tick_t *tick);
/** Offers one tick by ticker text (NUL-terminated), registering a new ticker (once, under a mutex).
 * As tf_producer_offer, plus TF_ERR_BAD_TICKER and TF_ERR_SYMBOL_TABLE_FULL. */
TF_API tf_err_t tf_producer_offer_ticker(tf_producer_t *producer, const char *ticker, int64_t event_ns,
                                         double price, double volume);
/** Offers ticks[0..count) in order, stopping at the first that is not taken. *taken (may be NULL) is
 * how many were taken; the return code says why the rest were not (TF_OK when all were). A refused
 * bad tick stops the batch too: resume from ticks[*taken + 1] to skip it. Never blocks. */
TF_API tf_err_t tf_producer_offer_batch(tf_producer_t *producer, const tf_tick_t *ticks, size_t count,
                                        size_t *taken);
/** Blocking variants: while the ring is full they wait (pause-spin, then yield) until the engine frees
 * a slot; they return TF_ERR_STOPPED if the engine stops meanwhile (before start they wait for it).
 * Otherwise as the offer calls. Thread: the producer's. Never allocate. */
TF_API tf_err_t tf_producer_push(tf_producer_t *producer, const tf_tick_t *tick);
TF_API tf_err_t tf_producer_push_ticker(tf_producer_t *producer, const char *ticker, int64_t event_ns,
                                        double price, double volume);
TF_API tf_err_t tf_producer_push_batch(tf_producer_t *producer, const tf_tick_t *ticks, size_t count,
                                       size_t *taken);

#ifdef __cplusplus
}
#endif

#endif /* TICKFORGE_H */
