"""Issue 21 §2: a CalendarEvent/get of all properties by the account's owner writes each
instance an expanded query returned (draft-ietf-jmap-calendars-27 §5.5 synthetic ids) and
each single event from text made once per event, without a JSON tree per instance. These
check that the text is the object §5.5 and §5.7 define: an instance is its series with
start and recurrenceId at its recurrence id, recurrenceIdTimeZone the series' timeZone,
id and baseEventId, and without recurrenceRule/recurrenceOverrides (compared with a model
built here and with the same /get asking for every property by name, which builds a
tree); where the view is not the stored members (default alerts §6.1, overrides §5.5,
metadata, a later call reading the response through a ResultReference, RFC 8620 §3.7)
the answer is the tree's."""
import pytest

from conftest import CAL, CORE, Server
from test_calendar_event_get_cached import query_ids

WINDOW = {"after": "2026-03-01T00:00:00", "before": "2026-04-01T00:00:00"}
SERIES = ("recurrenceRule", "recurrenceOverrides", "excludedRecurrenceRules")
TEXT = 'Quote " backslash \\ newline \n tab \t control \u0001 émoji \U0001F600'


@pytest.fixture(scope="module")
def env():
    s = Server()
    acct = s.account()
    cal = s.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "C"}}})[1]
    cal = cal["created"]["c"]["id"]
    rich = {"calendarIds": {cal: True}, "title": TEXT, "description": TEXT,
            "duration": "PT1H30M", "keywords": {"k1": True, "ü": True}, "color": "red",
            "priority": 3, "showWithoutTime": False, "privacy": "public",
            "locations": {"l1": {"@type": "Location", "name": "Room \"7\""}},
            "alerts": {"a1": {"@type": "Alert",
                              "trigger": {"@type": "OffsetTrigger", "offset": "-PT5M"}}},
            "participants": {"o": {"@type": "Participant", "roles": {"owner": True},
                                   "calendarAddress": "mailto:o@example.com"},
                             "p": {"@type": "Participant", "roles": {"attendee": True},
                                   "calendarAddress": "mailto:p@example.com",
                                   "participationStatus": "accepted"}}}
    create = {
        "zoned": {**rich, "start": "2026-03-02T09:00:00", "timeZone": "America/New_York",
                  "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "weekly",
                                     "count": 5},
                  "recurrenceOverrides": {"2026-03-16T09:00:00": {"title": "Moved"},
                                          "2026-03-23T09:00:00": {"excluded": True}}},
        "floating": {**rich, "start": "2026-03-03T08:00:00", "hideAttendees": True,
                     "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "daily",
                                        "count": 3}},
        "single": {**rich, "start": "2026-03-05T10:00:00", "timeZone": "Europe/Berlin"},
        "bare": {"calendarIds": {cal: True}, "start": "2026-03-06T10:00:00",
                 "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "daily",
                                    "count": 2}},
    }
    out = s.call("CalendarEvent/set", {"accountId": acct, "create": create})[1]
    assert out["notCreated"] is None, out["notCreated"]
    ids = {k: v["id"] for k, v in out["created"].items()}
    yield s, acct, ids
    s.close()


def get(s, acct, ids, using=None, **args):
    name, out = s.call("CalendarEvent/get", {"accountId": acct, "ids": ids, **args},
                       using=using)
    assert name == "CalendarEvent/get", out
    assert not out["notFound"], out
    return {o["id"]: o for o in out["list"]}


def model(series, rid):
    """§5.5: the instance of series at rid, without an override."""
    inst = {k: v for k, v in series.items() if k not in SERIES}
    inst.update(start=rid, recurrenceId=rid, id=series["id"] + "_" + rid.replace("-", "")
                .replace(":", ""), baseEventId=series["id"])
    if isinstance(series.get("timeZone"), str):
        inst["recurrenceIdTimeZone"] = series["timeZone"]
    return inst


def test_instances_are_their_series_at_the_recurrence_id(env):
    s, acct, ids = env
    qids = query_ids(s, acct)
    series = get(s, acct, [ids["zoned"], ids["floating"], ids["bare"]])
    assert len(qids) == 4 + 3 + 1 + 2  # one week excluded
    got = get(s, acct, qids)
    plain = 0
    for i in qids:
        if "_" not in i:
            continue
        base = i.split("_")[0]
        rid = f"{i[-15:-11]}-{i[-11:-9]}-{i[-9:-7]}T{i[-6:-4]}:{i[-4:-2]}:{i[-2:]}"
        want = model(series[base], rid)
        if rid == "2026-03-16T09:00:00":
            want["title"] = "Moved"
        else:
            plain += 1
        assert got[i] == want, i
    assert plain == 3 + 3 + 2
    assert got[ids["single"]] == get(s, acct, [ids["single"]])[ids["single"]]
    assert got[ids["single"]]["title"] == TEXT
    # floating: no recurrenceIdTimeZone (§5.5); defaults the view adds (isDraft, version)
    f = [o for k, o in got.items() if k.startswith(ids["floating"] + "_")]
    assert f and all("recurrenceIdTimeZone" not in o and "timeZone" not in o for o in f)
    b = [o for k, o in got.items() if k.startswith(ids["bare"] + "_")]
    assert b and all(o["isDraft"] is False and o["version"] == "2.0" for o in b)


def test_the_same_as_every_property_asked_for(env):
    """properties naming every member goes the tree's way (event_view): the same objects."""
    s, acct, ids = env
    qids = query_ids(s, acct)
    whole = get(s, acct, qids)
    for i in qids:
        named = get(s, acct, [i], properties=sorted(whole[i]))[i]
        assert named == whole[i], i


def test_a_referenced_response_is_read_as_a_tree(env):
    """RFC 8620 §3.7: a later call reads the /get's list through a JSON Pointer."""
    s, acct, ids = env
    qids = query_ids(s, acct)
    inst = [i for i in qids if i.startswith(ids["zoned"] + "_")]
    resp = s.api([
        ["CalendarEvent/get", {"accountId": acct, "ids": inst}, "g"],
        ["CalendarEvent/get", {"accountId": acct, "#ids": {
            "resultOf": "g", "name": "CalendarEvent/get", "path": "/list/*/baseEventId"},
            "properties": ["title"]}, "b"],
    ])["methodResponses"]
    assert resp[0][0] == "CalendarEvent/get" and len(resp[0][1]["list"]) == len(inst)
    assert resp[1][0] == "CalendarEvent/get", resp[1]
    assert [o["id"] for o in resp[1][1]["list"]] == [ids["zoned"]]
    assert resp[1][1]["list"][0]["title"] == TEXT


def test_default_alerts_and_metadata_still_the_views(env):
    """§6.1: an event with useDefaultAlerts shows its calendar's alerts; with the
    metadata capability (draft-ietf-jmap-metadata-02 §3.1) the objects carry theirs."""
    s, acct, ids = env
    alert = {"@type": "Alert", "trigger": {"@type": "OffsetTrigger", "offset": "-PT30M"}}
    out = s.call("Calendar/set", {"accountId": acct, "create": {"d": {
        "name": "D", "defaultAlertsWithTime": {"k9": alert}}}})[1]
    cal = out["created"]["d"]["id"]
    out = s.call("CalendarEvent/set", {"accountId": acct, "create": {
        "w": {"calendarIds": {cal: True}, "title": "Defaults", "start": "2026-03-10T09:00:00",
              "timeZone": "Etc/UTC", "useDefaultAlerts": True,
              "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "daily",
                                 "count": 2}},
        "x": {"calendarIds": {cal: True}, "title": "Defaults too",
              "start": "2026-03-11T09:00:00", "timeZone": "Etc/UTC",
              "useDefaultAlerts": True}}})[1]
    w, x = out["created"]["w"]["id"], out["created"]["x"]["id"]
    qids = [i for i in query_ids(s, acct) if i.startswith(w) or i == x]
    assert len(qids) == 3
    for o in get(s, acct, qids).values():
        assert o["alerts"] == {"k9": alert}, o
    md = "urn:ietf:params:jmap:metadata"
    plain = get(s, acct, qids)
    with_md = get(s, acct, qids, using=[CORE, CAL, md])
    for i in qids:
        extra = set(with_md[i]) - set(plain[i])
        assert extra and all("etadata" in k for k in extra), (i, extra)
    s.call("CalendarEvent/set", {"accountId": acct, "destroy": [w, x]})


def test_a_write_shows_in_the_text(env):
    """The text belongs to one version of the event: after a write the new one's."""
    s, acct, ids = env
    qids = [i for i in query_ids(s, acct) if i.startswith(ids["bare"])]
    assert all("title" not in o for o in get(s, acct, qids).values())
    s.call("CalendarEvent/set", {"accountId": acct, "update": {ids["bare"]: {
        "title": "Now titled"}}})
    qids = [i for i in query_ids(s, acct) if i.startswith(ids["bare"])]
    assert [o["title"] for o in get(s, acct, qids).values()] == ["Now titled"] * 2
    s.call("CalendarEvent/set", {"accountId": acct, "update": {ids["single"]: {
        "title": "Single again"}}})
    assert get(s, acct, [ids["single"]])[ids["single"]]["title"] == "Single again"
    s.call("CalendarEvent/set", {"accountId": acct, "update": {
        ids["bare"]: {"title": None}, ids["single"]: {"title": TEXT}}})


def test_a_single_event_kept_as_text_then_read_as_a_tree(env):
    """Issue 21 §0: a /get of a single event keeps its whole view as text alone (not
    the parsed event); a later /get that needs the tree (properties §5.7,
    reduceParticipants §5.7, a sharee's or hidden attendees' view) reads it again
    and answers the same values."""
    s, acct, ids = env
    cal = next(iter(get(s, acct, [ids["single"]])[ids["single"]]["calendarIds"]))
    out = s.call("CalendarEvent/set", {"accountId": acct, "create": {
        "t": {"calendarIds": {cal: True}, "title": TEXT, "start": "2027-01-05T10:00:00",
              "timeZone": "Europe/Berlin", "duration": "PT1H",
              "participants": {"o": {"@type": "Participant", "roles": {"owner": True},
                                     "calendarAddress": "mailto:o@example.com"},
                               "p": {"@type": "Participant", "roles": {"attendee": True},
                                     "calendarAddress": "mailto:p@example.com"}}},
        "h": {"calendarIds": {cal: True}, "title": "Hidden", "start": "2027-01-06T10:00:00",
              "timeZone": "Etc/UTC", "hideAttendees": True}}})[1]
    t, h = out["created"]["t"]["id"], out["created"]["h"]["id"]
    for i in (t, h):
        whole = get(s, acct, [i])[i]
        assert get(s, acct, [i])[i] == whole  # the second from the kept text
        assert get(s, acct, [i], properties=sorted(whole))[i] == whole
        assert get(s, acct, [i], properties=["title"])[i] == {"id": i, "title": whole["title"]}
        assert get(s, acct, [i])[i] == whole
    reduced = get(s, acct, [t], reduceParticipants=True)[t]
    assert reduced["title"] == TEXT and set(reduced) == set(get(s, acct, [t])[t])
    s.call("CalendarEvent/set", {"accountId": acct, "destroy": [t, h]})
