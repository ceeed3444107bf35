#!/usr/bin/env python3
# ITCH 5.0 over MoldUDP64, end to end through the tickforge binary:
#   * pcap replay (--feed itch-pcap:) of captures this script writes itself (Python's struct: Ethernet,
#     IPv4, UDP and MoldUDP64 built here, not by tickforge): with duplicates, a reordered pair, frames
#     that are not the feed's (ARP, another port, an IP fragment, a malformed packet), the metrics equal
#     the file replay's byte for byte; with a packet missing, the gap is reported with its range and the
#     ticks are those of an independent decoder (tests/itch_reference.py) run on the messages that came;
#   * live MoldUDP64 on loopback (`tickforge itch-serve` → `tickforge run --feed moldudp64:`), unicast and
#     multicast: with injected loss, duplication and reordering the gaps are requested and filled and the
#     metrics equal the file replay's; a lost retransmission is asked for again; a gap the server never
#     answers is given up, reported, and the feed goes on to the end of session (or stops, by policy).
# Readiness: the run's "running:" line before the server starts; the run ends at the end of session.
# Usage: moldudp64_check.py TICKFORGE DATA_DIR
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itch_reference import reference  # noqa: E402

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def messages_of(path):
    """The messages of a BinaryFILE (2-byte big-endian length before each)."""
    d = open(path, "rb").read()
    out, p = [], 0
    while p < len(d):
        n = struct.unpack(">H", d[p:p + 2])[0]
        out.append(d[p + 2:p + 2 + n])
        p += 2 + n
    return out


def mold_packets(msgs, session=b"PCAPTEST01", limit=1400):
    """MoldUDP64 downstream packets of consecutive messages (sequence numbers from 1): (first, count, bytes)."""
    out, i = [], 0
    while i < len(msgs):
        first, body = i + 1, b""
        while i < len(msgs) and 20 + len(body) + 2 + len(msgs[i]) <= limit:
            body += struct.pack(">H", len(msgs[i])) + msgs[i]
            i += 1
        count = i + 1 - first
        out.append((first, count, session + struct.pack(">QH", first, count) + body))
    return out


def ipv4_udp_frame(payload, dport, frag=0, sport=40000):
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, frag, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([233, 54, 12, 111]))
    return b"\x01\x00\x5e\x36\x0c\x6f" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip + udp


def write_pcap(path, frames, t0_ns):
    """A classic pcap file, nanosecond timestamps (magic a1b23c4d), Ethernet; frames 1 µs apart."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
        for k, fr in enumerate(frames):
            t = t0_ns + k * 1000
            f.write(struct.pack("<IIII", t // 10**9, t % 10**9, len(fr), len(fr)) + fr)


def run(binary, *args, timeout=120):
    return subprocess.run([binary, "run", "--publish-alerts", "false", "--print-alerts", "0", *args],
                          capture_output=True, text=True, timeout=timeout)


def free_udp_ports(n):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def live(binary, sample, tmp, name, feed_args, serve_args, group=None, metrics=True):
    """Runs the feed, waits for its readiness line, then the server; returns (run stderr, summary, metrics
    path, server stderr, run rc). metrics=False: no per-tick metrics file (the benchmark's runs)."""
    data_port, request_port = free_udp_ports(2)
    metrics_path = os.path.join(tmp, name + ".csv")
    summary = os.path.join(tmp, name + ".json")
    address = group or "127.0.0.1"
    feed = subprocess.Popen([binary, "run", "--publish-alerts", "false", "--print-alerts", "0",
                             "--feed", f"moldudp64:{address}:{data_port}", "--itch-date", "2010-12-24",
                             *(["--metrics-out", metrics_path] if metrics else []), "--summary-json", summary,
                             *(["--moldudp64-interface", "127.0.0.1"] if group else []),
                             "--moldudp64-request", f"127.0.0.1:{request_port}", *feed_args],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    err = ""
    for line in feed.stderr:  # readiness: the feed's socket is bound before this line
        err += line
        if "running:" in line:
            break
    server = subprocess.Popen([binary, "itch-serve", "--serve-file", sample, "--serve-to", f"{address}:{data_port}",
                               "--serve-requests", f"127.0.0.1:{request_port}", "--serve-linger", "1s",
                               *serve_args], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        rest = feed.stderr.read()
        rc = feed.wait(timeout=120)
        serr = server.communicate(timeout=60)[1]
    finally:
        for p in (feed, server):
            if p.poll() is None:
                p.kill()
    s = json.load(open(summary)) if os.path.exists(summary) else {"feeds": [{"counts": {}, "rejects": {}}]}
    return err + rest, s["feeds"][0], metrics_path, serr, rc


def same_file(a, b):
    return os.path.exists(a) and os.path.exists(b) and open(a, "rb").read() == open(b, "rb").read()


def main():
    binary, data = sys.argv[1], sys.argv[2]
    sample = os.path.join(data, "ex20101224.TEST_ITCH_50.lenfixed")
    msgs = messages_of(sample)
    check(len(msgs) == 12012, f"{len(msgs)} messages in the sample")
    tmp = tempfile.mkdtemp(prefix="tf-mold-")
    try:
        base = os.path.join(tmp, "file.csv")
        r = run(binary, "--feed", "itch:" + sample, "--metrics-out", base)
        check(r.returncode == 0, f"file replay: {r.stderr}")
        packets = mold_packets(msgs)
        t0 = 1_293_201_000 * 10**9  # 2010-12-24 14:30 UTC
        port = 26477

        # 1. A complete capture, untidy: duplicates, a swapped pair, frames that are not the feed's.
        frames = [b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06" + b"\x00" * 28]  # ARP
        order = list(range(len(packets)))
        order[5], order[6] = order[6], order[5]
        for k in order:
            frames.append(ipv4_udp_frame(packets[k][2], port))
            if k == 3:
                frames.append(ipv4_udp_frame(packets[k][2], port))  # a duplicate
            if k == 10:
                frames.append(ipv4_udp_frame(b"noise on another port", port + 1))
                frames.append(ipv4_udp_frame(packets[11][2][:40], port, frag=0x2000))  # a first fragment
                frames.append(ipv4_udp_frame(packets[11][2][:-3], port))  # malformed: its last block cut
        frames.append(ipv4_udp_frame(b"PCAPTEST01" + struct.pack(">QH", len(msgs) + 1, 0xFFFF), port))
        capture = os.path.join(tmp, "session.pcap")
        write_pcap(capture, frames, t0)
        metrics = os.path.join(tmp, "pcap.csv")
        summary = os.path.join(tmp, "pcap.json")
        r = run(binary, "--feed", "itch-pcap:" + capture, "--itch-pcap-port", str(port), "--metrics-out", metrics,
                "--summary-json", summary)
        check(r.returncode == 0, f"pcap replay: {r.returncode} {r.stderr}")
        check(same_file(metrics, base), "the capture's metrics equal the file replay's")
        check("(session 2010-12-24)" in r.stderr, "the session date from the first packet's capture time")
        feed = json.load(open(summary))["feeds"][0]
        c = feed["counts"]
        want = {"mold_messages": 12012, "duplicate_packets": 1, "not_udp": 1, "other_port": 1, "ip_fragments": 1,
                "malformed_packets": 1, "messages_lost": 0, "held_packets": 1, "end_of_session_packets": 1,
                "ticks": 5180, "frames": len(frames)}
        for k, v in want.items():
            check(c.get(k) == v, f"pcap: {k} = {c.get(k)}, expected {v}")
        check(feed["rejects"].get("malformed_packet") == 1, f"pcap rejects {feed['rejects']}")
        print(f"pcap: {len(frames)} frames, metrics identical to the file replay")

        # 2. A packet missing from the capture: reported with its range; the ticks are the reference's on
        # the messages that came (the book misses that packet's orders, as a real feed handler would).
        gone = 40
        first, count, _ = packets[gone]
        frames = [ipv4_udp_frame(p[2], port) for k, p in enumerate(packets) if k != gone]
        write_pcap(capture, frames, t0)
        r = run(binary, "--feed", "itch-pcap:" + capture, "--itch-date", "2010-12-24", "--metrics-out", metrics,
                "--summary-json", summary)
        check(r.returncode == 0, f"pcap with a gap: {r.stderr}")
        check(f"messages given up: [{first}, {first + count})" in r.stderr, f"the gap's range in the report: {r.stderr}")
        feed = json.load(open(summary))["feeds"][0]
        check(feed["counts"].get("messages_lost") == count, f"lost {feed['counts'].get('messages_lost')} != {count}")
        check(feed["rejects"].get("messages_lost") == count, "messages_lost among the rejects")
        kept = os.path.join(tmp, "kept.itch")
        with open(kept, "wb") as f:
            for k, m in enumerate(msgs):
                if not first <= k + 1 < first + count:
                    f.write(struct.pack(">H", len(m)) + m)
        prints, _, _, names = reference(kept)
        rows = [line.split(",") for line in open(metrics).read().splitlines()]
        header, rows = rows[0], rows[1:]
        col = {n: i for i, n in enumerate(header)}
        got = [(x[col["ticker"]], float(x[col["price"]]), float(x[col["volume"]])) for x in rows]
        check(got == [(names[loc], px / 10000, float(sh)) for _, px, sh, _, loc in prints],
              f"ticks after the gap: {len(got)} rows, {len(prints)} reference prints")
        print(f"pcap with packet {gone} missing: {count} messages given up, {len(got)} ticks match the reference")

        # 2b. A capture cut inside a record: the messages before the cut are kept, the end is reported.
        write_pcap(capture, [ipv4_udp_frame(p[2], port) for p in packets], t0)
        cut = 24 + sum(16 + len(ipv4_udp_frame(p[2], port)) for p in packets[:100]) + 16 + 30
        os.truncate(capture, cut)
        r = run(binary, "--feed", "itch-pcap:" + capture, "--itch-date", "2010-12-24", "--summary-json", summary)
        feed = json.load(open(summary))["feeds"][0]
        kept_messages = sum(p[1] for p in packets[:100])
        check(feed["counts"].get("mold_messages") == kept_messages,
              f"cut capture: {feed['counts'].get('mold_messages')} messages, expected {kept_messages}")
        check("cut short or corrupt" in (feed.get("ended_early") or ""), f"cut capture: ended_early {feed.get('ended_early')}")
        check("cut short or corrupt" in r.stderr, f"cut capture reported: {r.stderr[-1500:]}")
        print(f"pcap cut inside packet 100: {kept_messages} messages kept, the cut reported")

        # 3. Live, unicast, 2 % loss, duplication and reordering: every gap filled from the server.
        err, feed, m, serr, rc = live(binary, sample, tmp, "lossy", [],
                                      ["--serve-loss", "0.02", "--serve-duplicate", "0.02", "--serve-reorder", "0.02",
                                       "--serve-seed", "3"])
        c = feed["counts"]
        check(rc == 0 and "(input ended)" in err, f"live: the run ends at the end of session: {rc} {err[-2000:]}")
        check(same_file(m, base), f"live with loss: metrics equal the file replay's\n{err[-3000:]}\n{serr}")
        check(c.get("messages_lost") == 0 and c.get("gaps_filled", 0) >= 1 and c.get("requests", 0) >= 1,
              f"live with loss: {c}")
        check(c.get("duplicate_packets", 0) >= 1, f"duplicates seen: {c}")
        check("gap fill latency" in err, "the gap-fill latency is reported")
        print(f"live, 2 % loss: {c.get('gaps')} gaps, {c.get('requests')} requests, identical metrics")

        # 4. A lost retransmission: the first answer never comes; the request is sent again.
        err, feed, m, serr, rc = live(binary, sample, tmp, "lost_answer", ["--moldudp64-timeout", "20ms"],
                                      ["--serve-loss", "0.02", "--serve-seed", "5", "--serve-drop-answers", "1"])
        c = feed["counts"]
        check(rc == 0 and same_file(m, base), f"lost retransmission: complete anyway: {rc} {err[-2000:]}")
        check(c.get("requests_resent", 0) >= 1 and c.get("messages_lost") == 0, f"lost retransmission: {c}")
        check("1 unanswered" in serr, f"the server dropped one answer: {serr}")
        print(f"live, a lost retransmission: {c.get('requests_resent')} sent again, identical metrics")

        # 5. A server that never answers: gaps given up after the retries, reported, the feed goes on ...
        err, feed, m, serr, rc = live(binary, sample, tmp, "unanswered",
                                      ["--moldudp64-timeout", "5ms", "--moldudp64-retries", "1"],
                                      ["--serve-loss", "0.02", "--serve-seed", "9", "--serve-answer-loss", "1",
                                       "--serve-linger", "200ms"])
        c = feed["counts"]
        check(rc == 0 and "(input ended)" in err, f"unanswered gaps: the feed goes on to the end: {rc} {err[-2000:]}")
        check(c.get("messages_lost", 0) > 0 and c.get("gaps_lost", 0) >= 1, f"unanswered gaps: {c}")
        check("messages given up: [" in err, "the lost ranges are reported")
        check(c.get("mold_messages", 0) + c.get("messages_lost", 0) == 12012, f"delivered + lost = sent: {c}")
        # ... or stops there, by policy.
        err, feed, m, serr, rc = live(binary, sample, tmp, "stop",
                                      ["--moldudp64-timeout", "5ms", "--moldudp64-retries", "0",
                                       "--moldudp64-gap-policy", "stop"],
                                      ["--serve-loss", "0.02", "--serve-seed", "9", "--serve-answer-loss", "1",
                                       "--serve-linger", "200ms"])
        check("--moldudp64-gap-policy is stop" in err and feed["counts"].get("mold_messages", 12012) < 12012,
              f"stop policy: {err[-2000:]}")
        print("live, unanswered gaps: given up and reported; the stop policy ends the feed")

        # 6. Multicast on the loopback interface.
        err, feed, m, serr, rc = live(binary, sample, tmp, "multicast", [], ["--serve-loss", "0.01"], group="239.255.7.7")
        check(rc == 0 and same_file(m, base), f"multicast: {rc} {err[-2000:]} {serr}")
        print("live multicast on loopback: identical metrics")

        # Bad flags: one clear message, exit 2.
        for args, words in ((["--feed", "moldudp64:localhost:80"], "expected moldudp64:ADDR:PORT"),
                            (["--feed", "moldudp64:127.0.0.1:9", "--moldudp64-request", "x"], "expected ADDR:PORT"),
                            (["--feed", "itch-pcap:" + os.path.join(tmp, "none.pcap")], "none.pcap")):
            r = run(binary, *args, timeout=30)
            check(r.returncode != 0 and words in r.stderr, f"{args}: {r.returncode} {r.stderr}")
    finally:
        shutil.rmtree(tmp)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
