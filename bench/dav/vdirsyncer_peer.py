"""vdirsyncer between jmapd and Radicale (issue 20: "the same vdirsyncer scenario runs
against Radicale ... to show both servers end in the same state"): one vdirsyncer pair
with jmapd's calendar and address book on side a and Radicale's on side b, synced both
ways through a create, change and delete on each side and a conflict ("a wins"), with
N events and N/10 cards on each side; after every step both servers hold the same items
(UID -> SUMMARY/FN, read over CalDAV/CardDAV on each and over JMAP on jmapd). Prints
each sync's time; exits non-zero when the states differ.
Usage: vdirsyncer_peer.py JMAPD_URL USER PW RADICALE_URL RUSER RPW [N]"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET

import requests

D = "{DAV:}"
CORE, CAL, CONTACTS = ("urn:ietf:params:jmap:core", "urn:ietf:params:jmap:calendars",
                       "urn:ietf:params:jmap:contacts")

CONFIG = """[general]
status_path = "{t}/status/"

[pair cal]
a = "cal_jmapd"
b = "cal_radicale"
collections = [["cal", "{cal_a}", "calendar"]]
conflict_resolution = "a wins"

[storage cal_jmapd]
type = "caldav"
url = "{a}/"
username = "{au}"
password = "{ap}"

[storage cal_radicale]
type = "caldav"
url = "{b}/"
username = "{bu}"
password = "{bp}"

[pair card]
a = "card_jmapd"
b = "card_radicale"
collections = [["card", "{book_a}", "contacts"]]
conflict_resolution = "a wins"

[storage card_jmapd]
type = "carddav"
url = "{a}/"
username = "{au}"
password = "{ap}"

[storage card_radicale]
type = "carddav"
url = "{b}/"
username = "{bu}"
password = "{bp}"
"""


def ics(uid, summary, day):
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN", "BEGIN:VEVENT",
                        f"UID:{uid}", "DTSTAMP:20260101T000000Z",
                        f"DTSTART:202606{day:02d}T100000Z", "DURATION:PT1H",
                        f"SUMMARY:{summary}", "END:VEVENT", "END:VCALENDAR", ""])


def vcf(uid, fn):
    return "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{fn}",
                        f"N:{fn};;;;", "END:VCARD", ""])


def unfold(t):
    return re.sub(r"\r?\n[ \t]", "", t)


class Dav:
    def __init__(self, base, user, pw):
        self.base, self.s = base, requests.Session()
        self.s.auth = (user, pw)

    def listing(self, coll, field):
        """UID -> (field, href) of every resource of the collection (PROPFIND, GET each)."""
        r = self.s.request("PROPFIND", self.base + coll, headers={"Depth": "1"},
                           data='<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop>'
                                '</d:propfind>')
        assert r.status_code == 207, r.status_code
        origin = "/".join(self.base.split("/", 3)[:3])
        out = {}
        for resp in ET.fromstring(r.content).findall(D + "response"):
            href = resp.find(D + "href").text
            if href.endswith("/"):
                continue
            text = unfold(self.s.get(origin + href).text)
            m = re.search(r"^UID(;[^:]*)?:(.*)$", text, re.M)
            assert m, (href, text[:300])
            uid = m.group(2).strip()
            value = re.search(rf"^{field}(;[^:]*)?:(.*)$", text, re.M).group(2).strip()
            out[uid] = (value, href)
        return out

    def items(self, coll, field):
        return {u: v for u, (v, _) in self.listing(coll, field).items()}

    def put(self, coll, name, body, ctype):
        r = self.s.put(self.base + coll + name, data=body.encode(),
                       headers={"Content-Type": ctype})
        assert r.status_code in (201, 204), (r.status_code, r.text[:200])

    def put_href(self, href, body):
        origin = "/".join(self.base.split("/", 3)[:3])
        r = self.s.put(origin + href, data=body.encode(), headers={"Content-Type": "text/calendar"})
        assert r.status_code in (201, 204), (r.status_code, r.text[:200])


def jmap_items(base, user, pw):
    """UID -> title of jmapd's events and UID -> full name of its cards, over JMAP."""
    s = requests.Session()
    s.auth = (user, pw)
    session = s.get(base + "/.well-known/jmap").json()
    api = session["apiUrl"] if session["apiUrl"].startswith("http") else base + session["apiUrl"]
    acct = session["primaryAccounts"][CAL]
    body = {"using": [CORE, CAL, CONTACTS], "methodCalls": [
        ["CalendarEvent/get", {"accountId": acct}, "e"],
        ["ContactCard/get", {"accountId": acct}, "c"]]}
    res = s.post(api, json=body).json()["methodResponses"]
    events = {e["uid"]: e["title"] for e in res[0][1]["list"]}
    cards = {c["uid"]: c.get("name", {}).get("full") for c in res[1][1]["list"]}
    return events, cards


def main():
    a, au, ap, b, bu, bp = sys.argv[1:7]
    n = max(10, int(sys.argv[7]) if len(sys.argv) > 7 else 100)
    ja, rb = Dav(a, au, ap), Dav(b, bu, bp)
    home = f"/dav/calendars/{au}/"
    # jmapd's first calendar and address book (the account's homes; the user's account)
    r = ja.s.request("PROPFIND", a + f"/dav/principals/{au}/", headers={"Depth": "0"}, data=(
        '<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" '
        'xmlns:cr="urn:ietf:params:xml:ns:carddav"><d:prop><c:calendar-home-set/>'
        '<cr:addressbook-home-set/></d:prop></d:propfind>'))
    hrefs = re.findall(r"<D:href>([^<]*)</D:href>", r.text)
    home, book_home = [h for h in hrefs if "/calendars/" in h][0], [
        h for h in hrefs if "/addressbooks/" in h][0]

    def first_coll(h, kind):
        r = ja.s.request("PROPFIND", a + h, headers={"Depth": "1"},
                         data='<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop>'
                              '</d:propfind>')
        for resp in ET.fromstring(r.content).findall(D + "response"):
            rt = resp.find(f"{D}propstat/{D}prop/{D}resourcetype")
            if rt is not None and rt.find(kind) is not None:
                return resp.find(D + "href").text
        raise SystemExit(f"no {kind} collection in {h}")

    cal_a = first_coll(home, "{urn:ietf:params:xml:ns:caldav}calendar")
    book_a = first_coll(book_home, "{urn:ietf:params:xml:ns:carddav}addressbook")
    cal_b, book_b = "/" + bu + "/calendar/", "/" + bu + "/contacts/"
    tmp = tempfile.mkdtemp()
    with open(os.path.join(tmp, "config"), "w") as f:
        f.write(CONFIG.format(t=tmp, a=a, au=au, ap=ap, b=b, bu=bu, bp=bp,
                              cal_a=cal_a.rstrip("/").rsplit("/", 1)[1],
                              book_a=book_a.rstrip("/").rsplit("/", 1)[1]))
    env = dict(os.environ, VDIRSYNCER_CONFIG=os.path.join(tmp, "config"))
    vdir = shutil.which("vdirsyncer")
    bad = []

    def sync(label):
        t = time.perf_counter()
        r = subprocess.run([vdir, "sync"], env=env, capture_output=True, text=True, timeout=3600)
        dt = time.perf_counter() - t
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        ev_a, ev_b = ja.items(cal_a, "SUMMARY"), rb.items(cal_b, "SUMMARY")
        c_a, c_b = ja.items(book_a, "FN"), rb.items(book_b, "FN")
        jev, jc = jmap_items(a, au, ap)
        same = ev_a == ev_b == jev and c_a == c_b == jc
        print(f"{label}: vdirsyncer sync {dt:.1f} s; events jmapd {len(ev_a)} Radicale "
              f"{len(ev_b)}, cards jmapd {len(c_a)} Radicale {len(c_b)}: "
              f"{'same state' if same else 'DIFFERENT'}", flush=True)
        if not same:
            bad.append(label)
        return ev_a, c_a

    subprocess.run([vdir, "discover"], env=env, input="y\n" * 8, capture_output=True,
                   text=True, timeout=600, check=True)
    # each side creates n events and n/10 cards
    for side, dav, coll, book in (("jmapd", ja, cal_a, book_a), ("radicale", rb, cal_b, book_b)):
        for i in range(n):
            u = f"{side}-{i}-{uuid.uuid4()}"
            dav.put(coll, u + ".ics", ics(u, f"{side} event {i}", 1 + i % 28), "text/calendar")
        for i in range(max(1, n // 10)):
            u = f"{side}-card-{i}-{uuid.uuid4()}"
            dav.put(book, u + ".vcf", vcf(u, f"{side} person {i}"), "text/vcard")
    events, cards = sync("create on both sides")
    assert len(events) == 2 * n and len(cards) == 2 * max(1, n // 10), (len(events), len(cards))
    # each side changes and deletes some of the other side's items; one conflict
    from_j = sorted(u for u in events if u.startswith("jmapd-"))
    from_r = sorted(u for u in events if u.startswith("radicale-"))
    la, lb = ja.listing(cal_a, "SUMMARY"), rb.listing(cal_b, "SUMMARY")
    origin = {id(ja): "/".join(a.split("/", 3)[:3]), id(rb): "/".join(b.split("/", 3)[:3])}
    for dav, lst, uids, tag in ((ja, la, from_r[:5], "changed on jmapd"),
                                (rb, lb, from_j[:5], "changed on Radicale")):
        for u in uids:
            dav.put_href(lst[u][1], ics(u, tag, 3))
    for dav, lst, uids in ((ja, la, from_r[5:8]), (rb, lb, from_j[5:8])):
        for u in uids:
            r = dav.s.delete(origin[id(dav)] + lst[u][1])
            assert r.status_code in (200, 204), r.status_code
    # a card of the other side changed on each side
    ca, cb = ja.listing(book_a, "FN"), rb.listing(book_b, "FN")
    for dav, lst, prefix, tag in ((ja, ca, "radicale-", "Renamed on jmapd"),
                                  (rb, cb, "jmapd-", "Renamed on Radicale")):
        cu = sorted(x for x in lst if x.startswith(prefix))[0]
        r = dav.s.put(origin[id(dav)] + lst[cu][1], data=vcf(cu, tag).encode(),
                      headers={"Content-Type": "text/vcard"})
        assert r.status_code in (201, 204), (r.status_code, r.text[:200])
    u = from_j[-1]  # the conflict: both change it; "a wins" keeps jmapd's
    ja.put_href(la[u][1], ics(u, "conflict: jmapd", 4))
    rb.put_href(lb[u][1], ics(u, "conflict: Radicale", 4))
    events, cards = sync("change, delete and a conflict on both sides")
    if sorted(v for v in cards.values() if v.startswith("Renamed")) != [
            "Renamed on Radicale", "Renamed on jmapd"]:
        bad.append("the changed cards did not reach the other side")
    expect = 2 * n - 6
    if len(events) != expect or events.get(u) != "conflict: jmapd":
        bad.append(f"after the changes: {len(events)} events (want {expect}), "
                   f"conflict kept {events.get(u)!r}")
    events, _ = sync("a second sync with nothing to do")
    shutil.rmtree(tmp, ignore_errors=True)
    if bad:
        print("FAILED:", "; ".join(bad))
        sys.exit(1)
    print("jmapd and Radicale end in the same state")


if __name__ == "__main__":
    main()
