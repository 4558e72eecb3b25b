"""A subscription that follows the CalDAV / WebDAV-sync collection its feed advertises
(draft-ietf-calext-subscription-upgrade-13 §7.2 subscribe-caldav, §7.3
subscribe-caldav-auth, §7.4 subscribe-webdav-sync): RFC 6578 sync-collection with the
token, RFC 4791 calendar-multiget of the changed members only, members reported 404 as
deletions, a refused token (§3.2 DAV:valid-sync-token) answered by a full listing that
downloads only what changed, and a failing collection answered by the plain feed.

The CalDAV server is jmapd itself (alice's calendar). The feed is served by a small
HTTP server here that also passes /dav/ through to jmapd, so the collection has the
feed's origin and the feed URL's credentials go with it (§7.3: authentication); it logs
every request so the tests see what the subscriber asked. Radicale (python3-radicale,
no authentication) is the second peer, advertised as subscribe-caldav (§7.2)."""
import http.server
import os
import re
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from conftest import JMAPD, PASSWORDS, Server, free_port
from test_subscriptions import FEED_CONFIG, SUB, USING, calendar, events_of

QUIET = FEED_CONFIG.replace("subscription_scan = 1", "subscription_scan = 3600")


class DavFront:
    """The feed at /feed.ics (jmapd's export of the calendar, as a plain feed: no
    validators, no Enhanced GET) with a Link to the collection; /dav/ passed through."""

    def __init__(self, srv, export_path, rel, link):
        self.srv, self.export_path, self.rel, self.link = srv, export_path, rel, link
        self.log = []  # (method, path, body)
        self.refuse_token = False  # answer a REPORT with a token 403 valid-sync-token
        self.broken = False  # answer every REPORT 500
        front = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _pass(self, method):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                front.log.append((method, self.path, body.decode(errors="replace")))
                if self.path == "/feed.ics":
                    r = requests.get(front.srv.base + front.export_path,
                                     headers={"Authorization": self.headers["Authorization"]})
                    self.send_response(r.status_code)
                    self.send_header("Content-Type", "text/calendar")
                    self.send_header("Link", f'<{front.link}>; rel="{front.rel}"')
                    self.send_header("Content-Length", str(len(r.content)))
                    self.end_headers()
                    self.wfile.write(r.content)
                    return
                if method == "REPORT" and (front.broken or (
                        front.refuse_token and re.search(rb"<D:sync-token>[^<]", body))):
                    out = (b'<?xml version="1.0"?><D:error xmlns:D="DAV:">'
                           b"<D:valid-sync-token/></D:error>")
                    self.send_response(500 if front.broken else 403)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                    return
                h = {k: v for k, v in self.headers.items()
                     if k.lower() in ("authorization", "depth", "content-type")}
                r = requests.request(method, front.srv.base + self.path, headers=h, data=body)
                self.send_response(r.status_code)
                for k in ("Content-Type", "ETag"):
                    if k in r.headers:
                        self.send_header(k, r.headers[k])
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def do_GET(self):
                self._pass("GET")

            def do_REPORT(self):
                self._pass("REPORT")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def methods(self):
        out = [(m, p) for m, p, _ in self.log]
        self.log.clear()
        return out

    def close(self):
        self.httpd.shutdown()


def run(srv, *args):
    out = subprocess.run([JMAPD, "subscribe", *args, "--data", srv.data, "--config",
                          srv.config], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def new_events(srv, cal, titles):
    _, r = srv.call("CalendarEvent/set", {"accountId": srv.account(), "create": {
        uid: {"calendarIds": {cal: True}, "uid": uid, "title": t, "start": "2027-03-01T10:00:00",
              "timeZone": "Europe/Berlin", "duration": "PT1H"} for uid, t in titles.items()}},
        using=USING)
    return {uid: r["created"][uid]["id"] for uid in titles}


def ids_of(srv, cal):
    return {k.split("|")[0]: (e["id"], e["title"]) for k, e in events_of(srv, cal, "bob").items()}


def bob_state(srv):
    _, r = srv.call("CalendarEvent/get", {"accountId": srv.account("bob"), "ids": []},
                    user="bob", using=USING)
    return r["state"]


def multiget_hrefs(log):
    return [len(re.findall(r"<D:href>", b)) for m, p, b in log
            if m == "REPORT" and "calendar-multiget" in b]


@pytest.fixture
def setup():
    srv = Server(config=QUIET)
    acc = srv.account()
    _, r = srv.call("Calendar/set", {"accountId": acc, "create": {"c": {"name": "Team"}}},
                    using=USING)
    cal = r["created"]["c"]["id"]
    src = new_events(srv, cal, {"d1@x": "One", "d2@x": "Two", "d3@x": "Three"})
    export = f"/export/calendar/{acc}/{cal}.ics"
    link = srv.http().head(srv.base + export).headers["Link"]
    dav = re.search(r'<[a-z]+://[^/]+(/dav/[^>]*)>; rel="[^"]*subscribe-webdav-sync', link).group(1)
    front = DavFront(srv, export, "subscribe-caldav-auth subscribe-webdav-sync", dav)
    yield srv, cal, src, front
    front.close()
    srv.close()


def test_section7_3_follows_the_caldav_collection_with_sync_collection(setup):
    srv, cal, src, front = setup
    url = f"http://alice:{PASSWORDS['alice']}@127.0.0.1:{front.port}/feed.ics"
    bcal = run(srv, "--user", "bob", url)
    assert front.methods() == [("GET", "/feed.ics")]
    sub = calendar(srv, bcal, "bob")[SUB]
    # §7.3: the collection, with the feed URL's credentials (same origin)
    assert sub["davUrl"].endswith(setup[3].link) and sub["davCaldav"] is True
    first = ids_of(srv, bcal)
    assert {u: t for u, (_, t) in first.items()} == {"d1@x": "One", "d2@x": "Two",
                                                      "d3@x": "Three"}
    # the next refresh: the initial sync (RFC 6578 §3.4) and a multiget of every member
    run(srv, "--user", "bob", "--refresh", bcal)
    log = list(front.log)
    assert [m for m, _ in front.methods()] == ["REPORT", "REPORT"]
    assert multiget_hrefs(log) == [3]
    assert ids_of(srv, bcal) == first  # same events: same ids, nothing rewritten
    token = calendar(srv, bcal, "bob")[SUB]["davToken"]
    assert token
    state = bob_state(srv)
    # alice changes one, removes one, adds one: the delta names three members, two
    # are fetched, the removed one (404, §3.5.2) takes its events with it
    srv.call("CalendarEvent/set", {"accountId": srv.account(), "update": {
        src["d1@x"]: {"title": "One, moved"}}, "destroy": [src["d2@x"]]}, using=USING)
    new_events(srv, cal, {"d4@x": "Four"})
    run(srv, "--user", "bob", "--refresh", bcal)
    log = list(front.log)
    assert [m for m, _ in front.methods()] == ["REPORT", "REPORT"]
    assert f"<D:sync-token>{token}</D:sync-token>" in log[0][2]
    assert multiget_hrefs(log) == [2]
    now = ids_of(srv, bcal)
    assert {u: t for u, (_, t) in now.items()} == {"d1@x": "One, moved", "d3@x": "Three",
                                                    "d4@x": "Four"}
    assert now["d1@x"][0] == first["d1@x"][0] and now["d3@x"] == first["d3@x"]
    _, ch = srv.call("CalendarEvent/changes", {"accountId": srv.account("bob"),
                                               "sinceState": state}, user="bob", using=USING)
    assert ch["created"] == [now["d4@x"][0]] and ch["updated"] == [now["d1@x"][0]]
    assert ch["destroyed"] == [first["d2@x"][0]]
    # nothing changed: one REPORT, no multiget, no write
    state = bob_state(srv)
    run(srv, "--user", "bob", "--refresh", bcal)
    assert [m for m, _ in front.methods()] == ["REPORT"]
    assert bob_state(srv) == state


def test_section7_4_refused_token_lists_all_and_fetches_only_what_changed(setup):
    srv, cal, src, front = setup
    url = f"http://alice:{PASSWORDS['alice']}@127.0.0.1:{front.port}/feed.ics"
    bcal = run(srv, "--user", "bob", url)
    run(srv, "--user", "bob", "--refresh", bcal)
    first = ids_of(srv, bcal)
    front.methods()
    srv.call("CalendarEvent/set", {"accountId": srv.account(), "update": {
        src["d3@x"]: {"title": "Three, again"}}, "destroy": [src["d1@x"]]}, using=USING)
    front.refuse_token = True  # RFC 6578 §3.2: DAV:valid-sync-token
    run(srv, "--user", "bob", "--refresh", bcal)
    log = list(front.log)
    assert [m for m, _ in front.methods()] == ["REPORT", "REPORT", "REPORT"]
    assert "<D:sync-token></D:sync-token>" in log[1][2]  # the full listing
    assert multiget_hrefs(log) == [1]  # only the member whose ETag changed
    now = ids_of(srv, bcal)
    assert {u: t for u, (_, t) in now.items()} == {"d2@x": "Two", "d3@x": "Three, again"}
    assert now["d2@x"] == first["d2@x"] and now["d3@x"][0] == first["d3@x"][0]
    assert calendar(srv, bcal, "bob")[SUB]["lastError"] is None


def test_section7_3_a_failing_collection_falls_back_to_the_feed(setup):
    srv, cal, src, front = setup
    url = f"http://alice:{PASSWORDS['alice']}@127.0.0.1:{front.port}/feed.ics"
    bcal = run(srv, "--user", "bob", url)
    run(srv, "--user", "bob", "--refresh", bcal)
    first = ids_of(srv, bcal)
    front.methods()
    srv.call("CalendarEvent/set", {"accountId": srv.account(), "update": {
        src["d2@x"]: {"title": "Two, late"}}}, using=USING)
    front.broken = True
    run(srv, "--user", "bob", "--refresh", bcal)
    assert [m for m, _ in front.methods()] == ["REPORT", "GET"]  # the full GET at once
    now = ids_of(srv, bcal)
    assert now["d2@x"] == (first["d2@x"][0], "Two, late") and now["d1@x"] == first["d1@x"]
    sub = calendar(srv, bcal, "bob")[SUB]
    assert sub["davUrl"] is None and sub["davRefused"] and sub["lastError"] is None
    # the collection that failed is not taken up again from the feed's Link
    run(srv, "--user", "bob", "--refresh", bcal)
    assert [m for m, _ in front.methods()] == ["GET"]


def test_section7_3_caldav_auth_without_credentials_is_not_followed(setup):
    srv, cal, src, front = setup
    front.rel = "subscribe-caldav-auth"
    # the feed itself needs alice's credentials; the Link is to another origin here
    front2 = DavFront(srv, front.export_path, "subscribe-caldav-auth",
                      f"http://127.0.0.1:{front.port}{front.link}")
    try:
        url = f"http://alice:{PASSWORDS['alice']}@127.0.0.1:{front2.port}/feed.ics"
        bcal = run(srv, "--user", "bob", url)
        assert calendar(srv, bcal, "bob")[SUB]["davUrl"] is None
    finally:
        front2.close()


# ---- Radicale (python3-radicale) as a CalDAV server without authentication (§7.2) ----

@pytest.fixture
def radicale():
    pytest.importorskip("radicale")
    tmp = tempfile.TemporaryDirectory()
    port = free_port()
    cfg = os.path.join(tmp.name, "config")
    with open(cfg, "w") as f:
        f.write(f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = none\n[rights]\n"
                f"type = authenticated\n[storage]\nfilesystem_folder = {tmp.name}/c\n"
                "[logging]\nlevel = warning\n")
    p = subprocess.Popen(["/usr/bin/python3", "-m", "radicale", "--config", cfg],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base + "/", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    coll = base + "/pub/cal/"
    assert requests.request("MKCALENDAR", coll, auth=("pub", "x")).status_code == 201
    yield coll
    p.terminate()
    p.wait(timeout=10)
    tmp.cleanup()


def put(coll, uid, title):
    body = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270105T100000Z\r\n"
            f"DURATION:PT1H\r\nSUMMARY:{title}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    r = requests.put(f"{coll}{uid}.ics", data=body, auth=("pub", "x"),
                     headers={"Content-Type": "text/calendar"})
    assert r.status_code in (201, 204)


class Feed:
    """A plain feed whose Link names the Radicale collection as subscribe-caldav."""

    def __init__(self, coll):
        self.coll = coll
        feed = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                body = requests.get(feed.coll, auth=("pub", "x")).content
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("Link", f'<{feed.coll}>; rel="subscribe-caldav"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/feed.ics"

    def close(self):
        self.httpd.shutdown()


def test_section7_2_radicale_collection_without_authentication(radicale):
    for uid, t in (("r1", "Alpha"), ("r2", "Beta")):
        put(radicale, uid, t)
    srv = Server(config=QUIET)
    feed = Feed(radicale)
    try:
        bcal = run(srv, "--user", "bob", feed.url)
        assert calendar(srv, bcal, "bob")[SUB]["davUrl"] == radicale
        run(srv, "--user", "bob", "--refresh", bcal)  # the initial sync
        first = ids_of(srv, bcal)
        assert {u: t for u, (_, t) in first.items()} == {"r1": "Alpha", "r2": "Beta"}
        put(radicale, "r3", "Gamma")
        put(radicale, "r1", "Alpha moved")
        assert requests.delete(radicale + "r2.ics", auth=("pub", "x")).status_code in (200, 204)
        run(srv, "--user", "bob", "--refresh", bcal)
        now = ids_of(srv, bcal)
        assert {u: t for u, (_, t) in now.items()} == {"r1": "Alpha moved", "r3": "Gamma"}
        assert now["r1"][0] == first["r1"][0]
        sub = calendar(srv, bcal, "bob")[SUB]
        assert sub["lastError"] is None and sub["davToken"]
    finally:
        feed.close()
        srv.close()


def test_section7_3_member_skipped_for_a_uid_held_elsewhere_is_fetched_again():
    """A member whose event another calendar of the subscriber holds (by uid) is left
    out, its ETag not kept; at skippedRetryAt the full listing (RFC 6578 §3.4) fetches
    that member alone again, and takes it up once the other copy is gone."""
    srv = Server(config=QUIET + "subscription_retry_skipped = 2\n")
    try:
        acc = srv.account()
        _, r = srv.call("Calendar/set", {"accountId": acc, "create": {"c": {"name": "Team"}}},
                        using=USING)
        cal = r["created"]["c"]["id"]
        new_events(srv, cal, {"d1@x": "One", "d2@x": "Two"})
        export = f"/export/calendar/{acc}/{cal}.ics"
        link = srv.http().head(srv.base + export).headers["Link"]
        dav = re.search(r'<[a-z]+://[^/]+(/dav/[^>]*)>; rel="[^"]*webdav-sync', link).group(1)
        front = DavFront(srv, export, "subscribe-caldav-auth", dav)
        bob = srv.account("bob")
        _, r = srv.call("Calendar/set", {"accountId": bob, "create": {"m": {"name": "Mine"}}},
                        user="bob", using=USING)
        _, r = srv.call("CalendarEvent/set", {"accountId": bob, "create": {"e": {
            "calendarIds": {r["created"]["m"]["id"]: True}, "uid": "d2@x", "title": "Bob's",
            "start": "2027-03-01T10:00:00", "duration": "PT1H"}}}, user="bob", using=USING)
        own = r["created"]["e"]["id"]
        url = f"http://alice:{PASSWORDS['alice']}@127.0.0.1:{front.port}/feed.ics"
        bcal = run(srv, "--user", "bob", url)
        run(srv, "--user", "bob", "--refresh", bcal)  # the initial sync: d2 skipped again
        assert set(ids_of(srv, bcal)) == {"d1@x"}
        assert calendar(srv, bcal, "bob")[SUB]["skippedUids"] == ["d2@x"]
        srv.call("CalendarEvent/set", {"accountId": bob, "destroy": [own]}, user="bob",
                 using=USING)
        front.methods()
        time.sleep(2.5)
        run(srv, "--user", "bob", "--refresh", bcal)
        log = list(front.log)
        assert "<D:sync-token></D:sync-token>" in log[0][2]  # the full listing
        assert multiget_hrefs(log) == [1]  # the skipped member alone
        assert {u: t for u, (_, t) in ids_of(srv, bcal).items()} == {"d1@x": "One",
                                                                      "d2@x": "Two"}
        assert calendar(srv, bcal, "bob")[SUB]["skippedUids"] is None
        front.close()
    finally:
        srv.close()
