"""TASK-MODE over CalDAV and the SERVER mode (draft-ietf-calext-ical-tasks-17 §5.3 and
§8 "CalDAV Support for Task Mode"), issue 16 points 6 and 7: the calendar home and the
task lists say which modes the server implements (CALDAV:supported-task-mode-set); a
PUT with any other mode is refused with CALDAV:supported-task-mode; SERVER applies the
server's business rules (jmapd's are AUTOMATIC's, docs/tasks.md); a VTODO with DTSTART
and DURATION (RFC 5545 §3.6.2) is due at its end."""
import uuid

from conftest import CORE
from davutil import C, dav, error_condition, homes, multistatus, propfind, put
from test_dav_tasks import new_tasklist, task_by_uid

TASKS = "urn:ietf:params:jmap:tasks"
MODES = ["AUTOMATIC-COMPLETION", "AUTOMATIC-FAILURE", "AUTOMATIC", "CLIENT", "SERVER"]


def vtodo(uid, *lines):
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VTODO",
                        f"UID:{uid}", "DTSTAMP:20260101T000000Z", "SUMMARY:mode", *lines,
                        "END:VTODO", "END:VCALENDAR", ""])


def test_supported_task_mode_set_ical_tasks17_s8_1(server):
    path = new_tasklist(server, "modes " + uuid.uuid4().hex[:6])
    for where in (homes(server)[0], path):
        ms = multistatus(propfind(server, where, "<c:supported-task-mode-set/>"))
        prop = ms[where]["props"][C + "supported-task-mode-set"]
        assert [m.text for m in prop.findall(C + "supported-task-mode")] == MODES, where
    # protected and not part of allprop (§8.1)
    r = dav(server, "PROPFIND", path, '<?xml version="1.0"?><d:propfind xmlns:d="DAV:">'
            "<d:allprop/></d:propfind>", depth=0)
    assert r.status_code == 207 and "supported-task-mode-set" not in r.text, r.text


def test_put_with_an_unsupported_task_mode_is_403_ical_tasks17_s8(server):
    path = new_tasklist(server, "modes " + uuid.uuid4().hex[:6])
    uid = str(uuid.uuid4())
    r = put(server, path + "x.ics", vtodo(uid, "TASK-MODE:X-SOMETHING-ELSE"))
    assert r.status_code == 403 and C + "supported-task-mode" in error_condition(r), r.text
    assert task_by_uid(server, uid) is None  # nothing stored
    for mode in MODES:
        u = str(uuid.uuid4())
        r = put(server, path + u + ".ics", vtodo(u, f"TASK-MODE:{mode}"))
        assert r.status_code == 201, (mode, r.text)


def test_server_mode_applies_the_servers_rules_ical_tasks17_s5_3(server):
    """SERVER: "implementation defined business rules": jmapd completes the organizer's
    copy when every attendee has completed and fails it when one has failed."""
    path = new_tasklist(server, "modes " + uuid.uuid4().hex[:6])
    done, failed = str(uuid.uuid4()), str(uuid.uuid4())
    common = ["ORGANIZER:mailto:alice@localhost", "TASK-MODE:SERVER"]
    r = put(server, path + "d.ics", vtodo(done, *common,
                                          "ATTENDEE;PARTSTAT=COMPLETED:mailto:a@example.com",
                                          "ATTENDEE;PARTSTAT=COMPLETED:mailto:b@example.com"))
    assert r.status_code == 201, r.text
    r = put(server, path + "f.ics", vtodo(failed, *common,
                                          "ATTENDEE;PARTSTAT=FAILED:mailto:a@example.com",
                                          "ATTENDEE;PARTSTAT=IN-PROCESS:mailto:b@example.com"))
    assert r.status_code == 201, r.text
    assert task_by_uid(server, done)["progress"] == "completed"
    assert task_by_uid(server, failed)["progress"] == "failed"


def test_put_vtodo_with_duration_is_due_at_its_end_rfc5545_s3_6_2(server):
    path = new_tasklist(server, "modes " + uuid.uuid4().hex[:6])
    uid = str(uuid.uuid4())
    r = put(server, path + "dur.ics", vtodo(uid, "DTSTART:20260301T100000Z", "DURATION:PT90M"))
    assert r.status_code == 201, r.text
    t = task_by_uid(server, uid)
    assert (t["start"], t["due"], "duration" in t) == ("2026-03-01T10:00:00",
                                                       "2026-03-01T11:30:00", False)
    body = server.http().get(server.base + path + "dur.ics").text.replace("\r\n ", "")
    assert "DUE:20260301T113000Z" in body and "DURATION" not in body
