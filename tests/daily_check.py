#!/usr/bin/env python3
"""Daily summaries of real intraday data against an independent computation.

Replays tests/data/lean_aapl_minute_2014-06.csv (AAPL minute bars 2014-06-05/06/09, QuantConnect/Lean,
one tick per bar) through `tickforge run --daily-out`, and recomputes every figure here from the same
file with Python's own time-zone library (zoneinfo over the system tz database) and math.fsum: the
calendar day in the zone, the session cut, open/high/low/close, mean, VWAP, volume, tick count, moves
of at least X % between consecutive ticks of a day, first and last time, and which day is partial
(the last of each ticker: the run ends inside it). Alerts by rule are checked against the alerts file
of the same run, each alert put into its local day here.

Usage: daily_check.py TICKFORGE_BINARY DATA_CSV
Prints the worst relative difference of the real-valued columns; fails on any mismatch.

No Kafka: librdkafka does not run under ThreadSanitizer (tests/CMakeLists.txt), so --publish-alerts false.
"""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

RULES = ["window_move", "tick_change", "volatility", "sma_cross", "volume_spike"]


def parse_time(text):
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def expected(data, zone, session, move_pct):
    tz = ZoneInfo(zone)
    days = {}
    order = []
    with open(data, newline="") as f:
        for row in csv.DictReader(f):
            t = parse_time(row["timestamp"])
            local = t.astimezone(tz)
            if session and not (session[0] <= local.time() < session[1]):
                continue
            key = (row["ticker"], local.date().isoformat())
            if key not in days:
                days[key] = []
                order.append(key)
            days[key].append((t, float(row["price"]), float(row["volume"])))
    out = {}
    last_day = {}
    for key in order:
        ticks = days[key]
        prices = [p for _, p, _ in ticks]
        vols = [v for _, _, v in ticks]
        up = down = 0
        for a, b in zip(prices, prices[1:]):
            change = (b - a) / a * 100.0
            up += change >= move_pct
            down += -change >= move_pct
        vsum = math.fsum(vols)
        out[key] = {
            "open": prices[0], "high": max(prices), "low": min(prices), "close": prices[-1],
            "mean": math.fsum(prices) / len(prices),
            "vwap": math.fsum(p * v for p, v in zip(prices, vols)) / vsum if vsum > 0 else None,
            "volume": vsum, "ticks": len(ticks), "moves_up": up, "moves_down": down,
            "first_time": ticks[0][0], "last_time": ticks[-1][0], "partial": False,
        }
        last_day[key[0]] = key
    for key in last_day.values():
        out[key]["partial"] = True
    return out


def alerts_by_day(path, zone, session):
    tz = ZoneInfo(zone)
    counts = {}
    with open(path) as f:
        for line in f:
            a = json.loads(line)
            local = parse_time(a["event_time"]).astimezone(tz)
            if session and not (session[0] <= local.time() < session[1]):
                continue
            key = (a["ticker"], local.date().isoformat())
            counts.setdefault(key, {r: 0 for r in RULES})[a["rule"]] += 1
    return counts


def run(binary, data, workdir, name, zone, session_text, move_pct, daily_name="daily.csv"):
    daily = os.path.join(workdir, name + "-" + daily_name)
    alerts = os.path.join(workdir, name + "-alerts.jsonl")
    cmd = [binary, "run", "--feed", "csv:" + data, "--daily-out", daily, "--alerts-out", alerts,
           "--print-alerts", "0", "--publish-alerts", "false", "--daily-time-zone", zone, "--daily-move-pct", str(move_pct)]
    if session_text:
        cmd += ["--daily-session", session_text]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        sys.exit(f"FAIL {name}: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
    return daily, alerts


def read_daily(path):
    rows = {}
    if path.endswith(".jsonl"):
        with open(path) as f:
            for line in f:
                d = json.loads(line)
                d.update({"alerts_" + k: v for k, v in d.pop("alerts").items()})
                rows[(d["ticker"], d["day"])] = d
        return rows
    with open(path, newline="") as f:
        for d in csv.DictReader(f):
            rows[(d["ticker"], d["day"])] = d
    return rows


def compare(name, got, want, alerts):
    worst = 0.0
    if set(got) != set(want):
        sys.exit(f"FAIL {name}: days {sorted(got)} != expected {sorted(want)}")
    for key, w in want.items():
        g = got[key]
        for col in ("open", "high", "low", "close", "mean", "vwap", "volume"):
            gv = g[col]
            if w[col] is None:
                if gv not in ("", None):
                    sys.exit(f"FAIL {name} {key} {col}: {gv!r}, expected empty")
                continue
            gv = float(gv)
            rel = abs(gv - w[col]) / abs(w[col]) if w[col] != 0 else abs(gv)
            worst = max(worst, rel)
            if rel > 1e-12:
                sys.exit(f"FAIL {name} {key} {col}: {gv!r} vs {w[col]!r} (relative {rel:.3g})")
        for col in ("ticks", "moves_up", "moves_down"):
            if int(g[col]) != w[col]:
                sys.exit(f"FAIL {name} {key} {col}: {g[col]} vs {w[col]}")
        for col in ("first_time", "last_time"):
            if parse_time(g[col]) != w[col]:
                sys.exit(f"FAIL {name} {key} {col}: {g[col]} vs {w[col].isoformat()}")
        partial = g["partial"] in (True, "true")
        if partial != w["partial"]:
            sys.exit(f"FAIL {name} {key} partial: {g['partial']} vs {w['partial']}")
        want_alerts = alerts.get(key, {r: 0 for r in RULES})
        for r in RULES:
            if int(g["alerts_" + r]) != want_alerts[r]:
                sys.exit(f"FAIL {name} {key} alerts_{r}: {g['alerts_' + r]} vs {want_alerts[r]}")
    return worst


def main():
    binary, data = sys.argv[1], sys.argv[2]
    cases = [
        # name, zone, session, move %, file name
        ("utc-whole-day", "UTC", None, 5.0, "daily.csv"),
        ("new-york-session", "America/New_York", (time(9, 30), time(16, 0)), 0.25, "daily.csv"),
        ("new-york-whole-day-jsonl", "America/New_York", None, 0.25, "daily.jsonl"),
        # Tokyo: the US trading day straddles two local dates.
        ("tokyo", "Asia/Tokyo", None, 0.25, "daily.csv"),
    ]
    worst = 0.0
    with tempfile.TemporaryDirectory() as workdir:
        for name, zone, session, move, fname in cases:
            stext = f"{session[0]:%H:%M}-{session[1]:%H:%M}" if session else None
            daily, alerts = run(binary, data, workdir, name, zone, stext, move, fname)
            want = expected(data, zone, session, move)
            got = read_daily(daily)
            w = compare(name, got, want, alerts_by_day(alerts, zone, session))
            moves = sum(v["moves_up"] + v["moves_down"] for v in want.values())
            print(f"ok {name}: {len(want)} days, {sum(v['ticks'] for v in want.values())} ticks, {moves} moves; "
                  f"worst relative difference {w:.3g}")
            worst = max(worst, w)
    print(f"daily summaries match the independent computation; worst relative difference {worst:.3g}")


if __name__ == "__main__":
    main()
