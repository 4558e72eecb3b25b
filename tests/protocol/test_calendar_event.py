"""draft-ietf-jmap-calendars-27 §5: CalendarEvent /get /set /changes /copy and
instances (§5.5), default alerts (§6.1), alert acknowledgement (§6.2)."""
import json

import pytest
import requests

from conftest import CAL, CORE, run_cli


@pytest.fixture
def cal(server, acct):
    out = server.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "Events"}}})[1]
    cid = out["created"]["c"]["id"]
    yield cid
    server.call("Calendar/set", {"accountId": acct, "destroy": [cid],
                                 "onDestroyRemoveEvents": True})


def ev_set(server, acct, user="alice", **kw):
    name, out = server.call("CalendarEvent/set", {"accountId": acct, **kw}, user=user)
    assert name == "CalendarEvent/set", out
    return out


def create(server, acct, event, **kw):
    out = ev_set(server, acct, create={"x": event}, **kw)
    assert out["notCreated"] is None, out["notCreated"]
    return out["created"]["x"]["id"], out


def get(server, acct, ids, **kw):
    return server.call("CalendarEvent/get", {"accountId": acct, "ids": ids, **kw})[1]


WEEKLY = {"title": "Weekly sync", "start": "2025-01-06T09:00:00", "timeZone": "Europe/Berlin",
          "duration": "PT1H", "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "weekly",
                                                 "count": 10}}


def test_create_sets_server_properties(server, acct, cal):
    out = ev_set(server, acct, create={"e": {"calendarIds": {cal: True}, "title": "Dentist",
                                             "start": "2025-03-01T10:00:00",
                                             "timeZone": "Europe/Berlin", "duration": "PT30M",
                                             "updated": "2000-01-01T00:00:00Z"}})
    c = out["created"]["e"]
    # §5.9: @type, uid, created set if omitted; updated always set by the origin
    assert c["@type"] == "Event" and c["isDraft"] is False and c["isOrigin"] is True
    assert len(c["uid"]) >= 32 and c["created"].endswith("Z")
    assert c["updated"] != "2000-01-01T00:00:00Z" and c["updated"] >= c["created"]
    ev = get(server, acct, [c["id"]])["list"][0]
    for k in ("id", "calendarIds", "isDraft", "isOrigin"):
        assert k in ev
    assert "utcStart" not in ev and "utcEnd" not in ev and "iCalendar" not in ev
    assert ev["title"] == "Dentist" and ev["calendarIds"] == {cal: True}


def test_invalid_events(server, acct, cal):
    cases = {
        "nocal": ({"title": "x", "start": "2025-01-01T00:00:00"}, "calendarIds"),
        "emptycal": ({"calendarIds": {}, "start": "2025-01-01T00:00:00"}, "calendarIds"),
        "badcal": ({"calendarIds": {"cnope": True}, "start": "2025-01-01T00:00:00"},
                   "calendarIds/cnope"),
        "falsecal": ({"calendarIds": {cal: False}, "start": "2025-01-01T00:00:00"},
                     f"calendarIds/{cal}"),
        "method": ({"calendarIds": {cal: True}, "start": "2025-01-01T00:00:00",
                    "method": "request"}, "method"),
        "start": ({"calendarIds": {cal: True}, "start": "2025-13-01T00:00:00"}, "start"),
        "dur": ({"calendarIds": {cal: True}, "start": "2025-01-01T00:00:00", "duration": "1h"},
                "duration"),
        "tz": ({"calendarIds": {cal: True}, "start": "2025-01-01T00:00:00",
                "timeZone": "Mars/Base"}, "timeZone"),
        "type": ({"calendarIds": {cal: True}, "@type": "Task"}, "@type"),
        "ovdraft": ({"calendarIds": {cal: True}, **WEEKLY, "recurrenceOverrides": {
            "2025-01-13T09:00:00": {"isDraft": True}}},
            "recurrenceOverrides/2025-01-13T09:00:00/isDraft"),
        "both": ({"calendarIds": {cal: True}, "start": "2025-01-01T00:00:00",
                  "utcStart": "2025-01-01T00:00:00Z"}, "utcStart"),
    }
    out = ev_set(server, acct, create={k: v[0] for k, v in cases.items()})
    for k, (_, prop) in cases.items():
        err = out["notCreated"][k]
        assert err["type"] == "invalidProperties", (k, err)
        assert prop in err["properties"], (k, err)


def test_uid_unique_and_immutable(server, acct, cal):
    eid, _ = create(server, acct, {"calendarIds": {cal: True}, "uid": "same-uid@example.com",
                                   "title": "one", "start": "2025-01-01T10:00:00"})
    out = ev_set(server, acct, create={"two": {"calendarIds": {cal: True},
                                               "uid": "same-uid@example.com",
                                               "start": "2025-01-02T10:00:00"}})
    assert out["notCreated"]["two"]["properties"] == ["uid"]
    # an instance of it (same uid, a recurrenceId) is a different event
    out = ev_set(server, acct, create={"inst": {"calendarIds": {cal: True},
                                                "uid": "same-uid@example.com",
                                                "recurrenceId": "2025-01-08T10:00:00",
                                                "start": "2025-01-08T11:00:00"}})
    assert "inst" in out["created"]
    out = ev_set(server, acct, update={eid: {"uid": "other"}})
    assert out["notUpdated"][eid]["properties"] == ["uid"]


def test_sequence_and_updated(server, acct, cal):
    eid, out = create(server, acct, {"calendarIds": {cal: True}, "title": "Seq",
                                     "start": "2025-01-01T10:00:00"})
    ev = get(server, acct, [eid])["list"][0]
    seq0 = ev.get("sequence", 0)
    ev_set(server, acct, update={eid: {"title": "Seq 2"}})
    ev = get(server, acct, [eid])["list"][0]
    assert ev["sequence"] == seq0 + 1
    # per-user properties (§5.4) do not bump it
    ev_set(server, acct, update={eid: {"keywords": {"x": True}, "color": "red"}})
    assert get(server, acct, [eid])["list"][0]["sequence"] == seq0 + 1
    # a client-given higher sequence is kept
    ev_set(server, acct, update={eid: {"title": "Seq 3", "sequence": 10}})
    assert get(server, acct, [eid])["list"][0]["sequence"] == 10


def test_is_draft_rules(server, acct, cal):
    eid, _ = create(server, acct, {"calendarIds": {cal: True}, "isDraft": True,
                                   "start": "2025-01-01T10:00:00"})
    out = ev_set(server, acct, update={eid: {"isDraft": False}})
    assert eid in out["updated"]
    out = ev_set(server, acct, update={eid: {"isDraft": True}})
    assert out["notUpdated"][eid]["properties"] == ["isDraft"]


def test_utc_start_end(server, acct, cal):
    eid, _ = create(server, acct, {"calendarIds": {cal: True}, "title": "Berlin",
                                   "start": "2025-01-15T09:00:00", "timeZone": "Europe/Berlin",
                                   "duration": "PT1H30M"})
    ev = get(server, acct, [eid], properties=["utcStart", "utcEnd", "start"])["list"][0]
    assert ev["utcStart"] == "2025-01-15T08:00:00Z" and ev["utcEnd"] == "2025-01-15T09:30:00Z"
    # floating events are read in the timeZone argument
    fid, _ = create(server, acct, {"calendarIds": {cal: True}, "title": "Floating",
                                   "start": "2025-07-01T09:00:00", "duration": "PT1H"})
    ev = get(server, acct, [fid], properties=["utcStart"], timeZone="America/New_York")["list"][0]
    assert ev["utcStart"] == "2025-07-01T13:00:00Z"
    ev = get(server, acct, [fid], properties=["utcStart"])["list"][0]
    assert ev["utcStart"] == "2025-07-01T09:00:00Z"
    name, out = server.call("CalendarEvent/get", {"accountId": acct, "ids": [eid], "properties": [
        "utcStart", "recurrenceOverrides"]})
    assert name == "error" and out["type"] == "invalidArguments"
    # setting utcStart/utcEnd: translated to start/duration; the calendar's time zone
    # (or Etc/UTC) is set when the event has none
    out = ev_set(server, acct, create={"u": {"calendarIds": {cal: True}, "title": "From UTC",
                                             "utcStart": "2025-02-01T10:00:00Z",
                                             "utcEnd": "2025-02-01T11:15:00Z"}})
    c = out["created"]["u"]
    assert c["timeZone"] == "Etc/UTC"
    ev = get(server, acct, [c["id"]])["list"][0]
    assert ev["start"] == "2025-02-01T10:00:00" and ev["duration"] == "PT1H15M"
    assert "utcStart" not in ev


def test_recurrence_overrides_ranges(server, acct, cal):
    ov = {"2025-01-13T09:00:00": {"title": "Jan 13"}, "2025-02-03T09:00:00": {"title": "Feb 3"}}
    eid, _ = create(server, acct, {"calendarIds": {cal: True}, **WEEKLY,
                                   "recurrenceOverrides": ov})
    ev = get(server, acct, [eid], recurrenceOverridesBefore="2025-02-01T00:00:00Z")["list"][0]
    assert list(ev["recurrenceOverrides"]) == ["2025-01-13T09:00:00"]
    ev = get(server, acct, [eid], recurrenceOverridesAfter="2025-02-03T08:00:00Z")["list"][0]
    assert list(ev["recurrenceOverrides"]) == ["2025-02-03T09:00:00"]


def test_reduce_participants(server, acct, cal):
    me = server.call("ParticipantIdentity/get", {"accountId": acct})[1]["list"][0]
    parts = {"o": {"@type": "Participant", "name": "Owner", "calendarAddress": "mailto:o@x.com",
                   "roles": {"owner": True}},
             "me": {"@type": "Participant", "name": "Me", "calendarAddress": me["calendarAddress"],
                    "roles": {"attendee": True}},
             "z": {"@type": "Participant", "name": "Zed", "calendarAddress": "mailto:z@x.com",
                   "roles": {"attendee": True}}}
    eid, out = create(server, acct, {"calendarIds": {cal: True}, "title": "Team",
                                     "start": "2025-01-01T10:00:00",
                                     "organizerCalendarAddress": "mailto:o@x.com",
                                     "participants": parts})
    assert out["created"]["x"]["isOrigin"] is False  # someone else organises it
    ev = get(server, acct, [eid], reduceParticipants=True)["list"][0]
    assert sorted(ev["participants"]) == ["me", "o"]
    assert sorted(get(server, acct, [eid])["list"][0]["participants"]) == ["me", "o", "z"]


def test_organizer_set_when_participants_added(server, acct, cal):
    me = server.call("ParticipantIdentity/get", {"accountId": acct})[1]["list"]
    mine = [i["calendarAddress"] for i in me]
    eid, out = create(server, acct, {"calendarIds": {cal: True}, "start": "2025-01-01T10:00:00",
                                     "participants": {"a": {"@type": "Participant",
                                                            "calendarAddress": "mailto:a@x.com",
                                                            "roles": {"attendee": True}}}})
    assert out["created"]["x"]["organizerCalendarAddress"] in mine
    assert out["created"]["x"]["isOrigin"] is True


def test_instances(server, acct, cal):
    eid, _ = create(server, acct, {"calendarIds": {cal: True}, **WEEKLY,
                                   "alerts": {"a1": {"trigger": {"offset": "-PT10M"}}}})
    q = server.call("CalendarEvent/query", {"accountId": acct, "expandRecurrences": True,
                                            "filter": {"inCalendar": cal,
                                                       "after": "2025-01-01T00:00:00",
                                                       "before": "2025-01-21T00:00:00"}})[1]
    assert len(q["ids"]) == 3
    inst = q["ids"][1]
    ev = get(server, acct, [inst], properties=["start", "recurrenceId", "baseEventId", "title",
                                               "recurrenceRule", "recurrenceOverrides"])
    e = ev["list"][0]
    assert e["id"] == inst and e["baseEventId"] == eid
    assert e["start"] == "2025-01-13T09:00:00" and e["recurrenceId"] == "2025-01-13T09:00:00"
    assert e["recurrenceRule"] is None and e["recurrenceOverrides"] is None
    # an update of an instance is an override on the base event
    out = ev_set(server, acct, update={inst: {"title": "Moved", "start": "2025-01-13T10:00:00"}})
    assert inst in out["updated"]
    base = get(server, acct, [eid])["list"][0]
    assert base["recurrenceOverrides"]["2025-01-13T09:00:00"] == {
        "title": "Moved", "start": "2025-01-13T10:00:00"}
    assert base["title"] == "Weekly sync"
    e = get(server, acct, [inst])["list"][0]
    assert e["title"] == "Moved" and e["start"] == "2025-01-13T10:00:00"
    # acknowledging an alert updates the base event's alert, not an override (§6.2)
    ev_set(server, acct, update={inst: {"alerts/a1/acknowledged": "2025-01-13T08:55:00Z"}})
    base = get(server, acct, [eid])["list"][0]
    assert base["alerts"]["a1"]["acknowledged"] == "2025-01-13T08:55:00Z"
    assert "alerts/a1/acknowledged" not in base["recurrenceOverrides"]["2025-01-13T09:00:00"]
    # a destroy of an instance excludes it
    third = q["ids"][2]
    out = ev_set(server, acct, destroy=[third])
    assert out["destroyed"] == [third]
    base = get(server, acct, [eid])["list"][0]
    assert base["recurrenceOverrides"]["2025-01-20T09:00:00"] == {"excluded": True}
    assert get(server, acct, [third])["notFound"] == [third]
    # an instance the rule does not generate does not exist
    bogus = eid + "_20250114T090000"
    assert get(server, acct, [bogus])["notFound"] == [bogus]
    out = ev_set(server, acct, update={bogus: {"title": "x"}})
    assert out["notUpdated"][bogus]["type"] == "notFound"
    # instance-only changes to series properties are refused
    out = ev_set(server, acct, update={inst: {"recurrenceRule": None}})
    assert out["notUpdated"][inst]["type"] == "invalidProperties"


def test_changes_show_stored_ids_only(server, acct, cal):
    s0 = get(server, acct, [])["state"]
    eid, _ = create(server, acct, {"calendarIds": {cal: True}, **WEEKLY})
    inst = eid + "_20250113T090000"
    ev_set(server, acct, update={inst: {"title": "changed"}})
    ch = server.call("CalendarEvent/changes", {"accountId": acct, "sinceState": s0})[1]
    assert ch["created"] == [eid] and ch["updated"] == [] and ch["destroyed"] == []
    s1 = ch["newState"]
    ev_set(server, acct, update={inst: {"title": "again"}})
    ev_set(server, acct, destroy=[eid])
    ch = server.call("CalendarEvent/changes", {"accountId": acct, "sinceState": s1})[1]
    assert ch["destroyed"] == [eid] and ch["updated"] == []


def test_default_alerts(server, acct):
    out = server.call("Calendar/set", {"accountId": acct, "create": {"c": {
        "name": "With alerts",
        "defaultAlertsWithTime": {"dt1": {"trigger": {"offset": "-PT15M"}}},
        "defaultAlertsWithoutTime": {"dd1": {"trigger": {"offset": "PT9H"}}}}}})[1]
    cid = out["created"]["c"]["id"]
    eid, _ = create(server, acct, {"calendarIds": {cal_id: True} if False else {cid: True},
                                   "start": "2025-01-01T10:00:00", "useDefaultAlerts": True,
                                   "alerts": {"own": {"trigger": {"offset": "-PT1H"}},
                                              "dt1": {"trigger": {"offset": "-PT15M"},
                                                      "acknowledged": "2025-01-01T09:46:00Z"}}})
    ev = get(server, acct, [eid])["list"][0]
    # §6.1: the calendar's alerts replace the event's, keeping acknowledgements
    assert sorted(ev["alerts"]) == ["dt1"]
    assert ev["alerts"]["dt1"]["acknowledged"] == "2025-01-01T09:46:00Z"
    aid, _ = create(server, acct, {"calendarIds": {cid: True}, "start": "2025-01-02T00:00:00",
                                   "showWithoutTime": True, "useDefaultAlerts": True})
    assert sorted(get(server, acct, [aid])["list"][0]["alerts"]) == ["dd1"]
    server.call("Calendar/set", {"accountId": acct, "destroy": [cid],
                                 "onDestroyRemoveEvents": True})


def test_calendar_has_event(server, acct):
    out = server.call("Calendar/set", {"accountId": acct, "create": {
        "a": {"name": "A"}, "b": {"name": "B"}}})[1]
    a, b = out["created"]["a"]["id"], out["created"]["b"]["id"]
    only_a, _ = create(server, acct, {"calendarIds": {a: True}, "start": "2025-01-01T10:00:00"})
    both, _ = create(server, acct, {"calendarIds": {a: True, b: True},
                                    "start": "2025-01-01T10:00:00"})
    out = server.call("Calendar/set", {"accountId": acct, "destroy": [a]})[1]
    assert out["notDestroyed"][a]["type"] == "calendarHasEvent"
    out = server.call("Calendar/set", {"accountId": acct, "destroy": [a],
                                       "onDestroyRemoveEvents": True})[1]
    assert out["destroyed"] == [a]
    got = get(server, acct, [only_a, both])
    assert got["notFound"] == [only_a]
    assert got["list"][0]["calendarIds"] == {b: True}
    server.call("Calendar/set", {"accountId": acct, "destroy": [b],
                                 "onDestroyRemoveEvents": True})


def test_calendar_ids_by_creation_reference(server, acct):
    resp = server.api([
        ["Calendar/set", {"accountId": acct, "create": {"nc": {"name": "New"}}}, "0"],
        ["CalendarEvent/set", {"accountId": acct, "create": {"ne": {
            "calendarIds": {"#nc": True}, "start": "2025-01-01T10:00:00"}}}, "1"]])
    cid = resp["methodResponses"][0][1]["created"]["nc"]["id"]
    eid = resp["methodResponses"][1][1]["created"]["ne"]["id"]
    assert get(server, acct, [eid])["list"][0]["calendarIds"] == {cid: True}
    server.call("Calendar/set", {"accountId": acct, "destroy": [cid],
                                 "onDestroyRemoveEvents": True})


def test_send_scheduling_messages_not_supported(server, acct, cal):
    out = ev_set(server, acct, sendSchedulingMessages=True, create={"s": {
        "calendarIds": {cal: True}, "start": "2025-01-01T10:00:00",
        "participants": {"p": {"@type": "Participant", "calendarAddress": "mailto:p@x.com",
                               "roles": {"attendee": True}}}}})
    assert out["notCreated"]["s"]["type"] == "noSupportedScheduleMethods"
    # without participants there is nothing to send: fine
    out = ev_set(server, acct, sendSchedulingMessages=True, create={"t": {
        "calendarIds": {cal: True}, "start": "2025-01-01T10:00:00"}})
    assert "t" in out["created"]


def test_privacy_in_shared_calendar(server):
    alice = server.account("alice")
    cid = server.call("Calendar/get", {"accountId": alice})[1]["list"][0]["id"]
    out = ev_set(server, alice, user="bob", create={"p": {
        "calendarIds": {cid: True}, "start": "2025-01-01T10:00:00", "privacy": "private"}})
    assert out["notCreated"]["p"]["properties"] == ["privacy"]


def test_copy_between_accounts(server):
    alice, bob = server.account("alice"), server.account("bob")
    acal = server.call("Calendar/get", {"accountId": alice}, user="bob")[1]["list"][0]["id"]
    bcal = server.call("Calendar/get", {"accountId": bob}, user="bob")[1]["list"][0]["id"]
    eid, _ = create(server, alice, {"calendarIds": {acal: True}, "title": "Copy me",
                                    "start": "2025-05-01T10:00:00"})
    name, out = server.call("CalendarEvent/copy", {
        "fromAccountId": alice, "accountId": bob, "onSuccessDestroyOriginal": True,
        "create": {"k": {"id": eid, "calendarIds": {bcal: True}}}}, user="bob")
    assert name == "CalendarEvent/copy", out
    assert out["notCreated"] is None, out["notCreated"]
    new = out["created"]["k"]["id"]
    got = server.call("CalendarEvent/get", {"accountId": bob, "ids": [new]}, user="bob")[1]
    assert got["list"][0]["title"] == "Copy me"
    assert get(server, alice, [eid])["notFound"] == [eid]
    server.call("CalendarEvent/set", {"accountId": bob, "destroy": [new]}, user="bob")


def test_parse(server, acct):
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
           "BEGIN:VEVENT\r\nUID:p1@example.com\r\nDTSTAMP:20250101T000000Z\r\n"
           "DTSTART;TZID=Europe/Berlin:20250110T100000\r\nDURATION:PT1H\r\n"
           "SUMMARY:Parsed one\r\nEND:VEVENT\r\n"
           "BEGIN:VEVENT\r\nUID:p2@example.com\r\nDTSTAMP:20250101T000000Z\r\n"
           "DTSTART;VALUE=DATE:20250111\r\nSUMMARY:Parsed two\r\nEND:VEVENT\r\n"
           "END:VCALENDAR\r\n")
    good = server.http().post(f"{server.base}/jmap/upload/{acct}/", data=ics.encode(),
                              headers={"Content-Type": "text/calendar"}).json()["blobId"]
    bad = server.http().post(f"{server.base}/jmap/upload/{acct}/", data=b"not a calendar",
                             headers={"Content-Type": "text/plain"}).json()["blobId"]
    using = [CORE, CAL, "urn:ietf:params:jmap:calendars:parse"]
    name, out = server.call("CalendarEvent/parse", {"accountId": acct,
                                                    "blobIds": [good, bad, "Gmissing"]},
                            using=using)
    assert name == "CalendarEvent/parse"
    evs = out["parsed"][good]
    assert sorted(e["title"] for e in evs) == ["Parsed one", "Parsed two"]
    assert all(e["id"] is None and e["calendarIds"] is None for e in evs)
    one = [e for e in evs if e["uid"] == "p1@example.com"][0]
    assert one["start"] == "2025-01-10T10:00:00" and one["timeZone"] == "Europe/Berlin"
    assert out["notParsable"] == [bad] and out["notFound"] == ["Gmissing"]
    name, out = server.call("CalendarEvent/parse", {"accountId": acct, "blobIds": [good],
                                                    "properties": ["title", "id"]}, using=using)
    assert all(set(e) == {"title", "id"} for e in out["parsed"][good])
    # the capability must be in `using`
    name, out = server.call("CalendarEvent/parse", {"accountId": acct, "blobIds": [good]})
    assert name == "error" and out["type"] == "unknownMethod"
    assert "urn:ietf:params:jmap:calendars:parse" in server.session()["capabilities"]


def test_blob_attachment_lookup(server, acct, cal):
    blob = server.http().post(f"{server.base}/jmap/upload/{acct}/", data=b"%PDF-1.4 agenda",
                              headers={"Content-Type": "application/pdf"}).json()["blobId"]
    eid, _ = create(server, acct, {"calendarIds": {cal: True}, "start": "2025-01-01T10:00:00",
                                   "links": {"l1": {"@type": "Link", "blobId": blob,
                                                    "rel": "enclosure",
                                                    "contentType": "application/pdf"}}})
    out = server.call("Blob/lookup", {"accountId": acct, "typeNames": ["CalendarEvent"],
                                      "ids": [blob]})[1]
    assert out["list"][0]["matchedIds"]["CalendarEvent"] == [eid]
    out = ev_set(server, acct, create={"b": {"calendarIds": {cal: True},
                                             "start": "2025-01-01T10:00:00",
                                             "links": {"l1": {"@type": "Link",
                                                              "blobId": "Gnothere"}}}})
    assert out["notCreated"]["b"]["properties"] == ["links/l1/blobId"]


def test_import_export(server, acct, tmp_path):
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
           "BEGIN:VEVENT\r\nUID:imp1@example.com\r\nDTSTAMP:20250101T000000Z\r\n"
           "DTSTART;TZID=America/New_York:20250301T090000\r\nDTEND;TZID=America/New_York:"
           "20250301T100000\r\nRRULE:FREQ=DAILY;COUNT=3\r\nSUMMARY:Imported daily\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n")
    f = tmp_path / "in.ics"
    f.write_text(ics)
    r = run_cli(server.data, "import", "--user", "alice", str(f))
    assert r.returncode == 0, r.stderr
    assert "1 imported" in r.stdout
    # importing the same file again updates, not duplicates
    assert run_cli(server.data, "import", "--user", "alice", str(f)).returncode == 0
    q = server.call("CalendarEvent/query", {"accountId": acct,
                                            "filter": {"uid": "imp1@example.com"}})[1]
    assert len(q["ids"]) == 1
    ev = get(server, acct, q["ids"])["list"][0]
    cal_id = next(iter(ev["calendarIds"]))
    assert ev["title"] == "Imported daily" and ev["recurrenceRule"]["count"] == 3
    r = run_cli(server.data, "export", "--user", "alice", "--calendar", cal_id)
    assert r.returncode == 0 and "BEGIN:VCALENDAR" in r.stdout
    assert "UID:imp1@example.com" in r.stdout and "RRULE:FREQ=DAILY;COUNT=3" in r.stdout
    assert "BEGIN:VTIMEZONE" in r.stdout and "TZID:America/New_York" in r.stdout
    http = server.http().get(f"{server.base}/export/calendar/{acct}/{cal_id}.ics")
    assert http.status_code == 200 and http.headers["Content-Type"].startswith("text/calendar")
    assert "UID:imp1@example.com" in http.text
    assert server.http().get(f"{server.base}/export/calendar/{acct}/cnope").status_code == 404
    assert requests.get(f"{server.base}/export/calendar/{acct}/{cal_id}").status_code == 401
    bad = tmp_path / "bad.ics"
    bad.write_text("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\n")
    r = run_cli(server.data, "import", "--user", "alice", str(bad))
    assert r.returncode == 1 and r.stderr
    server.call("CalendarEvent/set", {"accountId": acct, "destroy": q["ids"]})


def test_copy_onto_existing_uid(server):
    """RFC 8620 §5.4: copying an event whose uid the target already has is
    alreadyExists with the existing id."""
    alice, bob = server.account("alice"), server.account("bob")
    acal = server.call("Calendar/get", {"accountId": alice}, user="bob")[1]["list"][0]["id"]
    bcal = server.call("Calendar/get", {"accountId": bob}, user="bob")[1]["list"][0]["id"]
    src, _ = create(server, alice, {"calendarIds": {acal: True}, "uid": "twice@example.com",
                                    "start": "2025-05-01T10:00:00"})
    name, out = server.call("CalendarEvent/copy", {"fromAccountId": alice, "accountId": bob,
                                                   "create": {"a": {"id": src,
                                                                    "calendarIds": {bcal: True}}}},
                            user="bob")
    first = out["created"]["a"]["id"]
    name, out = server.call("CalendarEvent/copy", {"fromAccountId": alice, "accountId": bob,
                                                   "create": {"b": {"id": src,
                                                                    "calendarIds": {bcal: True}}}},
                            user="bob")
    err = out["notCreated"]["b"]
    assert err["type"] == "alreadyExists" and err["existingId"] == first
    server.call("CalendarEvent/set", {"accountId": bob, "destroy": [first]}, user="bob")
    server.call("CalendarEvent/set", {"accountId": alice, "destroy": [src]})
