"""A collection is a namespace of its own (RFC 4918 §5.2: a member's URL is its
collection's plus one segment): two calendars, or two address books, may each hold a
resource of the same name, and each URL names its own resource for every method.
Raw HTTP, black-box (the last test edits the SQLite file to stand for a database of
before, where a name named one object of the account)."""
import os
import sqlite3
import uuid

import pytest

from conftest import PG
from davutil import (C, CR, D, NSDECL, dav, ics, multistatus, new_addressbook, new_calendar,
                     propfind, put, vcf)


def summary(server, path):
    r = dav(server, "GET", path)
    if r.status_code != 200:
        return r.status_code
    return [ln[8:] for ln in r.text.splitlines() if ln.startswith("SUMMARY:")][0]


def multiget_summaries(server, coll, name):
    body = (f'<c:calendar-multiget {NSDECL}><d:prop><d:getetag/><c:calendar-data/></d:prop>'
            f'<d:href>{coll}{name}</d:href></c:calendar-multiget>')
    entry = multistatus(dav(server, "REPORT", coll, body, depth=1))[coll + name]
    data = entry["props"].get(C + "calendar-data")
    return entry.get("status") if data is None else \
        [ln[8:] for ln in data.text.splitlines() if ln.startswith("SUMMARY:")][0]


def listed(server, coll):
    ms = multistatus(propfind(server, coll, "<d:getetag/>", depth=1))
    return sorted(h[len(coll):] for h in ms if h != coll)


def test_rfc4918_5_2_one_name_in_two_calendars(server):
    one, two = new_calendar(server), new_calendar(server)
    assert put(server, one + "event.ics", ics(str(uuid.uuid4()), "One")).status_code == 201
    assert put(server, two + "event.ics", ics(str(uuid.uuid4()), "Two")).status_code == 201
    assert summary(server, one + "event.ics") == "One"
    assert summary(server, two + "event.ics") == "Two"
    # RFC 4791 §7.9: the multiget of each collection finds its own
    assert multiget_summaries(server, one, "event.ics") == "One"
    assert multiget_summaries(server, two, "event.ics") == "Two"
    assert listed(server, one) == ["event.ics"] and listed(server, two) == ["event.ics"]
    # a change through one URL changes that resource only
    assert put(server, two + "event.ics",
               ics(multistatus_uid(server, two + "event.ics"), "Two again")).status_code == 204
    assert summary(server, one + "event.ics") == "One"
    assert summary(server, two + "event.ics") == "Two again"
    # RFC 4918 §9.6: DELETE removes the resource its URL names, not the other
    assert dav(server, "DELETE", one + "event.ics").status_code == 204
    assert summary(server, one + "event.ics") == 404
    assert summary(server, two + "event.ics") == "Two again"
    # and the name is free again in the first calendar, for another resource
    assert put(server, one + "event.ics", ics(str(uuid.uuid4()), "Three")).status_code == 201
    assert summary(server, one + "event.ics") == "Three"
    assert summary(server, two + "event.ics") == "Two again"


def multistatus_uid(server, path):
    text = dav(server, "GET", path).text
    return [ln[4:] for ln in text.splitlines() if ln.startswith("UID:")][0]


def test_rfc6352_one_name_in_two_address_books(server):
    one, two = new_addressbook(server), new_addressbook(server)
    assert put(server, one + "card.vcf", vcf(str(uuid.uuid4()), "Ann One"),
               ctype="text/vcard").status_code == 201
    assert put(server, two + "card.vcf", vcf(str(uuid.uuid4()), "Bob Two"),
               ctype="text/vcard").status_code == 201
    assert "FN:Ann One" in dav(server, "GET", one + "card.vcf").text
    assert "FN:Bob Two" in dav(server, "GET", two + "card.vcf").text
    body = (f'<cr:addressbook-multiget {NSDECL}><d:prop><cr:address-data/></d:prop>'
            f'<d:href>{two}card.vcf</d:href></cr:addressbook-multiget>')
    ms = multistatus(dav(server, "REPORT", two, body, depth=1))
    assert "FN:Bob Two" in ms[two + "card.vcf"]["props"][CR + "address-data"].text


def test_rfc4918_9_9_move_keeps_the_name_in_the_destination(server):
    one, two = new_calendar(server), new_calendar(server)
    assert put(server, one + "moving.ics", ics(str(uuid.uuid4()), "Mover")).status_code == 201
    r = dav(server, "MOVE", one + "moving.ics",
            headers={"Destination": server.base + two + "moving.ics"})
    assert r.status_code == 201
    assert summary(server, two + "moving.ics") == "Mover"
    assert summary(server, one + "moving.ics") == 404
    assert multiget_summaries(server, two, "moving.ics") == "Mover"
    # the source's name is free: another resource takes it, the moved one stays
    assert put(server, one + "moving.ics", ics(str(uuid.uuid4()), "Newcomer")).status_code == 201
    assert summary(server, one + "moving.ics") == "Newcomer"
    assert summary(server, two + "moving.ics") == "Mover"
    # moved back under a new name
    r = dav(server, "MOVE", two + "moving.ics",
            headers={"Destination": server.base + one + "back.ics"})
    assert r.status_code == 201
    assert summary(server, one + "back.ics") == "Mover"
    assert summary(server, two + "moving.ics") == 404
    assert summary(server, one + "moving.ics") == "Newcomer"


def test_rfc4918_9_8_copy_leaves_the_source_reachable(server):
    one, two = new_calendar(server), new_calendar(server)
    assert put(server, one + "copied.ics", ics(str(uuid.uuid4()), "Copied")).status_code == 201
    r = dav(server, "COPY", one + "copied.ics",
            headers={"Destination": server.base + two + "copied.ics"})
    assert r.status_code in (201, 204)
    assert summary(server, one + "copied.ics") == "Copied"
    assert summary(server, two + "copied.ics") == "Copied"
    # the same object in both (its calendarIds): a change through one shows in the other
    uid = multistatus_uid(server, one + "copied.ics")
    assert put(server, two + "copied.ics", ics(uid, "Changed")).status_code == 204
    assert summary(server, one + "copied.ics") == "Changed"
    # MOVE of it out of the second calendar: the first keeps its name
    three = new_calendar(server)
    r = dav(server, "MOVE", two + "copied.ics",
            headers={"Destination": server.base + three + "copied.ics"})
    assert r.status_code == 201
    assert summary(server, one + "copied.ics") == "Changed"
    assert summary(server, three + "copied.ics") == "Changed"
    assert summary(server, two + "copied.ics") == 404


@pytest.mark.skipif(PG, reason="edits the SQLite file: a database of before")
def test_rfc4918_5_2_names_kept_per_account_before_are_still_found(fresh_server):
    s = fresh_server
    one, two = new_calendar(s), new_calendar(s)
    assert put(s, one + "old.ics", ics(str(uuid.uuid4()), "Old")).status_code == 201
    assert put(s, one + "keep.ics", ics(str(uuid.uuid4()), "Kept")).status_code == 201
    s.stop()
    db = sqlite3.connect(os.path.join(s.data, "jmapd.db"))
    # the rows as the server wrote them before: one object a name, {"id": ...}
    n = db.execute("UPDATE objects SET data = json_object('id', json_extract(data, '$.ids[0]')) "
                   "WHERE type = 'dav:name:CalendarEvent' AND json_extract(data, '$.ids[0]') "
                   "IS NOT NULL").rowcount
    db.commit()
    db.close()
    assert n == 2
    s.start()
    assert summary(s, one + "old.ics") == "Old"
    assert multiget_summaries(s, one, "keep.ics") == "Kept"
    assert summary(s, two + "old.ics") == 404  # not a member of the other calendar
    # the other calendar may now take the name; the first keeps its resource
    assert put(s, two + "old.ics", ics(str(uuid.uuid4()), "New")).status_code == 201
    assert summary(s, one + "old.ics") == "Old"
    assert summary(s, two + "old.ics") == "New"
    # a MOVE of a resource named before
    r = dav(s, "MOVE", one + "keep.ics", headers={"Destination": s.base + two + "keep.ics"})
    assert r.status_code == 201
    assert summary(s, two + "keep.ics") == "Kept" and summary(s, one + "keep.ics") == 404
