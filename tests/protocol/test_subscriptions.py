"""Calendars that come from elsewhere (issue 17): server-side subscriptions to a feed
served by a real HTTP server on loopback started here (Python's http.server with
ETag / 304, Last-Modified, slow, broken and oversized answers), and the outbound
safety rules (issue 17 §5). Sections cited: draft-ietf-calext-subscription-upgrade-13
(§2 the subscription a client keeps with a plain GET and conditional requests),
RFC 7986 §5.7 (REFRESH-INTERVAL)."""
import http.server
import os
import subprocess
import threading
import time

import pytest

from conftest import CONFIG, JMAPD, Server

SUB = "https://jmapd.org/ns/subscription"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:calendars"]

FEED_CONFIG = CONFIG + """
fetch_allow = 127.0.0.0/8
fetch_timeout = 2
fetch_max_size = 200000
subscription_min_interval = 1
subscription_scan = 1
"""


def vevent(uid, summary, start="20270105T100000Z", rid=None):
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:%s" % time.strftime("%Y%m%dT%H%M%SZ",
                                                                          time.gmtime()),
             f"DTSTART:{start}", "DURATION:PT1H", f"SUMMARY:{summary}"]
    if rid:
        lines.append(f"RECURRENCE-ID:{rid}")
    return "\r\n".join(lines + ["END:VEVENT"])


def ics(events, refresh="PT1S"):
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//feed//EN"]
    if refresh:
        head.append(f"REFRESH-INTERVAL;VALUE=DURATION:{refresh}")
    return ("\r\n".join(head + events + ["END:VCALENDAR"]) + "\r\n").encode()


class Feeds:
    """The feeds on loopback: path -> (body, etag). Counts requests and 304s."""

    def __init__(self):
        self.docs = {}
        self.links = {}  # path -> a Link header to send with it
        self.requests = {}
        self.not_modified = 0
        feeds = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                feeds.requests[self.path] = feeds.requests.get(self.path, 0) + 1
                if self.path == "/slow.ics":
                    time.sleep(5)
                if self.path.startswith("/redirect/"):
                    self.send_response(302)
                    self.send_header("Location", self.path[len("/redirect"):])
                    self.end_headers()
                    return
                if self.path == "/huge.ics":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/calendar")
                    self.end_headers()
                    try:
                        self.wfile.write(b"BEGIN:VCALENDAR\r\n" + b"X" * 1000000)
                    except OSError:
                        pass
                    return
                if self.path == "/html.ics":
                    body = b"<html><body>Maintenance</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                doc = feeds.docs.get(self.path)
                if doc is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, etag = doc
                if self.headers.get("If-None-Match") == etag:
                    feeds.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar")
                if self.path in feeds.links:
                    self.send_header("Link", feeds.links[self.path])
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", "Mon, 04 Jan 2027 10:00:00 GMT")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def put(self, path, events, refresh="PT1S"):
        body = ics(events, refresh)
        self.docs[path] = (body, '"%d"' % hash(body))

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def feeds():
    f = Feeds()
    yield f
    f.close()


@pytest.fixture
def srv():
    s = Server(config=FEED_CONFIG)
    yield s
    s.close()


def subscribe(s, user, url, *extra):
    return subprocess.run([JMAPD, "subscribe", "--user", user, url, "--data", s.data,
                           "--config", s.config, *extra], capture_output=True, text=True,
                          timeout=60)


def events_of(s, cal, user="alice"):
    _, r = s.call("CalendarEvent/get", {"accountId": s.account(user)}, user=user, using=USING)
    return {e["uid"] + "|" + str(e.get("recurrenceId")): e for e in r["list"]
            if cal in e["calendarIds"]}


def calendar(s, cal, user="alice"):
    _, r = s.call("Calendar/get", {"accountId": s.account(user), "ids": [cal]}, user=user,
                  using=USING)
    return r["list"][0]


def wait_for(pred, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.3)
    return pred()


def test_subscribe_cli_fetches_at_once_and_prints_the_id(srv, feeds):
    feeds.put("/a.ics", [vevent("u1", "One"), vevent("u2", "Two")])
    r = subscribe(srv, "alice", feeds.url("/a.ics"), "--name", "Holidays")
    assert r.returncode == 0, r.stderr
    cal = r.stdout.strip()
    c = calendar(srv, cal)
    assert c["name"] == "Holidays"
    assert c[SUB]["url"] == feeds.url("/a.ics")
    assert c[SUB]["lastRefresh"] and c[SUB]["lastError"] is None
    assert set(events_of(srv, cal)) == {"u1|None", "u2|None"}


def test_calendar_set_subscription_and_refresh_applies_the_difference(srv, feeds):
    """A change in the feed reaches the calendar as real /changes: an unchanged event
    keeps its id and state, a changed one is updated, a removed one destroyed."""
    feeds.put("/b.ics", [vevent("k1", "Keep"), vevent("c1", "Change"), vevent("g1", "Gone"),
                         vevent("r1", "Moved", rid="20270112T100000Z")])
    acc = srv.account()
    _, r = srv.call("Calendar/set", {"accountId": acc, "create": {
        "s": {"name": "Feed", SUB: {"url": feeds.url("/b.ics")}}}}, using=USING)
    cal = r["created"]["s"]["id"]
    evs = wait_for(lambda: len(events_of(srv, cal)) == 4 and events_of(srv, cal))
    assert evs, srv.read_log()[-3000:]
    _, st = srv.call("CalendarEvent/get", {"accountId": acc, "ids": []}, using=USING)
    state = st["state"]
    feeds.put("/b.ics", [vevent("k1", "Keep"), vevent("c1", "Changed!"), vevent("n1", "New"),
                         vevent("r1", "Moved", rid="20270112T100000Z")])
    after = wait_for(lambda: "n1|None" in events_of(srv, cal) and events_of(srv, cal))
    assert after, srv.read_log()[-3000:]
    assert after["k1|None"]["id"] == evs["k1|None"]["id"]
    assert after["c1|None"]["id"] == evs["c1|None"]["id"]
    assert after["c1|None"]["title"] == "Changed!"
    assert "g1|None" not in after
    _, ch = srv.call("CalendarEvent/changes", {"accountId": acc, "sinceState": state},
                     using=USING)
    assert ch["created"] == [after["n1|None"]["id"]]
    assert ch["updated"] == [evs["c1|None"]["id"]]
    assert ch["destroyed"] == [evs["g1|None"]["id"]]


def test_section2_unchanged_feed_is_a_conditional_request_and_no_write(srv, feeds):
    """draft-ietf-calext-subscription-upgrade §2: the client polls with a conditional
    GET; a 304 changes nothing (no state change of events or calendars)."""
    feeds.put("/c.ics", [vevent("x1", "Same")])
    r = subscribe(srv, "alice", feeds.url("/c.ics"))
    assert r.returncode == 0, r.stderr
    acc = srv.account()
    _, e1 = srv.call("CalendarEvent/get", {"accountId": acc, "ids": []}, using=USING)
    _, c1 = srv.call("Calendar/get", {"accountId": acc, "ids": []}, using=USING)
    assert wait_for(lambda: feeds.not_modified >= 2), srv.read_log()[-3000:]
    _, e2 = srv.call("CalendarEvent/get", {"accountId": acc, "ids": []}, using=USING)
    _, c2 = srv.call("Calendar/get", {"accountId": acc, "ids": []}, using=USING)
    assert e1["state"] == e2["state"] and c1["state"] == c2["state"]


def test_rfc7986_refresh_interval_bounded_by_configured_minimum(feeds):
    """RFC 7986 §5.7 REFRESH-INTERVAL is honoured, never below the server's minimum."""
    s = Server(config=FEED_CONFIG.replace("subscription_min_interval = 1",
                                          "subscription_min_interval = 3600"))
    try:
        feeds.put("/d.ics", [vevent("d1", "Rare")], refresh="PT1S")
        assert subscribe(s, "alice", feeds.url("/d.ics")).returncode == 0
        time.sleep(4)  # the server looks every second; its first look is conditional
        assert feeds.requests["/d.ics"] <= 2
    finally:
        s.close()


def test_subscribed_calendar_is_read_only_but_per_user_properties_are_writable(srv, feeds):
    feeds.put("/e.ics", [vevent("ro1", "Read only")])
    cal = subscribe(srv, "alice", feeds.url("/e.ics")).stdout.strip()
    acc = srv.account()
    rights = calendar(srv, cal)["myRights"]
    assert rights["mayWriteAll"] is False and rights["mayWriteOwn"] is False
    assert rights["mayUpdatePrivate"] is True and rights["mayDelete"] is True
    eid = events_of(srv, cal)["ro1|None"]["id"]
    _, r = srv.call("CalendarEvent/set", {"accountId": acc, "update": {
        eid: {"title": "mine now"}}}, using=USING)
    assert r["notUpdated"][eid]["type"] == "forbidden"
    _, r = srv.call("CalendarEvent/set", {"accountId": acc, "update": {
        eid: {"color": "red", "keywords": {"seen": True}}}}, using=USING)
    assert eid in r["updated"], r
    _, r = srv.call("CalendarEvent/set", {"accountId": acc, "destroy": [eid]}, using=USING)
    assert r["notDestroyed"][eid]["type"] == "forbidden"
    _, r = srv.call("CalendarEvent/set", {"accountId": acc, "create": {"n": {
        "calendarIds": {cal: True}, "title": "x", "start": "2027-01-01T10:00:00",
        "duration": "PT1H"}}}, using=USING)
    assert r["notCreated"]["n"]["type"] == "forbidden"
    # the calendar's own per-user properties
    _, r = srv.call("Calendar/set", {"accountId": acc, "update": {
        cal: {"color": "blue", "isVisible": False}}}, using=USING)
    assert cal in (r["updated"] or {}), r.get("notUpdated")
    # the feed's next version keeps the user's per-user properties
    feeds.put("/e.ics", [vevent("ro1", "Read only, renamed")])
    ev = wait_for(lambda: events_of(srv, cal)["ro1|None"]["title"] == "Read only, renamed"
                  and events_of(srv, cal)["ro1|None"])
    assert ev and ev["color"] == "red" and ev["id"] == eid


def test_subscription_property_validation(srv):
    acc = srv.account()
    _, r = srv.call("Calendar/set", {"accountId": acc, "create": {
        "a": {"name": "x", SUB: {"url": "ftp://example.com/x.ics"}},
        "b": {"name": "y", SUB: {"url": "https://example.com/x.ics", "bogus": 1}},
        "c": {"name": "z", SUB: {"url": "https://example.com/x.ics",
                                 "refreshInterval": "often"}}}}, using=USING)
    assert set(r["notCreated"]) == {"a", "b", "c"}
    assert all(e["type"] == "invalidProperties" for e in r["notCreated"].values())


@pytest.mark.parametrize("path,why", [
    ("/missing.ics", "404"),
    ("/html.ics", "not iCalendar"),
    ("/slow.ics", "timed out"),
    ("/huge.ics", "larger than"),
])
def test_failures_are_recorded_in_last_error(srv, feeds, path, why):
    r = subscribe(srv, "alice", feeds.url(path))
    assert r.returncode == 1
    c = calendar(srv, r.stdout.strip())
    assert why in c[SUB]["lastError"], c
    assert c[SUB]["lastRefresh"] is None


def test_a_failing_feed_never_wipes_the_calendar(srv, feeds):
    feeds.put("/f.ics", [vevent("f1", "Stays")])
    cal = subscribe(srv, "alice", feeds.url("/f.ics")).stdout.strip()
    assert "f1|None" in events_of(srv, cal)
    last = calendar(srv, cal)[SUB]["lastRefresh"]
    feeds.docs["/f.ics"] = None  # now a 404
    c = wait_for(lambda: calendar(srv, cal)[SUB]["lastError"] and calendar(srv, cal))
    assert "404" in c[SUB]["lastError"], srv.read_log()[-3000:]
    assert c[SUB]["lastRefresh"] == last
    assert "f1|None" in events_of(srv, cal)
    feeds.put("/f.ics", [vevent("f1", "Stays"), vevent("f2", "Back")])
    c = wait_for(lambda: calendar(srv, cal)[SUB]["lastError"] is None and calendar(srv, cal),
                 timeout=20)
    assert c and set(events_of(srv, cal)) == {"f1|None", "f2|None"}


def test_section5_private_addresses_denied_by_default(feeds):
    """issue 17 §5: without fetch_allow, loopback is refused (so are private ranges)."""
    s = Server(config=CONFIG + "subscription_min_interval = 1\nsubscription_scan = 1\n")
    try:
        feeds.put("/p.ics", [vevent("p1", "Private")])
        r = subscribe(s, "alice", feeds.url("/p.ics"))
        assert r.returncode == 1
        c = calendar(s, r.stdout.strip())
        assert "not allowed" in c[SUB]["lastError"]
        assert feeds.requests.get("/p.ics") is None
        r = subscribe(s, "alice", "http://10.1.2.3/x.ics")
        assert "not allowed" in calendar(s, r.stdout.strip())[SUB]["lastError"]
    finally:
        s.close()


def test_section5_redirects_are_followed_and_limited(srv, feeds):
    feeds.put("/target.ics", [vevent("t1", "Target")])
    r = subscribe(srv, "alice", feeds.url("/redirect/target.ics"))
    assert r.returncode == 0, r.stderr
    assert "t1|None" in events_of(srv, r.stdout.strip())
    r = subscribe(srv, "alice", feeds.url("/redirect" * 7 + "/target.ics"))
    assert r.returncode == 1
    assert "redirects" in calendar(srv, r.stdout.strip())[SUB]["lastError"]


def test_subscription_survives_a_restart_and_users_are_independent(srv, feeds):
    feeds.put("/g.ics", [vevent("s1", "Shared feed")])
    ca = subscribe(srv, "alice", feeds.url("/g.ics")).stdout.strip()
    cb = subscribe(srv, "bob", feeds.url("/g.ics")).stdout.strip()
    assert "s1|None" in events_of(srv, ca) and "s1|None" in events_of(srv, cb, user="bob")
    srv.stop()
    srv.start()
    feeds.put("/g.ics", [vevent("s1", "Shared feed"), vevent("s2", "After restart")])
    assert wait_for(lambda: "s2|None" in events_of(srv, ca)), srv.read_log()[-3000:]
    assert wait_for(lambda: "s2|None" in events_of(srv, cb, user="bob"))
    # bob unsubscribing leaves alice's alone
    _, r = srv.call("Calendar/set", {"accountId": srv.account("bob"), "destroy": [cb],
                                     "onDestroyRemoveEvents": True}, user="bob", using=USING)
    assert r["destroyed"] == [cb]
    assert "s1|None" in events_of(srv, ca)


# ---- the subscription upgrade, server side (draft-ietf-calext-subscription-upgrade-13) ----

import requests  # noqa: E402

from conftest import run_cli  # noqa: E402


def new_event(s, cal, uid, title):
    _, r = s.call("CalendarEvent/set", {"accountId": s.account(), "create": {"e": {
        "calendarIds": {cal: True}, "uid": uid, "title": title,
        "start": "2027-03-01T10:00:00", "timeZone": "Europe/Berlin", "duration": "PT1H"}}},
        using=USING)
    return r["created"]["e"]["id"]


@pytest.fixture
def published(srv):
    """A calendar of alice with two events and its secret feed URL."""
    acc = srv.account()
    _, r = srv.call("Calendar/set", {"accountId": acc, "create": {"p": {"name": "Published"}}},
                    using=USING)
    cal = r["created"]["p"]["id"]
    ids = {u: new_event(srv, cal, u, u.upper()) for u in ("pa@x", "pb@x")}
    out = run_cli(srv.data, "feed", "create", "--user", "alice", "--calendar", cal)
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    return cal, ids, srv.base + url[url.index("/feed/"):]


def test_section2_feed_advertises_enhanced_get_link_on_head(srv, published):
    cal, ids, url = published
    r = requests.head(url)
    assert r.status_code == 200
    assert 'rel="subscribe-enhanced-get"' in r.headers["Link"]
    assert r.headers["Link"].startswith("<" + url)
    r = srv.http().head(f"{srv.base}/export/calendar/{srv.account()}/{cal}.ics")
    assert 'rel="subscribe-enhanced-get"' in r.headers["Link"]
    assert r.headers["Cache-Control"] == "private, no-cache"


def test_section3_1_enhanced_get_full_then_delta_with_deleted_tombstones(srv, published):
    cal, ids, url = published
    pref = {"Prefer": "subscribe-enhanced-get"}
    r = requests.get(url, headers=pref)
    assert r.status_code == 200
    assert r.headers["Preference-Applied"] == "subscribe-enhanced-get"
    assert "Prefer" in r.headers["Vary"] and "Sync-Token" in r.headers["Vary"]
    token = r.headers["Sync-Token"]
    assert token.startswith('"data:,') and token.endswith('"')
    assert "UID:pa@x" in r.text and "UID:pb@x" in r.text
    # §3.5 example 2: nothing changed -> 304 with the same token
    r = requests.get(url, headers=dict(pref, **{"Sync-Token": token}))
    assert r.status_code == 304 and r.headers["Sync-Token"] == token
    # a change, a new event and a deletion
    acc = srv.account()
    srv.call("CalendarEvent/set", {"accountId": acc, "update": {ids["pa@x"]: {"title": "PA2"}},
                                   "destroy": [ids["pb@x"]]}, using=USING)
    new_event(srv, cal, "pc@x", "PC")
    r = requests.get(url, headers=dict(pref, **{"Sync-Token": token}))
    assert r.status_code == 200, r.text
    assert r.headers["Sync-Token"] != token
    body = r.text.replace("\r\n ", "")
    assert body.count("BEGIN:VEVENT") == 3
    assert "SUMMARY:PA2" in body and "UID:pc@x" in body
    comps = {c.split("UID:")[1].split("\r\n")[0]: c
             for c in body.split("BEGIN:VEVENT")[1:]}
    assert "STATUS:DELETED" in comps["pb@x"]
    assert "STATUS:DELETED" not in comps["pa@x"] + comps["pc@x"]
    # §3.2: a skeleton is still a valid VEVENT: DTSTAMP and DTSTART
    assert "DTSTAMP:" in comps["pb@x"] and "DTSTART:" in comps["pb@x"]
    # §3.2: on subsequent fetches the entity is not returned
    r2 = requests.get(url, headers=dict(pref, **{"Sync-Token": r.headers["Sync-Token"]}))
    assert r2.status_code == 304


def test_section3_1_invalid_sync_token_is_409(srv, published):
    cal, ids, url = published
    pref = {"Prefer": "subscribe-enhanced-get"}
    for bad in ('"data:,999999999"', '"nonsense"', "data:,1"):
        r = requests.get(url, headers=dict(pref, **{"Sync-Token": bad}))
        assert r.status_code == 409, bad
        assert r.headers["Preference-Applied"] == "subscribe-enhanced-get"


def test_section3_4_plain_get_has_etag_and_answers_304(srv, published):
    cal, ids, url = published
    r = requests.get(url)
    assert r.status_code == 200 and r.headers["ETag"]
    assert "Sync-Token" in r.headers  # §3.1: MAY signal support without Prefer
    assert "Preference-Applied" not in r.headers
    r2 = requests.get(url, headers={"If-None-Match": r.headers["ETag"]})
    assert r2.status_code == 304
    new_event(srv, cal, "pd@x", "PD")
    r3 = requests.get(url, headers={"If-None-Match": r.headers["ETag"]})
    assert r3.status_code == 200 and "UID:pd@x" in r3.text


def test_section3_2_refreshed_subscription_deletions_reach_the_published_feed(srv, feeds):
    """Events a subscription drops are deleted from a feed that republishes it."""
    feeds.put("/h.ics", [vevent("h1", "One"), vevent("h2", "Two")])
    cal = subscribe(srv, "alice", feeds.url("/h.ics")).stdout.strip()
    out = run_cli(srv.data, "feed", "create", "--user", "alice", "--calendar", cal).stdout.strip()
    url = srv.base + out[out.index("/feed/"):]
    token = requests.get(url, headers={"Prefer": "subscribe-enhanced-get"}).headers["Sync-Token"]
    feeds.put("/h.ics", [vevent("h1", "One")])
    assert wait_for(lambda: "h2|None" not in events_of(srv, cal))
    r = requests.get(url, headers={"Prefer": "subscribe-enhanced-get", "Sync-Token": token})
    body = r.text.replace("\r\n ", "")
    assert r.status_code == 200 and "UID:h2" in body and "STATUS:DELETED" in body
    assert "UID:h1" not in body


# ---- the subscription upgrade, client side (§3 as the subscriber) ----

def test_section3_client_uses_enhanced_get_against_our_own_feed(srv, published):
    """bob subscribes to alice's published feed (this server's §3 implementation):
    the first fetch is full and keeps the Sync-Token, later ones carry it and apply
    only the delta, with STATUS:DELETED removing the event."""
    cal, ids, url = published
    r = subscribe(srv, "bob", url)
    assert r.returncode == 0, r.stderr
    bcal = r.stdout.strip()
    sub = calendar(srv, bcal, user="bob")[SUB]
    assert sub["syncToken"] and sub["syncToken"].startswith('"data:,')
    before = events_of(srv, bcal, user="bob")
    assert set(before) == {"pa@x|None", "pb@x|None"}
    acc = srv.account()
    srv.call("CalendarEvent/set", {"accountId": acc, "update": {ids["pa@x"]: {"title": "PA3"}},
                                   "destroy": [ids["pb@x"]]}, using=USING)
    new_event(srv, cal, "pe@x", "PE")
    out = subprocess.run([JMAPD, "subscribe", "--user", "bob", "--refresh", bcal, "--data",
                          srv.data, "--config", srv.config], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    after = events_of(srv, bcal, user="bob")
    assert set(after) == {"pa@x|None", "pe@x|None"}
    assert after["pa@x|None"]["title"] == "PA3"
    assert after["pa@x|None"]["id"] == before["pa@x|None"]["id"]
    assert calendar(srv, bcal, user="bob")[SUB]["syncToken"] != sub["syncToken"]


class EnhancedFeed(Feeds):
    """A feed that speaks Enhanced GET: versions of the event set; a delta from a
    known token, 409 for a token it has forgotten."""

    def __init__(self):
        super().__init__()
        self.versions = []  # list of {uid: summary}
        self.seen_tokens = []
        self.forget = False
        feeds = self
        handler = self.httpd.RequestHandlerClass

        def do_GET(h):
            tok = h.headers.get("Sync-Token")
            feeds.seen_tokens.append(tok)
            cur = len(feeds.versions) - 1
            hdrs = {"Sync-Token": f'"data:,{cur}"',
                    "Preference-Applied": "subscribe-enhanced-get"}
            if tok and feeds.forget:
                h.send_response(409)
                h.send_header("Content-Length", "0")
                h.end_headers()
                return
            if tok:
                old = feeds.versions[int(tok.strip('"').split(",")[1])]
                new = feeds.versions[cur]
                evs = [vevent(u, s) for u, s in new.items() if old.get(u) != s]
                evs += [vevent(u, "x").replace("SUMMARY:x", "STATUS:DELETED")
                        for u in old if u not in new]
            else:
                evs = [vevent(u, s) for u, s in feeds.versions[cur].items()]
            body = ics(evs)
            h.send_response(200)
            for k, v in hdrs.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)

        handler.do_GET = do_GET


def test_section3_1_refused_token_falls_back_to_a_full_get():
    # the server's refresher looks once at start only: each refresh here is the CLI's
    srv = Server(config=FEED_CONFIG.replace("subscription_scan = 1", "subscription_scan = 3600"))
    f = EnhancedFeed()
    try:
        f.versions.append({"q1": "One", "q2": "Two", "q3": "Three"})
        cal = subscribe(srv, "alice", f.url("/q.ics")).stdout.strip()
        assert set(events_of(srv, cal)) == {"q1|None", "q2|None", "q3|None"}
        f.versions.append({"q1": "One!", "q3": "Three"})
        refresh = [JMAPD, "subscribe", "--user", "alice", "--refresh", cal, "--data", srv.data,
                   "--config", srv.config]
        assert subprocess.run(refresh, capture_output=True).returncode == 0
        assert f.seen_tokens[-1] == '"data:,0"'  # the delta was asked for
        evs = events_of(srv, cal)
        assert set(evs) == {"q1|None", "q3|None"} and evs["q1|None"]["title"] == "One!"
        # the server forgets tokens: 409, then a full GET, which also removes q3
        f.versions.append({"q1": "One!"})
        f.forget = True
        assert subprocess.run(refresh, capture_output=True).returncode == 0
        assert f.seen_tokens[-2] == '"data:,1"' and f.seen_tokens[-1] is None
        assert set(events_of(srv, cal)) == {"q1|None"}
    finally:
        f.close()
        srv.close()


# ---- issue 17 §1/§2: a refresh is a change like any other ----

def test_refresh_pushes_its_state_change_to_open_event_source_streams(srv, feeds):
    """RFC 8620 §7.3: the CalendarEvent state a refresh commits reaches an open
    EventSource stream at once (the same push path as a /set), not at the client's
    next /changes."""
    import json
    from test_push import Stream, es_url
    feeds.put("/push.ics", [vevent("pu1", "One")])
    cal = subscribe(srv, "alice", feeds.url("/push.ics")).stdout.strip()
    acc = srv.account()
    s = Stream(srv, es_url(srv, types="CalendarEvent"))
    try:
        t0 = time.time()
        feeds.put("/push.ics", [vevent("pu1", "One"), vevent("pu2", "Two")])
        name, data, _ = s.event()
        assert name == "state", srv.read_log()[-2000:]
        pushed = json.loads(data)["changed"][acc]["CalendarEvent"]
        assert time.time() - t0 < 8
        assert "pu2|None" in events_of(srv, cal)
        _, st = srv.call("CalendarEvent/get", {"accountId": acc, "ids": []}, using=USING)
        assert pushed == st["state"]
    finally:
        s.close()


def test_cli_refresh_is_pushed_by_the_running_server(feeds):
    """issue 17 §1: `jmapd subscribe` runs as a process of its own beside the server;
    what it commits reaches the server's open EventSource streams at once (RFC 8620
    §7.3) through the store's bus (SQLite: the data directory's sockets; PostgreSQL:
    NOTIFY), not at the clients' next request. The server's own refresher does not
    look during the test."""
    import json
    from test_push import Stream, es_url
    s = Server(config=FEED_CONFIG.replace("subscription_scan = 1", "subscription_scan = 3600"))
    try:
        acc = s.account()
        feeds.put("/cli.ics", [vevent("cl1", "One")])
        stream = Stream(s, es_url(s, types="Calendar,CalendarEvent"))
        cal = subscribe(s, "alice", feeds.url("/cli.ics")).stdout.strip()
        _, st = s.call("Calendar/get", {"accountId": acc, "ids": []}, using=USING)
        seen = {}
        while seen.get("Calendar") != st["state"]:  # the new calendar, from the CLI
            name, data, _ = stream.event()
            assert name == "state"
            seen.update(json.loads(data)["changed"][acc])
        feeds.put("/cli.ics", [vevent("cl1", "One"), vevent("cl2", "Two")])
        t0 = time.time()
        out = subprocess.run([JMAPD, "subscribe", "--user", "alice", "--refresh", cal, "--data",
                              s.data, "--config", s.config], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        _, ev = s.call("CalendarEvent/get", {"accountId": acc, "ids": []}, using=USING)
        while seen.get("CalendarEvent") != ev["state"]:
            name, data, _ = stream.event()
            assert name == "state"
            seen.update(json.loads(data)["changed"][acc])
        assert time.time() - t0 < 8
        assert "cl2|None" in events_of(s, cal)
        stream.close()
    finally:
        s.close()


def test_event_skipped_for_a_uid_held_elsewhere_is_tried_again(feeds):
    """issue 17 §1: a feed event whose uid another calendar of the account holds is
    left out (the user's own copy is never overwritten) and named in skippedUids; once
    the user's copy is gone it is taken up at the feed's next change, and, if the
    feed does not change, by a full fetch at skippedRetryAt (a 304 answer would
    otherwise hide it for good)."""
    s = Server(config=FEED_CONFIG.replace("subscription_scan = 1", "subscription_scan = 3600")
               + "subscription_retry_skipped = 2\n")
    try:
        acc = s.account()
        _, r = s.call("Calendar/set", {"accountId": acc, "create": {"m": {"name": "Mine"}}},
                      using=USING)
        mine = r["created"]["m"]["id"]
        own = new_event(s, mine, "dup@x", "My copy")
        feeds.put("/dup.ics", [vevent("dup@x", "Feed copy"), vevent("k1", "Keep")])
        cal = subscribe(s, "alice", feeds.url("/dup.ics")).stdout.strip()
        assert set(events_of(s, cal)) == {"k1|None"}
        sub = calendar(s, cal)[SUB]
        assert sub["skippedUids"] == ["dup@x"] and sub["skippedRetryAt"]
        assert events_of(s, mine)["dup@x|None"]["title"] == "My copy"

        def refresh():
            out = subprocess.run([JMAPD, "subscribe", "--user", "alice", "--refresh", cal,
                                  "--data", s.data, "--config", s.config],
                                 capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out.stderr
        s.call("CalendarEvent/set", {"accountId": acc, "destroy": [own]}, using=USING)
        feeds.put("/dup.ics", [vevent("dup@x", "Feed copy"), vevent("k1", "Keep"),
                               vevent("k2", "New")])
        refresh()  # the feed changed elsewhere: the skipped entity is converted again
        assert set(events_of(s, cal)) == {"dup@x|None", "k1|None", "k2|None"}
        sub = calendar(s, cal)[SUB]
        assert sub["skippedUids"] is None and sub["skippedRetryAt"] is None
        # skipped again; the feed then stays the same (304) while the user's copy goes
        own = new_event(s, mine, "dup2@x", "Mine too")
        feeds.put("/dup.ics", [vevent("dup@x", "Feed copy"), vevent("k1", "Keep"),
                               vevent("dup2@x", "Feed copy 2")])
        refresh()
        assert calendar(s, cal)[SUB]["skippedUids"] == ["dup2@x"]
        s.call("CalendarEvent/set", {"accountId": acc, "destroy": [own]}, using=USING)
        before = feeds.not_modified
        refresh()  # not due yet: a conditional request, 304
        assert feeds.not_modified == before + 1
        assert "dup2@x|None" not in events_of(s, cal)
        time.sleep(2.5)
        refresh()  # due: a full fetch, and the event is taken up
        assert feeds.not_modified == before + 1
        assert "dup2@x|None" in events_of(s, cal)
        assert calendar(s, cal)[SUB]["skippedUids"] is None
    finally:
        s.close()


def put_with_head(feeds, path, head, events):
    body = ("\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//feed//EN",
                         "REFRESH-INTERVAL;VALUE=DURATION:PT1S"] + head + events +
                        ["END:VCALENDAR"]) + "\r\n").encode()
    feeds.docs[path] = (body, '"%d"' % hash(body))


def test_rfc7986_name_description_color_adopted_until_the_user_changes_them(srv, feeds):
    """RFC 7986 §5.1 NAME (or the older X-WR-CALNAME), §5.2 DESCRIPTION
    (X-WR-CALDESC), §5.9 COLOR become the calendar's name, description and color
    while the user has not chosen their own, and follow the feed's changes."""
    put_with_head(feeds, "/m.ics", ["NAME:School holidays", "COLOR:crimson",
                                    "X-WR-CALDESC:All of them"], [vevent("m1", "One")])
    cal = subscribe(srv, "alice", feeds.url("/m.ics")).stdout.strip()
    c = calendar(srv, cal)
    assert (c["name"], c["color"], c["description"]) == ("School holidays", "crimson",
                                                         "All of them")
    put_with_head(feeds, "/x.ics", ["X-WR-CALNAME:Fixtures"], [vevent("x1", "Match")])
    assert calendar(srv, subscribe(srv, "alice", feeds.url("/x.ics")).stdout.strip())[
        "name"] == "Fixtures"
    # a name given when subscribing is the user's
    given = subscribe(srv, "alice", feeds.url("/x.ics"), "--name", "Given").stdout.strip()
    assert calendar(srv, given)["name"] == "Given"
    # the feed renames itself: followed
    put_with_head(feeds, "/m.ics", ["NAME:School holidays 2027", "COLOR:crimson",
                                    "X-WR-CALDESC:All of them"], [vevent("m1", "One")])
    assert wait_for(lambda: calendar(srv, cal)["name"] == "School holidays 2027"), \
        srv.read_log()[-2000:]
    # the user's own choice stays theirs
    _, r = srv.call("Calendar/set", {"accountId": srv.account(), "update": {cal: {
        "name": "Mine", "color": "blue"}}}, using=USING)
    assert cal in r["updated"], r
    put_with_head(feeds, "/m.ics", ["NAME:Renamed again", "COLOR:teal",
                                    "X-WR-CALDESC:Changed too"], [vevent("m1", "One")])
    c = wait_for(lambda: calendar(srv, cal)["description"] == "Changed too" and
                 calendar(srv, cal))
    assert c and c["name"] == "Mine" and c["color"] == "blue"
    assert c[SUB]["feedName"] == "School holidays 2027"  # what was adopted last


def test_plain_feed_refresh_converts_and_writes_only_changed_entities(feeds):
    """A refresh of a plain feed converts only the entities (a UID with its
    overrides, subscription-upgrade §3.1) whose text changed since the last one:
    a new DTSTAMP alone is no change; an override's change updates its event; a
    removed UID is destroyed, a new one created; the rest keep ids and states. A
    changed VTIMEZONE converts everything again (same result for unchanged events)."""
    s = Server(config=FEED_CONFIG.replace("subscription_scan = 1", "subscription_scan = 3600"))
    try:
        tz = ["BEGIN:VTIMEZONE", "TZID:Test/Zone", "BEGIN:STANDARD", "DTSTART:19700101T000000",
              "TZOFFSETFROM:+0100", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE"]
        master = ["BEGIN:VEVENT", "UID:r1", "DTSTAMP:20270101T000000Z",
                  "DTSTART;TZID=Test/Zone:20270105T100000", "DURATION:PT1H", "RRULE:FREQ=DAILY",
                  "SUMMARY:Daily", "END:VEVENT"]

        def override(title, stamp="20270101T000000Z"):
            return "\r\n".join(["BEGIN:VEVENT", "UID:r1", f"DTSTAMP:{stamp}",
                                "RECURRENCE-ID;TZID=Test/Zone:20270106T100000",
                                "DTSTART;TZID=Test/Zone:20270106T120000", "DURATION:PT1H",
                                f"SUMMARY:{title}", "END:VEVENT"])

        def put(events, zone=tz):
            feeds.put("/cut.ics", ["\r\n".join(zone), "\r\n".join(master)] + events)

        others = [vevent(f"o{i}", f"Other {i}") for i in range(5)]
        put([override("Moved")] + others)
        cal = subscribe(s, "alice", feeds.url("/cut.ics")).stdout.strip()
        acc = s.account()
        first = events_of(s, cal)
        assert set(first) == {"r1|None"} | {f"o{i}|None" for i in range(5)}

        def refresh():
            out = subprocess.run([JMAPD, "subscribe", "--user", "alice", "--refresh", cal,
                                  "--data", s.data, "--config", s.config], capture_output=True,
                                 text=True)
            assert out.returncode == 0, out.stderr

        def changes(since):
            return s.call("CalendarEvent/changes", {"accountId": acc, "sinceState": since},
                          using=USING)[1]

        state = s.call("CalendarEvent/get", {"accountId": acc, "ids": []}, using=USING)[1]["state"]
        # only DTSTAMPs differ: nothing is written
        put([override("Moved", stamp="20270301T000000Z")] +
            [o.replace("DTSTAMP:", "DTSTAMP:2") for o in others])
        refresh()
        assert changes(state)["updated"] == [] and changes(state)["created"] == []
        # the override changes, o0 goes, n1 comes
        put([override("Moved later")] + others[1:] + [vevent("n1", "New")])
        refresh()
        ch = changes(state)
        now = events_of(s, cal)
        assert ch["updated"] == [first["r1|None"]["id"]]
        assert ch["destroyed"] == [first["o0|None"]["id"]]
        assert ch["created"] == [now["n1|None"]["id"]]
        over = now["r1|None"]["recurrenceOverrides"]
        assert [v.get("title") for v in over.values()] == ["Moved later"]
        # a changed VTIMEZONE: everything converted again, unchanged events keep ids
        state2 = s.call("CalendarEvent/get", {"accountId": acc, "ids": []},
                        using=USING)[1]["state"]
        put([override("Moved later")] + others[1:] + [vevent("n1", "New")],
            zone=[ln.replace("+0100", "+0200") for ln in tz])
        refresh()
        after = events_of(s, cal)
        assert {k: v["id"] for k, v in after.items()} == {k: v["id"] for k, v in now.items()}
        assert changes(state2)["updated"] == [first["r1|None"]["id"]]  # its zone's offsets
    finally:
        s.close()


@pytest.mark.sqlite_only
def test_unsubscribing_releases_what_the_refresher_kept(feeds):
    """The digests a refresh keeps of a feed (a blob) are released with the calendar
    (so the blob collector can take them): no storage grows per unsubscription."""
    import sqlite3
    s = Server(config=FEED_CONFIG.replace("subscription_scan = 1", "subscription_scan = 3600"))
    try:
        feeds.put("/rel.ics", [vevent(f"x{i}", f"X {i}") for i in range(3)])
        cal = subscribe(s, "alice", feeds.url("/rel.ics")).stdout.strip()

        def refs():
            db = sqlite3.connect(os.path.join(s.data, "jmapd.db"))
            n = db.execute("SELECT count(*) FROM blob_refs WHERE obj_type='SubscriptionDigests'"
                           ).fetchone()[0]
            db.close()
            return n
        assert refs() == 1
        _, r = s.call("Calendar/set", {"accountId": s.account(), "destroy": [cal],
                                       "onDestroyRemoveEvents": True}, using=USING)
        assert r["destroyed"] == [cal]
        assert refs() == 0
    finally:
        s.close()
