"""CalDAV (RFC 4791) and WebDAV discovery (RFC 4918, 5397, 6764, 6578) over the
same calendars and events as JMAP: raw-XML black-box tests."""
import uuid

import requests

from conftest import CAL, CORE, run_cli
from davutil import (A, C, CR, CS, D, NSDECL, dav, error_condition, homes, ics, multistatus,
                     new_addressbook, new_calendar, propfind, put, sync_token, unfold)


def cal_id(server, path):
    """The JMAP id of the calendar at a DAV path (by its name)."""
    name = path.rstrip("/").rsplit("/", 1)[1]
    _, res = server.call("Calendar/get", {"accountId": server.account()})
    for c in res["list"]:
        if c["name"] == name or c["id"] == name:
            return c["id"]
    raise AssertionError(name)


def event_by_uid(server, uid):
    _, res = server.call("CalendarEvent/query", {"accountId": server.account(),
                                                 "filter": {"uid": uid}})
    if not res["ids"]:
        return None
    _, got = server.call("CalendarEvent/get", {"accountId": server.account(), "ids": res["ids"]})
    return got["list"][0]


# ---- discovery ---------------------------------------------------------------------------

def test_rfc6764_5_well_known_redirects(server):
    for path in ("/.well-known/caldav", "/.well-known/carddav"):
        for method in ("GET", "PROPFIND"):
            r = requests.request(method, server.base + path, allow_redirects=False)
            assert r.status_code == 301
            assert r.headers["Location"].endswith("/dav/")


def test_rfc5397_root_propfind_gives_current_user_principal(server):
    for path in ("/", "/dav/"):
        r = propfind(server, path, "<d:current-user-principal/>")
        ms = multistatus(r)
        (entry,) = ms.values()
        href = entry["props"][D + "current-user-principal"].find(D + "href").text
        assert href == "/dav/principals/alice/"


def test_rfc4791_6_2_1_principal_properties(server):
    r = propfind(server, "/dav/principals/alice/",
                 "<c:calendar-home-set/><cr:addressbook-home-set/><d:principal-URL/>"
                 "<d:resourcetype/><d:displayname/><d:nosuchprop/>")
    p = multistatus(r)["/dav/principals/alice/"]
    assert p["props"][D + "principal-URL"].find(D + "href").text == "/dav/principals/alice/"
    assert p["props"][D + "resourcetype"].find(D + "principal") is not None
    assert p["props"][C + "calendar-home-set"].find(D + "href").text.startswith("/dav/calendars/")
    assert D + "nosuchprop" in p["missing"]


def test_rfc4918_10_1_options_dav_header(server):
    r = server.http().options(server.base + "/dav/")
    assert "calendar-access" in r.headers["DAV"] and "addressbook" in r.headers["DAV"]
    assert "REPORT" in r.headers["Allow"] and "MKCALENDAR" in r.headers["Allow"]


def test_auth_basic_and_bearer_as_for_jmap(server):
    r = requests.request("PROPFIND", server.base + "/dav/", headers={"Depth": "0"})
    assert r.status_code == 401 and "Basic" in r.headers["WWW-Authenticate"]
    tok = run_cli(server.data, "token", "create", "alice", "--label", "dav").stdout.strip()
    r = requests.request("PROPFIND", server.base + "/dav/principals/alice/",
                         headers={"Depth": "0", "Authorization": "Bearer " + tok})
    assert r.status_code == 207


def test_rfc4791_5_2_calendar_collection_properties(server):
    home = homes(server)[0]
    r = propfind(server, home,
                 "<d:resourcetype/><d:displayname/><cs:getctag/><d:sync-token/>"
                 "<c:supported-calendar-component-set/><c:max-resource-size/>"
                 "<d:supported-report-set/><d:current-user-privilege-set/>", depth=1)
    ms = multistatus(r)
    cals = [h for h, e in ms.items() if D + "resourcetype" in e["props"]
            and e["props"][D + "resourcetype"].find(C + "calendar") is not None]
    assert cals, ms
    p = ms[cals[0]]["props"]
    comps = [c.get("name") for c in p[C + "supported-calendar-component-set"]]
    assert comps == ["VEVENT"]
    assert int(p[C + "max-resource-size"].text) > 0
    reports = {r[0][0].tag for r in p[D + "supported-report-set"]}
    assert {D + "sync-collection", C + "calendar-multiget", C + "calendar-query"} <= reports
    assert p[D + "sync-token"].text and p[CS + "getctag"].text
    assert p[D + "current-user-privilege-set"].find(f"{D}privilege/{D}write") is not None


def test_rfc4918_9_1_depth_infinity_refused(server):
    r = propfind(server, homes(server)[0], "<d:resourcetype/>", depth="infinity")
    assert r.status_code == 403
    assert D + "propfind-finite-depth" in error_condition(r)


# ---- resources ------------------------------------------------------------------------------

def test_rfc4791_5_3_2_put_get_keeps_client_name_and_etag(server):
    path = new_calendar(server)
    uid = str(uuid.uuid4())
    r = put(server, path + "client name.ics", ics(uid, "Lunch"), headers={"If-None-Match": "*"})
    assert r.status_code == 201, r.text
    etag = r.headers["ETag"]
    g = server.http().get(server.base + path + "client%20name.ics")
    assert g.status_code == 200 and g.headers["ETag"] == etag
    assert "SUMMARY:Lunch" in unfold(g.text) and f"UID:{uid}" in unfold(g.text)
    ms = multistatus(propfind(server, path, "<d:getetag/>", depth=1))
    assert ms[path + "client%20name.ics"]["props"][D + "getetag"].text == etag
    # the same object over JMAP, in the calendar the PUT named
    ev = event_by_uid(server, uid)
    assert ev["title"] == "Lunch" and ev["calendarIds"] == {cal_id(server, path): True}


def test_rfc4791_5_3_2_put_if_none_match_on_existing_412(server):
    path = new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, path + "a.ics", ics(uid)).status_code == 201
    r = put(server, path + "a.ics", ics(uid, "Other"), headers={"If-None-Match": "*"})
    assert r.status_code == 412
    assert event_by_uid(server, uid)["title"] == "Event"


def test_rfc4918_put_if_match_etag(server):
    path = new_calendar(server)
    uid = str(uuid.uuid4())
    etag = put(server, path + "a.ics", ics(uid)).headers["ETag"]
    r = put(server, path + "a.ics", ics(uid, "Stale"), headers={"If-Match": '"999999"'})
    assert r.status_code == 412
    assert event_by_uid(server, uid)["title"] == "Event"
    r = put(server, path + "a.ics", ics(uid, "Fresh"), headers={"If-Match": etag})
    assert r.status_code == 204 and r.headers["ETag"] != etag
    assert event_by_uid(server, uid)["title"] == "Fresh"
    # an update keeps the JMAP id and the href
    assert server.http().get(server.base + path + "a.ics").headers["ETag"] == r.headers["ETag"]


def test_put_is_a_jmap_write_with_state_bump(server):
    path = new_calendar(server)
    acct = server.account()
    _, before = server.call("CalendarEvent/get", {"accountId": acct, "ids": []})
    uid = str(uuid.uuid4())
    assert put(server, path + "x.ics", ics(uid)).status_code == 201
    _, ch = server.call("CalendarEvent/changes", {"accountId": acct, "sinceState": before["state"]})
    assert event_by_uid(server, uid)["id"] in ch["created"]


def test_put_is_pushed_to_jmap_clients(server):
    """DESIGN.md §1: a DAV write is the same object write as a JMAP /set, push included."""
    from test_push import Stream, es_url
    import json
    path = new_calendar(server)
    acct = server.account()
    s = Stream(server, es_url(server, types="CalendarEvent"))
    try:
        assert put(server, path + "push.ics", ics(str(uuid.uuid4()))).status_code == 201
        name, data, _ = s.event()
        _, now = server.call("CalendarEvent/get", {"accountId": acct, "ids": []})
        assert name == "state"
        assert json.loads(data)["changed"][acct]["CalendarEvent"] == now["state"]
    finally:
        s.close()


def test_jmap_write_visible_to_dav_at_once(server):
    path = new_calendar(server)
    acct = server.account()
    uid = str(uuid.uuid4())
    _, res = server.call("CalendarEvent/set", {"accountId": acct, "create": {"e": {
        "calendarIds": {cal_id(server, path): True}, "uid": uid, "title": "From JMAP",
        "start": "2026-03-01T10:00:00", "timeZone": "Europe/Berlin", "duration": "PT1H"}}})
    eid = res["created"]["e"]["id"]
    ms = multistatus(propfind(server, path, "<d:getetag/>", depth=1))
    href = path + eid + ".ics"
    assert href in ms
    g = server.http().get(server.base + href)
    assert "SUMMARY:From JMAP" in g.text and "TZID=Europe/Berlin" in g.text
    etag = g.headers["ETag"]
    server.call("CalendarEvent/set", {"accountId": acct, "update": {eid: {"title": "Changed"}}})
    g2 = server.http().get(server.base + href)
    assert "SUMMARY:Changed" in g2.text and g2.headers["ETag"] != etag


def test_rfc4918_8_6_etag_changes_exactly_when_the_data_does(server):
    """Issue 20 §4 (RFC 4918 §8.6 strong ETags, RFC 4791 §5.3.4): a resource's ETag
    changes when its data changes and only then: a change of another resource of the
    calendar, and a JMAP update that sets what is already there, leave it as it was."""
    path = new_calendar(server)
    acct = server.account()
    ua, ub = str(uuid.uuid4()), str(uuid.uuid4())
    assert put(server, path + "a.ics", ics(ua, "A")).status_code == 201
    assert put(server, path + "b.ics", ics(ub, "B")).status_code == 201

    def etags():
        ms = multistatus(propfind(server, path, "<d:getetag/>", depth=1))
        return {h: e["props"][D + "getetag"].text for h, e in ms.items() if h != path}
    before = etags()
    bid = event_by_uid(server, ub)["id"]
    server.call("CalendarEvent/set", {"accountId": acct, "update": {bid: {"title": "B2"}}})
    after = etags()
    assert after[path + "a.ics"] == before[path + "a.ics"]
    assert after[path + "b.ics"] != before[path + "b.ics"]
    _, res = server.call("CalendarEvent/set", {"accountId": acct, "update": {
        bid: {"title": "B2"}}})
    assert bid in res["updated"], res
    assert etags() == after
    assert server.http().get(server.base + path + "b.ics").headers["ETag"] == after[path + "b.ics"]


def test_put_get_keeps_what_jscalendar_cannot_hold_rfc4791_5_3_4(server):
    """Issue 20 Deliver 4: a PUT converts losslessly: properties and parameters
    JSCalendar has no member for (an X- property with a parameter, an unknown parameter
    of a known property) travel in its iCalendar property and come back on GET."""
    path = new_calendar(server)
    uid = str(uuid.uuid4())
    body = ics(uid, "Kept", extra="X-JMAPD-TEST;X-LEVEL=3:kept value\r\n"
               "LOCATION;X-ROOM-ID=12:Room 12")
    assert put(server, path + "kept.ics", body).status_code == 201
    got = unfold(server.http().get(server.base + path + "kept.ics").text)
    assert "X-JMAPD-TEST;X-LEVEL=3:kept value" in got, got
    assert "X-ROOM-ID=12" in got and "Room 12" in got, got


def test_delete_resource(server):
    path = new_calendar(server)
    uid = str(uuid.uuid4())
    etag = put(server, path + "d.ics", ics(uid)).headers["ETag"]
    r = server.http().delete(server.base + path + "d.ics", headers={"If-Match": '"1"'})
    assert r.status_code == 412 and event_by_uid(server, uid)
    r = server.http().delete(server.base + path + "d.ics", headers={"If-Match": etag})
    assert r.status_code == 204
    assert event_by_uid(server, uid) is None
    assert server.http().get(server.base + path + "d.ics").status_code == 404
    assert server.http().delete(server.base + path + "d.ics").status_code == 404


# ---- preconditions (RFC 4791 §5.3.2.1) --------------------------------------------------------

def test_rfc4791_5_3_2_1_no_uid_conflict(server):
    path = new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, path + "one.ics", ics(uid)).status_code == 201
    r = put(server, path + "two.ics", ics(uid, "Dup"))
    assert r.status_code == 403
    assert C + "no-uid-conflict" in error_condition(r)
    assert "one.ics" in r.text
    assert server.http().get(server.base + path + "two.ics").status_code == 404
    # a resource keeps its UID
    r = put(server, path + "one.ics", ics(str(uuid.uuid4())))
    assert r.status_code == 403 and C + "no-uid-conflict" in error_condition(r)


def test_rfc4791_5_3_2_1_two_uids_refused(server):
    path = new_calendar(server)
    u1, u2 = str(uuid.uuid4()), str(uuid.uuid4())
    body = ics(u1).replace("END:VCALENDAR\r\n", "") + "\r\n".join(
        ["BEGIN:VEVENT", f"UID:{u2}", "DTSTAMP:20260101T000000Z", "DTSTART:20260111T100000Z",
         "SUMMARY:Second", "END:VEVENT", "END:VCALENDAR", ""])
    r = put(server, path + "two.ics", body)
    assert r.status_code == 403
    assert C + "valid-calendar-object-resource" in error_condition(r)
    assert event_by_uid(server, u1) is None and event_by_uid(server, u2) is None


def test_rfc4791_5_3_2_1_not_icalendar_refused(server):
    path = new_calendar(server)
    r = put(server, path + "junk.ics", "this is not iCalendar\r\n")
    assert r.status_code == 403 and C + "valid-calendar-data" in error_condition(r)
    r = put(server, path + "junk.ics", "BEGIN:VCARD\r\nEND:VCARD\r\n", ctype="text/vcard")
    assert r.status_code == 403 and C + "supported-calendar-data" in error_condition(r)
    assert server.http().get(server.base + path + "junk.ics").status_code == 404


def test_rfc4791_5_3_2_1_max_resource_size(server):
    path = new_calendar(server)
    big = ics(str(uuid.uuid4()), extra="DESCRIPTION:" + "x" * 1100000)
    r = put(server, path + "big.ics", big)
    assert r.status_code == 403 and C + "max-resource-size" in error_condition(r)


def test_rfc4918_9_7_1_put_into_missing_collection_409(server):
    home = homes(server)[0]
    r = put(server, home + "nosuchcal/x.ics", ics(str(uuid.uuid4())))
    assert r.status_code == 409


# ---- reports ------------------------------------------------------------------------------------

def test_rfc4791_7_9_calendar_multiget(server):
    path = new_calendar(server)
    uids = [str(uuid.uuid4()) for _ in range(2)]
    for i, u in enumerate(uids):
        assert put(server, path + f"m{i}.ics", ics(u, f"M{i}")).status_code == 201
    body = (f'<c:calendar-multiget {NSDECL}><d:prop><d:getetag/><c:calendar-data/></d:prop>'
            f'<d:href>{path}m0.ics</d:href><d:href>{server.base}{path}m1.ics</d:href>'
            f'<d:href>{path}missing.ics</d:href></c:calendar-multiget>')
    ms = multistatus(dav(server, "REPORT", path, body, depth=1))
    assert "SUMMARY:M0" in ms[path + "m0.ics"]["props"][C + "calendar-data"].text
    assert "SUMMARY:M1" in ms[path + "m1.ics"]["props"][C + "calendar-data"].text
    assert ms[path + "missing.ics"]["status"] == 404


def query_body(start, end, expand=False, comp="VEVENT", extra=""):
    data = "<c:calendar-data/>"
    if expand:
        data = f'<c:calendar-data><c:expand start="{start}" end="{end}"/></c:calendar-data>'
    return (f'<c:calendar-query {NSDECL}><d:prop><d:getetag/>{data}</d:prop><c:filter>'
            f'<c:comp-filter name="VCALENDAR"><c:comp-filter name="{comp}">'
            f'<c:time-range start="{start}" end="{end}"/>{extra}</c:comp-filter></c:comp-filter>'
            f'</c:filter></c:calendar-query>')


def test_rfc4791_9_9_time_range_matches_recurrences(server):
    path = new_calendar(server)
    put(server, path + "daily.ics", ics(str(uuid.uuid4()), "Daily", "20260101T090000Z",
                                        rrule="FREQ=DAILY;COUNT=30"))
    put(server, path + "once.ics", ics(str(uuid.uuid4()), "Once", "20260301T090000Z"))
    ms = multistatus(dav(server, "REPORT", path,
                         query_body("20260120T000000Z", "20260121T000000Z"), depth=1))
    assert set(ms) == {path + "daily.ics"}
    ms = multistatus(dav(server, "REPORT", path,
                         query_body("20260301T000000Z", "20260302T000000Z"), depth=1))
    assert set(ms) == {path + "once.ics"}
    ms = multistatus(dav(server, "REPORT", path,
                         query_body("20260201T000000Z", "20260202T000000Z"), depth=1))
    assert ms == {}


def test_rfc4791_9_6_5_expand(server):
    path = new_calendar(server)
    put(server, path + "daily.ics", ics(str(uuid.uuid4()), "Daily", "20260101T090000Z",
                                        rrule="FREQ=DAILY;COUNT=30"))
    ms = multistatus(dav(server, "REPORT", path,
                         query_body("20260110T000000Z", "20260113T000000Z", expand=True), depth=1))
    data = unfold(ms[path + "daily.ics"]["props"][C + "calendar-data"].text)
    assert data.count("BEGIN:VEVENT") == 3 and "RRULE" not in data
    for d in ("20260110", "20260111", "20260112"):
        assert f"RECURRENCE-ID:{d}T090000Z" in data


def test_rfc4791_9_7_comp_filter_vtodo_and_prop_filter(server):
    path = new_calendar(server)
    put(server, path + "a.ics", ics(str(uuid.uuid4()), "Dentist", "20260105T090000Z"))
    put(server, path + "b.ics", ics(str(uuid.uuid4()), "Standup", "20260105T100000Z"))
    ms = multistatus(dav(server, "REPORT", path,
                         query_body("20260101T000000Z", "20260201T000000Z", comp="VTODO"), depth=1))
    assert ms == {}
    tm = ('<c:prop-filter name="SUMMARY"><c:text-match collation="i;ascii-casemap">dentist'
          '</c:text-match></c:prop-filter>')
    ms = multistatus(dav(server, "REPORT", path,
                         query_body("20260101T000000Z", "20260201T000000Z", extra=tm), depth=1))
    assert set(ms) == {path + "a.ics"}


def test_rfc4791_7_8_invalid_filter(server):
    path = new_calendar(server)
    body = (f'<c:calendar-query {NSDECL}><d:prop><d:getetag/></d:prop><c:filter>'
            '<c:comp-filter name="VEVENT"/></c:filter></c:calendar-query>')
    r = dav(server, "REPORT", path, body, depth=1)
    assert r.status_code == 403 and C + "valid-filter" in error_condition(r)


def sync(server, path, token=""):
    body = (f'<d:sync-collection {NSDECL}><d:sync-token>{token}</d:sync-token>'
            '<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>')
    return dav(server, "REPORT", path, body, depth=0)


def test_rfc6578_3_sync_collection(server):
    path = new_calendar(server)
    for n in ("s1", "s2", "s3"):
        put(server, path + n + ".ics", ics(str(uuid.uuid4()), n))
    r = sync(server, path)
    first = multistatus(r)
    assert set(first) == {path + "s1.ics", path + "s2.ics", path + "s3.ics"}
    tok = sync_token(r)
    prop_tok = multistatus(propfind(server, path, "<d:sync-token/>"))[path]["props"][D + "sync-token"].text
    assert tok == prop_tok
    # nothing changed: nothing reported
    r = sync(server, path, tok)
    assert multistatus(r) == {} and sync_token(r) == tok
    # a change, a deletion (404), an addition
    put(server, path + "s1.ics", unfold(server.http().get(server.base + path + "s1.ics").text)
        .replace("SUMMARY:s1", "SUMMARY:s1b"))
    server.http().delete(server.base + path + "s2.ics")
    put(server, path + "s4.ics", ics(str(uuid.uuid4()), "s4"))
    r = sync(server, path, tok)
    ms = multistatus(r)
    assert set(ms) == {path + "s1.ics", path + "s2.ics", path + "s4.ics"}
    assert ms[path + "s2.ics"]["status"] == 404
    assert D + "getetag" in ms[path + "s1.ics"]["props"]
    assert sync_token(r) != tok


def test_rfc6578_3_2_invalid_sync_token(server):
    path = new_calendar(server)
    for bad in ("bogus", "https://jmapd.invalid/sync/99999999", "https://jmapd.invalid/sync/x"):
        r = sync(server, path, bad)
        assert r.status_code == 403 and D + "valid-sync-token" in error_condition(r)


def test_rfc3253_unsupported_report(server):
    path = new_calendar(server)
    r = dav(server, "REPORT", path, f'<d:expand-property {NSDECL}/>', depth=0)
    assert r.status_code == 403 and D + "supported-report" in error_condition(r)


# ---- collections ----------------------------------------------------------------------------------

def test_rfc4791_5_3_1_mkcalendar_with_properties(server):
    path = new_calendar(server, props="<d:displayname>Work</d:displayname>"
                        "<c:calendar-description>Office</c:calendar-description>"
                        "<a:calendar-color>#FF0000FF</a:calendar-color>")
    _, res = server.call("Calendar/get", {"accountId": server.account()})
    cal = [c for c in res["list"] if c["name"] == "Work"][0]
    assert cal["description"] == "Office" and cal["color"].lower() == "#ff0000"
    p = multistatus(propfind(server, path, "<d:displayname/><a:calendar-color/>"))[path]["props"]
    assert p[D + "displayname"].text == "Work"
    # the segment the client chose stays the URL
    assert dav(server, "MKCALENDAR", path).status_code == 405


def test_rfc4918_9_2_proppatch(server):
    path = new_calendar(server)
    cid = cal_id(server, path)
    body = (f'<d:propertyupdate {NSDECL}><d:set><d:prop><d:displayname>Renamed</d:displayname>'
            '<a:calendar-color>#00FF00</a:calendar-color></d:prop></d:set></d:propertyupdate>')
    ms = multistatus(dav(server, "PROPPATCH", path, body))
    assert D + "displayname" in ms[path]["props"]
    _, res = server.call("Calendar/get", {"accountId": server.account(), "ids": [cid]})
    assert res["list"][0]["name"] == "Renamed" and res["list"][0]["color"].lower() == "#00ff00"
    # all or nothing: a protected property fails the whole request (403 + 424)
    body = (f'<d:propertyupdate {NSDECL}><d:set><d:prop><d:displayname>Again</d:displayname>'
            '<d:getetag>"x"</d:getetag></d:prop></d:set></d:propertyupdate>')
    ms = multistatus(dav(server, "PROPPATCH", path, body))
    assert D + "getetag" in ms[path]["missing"] and D + "displayname" in ms[path]["missing"]
    _, res = server.call("Calendar/get", {"accountId": server.account(), "ids": [cid]})
    assert res["list"][0]["name"] == "Renamed"


def test_delete_calendar_collection(server):
    path = new_calendar(server)
    uid = str(uuid.uuid4())
    put(server, path + "e.ics", ics(uid))
    assert server.http().delete(server.base + path).status_code == 204
    assert propfind(server, path, "<d:resourcetype/>").status_code == 404
    assert event_by_uid(server, uid) is None


def test_rfc4791_9_6_5_expand_returns_utc(server):
    path = new_calendar(server)
    body = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT",
        f"UID:{uuid.uuid4()}", "DTSTAMP:20260101T000000Z",
        "DTSTART;TZID=Europe/Berlin:20260105T090000", "DURATION:PT1H", "SUMMARY:Zoned",
        "RRULE:FREQ=WEEKLY;COUNT=10", "END:VEVENT", "END:VCALENDAR", ""])
    assert put(server, path + "zoned.ics", body).status_code == 201
    # the stored event keeps its zone
    assert "TZID=Europe/Berlin" in server.http().get(server.base + path + "zoned.ics").text
    ms = multistatus(dav(server, "REPORT", path,
                         query_body("20260110T000000Z", "20260120T000000Z", expand=True), depth=1))
    data = unfold(ms[path + "zoned.ics"]["props"][C + "calendar-data"].text)
    assert "DTSTART:20260112T080000Z" in data and "RECURRENCE-ID:20260112T080000Z" in data
    assert "DTSTART:20260119T080000Z" in data and "BEGIN:VTIMEZONE" not in data


def test_rfc4791_7_10_free_busy_query(server):
    path = new_calendar(server)
    put(server, path + "a.ics", ics(str(uuid.uuid4()), "A", "20260105T090000Z",
                                    rrule="FREQ=DAILY;COUNT=3"))
    put(server, path + "b.ics", ics(str(uuid.uuid4()), "B", "20260105T093000Z"))
    put(server, path + "free.ics", ics(str(uuid.uuid4()), "Free", "20260105T140000Z",
                                       extra="TRANSP:TRANSPARENT"))
    put(server, path + "tent.ics", ics(str(uuid.uuid4()), "Maybe", "20260106T160000Z",
                                       extra="STATUS:TENTATIVE"))
    body = (f'<c:free-busy-query {NSDECL}><c:time-range start="20260105T000000Z" '
            'end="20260107T000000Z"/></c:free-busy-query>')
    r = dav(server, "REPORT", path, body, depth=1)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/calendar")
    text = unfold(r.text)
    assert "BEGIN:VFREEBUSY" in text
    busy = sorted(line for line in text.splitlines() if line.startswith("FREEBUSY"))
    assert busy == ["FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260106T160000Z/20260106T170000Z",
                    "FREEBUSY;FBTYPE=BUSY:20260105T090000Z/20260105T103000Z",
                    "FREEBUSY;FBTYPE=BUSY:20260106T090000Z/20260106T100000Z"]
    r = dav(server, "REPORT", path, f'<c:free-busy-query {NSDECL}/>', depth=1)
    assert r.status_code == 400


def test_rfc4791_5_3_2_1_vtodo_not_supported_component(server):
    path = new_calendar(server)
    body = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VTODO",
                        f"UID:{uuid.uuid4()}", "DTSTAMP:20260101T000000Z", "SUMMARY:Task",
                        "END:VTODO", "END:VCALENDAR", ""])
    r = put(server, path + "task.ics", body)
    assert r.status_code == 403 and C + "supported-calendar-component" in error_condition(r)


def test_rfc4791_5_2_1_and_rfc6352_6_2_1_description_proppatch_set_and_remove(server):
    """Issue 20 Deliver 2 and 3 (RFC 4918 §9.2): PROPPATCH sets a calendar's
    CALDAV:calendar-description and an address book's CARDDAV:addressbook-description
    (the collection's JMAP description) and removes them (null: the property is gone)."""
    using = [CORE, CAL, "urn:ietf:params:jmap:contacts"]
    for path, kind, ns, get in (
            (new_calendar(server), "c:calendar-description", C, "Calendar/get"),
            (new_addressbook(server), "cr:addressbook-description", CR, "AddressBook/get")):
        name = kind.split(":")[1]
        body = (f'<d:propertyupdate {NSDECL}><d:set><d:prop><{kind}>Team &amp; friends</{kind}>'
                '</d:prop></d:set></d:propertyupdate>')
        ms = multistatus(dav(server, "PROPPATCH", path, body))
        assert ns + name in ms[path]["props"], ms
        p = multistatus(propfind(server, path, f"<{kind}/>"))[path]["props"]
        assert p[ns + name].text == "Team & friends"
        _, res = server.call(get, {"accountId": server.account()}, using=using)
        got = [c for c in res["list"] if c["description"] == "Team & friends"]
        assert len(got) == 1, res["list"]
        body = (f'<d:propertyupdate {NSDECL}><d:remove><d:prop><{kind}/></d:prop></d:remove>'
                '</d:propertyupdate>')
        assert multistatus(dav(server, "PROPPATCH", path, body))[path]["props"]
        assert ns + name in multistatus(propfind(server, path, f"<{kind}/>"))[path]["missing"]
        _, res = server.call(get, {"accountId": server.account(), "ids": [got[0]["id"]]},
                             using=using)
        assert res["list"][0]["description"] is None


def test_rfc7809_calendar_timezone_proppatch(server):
    path = new_calendar(server)
    cid = cal_id(server, path)
    vtz = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n"
           "END:VTIMEZONE\r\nEND:VCALENDAR\r\n")
    body = (f'<d:propertyupdate {NSDECL}><d:set><d:prop><c:calendar-timezone>{vtz}'
            '</c:calendar-timezone></d:prop></d:set></d:propertyupdate>')
    ms = multistatus(dav(server, "PROPPATCH", path, body))
    assert C + "calendar-timezone" in ms[path]["props"]
    _, res = server.call("Calendar/get", {"accountId": server.account(), "ids": [cid]})
    assert res["list"][0]["timeZone"] == "Europe/Paris"
    body = (f'<d:propertyupdate {NSDECL}><d:set><d:prop><c:calendar-timezone-id>Asia/Tokyo'
            '</c:calendar-timezone-id></d:prop></d:set></d:propertyupdate>')
    multistatus(dav(server, "PROPPATCH", path, body))
    p = multistatus(propfind(server, path, "<c:calendar-timezone-id/>"))[path]["props"]
    assert p[C + "calendar-timezone-id"].text == "Asia/Tokyo"
    body = (f'<d:propertyupdate {NSDECL}><d:set><d:prop><c:calendar-timezone-id>Not/AZone'
            '</c:calendar-timezone-id></d:prop></d:set></d:propertyupdate>')
    ms = multistatus(dav(server, "PROPPATCH", path, body))
    assert C + "calendar-timezone-id" in ms[path]["missing"]


def test_listing_with_one_and_with_two_calendars(fresh_server):
    """An account's only calendar lists every event without reading them; with a
    second calendar each lists its own."""
    s = fresh_server
    acct = s.account("bob")
    _, cals = s.call("Calendar/get", {"accountId": acct}, user="bob")
    (first,) = [c["id"] for c in cals["list"]]
    _, res = s.call("CalendarEvent/set", {"accountId": acct, "create": {"a": {
        "calendarIds": {first: True}, "title": "A", "start": "2026-01-01T10:00:00"}}}, user="bob")
    a = res["created"]["a"]["id"]
    home = homes(s, "bob")[0]
    assert set(multistatus(propfind(s, home + first + "/", "<d:getetag/>", depth=1,
                                    user="bob"))) == {home + first + "/", home + first + f"/{a}.ics"}
    _, res = s.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "Two"}}},
                    user="bob")
    second = res["created"]["c"]["id"]
    _, res = s.call("CalendarEvent/set", {"accountId": acct, "create": {"b": {
        "calendarIds": {second: True}, "title": "B", "start": "2026-01-02T10:00:00"}}}, user="bob")
    b = res["created"]["b"]["id"]
    for cal, ev in ((first, a), (second, b)):
        ms = multistatus(propfind(s, home + cal + "/", "<d:getetag/>", depth=1, user="bob"))
        assert set(ms) == {home + cal + "/", home + cal + f"/{ev}.ics"}
