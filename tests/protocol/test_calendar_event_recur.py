"""Recurrences that must stay cheap and consistent: issue 19 §1 (a rule that never
matches is answered within the bounds, by /set, /query and /get), issue 12 §2.1
(nominal days of a Duration are local days, RFC 8984 §1.4.6 and jscalendarbis-17
§1.4.6) and issue 12 §2.2 (every id an expanded /query returns for an RDATE-style
event can be read and changed, draft-ietf-jmap-calendars-27 §5.11)."""
import time

import pytest

from conftest import Server


@pytest.fixture(scope="module")
def env():
    s = Server()
    acct = s.account()
    out = s.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "Recur"}}})[1]
    yield s, acct, out["created"]["c"]["id"]
    s.stop()
    s.close()


def create(env, ev):
    s, acct, cal = env
    ev = dict(ev, calendarIds={cal: True})
    out = s.call("CalendarEvent/set", {"accountId": acct, "create": {"e": ev}})[1]
    assert out.get("created"), out.get("notCreated")
    return out["created"]["e"]["id"]


def query(env, after, before, expand=True, tz=None):
    s, acct, _ = env
    args = {"accountId": acct, "expandRecurrences": expand,
            "filter": {"after": after, "before": before}}
    if tz:
        args["timeZone"] = tz
    return s.call("CalendarEvent/query", args)


def test_never_matching_rule_is_bounded_issue19_1(env):
    """RFC 5545 §3.3.10: BYMONTHDAY=30 with BYMONTH=2 selects no day; jscalendarbis
    §4.3.3.1: the start is still the first occurrence. Issue 19 §1: CalendarEvent/set took
    563 s with this rule and /query on the account hung."""
    s, acct, _ = env
    rule = {"@type": "RecurrenceRule", "frequency": "minutely", "byMonth": ["2"],
            "byMonthDay": [30]}
    t = time.monotonic()
    eid = create(env, {"title": "never", "start": "2024-01-01T10:00:00",
                       "timeZone": "Europe/Berlin", "duration": "PT1M", "recurrenceRule": rule})
    counted = create(env, {"title": "never, counted", "start": "2024-01-01T11:00:00",
                           "timeZone": "Europe/Berlin", "duration": "PT1M",
                           "recurrenceRule": dict(rule, count=5, interval=1)})
    name, out = query(env, "2024-01-01T00:00:00", "2025-01-01T00:00:00")
    assert name == "CalendarEvent/query", out
    got = s.call("CalendarEvent/get", {"accountId": acct, "ids": out["ids"],
                                       "properties": ["start", "baseEventId"]})[1]
    starts = sorted((e["baseEventId"], e["start"]) for e in got["list"])
    assert starts == sorted([(eid, "2024-01-01T10:00:00"), (counted, "2024-01-01T11:00:00")])
    # no occurrence in a later window, and the plain filter agrees
    name, out = query(env, "2030-01-01T00:00:00", "2031-01-01T00:00:00")
    assert name == "CalendarEvent/query" and out["ids"] == []
    name, out = query(env, "2030-01-01T00:00:00", "2031-01-01T00:00:00", expand=False)
    assert name == "CalendarEvent/query" and eid not in out["ids"]
    assert time.monotonic() - t < 5


def test_rdate_style_instances_can_be_read_and_set_issue12_2_2(env):
    """draft-ietf-jmap-calendars-27 §5.11: each id of an expanded query resolves for
    /get and /set, for an event with recurrenceOverrides and no recurrenceRule: its start
    (jscalendarbis §4.3.3.1 rule 1) and each added date."""
    s, acct, _ = env
    eid = create(env, {"title": "rdates", "start": "2026-03-02T09:00:00",
                       "timeZone": "Europe/Berlin", "duration": "PT1H",
                       "recurrenceOverrides": {"2026-03-09T09:00:00": {},
                                               "2026-03-16T09:00:00": {"title": "third"}}})
    name, out = query(env, "2026-03-01T00:00:00", "2026-04-01T00:00:00")
    assert name == "CalendarEvent/query"
    ids = out["ids"]
    assert len(ids) == 3
    got = s.call("CalendarEvent/get", {"accountId": acct, "ids": ids,
                                       "properties": ["start", "title", "recurrenceId"]})[1]
    assert got["notFound"] == []
    assert sorted(e["start"] for e in got["list"]) == [
        "2026-03-02T09:00:00", "2026-03-09T09:00:00", "2026-03-16T09:00:00"]
    out = s.call("CalendarEvent/set", {"accountId": acct, "update": {
        i: {"title": f"changed {n}"} for n, i in enumerate(ids)}})[1]
    assert out.get("notUpdated") in (None, {}), out.get("notUpdated")
    assert sorted(out["updated"]) == sorted(ids)
    got = s.call("CalendarEvent/get", {"accountId": acct, "ids": ids,
                                       "properties": ["title"]})[1]
    assert sorted(e["title"] for e in got["list"]) == ["changed 0", "changed 1", "changed 2"]
    base = s.call("CalendarEvent/get", {"accountId": acct, "ids": [eid]})[1]["list"][0]
    assert base["title"] == "rdates"
    assert "2026-03-02T09:00:00" in base["recurrenceOverrides"]


@pytest.mark.parametrize("dur, end", [("P1D", "2024-03-31T10:00:00Z"),
                                      ("P1W", "2024-04-06T10:00:00Z"),
                                      ("P1DT1H", "2024-03-31T11:00:00Z")])
def test_nominal_days_are_local_days_issue12_2_1(env, dur, end):
    """RFC 8984 §1.4.6: days and weeks of a Duration are nominal, added on the wall clock
    of the event's zone: 2024-03-30T12:00 Europe/Berlin (UTC+1) plus P1D is 2024-03-31T12:00
    (UTC+2), 10:00Z, a 23-hour day. utcEnd, the after/before filter and the expansion
    agree."""
    s, acct, _ = env
    eid = create(env, {"title": "nominal " + dur, "start": "2024-03-30T12:00:00",
                       "timeZone": "Europe/Berlin", "duration": dur})
    got = s.call("CalendarEvent/get", {"accountId": acct, "ids": [eid],
                                       "properties": ["utcStart", "utcEnd"]})[1]["list"][0]
    assert got["utcStart"] == "2024-03-30T11:00:00Z"
    assert got["utcEnd"] == end
    # after: the event must end after the moment (jmap-calendars §5.11.1)
    just_before = end[:11] + "%02d:59:00" % (int(end[11:13]) - 1)
    for expand in (False, True):
        out = query(env, just_before, "2024-05-01T00:00:00", expand=expand, tz="Etc/UTC")[1]
        assert eid in out["ids"] or any(i.startswith(eid) for i in out["ids"]) or expand
        out = query(env, end[:19], "2024-05-01T00:00:00", expand=expand, tz="Etc/UTC")[1]
        assert eid not in out["ids"]
    # a weekly series: each occurrence is as long as the first on the wall clock
    sid = create(env, {"title": "weekly " + dur, "start": "2024-03-23T12:00:00",
                       "timeZone": "Europe/Berlin", "duration": dur,
                       "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "weekly",
                                          "count": 2}})
    out = query(env, "2024-03-30T00:00:00", "2024-03-31T00:00:00", tz="Etc/UTC")[1]
    inst = [i for i in out["ids"] if i != eid and i != sid]
    got = s.call("CalendarEvent/get", {"accountId": acct, "ids": inst,
                                       "properties": ["utcStart", "utcEnd", "baseEventId"]})[1]["list"]
    assert [g["utcEnd"] for g in got if g.get("baseEventId") == sid and
            g["utcStart"] == "2024-03-30T11:00:00Z"] == [end]


def test_too_expensive_series_is_refused_with_reason_issue19_1(env):
    """Issue 19 §1: a series that cannot be expanded within the limits every query uses
    (here a million instances) is refused by /set as invalidProperties naming
    recurrenceRule, with a description, within the bounds, and nothing is stored."""
    s, acct, cal = env
    t = time.monotonic()
    out = s.call("CalendarEvent/set", {"accountId": acct, "create": {"x": {
        "calendarIds": {cal: True}, "title": "too many", "start": "2024-01-01T00:00:00",
        "timeZone": "Etc/UTC", "recurrenceRule": {"@type": "RecurrenceRule",
                                                  "frequency": "secondly",
                                                  "count": 1000000}}}})[1]
    assert time.monotonic() - t < 5
    err = out["notCreated"]["x"]
    assert err["type"] == "invalidProperties" and err["properties"] == ["recurrenceRule"]
    assert "limit" in err.get("description", "")
    got = s.call("CalendarEvent/query", {"accountId": acct,
                                         "filter": {"title": "too many"}})[1]
    assert got["ids"] == []
