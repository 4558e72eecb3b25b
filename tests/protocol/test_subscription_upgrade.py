"""The subscription upgrade beyond the basics of test_subscriptions.py
(draft-ietf-calext-subscription-upgrade-13): §3.3 paging with Prefer: limit=N on
both sides, §7 link relations, following a Link to another URL (with the outbound
safety rules of issue 17 §5), Last-Modified / If-Modified-Since."""
import re
import subprocess

import pytest
import requests

from conftest import JMAPD, Server
from test_subscriptions import (FEED_CONFIG, SUB, USING, calendar, events_of,  # noqa: F401
                                feeds, new_event, published, subscribe, vevent)

# The server's refresher looks once at start only: refreshes here are the CLI's,
# one at a time, so each step is seen.
QUIET = FEED_CONFIG.replace("subscription_scan = 1", "subscription_scan = 3600")


@pytest.fixture
def srv():
    s = Server(config=QUIET)
    yield s
    s.close()

ENH = "subscribe-enhanced-get"


def uids(body):
    body = body.replace("\r\n ", "")
    return [c.split("UID:")[1].split("\r\n")[0] for c in body.split("BEGIN:VEVENT")[1:]]


def deleted(body):
    body = body.replace("\r\n ", "")
    return {c.split("UID:")[1].split("\r\n")[0] for c in body.split("BEGIN:VEVENT")[1:]
            if "STATUS:DELETED" in c}


def pages(url, limit, token=None):
    """Every page of an Enhanced GET with Prefer: limit (§3.3), as (uids, answer)."""
    out = []
    for _ in range(50):
        h = {"Prefer": f"{ENH}, limit={limit}"}
        if token:
            h["Sync-Token"] = token
        r = requests.get(url, headers=h)
        if r.status_code == 304:
            break
        assert r.status_code == 200, r.text
        out.append(r)
        token = r.headers["Sync-Token"]
        if "limit=" not in r.headers.get("Preference-Applied", ""):
            break
    return out, token


def test_section3_3_full_listing_in_pages_then_delta_in_pages(srv, published):
    cal, ids, url = published
    for u in ("pc@x", "pd@x", "pe@x"):
        ids[u] = new_event(srv, cal, u, u.upper())
    got, token = pages(url, 2)
    assert [len(uids(r.text)) for r in got] == [2, 2, 1]
    # §3.3: a truncated answer names the limit applied and a token to continue from
    for r in got[:-1]:
        assert r.headers["Preference-Applied"] == f"{ENH}, limit=2"
        assert "ETag" not in r.headers  # a page is not the whole representation
    assert got[-1].headers["Preference-Applied"] == ENH
    seen = [u for r in got for u in uids(r.text)]
    assert sorted(seen) == sorted(ids)  # each event once
    # the token the last page gave is a plain one: nothing changed since -> 304
    r = requests.get(url, headers={"Prefer": ENH, "Sync-Token": token})
    assert r.status_code == 304
    # the delta, paged too: 3 changes and a deletion in pages of 2
    acc = srv.account()
    srv.call("CalendarEvent/set", {"accountId": acc, "update": {
        ids[u]: {"title": "changed"} for u in ("pa@x", "pc@x", "pe@x")},
        "destroy": [ids["pb@x"]]}, using=USING)
    got, token2 = pages(url, 2, token)
    assert [len(uids(r.text)) for r in got] == [2, 2]
    assert got[0].headers["Preference-Applied"] == f"{ENH}, limit=2"
    assert sorted(u for r in got for u in uids(r.text)) == ["pa@x", "pb@x", "pc@x", "pe@x"]
    assert set().union(*(deleted(r.text) for r in got)) == {"pb@x"}
    r = requests.get(url, headers={"Prefer": ENH, "Sync-Token": token2})
    assert r.status_code == 304


def test_section3_3_a_change_while_paging_is_caught_by_the_next_delta(srv, published):
    cal, ids, url = published
    r = requests.get(url, headers={"Prefer": f"{ENH}, limit=1"})
    first = uids(r.text)
    assert len(first) == 1 and "/" in r.headers["Sync-Token"]
    srv.call("CalendarEvent/set", {"accountId": srv.account(), "update": {
        ids[first[0]]: {"title": "edited between pages"}}}, using=USING)
    rest, token = pages(url, 1, r.headers["Sync-Token"])
    assert sorted(first + [u for p in rest for u in uids(p.text)]) == sorted(ids)
    got, _ = pages(url, 10, token)
    assert any("edited between pages" in p.text for p in got)


def test_section3_3_pages_of_a_listing_see_removals_and_the_delta_sees_the_rest(srv, published):
    """§3.3: a full listing in pages is of the calendar at its first page's state; an
    event destroyed or moved to another calendar between pages is not listed, one
    created meanwhile comes with the next delta (nothing is lost, nothing listed that
    is no longer the calendar's)."""
    cal, ids, url = published
    for u in ("qa@x", "qb@x", "qc@x", "qd@x"):
        ids[u] = new_event(srv, cal, u, u.upper())
    acc = srv.account()
    r = requests.get(url, headers={"Prefer": f"{ENH}, limit=2"})
    first = uids(r.text)
    rest_ids = sorted((i, u) for u, i in ids.items() if u not in first)
    gone, moved = rest_ids[0][1], rest_ids[1][1]
    _, other = srv.call("Calendar/set", {"accountId": acc, "create": {"o": {"name": "Other"}}},
                        using=USING)
    srv.call("CalendarEvent/set", {"accountId": acc, "destroy": [ids[gone]], "update": {
        ids[moved]: {"calendarIds": {other["created"]["o"]["id"]: True}}}}, using=USING)
    ids["qe@x"] = new_event(srv, cal, "qe@x", "Late")
    rest, token = pages(url, 2, r.headers["Sync-Token"])
    listed = first + [u for p in rest for u in uids(p.text)]
    assert gone not in listed[2:] and moved not in listed[2:]
    assert len(listed) == len(set(listed))
    got, _ = pages(url, 10, token)
    delta = [u for p in got for u in uids(p.text)]
    assert "qe@x" in delta + listed
    assert {gone, moved} <= set(delta) and {gone, moved} <= set().union(
        *(deleted(p.text) for p in got))


def test_section3_3_bad_paging_tokens_are_409(srv, published):
    cal, ids, url = published
    for bad in ('"data:,1/"', '"data:,1/a b"', '"data:,99999/e1"'):
        r = requests.get(url, headers={"Prefer": f"{ENH}, limit=1", "Sync-Token": bad})
        assert r.status_code == 409, bad


# ---- the client side: paging (§3.3) and a Link to another URL (§2, §7.5) ----


def refresh(s, user, cal):
    out = subprocess.run([JMAPD, "subscribe", "--user", user, "--refresh", cal, "--data",
                          s.data, "--config", s.config], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr


@pytest.fixture
def paged():
    """A server whose subscriptions ask for pages of 2 (subscription_page_limit)."""
    s = Server(config=QUIET + "subscription_page_limit = 2\n")
    yield s
    s.close()


def test_section3_3_client_asks_a_limit_and_fetches_every_page(paged):
    """With subscription_page_limit the subscription asks Prefer: limit=N and
    fetches the next pages at once with each page's token: a full listing in pages
    is applied as the whole feed, a delta in pages as one delta (deletions
    included)."""
    srv = paged
    acc = srv.account()
    _, r = srv.call("Calendar/set", {"accountId": acc, "create": {"p": {"name": "Src"}}},
                    using=USING)
    cal = r["created"]["p"]["id"]
    ids = {u: new_event(srv, cal, u, u.upper()) for u in ("a@x", "b@x", "c@x", "d@x", "e@x")}
    out = subprocess.run([JMAPD, "feed", "create", "--user", "alice", "--calendar", cal,
                          "--data", srv.data], capture_output=True, text=True)
    url = srv.base + out.stdout.strip()[out.stdout.strip().index("/feed/"):]
    r = subscribe(srv, "bob", url)
    assert r.returncode == 0, r.stderr
    bcal = r.stdout.strip()
    assert set(events_of(srv, bcal, user="bob")) == {u + "|None" for u in ids}
    token = calendar(srv, bcal, user="bob")[SUB]["syncToken"]
    assert "/" not in token  # the token of the last page: the listing's state
    srv.call("CalendarEvent/set", {"accountId": acc, "update": {
        ids[u]: {"title": "new " + u} for u in ("a@x", "c@x", "e@x")},
        "destroy": [ids["b@x"]]}, using=USING)
    refresh(srv, "bob", bcal)
    after = events_of(srv, bcal, user="bob")
    assert set(after) == {"a@x|None", "c@x|None", "d@x|None", "e@x|None"}
    assert after["e@x|None"]["title"] == "new e@x"


def test_section2_link_to_another_url_is_followed_with_enhanced_get(srv, published, feeds):
    """A plain feed that advertises Link: rel="subscribe-enhanced-get" at another URL
    (here this server's own feed) is fetched from there from then on, with Enhanced
    GET and its Sync-Token; the plain URL is not asked again."""
    cal, ids, url = published
    body = requests.get(url).content
    feeds.docs["/plain.ics"] = (body, '"plain"')
    feeds.links["/plain.ics"] = f'<{url}>; rel="subscribe-enhanced-get"'
    r = subscribe(srv, "bob", feeds.url("/plain.ics"))
    assert r.returncode == 0, r.stderr
    bcal = r.stdout.strip()
    sub = calendar(srv, bcal, user="bob")[SUB]
    assert sub["enhancedUrl"] == url and sub["syncToken"] is None
    refresh(srv, "bob", bcal)  # now from the Link's URL, a full Enhanced GET
    sub = calendar(srv, bcal, user="bob")[SUB]
    assert sub["syncToken"] and sub["syncToken"].startswith('"data:,')
    before = events_of(srv, bcal, user="bob")
    srv.call("CalendarEvent/set", {"accountId": srv.account(), "destroy": [ids["pb@x"]]},
             using=USING)
    refresh(srv, "bob", bcal)  # the delta
    after = events_of(srv, bcal, user="bob")
    assert set(after) == {"pa@x|None"} and after["pa@x|None"]["id"] == before["pa@x|None"]["id"]
    assert feeds.requests["/plain.ics"] == 1


def test_section2_link_target_obeys_the_outbound_rules(srv, feeds):
    """issue 17 §5 applies to a Link's URL as to the feed's: a private address is
    refused, the failure recorded, the events kept, and the feed's own URL used
    again next time."""
    feeds.put("/lk.ics", [vevent("l1", "Linked")])
    feeds.links["/lk.ics"] = '<http://10.255.0.1/x.ics>; rel="subscribe-enhanced-get"'
    cal = subscribe(srv, "alice", feeds.url("/lk.ics")).stdout.strip()
    assert calendar(srv, cal)[SUB]["enhancedUrl"] == "http://10.255.0.1/x.ics"
    out = subprocess.run([JMAPD, "subscribe", "--user", "alice", "--refresh", cal, "--data",
                          srv.data, "--config", srv.config], capture_output=True, text=True)
    assert out.returncode == 1
    sub = calendar(srv, cal)[SUB]
    assert "not allowed" in sub["lastError"] and sub["enhancedUrl"] is None
    assert "l1|None" in events_of(srv, cal)
    feeds.links.pop("/lk.ics")
    refresh(srv, "alice", cal)
    assert calendar(srv, cal)[SUB]["lastError"] is None


# ---- §7 link relations on our own answers ----

SYNC_COLLECTION = """<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level>
<D:prop><D:getetag/></D:prop></D:sync-collection>"""


def test_section7_3_7_4_export_links_the_caldav_collection_that_answers_sync(srv, published):
    """§7.3 subscribe-caldav-auth and §7.4 subscribe-webdav-sync name the calendar's
    collection in the DAV tree, which answers an RFC 6578 sync-collection REPORT for
    the same events; the secret feed URL does not reveal it (§9)."""
    cal, ids, url = published
    exp = f"{srv.base}/export/calendar/{srv.account()}/{cal}.ics"
    r = srv.http().get(exp)
    link = r.headers["Link"]
    m = re.search(r'<([^>]+)>; rel="subscribe-caldav-auth subscribe-webdav-sync"', link)
    assert m, link
    assert 'rel="subscribe-enhanced-get"' in link
    dav = m.group(1)
    assert dav.startswith(srv.base + "/dav/calendars/")
    r = srv.http().request("REPORT", dav, data=SYNC_COLLECTION,
                           headers={"Content-Type": "application/xml", "Depth": "1"})
    assert r.status_code == 207, r.text
    assert r.text.count("<D:response>") + r.text.count("<D:response ") == 2
    assert "sync-token" in r.text
    # an anonymous holder of the feed URL is not told where the account's DAV tree is
    assert "subscribe-caldav" not in requests.head(url).headers["Link"]


# ---- §3.4 caching: Last-Modified / If-Modified-Since on our feeds (RFC 9110) ----

def test_section3_4_last_modified_and_if_modified_since(srv, published):
    cal, ids, url = published
    r = requests.get(url)
    lm = r.headers["Last-Modified"]
    assert lm.endswith(" GMT")
    assert requests.head(url).headers["Last-Modified"] == lm
    # RFC 9110 §13.1.3: unchanged since -> 304; a change (even within the same
    # second) -> 200 with the change
    assert requests.get(url, headers={"If-Modified-Since": lm}).status_code == 304
    new_event(srv, cal, "lm@x", "LM")
    r2 = requests.get(url, headers={"If-Modified-Since": lm})
    assert r2.status_code == 200 and "UID:lm@x" in r2.text
    lm2 = r2.headers["Last-Modified"]
    # a state first seen in the second of the one before cannot be told apart by
    # an HTTP-date: then only a later date gives a 304
    same_second = 200 if lm2 == lm else 304
    assert requests.get(url, headers={"If-Modified-Since": lm2}).status_code == same_second
    # If-None-Match wins over If-Modified-Since; a bad or future date is ignored
    r3 = requests.get(url, headers={"If-Modified-Since": lm2, "If-None-Match": '"other"'})
    assert r3.status_code == 200
    for bad in ("yesterday", "Fri, 31 Dec 2100 23:59:59 GMT"):
        assert requests.get(url, headers={"If-Modified-Since": bad}).status_code == 200
    # the authenticated export too
    exp = f"{srv.base}/export/calendar/{srv.account()}/{cal}.ics"
    r4 = srv.http().get(exp)
    assert r4.headers["Last-Modified"] == lm2
    assert srv.http().get(exp, headers={"If-Modified-Since": lm2}).status_code == same_second


def test_section3_4_last_modified_survives_a_restart(srv, published):
    """RFC 9110 §8.8.2: the Last-Modified of an unchanged feed is the same after the
    server restarts (kept in the store, not per process), so a cache's
    If-Modified-Since still gets its 304."""
    import time
    cal, ids, url = published
    lm = requests.get(url).headers["Last-Modified"]
    time.sleep(1.1)  # a time first seen after the restart would be a later second
    srv.stop()
    srv.start()
    r = requests.get(url)
    assert r.status_code == 200 and r.headers["Last-Modified"] == lm
    assert requests.get(url, headers={"If-Modified-Since": lm}).status_code == 304
    new_event(srv, cal, "lr@x", "After restart")
    r2 = requests.get(url, headers={"If-Modified-Since": lm})
    assert r2.status_code == 200 and r2.headers["Last-Modified"] != lm


# ---- deletions are remembered for a bounded time (§3.1, §3.2) ----

def test_section3_2_tombstones_pruned_after_the_bound_then_old_tokens_are_409(feeds):
    """A deletion is reported as STATUS:DELETED to tokens from before it while it is
    remembered (feed_tombstone_ttl); once pruned, such a token gets 409 (§3.1: the
    client starts over), while a token from after the deletion stays valid."""
    import time
    from conftest import run_cli
    s = Server(config=FEED_CONFIG + "feed_tombstone_ttl = 2\n")
    try:
        acc = s.account()
        _, r = s.call("Calendar/set", {"accountId": acc, "create": {"p": {"name": "P"}}},
                      using=USING)
        cal = r["created"]["p"]["id"]
        ids = {u: new_event(s, cal, u, u) for u in ("t1@x", "t2@x")}
        out = run_cli(s.data, "feed", "create", "--user", "alice", "--calendar", cal)
        url = s.base + out.stdout.strip()[out.stdout.strip().index("/feed/"):]
        old = requests.get(url, headers={"Prefer": ENH}).headers["Sync-Token"]
        s.call("CalendarEvent/set", {"accountId": acc, "destroy": [ids["t1@x"]]}, using=USING)
        r = requests.get(url, headers={"Prefer": ENH, "Sync-Token": old})
        assert r.status_code == 200 and deleted(r.text) == {"t1@x"}
        after = r.headers["Sync-Token"]
        deadline = time.time() + 20
        while time.time() < deadline:
            r = requests.get(url, headers={"Prefer": ENH, "Sync-Token": old})
            if r.status_code == 409:
                break
            time.sleep(0.5)
        assert r.status_code == 409, s.read_log()[-2000:]
        assert requests.get(url, headers={"Prefer": ENH, "Sync-Token": after}).status_code == 304
        new_event(s, cal, "t3@x", "t3")
        r = requests.get(url, headers={"Prefer": ENH, "Sync-Token": after})
        assert r.status_code == 200 and uids(r.text) == ["t3@x"]
    finally:
        s.close()
