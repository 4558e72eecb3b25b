"""Instructions per ContactCard request (issue 21), the server under callgrind on an
account made by bench_scale.sh's generator (`bench/scale/gen.py cards N`, then `jmapd
import --user bench`, password bench-pw): the server's start, text queries for common
words (limit 50, as bench_scale.sh asks them), the same with calculateTotal, the first
name-sorted query after the start, and six more sorted pages. Exact where the CPU time
of a loaded machine is not; slow (a few minutes at 100,000 cards).

usage: callgrind_cards.py BIN DATA OUTPREFIX   (needs valgrind; prints one JSON line)"""
import base64, http.client, json, os, subprocess, sys, time, socket, random, glob, tempfile
bin_, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
conf.write("log_level = warn\n")
conf.close()
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
for f in glob.glob(out + "*"): os.unlink(f)
srv = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p", bin_,
                        "serve", "--data", data, "--listen", f"127.0.0.1:{port}", "--config",
                        conf.name], stderr=subprocess.DEVNULL)
pid = srv.pid
for _ in range(3000):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port); c.request("GET", "/health")
        c.getresponse().read(); break
    except Exception: time.sleep(0.2)
hdr = {"Authorization": "Basic " + base64.b64encode(b"bench:bench-pw").decode(),
       "Content-Type": "application/json"}
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
conn.request("GET", "/jmap/session", headers=hdr); sess = json.loads(conn.getresponse().read())
acct = sess["primaryAccounts"]["urn:ietf:params:jmap:contacts"]
def call(calls):
    conn.request("POST", "/jmap/api/", json.dumps({"using": ["urn:ietf:params:jmap:core",
                 "urn:ietf:params:jmap:contacts"], "methodCalls": calls}), hdr)
    return json.loads(conn.getresponse().read())["methodResponses"]
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
res["start_Minstr"] = round(total() / 1e6, 2)
def phase(name, n, fn):
    subprocess.run(["callgrind_control", "-z", str(pid)], stdout=subprocess.DEVNULL)
    fn()
    res[name + "_Minstr"] = round(total() / n / 1e6, 2)
terms = ["bergmann", "steinow", "anna", "paris", "globex", "hofer", "eichez"]
text = lambda t, total=False: call([["ContactCard/query", {"accountId": acct, "filter": {"text": t},
                                     "limit": 50, "calculateTotal": total}, "t"]])
call([["Core/echo", {}, "e"]])
phase("text", 7, lambda: [text(t) for t in terms])
phase("text_paris", 1, lambda: text("paris"))
phase("text_total", 7, lambda: [text(t, True) for t in terms])
rnd = random.Random(5)
sorted_page = lambda: call([["ContactCard/query", {"accountId": acct, "sort": [
    {"property": "name/surname"}, {"property": "name/given"}], "position": rnd.randrange(0, 50000),
    "limit": 100, "calculateTotal": True}, "s"]])
phase("sorted_first", 1, sorted_page)
phase("sorted", 6, lambda: [sorted_page() for _ in range(6)])
print(json.dumps(res))
srv.terminate(); srv.wait()
os.unlink(conf.name)
