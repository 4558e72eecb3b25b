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


def test_shared_calendars_count_by_the_principals_own_values_calendars27_s2_2_s4_s5_4(gs):
    """§2.2's relevant events from a calendar of another account shared with the
    principal: "The Principal is subscribed to the calendar", its "includeInAvailability"
    "for the Principal" (§4: per-user, "none" by default for a calendar shared with
    them) is "all" or "attending", the asking user has mayReadFreeBusy on it, and the
    event's freeBusyStatus is the principal's own (§5.4, per user). Frank shares "team"
    with alice (who reads it) and bob (free/busy); erin has no right on it."""
    a, f = gs.acct["alice"], gs.acct["frank"]
    _, res = gs.c("Calendar/set", {"accountId": f, "create": {"t": {
        "name": "team", "sortOrder": 3, "isVisible": False, "shareWith": {
            a: {"mayReadItems": True, "mayReadFreeBusy": True, "mayUpdatePrivate": True},
            gs.acct["bob"]: {"mayReadFreeBusy": True}}}}}, user="frank")
    team = res["created"]["t"]["id"]
    ev = {"calendarIds": {team: True}, "timeZone": "Etc/UTC", "duration": "PT1H"}
    _, res = gs.c("CalendarEvent/set", {"accountId": f, "create": {
        "x": {**ev, "title": "standup", "start": "2026-12-01T09:00:00"},
        "y": {**ev, "title": "review", "start": "2026-12-01T11:00:00"}}}, user="frank")
    review = res["created"]["y"]["id"]
    window = {"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"}

    def periods(user):
        res = avail(gs, user, a, **window)
        return [(p["utcStart"][11:16], p["utcEnd"][11:16]) for p in res["list"]]

    # §4: not inherited from the owner: "none" until alice includes it
    _, got = gs.c("Calendar/get", {"accountId": f, "ids": [team]}, user="alice")
    assert got["list"][0]["includeInAvailability"] == "none", got
    assert (got["list"][0]["sortOrder"], got["list"][0]["isVisible"]) == (0, True), got
    assert periods("bob") == [] and periods("alice") == []
    _, res = gs.c("Calendar/set", {"accountId": f, "update": {
        team: {"includeInAvailability": "all"}}}, user="alice")
    assert team in (res.get("updated") or {}), res
    _, got = gs.c("Calendar/get", {"accountId": f, "ids": [team]}, user="frank")
    assert got["list"][0]["includeInAvailability"] == "all"  # frank's own, unchanged
    both = [("09:00", "10:00"), ("11:00", "12:00")]
    assert periods("bob") == both and periods("alice") == both
    assert periods("erin") == []  # no mayReadFreeBusy on frank's calendar
    # details for a user who reads the calendar, in frank's account
    res = avail(gs, "alice", a, showDetails=True, eventProperties=["title"], **window)
    assert {(p["event"]["title"], p["accountId"]) for p in res["list"]} == {
        ("standup", f), ("review", f)}, res
    res = avail(gs, "bob", a, showDetails=True, **window)
    assert all(p["event"] is None and p["accountId"] is None for p in res["list"]), res
    # §5.4: alice's own freeBusyStatus of the review; frank's stays busy
    _, res = gs.c("CalendarEvent/set", {"accountId": f, "update": {
        review: {"freeBusyStatus": "free"}}}, user="alice")
    assert review in (res.get("updated") or {}), res
    assert periods("bob") == [("09:00", "10:00")]
    own = avail(gs, "frank", f, **window)["list"]
    assert [(p["utcStart"][11:16], p["utcEnd"][11:16]) for p in own] == both
    # frank's own "free" is not alice's
    _, res = gs.c("CalendarEvent/set", {"accountId": f, "update": {
        review: {"freeBusyStatus": "busy"}}}, user="alice")
    _, res = gs.c("CalendarEvent/set", {"accountId": f, "update": {
        review: {"freeBusyStatus": "free"}}}, user="frank")
    assert review in (res.get("updated") or {}), res
    assert periods("bob") == both
    # unsubscribed, or the share revoked: it counts no more
    gs.c("Calendar/set", {"accountId": f, "update": {team: {"isSubscribed": False}}},
         user="alice")
    assert periods("bob") == []
    gs.c("Calendar/set", {"accountId": f, "update": {team: {"isSubscribed": True}}},
         user="alice")
    assert periods("bob") == both
    _, res = gs.c("Calendar/set", {"accountId": f, "update": {team: {"shareWith": {
        gs.acct["bob"]: {"mayReadFreeBusy": True}}}}}, user="frank")
    assert team in (res.get("updated") or {}), res
    assert periods("bob") == []
