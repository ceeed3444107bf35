#!/usr/bin/python3
"""Load on the dashboard's server while the engine runs: 100 event-stream clients for 30 s and, at the
same time, a flood of bad requests from 4 threads.

Checks: no client starves (each one gets events all along: at least 1 a second on average and no gap over
5 s), the flood is answered (400/404/405, none refused or reset), nothing crashes (exit 0 at SIGTERM; the
ASan build runs this too), no client was dropped as slow, and the engine processed ticks throughout. The
engine's latency with and without clients is a benchmark (scripts/bench-http.py), not an assertion here.

Usage: http_load.py TICKFORGE_BINARY [SECONDS] [CLIENTS]
"""
import json
import os
import selectors
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_check import Run, fail, get, get_json, raw, run_main, wait_for  # noqa: E402


def streams(host, port, n, seconds, ticker):
    """n raw stream clients on one selector; returns per client the arrival times of its events."""
    sel = selectors.DefaultSelector()
    clients = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=30)
        s.sendall(f"GET /api/stream?ticker={ticker} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        s.setblocking(False)
        c = {"sock": s, "buf": b"", "times": [], "head": False}
        clients.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            c = key.data
            try:
                data = c["sock"].recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(c["sock"])
                c["closed"] = True
                continue
            c["buf"] += data
            while b"\n\n" in c["buf"]:
                block, c["buf"] = c["buf"].split(b"\n\n", 1)
                if b"data: " in block:
                    c["times"].append(time.monotonic())
    for c in clients:
        c["sock"].close()
    return [c["times"] for c in clients], end - seconds, end


def main():
    binary = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    run = Run(binary, ["--http", "127.0.0.1:0", "--http-max-clients", str(n + 20)])
    ticker = wait_for("a ticker", lambda: (lambda t: t[0]["ticker"] if t else None)(
        get_json(run.url + "api/tickers")["tickers"]))
    ticks0 = get_json(run.url + "api/stats")["engine"]["ticks"]

    stop = threading.Event()
    flood = {"sent": 0, "bad": []}

    def flooder():
        # Each on a connection of its own, closed by the server after its answer (keep-alive ones say close).
        requests = [b"BREW /pot HTCPCP/1.0\r\n\r\n",
                    b"GET /api/alerts?since=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    b"GET /../../etc/shadow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    b"\x00\xff\xfe garbage\r\n\r\n",
                    b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"]
        i = 0
        while not stop.is_set():
            r = raw(run.host, run.port, requests[i % len(requests)])
            if not (r.startswith("HTTP/1.1 400") or r.startswith("HTTP/1.1 404") or r.startswith("HTTP/1.1 405")):
                flood["bad"].append(r[:80])
            flood["sent"] += 1
            i += 1
    threads = [threading.Thread(target=flooder) for _ in range(4)]
    for t in threads:
        t.start()
    times, t0, t1 = streams(run.host, run.port, n, seconds, ticker)
    stop.set()
    for t in threads:
        t.join()
    ticks1 = get_json(run.url + "api/stats")["engine"]["ticks"]
    status, _, _ = get(run.url + "metrics")
    code, _, err = run.stop()
    if code != 0:
        fail(f"exit {code}: {err[-3000:]}")
    if status != 200:
        fail(f"/metrics after the load: {status}")
    worst_rate, worst_gap = 1e9, 0.0
    for i, ts in enumerate(times):
        if len(ts) < 2:
            fail(f"client {i} got {len(ts)} events in {seconds} s")
        gaps = [b - a for a, b in zip([t0] + ts, ts + [t1])]
        rate = len(ts) / seconds
        worst_rate = min(worst_rate, rate)
        worst_gap = max(worst_gap, max(gaps))
    # Starving = a client left without events: every one must get at least one a second on average and
    # never wait 5 s (sanitizer builds render 10× slower; Release gives ~7 a second and 0.2 s gaps).
    if worst_rate < 1 or worst_gap > 5:
        fail(f"a client starved: worst rate {worst_rate:.1f} events/s, worst gap {worst_gap:.2f} s")
    if flood["bad"] or flood["sent"] < 100:
        fail(f"the flood: {flood['sent']} sent, wrong answers {flood['bad'][:3]}")
    if ticks1 <= ticks0:
        fail("the engine stopped processing under the load")
    s = json.load(open(run.summary))["http"]
    if s["dropped_slow"] != 0:
        fail(f"clients dropped as slow: {s}")
    print(f"ok load: {n} streams for {seconds:.0f} s — worst client {worst_rate:.1f} events/s, worst gap "
          f"{worst_gap:.2f} s; {flood['sent']} bad requests answered 400/404/405; {ticks1 - ticks0} ticks "
          f"processed meanwhile; exit 0, none dropped as slow")


if __name__ == "__main__":
    run_main(main)
