"""Task lists (draft-ietf-jmap-tasks-06) as CalDAV collections of VTODOs in the
calendar home (RFC 4791 §5.2.3 supported-calendar-component-set), on the same
TaskList and Task objects as JMAP."""
import uuid

from conftest import CORE
from davutil import (C, D, NSDECL, dav, error_condition, homes, ics, multistatus, propfind, put,
                     sync_token, unfold)

TASKS = "urn:ietf:params:jmap:tasks"


def vtodo(uid, summary="Task", extra=""):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VTODO", f"UID:{uid}",
             "DTSTAMP:20260101T000000Z", f"SUMMARY:{summary}", "DUE:20260110T120000Z"]
    if extra:
        lines.append(extra)
    return "\r\n".join(lines + ["END:VTODO", "END:VCALENDAR", ""])


def new_tasklist(server, display):
    path = homes(server)[0] + "tasks-" + uuid.uuid4().hex[:8] + "/"
    body = (f'<c:mkcalendar {NSDECL}><d:set><d:prop><d:displayname>{display}</d:displayname>'
            '<c:supported-calendar-component-set><c:comp name="VTODO"/>'
            '</c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>')
    r = dav(server, "MKCALENDAR", path, body)
    assert r.status_code == 201, r.text
    return path


def task_by_uid(server, uid):
    _, res = server.call("Task/get", {"accountId": server.account()}, using=[CORE, TASKS])
    found = [t for t in res["list"] if t["uid"] == uid]
    return found[0] if found else None


def test_rfc4791_5_2_3_task_list_in_calendar_home(server):
    display = "Chores " + uuid.uuid4().hex[:6]
    path = new_tasklist(server, display)
    _, lists = server.call("TaskList/get", {"accountId": server.account()}, using=[CORE, TASKS])
    (tl,) = [t for t in lists["list"] if t["name"] == display]
    ms = multistatus(propfind(server, homes(server)[0], "<d:resourcetype/>"
                              "<c:supported-calendar-component-set/><d:displayname/>", depth=1))
    p = ms[path]["props"]
    assert p[D + "resourcetype"].find(C + "calendar") is not None
    assert [c.get("name") for c in p[C + "supported-calendar-component-set"]] == ["VTODO"]
    comps = {tuple(c.get("name") for c in e["props"][C + "supported-calendar-component-set"])
             for e in ms.values() if C + "supported-calendar-component-set" in e["props"]}
    assert ("VEVENT",) in comps and ("VTODO",) in comps
    assert tl["id"]


def test_put_get_vtodo_is_a_jmap_task(server):
    path = new_tasklist(server, "T " + uuid.uuid4().hex[:6])
    uid = str(uuid.uuid4())
    r = put(server, path + "t.ics", vtodo(uid, "Buy milk"), headers={"If-None-Match": "*"})
    assert r.status_code == 201, r.text
    t = task_by_uid(server, uid)
    assert t["title"] == "Buy milk"
    g = server.http().get(server.base + path + "t.ics")
    assert "BEGIN:VTODO" in g.text and "SUMMARY:Buy milk" in unfold(g.text)
    assert g.headers["ETag"] == r.headers["ETag"]
    # a JMAP change is seen over CalDAV, with a new ETag
    server.call("Task/set", {"accountId": server.account(), "update": {
        t["id"]: {"title": "Buy oat milk"}}}, using=[CORE, TASKS])
    g2 = server.http().get(server.base + path + "t.ics")
    assert "SUMMARY:Buy oat milk" in unfold(g2.text) and g2.headers["ETag"] != g.headers["ETag"]
    # a VEVENT does not go into a task list
    r = put(server, path + "e.ics", ics(str(uuid.uuid4())))
    assert r.status_code == 403 and C + "supported-calendar-component" in error_condition(r)
    assert server.http().delete(server.base + path + "t.ics").status_code == 204
    assert task_by_uid(server, uid) is None


def test_task_list_query_multiget_sync(server):
    path = new_tasklist(server, "Q " + uuid.uuid4().hex[:6])
    put(server, path + "a.ics", vtodo(str(uuid.uuid4()), "Alpha"))
    body = (f'<d:sync-collection {NSDECL}><d:sync-token/><d:sync-level>1</d:sync-level>'
            '<d:prop><d:getetag/></d:prop></d:sync-collection>')
    r = dav(server, "REPORT", path, body, depth=0)
    assert set(multistatus(r)) == {path + "a.ics"}
    tok = sync_token(r)
    put(server, path + "b.ics", vtodo(str(uuid.uuid4()), "Beta"))
    r = dav(server, "REPORT", path, body.replace("<d:sync-token/>",
                                                 f"<d:sync-token>{tok}</d:sync-token>"), depth=0)
    assert set(multistatus(r)) == {path + "b.ics"}
    q = (f'<c:calendar-query {NSDECL}><d:prop><c:calendar-data/></d:prop><c:filter>'
         '<c:comp-filter name="VCALENDAR"><c:comp-filter name="VTODO"><c:prop-filter '
         'name="SUMMARY"><c:text-match>beta</c:text-match></c:prop-filter></c:comp-filter>'
         '</c:comp-filter></c:filter></c:calendar-query>')
    ms = multistatus(dav(server, "REPORT", path, q, depth=1))
    assert set(ms) == {path + "b.ics"}
    q = q.replace('name="VTODO"', 'name="VEVENT"')
    assert multistatus(dav(server, "REPORT", path, q, depth=1)) == {}
    mg = (f'<c:calendar-multiget {NSDECL}><d:prop><c:calendar-data/></d:prop>'
          f'<d:href>{path}a.ics</d:href></c:calendar-multiget>')
    ms = multistatus(dav(server, "REPORT", path, mg, depth=1))
    assert "SUMMARY:Alpha" in unfold(ms[path + "a.ics"]["props"][C + "calendar-data"].text)
