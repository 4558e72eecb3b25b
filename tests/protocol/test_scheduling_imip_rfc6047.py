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


ITIP = "jmapd.org:itipMethod"


def organize(gs, uid, title="Review"):
    cal = [c["id"] for c in gs.c("Calendar/get", {"accountId": gs.acct["alice"]})[1]["list"]
           if c["isDefault"]][0]
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.acct["alice"], "create": {"e": {
        "calendarIds": {cal: True}, "uid": uid, "title": title,
        "start": "2026-06-01T09:00:00", "timeZone": "Europe/Paris", "duration": "PT1H",
        "organizerCalendarAddress": "mailto:alice@localhost",
        "participants": {
            "a": {"@type": "Participant", "calendarAddress": "mailto:alice@localhost",
                  "roles": {"owner": True}},
            "x": {"@type": "Participant", "calendarAddress": "mailto:ext@example.org",
                  "roles": {"attendee": True}, "participationStatus": "needs-action"}}}}})
    assert "e" in res["created"], res
    return res["created"]["e"]["id"]


def itip_notes(gs, user, eid):
    _, q = gs.c("CalendarEventNotification/query", {"accountId": gs.acct[user], "filter": {
        "calendarEventIds": [eid]}}, user=user)
    _, n = gs.c("CalendarEventNotification/get", {"accountId": gs.acct[user],
                                                  "ids": q["ids"]}, user=user)
    return [x for x in n["list"] if x.get(ITIP)]


def test_counter_by_mail_is_a_notification_rfc5546_s3_2_7(gs):
    """§3.2.7 through `jmapd deliver`: a COUNTER from an invited attendee echoing the
    event's SEQUENCE leaves the organizer's event as it is and records the proposal as a
    CalendarEventNotification (calendars-27 §7, eventPatch the proposal, jmapd.org:
    itipMethod "COUNTER"); one from someone not invited, for an older SEQUENCE, or for an
    unknown UID is refused with no change."""
    eid = organize(gs, "imip-counter")
    before = by_uid(gs, "alice", "imip-counter")
    counter = ics("COUNTER", "imip-counter", organizer="alice@localhost", summary="Review",
                  start="20260601T140000", attendees=(("ext@example.org", "TENTATIVE"),))
    r = deliver(gs, "alice", message("ext@example.org", counter, "COUNTER"))
    assert r.returncode == 0, r.stderr
    assert by_uid(gs, "alice", "imip-counter") == before
    (n,) = itip_notes(gs, "alice", eid)
    assert n[ITIP] == "COUNTER" and n["type"] == "updated"
    assert n["eventPatch"] == {"start": "2026-06-01T14:00:00"}, n
    assert n["changedBy"]["calendarAddress"] == "mailto:ext@example.org"
    for sender, text in (
            ("stranger@example.org", counter.replace("ext@example.org",
                                                     "stranger@example.org")),
            ("ext@example.org", counter.replace("UID:imip-counter", "UID:imip-nope"))):
        r = deliver(gs, "alice", message(sender, text, "COUNTER"))
        assert r.returncode == 1, r.stderr
    gs.c("CalendarEvent/set", {"accountId": gs.acct["alice"], "update": {
        eid: {"title": "Review (v2)", "sequence": 1}}})
    r = deliver(gs, "alice", message("ext@example.org", counter, "COUNTER"))
    assert r.returncode == 1 and "SEQUENCE" in r.stderr
    assert len(itip_notes(gs, "alice", eid)) == 1


def test_declinecounter_by_mail_rfc5546_s3_2_8(gs):
    """§3.2.8: the organizer's DECLINECOUNTER leaves the attendee's copy as it is and
    tells them with a notification (jmapd.org:itipMethod "DECLINECOUNTER"); from anyone
    but the organizer it is refused."""
    r = deliver(gs, "bob", message("boss@example.org", ics("REQUEST", "imip-dc"), "REQUEST"))
    assert r.returncode == 0, r.stderr
    copy = by_uid(gs, "bob", "imip-dc")
    dc = ics("DECLINECOUNTER", "imip-dc")
    r = deliver(gs, "bob", message("mallory@example.org", dc, "DECLINECOUNTER"))
    assert r.returncode == 1 and "organizer" in r.stderr
    r = deliver(gs, "bob", message("boss@example.org", dc, "DECLINECOUNTER"))
    assert r.returncode == 0, r.stderr
    assert by_uid(gs, "bob", "imip-dc") == copy
    (n,) = itip_notes(gs, "bob", copy["id"])
    assert n[ITIP] == "DECLINECOUNTER" and n["eventPatch"] == {}
    assert n["changedBy"]["calendarAddress"] == "mailto:boss@example.org"


def test_delegation_by_mail_rfc5546_s3_2_2_3(gs):
    """§3.2.2.3: an external attendee's REPLY with PARTSTAT=DELEGATED and DELEGATED-TO
    adds the delegate (DELEGATED-FROM, jscalendarbis delegatedFrom) to the organizer's
    copy; the delegate's own REPLY is then from an invited participant."""
    organize(gs, "imip-deleg")
    reply = ics("REPLY", "imip-deleg", organizer="alice@localhost", start="20260601T090000",
                summary="Review", attendees=(
                    ("ext@example.org", 'DELEGATED;DELEGATED-TO="mailto:sub@example.org"'),
                    ("sub@example.org",
                     'NEEDS-ACTION;DELEGATED-FROM="mailto:ext@example.org"')))
    r = deliver(gs, "alice", message("sub@example.org", ics(
        "REPLY", "imip-deleg", organizer="alice@localhost",
        attendees=(("sub@example.org", "ACCEPTED"),)), "REPLY"))
    assert r.returncode == 1  # not invited (yet)
    r = deliver(gs, "alice", message("ext@example.org", reply, "REPLY"))
    assert r.returncode == 0, r.stderr
    ev = by_uid(gs, "alice", "imip-deleg")
    assert ev["participants"]["x"]["participationStatus"] == "delegated"
    assert ev["participants"]["x"]["delegatedTo"] == {"mailto:sub@example.org": True}
    sub = [p for p in ev["participants"].values()
           if p.get("calendarAddress") == "mailto:sub@example.org"]
    assert len(sub) == 1 and sub[0]["delegatedFrom"] == {"mailto:ext@example.org": True}
    r = deliver(gs, "alice", message("sub@example.org", ics(
        "REPLY", "imip-deleg", organizer="alice@localhost",
        attendees=(("sub@example.org", "ACCEPTED"),)), "REPLY"))
    assert r.returncode == 0, r.stderr
    ev = by_uid(gs, "alice", "imip-deleg")
    sub = [p for p in ev["participants"].values()
           if p.get("calendarAddress") == "mailto:sub@example.org"]
    assert sub[0]["participationStatus"] == "accepted"


def test_counter_of_one_occurrence_by_mail_rfc5546_s3_2_7(gs):
    """§3.2.7 with RECURRENCE-ID: a COUNTER for one occurrence is recorded as a
    notification of that instance; one naming no occurrence of the event is refused."""
    eid = organize(gs, "imip-counter-r")
    gs.c("CalendarEvent/set", {"accountId": gs.acct["alice"], "update": {eid: {
        "recurrenceRules": [{"@type": "RecurrenceRule", "frequency": "weekly", "count": 3}]}}})
    seq = by_uid(gs, "alice", "imip-counter-r").get("sequence", 0)  # echoed (§3.2.7)
    text = ics("COUNTER", "imip-counter-r", seq=seq, organizer="alice@localhost",
               summary="Review", start="20260608T150000",
               attendees=(("ext@example.org", "ACCEPTED"),))
    one = text.replace("DURATION:PT1H", "DURATION:PT1H\r\n"
                       "RECURRENCE-ID;TZID=Europe/Paris:20260608T090000")
    r = deliver(gs, "alice", message("ext@example.org", one, "COUNTER"))
    assert r.returncode == 0, r.stderr
    (n,) = itip_notes(gs, "alice", eid)
    assert n["event"]["recurrenceId"] == "2026-06-08T09:00:00", n["event"]
    assert n["eventPatch"] == {"start": "2026-06-08T15:00:00"}, n
    stray = one.replace("RECURRENCE-ID;TZID=Europe/Paris:20260608T090000",
                        "RECURRENCE-ID;TZID=Europe/Paris:20260609T090000")
    r = deliver(gs, "alice", message("ext@example.org", stray, "COUNTER"))
    assert r.returncode == 1 and "RECURRENCE-ID" in r.stderr, r.stderr


def test_delegate_reply_by_mail_to_the_delegator_rfc5546_s3_2_2_3(gs):
    """§3.2.2.3: the delegate's REPLY "optionally to the Delegator": bob (invited by
    boss@example.org) delegated to sub@example.org; sub's REPLY mailed to bob, with
    DELEGATED-FROM bob, records sub's answer in bob's copy (nothing else changes). A
    REPLY from someone bob did not delegate to is refused and changes nothing."""
    r = deliver(gs, "bob", message("boss@example.org", ics("REQUEST", "imip-delegator"),
                                   "REQUEST"))
    assert r.returncode == 0, r.stderr
    ev = by_uid(gs, "bob", "imip-delegator")
    me = [k for k, p in ev["participants"].items()
          if p.get("calendarAddress") == "mailto:bob@localhost"][0]
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.acct["bob"], "update": {ev["id"]: {
        f"participants/{me}/participationStatus": "delegated",
        f"participants/{me}/delegatedTo": {"mailto:sub@example.org": True},
        "participants/sub": {"@type": "Participant", "calendarAddress": "mailto:sub@example.org",
                             "roles": {"attendee": True}, "participationStatus": "needs-action",
                             "delegatedFrom": {"mailto:bob@localhost": True}}}}}, user="bob")
    assert ev["id"] in (res["updated"] or {}), res
    before = by_uid(gs, "bob", "imip-delegator")
    stranger = ics("REPLY", "imip-delegator", attendees=(
        ("eve@example.org", 'ACCEPTED;DELEGATED-FROM="mailto:bob@localhost"'),))
    r = deliver(gs, "bob", message("eve@example.org", stranger, "REPLY"))
    assert r.returncode == 1 and by_uid(gs, "bob", "imip-delegator") == before
    reply = ics("REPLY", "imip-delegator", attendees=(
        ("sub@example.org", 'ACCEPTED;DELEGATED-FROM="mailto:bob@localhost"'),))
    r = deliver(gs, "bob", message("sub@example.org", reply, "REPLY"))
    assert r.returncode == 0, r.stderr
    after = by_uid(gs, "bob", "imip-delegator")
    assert after["participants"]["sub"]["participationStatus"] == "accepted"
    assert after["participants"][me]["participationStatus"] == "delegated"
    assert after["title"] == before["title"] and after["start"] == before["start"]


def test_request_forwarded_by_the_delegator_rfc5546_s3_2_2_3(gs):
    """§3.2.2.3: "The "Delegator" of an event forwards the existing "REQUEST" to the
    "Delegate"", with the delegate's ATTENDEE; the delegator is an attendee whose
    DELEGATED-TO names the delegate. Bob's server accepts such a REQUEST from
    ext@example.org (the organizer is boss@example.org) and refuses, changing nothing,
    one from an attendee who delegated to someone else, one whose DELEGATED-TO names bob
    without bob's ATTENDEE, one from someone not invited in bob's copy, and a CANCEL
    from the delegator."""
    delegated = (("ext@example.org", 'DELEGATED;DELEGATED-TO="mailto:bob@localhost"'),
                 ("bob@localhost", 'NEEDS-ACTION;DELEGATED-FROM="mailto:ext@example.org"'))
    elsewhere = (("ext@example.org", 'DELEGATED;DELEGATED-TO="mailto:carol@example.org"'),
                 ("carol@example.org", 'NEEDS-ACTION;DELEGATED-FROM="mailto:ext@example.org"'),
                 ("bob@localhost", "NEEDS-ACTION"))
    for attendees in (elsewhere, delegated[:1]):
        r = deliver(gs, "bob", message("ext@example.org", ics(
            "REQUEST", "imip-fwd", attendees=attendees), "REQUEST"))
        assert r.returncode == 1 and "DELEGATED-TO" in r.stderr, r.stderr
        assert by_uid(gs, "bob", "imip-fwd") is None
    r = deliver(gs, "bob", message("ext@example.org", ics(
        "REQUEST", "imip-fwd", attendees=delegated), "REQUEST"))
    assert r.returncode == 0, r.stderr
    ev = by_uid(gs, "bob", "imip-fwd")
    assert ev["title"] == "Board meeting" and ev["isOrigin"] is False
    assert ev["organizerCalendarAddress"] == "mailto:boss@example.org"
    me = [p for p in ev["participants"].values()
          if p.get("calendarAddress") == "mailto:bob@localhost"]
    assert me[0]["delegatedFrom"] == {"mailto:ext@example.org": True}, me
    _, q = gs.c("CalendarEventNotification/query", {"accountId": gs.acct["bob"],
                                                    "filter": {"calendarEventIds": [ev["id"]]}},
                user="bob")
    _, n = gs.c("CalendarEventNotification/get", {"accountId": gs.acct["bob"], "ids": q["ids"]},
                user="bob")
    assert [(x["type"], x["changedBy"]["calendarAddress"]) for x in n["list"]] == [
        ("created", "mailto:ext@example.org")], n
    # the organizer's later REQUEST still applies; a forward by someone bob's copy does
    # not invite, or a CANCEL by the delegator, changes nothing
    r = deliver(gs, "bob", message("boss@example.org", ics(
        "REQUEST", "imip-fwd", seq=1, summary="Board (moved)", attendees=delegated),
        "REQUEST"))
    assert r.returncode == 0, r.stderr
    before = by_uid(gs, "bob", "imip-fwd")
    forged = (("eve@example.org", 'DELEGATED;DELEGATED-TO="mailto:bob@localhost"'),
              ("bob@localhost", 'NEEDS-ACTION;DELEGATED-FROM="mailto:eve@example.org"'))
    r = deliver(gs, "bob", message("eve@example.org", ics(
        "REQUEST", "imip-fwd", seq=5, summary="forged", attendees=forged), "REQUEST"))
    assert r.returncode == 1 and "organizer" in r.stderr, r.stderr
    r = deliver(gs, "bob", message("ext@example.org", ics(
        "CANCEL", "imip-fwd", seq=5, attendees=delegated), "CANCEL"))
    assert r.returncode == 1 and "organizer" in r.stderr, r.stderr
    assert by_uid(gs, "bob", "imip-fwd") == before
