"""Alerts fired by the server (draft-ietf-jmap-calendars-27 §6; jscalendarbis-08
§4.5.1), issue 14 point 5: a CalendarAlert on the event source (§6.4) once per
alert and occurrence at its instant (recurring events across a DST change,
overrides), acknowledged (§6.2) and snoozed (§6.3) alerts, default alerts (§6.1),
subscribed calendars only (§6), a sharee's own alerts (§5.4), a restart that neither
loses nor repeats an alert, email alerts through the SMTP relay. The server runs in
test mode with a test clock (JMAPD_TEST_CLOCK) that the tests move."""
import email
import os
import time

from alert_util import (Alerts, ClockServer, alice_address, cs, mail,  # noqa: F401 fixtures
                        offset_alert, wait_until)
from conftest import CONFIG

RIGHTS = ["mayReadFreeBusy", "mayReadItems", "mayWriteAll", "mayWriteOwn", "mayUpdatePrivate",
          "mayRSVP", "mayShare", "mayDelete"]


def default_cal(s, user="alice"):
    _, res = s.c("Calendar/get", {"accountId": s.own(user)}, user=user)
    return [c["id"] for c in res["list"] if c["isDefault"]][0]


def create_event(s, ev, user="alice", acct=None):
    ev.setdefault("calendarIds", {default_cal(s): True})
    ev.setdefault("duration", "PT1H")
    _, res = s.c("CalendarEvent/set", {"accountId": acct or s.a, "create": {"e": ev}}, user=user)
    assert "e" in (res.get("created") or {}), res
    return res["created"]["e"]["id"]


def update(s, id_, patch, user="alice", acct=None):
    _, res = s.c("CalendarEvent/set", {"accountId": acct or s.a, "update": {id_: patch}},
                 user=user)
    assert id_ in (res.get("updated") or {}), res
    return res


def test_display_alert_fires_once_at_its_instant_calendars27_s6_4(cs):
    w = Alerts(cs, "alice")
    e = create_event(cs, {"title": "standup", "uid": "u-once", "start": "2026-03-01T10:00:00",
                          "timeZone": "Europe/Berlin", "alerts": {"a1": offset_alert("-PT15M")}})
    # 10:00 Berlin = 09:00Z: the alert is due at 08:45Z
    cs.set_time("2026-03-01T08:44:59Z")
    assert w.none_within(1.5)
    cs.set_time("2026-03-01T08:45:00Z")
    got = w.next()
    assert got == {"@type": "CalendarAlert", "accountId": cs.a, "calendarEventId": e,
                   "uid": "u-once", "recurrenceId": None, "alertId": "a1"}
    cs.set_time("2026-03-01T09:30:00Z")
    assert w.none_within(1.5)  # once only
    w.close()


def test_recurring_alert_across_dst_calendars27_s6_4(cs):
    """A daily 09:00 Europe/Berlin event: before the change on 2026-03-29 the alert
    30 minutes before is at 07:30Z, after it at 06:30Z (jscalendarbis §1.4.5)."""
    cs.set_time("2026-03-27T12:00:00Z")
    w = Alerts(cs, "alice")
    e = create_event(cs, {"title": "daily", "uid": "u-dst", "start": "2026-03-27T09:00:00",
                          "timeZone": "Europe/Berlin",
                          "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "daily"},
                          "alerts": {"d": offset_alert("-PT30M")}})
    cs.set_time("2026-03-28T07:29:00Z")
    assert w.none_within(1.5)
    cs.set_time("2026-03-28T07:30:00Z")
    got = w.next()
    assert got["recurrenceId"] == "2026-03-28T09:00:00" and got["calendarEventId"] == e
    # the next one is an hour earlier in UTC: 06:30Z, not 07:30Z
    cs.set_time("2026-03-29T06:29:59Z")
    assert w.none_within(1.5)
    cs.set_time("2026-03-29T06:30:00Z")
    got = w.next()
    assert got["recurrenceId"] == "2026-03-29T09:00:00" and got["alertId"] == "d"
    assert w.none_within(1.5)
    w.close()


def test_override_moves_an_occurrences_alert_calendars27_s6_4(cs):
    cs.set_time("2026-04-01T00:00:00Z")
    w = Alerts(cs, "alice")
    create_event(cs, {"title": "ov", "uid": "u-ov", "start": "2026-04-01T12:00:00",
                      "timeZone": "Etc/UTC",
                      "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "daily",
                                         "count": 3},
                      "recurrenceOverrides": {"2026-04-02T12:00:00": {"start": "2026-04-02T15:00:00"}},
                      "alerts": {"x": offset_alert("-PT1H")}})
    cs.set_time("2026-04-01T11:00:00Z")
    assert w.next()["recurrenceId"] == "2026-04-01T12:00:00"
    cs.set_time("2026-04-02T11:00:00Z")  # the rule's time, moved by the override
    assert w.none_within(1.5)
    cs.set_time("2026-04-02T14:00:00Z")
    got = w.next()
    assert got["recurrenceId"] == "2026-04-02T12:00:00"
    w.close()


def test_acknowledged_and_snoozed_calendars27_s6_2_s6_3(cs):
    w = Alerts(cs, "alice")
    e = create_event(cs, {"title": "snooze me", "start": "2026-03-01T09:00:00",
                          "timeZone": "Etc/UTC", "alerts": {"orig": offset_alert("-PT10M")}})
    cs.set_time("2026-03-01T08:50:00Z")
    assert w.next()["alertId"] == "orig"
    # §8.3: acknowledge, and snooze for 5 minutes
    update(cs, e, {"alerts/orig/acknowledged": "2026-03-01T08:50:30Z",
                   "alerts/snz": {"@type": "Alert", "trigger": {
                       "@type": "AbsoluteTrigger", "when": "2026-03-01T08:55:30Z"},
                       "relatedTo": {"orig": {"@type": "Relation", "relation": {"snooze": True}}}}})
    cs.set_time("2026-03-01T08:55:29Z")
    assert w.none_within(1.5)
    cs.set_time("2026-03-01T08:55:30Z")
    got = w.next()
    assert got["alertId"] == "snz" and got["calendarEventId"] == e
    assert w.none_within(1.5)  # the acknowledged original does not come back
    w.close()


def test_alert_set_in_the_past_does_not_fire_calendars27_s6_2(cs):
    """An alert added after its time never fires; an acknowledged one (acknowledged at
    or after its trigger) is suppressed."""
    cs.set_time("2026-03-01T08:59:00Z")
    w = Alerts(cs, "alice")
    create_event(cs, {"title": "late", "start": "2026-03-01T09:00:00", "timeZone": "Etc/UTC",
                      "alerts": {"past": offset_alert("-PT10M"),
                                 "acked": {"@type": "Alert", "acknowledged": "2026-03-01T09:30:00Z",
                                           "trigger": {"@type": "OffsetTrigger",
                                                       "offset": "PT5M"}}}})
    cs.set_time("2026-03-01T09:10:00Z")
    assert w.none_within(2)
    w.close()


def test_default_alerts_calendars27_s6_1(cs):
    cal = default_cal(cs)
    _, res = cs.c("Calendar/set", {"accountId": cs.a, "update": {cal: {
        "defaultAlertsWithTime": {"dflt": offset_alert("-PT5M")},
        "defaultAlertsWithoutTime": {"allday": offset_alert("-PT12H")}}}})
    assert cal in res["updated"], res
    w = Alerts(cs, "alice")
    create_event(cs, {"title": "timed", "uid": "u-def", "start": "2026-03-01T09:00:00",
                      "timeZone": "Etc/UTC", "useDefaultAlerts": True,
                      "alerts": {"own": offset_alert("-PT30M")}})  # ignored (§6.1)
    create_event(cs, {"title": "all day", "uid": "u-allday", "start": "2026-03-02T00:00:00",
                      "showWithoutTime": True, "duration": "P1D", "timeZone": "Etc/UTC",
                      "useDefaultAlerts": True})
    cs.set_time("2026-03-01T08:55:00Z")
    got = w.next()
    assert (got["uid"], got["alertId"]) == ("u-def", "dflt")
    assert w.none_within(1.5)
    cs.set_time("2026-03-01T12:00:00Z")
    got = w.next()
    assert (got["uid"], got["alertId"]) == ("u-allday", "allday")
    w.close()


def test_unsubscribed_calendar_fires_nothing_calendars27_s6(cs):
    _, res = cs.c("Calendar/set", {"accountId": cs.a, "create": {"c": {
        "name": "quiet", "isSubscribed": False}}})
    quiet = res["created"]["c"]["id"]
    w = Alerts(cs, "alice")
    create_event(cs, {"title": "silent", "calendarIds": {quiet: True},
                      "start": "2026-03-01T09:00:00", "timeZone": "Etc/UTC",
                      "alerts": {"s": offset_alert("-PT5M")}})
    cs.set_time("2026-03-01T08:56:00Z")
    assert w.none_within(2)
    w.close()


def test_sharee_gets_their_own_alerts_calendars27_s5_4(cs):
    bob = cs.own("bob")
    _, res = cs.c("Calendar/set", {"accountId": cs.a, "create": {"c": {
        "name": "team", "shareWith": {bob: {r: r in ("mayReadItems", "mayUpdatePrivate")
                                            for r in RIGHTS}}}}})
    cal = res["created"]["c"]["id"]
    wa, wb = Alerts(cs, "alice"), Alerts(cs, "bob")
    e = create_event(cs, {"title": "shared", "uid": "u-sh", "calendarIds": {cal: True},
                          "start": "2026-03-01T10:00:00", "timeZone": "Etc/UTC",
                          "alerts": {"alices": offset_alert("-PT30M")}})
    update(cs, e, {"alerts": {"bobs": offset_alert("-PT10M")}}, user="bob")
    cs.set_time("2026-03-01T09:30:00Z")
    assert wa.next()["alertId"] == "alices"
    assert wb.none_within(1.5)  # §5.4: not bob's
    cs.set_time("2026-03-01T09:50:00Z")
    got = wb.next()
    assert got["alertId"] == "bobs" and got["accountId"] == cs.a and got["calendarEventId"] == e
    assert wa.none_within(1)
    wa.close()
    wb.close()


def test_email_alert_is_mailed_and_acknowledged_calendars27_s6(mail):
    """§6: an email alert is mailed to the user's own address (§9.3.2) through the relay
    and, once sent, acknowledged by the server (jscalendarbis §4.5.1)."""
    s, sink = mail
    e = create_event(s, {"title": "Dentist", "start": "2026-03-01T10:00:00",
                         "timeZone": "Etc/UTC", "alerts": {"m": offset_alert("-PT1H", "email")}})
    s.set_time("2026-03-01T09:00:00Z")
    assert wait_until(lambda: len(sink.messages) >= 1)
    frm, to, raw = sink.messages[0]
    msg = email.message_from_string(raw)
    assert to == [alice_address(s)] and "Dentist" in msg["Subject"]
    assert wait_until(lambda: "acknowledged" in s.c("CalendarEvent/get", {
        "accountId": s.a, "ids": [e]})[1]["list"][0]["alerts"]["m"])
    ev = s.c("CalendarEvent/get", {"accountId": s.a, "ids": [e]})[1]["list"][0]
    assert ev["alerts"]["m"]["acknowledged"] == "2026-03-01T09:00:00Z"
    s.set_time("2026-03-01T09:30:00Z")
    time.sleep(1.5)
    assert len(sink.messages) == 1


def test_restart_neither_loses_nor_repeats_calendars27_s6(mail):
    """An alert due while the server is down fires once after it starts (here an email
    alert, whose mail is kept by the relay); another restart does not repeat it, and
    the schedule of the next alert survives both."""
    s, sink = mail
    create_event(s, {"title": "across a restart", "uid": "u-rs", "start": "2026-03-01T09:00:00",
                     "timeZone": "Etc/UTC",
                     "alerts": {"r1": offset_alert("-PT20M", "email"),
                                "r2": offset_alert("-PT10M")}})
    time.sleep(0.5)
    assert s.stop() == 0
    s.set_time("2026-03-01T08:45:00Z")  # r1 came due while the server was down
    s.start()
    assert wait_until(lambda: len(sink.messages) >= 1)
    assert s.stop() == 0
    s.start()
    w = Alerts(s, "alice")
    time.sleep(1.5)
    assert len(sink.messages) == 1  # r1 is not repeated
    s.set_time("2026-03-01T08:50:00Z")
    got = w.next()
    assert (got["uid"], got["alertId"]) == ("u-rs", "r2")  # nor r2 lost
    w.close()


def test_test_clock_needs_a_private_file(cs):
    """The test clock is honoured only from a file of the server's user that nobody else
    may write (and only when the server was started with JMAPD_TEST_CLOCK)."""
    w = Alerts(cs, "alice")
    create_event(cs, {"title": "clock", "start": "2026-03-01T09:00:00", "timeZone": "Etc/UTC",
                      "alerts": {"c": offset_alert("-PT10M")}})
    cs.set_time("2026-03-01T08:55:00Z")
    os.chmod(cs.clock, 0o666)  # world-writable: ignored, the real time (2026-12) applies
    # the real time is far past the event: nothing new fires after a change either
    assert w.none_within(2)
    w.close()


def test_sharee_alert_on_one_occurrence_calendars27_s5_4(cs):
    """§5.4 per-user properties per occurrence: a sharee's alert on one occurrence fires
    for them on that occurrence alone."""
    bob = cs.own("bob")
    _, res = cs.c("Calendar/set", {"accountId": cs.a, "create": {"c": {
        "name": "team", "shareWith": {bob: {r: r in ("mayReadItems", "mayUpdatePrivate")
                                            for r in RIGHTS}}}}})
    cal = res["created"]["c"]["id"]
    wb = Alerts(cs, "bob")
    e = create_event(cs, {"title": "daily", "uid": "u-occ", "calendarIds": {cal: True},
                          "start": "2026-03-02T10:00:00", "timeZone": "Etc/UTC",
                          "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "daily",
                                             "count": 3}})
    update(cs, e + "_20260303T100000", {"alerts": {"o": offset_alert("-PT10M")}}, user="bob")
    cs.set_time("2026-03-02T09:55:00Z")
    assert wb.none_within(1.5)  # not on the other occurrences
    cs.set_time("2026-03-03T09:50:00Z")
    got = wb.next()
    assert (got["alertId"], got["recurrenceId"]) == ("o", "2026-03-03T10:00:00")
    cs.set_time("2026-03-04T09:55:00Z")
    assert wb.none_within(1.5)
    wb.close()


def test_alert_limits_come_from_the_config_calendars27_s9_3_2():
    """calendars-27 §9.3.2 (a server may limit the alerts it sends): `alert_rate` alerts per
    user and minute at most, and an alert due longer ago than `alert_stale` seconds when
    the server first sees it is passed over, not fired (README, configuration)."""
    s = ClockServer(config=CONFIG + "alert_stale = 3600\nalert_rate = 2\n")
    try:
        s.a = s.own("alice")
        w = Alerts(s, "alice")
        for i in range(3):  # three alerts at 08:45Z
            create_event(s, {"title": f"rush {i}", "start": "2026-03-01T10:00:00",
                             "timeZone": "Europe/Berlin",
                             "alerts": {"a1": offset_alert("-PT15M")}})
        s.set_time("2026-03-01T08:45:00Z")
        got = [w.next(), w.next()]
        assert all(g and g["alertId"] == "a1" for g in got), got
        assert w.none_within(2.0)  # the third is over the rate of 2 per minute
        old = create_event(s, {"title": "long ago", "start": "2026-03-01T11:00:00",
                               "timeZone": "Europe/Berlin",
                               "alerts": {"a2": offset_alert("-PT15M")}})  # 09:45Z
        recent = create_event(s, {"title": "recent", "start": "2026-03-01T12:00:00",
                                  "timeZone": "Europe/Berlin",
                                  "alerts": {"a3": offset_alert("-PT15M")}})  # 10:45Z
        s.set_time("2026-03-01T11:00:00Z")  # 75 and 15 minutes late
        got = w.next()
        assert got and got["calendarEventId"] == recent, got
        assert w.none_within(2.0)  # 09:45Z is more than alert_stale (1 h) ago
        assert old != recent
        w.close()
    finally:
        s.close()


def test_an_import_schedules_each_event_at_its_next_trigger_calendars27_s6(tmp_path):
    """The schedule (store.h "the alert schedule") says when each event is next looked
    at from the moment it is written: after `jmapd import` an event whose alerts are all
    past has no row, a future one its trigger's instant, a series its next trigger's —
    none is due, so a server started on an imported account reads none of its events
    (issue 20: the scheduler's first pass read every imported event with an alert, ~99 M
    instructions at 10,000 events, in the first requests after the start)."""
    import calendar
    import sqlite3

    import conftest
    from conftest import run_cli
    data = str(tmp_path / "data")
    r = run_cli(data, "user", "add", "imp", "--password-stdin", stdin="imp-pw\n")
    assert r.returncode == 0, r.stderr

    def vevent(uid, start, alarm=True, rrule=None):
        return ("BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20200101T000000Z\r\nDTSTART:" + start +
                "\r\nDURATION:PT1H\r\nSUMMARY:" + uid + "\r\n" +
                ("RRULE:" + rrule + "\r\n" if rrule else "") +
                ("BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:r\r\nTRIGGER:-PT15M\r\n"
                 "END:VALARM\r\n" if alarm else "") + "END:VEVENT\r\n")
    soon = time.gmtime(time.time() + 30 * 86400)  # within the scheduler's horizon (400 days)
    ics = tmp_path / "in.ics"
    ics.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" +
                   vevent("past", "20200101T100000Z") +
                   vevent("future", time.strftime("%Y%m%dT100000Z", soon)) +
                   vevent("quiet", "20400601T100000Z", alarm=False) +
                   vevent("weekly", "20200106T100000Z", rrule="FREQ=WEEKLY") +
                   "END:VCALENDAR\r\n", newline="")
    before = int(time.time())
    r = run_cli(data, "import", "--user", "imp", str(ics))
    assert r.returncode == 0, r.stderr
    sql = ("SELECT i.uid, q.next_check FROM alert_queue q JOIN object_index i ON "
           "i.account_id = q.account_id AND i.type = q.type AND i.id = q.object_id")
    if conftest.PG:
        import pgharness
        schema = conftest.PG_CLUSTER.schema_for(data)
        out = conftest.PG_CLUSTER.psql(pgharness.DB, f"SET search_path = {schema}; COPY ({sql}) "
                                       "TO STDOUT")
        rows = {uid: int(t) for uid, t in (line.split("\t") for line in out.splitlines())}
    else:
        db = sqlite3.connect(os.path.join(data, "jmapd.db"))
        rows = dict(db.execute(sql))
        db.close()
    assert set(rows) == {"future", "weekly"}, rows
    assert rows["future"] == calendar.timegm(soon[:3] + (9, 45, 0))
    # the series' next Monday 09:45Z from now: within a week
    assert before < rows["weekly"] <= int(time.time()) + 7 * 86400, rows
    assert (rows["weekly"] - calendar.timegm((2020, 1, 6, 9, 45, 0))) % (7 * 86400) == 0
