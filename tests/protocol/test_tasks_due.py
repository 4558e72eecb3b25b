"""TASK-MODE at the due time (draft-ietf-calext-ical-tasks-17 §5.3: AUTOMATIC-FAILURE
and AUTOMATIC fail a task that is not done when its due time passes), on the
organizer's copy, with the server's test clock (issue 16 point 6; the clock of
issue 14's alerts, alert_util.ClockServer)."""
import pytest

from alert_util import ClockServer, wait_until
from conftest import CORE
from groupware_util import PRINCIPALS

TASKS = "urn:ietf:params:jmap:tasks"
USING = [CORE, TASKS, PRINCIPALS]
ME = "mailto:alice@localhost"


@pytest.fixture(scope="module")
def cs():
    s = ClockServer(start="2026-03-01T08:00:00Z")
    s.a = s.own("alice")
    yield s
    s.close()


def call(cs, name, args):
    return cs.c(name, dict({"accountId": cs.a}, **args), using=USING)


def task(cs, uid, mode, due="2026-03-01T10:00:00", progress=None):
    _, lists = call(cs, "TaskList/get", {})
    lid = [x["id"] for x in lists["list"] if x["role"] == "inbox"][0]
    t = {"taskListId": lid, "uid": uid, "title": uid, "due": due, "timeZone": "Etc/UTC",
         "organizerCalendarAddress": ME,
         "participants": {
             "o": {"@type": "Participant", "calendarAddress": ME, "roles": {"owner": True}},
             "a": {"@type": "Participant", "calendarAddress": "mailto:a@example.com",
                   "roles": {"assignee": True}, "progress": "in-process"}},
         "iCalendar": {"@type": "ICalComponent", "name": "vtodo",
                       "properties": [["task-mode", {}, "text", mode]]}}
    if progress:
        t["progress"] = progress
    _, res = call(cs, "Task/set", {"create": {"t": t}})
    assert "t" in res["created"], res
    return res["created"]["t"]["id"]


def progress(cs, tid):
    _, res = call(cs, "Task/get", {"ids": [tid], "properties": ["progress"]})
    return res["list"][0].get("progress")


def test_automatic_failure_at_the_due_time_ical_tasks17_s5_3(cs):
    failing = task(cs, "due-1", "AUTOMATIC-FAILURE")
    auto = task(cs, "due-2", "AUTOMATIC")
    client = task(cs, "due-3", "CLIENT")
    done = task(cs, "due-4", "AUTOMATIC-FAILURE", progress="completed")
    moved = task(cs, "due-5", "AUTOMATIC-FAILURE")
    _, res = call(cs, "Task/set", {"update": {moved: {"due": "2026-03-01T12:00:00"}}})
    assert moved in res["updated"], res
    _, before = call(cs, "Task/get", {"ids": [failing], "properties": ["sequence"]})
    cs.set_time("2026-03-01T09:59:00Z")  # not yet
    assert not wait_until(lambda: progress(cs, failing) == "failed", timeout=1.5)
    cs.set_time("2026-03-01T10:00:05Z")
    assert wait_until(lambda: progress(cs, failing) == "failed")
    assert wait_until(lambda: progress(cs, auto) == "failed")
    assert progress(cs, client) != "failed"
    assert progress(cs, done) == "completed"
    assert progress(cs, moved) != "failed"  # its due time moved later
    _, after = call(cs, "Task/get", {"ids": [failing], "properties": ["sequence",
                                                                      "progressUpdated"]})
    assert after["list"][0]["sequence"] == before["list"][0].get("sequence", 0) + 1
    assert after["list"][0]["progressUpdated"] == "2026-03-01T10:00:05Z"
    # ical-tasks-17 §4: each change of the overall status gets a VSTATUS with it
    _, got = call(cs, "Task/get", {"ids": [failing], "properties": ["iCalendar"]})
    comps = got["list"][0]["iCalendar"]["components"]
    assert ["vstatus", [["status", {}, "text", "FAILED"],
                        ["dtstamp", {}, "date-time", "2026-03-01T10:00:05Z"]], []] in comps
    cs.set_time("2026-03-01T12:00:05Z")
    assert wait_until(lambda: progress(cs, moved) == "failed")


def test_not_the_organizers_copy_never_fails_by_itself_ical_tasks17_s5_3(cs):
    _, lists = call(cs, "TaskList/get", {})
    lid = [x["id"] for x in lists["list"] if x["role"] == "inbox"][0]
    boss = "mailto:boss@example.com"
    _, res = call(cs, "Task/set", {"create": {"t": {
        "taskListId": lid, "title": "theirs", "due": "2026-03-02T10:00:00",
        "timeZone": "Etc/UTC", "organizerCalendarAddress": boss,
        "participants": {"o": {"@type": "Participant", "calendarAddress": boss,
                               "roles": {"owner": True}}},
        "iCalendar": {"@type": "ICalComponent", "name": "vtodo",
                      "properties": [["task-mode", {}, "text", "AUTOMATIC"]]}}}})
    tid = res["created"]["t"]["id"]
    cs.set_time("2026-03-02T10:00:05Z")
    assert not wait_until(lambda: progress(cs, tid) == "failed", timeout=1.5)
