"""A sharee's CalendarEvent/get of many events (issue 14's bound: within 20% of the
owner's): what is the same for every event of the call — the sharee has no per-user
value in the account (draft-ietf-jmap-calendars-27 §5.4) and no event has a record of
the shared `updated` — is asked once per call, and what depends on the event alone
(public, §5.7; no per-user value of the owner in it or its overrides, §5.4) once per
version of the event. A guard: the views are the ones each event needs, in one call,
before and after the sharee's first value of their own and after the owner's changes."""
from groupware_util import GroupServer
from test_sharing_calendars27 import rights

WEEKLY = {"recurrenceRules": [{"@type": "RecurrenceRule", "frequency": "weekly",
                               "count": 3}]}
PRIVATE = {"@type", "created", "due", "duration", "estimatedDuration", "freeBusyStatus",
           "privacy", "recurrenceId", "recurrenceIdTimeZone", "recurrenceOverrides",
           "recurrenceRule", "recurrenceRules", "excludedRecurrenceRules", "sequence",
           "showWithoutTime", "start", "timeZone", "uid", "updated", "id", "baseEventId",
           "calendarIds", "isDraft", "isOrigin", "utcStart", "utcEnd",
           "version"}  # (event_view adds it after)


def same(got, want):
    """got == want, naming the first event and members that differ"""
    assert set(got) == set(want)
    for i in got:
        if got[i] != want[i]:
            diff = {k: (got[i].get(k), want[i].get(k)) for k in set(got[i]) | set(want[i])
                    if got[i].get(k) != want[i].get(k)}
            assert got[i] == want[i], (i, diff)


def test_sharee_get_of_many_events_calendars27_s4_s5_4_s5_7():
    s = GroupServer()
    try:
        a, bob = s.own("alice"), s.own("bob")
        _, res = s.c("Calendar/set", {"accountId": a, "create": {
            "c": {"name": "shared", "shareWith": {bob: rights("mayReadItems",
                                                              "mayUpdatePrivate")}},
            "h": {"name": "hidden"}}})
        c, h = res["created"]["c"]["id"], res["created"]["h"]["id"]
        events = {f"plain{i}": {"title": f"plain {i}", **(WEEKLY if i % 2 else {})}
                  for i in range(6)}
        events.update({
            "both": {"title": "both", "calendarIds": {c: True, h: True}},
            "private": {"title": "private", "privacy": "private", "description": "d"},
            "owners": {"title": "owner's", "color": "red", "keywords": {"k": True}},
            "occ": {"title": "owner's occurrence", **WEEKLY, "recurrenceOverrides": {
                "2026-03-08T10:00:00": {"keywords": {"k": True}}}},
            "later": {"title": "made private later", **WEEKLY}})
        create = {k: {"calendarIds": {c: True}, "start": "2026-03-01T10:00:00",
                      "duration": "PT1H", "timeZone": "Europe/Paris", **v}
                  for k, v in events.items()}
        _, res = s.c("CalendarEvent/set", {"accountId": a, "create": create})
        ids = {k: v["id"] for k, v in res["created"].items()}
        assert len(ids) == len(events), res
        occ_rid = ids["occ"] + "_20260308T100000"
        _, res = s.c("CalendarEvent/query", {
            "accountId": a, "expandRecurrences": True, "timeZone": "Europe/Paris",
            "filter": {"after": "2026-03-01T00:00:00", "before": "2026-04-01T00:00:00"}},
            user="bob")
        instances = [i for i in res["ids"] if "_" in i]
        assert len(instances) == 3 * 5, res  # plain1, 3, 5, occ, later
        every = list(ids.values()) + instances

        def views(user):
            _, res = s.c("CalendarEvent/get", {"accountId": a, "ids": every}, user=user)
            assert res["notFound"] == [], res
            return {e["id"]: e for e in res["list"]}

        def expected(own, bobs=None):
            """bob's view of each event from alice's (§4, §5.4, §5.7)"""
            want = {}
            for i, e in own.items():
                v = dict(e, calendarIds={c: True})
                base = e.get("baseEventId", i)
                if base in (ids["private"],):
                    v = {k: x for k, x in v.items() if k in PRIVATE}
                for p in ("color", "keywords"):
                    v.pop(p, None)
                ovs = v.get("recurrenceOverrides")
                if ovs:  # the owner's values of an occurrence alone: no override
                    ovs = {r: {k: x for k, x in ov.items() if k != "keywords"}
                           for r, ov in ovs.items()}
                    ovs = {r: ov for r, ov in ovs.items() if ov}
                    v["recurrenceOverrides"] = ovs
                    if not ovs:
                        del v["recurrenceOverrides"]
                v.update((bobs or {}).get(base, {}))
                want[i] = v
            return want

        own = views("alice")
        assert own[ids["owners"]]["color"] == "red" and own[occ_rid]["keywords"] == {"k": True}
        for _ in range(2):  # the second from what the first call kept
            got = views("bob")
            same(got, expected(own))
            plain = [ids[f"plain{i}"] for i in range(6)] + [i for i in instances if
                                                           not i.startswith(ids["occ"])]
            assert all(got[i] == own[i] for i in plain), plain
        # bob's first value of his own (§5.4): no longer nothing of his in the account
        _, res = s.c("CalendarEvent/set", {"accountId": a, "update": {
            ids["plain0"]: {"color": "blue"}}}, user="bob")
        assert res.get("updated"), res
        own = views("alice")
        assert "color" not in own[ids["plain0"]]
        for _ in range(2):
            got = views("bob")
            want = expected(own, {ids["plain0"]: {"color": "blue"}})
            got[ids["plain0"]].pop("updated"), want[ids["plain0"]].pop("updated")
            same(got, want)
        _, res = s.c("CalendarEvent/set", {"accountId": a, "update": {
            ids["plain0"]: {"color": None}}}, user="bob")
        assert res.get("updated"), res
        # the owner's changes: a new version of each is asked again
        _, res = s.c("CalendarEvent/set", {"accountId": a, "update": {
            ids["later"]: {"privacy": "private", "description": "now private"},
            ids["owners"]: {"color": None, "keywords": None},
            ids["plain2"]: {"keywords": {"x": True}}}})
        assert len(res.get("updated") or {}) == 3, res
        own = views("alice")
        got = views("bob")
        want = expected(own)
        for k in ("later",):
            for i in [ids[k]] + [x for x in instances if x.startswith(ids[k])]:
                want[i] = {p: x for p, x in want[i].items() if p in PRIVATE}
        for i in (ids["plain0"], ids["plain2"], ids["owners"]):
            got[i].pop("updated"), want[i].pop("updated")
        same(got, want)
        assert "keywords" not in got[ids["plain2"]] and got[ids["owners"]] == {
            k: v for k, v in own[ids["owners"]].items() if k != "updated"}
    finally:
        s.close()
