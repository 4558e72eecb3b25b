"""A share of free/busy alone (issue 14): draft-ietf-jmap-calendars-27 §4.1 ("If
mayReadFreeBusy is the only permission the user has, the calendar MUST NOT be returned in
"Calendar/get" and "Calendar/query"; it must behave as though it did not exist. The data
is just used as part of "Principal/getAvailability""), §2.1 (the principal's accountId
is null when "the user does not have access to any data in the account (with the
exception of free/busy, which is governed by the "mayGetAvailability" property)") and
RFC 9670 §1.4 (the session lists only accounts where the user is subscribed to at least
one record, and no StateChange is sent for any other account): an account whose every
calendar shared with the user gives free/busy alone is no account of theirs; its busy
time is still theirs to ask for."""
import json

import pytest

from conftest import CAL, CORE
from groupware_util import PRINCIPALS, GroupServer
from test_push import Stream, es_url

AVAIL = "urn:ietf:params:jmap:principals:availability"
FB = {"mayReadFreeBusy": True}
READ = {"mayReadFreeBusy": True, "mayReadItems": True}


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    s.a, s.erin = s.own("alice"), s.own("erin")
    yield s
    s.close()


def share(gs, cid, rights):
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "update": {cid: {
        "shareWith": {gs.erin: rights} if rights else None}}})
    assert cid in (res.get("updated") or {}), res


def busy(gs, **kw):
    _, res = gs.call("Principal/getAvailability", dict({
        "accountId": gs.erin, "id": gs.a, "utcStart": "2026-05-04T00:00:00Z",
        "utcEnd": "2026-05-05T00:00:00Z"}, **kw), user="erin",
        using=[CORE, CAL, PRINCIPALS, AVAIL])
    return res


def test_free_busy_alone_is_no_account_calendars27_s4_1_s2_1_rfc9670_s1_4(gs):
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "create": {"c": {
        "name": "office", "shareWith": {gs.erin: FB}}}})
    cid = res["created"]["c"]["id"]
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "create": {"e": {
        "calendarIds": {cid: True}, "title": "board meeting", "start": "2026-05-04T09:00:00",
        "duration": "PT1H", "timeZone": "Etc/UTC"}}})
    eid = res["created"]["e"]["id"]
    # RFC 9670 §1.4: not in the session; §4.1: nothing of it answers
    assert gs.a not in gs.session("erin")["accounts"]
    for name, args in (("Calendar/get", {}),
                       ("Calendar/changes", {"sinceState": "0"}),
                       ("CalendarEvent/get", {"ids": [eid]}), ("CalendarEvent/query", {}),
                       ("CalendarEvent/changes", {"sinceState": "0"})):
        _, res = gs.c(name, dict({"accountId": gs.a}, **args), user="erin")
        assert res.get("type") == "accountNotFound", (name, res)
    # §2.1: no account of the principal for her, but she may ask for its availability
    _, res = gs.c("Principal/get", {"accountId": gs.erin, "ids": [gs.a]}, user="erin")
    p = res["list"][0]
    assert p["capabilities"][CAL]["accountId"] is None, p
    assert p["capabilities"][CAL]["mayGetAvailability"] is True, p
    assert not p["accounts"], p
    # §2.2: the busy time counts, without the event (no mayReadItems)
    res = busy(gs, showDetails=True)
    assert [(b["utcStart"], b["utcEnd"], b["event"]) for b in res["list"]] == [
        ("2026-05-04T09:00:00Z", "2026-05-04T10:00:00Z", None)], res
    # mayReadItems added: the account and the calendar appear; taken back: gone again
    share(gs, cid, READ)
    assert gs.a in gs.session("erin")["accounts"]
    cals = gs.c("Calendar/get", {"accountId": gs.a}, user="erin")[1]["list"]
    assert [c["id"] for c in cals] == [cid]
    share(gs, cid, FB)
    assert gs.a not in gs.session("erin")["accounts"]
    _, res = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": [eid]}, user="erin")
    assert res.get("type") == "accountNotFound", res
    assert len(busy(gs)["list"]) == 1
    share(gs, cid, None)
    assert busy(gs)["type"] == "forbidden"


def test_free_busy_alone_reaches_no_push_stream_rfc9670_s1_4(gs):
    """RFC 9670 §1.4: StateChanges "MUST NOT be sent for any Account where the user is
    not subscribed to any records in the Account": an account shared for free/busy alone
    is not added to the sharee's open stream, and its changes do not reach it."""
    s = Stream(gs, es_url(gs, types="*"), user="erin")
    try:
        assert s.r.status_code == 200
        _, res = gs.c("Calendar/set", {"accountId": gs.a, "create": {"c": {
            "name": "busy only", "shareWith": {gs.erin: FB}}}})
        cid = res["created"]["c"]["id"]
        _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "create": {"e": {
            "calendarIds": {cid: True}, "title": "x", "start": "2026-05-04T12:00:00",
            "duration": "PT1H", "timeZone": "Etc/UTC"}}})
        assert res.get("created"), res
        # a change of erin's own afterwards: every StateChange before it is in order
        _, res = gs.c("Calendar/set", {"accountId": gs.erin, "create": {"m": {
            "name": "marker"}}}, user="erin")
        assert res.get("created"), res
        seen = []
        for _ in range(10):
            name, data, _ = s.event()
            if name != "state":
                continue
            changed = json.loads(data)["changed"]
            seen.append(changed)
            if "Calendar" in changed.get(gs.erin, {}):
                break
        else:
            pytest.fail(f"no StateChange of erin's own calendars: {seen}")
        assert not any(gs.a in c for c in seen), seen
    finally:
        s.close()
    share(gs, cid, None)


def test_free_busy_beside_a_readable_calendar_calendars27_s4_1(gs):
    """With another calendar of the account readable, the account is theirs, and the
    free/busy one still does not exist in it (§4.1); its events neither (§4)."""
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "create": {
        "f": {"name": "fb2", "shareWith": {gs.erin: FB}},
        "r": {"name": "team", "shareWith": {gs.erin: READ}}}})
    fb, team = res["created"]["f"]["id"], res["created"]["r"]["id"]
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "create": {"e": {
        "calendarIds": {fb: True}, "title": "hidden", "start": "2026-05-04T15:00:00",
        "duration": "PT1H", "timeZone": "Etc/UTC"}}})
    eid = res["created"]["e"]["id"]
    assert gs.a in gs.session("erin")["accounts"]
    cals = gs.c("Calendar/get", {"accountId": gs.a}, user="erin")[1]
    assert [c["id"] for c in cals["list"]] == [team], cals
    _, res = gs.c("Calendar/get", {"accountId": gs.a, "ids": [fb]}, user="erin")
    assert res["notFound"] == [fb], res
    _, res = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": [eid]}, user="erin")
    assert res["notFound"] == [eid], res
    _, res = gs.c("Principal/get", {"accountId": gs.erin, "ids": [gs.a]}, user="erin")
    assert res["list"][0]["capabilities"][CAL]["accountId"] == gs.a, res
    # the readable one unsubscribed: not listed (§1.4), still reachable
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "update": {
        team: {"isSubscribed": False}}}, user="erin")
    assert team in (res.get("updated") or {}), res
    assert gs.a not in gs.session("erin")["accounts"]
    for cid in (fb, team):
        share(gs, cid, None)
