"""CalDAV benchmark (issue 20): the same five requests on jmapd, Radicale and Cyrus,
median of several runs each (wall clock, ratios in one run), each server's own CPU time
per request beside it where it can be read (jmapd's process; Cyrus's master and the
processes it forked, from CYRUS_PEER_DIR/run/master.pid): the machine is shared and the
wall clock carries others' load, the CPU ratio does not; jmapd's memory above idle
during a full sync. Beside each figure the client's own CPU per request (python-requests:
a cost every server's figure carries) and, with FLOOR_URL and FLOOR_DIR (bench_dav.sh
starts nginx), the floor: the same client fetching the same answer, as a static file of
the same size, from nginx.
Usage: bench.py JMAPD_URL USER PASSWORD PID EVENTS_ICS [RADICALE_URL [CYRUS_URL]]
(the peers' calendar collection URLs; empty to leave a peer out)"""
import os
import re
import statistics
import sys
import time
import xml.etree.ElementTree as ET

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cyrus_peer import cpu_s, load as load_cyrus, master  # noqa: E402

NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"'
D = "{DAV:}"
RUNS = 5


CPU = {}  # the last timed() call's server CPU seconds per run (jmapd only)
CLIENT = {}  # the last timed() call's client CPU seconds per run (this process)


def timed(fn, runs=RUNS, pid=None):
    """The median wall time of runs calls; with pid, the median of the server's CPU time
    of the warm calls (the runs after the first: the first may fill a cache) in CPU (the
    machine is shared: the wall clock carries the other processes' load, and a median
    less of it than a mean)."""
    xs, out, cpus, client = [], None, [], []
    for i in range(runs):
        c0 = cpu_s(pid) if pid else 0
        p = time.process_time()
        t = time.perf_counter()
        out = fn()
        xs.append(time.perf_counter() - t)
        client.append(time.process_time() - p)
        if pid and (i >= 1 or runs == 1):
            cpus.append(cpu_s(pid) - c0)
    CPU["last"] = statistics.median(cpus) if pid else None
    CLIENT["last"] = statistics.median(client)
    return statistics.median(xs), out


def report(s, url, body, depth):
    r = s.request("REPORT", url, data=body, headers={"Depth": str(depth),
                                                     "Content-Type": "application/xml"})
    assert r.status_code == 207, (r.status_code, r.text[:300])
    return r


def sync_request(s, url, token=""):
    body = (f'<d:sync-collection {NS}><d:sync-token>{token}</d:sync-token><d:sync-level>1'
            '</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>')
    return report(s, url, body, 0)


def sync_parse(r):
    """The hrefs and the new token of a sync-collection answer (parsed outside the timed
    part: the figure is the server's, not this script's XML parser's)."""
    root = ET.fromstring(r.content)
    hrefs = [e.find(D + "href").text for e in root.findall(D + "response")]
    return hrefs, root.find(D + "sync-token").text


def sync(s, url, token=""):
    return sync_parse(sync_request(s, url, token))


def split_events(path):
    """The VEVENTs of the generated file as one-event VCALENDARs (uid -> text)."""
    with open(path, newline="") as f:
        text = f.read()
    out = {}
    for m in re.finditer(r"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", text, re.S):
        ev = m.group(0)
        uid = re.search(r"UID:(.*)\r\n", ev).group(1)
        out[uid] = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n" + ev +
                    "END:VCALENDAR\r\n")
    return out


def instances(root):
    """UID -> set of the instances' start times (UTC text) in an expanded answer."""
    out = {}
    for e in root.iter("{urn:ietf:params:xml:ns:caldav}calendar-data"):
        text = re.sub(r"\r?\n[ \t]", "", e.text or "")
        for ev in re.findall(r"BEGIN:VEVENT.*?END:VEVENT", text, re.S):
            uid = re.search(r"^UID:(.*?)\r?$", ev, re.M).group(1)
            rid = re.search(r"^RECURRENCE-ID[^:]*:(.*?)\r?$", ev, re.M)
            start = re.search(r"^DTSTART[^:]*:(.*?)\r?$", ev, re.M).group(1)
            out.setdefault(uid, set()).add(rid.group(1) if rid else start)
    return out


def unsynchronized_starts(path):
    """UID -> DTSTART in UTC text of the recurring events whose DTSTART the rule does not
    produce (a BYMONTHDAY or BYDAY rule starting on another day): RFC 5545 §3.8.5.3 leaves
    their recurrence set undefined; RFC 8984 §4.3.3 counts the start as the first
    occurrence, libical (Cyrus) drops it."""
    import datetime
    import zoneinfo
    with open(path, newline="") as f:
        text = f.read()
    days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    out = {}
    for ev in re.findall(r"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", text, re.S):
        rule = re.search(r"^RRULE:(.*)\r$", ev, re.M)
        m = re.search(r"^DTSTART(?:;TZID=([^:;]+))?:(\d{8}T\d{6})(Z?)", ev, re.M)
        if not rule or not m:
            continue
        t = datetime.datetime.strptime(m.group(2), "%Y%m%dT%H%M%S")
        parts = dict(p.split("=", 1) for p in rule.group(1).split(";"))
        if "BYMONTHDAY" in parts:
            synced = t.day == int(parts["BYMONTHDAY"])
        elif "BYDAY" in parts:  # "MO,WE,FR" (weekly) or "2TU" (monthly: the 2nd Tuesday)
            synced = False
            for d in parts["BYDAY"].split(","):
                n = int(d[:-2]) if len(d) > 2 else 0
                synced |= days[t.weekday()] == d[-2:] and (not n or (t.day - 1) // 7 + 1 == n)
        else:
            continue
        if synced:
            continue
        if m.group(1):
            t = t.replace(tzinfo=zoneinfo.ZoneInfo(m.group(1))).astimezone(datetime.timezone.utc)
        uid = re.search(r"^UID:(.*?)\r$", ev, re.M).group(1)
        out[uid] = t.strftime("%Y%m%dT%H%M%SZ")
    return out


def rss_kib(pid, field="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


PEER_RUNS = int(os.environ.get("PEER_RUNS", "1"))
LISTING_BOUND = 1.4


FLOOR_URL, FLOOR_DIR = os.environ.get("FLOOR_URL", ""), os.environ.get("FLOOR_DIR", "")
FLOOR = requests.Session()


def floor(body, runs):
    """The median wall time of the same client fetching body, as a static file, from nginx
    (FLOOR_URL serves FLOOR_DIR): what any server's answer of that size costs this client
    and the loopback at least; None without nginx."""
    if not FLOOR_URL:
        return None
    name = f"floor-{len(body)}.xml"
    with open(os.path.join(FLOOR_DIR, name), "wb") as f:
        f.write(body)
    url = FLOOR_URL.rstrip("/") + "/" + name
    FLOOR.get(url).raise_for_status()  # a connection to reuse, as the server's session has
    t, r = timed(lambda: FLOOR.get(url), runs=max(runs, 5))
    assert r.status_code == 200 and len(r.content) == len(body), (r.status_code, len(r.content))
    return t


def record(out, label, what, t, r=None, runs=1):
    """One figure of out (with the server's CPU, the client's, and the floor of answer r);
    printed at once."""
    out[what] = t
    cpu, client = CPU.get("last"), CLIENT.get("last")
    if cpu is not None:
        out.setdefault("cpu", {})[what] = cpu
    out.setdefault("client", {})[what] = client
    low = floor(r.content, runs) if r is not None else None
    if low is not None:
        out.setdefault("floor", {})[what] = low
    extra = f"server CPU {cpu * 1000:.1f} ms, " if cpu is not None else ""
    extra += f"client CPU {client * 1000:.1f} ms per request"
    if low is not None:
        extra += f"; floor {low * 1000:.1f} ms (nginx, the same {len(r.content) / 1024:.0f} KiB)"
    print(f"{label}: {what} {t * 1000:.1f} ms ({extra})", flush=True)


def wait_idle(pid, quiet_s=0.002, step=0.25, bound=120):
    """Waits until the server's threads have run less than quiet_s of CPU in each of two
    steps (what a start does in the background, e.g. the alert scheduler's first look at
    an imported account, must not land in the measured requests); returns the seconds
    waited."""
    t0, last, calm = time.perf_counter(), cpu_s(pid), 0
    while calm < 2 and time.perf_counter() - t0 < bound:
        time.sleep(step)
        now = cpu_s(pid)
        calm = calm + 1 if now - last < quiet_s else 0
        last = now
    return time.perf_counter() - t0


def measure(s, url, events, label, pid=None, cpu_pid=None):
    """The five requests on one server; each figure printed as soon as it is measured (a
    peer's are the median of PEER_RUNS runs: Radicale takes minutes for some). pid: jmapd's
    (its memory too); cpu_pid: a peer's processes whose CPU time is read."""
    runs = RUNS if pid else PEER_RUNS
    cpu = pid or cpu_pid
    out = {}
    if cpu:  # jmapd, Cyrus (its master and children)
        print(f"{label}: idle after {wait_idle(cpu):.1f} s", flush=True)
    if pid:  # the peak from here on (Linux: 5 resets VmHWM)
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    idle = rss_kib(pid) if pid else 0
    peak = [idle]
    t, r = timed(lambda: sync_request(s, url), runs=runs, pid=cpu)
    hrefs, token = sync_parse(r)
    if pid:
        peak.append(rss_kib(pid, "VmHWM"))
    assert len(hrefs) >= len(events), (len(hrefs), len(events))
    record(out, label, "initial sync-collection", t, r, runs)
    # 10 changes through CalDAV, then the incremental sync
    by_name = {h.rsplit("/", 1)[1]: h for h in hrefs}
    changed = list(by_name.values())[:10]
    for h in changed:
        g = s.get(url.split("/", 3)[0] + "//" + url.split("/", 3)[2] + h if h.startswith("/") else h)
        body = g.text.replace("SUMMARY:", "SUMMARY:changed ", 1)
        target = g.url
        r = s.put(target, data=body.encode(), headers={"Content-Type": "text/calendar"})
        assert r.status_code in (200, 201, 204), (r.status_code, r.text[:200])
    t, r = timed(lambda: sync_request(s, url, token), runs=runs, pid=cpu)
    inc, _ = sync_parse(r)
    assert len(inc) >= 10, len(inc)
    record(out, label, "incremental sync (10 changes)", t, r, runs)
    hs = "".join(f"<d:href>{h}</d:href>" for h in list(by_name.values())[100:200])
    body = (f'<c:calendar-multiget {NS}><d:prop><d:getetag/><c:calendar-data/></d:prop>{hs}'
            '</c:calendar-multiget>')
    t, r = timed(lambda: report(s, url, body, 1), runs=runs, pid=cpu)
    assert r.text.count("BEGIN:VCALENDAR") == 100
    record(out, label, "calendar-multiget of 100", t, r, runs)
    q = (f'<c:calendar-query {NS}><d:prop><d:getetag/><c:calendar-data><c:expand '
         'start="20250601T000000Z" end="20250701T000000Z"/></c:calendar-data></d:prop>'
         '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range '
         'start="20250601T000000Z" end="20250701T000000Z"/></c:comp-filter></c:comp-filter>'
         '</c:filter></c:calendar-query>')
    t, r = timed(lambda: report(s, url, q, 1), runs=min(3, runs), pid=cpu)
    record(out, label, "one-month calendar-query with expand", t, r, min(3, runs))
    # what each server answered, counted by namespace (Cyrus writes d:response, jmapd
    # D:response): the matched resources and the expanded instances in their data
    root = ET.fromstring(r.content)
    n = len(root.findall(D + "response"))
    out["instances"] = instances(root)
    inst = sum(len(v) for v in out["instances"].values())
    print(f"{label}: query matched {n} resources, {inst} instances")
    out["matched"] = (n, inst)
    # a second calendar beside it: a listing of the first reads only its own members
    second = url.rstrip("/") + "-second/"
    r = s.request("MKCALENDAR", second, headers={"Content-Type": "application/xml"})
    assert r.status_code == 201, (r.status_code, r.text[:300])
    one = next(iter(events.values())).replace("UID:", "UID:second-", 1)
    r = s.put(second + "second.ics", data=one.encode(), headers={"Content-Type": "text/calendar"})
    assert r.status_code in (201, 204), (r.status_code, r.text[:200])
    pf = f'<d:propfind {NS}><d:prop><d:getetag/></d:prop></d:propfind>'
    t, r = timed(lambda: s.request("PROPFIND", url, data=pf, headers={
        "Depth": "1", "Content-Type": "application/xml"}), runs=runs, pid=cpu)
    assert r.status_code == 207 and r.text.count("getetag>") >= 2 * len(events), r.status_code
    record(out, label, "PROPFIND depth 1 beside a 2nd calendar", t, r, runs)
    if pid:
        # the listing of one of two calendars walks that calendar's member list
        # (dav_members.c), as the initial sync of the only one does: a bound on the ratio
        # of the server's CPU per request, both measured here (session 8: 1.9; 2.4-3.5
        # at load 8-10 before the lists)
        ratio = out["cpu"]["PROPFIND depth 1 beside a 2nd calendar"] / max(
            out["cpu"]["initial sync-collection"], 1e-6)
        print(f"{label}: PROPFIND beside a 2nd calendar / initial sync, server CPU: "
              f"{ratio:.2f} (bound {LISTING_BOUND})", flush=True)
        assert ratio <= LISTING_BOUND, ratio
    if pid:
        out["memory"] = (max(peak) - idle) / 1024.0
    return out


def load_radicale(s, url, events):
    """Loads the events into Radicale's collection as it stores them, one file per
    resource in the collection's folder (as `jmapd import` loads jmapd: 10,000 PUTs
    take Radicale hours, each rescans the collection), before Radicale first reads
    the collection; PUT when the folder is not on this machine."""
    folder = os.path.join(os.environ.get("RADICALE_PEER_DIR", "/var/lib/radicale-peer"),
                          "collections/collection-root", url.split("/", 3)[3].strip("/"))
    for uid, text in events.items():
        name = re.sub(r"[^A-Za-z0-9.-]", "_", uid) + ".ics"
        if os.path.isdir(folder):
            with open(os.path.join(folder, name), "w", newline="") as f:
                f.write(text)
        else:
            s.put(url + name, data=text.encode(), headers={"Content-Type": "text/calendar"})
    time.sleep(1.1)  # Radicale notices a changed folder by its mtime
    n = len(sync(s, url)[0])
    assert n >= len(events), f"Radicale lists {n} of {len(events)} events"


def main():
    base, user, pw, pid, ics_path = sys.argv[1:6]
    radicale = sys.argv[6] if len(sys.argv) > 6 else ""
    cyrus = sys.argv[7] if len(sys.argv) > 7 else ""
    events = split_events(ics_path)
    assert len(events) > 0, ics_path
    s = requests.Session()
    s.auth = (user, pw)
    r = s.request("PROPFIND", base + f"/dav/principals/{user}/", headers={"Depth": "0"},
                  data=f'<d:propfind {NS}><d:prop><c:calendar-home-set/></d:prop></d:propfind>')
    home = re.search(r"calendar-home-set><D:href>([^<]*)<", r.text).group(1)
    r = s.request("PROPFIND", base + home, headers={"Depth": "1"},
                  data=f'<d:propfind {NS}><d:prop><d:resourcetype/></d:prop></d:propfind>')
    cal = [h for h in re.findall(r"<D:href>([^<]*)</D:href>", r.text) if h != home][0]
    ours = measure(s, base + cal, events, "jmapd", int(pid))
    peers = {}
    if radicale:
        rs = requests.Session()
        rs.auth = ("test", "test")
        load_radicale(rs, radicale, events)
        peers["Radicale"] = measure(rs, radicale, events, "Radicale")
    if cyrus:
        cs = requests.Session()
        cs.auth = ("test", "test")
        t = time.perf_counter()
        load_cyrus(cs, cyrus, os.environ.get("CYRUS_ICS", ics_path))
        print(f"Cyrus: import of {len(events)} events {time.perf_counter() - t:.1f} s")
        peers["Cyrus"] = measure(cs, cyrus, events, "Cyrus", cpu_pid=master())
    unsync = unsynchronized_starts(ics_path)
    for name, p in peers.items():
        # the instances one server gave and the other did not, per UID
        only_ours = {(u, t) for u, ts in ours["instances"].items()
                     for t in ts - p["instances"].get(u, set())}
        only_theirs = {(u, t) for u, ts in p["instances"].items()
                       for t in ts - ours["instances"].get(u, set())}
        starts = {(u, t) for u, t in only_ours if unsync.get(u) == t}
        if p["matched"] == ours["matched"] and not only_ours and not only_theirs:
            print(f"{name}'s calendar-query answered the same {ours['matched'][0]} resources "
                  f"and {ours['matched'][1]} instances as jmapd's")
        elif not only_theirs and only_ours == starts:
            print(f"{name}'s calendar-query answered the same instances as jmapd's except "
                  f"{len(starts)} DTSTARTs their RRULE does not produce (RFC 5545 §3.8.5.3: "
                  "undefined; RFC 8984 §4.3.3 counts the start, libical drops it): the "
                  "same work")
        else:
            print(f"note: {name}'s calendar-query matched {p['matched']} (resources, "
                  f"instances), jmapd's {ours['matched']}; {len(only_ours)} instances only "
                  f"jmapd's ({len(starts)} of them unsynchronized DTSTARTs), "
                  f"{len(only_theirs)} only {name}'s: that ratio compares different work")
    # "above floor": each server's wall clock less the floor of its own answer (the
    # same client fetching as many bytes from nginx), the ratio of what the servers add
    head = f"{'request':38} {'jmapd':>10} {'its CPU':>10} {'floor':>10}"
    for name, p in peers.items():
        head += f" {name:>10} {'ratio':>7}"
        if "cpu" in p:
            head += f" {'its CPU':>10} {'CPU ratio':>9}"
        if "floor" in p:
            head += f" {'floor':>10} {'above floor':>11}"
    print(head)
    for k, v in ours.items():
        if k in ("memory", "matched", "cpu", "instances", "client", "floor"):
            continue
        low = ours.get("floor", {}).get(k)
        line = (f"{k:38} {v * 1000:8.1f}ms {ours.get('cpu', {}).get(k, 0) * 1000:8.1f}ms " +
                (f"{low * 1000:8.1f}ms" if low is not None else f"{'-':>10}"))
        for p in peers.values():
            o = p.get(k)
            line += f" {o * 1000:8.1f}ms {o / v:6.1f}x"
            if "cpu" in p:  # below a clock tick jmapd's CPU is 0: no ratio
                mine, theirs = ours.get("cpu", {}).get(k, 0), p["cpu"].get(k, 0)
                line += f" {theirs * 1000:8.1f}ms " + (
                    f"{theirs / mine:8.1f}x" if mine > 0 else f"{'-':>9}")
            if "floor" in p and low is not None:
                theirs_low = p["floor"][k]
                line += f" {theirs_low * 1000:8.1f}ms " + (
                    f"{(o - theirs_low) / (v - low):10.1f}x" if v > low else f"{'-':>11}")
        print(line)
    print(f"jmapd memory above idle during the full sync: {ours['memory']:.1f} MiB")


if __name__ == "__main__":
    main()
