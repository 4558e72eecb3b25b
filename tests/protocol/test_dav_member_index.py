"""The member index and the render cache (src/dav/dav_members.c, dav_render_cache.c) never
answer from a stale state: calendar-multiget (RFC 4791 §7.9) and sync-collection (RFC 6578
§3.5) after JMAP moves, changes, deletions and a name reused by another object, in an
account with two calendars and with one."""
import uuid

from test_dav_caldav import cal_id
from davutil import C, D, NSDECL, dav, ics, multistatus, new_calendar, put, sync_token


def multiget(server, path, *names):
    hrefs = "".join(f"<d:href>{path}{n}</d:href>" for n in names)
    body = (f'<c:calendar-multiget {NSDECL}><d:prop><d:getetag/><c:calendar-data/></d:prop>'
            f'{hrefs}</c:calendar-multiget>')
    return multistatus(dav(server, "REPORT", path, body, depth=1))


def data(ms, href):
    return ms[href]["props"][C + "calendar-data"].text


def sync(server, path, token=""):
    body = (f'<d:sync-collection {NSDECL}><d:sync-token>{token}</d:sync-token>'
            '<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>')
    r = dav(server, "REPORT", path, body, depth=0)
    return multistatus(r), sync_token(r)


def test_rfc4791_7_9_multiget_follows_jmap_moves_changes_and_deletes(server):
    acct = server.account()
    a, b = new_calendar(server), new_calendar(server)
    ua, ub = str(uuid.uuid4()), str(uuid.uuid4())
    assert put(server, a + "one.ics", ics(ua, "One")).status_code == 201
    assert put(server, a + "two.ics", ics(ub, "Two")).status_code == 201
    ms = multiget(server, a, "one.ics", "two.ics")  # warms the index and the cache
    assert "SUMMARY:One" in data(ms, a + "one.ics") and "SUMMARY:Two" in data(ms, a + "two.ics")
    etag = ms[a + "two.ics"]["props"][D + "getetag"].text
    _, res = server.call("CalendarEvent/query", {"accountId": acct, "filter": {"uid": ua}})
    one = res["ids"][0]
    _, res = server.call("CalendarEvent/query", {"accountId": acct, "filter": {"uid": ub}})
    two = res["ids"][0]
    # moved to the other calendar over JMAP: gone from the first, found in the second
    server.call("CalendarEvent/set", {"accountId": acct, "update": {
        one: {"calendarIds": {cal_id(server, b): True}},
        two: {"title": "Two changed"}}})
    ms = multiget(server, a, "one.ics", "two.ics")
    assert ms[a + "one.ics"]["status"] == 404
    assert "SUMMARY:Two changed" in data(ms, a + "two.ics")
    assert ms[a + "two.ics"]["props"][D + "getetag"].text != etag
    assert "SUMMARY:One" in data(multiget(server, b, "one.ics"), b + "one.ics")
    # destroyed over JMAP
    server.call("CalendarEvent/set", {"accountId": acct, "destroy": [two]})
    assert multiget(server, a, "two.ics")[a + "two.ics"]["status"] == 404
    # the name taken again by another object (RFC 4918 §5.2: a new resource)
    uc = str(uuid.uuid4())
    assert put(server, a + "two.ics", ics(uc, "Three")).status_code == 201
    ms = multiget(server, a, "two.ics")
    assert "SUMMARY:Three" in data(ms, a + "two.ics") and uc in data(ms, a + "two.ics")
    # an event made over JMAP is named by its id
    _, res = server.call("CalendarEvent/set", {"accountId": acct, "create": {"e": {
        "calendarIds": {cal_id(server, a): True}, "uid": str(uuid.uuid4()), "title": "Four",
        "start": "2026-03-01T10:00:00", "timeZone": "Europe/Berlin", "duration": "PT1H"}}})
    four = res["created"]["e"]["id"]
    ms = multiget(server, a, four + ".ics", "missing.ics", one + ".ics")
    assert "SUMMARY:Four" in data(ms, a + four + ".ics")
    assert ms[a + "missing.ics"]["status"] == 404
    assert ms[a + one + ".ics"]["status"] == 404  # one has a chosen name: not its id


def test_rfc6578_3_5_sync_after_jmap_move_and_delete(server):
    acct = server.account()
    a, b = new_calendar(server), new_calendar(server)
    uids = [str(uuid.uuid4()) for _ in range(3)]
    for i, u in enumerate(uids):
        assert put(server, a + f"s{i}.ics", ics(u, f"S{i}")).status_code == 201
    ms, tok_a = sync(server, a)
    assert {a + f"s{i}.ics" for i in range(3)} <= set(ms)
    _, tok_b = sync(server, b)
    ids = []
    for u in uids:
        _, res = server.call("CalendarEvent/query", {"accountId": acct, "filter": {"uid": u}})
        ids.append(res["ids"][0])
    server.call("CalendarEvent/set", {"accountId": acct, "update": {
        ids[0]: {"calendarIds": {cal_id(server, b): True}}, ids[1]: {"title": "S1 changed"}},
        "destroy": [ids[2]]})
    ms, _ = sync(server, a, tok_a)
    # §3.5.1: a member moved out or removed is reported with 404, a changed one with its ETag
    assert ms[a + "s0.ics"]["status"] == 404
    assert ms[a + "s2.ics"]["status"] == 404
    assert D + "getetag" in ms[a + "s1.ics"]["props"]
    ms, _ = sync(server, b, tok_b)
    assert D + "getetag" in ms[b + "s0.ics"]["props"]
    # a full listing of each agrees
    full_a, _ = sync(server, a)
    assert a + "s1.ics" in full_a and a + "s0.ics" not in full_a and a + "s2.ics" not in full_a


def expand_query(start, end):
    return (f'<c:calendar-query {NSDECL}><d:prop><d:getetag/><c:calendar-data><c:expand '
            f'start="{start}" end="{end}"/></c:calendar-data></d:prop><c:filter>'
            '<c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range '
            f'start="{start}" end="{end}"/></c:comp-filter></c:comp-filter></c:filter>'
            '</c:calendar-query>')


def test_rfc4791_9_6_5_expanded_data_follows_changes_and_ranges(server):
    """Expanded renderings are kept per object state and range: a changed event and
    another range are rendered afresh."""
    acct = server.account()
    path = new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, path + "weekly.ics",
               ics(uid, "Weekly", start="20260105T100000Z", rrule="FREQ=WEEKLY;COUNT=10")
               ).status_code == 201
    jan = expand_query("20260101T000000Z", "20260201T000000Z")
    for _ in range(2):  # the second answer comes from what the first kept
        ms = multistatus(dav(server, "REPORT", path, jan, depth=1))
        text = data(ms, path + "weekly.ics")
        assert text.count("BEGIN:VEVENT") == 4 and "SUMMARY:Weekly" in text
    assert "RRULE" not in text
    feb = expand_query("20260201T000000Z", "20260301T000000Z")
    text = data(multistatus(dav(server, "REPORT", path, feb, depth=1)), path + "weekly.ics")
    assert text.count("BEGIN:VEVENT") == 4 and "RECURRENCE-ID:20260202T100000Z" in text
    _, res = server.call("CalendarEvent/query", {"accountId": acct, "filter": {"uid": uid}})
    server.call("CalendarEvent/set", {"accountId": acct, "update": {
        res["ids"][0]: {"title": "Weekly changed"}}})
    text = data(multistatus(dav(server, "REPORT", path, jan, depth=1)), path + "weekly.ics")
    assert text.count("SUMMARY:Weekly changed") == 4


def test_rfc4918_9_1_listing_hrefs_and_etags_agree_with_each_member(server):
    """The ETag-only listing (PROPFIND Depth 1, RFC 4918 §9.1; initial sync-collection,
    RFC 6578 §3.4) is written from the member index with the collection's href made once:
    each href (chosen names percent-encoded, RFC 4918 §8.3; server-made {id}.ics) and ETag
    equals the one a per-member answer gives, in a calendar beside others."""
    cal = new_calendar(server)
    new_calendar(server)  # several calendars: the membership map decides
    names = ["plain.ics", "with space.ics", "pct%25.ics", "amp&x.ics", "ü-umlaut.ics"]
    for n in names:
        assert put(server, cal + n.replace("%25", "%2525").replace(" ", "%20")
                   .replace("&", "%26").replace("ü", "%C3%BC"),
                   ics(str(uuid.uuid4()), n)).status_code == 201
    # one more made over JMAP: no chosen name, the server's {id}.ics
    acct = server.account()
    cid = cal_id(server, cal)
    _, res = server.call("CalendarEvent/set", {"accountId": acct, "create": {"e": {
        "calendarIds": {cid: True}, "uid": str(uuid.uuid4()), "title": "jmap",
        "start": "2026-01-01T10:00:00", "duration": "PT1H"}}})
    jid = res["created"]["e"]["id"]
    fast = multistatus(dav(server, "PROPFIND", cal,
                           f'<d:propfind {NSDECL}><d:prop><d:getetag/></d:prop></d:propfind>',
                           depth=1))
    slow = multistatus(dav(server, "PROPFIND", cal,
                           f'<d:propfind {NSDECL}><d:prop><d:getetag/><d:getcontenttype/>'
                           '</d:prop></d:propfind>', depth=1))
    tags = lambda ms: {h: e["props"][D + "getetag"].text for h, e in ms.items() if h != cal}
    assert tags(fast) == tags(slow)
    assert len(tags(fast)) == len(names) + 1
    assert cal + jid + ".ics" in tags(fast)
    assert cal + "with%20space.ics" in tags(fast) and cal + "amp%26x.ics" in tags(fast)
    synced, _ = sync(server, cal)
    assert {h: e["props"][D + "getetag"].text for h, e in synced.items()} == tags(fast)
    for h, tag in tags(fast).items():
        g = server.http().get(server.base + h)
        assert g.status_code == 200 and g.headers["ETag"] == tag, h


def listing(server, path):
    """href -> ETag of a Depth 1 PROPFIND of the collection (RFC 4918 §9.1), members only."""
    r = dav(server, "PROPFIND", path,
            f'<d:propfind {NSDECL}><d:prop><d:getetag/></d:prop></d:propfind>', depth=1)
    return {h: e["props"][D + "getetag"].text for h, e in multistatus(r).items() if h != path}


def test_rfc4918_9_1_each_calendars_listing_follows_changes_between_listings(server):
    """The per-collection member lists (dav_members.c) kept between requests and brought
    up to date from the change log: after moves between calendars, changes, deletions,
    creations over JMAP and DAV and a rename (RFC 4918 §9.9 MOVE), a Depth 1 PROPFIND
    (RFC 4918 §9.1) and an initial sync-collection (RFC 6578 §3.4) of each of three
    calendars list exactly its members with their current ETags (each as a GET gives
    it), and a calendar alone in its account lists all of it."""
    acct = server.account()
    tag = uuid.uuid4().hex[:6]  # resource names are the account's (the session's server)
    cals = [new_calendar(server) for _ in range(3)]
    ids = {c: cal_id(server, c) for c in cals}
    want = {c: {} for c in cals}  # path -> {name: uid}
    for i, c in enumerate(cals):
        for j in range(4):
            u = str(uuid.uuid4())
            assert put(server, c + f"{tag}m{i}{j}.ics", ics(u, f"M{i}{j}")).status_code == 201
            want[c][f"{tag}m{i}{j}.ics"] = u

    def check():
        for c in cals:
            got = listing(server, c)
            assert set(got) == {c + n for n in want[c]}, (c, sorted(got))
            synced, _ = sync(server, c)
            assert {h: e["props"][D + "getetag"].text for h, e in synced.items()} == got
            for h, etag in got.items():
                g = server.http().get(server.base + h)
                assert g.status_code == 200 and g.headers["ETag"] == etag, h

    check()  # every list made
    by_uid = {}
    for c in cals:
        for n, u in want[c].items():
            _, res = server.call("CalendarEvent/query", {"accountId": acct, "filter": {"uid": u}})
            by_uid[u] = res["ids"][0]
    a, b, c3 = cals
    # over JMAP: a move from a to b, a change in b, a destroy in c3, an event in two
    # calendars at once, a create in a
    moved = want[a].pop(tag + "m00.ics")
    want[b][tag + "m00.ics"] = moved
    changed = want[b][tag + "m11.ics"]
    gone = want[c3].pop(tag + "m22.ics")
    both = want[a][tag + "m01.ics"]
    want[c3][tag + "m01.ics"] = both
    server.call("CalendarEvent/set", {"accountId": acct, "update": {
        by_uid[moved]: {"calendarIds": {ids[b]: True}},
        by_uid[changed]: {"title": "changed"},
        by_uid[both]: {"calendarIds": {ids[a]: True, ids[c3]: True}}},
        "destroy": [by_uid[gone]]})
    u = str(uuid.uuid4())
    _, res = server.call("CalendarEvent/set", {"accountId": acct, "create": {"e": {
        "calendarIds": {ids[a]: True}, "uid": u, "title": "new", "start": "2026-02-01T10:00:00",
        "duration": "PT1H"}}})
    want[a][res["created"]["e"]["id"] + ".ics"] = u
    check()
    # over DAV: a rename-only MOVE in b, a DELETE in a, a PUT in c3
    r = dav(server, "MOVE", b + tag + "m12.ics", headers={
        "Destination": server.base + b + tag + "renamed.ics", "Overwrite": "F"})
    assert r.status_code == 201, r.text
    want[b][tag + "renamed.ics"] = want[b].pop(tag + "m12.ics")
    assert dav(server, "DELETE", a + tag + "m02.ics").status_code == 204
    want[a].pop(tag + "m02.ics")
    u = str(uuid.uuid4())
    assert put(server, c3 + tag + "late.ics", ics(u, "Late")).status_code == 201
    want[c3][tag + "late.ics"] = u
    check()
