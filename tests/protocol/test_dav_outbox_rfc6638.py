"""Busy time requests POSTed to the scheduling outbox (RFC 6638 §5, Appendix B.5): a
VFREEBUSY REQUEST (RFC 5546 §3.3.2) answered per attendee with a CALDAV:schedule-response
(§10.1-10.4), the busy time of users of this server whose free/busy the requester may read
(draft-ietf-jmap-calendars-27 §4 mayReadFreeBusy), and the §5.2 preconditions."""
import uuid
import xml.etree.ElementTree as ET

import pytest

from davutil import C, D, dav, error_condition, multistatus, propfind
from groupware_util import GroupServer


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    s.acct = {u: s.own(u) for u in ("alice", "bob", "frank")}
    # bob lets alice see when he is busy (and no more); frank shares nothing
    _, res = s.c("Calendar/set", {"accountId": s.acct["bob"], "create": {"w": {
        "name": "work", "shareWith": {s.acct["alice"]: {"mayReadFreeBusy": True}}}}},
        user="bob")
    cal = res["created"]["w"]["id"]
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["bob"], "create": {
        "e": {"calendarIds": {cal: True}, "title": "Secret plans", "uid": str(uuid.uuid4()),
              "start": "2026-06-02T11:00:00", "duration": "PT1H", "timeZone": "Etc/UTC"},
        "t": {"calendarIds": {cal: True}, "title": "Maybe", "uid": str(uuid.uuid4()),
              "start": "2026-06-03T17:00:00", "duration": "PT1H", "timeZone": "Etc/UTC",
              "status": "tentative"}}}, user="bob")
    assert len(res["created"]) == 2, res
    yield s
    s.close()


def address(gs, user):
    p = multistatus(propfind(gs, f"/dav/principals/{user}/", "<c:calendar-user-address-set/>",
                             user=user))[f"/dav/principals/{user}/"]["props"]
    return [h.text for h in p[C + "calendar-user-address-set"].findall(D + "href")
            if h.text.startswith("mailto:")][0]


def outbox(gs, user):
    return f"/dav/calendars/{gs.acct[user]}/outbox/"


def fb_request(organizer, *attendees, method="REQUEST", start="20260602T000000Z",
               end="20260604T000000Z"):
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN",
                        f"METHOD:{method}", "BEGIN:VFREEBUSY", f"UID:{uuid.uuid4()}",
                        "DTSTAMP:20260601T000000Z", f"DTSTART:{start}", f"DTEND:{end}",
                        f"ORGANIZER:{organizer}", *[f"ATTENDEE:{a}" for a in attendees],
                        "END:VFREEBUSY", "END:VCALENDAR", ""])


def post(gs, path, body, user="alice", ctype="text/calendar; charset=utf-8"):
    return gs.http(user).post(gs.base + path, data=body.encode(),
                              headers={"Content-Type": ctype})


def responses(r):
    assert r.status_code == 200, (r.status_code, r.text)
    root = ET.fromstring(r.content)
    assert root.tag == C + "schedule-response"
    out = {}
    for resp in root.findall(C + "response"):
        who = resp.find(C + "recipient").find(D + "href").text
        data = resp.find(C + "calendar-data")
        out[who] = (resp.find(C + "request-status").text,
                    data.text if data is not None else None)
    return out


def test_rfc6638_5_busy_time_request(gs):
    me, bob, frank = address(gs, "alice"), address(gs, "bob"), address(gs, "frank")
    got = responses(post(gs, outbox(gs, "alice"),
                         fb_request(me, bob, frank, "mailto:nobody@elsewhere.invalid")))
    status, data = got[bob]
    assert status.startswith("2.0")
    lines = data.replace("\r\n", "\n").split("\n")
    assert "METHOD:REPLY" in lines and "BEGIN:VFREEBUSY" in lines
    assert "FREEBUSY;FBTYPE=BUSY:20260602T110000Z/20260602T120000Z" in lines
    assert "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260603T170000Z/20260603T180000Z" in lines
    assert "Secret plans" not in data  # busy time only
    assert any(line.startswith("ATTENDEE") and bob in line for line in lines)
    assert "DTSTART:20260602T000000Z" in lines and "DTEND:20260604T000000Z" in lines
    # frank shares no free/busy with alice; the third address is no user here
    assert got[frank][0].startswith("3.8") and got[frank][1] is None
    assert got["mailto:nobody@elsewhere.invalid"][0].startswith("3.7")


def test_rfc6638_5_2_preconditions(gs):
    me, bob = address(gs, "alice"), address(gs, "bob")
    # §5.2.2: the ORGANIZER must be the outbox owner's address
    r = post(gs, outbox(gs, "alice"), fb_request(bob, me))
    assert r.status_code == 403 and C + "valid-organizer" in error_condition(r)
    # §5.2.1: RFC 5546 §3.3.2 rules (METHOD:REQUEST, an ATTENDEE, DTSTART/DTEND in UTC)
    for bad in (fb_request(me, bob, method="PUBLISH"), fb_request(me),
                fb_request(me, bob, start="20260602T000000")):
        r = post(gs, outbox(gs, "alice"), bad)
        assert r.status_code == 400 and C + "valid-scheduling-message" in error_condition(r)
    # RFC 4791 preconditions reused by §5.2
    r = post(gs, outbox(gs, "alice"), "not a calendar")
    assert r.status_code == 403 and C + "valid-calendar-data" in error_condition(r)
    r = post(gs, outbox(gs, "alice"), fb_request(me, bob), ctype="application/json")
    assert r.status_code == 403 and C + "supported-calendar-data" in error_condition(r)
    # only the owner posts to an outbox; the inbox takes no POST
    r = post(gs, outbox(gs, "bob"), fb_request(me, bob))
    assert r.status_code in (403, 404)
    r = post(gs, f"/dav/calendars/{gs.acct['alice']}/inbox/", fb_request(me, bob))
    assert r.status_code == 405
