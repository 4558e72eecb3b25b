"""Outgoing iMIP (RFC 6047) through an SMTP relay: a real SMTP server on loopback
(Debian's python3-aiosmtpd, started here) receives the REQUEST, CANCEL and REPLY
messages (RFC 5546 §3.2) that scheduling sends to addresses outside the server.
Issue 14 point 3."""
import email
import time

import pytest

from conftest import CONFIG, free_port
from groupware_util import GroupServer
from smtp_util import SmtpRelay

@pytest.fixture(scope="module")
def env():
    relay = SmtpRelay("smtp_retry = 1\n")
    s = GroupServer(config=CONFIG + relay.config)
    s.acct = {u: s.own(u) for u in ("alice", "bob")}
    yield s, relay
    s.close()
    relay.stop()


def wait_for(sink, n):
    deadline = time.time() + 10
    while len(sink.messages) < n and time.time() < deadline:
        time.sleep(0.05)
    return sink.messages[:n]


def calendar_part(raw):
    msg = email.message_from_string(raw)
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            # RFC 5545 §3.1: unfolded content lines
            return part, part.get_payload(decode=True).decode().replace("\r\n ", "")
    raise AssertionError("no text/calendar part")


def default_cal(s, user):
    _, res = s.c("Calendar/get", {"accountId": s.acct[user]}, user=user)
    return [c["id"] for c in res["list"] if c["isDefault"]][0]


def test_request_and_cancel_by_mail_rfc6047_s2(env):
    s, sink = env
    sink.messages.clear()
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["alice"],
                                       "sendSchedulingMessages": True, "create": {"e": {
        "calendarIds": {default_cal(s, "alice"): True}, "title": "Partner call",
        "start": "2026-07-01T15:00:00", "duration": "PT30M", "timeZone": "Europe/Paris",
        "organizerCalendarAddress": "mailto:alice@localhost",
        "participants": {
            "a": {"@type": "Participant", "calendarAddress": "mailto:alice@localhost",
                  "roles": {"owner": True, "attendee": True}},
            "p": {"@type": "Participant", "calendarAddress": "mailto:partner@example.org",
                  "roles": {"attendee": True}, "participationStatus": "needs-action",
                  "expectReply": True},
            "b": {"@type": "Participant", "calendarAddress": "mailto:bob@localhost",
                  "roles": {"attendee": True}}}}}})
    assert "e" in res["created"], res
    eid = res["created"]["e"]["id"]
    (mfrom, rcpt, raw), = wait_for(sink, 1)
    assert mfrom == "alice@localhost" and rcpt == ["partner@example.org"]
    part, ics = calendar_part(raw)
    assert part.get_param("method") == "REQUEST"
    assert "METHOD:REQUEST" in ics and "SUMMARY:Partner call" in ics
    assert "mailto:partner@example.org" in ics
    # bob is on this server: his copy is delivered directly, not by mail
    assert len(sink.messages) == 1
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["alice"],
                                       "sendSchedulingMessages": True, "destroy": [eid]})
    assert res["destroyed"] == [eid]
    _, _, raw = wait_for(sink, 2)[1]
    part, ics = calendar_part(raw)
    assert part.get_param("method") == "CANCEL" and "METHOD:CANCEL" in ics
    assert "STATUS:CANCELLED" in ics


def test_reply_by_mail_rfc5546_s3_2_3(env):
    s, sink = env
    sink.messages.clear()
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["bob"], "create": {"e": {
        "calendarIds": {default_cal(s, "bob"): True}, "title": "External meeting",
        "start": "2026-07-02T10:00:00", "timeZone": "Europe/Paris",
        "organizerCalendarAddress": "mailto:boss@example.org",
        "participants": {
            "o": {"@type": "Participant", "calendarAddress": "mailto:boss@example.org",
                  "roles": {"owner": True}},
            "b": {"@type": "Participant", "calendarAddress": "mailto:bob@localhost",
                  "roles": {"attendee": True}, "participationStatus": "needs-action"},
            "c": {"@type": "Participant", "calendarAddress": "mailto:carl@example.org",
                  "roles": {"attendee": True}}}}}}, user="bob")
    eid = res["created"]["e"]["id"]
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["bob"],
                                       "sendSchedulingMessages": True, "update": {
        eid: {"participants/b/participationStatus": "accepted"}}}, user="bob")
    assert res["updated"] is not None, res
    (mfrom, rcpt, raw), = wait_for(sink, 1)
    assert mfrom == "bob@localhost" and rcpt == ["boss@example.org"]
    part, ics = calendar_part(raw)
    assert part.get_param("method") == "REPLY"
    assert "PARTSTAT=ACCEPTED" in ics and "carl@example.org" not in ics


def test_queued_mail_is_retried_on_a_timer_rfc6047_s2():
    """Issue 14 point 3: a message the relay did not take (it was down) is sent again by
    the server's timer (smtp_retry), without waiting for another API request."""
    port = free_port()
    s = GroupServer(config=CONFIG + f"smtp_url = smtp://127.0.0.1:{port}\nsmtp_retry = 1\n")
    ctl = None
    try:
        acct = s.own("alice")
        s.acct = {"alice": acct}
        _, res = s.c("CalendarEvent/set", {"accountId": acct, "sendSchedulingMessages": True,
                                           "create": {"e": {
            "calendarIds": {default_cal(s, "alice"): True}, "title": "Retry me",
            "start": "2026-07-03T15:00:00", "duration": "PT30M", "timeZone": "Europe/Paris",
            "organizerCalendarAddress": "mailto:alice@localhost",
            "participants": {
                "a": {"@type": "Participant", "calendarAddress": "mailto:alice@localhost",
                      "roles": {"owner": True, "attendee": True}},
                "p": {"@type": "Participant", "calendarAddress": "mailto:later@example.org",
                      "roles": {"attendee": True}, "expectReply": True}}}}})
        assert "e" in res["created"], res
        time.sleep(1)  # the first try found no relay
        ctl = SmtpRelay(port=port)
        (mfrom, rcpt, raw), = wait_for(ctl, 1)  # no request in between
        assert rcpt == ["later@example.org"] and "Retry me" in raw
    finally:
        if ctl:
            ctl.stop()
        s.close()


def test_per_instance_cancel_and_request_rfc5546_s3_2_5(env):
    """RFC 5546 §3.2.5 "cancel one instance" and §3.2.2 for one instance: when only some
    occurrences change, the external attendee gets a CANCEL or REQUEST of those
    occurrences (RECURRENCE-ID), not the whole series again."""
    s, sink = env
    sink.messages.clear()
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["alice"],
                                       "sendSchedulingMessages": True, "create": {"e": {
        "calendarIds": {default_cal(s, "alice"): True}, "title": "Weekly sync",
        "start": "2026-07-06T15:00:00", "duration": "PT30M", "timeZone": "Europe/Paris",
        "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "weekly", "count": 4},
        "organizerCalendarAddress": "mailto:alice@localhost",
        "participants": {
            "a": {"@type": "Participant", "calendarAddress": "mailto:alice@localhost",
                  "roles": {"owner": True, "attendee": True}},
            "p": {"@type": "Participant", "calendarAddress": "mailto:partner@example.org",
                  "roles": {"attendee": True}, "expectReply": True}}}}})
    eid = res["created"]["e"]["id"]
    wait_for(sink, 1)
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["alice"],
                                       "sendSchedulingMessages": True,
                                       "destroy": [eid + "_20260713T150000"]})
    assert res["destroyed"] == [eid + "_20260713T150000"], res  # excludes the occurrence
    _, _, raw = wait_for(sink, 2)[1]
    part, text = calendar_part(raw)
    assert part.get_param("method") == "CANCEL"
    assert "RECURRENCE-ID;TZID=Europe/Paris:20260713T150000" in text
    vevent = text.split("END:VEVENT")[0]  # (a VTIMEZONE has rules of its own)
    assert "RRULE" not in vevent and "STATUS:CANCELLED" in vevent, text
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["alice"],
                                       "sendSchedulingMessages": True, "update": {
        eid + "_20260720T150000": {"title": "Weekly sync (moved room)"}}})
    assert res["updated"], res
    _, _, raw = wait_for(sink, 3)[2]
    part, text = calendar_part(raw)
    assert part.get_param("method") == "REQUEST"
    assert "RECURRENCE-ID;TZID=Europe/Paris:20260720T150000" in text
    vevent = text.split("END:VEVENT")[0]
    assert "SUMMARY:Weekly sync (moved room)" in vevent and "RRULE" not in vevent
    time.sleep(0.5)
    assert len(sink.messages) == 3


def refresh(uid, sender, organizer="alice@localhost"):
    text = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "METHOD:REFRESH",
        "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
        f"ORGANIZER:mailto:{organizer}", f"ATTENDEE:mailto:{sender}",
        "END:VEVENT", "END:VCALENDAR", ""])
    return (f"From: <{sender}>\r\nTo: {organizer}\r\nSubject: refresh\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/calendar; method=REFRESH\r\n\r\n" + text)


def test_refresh_sends_the_latest_request_rfc5546_s3_2_6(env):
    """RFC 5546 §3.2.6 REFRESH: an invited attendee asks the organizer for the latest
    version and gets a REQUEST; someone not invited gets nothing. The message queued by
    `jmapd deliver` (another process) is sent by the server's timer."""
    s, sink = env
    sink.messages.clear()
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["alice"],
                                       "sendSchedulingMessages": True, "create": {"e": {
        "calendarIds": {default_cal(s, "alice"): True}, "title": "Quarterly review",
        "uid": "refresh-1", "start": "2026-07-10T15:00:00", "duration": "PT1H",
        "timeZone": "Europe/Paris", "organizerCalendarAddress": "mailto:alice@localhost",
        "participants": {
            "a": {"@type": "Participant", "calendarAddress": "mailto:alice@localhost",
                  "roles": {"owner": True, "attendee": True}},
            "p": {"@type": "Participant", "calendarAddress": "mailto:partner@example.org",
                  "roles": {"attendee": True}, "expectReply": True}}}}})
    assert "e" in res["created"], res
    wait_for(sink, 1)
    r = s.cli("deliver", "--user", "alice", stdin=refresh("refresh-1", "partner@example.org"))
    assert r.returncode == 0, r.stderr
    _, rcpt, raw = wait_for(sink, 2)[1]
    part, text = calendar_part(raw)
    assert rcpt == ["partner@example.org"] and part.get_param("method") == "REQUEST"
    assert "SUMMARY:Quarterly review" in text
    r = s.cli("deliver", "--user", "alice", stdin=refresh("refresh-1", "stranger@example.org"))
    assert r.returncode == 1 and "participant" in r.stderr
    r = s.cli("deliver", "--user", "alice", stdin=refresh("no-such-uid", "partner@example.org"))
    assert r.returncode == 1 and "UID" in r.stderr
    time.sleep(1.5)
    assert len(sink.messages) == 2


def external_invitation(s, uid):
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["bob"], "create": {"e": {
        "calendarIds": {default_cal(s, "bob"): True}, "uid": uid, "title": "Offsite",
        "start": "2026-07-03T10:00:00", "timeZone": "Europe/Paris", "duration": "PT1H",
        "organizerCalendarAddress": "mailto:boss@example.org",
        "participants": {
            "o": {"@type": "Participant", "calendarAddress": "mailto:boss@example.org",
                  "roles": {"owner": True}},
            "b": {"@type": "Participant", "calendarAddress": "mailto:bob@localhost",
                  "roles": {"attendee": True}, "participationStatus": "needs-action"},
            "c": {"@type": "Participant", "calendarAddress": "mailto:carl@example.org",
                  "roles": {"attendee": True}}}}}}, user="bob")
    return res["created"]["e"]["id"]


def test_counter_by_mail_rfc5546_s3_2_7(env):
    """§3.2.7: a local attendee's proposal (their copy's start changed, with
    sendSchedulingMessages) goes to the external organizer as METHOD:COUNTER with the
    organizer, the attendee and the proposed DTSTART, and the original SEQUENCE."""
    s, sink = env
    sink.messages.clear()
    eid = external_invitation(s, "out-counter")
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["bob"],
                                       "sendSchedulingMessages": True, "update": {
        eid: {"start": "2026-07-03T15:00:00"}}}, user="bob")
    assert eid in (res["updated"] or {}), res
    (mfrom, rcpt, raw), = wait_for(sink, 1)
    assert mfrom == "bob@localhost" and rcpt == ["boss@example.org"]
    part, ics = calendar_part(raw)
    assert part.get_param("method") == "COUNTER" and "METHOD:COUNTER" in ics
    assert "UID:out-counter" in ics and "DTSTART;TZID=Europe/Paris:20260703T150000" in ics
    assert "carl@example.org" not in ics and "bob@localhost" in ics
    assert "SEQUENCE" not in ics or "SEQUENCE:0" in ics


def test_delegation_by_mail_rfc5546_s3_2_2_3(env):
    """§3.2.2.3: a local attendee delegating to an outsider sends the organizer a REPLY
    with PARTSTAT=DELEGATED, DELEGATED-TO and the delegate's ATTENDEE, and forwards the
    REQUEST to the delegate."""
    s, sink = env
    sink.messages.clear()
    eid = external_invitation(s, "out-deleg")
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["bob"],
                                       "sendSchedulingMessages": True, "update": {eid: {
        "participants/b/participationStatus": "delegated",
        "participants/b/delegatedTo": {"mailto:sub@example.org": True},
        "participants/d": {"@type": "Participant", "calendarAddress": "mailto:sub@example.org",
                           "roles": {"attendee": True}, "participationStatus": "needs-action",
                           "delegatedFrom": {"mailto:bob@localhost": True}}}}}, user="bob")
    assert eid in (res["updated"] or {}), res
    got = {tuple(rcpt): raw for _, rcpt, raw in wait_for(sink, 2)}
    assert set(got) == {("boss@example.org",), ("sub@example.org",)}, got.keys()
    part, ics = calendar_part(got[("boss@example.org",)])
    assert part.get_param("method") == "REPLY" and "PARTSTAT=DELEGATED" in ics
    assert 'DELEGATED-TO="mailto:sub@example.org"' in ics or \
        "DELEGATED-TO=mailto:sub@example.org" in ics, ics
    lines = ics.split("\r\n")
    assert [x for x in lines if x.startswith("ATTENDEE") and "DELEGATED-FROM" in x
            and x.endswith(":mailto:sub@example.org")], ics  # the delegate's ATTENDEE
    assert "carl@example.org" not in ics
    part, ics = calendar_part(got[("sub@example.org",)])
    assert part.get_param("method") == "REQUEST" and "UID:out-deleg" in ics
    assert "DELEGATED-FROM" in ics


def test_counter_of_one_occurrence_by_mail_rfc5546_s3_2_7(env):
    """§3.2.7: moving one occurrence of a copy proposes that occurrence: METHOD:COUNTER
    with its RECURRENCE-ID, the proposed DTSTART and no RRULE."""
    s, sink = env
    eid = external_invitation(s, "out-counter-r")
    s.c("CalendarEvent/set", {"accountId": s.acct["bob"], "update": {eid: {
        "recurrenceRules": [{"@type": "RecurrenceRule", "frequency": "weekly",
                             "count": 3}]}}}, user="bob")
    sink.messages.clear()
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["bob"],
                                       "sendSchedulingMessages": True, "update": {eid: {
        "recurrenceOverrides": {"2026-07-10T10:00:00": {"start": "2026-07-10T08:00:00"}}}}},
        user="bob")
    assert eid in (res["updated"] or {}), res
    (mfrom, rcpt, raw), = wait_for(sink, 1)
    part, ics = calendar_part(raw)
    assert part.get_param("method") == "COUNTER" and rcpt == ["boss@example.org"]
    assert "RECURRENCE-ID;TZID=Europe/Paris:20260710T100000" in ics, ics
    vevent = ics.split("BEGIN:VEVENT")[1].split("END:VEVENT")[0]
    assert "DTSTART;TZID=Europe/Paris:20260710T080000" in vevent and "RRULE" not in vevent


def test_declinecounter_by_mail_from_jmap_rfc5546_s3_2_8(env):
    """§3.2.8: an external attendee's COUNTER (received by `jmapd deliver`) declined by
    the organizer from JMAP (destroying its notification with jmapd.org:declineCounter)
    goes to the attendee as METHOD:DECLINECOUNTER with the organizer, the UID and the
    original SEQUENCE echoed; the organizer's event does not change."""
    s, sink = env
    cal = default_cal(s, "alice")
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["alice"], "create": {"e": {
        "calendarIds": {cal: True}, "uid": "out-decline", "title": "Review",
        "start": "2026-06-01T09:00:00", "timeZone": "Europe/Paris", "duration": "PT1H",
        "organizerCalendarAddress": "mailto:alice@localhost", "participants": {
            "a": {"@type": "Participant", "calendarAddress": "mailto:alice@localhost",
                  "roles": {"owner": True}},
            "x": {"@type": "Participant", "calendarAddress": "mailto:ext@example.org",
                  "roles": {"attendee": True}, "participationStatus": "needs-action"}}}}})
    eid = res["created"]["e"]["id"]
    counter = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "METHOD:COUNTER",
        "BEGIN:VEVENT", "UID:out-decline", "SEQUENCE:0", "DTSTAMP:20260101T000000Z",
        "DTSTART;TZID=Europe/Paris:20260601T150000", "DURATION:PT1H", "SUMMARY:Review",
        "ORGANIZER:mailto:alice@localhost",
        "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:ext@example.org",
        "END:VEVENT", "END:VCALENDAR", ""])
    msg = ("From: <ext@example.org>\r\nTo: alice@localhost\r\nSubject: Counter\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/calendar; charset=utf-8; method=COUNTER"
           "\r\n\r\n" + counter)
    r = s.cli("deliver", "--user", "alice", stdin=msg)
    assert r.returncode == 0, r.stderr
    _, q = s.c("CalendarEventNotification/query", {"accountId": s.acct["alice"], "filter": {
        "calendarEventIds": [eid]}})
    _, got = s.c("CalendarEventNotification/get", {"accountId": s.acct["alice"],
                                                   "ids": q["ids"]})
    note, = [n for n in got["list"] if n.get("jmapd.org:itipMethod") == "COUNTER"]
    sink.messages.clear()
    _, res = s.c("CalendarEventNotification/set", {
        "accountId": s.acct["alice"], "destroy": [note["id"]], "jmapd.org:declineCounter": True})
    assert res["destroyed"] == [note["id"]], res
    (mfrom, rcpt, raw), = wait_for(sink, 1)
    assert mfrom == "alice@localhost" and rcpt == ["ext@example.org"]
    part, ics = calendar_part(raw)
    assert part.get_param("method") == "DECLINECOUNTER" and "METHOD:DECLINECOUNTER" in ics
    assert "UID:out-decline" in ics and "ORGANIZER" in ics and "alice@localhost" in ics
    assert "SEQUENCE" not in ics or "SEQUENCE:0" in ics
    assert "DTSTART;TZID=Europe/Paris:20260601T090000" in ics  # the event as it stays
    _, ev = s.c("CalendarEvent/get", {"accountId": s.acct["alice"], "ids": [eid]})
    assert ev["list"][0]["start"] == "2026-06-01T09:00:00"


def test_delegate_answer_mailed_to_the_delegator_rfc5546_s3_2_2_3(env):
    """§3.2.2.3: bob received the invitation (from the organizer) as the delegate of
    x@example.org (DELEGATED-FROM); his answer goes as a REPLY to the organizer and, "optionally to
    the Delegator", to x@example.org, both with bob's ATTENDEE, PARTSTAT and
    DELEGATED-FROM."""
    s, sink = env
    request = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "METHOD:REQUEST",
        "BEGIN:VEVENT", "UID:out-delegated", "SEQUENCE:0", "DTSTAMP:20260101T000000Z",
        "DTSTART;TZID=Europe/Paris:20260705T100000", "DURATION:PT1H", "SUMMARY:Budget",
        "ORGANIZER:mailto:boss@example.org",
        'ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO="mailto:bob@localhost":mailto:x@example.org',
        'ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;DELEGATED-FROM="mailto:x@example.org":'
        "mailto:bob@localhost",
        "END:VEVENT", "END:VCALENDAR", ""])
    # the organizer's REQUEST to the delegate after the delegator's REPLY
    msg = ("From: <boss@example.org>\r\nTo: bob@localhost\r\nSubject: Delegated\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST"
           "\r\n\r\n" + request)
    r = s.cli("deliver", "--user", "bob", stdin=msg)
    assert r.returncode == 0, r.stderr
    _, q = s.c("CalendarEvent/query", {"accountId": s.acct["bob"],
                                       "filter": {"uid": "out-delegated"}}, user="bob")
    _, got = s.c("CalendarEvent/get", {"accountId": s.acct["bob"], "ids": q["ids"]}, user="bob")
    ev = got["list"][0]
    pid = [k for k, p in ev["participants"].items()
           if p.get("calendarAddress") == "mailto:bob@localhost"][0]
    assert ev["participants"][pid]["delegatedFrom"] == {"mailto:x@example.org": True}, ev
    sink.messages.clear()
    _, res = s.c("CalendarEvent/set", {"accountId": s.acct["bob"], "sendSchedulingMessages": True,
                                       "update": {ev["id"]: {
                                           f"participants/{pid}/participationStatus":
                                               "accepted"}}}, user="bob")
    assert ev["id"] in (res["updated"] or {}), res
    got = wait_for(sink, 2)
    assert sorted(rcpt[0] for _, rcpt, _ in got) == ["boss@example.org", "x@example.org"], got
    for mfrom, rcpt, raw in got:
        assert mfrom == "bob@localhost"
        part, ics = calendar_part(raw)
        assert part.get_param("method") == "REPLY" and "UID:out-delegated" in ics
        line = [x for x in ics.split("\r\n") if x.startswith("ATTENDEE") and "bob@localhost" in x]
        assert len(line) == 1 and "PARTSTAT=ACCEPTED" in line[0], ics
        assert "DELEGATED-FROM" in line[0] and "x@example.org" in line[0], ics
