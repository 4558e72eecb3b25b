"""A tiny JMAP call against its floor (issue 21 §5): CalendarEvent/changes from the state
before one update, and Core/echo beside it (the HTTP round trip, authentication and the
request's JSON: what every call costs), on jmapd and, when its peer env file exists, on
Cyrus 3.6, each with wrk (one connection: latency-bound, the client is C). Prints
requests/s, jmapd's CPU per request (/proc, which the neighbours on a loaded machine do
not inflate), what /changes costs beyond echo, and the jmapd/Cyrus ratios of the same run
(target: /changes >= 8x Cyrus).

usage: changes.py BASE_URL USER PASSWORD JMAPD_PID [SECONDS]"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import requests

CORE = "urn:ietf:params:jmap:core"
TICK = os.sysconf("SC_CLK_TCK")


def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_ms(pid):
    """CPU ms (user + system) of a process, or for "tree:PID" of it and its children
    (Cyrus: the master forks httpd processes; those it reaped count in its own)."""
    if not pid:
        return None
    if not str(pid).startswith("tree:"):
        f = stat(pid)
        return (int(f[11]) + int(f[12])) * 1000 / TICK
    root, total = int(pid[5:]), 0
    for p in os.listdir("/proc"):
        try:
            f = stat(p) if p.isdigit() else None
        except OSError:
            continue
        if f and (int(p) == root or int(f[1]) == root):
            total += sum(int(x) for x in f[11:15])
    return total * 1000 / TICK


def wrk(url, path, auth, body, seconds, pid=None):
    """(requests/s, server CPU ms per request or None) of POSTing body, one connection."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(f'wrk.method = "POST"\nwrk.headers["Authorization"] = "{auth}"\n'
                f'wrk.headers["Content-Type"] = "application/json"\nlocal r\n'
                f'init = function(args) r = wrk.format(nil, "{path}", nil, '
                f'{json.dumps(body)}) end\nrequest = function() return r end\n')
        script = f.name
    t = cpu_ms(pid)
    out = subprocess.run(["wrk", "-t1", "-c1", f"-d{seconds}s", "-s", script, url],
                         capture_output=True, text=True).stdout
    used = cpu_ms(pid) - t if pid else None
    os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    n = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, (used / n if used is not None and n else None)


def measure(url, session_path, api_path, user, pw, cap, event, pid, seconds):
    http = requests.Session()
    http.auth = (user, pw)
    api = url + api_path

    def call(name, args):
        r = http.post(api, json={"using": [CORE, cap], "methodCalls": [[name, args, "0"]]})
        r.raise_for_status()
        return r.json()["methodResponses"][0][1]

    acct = http.get(url + session_path).json()["primaryAccounts"][cap]
    created = call("CalendarEvent/set", {"accountId": acct, "create": {"a": event(acct, call)}})
    eid = list(created["created"].values())[0]["id"]
    old = created["newState"]
    call("CalendarEvent/set", {"accountId": acct, "update": {eid: {"title": "Changed"}}})
    out = call("CalendarEvent/changes", {"accountId": acct, "sinceState": old})
    assert out.get("updated") == [eid], out
    auth = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()
    res = {}
    for name, calls in (("echo", [["Core/echo", {}, "0"]]),
                        ("changes", [["CalendarEvent/changes",
                                      {"accountId": acct, "sinceState": old}, "0"]])):
        body = json.dumps({"using": [CORE, cap], "methodCalls": calls})
        wrk(url, api_path, auth, body, 1)  # warm: the credential verified, caches filled
        res[name + "_rps"], res[name + "_cpu_ms"] = wrk(url, api_path, auth, body, seconds, pid)
    call("CalendarEvent/set", {"accountId": acct, "destroy": [eid]})
    return res


def jmapd_event(acct, call):
    cal = call("Calendar/get", {"accountId": acct})["list"][0]["id"]
    return {"calendarIds": {cal: True}, "title": "Tiny", "start": "2026-05-04T10:00:00",
            "timeZone": "Etc/UTC", "duration": "PT1H"}


def cyrus_event(acct, call):
    return {"calendarId": "Default", "@type": "jsevent", "title": "Tiny",
            "uid": f"changes-{os.getpid()}@bench", "start": "2026-05-04T10:00:00",
            "timeZone": "Etc/UTC", "duration": "PT1H"}


def main():
    url, user, pw, pid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    seconds = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    if not shutil.which("wrk"):
        print("changes: wrk not installed (scripts/deps.sh bench): skipped")
        return
    ours = measure(url, "/jmap/session", "/jmap/api/", user, pw, "urn:ietf:params:jmap:calendars", jmapd_event,
                   pid, seconds)
    print("tiny calls, one connection (wrk -c1):")
    print(f"  jmapd  Core/echo {ours['echo_rps']:8.0f}/s ({ours['echo_cpu_ms'] * 1000:.0f} us CPU)"
          f"   CalendarEvent/changes {ours['changes_rps']:8.0f}/s "
          f"({ours['changes_cpu_ms'] * 1000:.0f} us CPU, "
          f"+{(ours['changes_cpu_ms'] - ours['echo_cpu_ms']) * 1000:.0f} us beyond echo)")
    env = os.environ.get("CYRUS_PEER_ENV", "/var/lib/cyrus-peer/peer.env")
    if not os.path.exists(env):
        print("  Cyrus peer not running (../shared/peers/cyrus/setup.sh): no ratios")
        return
    peer = dict(line.strip().split("=", 1) for line in open(env) if "=" in line)
    peer = {k: v.strip('"').strip("'") for k, v in peer.items()}
    m = re.match(r"(https?://[^/]+)(/.*)", peer["CYRUS_PEER_API"])
    session = re.match(r"https?://[^/]+(/.*)", peer["CYRUS_PEER_SESSION"]).group(1)
    pidfile = os.path.join(os.path.dirname(env), "run", "master.pid")
    master = f"tree:{open(pidfile).read().strip()}" if os.path.exists(pidfile) else None
    theirs = measure(m.group(1), session, m.group(2), peer["CYRUS_PEER_USER"],
                     peer["CYRUS_PEER_PASS"], "https://cyrusimap.org/ns/jmap/calendars",
                     cyrus_event, master, seconds)
    cpu = theirs["echo_cpu_ms"] is not None
    print(f"  Cyrus  Core/echo {theirs['echo_rps']:8.0f}/s"
          + (f" ({theirs['echo_cpu_ms'] * 1000:.0f} us CPU)" if cpu else "")
          + f"   CalendarEvent/changes {theirs['changes_rps']:8.0f}/s"
          + (f" ({theirs['changes_cpu_ms'] * 1000:.0f} us CPU)" if cpu else ""))
    print(f"  jmapd/Cyrus requests/s: Core/echo {ours['echo_rps'] / theirs['echo_rps']:.1f}x, "
          f"CalendarEvent/changes {ours['changes_rps'] / theirs['changes_rps']:.1f}x "
          f"(target >= 8x)")
    if cpu:
        print(f"  Cyrus/jmapd server CPU per request: Core/echo "
              f"{theirs['echo_cpu_ms'] / ours['echo_cpu_ms']:.1f}x, CalendarEvent/changes "
              f"{theirs['changes_cpu_ms'] / ours['changes_cpu_ms']:.1f}x (what a loaded machine "
              f"does not blur)")


if __name__ == "__main__":
    main()
