#!/usr/bin/env python3
"""Figures of the outputs for BENCHMARKS.md, side by side in one session on this machine:

  1. rows/s into PostgreSQL through the sink, COPY binary against COPY text, rounds alternating: a paced
     synthetic run whose every tick is a metric row (pg-metrics-interval 0), written into a local
     PostgreSQL 15 server started here (tests/pg_server.py); rows/s = rows copied in committed
     transactions / the time spent in them (the sink's own clock, in the summary JSON)
 1b. the same rows/s with the engine out of the way: a saturated run queues 750,000 rows in a ring large
     enough for all of them, then waits for the sink (no row dropped)
  2. the engine's latency (ingest → processed, ingest → alert callback) of the default paced run, with the
     PostgreSQL sink on against off, and with the file outputs (--metrics-out, every tick, and
     --alerts-out, --daily-out) on against off, rounds interleaved so every variant sees the same machine

Usage: scripts/bench-sinks.py [BUILD_DIR]   (default build/; Release). ROUNDS=3 and LATENCY_ROUNDS=7 by
default; ONLY_LATENCY=1 runs part 2 alone.
Speed targets live here and in BENCHMARKS.md, never in test assertions.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from pg_server import PASSWORD, Server, make_root  # noqa: E402

from benchlib import cpu  # noqa: E402  (scripts/, the script's own folder)

ROUNDS = int(os.environ.get("ROUNDS", "3"))
LATENCY_ROUNDS = int(os.environ.get("LATENCY_ROUNDS", "7"))  # a run has ~300 alerts: their p50 is noisy
COMMON = ["--feed-cpu", "0", "--engine-cpu", "1", "--print-alerts", "0", "--publish-alerts", "false"]


def run(binary, args, workdir, name):
    summary = os.path.join(workdir, name + ".json")
    env = dict(os.environ, PGPASSWORD=PASSWORD)
    r = subprocess.run([binary, "run"] + COMMON + args + ["--summary-json", summary], capture_output=True,
                       text=True, env=env, timeout=900)
    if r.returncode != 0:
        sys.exit(f"{name}: exit {r.returncode}\n{r.stderr}")
    with open(summary) as f:
        return json.load(f)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    binary = os.path.abspath(os.path.join(build, "tickforge"))
    root = make_root("tf-bench-pg-")
    srv = Server(root)
    print(f"# {cpu()}, {os.cpu_count()} CPUs; PostgreSQL at 127.0.0.1:{srv.port} (fsync off)")
    try:
        srv.sql("CREATE DATABASE bench", db="postgres")
        url = srv.url("bench")
        work = os.path.join(root, "work")
        os.makedirs(work)

        if os.environ.get("ONLY_LATENCY"):
            ROWS_ROUNDS = 0
        else:
            ROWS_ROUNDS = ROUNDS
        print("== 1. metric rows/s into PostgreSQL (750,000 ticks at 250 k/s, 64 tickers, one row per tick)")
        rates = {"binary": [], "text": []}
        for r in range(ROWS_ROUNDS):
            for fmt in ("binary", "text"):
                srv.sql("DROP TABLE IF EXISTS alerts, daily_summaries, metrics", db="bench")
                s = run(binary, ["--feed", "synthetic", "--tickers", "64", "--rate", "250000", "--max-ticks", "750000",
                                 "--duration", "0", "--sink", url, "--pg-copy", fmt, "--pg-metrics-interval", "0",
                                 "--pg-buffer", "1000000", "--pg-queue", "65536", "--pg-flush-timeout", "300s"],
                        work, f"rows-{fmt}-{r}")["postgresql"]
                m = s["tables"]["metrics"]
                if m["dropped_queue_full"] or m["lost"]:
                    print(f"  round {r} {fmt}: DROPPED {m['dropped_queue_full']} LOST {m['lost']}")
                rate = m["copied"] / s["write_seconds"]
                rates[fmt].append(rate)
                print(f"  round {r} {fmt:6}: {m['copied']} rows in {s['write_seconds']:.2f} s of transactions "
                      f"({s['transactions']} transactions) = {rate / 1000:.0f} k rows/s")
        for fmt, v in rates.items():
            if v:
                print(f"  median {fmt}: {statistics.median(v) / 1000:.0f} k rows/s")
        if rates["text"]:
            print(f"  binary / text: {statistics.median(rates['binary']) / statistics.median(rates['text']):.2f}")

        print("== 1b. the sink alone: 750,000 rows queued by a saturated run that then waits for the sink")
        alone = {"binary": [], "text": []}
        for r in range(ROWS_ROUNDS):
            for fmt in ("binary", "text"):
                srv.sql("DROP TABLE IF EXISTS alerts, daily_summaries, metrics", db="bench")
                s = run(binary, ["--feed", "synthetic", "--tickers", "64", "--saturate", "true", "--max-ticks", "750000",
                                 "--duration", "0", "--sink", url, "--pg-copy", fmt, "--pg-metrics-interval", "0",
                                 "--pg-buffer", "1000000", "--pg-queue", "1048576", "--pg-flush-timeout", "300s"],
                        work, f"alone-{fmt}-{r}")["postgresql"]
                m = s["tables"]["metrics"]
                if m["dropped_queue_full"] or m["lost"] or m["written"] != 750000:
                    sys.exit(f"round {r} {fmt}: not every row written: {m}")
                rate = m["copied"] / s["write_seconds"]
                alone[fmt].append(rate)
                print(f"  round {r} {fmt:6}: {m['copied']} rows in {s['write_seconds']:.2f} s of transactions = "
                      f"{rate / 1000:.0f} k rows/s")
        for fmt, v in alone.items():
            if v:
                print(f"  median {fmt}: {statistics.median(v) / 1000:.0f} k rows/s")
        if alone["text"]:
            print(f"  binary / text: {statistics.median(alone['binary']) / statistics.median(alone['text']):.2f}")

        print("== 2. latency of the default paced run (100 k ticks/s, 8 tickers, 5 s), outputs on vs off")
        variants = {
            "no outputs": [],
            "postgresql sink": ["--sink", url],
            "alert+daily files": ["--alerts-out", os.path.join(work, "a.jsonl"), "--daily-out", os.path.join(work, "d.csv")],
            "file outputs": ["--metrics-out", os.path.join(work, "m.csv"), "--alerts-out", os.path.join(work, "a.jsonl"),
                             "--daily-out", os.path.join(work, "d.csv")],
        }
        lat = {k: {"p50": [], "p99": [], "a50": [], "a99": []} for k in variants}
        for r in range(LATENCY_ROUNDS):
            for name, extra in variants.items():
                if "--sink" in extra:  # every round writes its rows (the synthetic ticks are the same each run)
                    srv.sql("DROP TABLE IF EXISTS alerts, daily_summaries, metrics", db="bench")
                s = run(binary, ["--duration", "5"] + extra, work, f"lat-{r}")
                e = s["engine"]
                lat[name]["p50"].append(e["process_latency"]["p50_ns"])
                lat[name]["p99"].append(e["process_latency"]["p99_ns"])
                lat[name]["a50"].append(e["alert_latency"]["p50_ns"])
                lat[name]["a99"].append(e["alert_latency"]["p99_ns"])
                drops = ""
                if "postgresql" in s:
                    t = s["postgresql"]["tables"]
                    drops = f"  pg rows written {sum(v['written'] for v in t.values())}, dropped " \
                            f"{sum(v['dropped_queue_full'] for v in t.values())}"
                o = s["outputs"]
                print(f"  round {r} {name:16}: processed p50 {e['process_latency']['p50_ns']} ns p99 "
                      f"{e['process_latency']['p99_ns']} ns; alert p50 {e['alert_latency']['p50_ns']} ns p99 "
                      f"{e['alert_latency']['p99_ns']} ns; metrics rows {o['metrics_written']} (dropped "
                      f"{o['metrics_dropped']}), waits {o['relay_waits']}{drops}")
        for name, v in lat.items():
            print(f"  median {name:16}: processed p50 {statistics.median(v['p50']):.0f} ns, p99 "
                  f"{statistics.median(v['p99']):.0f} ns; alert callback p50 {statistics.median(v['a50']):.0f} ns, "
                  f"p99 {statistics.median(v['a99']):.0f} ns")
    finally:
        srv.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
