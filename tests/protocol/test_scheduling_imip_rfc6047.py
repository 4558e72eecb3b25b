"""Incoming iMIP (RFC 6047) through `jmapd deliver --user NAME`: the iTIP method
(RFC 5546 §3.2) of the message's text/calendar part applied to the user's data, and
what cannot be trusted or matched refused with no change. Issue 14 point 3."""
import base64

import pytest

from groupware_util import GroupServer


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    s.acct = {u: s.own(u) for u in ("alice", "bob")}
    yield s
    s.close()


def ics(method, uid, seq=0, organizer="boss@example.org", attendees=(("bob@localhost",
                                                                        "NEEDS-ACTION"),),
        summary="Board meeting", start="20260601T090000", dtstamp="20260101T000000Z"):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", f"METHOD:{method}",
             "BEGIN:VEVENT", f"UID:{uid}", f"SEQUENCE:{seq}", f"DTSTAMP:{dtstamp}",
             f"DTSTART;TZID=Europe/Paris:{start}", "DURATION:PT1H", f"SUMMARY:{summary}",
             f"ORGANIZER:mailto:{organizer}"]
    lines += [f"ATTENDEE;PARTSTAT={ps};RSVP=TRUE:mailto:{a}" for a, ps in attendees]
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)


def message(sender, text, method, multipart=False):
    head = (f"From: Sender <{sender}>\r\nTo: bob@localhost\r\nSubject: Invitation\r\n"
            "MIME-Version: 1.0\r\n")
    if not multipart:
        return (head + f'Content-Type: text/calendar; charset="utf-8"; method={method}\r\n'
                "\r\n" + text)
    b64 = base64.encodebytes(text.encode()).decode()
    return (head + 'Content-Type: multipart/mixed; boundary="XyZ"\r\n\r\n'
            "preamble\r\n--XyZ\r\nContent-Type: text/plain\r\n\r\nYou are invited.\r\n"
            f"--XyZ\r\nContent-Type: text/calendar; method={method}; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--XyZ--\r\n")


def deliver(gs, user, msg):
    return gs.cli("deliver", "--user", user, stdin=msg)


def by_uid(gs, user, uid):
    _, q = gs.c("CalendarEvent/query", {"accountId": gs.acct[user], "filter": {"uid": uid}},
                user=user)
    if not q["ids"]:
        return None
    _, got = gs.c("CalendarEvent/get", {"accountId": gs.acct[user], "ids": q["ids"]}, user=user)
    return got["list"][0]


def test_request_creates_then_updates_rfc5546_s3_2_2(gs):
    r = deliver(gs, "bob", message("boss@example.org", ics("REQUEST", "imip-1"), "REQUEST"))
    assert r.returncode == 0, r.stderr
    ev = by_uid(gs, "bob", "imip-1")
    assert ev["title"] == "Board meeting" and ev["isOrigin"] is False
    assert ev["organizerCalendarAddress"] == "mailto:boss@example.org"
    _, q = gs.c("CalendarEventNotification/query", {"accountId": gs.acct["bob"],
                                                    "filter": {"calendarEventIds": [ev["id"]]}},
                user="bob")
    _, n = gs.c("CalendarEventNotification/get", {"accountId": gs.acct["bob"], "ids": q["ids"]},
                user="bob")
    assert [x["type"] for x in n["list"]] == ["created"]
    assert n["list"][0]["changedBy"]["calendarAddress"] == "mailto:boss@example.org"
    assert n["list"][0]["changedBy"]["principalId"] is None  # from outside the server
    r = deliver(gs, "bob", message("boss@example.org",
                                   ics("REQUEST", "imip-1", seq=1, summary="Board (moved)",
                                       start="20260602T090000"), "REQUEST", multipart=True))
    assert r.returncode == 0, r.stderr
    ev2 = by_uid(gs, "bob", "imip-1")
    assert ev2["id"] == ev["id"] and ev2["title"] == "Board (moved)"
    assert ev2["start"] == "2026-06-02T09:00:00"


def test_older_sequence_and_forged_sender_change_nothing_rfc5546_s2_1_5(gs):
    deliver(gs, "bob", message("boss@example.org", ics("REQUEST", "imip-2", seq=3), "REQUEST"))
    before = by_uid(gs, "bob", "imip-2")
    r = deliver(gs, "bob", message("boss@example.org",
                                   ics("REQUEST", "imip-2", seq=2, summary="stale"), "REQUEST"))
    assert r.returncode == 1 and "SEQUENCE" in r.stderr
    r = deliver(gs, "bob", message("mallory@example.org",
                                   ics("REQUEST", "imip-2", seq=9, summary="forged"), "REQUEST"))
    assert r.returncode == 1 and "organizer" in r.stderr
    r = deliver(gs, "bob", message("mallory@example.org", ics("CANCEL", "imip-2", seq=9),
                                   "CANCEL"))
    assert r.returncode == 1 and "organizer" in r.stderr
    assert by_uid(gs, "bob", "imip-2") == before


def test_cancel_rfc5546_s3_2_5(gs):
    deliver(gs, "bob", message("boss@example.org", ics("REQUEST", "imip-3"), "REQUEST"))
    r = deliver(gs, "bob", message("boss@example.org", ics("CANCEL", "imip-3", seq=1),
                                   "CANCEL"))
    assert r.returncode == 0, r.stderr
    assert by_uid(gs, "bob", "imip-3")["status"] == "cancelled"
    r = deliver(gs, "bob", message("boss@example.org", ics("CANCEL", "nope", seq=1), "CANCEL"))
    assert r.returncode == 1 and "no event" in r.stderr


def test_reply_from_external_attendee_rfc5546_s3_2_3(gs):
    cal = [c["id"] for c in gs.c("Calendar/get", {"accountId": gs.acct["alice"]})[1]["list"]
           if c["isDefault"]][0]
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.acct["alice"], "create": {"e": {
        "calendarIds": {cal: True}, "uid": "imip-4", "title": "Lunch",
        "start": "2026-06-03T12:00:00", "timeZone": "Europe/Paris",
        "organizerCalendarAddress": "mailto:alice@localhost",
        "participants": {
            "a": {"@type": "Participant", "calendarAddress": "mailto:alice@localhost",
                  "roles": {"owner": True}},
            "x": {"@type": "Participant", "calendarAddress": "mailto:ext@example.org",
                  "roles": {"attendee": True}, "participationStatus": "needs-action"}}}}})
    assert "e" in res["created"], res
    reply = ics("REPLY", "imip-4", organizer="alice@localhost",
                attendees=(("ext@example.org", "ACCEPTED"),))
    r = deliver(gs, "alice", message("ext@example.org", reply, "REPLY"))
    assert r.returncode == 0, r.stderr
    ev = by_uid(gs, "alice", "imip-4")
    assert ev["participants"]["x"]["participationStatus"] == "accepted"
    # not invited, unknown event: refused
    stranger = ics("REPLY", "imip-4", organizer="alice@localhost",
                   attendees=(("stranger@example.org", "DECLINED"),))
    r = deliver(gs, "alice", message("stranger@example.org", stranger, "REPLY"))
    assert r.returncode == 1 and "participant" in r.stderr
    r = deliver(gs, "alice", message("ext@example.org", ics(
        "REPLY", "imip-unknown", organizer="alice@localhost",
        attendees=(("ext@example.org", "ACCEPTED"),)), "REPLY"))
    assert r.returncode == 1 and "UID" in r.stderr
    assert by_uid(gs, "alice", "imip-4")["participants"] == ev["participants"]


def test_bad_messages_rfc6047_s2(gs):
    for msg in ("", "From: a@b\r\n\r\nno calendar here\r\n",
                message("boss@example.org", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "REQUEST"),
                message("boss@example.org", ics("REQUEST", "x").replace("METHOD:REQUEST\r\n",
                                                                        ""), "")):
        r = deliver(gs, "bob", msg)
        assert r.returncode == 1, msg
    r = deliver(gs, "nobody", message("boss@example.org", ics("REQUEST", "y"), "REQUEST"))
    assert r.returncode == 1 and "no such user" in r.stderr
    assert gs.cli("deliver").returncode == 2


def test_schedule_sequence_and_updated_discard_older_replies_calendars27_s5_2(gs):
    """calendars-27 §5.2.1, §5.2.2: the organizer's copy records, per participant, the
    sequence and updated (DTSTAMP) of the last REPLY applied, and a REPLY older than it
    (delivered out of order) changes nothing."""
    cal = [c["id"] for c in gs.c("Calendar/get", {"accountId": gs.acct["alice"]})[1]["list"]
           if c["isDefault"]][0]
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.acct["alice"], "create": {"e": {
        "calendarIds": {cal: True}, "uid": "imip-seq", "title": "Order",
        "start": "2026-06-04T12:00:00", "timeZone": "Europe/Paris",
        "organizerCalendarAddress": "mailto:alice@localhost",
        "participants": {
            "a": {"@type": "Participant", "calendarAddress": "mailto:alice@localhost",
                  "roles": {"owner": True}},
            "x": {"@type": "Participant", "calendarAddress": "mailto:ext@example.org",
                  "roles": {"attendee": True}, "participationStatus": "needs-action"}}}}})
    assert "e" in res["created"], res

    def reply(status, stamp, seq=0):
        return deliver(gs, "alice", message("ext@example.org", ics(
            "REPLY", "imip-seq", seq=seq, organizer="alice@localhost", dtstamp=stamp,
            attendees=(("ext@example.org", status),)), "REPLY"))

    assert reply("TENTATIVE", "20260102T100000Z").returncode == 0
    x = by_uid(gs, "alice", "imip-seq")["participants"]["x"]
    assert x["participationStatus"] == "tentative"
    assert x["scheduleSequence"] == 0 and x["scheduleUpdated"] == "2026-01-02T10:00:00Z"
    # an answer written earlier but delivered later: discarded
    r = reply("DECLINED", "20260102T090000Z")
    assert r.returncode == 1 and "scheduleUpdated" in r.stderr
    assert by_uid(gs, "alice", "imip-seq")["participants"]["x"] == x
    assert reply("ACCEPTED", "20260102T110000Z").returncode == 0
    x = by_uid(gs, "alice", "imip-seq")["participants"]["x"]
    assert x["participationStatus"] == "accepted"
    assert x["scheduleUpdated"] == "2026-01-02T11:00:00Z"
