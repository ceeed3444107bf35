#!/usr/bin/env python3
"""The dashboard's HTTP library chosen by measurement: the same event stream (one ~1.2 KB event every 100 ms
per client, conflated) served by our Beast server and by cpp-httplib 0.11 (Debian's libcpp-httplib-dev),
both in bench_http_servers, side by side in one run on this machine (figures for BENCHMARKS.md).

Variants, interleaved within each round so that every one sees the same machine:
  beast              our server (web/http_server.cpp): one thread, epoll
  httplib-sized      cpp-httplib with its pool sized to the clients + 4 (one blocked pool thread per stream)
  httplib-default    cpp-httplib with its default pool (max(8, CPUs - 1) threads)
each with no client and with CLIENTS open event streams, read by one selector thread here. Reported per
variant (medians over the rounds): the server's threads, its resident memory per client (with the
clients against before them), its CPU time per event sent, the events each client got per second (the
fewest and the median: a client with none starved), how late the events arrived (receipt − the time
stamped into the event, median and p99; the same client code reads both servers), all after the first
second of reading, and how long connecting the clients one after another took (a listen backlog shows).

Usage: scripts/bench-http-libs.py [BUILD_DIR]   (default build/; Release). ROUNDS=5, CLIENTS=100 by default.
QUICK=1 (the test command, ctest bench_http_servers.quick): one round of 5 clients for 2 s, and it fails
unless every client of every variant got events: the benchmark works, its speed is never asserted.
"""
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

from benchlib import cpu, proc_status, read_events  # scripts/, the script's own folder

QUICK = os.environ.get("QUICK") == "1"
ROUNDS = 1 if QUICK else int(os.environ.get("ROUNDS", "5"))
CLIENTS = 5 if QUICK else int(os.environ.get("CLIENTS", "100"))
SECONDS = 2 if QUICK else 6
SETTLE = 1  # seconds read and not counted once the clients are connected
TICKS = os.sysconf("SC_CLK_TCK")
VARIANTS = {
    "beast": ["beast"],
    "httplib-sized": ["httplib", "--pool", str(CLIENTS + 4)],
    "httplib-default": ["httplib"],
}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def read_streams(socks, settle, until, counts, delays):
    def on_event(i, block, now):
        at = block.find(b'data: {"t":')
        if at >= 0 and time.monotonic() >= settle:  # what queued while the clients connected is not counted
            counts[i] += 1
            delays.append((now - int(block[at + 11:block.index(b",", at)])) / 1e6)
    read_events(socks, until, on_event)


def one_run(binary, args, clients):
    p = subprocess.Popen([binary] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()  # readiness: the server prints its port once it listens
        if not line.startswith("listening "):
            sys.exit(f"{args[0]}: no 'listening' line ({line!r})")
        port = int(line.split()[1])
        before = proc_status(p.pid, "VmRSS")
        c0 = time.monotonic()
        socks = []
        for _ in range(clients):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        connect_s = time.monotonic() - c0
        counts = [0] * clients
        delays = []
        reader = threading.Thread(target=read_streams, args=(socks, time.monotonic() + SETTLE,
                                                             time.monotonic() + SETTLE + SECONDS, counts, delays))
        reader.start()
        time.sleep(SETTLE)  # a benchmark phase: the backlog of the connect burst read and not counted
        cpu0 = cpu_seconds(p.pid)
        t0 = time.monotonic()
        time.sleep(SECONDS / 2)  # memory read with every client connected and served
        during = proc_status(p.pid, "VmRSS")
        threads = proc_status(p.pid, "Threads")
        reader.join()
        cpu1 = cpu_seconds(p.pid)
        elapsed = time.monotonic() - t0
        for s in socks:
            s.close()
    finally:
        p.stdin.close()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return {
        "threads": threads,
        "connect_s": connect_s,
        "kib_per_client": (during - before) / clients if clients else 0.0,
        "rss_kib": during,
        "cpu_us_per_event": (cpu1 - cpu0) * 1e6 / max(1, sum(counts)),
        "cpu_pct": (cpu1 - cpu0) * 100 / elapsed,
        "min_rate": min(counts) / elapsed if counts else 0.0,
        "median_rate": statistics.median(counts) / elapsed if counts else 0.0,
        "starved": sum(1 for c in counts if c == 0),
        "delay_p50_ms": statistics.median(delays) if delays else float("nan"),
        "delay_p99_ms": statistics.quantiles(delays, n=100)[98] if len(delays) >= 100 else (max(delays) if delays else float("nan")),
    }


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    binary = os.path.abspath(os.path.join(build, "bench", "bench_http_servers"))
    print(f"# {cpu()}, {os.cpu_count()} CPUs; {ROUNDS} rounds of {SECONDS} s, {CLIENTS} clients, variants interleaved")
    results = {(v, c): [] for v in VARIANTS for c in (0, CLIENTS)}
    for _ in range(ROUNDS):
        for v, args in VARIANTS.items():
            for c in (0, CLIENTS):
                results[(v, c)].append(one_run(binary, args, c))
    print(f"{'server':<16} {'clients':>7} {'threads':>7} {'RSS KiB':>8} {'KiB/client':>10} {'CPU %':>6} "
          f"{'µs CPU/event':>12} {'connect s':>9} {'events/s min':>12} {'median':>6} {'starved':>7} {'late p50 ms':>11} {'p99 ms':>7}")
    failed = []
    for (v, c), runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{v:<16} {c:>7} {med['threads']:>7.0f} {med['rss_kib']:>8.0f} {med['kib_per_client']:>10.1f} "
              f"{med['cpu_pct']:>6.1f} {med['cpu_us_per_event']:>12.1f} {med['connect_s']:>9.2f} {med['min_rate']:>12.1f} "
              f"{med['median_rate']:>6.1f} {med['starved']:>7.0f} {med['delay_p50_ms']:>11.2f} {med['delay_p99_ms']:>7.2f}")
        if QUICK and c and any(r["starved"] for r in runs):
            failed.append(v)
    if failed:
        sys.exit(f"bench-http-libs: clients got no event from {', '.join(failed)}")


if __name__ == "__main__":
    main()
