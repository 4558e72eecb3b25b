"""draft-ietf-jmap-calendars §5 (uid and recurrenceId identify an event in an account)
when one CalendarEvent/set creates many events: on PostgreSQL the transaction then
loads the account's uids once and lays its own creates and destroys over them (issue
15: a round trip per event was the cost of W1). Runs on both stores: the answers are
the same."""
from test_calendar_event import cal, ev_set  # noqa: F401 (cal is a fixture)


def event(cal_id, uid, day):
    return {"calendarIds": {cal_id: True}, "uid": uid, "title": uid,
            "start": f"2025-03-{day:02d}T10:00:00", "duration": "PT1H"}


def test_uid_clashes_within_one_set(server, acct, cal):  # noqa: F811
    out = ev_set(server, acct, create={"x": event(cal, "older@example.com", 1),
                                       "gone": event(cal, "gone@example.com", 2)})
    gone = out["created"]["gone"]["id"]
    ev_set(server, acct, destroy=[gone])
    creates = {f"k{i}": event(cal, f"new{i}@example.com", 3 + i) for i in range(6)}
    creates["dup-new"] = event(cal, "new4@example.com", 20)  # created earlier in this call
    creates["dup-old"] = event(cal, "older@example.com", 21)  # stored before
    creates["reuse"] = event(cal, "gone@example.com", 22)  # its event was destroyed
    creates["inst"] = {**event(cal, "new1@example.com", 23), "recurrenceId": "2025-03-04T10:00:00"}
    out = ev_set(server, acct, create=creates)
    assert sorted(out.get("notCreated", {})) == ["dup-new", "dup-old"], out.get("notCreated")
    for k in ("dup-new", "dup-old"):
        assert out["notCreated"][k]["properties"] == ["uid"]
    assert sorted(out["created"]) == sorted(["reuse", "inst"] + [f"k{i}" for i in range(6)])
    # a later call: its transaction loads the uids again, with this call's creates
    k0 = out["created"]["k0"]["id"]
    out = ev_set(server, acct, update={k0: {"title": "renamed"}},
                 create={"again": event(cal, "new0@example.com", 24),
                         "fresh": event(cal, "fresh@example.com", 25),
                         "fresh2": event(cal, "fresh2@example.com", 26)})
    assert out["notCreated"]["again"]["properties"] == ["uid"]
    assert sorted(out["created"]) == ["fresh", "fresh2"] and k0 in out["updated"]
