"""Instructions per request (issue 21), the server under callgrind on an account made by
bench_scale.sh's generator (user bench, password bench-pw): two months not seen before,
two months seen before, the /get of every instance of them, unfiltered sorted pages.
Exact where the CPU time of a loaded machine is not; slow (minutes at 100,000 events).

usage: callgrind.py BIN DATA OUTPREFIX   (needs valgrind; prints one JSON line)"""
import base64, http.client, json, os, subprocess, sys, time, socket, random, glob, tempfile
bin_, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
conf.write("log_level = warn\n")
conf.close()
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
for f in glob.glob(out + "*"): os.unlink(f)
srv = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p", bin_, "serve", "--data", data,
                        "--listen", f"127.0.0.1:{port}", "--config", conf.name], stderr=subprocess.DEVNULL)
pid = srv.pid
for _ in range(600):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port); c.request("GET", "/health"); c.getresponse().read(); break
    except Exception: time.sleep(0.2)
hdr = {"Authorization": "Basic " + base64.b64encode(b"bench:bench-pw").decode(), "Content-Type": "application/json"}
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
conn.request("GET", "/jmap/session", headers=hdr); sess = json.loads(conn.getresponse().read())
acct = sess["primaryAccounts"]["urn:ietf:params:jmap:calendars"]
mg = sess["capabilities"]["urn:ietf:params:jmap:core"]["maxObjectsInGet"]
def call(calls):
    conn.request("POST", "/jmap/api/", json.dumps({"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:calendars"], "methodCalls": calls}), hdr)
    return json.loads(conn.getresponse().read())["methodResponses"]
def month(k):
    y, m = 2017 + k % 10, 1 + (k * 7) % 12
    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
    return {"after": f"{y:04d}-{m:02d}-01T00:00:00", "before": f"{ny:04d}-{nm:02d}-01T00:00:00"}
q = lambda k: [["CalendarEvent/query", {"accountId": acct, "filter": month(k), "expandRecurrences": True, "sort": [{"property": "start"}]}, "q"]]
g = lambda ids: [["CalendarEvent/get", {"accountId": acct, "ids": ids[i:i+mg]}, f"g{i}"] for i in range(0, len(ids), mg)]
call([["Core/echo", {}, "e"]])
ids = {}
for k in (1, 2):
    ids[k] = call(q(k))[0][1]["ids"]
    call(g(ids[k]))
def total():
    time.sleep(0.5)
    subprocess.run(["callgrind_control", "-d", str(pid)], stdout=subprocess.DEVNULL)
    time.sleep(1.5)
    files = sorted(glob.glob(f"{out}.{pid}*"), key=os.path.getmtime)
    t = 0
    for line in open(files[-1]):
        if line.startswith("summary:") or line.startswith("totals:"):
            t = int(line.split()[1])
    return t
res = {"bin": bin_}
def phase(name, n, fn):
    subprocess.run(["callgrind_control", "-z", str(pid)], stdout=subprocess.DEVNULL)
    fn()
    res[name + "_Minstr"] = round(total() / n / 1e6, 2)
phase("first", 2, lambda: [call(q(k)) for k in (3, 4)])
phase("month", 4, lambda: [call(q(k)) for k in (1, 2, 1, 2)])
phase("get", 4, lambda: [call(g(ids[k])) for k in (1, 2, 1, 2)])
rnd = random.Random(5)
phase("sorted", 6, lambda: [call([["CalendarEvent/query", {"accountId": acct, "sort": [{"property": "start", "isAscending": i % 2 == 0}],
           "position": rnd.randrange(0, 50000), "limit": 100, "calculateTotal": True}, "s"]]) for i in range(6)])
res["ratio"] = round(res["get_Minstr"] / res["month_Minstr"], 2)
res["instances"] = (len(ids[1]) + len(ids[2])) / 2
print(json.dumps(res))
srv.terminate(); srv.wait()
os.unlink(conf.name)
