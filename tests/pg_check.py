#!/usr/bin/env python3
"""The PostgreSQL sink against a real PostgreSQL 15 server.

Initialises a server in a temporary folder (initdb, pg_ctl; a port of its own on 127.0.0.1, password
authentication over TCP), runs `tickforge run --sink postgresql://…` against it and checks with psql:

  * start-up faults: a refused login, an unreachable server, a table whose columns do not match (clear
    messages, exit 1), an unknown sink scheme (exit 2); the password never appears in any output;
  * every alert and daily summary of a run is in the tables exactly once, equal to the --alerts-out and
    --daily-out files; daily figures computed by SQL from the metrics table (every tick) agree with the
    --daily-out file; binary and text COPY write the same rows;
  * a replay of the same input adds no row;
  * the server stopped and started again during a run: nothing lost, nothing twice;
  * the server gone for good at the end: what could not be written is reported lost, exit 1.

Usage: pg_check.py TICKFORGE_BINARY DATA_CSV

No Kafka: librdkafka does not run under ThreadSanitizer (tests/CMakeLists.txt), so --publish-alerts false.
"""
import csv
import json
import os
import re
import signal
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

from pg_server import PASSWORD, USER, Server, fail, free_port, make_root


def tickforge(binary, args, password=True, timeout=600, check=True):
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    if password:
        env["PGPASSWORD"] = PASSWORD
    r = subprocess.run([binary, "run", "--print-alerts", "0", "--publish-alerts", "false"] + args, capture_output=True, text=True, env=env,
                       timeout=timeout)
    if PASSWORD in r.stdout or PASSWORD in r.stderr:
        fail("the password was printed:\n" + r.stdout + r.stderr)
    if check and r.returncode != 0:
        fail(f"tickforge {' '.join(args)}: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def alerts_file(path):
    keys = set()
    n = 0
    with open(path) as f:
        for line in f:
            a = json.loads(line)
            keys.add((a["ticker"], a["rule"], a["direction"], str(a["event_ns"])))
            n += 1
    return keys, n


def daily_file(path):
    rows = {}
    with open(path, newline="") as f:
        for d in csv.DictReader(f):
            rows[(d["ticker"], d["day"])] = d
    return rows


DAILY_COLS = ["open", "high", "low", "close", "mean", "vwap", "volume", "ticks", "moves_up", "moves_down"]


def check_daily_table(srv, want, db="tickforge_test"):
    got = {}
    for r in srv.sql("SELECT ticker, day, " + ", ".join(DAILY_COLS) + ", partial FROM daily_summaries", db):
        got[(r[0], r[1])] = r[2:]
    if set(got) != set(want):
        fail(f"daily_summaries has {sorted(got)}, the file {sorted(want)}")
    for key, w in want.items():
        g = got[key]
        for i, col in enumerate(DAILY_COLS):
            gv, wv = g[i], w[col]
            if (gv == "") != (wv == ""):
                fail(f"daily {key} {col}: table {gv!r} vs file {wv!r}")
            if gv != "" and float(gv) != float(wv):
                fail(f"daily {key} {col}: table {gv!r} vs file {wv!r}")
        if (g[-1] == "t") != (w["partial"] == "true"):
            fail(f"daily {key} partial: {g[-1]} vs {w['partial']}")


def check_alerts_table(srv, keys, n, db="tickforge_test"):
    rows = srv.sql("SELECT ticker, rule, direction, event_ns FROM alerts", db)
    got = {tuple(r) for r in rows}
    if len(rows) != n or got != keys:
        fail(f"alerts: {len(rows)} rows in the table ({len(got)} distinct), {n} in the file")


def summary(path):
    with open(path) as f:
        return json.load(f)["postgresql"]


def main():
    binary, data = sys.argv[1], os.path.abspath(sys.argv[2])
    root = make_root("tf-pg-")
    srv = Server(root)
    try:
        srv.sql("CREATE DATABASE tickforge_test", db="postgres")
        srv.sql("CREATE DATABASE tickforge_text", db="postgres")
        work = os.path.join(root, "work")
        os.makedirs(work)
        out = lambda name: os.path.join(work, name)
        base = ["--instance-id", "pgtest", "--feed", "csv:" + data, "--daily-time-zone", "America/New_York", "--daily-session", "09:30-16:00",
                "--pg-metrics-interval", "0"]

        # ---- start-up faults ----
        r = tickforge(binary, base + ["--sink", srv.url()], password=False, check=False)
        if r.returncode != 1 or "password" not in r.stderr or "cannot connect" not in r.stderr:
            fail(f"no password: exit {r.returncode}, {r.stderr!r}")
        env_wrong = srv.url().replace(f"{USER}@", f"{USER}:wrong-{PASSWORD[::-1]}@")
        r = tickforge(binary, base + ["--sink", env_wrong], password=False, check=False)
        if r.returncode != 1 or "password authentication failed" not in r.stderr or "wrong-" in r.stderr:
            fail(f"refused login: exit {r.returncode}, {r.stderr!r}")
        r = tickforge(binary, base + ["--sink", f"postgresql://{USER}@127.0.0.1:{free_port()}/x",
                                      "--pg-connect-timeout", "2s"], check=False)
        if r.returncode != 1 or "cannot connect" not in r.stderr:
            fail(f"unreachable: exit {r.returncode}, {r.stderr!r}")
        r = tickforge(binary, base + ["--sink", "mysql://u:" + PASSWORD + "@h/db"], check=False)
        if r.returncode != 2 or "unknown sink" not in r.stderr:
            fail(f"bad scheme: exit {r.returncode}, {r.stderr!r}")
        srv.sql("CREATE SCHEMA wrong; CREATE TABLE wrong.alerts (ticker integer)")
        r = tickforge(binary, base + ["--sink", srv.url() + "?options=-csearch_path%3Dwrong"], check=False)
        if r.returncode != 1 or "table alerts exists but has no column alert_id" not in r.stderr:
            fail(f"wrong table: exit {r.returncode}, {r.stderr!r}")
        pwfile = out("password")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        print("ok start-up faults: refused login, unreachable server, unknown scheme, mismatched table")

        # ---- a run: every row once, equal to the files; SQL over metrics agrees with --daily-out ----
        args = base + ["--sink", srv.url(), "--sink-password-file", pwfile, "--alerts-out", out("a1.jsonl"),
                       "--daily-out", out("d1.csv"), "--summary-json", out("s1.json")]
        r = tickforge(binary, args, password=False)
        keys, n = alerts_file(out("a1.jsonl"))
        want = daily_file(out("d1.csv"))
        check_alerts_table(srv, keys, n)
        check_daily_table(srv, want)
        ticks = int(srv.sql("SELECT count(*) FROM metrics")[0][0])
        if ticks != 2303:
            fail(f"metrics: {ticks} rows, expected one per tick (2303)")
        # The session's daily figures by SQL from the per-tick metrics rows (PostgreSQL's own time zones).
        q = ("SELECT ticker, (event_time AT TIME ZONE 'America/New_York')::date AS d, min(price), max(price), "
             "avg(price), sum(price * volume) / sum(volume), sum(volume), count(*) FROM metrics "
             "WHERE (event_time AT TIME ZONE 'America/New_York')::time >= '09:30' "
             "AND (event_time AT TIME ZONE 'America/New_York')::time < '16:00' GROUP BY 1, 2")
        worst = 0.0
        sql_days = srv.sql(q)
        if len(sql_days) != len(want):
            fail(f"SQL gives {len(sql_days)} days, the file {len(want)}")
        for t, d, lo, hi, mean, vwap, vol, cnt in sql_days:
            w = want[(t, d)]
            for col, v in (("low", lo), ("high", hi), ("mean", mean), ("vwap", vwap), ("volume", vol)):
                rel = abs(float(v) - float(w[col])) / abs(float(w[col]))
                worst = max(worst, rel)
                if rel > 1e-12:
                    fail(f"SQL {t} {d} {col}: {v} vs file {w[col]}")
            if int(cnt) != int(w["ticks"]):
                fail(f"SQL {t} {d} ticks: {cnt} vs {w['ticks']}")
        s1 = summary(out("s1.json"))
        if s1["tables"]["alerts"]["written"] != n or s1["tables"]["daily_summaries"]["lost"] != 0:
            fail(f"summary of run 1: {s1}")
        print(f"ok run: {n} alerts, {len(want)} daily summaries, {ticks} metric rows; SQL over metrics vs "
              f"--daily-out worst relative difference {worst:.3g}")

        # ---- the same input again: no new row ----
        stamp = srv.sql("SELECT max(updated_at) FROM daily_summaries")
        tickforge(binary, args[:-2] + ["--summary-json", out("s2.json")], password=False)
        check_alerts_table(srv, keys, n)
        check_daily_table(srv, want)
        if int(srv.sql("SELECT count(*) FROM metrics")[0][0]) != 2303:
            fail("a replay added metric rows")
        if srv.sql("SELECT max(updated_at) FROM daily_summaries") != stamp:
            fail("a replay rewrote complete daily summaries")
        s2 = summary(out("s2.json"))
        if s2["tables"]["alerts"]["written"] != 0 or s2["tables"]["alerts"]["copied"] != n:
            fail(f"summary of the replay: {s2}")
        # Metric rows go straight into their table until one is already there (the replay's first batch):
        # then that batch is rolled back to its savepoint and merged.
        if s1["direct_conflicts"] != 0 or s1["tables"]["metrics"]["written"] != ticks:
            fail(f"run 1 wrote its metric rows through a merge: {s1}")
        if s2["direct_conflicts"] < 1 or s2["tables"]["metrics"]["written"] != 0 or \
                s2["tables"]["metrics"]["copied"] != ticks:
            fail(f"summary of the replay (metrics): {s2}")
        # Part of the rows gone, the same input again: exactly the missing rows come back.
        gone = int(srv.sql("WITH d AS (DELETE FROM metrics WHERE (event_ns / 60000000000) % 3 = 0 RETURNING 1) "
                           "SELECT count(*) FROM d")[0][0])
        tickforge(binary, args[:-2] + ["--summary-json", out("s3.json")], password=False)
        s3 = summary(out("s3.json"))
        if gone == 0 or s3["tables"]["metrics"]["written"] != gone or \
                int(srv.sql("SELECT count(*) FROM metrics")[0][0]) != ticks:
            fail(f"{gone} metric rows deleted, the replay wrote {s3['tables']['metrics']['written']}")
        print(f"ok replay: {n} alerts copied again, 0 written; tables unchanged; {gone} deleted metric rows "
              "written again, no others")

        # ---- text COPY writes the same rows as binary ----
        tickforge(binary, base + ["--sink", srv.url("tickforge_text"), "--pg-copy", "text"])
        for table, key in (("alerts", "ticker, rule, direction, event_ns"), ("daily_summaries", "ticker, day"),
                           ("metrics", "ticker, event_ns")):
            cols = "*" if table != "alerts" else "ticker, rule, direction, event_ns, price, value, reference, sma_short"
            qq = f"SELECT {cols} FROM {table} ORDER BY {key}"
            a = srv.sql(qq)
            b = srv.sql(qq, db="tickforge_text")
            if table == "daily_summaries":  # updated_at (the last column) is the time of writing
                a = [r[:-1] for r in a]
                b = [r[:-1] for r in b]
            if not a or a != b:
                fail(f"{table}: text COPY differs from binary COPY")
        print("ok text COPY = binary COPY (alerts, daily_summaries, metrics)")

        # ---- the server stopped and started again during a run ----
        srv.sql("DROP TABLE alerts, daily_summaries, metrics")
        synthetic = ["--feed", "synthetic", "--tickers", "8", "--rate", "4000", "--max-ticks", "60000", "--duration",
                     "0", "--synthetic-step", "10s", "--sink", srv.url(), "--pg-flush-interval", "50ms"]
        live = synthetic + ["--alerts-out", out("a3.jsonl"), "--daily-out", out("d3.csv"), "--summary-json",
                            out("s3.json"), "--pg-flush-timeout", "60s"]
        env = dict(os.environ, PGPASSWORD=PASSWORD)
        proc = subprocess.Popen([binary, "run", "--print-alerts", "0", "--publish-alerts", "false"] + live, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.time() + 120
        while True:  # readiness: the sink has committed rows
            if time.time() > deadline or proc.poll() is not None:
                fail("no rows reached the server before the restart")
            tables = srv.sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'alerts'")
            if tables[0][0] == "1" and int(srv.sql("SELECT count(*) FROM alerts")[0][0]) > 0:
                break
            time.sleep(0.05)
        srv.stop()
        time.sleep(1.0)  # the outage itself (the sink retries every 100 ms … 5 s meanwhile)
        srv.start()
        stdout, stderr = proc.communicate(timeout=600)
        if proc.returncode != 0:
            fail(f"run across a restart: exit {proc.returncode}\n{stderr}")
        keys, n = alerts_file(out("a3.jsonl"))
        check_alerts_table(srv, keys, n)
        check_daily_table(srv, daily_file(out("d3.csv")))
        s3 = summary(out("s3.json"))
        if s3["failed_transactions"] + s3["reconnects"] == 0:
            fail(f"the restart was not noticed: {s3}")
        for t in ("alerts", "daily_summaries"):
            if s3["tables"][t]["lost"] != 0 or s3["tables"][t]["dropped_queue_full"] != 0:
                fail(f"rows lost across the restart: {s3}")
        print(f"ok restart mid-run: {n} alerts, {len(daily_file(out('d3.csv')))} daily summaries, each once; "
              f"reconnects {s3['reconnects']}, failed transactions {s3['failed_transactions']}")

        # ---- the sink's health live on the dashboard's /metrics: connected, rows, away, back ----
        srv.sql("TRUNCATE alerts, daily_summaries, metrics")
        dash = ["--feed", "synthetic", "--tickers", "8", "--rate", "4000", "--duration", "0", "--sink", srv.url(),
                "--pg-flush-interval", "50ms", "--http", "127.0.0.1:0", "--summary-json", out("s5.json"),
                "--pg-flush-timeout", "60s"]
        proc = subprocess.Popen([binary, "run", "--print-alerts", "0", "--publish-alerts", "false"] + dash,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        url = None
        for line in proc.stderr:
            m = re.search(r"dashboard: (http://127\.0\.0\.1:\d+/)", line)
            if m:
                url = m.group(1)
                break
        if url is None:
            fail("the dashboard run printed no URL")
        threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()

        def metric(name, labels=""):
            with urllib.request.urlopen(url + "metrics", timeout=30) as r:
                text = r.read().decode()
            m = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", text, re.M)
            return float(m.group(1)) if m else None

        def wait(what, pred):
            deadline = time.time() + 120
            while not pred():
                if time.time() > deadline or proc.poll() is not None:
                    fail(f"/metrics never showed {what}")
                time.sleep(0.05)
        wait("the sink connected with rows written", lambda: metric("tickforge_postgresql_connected") == 1 and
             (metric("tickforge_postgresql_rows_written_total", '{table="metrics"}') or 0) > 0)
        srv.stop()
        wait("the sink away", lambda: metric("tickforge_postgresql_connected") == 0)
        srv.start()
        wait("the sink back", lambda: metric("tickforge_postgresql_connected") == 1 and
             (metric("tickforge_postgresql_reconnects_total") or 0) >= 1)
        proc.send_signal(signal.SIGTERM)
        if proc.wait(timeout=600) != 0:
            fail(f"the dashboard run: exit {proc.returncode}")
        print("ok /metrics shows the sink live: connected with rows written, away while the server is down, "
              "back (reconnects counted) when it returns")

        # ---- the server gone for good: reported lost, exit 1 ----
        srv.sql("TRUNCATE alerts, daily_summaries, metrics")
        gone = synthetic + ["--alerts-out", out("a4.jsonl"), "--summary-json", out("s4.json"), "--pg-flush-timeout", "1s"]
        proc = subprocess.Popen([binary, "run", "--print-alerts", "0", "--publish-alerts", "false"] + gone, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.time() + 120
        while int(srv.sql("SELECT count(*) FROM alerts")[0][0]) == 0:
            if time.time() > deadline or proc.poll() is not None:
                fail("no rows reached the server before it went away")
            time.sleep(0.05)
        srv.stop()
        stdout, stderr = proc.communicate(timeout=600)
        s4 = summary(out("s4.json"))
        lost = s4["tables"]["alerts"]["lost"] + s4["tables"]["daily_summaries"]["lost"]
        if proc.returncode != 1 or lost == 0 or "did not reach PostgreSQL" not in stderr:
            fail(f"server gone: exit {proc.returncode}, {s4}\n{stderr}")
        print(f"ok server gone: exit 1, {lost} alerts and daily summaries reported lost")
    finally:
        srv.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
