"""The subscription upgrade beyond the basics of test_subscriptions.py
(draft-ietf-calext-subscription-upgrade-13): §3.3 paging with Prefer: limit=N on
both sides, §7 link relations, following a Link to another URL (with the outbound
safety rules of issue 17 §5), Last-Modified / If-Modified-Since."""
import re

import requests

from test_subscriptions import (USING, SUB, calendar, events_of, feeds, new_event,  # noqa: F401
                                published, srv, subscribe, vevent, wait_for)

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


def test_section3_3_bad_paging_tokens_are_409(srv, published):
    cal, ids, url = published
    for bad in ('"data:,1/"', '"data:,1/a b"', '"data:,99999/e1"'):
        r = requests.get(url, headers={"Prefer": f"{ENH}, limit=1", "Sync-Token": bad})
        assert r.status_code == 409, bad
