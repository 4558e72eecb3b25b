"""draft-ietf-jmap-calendars-27 §5.11 CalendarEvent/query (every filter and sort,
expandRecurrences, timeZone, windows) and §5.12 /queryChanges."""
import pytest

from conftest import CAL, CORE, Server


@pytest.fixture(scope="module")
def world():
    """A fresh server with a known set of events in two calendars."""
    s = Server()
    acct = s.account()
    out = s.call("Calendar/set", {"accountId": acct, "create": {
        "w": {"name": "Work"}, "h": {"name": "Home"}}})[1]
    w, h = out["created"]["w"]["id"], out["created"]["h"]["id"]
    events = {
        "standup": {"calendarIds": {w: True}, "title": "Daily standup",
                    "description": "What we did yesterday", "start": "2025-03-03T09:00:00",
                    "timeZone": "Europe/Berlin", "duration": "PT15M",
                    "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "daily",
                                       "count": 5},
                    "recurrenceOverrides": {"2025-03-05T09:00:00": {"title": "Standup on the roof"},
                                            "2025-03-06T09:00:00": {"excluded": True}}},
        "review": {"calendarIds": {w: True}, "title": "Quarterly review",
                   "start": "2025-03-04T14:00:00", "timeZone": "Europe/Berlin",
                   "duration": "PT2H", "uid": "review@example.com",
                   "locations": {"l1": {"@type": "Location", "name": "Boardroom Zürich"}},
                   "organizerCalendarAddress": "mailto:boss@example.com",
                   "participants": {
                       "b": {"@type": "Participant", "name": "Big Boss",
                             "email": "boss@example.com",
                             "calendarAddress": "mailto:boss@example.com",
                             "roles": {"owner": True, "attendee": True}},
                       "c": {"@type": "Participant", "name": "Carla Coder",
                             "email": "carla@example.com",
                             "calendarAddress": "mailto:carla@example.com",
                             "roles": {"attendee": True}}}},
        "dinner": {"calendarIds": {h: True}, "title": "Dinner with Zoë",
                   "start": "2025-03-04T19:00:00", "timeZone": "America/New_York",
                   "duration": "PT2H"},
        "floating": {"calendarIds": {h: True}, "title": "Yoga", "start": "2025-03-05T07:00:00",
                     "duration": "PT1H"},
        "later": {"calendarIds": {h: True, w: True}, "title": "Summer party",
                  "start": "2025-07-01T18:00:00", "timeZone": "Europe/Berlin",
                  "duration": "PT4H"},
    }
    out = s.call("CalendarEvent/set", {"accountId": acct, "create": events})[1]
    assert out["notCreated"] is None, out["notCreated"]
    ids = {k: v["id"] for k, v in out["created"].items()}
    yield s, acct, ids, w, h
    s.close()


def query(world, **args):
    s, acct = world[0], world[1]
    name, out = s.call("CalendarEvent/query", {"accountId": acct, **args})
    return name, out


def ids_of(world, **args):
    name, out = query(world, **args)
    assert name == "CalendarEvent/query", out
    return out["ids"]


def names(world, ids):
    inv = {v: k for k, v in world[2].items()}
    out = []
    for i in ids:
        base = i.split("_")[0]
        out.append(inv[base] + ("@" + i.split("_")[1] if "_" in i else ""))
    return out


def test_filters(world):
    s, acct, ids, w, h = world
    by = lambda **f: sorted(names(world, ids_of(world, filter=f)))
    assert by(inCalendar=h) == ["dinner", "floating", "later"]
    assert by(inCalendar=w) == ["later", "review", "standup"]
    assert by(title="standup") == ["standup"]
    assert by(title="roof") == ["standup"]  # an overridden title of a recurrence
    assert by(description="yesterday") == ["standup"]
    assert by(location="zurich") == ["review"]  # case and diacritics folded
    assert by(owner="boss") == ["review"]
    assert by(owner="carla") == []
    assert by(attendee="carla") == ["review"]
    assert by(text="zoe") == ["dinner"]
    assert by(text="quarterly boardroom") == ["review"]  # tokens anywhere
    assert by(text='"quarterly review"') == ["review"]  # a phrase
    assert by(text='"review quarterly"') == []
    assert by(uid="review@example.com") == ["review"]
    assert by(uid="review") == []
    assert by(after="2025-06-01T00:00:00") == ["later"]
    assert by(before="2025-03-04T00:00:00") == ["standup"]
    # dinner in New York starts 2025-03-05T00:00:00Z: not before the window's end
    assert by(after="2025-03-04T00:00:00", before="2025-03-05T00:00:00") == ["review", "standup"]
    assert by(after="2025-03-04T00:00:00", before="2025-03-05T00:00:01") == [
        "dinner", "review", "standup"]
    assert by() == ["dinner", "floating", "later", "review", "standup"]


def test_filter_operators(world):
    s, acct, ids, w, h = world
    f = {"operator": "OR", "conditions": [{"title": "yoga"}, {"title": "party"}]}
    assert sorted(names(world, ids_of(world, filter=f))) == ["floating", "later"]
    f = {"operator": "AND", "conditions": [{"inCalendar": h}, {"operator": "NOT", "conditions": [
        {"title": "party"}]}]}
    assert sorted(names(world, ids_of(world, filter=f))) == ["dinner", "floating"]
    f = {"operator": "NOT", "conditions": [{"inCalendar": w}, {"title": "yoga"}]}
    assert names(world, ids_of(world, filter=f)) == ["dinner"]


def test_sorts(world):
    asc = names(world, ids_of(world, sort=[{"property": "start"}]))
    # UTC starts: 03-03 08:00, 03-04 13:00, 03-05 00:00 (New York), 03-05 07:00
    # (floating, read in Etc/UTC), 07-01 16:00
    assert asc == ["standup", "review", "dinner", "floating", "later"]
    desc = names(world, ids_of(world, sort=[{"property": "start", "isAscending": False}]))
    assert desc == list(reversed(asc))
    s, acct, ids, w, h = world
    uids = names(world, ids_of(world, sort=[{"property": "uid"}]))
    got = s.call("CalendarEvent/get", {"accountId": acct, "ids": list(ids.values()),
                                       "properties": ["uid"]})[1]["list"]
    by_uid = sorted(got, key=lambda e: e["uid"])
    assert uids == names(world, [e["id"] for e in by_uid])
    for prop in ("created", "updated", "recurrenceId"):
        assert len(ids_of(world, sort=[{"property": prop}])) == 5
    name, out = query(world, sort=[{"property": "title"}])
    assert name == "error" and out["type"] == "unsupportedSort"


def test_expand_recurrences(world):
    s, acct, ids, w, h = world
    got = ids_of(world, expandRecurrences=True, filter={
        "inCalendar": w, "after": "2025-03-01T00:00:00", "before": "2025-03-08T00:00:00"},
        sort=[{"property": "start"}])
    assert names(world, got) == ["standup@20250303T090000", "standup@20250304T090000",
                                 "review", "standup@20250305T090000", "standup@20250307T090000"]
    # conditions apply to the same instance
    got = ids_of(world, expandRecurrences=True, filter={
        "title": "roof", "after": "2025-03-01T00:00:00", "before": "2025-03-08T00:00:00"})
    assert names(world, got) == ["standup@20250305T090000"]
    ev = s.call("CalendarEvent/get", {"accountId": acct, "ids": got,
                                      "properties": ["title", "start", "utcStart"]})[1]["list"][0]
    assert ev["title"] == "Standup on the roof" and ev["utcStart"] == "2025-03-05T08:00:00Z"


def test_expand_needs_a_window(world):
    for f in ({"after": "2025-03-01T00:00:00"}, {"before": "2025-03-01T00:00:00"},
              {"operator": "AND", "conditions": [{"after": "2025-03-01T00:00:00"},
                                                 {"before": "2025-03-02T00:00:00"}]}, None):
        name, out = query(world, expandRecurrences=True, filter=f)
        assert name == "error" and out["type"] == "invalidArguments", f
    name, out = query(world, expandRecurrences=True, filter={
        "after": "2025-01-01T00:00:00", "before": "2027-01-01T00:00:00"})
    assert name == "error" and out["type"] == "expandDurationTooLarge"


def test_time_zone_argument(world):
    # the floating Yoga is at 07:00 wherever you are; the window is read in timeZone
    f = {"after": "2025-03-05T06:30:00", "before": "2025-03-05T07:30:00"}
    assert "floating" in names(world, ids_of(world, filter=f, timeZone="Asia/Tokyo"))
    f = {"after": "2025-03-04T22:00:00", "before": "2025-03-04T23:00:00"}
    # 22:00-23:00 UTC is 07:00-08:00 in Tokyo: the floating event is not then in UTC
    assert "floating" not in names(world, ids_of(world, filter=f))
    # New York dinner 19:00 EST = 00:00Z next day
    f = {"after": "2025-03-05T00:00:00", "before": "2025-03-05T00:30:00"}
    assert "dinner" in names(world, ids_of(world, filter=f))
    assert "dinner" in names(world, ids_of(world, filter={
        "after": "2025-03-04T18:30:00", "before": "2025-03-04T19:30:00"},
        timeZone="America/New_York"))
    name, out = query(world, timeZone="Nowhere/Land")
    assert name == "error" and out["type"] == "invalidArguments"


def test_windowing(world):
    s, acct, ids, w, h = world
    name, out = query(world, sort=[{"property": "start"}], position=1, limit=2,
                      calculateTotal=True)
    assert names(world, out["ids"]) == ["review", "dinner"]
    assert out["total"] == 5 and out["position"] == 1
    assert out["canCalculateChanges"] is True
    name, out = query(world, sort=[{"property": "start"}], anchor=ids["floating"],
                      anchorOffset=-1, limit=2)
    assert names(world, out["ids"]) == ["dinner", "floating"] and out["position"] == 2
    name, out = query(world, anchor="enothere")
    assert name == "error" and out["type"] == "anchorNotFound"


def test_bad_filters(world):
    name, out = query(world, filter={"color": "red"})
    assert name == "error" and out["type"] == "unsupportedFilter"
    name, out = query(world, filter={"after": "yesterday"})
    assert name == "error" and out["type"] == "invalidArguments"
    name, out = query(world, filter={"title": 5})
    assert name == "error" and out["type"] == "invalidArguments"


def test_query_changes(world):
    s, acct, ids, w, h = world
    args = {"filter": {"inCalendar": h}, "sort": [{"property": "start"}]}
    name, q0 = query(world, **args)
    exp = {"expandRecurrences": True, "filter": {"after": "2025-03-01T00:00:00",
                                                 "before": "2025-03-08T00:00:00"},
           "sort": [{"property": "start"}]}
    name, e0 = query(world, **exp)
    out = s.call("CalendarEvent/set", {"accountId": acct, "create": {
        "n": {"calendarIds": {h: True}, "title": "New", "start": "2025-03-03T08:00:00",
              "timeZone": "Europe/Berlin"}},
        "update": {ids["standup"] + "_20250304T090000": {"title": "Moved"}}})[1]
    new = out["created"]["n"]["id"]
    name, qc = s.call("CalendarEvent/queryChanges", {"accountId": acct, **args,
                                                     "sinceQueryState": q0["queryState"]})
    assert name == "CalendarEvent/queryChanges", qc
    assert qc["oldQueryState"] == q0["queryState"]
    name, q1 = query(world, **args)
    assert qc["newQueryState"] == q1["queryState"]
    replay = [i for i in q0["ids"] if i not in qc["removed"]]
    for a in qc["added"]:
        replay.insert(a["index"], a["id"])
    assert replay == q1["ids"] and new in q1["ids"]
    # expanded queries too: instance ids of a changed series are replaced
    name, ec = s.call("CalendarEvent/queryChanges", {"accountId": acct, **exp,
                                                     "sinceQueryState": e0["queryState"]})
    assert name == "CalendarEvent/queryChanges", ec
    name, e1 = query(world, **exp)
    replay = [i for i in e0["ids"] if i not in ec["removed"]]
    for a in ec["added"]:
        replay.insert(a["index"], a["id"])
    assert replay == e1["ids"]
    assert len(ec["removed"]) + len(ec["added"]) > 1
    name, out = s.call("CalendarEvent/queryChanges", {"accountId": acct, **exp,
                                                      "sinceQueryState": e0["queryState"],
                                                      "maxChanges": 1})
    assert name == "error" and out["type"] == "tooManyChanges"
    name, out = s.call("CalendarEvent/queryChanges", {"accountId": acct, **args,
                                                      "sinceQueryState": "nonsense"})
    assert name == "error" and out["type"] == "cannotCalculateChanges"
    s.call("CalendarEvent/set", {"accountId": acct, "destroy": [new]})
