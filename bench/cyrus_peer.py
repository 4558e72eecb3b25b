"""The Cyrus IMAP 3.6 peer's side of the benchmarks (bench_dav.sh, bench_scale.sh; the peer
itself is ../shared/peers/cyrus, started by bench/cyrus_peer.sh): its env file, a server's
CPU time (jmapd's process, or Cyrus's master with the httpd processes it forks), and its
bulk import of an iCalendar file, which is the fastest way Cyrus takes events (a POST of
an iCalendar stream to a calendar collection stores one resource per UID; measured
2026-12-07 on 500 events each, Cyrus's CPU per event: 7.7 ms by a POST of 500, 10.8 ms
by JMAP CalendarEvent/set of 100 a call, 24.3 ms by CalDAV PUTs two at a time).

Also a command: cyrus_peer.py load ICS SIZE BOUND_S RESULTS (see load_main)."""
import json
import os
import re
import sys
import time

CAP = "https://cyrusimap.org/ns/jmap/calendars"  # Cyrus 3.6's private capability


def env():
    """The peer's peer.env (CYRUS_PEER_DIR, as setup.sh writes it) as a dict."""
    path = os.path.join(os.environ.get("CYRUS_PEER_DIR", "/var/lib/cyrus-peer"), "peer.env")
    with open(path) as f:
        return dict(line.strip().split("=", 1) for line in f if "=" in line)


def master():
    """"tree:PID" of the peer's master process (for cpu_s), or None."""
    path = os.path.join(os.environ.get("CYRUS_PEER_DIR", "/var/lib/cyrus-peer"), "run",
                        "master.pid")
    return f"tree:{open(path).read().strip()}" if os.path.exists(path) else None


def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def on_cpu_s(pid):
    """Seconds pid's threads have run, to the nanosecond (/proc/PID/task/*/schedstat,
    field 1): a request of a few ms is below the clock tick /proc/PID/stat counts in."""
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            continue
    return total / 1e9


def cpu_s(pid):
    """The CPU seconds of a process (on_cpu_s); for "tree:PID" of it and of its children
    (Cyrus's master forks the httpd processes), with the children it reaped (their
    utime and stime in its /proc/PID/stat fields 16, 17, in clock ticks)."""
    if not str(pid).startswith("tree:"):
        return on_cpu_s(pid)
    root, total = int(pid[5:]), 0.0
    for p in os.listdir("/proc"):
        try:
            f = stat(p) if p.isdigit() else None
            if f and (int(p) == root or int(f[1]) == root):
                total += on_cpu_s(p)
                if int(p) == root:
                    total += (int(f[13]) + int(f[14])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return total


def chunks(path, size=500):
    """The events of an iCalendar file as bodies of size events each, every one with all
    the file's VTIMEZONEs (Cyrus reads a TZID's rules from them)."""
    with open(path, newline="") as f:
        text = f.read()
    comps = re.findall(r"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", text, re.S)
    zones = "".join(re.findall(r"BEGIN:VTIMEZONE\r\n.*?END:VTIMEZONE\r\n", text, re.S))
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n" + zones
    for i in range(0, len(comps), size):
        yield len(comps[i:i + size]), (head + "".join(comps[i:i + size])
                                       + "END:VCALENDAR\r\n").encode()


def load(s, url, path, deadline=None, progress=None):
    """Loads the events of path into the calendar collection url with Cyrus's bulk
    import, 500 events a POST, until deadline (time.monotonic()); returns how many it
    loaded. progress(n) is called after each POST."""
    n = 0
    for k, body in chunks(path):
        if deadline is not None and time.monotonic() > deadline:
            break
        r = s.post(url, data=body, headers={"Content-Type": "text/calendar"})
        assert r.status_code == 207, (r.status_code, r.text[:300])
        assert "200 OK" in r.text and "HTTP/1.1 4" not in r.text, r.text[:500]
        n += k
        if progress:
            progress(n)
    return n


def indexing():
    """True while the rolling squatter has sync-log entries left to index (it renames
    conf/sync/squatter/log to log-run and removes that when done): Cyrus's text
    filters answer from its Xapian index, which lags the writes."""
    d = os.path.join(os.environ.get("CYRUS_PEER_DIR", "/var/lib/cyrus-peer"), "conf", "sync",
                     "squatter")
    return any(os.path.exists(os.path.join(d, f)) for f in ("log", "log-run"))


def load_main(ics, size, bound, results):
    """Loads ics (size events) into the peer's Default calendar within bound seconds,
    then waits, within the same bound, until the text index has caught up. Appends
    {"kind": "cyrus-load", ...} to results (seconds, the peer's CPU seconds, how many
    loaded, the rate) and exits 0 when all of it finished in time, 3 when not."""
    import requests
    peer = env()
    s = requests.Session()
    s.auth = (peer["CYRUS_PEER_USER"], peer["CYRUS_PEER_PASS"])
    url = peer["CYRUS_PEER_CALDAV"] + "Default/"
    pid = master()
    c0, t0 = cpu_s(pid), time.monotonic()
    deadline = t0 + bound
    last = [t0]

    def progress(n):
        if time.monotonic() - last[0] >= 60:
            last[0] = time.monotonic()
            print(f"  Cyrus: {n} of {size} events loaded in {last[0] - t0:.0f} s "
                  f"({n / (last[0] - t0):.0f}/s)", flush=True)
    n = load(s, url, ics, deadline, progress)
    loaded = time.monotonic() - t0
    while n == size and indexing() and time.monotonic() < deadline:
        time.sleep(1)
    fig = {"kind": "cyrus-load", "size": size, "loaded": n, "load_s": loaded,
           "import_s": time.monotonic() - t0, "import_cpu_s": cpu_s(pid) - c0,
           "indexed": not indexing()}
    fig["rate_per_s"] = n / loaded
    with open(results, "a") as f:
        f.write(json.dumps(fig) + "\n")
    done = n == size and fig["indexed"]
    print(f"  Cyrus: {n} of {size} events loaded in {loaded:.0f} s ({fig['rate_per_s']:.0f}/s, "
          f"bulk POST of 500), text index " + ("caught up" if fig["indexed"] else "behind")
          + f" at {fig['import_s']:.0f} s; the peer's CPU {fig['import_cpu_s']:.0f} s"
          + ("" if done else f": not done within CYRUS_BOUND={bound:.0f} s, queries skipped"),
          flush=True)
    sys.exit(0 if done else 3)


if __name__ == "__main__" and sys.argv[1:2] == ["load"]:
    load_main(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
