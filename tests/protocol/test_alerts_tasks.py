"""Alerts of tasks fired by the server (draft-ietf-jmap-tasks-06 "Alerts extension":
"the JSCalendar objects Alert, AbsoluteTrigger and OffsetTrigger ... need to be
supported", and §1: "alerts as defined in JMAP for Calendars apply", i.e.
draft-ietf-jmap-calendars-27 §6), issue 16: a CalendarAlert with `taskId` on the event
source (calendars-27 §6.4; docs/tasks.md "Alerts") at each trigger relative to the
task's start or due (jscalendarbis-17 §4.5.1 relativeTo), recurring tasks across a
DST change, acknowledged (§6.2) and snoozed (§6.3) alerts, the task list's default
alerts (§6.1) and isSubscribed (§6), drafts (tasks-06 §5 isDraft), a sharee's own
alerts (§5.4), email alerts. The server runs with a test clock (JMAPD_TEST_CLOCK)."""
import email

from alert_util import (Alerts, alice_address, cs, mail,  # noqa: F401 fixtures
                        offset_alert, wait_until)
from conftest import CORE
from groupware_util import CONTACTS, PRINCIPALS

TASKS = "urn:ietf:params:jmap:tasks"
USING = [CORE, TASKS, PRINCIPALS, CONTACTS]
TASK_RIGHTS = ["mayReadItems", "mayWriteAll", "mayWriteOwn", "mayUpdatePrivate", "mayRSVP",
               "mayAdmin", "mayDelete"]


def call(s, name, args, user="alice"):
    kind, res = s.c(name, dict({"accountId": s.a}, **args), user=user, using=USING)
    assert kind == name, res
    return res


def default_list(s):
    res = call(s, "TaskList/get", {"ids": None})
    return [x["id"] for x in res["list"] if x.get("role") == "inbox"][0]


def create_task(s, task, user="alice"):
    task.setdefault("taskListId", default_list(s))
    task.setdefault("timeZone", "Etc/UTC")
    res = call(s, "Task/set", {"create": {"t": task}}, user=user)
    assert "t" in (res.get("created") or {}), res
    return res["created"]["t"]["id"]


def update(s, tid, patch, user="alice"):
    res = call(s, "Task/set", {"update": {tid: patch}}, user=user)
    assert tid in (res.get("updated") or {}), res


def test_alerts_relative_to_start_and_due_tasks06_alerts_jscalendarbis_s4_5_1(cs):
    w = Alerts(cs, "alice")
    t = create_task(cs, {"title": "report", "uid": "t-once", "start": "2026-03-01T10:00:00",
                         "due": "2026-03-01T12:00:00",
                         "alerts": {"s": offset_alert("-PT15M"),
                                    "d": offset_alert("-PT30M", relative="end")}})
    cs.set_time("2026-03-01T09:44:59Z")
    assert w.none_within(1.5)
    cs.set_time("2026-03-01T09:45:00Z")
    assert w.next() == {"@type": "CalendarAlert", "accountId": cs.a, "taskId": t,
                        "uid": "t-once", "recurrenceId": None, "alertId": "s"}
    cs.set_time("2026-03-01T11:29:59Z")
    assert w.none_within(1.5)
    cs.set_time("2026-03-01T11:30:00Z")  # "end" is the due time (relativeTo)
    got = w.next()
    assert (got["taskId"], got["alertId"]) == (t, "d")
    cs.set_time("2026-03-01T13:00:00Z")
    assert w.none_within(1.5)  # each once
    w.close()


def test_a_task_without_start_fires_only_due_alerts_rfc5545_s3_8_6_3(cs):
    """A trigger relative to a time the task does not have never fires (RFC 5545
    §3.8.6.3: a VTODO alarm relative to START needs DTSTART); absolute ones do."""
    w = Alerts(cs, "alice")
    create_task(cs, {"title": "due only", "uid": "t-due", "due": "2026-03-01T12:00:00",
                     "alerts": {"s": offset_alert("-PT2H"),
                                "d": offset_alert("-PT1H", relative="end"),
                                "abs": {"@type": "Alert", "trigger": {
                                    "@type": "AbsoluteTrigger", "when": "2026-03-01T08:30:00Z"}}}})
    cs.set_time("2026-03-01T08:30:00Z")
    assert w.next()["alertId"] == "abs"
    cs.set_time("2026-03-01T10:30:00Z")  # due - 2h, had "s" been relative to the due
    assert w.none_within(1.5)
    cs.set_time("2026-03-01T11:00:00Z")
    got = w.next()
    assert (got["uid"], got["alertId"]) == ("t-due", "d")
    assert w.none_within(1.5)
    w.close()


def test_recurring_task_due_alerts_across_dst_tasks06_s5_3(cs):
    """A daily task 09:00-17:00 Europe/Berlin, an alert an hour before it is due: 15:00Z
    before the change of 2026-03-29, 14:00Z after it; each occurrence's due keeps its
    distance from its start."""
    cs.set_time("2026-03-27T20:00:00Z")
    w = Alerts(cs, "alice")
    t = create_task(cs, {"title": "daily", "uid": "t-dst", "start": "2026-03-27T09:00:00",
                         "due": "2026-03-27T17:00:00", "timeZone": "Europe/Berlin",
                         "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "daily"},
                         "alerts": {"d": offset_alert("-PT1H", relative="end")}})
    cs.set_time("2026-03-28T14:59:00Z")
    assert w.none_within(1.5)
    cs.set_time("2026-03-28T15:00:00Z")
    got = w.next()
    assert (got["taskId"], got["recurrenceId"]) == (t, "2026-03-28T09:00:00")
    cs.set_time("2026-03-29T13:59:59Z")
    assert w.none_within(1.5)
    cs.set_time("2026-03-29T14:00:00Z")
    got = w.next()
    assert (got["recurrenceId"], got["alertId"]) == ("2026-03-29T09:00:00", "d")
    assert w.none_within(1.5)
    w.close()


def test_acknowledged_and_snoozed_task_alert_calendars27_s6_2_s6_3(cs):
    w = Alerts(cs, "alice")
    t = create_task(cs, {"title": "snooze me", "due": "2026-03-01T09:00:00",
                         "alerts": {"orig": offset_alert("-PT10M", relative="end")}})
    cs.set_time("2026-03-01T08:50:00Z")
    assert w.next()["alertId"] == "orig"
    update(cs, t, {"alerts/orig/acknowledged": "2026-03-01T08:50:30Z",
                   "alerts/snz": {"@type": "Alert", "trigger": {
                       "@type": "AbsoluteTrigger", "when": "2026-03-01T08:55:30Z"},
                       "relatedTo": {"orig": {"@type": "Relation", "relation": {"snooze": True}}}}})
    cs.set_time("2026-03-01T08:55:29Z")
    assert w.none_within(1.5)
    cs.set_time("2026-03-01T08:55:30Z")
    got = w.next()
    assert (got["alertId"], got["taskId"]) == ("snz", t)
    assert w.none_within(1.5)  # the acknowledged original does not come back
    w.close()


def test_task_list_defaults_subscription_and_drafts_tasks06_s4_alerts(cs):
    """The list's default alerts (calendars-27 §6.1; tasks-06 §4 alerts extension), chosen
    by showWithoutTime; nothing from a list the user is not subscribed to (§6); nothing
    for a draft (tasks-06 §5 isDraft: "will not send any push notifications for
    alerts")."""
    lid = default_list(cs)
    res = call(cs, "TaskList/set", {"update": {lid: {
        "defaultAlertsWithTime": {"dflt": offset_alert("-PT5M", relative="end")},
        "defaultAlertsWithoutTime": {"allday": offset_alert("-PT12H", relative="end")}}}})
    assert lid in res["updated"], res
    res = call(cs, "TaskList/set", {"create": {"q": {"name": "quiet", "isSubscribed": False}}})
    quiet = res["created"]["q"]["id"]
    w = Alerts(cs, "alice")
    create_task(cs, {"title": "timed", "uid": "t-def", "due": "2026-03-01T09:00:00",
                     "useDefaultAlerts": True, "alerts": {"own": offset_alert("-PT30M")}})
    create_task(cs, {"title": "untimed", "uid": "t-allday", "due": "2026-03-02T00:00:00",
                     "showWithoutTime": True, "useDefaultAlerts": True})
    create_task(cs, {"title": "silent", "taskListId": quiet, "due": "2026-03-01T09:00:00",
                     "alerts": {"q": offset_alert("-PT4M", relative="end")}})
    create_task(cs, {"title": "draft", "isDraft": True, "due": "2026-03-01T09:00:00",
                     "alerts": {"dr": offset_alert("-PT3M", relative="end")}})
    cs.set_time("2026-03-01T08:58:00Z")
    got = w.next()
    assert (got["uid"], got["alertId"]) == ("t-def", "dflt")
    assert w.none_within(1.5)
    cs.set_time("2026-03-01T12:00:00Z")
    got = w.next()
    assert (got["uid"], got["alertId"]) == ("t-allday", "allday")
    assert w.none_within(1.5)
    w.close()


def test_sharee_gets_their_own_task_alerts_calendars27_s5_4(cs):
    bob = cs.own("bob")
    res = call(cs, "TaskList/set", {"create": {"l": {"name": "team", "shareWith": {
        bob: {r: r in ("mayReadItems", "mayUpdatePrivate") for r in TASK_RIGHTS}}}}})
    lid = res["created"]["l"]["id"]
    wa, wb = Alerts(cs, "alice"), Alerts(cs, "bob")
    t = create_task(cs, {"title": "shared", "uid": "t-sh", "taskListId": lid,
                         "due": "2026-03-01T10:00:00",
                         "alerts": {"alices": offset_alert("-PT30M", relative="end")}})
    update(cs, t, {"alerts": {"bobs": offset_alert("-PT10M", relative="end")}}, user="bob")
    cs.set_time("2026-03-01T09:30:00Z")
    assert wa.next()["alertId"] == "alices"
    assert wb.none_within(1.5)  # §5.4: not bob's
    cs.set_time("2026-03-01T09:50:00Z")
    got = wb.next()
    assert (got["alertId"], got["accountId"], got["taskId"]) == ("bobs", cs.a, t)
    assert wa.none_within(1)
    wa.close()
    wb.close()


def test_email_task_alert_is_mailed_and_acknowledged_calendars27_s6(mail):
    s, sink = mail
    t = create_task(s, {"title": "Tax return", "due": "2026-03-01T10:00:00",
                        "alerts": {"m": offset_alert("-PT1H", "email", relative="end")}})
    s.set_time("2026-03-01T09:00:00Z")
    assert wait_until(lambda: len(sink.messages) >= 1)
    _, to, raw = sink.messages[0]
    msg = email.message_from_string(raw)
    assert to == [alice_address(s)] and "Tax return" in msg["Subject"]
    assert wait_until(lambda: "acknowledged" in call(s, "Task/get", {"ids": [t]})[
        "list"][0]["alerts"]["m"])
    got = call(s, "Task/get", {"ids": [t]})["list"][0]
    assert got["alerts"]["m"]["acknowledged"] == "2026-03-01T09:00:00Z"
