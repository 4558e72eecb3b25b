"""Times the queries of bench_scale.sh against a running jmapd over one keep-alive
connection (each figure is one request's round trip, client included) and appends
the figures, as JSON, to a results file.

usage: measure.py events|cards PORT PID SIZE RESULTS [import_seconds [import_cpu_seconds]]
       measure.py cyrus - - SIZE RESULTS [import_seconds [import_cpu_seconds]]
The second times the events' requests on the Cyrus 3.6 peer of bench/cyrus_peer.sh
(CYRUS_PEER_DIR; its master's process tree for the CPU) in Cyrus's own dialect (its
capability, "@type": "jsevent", calendarId, UTC after/before), each a fifth as often
(at least 3 times; Cyrus takes seconds where jmapd takes milliseconds), and leaves out
what it does not have: the wrk scaling (a figure of jmapd's alone) and RSS (Cyrus is
a process per connection)."""
import base64
import http.client
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cyrus_peer  # noqa: E402

kind, port, pid, size, results = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), \
    sys.argv[5]
import_s = float(sys.argv[6]) if len(sys.argv) > 6 else None
import_cpu = float(sys.argv[7]) if len(sys.argv) > 7 else None
cap = "urn:ietf:params:jmap:calendars" if kind == "events" else "urn:ietf:params:jmap:contacts"
creds, session_path, api_path = b"bench:bench-pw", "/jmap/session", "/jmap/api/"
peer = kind == "cyrus"
if peer:
    kind, cap, pid, env = "events", cyrus_peer.CAP, cyrus_peer.master(), cyrus_peer.env()
    port = int(re.match(r"https?://[^:/]+:(\d+)", env["CYRUS_PEER_URL"]).group(1))
    creds = f"{env['CYRUS_PEER_USER']}:{env['CYRUS_PEER_PASS']}".encode()
    session_path = api_path = re.sub(r"https?://[^/]+", "", env["CYRUS_PEER_API"])
using = ["urn:ietf:params:jmap:core", cap]
hdr = {"Authorization": "Basic " + base64.b64encode(creds).decode(),
       "Content-Type": "application/json"}
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=1800)


def reps(n):
    """How often a request is timed: n on jmapd, a fifth of it (at least 3) on Cyrus."""
    return max(3, n // 5) if peer else n


def cyrus_call(name, args, tag):
    """A call as Cyrus 3.6 takes it: after/before in UTC, an event with "@type":
    "jsevent", one calendarId and a uid (the peers README)."""
    args = dict(args)
    if "filter" in args:
        args["filter"] = {k: v + "Z" if k in ("after", "before") else v
                          for k, v in args["filter"].items()}
    if "create" in args:
        args["create"] = {k: {**{p: v for p, v in e.items() if p != "calendarIds"},
                              "@type": "jsevent", "calendarId": next(iter(e["calendarIds"])),
                              "uid": f"{k}-{time.time_ns()}@bench.test"}
                          for k, e in args["create"].items()}
    return [name, args, tag]


def call(calls):
    if peer:
        calls = [cyrus_call(*c) for c in calls]
    body = json.dumps({"using": using, "methodCalls": calls})
    t = time.perf_counter()
    conn.request("POST", api_path, body, hdr)
    data = conn.getresponse().read()
    dt = (time.perf_counter() - t) * 1000
    out = json.loads(data)["methodResponses"]
    for name, args, _ in out:
        if name == "error":
            sys.exit(f"bench_scale: {calls[0][0]} failed: {args}")
    return out, dt


def rss_mib():
    if peer:
        return None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def p50(xs):
    return statistics.median(xs)


def cpu_ms():
    """The server's CPU time so far, in ms (Cyrus: its master's process tree): on a
    loaded machine the wall-clock latency says more about the neighbours than about the
    server."""
    return cyrus_peer.cpu_s(pid) * 1000


def wrk_rps(calls, conns, seconds=4):
    """Requests/s of one request (calls) with wrk: conns connections on as many
    threads; None without wrk."""
    if not shutil.which("wrk"):
        return None
    body = json.dumps({"using": using, "methodCalls": calls})
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(f'wrk.method = "POST"\nwrk.headers["Authorization"] = "{hdr["Authorization"]}"\n'
                f'wrk.headers["Content-Type"] = "application/json"\nlocal r\n'
                f'init = function(args) r = wrk.format(nil, "/jmap/api/", nil, '
                f'{json.dumps(body)}) end\nrequest = function() return r end\n')
        script = f.name
    out = subprocess.run(["wrk", f"-t{conns}", f"-c{conns}", f"-d{seconds}s", "-s", script,
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True).stdout
    os.unlink(script)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(m.group(1)) if m else None


def scaling(fig, name, calls):
    """Issue 21 target 1: requests/s with 2 connections over 1 (>= 1.7 wanted)."""
    if peer:
        return
    one, two = wrk_rps(calls, 1), wrk_rps(calls, 2)
    if one and two:
        fig[name + "_rps1"], fig[name + "_scale2"] = one, two / one


class Cpu:
    """with Cpu(fig, name, n): fig[name] = the server's CPU ms per request of the block."""

    def __init__(self, fig, name, n):
        self.fig, self.name, self.n = fig, name, n

    def __enter__(self):
        self.t = cpu_ms()

    def __exit__(self, *exc):
        self.fig[self.name] = (cpu_ms() - self.t) / self.n


conn.request("GET", session_path, headers=hdr)
session = json.loads(conn.getresponse().read())
acct = session["primaryAccounts"][cap]
max_get = session["capabilities"]["urn:ietf:params:jmap:core"]["maxObjectsInGet"]
call([["Core/echo", {}, "e"]])  # the credential is verified (argon2) once, before timing
fig = {"kind": "cyrus" if peer else kind, "size": size}
if import_s is not None:
    fig["import_s"] = import_s
    fig["import_per_s"] = size / import_s
if import_cpu:  # CPU seconds (user + system): wall time here depends on the neighbours
    fig["import_cpu_s"] = import_cpu
    fig["import_per_s"] = size / import_cpu
rnd = random.Random(5)

if kind == "events":
    def month(k):
        y, m = 2017 + k % 10, 1 + (k * 7) % 12
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        return {"after": f"{y:04d}-{m:02d}-01T00:00:00", "before": f"{ny:04d}-{nm:02d}-01T00:00:00"}

    def expanded(k):
        return ["CalendarEvent/query", {"accountId": acct, "filter": month(k),
                                        "expandRecurrences": True, "sort": [{"property": "start"}]},
                "q"]
    _, fig["month_first_ms"] = call([expanded(0)])
    lat, get_lat, ninst, cpu_q, cpu_g, cpu_warm = [], [], [], 0.0, 0.0, 0.0
    for r, k in enumerate([1, 2, 3, 4, 5] * (2 if peer else 4)):  # five months a user goes back and forth between
        t = cpu_ms()
        out, dt = call([expanded(k)])
        cpu_q += cpu_ms() - t
        if r >= 5:  # each month seen before (the first round parses its series)
            cpu_warm += cpu_ms() - t
        lat.append(dt)
        ids = out[0][1]["ids"]
        ninst.append(len(ids))
        # every instance, in calls of at most maxObjectsInGet ids in one request
        t = cpu_ms()
        _, gdt = call([["CalendarEvent/get", {"accountId": acct, "ids": ids[i:i + max_get]},
                        f"g{i}"] for i in range(0, len(ids), max_get)])
        cpu_g += cpu_ms() - t
        get_lat.append(gdt)
    fig["month_cpu_ms"], fig["month_get_cpu_ms"] = cpu_q / len(lat), cpu_g / len(lat)
    fig["month_warm_cpu_ms"] = cpu_warm / (len(lat) - 5)
    fig["month_p50_ms"] = p50(lat)
    fig["month_instances"] = p50(ninst)
    fig["month_get_p50_ms"] = p50(get_lat)
    fig["month_get_ratio"] = p50(get_lat) / p50(lat)
    # issue 21 §2 by the server's CPU (the wall-clock ratio depends on the neighbours)
    fig["month_get_cpu_ratio"] = cpu_g / cpu_q if cpu_q else None
    # target 1: reads scale with cores (a /get of 50 ids, an expanded month)
    scaling(fig, "get50", [["CalendarEvent/get", {"accountId": acct, "ids": ids[:50]}, "g"]])
    scaling(fig, "month", [expanded(1)])
    # a common word, the first page of 50 by start (issue 21 target 0)
    out, _ = call([["CalendarEvent/query", {"accountId": acct, "filter": {"text": "walnut"},
                                            "limit": 1, "calculateTotal": True}, "t"]])
    fig["text_hits"] = out[0][1].get("total")
    text = []
    with Cpu(fig, "text_cpu_ms", reps(15)):
        for _ in range(reps(15)):
            out, dt = call([["CalendarEvent/query", {"accountId": acct, "filter": {"text": "walnut"},
                                                     "sort": [{"property": "start"}], "limit": 50},
                             "t"]])
            text.append(dt)
    fig["text_p50_ms"] = p50(text)
    # with calculateTotal every hit is read (issue 21: without, the page's alone)
    tot = []
    with Cpu(fig, "text_total_cpu_ms", reps(20)):
        for i in range(reps(20)):
            _, dt = call([["CalendarEvent/query", {"accountId": acct, "filter": {"text": "walnut"},
                                                   "sort": [{"property": "start"}], "limit": 50,
                                                   "calculateTotal": True}, "t"]])
            tot.append(dt)
    fig["text_total_p50_ms"] = p50(tot)
    srt = []
    with Cpu(fig, "sorted_cpu_ms", reps(15)):
        for i in range(reps(15)):
            out, dt = call([["CalendarEvent/query", {"accountId": acct,
                                                     "sort": [{"property": "start",
                                                               "isAscending": i % 2 == 0}],
                                                     "position": rnd.randrange(0, size // 2),
                                                     "limit": 100, "calculateTotal": True}, "s"]])
            srt.append(dt)
    fig["total"] = out[0][1].get("total")
    fig["sorted_p50_ms"] = p50(srt)
    # target 6: /get of 50 stored events, a create of 100, /changes after one update
    page = out[0][1]["ids"]
    gl = []
    with Cpu(fig, "get50_cpu_ms", reps(60)):
        for i in range(reps(60)):
            _, dt = call([["CalendarEvent/get", {"accountId": acct,
                                                 "ids": page[i % 2 * 50:i % 2 * 50 + 50]}, "g"]])
            gl.append(dt)
    fig["get50_p50_ms"] = p50(gl)
    out, _ = call([["Calendar/get", {"accountId": acct}, "c"]])
    cal = out[0][1]["list"][0]["id"]
    cl, made = [], []
    with Cpu(fig, "create100_cpu_ms", reps(5)):
        for i in range(reps(5)):
            batch = {f"n{j}": {"calendarIds": {cal: True}, "title": f"New {i} {j}",
                               "start": f"2027-0{1 + i}-{1 + j % 28:02d}T10:00:00",
                               "timeZone": "Europe/Berlin", "duration": "PT1H"}
                     for j in range(100)}
            out, dt = call([["CalendarEvent/set", {"accountId": acct, "create": batch}, "n"]])
            made += [v["id"] for v in out[0][1]["created"].values()]
            cl.append(dt)
    fig["create100_p50_ms"] = p50(cl)
    out, _ = call([["CalendarEvent/set", {"accountId": acct,
                                          "update": {made[0]: {"title": "Changed"}}}, "u"]])
    old = out[0][1]["oldState"]
    ch = []
    with Cpu(fig, "changes_cpu_ms", reps(300)):
        for _ in range(reps(300)):
            _, dt = call([["CalendarEvent/changes", {"accountId": acct, "sinceState": old}, "c"]])
            ch.append(dt)
    fig["changes_p50_ms"] = p50(ch)
else:
    first_terms = ["bergmann", "steinow", "anna", "paris", "globex", "hofer", "eichez"]
    _, fig["text_first_ms"] = call([["ContactCard/query", {"accountId": acct,
                                                           "filter": {"text": "bergmann"},
                                                           "limit": 50}, "t"]])
    text = []
    with Cpu(fig, "text_cpu_ms", 20):
        for i in range(20):
            _, dt = call([["ContactCard/query", {"accountId": acct,
                                                 "filter": {"text": first_terms[i % 7]},
                                                 "limit": 50}, "t"]])
            text.append(dt)
    fig["text_p50_ms"] = p50(text)
    # with calculateTotal every hit is read (issue 21: without, the page's alone)
    tot = []
    with Cpu(fig, "text_total_cpu_ms", 20):
        for i in range(20):
            _, dt = call([["ContactCard/query", {"accountId": acct,
                                                 "filter": {"text": first_terms[i % 7]},
                                                 "limit": 50, "calculateTotal": True}, "t"]])
            tot.append(dt)
    fig["text_total_p50_ms"] = p50(tot)
    srt = []

    def card_sorted():
        return call([["ContactCard/query", {"accountId": acct,
                                            "sort": [{"property": "name/surname"},
                                                     {"property": "name/given"}],
                                            "position": rnd.randrange(0, size // 2),
                                            "limit": 100, "calculateTotal": True}, "s"]])
    # the first after the start builds the index from the stored facets and sorts it
    with Cpu(fig, "sorted_first_cpu_ms", 1):
        _, fig["sorted_first_ms"] = card_sorted()
    with Cpu(fig, "sorted_cpu_ms", 15):
        for i in range(15):
            out, dt = card_sorted()
            srt.append(dt)
    fig["total"] = out[0][1].get("total")
    fig["sorted_p50_ms"] = p50(srt)
fig["rss_mib"] = rss_mib()
with open(results, "a") as f:
    f.write(json.dumps(fig) + "\n")
print(json.dumps(fig))
