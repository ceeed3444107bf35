#!/usr/bin/env python3
"""The engine's latency with dashboard clients connected against none, and the server's memory per client,
side by side in one session on this machine (figures for BENCHMARKS.md).

Each round runs the default paced synthetic feed (100 k ticks/s, 8 tickers; feed CPU 0, engine CPU 1) with
--http on for 8 s and 0, 50 or 100 event-stream clients connected from this script (one selector thread
reading them all, as browsers elsewhere would; every client gets ≤ 10 events a second). The variants
alternate within each round so that every one sees the same machine. Reported: the engine's ingest →
processed and ingest → alert callback p50/p99 (the run's summary JSON), the events each client received,
and the server process's resident memory with the clients connected against before them.

Usage: scripts/bench-http.py [BUILD_DIR]   (default build/; Release). ROUNDS=5 by default; PIN=1 puts the
server thread (--http-cpu 0) and the clients on the feed's CPU, leaving CPU 1 to the shard alone.
Speed targets live here and in BENCHMARKS.md, never in test assertions.
"""
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import cpu, proc_status, read_events  # scripts/, the script's own folder

ROUNDS = int(os.environ.get("ROUNDS", "5"))
# PIN=1: the server thread and this script's clients on CPU 0 with the feed, the shard alone on CPU 1.
PIN = os.environ.get("PIN") == "1"
SECONDS = 8
VARIANTS = (0, 50, 100)


def read_streams(socks, until, counts):
    if PIN:
        os.sched_setaffinity(0, {0})  # this thread only (Linux: 0 = the calling thread)

    def on_event(i, block, _now):
        if b"data: " in block:
            counts[i] += 1
    read_events(socks, until, on_event)


def one_run(binary, clients, workdir, name):
    summary = os.path.join(workdir, name + ".json")
    p = subprocess.Popen([binary, "run", "--http", "127.0.0.1:0", "--duration", str(SECONDS), "--feed-cpu", "0",
                          "--engine-cpu", "1", "--print-alerts", "0", "--publish-alerts", "false",
                          "--summary-json", summary] + (["--http-cpu", "0"] if PIN else []), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = None
    for line in p.stderr:
        m = re.search(r"dashboard: http://127\.0\.0\.1:(\d+)/", line)
        if m:
            port = int(m.group(1))
            break
    if port is None:
        sys.exit(f"{name}: no dashboard line")
    threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
    time.sleep(0.5)  # a benchmark phase: let the run settle before the clients come
    before = proc_status(p.pid, "VmRSS")
    socks = []
    for _ in range(clients):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"GET /api/stream?ticker=AAPL HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(s)
    counts = [0] * clients
    until = time.monotonic() + SECONDS - 2
    reader = threading.Thread(target=read_streams, args=(socks, until, counts))
    reader.start()
    time.sleep(2)
    with_clients = proc_status(p.pid, "VmRSS")
    reader.join()
    for s in socks:
        s.close()
    p.wait(timeout=120)
    if p.returncode != 0:
        sys.exit(f"{name}: exit {p.returncode}")
    with open(summary) as f:
        s = json.load(f)
    return s, before, with_clients, counts


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    binary = os.path.abspath(os.path.join(build, "tickforge"))
    print(f"# {cpu()}, {os.cpu_count()} CPUs; {ROUNDS} rounds of {SECONDS} s, variants interleaved"
          f"{'; server thread and clients on CPU 0 with the feed (PIN=1)' if PIN else ''}")
    lat = {v: {"p50": [], "p99": [], "a50": [], "a99": []} for v in VARIANTS}
    per_client = []
    with tempfile.TemporaryDirectory() as work:
        for r in range(ROUNDS):
            for v in VARIANTS:
                s, before, during, counts = one_run(binary, v, work, f"r{r}-c{v}")
                e = s["engine"]
                lat[v]["p50"].append(e["process_latency"]["p50_ns"])
                lat[v]["p99"].append(e["process_latency"]["p99_ns"])
                lat[v]["a50"].append(e["alert_latency"]["p50_ns"])
                lat[v]["a99"].append(e["alert_latency"]["p99_ns"])
                extra = ""
                if v:
                    per_client.append((during - before) / v)
                    extra = (f"; events per client {min(counts)}–{max(counts)} in {SECONDS - 2} s; RSS {before} → "
                             f"{during} KiB ({(during - before) / v:.1f} KiB per client)")
                print(f"  round {r} {v:3} clients: processed p50 {e['process_latency']['p50_ns']} ns p99 "
                      f"{e['process_latency']['p99_ns']} ns; alert p50 {e['alert_latency']['p50_ns']} ns p99 "
                      f"{e['alert_latency']['p99_ns']} ns{extra}")
    for v in VARIANTS:
        m = {k: statistics.median(x) for k, x in lat[v].items()}
        print(f"  median {v:3} clients: processed p50 {m['p50']:.0f} ns, p99 {m['p99']:.0f} ns; alert callback p50 "
              f"{m['a50']:.0f} ns, p99 {m['a99']:.0f} ns")
    base = statistics.median(lat[0]["a50"])
    for v in VARIANTS[1:]:
        print(f"  alert p50 ratio {v} clients / none: {statistics.median(lat[v]['a50']) / base:.2f}")
    print(f"  server memory per client: median {statistics.median(per_client):.1f} KiB (RSS with the clients "
          f"connected minus before, ÷ clients)")


if __name__ == "__main__":
    main()
