#!/usr/bin/env python3
"""`tickforge run --feed itch:FILE` end to end against an independent computation.

Replays the shared ITCH 5.0 sample (tests/data/itch/, artificial stocks ALC, BOB, CHAR on 2010-12-24)
through the binary with --metrics-out and --summary-json, and recomputes here, from the file's bytes
(tests/itch_reference.py, Python's struct module) and Python's own time-zone library (zoneinfo over the
system tz database):
  * every print as a row, in file order: ticker, event time (the session date's New York midnight + the
    ITCH timestamp, in UTC), price (Price(4) / 10^4), shares as volume;
  * per row, the 5-tick SMA (math.fsum) and the 60-second window high and low over [t - 60 s, t];
  * the feed's figures in the summary: messages, prints by kind, live orders, unpriced executions.
Then the session date from --itch-date in summer (EDT: midnight is 04:00 UTC), and the errors a user
meets: a file name without a date, a date that does not exist, an unknown zone, a missing file.

Finally a session written by tickforge-itch-gen, decoded here and replayed there: the same prints.

Usage: itch_feed_check.py TICKFORGE_BINARY ITCH_DATA_DIR TICKFORGE_ITCH_GEN
"""
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itch_reference import reference  # noqa: E402

NY = ZoneInfo("America/New_York")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def midnight_ns(y, m, d):
    return int(datetime(y, m, d, tzinfo=NY).timestamp()) * 1_000_000_000


def run(binary, *args):
    return subprocess.run([binary, "run", "--publish-alerts", "false", "--print-alerts", "0", *args],
                          capture_output=True, text=True, timeout=300)


def rows_of(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main():
    binary, data, generator = sys.argv[1], sys.argv[2], sys.argv[3]
    sample = os.path.join(data, "ex20101224.TEST_ITCH_50.lenfixed")
    prints, counters, orders, names = reference(sample)
    tmp = tempfile.mkdtemp(prefix="tf-itch-")
    try:
        metrics = os.path.join(tmp, "m.csv")
        summary = os.path.join(tmp, "s.json")
        r = run(binary, "--feed", "itch:" + sample, "--metrics-out", metrics, "--summary-json", summary,
                "--alert-window", "60s")
        check(r.returncode == 0, f"replay exit {r.returncode}: {r.stderr}")
        rows = rows_of(metrics)
        check(len(rows) == len(prints), f"{len(rows)} rows for {len(prints)} prints")
        base = midnight_ns(2010, 12, 24)
        check(base == 1_293_166_800 * 10**9, "2010-12-24 New York midnight is 05:00 UTC")
        history = {}
        worst = 0.0
        for row, (ns, px, sh, kind, loc) in zip(rows, prints):
            t = base + ns
            want = (names[loc], t, px / 10000, float(sh))
            got = (row["ticker"], int(row["event_ns"]), float(row["price"]), float(row["volume"]))
            if got != want:
                check(False, f"row {row['seq']}: {got} != {want}")
                break
            h = history.setdefault(names[loc], [])
            h.append((t, px / 10000))
            if len(h) >= 5:
                sma5 = math.fsum(p for _, p in h[-5:]) / 5
                worst = max(worst, abs(float(row["sma5"]) - sma5) / sma5)
            else:
                check(row["sma5"] == "", f"row {row['seq']}: sma5 before 5 ticks")
            window = [p for (u, p) in h if u >= t - 60 * 10**9]
            if float(row["window_high"]) != max(window) or float(row["window_low"]) != min(window):
                check(False, f"row {row['seq']} {names[loc]}: window high/low {row['window_high']}/"
                             f"{row['window_low']} != {max(window)}/{min(window)}")
                break
        check(worst < 1e-12, f"sma5 worst relative difference {worst}")
        feed = json.load(open(summary))["feeds"][0]
        c = feed["counts"]
        kinds = {k: sum(1 for p in prints if p[3] == k) for k in "ECPQ"}
        check(c["messages"] == 12012, f"messages {c['messages']}")
        check(c["stocks"] == len(names), f"stocks {c['stocks']}")
        for k in "ECPQ":
            check(c["prints_" + k.lower()] == kinds[k], f"prints {k}: {c['prints_' + k.lower()]} != {kinds[k]}")
        check(c["adds"] == counters["adds"], "adds")
        check(c["live_orders"] == len(orders), f"live orders {c['live_orders']} != {len(orders)}")
        for k in ("unknown_cancel", "unknown_delete", "unknown_replace"):
            check(c[k] == counters[k], f"{k} {c[k]} != {counters[k]}")
        check(feed["rejects"]["execution_of_unknown_order"] == counters["unknown_execute"], "unpriced executions")
        check(feed["published"] == len(prints), "published")
        check(feed["rejected"] == counters["unknown_execute"], f"rejected {feed['rejected']}")
        check("refused: execution_of_unknown_order 18" in r.stderr, "the text summary says what was refused")
        print(f"{len(rows)} rows match; sma5 worst relative difference {worst:.3g}")

        # No date in the name: --itch-date, in summer (EDT, UTC-4).
        undated = os.path.join(tmp, "session.itch")
        shutil.copy(sample, undated)
        r = run(binary, "--feed", "itch:" + undated)
        check(r.returncode == 2 and "--itch-date YYYY-MM-DD" in r.stderr, f"no date: {r.returncode} {r.stderr}")
        r = run(binary, "--feed", "itch:" + undated, "--itch-date", "2019-07-30", "--metrics-out", metrics)
        check(r.returncode == 0, f"--itch-date: {r.stderr}")
        first = rows_of(metrics)[0]
        check(int(first["event_ns"]) == midnight_ns(2019, 7, 30) + prints[0][0], "summer midnight")
        check(midnight_ns(2019, 7, 30) == 1_564_459_200 * 10**9, "2019-07-30 New York midnight is 04:00 UTC")
        for args, words in ((["--itch-date", "2019-02-29"], "no such date: 2019-02-29"),
                            (["--itch-date", "30.07.2019"], "expected YYYY-MM-DD"),
                            (["--itch-date", "2019-07-30", "--itch-zone", "Mars/Olympus"], "unknown time zone")):
            r = run(binary, "--feed", "itch:" + undated, *args)
            check(r.returncode == 2 and words in r.stderr, f"{args}: {r.returncode} {r.stderr}")
        r = run(binary, "--feed", "itch:" + os.path.join(tmp, "missing20190730.itch"))
        check(r.returncode != 0 and "cannot be opened" in r.stderr, f"missing file: {r.returncode} {r.stderr}")

        # A generated session (tickforge-itch-gen) decoded here and replayed there: the same prints.
        gen = os.path.join(tmp, "gen20240102.itch")
        g = subprocess.run([generator, "--out", gen, "--messages", "40000", "--stocks", "12", "--seed", "7",
                            "--live-orders", "2000"], capture_output=True, text=True, timeout=120)
        check(g.returncode == 0, f"generator: {g.stderr}")
        prints, counters, orders, names = reference(gen)
        unknown = sum(v for k, v in counters.items() if k.startswith("unknown") or k == "over_execute")
        check(unknown == 0, f"the generated file refers only to live orders: {counters}")
        check(len(prints) > 1000, f"{len(prints)} prints in the generated file")
        r = run(binary, "--feed", "itch:" + gen, "--metrics-out", metrics)
        check(r.returncode == 0, f"generated replay: {r.stderr}")
        rows = rows_of(metrics)
        base = midnight_ns(2024, 1, 2)
        got = [(x["ticker"], int(x["event_ns"]), float(x["price"]), float(x["volume"])) for x in rows]
        want = [(names[loc], base + ns, px / 10000, float(sh)) for ns, px, sh, kind, loc in prints]
        check(got == want, f"generated: {len(got)} rows, {len(want)} prints, first difference at "
                           f"{next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))}")
        print(f"generated session: {len(rows)} rows match the independent decoder")
    finally:
        shutil.rmtree(tmp)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
