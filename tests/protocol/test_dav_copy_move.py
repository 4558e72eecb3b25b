"""COPY and MOVE of calendar objects and vCards between collections of one user (RFC 4918
§9.8, §9.9 with Overwrite §10.6; RFC 4791 §5.3.2.1 and RFC 6352 §6.3.2.1 no-uid-conflict):
201 for a new destination, 204 for a replaced one, 412 with Overwrite: F, 409 without the
destination collection, 403 onto itself or another kind; the data and names as JMAP sees
them."""
import json
import uuid

import pytest

import conftest
from test_dav_caldav import cal_id, sync
from test_pg_frontends import pair  # noqa: F401 (a fixture: two front ends on one database)
from test_push import Stream, es_url
from davutil import (C, CR, D, dav, error_condition, ics, multistatus, new_addressbook,
                     new_calendar, propfind, put, sync_token, vcf)


def move(server, src, dst, method="MOVE", overwrite=None, absolute=True):
    h = {"Destination": (server.base + dst) if absolute else dst}
    if overwrite:
        h["Overwrite"] = overwrite
    return dav(server, method, src, headers=h)


def event(server, uid):
    acct = server.account()
    _, res = server.call("CalendarEvent/query", {"accountId": acct, "filter": {"uid": uid}})
    if not res["ids"]:
        return None
    _, got = server.call("CalendarEvent/get", {"accountId": acct, "ids": res["ids"]})
    return got["list"][0]


def members(server, path):
    return set(multistatus(propfind(server, path, "<d:getetag/>", depth=1))) - {path}


def test_rfc4918_9_9_move_event_between_calendars(server):
    a, b = new_calendar(server), new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, a + "m.ics", ics(uid, "Moving")).status_code == 201
    r = move(server, a + "m.ics", b + "m.ics")
    assert r.status_code == 201, r.text
    assert server.http().get(server.base + a + "m.ics").status_code == 404
    g = server.http().get(server.base + b + "m.ics")
    assert g.status_code == 200 and "SUMMARY:Moving" in g.text
    assert members(server, a) == set() and members(server, b) == {b + "m.ics"}
    ev = event(server, uid)  # one event, now in b only
    assert ev["calendarIds"] == {cal_id(server, b): True}


def test_rfc4918_9_9_move_renames_and_overwrites(server):
    a, b = new_calendar(server), new_calendar(server)
    u1, u2 = str(uuid.uuid4()), str(uuid.uuid4())
    assert put(server, a + "one.ics", ics(u1, "One")).status_code == 201
    assert put(server, b + "two.ics", ics(u2, "Two")).status_code == 201
    # §10.6 Overwrite: F onto an existing resource: 412, nothing changes
    r = move(server, a + "one.ics", b + "two.ics", overwrite="F")
    assert r.status_code == 412
    assert event(server, u1) and event(server, u2)
    # Overwrite: T (the default) replaces it: 204, the old destination is gone (§9.9.3)
    r = move(server, a + "one.ics", b + "two.ics")
    assert r.status_code == 204, r.text
    assert event(server, u2) is None
    g = server.http().get(server.base + b + "two.ics")
    assert g.status_code == 200 and "SUMMARY:One" in g.text
    assert server.http().get(server.base + a + "one.ics").status_code == 404
    # within one collection under a new name (a path given without scheme and host)
    r = move(server, b + "two.ics", b + "renamed.ics", absolute=False)
    assert r.status_code == 201, r.text
    assert members(server, b) == {b + "renamed.ics"}
    assert server.http().get(server.base + b + "two.ics").status_code == 404
    assert "SUMMARY:One" in server.http().get(server.base + b + "renamed.ics").text


def test_rfc4918_9_8_copy_event_to_another_calendar(server):
    a, b = new_calendar(server), new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, a + "c.ics", ics(uid, "Copied")).status_code == 201
    r = move(server, a + "c.ics", b + "c.ics", method="COPY")
    assert r.status_code == 201, r.text
    for coll in (a, b):  # both URLs answer with the data
        g = server.http().get(server.base + coll + "c.ics")
        assert g.status_code == 200 and "SUMMARY:Copied" in g.text
    assert len(event(server, uid)["calendarIds"]) == 2
    # RFC 4791 §5.3.2.1: a second resource with the same UID under another name
    r = move(server, a + "c.ics", b + "other.ics", method="COPY")
    assert r.status_code == 403 and C + "no-uid-conflict" in error_condition(r)
    # onto itself
    r = move(server, a + "c.ics", a + "c.ics", method="COPY")
    assert r.status_code == 403


def test_rfc4918_9_8_5_status_codes(server):
    a = new_calendar(server)
    uid = str(uuid.uuid4())
    assert put(server, a + "s.ics", ics(uid)).status_code == 201
    home = a.rstrip("/").rsplit("/", 1)[0] + "/"
    # §9.8.5 409: the destination's collection does not exist
    r = move(server, a + "s.ics", home + "no-such-calendar/s.ics")
    assert r.status_code == 409
    # a missing source, a missing Destination header
    assert move(server, a + "missing.ics", a + "x.ics").status_code == 404
    assert dav(server, "MOVE", a + "s.ics").status_code == 400
    # onto another kind (an address book): 403, nothing moves
    book = new_addressbook(server)
    assert move(server, a + "s.ics", book + "s.ics").status_code == 403
    assert server.http().get(server.base + a + "s.ics").status_code == 200
    # another user's home is not a destination
    assert move(server, a + "s.ics", "/dav/calendars/nobody/x/s.ics").status_code in (403, 409)


def test_rfc4918_9_9_move_vcard_between_address_books(server):
    a, b = new_addressbook(server), new_addressbook(server)
    uid = str(uuid.uuid4())
    r = put(server, a + "card.vcf", vcf(uid, fn="Moved Person"), ctype="text/vcard")
    assert r.status_code == 201
    r = move(server, a + "card.vcf", b + "card.vcf")
    assert r.status_code == 201, r.text
    assert server.http().get(server.base + a + "card.vcf").status_code == 404
    g = server.http().get(server.base + b + "card.vcf")
    assert g.status_code == 200 and "Moved Person" in g.text
    r = move(server, b + "card.vcf", a + "card.vcf", method="COPY")
    assert r.status_code == 201
    assert server.http().get(server.base + a + "card.vcf").status_code == 200
    assert server.http().get(server.base + b + "card.vcf").status_code == 200


def rename_seen(reader, cal, token):
    """What reader (a front end) shows of cal after old.ics was renamed new.ics."""
    assert reader.http().get(reader.base + cal + "old.ics").status_code == 404
    g = reader.http().get(reader.base + cal + "new.ics")
    assert g.status_code == 200 and "SUMMARY:Renamed" in g.text
    assert members(reader, cal) == {cal + "new.ics"}
    # RFC 6578 §3.5.1: the old member is reported removed, the new one changed
    ms = multistatus(sync(reader, cal, token))
    assert ms[cal + "old.ics"]["status"] == 404
    assert D + "getetag" in ms[cal + "new.ics"]["props"]


def test_rfc4918_9_9_rename_only_move_and_rfc6578_sync_report_it(server):
    """A MOVE within one collection changes only the resource's name (§9.9: the source
    URL is gone, the destination holds it); a sync-collection from before reports both."""
    cal = new_calendar(server)
    assert put(server, cal + "old.ics", ics(str(uuid.uuid4()), "Renamed")).status_code == 201
    assert members(server, cal) == {cal + "old.ics"}
    token = sync_token(sync(server, cal))
    acct = server.account()
    stream = Stream(server, es_url(server, types="CalendarEvent", closeafter="state"))
    assert move(server, cal + "old.ics", cal + "new.ics").status_code == 201
    rename_seen(server, cal, token)
    # RFC 8620 §7: the change is pushed, with the state /get now answers
    name, data, _ = stream.event()
    _, got = server.call("CalendarEvent/get", {"accountId": acct, "ids": []})
    assert name == "state" and json.loads(data)["changed"][acct]["CalendarEvent"] == got["state"]


@pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")
def test_rfc4918_9_9_rename_only_move_seen_by_another_postgresql_front_end(pair):
    """DESIGN.md §3: front end B has read the collection (its name hints and member index
    hold old.ics) when A renames the resource; B then answers with the new name only."""
    a, b = pair
    cal = new_calendar(a)
    assert put(a, cal + "old.ics", ics(str(uuid.uuid4()), "Renamed")).status_code == 201
    assert b.http().get(b.base + cal + "old.ics").status_code == 200
    assert members(b, cal) == {cal + "old.ics"}
    token = sync_token(sync(b, cal))
    assert move(a, cal + "old.ics", cal + "new.ics").status_code == 201
    rename_seen(b, cal, token)
    rename_seen(a, cal, token)
    # and back, renamed through B this time, read on A
    token = sync_token(sync(a, cal))
    assert move(b, cal + "new.ics", cal + "old.ics").status_code == 201
    assert a.http().get(a.base + cal + "new.ics").status_code == 404
    assert members(a, cal) == {cal + "old.ics"}
    ms = multistatus(sync(a, cal, token))
    assert ms[cal + "new.ics"]["status"] == 404 and D + "getetag" in ms[cal + "old.ics"]["props"]


def test_rfc6578_3_5_1_move_out_with_a_new_name_reports_the_old_href_removed(server):
    """A MOVE into another calendar under another name: a sync of the source from before
    reports the href its client knew (the old name) as removed; the destination's lists
    the new one."""
    a, b = new_calendar(server), new_calendar(server)
    assert put(server, a + "first.ics", ics(str(uuid.uuid4()), "Renamed")).status_code == 201
    ta, tb = sync_token(sync(server, a)), sync_token(sync(server, b))
    assert move(server, a + "first.ics", b + "second.ics").status_code == 201
    ms = multistatus(sync(server, a, ta))
    assert ms[a + "first.ics"]["status"] == 404
    ms = multistatus(sync(server, b, tb))
    assert set(ms) == {b + "second.ics"} and D + "getetag" in ms[b + "second.ics"]["props"]
