"""Task assignees with scheduling (draft-ietf-jmap-tasks-06 §1.5.3, §5.4 assignees
extension; scheduling as draft-ietf-jmap-calendars-27 §5.9.2; iTIP RFC 5546 §3.4
VTODO; ical-tasks-17 §5.3 TASK-MODE), issue 16 point 3: alice assigns tasks to bob
(a user of the server) and to outsiders (iMIP through `jmapd deliver`)."""
import pytest

from conftest import CORE
from groupware_util import CONTACTS, PRINCIPALS, GroupServer

TASKS = "urn:ietf:params:jmap:tasks"
USING = [CORE, TASKS, PRINCIPALS, CONTACTS]
ALICE, BOB = "mailto:alice@localhost", "mailto:bob@localhost"


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    s.acct = {u: s.own(u) for u in ("alice", "bob", "dan")}
    yield s
    s.close()


def call(gs, name, args, user="alice"):
    return gs.c(name, dict({"accountId": gs.acct[user]}, **args), user=user, using=USING)


def inbox(gs, user):
    _, res = call(gs, "TaskList/get", {}, user=user)
    return [x["id"] for x in res["list"] if x["role"] == "inbox"][0]


def by_uid(gs, user, uid):
    _, q = call(gs, "Task/query", {"filter": {"uid": uid}}, user=user)
    if not q["ids"]:
        return None
    _, got = call(gs, "Task/get", {"ids": q["ids"]}, user=user)
    return got["list"][0]


def assign(gs, uid, assignees, mode=None, send=True):
    parts = {"o": {"@type": "Participant", "calendarAddress": ALICE,
                   "roles": {"owner": True, "chair": True}}}
    for i, a in enumerate(assignees):
        parts[f"a{i}"] = {"@type": "Participant", "calendarAddress": a,
                          "roles": {"assignee": True}, "participationStatus": "needs-action",
                          "expectReply": True}
    t = {"taskListId": inbox(gs, "alice"), "uid": uid, "title": "Write the report",
         "due": "2026-05-01T17:00:00", "timeZone": "Europe/Paris",
         "organizerCalendarAddress": ALICE, "participants": parts}
    if mode:
        t["iCalendar"] = {"@type": "ICalComponent", "name": "vtodo",
                          "properties": [["task-mode", {}, "text", mode]]}
    return call(gs, "Task/set", {"create": {"t": t}, "sendSchedulingMessages": send})[1]


def test_assignees_capability_tasks06_s1_5_3(gs):
    acc = gs.session("alice")["accounts"][gs.acct["alice"]]["accountCapabilities"]
    assert acc[TASKS + ":assignees"] == {"maxParticipantsPerTask": 1000}
    parts = {f"p{i}": {"@type": "Participant", "calendarAddress": f"mailto:p{i}@example.com"}
             for i in range(1001)}
    _, res = call(gs, "Task/set", {"create": {"t": {
        "taskListId": inbox(gs, "alice"), "title": "crowd",
        "organizerCalendarAddress": ALICE, "participants": parts}}})
    assert res["notCreated"]["t"]["type"] == "invalidProperties", res
    assert "participants" in res["notCreated"]["t"]["properties"]


def test_request_reaches_the_assignee_rfc5546_s3_4_2(gs):
    res = assign(gs, "as-1", [BOB])
    assert "t" in res["created"], res
    theirs = by_uid(gs, "bob", "as-1")
    assert theirs is not None
    assert theirs["taskListId"] == inbox(gs, "bob")
    assert theirs["isOrigin"] is False and theirs["title"] == "Write the report"
    assert theirs["participants"]["a0"]["roles"] == {"assignee": True}
    # a TaskNotification in bob's account, by alice (tasks-06 §6)
    _, q = call(gs, "TaskNotification/query", {"filter": {"taskIds": [theirs["id"]]}},
                user="bob")
    assert len(q["ids"]) == 1
    _, n = call(gs, "TaskNotification/get", {"ids": q["ids"]}, user="bob")
    assert n["list"][0]["type"] == "created"
    assert n["list"][0]["changedBy"]["principalId"] == gs.acct["alice"]
    # a change by the organizer updates the copy (REQUEST again)
    mine = by_uid(gs, "alice", "as-1")
    _, res = call(gs, "Task/set", {"update": {mine["id"]: {"title": "Write the final report"}},
                                   "sendSchedulingMessages": True})
    assert mine["id"] in res["updated"], res
    assert by_uid(gs, "bob", "as-1")["title"] == "Write the final report"


def test_progress_is_replied_and_task_mode_applies_ical_tasks17_s5_3(gs):
    res = assign(gs, "as-2", [BOB], mode="AUTOMATIC-COMPLETION")
    assert "t" in res["created"], res
    theirs = by_uid(gs, "bob", "as-2")
    # bob accepts: a REPLY with PARTSTAT ACCEPTED
    _, res = call(gs, "Task/set", {"update": {theirs["id"]: {
        "participants/a0/participationStatus": "accepted"}}, "sendSchedulingMessages": True},
        user="bob")
    assert theirs["id"] in res["updated"], res
    mine = by_uid(gs, "alice", "as-2")
    assert mine["participants"]["a0"]["participationStatus"] == "accepted"
    assert mine.get("progress") != "completed"
    # bob completes his part: progress alone travels too (PARTSTAT COMPLETED), and the
    # organizer's copy completes by its TASK-MODE
    _, res = call(gs, "Task/set", {"update": {theirs["id"]: {
        "participants/a0/progress": "completed"}}, "sendSchedulingMessages": True},
        user="bob")
    assert theirs["id"] in res["updated"], res
    mine = by_uid(gs, "alice", "as-2")
    assert mine["participants"]["a0"]["progress"] == "completed"
    assert mine["participants"]["a0"]["scheduleSequence"] == 0
    assert mine["progress"] == "completed"
    _, q = call(gs, "TaskNotification/query", {"filter": {"taskIds": [mine["id"]]}})
    assert len(q["ids"]) >= 2  # one per REPLY applied


def test_removed_assignee_and_destroy_cancel_rfc5546_s3_4_5(gs):
    res = assign(gs, "as-3", [BOB, "mailto:ext@example.org"], send=False)
    assert "t" in res["created"], res
    # without an SMTP relay the outsider cannot be reached (calendars-27 §5.9.2)
    mine = by_uid(gs, "alice", "as-3")
    _, res = call(gs, "Task/set", {"update": {mine["id"]: {"title": "x"}},
                                   "sendSchedulingMessages": True})
    assert res["notUpdated"][mine["id"]]["type"] == "noSupportedScheduleMethods", res
    _, res = call(gs, "Task/set", {"update": {mine["id"]: {"participants/a1": None}},
                                   "sendSchedulingMessages": True})
    assert mine["id"] in res["updated"], res
    assert by_uid(gs, "bob", "as-3").get("progress") != "cancelled"
    _, res = call(gs, "Task/set", {"update": {mine["id"]: {"participants/a0": None}},
                                   "sendSchedulingMessages": True})
    assert mine["id"] in res["updated"], res
    assert by_uid(gs, "bob", "as-3")["progress"] == "cancelled"
    res = assign(gs, "as-4", [BOB])
    mine = by_uid(gs, "alice", "as-4")
    _, res = call(gs, "Task/set", {"destroy": [mine["id"]], "sendSchedulingMessages": True})
    assert res["destroyed"] == [mine["id"]], res
    assert by_uid(gs, "bob", "as-4")["progress"] == "cancelled"


def vtodo(method, uid, attendee_line, seq=0, organizer="boss@example.org"):
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", f"METHOD:{method}",
        "BEGIN:VTODO", f"UID:{uid}", f"SEQUENCE:{seq}", "DTSTAMP:20260101T000000Z",
        "DUE;TZID=Europe/Paris:20260601T170000", "SUMMARY:Check the figures",
        f"ORGANIZER:mailto:{organizer}", attendee_line, "END:VTODO", "END:VCALENDAR", ""])


def message(sender, text, method):
    return (f"From: <{sender}>\r\nTo: bob@localhost\r\nSubject: Task\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: text/calendar; charset="utf-8"; method={method}\r\n\r\n' + text)


def test_imip_request_and_reply_for_a_vtodo_rfc6047_rfc5546_s3_4(gs):
    # an outsider assigns bob a task by mail: it lands in bob's default task list
    req = vtodo("REQUEST", "imip-t1", "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@localhost")
    r = gs.cli("deliver", "--user", "bob", stdin=message("boss@example.org", req, "REQUEST"))
    assert r.returncode == 0, r.stderr
    t = by_uid(gs, "bob", "imip-t1")
    assert t is not None and t["taskListId"] == inbox(gs, "bob") and t["isOrigin"] is False
    # alice's task, assigned to an outsider who answers by mail: PARTSTAT COMPLETED is
    # accepted with progress completed (jscalendar-icalendar-25 §2.3.4)
    res = assign(gs, "imip-t2", ["mailto:ext@example.org"], send=False)
    assert "t" in res["created"], res
    reply = vtodo("REPLY", "imip-t2", "ATTENDEE;PARTSTAT=COMPLETED:mailto:ext@example.org",
                  organizer="alice@localhost")
    r = gs.cli("deliver", "--user", "alice", stdin=message("ext@example.org", reply, "REPLY"))
    assert r.returncode == 0, r.stderr
    mine = by_uid(gs, "alice", "imip-t2")
    assert mine["participants"]["a0"]["progress"] == "completed"
    assert mine["participants"]["a0"]["participationStatus"] == "accepted"
    # a CANCEL from the organizer
    cancel = vtodo("CANCEL", "imip-t1", "ATTENDEE:mailto:bob@localhost", seq=1)
    r = gs.cli("deliver", "--user", "bob", stdin=message("boss@example.org", cancel, "CANCEL"))
    assert r.returncode == 0, r.stderr
    assert by_uid(gs, "bob", "imip-t1")["progress"] == "cancelled"


ITIP = "jmapd.org:itipMethod"


def test_counter_and_delegation_of_a_task_rfc5546_s3_4_7_s3_4_2_3(gs):
    """RFC 5546 §3.4.7: an assignee changing the due time of their copy proposes it: the
    organizer's task stays, a TaskNotification carries the proposal (taskPatch,
    jmapd.org:itipMethod "COUNTER"). §3.4.2.3: the assignee delegates to dan: the
    organizer's copy records both (delegatedTo, delegatedFrom), dan gets the task and his
    answer reaches the organizer."""
    res = assign(gs, "as-counter", [BOB])
    assert "t" in res["created"], res
    theirs = by_uid(gs, "bob", "as-counter")
    _, res = call(gs, "Task/set", {"update": {theirs["id"]: {"due": "2026-05-08T17:00:00"}},
                                   "sendSchedulingMessages": True}, user="bob")
    assert theirs["id"] in res["updated"], res
    mine = by_uid(gs, "alice", "as-counter")
    assert mine["due"] == "2026-05-01T17:00:00"
    _, q = call(gs, "TaskNotification/query", {"filter": {"taskIds": [mine["id"]]}})
    _, got = call(gs, "TaskNotification/get", {"ids": q["ids"]})
    (n,) = [x for x in got["list"] if x.get(ITIP) == "COUNTER"]
    assert n["type"] == "updated" and n["taskPatch"] == {"due": "2026-05-08T17:00:00"}
    assert n["task"]["due"] == "2026-05-01T17:00:00"
    dan = "mailto:dan@localhost"
    _, res = call(gs, "Task/set", {"update": {theirs["id"]: {
        "participants/a0/participationStatus": "delegated",
        "participants/a0/delegatedTo": {dan: True},
        "participants/d": {"@type": "Participant", "calendarAddress": dan,
                           "roles": {"assignee": True}, "participationStatus": "needs-action",
                           "delegatedFrom": {BOB: True}}}}, "sendSchedulingMessages": True},
        user="bob")
    assert theirs["id"] in res["updated"], res
    mine = by_uid(gs, "alice", "as-counter")
    assert mine["participants"]["a0"]["participationStatus"] == "delegated"
    assert mine["participants"]["a0"]["delegatedTo"] == {dan: True}
    (d,) = [p for p in mine["participants"].values() if p.get("calendarAddress") == dan]
    assert d["delegatedFrom"] == {BOB: True} and d["roles"] == {"assignee": True}
    his = by_uid(gs, "dan", "as-counter")
    assert his is not None and his["taskListId"] == inbox(gs, "dan")
    pid = [k for k, p in his["participants"].items() if p.get("calendarAddress") == dan][0]
    _, res = call(gs, "Task/set", {"update": {his["id"]: {
        f"participants/{pid}/participationStatus": "accepted"}},
        "sendSchedulingMessages": True}, user="dan")
    assert his["id"] in res["updated"], res
    mine = by_uid(gs, "alice", "as-counter")
    (d,) = [p for p in mine["participants"].values() if p.get("calendarAddress") == dan]
    assert d["participationStatus"] == "accepted"


def test_declinecounter_of_a_task_sent_from_jmap_rfc5546_s3_4_8(gs):
    """RFC 5546 §3.4.8: the organizer declines an assignee's COUNTER (§3.4.7) by destroying
    its TaskNotification with jmapd.org:declineCounter: the assignee's copy stays as they
    proposed it and they get a TaskNotification marked DECLINECOUNTER."""
    res = assign(gs, "as-decline", [BOB])
    assert "t" in res["created"], res
    theirs = by_uid(gs, "bob", "as-decline")
    _, res = call(gs, "Task/set", {"update": {theirs["id"]: {"due": "2026-05-09T17:00:00"}},
                                   "sendSchedulingMessages": True}, user="bob")
    assert theirs["id"] in res["updated"], res
    mine = by_uid(gs, "alice", "as-decline")
    _, q = call(gs, "TaskNotification/query", {"filter": {"taskIds": [mine["id"]]}})
    _, got = call(gs, "TaskNotification/get", {"ids": q["ids"]})
    (n,) = [x for x in got["list"] if x.get(ITIP) == "COUNTER"]
    _, res = call(gs, "TaskNotification/set", {"destroy": [n["id"]],
                                               "jmapd.org:declineCounter": True})
    assert res["destroyed"] == [n["id"]], str(res)
    _, q = call(gs, "TaskNotification/query", {"filter": {"taskIds": [theirs["id"]]}},
                user="bob")
    _, got = call(gs, "TaskNotification/get", {"ids": q["ids"]}, user="bob")
    assert [x["type"] for x in got["list"] if x.get(ITIP) == "DECLINECOUNTER"] == ["updated"]
    assert by_uid(gs, "bob", "as-decline")["due"] == "2026-05-09T17:00:00"
    assert by_uid(gs, "alice", "as-decline")["due"] == "2026-05-01T17:00:00"
