#!/usr/bin/env python3
"""MoldUDP64 over loopback for BENCHMARKS.md, variants side by side in one session on this machine.

A generated ITCH 5.0 day (tickforge-itch-gen, 10 M messages, 500 stocks) is sent by `tickforge itch-serve`
to `tickforge run --feed moldudp64:127.0.0.1:PORT` (feed thread on CPU 0, engine on CPU 1; the server
is not pinned, so three busy threads share two cores), rounds alternating between the variants:

  - as fast as the server sends, no loss;
  - as fast, 1 % of the packets not sent the first time (seeded), recovered by retransmission requests;
  - the same with --moldudp64-gap-wait 0 (a gap is asked for at once: the fill latency is the round trip);
  - paced at 5 M messages/s with 1 % loss (the fill latency without an overloaded machine).

Each run must deliver every message in sequence (none given up); the figures are the feed's own: messages
over the time from its first datagram to its last ("received over"), and the gap-fill latency from a
gap being seen to its last message arriving (median and p99 of the run's gaps). Medians over the rounds.

Usage: scripts/bench-moldudp64.py [BUILD_DIR]   (default build/; Release). ROUNDS=3 by default,
MESSAGES=10000000.
Speed targets live here and in BENCHMARKS.md, never in test assertions.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from benchlib import cpu  # scripts/, the script's own folder

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from moldudp64_check import live  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "3"))
MESSAGES = int(os.environ.get("MESSAGES", "10000000"))
VARIANTS = [
    ("no loss", [], []),
    ("1% loss", ["--serve-loss", "0.01"], []),
    ("1% loss, gap-wait 0", ["--serve-loss", "0.01"], ["--moldudp64-gap-wait", "0"]),
    ("1% loss, paced 5 M/s", ["--serve-loss", "0.01", "--serve-rate", "5000000"], []),
]


def one_run(binary, day, total, work, name, serve_args, feed_args):
    err, feed, _, serr, rc = live(binary, day, work, name, ["--feed-cpu", "0", "--engine-cpu", "1", *feed_args],
                                  serve_args, metrics=False)
    if rc != 0:
        sys.exit(f"{name}: feed exit {rc}\n{err}\n{serr}")
    c = feed["counts"]
    if c.get("mold_messages") != total or c.get("messages_lost", 0) != 0:
        sys.exit(f"{name}: {c.get('mold_messages')} messages delivered, {c.get('messages_lost')} lost\n{err}")
    rate = re.search(r"received over ([\d.]+) ms: ([\d.]+) M messages/s", err)
    fill = re.search(r"gap fill latency \((\d+) gaps\): median ([\d.]+) us, p99 ([\d.]+) us", err)
    return {"rate": float(rate.group(2)), "gaps": int(fill.group(1)) if fill else 0,
            "median_us": float(fill.group(2)) if fill else None, "p99_us": float(fill.group(3)) if fill else None,
            "requests": c.get("requests", 0), "window_full": c.get("window_full", 0)}


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    binary = os.path.abspath(os.path.join(build, "tickforge"))
    gen = os.path.abspath(os.path.join(build, "perf", "tickforge-itch-gen"))
    work = tempfile.mkdtemp(prefix="tf-bench-mold-")
    try:
        day = os.path.join(work, "gen20240103.itch")  # the name carries the session date
        g = subprocess.run([gen, "--out", day, "--messages", str(MESSAGES), "--stocks", "500"], check=True,
                           capture_output=True, text=True)
        total = int(re.search(r": (\d+) messages", g.stdout + g.stderr).group(1))
        print(f"# {cpu()}, {os.cpu_count()} CPUs; {total:,} messages of a generated day over loopback")
        results = {v[0]: [] for v in VARIANTS}
        for r in range(ROUNDS):
            for name, serve_args, feed_args in VARIANTS:
                x = one_run(binary, day, total, work, f"{r}-{len(results[name])}", serve_args, feed_args)
                results[name].append(x)
                fill = (f"; {x['gaps']} gaps, fill median {x['median_us']:.0f} us, p99 {x['p99_us']:.0f} us, "
                        f"{x['requests']} requests" if x["gaps"] else "")
                print(f"  round {r} {name:22}: {x['rate']:.2f} M messages/s{fill}"
                      f"{'; window full ' + str(x['window_full']) if x['window_full'] else ''}")
        print("== medians")
        base = statistics.median(x["rate"] for x in results["no loss"])
        for name, xs in results.items():
            rate = statistics.median(x["rate"] for x in xs)
            line = f"  {name:22}: {rate:.2f} M messages/s ({rate / base:.2f}× no loss)"
            fills = [x for x in xs if x["gaps"]]
            if fills:
                line += (f", gap fill median {statistics.median(x['median_us'] for x in fills):.0f} us, "
                         f"p99 {statistics.median(x['p99_us'] for x in fills):.0f} us")
            print(line)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
