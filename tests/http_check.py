#!/usr/bin/python3
"""The dashboard's HTTP server through the binary: `tickforge run --http 127.0.0.1:0` on the synthetic feed.

  * /metrics parsed by Prometheus' own text parser (Debian's python3-prometheus-client): the families,
    counters that never go down between two scrapes, histograms whose +Inf bucket equals their count and
    whose buckets never go down, no per-ticker label;
  * the JSON API: tickers, one ticker's snapshot and history, alerts after a cursor, the stats;
  * bad input: unknown routes 404, bad query values 400, POST 405, garbage and oversized headers 400,
    a path that tries the file system 404;
  * event streams: 20 clients each get events at most 10 a second, newest state, while one client that
    never reads stalls nobody; beyond http-max-clients a connection gets 503;
  * the token: beyond loopback it is required (exit 2 without), requests without it get 401, with it
    (header or query) 200, and it is never printed;
  * SIGTERM: exit 0, the summary JSON counts the requests.

Usage: http_check.py TICKFORGE_BINARY   (waits for printed lines and answering ports, never a fixed sleep)
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "t0k3n-Http-Secret"


RUNS = []  # every tickforge started: killed when a check fails, so none is left running


def fail(msg):
    for r in RUNS:
        if r.p.poll() is None:
            r.p.kill()
    sys.exit("FAIL " + msg)


class Run:
    """tickforge run in the background; the dashboard's URL read from its start-up line."""

    def __init__(self, binary, args, env=None):
        self.summary = tempfile.mktemp(suffix=".json")
        self.p = subprocess.Popen([binary, "run", "--print-alerts", "0", "--publish-alerts", "false", "--duration", "0",
                                   "--summary-json", self.summary] + args,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        RUNS.append(self)
        self.err_lines = []
        self.url = None
        deadline = time.monotonic() + 120  # sanitizer builds start slowly
        while time.monotonic() < deadline:
            line = self.p.stderr.readline()
            if not line:
                fail(f"tickforge exited before its dashboard line: {''.join(self.err_lines)}")
            self.err_lines.append(line)
            m = re.search(r"dashboard: (http://[0-9.:\[\]]+/)", line)
            if m:
                self.url = m.group(1)
                break
        if self.url is None:
            fail("no dashboard line within 120 s")
        self.rest = threading.Thread(target=self._drain, daemon=True)
        self.rest.start()
        self.host, self.port = re.match(r"http://([0-9.]+):(\d+)/", self.url).groups()
        self.port = int(self.port)

    def _drain(self):
        for line in self.p.stderr:
            self.err_lines.append(line)

    def stop(self):
        # stderr is the drain thread's alone (communicate() would race it for the summary lines).
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=120)
        self.rest.join(timeout=60)
        out = self.p.stdout.read()
        return self.p.returncode, out, "".join(self.err_lines)


def get(url, headers=None, timeout=30):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def get_json(url, **kw):
    status, ctype, body = get(url, **kw)
    if status != 200 or "application/json" not in ctype:
        fail(f"{url}: {status} {ctype} {body[:200]}")
    return json.loads(body)


def raw(host, port, data, timeout=30):
    """Sends bytes, returns everything the server sends before it closes."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                c = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not c:
                break
            chunks.append(c)
        return b"".join(chunks).decode(errors="replace")


def wait_for(what, predicate, timeout=60, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(interval)  # polling a condition, not waiting a fixed time
    fail(f"timed out waiting for {what}")


def first_ticker(run):
    return wait_for("a ticker", lambda: (lambda t: t[0]["ticker"] if t else None)(get_json(run.url + "api/tickers")["tickers"]))


def scrape(url):
    status, ctype, body = get(url + "metrics")
    if status != 200 or not ctype.startswith("text/plain"):
        fail(f"/metrics: {status} {ctype}")
    fams = {f.name: f for f in text_string_to_metric_families(body)}
    return fams, body


def check_metrics(run):
    fams1, _ = scrape(run.url)
    wait_for("more ticks", lambda: scrape(run.url)[0]["tickforge_ticks"].samples[0].value >
             fams1["tickforge_ticks"].samples[0].value)
    fams2, body = scrape(run.url)
    # prometheus_client names a counter family without its _total suffix.
    for name in ("tickforge_ticks", "tickforge_feed_ticks", "tickforge_dropped", "tickforge_rejected",
                 "tickforge_feed_rejected",
                 "tickforge_alerts", "tickforge_http_requests", "tickforge_process_latency_seconds",
                 "tickforge_alert_latency_seconds", "tickforge_ring_high_water", "tickforge_in_flight_ticks"):
        if name not in fams2:
            fail(f"/metrics has no {name}: {sorted(fams2)}")
    for name, fam in fams1.items():
        if fam.type != "counter":
            continue
        before = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in fam.samples}
        after = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in fams2[name].samples}
        for key, v in before.items():
            if key in after and after[key] < v:
                fail(f"counter {key} went down: {v} -> {after[key]}")
    for name in ("tickforge_process_latency_seconds", "tickforge_alert_latency_seconds"):
        fam = fams2[name]
        if fam.type != "histogram":
            fail(f"{name} is a {fam.type}")
        buckets = [(float(s.labels["le"]), s.value) for s in fam.samples if s.name.endswith("_bucket")]
        count = [s.value for s in fam.samples if s.name.endswith("_count")][0]
        total = [s.value for s in fam.samples if s.name.endswith("_sum")][0]
        inf = [v for le, v in buckets if le == float("inf")]
        if inf != [count] or count <= 0:
            fail(f"{name}: +Inf bucket {inf} vs count {count}")
        values = [v for _, v in sorted(buckets)]
        if values != sorted(values):
            fail(f"{name}: buckets go down: {buckets}")
        if not 0 < total < count * 10:  # seconds: every latency under 10 s
            fail(f"{name}: sum {total} s over {count} samples")
    for fam in fams2.values():
        for s in fam.samples:
            if "ticker" in s.labels or "symbol" in s.labels:
                fail(f"a per-ticker label: {s}")
    files = {s.labels["kind"]: s.value for s in fams2["tickforge_file_records"].samples}
    if files.get("alerts", 0) <= 0:
        fail(f"the alert file's records are not on /metrics while running: {files}")
    ticks = fams2["tickforge_ticks"].samples[0].value
    print(f"ok /metrics: {len(fams2)} families parsed by prometheus_client, counters monotone, histograms "
          f"consistent ({int(count)} alert latencies), {int(ticks)} ticks")
    # promtool, when Debian's prometheus package is installed
    if os.path.exists("/usr/bin/promtool"):
        r = subprocess.run(["/usr/bin/promtool", "check", "metrics"], input=body, capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"promtool check metrics: {r.stdout} {r.stderr}")
        print("ok promtool check metrics")


def check_api(run):
    u = run.url
    index = get_json(u + "api")
    if "/metrics" not in index["endpoints"]:
        fail(f"/api: {index}")
    tickers = wait_for("8 tickers", lambda: (lambda t: t if len(t) == 8 else None)(get_json(u + "api/tickers")["tickers"]))
    for t in tickers:
        if not (t["price"] > 0 and t["ticks"] > 0):
            fail(f"ticker row {t}")
    name = tickers[0]["ticker"]
    one = wait_for("two history points", lambda: (lambda j: j if len(j["history"]) >= 2 else None)(
        get_json(u + "api/ticker/" + name)))
    snap = one["snapshot"]
    if snap["ticker"] != name or len(snap["sma"]) != len(snap["windows"]) or one["summary"]["ticks"] <= 0:
        fail(f"/api/ticker/{name}: {one}")
    times = [p[0] for p in one["history"]]
    if times != sorted(set(times)):
        fail(f"history times not increasing: {times[:20]}")
    if one["history_columns"][:2] != ["t", "price"]:
        fail(f"history columns {one['history_columns']}")
    status, _, body = get(u + "api/ticker/NOPE")
    if status != 404 or "error" not in json.loads(body):
        fail(f"unknown ticker: {status} {body}")
    alerts = wait_for("an alert", lambda: (lambda a: a if a["alerts"] else None)(get_json(u + "api/alerts?since=0")))
    seqs = [a["seq"] for a in alerts["alerts"]]
    if seqs != sorted(seqs) or alerts["last_seq"] < seqs[-1]:
        fail(f"alert seqs {seqs}")
    later = get_json(u + f"api/alerts?since={seqs[-1]}")
    if any(a["seq"] <= seqs[-1] for a in later["alerts"]):
        fail("since= returned alerts at or before the cursor")
    limited = get_json(u + "api/alerts?since=0&limit=1")
    if len(limited["alerts"]) != 1:
        fail(f"limit=1: {limited}")
    for bad in ("since=abc", "since=-1", "limit=0", "limit=1000000", "since=1e3"):
        status, _, body = get(u + "api/alerts?" + bad)
        if status != 400 or "error" not in json.loads(body):
            fail(f"/api/alerts?{bad}: {status} {body}")
    stats = get_json(u + "api/stats")
    if stats["engine"]["ticks"] <= 0:
        fail(f"/api/stats: {stats}")
    status, _, body = get(u + "api/daily/" + name)
    if status != 404:
        fail(f"daily summaries are off: {status}")
    print(f"ok API: {len(tickers)} tickers, {name} snapshot with {len(one['history'])} history points, "
          f"{len(seqs)} alerts after since=0, bad query values 400")


def check_bad_requests(run):
    u = run.url
    for path, ctype_want in (("", "text/html"), ("static/app.js", "text/javascript"), ("static/style.css", "text/css"),
                             ("static/uPlot.iife.min.js", "text/javascript")):
        status, ctype, body = get(u + path)
        if status != 200 or not ctype.startswith(ctype_want) or len(body) < 100:
            fail(f"/{path}: {status} {ctype} {len(body)} bytes")
    for path in ("nothing", "api/tickerz", "../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "api/ticker/",
                 "static/../CMakeLists.txt", "static/%2e%2e/http_server.cpp", "static/", "static/index.html/x",
                 "index.html"):
        status, ctype, body = get(u + path)
        if status != 404 or "application/json" not in ctype:
            fail(f"/{path}: {status} {body}")
    r = raw(run.host, run.port, b"POST /api/tickers HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    if not r.startswith("HTTP/1.1 405"):
        fail(f"POST: {r[:100]}")
    r = raw(run.host, run.port, b"\x16\x03\x01\x02\x00garbage that is not HTTP\r\n\r\n")
    if not r.startswith("HTTP/1.1 400"):
        fail(f"garbage: {r[:100]!r}")
    r = raw(run.host, run.port, b"GET /api HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    if not r.startswith("HTTP/1.1 400"):
        fail(f"a 20 kB header: {r[:100]!r}")
    r = raw(run.host, run.port, b"GET /api HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    if not r.startswith("HTTP/1.1 400"):
        fail(f"a body on GET: {r[:100]!r}")
    # a flood of bad requests from 8 threads while the engine runs
    errors = []

    def flood():
        try:
            for _ in range(50):
                raw(run.host, run.port, b"BREW /coffee HTCPCP/1.0\r\n\r\n")
                get(u + "no/such/page")
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
    threads = [threading.Thread(target=flood) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        fail(f"the flood: {errors[:3]}")
    get_json(u + "api/tickers")  # still serving
    print("ok the page's files served from the binary (/, /static/…); bad requests: 404 for unknown and file-system paths, 405 POST, 400 garbage/oversized/body, "
          "800 bad requests from 8 threads and still serving")


class Stream:
    """A raw event-stream client: counts events and keeps the last one."""

    def __init__(self, host, port, path, read=True):
        self.s = socket.create_connection((host, port), timeout=30)
        if not read:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n".encode())
        self.events = []
        self.times = []
        self.head = ""
        self.closed = False
        if read:
            self.t = threading.Thread(target=self._read, daemon=True)
            self.t.start()

    def _read(self):
        buf = b""
        try:
            while True:
                c = self.s.recv(65536)
                if not c:
                    break
                buf += c
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    text = block.decode()
                    if text.startswith("HTTP/1.1"):
                        self.head, _, text = text.partition("\r\n\r\n")
                    for line in text.splitlines():
                        if line.startswith("data: "):
                            self.events.append(json.loads(line[6:]))
                            self.times.append(time.monotonic())
        except OSError:
            pass
        self.closed = True

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def check_streams(run):
    name = first_ticker(run)
    stuck = Stream(run.host, run.port, "/api/stream?ticker=" + name, read=False)
    clients = [Stream(run.host, run.port, "/api/stream?ticker=" + name) for _ in range(20)]
    wait_for("5 events on every stream", lambda: all(len(c.events) >= 5 for c in clients))
    start = [len(c.events) for c in clients]
    t0 = time.monotonic()
    wait_for("10 more events on every stream", lambda: all(len(c.events) >= s + 10 for c, s in zip(clients, start)))
    elapsed = time.monotonic() - t0
    for c, s in zip(clients, start):
        if "text/event-stream" not in c.head:
            fail(f"stream headers: {c.head}")
        n = len(c.events) - s
        rate = n / max(elapsed, 1e-9)
        if rate > 12:  # at most 10 a second (the tick), with scheduling slack
            fail(f"a stream got {n} events in {elapsed:.2f} s: not conflated")
        e = c.events[-1]
        if e["type"] != "update" or e["ticker"]["snapshot"]["ticker"] != name or not e["tickers"] or not e["engine"]:
            fail(f"event {str(e)[:300]}")
    got_alerts = sum(len(e["alerts"]) for c in clients for e in c.events)
    seqs = [a["seq"] for e in clients[0].events for a in e["alerts"]]
    if seqs != sorted(set(seqs)):
        fail(f"a stream sent an alert twice or out of order: {seqs[:30]}")
    print(f"ok streams: 20 clients, {elapsed:.1f} s for 10 events each (≤ 10/s), newest state, {got_alerts} alerts "
          f"delivered in events, each once per client; a client that never reads stalled nobody")
    for c in clients:
        c.close()
    stuck.close()


def check_slow_client(binary):
    # 1 s: short enough for a test, long enough that the reading client (a Python thread sharing the GIL
    # with the scrapes below, on a loaded sanitizer build) never misses it.
    run = Run(binary, ["--http", "127.0.0.1:0", "--http-write-timeout", "1s"])
    name = first_ticker(run)
    stuck = Stream(run.host, run.port, "/api/stream?ticker=" + name, read=False)
    live = Stream(run.host, run.port, "/api/stream?ticker=" + name)

    def dropped():
        fams, _ = scrape(run.url)
        return fams["tickforge_http_clients_dropped_slow"].samples[0].value >= 1
    wait_for("the stuck client dropped", dropped, timeout=120, interval=0.3)
    before = len(live.events)
    wait_for("the live client still served", lambda: len(live.events) >= before + 5 or live.closed)
    if live.closed:
        fail("the reading client was dropped too")
    stuck.close()
    live.close()
    code, _, err = run.stop()
    if code != 0:
        fail(f"slow-client run: exit {code} {err}")
    s = json.load(open(run.summary))["http"]
    print(f"ok a client that never reads is dropped after http-write-timeout ({s['dropped_slow']} dropped); "
          "the reading one kept its events")


def check_limits_and_token(binary):
    run = Run(binary, ["--http", "127.0.0.1:0", "--http-max-clients", "5"])
    streams = [Stream(run.host, run.port, "/api/stream") for _ in range(5)]
    wait_for("5 open streams", lambda: all(s.events for s in streams))
    r = raw(run.host, run.port, b"GET /api HTTP/1.1\r\nHost: x\r\n\r\n")
    if not r.startswith("HTTP/1.1 503"):
        fail(f"the 6th client: {r[:100]!r}")
    for s in streams:
        s.close()
    wait_for("a free slot", lambda: get(run.url + "api")[0] == 200)
    code, _, err = run.stop()
    if code != 0:
        fail(f"limits run: exit {code} {err}")
    s = json.load(open(run.summary))["http"]
    if s["refused_busy"] < 1:
        fail(f"summary http: {s}")
    print(f"ok http-max-clients 5: the 6th connection got 503 ({s['refused_busy']} refused), served again once freed")

    r = subprocess.run([binary, "run", "--http", "0.0.0.0:0", "--duration", "1", "--publish-alerts", "false"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 2 or "http-token" not in r.stderr:
        fail(f"0.0.0.0 without a token: exit {r.returncode} {r.stderr}")
    env = dict(os.environ, TICKFORGE_HTTP_TOKEN=TOKEN)
    run = Run(binary, ["--http", "0.0.0.0:0"], env=env)
    url = f"http://127.0.0.1:{run.port}/"
    status, _, body = get(url + "api/tickers")
    if status != 401 or TOKEN in body:
        fail(f"no token: {status} {body}")
    status, _, _ = get(url + "api/tickers", headers={"Authorization": "Bearer wrong"})
    if status != 401:
        fail(f"a wrong token: {status}")
    if get(url + "api/tickers", headers={"Authorization": "Bearer " + TOKEN})[0] != 200:
        fail("the token in the header was refused")
    if get(url + "metrics?token=" + TOKEN)[0] != 200:
        fail("the token in the query was refused")
    code, out, err = run.stop()
    if code != 0 or TOKEN in out or TOKEN in err:
        fail(f"token run: exit {code}; printed the token: {TOKEN in out + err}")
    print("ok token: required beyond loopback (exit 2), 401 without or wrong, 200 with (header or ?token=), never printed")


def kafka_rejects(url):
    fams, _ = scrape(url)
    return {s.labels["reason"]: s.value for s in fams["tickforge_feed_rejected"].samples if s.labels["kind"] == "kafka"}


def check_kafka(binary):
    """With the embedded Kafka cluster: the publisher's live counters on /metrics and in the stream's panel;
    bad messages kcat produces to the Kafka feed's topic counted by reason on /metrics while the feed runs."""
    run = Run(binary, ["--http", "127.0.0.1:0", "--publish-alerts", "true", "--feed", "synthetic", "--feed", "kafka:ticks"])
    brokers = next(re.search(r"embedded Kafka cluster at (\S+)", l).group(1) for l in run.err_lines
                   if "embedded Kafka cluster at" in l)
    before = kafka_rejects(run.url)
    if not before or any(before.values()):
        fail(f"the Kafka feed's rejects before any message: {before}")
    bad = ['{"ticker":"AAPL","price":-3,"timestamp":"2023-06-01 16:00:00"}', "not json at all", "{\"ticker\":",
           '{"ticker":"MSFT","price":1.5}']
    subprocess.run(["kcat", "-P", "-b", brokers, "-t", "ticks"], input="\n".join(bad) + "\n", text=True, check=True,
                   timeout=60)
    want = {"bad_price": 1, "invalid_json": 2, "missing_timestamp": 1}
    wait_for(f"the Kafka feed's rejects {want} on /metrics while it runs",
             lambda: all(kafka_rejects(run.url).get(k) == v for k, v in want.items()))
    got = kafka_rejects(run.url)
    if sum(got.values()) != len(bad):
        fail(f"the Kafka feed's rejects: {got}")

    def delivered():
        fams, _ = scrape(run.url)
        if "tickforge_kafka_delivered" not in fams:
            fail(f"no Kafka counters on /metrics: {sorted(fams)}")
        return {s.labels["stream"]: s.value for s in fams["tickforge_kafka_delivered"].samples}.get("alerts", 0) > 0
    wait_for("alerts delivered to Kafka, on /metrics", delivered)
    stream = Stream(run.host, run.port, "/api/stream")
    wait_for("the panel's Kafka health", lambda: any(e["engine"] and e["engine"]["kafka"] and
                                                    e["engine"]["kafka"]["delivered"] > 0 for e in stream.events))
    stream.close()
    code, _, err = run.stop()
    if code != 0:
        fail(f"Kafka run: exit {code} {err[-2000:]}")
    print("ok Kafka: delivered alerts counted live on /metrics and in the stream's engine panel; bad messages "
          f"counted by reason while the feed runs {got}")


def main():
    binary = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "--kafka":
        check_kafka(binary)
        return
    run = Run(binary, ["--http", "127.0.0.1:0", "--alerts-out", tempfile.mktemp(suffix=".jsonl")])
    try:
        check_metrics(run)
        check_api(run)
        check_bad_requests(run)
        check_streams(run)
    except SystemExit:
        run.p.kill()
        raise
    code, out, err = run.stop()
    if code != 0:
        fail(f"exit {code}: {err}")
    s = json.load(open(run.summary))["http"]
    if s["requests"] < 20 or s["not_found"] < 5 or s["bad_requests"] < 5 or s["events_sent"] < 100:
        fail(f"summary http: {s}")
    if "dashboard http://127.0.0.1" not in err:
        fail(f"no dashboard line in the summary: {err[-2000:]}")
    print(f"ok SIGTERM: exit 0; summary: {s['requests']} requests, {s['bad_requests']} bad, {s['not_found']} not found, "
          f"{s['events_sent']} events")
    check_slow_client(binary)
    check_limits_and_token(binary)


def run_main(fn):
    """Runs a check's main; whatever happens, no tickforge it started is left running."""
    try:
        fn()
    finally:
        for r in RUNS:
            if r.p.poll() is None:
                r.p.kill()


if __name__ == "__main__":
    run_main(main)
