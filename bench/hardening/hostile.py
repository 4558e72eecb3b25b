"""Figures for bench/bench_hardening_http.sh: python3 hostile.py PORT PID DBPATH.
Prints one line per figure with its bound; exits 1 if a bound is passed."""
import base64
import os
import socket
import sqlite3
import sys
import threading
import time

import requests

port, pid, dbpath = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
base = f"http://127.0.0.1:{port}"
CORE, CAL = "urn:ietf:params:jmap:core", "urn:ietf:params:jmap:calendars"
failed = []


def status(key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def figure(name, value, unit, bound):
    ok = value <= bound
    print(f"{name:60s} {value:10.1f} {unit:3s} (bound {bound}){'' if ok else '  FAILED'}")
    if not ok:
        failed.append(name)


def session():
    h = requests.Session()
    h.auth = ("bench", "bench-pw")
    return h


h = session()
acct = h.get(base + "/jmap/session").json()["primaryAccounts"][CAL]
api = base + "/jmap/api/"
h.post(api, json={"using": [CORE], "methodCalls": [["Core/echo", {}, "0"]]})
time.sleep(0.3)

# §2: eight unauthenticated 45 MB uploads, each sending until the server closes
rss0 = status("VmRSS")


def unauth_upload():
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"POST /jmap/upload/x/ HTTP/1.1\r\nHost: x\r\nContent-Length: 45000000\r\n\r\n")
    c.settimeout(5)
    chunk = b"x" * 65536
    try:
        for _ in range(45000000 // 65536):
            c.sendall(chunk)
    except OSError:
        pass
    c.close()


t = time.time()
ts = [threading.Thread(target=unauth_upload) for _ in range(8)]
for x in ts:
    x.start()
for x in ts:
    x.join()
figure("8 unauthenticated 45 MB uploads: wall time", time.time() - t, "s", 5)
figure("8 unauthenticated 45 MB uploads: RSS growth", (status("VmRSS") - rss0) / 1024, "MB", 20)

# §2: an authenticated 45 MB upload streams (peak RSS growth, VmHWM)
hwm0 = status("VmHWM")
data = os.urandom(1 << 20) * 45
t = time.time()
r = h.post(f"{base}/jmap/upload/{acct}/", data=data)
assert r.status_code == 201, r.text
figure("authenticated 45 MB upload: time", time.time() - t, "s", 10)
figure("authenticated 45 MB upload: peak RSS growth (VmHWM)", (status("VmHWM") - hwm0) / 1024,
       "MB", 60)
del data

# §6: /health while four API requests wait for another process's write lock
db = sqlite3.connect(dbpath, timeout=1, isolation_level=None)
db.execute("BEGIN IMMEDIATE")


def long_write(i):
    session().post(api, json={"using": [CORE, CAL], "methodCalls": [
        ["Calendar/set", {"accountId": acct, "create": {"c": {"name": f"n{i}"}}}, "0"]]},
        timeout=60)


ts = [threading.Thread(target=long_write, args=(i,)) for i in range(4)]
for x in ts:
    x.start()
    time.sleep(0.2)  # one at a time, so each HTTP thread has accepted one of them
time.sleep(0.5)


def timed(fn):
    t = time.time()
    try:
        fn()
    except requests.RequestException:
        return 5.0  # no answer within the timeout
    return time.time() - t


echo = timed(lambda: session().post(api, json={"using": [CORE], "methodCalls": [
    ["Core/echo", {}, "0"]]}, timeout=5))
lat = [timed(lambda: requests.get(base + "/health", timeout=5)) for _ in range(3)]
db.execute("ROLLBACK")
db.close()
for x in ts:
    x.join()
figure("/health while 4 requests wait for a lock: max latency", max(lat) * 1000, "ms", 500)
figure("Core/echo while 4 requests wait for a lock: latency", echo * 1000, "ms", 1000)

# §7: Core/echo of a million {} (4 MB)
rss0 = status("VmRSS")
body = '{"using":["%s"],"methodCalls":[["Core/echo",{"a":[%s]},"0"]]}' % (
    CORE, ",".join(["{}"] * 1000000))
t = time.time()
r = h.post(api, data=body, headers={"Content-Type": "application/json"})
figure(f"Core/echo of 1,000,000 {{}} (answer {r.status_code}): time", time.time() - t, "s", 2)
figure("Core/echo of 1,000,000 {}: RSS growth", (status("VmRSS") - rss0) / 1024, "MB", 30)

# §7: 31 references to an 8 MB result
rss0 = status("VmRSS")
calls = [["Core/echo", {"s": "x" * 8000000}, "a"]] + [
    ["Core/echo", {"#s": {"resultOf": "a", "name": "Core/echo", "path": "/s"}}, f"r{i}"]
    for i in range(31)]
t = time.time()
r = h.post(api, json={"using": [CORE], "methodCalls": calls})
figure("8 MB + 31 result references: time", time.time() - t, "s", 5)
figure("8 MB + 31 result references: response size", len(r.content) / 1e6, "MB", 34)
figure("8 MB + 31 result references: RSS growth", (status("VmRSS") - rss0) / 1024, "MB", 120)
sys.exit(1 if failed else 0)
