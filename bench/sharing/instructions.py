"""Driver of instructions.sh: the data of bench.py (a calendar shared read-only, N
events, a fifth of them weekly), then 20 calls as the owner and 20 as the sharee, each
batch between callgrind_control's zero and dump, of: an expanded one-month query,
CalendarEvent/get of 200 ids, an unexpanded query's page (position 100, limit 50,
sorted by start: the index path of issue 21), and a deeper page (position 1000) each
the first after a change (an owner's write before each call, not counted)."""
import json
import subprocess
import sys

import requests

CORE, CAL = "urn:ietf:params:jmap:core", "urn:ietf:params:jmap:calendars"


def main():
    base, pid, n_events = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sess = {}

    def api(user, calls):
        if user not in sess:
            sess[user] = requests.Session()
            sess[user].auth = (user, user + "-pw")
        r = sess[user].post(base + "/jmap/api/", data=json.dumps(
            {"using": [CORE, CAL], "methodCalls": calls}),
            headers={"Content-Type": "application/json"})
        r.raise_for_status()
        return r.json()["methodResponses"]

    def own(user):
        api(user, [])
        return sess[user].get(base + "/jmap/session").json()["primaryAccounts"][CAL]

    owner, sharee = own("owner"), own("sharee")
    cal = api("owner", [["Calendar/set", {"accountId": owner, "create": {"c": {
        "name": "shared", "shareWith": {sharee: {"mayReadItems": True}}}}}, "0"]])
    cid = cal[0][1]["created"]["c"]["id"]
    for start in range(0, n_events, 500):
        create = {f"e{i}": {"calendarIds": {cid: True}, "title": f"event {i}",
                            "start": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{8 + i % 10:02d}:00:00",
                            "timeZone": "Europe/Paris", "duration": "PT1H",
                            **({"recurrenceRules": [{"frequency": "weekly", "count": 10}]}
                               if i % 5 == 0 else {})}
                  for i in range(start, min(n_events, start + 500))}
        api("owner", [["CalendarEvent/set", {"accountId": owner, "create": create}, "0"]])
    query = [["CalendarEvent/query", {"accountId": owner, "filter": {
        "after": "2026-03-01T00:00:00", "before": "2026-04-01T00:00:00"},
        "expandRecurrences": True, "timeZone": "Europe/Paris"}, "0"]]
    ids = api("owner", [["CalendarEvent/query", {"accountId": owner, "limit": 200}, "0"]])[0][1]["ids"]
    get = [["CalendarEvent/get", {"accountId": owner, "ids": ids}, "0"]]
    # unexpanded, sorted by start (the default): a page from the index (issue 21 fast_query)
    page = [["CalendarEvent/query", {"accountId": owner, "position": 100, "limit": 50}, "0"]]
    # issue 14: a deeper page, each call the first after a change of the account (the
    # owner's write before it is not counted): no mark or checkpoint of an earlier walk
    deep = [["CalendarEvent/query", {"accountId": owner, "position": 1000, "limit": 50}, "0"]]
    for calls in (query, get, page, deep):
        n = [api(u, calls)[0][1] for u in ("owner", "sharee", "owner", "sharee")]
        assert n[0] == n[1] and n[0].get("ids", n[0].get("list")), n[:2]

    def ctl(*a):
        subprocess.run(["callgrind_control", *a, pid], stdout=subprocess.DEVNULL, check=True)

    touch = [["CalendarEvent/set", {"accountId": owner, "update": {ids[0]: {
        "title": "touched"}}}, "0"]]
    for calls in (query, get, page, deep):  # dumps 1-8: owner, sharee of each
        for user in ("owner", "sharee"):
            ctl("-z")
            for k in range(20):
                if calls is deep:
                    touch[0][1]["update"][ids[0]]["title"] = f"touched {user} {k}"
                    api("owner", touch)
                if calls is deep or k == 0:
                    ctl("-i", "on")
                api(user, calls)
                if calls is deep or k == 19:
                    ctl("-i", "off")
            ctl("-d", user)


main()
