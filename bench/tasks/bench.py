"""bench_tasks.sh's client: one keep-alive connection, each figure one request's round
trip. Args: port, number of tasks, number of queries of each kind[, the server's pid: its
CPU time per phase is read from /proc, which the machine's load does not inflate]."""
import base64
import http.client
import json
import random
import statistics
import sys
import time

port, n, queries = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
server_pid = int(sys.argv[4]) if len(sys.argv) > 4 else None
TICK = 1000 / __import__("os").sysconf("SC_CLK_TCK")


def server_cpu():
    """The server's user + system CPU time so far, ms (0 without a pid)."""
    if not server_pid:
        return 0.0
    with open(f"/proc/{server_pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
hdr = {"Authorization": "Basic " + base64.b64encode(b"bench:bench-pw").decode(),
       "Content-Type": "application/json"}
CORE, TASKS, CAL = ("urn:ietf:params:jmap:core", "urn:ietf:params:jmap:tasks",
                    "urn:ietf:params:jmap:calendars")


def call(name, args):
    body = json.dumps({"using": [CORE, TASKS, CAL], "methodCalls": [[name, args, "0"]]})
    t = time.perf_counter()
    conn.request("POST", "/jmap/api/", body, hdr)
    out = json.loads(conn.getresponse().read())["methodResponses"][0]
    assert out[0] == name, out
    return out[1], (time.perf_counter() - t) * 1000


conn.request("GET", "/jmap/session", headers=hdr)
session = json.loads(conn.getresponse().read())
acct = session["primaryAccounts"][TASKS]
lists = call("TaskList/get", {"accountId": acct, "ids": None})[0]["list"]
lid = [x for x in lists if x["role"] == "inbox"][0]["id"]
cal = call("Calendar/get", {"accountId": acct, "ids": None})[0]["list"][0]["id"]
rnd = random.Random(16)
words = ["walnut", "report", "garden", "invoice", "kitchen", "review", "tax", "bicycle",
         "letter", "meeting", "paint", "school", "travel", "doctor", "budget", "music"]


def title():
    return " ".join(rnd.choice(words) for _ in range(3)) + f" {rnd.randrange(10**6)}"


task_set, event_set = [], []
task_cpu = event_cpu = 0.0
for i in range(0, n, 100):
    create = {}
    for j in range(i, min(n, i + 100)):
        day = rnd.randrange(0, 730)
        create[str(j)] = {"@type": "Task", "taskListId": lid, "title": title(),
                          "due": time.strftime("%Y-%m-%dT17:00:00",
                                               time.gmtime(1767225600 + day * 86400)),
                          "timeZone": "Europe/Berlin", "priority": rnd.randrange(0, 10)}
    c0 = server_cpu()
    out, dt = call("Task/set", {"accountId": acct, "create": create})
    task_cpu += server_cpu() - c0
    assert not out["notCreated"], out["notCreated"]
    task_set.append(dt)
    ev = {k: {"@type": "Event", "calendarIds": {cal: True}, "title": v["title"],
              "start": v["due"], "timeZone": "Europe/Berlin", "duration": "PT1H"}
          for k, v in create.items()}
    c0 = server_cpu()
    out, dt = call("CalendarEvent/set", {"accountId": acct, "create": ev})
    event_cpu += server_cpu() - c0
    assert not out["notCreated"], out["notCreated"]
    event_set.append(dt)

range_lat, text_lat, hits = [], [], []
for _ in range(queries):
    day = rnd.randrange(0, 700)
    a = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(1767225600 + day * 86400))
    b = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(1767225600 + (day + 7) * 86400))
    out, dt = call("Task/query", {"accountId": acct, "filter": {"after": a, "before": b},
                                  "sort": [{"property": "due"}], "limit": 50})
    range_lat.append(dt)
    out, dt = call("Task/query", {"accountId": acct, "filter": {"text": rnd.choice(words)},
                                  "limit": 50})
    text_lat.append(dt)
    hits.append(len(out["ids"]))

p50 = statistics.median
print(f"tasks: {n}")
print(f"  Task/set 100 per call:        p50 {p50(task_set):.1f} ms"
      f"   (CalendarEvent/set of the same, same run: p50 {p50(event_set):.1f} ms;"
      f" ratio {p50(event_set) / p50(task_set):.2f}x, target >= 1)")
if server_pid:
    print(f"  server CPU, all Task/set calls {task_cpu:.0f} ms, all CalendarEvent/set calls"
          f" {event_cpu:.0f} ms: ratio {event_cpu / max(task_cpu, 1):.2f}x (target >= 1)")
print(f"  due-date range query (a week): p50 {p50(range_lat):.2f} ms (target <= 5)")
print(f"  text query (one word, limit 50): p50 {p50(text_lat):.2f} ms (target <= 5),"
      f" {p50(hits):.0f} ids returned")
