"""Scheduling between users of this server (draft-ietf-jmap-calendars-27 §5.9.2,
§7 CalendarEventNotification; iTIP RFC 5546 §3.2), issue 14 point 3: organizer
alice, attendees bob and dan, erin not invited."""
import pytest

from groupware_util import GroupServer


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    s.acct = {u: s.own(u) for u in ("alice", "bob", "dan", "erin")}
    yield s
    s.close()


def person(name, owner=False, status="needs-action"):
    roles = {"attendee": True}
    if owner:
        roles["owner"] = True
    return {"@type": "Participant", "calendarAddress": f"mailto:{name}@localhost",
            "roles": roles, "participationStatus": status}


def default_cal(gs, user):
    _, res = gs.c("Calendar/get", {"accountId": gs.acct[user]}, user=user)
    return [c["id"] for c in res["list"] if c["isDefault"]][0]


def ev_set(gs, user, **args):
    _, res = gs.c("CalendarEvent/set", dict({"accountId": gs.acct[user],
                                             "sendSchedulingMessages": True}, **args), user=user)
    return res


def by_uid(gs, user, uid):
    _, q = gs.c("CalendarEvent/query", {"accountId": gs.acct[user], "filter": {"uid": uid}},
                user=user)
    if not q["ids"]:
        return None
    _, got = gs.c("CalendarEvent/get", {"accountId": gs.acct[user], "ids": q["ids"]}, user=user)
    return got["list"][0]


def notes(gs, user, **flt):
    _, q = gs.c("CalendarEventNotification/query", {"accountId": gs.acct[user],
                                                    "filter": flt or None}, user=user)
    _, got = gs.c("CalendarEventNotification/get", {"accountId": gs.acct[user],
                                                    "ids": q["ids"]}, user=user)
    return got["list"]


def invite(gs, title, **extra):
    ev = {"calendarIds": {default_cal(gs, "alice"): True}, "title": title,
          "start": "2026-05-04T10:00:00", "duration": "PT1H", "timeZone": "Europe/Berlin",
          "organizerCalendarAddress": "mailto:alice@localhost",
          "participants": {"a": person("alice", owner=True, status="accepted"),
                           "b": person("bob"), "d": person("dan")}}
    ev.update(extra)
    res = ev_set(gs, "alice", create={"e": ev})
    assert "e" in (res["created"] or {}), res
    return res["created"]["e"]["id"], res["created"]["e"]["uid"]


def test_request_on_create_rfc5546_s3_2_2(gs):
    eid, uid = invite(gs, "planning")
    copy = by_uid(gs, "bob", uid)
    assert copy is not None and copy["title"] == "planning"
    assert copy["calendarIds"] == {default_cal(gs, "bob"): True}
    assert copy["isOrigin"] is False
    assert copy["participants"]["b"]["participationStatus"] == "needs-action"
    assert by_uid(gs, "dan", uid) is not None
    assert by_uid(gs, "erin", uid) is None  # not invited
    n = [x for x in notes(gs, "bob", type="created") if x["calendarEventId"] == copy["id"]]
    assert len(n) == 1
    assert n[0]["changedBy"]["calendarAddress"] == "mailto:alice@localhost"
    assert n[0]["changedBy"]["principalId"] == gs.acct["alice"]
    assert n[0]["event"]["title"] == "planning" and n[0]["isDraft"] is False


def test_reply_accept_decline_tentative_rfc5546_s3_2_3(gs):
    eid, uid = invite(gs, "review")
    for user, pid, status in (("bob", "b", "accepted"), ("dan", "d", "tentative")):
        copy = by_uid(gs, user, uid)
        res = ev_set(gs, user, update={copy["id"]: {
            f"participants/{pid}/participationStatus": status}})
        assert res["updated"] is not None and copy["id"] in res["updated"], res
    org = by_uid(gs, "alice", uid)
    assert org["participants"]["b"]["participationStatus"] == "accepted"
    assert org["participants"]["d"]["participationStatus"] == "tentative"
    upd = [x for x in notes(gs, "alice", type="updated") if x["calendarEventId"] == eid]
    assert {x["changedBy"]["calendarAddress"] for x in upd} == {"mailto:bob@localhost",
                                                                "mailto:dan@localhost"}
    assert all("participants" in x["eventPatch"] for x in upd)
    # a decline by destroying the answered copy (§5.9.2.3)
    copy = by_uid(gs, "dan", uid)
    res = ev_set(gs, "dan", destroy=[copy["id"]])
    assert res["destroyed"] == [copy["id"]]
    assert by_uid(gs, "alice", uid)["participants"]["d"]["participationStatus"] == "declined"


def test_update_resets_and_sequence_rfc5546_s2_1_4(gs):
    eid, uid = invite(gs, "standup")
    copy = by_uid(gs, "bob", uid)
    ev_set(gs, "bob", update={copy["id"]: {"participants/b/participationStatus": "accepted"}})
    seq0 = by_uid(gs, "alice", uid).get("sequence", 0)
    res = ev_set(gs, "alice", update={eid: {"start": "2026-05-04T11:00:00",
                                            "participants/b/participationStatus":
                                                "needs-action"}})
    assert res["updated"] is not None, res
    org = by_uid(gs, "alice", uid)
    assert org["sequence"] > seq0  # a significant change bumps it
    copy = by_uid(gs, "bob", uid)
    assert copy["start"] == "2026-05-04T11:00:00" and copy["sequence"] == org["sequence"]
    assert copy["participants"]["b"]["participationStatus"] == "needs-action"


def test_cancel_on_destroy_and_removal_rfc5546_s3_2_5(gs):
    eid, uid = invite(gs, "offsite")
    # dan removed: only he gets a CANCEL, bob a new REQUEST
    res = ev_set(gs, "alice", update={eid: {"participants/d": None, "title": "offsite 2"}})
    assert res["updated"] is not None, res
    assert by_uid(gs, "dan", uid)["status"] == "cancelled"
    bob = by_uid(gs, "bob", uid)
    assert bob.get("status", "confirmed") != "cancelled" and bob["title"] == "offsite 2"
    res = ev_set(gs, "alice", destroy=[eid])
    assert res["destroyed"] == [eid]
    assert by_uid(gs, "bob", uid)["status"] == "cancelled"


def test_hide_attendees_calendars27_s5_9_2_1(gs):
    eid, uid = invite(gs, "interviews", hideAttendees=True)
    copy = by_uid(gs, "bob", uid)
    assert set(copy["participants"]) == {"a", "b"}  # the owner and bob only


def test_reply_from_someone_not_invited_changes_nothing_rfc5546_s3_2_3(gs):
    eid, uid = invite(gs, "closed")
    before = by_uid(gs, "alice", uid)
    res = ev_set(gs, "erin", create={"e": {
        "calendarIds": {default_cal(gs, "erin"): True}, "uid": uid, "title": "closed",
        "start": "2026-05-04T10:00:00", "organizerCalendarAddress": "mailto:alice@localhost",
        "participants": {"a": person("alice", owner=True), "x": person("erin")}}})
    eid2 = res["created"]["e"]["id"]
    ev_set(gs, "erin", update={eid2: {"participants/x/participationStatus": "accepted"}})
    after = by_uid(gs, "alice", uid)
    assert after["participants"] == before["participants"]


def test_external_recipient_is_refused_calendars27_s5_9_2(gs):
    res = ev_set(gs, "alice", create={"e": {
        "calendarIds": {default_cal(gs, "alice"): True}, "title": "x",
        "start": "2026-05-04T10:00:00",
        "participants": {"a": person("alice", owner=True),
                         "z": {"@type": "Participant", "calendarAddress": "mailto:z@example.org",
                               "roles": {"attendee": True}}}}})
    assert res["notCreated"]["e"]["type"] == "noSupportedScheduleMethods"


def test_notification_methods_calendars27_s7(gs):
    me = gs.acct["bob"]
    _, q = gs.c("CalendarEventNotification/query", {"accountId": me,
                                                    "sort": [{"property": "created"}]},
                user="bob")
    assert q["ids"]
    nid = q["ids"][0]
    _, res = gs.c("CalendarEventNotification/set", {"accountId": me, "create": {"x": {}},
                                                    "update": {nid: {"comment": "x"}}},
                  user="bob")
    assert res["notCreated"]["x"]["type"] in ("forbidden", "invalidProperties")
    assert res["notUpdated"][nid]["type"] in ("forbidden", "invalidProperties")
    _, res = gs.c("CalendarEventNotification/set", {"accountId": me, "destroy": [nid]},
                  user="bob")
    assert res["destroyed"] == [nid]
    _, ch = gs.c("CalendarEventNotification/changes", {"accountId": me,
                                                       "sinceState": q["queryState"]},
                 user="bob")
    assert ch["destroyed"] == [nid]
    _, qc = gs.c("CalendarEventNotification/queryChanges", {
        "accountId": me, "sort": [{"property": "created"}],
        "sinceQueryState": q["queryState"]}, user="bob")
    assert qc["removed"] == [nid]


def daily_invite(gs, title):
    return invite(gs, title, start="2026-06-01T09:00:00",
                  recurrenceRule={"@type": "RecurrenceRule", "frequency": "daily",
                                  "count": 10})


def instances(gs, user, uid, cal_filter=None):
    _, q = gs.c("CalendarEvent/query", {"accountId": gs.acct[user], "filter": {
        "uid": uid, "after": "2026-05-01T00:00:00", "before": "2026-07-01T00:00:00"},
        "expandRecurrences": True}, user=user)
    _, got = gs.c("CalendarEvent/get", {"accountId": gs.acct[user], "ids": q["ids"],
                                        "properties": ["start", "title"]}, user=user)
    return [(x["start"], x["title"]) for x in got["list"]]


def test_split_series_keeps_attendees_consistent_calendars27_s5_6_1(gs):
    eid, uid = daily_invite(gs, "daily sync")
    # "this and following" from the 5th: the original ends before it, a new series
    # starts there; both are sent (calendars-27 §5.6.1, jscalendarbis §4.1.2 relations)
    res = ev_set(gs, "alice", update={eid: {
        "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "daily",
                           "until": "2026-06-04T23:59:59"}}},
        create={"n": {"calendarIds": {default_cal(gs, "alice"): True}, "title": "daily sync v2",
                      "start": "2026-06-05T10:00:00", "duration": "PT1H",
                      "timeZone": "Europe/Berlin",
                      "organizerCalendarAddress": "mailto:alice@localhost",
                      "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "daily",
                                         "count": 6},
                      "relatedTo": {uid: {"@type": "Relation", "relation": {"first": True}}},
                      "participants": {"a": person("alice", owner=True, status="accepted"),
                                       "b": person("bob"), "d": person("dan")}}})
    assert res["updated"] is not None and "n" in res["created"], res.get("notUpdated")
    new_uid = res["created"]["n"]["uid"]
    for user in ("alice", "bob"):
        old_part, new_part = instances(gs, user, uid), instances(gs, user, new_uid)
        assert [s for s, _ in old_part] == [f"2026-06-0{d}T09:00:00" for d in (1, 2, 3, 4)], user
        assert [s for s, _ in new_part] == [f"2026-06-{d:02d}T10:00:00"
                                            for d in range(5, 11)], user
    copy = by_uid(gs, "bob", new_uid)
    assert copy["relatedTo"][uid]["relation"] == {"first": True}


def test_this_and_future_by_overrides_calendars27_s5_6_2(gs):
    eid, uid = daily_invite(gs, "retro")
    before = {f"2026-06-0{d}T09:00:00": {"title": "retro"} for d in (1, 2, 3)}
    res = ev_set(gs, "alice", update={eid: {"title": "retro (new room)",
                                            "recurrenceOverrides": before}})
    assert res["updated"] is not None, res
    titles = dict(instances(gs, "bob", uid))
    assert titles["2026-06-02T09:00:00"] == "retro"
    assert titles["2026-06-05T09:00:00"] == "retro (new room)"


def test_cancel_one_instance_between_users_rfc5546_s3_2_5(gs):
    """RFC 5546 §3.2.5 "cancel one instance": the organizer destroys one occurrence;
    the attendees' copies lose that occurrence only (the rest of the series and their
    answers stay), and they are notified (calendars-27 §7)."""
    eid, uid = invite(gs, "weekly", recurrenceRule={"@type": "RecurrenceRule",
                                                    "frequency": "weekly", "count": 3})
    res = ev_set(gs, "bob", update={by_uid(gs, "bob", uid)["id"]: {
        "participants/b/participationStatus": "accepted"}})
    assert res["updated"] is not None, res
    before = len(notes(gs, "bob"))
    res = ev_set(gs, "alice", destroy=[eid + "_20260511T100000"])
    assert res["destroyed"] == [eid + "_20260511T100000"], res
    bob = by_uid(gs, "bob", uid)
    assert bob["recurrenceOverrides"]["2026-05-11T10:00:00"] == {"excluded": True}
    assert bob.get("status", "confirmed") != "cancelled" and "recurrenceRule" in bob
    assert bob["participants"]["b"]["participationStatus"] == "accepted"
    assert len(notes(gs, "bob")) == before + 1
    _, q = gs.c("CalendarEvent/query", {"accountId": gs.acct["bob"], "expandRecurrences": True,
                                        "filter": {"uid": uid, "after": "2026-05-01T00:00:00",
                                                   "before": "2026-06-01T00:00:00"}}, user="bob")
    assert len(q["ids"]) == 2, q


ITIP = "jmapd.org:itipMethod"


def test_counter_is_a_notification_for_the_organizer_rfc5546_s3_2_7(gs):
    """§3.2.7: an attendee changing the time or place of their copy (with
    sendSchedulingMessages) proposes it to the organizer: the organizer's event does not
    change; they get a CalendarEventNotification (calendars-27 §7) of type "updated"
    whose event is their event as it is, whose eventPatch is the proposal, and whose
    jmapd.org:itipMethod is "COUNTER". Accepting it is rescheduling (§3.2.2.1): the
    REQUEST replaces the attendee's copy."""
    eid, uid = invite(gs, "counter me")
    copy = by_uid(gs, "bob", uid)
    res = ev_set(gs, "bob", update={copy["id"]: {"start": "2026-05-04T14:00:00",
                                                 "participants/b/participationStatus":
                                                 "tentative"}})
    assert copy["id"] in (res["updated"] or {}), res
    org = by_uid(gs, "alice", uid)
    assert org["start"] == "2026-05-04T10:00:00"  # unchanged until the organizer decides
    assert org["participants"]["b"]["participationStatus"] == "tentative"  # the REPLY
    counters = [x for x in notes(gs, "alice") if x["calendarEventId"] == eid and
                x.get(ITIP) == "COUNTER"]
    assert len(counters) == 1, notes(gs, "alice")
    n = counters[0]
    assert n["type"] == "updated" and n["eventPatch"] == {"start": "2026-05-04T14:00:00"}
    assert n["event"]["start"] == "2026-05-04T10:00:00"
    assert n["changedBy"]["calendarAddress"] == "mailto:bob@localhost"
    _, got = gs.c("CalendarEventNotification/get", {"accountId": gs.acct["alice"],
                                                    "ids": [n["id"]], "properties": [ITIP]})
    assert got["list"][0][ITIP] == "COUNTER"
    # the organizer accepts: an update with the proposal goes to everyone as a REQUEST
    res = ev_set(gs, "alice", update={eid: n["eventPatch"]})
    assert eid in (res["updated"] or {}), res
    for user in ("bob", "dan"):
        assert by_uid(gs, user, uid)["start"] == "2026-05-04T14:00:00"
    # a per-user change alone is no proposal (calendars-27 §5.4)
    copy = by_uid(gs, "bob", uid)
    ev_set(gs, "bob", update={copy["id"]: {"color": "red"}})
    assert len([x for x in notes(gs, "alice") if x.get(ITIP) == "COUNTER"
                and x["calendarEventId"] == eid]) == 1


def test_delegation_between_users_rfc5546_s3_2_2_3(gs):
    """§3.2.2.3: bob delegates to erin: the organizer's copy records bob as "delegated"
    with delegatedTo erin, and erin as a participant with delegatedFrom bob (jscalendarbis
    delegatedTo/delegatedFrom hold calendar addresses); erin gets the invitation in her
    calendar, and her answer reaches the organizer."""
    eid, uid = invite(gs, "delegate me")
    copy = by_uid(gs, "bob", uid)
    res = ev_set(gs, "bob", update={copy["id"]: {
        "participants/b/participationStatus": "delegated",
        "participants/b/delegatedTo": {"mailto:erin@localhost": True},
        "participants/e": {"@type": "Participant", "calendarAddress": "mailto:erin@localhost",
                           "roles": {"attendee": True}, "participationStatus": "needs-action",
                           "expectReply": True,
                           "delegatedFrom": {"mailto:bob@localhost": True}}}})
    assert copy["id"] in (res["updated"] or {}), res
    org = by_uid(gs, "alice", uid)
    assert org["participants"]["b"]["participationStatus"] == "delegated"
    assert org["participants"]["b"]["delegatedTo"] == {"mailto:erin@localhost": True}
    erin = [p for p in org["participants"].values()
            if p.get("calendarAddress") == "mailto:erin@localhost"]
    assert len(erin) == 1 and erin[0]["delegatedFrom"] == {"mailto:bob@localhost": True}
    assert org["start"] == "2026-05-04T10:00:00"  # no COUNTER: participants aside
    assert not [x for x in notes(gs, "alice") if x["calendarEventId"] == eid
                and x.get(ITIP)]
    theirs = by_uid(gs, "erin", uid)
    assert theirs is not None and theirs["isOrigin"] is False
    assert theirs["calendarIds"] == {default_cal(gs, "erin"): True}
    pid = [k for k, p in theirs["participants"].items()
           if p.get("calendarAddress") == "mailto:erin@localhost"][0]
    res = ev_set(gs, "erin", update={theirs["id"]: {
        f"participants/{pid}/participationStatus": "accepted"}})
    assert theirs["id"] in (res["updated"] or {}), res
    org = by_uid(gs, "alice", uid)
    erin = [p for p in org["participants"].values()
            if p.get("calendarAddress") == "mailto:erin@localhost"]
    assert erin[0]["participationStatus"] == "accepted"
    # the organizer's next change reaches the delegate too (§3.2.2.3)
    ev_set(gs, "alice", update={eid: {"title": "delegated and moved"}})
    assert by_uid(gs, "erin", uid)["title"] == "delegated and moved"


def test_counter_of_one_occurrence_rfc5546_s3_2_7(gs):
    """§3.2.7 RECURRENCE-ID "only if referring to an instance": an attendee moving one
    occurrence of their copy proposes that occurrence alone; the organizer's notification
    is of that instance (calendars-27 §7: event and eventPatch "for just that instance",
    calendarEventId the base event)."""
    weekly = [{"@type": "RecurrenceRule", "frequency": "weekly", "count": 4}]
    eid, uid = invite(gs, "weekly sync", recurrenceRules=weekly)
    copy = by_uid(gs, "bob", uid)
    res = ev_set(gs, "bob", update={copy["id"]: {
        "recurrenceOverrides": {"2026-05-11T10:00:00": {"start": "2026-05-11T16:00:00"}}}})
    assert copy["id"] in (res["updated"] or {}), res
    (n,) = [x for x in notes(gs, "alice") if x["calendarEventId"] == eid and
            x.get(ITIP) == "COUNTER"]
    assert n["eventPatch"] == {"start": "2026-05-11T16:00:00"}, n
    assert n["event"]["recurrenceId"] == "2026-05-11T10:00:00"
    assert n["event"]["start"] == "2026-05-11T10:00:00"
    assert "recurrenceOverrides" not in by_uid(gs, "alice", uid)


def test_declinecounter_sent_from_jmap_rfc5546_s3_2_8(gs):
    """§3.2.8: the organizer declines a COUNTER (§3.2.7) by destroying its
    CalendarEventNotification with the argument jmapd.org:declineCounter (calendars-27
    names no method; docs/scheduling.md): the attendee's copy stays as they proposed it
    and they get a notification marked DECLINECOUNTER; the organizer's event does not
    change. A plain destroy only dismisses; a notification that is no COUNTER cannot be
    declined (invalidProperties, kept)."""
    eid, uid = invite(gs, "decline my counter")
    copy = by_uid(gs, "bob", uid)
    res = ev_set(gs, "bob", update={copy["id"]: {"start": "2026-05-04T16:00:00"}})
    assert copy["id"] in (res["updated"] or {}), res
    dans = by_uid(gs, "dan", uid)
    res = ev_set(gs, "dan", update={dans["id"]: {"participants/d/participationStatus":
                                                 "accepted"}})  # a REPLY: no COUNTER
    assert dans["id"] in (res["updated"] or {}), res
    counter, = [x for x in notes(gs, "alice") if x["calendarEventId"] == eid
                and x.get(ITIP) == "COUNTER"]
    other = [x for x in notes(gs, "alice") if x["calendarEventId"] == eid
             and not x.get(ITIP)][0]

    def bob_declines():
        return [x for x in notes(gs, "bob") if x["calendarEventId"] == copy["id"]
                and x.get(ITIP) == "DECLINECOUNTER"]

    _, res = gs.c("CalendarEventNotification/set", {
        "accountId": gs.acct["alice"], "destroy": [other["id"]],
        "jmapd.org:declineCounter": True})
    assert res["notDestroyed"][other["id"]]["type"] == "invalidProperties", res
    assert res["notDestroyed"][other["id"]]["properties"] == [ITIP], res
    assert not bob_declines()
    _, res = gs.c("CalendarEventNotification/set", {
        "accountId": gs.acct["alice"], "destroy": [counter["id"]],
        "jmapd.org:declineCounter": True})
    assert res["destroyed"] == [counter["id"]], res
    n, = bob_declines()
    assert n["type"] == "updated" and n["eventPatch"] == {}, n
    assert n["changedBy"]["calendarAddress"] == "mailto:alice@localhost", n
    assert by_uid(gs, "bob", uid)["start"] == "2026-05-04T16:00:00"  # the copy stays
    assert by_uid(gs, "alice", uid)["start"] == "2026-05-04T10:00:00"
    # another proposal, dismissed without the argument: nothing sent
    ev_set(gs, "bob", update={copy["id"]: {"start": "2026-05-04T17:00:00"}})
    again, = [x for x in notes(gs, "alice") if x["calendarEventId"] == eid
              and x.get(ITIP) == "COUNTER"]
    _, res = gs.c("CalendarEventNotification/set", {"accountId": gs.acct["alice"],
                                                    "destroy": [again["id"]]})
    assert res["destroyed"] == [again["id"]], res
    assert len(bob_declines()) == 1
    _, res = gs.c("CalendarEventNotification/set", {
        "accountId": gs.acct["alice"], "destroy": [], "jmapd.org:declineCounter": "yes"})
    assert res.get("type") == "invalidArguments", res


def test_delegate_answer_reaches_the_delegator_rfc5546_s3_2_2_3(gs):
    """§3.2.2.3: "the Delegate MUST send a REPLY method to the Organizer, and optionally
    to the Delegator": bob delegates to erin; erin's answer is recorded in the
    organizer's copy and in bob's copy (erin's participant there, with a notification
    from erin), bob staying "delegated". Another attendee's answer does not reach bob's
    copy as a delegate's would."""
    eid, uid = invite(gs, "tell the delegator")
    copy = by_uid(gs, "bob", uid)
    res = ev_set(gs, "bob", update={copy["id"]: {
        "participants/b/participationStatus": "delegated",
        "participants/b/delegatedTo": {"mailto:erin@localhost": True},
        "participants/e": {"@type": "Participant", "calendarAddress": "mailto:erin@localhost",
                           "roles": {"attendee": True}, "participationStatus": "needs-action",
                           "expectReply": True,
                           "delegatedFrom": {"mailto:bob@localhost": True}}}})
    assert copy["id"] in (res["updated"] or {}), res
    before = {x["id"] for x in notes(gs, "bob")}
    dans = by_uid(gs, "dan", uid)
    ev_set(gs, "dan", update={dans["id"]: {"participants/d/participationStatus": "declined"}})
    assert by_uid(gs, "bob", uid)["participants"]["d"]["participationStatus"] == "needs-action"
    theirs = by_uid(gs, "erin", uid)
    pid = [k for k, p in theirs["participants"].items()
           if p.get("calendarAddress") == "mailto:erin@localhost"][0]
    res = ev_set(gs, "erin", update={theirs["id"]: {
        f"participants/{pid}/participationStatus": "tentative"}})
    assert theirs["id"] in (res["updated"] or {}), res
    org = by_uid(gs, "alice", uid)
    assert [p["participationStatus"] for p in org["participants"].values()
            if p.get("calendarAddress") == "mailto:erin@localhost"] == ["tentative"]
    bobs = by_uid(gs, "bob", uid)
    assert bobs["participants"]["e"]["participationStatus"] == "tentative", bobs
    assert bobs["participants"]["b"]["participationStatus"] == "delegated"
    assert bobs["start"] == copy["start"] and bobs["title"] == copy["title"]
    told = [x for x in notes(gs, "bob") if x["calendarEventId"] == bobs["id"]
            and x["id"] not in before]
    assert len(told) == 1 and told[0]["type"] == "updated", told
    assert told[0]["changedBy"]["calendarAddress"] == "mailto:erin@localhost"


def test_invitation_lands_in_the_calendar_the_attendee_named_calendars27_s5_9_2(gs):
    """calendars-27 §5.9.2 with §4.3 (Calendar/set onSuccessSetIsDefault): a message
    between users of this server goes into the recipient's default calendar, the one
    they named last; the calendar that was default before keeps what it had."""
    dan = gs.acct["dan"]
    old = default_cal(gs, "dan")
    eid0, uid0 = invite(gs, "before the new default")
    assert by_uid(gs, "dan", uid0)["calendarIds"] == {old: True}
    _, res = gs.c("Calendar/set", {"accountId": dan, "create": {"w": {"name": "work"}},
                                   "onSuccessSetIsDefault": "#w"}, user="dan")
    work = res["created"]["w"]["id"]
    assert default_cal(gs, "dan") == work
    eid, uid = invite(gs, "after the new default")
    assert by_uid(gs, "dan", uid)["calendarIds"] == {work: True}
    assert by_uid(gs, "dan", uid0)["calendarIds"] == {old: True}
    # an update of the first invitation replaces dan's copy where it is
    res = ev_set(gs, "alice", update={eid0: {"title": "moved on"}})
    assert eid0 in (res["updated"] or {}), res
    copy = by_uid(gs, "dan", uid0)
    assert copy["title"] == "moved on" and copy["calendarIds"] == {old: True}, copy
    gs.c("Calendar/set", {"accountId": dan, "onSuccessSetIsDefault": old}, user="dan")
    assert default_cal(gs, "dan") == old
