"""RFC 8984 and jscalendarbis-08 spellings on CalendarEvent/set (issue 12 §2.3, §2.4): never
stored as opaque data the server then ignores. Where the meaning is clear they become
JSCalendar 2.0 (draft-ietf-calext-jscalendarbis-17): a one-rule recurrenceRules is the
recurrenceRule, a one-address sendTo the calendarAddress, a null timeZone (-08) floating;
otherwise invalidProperties names them."""
from conftest import CAL, CORE, run_cli


def calendar(server, acct):
    return server.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]


def create(server, acct, ev):
    return server.call("CalendarEvent/set", {"accountId": acct, "create": {"k": ev}})[1]


def test_issue12_2_3_recurrence_rules_one_rule_converted(server, acct):
    cal = calendar(server, acct)
    out = create(server, acct, {
        "calendarIds": {cal: True}, "uid": "compat-1@example.com", "title": "Weekly (RFC 8984)",
        "start": "2025-03-03T09:00:00", "timeZone": "Europe/Berlin", "duration": "PT1H",
        "recurrenceRules": [{"@type": "RecurrenceRule", "frequency": "weekly", "count": 3}]})
    assert "k" in out["created"], out
    eid = out["created"]["k"]["id"]
    ev = server.call("CalendarEvent/get", {"accountId": acct, "ids": [eid]})[1]["list"][0]
    assert ev["recurrenceRule"]["frequency"] == "weekly" and "recurrenceRules" not in ev
    q = server.call("CalendarEvent/query", {"accountId": acct, "expandRecurrences": True,
                                            "filter": {"uid": "compat-1@example.com",
                                                       "after": "2025-01-01T00:00:00",
                                                       "before": "2025-12-31T00:00:00"}})[1]
    assert len(q["ids"]) == 3, q  # expands as a weekly event, not a single one
    server.call("CalendarEvent/set", {"accountId": acct, "destroy": [eid]})


def test_issue12_2_3_unclear_forms_are_invalid(server, acct):
    cal = calendar(server, acct)
    base = {"calendarIds": {cal: True}, "start": "2025-03-03T09:00:00", "timeZone": "Europe/Berlin"}
    two = dict(base, recurrenceRules=[{"@type": "RecurrenceRule", "frequency": "weekly"},
                                      {"@type": "RecurrenceRule", "frequency": "daily"}])
    out = create(server, acct, two)
    assert out["notCreated"]["k"]["type"] == "invalidProperties"
    assert "recurrenceRules" in out["notCreated"]["k"]["properties"]
    excl = dict(base, excludedRecurrenceRules=[{"@type": "RecurrenceRule", "frequency": "weekly"}])
    out = create(server, acct, excl)
    assert "excludedRecurrenceRules" in out["notCreated"]["k"]["properties"]
    many = dict(base, participants={"p1": {"@type": "Participant", "sendTo": {
        "imip": "mailto:a@example.com", "other": "https://example.com/a"}}})
    out = create(server, acct, many)
    assert "participants/p1/sendTo" in out["notCreated"]["k"]["properties"]


def test_issue12_2_3_send_to_and_2_4_null_time_zone(server, acct):
    cal = calendar(server, acct)
    out = create(server, acct, {
        "calendarIds": {cal: True}, "uid": "compat-2@example.com", "start": "2025-03-03T09:00:00",
        "timeZone": None, "organizerCalendarAddress": "mailto:o@example.com",
        "participants": {
            "o": {"@type": "Participant", "sendTo": {"imip": "mailto:o@example.com"},
                  "roles": {"owner": True}},
            "p1": {"@type": "Participant", "sendTo": {"imip": "mailto:a@example.com"},
                   "roles": {"attendee": True}}}})
    assert "k" in out["created"], out
    eid = out["created"]["k"]["id"]
    ev = server.call("CalendarEvent/get", {"accountId": acct, "ids": [eid]})[1]["list"][0]
    assert ev["participants"]["p1"]["calendarAddress"] == "mailto:a@example.com"
    assert "sendTo" not in ev["participants"]["p1"]
    assert ev.get("timeZone") is None  # floating
    server.call("CalendarEvent/set", {"accountId": acct, "destroy": [eid]})


def test_issue12_2_3_convert_json_with_rfc8984_rules(tmp_path):
    import json
    import os
    import subprocess
    binp = os.environ.get("JMAPD_BIN")
    ev = {"@type": "Event", "uid": "c3", "updated": "2025-01-01T00:00:00Z",
          "start": "2025-03-03T09:00:00", "timeZone": "Europe/Berlin",
          "recurrenceRules": [{"@type": "RecurrenceRule", "frequency": "weekly", "count": 3}]}
    r = subprocess.run([binp, "convert", "-", "--to", "ics"], input=json.dumps(ev).encode(),
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert b"RRULE:FREQ=WEEKLY;COUNT=3" in r.stdout and b"JSPROP" not in r.stdout
    ev["recurrenceRules"].append({"@type": "RecurrenceRule", "frequency": "daily"})
    r = subprocess.run([binp, "convert", "-", "--to", "ics"], input=json.dumps(ev).encode(),
                       capture_output=True, timeout=60)
    assert r.returncode == 1 and b"recurrenceRules" in r.stderr


def test_jscalendarbis17_4_1_event_carries_version_2_0(server, acct):
    """jscalendarbis-17 §4.1 "version": an Event represented without an enclosing
    Group MUST set version; what the server stores and returns is JSCalendar 2.0,
    also when the client sent "1.0" data that was upgraded."""
    cal = calendar(server, acct)
    for sent in [None, "1.0", "2.0"]:
        ev = {"calendarIds": {cal: True}, "title": "Versioned", "start": "2025-03-03T09:00:00",
              "timeZone": "Europe/Berlin", "duration": "PT1H"}
        if sent:
            ev["version"] = sent
        out = create(server, acct, ev)
        assert "k" in out["created"], out
        eid = out["created"]["k"]["id"]
        if sent != "2.0":
            assert out["created"]["k"].get("version") == "2.0", out  # server-set, RFC 8620 §5.3
        got = server.call("CalendarEvent/get", {"accountId": acct, "ids": [eid]})[1]["list"][0]
        assert got["version"] == "2.0"
        server.call("CalendarEvent/set", {"accountId": acct, "destroy": [eid]})
