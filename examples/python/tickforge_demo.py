#!/usr/bin/env python3
"""tickforge_demo.py: the tickforge C API from Python through ctypes (standard library only).

The same life cycle as examples/c/embed.c: a configuration, an alert callback, a pushing thread with
its own producer, snapshots while the engine runs, stop, statistics. It checks its results with
`assert` and exits with 0 only when they all hold.

    TICKFORGE_LIB=~/.local/lib/libtickforge.so python3 tickforge_demo.py
    python3 tickforge_demo.py --lib ~/.local/lib/libtickforge.so

The library is the one given by --lib, else $TICKFORGE_LIB, else ctypes.util.find_library().

Alert callbacks and the GIL: the engine calls the Python callback on its own thread, and ctypes takes
the GIL for every call. A Python callback therefore slows the engine down (it waits whenever another
Python thread holds the GIL). Fine for research and notebooks; not for production, where alerts are
consumed in C or from Kafka. The foreign calls themselves release the GIL (ctypes.CDLL, not PyDLL),
which is what lets the engine thread run the callback while Python threads push, snapshot or stop.
"""
import argparse
import ctypes
import ctypes.util
import os
import random
import sys
import threading
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_int, c_int8, c_int64,
                    c_size_t, c_uint8, c_uint32, c_uint64, c_void_p, create_string_buffer)

# ---- <tickforge/tickforge.h> 0.3, mirrored field by field (same order, same types) ----------------
TF_OK, TF_ERR_STOPPED = 0, -2
TF_MAX_WINDOWS, TF_RULE_COUNT = 8, 5


class Tick(Structure):  # tf_tick_t (layout mirrored for completeness; this demo pushes by ticker)
    _fields_ = [("symbol", c_uint32), ("reserved", c_uint32), ("event_ns", c_int64), ("price", c_double),
                ("volume", c_double)]


class Alert(Structure):  # tf_alert_t
    _fields_ = [("id", c_uint64), ("tick_seq", c_uint64), ("event_ns", c_int64), ("ingest_ns", c_int64),
                ("symbol", c_uint32), ("producer", c_uint32), ("rule", c_uint8), ("direction", c_int8),
                ("ticker", c_char * 16)] + [(name, c_double) for name in (
                    "price", "reference", "value", "threshold", "sma_short", "sma_long", "volatility",
                    "pct_change", "volume")]


class Metrics(Structure):  # tf_metrics_t
    _fields_ = [("n_windows", c_uint32), ("windows", c_uint32 * TF_MAX_WINDOWS),
                ("sma", c_double * TF_MAX_WINDOWS), ("variance", c_double * TF_MAX_WINDOWS),
                ("stddev", c_double * TF_MAX_WINDOWS), ("ema", c_double * TF_MAX_WINDOWS)] + [
                    (name, c_double) for name in (
                        "pct_change", "volatility", "window_high", "window_low", "move_up_pct",
                        "move_down_pct", "vwap", "cum_volume", "volume_mean")]


class Snapshot(Structure):  # tf_snapshot_t
    _fields_ = [("symbol", c_uint32), ("ticker", c_char * 16), ("ticks", c_uint64),
                ("last_event_ns", c_int64), ("last_price", c_double), ("last_volume", c_double),
                ("metrics", Metrics)]


class Latency(Structure):  # tf_latency_t, nanoseconds
    _fields_ = [(name, c_uint64) for name in ("count", "p50", "p90", "p99", "p999", "max")]


class Stats(Structure):  # tf_stats_t
    _fields_ = [(name, c_uint64) for name in (
        "pushed", "back_pressure", "blocked_waits", "dropped_ring_full", "rejected_bad_tick",
        "rejected_bad_ticker", "rejected_symbol_table_full", "rejected_stopped", "rejected_time_out_of_range",
        "ticks", "in_flight",
        "late_ticks", "extrema_evictions", "alerts")] + [("alerts_by_rule", c_uint64 * TF_RULE_COUNT)] + [
        (name, c_uint64) for name in (
            "suppressed", "feed_rejected", "kafka_alerts_delivered", "kafka_alerts_lost", "symbols",
            "ring_capacity", "ring_high_water")] + [
        (name, c_uint32) for name in ("producers", "shards", "pin_failures", "running")] + [
        ("process_latency", Latency), ("alert_latency", Latency), ("elapsed_seconds", c_double)]


ALERT_FN = CFUNCTYPE(None, c_void_p, POINTER(Alert))  # tf_alert_fn
ERRSTR = c_char_p  # char *errstr: pass a create_string_buffer(); handles are opaque: c_void_p
SIGNATURES = {  # name: (restype, argtypes); tf_err_t is an enum: c_int
    "tf_err_str": (c_char_p, [c_int]),
    "tf_version": (c_int, []),
    "tf_version_str": (c_char_p, []),
    "tf_rule_name": (c_char_p, [c_int]),
    "tf_config_new": (c_void_p, []),
    "tf_config_destroy": (None, [c_void_p]),
    "tf_config_set": (c_int, [c_void_p, c_char_p, c_char_p, ERRSTR, c_size_t]),
    "tf_engine_new": (c_void_p, [c_void_p, ERRSTR, c_size_t]),
    "tf_engine_destroy": (None, [c_void_p]),
    "tf_engine_on_alert": (c_int, [c_void_p, ALERT_FN, c_void_p]),
    "tf_engine_start": (c_int, [c_void_p, ERRSTR, c_size_t]),
    "tf_engine_stop": (c_int, [c_void_p]),
    "tf_engine_snapshot_ticker": (c_int, [c_void_p, c_char_p, POINTER(Snapshot)]),
    "tf_engine_stats": (c_int, [c_void_p, POINTER(Stats)]),
    "tf_producer_new": (c_void_p, [c_void_p, ERRSTR, c_size_t]),
    "tf_producer_close": (c_int, [c_void_p]),
    "tf_producer_push_ticker": (c_int, [c_void_p, c_char_p, c_int64, c_double, c_double]),
}
# -----------------------------------------------------------------------------------------------------

SETTINGS = [(b"shards", b"1"), (b"sma", b"5,20"), (b"tick-change-pct", b"2"), (b"alert-pct", b"4"),
            (b"alert-window", b"60s"), (b"sma-cross", b"false")]  # as embed.c
TICKERS = [b"AAPL", b"MSFT", b"NVDA"]
STEPS = 5000  # ticks per ticker, one second of event time apart
START_NS = 1704205800 * 10**9  # 2024-01-02 14:30:00 UTC


class TickforgeError(RuntimeError):
    pass


def load(path):
    """Opens the library and declares every function used: without argtypes/restype ctypes would
    pass and return C ints, truncating 64-bit handles and event times."""
    lib = ctypes.CDLL(path)  # CDLL: foreign calls release the GIL
    for name, (restype, argtypes) in SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


def check(tf, rc, call, err=None):
    """Raises TickforgeError naming the call, the code (tf_err_str) and errstr when rc is not TF_OK."""
    if rc != TF_OK:
        detail = err.value.decode(errors="replace") if err is not None and err.value else ""
        raise TickforgeError(f"{call}: {tf.tf_err_str(rc).decode()}" + (f": {detail}" if detail else ""))


def push_walk(tf, engine, result):
    """Pusher thread: its own producer, a deterministic random walk with a few ±6 % jumps."""
    try:
        err = create_string_buffer(256)
        producer = tf.tf_producer_new(engine, err, len(err))
        if not producer:
            raise TickforgeError(f"tf_producer_new: {err.value.decode(errors='replace')}")
        rng = random.Random(7)
        prices = [190.0, 410.0, 480.0]
        for i in range(STEPS):
            for k, ticker in enumerate(TICKERS):
                move, volume = rng.gauss(0.0, 0.0005), rng.uniform(100.0, 500.0)
                if (i + 300 * k) % 2000 == 1000:  # a jump, alternately up and down, on 5x volume
                    move, volume = (0.06 if (i + 300 * k) // 2000 % 2 == 0 else -0.06), volume * 5
                prices[k] *= 1.0 + move
                # Blocking push (waits while the ring is full); registers the ticker on first use.
                rc = tf.tf_producer_push_ticker(producer, ticker, START_NS + i * 10**9, prices[k], volume)
                check(tf, rc, "tf_producer_push_ticker")
                result["pushed"] += 1
        check(tf, tf.tf_producer_close(producer), "tf_producer_close")
    except Exception as e:  # handed to the main thread, which raises it
        result["error"] = e


def main():
    if not __debug__:
        sys.exit("tickforge_demo: run without -O: the checks are assert statements")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", help="path of libtickforge.so (else $TICKFORGE_LIB, else the system's)")
    args = parser.parse_args()
    path = args.lib or os.environ.get("TICKFORGE_LIB") or ctypes.util.find_library("tickforge")
    if not path:
        sys.exit("tickforge_demo: libtickforge not found: set TICKFORGE_LIB or pass --lib PATH")
    try:
        tf = load(path)
    except (OSError, AttributeError) as e:  # not found, or a symbol missing (not a tickforge library)
        sys.exit(f"tickforge_demo: cannot load {path}: {e}")

    # The version integer (0xMMmmpp00) and the text must agree; the structures above are those of 0.3.
    version, text = tf.tf_version(), tf.tf_version_str().decode()
    major, minor = (int(part) for part in text.split(".")[:2])
    assert (version >> 24) & 0xFF == major and (version >> 16) & 0xFF == minor, (hex(version), text)
    if (major, minor) != (0, 3):
        sys.exit(f"tickforge_demo: written for the 0.3 API, {path} is {text}")
    print(f"tickforge {text} from {path}")

    alerts = []

    def on_alert(user, alert):
        """Engine thread, GIL taken by ctypes, record valid during the call only: copy what is kept
        (Python floats and bytes are copies). An exception here is printed by ctypes, then ignored."""
        a = alert.contents
        alerts.append((a.ticker.decode(), tf.tf_rule_name(a.rule).decode(), a.direction, a.price, a.value))

    # Keep this object referenced for as long as the engine may call it (here: until tf_engine_destroy).
    # If it were garbage-collected, ctypes would free the C trampoline the engine calls.
    callback = ALERT_FN(on_alert)

    err = create_string_buffer(256)
    conf = tf.tf_config_new()
    if not conf:
        raise MemoryError("tf_config_new")
    try:
        for key, value in SETTINGS:
            rc = tf.tf_config_set(conf, key, value, err, len(err))
            check(tf, rc, f"tf_config_set({key.decode()})", err)
        engine = tf.tf_engine_new(conf, err, len(err))  # copies the configuration
    finally:
        tf.tf_config_destroy(conf)
    if not engine:
        raise TickforgeError(f"tf_engine_new: {err.value.decode(errors='replace')}")
    try:
        check(tf, tf.tf_engine_on_alert(engine, callback, None), "tf_engine_on_alert")
        check(tf, tf.tf_engine_start(engine, err, len(err)), "tf_engine_start", err)

        result = {"pushed": 0, "error": None}
        pusher = threading.Thread(target=push_walk, args=(tf, engine, result), name="pusher")
        pusher.start()
        pusher.join()
        if result["error"] is not None:
            raise result["error"]
        # A producer of the main thread, used after stop below to show a refused push.
        late = tf.tf_producer_new(engine, err, len(err))
        if not late:
            raise TickforgeError(f"tf_producer_new: {err.value.decode(errors='replace')}")

        # Snapshots while running: consistent between two ticks; the last ticks may still be in flight.
        snap = Snapshot()
        for ticker in TICKERS:
            check(tf, tf.tf_engine_snapshot_ticker(engine, ticker, ctypes.byref(snap)), "tf_engine_snapshot")
            m = snap.metrics
            print(f"{snap.ticker.decode():6} last={snap.last_price:.2f} sma{m.windows[0]}={m.sma[0]:.2f} "
                  f"sma{m.windows[1]}={m.sma[1]:.2f} stddev{m.windows[0]}={m.stddev[0]:.4f} "
                  f"volatility={m.volatility:.4f} vwap={m.vwap:.2f} ticks={snap.ticks}")

        check(tf, tf.tf_engine_stop(engine), "tf_engine_stop")  # drains the rings; no callback after it
        stats = Stats()
        check(tf, tf.tf_engine_stats(engine, ctypes.byref(stats)), "tf_engine_stats")
        by_rule = " ".join(f"{tf.tf_rule_name(r).decode()}={stats.alerts_by_rule[r]}"
                           for r in range(TF_RULE_COUNT))
        print(f"stats: ticks={stats.ticks} pushed={stats.pushed} alerts={stats.alerts} ({by_rule})")
        print(f"       back_pressure={stats.back_pressure} rejected: bad_tick={stats.rejected_bad_tick} "
              f"bad_ticker={stats.rejected_bad_ticker} stopped={stats.rejected_stopped}")
        print(f"       latency ingest->processed p50={stats.process_latency.p50 / 1e3:.1f} us "
              f"p99={stats.process_latency.p99 / 1e3:.1f} us, ingest->alert "
              f"p50={stats.alert_latency.p50 / 1e3:.1f} us p99={stats.alert_latency.p99 / 1e3:.1f} us")
        for ticker, rule, direction, price, value in alerts[:5]:
            print(f"alert  {ticker:6} {rule:12} {'up' if direction > 0 else 'down':4} price={price:.2f} "
                  f"value={value:.3f}")
        assert stats.ticks == result["pushed"], (stats.ticks, result["pushed"])
        assert alerts and len(alerts) == stats.alerts, (len(alerts), stats.alerts)

        # Misuse: a push after stop is refused with TF_ERR_STOPPED (and counted), never a crash.
        rc = tf.tf_producer_push_ticker(late, b"AAPL", START_NS + STEPS * 10**9, 200.0, 100.0)
        name = tf.tf_err_str(rc).decode()
        print(f"push after stop: {rc} {name}")
        assert rc == TF_ERR_STOPPED and "TF_ERR_STOPPED" in name, (rc, name)
    finally:
        tf.tf_engine_destroy(engine)  # stops if still running, frees the producers
    del callback                      # only now may the callback object go
    print(f"tickforge_demo: OK ticks={stats.ticks} alerts={len(alerts)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TickforgeError as e:
        sys.exit(f"tickforge_demo: {e}")
