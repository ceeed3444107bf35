// tickforge — every extern "C" function of include/tickforge/tickforge.h, in one file.
//
// Each function is noexcept and catches at the boundary: no C++ exception reaches a C caller. The hot
// path (tf_producer_offer*/push*) is a few inline checks and FeedPort::try_publish_at(); the C records
// (tf_alert_t, tf_snapshot_t) are layout-identical to the C++ ones (static_asserts below), so alerts
// and snapshots cross the boundary without a copy.
#define TF_BUILDING_LIBRARY 1
#include <tickforge/tickforge.h>

#include <sched.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <tickforge/engine.hpp>

#include "feed_registry.hpp"
#include "pipeline.hpp"
#include "settings.hpp"

using namespace tickforge;

// ---- the C records are the C++ records -------------------------------------------------------------

#define TF_SAME_FIELD(C, CXX, field) \
  static_assert(offsetof(C, field) == offsetof(CXX, field) && sizeof(C::field) == sizeof(CXX::field), #field)
static_assert(sizeof(tf_alert_t) == sizeof(Alert) && alignof(tf_alert_t) == alignof(Alert));
TF_SAME_FIELD(tf_alert_t, Alert, id);
TF_SAME_FIELD(tf_alert_t, Alert, tick_seq);
TF_SAME_FIELD(tf_alert_t, Alert, event_ns);
TF_SAME_FIELD(tf_alert_t, Alert, ingest_ns);
TF_SAME_FIELD(tf_alert_t, Alert, symbol);
static_assert(offsetof(tf_alert_t, producer) == offsetof(Alert, feed));
TF_SAME_FIELD(tf_alert_t, Alert, rule);
TF_SAME_FIELD(tf_alert_t, Alert, direction);
TF_SAME_FIELD(tf_alert_t, Alert, ticker);
TF_SAME_FIELD(tf_alert_t, Alert, price);
TF_SAME_FIELD(tf_alert_t, Alert, reference);
TF_SAME_FIELD(tf_alert_t, Alert, value);
TF_SAME_FIELD(tf_alert_t, Alert, threshold);
TF_SAME_FIELD(tf_alert_t, Alert, sma_short);
TF_SAME_FIELD(tf_alert_t, Alert, sma_long);
TF_SAME_FIELD(tf_alert_t, Alert, volatility);
TF_SAME_FIELD(tf_alert_t, Alert, pct_change);
TF_SAME_FIELD(tf_alert_t, Alert, volume);
static_assert(sizeof(tf_metrics_t) == sizeof(TickMetrics) && TF_MAX_WINDOWS == kMaxSmaWindows);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, n_windows);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, windows);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, sma);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, variance);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, stddev);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, ema);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, pct_change);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, volatility);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, window_high);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, window_low);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, move_up_pct);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, move_down_pct);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, vwap);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, cum_volume);
TF_SAME_FIELD(tf_metrics_t, TickMetrics, volume_mean);
static_assert(sizeof(tf_snapshot_t) == sizeof(TickerSnapshot));
TF_SAME_FIELD(tf_snapshot_t, TickerSnapshot, symbol);
TF_SAME_FIELD(tf_snapshot_t, TickerSnapshot, ticker);
TF_SAME_FIELD(tf_snapshot_t, TickerSnapshot, ticks);
TF_SAME_FIELD(tf_snapshot_t, TickerSnapshot, last_event_ns);
TF_SAME_FIELD(tf_snapshot_t, TickerSnapshot, last_price);
TF_SAME_FIELD(tf_snapshot_t, TickerSnapshot, last_volume);
TF_SAME_FIELD(tf_snapshot_t, TickerSnapshot, metrics);
static_assert(TF_RULE_COUNT == static_cast<int>(Rule::kCount));
static_assert(TF_MAX_TICKER_LEN == SymbolTable::kMaxTickerLen);
static_assert(TF_MAX_ALERT_CALLBACKS == 8 && TF_MAX_PRODUCERS == kMaxFeedPorts);
static_assert(TF_DIR_UP == static_cast<int>(Direction::kUp) && TF_DIR_DOWN == static_cast<int>(Direction::kDown));
static_assert(TF_MIN_EVENT_NS == kMinEventNs && TF_MAX_EVENT_NS == kMaxEventNs);

// ---- handles ------------------------------------------------------------------------------------------

struct tf_config {
  RunOptions opt;
};

namespace {

enum class State : std::uint8_t { kCreated, kRunning, kStopped };

// Single-writer counter (the producer thread), readable by tf_engine_stats from any thread.
struct Counter {
  std::atomic<std::uint64_t> v{0};
  void bump() noexcept { v.store(v.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

struct AlertHook {
  tf_alert_fn fn = nullptr;
  void* user = nullptr;
  // One indirect call more than the engine's own: the C callback's type is not the C++ one.
  static void call(void* self, const Alert* a) noexcept {
    const auto* h = static_cast<const AlertHook*>(self);
    h->fn(h->user, reinterpret_cast<const tf_alert_t*>(a));
  }
};

}  // namespace

// A thin adapter: the Pipeline owns the engine, the built-in feeds, the outputs and Kafka.
struct tf_engine {
  std::unique_ptr<Pipeline> pipeline;
  Engine* engine = nullptr;               // pipeline->engine()
  std::atomic<State> state{State::kCreated};
  std::array<AlertHook, TF_MAX_ALERT_CALLBACKS> hooks{};
  std::uint32_t n_hooks = 0;
  std::mutex producers_mutex;             // creation and tf_engine_stats; never on the hot path
  std::vector<std::unique_ptr<tf_producer>> producers;
  std::atomic<bool> feeds_started{false};
};

struct tf_producer {
  tf_engine* owner = nullptr;
  FeedPort* port = nullptr;
  std::uint64_t seq = 0;
  bool closed = false;
  Counter back_pressure, blocked_waits, bad_tick, bad_ticker, table_full, stopped, bad_time;

  // Hot path. Budget: three predictable branches, a table-size load, a clock read, one ring write.
  tf_err_t offer(SymbolId symbol, std::int64_t event_ns, double price, double volume, bool count_full) noexcept {
    // Relaxed: a gate only, no data is published with it. A tick racing tf_engine_stop may be taken
    // after the shards have drained; it is reported by tf_engine_stats as in_flight, never lost silently.
    if (closed || owner->state.load(std::memory_order_relaxed) == State::kStopped) [[unlikely]] {
      stopped.bump();
      return TF_ERR_STOPPED;
    }
    // !(x > 0) is also true for NaN.
    if (!(price > 0.0) || !std::isfinite(price) || !(volume >= 0.0) || !std::isfinite(volume)) [[unlikely]] {
      bad_tick.bump();
      return TF_ERR_BAD_TICK;
    }
    if (!event_time_in_range(event_ns)) [[unlikely]] {
      bad_time.bump();
      return TF_ERR_TIME_OUT_OF_RANGE;
    }
    if (symbol >= owner->engine->symbols().size()) [[unlikely]] {
      bad_ticker.bump();
      return TF_ERR_UNKNOWN_SYMBOL;
    }
    const Tick t{symbol, 0, price, volume, event_ns, seq, 0};
    if (port->try_publish_at(t, FeedPort::now_ns()) == FeedPort::Push::kOk) [[likely]] {
      ++seq;
      return TF_OK;
    }
    if (count_full) {
      back_pressure.bump();
    }
    return TF_ERR_BACK_PRESSURE;
  }

  tf_err_t push(SymbolId symbol, std::int64_t event_ns, double price, double volume) noexcept {
    tf_err_t rc = offer(symbol, event_ns, price, volume, false);
    if (rc != TF_ERR_BACK_PRESSURE) [[likely]] {
      return rc;
    }
    blocked_waits.bump();
    for (std::uint32_t spins = 0; rc == TF_ERR_BACK_PRESSURE; ++spins) {
      if (spins < 256) {
        cpu_relax();
      } else {
        sched_yield();
      }
      rc = offer(symbol, event_ns, price, volume, false);
    }
    return rc;
  }

  tf_err_t resolve(const char* ticker, SymbolId* id) noexcept;
};

namespace {

void set_error(char* errstr, std::size_t size, std::string_view msg) noexcept {
  if (errstr == nullptr || size == 0) {
    return;
  }
  const std::size_t n = std::min(size - 1, msg.size());
  std::memcpy(errstr, msg.data(), n);
  errstr[n] = '\0';
}

tf_err_t fail(char* errstr, std::size_t size, tf_err_t code, std::string_view msg) noexcept {
  set_error(errstr, size, msg);
  return code;
}

// The boundary: runs f, turning any exception into a code and a message.
template <typename F>
tf_err_t guarded(char* errstr, std::size_t size, F&& f) noexcept {
  try {
    return f();
  } catch (const UnknownSetting& e) {
    return fail(errstr, size, TF_ERR_UNKNOWN_KEY, e.what());
  } catch (const ConfigFileError& e) {
    return fail(errstr, size, TF_ERR_IO, e.what());
  } catch (const std::invalid_argument& e) {
    return fail(errstr, size, TF_ERR_BAD_VALUE, e.what());
  } catch (const RunError& e) {
    const tf_err_t code = e.kind() == RunError::Kind::kIo      ? TF_ERR_IO
                          : e.kind() == RunError::Kind::kKafka ? TF_ERR_KAFKA
                          : e.kind() == RunError::Kind::kCpu   ? TF_ERR_CPU
                                                               : TF_ERR_BAD_VALUE;
    return fail(errstr, size, code, e.what());
  } catch (const std::length_error& e) {
    return fail(errstr, size, TF_ERR_LIMIT, e.what());
  } catch (const std::logic_error& e) {
    return fail(errstr, size, TF_ERR_STATE, e.what());
  } catch (const std::bad_alloc&) {
    return fail(errstr, size, TF_ERR_NO_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(errstr, size, TF_ERR_INTERNAL, e.what());
  } catch (...) {
    return fail(errstr, size, TF_ERR_INTERNAL, "unknown exception");
  }
}

tf_err_t ticker_error(SymbolTable::Reject why) noexcept {
  return why == SymbolTable::Reject::kFull ? TF_ERR_SYMBOL_TABLE_FULL : TF_ERR_BAD_TICKER;
}

// NUL-terminated text of at most kMaxTickerLen bytes; longer or NULL → empty view (rejected as such).
std::string_view ticker_view(const char* ticker, bool* too_long) noexcept {
  *too_long = false;
  if (ticker == nullptr) {
    return {};
  }
  const std::size_t n = ::strnlen(ticker, SymbolTable::kMaxTickerLen + 1);
  *too_long = n > SymbolTable::kMaxTickerLen;
  return *too_long ? std::string_view() : std::string_view(ticker, n);
}

tf_latency_t to_c(const LatencySummary& l) noexcept { return {l.count, l.p50, l.p90, l.p99, l.p999, l.max}; }

}  // namespace

tf_err_t tf_producer::resolve(const char* ticker, SymbolId* id) noexcept {
  bool too_long = false;
  const std::string_view text = ticker_view(ticker, &too_long);
  SymbolTable::Reject why = too_long ? SymbolTable::Reject::kTooLong : SymbolTable::Reject::kNone;
  *id = too_long ? kNoSymbol : owner->engine->symbols().intern(text, &why);
  if (*id != kNoSymbol) [[likely]] {
    return TF_OK;
  }
  (why == SymbolTable::Reject::kFull ? table_full : bad_ticker).bump();
  return ticker_error(why);
}

namespace {

// The *_ticker calls: refuse after stop before registering the text, resolve it, then one tick.
template <typename Send>
tf_err_t by_ticker(tf_producer_t* producer, const char* ticker, Send&& send) noexcept {
  if (producer == nullptr || ticker == nullptr) [[unlikely]] {
    return TF_ERR_INVALID_ARG;
  }
  if (producer->closed || producer->owner->state.load(std::memory_order_relaxed) == State::kStopped) [[unlikely]] {
    producer->stopped.bump();
    return TF_ERR_STOPPED;
  }
  SymbolId id = kNoSymbol;
  const tf_err_t rc = producer->resolve(ticker, &id);
  return rc != TF_OK ? rc : send(id);
}

// The *_batch calls: in order, stopping at the first tick not taken; *taken counts the ones taken.
template <typename Send>
tf_err_t batch(tf_producer_t* producer, const tf_tick_t* ticks, std::size_t count, std::size_t* taken,
               Send&& send) noexcept {
  if (taken != nullptr) {
    *taken = 0;
  }
  if (producer == nullptr || (ticks == nullptr && count != 0)) [[unlikely]] {
    return TF_ERR_INVALID_ARG;
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (const tf_err_t rc = send(ticks[i]); rc != TF_OK) [[unlikely]] {
      return rc;
    }
    if (taken != nullptr) {
      *taken = i + 1;
    }
  }
  return TF_OK;
}

}  // namespace

// ---- version, errors, names ---------------------------------------------------------------------------

extern "C" {

TF_API const char* tf_err_str(tf_err_t err) {
  // A C caller may pass any int: read the bits as int, never as an out-of-range enum value (UBSan).
  int code = 0;
  std::memcpy(&code, &err, sizeof(code));
  static_assert(sizeof(tf_err_t) == sizeof(int));
  switch (code) {
    case TF_OK:
      return "TF_OK: success";
    case TF_ERR_BACK_PRESSURE:
      return "TF_ERR_BACK_PRESSURE: ring full, nothing taken, offer again";
    case TF_ERR_STOPPED:
      return "TF_ERR_STOPPED: engine stopped or producer closed";
    case TF_ERR_BAD_TICK:
      return "TF_ERR_BAD_TICK: price must be > 0 and finite, volume >= 0 and finite";
    case TF_ERR_BAD_TICKER:
      return "TF_ERR_BAD_TICKER: ticker empty or longer than 15 bytes";
    case TF_ERR_UNKNOWN_SYMBOL:
      return "TF_ERR_UNKNOWN_SYMBOL: symbol not registered";
    case TF_ERR_SYMBOL_TABLE_FULL:
      return "TF_ERR_SYMBOL_TABLE_FULL: more tickers than max-tickers";
    case TF_ERR_INVALID_ARG:
      return "TF_ERR_INVALID_ARG: NULL handle or pointer, or argument out of range";
    case TF_ERR_UNKNOWN_KEY:
      return "TF_ERR_UNKNOWN_KEY: unknown configuration key";
    case TF_ERR_BAD_VALUE:
      return "TF_ERR_BAD_VALUE: invalid configuration value";
    case TF_ERR_STATE:
      return "TF_ERR_STATE: not allowed in the engine's current state";
    case TF_ERR_LIMIT:
      return "TF_ERR_LIMIT: fixed limit reached";
    case TF_ERR_IO:
      return "TF_ERR_IO: file cannot be read";
    case TF_ERR_KAFKA:
      return "TF_ERR_KAFKA: Kafka refused the settings or did not answer";
    case TF_ERR_CPU:
      return "TF_ERR_CPU: CPU does not exist or is not allowed";
    case TF_ERR_TIMED_OUT:
      return "TF_ERR_TIMED_OUT: wait ended before the condition held";
    case TF_ERR_NO_MEMORY:
      return "TF_ERR_NO_MEMORY: out of memory";
    case TF_ERR_INTERNAL:
      return "TF_ERR_INTERNAL: internal failure";
    case TF_ERR_TIME_OUT_OF_RANGE:
      return "TF_ERR_TIME_OUT_OF_RANGE: event time outside 1800-01-01 .. 2199-12-31 (UTC)";
  }
  return "TF_ERR_UNKNOWN: not a tickforge error code";
}

TF_API int tf_version(void) { return TF_VERSION; }

TF_API const char* tf_version_str(void) {
#define TF_STR2(x) #x
#define TF_STR(x) TF_STR2(x)
  return TF_STR(TF_VERSION_MAJOR) "." TF_STR(TF_VERSION_MINOR) "." TF_STR(TF_VERSION_PATCH);
#undef TF_STR
#undef TF_STR2
}

TF_API const char* tf_rule_name(int rule) {
  if (rule < 0 || rule >= TF_RULE_COUNT) {
    return "unknown";
  }
  return to_string(static_cast<Rule>(rule));
}

// ---- configuration ------------------------------------------------------------------------------------

TF_API tf_config_t* tf_config_new(void) {
  try {
    auto* c = new tf_config;
    c->opt = embed_defaults();  // the binary's defaults but Kafka publishing and console output
    return c;
  } catch (...) {
    return nullptr;  // out of memory
  }
}

TF_API void tf_config_destroy(tf_config_t* conf) { delete conf; }

TF_API tf_err_t tf_config_set(tf_config_t* conf, const char* key, const char* value, char* errstr,
                              size_t errstr_size) {
  if (conf == nullptr || key == nullptr || value == nullptr) {
    return fail(errstr, errstr_size, TF_ERR_INVALID_ARG, "tf_config_set: conf, key and value must not be NULL");
  }
  return guarded(errstr, errstr_size, [&] {
    const std::string_view k(key);
    if (k.starts_with("kafka.") && k.size() > 6) {  // the TOML [kafka] table, one property
      std::string prop(k.substr(6));
      prop += '=';
      prop += value;
      apply_setting(conf->opt, "kafka", prop, kScopeEmbed);
    } else {
      apply_setting(conf->opt, k, value, kScopeEmbed);  // a key only the binary uses is refused
    }
    return TF_OK;
  });
}

TF_API tf_err_t tf_config_load_file(tf_config_t* conf, const char* path, char* errstr, size_t errstr_size) {
  if (conf == nullptr || path == nullptr) {
    return fail(errstr, errstr_size, TF_ERR_INVALID_ARG, "tf_config_load_file: conf and path must not be NULL");
  }
  return guarded(errstr, errstr_size, [&] {
    RunOptions next = conf->opt;  // all or nothing
    load_config_file(next, path, kScopeEmbed);
    conf->opt = std::move(next);
    return TF_OK;
  });
}

TF_API tf_err_t tf_config_load_string(tf_config_t* conf, const char* toml, char* errstr, size_t errstr_size) {
  if (conf == nullptr || toml == nullptr) {
    return fail(errstr, errstr_size, TF_ERR_INVALID_ARG, "tf_config_load_string: conf and toml must not be NULL");
  }
  return guarded(errstr, errstr_size, [&] {
    RunOptions next = conf->opt;
    load_config_string(next, toml, "<string>", kScopeEmbed);
    conf->opt = std::move(next);
    return TF_OK;
  });
}

// ---- engine ---------------------------------------------------------------------------------------------

TF_API tf_engine_t* tf_engine_new(const tf_config_t* conf, char* errstr, size_t errstr_size) {
  if (conf == nullptr) {
    set_error(errstr, errstr_size, "tf_engine_new: conf must not be NULL");
    return nullptr;
  }
  tf_engine_t* out = nullptr;
  guarded(errstr, errstr_size, [&] {
    auto e = std::make_unique<tf_engine>();
    e->pipeline = std::make_unique<Pipeline>(conf->opt);  // every setting validated, the engine built
    e->engine = &e->pipeline->engine();
    out = e.release();
    return TF_OK;
  });
  return out;
}

TF_API tf_err_t tf_engine_stop(tf_engine_t* engine) {
  if (engine == nullptr) {
    return TF_ERR_INVALID_ARG;
  }
  if (engine->engine->on_shard_thread()) {
    return TF_ERR_STATE;  // from an alert callback: the engine would join its own thread
  }
  return guarded(nullptr, 0, [&] {
    const State was = engine->state.exchange(State::kStopped, std::memory_order_acq_rel);
    if (was != State::kRunning) {
      return TF_OK;
    }
    engine->pipeline->stop();  // feeds, shards (every ring drained), outputs, Kafka: in that order
    return TF_OK;
  });
}

TF_API void tf_engine_destroy(tf_engine_t* engine) {
  if (engine == nullptr || engine->engine->on_shard_thread()) {
    return;  // NULL, or from an alert callback (documented as not allowed): nothing is freed
  }
  tf_engine_stop(engine);
  guarded(nullptr, 0, [&] {
    engine->pipeline.reset();
    return TF_OK;
  });
  delete engine;
}

TF_API tf_err_t tf_engine_on_alert(tf_engine_t* engine, tf_alert_fn fn, void* user) {
  if (engine == nullptr || fn == nullptr) {
    return TF_ERR_INVALID_ARG;
  }
  if (engine->state.load(std::memory_order_acquire) != State::kCreated) {
    return TF_ERR_STATE;
  }
  // The pipeline keeps the slots its own outputs (the Kafka publisher, the alert sinks) will need.
  if (engine->pipeline->alert_callback_slots_left() == 0 || engine->n_hooks == TF_MAX_ALERT_CALLBACKS) {
    return TF_ERR_LIMIT;
  }
  return guarded(nullptr, 0, [&] {
    AlertHook& h = engine->hooks[engine->n_hooks];
    h.fn = fn;
    h.user = user;
    engine->pipeline->add_alert_callback(&AlertHook::call, &h);
    ++engine->n_hooks;
    return TF_OK;
  });
}

TF_API tf_err_t tf_engine_add_feed(tf_engine_t* engine, const char* spec, char* errstr, size_t errstr_size) {
  if (engine == nullptr || spec == nullptr) {
    return fail(errstr, errstr_size, TF_ERR_INVALID_ARG, "tf_engine_add_feed: engine and spec must not be NULL");
  }
  if (engine->state.load(std::memory_order_acquire) != State::kCreated) {
    return fail(errstr, errstr_size, TF_ERR_STATE, "tf_engine_add_feed: only before tf_engine_start");
  }
  return guarded(errstr, errstr_size, [&] {
    std::size_t producers = 0;
    {
      const std::lock_guard<std::mutex> lock(engine->producers_mutex);
      producers = engine->producers.size();
    }
    if (engine->pipeline->options().feeds.size() + producers >= TF_MAX_PRODUCERS) {
      return fail(errstr, errstr_size, TF_ERR_LIMIT, "tf_engine_add_feed: at most 64 feeds and producers");
    }
    const std::string_view text(spec);
    if (text.find(',') != std::string_view::npos) {
      return fail(errstr, errstr_size, TF_ERR_BAD_VALUE,
                  "tf_engine_add_feed: give exactly one feed: " + feed_syntaxes());
    }
    try {
      engine->pipeline->add_feed(parse_feed_spec(text));
    } catch (const std::invalid_argument& e) {
      return fail(errstr, errstr_size, TF_ERR_BAD_VALUE, std::string("tf_engine_add_feed: ") + e.what());
    }
    return TF_OK;
  });
}

TF_API tf_err_t tf_engine_start(tf_engine_t* engine, char* errstr, size_t errstr_size) {
  if (engine == nullptr) {
    return fail(errstr, errstr_size, TF_ERR_INVALID_ARG, "tf_engine_start: engine must not be NULL");
  }
  if (engine->state.load(std::memory_order_acquire) != State::kCreated) {
    return fail(errstr, errstr_size, TF_ERR_STATE, "tf_engine_start: an engine starts once");
  }
  const tf_err_t rc = guarded(errstr, errstr_size, [&] {
    engine->pipeline->start();  // CPUs checked, Kafka, feeds, outputs, shards; on failure nothing runs
    engine->state.store(State::kRunning, std::memory_order_release);
    engine->feeds_started.store(true, std::memory_order_release);  // partner: tf_engine_wait_feeds
    return TF_OK;
  });
  if (rc != TF_OK) {
    engine->state.store(State::kStopped, std::memory_order_release);  // an engine cannot be started again
  }
  return rc;
}

TF_API tf_err_t tf_engine_wait_feeds(tf_engine_t* engine, int64_t timeout_ms) {
  if (engine == nullptr) {
    return TF_ERR_INVALID_ARG;
  }
  if (!engine->feeds_started.load(std::memory_order_acquire)) {  // partner: release in tf_engine_start
    return TF_ERR_STATE;
  }
  // Beyond ~11 days counts as "no limit" (and keeps the deadline arithmetic from overflowing).
  constexpr std::int64_t kForever = 1'000'000'000;
  const bool unlimited = timeout_ms < 0 || timeout_ms > kForever;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(unlimited ? 0 : timeout_ms);
  for (;;) {
    if (engine->pipeline->feeds_done()) {
      return TF_OK;
    }
    if (!unlimited && std::chrono::steady_clock::now() >= deadline) {
      return TF_ERR_TIMED_OUT;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TF_API tf_err_t tf_engine_symbol(tf_engine_t* engine, const char* ticker, uint32_t* symbol) {
  if (engine == nullptr || symbol == nullptr || ticker == nullptr) {
    return TF_ERR_INVALID_ARG;
  }
  bool too_long = false;
  const std::string_view text = ticker_view(ticker, &too_long);
  if (too_long) {
    return TF_ERR_BAD_TICKER;
  }
  SymbolTable::Reject why{};
  const SymbolId id = engine->engine->symbols().intern(text, &why);
  if (id == kNoSymbol) {
    return ticker_error(why);
  }
  *symbol = id;
  return TF_OK;
}

TF_API const char* tf_engine_ticker(const tf_engine_t* engine, uint32_t symbol) {
  if (engine == nullptr || symbol >= engine->engine->symbols().size()) {
    return "";
  }
  return engine->engine->symbols().name(symbol);
}

TF_API tf_err_t tf_engine_snapshot(tf_engine_t* engine, uint32_t symbol, tf_snapshot_t* out) {
  if (engine == nullptr || out == nullptr) {
    return TF_ERR_INVALID_ARG;
  }
  return guarded(nullptr, 0, [&] {
    return engine->engine->snapshot(symbol, reinterpret_cast<TickerSnapshot*>(out)) ? TF_OK : TF_ERR_UNKNOWN_SYMBOL;
  });
}

TF_API tf_err_t tf_engine_snapshot_ticker(tf_engine_t* engine, const char* ticker, tf_snapshot_t* out) {
  if (engine == nullptr || out == nullptr || ticker == nullptr) {
    return TF_ERR_INVALID_ARG;
  }
  bool too_long = false;
  const SymbolId id = engine->engine->symbols().find(ticker_view(ticker, &too_long));
  return id == kNoSymbol ? TF_ERR_UNKNOWN_SYMBOL : tf_engine_snapshot(engine, id, out);
}

TF_API tf_err_t tf_engine_stats(tf_engine_t* engine, tf_stats_t* out) {
  if (engine == nullptr || out == nullptr) {
    return TF_ERR_INVALID_ARG;
  }
  if (engine->engine->on_shard_thread()) {
    return TF_ERR_STATE;  // from an alert callback: the shard would wait for itself
  }
  return guarded(nullptr, 0, [&] {
    const PipelineStats ps = engine->pipeline->stats();  // any thread, any phase (it reads what is final)
    const EngineStats& st = ps.engine;
    tf_stats_t s{};
    s.pushed = st.pushed;
    s.dropped_ring_full = st.dropped_ring_full;
    s.blocked_waits = st.blocked_waits;
    s.ticks = st.ticks;
    s.in_flight = st.in_flight;
    s.late_ticks = st.late_ticks;
    s.extrema_evictions = st.extrema_evictions;
    s.alerts = st.alerts;
    for (int r = 0; r < TF_RULE_COUNT; ++r) {
      s.alerts_by_rule[r] = st.alerts_of(static_cast<Rule>(r));
    }
    s.suppressed = st.suppressed;
    s.symbols = st.symbols;
    s.ring_capacity = st.ring_capacity;
    s.ring_high_water = st.ring_high_water;
    s.producers = st.producers;
    s.shards = st.shards;
    s.pin_failures = st.pin_failures;
    s.running = engine->state.load(std::memory_order_acquire) == State::kRunning ? 1 : 0;
    s.process_latency = to_c(st.process_latency);
    s.alert_latency = to_c(st.alert_latency);
    s.elapsed_seconds = st.elapsed_seconds;
    {
      const std::lock_guard<std::mutex> lock(engine->producers_mutex);
      for (const auto& p : engine->producers) {
        s.back_pressure += p->back_pressure.get();
        s.blocked_waits += p->blocked_waits.get();
        s.rejected_bad_tick += p->bad_tick.get();
        s.rejected_bad_ticker += p->bad_ticker.get();
        s.rejected_symbol_table_full += p->table_full.get();
        s.rejected_stopped += p->stopped.get();
        s.rejected_time_out_of_range += p->bad_time.get();
      }
    }
    s.rejected_time_out_of_range += st.rejected_time_out_of_range;  // refused by a built-in feed's port
    // Kafka feeds' rejects and the publisher's counts are exact once stopped (PipelineStats).
    s.feed_rejected = ps.feed_rejected;
    s.kafka_alerts_delivered = ps.stopped && ps.publish_alerts ? ps.publisher.alerts.delivered : 0;
    s.kafka_alerts_lost = ps.stopped ? ps.alerts_lost() : 0;
    *out = s;
    return TF_OK;
  });
}

// ---- producers -------------------------------------------------------------------------------------------

TF_API tf_producer_t* tf_producer_new(tf_engine_t* engine, char* errstr, size_t errstr_size) {
  if (engine == nullptr) {
    set_error(errstr, errstr_size, "tf_producer_new: engine must not be NULL");
    return nullptr;
  }
  tf_producer_t* out = nullptr;
  guarded(errstr, errstr_size, [&] {
    if (engine->state.load(std::memory_order_acquire) == State::kStopped) {
      return fail(errstr, errstr_size, TF_ERR_STATE, "tf_producer_new: the engine has stopped");
    }
    auto p = std::make_unique<tf_producer>();
    p->owner = engine;
    const std::lock_guard<std::mutex> lock(engine->producers_mutex);
    engine->producers.reserve(engine->producers.size() + 1);  // no throw after the port exists
    p->port = &engine->engine->open_port();                   // std::length_error past TF_MAX_PRODUCERS
    out = p.get();
    engine->producers.push_back(std::move(p));
    return TF_OK;
  });
  return out;
}

TF_API tf_err_t tf_producer_close(tf_producer_t* producer) {
  if (producer == nullptr) {
    return TF_ERR_INVALID_ARG;
  }
  producer->closed = true;
  producer->port->close();
  return TF_OK;
}

TF_API tf_err_t tf_producer_offer(tf_producer_t* producer, const tf_tick_t* tick) {
  if (producer == nullptr || tick == nullptr) [[unlikely]] {
    return TF_ERR_INVALID_ARG;
  }
  return producer->offer(tick->symbol, tick->event_ns, tick->price, tick->volume, true);
}

TF_API tf_err_t tf_producer_push(tf_producer_t* producer, const tf_tick_t* tick) {
  if (producer == nullptr || tick == nullptr) [[unlikely]] {
    return TF_ERR_INVALID_ARG;
  }
  return producer->push(tick->symbol, tick->event_ns, tick->price, tick->volume);
}

TF_API tf_err_t tf_producer_offer_ticker(tf_producer_t* producer, const char* ticker, int64_t event_ns, double price,
                                         double volume) {
  return by_ticker(producer, ticker, [&](SymbolId id) { return producer->offer(id, event_ns, price, volume, true); });
}

TF_API tf_err_t tf_producer_push_ticker(tf_producer_t* producer, const char* ticker, int64_t event_ns, double price,
                                        double volume) {
  return by_ticker(producer, ticker, [&](SymbolId id) { return producer->push(id, event_ns, price, volume); });
}

TF_API tf_err_t tf_producer_offer_batch(tf_producer_t* producer, const tf_tick_t* ticks, size_t count, size_t* taken) {
  return batch(producer, ticks, count, taken,
               [producer](const tf_tick_t& t) { return producer->offer(t.symbol, t.event_ns, t.price, t.volume, true); });
}

TF_API tf_err_t tf_producer_push_batch(tf_producer_t* producer, const tf_tick_t* ticks, size_t count, size_t* taken) {
  return batch(producer, ticks, count, taken,
               [producer](const tf_tick_t& t) { return producer->push(t.symbol, t.event_ns, t.price, t.volume); });
}

}  // extern "C"
