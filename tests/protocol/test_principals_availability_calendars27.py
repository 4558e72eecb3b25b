"""Principal/getAvailability (draft-ietf-jmap-calendars-27 §1.5.2, §2.2), issue 14
point 4: busy periods over a window from the calendars that count, with
mayReadFreeBusy, recurring events expanded, periods merged."""
import pytest

from conftest import CORE, CAL
from groupware_util import PRINCIPALS, GroupServer

AVAIL = "urn:ietf:params:jmap:principals:availability"
USING = [CORE, CAL, PRINCIPALS, AVAIL]


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    s.acct = {u: s.own(u) for u in ("alice", "bob", "erin", "frank")}
    a = s.acct["alice"]
    _, res = s.c("Calendar/set", {"accountId": a, "create": {
        "work": {"name": "work", "shareWith": {s.acct["bob"]: {"mayReadFreeBusy": True},
                                               s.acct["erin"]: {"mayReadFreeBusy": True,
                                                                "mayReadItems": True}}},
        "private": {"name": "private"},
        "ignored": {"name": "ignored", "includeInAvailability": "none",
                    "shareWith": {s.acct["bob"]: {"mayReadFreeBusy": True}}}}})
    s.cal = {k: v["id"] for k, v in res["created"].items()}

    def ev(cal, title, start, dur="PT1H", **extra):
        e = {"calendarIds": {s.cal[cal]: True}, "title": title, "start": start,
             "duration": dur, "timeZone": "Etc/UTC"}
        e.update(extra)
        return e

    _, res = s.c("CalendarEvent/set", {"accountId": a, "create": {
        "m1": ev("work", "meeting", "2026-10-05T09:00:00"),
        "m2": ev("work", "overlap", "2026-10-05T09:30:00", status="tentative"),
        "m3": ev("work", "weekly", "2026-10-05T14:00:00",
                 recurrenceRules=[{"@type": "RecurrenceRule", "frequency": "daily",
                                   "count": 3}]),
        "free": ev("work", "free time", "2026-10-05T16:00:00", freeBusyStatus="free"),
        "sec": ev("work", "secret", "2026-10-05T18:00:00", privacy="secret"),
        "gone": ev("work", "cancelled", "2026-10-05T19:00:00", status="cancelled"),
        "p": ev("private", "dentist", "2026-10-05T11:00:00"),
        "i": ev("ignored", "ignored", "2026-10-05T12:00:00")}})
    assert len(res["created"]) == 8, res
    yield s
    s.close()


def avail(gs, user, pid, start="2026-10-05T00:00:00Z", end="2026-10-08T00:00:00Z", **kw):
    _, res = gs.call("Principal/getAvailability", dict({
        "accountId": gs.acct[user], "id": pid, "utcStart": start, "utcEnd": end}, **kw),
        user=user, using=USING)
    return res


def test_capability_calendars27_s1_5_2(gs):
    s = gs.session("bob")
    assert s["capabilities"][AVAIL] == {}
    caps = s["accounts"][gs.acct["bob"]]["accountCapabilities"]
    assert caps[AVAIL]["maxAvailabilityDuration"] == "P400D"
    _, res = gs.c("Principal/get", {"accountId": gs.acct["bob"], "ids": [gs.acct["alice"]]},
                  user="bob")
    assert res["list"][0]["capabilities"][CAL]["mayGetAvailability"] is True


def test_busy_periods_merged_and_expanded_calendars27_s2_2(gs):
    res = avail(gs, "bob", gs.acct["alice"])
    got = [(p["utcStart"], p["utcEnd"], p["busyStatus"]) for p in res["list"]]
    # 09:00-10:00 unavailable over 09:30-10:30 tentative: unavailable wins where they overlap
    assert got == [
        ("2026-10-05T09:00:00Z", "2026-10-05T10:00:00Z", "unavailable"),
        ("2026-10-05T10:00:00Z", "2026-10-05T10:30:00Z", "tentative"),
        ("2026-10-05T14:00:00Z", "2026-10-05T15:00:00Z", "unavailable"),
        ("2026-10-06T14:00:00Z", "2026-10-06T15:00:00Z", "unavailable"),
        ("2026-10-07T14:00:00Z", "2026-10-07T15:00:00Z", "unavailable"),
    ], got  # not: the private calendar, the ignored one, free, secret, cancelled
    assert all(p["event"] is None for p in res["list"])


def test_show_details_needs_read_items_calendars27_s2_2(gs):
    res = avail(gs, "erin", gs.acct["alice"], end="2026-10-06T00:00:00Z", showDetails=True,
                eventProperties=["title"])
    titled = [p for p in res["list"] if p.get("event")]
    assert {p["event"]["title"] for p in titled} == {"meeting", "overlap", "weekly"}
    assert all(set(p["event"]) <= {"id", "title"} for p in titled)
    assert all(p["accountId"] == gs.acct["alice"] for p in titled)
    res = avail(gs, "bob", gs.acct["alice"], end="2026-10-06T00:00:00Z", showDetails=True)
    assert all(p["event"] is None for p in res["list"])  # bob may not read items


def test_errors_calendars27_s2_2(gs):
    res = avail(gs, "frank", gs.acct["alice"])
    assert res["type"] == "forbidden"
    res = avail(gs, "bob", "nobody")
    assert res["type"] == "notFound"
    res = avail(gs, "bob", gs.acct["alice"], end="2027-12-01T00:00:00Z")
    assert res["type"] == "tooLarge"
    res = avail(gs, "bob", gs.acct["alice"], start="2026-10-08T00:00:00Z",
                end="2026-10-05T00:00:00Z")
    assert res["type"] == "invalidArguments"
    # the owner sees her own private calendar too
    own = avail(gs, "alice", gs.acct["alice"], end="2026-10-06T00:00:00Z")
    assert ("2026-10-05T11:00:00Z", "2026-10-05T12:00:00Z") in [
        (p["utcStart"], p["utcEnd"]) for p in own["list"]]


def test_overrides_count_per_occurrence_calendars27_s2_2(gs):
    """§2.2 "expanding any recurring events", with jscalendarbis recurrenceOverrides (the
    per-occurrence changes of §5.4): an occurrence made free is not busy, a moved one is
    busy at its new time with its own status, and a free series' occurrence made busy
    counts alone."""
    a = gs.acct["alice"]
    daily = [{"@type": "RecurrenceRule", "frequency": "daily", "count": 3}]
    _, res = gs.c("CalendarEvent/set", {"accountId": a, "create": {
        "s": {"calendarIds": {gs.cal["work"]: True}, "title": "daily", "timeZone": "Etc/UTC",
              "start": "2026-11-02T10:00:00", "duration": "PT1H", "recurrenceRules": daily,
              "recurrenceOverrides": {
                  "2026-11-03T10:00:00": {"freeBusyStatus": "free"},
                  "2026-11-04T10:00:00": {"start": "2026-11-04T13:00:00",
                                          "status": "tentative"}}},
        "f": {"calendarIds": {gs.cal["work"]: True}, "title": "mostly free",
              "timeZone": "Etc/UTC", "start": "2026-11-02T15:00:00", "duration": "PT1H",
              "freeBusyStatus": "free", "recurrenceRules": daily,
              "recurrenceOverrides": {"2026-11-03T15:00:00": {"freeBusyStatus": "busy"}}}}})
    assert len(res["created"]) == 2, res
    res = avail(gs, "bob", a, start="2026-11-02T00:00:00Z", end="2026-11-05T00:00:00Z")
    got = [(p["utcStart"], p["utcEnd"], p["busyStatus"]) for p in res["list"]]
    assert got == [
        ("2026-11-02T10:00:00Z", "2026-11-02T11:00:00Z", "unavailable"),
        ("2026-11-03T15:00:00Z", "2026-11-03T16:00:00Z", "unavailable"),
        ("2026-11-04T13:00:00Z", "2026-11-04T14:00:00Z", "tentative"),
    ], got
    res = avail(gs, "erin", a, start="2026-11-04T00:00:00Z", end="2026-11-05T00:00:00Z",
                showDetails=True, eventProperties=["title", "start", "status"])
    (p,) = res["list"]
    assert p["busyStatus"] == "tentative" and p["event"]["start"] == "2026-11-04T13:00:00", p
