"""What the benchmark scripts share."""


def cpu():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def proc_status(pid, key):
    """A figure of /proc/PID/status in its unit (VmRSS in KiB, Threads), 0 when absent."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def read_events(socks, until, on_event):
    """Reads event streams (server-sent events) from `socks` with one selector until time.monotonic() passes
    `until`; calls on_event(i, block, now_ns) for every event block (its lines, without the blank line)
    socket i delivered, now_ns the wall-clock time its bytes arrived."""
    import selectors
    import time
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
    bufs = [b""] * len(socks)
    while time.monotonic() < until:
        for key, _ in sel.select(timeout=0.1):
            i = key.data
            try:
                data = socks[i].recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(socks[i])
                continue
            now = time.time_ns()
            bufs[i] += data
            while b"\n\n" in bufs[i]:
                block, bufs[i] = bufs[i].split(b"\n\n", 1)
                on_event(i, block, now)
