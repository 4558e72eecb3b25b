"""Subscription benchmark, DAV side (issue 17; draft-ietf-calext-subscription-upgrade-13
§7.3): a 10,000-event calendar (N) of user "pub" served by jmapd itself over CalDAV, a
plain feed of it whose Link names the collection (subscribe-caldav-auth), and a second
user "sub" who subscribes to the feed with `jmapd subscribe`. The feed and the
collection are passed through a small front on loopback (same origin, so the feed URL's
credentials reach the collection). Measured with `jmapd subscribe --refresh` (the CLI's
own wall and CPU time for the refresh):
  1. the initial sync (sync-collection from no token, calendar-multiget of every member;
     nothing written: every event is unchanged) against the first import of the feed;
  2. nothing changed: one REPORT, no write;
  3. 10 of N events changed by pub: one REPORT with the token, one multiget of the 10.
Run by bench_subscriptions.sh."""
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import requests

BIN, DATA, CONF, N = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
AUTH = ("pub", "pub-pw")


def cli(*args, stdin=None):
    r = subprocess.run([BIN, *args, "--data", DATA, "--config", CONF], input=stdin,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


cli("user", "add", "pub", "--password-stdin", stdin="pub-pw\n")
cli("user", "add", "sub", "--password-stdin", stdin="sub-pw\n")
lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
for i in range(N):
    lines += ["BEGIN:VEVENT", f"UID:dav-{i}@example.com", "DTSTAMP:20260101T000000Z",
              f"DTSTART:2027{1 + i % 12:02d}{1 + i % 28:02d}T{8 + i % 10:02d}0000Z",
              "DURATION:PT1H", f"SUMMARY:Event {i}", "END:VEVENT"]
lines.append("END:VCALENDAR")
path = os.path.join(os.path.dirname(DATA), "dav.ics")
with open(path, "w") as f:
    f.write("\r\n".join(lines) + "\r\n")
cli("import", "--user", "pub", path)

s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
serve = subprocess.Popen([BIN, "serve", "--data", DATA, "--config", CONF, "--listen",
                          f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
for _ in range(200):
    try:
        urllib.request.urlopen(base + "/health", timeout=1)
        break
    except OSError:
        time.sleep(0.05)
sess = requests.Session()
sess.auth = AUTH
session = sess.get(base + "/jmap/session").json()
acc = session["primaryAccounts"]["urn:ietf:params:jmap:calendars"]
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:calendars"]


def call(name, args):
    r = sess.post(base + "/jmap/api/", json={"using": USING, "methodCalls": [[name, args, "0"]]})
    return r.json()["methodResponses"][0][1]


cal = call("Calendar/get", {"accountId": acc})["list"][0]["id"]
export = f"/export/calendar/{acc}/{cal}.ics"
link = sess.head(base + export).headers["Link"]
dav = re.search(r'<[a-z]+://[^/]+(/dav/[^>]*)>; rel="[^"]*webdav-sync', link).group(1)
counts = {"REPORT": 0, "GET": 0}


class Front(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def relay(self, method):
        counts[method] += 1
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        h = {k: v for k, v in self.headers.items()
             if k.lower() in ("authorization", "depth", "content-type")}
        target = export if self.path == "/feed.ics" else self.path
        r = requests.request(method, base + target, headers=h, data=body)
        self.send_response(r.status_code)
        self.send_header("Content-Type", r.headers.get("Content-Type", "text/plain"))
        if self.path == "/feed.ics":
            self.send_header("Link", f'<{dav}>; rel="subscribe-caldav-auth"')
        self.send_header("Content-Length", str(len(r.content)))
        self.end_headers()
        self.wfile.write(r.content)

    def do_GET(self):
        self.relay("GET")

    def do_REPORT(self):
        self.relay("REPORT")


front = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Front)
threading.Thread(target=front.serve_forever, daemon=True).start()
url = f"http://pub:pub-pw@127.0.0.1:{front.server_address[1]}/feed.ics"


def refresh(sub_cal):
    out = cli("subscribe", "--user", "sub", "--refresh", sub_cal)
    m = re.search(r"in ([0-9.]+) ms \(cpu ([0-9.]+) ms\)", out)
    return float(m.group(1)), float(m.group(2))


try:
    t0 = time.time()
    sub_cal = cli("subscribe", "--user", "sub", url)
    print(f"DAV: first fetch and import of {N} events as a plain feed (process included): "
          f"{(time.time() - t0) * 1000:.0f} ms")
    counts.update(REPORT=0, GET=0)
    wall, cpu = refresh(sub_cal)
    print(f"DAV: initial sync-collection + calendar-multiget of {N} members "
          f"({counts['REPORT']} REPORTs, nothing rewritten): {wall:.1f} ms wall, {cpu:.1f} ms CPU")
    counts.update(REPORT=0, GET=0)
    wall, cpu = refresh(sub_cal)
    print(f"DAV: nothing changed ({counts['REPORT']} REPORT): {wall:.1f} ms wall, "
          f"{cpu:.1f} ms CPU")
    ids = call("CalendarEvent/query", {"accountId": acc, "limit": 10})["ids"]
    call("CalendarEvent/set", {"accountId": acc, "update": {i: {"title": "changed"}
                                                             for i in ids}})
    counts.update(REPORT=0, GET=0)
    wall, cpu = refresh(sub_cal)
    print(f"DAV: 10 of {N} events changed ({counts['REPORT']} REPORTs: sync-collection, "
          f"multiget of 10): {wall:.1f} ms wall, {cpu:.1f} ms CPU (target <= 50 ms)")
finally:
    front.shutdown()
    serve.terminate()
    serve.wait(timeout=30)
