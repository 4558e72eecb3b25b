"""PostgreSQL against SQLite (issue 15): the CalendarEvent workload of bench/events
(W1 create 100 per call, W2 get 100 ids per call, W3 one-month expanded query, W5
/changes 10 back) on build/jmapd with store = sqlite and with store = a private
PostgreSQL 15 started here (tests/protocol/pgharness.py), same machine, same run;
prints both and the PostgreSQL/SQLite ratios (target >= 0.5 each). Then W2 with wrk
(16 connections) on one front end against two front ends on the same database."""
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path[:0] = [os.path.join(ROOT, "bench", "events"), os.path.join(ROOT, "tests", "protocol")]
import bench as ev  # noqa: E402
import pgharness  # noqa: E402
from workload import events  # noqa: E402

BIN = os.path.abspath(os.environ.get("BIN", os.path.join(ROOT, "build", "jmapd")))
N = int(os.environ.get("EVENTS", "10000"))
WRK_SECONDS = os.environ.get("WRK_SECONDS", "5")


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Front:
    def __init__(self, tmp, name, store):
        self.data = os.path.join(tmp, name)
        self.env = dict(os.environ, JMAPD_STORE=store)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        conf = os.path.join(tmp, "conf")
        with open(conf, "w") as f:
            f.write("log_level = warn\n")
        self.log = open(os.path.join(tmp, name + ".log"), "w")
        self.proc = subprocess.Popen([BIN, "serve", "--data", self.data, "--config", conf,
                                      "--listen", f"127.0.0.1:{self.port}"],
                                     env=self.env, stdout=self.log, stderr=self.log)
        for _ in range(200):
            try:
                if requests.get(self.base + "/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError("jmapd did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def add_user(data, store):
    subprocess.run([BIN, "user", "add", "bench", "--password-stdin", "--data", data],
                   input="bench-pw\n", text=True, check=True, capture_output=True,
                   env=dict(os.environ, JMAPD_STORE=store))


def workload(front):
    c = ev.Client(front.base + "/jmap/api/", "bench", "bench-pw",
                  "urn:ietf:params:jmap:calendars")
    acct = c.http.get(front.base + "/jmap/session").json()["primaryAccounts"][
        "urn:ietf:params:jmap:calendars"]
    cal = c.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    res, ids = ev.run(c, acct, cal, events(N), ev.jmapd_translate, ev.jmapd_query, "jmapd")
    res["changes_p50"] = ev.changes_p50(c, acct)
    return res, acct, ids


def wrk_rps(fronts, acct, ids, conns=8):
    """Requests/s of CalendarEvent/get (100 ids) with wrk, conns connections on each
    front end (the default maxConcurrentRequests is 8: more would be refused)."""
    body = json.dumps({"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:calendars"],
                       "methodCalls": [["CalendarEvent/get",
                                        {"accountId": acct, "ids": ids[:100]}, "0"]]})
    auth = "Basic " + base64.b64encode(b"bench:bench-pw").decode()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(f'wrk.method = "POST"\nwrk.headers["Authorization"] = "{auth}"\n'
                f'wrk.headers["Content-Type"] = "application/json"\nlocal r\n'
                f'init = function(args) r = wrk.format(nil, "/jmap/api/", nil, '
                f'{json.dumps(body)}) end\nrequest = function() return r end\n')
        script = f.name
    for fr in fronts:  # the credential verified once on each (argon2id is slow on purpose)
        requests.get(fr.base + "/jmap/session", auth=("bench", "bench-pw"))
    procs = [subprocess.Popen(["wrk", "-t1", f"-c{conns}", f"-d{WRK_SECONDS}s", "-s", script,
                               fr.base], stdout=subprocess.PIPE, text=True) for fr in fronts]
    total = 0.0
    for p, fr in zip(procs, fronts):
        out = p.communicate()[0]
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if bad:
            print(f"  ({fr.base}: {bad.group(1)} answers were not 200)")
        total += float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    os.unlink(script)
    return total


def show(label, r):
    print(f"  {label:10s} W1 create {r['create_eps']:7.0f} events/s (p50 {r['create100_p50']:.1f} ms)"
          f"  W2 get {r['get_eps']:7.0f} events/s (p50 {r['get100_p50']:.1f} ms)"
          f"  W3 month {r['query_p50_warm']:.2f} ms p50 ({r['query_qps_warm']:.0f}/s)"
          f"  W5 changes {r['changes_p50']:.2f} ms p50")


def main():
    tmp = tempfile.mkdtemp(prefix="bench-pg-")
    cluster = pgharness.Cluster()
    try:
        add_user(os.path.join(tmp, "sq"), "sqlite")
        a = Front(tmp, "sq", "sqlite")
        sq, _, _ = workload(a)
        a.stop()
        url = cluster.url(cluster.schema_for(os.path.join(tmp, "pg")))
        add_user(os.path.join(tmp, "pg"), url)
        a = Front(tmp, "pg", url)
        pg, acct, ids = workload(a)
        print(f"{N} events, same machine, same run:")
        show("SQLite", sq)
        show("PostgreSQL", pg)
        ratios = {"W1 create": pg["create_eps"] / sq["create_eps"],
                  "W2 get": pg["get_eps"] / sq["get_eps"],
                  "W3 month": pg["query_qps_warm"] / sq["query_qps_warm"],
                  "W5 changes": sq["changes_p50"] / pg["changes_p50"]}
        print("PostgreSQL/SQLite throughput (target >= 0.5 each): " +
              "   ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))
        one = wrk_rps([a], acct, ids)
        b = Front(tmp, "pg-b", url)
        two = wrk_rps([a, b], acct, ids)
        b.stop()
        a.stop()
        print(f"W2 (get 100 ids, wrk, 8 connections per front end): one front end {one:.0f} req/s, "
              f"two front ends {two:.0f} req/s ({two / one:.2f}x; target >= 1.6x with a core "
              f"per front end: this machine has {os.cpu_count()})")
        bad = [k for k, v in ratios.items() if v < 0.5]
        if bad:
            print("below 0.5x: " + ", ".join(bad))
            sys.exit(1)
    finally:
        cluster.stop()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
