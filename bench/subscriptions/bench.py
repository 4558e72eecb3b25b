"""Subscription benchmark (issue 17): a 10,000-event feed (N) served from loopback,
subscribed with `jmapd subscribe`, then refreshed with `jmapd subscribe --refresh`:
  1. unchanged feed with an ETag: one conditional request (304), no database write
     (the CalendarEvent and Calendar states stay the same);
  2. the feed changed in 10 events (new ETag): the whole feed fetched, parsed and
     diffed, 10 events written (target <= 50 ms for applying the delta);
  3. the same 10-event change from a feed that speaks Enhanced GET
     (draft-ietf-calext-subscription-upgrade-13 §3): only the delta is sent and applied;
  4. baselines in the same run: the first, full import of the same feed by
     `jmapd subscribe`, and the Enhanced GET delta of step 3 (the same 10 writes
     and commit, without the 10,000-event transfer): the plain refresh as ratios.
Prints the times the CLI reports (the refresh itself, without process start), split
into fetch (the transfer, and cutting the feed into entities), apply (converting and
writing what changed) and the commit (fsync, the machine's disk), from the CLI's
debug log."""
import http.server
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time

BIN, DATA, CONF, N = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def feed(version):
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    for i in range(N):
        title = f"Event {i}" + (f" v{version}" if i < 10 else "")
        out += ["BEGIN:VEVENT", f"UID:bench-{i}@example.com", "DTSTAMP:20260101T000000Z",
                f"DTSTART:2027{1 + i % 12:02d}{1 + i % 28:02d}T{8 + i % 10:02d}0000Z",
                "DURATION:PT1H", f"SUMMARY:{title}", "END:VEVENT"]
    out.append("END:VCALENDAR")
    return ("\r\n".join(out) + "\r\n").encode()


state = {"body": feed(1), "etag": '"v1"', "requests": 0, "not_modified": 0, "enhanced": False,
         "version": 1}


def delta(version):
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    for i in range(10):
        out += ["BEGIN:VEVENT", f"UID:bench-{i}@example.com", "DTSTAMP:20260101T000000Z",
                f"DTSTART:2027{1 + i % 12:02d}{1 + i % 28:02d}T{8 + i % 10:02d}0000Z",
                "DURATION:PT1H", f"SUMMARY:Event {i} v{version}", "END:VEVENT"]
    out.append("END:VCALENDAR")
    return ("\r\n".join(out) + "\r\n").encode()


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        state["requests"] += 1
        tok = self.headers.get("Sync-Token")
        if state["enhanced"] and tok:
            body = delta(state["version"])
            self.send_response(200)
            self.send_header("Sync-Token", '"data:,%d"' % state["version"])
            self.send_header("Preference-Applied", "subscribe-enhanced-get")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.headers.get("If-None-Match") == state["etag"]:
            state["not_modified"] += 1
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        if state["enhanced"]:
            self.send_header("Sync-Token", '"data:,%d"' % state["version"])
            self.send_header("Preference-Applied", "subscribe-enhanced-get")
        self.send_header("ETag", state["etag"])
        self.send_header("Content-Length", str(len(state["body"])))
        self.end_headers()
        self.wfile.write(state["body"])


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{srv.server_address[1]}/bench.ics"


phases = {}


def run(*args):
    r = subprocess.run([BIN, "subscribe", "--user", "bench", *args, "--data", DATA, "--config",
                        CONF], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    m = re.search(r"fetch ([0-9.]+) ms, apply ([0-9.]+) ms", r.stderr)
    c = re.search(r"committed in ([0-9.]+) ms", r.stderr)
    phases["last"] = (float(m.group(1)) if m else 0, float(m.group(2)) if m else 0,
                      float(c.group(1)) if c else 0)
    return r.stdout.strip()


def cpu(out):
    """The CPU time the CLI reports for the refresh (all its threads)."""
    m = re.search(r"cpu ([0-9.]+) ms", out)
    return float(m.group(1)) if m else float("nan")


def split():
    f, a, c = phases["last"]
    return f"fetch+cut {f:.1f} ms, apply {a - c:.1f} ms, commit {c:.1f} ms"


def states():
    db = sqlite3.connect(os.path.join(DATA, "jmapd.db"))
    rows = dict(((t, m) for t, m in db.execute("SELECT type, modseq FROM states")))
    db.close()
    return rows.get("CalendarEvent"), rows.get("Calendar")


t0 = time.time()
cal = run(url)
full = time.time() - t0
print(f"first fetch and import of {N} events (jmapd subscribe, process included): "
      f"{full * 1000:.0f} ms")
before, reqs = states(), state["requests"]
out = run("--refresh", cal)
ms = float(re.search(r"in ([0-9.]+) ms", out).group(1))
after = states()
print(f"unchanged feed: {state['requests'] - reqs} request(s), {state['not_modified']} x 304, "
      f"states {'unchanged (no write)' if before == after else 'CHANGED'}: {ms:.1f} ms wall, "
      f"{cpu(out):.1f} ms CPU")
state["body"], state["etag"] = feed(2), '"v2"'
out = run("--refresh", cal)
ms2 = float(re.search(r"in ([0-9.]+) ms", out).group(1))
db = sqlite3.connect(os.path.join(DATA, "jmapd.db"))
changed = db.execute("SELECT count(*) FROM objects WHERE type='CalendarEvent' AND "
                     "updated_modseq > ?", (after[0],)).fetchone()[0]
db.close()
plain_split = split()
cpu2 = cpu(out)
print(f"10 of {N} events changed: {changed} events written, refresh {ms2:.1f} ms wall, "
      f"{cpu2:.1f} ms CPU (target <= 50 ms; {ms2 / (full * 1000):.3f} of the first import; "
      f"{plain_split})")
# 3: the feed speaks Enhanced GET from now on: one full answer gives the token ...
state["enhanced"], state["etag"] = True, '"v3"'
run("--refresh", cal)
state["version"] = 4
out = run("--refresh", cal)
ms3 = float(re.search(r"in ([0-9.]+) ms", out).group(1))
db = sqlite3.connect(os.path.join(DATA, "jmapd.db"))
title = db.execute("SELECT count(*) FROM objects WHERE type='CalendarEvent' AND "
                   "data LIKE '%Event _ v4%'").fetchone()[0]
db.close()
print(f"10 of {N} events changed, Enhanced GET delta: {title} events updated, refresh "
      f"{ms3:.1f} ms wall, {cpu(out):.1f} ms CPU (target <= 50 ms; {split()})")
print(f"ratio plain feed / Enhanced GET delta, same 10 writes: {ms2 / ms3:.2f}")
srv.shutdown()
