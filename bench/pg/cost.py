"""Where a request's time goes on PostgreSQL, measured without the clock (issue 15 §1).
For W2 (CalendarEvent/get of 100 ids), W3 (one-month expanded query, warm; W3c the
same, each a query not asked before: its snapshot a new row), W5
(/changes 10 states back) and W1 (/set creating 100 new events) of bench_pg.py, at EVENTS events, for each binary given:
the CPU per request of jmapd and of the PostgreSQL client backends (nanoseconds on a
core, /proc/PID/task/*/schedstat: the same whatever the load of the machine), jmapd's
on SQLite for the same requests, and the waited round trips (jmapd's poll(2) calls
under strace, as round_trips.py counts them). The last column, SQLite's CPU over
PostgreSQL's (jmapd + backend), is the ratio bench_pg.sh would show if a hand-off
between jmapd and its backend cost nothing: what is left of a W2/W3/W5 ratio below it
is waiting (round trips, a core), above it the other way round.

    EVENTS=10000 N=200 /usr/bin/python3 bench/pg/cost.py [BIN ...]   # build/jmapd
    KINDS=W1,W5 ... (only those kinds)
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path[:0] = [HERE, os.path.join(ROOT, "bench", "events"), os.path.join(ROOT, "tests", "protocol")]
import bench as ev  # noqa: E402
import bench_pg as bp  # noqa: E402
import pgharness  # noqa: E402
import round_trips as rt  # noqa: E402
from workload import events, month_windows  # noqa: E402

N = int(os.environ.get("N", "200"))
KINDS = os.environ.get("KINDS", "")  # e.g. KINDS=W1,W5: only those
EVENTS = int(os.environ.get("EVENTS", "10000"))


def run_ns(pid):
    """Nanoseconds pid's threads have run on a core (0 once it is gone)."""
    total = 0
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError):
        pass
    return total


def backends(cluster):
    """The cluster's client backends (not its autovacuum, checkpointer or WAL writer)."""
    out = []
    for pid in bp.postgres_pids(cluster)[1:]:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"[local]" in f.read():
                    out.append(pid)
        except OSError:
            pass
    return out


def loaded(front, user):
    """A new account of user on front with the EVENTS events; (client, account, ids)."""
    c = ev.Client(front.base + "/jmap/api/", user, "bench-pw", "urn:ietf:params:jmap:calendars")
    acct = c.http.get(front.base + "/jmap/session").json()["primaryAccounts"][
        "urn:ietf:params:jmap:calendars"]
    cal = c.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    evs, ids = events(EVENTS), []
    for i in range(0, len(evs), 100):
        batch = {f"k{j}": ev.jmapd_translate(e, cal) for j, e in enumerate(evs[i:i + 100])}
        ids.extend(v["id"] for v in c.call("CalendarEvent/set", {
            "accountId": acct, "create": batch})[1]["created"].values())
    return c, acct, cal, ids


def creates(c, acct, cal):
    """W1: CalendarEvent/set creating 100 new events (new uids) per request."""
    evs = events(100, seed=11)
    tag = iter(range(1, 1 << 30))

    def create(i):
        n = next(tag)
        batch = {f"k{j}": dict(ev.jmapd_translate(e, cal), uid=f"w1-{n}-{e['uid']}")
                 for j, e in enumerate(evs)}
        out = c.call("CalendarEvent/set", {"accountId": acct, "create": batch})[1]
        assert len(out.get("created", {})) == len(evs), out.get("notCreated")
    return create


def cold_months(c, acct, cal):
    """W3 cold: a month never asked before, so its query snapshot is a new row (issue 15
    §3): the window's end moves a second each time (up to an hour: the same events)."""
    wins, tag = month_windows(), iter(range(1 << 30))

    def query(i):
        n = next(tag)
        q = ev.jmapd_query(acct, cal, *wins[n % len(wins)])
        q["filter"]["before"] = q["filter"]["before"][:-5] + f"{n // 60 % 60:02d}:{n % 60:02d}"
        return c.call("CalendarEvent/query", q)
    return query


def kinds(c, acct, cal, ids):
    """The requests, each a function of the request's number (W1 last: it grows the
    account)."""
    state = c.call("CalendarEvent/get", {"accountId": acct, "ids": []})[1]["state"]
    old = str(int(state) - 10)
    wins = month_windows()
    return {
        "W2 get 100 ids": lambda i: c.call("CalendarEvent/get", {
            "accountId": acct, "ids": ids[i * 100 % len(ids):][:100]}),
        "W3 expanded month (warm)": lambda i: c.call(
            "CalendarEvent/query", ev.jmapd_query(acct, cal, *wins[i % len(wins)])),
        "W3c expanded month (cold)": cold_months(c, acct, cal),
        "W5 changes 10 back": lambda i: c.call("CalendarEvent/changes", {
            "accountId": acct, "sinceState": old}),
        "W1 create 100 events": creates(c, acct, cal),
    }


def cost(front, fn, cluster=None):
    """(jmapd µs, backends µs) per request over N requests, after a warming pass."""
    for i in range(20):
        fn(i)
    pg = backends(cluster) if cluster else []
    j0, p0 = run_ns(front.proc.pid), sum(run_ns(p) for p in pg)
    for i in range(N):
        fn(i)
    return ((run_ns(front.proc.pid) - j0) / N / 1e3,
            (sum(run_ns(p) for p in pg) - p0) / N / 1e3)


def measure(tmp, cluster, b):
    bp.BIN = os.path.abspath(b)
    tag = str(abs(hash(b)))
    sq_dir, pg_dir = os.path.join(tmp, "sq" + tag), os.path.join(tmp, "pg" + tag)
    url = cluster.url(cluster.schema_for(pg_dir))
    bp.add_user(sq_dir, "sqlite")
    bp.add_user(pg_dir, url)
    s, a = bp.Front(tmp, "sq" + tag, "sqlite"), bp.Front(tmp, "pg" + tag, url)
    try:
        sq_kinds, pg_kinds = kinds(*loaded(s, "bench")), kinds(*loaded(a, "bench"))
        print(f"{b}: {EVENTS} events, {N} requests of each kind; per request:")
        for name in pg_kinds:
            if KINDS and name.split()[0] not in KINDS.split(","):
                continue
            sq_us = cost(s, sq_kinds[name])[0]
            j_us, p_us = cost(a, pg_kinds[name], cluster)
            waits = rt.polls(a.proc.pid, lambda: [pg_kinds[name](i) for i in range(N)]) / N
            print(f"  {name:26s} SQLite jmapd {sq_us:7.0f} us | PostgreSQL jmapd {j_us:7.0f} us"
                  f" + backend {p_us:7.0f} us, {waits:.2f} waited round trips"
                  f" | CPU ratio {sq_us / max(j_us + p_us, 1e-9):.2f}x", flush=True)
    finally:
        s.stop()
        a.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="bench-cost-")
    cluster = pgharness.Cluster()
    try:
        for b in sys.argv[1:] or [bp.BIN]:
            measure(tmp, cluster, b)
    finally:
        cluster.stop()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
