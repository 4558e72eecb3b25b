"""Issue 21: an unfiltered CalendarEvent/query sorted by start (draft-ietf-jmap-calendars-27
§5.11, RFC 8620 §5.5 position, limit, calculateTotal) reads its page from the store's
index once an account has 1,000 events or more. Its answers must be those of the
general path, which a filter that matches everything (an AND of no conditions) still
takes: every position and limit, both directions, ties in id order, floating events
(whose start depends on the timeZone argument) placed among the others, and after
updates and destroys. A text query sorted by start without calculateTotal stops at
its page; it too must answer as the general path (an AND of the one condition)."""
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
            word = "walnut" if i % 5 < 2 else "walnuts" if i % 5 == 2 else "cedar"
            ev = {"calendarIds": {cal: True}, "title": f"e{i} {word} tree",
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


def test_deep_pages_from_checkpoints_equal_general_path(big):
    """Issue 21 §0: a deep page reads from a checkpoint of the index below its position
    (learned by the pages before it, per state and direction) instead of stepping over
    every row before it: every position, each side of the checkpoints' stride, deeper and
    shallower than any page before, and again after a write (a new state)."""
    s, acct, ids = big
    positions = list(range(0, N + 40, 37)) + [255, 256, 257, 511, 512, 513, 767, 768, 769]
    for rnd in range(2):
        for desc in (False, True):
            order = random.Random(rnd).sample(positions, len(positions))
            for p in order:
                args = dict(sort=[{"property": "start", "isAscending": not desc}], position=p,
                            limit=40)
                assert page(s, acct, False, **args) == page(s, acct, True, **args), (desc, p)
        # a write between the rounds: the positions move, the checkpoints start again
        out = s.call("CalendarEvent/set", {"accountId": acct, "update": {
            ids[10]: {"start": f"2025-12-0{rnd + 1}T08:00:00"}}})[1]
        assert out["notUpdated"] is None, out


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


TEXTS = [{"text": "walnut"}, {"title": "walnut tree"}, {"text": '"walnut tree"'},
         {"title": "WALNUTS"}, {"text": "e1"}, {"description": "walnut"}]


@pytest.mark.parametrize("desc", [False, True])
def test_text_page_equals_general_path(big, desc):
    s, acct, _ = big
    for cond in TEXTS:
        for case in (dict(limit=50), dict(position=100, limit=30), dict(position=2000, limit=5),
                     dict()):
            for tz in (None, "Asia/Tokyo"):
                args = dict(case, sort=[{"property": "start", "isAscending": not desc}])
                if tz:
                    args["timeZone"] = tz
                name, fast = s.call("CalendarEvent/query",
                                    {"accountId": acct, "filter": cond, **args})
                name, general = s.call("CalendarEvent/query", {
                    "accountId": acct, "filter": {"operator": "AND", "conditions": [cond]},
                    **args})
                assert fast["ids"] == general["ids"], (cond, case, tz)
                assert fast["position"] == general["position"]


def test_instance_get_follows_the_stored_series(fresh_server):
    """Issue 21 §2: /get of an expanded query's instances builds them from the cached
    parsed series (draft-ietf-jmap-calendars-27 §5.11 instance ids). The cache must never
    answer for an older version of the series: after an update the instances show it,
    an excluded one is gone, an id the rule does not generate is not found, and a
    floating series expanded in another zone still answers."""
    s = fresh_server
    acct = s.account()
    cal = s.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "C"}}})[1]
    cal = cal["created"]["c"]["id"]
    rule = {"@type": "RecurrenceRule", "frequency": "daily", "count": 10}
    out = s.call("CalendarEvent/set", {"accountId": acct, "create": {
        "z": {"calendarIds": {cal: True}, "title": "zoned", "start": "2025-05-01T09:00:00",
              "timeZone": "Europe/Berlin", "duration": "PT1H", "recurrenceRule": rule},
        "f": {"calendarIds": {cal: True}, "title": "floating", "start": "2025-05-01T07:00:00",
              "duration": "PT1H", "recurrenceRule": rule}}})[1]
    z, f = out["created"]["z"]["id"], out["created"]["f"]["id"]

    def month(tz=None):
        args = {"accountId": acct, "expandRecurrences": True,
                "filter": {"after": "2025-05-01T00:00:00", "before": "2025-06-01T00:00:00"}}
        if tz:
            args["timeZone"] = tz
        return s.call("CalendarEvent/query", args)[1]["ids"]

    def get(ids, props=("title", "start", "recurrenceId", "baseEventId")):
        out = s.call("CalendarEvent/get", {"accountId": acct, "ids": ids,
                                           "properties": list(props)})[1]
        return {e["id"]: e for e in out["list"]}, out["notFound"]

    ids = month("Pacific/Auckland")
    assert len(ids) == 20
    got, missing = get(ids)
    assert not missing and {e["baseEventId"] for e in got.values()} == {z, f}
    third = [i for i in ids
             if got[i]["baseEventId"] == z and got[i]["start"].startswith("2025-05-03")]
    assert len(third) == 1
    # update the series and exclude its third day: the same instance ids answer anew
    s.call("CalendarEvent/set", {"accountId": acct, "update": {z: {
        "title": "renamed", "recurrenceOverrides": {"2025-05-03T09:00:00": {"excluded": True}}}}})
    got2, missing2 = get(ids)
    assert missing2 == third
    assert {e["title"] for e in got2.values() if e["baseEventId"] == z} == {"renamed"}
    # a day the rule does not generate, of an existing series
    bad = third[0].replace("20250503T", "20250520T")  # the id is base_YYYYMMDDTHHMMSS
    assert bad != third[0] and get([bad])[1] == [bad]
    # the floating series, expanded in another zone first, still answers
    ids_f = [i for i in month() if i not in got2 or got2[i]["baseEventId"] == f]
    got3, missing3 = get(ids_f)
    assert not missing3 and {e["title"] for e in got3.values()} == {"floating"}


def test_expanded_window_from_spans_equals_general_path(big):
    """Issue 21: once a single event in a time zone has been expanded, an expanded query
    filtered by its window alone answers it from its cached span (no object). The ids,
    in order, must be those of the same query with one more condition that matches
    every event (inCalendar of the account's only calendar), which loads each."""
    s, acct, _ = big
    cal = s.call("Calendar/get", {"accountId": acct})[1]["list"]
    cal = [c["id"] for c in cal if c["name"] == "Big"][0]
    for after, before in (("2025-01-01T00:00:00", "2025-02-01T00:00:00"),
                          ("2025-02-10T00:00:00", "2025-02-12T09:00:00"),
                          ("2025-03-13T10:00:00", "2025-04-01T00:00:00")):
        for tz in (None, "Asia/Tokyo"):
            for desc in (False, True):
                args = {"accountId": acct, "expandRecurrences": True,
                        "sort": [{"property": "start", "isAscending": not desc}]}
                if tz:
                    args["timeZone"] = tz
                window = {"after": after, "before": before}
                first = s.call("CalendarEvent/query", dict(args, filter=window))[1]["ids"]
                again = s.call("CalendarEvent/query", dict(args, filter=window))[1]["ids"]
                general = s.call("CalendarEvent/query",
                                 dict(args, filter=dict(window, inCalendar=cal)))[1]["ids"]
                assert first == general and again == general, (after, tz, desc)
                assert general


def test_index_exact_span_follows_updates():
    """Issue 21: a single event in a time zone is answered from its index row (its
    range is its one occurrence) by an expanded query filtered by its window alone.
    When an update makes it recurring, floating or longer, or moves it, the row must
    follow: the window query answers as the general path (one more condition that
    matches every event: inCalendar) after each change, at the window's edges too
    (draft-ietf-jmap-calendars-27 §5.11 expandRecurrences; jscalendarbis §4.3.3)."""
    s = Server()
    try:
        acct = s.account()
        cal = s.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "X"}}})[1]
        cal = cal["created"]["c"]["id"]
        create = {f"k{i}": {"calendarIds": {cal: True}, "title": f"e{i}",
                            "start": f"2025-03-{10 + i % 10:02d}T09:00:00",
                            "timeZone": "Europe/Berlin", "duration": "PT1H"}
                  for i in range(20)}
        create["zero"] = {"calendarIds": {cal: True}, "title": "zero", "timeZone": "Etc/UTC",
                          "start": "2025-03-01T00:00:00", "duration": "PT0S"}
        out = s.call("CalendarEvent/set", {"accountId": acct, "create": create})[1]
        ids = {k: v["id"] for k, v in out["created"].items()}
        windows = [("2025-03-01T00:00:00", "2025-04-01T00:00:00"),
                   ("2025-03-12T08:00:00", "2025-03-12T09:00:00"),
                   ("2025-03-12T09:00:00", "2025-03-20T00:00:00"),
                   ("2025-04-01T00:00:00", "2025-05-01T00:00:00")]

        def check(step):
            for after, before in windows:
                for tz in ("Etc/UTC", "Asia/Tokyo"):
                    args = {"accountId": acct, "expandRecurrences": True, "timeZone": tz,
                            "sort": [{"property": "start"}]}
                    w = {"after": after, "before": before}
                    fast = s.call("CalendarEvent/query", dict(args, filter=w))[1]["ids"]
                    general = s.call("CalendarEvent/query",
                                     dict(args, filter=dict(w, inCalendar=cal)))[1]["ids"]
                    assert fast == general, (step, after, before, tz)

        check("created")
        updates = {
            ids["k2"]: {"recurrenceRule": {"@type": "RecurrenceRule", "frequency": "weekly",
                                           "count": 4}},
            ids["k3"]: {"timeZone": None},
            ids["k4"]: {"duration": "P20D"},
            ids["k5"]: {"start": "2025-04-02T09:00:00"},
        }
        out = s.call("CalendarEvent/set", {"accountId": acct, "update": updates})[1]
        assert out["notUpdated"] is None, out
        check("updated")
        back = {ids["k2"]: {"recurrenceRule": None}, ids["k3"]: {"timeZone": "America/New_York"}}
        out = s.call("CalendarEvent/set", {"accountId": acct, "update": back,
                                           "destroy": [ids["k6"]]})[1]
        assert out["notUpdated"] is None and out["notDestroyed"] is None, out
        check("reverted")
    finally:
        s.close()
