"""Calendars shared with a user (RFC 9670 §4 shareWith; draft-ietf-jmap-calendars-27 §4
rights, §5.4 per-user properties, §5.7 privacy) served over CalDAV inside the sharee's own
calendar home, as Cyrus and iCloud clients expect (RFC 4791 §6.2.1 calendar-home-set lists
one home): listed there, read and written as the sharee's rights allow (RFC 3744 §5.4
current-user-privilege-set, §7.1.1 need-privileges), hidden from everyone else."""
import uuid
import xml.etree.ElementTree as ET

import pytest

from davutil import (C, D, NSDECL, dav, error_condition, ics, multistatus, need_privileges,
                     propfind, put)

J = "{https://jmapd.org/ns/dav/}"  # our own privileges (RFC 3744 §3: a namespace we control)
from groupware_util import GroupServer

RIGHTS = ["mayReadFreeBusy", "mayReadItems", "mayWriteAll", "mayWriteOwn", "mayUpdatePrivate",
          "mayRSVP", "mayShare", "mayDelete"]


def rights(*names):
    return {r: r in names for r in RIGHTS}


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    s.a = s.own("alice")
    yield s
    s.close()


def home(gs, user):
    return f"/dav/calendars/{gs.own(user)}/"


def privileges(entry):
    ps = entry["props"][D + "current-user-privilege-set"]
    return {p[0].tag.replace(D, "") for p in ps.findall(D + "privilege")}


def shared_calendar(gs, share):
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "create": {"c": {
        "name": "Team " + uuid.uuid4().hex[:6], "shareWith": share}}})
    cid = res["created"]["c"]["id"]
    events = {}
    for privacy in ("public", "private", "secret"):
        _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "create": {"e": {
            "calendarIds": {cid: True}, "title": f"{privacy} meeting", "uid": str(uuid.uuid4()),
            "start": "2026-03-01T10:00:00", "duration": "PT1H", "timeZone": "Europe/Paris",
            "privacy": privacy}}})
        events[privacy] = res["created"]["e"]["id"]
    return cid, events


def test_shared_calendar_listed_and_read_in_sharees_home_rfc4791_6_2_1(gs):
    bob = gs.own("bob")
    cid, events = shared_calendar(gs, {bob: rights("mayReadItems")})
    path = f"{home(gs, 'bob')}{gs.a}~{cid}/"
    props = ("<d:resourcetype/><d:displayname/><d:current-user-privilege-set/>"
             "<d:sync-token/>")
    ms = multistatus(propfind(gs, home(gs, "bob"), props, depth=1, user="bob"))
    assert path in ms, list(ms)
    entry = ms[path]
    assert entry["props"][D + "resourcetype"].find(C + "calendar") is not None
    assert entry["props"][D + "displayname"].text.startswith("Team ")
    # mayReadItems alone: DAV:read, with CALDAV:read-free-busy (who reads the events reads
    # their busy time; dav_acl.c), and no write
    assert {"read", J + "read-items", C + "read-free-busy"} <= privileges(entry)
    assert "write-content" not in privileges(entry)
    # its members: calendars-27 §5.7, a secret event does not exist for a sharee
    ms = multistatus(propfind(gs, path, "<d:getetag/>", depth=1, user="bob"))
    assert path + events["public"] + ".ics" in ms
    assert path + events["private"] + ".ics" in ms
    assert path + events["secret"] + ".ics" not in ms
    http = gs.http("bob")
    g = http.get(gs.base + path + events["public"] + ".ics")
    assert g.status_code == 200 and "SUMMARY:public meeting" in g.text
    g = http.get(gs.base + path + events["private"] + ".ics")
    assert g.status_code == 200 and "private meeting" not in g.text  # reduced (§5.7)
    assert http.get(gs.base + path + events["secret"] + ".ics").status_code == 404
    # calendar-multiget (RFC 4791 §7.9) and sync-collection (RFC 6578 §3) see the same
    hrefs = "".join(f"<d:href>{path}{e}.ics</d:href>" for e in events.values())
    body = (f'<c:calendar-multiget {NSDECL}><d:prop><d:getetag/><c:calendar-data/></d:prop>'
            f'{hrefs}</c:calendar-multiget>')
    ms = multistatus(dav(gs, "REPORT", path, body, user="bob", depth=1))
    assert "SUMMARY:public meeting" in ms[path + events["public"] + ".ics"]["props"][
        C + "calendar-data"].text
    assert ms[path + events["secret"] + ".ics"]["status"] == 404
    body = (f'<d:sync-collection {NSDECL}><d:sync-token/><d:sync-level>1</d:sync-level>'
            '<d:prop><d:getetag/></d:prop></d:sync-collection>')
    ms = multistatus(dav(gs, "REPORT", path, body, user="bob", depth=0))
    assert {path + events["public"] + ".ics", path + events["private"] + ".ics"} <= set(ms)
    assert path + events["secret"] + ".ics" not in ms


def test_read_only_share_refuses_writes_rfc3744_7_1_1(gs):
    bob = gs.own("bob")
    cid, events = shared_calendar(gs, {bob: rights("mayReadItems")})
    path = f"{home(gs, 'bob')}{gs.a}~{cid}/"
    r = put(gs, path + "new.ics", ics(str(uuid.uuid4()), "From bob"), user="bob")
    assert r.status_code == 403 and D + "need-privileges" in error_condition(r)
    r = gs.http("bob").delete(gs.base + path + events["public"] + ".ics")
    assert r.status_code == 403
    _, res = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": [events["public"]]})
    assert res["list"], "the event was not deleted"


def test_write_share_lets_the_sharee_put_and_delete_calendars27_s4(gs):
    bob = gs.own("bob")
    cid, events = shared_calendar(gs, {bob: rights("mayReadItems", "mayWriteAll", "mayDelete")})
    path = f"{home(gs, 'bob')}{gs.a}~{cid}/"
    ms = multistatus(propfind(gs, home(gs, "bob"), "<d:current-user-privilege-set/>", depth=1,
                              user="bob"))
    assert "write-content" in privileges(ms[path])
    uid = str(uuid.uuid4())
    r = put(gs, path + "bobs.ics", ics(uid, "From bob"), user="bob")
    assert r.status_code == 201, r.text
    # it is alice's event in alice's calendar (one store)
    _, res = gs.c("CalendarEvent/query", {"accountId": gs.a, "filter": {"uid": uid}})
    assert len(res["ids"]) == 1
    _, got = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": res["ids"]})
    assert got["list"][0]["calendarIds"] == {cid: True}
    assert got["list"][0]["title"] == "From bob"
    g = gs.http("bob").get(gs.base + path + "bobs.ics")
    assert g.status_code == 200 and "SUMMARY:From bob" in g.text
    r = gs.http("bob").delete(gs.base + path + events["public"] + ".ics")
    assert r.status_code == 204
    _, res = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": [events["public"]]})
    assert res["notFound"] == [events["public"]]


def test_outsider_and_owner_do_not_see_it_rfc9670_s4(gs):
    bob = gs.own("bob")
    cid, events = shared_calendar(gs, {bob: rights("mayReadItems")})
    seg = f"{gs.a}~{cid}/"
    # frank has no share: the same name in his home is nothing
    assert propfind(gs, home(gs, "frank") + seg, "<d:resourcetype/>",
                    user="frank").status_code == 404
    ms = multistatus(propfind(gs, home(gs, "frank"), "<d:resourcetype/>", depth=1, user="frank"))
    assert not any(cid in h for h in ms)
    # the share revoked: gone from bob's home at once
    gs.c("Calendar/set", {"accountId": gs.a, "update": {cid: {"shareWith": None}}})
    assert propfind(gs, home(gs, "bob") + seg, "<d:resourcetype/>", user="bob").status_code == 404
    assert gs.http("bob").get(gs.base + home(gs, "bob") + seg + events["public"] +
                              ".ics").status_code == 404


def test_sharees_private_change_changes_their_etag_rfc4791_5_3_4_calendars27_s5_4(gs):
    """A sharee's per-user property (calendars-27 §5.4: keywords, color, alerts...) is part
    of the resource as the sharee reads it, so its ETag changes with it (RFC 4918 §8.6,
    RFC 4791 §5.3.4) and sync-collection reports it (RFC 6578 §3.5); the owner's
    representation does not take the sharee's values."""
    bob = gs.own("bob")
    cid, events = shared_calendar(gs, {bob: rights("mayReadItems", "mayUpdatePrivate")})
    path = f"{home(gs, 'bob')}{gs.a}~{cid}/"
    href = path + events["public"] + ".ics"
    own_href = f"{home(gs, 'alice')}{cid}/{events['public']}.ics"
    sync = (f'<d:sync-collection {NSDECL}><d:sync-token>{{}}</d:sync-token><d:sync-level>1'
            '</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>')
    ms = dav(gs, "REPORT", path, sync.format(""), user="bob", depth=0)
    token = ET.fromstring(ms.content).find(D + "sync-token").text
    before = gs.http("bob").get(gs.base + href)
    owners = gs.http("alice").get(gs.base + own_href)
    assert before.status_code == 200 and owners.status_code == 200
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "update": {events["public"]: {
        "color": "#ff0000", "keywords": {"bobs": True}}}}, user="bob")
    assert events["public"] in (res.get("updated") or {}), res.get("notUpdated")
    after = gs.http("bob").get(gs.base + href)
    assert after.status_code == 200 and "COLOR" in after.text.upper()
    assert after.headers["ETag"] != before.headers["ETag"]
    # the same ETag in a listing and a multiget as in the GET (one representation)
    ms = multistatus(propfind(gs, path, "<d:getetag/>", depth=1, user="bob"))
    assert ms[href]["props"][D + "getetag"].text == after.headers["ETag"]
    body = (f'<c:calendar-multiget {NSDECL}><d:prop><d:getetag/><c:calendar-data/></d:prop>'
            f'<d:href>{href}</d:href></c:calendar-multiget>')
    ms = multistatus(dav(gs, "REPORT", path, body, user="bob", depth=1))
    assert ms[href]["props"][D + "getetag"].text == after.headers["ETag"]
    assert "bobs" in ms[href]["props"][C + "calendar-data"].text
    # RFC 6578 §3.5: the changed member is reported to the sharee
    ms = multistatus(dav(gs, "REPORT", path, sync.format(token), user="bob", depth=0))
    assert href in ms and ms[href]["props"][D + "getetag"].text == after.headers["ETag"]
    # the owner's view does not hold bob's own values (its ETag may change: the shared
    # object's modseq moves with any write, which RFC 4918 §8.6 allows)
    owners_after = gs.http("alice").get(gs.base + own_href)
    assert owners_after.status_code == 200 and "bobs" not in owners_after.text


def copy_or_move(gs, method, src, dst, user="bob", overwrite=None):
    h = {"Destination": gs.base + dst}
    if overwrite:
        h["Overwrite"] = overwrite
    return dav(gs, method, src, user=user, headers=h)


def bobs_calendar(gs):
    _, res = gs.c("Calendar/get", {"accountId": gs.own("bob")}, user="bob")
    return res["list"][0]["id"]


def bobs_events(gs):
    _, res = gs.c("CalendarEvent/get", {"accountId": gs.own("bob")}, user="bob")
    return {e["uid"]: e for e in res["list"]}


def test_rfc4918_9_8_copy_from_a_shared_calendar_into_the_sharees_own(gs):
    """RFC 4918 §9.8: COPY across accounts makes a new resource at the destination (the
    event as the sharee reads it); the source stays; a read-only share is enough."""
    bob = gs.own("bob")
    cid, events = shared_calendar(gs, {bob: rights("mayReadItems")})
    src = f"{home(gs, 'bob')}{gs.a}~{cid}/{events['public']}.ics"
    _, got = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": [events["public"]]})
    uid = got["list"][0]["uid"]
    dst = f"{home(gs, 'bob')}{bobs_calendar(gs)}/copied-{uid}.ics"
    r = copy_or_move(gs, "COPY", src, dst)
    assert r.status_code == 201, r.text
    mine = bobs_events(gs)
    assert mine[uid]["title"] == "public meeting"
    assert mine[uid]["calendarIds"] == {bobs_calendar(gs): True}
    g = gs.http("bob").get(gs.base + dst)
    assert g.status_code == 200 and "SUMMARY:public meeting" in g.text
    _, res = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": [events["public"]]})
    assert res["list"], "the source stays"
    # §10.6: Overwrite F onto the copy: 412; Overwrite T (the default): 204
    assert copy_or_move(gs, "COPY", src, dst, overwrite="F").status_code == 412
    assert copy_or_move(gs, "COPY", src, dst).status_code == 204
    # the private event is copied as bob reads it (reduced, calendars-27 §5.7)
    psrc = f"{home(gs, 'bob')}{gs.a}~{cid}/{events['private']}.ics"
    pdst = f"{home(gs, 'bob')}{bobs_calendar(gs)}/private-copy.ics"
    assert copy_or_move(gs, "COPY", psrc, pdst).status_code == 201
    assert "private meeting" not in gs.http("bob").get(gs.base + pdst).text


def test_rfc4918_9_9_move_into_and_out_of_shared_calendars_and_rights_rfc3744_7_1_1(gs):
    bob = gs.own("bob")
    wcid, _ = shared_calendar(gs, {bob: rights("mayReadItems", "mayWriteAll", "mayDelete")})
    rcid, revents = shared_calendar(gs, {bob: rights("mayReadItems")})
    own = f"{home(gs, 'bob')}{bobs_calendar(gs)}/"
    uid = str(uuid.uuid4())
    assert put(gs, own + "mine.ics", ics(uid, "Bob's own"), user="bob").status_code == 201
    # MOVE from bob's calendar into alice's calendar shared with write rights
    dst = f"{home(gs, 'bob')}{gs.a}~{wcid}/moved.ics"
    r = copy_or_move(gs, "MOVE", own + "mine.ics", dst)
    assert r.status_code == 201, r.text
    assert uid not in bobs_events(gs)
    assert gs.http("bob").get(gs.base + own + "mine.ics").status_code == 404
    _, res = gs.c("CalendarEvent/query", {"accountId": gs.a, "filter": {"uid": uid}})
    _, got = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": res["ids"]})
    assert [e["calendarIds"] for e in got["list"]] == [{wcid: True}]
    assert "SUMMARY:Bob's own" in gs.http("bob").get(gs.base + dst).text
    # and back out again
    assert copy_or_move(gs, "MOVE", dst, own + "back.ics").status_code == 201
    assert bobs_events(gs)[uid]["title"] == "Bob's own"
    _, res = gs.c("CalendarEvent/query", {"accountId": gs.a, "filter": {"uid": uid}})
    assert res["ids"] == []
    # RFC 3744 §7.1.1: into a read-only share, or a MOVE out of one (the source cannot be
    # deleted), is need-privileges and changes nothing
    r = copy_or_move(gs, "COPY", own + "back.ics", f"{home(gs, 'bob')}{gs.a}~{rcid}/x.ics")
    assert r.status_code == 403 and D + "need-privileges" in error_condition(r)
    src = f"{home(gs, 'bob')}{gs.a}~{rcid}/{revents['public']}.ics"
    r = copy_or_move(gs, "MOVE", src, own + "taken.ics")
    assert r.status_code == 403 and D + "need-privileges" in error_condition(r)
    assert gs.http("bob").get(gs.base + own + "taken.ics").status_code == 404
    _, res = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": [revents["public"]]})
    assert res["list"]


def busy_periods(resp):
    """The FREEBUSY periods of a free-busy-query answer (RFC 4791 §7.10)."""
    assert resp.status_code == 200, resp.text
    out = set()
    for line in resp.text.replace("\r\n ", "").split("\r\n"):
        if line.startswith("FREEBUSY"):
            fbtype = "BUSY"
            for param in line.split(":", 1)[0].split(";")[1:]:
                if param.startswith("FBTYPE="):
                    fbtype = param[7:]
            for period in line.split(":", 1)[1].split(","):
                out.add((fbtype, period))
    return out


def free_busy(gs, path, user):
    body = (f'<c:free-busy-query {NSDECL}><c:time-range start="20260301T000000Z" '
            'end="20260302T000000Z"/></c:free-busy-query>')
    return dav(gs, "REPORT", path, body, user=user, depth=1)


def test_free_busy_query_in_a_shared_calendar_as_availability_rfc4791_7_10_calendars27_s4(gs):
    """RFC 4791 §7.10 in a calendar shared with the user, as Principal/getAvailability
    counts (calendars-27 §4 mayReadFreeBusy, §5.4 the sharee's own freeBusyStatus, §5.7 a
    secret event is not there for a sharee, a private one is busy time): the owner's
    answer counts everything busy of theirs; a sharee with mayReadItems alone reads the
    events, so their busy time too (CALDAV:read-free-busy, dav_acl.c)."""
    bob, dan = gs.own("bob"), gs.own("dan")
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "create": {"c": {
        "name": "Busy " + uuid.uuid4().hex[:6], "shareWith": {
            bob: rights("mayReadFreeBusy", "mayReadItems", "mayUpdatePrivate"),
            dan: rights("mayReadItems")}}}})
    cid = res["created"]["c"]["id"]
    ids = {}
    for name, hour, privacy in (("public", 10, "public"), ("private", 12, "private"),
                                ("secret", 14, "secret"), ("bob-free", 16, "public")):
        _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "create": {"e": {
            "calendarIds": {cid: True}, "title": name, "uid": str(uuid.uuid4()),
            "start": f"2026-03-01T{hour}:00:00", "duration": "PT1H", "timeZone": "Etc/UTC",
            "privacy": privacy}}})
        ids[name] = res["created"]["e"]["id"]
    # bob's own freeBusyStatus (a per-user property) of one event: free for him only
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "update": {
        ids["bob-free"]: {"freeBusyStatus": "free"}}}, user="bob")
    assert ids["bob-free"] in (res.get("updated") or {}), res.get("notUpdated")
    owner = busy_periods(free_busy(gs, f"{home(gs, 'alice')}{cid}/", "alice"))
    assert owner == {("BUSY", "20260301T100000Z/20260301T110000Z"),
                     ("BUSY", "20260301T120000Z/20260301T130000Z"),
                     ("BUSY", "20260301T140000Z/20260301T150000Z"),
                     ("BUSY", "20260301T160000Z/20260301T170000Z")}
    sharee = busy_periods(free_busy(gs, f"{home(gs, 'bob')}{gs.a}~{cid}/", "bob"))
    assert sharee == {("BUSY", "20260301T100000Z/20260301T110000Z"),
                      ("BUSY", "20260301T120000Z/20260301T130000Z")}
    dans = busy_periods(free_busy(gs, f"{home(gs, 'dan')}{gs.a}~{cid}/", "dan"))
    assert dans == {("BUSY", "20260301T100000Z/20260301T110000Z"),
                    ("BUSY", "20260301T120000Z/20260301T130000Z"),
                    ("BUSY", "20260301T160000Z/20260301T170000Z")}


def propstat_status(resp, href, tag):
    """The status of property tag of href in a multistatus (RFC 4918 §14.22)."""
    root = ET.fromstring(resp.content)
    for r in root.findall(D + "response"):
        if r.find(D + "href").text != href:
            continue
        for ps in r.findall(D + "propstat"):
            if ps.find(D + "prop").find(tag) is not None:
                return int(ps.find(D + "status").text.split()[1]), ps.find(D + "prop").find(tag)
    return None, None


def ace_grants(acl):
    """principal href -> granted privileges of a DAV:acl value (RFC 3744 §5.5)."""
    out = {}
    for ace in acl.findall(D + "ace"):
        href = ace.find(f"{D}principal/{D}href").text
        out[href] = {p[0].tag.replace(D, "") for p in ace.findall(f"{D}grant/{D}privilege")}
    return out


def test_rfc3744_5_4_privileges_and_acl_follow_the_jmap_rights_calendars27_s4(gs):
    """current-user-privilege-set (§5.4) of each sharee as their CalendarRights give it
    (mayReadItems: read, mayReadFreeBusy: CALDAV:read-free-busy, mayWriteAll: J:write-items
    and the write privileges it holds, mayShare: J:share with read-acl and write-acl); the
    owner's has all; DAV:acl (§5.5)
    lists the owner's protected ACE and one per shareWith entry, readable with read-acl
    only (403 otherwise); DAV:owner (§5.1) is the sharer."""
    bob, dan, erin = gs.own("bob"), gs.own("dan"), gs.own("erin")
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "create": {"c": {
        "name": "Acl " + uuid.uuid4().hex[:6], "shareWith": {
            bob: rights("mayReadFreeBusy", "mayReadItems"),
            dan: rights("mayReadItems", "mayWriteAll"),
            erin: rights("mayReadItems", "mayShare")}}}})
    cid = res["created"]["c"]["id"]
    props = "<d:current-user-privilege-set/><d:acl/><d:owner/><d:supported-privilege-set/>"
    seen = {}
    for user in ("alice", "bob", "dan", "erin"):
        path = f"{home(gs, 'alice')}{cid}/" if user == "alice" else f"{home(gs, user)}{gs.a}~{cid}/"
        r = propfind(gs, path, props, user=user)
        seen[user] = (path, r, privileges(multistatus(r)[path]))
    caldav_fb = C + "read-free-busy"
    assert {"all", "read", "write", "write-content", "bind", "unbind", "read-acl", "write-acl",
            caldav_fb} <= seen["alice"][2]
    assert seen["bob"][2] == {"read", J + "read-items", caldav_fb,
                              "read-current-user-privilege-set"}
    # mayWriteAll without mayDelete: J:write-items and what it holds (DAV:unbind: removing
    # items), not DAV:write (which holds J:remove-collection; see the privilege tree test)
    assert {J + "read-items", J + "write-items", "write-content", "bind",
            "unbind"} <= seen["dan"][2]
    assert not {"read-acl", "write-acl", "write", J + "remove-collection"} & seen["dan"][2]
    assert {J + "read-items", J + "share", "read-acl", "write-acl"} <= seen["erin"][2]
    assert not {"write", "write-content"} & seen["erin"][2]
    for user in ("alice", "erin"):
        path, r, _ = seen[user]
        status, acl = propstat_status(r, path, D + "acl")
        assert status == 200
        grants = ace_grants(acl)
        assert grants["/dav/principals/alice/"] == {"all"}
        assert grants["/dav/principals/bob/"] == {"read", J + "read-items", caldav_fb}
        # an ACE lists what may be granted: no abstract privilege (§5.3)
        assert {J + "read-items", J + "write-items"} <= grants["/dav/principals/dan/"]
        assert "write-content" not in grants["/dav/principals/dan/"]
        assert {J + "read-items", J + "share"} <= grants["/dav/principals/erin/"]
        assert "read-acl" not in grants["/dav/principals/erin/"]
        protected = [a for a in acl.findall(D + "ace") if a.find(D + "protected") is not None]
        assert [a.find(f"{D}principal/{D}href").text for a in protected] == ["/dav/principals/alice/"]
    for user in ("bob", "dan"):
        path, r, _ = seen[user]
        assert propstat_status(r, path, D + "acl")[0] == 403
    for user in ("alice", "bob"):
        path, r, _ = seen[user]
        owner = multistatus(r)[path]["props"][D + "owner"]
        assert owner.find(D + "href").text == "/dav/principals/alice/"
        sps = multistatus(r)[path]["props"][D + "supported-privilege-set"]
        assert sps.find(f".//{D}privilege/{C}read-free-busy") is not None


def acl_body(*aces):
    return (f'<?xml version="1.0"?><d:acl {NSDECL}>' + "".join(aces) + "</d:acl>")


def ace(principal, *privs, kind="grant"):
    ps = "".join(f"<d:privilege>{p}</d:privilege>" for p in privs)
    return (f"<d:ace><d:principal><d:href>{principal}</d:href></d:principal>"
            f"<d:{kind}>{ps}</d:{kind}></d:ace>")


def test_rfc3744_8_1_acl_method_sets_share_with_rfc9670_s4(gs):
    """The ACL method (§8.1) replaces the collection's shareWith: read gives mayReadItems
    and mayReadFreeBusy, write mayWriteAll, write-acl mayShare; the owner's protected ACE
    is left as it is. Deny ACEs (grant-only), invert (no-invert), unknown principals
    (recognized-principal) and privileges (not-supported-privilege) are refused with
    their §8.1.1 precondition and change nothing; a user without write-acl gets
    need-privileges."""
    bob, dan = gs.own("bob"), gs.own("dan")
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "create": {"c": {
        "name": "Via ACL " + uuid.uuid4().hex[:6]}}})
    cid = res["created"]["c"]["id"]
    path = f"{home(gs, 'alice')}{cid}/"
    r = dav(gs, "ACL", path, acl_body(
        ace("/dav/principals/alice/", "<d:all/>"),
        ace("/dav/principals/bob/", "<d:read/>"),
        ace(f"{gs.base}/dav/principals/dan/", "<d:read/>", "<d:write/>")))
    assert r.status_code == 200, r.text
    _, got = gs.c("Calendar/get", {"accountId": gs.a, "ids": [cid]})
    share = got["list"][0]["shareWith"]
    assert set(share) == {bob, dan}
    assert share[bob]["mayReadItems"] and share[bob]["mayReadFreeBusy"]
    assert not share[bob]["mayWriteAll"] and not share[bob]["mayShare"]
    assert share[dan]["mayReadItems"] and share[dan]["mayWriteAll"]
    # bob now has it in his home, read-only (§5.4 as in the test above)
    bobs = f"{home(gs, 'bob')}{gs.a}~{cid}/"
    assert privileges(multistatus(propfind(gs, bobs, "<d:current-user-privilege-set/>",
                                           user="bob"))[bobs]) >= {"read"}
    # bob may not change it (no mayShare): need-privileges, nothing changes
    r = dav(gs, "ACL", bobs, acl_body(ace("/dav/principals/bob/", "<d:all/>")), user="bob")
    assert r.status_code == 403 and D + "need-privileges" in error_condition(r)
    for body, pre in (
            (acl_body(ace("/dav/principals/bob/", "<d:read/>", kind="deny")), "grant-only"),
            (acl_body(ace("/dav/principals/nobody-here/", "<d:read/>")), "recognized-principal"),
            (acl_body(ace("/dav/principals/bob/", "<d:unlock/>")), "not-supported-privilege"),
            (acl_body('<d:ace><d:invert><d:principal><d:href>/dav/principals/bob/</d:href>'
                      '</d:principal></d:invert><d:grant><d:privilege><d:read/></d:privilege>'
                      '</d:grant></d:ace>'), "no-invert")):
        r = dav(gs, "ACL", path, body)
        assert r.status_code == 403 and D + pre in error_condition(r), (pre, r.text)
    _, got = gs.c("Calendar/get", {"accountId": gs.a, "ids": [cid]})
    assert set(got["list"][0]["shareWith"]) == {bob, dan}
    # only the owner's ACE: shared with nobody, and bob no longer sees it
    r = dav(gs, "ACL", path, acl_body(ace("/dav/principals/alice/", "<d:all/>")))
    assert r.status_code == 200, r.text
    _, got = gs.c("Calendar/get", {"accountId": gs.a, "ids": [cid]})
    assert not got["list"][0]["shareWith"]
    assert propfind(gs, bobs, "<d:displayname/>", user="bob").status_code == 404


def test_rfc3744_8_1_acl_on_an_address_book_rfc9610_s2(gs):
    """The same mapping for an address book (RFC 9610 §2 AddressBookRights): read gives
    mayRead, write mayWrite; the sharee's privileges there are read and the writes, and
    an address book has no CALDAV:read-free-busy."""
    bob = gs.own("bob")
    _, res = gs.c("AddressBook/set", {"accountId": gs.a, "create": {"b": {
        "name": "Acl book " + uuid.uuid4().hex[:6]}}})
    bid = res["created"]["b"]["id"]
    path = f"/dav/addressbooks/{gs.a}/{bid}/"
    r = dav(gs, "ACL", path, acl_body(ace("/dav/principals/bob/", "<d:read/>", "<d:write/>")))
    assert r.status_code == 200, r.text
    _, got = gs.c("AddressBook/get", {"accountId": gs.a, "ids": [bid]})
    share = got["list"][0]["shareWith"]
    # DAV:write holds J:remove-collection: mayDelete
    assert share == {bob: {"mayRead": True, "mayWrite": True, "mayShare": False,
                           "mayDelete": True}}
    bobs = f"/dav/addressbooks/{bob}/{gs.a}~{bid}/"
    got = privileges(multistatus(propfind(gs, bobs, "<d:current-user-privilege-set/>",
                                          user="bob"))[bobs])
    assert {"read", "write", "write-content", "bind", "unbind"} <= got
    assert C + "read-free-busy" not in got and "write-acl" not in got


def supported_tree(sps):
    """privilege -> the privileges directly below it, of a supported-privilege-set value
    (RFC 3744 §5.3); "" holds the roots; "abstract" the abstract ones."""
    out = {"abstract": set()}

    def walk(node, parent):
        for sp in node.findall(D + "supported-privilege"):
            name = sp.find(D + "privilege")[0].tag.replace(D, "")
            out.setdefault(parent, set()).add(name)
            if sp.find(D + "abstract") is not None:
                out["abstract"].add(name)
            walk(sp, name)
    walk(sps, "")
    return out


def test_rfc3744_3_each_jmap_right_is_a_privilege_and_rfc4791_6_1_1_read_free_busy_agrees(gs):
    """Every CalendarRights member (calendars-27 §4) is a DAV privilege: mayReadItems
    J:read-items and mayReadFreeBusy CALDAV:read-free-busy, aggregated under DAV:read as
    RFC 4791 §6.1.1 asks; mayWriteAll J:write-items under DAV:write, holding what §4 says
    it implies (J:write-own, J:update-private, J:rsvp) and DAV:write-properties,
    write-content, bind and unbind, which no right gives alone: abstract (§5.3), as
    DAV:read-acl and write-acl under J:share (mayShare); mayDelete J:remove-collection.
    An aggregate is in current-user-privilege-set only with all it holds; mayReadItems
    gives CALDAV:read-free-busy too (the events show the busy time), so DAV:read, and
    free-busy-query follows the set; the ACL method grants each non-abstract privilege as
    its right and refuses an abstract one (§8.1.1 no-abstract)."""
    bob, dan, erin, frank = (gs.own(u) for u in ("bob", "dan", "erin", "frank"))
    write_all = ("mayWriteAll", "mayWriteOwn", "mayUpdatePrivate", "mayRSVP")
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "create": {"c": {
        "name": "Tree " + uuid.uuid4().hex[:6], "shareWith": {
            bob: rights("mayReadItems"),
            dan: rights("mayReadItems", "mayReadFreeBusy", "mayUpdatePrivate", "mayRSVP"),
            erin: rights("mayReadItems", "mayReadFreeBusy", *write_all),
            frank: rights("mayReadItems", "mayReadFreeBusy", "mayDelete", *write_all)}}}})
    cid = res["created"]["c"]["id"]
    fb = C + "read-free-busy"
    got = {}
    for user in ("bob", "dan", "erin", "frank"):
        path = f"{home(gs, user)}{gs.a}~{cid}/"
        r = propfind(gs, path, "<d:current-user-privilege-set/><d:supported-privilege-set/>",
                     user=user)
        got[user] = (path, privileges(multistatus(r)[path]))
        tree = supported_tree(multistatus(r)[path]["props"][D + "supported-privilege-set"])
        assert tree[""] == {"all"}
        assert tree["all"] == {"read", "write", J + "share", "read-current-user-privilege-set"}
        assert tree["read"] == {J + "read-items", fb}
        assert tree["write"] == {J + "write-items", J + "remove-collection"}
        assert tree[J + "write-items"] == {"write-properties", "write-content", "bind", "unbind",
                                           J + "write-own", J + "update-private", J + "rsvp"}
        assert tree[J + "share"] == {"read-acl", "write-acl"}
        assert tree["abstract"] == {"write-properties", "write-content", "bind", "unbind",
                                    "read-acl", "write-acl", "read-current-user-privilege-set"}
    assert got["bob"][1] == {"read", J + "read-items", fb, "read-current-user-privilege-set"}
    assert got["dan"][1] == {"read", J + "read-items", fb, J + "update-private", J + "rsvp",
                             "read-current-user-privilege-set"}
    assert {J + "write-items", "write-content", "bind", "write-properties", "unbind",
            J + "write-own", J + "update-private", J + "rsvp"} <= got["erin"][1]
    assert not {"write", J + "remove-collection"} & got["erin"][1]
    assert {"write", J + "remove-collection", J + "write-items", "unbind"} <= got["frank"][1]
    assert not {"all", J + "share", "read-acl", "write-acl"} & got["frank"][1]
    # RFC 4791 §7.10: free-busy-query as the privilege set says
    for user in ("bob", "dan"):
        r = free_busy(gs, got[user][0], user)
        assert fb in got[user][1] and r.status_code == 200, (user, r.text)
    # the ACL method: each privilege grants its right
    path = f"{home(gs, 'alice')}{cid}/"
    for privs, want in (
            (f"<j:read-items {JDECL}/>", {"mayReadItems"}),
            ("<c:read-free-busy/>", {"mayReadFreeBusy"}),
            ("<d:read/>", {"mayReadItems", "mayReadFreeBusy"}),
            (f"<j:rsvp {JDECL}/>", {"mayRSVP"}),
            (f"<j:update-private {JDECL}/>", {"mayUpdatePrivate"}),
            (f"<j:write-own {JDECL}/>", {"mayWriteOwn"}),
            (f"<j:write-items {JDECL}/>", set(write_all)),
            (f"<j:remove-collection {JDECL}/>", {"mayDelete"}),
            ("<d:write/>", {"mayDelete", *write_all}),
            (f"<j:share {JDECL}/>", {"mayShare"})):
        r = dav(gs, "ACL", path, acl_body(ace(f"/dav/principals/bob/", privs)))
        assert r.status_code == 200, (privs, r.text)
        _, res = gs.c("Calendar/get", {"accountId": gs.a, "ids": [cid]})
        share = res["list"][0]["shareWith"]
        assert {k for k, v in share[bob].items() if v} == want, privs
    # §5.3, §8.1.1: an abstract privilege cannot be granted (it is no right alone)
    for privs in ("<d:write-content/>", "<d:bind/>", "<d:unbind/>", "<d:write-properties/>",
                  "<d:read-acl/>", "<d:write-acl/>", "<d:read-current-user-privilege-set/>"):
        r = dav(gs, "ACL", path, acl_body(ace("/dav/principals/dan/", privs)))
        assert r.status_code == 403 and D + "no-abstract" in error_condition(r), privs
    _, res = gs.c("Calendar/get", {"accountId": gs.a, "ids": [cid]})
    assert dan not in res["list"][0]["shareWith"]
    # an address book has no free/busy, no owners, per-user or RSVP privilege
    _, res = gs.c("AddressBook/set", {"accountId": gs.a, "create": {"b": {
        "name": "Tree book " + uuid.uuid4().hex[:6]}}})
    book = f"/dav/addressbooks/{gs.a}/{res['created']['b']['id']}/"
    for privs in ("<c:read-free-busy/>", f"<j:rsvp {JDECL}/>", f"<j:write-own {JDECL}/>"):
        r = dav(gs, "ACL", book, acl_body(ace("/dav/principals/bob/", privs)))
        assert r.status_code == 403 and D + "not-supported-privilege" in error_condition(r)
    r = propfind(gs, book, "<d:supported-privilege-set/>")
    tree = supported_tree(multistatus(r)[book]["props"][D + "supported-privilege-set"])
    assert tree["read"] == {J + "read-items"}
    assert tree[J + "write-items"] == {"write-properties", "write-content", "bind", "unbind"}


JDECL = 'xmlns:j="https://jmapd.org/ns/dav/"'


def test_rfc3744_8_1_acl_grants_to_a_group_principal_rfc9670_s4(gs):
    """A group is a principal (RFC 9670 §2; RFC 3744 §2 group principals): an ACE of the
    group's principal URL, by the id DAV:acl names it with or by its name, grants its
    members what a JMAP shareWith to the group gives them (§4): bob, in the group, finds
    the calendar in his home and reads it, dan, outside it, does not; DAV:acl lists the
    group's ACE. A principal URL that names no user and no group is still
    recognized-principal (§8.1.1)."""
    r = gs.cli("group", "add", "dav-readers")
    assert r.returncode == 0, r.stderr
    group = r.stdout.split()[-1]
    assert gs.cli("group", "member", "dav-readers", "--add", "bob").returncode == 0
    cid, events = shared_calendar(gs, {})
    path = f"{home(gs, 'alice')}{cid}/"
    for href in (f"/dav/principals/{group}/", f"{gs.base}/dav/principals/dav-readers/"):
        r = dav(gs, "ACL", path, acl_body(ace(href, "<d:read/>")))
        assert r.status_code == 200, (href, r.text)
        _, got = gs.c("Calendar/get", {"accountId": gs.a, "ids": [cid]})
        share = got["list"][0]["shareWith"]
        assert set(share) == {group} and share[group]["mayReadItems"], share
        bobs = f"{home(gs, 'bob')}{gs.a}~{cid}/"
        ms = multistatus(propfind(gs, home(gs, "bob"), "<d:resourcetype/>", depth=1, user="bob"))
        assert bobs in ms
        g = gs.http("bob").get(gs.base + bobs + events["public"] + ".ics")
        assert g.status_code == 200 and "SUMMARY:public meeting" in g.text
        assert propfind(gs, f"{home(gs, 'dan')}{gs.a}~{cid}/", "<d:resourcetype/>",
                        user="dan").status_code == 404
        r = propfind(gs, path, "<d:acl/>")
        grants = ace_grants(multistatus(r)[path]["props"][D + "acl"])
        assert grants[f"/dav/principals/{group}/"] == {"read", J + "read-items", C + "read-free-busy"}
        assert dav(gs, "ACL", path, acl_body()).status_code == 200
    r = dav(gs, "ACL", path, acl_body(ace("/dav/principals/no-such-group/", "<d:read/>")))
    assert r.status_code == 403 and D + "recognized-principal" in error_condition(r)


PROPPATCH_NAME = (f'<?xml version="1.0"?><d:propertyupdate {NSDECL}><d:set><d:prop>'
                  '<d:displayname>renamed</d:displayname></d:prop></d:set></d:propertyupdate>')


def test_rfc3744_7_1_1_need_privileges_names_the_privilege_and_the_resource_s7_2(gs):
    """§7.1.1: a 403 need-privileges body names the resource and the privilege the request
    lacked there, as §7.2's table gives them: a new member DAV:bind on the calendar, a
    change of one DAV:write-content on it, its removal DAV:unbind on the calendar,
    PROPPATCH DAV:write-properties, the calendar's deletion J:remove-collection (a shared
    calendar lives in the sharee's home, whose DAV:unbind cannot say it), ACL
    DAV:write-acl; and nothing changes."""
    bob = gs.own("bob")
    cid, events = shared_calendar(gs, {bob: rights("mayReadItems")})
    path = f"{home(gs, 'bob')}{gs.a}~{cid}/"
    member = path + events["public"] + ".ics"
    http = gs.http("bob")
    body = http.get(gs.base + member).text
    cases = (
        (put(gs, path + "new.ics", ics(str(uuid.uuid4()), "From bob"), user="bob"), path,
         D + "bind"),
        (put(gs, member, body.replace("public meeting", "bob's"), user="bob"), member,
         D + "write-content"),
        (http.delete(gs.base + member), path, D + "unbind"),
        (dav(gs, "PROPPATCH", path, PROPPATCH_NAME, user="bob"), path, D + "write-properties"),
        (http.delete(gs.base + path), path, J + "remove-collection"),
        (dav(gs, "ACL", path, acl_body(ace("/dav/principals/bob/", "<d:all/>")), user="bob"),
         path, D + "write-acl"))
    for i, (r, href, priv) in enumerate(cases):
        assert need_privileges(r) == {(href, priv)}, (i, r.text)
    _, res = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": [events["public"]]})
    assert res["list"][0]["title"] == "public meeting"
    _, res = gs.c("Calendar/get", {"accountId": gs.a, "ids": [cid]})
    assert res["list"][0]["name"].startswith("Team ")
    assert set(res["list"][0]["shareWith"]) == {bob}


def test_rfc4791_7_10_free_busy_only_sharee_queries_and_reads_nothing_calendars27_s4_1():
    """A calendar shared for free/busy alone (mayReadFreeBusy, not mayReadItems): its
    account is none of the sharee's (calendars-27 §4.1: not in the JMAP session), yet the
    calendar is at the URL a share has in the sharee's home and answers
    CALDAV:free-busy-query (RFC 4791 §7.10) with the busy time Principal/getAvailability
    counts (§5.7: no secret event; a free one is no busy time); PROPFIND shows a calendar
    with CALDAV:read-free-busy alone (RFC 3744 §5.4) and no name, ETag or sync token;
    not listed in the home (nothing to sync); its members, GET and every other report are
    403 need-privileges DAV:read (§7.1.1), writes too; another user finds nothing there."""
    s = GroupServer()
    try:
        a, bob = s.own("alice"), s.own("bob")
        _, res = s.c("Calendar/set", {"accountId": a, "create": {
            "c": {"name": "Busy only", "shareWith": {bob: rights("mayReadFreeBusy")}},
            "o": {"name": "Not shared"}}})
        cid, other = res["created"]["c"]["id"], res["created"]["o"]["id"]
        ids = {}
        for name, hour, extra in (("public", 10, {}), ("private", 12, {"privacy": "private"}),
                                  ("secret", 14, {"privacy": "secret"}),
                                  ("free", 16, {"freeBusyStatus": "free"})):
            _, res = s.c("CalendarEvent/set", {"accountId": a, "create": {"e": {
                "calendarIds": {cid: True}, "title": name, "uid": str(uuid.uuid4()),
                "start": f"2026-03-01T{hour}:00:00", "duration": "PT1H",
                "timeZone": "Etc/UTC", **extra}}})
            ids[name] = res["created"]["e"]["id"]
        assert a not in s.session("bob")["accounts"]  # §4.1
        path = f"{home(s, 'bob')}{a}~{cid}/"
        assert busy_periods(free_busy(s, path, "bob")) == {
            ("BUSY", "20260301T100000Z/20260301T110000Z"),
            ("BUSY", "20260301T120000Z/20260301T130000Z")}
        props = ("<d:resourcetype/><d:current-user-privilege-set/><d:displayname/>"
                 "<d:getetag/><cs:getctag/><d:sync-token/>")
        entry = multistatus(propfind(s, path, props, user="bob"))[path]
        assert entry["props"][D + "resourcetype"].find(C + "calendar") is not None
        assert privileges(entry) == {C + "read-free-busy", "read-current-user-privilege-set"}
        assert {D + "displayname", D + "getetag", D + "sync-token"} <= entry["missing"]
        assert set(multistatus(propfind(s, path, "<d:getetag/>", depth=1, user="bob"))) == {path}
        assert path not in multistatus(propfind(s, home(s, "bob"), "<d:resourcetype/>", depth=1,
                                                user="bob"))
        member = path + ids["public"] + ".ics"
        assert need_privileges(s.http("bob").get(s.base + member)) == {(member, D + "read")}
        for report in (
                f'<c:calendar-multiget {NSDECL}><d:prop><c:calendar-data/></d:prop>'
                f'<d:href>{member}</d:href></c:calendar-multiget>',
                f'<c:calendar-query {NSDECL}><d:prop><c:calendar-data/></d:prop><c:filter>'
                '<c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>',
                f'<d:sync-collection {NSDECL}><d:sync-token/><d:sync-level>1</d:sync-level>'
                '<d:prop><d:getetag/></d:prop></d:sync-collection>'):
            r = dav(s, "REPORT", path, report, user="bob", depth=1)
            assert need_privileges(r) == {(path, D + "read")}, report
        assert put(s, path + "x.ics", ics(str(uuid.uuid4())), user="bob").status_code == 403
        # no share, or another calendar of the same account: nothing there
        assert free_busy(s, f"{home(s, 'dan')}{a}~{cid}/", "dan").status_code == 404
        assert free_busy(s, f"{home(s, 'bob')}{a}~{other}/", "bob").status_code == 404
    finally:
        s.close()


def owned_by(address):
    return {"o": {"@type": "Participant", "calendarAddress": address,
                  "roles": {"owner": True, "attendee": True}}}


def test_rfc3744_5_4_may_write_own_shows_what_it_gives_calendars27_s4(gs):
    """mayWriteOwn without mayWriteAll (calendars-27 §4: the events the user owns or that
    nobody owns): on the calendar J:write-own with DAV:bind and DAV:write-content (clients
    that take read-only from the calendar's set let the user add and edit), never
    J:write-items, DAV:write or DAV:unbind; on each event DAV:write-content only where the
    user may change it (theirs, nobody's; not alice's); the PUT agrees (403 need-privileges
    write-content on alice's event, 204 on nobody's)."""
    dan = gs.own("dan")
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "create": {"c": {
        "name": "Own " + uuid.uuid4().hex[:6],
        "shareWith": {dan: rights("mayReadItems", "mayWriteOwn")}}}})
    cid = res["created"]["c"]["id"]
    ids = {}
    for name, owner in (("dans", "mailto:dan@localhost"), ("alices", "mailto:alice@localhost"),
                        ("nobodys", None)):
        ev = {"calendarIds": {cid: True}, "title": name, "uid": str(uuid.uuid4()),
              "start": "2026-03-02T10:00:00", "duration": "PT1H", "timeZone": "Etc/UTC"}
        if owner:
            ev["participants"] = owned_by(owner)
        _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "create": {"e": ev}})
        ids[name] = res["created"]["e"]["id"]
    path = f"{home(gs, 'dan')}{gs.a}~{cid}/"
    ms = multistatus(propfind(gs, path, "<d:current-user-privilege-set/>", depth=1, user="dan"))
    coll = privileges(ms[path])
    assert {J + "write-own", "bind", "write-content", "read", J + "read-items"} <= coll
    assert not {"unbind", J + "write-items", "write", "write-properties"} & coll
    for name, writable in (("dans", True), ("nobodys", True), ("alices", False)):
        got = privileges(ms[path + ids[name] + ".ics"])
        assert ("write-content" in got) == writable, (name, got)
        assert not {"bind", "unbind", J + "write-items"} & got, (name, got)
    http = gs.http("dan")
    for name, status in (("alices", 403), ("nobodys", 204)):
        member = path + ids[name] + ".ics"
        body = http.get(gs.base + member).text.replace(f"SUMMARY:{name}", "SUMMARY:by dan")
        r = put(gs, member, body, user="dan")
        assert r.status_code == status, (name, r.text)
        if status == 403:
            assert need_privileges(r) == {(member, D + "write-content")}
    _, res = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": [ids["alices"], ids["nobodys"]]})
    assert [e["title"] for e in res["list"]] == ["alices", "by dan"]
