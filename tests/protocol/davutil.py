"""Helpers of the DAV protocol tests (RFC 4918, 4791, 6352, 6578): requests with
XML bodies, multistatus parsing, discovery of a user's homes."""
import re
import uuid
import xml.etree.ElementTree as ET

D = "{DAV:}"
C = "{urn:ietf:params:xml:ns:caldav}"
CR = "{urn:ietf:params:xml:ns:carddav}"
CS = "{http://calendarserver.org/ns/}"
A = "{http://apple.com/ns/ical/}"
NSDECL = ('xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" '
          'xmlns:cr="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/" '
          'xmlns:a="http://apple.com/ns/ical/"')


def dav(server, method, path, body=None, user="alice", headers=None, depth=None):
    h = {}
    if body is not None:
        h["Content-Type"] = "application/xml; charset=utf-8"
    if depth is not None:
        h["Depth"] = str(depth)
    h.update(headers or {})
    url = path if path.startswith("http") else server.base + path
    return server.http(user).request(method, url, data=body, headers=h, allow_redirects=False)


def propfind(server, path, props, depth=0, user="alice"):
    body = f'<?xml version="1.0"?><d:propfind {NSDECL}><d:prop>{props}</d:prop></d:propfind>'
    return dav(server, "PROPFIND", path, body, user=user, depth=depth)


def multistatus(resp):
    """{href: {"status": int or None, "props": {tag: element}, "missing": set}}"""
    assert resp.status_code == 207, (resp.status_code, resp.text)
    root = ET.fromstring(resp.content)
    assert root.tag == D + "multistatus"
    out = {}
    for r in root.findall(D + "response"):
        href = r.find(D + "href").text
        entry = {"status": None, "props": {}, "missing": set()}
        st = r.find(D + "status")
        if st is not None:
            entry["status"] = int(st.text.split()[1])
        for ps in r.findall(D + "propstat"):
            code = int(ps.find(D + "status").text.split()[1])
            for p in ps.find(D + "prop"):
                if code == 200:
                    entry["props"][p.tag] = p
                else:
                    entry["missing"].add(p.tag)
        out[href] = entry
    return out


def sync_token(resp):
    root = ET.fromstring(resp.content)
    t = root.find(D + "sync-token")
    return t.text if t is not None else None


def error_condition(resp):
    """The precondition element inside a DAV:error body (RFC 4918 §16)."""
    root = ET.fromstring(resp.content)
    assert root.tag == D + "error", resp.text
    return [c.tag for c in root]


def need_privileges(resp):
    """{(href, privilege tag)} of the resources a 403 DAV:need-privileges body names
    (RFC 3744 §7.1.1)."""
    assert resp.status_code == 403, (resp.status_code, resp.text)
    need = ET.fromstring(resp.content).find(D + "need-privileges")
    assert need is not None, resp.text
    return {(res.find(D + "href").text, res.find(D + "privilege")[0].tag)
            for res in need.findall(D + "resource")}


def homes(server, user="alice"):
    r = propfind(server, f"/dav/principals/{user}/",
                 "<c:calendar-home-set/><cr:addressbook-home-set/>", user=user)
    ms = multistatus(r)
    p = ms[f"/dav/principals/{user}/"]["props"]
    return (p[C + "calendar-home-set"].find(D + "href").text,
            p[CR + "addressbook-home-set"].find(D + "href").text)


def new_calendar(server, user="alice", name=None, props=""):
    home = homes(server, user)[0]
    path = home + (name or "cal-" + uuid.uuid4().hex[:8]) + "/"
    body = None
    if props:
        body = (f'<?xml version="1.0"?><c:mkcalendar {NSDECL}><d:set><d:prop>{props}'
                '</d:prop></d:set></c:mkcalendar>')
    r = dav(server, "MKCALENDAR", path, body, user=user)
    assert r.status_code == 201, r.text
    return path


def new_addressbook(server, user="alice", name=None, display="Book"):
    home = homes(server, user)[1]
    path = home + (name or "book-" + uuid.uuid4().hex[:8]) + "/"
    body = (f'<?xml version="1.0"?><d:mkcol {NSDECL}><d:set><d:prop><d:resourcetype>'
            '<d:collection/><cr:addressbook/></d:resourcetype>'
            f'<d:displayname>{display}</d:displayname>'
            '</d:prop></d:set></d:mkcol>')
    r = dav(server, "MKCOL", path, body, user=user)
    assert r.status_code == 201, r.text
    return path


def ics(uid, summary="Event", start="20260110T100000Z", extra="", rrule=None):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT",
             f"UID:{uid}", "DTSTAMP:20260101T000000Z", f"DTSTART:{start}", "DURATION:PT1H",
             f"SUMMARY:{summary}"]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    if extra:
        lines.append(extra)
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)


def vcf(uid, fn="Jane Doe", email="jane@example.com", version="4.0"):
    lines = ["BEGIN:VCARD", f"VERSION:{version}", f"UID:{uid}", f"FN:{fn}",
             f"EMAIL:{email}", "END:VCARD", ""]
    if version == "3.0":
        lines.insert(4, "N:Doe;Jane;;;")
    return "\r\n".join(lines)


def put(server, path, body, ctype="text/calendar", user="alice", headers=None):
    h = {"Content-Type": ctype}
    h.update(headers or {})
    return server.http(user).put(server.base + path, data=body.encode(), headers=h)


def unfold(text):
    return re.sub(r"\r?\n[ \t]", "", text)
