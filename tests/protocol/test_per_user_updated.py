"""The per-user `updated` of shared events and tasks: draft-ietf-jmap-calendars-27 §5.4
and draft-ietf-jmap-tasks-06 §5.4 ("When writing only per-user properties, the updated
property MUST also be stored just for that user, if set. When fetching the updated
property, the value to return is whichever is later of the per-user updated time or
the updated time of the base event/task."). Owner alice shares with bob
(mayUpdatePrivate) and erin (read only); issues 14 and 16."""
import time

import pytest

from conftest import CAL, CORE
from groupware_util import CONTACTS, PRINCIPALS, GroupServer

TASKS = "urn:ietf:params:jmap:tasks"
USING = [CORE, CAL, TASKS, PRINCIPALS, CONTACTS]
CAL_RIGHTS = ["mayReadFreeBusy", "mayReadItems", "mayWriteAll", "mayWriteOwn",
              "mayUpdatePrivate", "mayRSVP", "mayShare", "mayDelete"]
TASK_RIGHTS = ["mayReadItems", "mayWriteAll", "mayWriteOwn", "mayUpdatePrivate", "mayRSVP",
               "mayAdmin", "mayDelete"]


def rights(all_, *names):
    return {r: r in names for r in all_}


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    s.a = s.own("alice")
    yield s
    s.close()


def call(gs, name, args, user="alice"):
    kind, res = gs.c(name, dict({"accountId": gs.a}, **args), user=user, using=USING)
    assert kind == name, res
    return res


def updated_of(gs, type_, oid, user):
    res = call(gs, type_ + "/get", {"ids": [oid], "properties": ["updated", "sequence"]},
               user=user)
    return res["list"][0]["updated"], res["list"][0].get("sequence", 0)


def tick():
    time.sleep(1.1)  # UTCDateTime has whole seconds here: each write gets its own


def check_per_user_updated(gs, type_, oid, shared_patch):
    """The common walk: bob (a sharee), then alice (the owner) change only per-user
    properties, then alice changes a shared one."""
    u0, seq0 = updated_of(gs, type_, oid, "alice")
    notes = call(gs, type_ + "Notification/get", {"ids": None})["list"]
    tick()
    # bob, mayUpdatePrivate alone, writes per-user properties only (with an `updated`
    # of his own, which the server replaces on the origin's copy, §5.9)
    res = call(gs, type_ + "/set", {"update": {oid: {
        "color": "blue", "keywords": {"bob": True}, "updated": "2001-01-01T00:00:00Z"}}},
        user="bob")
    assert oid in (res.get("updated") or {}), res
    u1 = res["updated"][oid]["updated"]  # reported as the server's change (RFC 8620 §5.3)
    assert u1 > u0
    assert updated_of(gs, type_, oid, "bob") == (u1, seq0)
    assert updated_of(gs, type_, oid, "alice") == (u0, seq0)  # the shared time stays
    assert updated_of(gs, type_, oid, "erin") == (u0, seq0)
    # a change of bob's own values is nobody else's: no notification for alice
    assert call(gs, type_ + "Notification/get", {"ids": None})["list"] == notes
    tick()
    # alice, the owner, writes per-user properties only: her time, not the others'
    res = call(gs, type_ + "/set", {"update": {oid: {"keywords": {"urgent": True}}}})
    u2 = res["updated"][oid]["updated"]
    assert u2 > u1
    assert updated_of(gs, type_, oid, "alice") == (u2, seq0)
    assert updated_of(gs, type_, oid, "bob") == (u1, seq0)
    assert updated_of(gs, type_, oid, "erin") == (u0, seq0)
    tick()
    # a shared change: one new time for everyone (the later of it and their own)
    res = call(gs, type_ + "/set", {"update": {oid: shared_patch}})
    u3 = res["updated"][oid]["updated"]
    assert u3 > u2
    for user in ("alice", "bob", "erin"):
        assert updated_of(gs, type_, oid, user) == (u3, seq0 + 1), user
    # the per-user values themselves stayed each user's
    b = call(gs, type_ + "/get", {"ids": [oid]}, user="bob")["list"][0]
    assert b["color"] == "blue" and b["keywords"] == {"bob": True}
    a = call(gs, type_ + "/get", {"ids": [oid]})["list"][0]
    assert a["keywords"] == {"urgent": True} and "color" not in a


def test_event_per_user_updated_owner_and_sharee_calendars27_s5_4(gs):
    res = call(gs, "Calendar/set", {"create": {"c": {"name": "pu", "shareWith": {
        gs.own("bob"): rights(CAL_RIGHTS, "mayReadItems", "mayUpdatePrivate"),
        gs.own("erin"): rights(CAL_RIGHTS, "mayReadItems")}}}})
    cid = res["created"]["c"]["id"]
    res = call(gs, "CalendarEvent/set", {"create": {"e": {
        "calendarIds": {cid: True}, "title": "e", "start": "2026-03-01T10:00:00",
        "duration": "PT1H", "timeZone": "Europe/Paris"}}})
    eid = res["created"]["e"]["id"]
    check_per_user_updated(gs, "CalendarEvent", eid, {"title": "renamed"})


def test_event_occurrence_per_user_updated_calendars27_s5_4(gs):
    """A per-occurrence per-user change (§5.4 "on a per-occurrence basis") is a per-user
    write too; the instance shows the sharee's time, the series keeps the shared one."""
    res = call(gs, "Calendar/set", {"create": {"c": {"name": "pu2", "shareWith": {
        gs.own("bob"): rights(CAL_RIGHTS, "mayReadItems", "mayUpdatePrivate")}}}})
    cid = res["created"]["c"]["id"]
    res = call(gs, "CalendarEvent/set", {"create": {"e": {
        "calendarIds": {cid: True}, "title": "weekly", "start": "2026-03-02T10:00:00",
        "duration": "PT1H", "timeZone": "Europe/Paris",
        "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "weekly", "count": 4}}}})
    eid = res["created"]["e"]["id"]
    u0, seq0 = updated_of(gs, "CalendarEvent", eid, "alice")
    tick()
    inst = eid + "_20260309T100000"
    res = call(gs, "CalendarEvent/set", {"update": {inst: {"color": "green"}}}, user="bob")
    assert inst in (res.get("updated") or {}), res
    u1, seq = updated_of(gs, "CalendarEvent", eid, "bob")
    assert u1 > u0 and seq == seq0
    assert updated_of(gs, "CalendarEvent", eid, "alice") == (u0, seq0)
    got = call(gs, "CalendarEvent/get", {"ids": [inst], "properties": ["updated", "color"]},
               user="bob")["list"]
    assert got and got[0]["updated"] == u1 and got[0]["color"] == "green", got
    got = call(gs, "CalendarEvent/get", {"ids": [inst], "properties": ["updated", "color"]},
               user="alice")["list"]
    assert got and got[0]["updated"] == u0 and "color" not in got[0], got
    tick()
    # the owner's own value of one occurrence: her time, not bob's nor the series'
    res = call(gs, "CalendarEvent/set", {"update": {inst: {"keywords": {"mine": True}}}})
    assert inst in (res.get("updated") or {}), res
    u2, seq = updated_of(gs, "CalendarEvent", eid, "alice")
    assert u2 > u1 and seq == seq0
    assert updated_of(gs, "CalendarEvent", eid, "bob") == (u1, seq0)


def test_task_per_user_updated_owner_and_sharee_tasks06_s5_4(gs):
    res = call(gs, "TaskList/set", {"create": {"l": {"name": "pu", "shareWith": {
        gs.own("bob"): rights(TASK_RIGHTS, "mayReadItems", "mayUpdatePrivate"),
        gs.own("erin"): rights(TASK_RIGHTS, "mayReadItems")}}}})
    lid = res["created"]["l"]["id"]
    res = call(gs, "Task/set", {"create": {"t": {
        "taskListId": lid, "title": "t", "due": "2026-03-01T10:00:00",
        "timeZone": "Europe/Paris"}}})
    tid = res["created"]["t"]["id"]
    check_per_user_updated(gs, "Task", tid, {"title": "renamed"})
