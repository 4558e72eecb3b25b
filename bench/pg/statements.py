"""Where PostgreSQL's time goes in W1 (issue 15 §1): a private PostgreSQL 15 with
pg_stat_statements, BIN serving on it, 1,000 events created (warm-up), then 2,000 more
in /sets of 100; the statements by their total execution time, with the time per
created event. (Execution only: parse, bind, the protocol and COMMIT are not in it.)

    /usr/bin/python3 bench/pg/statements.py BIN
"""
import os
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path[:0] = [ROOT + "/bench/pg", ROOT + "/bench/events", ROOT + "/tests/protocol"]
import bench_pg as bp  # noqa: E402
import pgharness  # noqa: E402
import bench as ev  # noqa: E402
from workload import events  # noqa: E402

BIN = sys.argv[1]
bp.BIN = BIN
cl = pgharness.Cluster()
tmp = tempfile.mkdtemp()
try:
    cl.psql("jmapd", "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
    cl.stop_server()
    cl.start_server()
    cl.psql("jmapd", "CREATE EXTENSION pg_stat_statements")
    url = cl.url(cl.schema_for(tmp + "/pg"))
    bp.add_user(tmp + "/pg", url)
    a = bp.Front(tmp, "pg", url)
    c = ev.Client(a.base + "/jmap/api/", "bench", "bench-pw", "urn:ietf:params:jmap:calendars")
    acct = c.http.get(a.base + "/jmap/session").json()["primaryAccounts"]["urn:ietf:params:jmap:calendars"]
    cal = c.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    evs = events(3000)
    for i in range(0, 1000, 100):  # warm
        c.call("CalendarEvent/set", {"accountId": acct, "create": {f"k{j}": ev.jmapd_translate(e, cal) for j, e in enumerate(evs[i:i+100])}})
    cl.psql("jmapd", "SELECT pg_stat_statements_reset()")
    for i in range(1000, 3000, 100):
        c.call("CalendarEvent/set", {"accountId": acct, "create": {f"k{j}": ev.jmapd_translate(e, cal) for j, e in enumerate(evs[i:i+100])}})
    print(cl.psql("jmapd", "SELECT calls, round(total_exec_time::numeric,1) AS ms, round((total_exec_time/2000*1000)::numeric,1) AS us_per_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 14"))
    a.stop()
finally:
    cl.stop()
