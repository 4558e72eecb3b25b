"""CalendarEvent benchmark (issue 4): the same workload against jmapd and, when it
is running, the Cyrus peer (../shared/peers/cyrus, which speaks an older event
format: "@type":"jsevent", calendarId, recurrenceRule). Prints latencies and the
our/Cyrus throughput ratios for create, get and the expanded one-month query."""
import json
import os
import statistics
import sys
import time

import requests

from workload import events, month_windows

CORE = "urn:ietf:params:jmap:core"


class Client:
    def __init__(self, api, user, pw, cal_cap):
        self.http = requests.Session()
        self.http.auth = (user, pw)
        self.api, self.cap = api, cal_cap

    def call(self, name, args):
        return self.timed_call(name, args)[1]

    def timed_call(self, name, args):
        """(seconds until the whole response has arrived, (name, arguments)): the
        client's JSON decoding is not part of the server's latency."""
        body = json.dumps({"using": [CORE, self.cap], "methodCalls": [[name, args, "0"]]})
        t = time.perf_counter()
        r = self.http.post(self.api, data=body, headers={"Content-Type": "application/json"})
        r.content
        dt = time.perf_counter() - t
        r.raise_for_status()
        name, args, _ = r.json()["methodResponses"][0]
        return dt, (name, args)


def p50(xs):
    return statistics.median(xs) * 1000


def run(c, acct, cal, evs, translate, query_args, label):
    res = {}
    ids = []
    lat = []
    t0 = time.perf_counter()
    for i in range(0, len(evs), 100):
        batch = {f"k{j}": translate(e, cal) for j, e in enumerate(evs[i:i + 100])}
        dt, (name, out) = c.timed_call("CalendarEvent/set", {"accountId": acct, "create": batch})
        assert name == "CalendarEvent/set" and not out.get("notCreated"), \
            (label, str(out.get("notCreated"))[:300])
        ids.extend(v["id"] for v in out["created"].values())
        lat.append(dt)
        if i == 100 and label == "jmapd":
            res["changes_small"] = changes_p50(c, acct)
    total = time.perf_counter() - t0
    res["create_eps"] = len(evs) / total
    res["create100_p50"] = p50(lat)
    lat = []
    t0 = time.perf_counter()
    for i in range(0, len(ids), 100):
        dt, (name, out) = c.timed_call("CalendarEvent/get", {"accountId": acct, "ids": ids[i:i + 100]})
        assert name == "CalendarEvent/get" and len(out["list"]) == len(ids[i:i + 100]), label
        lat.append(dt)
    res["get_eps"] = len(ids) / (time.perf_counter() - t0)
    res["get100_p50"] = p50(lat)
    # two passes over the same 20 windows: the first right after the writes (cold
    # caches), the second as a server in use would answer
    for rnd in ("cold", "warm"):
        lat, counts = [], []
        for after, before in month_windows():
            dt, (name, out) = c.timed_call("CalendarEvent/query",
                                           query_args(acct, cal, after, before))
            assert name == "CalendarEvent/query", (label, out)
            lat.append(dt)
            counts.append(len(out["ids"]))
        res[f"query_p50_{rnd}"] = p50(lat)
        res[f"query_qps_{rnd}"] = len(lat) / sum(lat)
        res["query_results"] = int(statistics.median(counts))
    return res, ids


def changes_p50(c, acct):
    """CalendarEvent/changes from a state 10 changes back."""
    state = c.call("CalendarEvent/get", {"accountId": acct, "ids": []})[1]["state"]
    old = str(int(state) - 10)
    return p50([c.timed_call("CalendarEvent/changes", {"accountId": acct, "sinceState": old})[0]
                for _ in range(50)])


def jmapd_translate(e, cal):
    return {**e, "calendarIds": {cal: True}}


def jmapd_query(acct, cal, after, before):
    return {"accountId": acct, "expandRecurrences": True,
            "filter": {"inCalendar": cal, "after": after, "before": before}}


RUN = str(int(time.time()))


def cyrus_translate(e, cal):
    out = {k: v for k, v in e.items() if k not in ("recurrenceRule",)}
    out["uid"] = f"{RUN}-{e['uid']}"  # a peer kept from an earlier run still holds the old uids
    out["@type"] = "jsevent"
    out["calendarId"] = cal
    if "recurrenceRule" in e:
        out["recurrenceRule"] = {k: v for k, v in e["recurrenceRule"].items() if k != "@type"}
    return out


def cyrus_query(acct, cal, after, before):
    return {"accountId": acct, "expandRecurrences": True,
            "filter": {"inCalendars": [cal], "after": after + "Z", "before": before + "Z"}}


def main():
    base, user, pw = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(os.environ.get("EVENTS", "10000"))
    evs = events(n)
    c = Client(base + "/jmap/api/", user, pw, "urn:ietf:params:jmap:calendars")
    s = c.http.get(base + "/jmap/session").json()
    acct = s["primaryAccounts"]["urn:ietf:params:jmap:calendars"]
    cal = c.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    ours, ids = run(c, acct, cal, evs, jmapd_translate, jmapd_query, "jmapd")
    # /changes costs the same whatever the calendar's size: 10 changes back, when
    # the calendar held 200 events and now that it holds them all
    ours["changes_p50"] = changes_p50(c, acct)
    print(f"jmapd, {n} events ({sum(1 for e in evs if 'recurrenceRule' in e)} recurring):")
    print(f"  CalendarEvent/set 100 events per call: p50 {ours['create100_p50']:.1f} ms "
          f"(target <= 50), {ours['create_eps']:.0f} events/s")
    print(f"  CalendarEvent/get 100 ids per call:    p50 {ours['get100_p50']:.1f} ms, "
          f"{ours['get_eps']:.0f} events/s")
    print(f"  one-month expanded query:              p50 {ours['query_p50_warm']:.2f} ms "
          f"(target <= 5; first pass {ours['query_p50_cold']:.2f} ms), "
          f"median {ours['query_results']} instances")
    print(f"  CalendarEvent/changes (10 changes):    p50 {ours['changes_p50']:.2f} ms at {n} "
          f"events, {ours['changes_small']:.2f} ms at 200 "
          f"(ratio {ours['changes_p50'] / ours['changes_small']:.2f})")
    env = os.environ.get("CYRUS_PEER_ENV", "/var/lib/cyrus-peer/peer.env")
    if not os.path.exists(env):
        print("Cyrus peer not running (../shared/peers/cyrus/setup.sh): no ratios")
        return
    peer = dict(line.strip().split("=", 1) for line in open(env) if "=" in line)
    peer = {k: v.strip('"').strip("'") for k, v in peer.items()}
    cy = Client(peer["CYRUS_PEER_API"], peer["CYRUS_PEER_USER"], peer["CYRUS_PEER_PASS"],
                "https://cyrusimap.org/ns/jmap/calendars")
    sess = cy.http.get(peer["CYRUS_PEER_SESSION"]).json()
    cacct = sess["primaryAccounts"]["https://cyrusimap.org/ns/jmap/calendars"]
    ccal = cy.call("Calendar/get", {"accountId": cacct})[1]["list"][0]["id"]
    theirs, cids = run(cy, cacct, ccal, evs, cyrus_translate, cyrus_query, "cyrus")
    print(f"Cyrus 3.6, same workload:")
    print(f"  CalendarEvent/set 100 events per call: p50 {theirs['create100_p50']:.1f} ms, "
          f"{theirs['create_eps']:.0f} events/s")
    print(f"  CalendarEvent/get 100 ids per call:    p50 {theirs['get100_p50']:.1f} ms, "
          f"{theirs['get_eps']:.0f} events/s")
    print(f"  one-month expanded query:              p50 {theirs['query_p50_warm']:.2f} ms "
          f"(first pass {theirs['query_p50_cold']:.2f} ms), "
          f"median {theirs['query_results']} instances")
    print("jmapd/Cyrus throughput (target >= 5x each):")
    print(f"  create {ours['create_eps'] / theirs['create_eps']:.1f}x   "
          f"get {ours['get_eps'] / theirs['get_eps']:.1f}x   "
          f"expanded query {ours['query_qps_warm'] / theirs['query_qps_warm']:.1f}x "
          f"(first pass {ours['query_qps_cold'] / theirs['query_qps_cold']:.1f}x)")
    for i in range(0, len(cids), 100):  # leave the peer as we found it
        cy.call("CalendarEvent/set", {"accountId": cacct, "destroy": cids[i:i + 100]})


if __name__ == "__main__":
    main()
