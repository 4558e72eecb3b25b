"""CalDAV benchmark (issue 20): the same four requests on jmapd and on Radicale,
median of several runs each; jmapd's memory above idle during a full sync.
Usage: bench.py JMAPD_URL USER PASSWORD PID EVENTS_ICS [RADICALE_COLLECTION_URL]"""
import os
import re
import statistics
import sys
import time
import xml.etree.ElementTree as ET

import requests

NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"'
D = "{DAV:}"
RUNS = 5


def timed(fn, runs=RUNS):
    xs, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        xs.append(time.perf_counter() - t)
    return statistics.median(xs), out


def report(s, url, body, depth):
    r = s.request("REPORT", url, data=body, headers={"Depth": str(depth),
                                                     "Content-Type": "application/xml"})
    assert r.status_code == 207, (r.status_code, r.text[:300])
    return r


def sync(s, url, token=""):
    body = (f'<d:sync-collection {NS}><d:sync-token>{token}</d:sync-token><d:sync-level>1'
            '</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>')
    r = report(s, url, body, 0)
    root = ET.fromstring(r.content)
    hrefs = [e.find(D + "href").text for e in root.findall(D + "response")]
    return hrefs, root.find(D + "sync-token").text


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


def rss_kib(pid, field="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure(s, url, events, label, pid=None):
    out = {}
    if pid:  # the peak from here on (Linux: 5 resets VmHWM)
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    idle = rss_kib(pid) if pid else 0
    peak = [idle]
    t, (hrefs, token) = timed(lambda: sync(s, url), runs=3)
    if pid:
        peak.append(rss_kib(pid, "VmHWM"))
    assert len(hrefs) >= len(events), (len(hrefs), len(events))
    out["initial sync-collection"] = t
    # 10 changes through CalDAV, then the incremental sync
    by_name = {h.rsplit("/", 1)[1]: h for h in hrefs}
    changed = list(by_name.values())[:10]
    for h in changed:
        g = s.get(url.split("/", 3)[0] + "//" + url.split("/", 3)[2] + h if h.startswith("/") else h)
        body = g.text.replace("SUMMARY:", "SUMMARY:changed ", 1)
        target = g.url
        r = s.put(target, data=body.encode(), headers={"Content-Type": "text/calendar"})
        assert r.status_code in (200, 201, 204), (r.status_code, r.text[:200])
    t, (inc, _) = timed(lambda: sync(s, url, token))
    assert len(inc) >= 10, len(inc)
    out["incremental sync (10 changes)"] = t
    hs = "".join(f"<d:href>{h}</d:href>" for h in list(by_name.values())[100:200])
    body = (f'<c:calendar-multiget {NS}><d:prop><d:getetag/><c:calendar-data/></d:prop>{hs}'
            '</c:calendar-multiget>')
    t, r = timed(lambda: report(s, url, body, 1))
    assert r.text.count("BEGIN:VCALENDAR") == 100
    out["calendar-multiget of 100"] = t
    q = (f'<c:calendar-query {NS}><d:prop><d:getetag/><c:calendar-data><c:expand '
         'start="20250601T000000Z" end="20250701T000000Z"/></c:calendar-data></d:prop>'
         '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range '
         'start="20250601T000000Z" end="20250701T000000Z"/></c:comp-filter></c:comp-filter>'
         '</c:filter></c:calendar-query>')
    t, r = timed(lambda: report(s, url, q, 1), runs=3)
    out["one-month calendar-query with expand"] = t
    n = r.text.count("<D:response>") + r.text.count("<response>")
    print(f"{label}: query matched {n} resources")
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
    theirs = None
    if radicale:
        rs = requests.Session()
        rs.auth = ("test", "test")
        load_radicale(rs, radicale, events)
        theirs = measure(rs, radicale, events, "Radicale")
    print(f"{'request':40} {'jmapd':>10} {'Radicale':>10} {'ratio':>8}")
    for k, v in ours.items():
        if k == "memory":
            continue
        o = theirs.get(k) if theirs else None
        ratio = f"{o / v:7.1f}x" if o else ""
        print(f"{k:40} {v * 1000:8.1f}ms {o * 1000 if o else float('nan'):8.1f}ms {ratio}")
    print(f"jmapd memory above idle during the full sync: {ours['memory']:.1f} MiB")


if __name__ == "__main__":
    main()
