"""Waits on the database per request (issue 15 §1: a round trip is the cost that counts
on PostgreSQL, and a loaded machine makes each one expensive). Starts a private
PostgreSQL 15 (tests/protocol/pgharness.py) and build/jmapd (BIN=... for another
binary) on it, warms an account with EVENTS events, then for each request kind runs
it N times with strace counting jmapd's poll(2) calls: libpq polls only when it waits
for an answer that has not arrived, so polls per request is the number of waited
round trips (an upper bound of it; MHD itself uses epoll). Independent of the load
of the machine, unlike a time.

    /usr/bin/python3 bench/pg/round_trips.py            # N=200 EVENTS=50
"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path[:0] = [HERE, os.path.join(ROOT, "tests", "protocol")]
import bench_pg as bp  # noqa: E402
import pgharness  # noqa: E402
import requests  # noqa: E402

N = int(os.environ.get("N", "200"))
EVENTS = int(os.environ.get("EVENTS", "50"))


def api(http, base, calls):
    body = {"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:calendars"],
            "methodCalls": calls}
    r = http.post(base + "/jmap/api/", json=body)
    r.raise_for_status()
    return r.json()["methodResponses"]


def polls(pid, fn):
    """poll(2) calls of jmapd (all threads) while fn runs."""
    out = os.path.join(tempfile.mkdtemp(), "strace")
    st = subprocess.Popen(["strace", "-f", "-c", "-e", "trace=poll,ppoll", "-o", out,
                           "-p", str(pid)], stderr=subprocess.DEVNULL)
    time.sleep(1)  # attached to every thread
    fn()
    time.sleep(0.3)
    st.terminate()
    st.wait(timeout=30)
    n = 0
    with open(out) as f:
        for line in f:
            parts = line.split()
            if parts and parts[-1] in ("poll", "ppoll"):
                n += int(parts[3])
    return n


def main():
    tmp = tempfile.mkdtemp(prefix="bench-rt-")
    cluster = pgharness.Cluster()
    try:
        url = cluster.url(cluster.schema_for(os.path.join(tmp, "pg")))
        bp.add_user(os.path.join(tmp, "pg"), url)
        a = bp.Front(tmp, "pg", url)
        http = requests.Session()
        http.auth = ("bench", "bench-pw")
        acct = http.get(a.base + "/jmap/session").json()["primaryAccounts"][
            "urn:ietf:params:jmap:calendars"]
        cal = api(http, a.base, [["Calendar/get", {"accountId": acct}, "0"]])[0][1]["list"][0]["id"]
        create = {f"e{i}": {"calendarIds": {cal: True}, "title": f"event {i}",
                            "start": f"2026-03-{1 + i % 28:02d}T10:00:00", "duration": "PT1H",
                            "timeZone": "Europe/Paris"} for i in range(EVENTS)}
        out = api(http, a.base, [["CalendarEvent/set", {"accountId": acct, "create": create},
                                  "0"]])[0][1]
        ids = [v["id"] for v in out["created"].values()]
        kinds = {
            "CalendarEvent/query": [["CalendarEvent/query", {"accountId": acct, "filter": {
                "after": "2026-03-01T00:00:00", "before": "2026-04-01T00:00:00"}}, "0"]],
            "CalendarEvent/query expanded": [["CalendarEvent/query", {
                "accountId": acct, "expandRecurrences": True, "filter": {
                    "after": "2026-03-01T00:00:00", "before": "2026-04-01T00:00:00"}}, "0"]],
            "CalendarEvent/get 10": [["CalendarEvent/get", {"accountId": acct,
                                                            "ids": ids[:10]}, "0"]],
            "Core/echo": [["Core/echo", {"x": 1}, "0"]],
        }
        print(f"waited round trips (jmapd poll(2) calls) per request, {N} requests each, "
              f"{EVENTS} events, {os.path.basename(bp.BIN)}:")
        for name, calls in kinds.items():
            api(http, a.base, calls)  # warm: statements prepared, caches filled
            n = polls(a.proc.pid, lambda: [api(http, a.base, calls) for _ in range(N)])
            print(f"  {name:30s} {n / N:.2f}")
        # W1's call: 100 new events at a time (10 calls), per call and per event
        sets = 10
        batch = [["CalendarEvent/set", {"accountId": acct, "create": {
            f"n{i}": {**create[f"e{i % EVENTS}"], "title": f"new {i}"} for i in range(100)}}, "0"]]
        api(http, a.base, batch)
        n = polls(a.proc.pid, lambda: [api(http, a.base, batch) for _ in range(sets)])
        print(f"  {'CalendarEvent/set 100 creates':30s} {n / sets:.2f} ({n / sets / 100:.2f} an event)")
        # every event's title changed in one call (an event has a unique key, its uid)
        tag = iter(range(1 << 30))

        def updates():
            n = next(tag)
            return [["CalendarEvent/set", {"accountId": acct, "update": {
                i: {"title": f"changed {n}"} for i in ids}}, "0"]]
        api(http, a.base, updates())
        n = polls(a.proc.pid, lambda: [api(http, a.base, updates()) for _ in range(sets)])
        label = f"CalendarEvent/set {len(ids)} updates"
        print(f"  {label:30s} {n / sets:.2f} ({n / sets / len(ids):.2f} an event)")
        a.stop()
    finally:
        cluster.stop()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
