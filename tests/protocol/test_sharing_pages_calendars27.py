"""A sharee's sorted pages of one calendar (issue 14): RFC 8620 §5.5 paging with
draft-ietf-jmap-calendars-27 §4 (rights per calendar) and §5.7 (a secret event does not
exist for a sharee), on an account large enough for the index path (issue 21: 1,000
events). With one calendar readable and no floating event the rows before the page are
stepped over in the store (the membership index of the calendars the sharee reads):
every page, in both directions and after a change of the account, is the owner's
results less what the sharee cannot see."""
from groupware_util import GroupServer
from test_sharing_calendars27 import rights


def test_sharee_pages_of_one_calendar_calendars27_s4_s5_7_rfc8620_s5_5():
    s = GroupServer()
    try:
        a, bob = s.own("alice"), s.own("bob")
        _, res = s.c("Calendar/set", {"accountId": a, "create": {
            "seen": {"name": "seen", "shareWith": {bob: rights("mayReadItems")}},
            "hidden": {"name": "hidden"}}})
        seen, hidden = res["created"]["seen"]["id"], res["created"]["hidden"]["id"]
        create = {}
        for i in range(1100):
            cals = [seen] if i % 3 == 0 else [hidden] if i % 3 == 1 else [seen, hidden]
            create[f"e{i}"] = {
                "calendarIds": {c: True for c in cals}, "title": f"e{i}",
                "start": f"2030-{1 + i % 12:02d}-{1 + i % 28:02d}T{8 + i % 9:02d}:00:00",
                "duration": "PT1H", "timeZone": "Europe/Paris",
                **({"privacy": "secret"} if i % 17 == 0 else {})}
        items = list(create.items())
        for part in (dict(items[k:k + 200]) for k in range(0, len(items), 200)):
            _, res = s.c("CalendarEvent/set", {"accountId": a, "create": part})
            assert len(res.get("created") or {}) == len(part), res
        by = {}
        _, own = s.c("CalendarEvent/query", {"accountId": a})
        for k in range(0, 1100, 200):
            _, got = s.c("CalendarEvent/get", {"accountId": a, "ids": own["ids"][k:k + 200],
                                               "properties": ["calendarIds", "privacy"]})
            by.update({e["id"]: e for e in got["list"]})

        def expected(desc):
            sort = [{"property": "start", "isAscending": not desc}]
            _, res = s.c("CalendarEvent/query", {"accountId": a, "sort": sort})
            return [i for i in res["ids"] if seen in by[i]["calendarIds"]
                    and by[i].get("privacy") != "secret"]

        want = {False: expected(False), True: expected(True)}
        assert 600 < len(want[False]) < 733, len(want[False])
        cases = [(0, 50, False), (1, 7, False), (333, 40, True), (600, 100, False),
                 (len(want[False]) - 2, 10, True), (len(want[False]) + 3, 10, False)]
        for round_ in range(2):
            for pos, limit, desc in cases + cases:  # twice: the second from what is known
                args = {"accountId": a, "position": pos, "limit": limit,
                        "sort": [{"property": "start", "isAscending": not desc}]}
                _, res = s.c("CalendarEvent/query", args, user="bob")
                assert res["position"] == pos, (args, res)
                assert res["ids"] == want[desc][pos:pos + limit], (args, res)
            # a change of the account: an event of hers moved to the front, one made secret
            first = want[False][5]
            _, res = s.c("CalendarEvent/set", {"accountId": a, "update": {
                first: {"start": f"2029-01-01T0{7 - round_}:00:00"},
                want[False][9]: {"privacy": "secret"}}})
            assert len(res.get("updated") or {}) == 2, res
            by[want[False][9]]["privacy"] = "secret"
            want = {False: expected(False), True: expected(True)}
            assert want[False][0] == first
    finally:
        s.close()
