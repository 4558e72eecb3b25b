"""Issue 21 §2: CalendarEvent/get of the ids an expanded query gave (draft-ietf-jmap-calendars-27
§5.11 synthetic ids, §5.7 /get) builds instances from the parsed-event cache without a deep
copy and trusts an event the query read while the account's state is unchanged. These
check what that must never change: a /get after a write shows the write (the state moved
on), a view that reduces participants or drops overrides (§5.7 reduceParticipants,
recurrenceOverridesAfter/Before) changes only its own answer, never the cached event
that later /gets and queries read, and instances with overrides (flat and nested
patches, §5.5) carry them."""
import pytest

from conftest import Server

WINDOW = {"after": "2026-03-01T00:00:00", "before": "2026-04-01T00:00:00"}


@pytest.fixture(scope="module")
def env():
    s = Server()
    acct = s.account()
    cal = s.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "C"}}})[1]
    cal = cal["created"]["c"]["id"]
    parts = {"own": {"@type": "Participant", "roles": {"owner": True},
                     "calendarAddress": "mailto:owner@example.com", "name": "Owner"},
             "a1": {"@type": "Participant", "roles": {"attendee": True},
                    "calendarAddress": "mailto:a1@example.com", "name": "A1"},
             "a2": {"@type": "Participant", "roles": {"attendee": True},
                    "calendarAddress": "mailto:a2@example.com", "name": "A2"}}
    create = {
        "weekly": {"calendarIds": {cal: True}, "title": "Weekly", "start": "2026-03-02T09:00:00",
                   "timeZone": "Europe/Berlin", "duration": "PT1H", "participants": parts,
                   "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "weekly",
                                      "count": 6},
                   "recurrenceOverrides": {
                       "2026-03-09T09:00:00": {"title": "Moved", "start": "2026-03-09T11:00:00"},
                       "2026-03-16T09:00:00": {"participants/a2/participationStatus":
                                               "declined"},
                       "2026-03-23T09:00:00": {"excluded": True}}},
        "single": {"calendarIds": {cal: True}, "title": "Single", "start": "2026-03-05T10:00:00",
                   "timeZone": "Europe/Berlin", "duration": "PT1H", "participants": parts},
    }
    out = s.call("CalendarEvent/set", {"accountId": acct, "create": create})[1]
    assert out["notCreated"] is None, out["notCreated"]
    ids = {k: v["id"] for k, v in out["created"].items()}
    yield s, acct, ids
    s.close()


def query_ids(s, acct):
    name, out = s.call("CalendarEvent/query", {"accountId": acct, "filter": WINDOW,
                                               "expandRecurrences": True})
    assert name == "CalendarEvent/query", out
    return out["ids"]


def get(s, acct, ids, **args):
    name, out = s.call("CalendarEvent/get", {"accountId": acct, "ids": ids, **args})
    assert name == "CalendarEvent/get", out
    return {o["id"]: o for o in out["list"]}, out["notFound"]


def test_instances_and_overrides_from_the_query(env):
    s, acct, ids = env
    qids = query_ids(s, acct)
    base = ids["weekly"]
    # March holds five of the six weeks, one of them excluded; and the single event
    assert len(qids) == 5 and ids["single"] in qids
    got, missing = get(s, acct, qids)
    assert not missing
    moved = got[base + "_20260309T090000"]
    assert moved["title"] == "Moved" and moved["start"] == "2026-03-09T11:00:00"
    assert moved["recurrenceId"] == "2026-03-09T09:00:00"
    assert moved["baseEventId"] == base
    nested = got[base + "_20260316T090000"]
    assert nested["participants"]["a2"]["participationStatus"] == "declined"
    plain = got[base + "_20260302T090000"]
    assert plain["title"] == "Weekly" and "participationStatus" not in plain["participants"]["a2"]
    for o in got.values():
        assert "recurrenceRule" not in o and "recurrenceOverrides" not in o
        assert o["isDraft"] is False
    # the nested override changed its instance only, not the series the others share
    again, _ = get(s, acct, [base + "_20260330T090000", base])
    assert "participationStatus" not in again[base + "_20260330T090000"]["participants"]["a2"]
    assert "participationStatus" not in again[base]["participants"]["a2"]


def test_reduced_view_leaves_the_cache_whole(env):
    """§5.7 reduceParticipants: owners and the user's own only, in that answer alone."""
    s, acct, ids = env
    qids = query_ids(s, acct)
    reduced, _ = get(s, acct, qids, reduceParticipants=True)
    for o in reduced.values():
        assert set(o["participants"]) == {"own"}, o["id"]
    whole, _ = get(s, acct, qids)
    for o in whole.values():
        assert set(o["participants"]) == {"own", "a1", "a2"}, o["id"]
    # the base event, whose overrides hold participants too
    base, _ = get(s, acct, [ids["weekly"]], reduceParticipants=True)
    assert set(base[ids["weekly"]]["participants"]) == {"own"}
    base, _ = get(s, acct, [ids["weekly"]])
    ov = base[ids["weekly"]]["recurrenceOverrides"]
    assert ov["2026-03-16T09:00:00"] == {"participants/a2/participationStatus": "declined"}
    assert set(base[ids["weekly"]]["participants"]) == {"own", "a1", "a2"}


def test_overrides_window_leaves_the_cache_whole(env):
    """§5.7 recurrenceOverridesAfter drops overrides from that answer only."""
    s, acct, ids = env
    query_ids(s, acct)
    cut, _ = get(s, acct, [ids["weekly"]], recurrenceOverridesAfter="2026-03-20T00:00:00Z")
    assert set(cut[ids["weekly"]]["recurrenceOverrides"]) == {"2026-03-23T09:00:00"}
    whole, _ = get(s, acct, [ids["weekly"]])
    assert len(whole[ids["weekly"]]["recurrenceOverrides"]) == 3


def test_get_after_a_write_shows_it(env):
    """The ids of a query, then a write, then /get: the state moved on, so nothing
    the query read is trusted without looking again."""
    s, acct, ids = env
    qids = query_ids(s, acct)
    get(s, acct, qids)
    out = s.call("CalendarEvent/set", {"accountId": acct, "update": {
        ids["weekly"]: {"title": "Renamed"}, ids["single"]: {"title": "Single 2"}}})[1]
    assert set(out["updated"]) == {ids["weekly"], ids["single"]}
    got, _ = get(s, acct, qids)
    assert got[ids["weekly"] + "_20260302T090000"]["title"] == "Renamed"
    assert got[ids["weekly"] + "_20260309T090000"]["title"] == "Moved"  # its override
    assert got[ids["single"]]["title"] == "Single 2"
    # an instance that no longer occurs is not found
    out = s.call("CalendarEvent/set", {"accountId": acct,
                                       "destroy": [ids["weekly"] + "_20260330T090000"]})[1]
    assert out["destroyed"] == [ids["weekly"] + "_20260330T090000"], out
    got, missing = get(s, acct, qids)
    assert missing == [ids["weekly"] + "_20260330T090000"]
    out = s.call("CalendarEvent/set", {"accountId": acct, "destroy": [ids["single"]]})[1]
    assert out["destroyed"] == [ids["single"]]
    got, missing = get(s, acct, qids)
    assert ids["single"] in missing


def test_endless_series_far_from_its_start(env):
    """A series without an end (RFC 8984 §4.3.3 rule without count or until): the cache
    expands three years from its start and, asked further, further; the instances are
    those the rule gives, and /get builds each."""
    s, acct, _ = env
    cal = s.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    out = s.call("CalendarEvent/set", {"accountId": acct, "create": {"y": {
        "calendarIds": {cal: True}, "title": "Yearly", "start": "2001-03-10T08:00:00",
        "timeZone": "Etc/UTC", "duration": "PT1H",
        "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "yearly"}}}})[1]
    yid = out["created"]["y"]["id"]
    for year in (2026, 2040, 2033):
        name, q = s.call("CalendarEvent/query", {"accountId": acct, "expandRecurrences": True,
                                                 "filter": {"after": f"{year}-03-01T00:00:00",
                                                            "before": f"{year}-04-01T00:00:00"}})
        assert name == "CalendarEvent/query", q
        mine = [i for i in q["ids"] if i.startswith(yid)]
        assert mine == [f"{yid}_{year}0310T080000"], (year, q["ids"])
        got, missing = get(s, acct, mine)
        assert not missing
        assert got[mine[0]]["start"] == f"{year}-03-10T08:00:00"
        assert got[mine[0]]["recurrenceId"] == f"{year}-03-10T08:00:00"
    s.call("CalendarEvent/set", {"accountId": acct, "destroy": [yid]})


def test_instances_after_a_get_of_the_series(env):
    """/get of a series by its id first (the cache keeps the event without its
    occurrences), then of instances by their synthetic ids (§5.11): each instance is
    the rule's, a recurrence id the rule does not give is not found."""
    s, acct, _ = env
    cal = s.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    out = s.call("CalendarEvent/set", {"accountId": acct, "create": {"d": {
        "calendarIds": {cal: True}, "title": "Daily", "start": "2026-06-01T07:30:00",
        "timeZone": "America/New_York", "duration": "PT30M",
        "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "daily", "count": 5},
        "recurrenceOverrides": {"2026-06-03T07:30:00": {"title": "Third"}}}}})[1]
    did = out["created"]["d"]["id"]
    got, _ = get(s, acct, [did])
    assert got[did]["recurrenceRule"]["count"] == 5
    want = [f"{did}_2026060{d}T073000" for d in (1, 3, 5)]
    got, missing = get(s, acct, want + [f"{did}_20260606T073000", f"{did}_20260602T080000"])
    assert sorted(missing) == [f"{did}_20260602T080000", f"{did}_20260606T073000"]
    assert [got[i]["start"] for i in want] == [f"2026-06-0{d}T07:30:00" for d in (1, 3, 5)]
    assert got[want[1]]["title"] == "Third" and got[want[0]]["title"] == "Daily"
    assert all(got[i]["baseEventId"] == did for i in want)
    s.call("CalendarEvent/set", {"accountId": acct, "destroy": [did]})


def test_instance_properties_asked_for(env):
    """§5.7 properties: an instance built with only what was asked for (and what the view
    computes them from) answers as the whole one does, id always there."""
    s, acct, _ = env
    qids = query_ids(s, acct)
    inst = [i for i in qids if "_" in i]
    whole, _ = get(s, acct, inst, properties=["title", "start", "participants", "duration",
                                              "baseEventId", "recurrenceId", "timeZone"])
    props = ["title", "utcStart", "utcEnd", "participants", "recurrenceRule", "baseEventId",
             "recurrenceId"]
    some, missing = get(s, acct, inst, properties=props)
    assert not missing and set(some) == set(inst)
    for i in inst:
        o, w = some[i], whole[i]
        assert set(o) == set(props) | {"id"}, o
        assert o["recurrenceRule"] is None  # §5.7: null for an instance
        for k in ("title", "participants", "baseEventId", "recurrenceId"):
            assert o[k] == w[k], (i, k)
        assert w["timeZone"] == "Europe/Berlin" and w["duration"] == "PT1H"
        # Berlin is UTC+1 in March before the 29th, UTC+2 after
        hour = int(w["start"][11:13]) - (1 if w["start"] < "2026-03-29" else 2)
        assert o["utcStart"] == f"{w['start'][:10]}T{hour:02d}{w['start'][13:]}Z", (o, w)
        assert o["utcEnd"] == f"{w['start'][:10]}T{hour + 1:02d}{w['start'][13:]}Z"
    # only the title: the members the view did not need are not there either
    only, _ = get(s, acct, inst, properties=["title"])
    assert all(set(o) == {"id", "title"} for o in only.values())


def test_instance_default_alerts_asked_for(env):
    """calendars-27 §6.1: with useDefaultAlerts an instance's alerts are its calendar's,
    whether all properties are asked for or only alerts."""
    s, acct, _ = env
    alert = {"@type": "Alert", "trigger": {"@type": "OffsetTrigger", "offset": "-PT15M"}}
    out = s.call("Calendar/set", {"accountId": acct, "create": {"a": {
        "name": "Alerts", "defaultAlertsWithTime": {"k1": alert}}}})[1]
    cal = out["created"]["a"]["id"]
    out = s.call("CalendarEvent/set", {"accountId": acct, "create": {"w": {
        "calendarIds": {cal: True}, "title": "With alerts", "start": "2026-03-04T09:00:00",
        "timeZone": "Etc/UTC", "duration": "PT1H", "useDefaultAlerts": True,
        "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "weekly", "count": 2}}}})[1]
    wid = out["created"]["w"]["id"]
    qids = [i for i in query_ids(s, acct) if i.startswith(wid)]
    assert len(qids) == 2
    for props in (None, ["alerts"], ["alerts", "title"]):
        got, _ = get(s, acct, qids, **({"properties": props} if props else {}))
        for i in qids:
            assert got[i]["alerts"]["k1"]["trigger"]["offset"] == "-PT15M", (props, got[i])
    s.call("CalendarEvent/set", {"accountId": acct, "destroy": [wid]})
