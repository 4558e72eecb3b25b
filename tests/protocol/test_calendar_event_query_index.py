"""Issue 21: an unfiltered CalendarEvent/query sorted by start (draft-ietf-jmap-calendars-27
§5.11, RFC 8620 §5.5 position, limit, calculateTotal) reads its page from the store's
index once an account has 1,000 events or more. Its answers must be those of the
general path, which a filter that matches everything (an AND of no conditions) still
takes: every position and limit, both directions, ties in id order, floating events
(whose start depends on the timeZone argument) placed among the others, and after
updates and destroys."""
import random

import pytest

from conftest import Server

N = 1200


@pytest.fixture(scope="module")
def big():
    s = Server()
    acct = s.account()
    cal = s.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "Big"}}})[1]
    cal = cal["created"]["c"]["id"]
    rnd = random.Random(21)
    zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Etc/UTC", None]
    ids = []
    for batch in range(0, N, 100):
        create = {}
        for i in range(batch, batch + 100):
            # few distinct starts, so many ties; every fifth event floating
            ev = {"calendarIds": {cal: True}, "title": f"e{i}",
                  "start": f"2025-0{rnd.randint(1, 3)}-1{rnd.randint(0, 3)}T{rnd.choice(['09', '10'])}:00:00",
                  "duration": "PT1H"}
            zone = zones[i % 5]
            if zone:
                ev["timeZone"] = zone
            if i % 7 == 0:
                ev["recurrenceRule"] = {"@type": "RecurrenceRule", "frequency": "weekly",
                                        "count": 3}
            create[f"k{i}"] = ev
        out = s.call("CalendarEvent/set", {"accountId": acct, "create": create})[1]
        assert out["notCreated"] is None, out["notCreated"]
        ids += [v["id"] for v in out["created"].values()]
    yield s, acct, ids
    s.close()


def page(s, acct, everything, **args):
    """(ids, total) of the query; with everything, through the general path."""
    if everything:
        args["filter"] = {"operator": "AND", "conditions": []}
    name, out = s.call("CalendarEvent/query", {"accountId": acct, "calculateTotal": True, **args})
    assert name == "CalendarEvent/query", out
    return out["ids"], out["total"], out["position"]


CASES = [dict(), dict(limit=50), dict(position=37, limit=1), dict(position=600, limit=100),
         dict(position=1150, limit=100), dict(position=-5), dict(position=-5000, limit=10),
         dict(position=5000, limit=10)]


@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("tz", [None, "Asia/Tokyo", "America/Los_Angeles"])
def test_index_page_equals_general_path(big, desc, tz):
    s, acct, _ = big
    for case in CASES:
        args = dict(case, sort=[{"property": "start", "isAscending": not desc}])
        if tz:
            args["timeZone"] = tz
        assert page(s, acct, False, **args) == page(s, acct, True, **args), case


def test_default_sort_and_empty_sort(big):
    s, acct, _ = big
    want = page(s, acct, True, limit=300)
    assert page(s, acct, False, limit=300) == want
    assert page(s, acct, False, limit=300, sort=[]) == want
    assert want[1] == N


def test_after_update_and_destroy(big):
    s, acct, ids = big
    # move one event, make one floating, give one a zone, destroy two
    out = s.call("CalendarEvent/set", {"accountId": acct, "update": {
        ids[1]: {"start": "2024-12-31T23:00:00"},
        ids[2]: {"timeZone": None},
        ids[4]: {"timeZone": "Europe/Paris"}}, "destroy": [ids[3], ids[5]]})[1]
    assert out["notUpdated"] is None and out["notDestroyed"] is None, out
    for tz in (None, "Pacific/Auckland"):
        for desc in (False, True):
            args = dict(sort=[{"property": "start", "isAscending": not desc}], limit=80)
            if tz:
                args["timeZone"] = tz
            got = page(s, acct, False, **args)
            assert got == page(s, acct, True, **args)
            assert got[1] == N - 2
            assert ids[3] not in got[0] and ids[5] not in got[0]
    first = page(s, acct, False, limit=1)[0]
    assert first == [ids[1]]  # the event moved to the front


def test_anchor_and_bad_zone_still_answered(big):
    s, acct, ids = big
    every = page(s, acct, True)[0]
    name, out = s.call("CalendarEvent/query", {"accountId": acct, "anchor": every[10],
                                               "anchorOffset": -2, "limit": 3})
    assert out["ids"] == every[8:11]
    name, out = s.call("CalendarEvent/query", {"accountId": acct, "timeZone": "Mars/Olympus"})
    assert name == "error" and out["type"] == "invalidArguments"
