"""Sharing calendars (RFC 9670 §1.4, §3, §4; draft-ietf-jmap-calendars-27 §4
CalendarRights, §5.4 per-user properties, §5.7 privacy), issue 14 point 2: owner
alice, sharees with each right alone, a group member, an outsider."""
import json
import time

import pytest

from conftest import CAL
from groupware_util import OWNER, PRINCIPALS, USING, GroupServer
from test_push import Stream, es_url

RIGHTS = ["mayReadFreeBusy", "mayReadItems", "mayWriteAll", "mayWriteOwn", "mayUpdatePrivate",
          "mayRSVP", "mayShare", "mayDelete"]


def rights(*names):
    return {r: r in names for r in RIGHTS}


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    r = s.cli("group", "add", "team")
    assert r.returncode == 0, r.stderr
    s.team = r.stdout.split()[-1]
    assert s.cli("group", "member", "team", "--add", "dan").returncode == 0
    s.a = s.own("alice")
    yield s
    s.close()


def new_cal(gs, name, share=None, user="alice"):
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "create": {"c": {
        "name": name, "shareWith": share}}}, user=user)
    assert "c" in (res.get("created") or {}), res
    return res["created"]["c"]["id"]


def set_share(gs, cid, share, user="alice"):
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "update": {cid: {"shareWith": share}}},
                  user=user)
    return res


def new_event(gs, cids, title="e", user="alice", **extra):
    ev = {"calendarIds": {c: True for c in cids}, "title": title,
          "start": "2026-03-01T10:00:00", "duration": "PT1H", "timeZone": "Europe/Paris"}
    ev.update(extra)
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "create": {"e": ev}}, user=user)
    return res


def created_id(res):
    assert res.get("created") and "e" in res["created"], res
    return res["created"]["e"]["id"]


def get(gs, type_, ids=None, user="bob", acct=None):
    _, res = gs.c(type_ + "/get", {"accountId": acct or gs.a, "ids": ids}, user=user)
    return res


def update(gs, type_, id_, patch, user="bob"):
    _, res = gs.c(type_ + "/set", {"accountId": gs.a, "update": {id_: patch}}, user=user)
    return res


def test_share_appears_at_once_and_revoke_hides_rfc9670_s1_4(gs):
    assert gs.a not in gs.session("frank")["accounts"]
    cid = new_cal(gs, "for frank")
    res = set_share(gs, cid, {gs.own("frank"): rights("mayReadItems")})
    assert res["updated"] is not None and cid in res["updated"], res
    acc = gs.session("frank")["accounts"][gs.a]
    assert acc["isPersonal"] is False and acc["isReadOnly"] is True
    assert acc["accountCapabilities"][OWNER] == {"accountIdForPrincipal": gs.own("frank"),
                                                 "principalId": gs.a}
    assert PRINCIPALS not in acc["accountCapabilities"]  # principals live in frank's own
    cals = get(gs, "Calendar", user="frank")["list"]
    assert [c["id"] for c in cals] == [cid]
    assert cals[0]["myRights"] == rights("mayReadItems")
    assert cals[0]["shareWith"] is None  # not frank's to see without mayShare
    # RFC 9670 §3: a ShareNotification in frank's own account
    _, notes = gs.c("ShareNotification/get", {"accountId": gs.own("frank"), "ids": None},
                    user="frank")
    n = [x for x in notes["list"] if x["objectId"] == cid]
    assert len(n) == 1 and n[0]["objectType"] == "Calendar"
    assert n[0]["objectAccountId"] == gs.a and n[0]["oldRights"] is None
    assert n[0]["newRights"] == rights("mayReadItems") and n[0]["name"] == "for frank"
    assert n[0]["changedBy"]["principalId"] == gs.a
    set_share(gs, cid, None)
    assert gs.a not in gs.session("frank")["accounts"]
    _, res = gs.c("Calendar/get", {"accountId": gs.a}, user="frank")
    assert res["type"] == "accountNotFound"
    _, q = gs.c("ShareNotification/query", {"accountId": gs.own("frank"),
                                            "filter": {"objectType": "Calendar"},
                                            "sort": [{"property": "created"}]}, user="frank")
    assert len(q["ids"]) == 2
    notes = get(gs, "ShareNotification", q["ids"], user="frank", acct=gs.own("frank"))["list"]
    revoked = [x for x in notes if x["newRights"] is None]
    assert len(revoked) == 1 and revoked[0]["oldRights"] == rights("mayReadItems")


def test_share_notification_set_destroy_only_rfc9670_s3_3(gs):
    cid = new_cal(gs, "notes", {gs.own("erin"): rights("mayReadItems")})
    me = gs.own("erin")
    _, q = gs.c("ShareNotification/query", {"accountId": me}, user="erin")
    nid = q["ids"][0]
    _, res = gs.c("ShareNotification/set", {"accountId": me, "create": {"x": {}},
                                            "update": {nid: {"name": "x"}}}, user="erin")
    assert res["notCreated"]["x"]["type"] in ("forbidden", "invalidProperties")
    assert res["notUpdated"][nid]["type"] in ("forbidden", "invalidProperties")
    _, res = gs.c("ShareNotification/set", {"accountId": me, "destroy": [nid]}, user="erin")
    assert res["destroyed"] == [nid]
    _, ch = gs.c("ShareNotification/changes", {"accountId": me, "sinceState": q["queryState"]},
                 user="erin")
    assert ch["destroyed"] == [nid]
    # RFC 9670 §3 with RFC 8620 §5.6: the query's changes say the same
    _, qc = gs.c("ShareNotification/queryChanges", {"accountId": me,
                                                    "sinceQueryState": q["queryState"]},
                 user="erin")
    assert qc["removed"] == [nid] and qc["added"] == [], qc
    set_share(gs, cid, None)


def test_share_reaches_the_sharees_push_rfc8620_s7_1(gs):
    s = Stream(gs, es_url(gs, types="*"), user="erin")
    try:
        assert s.r.status_code == 200
        cid = new_cal(gs, "pushed", {gs.own("erin"): rights("mayReadItems")})
        for _ in range(5):
            name, data, _ = s.event()
            if name == "state" and "ShareNotification" in json.dumps(
                    json.loads(data)["changed"].get(gs.own("erin"), {})):
                break
        else:
            pytest.fail("no StateChange for the share")
        # the shared account's own changes now reach the stream opened before the share
        created_id(new_event(gs, [cid], "after the share"))
        for _ in range(5):
            name, data, _ = s.event()
            if name == "state" and "CalendarEvent" in json.loads(data)["changed"].get(gs.a, {}):
                break
        else:
            pytest.fail("no StateChange of the shared account")
    finally:
        s.close()
    set_share(gs, cid, None)


def test_read_items_alone_hides_everything_else_calendars27_s4(gs):
    seen = new_cal(gs, "seen", {gs.own("bob"): rights("mayReadItems")})
    hidden = new_cal(gs, "hidden")
    e1 = created_id(new_event(gs, [seen], "in seen"))
    e2 = created_id(new_event(gs, [hidden], "in hidden"))
    e3 = created_id(new_event(gs, [seen, hidden], "in both"))
    _, st = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": []}, user="bob")
    got = get(gs, "CalendarEvent", [e1, e2, e3])
    assert {e["id"] for e in got["list"]} == {e1, e3}
    assert got["notFound"] == [e2]
    both = [e for e in got["list"] if e["id"] == e3][0]
    assert both["calendarIds"] == {seen: True}  # the hidden calendar does not exist for bob
    cal_ids = {c["id"] for c in get(gs, "Calendar")["list"]}
    assert seen in cal_ids and hidden not in cal_ids
    assert get(gs, "Calendar", [hidden])["notFound"] == [hidden]
    _, q = gs.c("CalendarEvent/query", {"accountId": gs.a, "filter": {}}, user="bob")
    assert set(q["ids"]) == {e1, e3}, q
    _, q2 = gs.c("CalendarEvent/query", {"accountId": gs.a, "filter": {"text": "hidden"}},
                 user="bob")
    assert q2["ids"] == []  # "in hidden" is not bob's to find
    # /changes and /queryChanges say nothing of the hidden calendar
    e4 = created_id(new_event(gs, [hidden], "later"))
    update(gs, "CalendarEvent", e2, {"title": "changed"}, user="alice")
    _, ch = gs.c("CalendarEvent/changes", {"accountId": gs.a, "sinceState": st["state"]},
                 user="bob")
    assert e4 not in ch["created"] + ch["updated"] + ch["destroyed"]
    # an object bob cannot see that changed is at most "destroyed" for him: the
    # server keeps no history of who could see it before (never its content)
    assert e2 not in ch["created"] + ch["updated"]
    _, qc = gs.c("CalendarEvent/queryChanges", {"accountId": gs.a, "filter": {},
                                                "sinceQueryState": q["queryState"]}, user="bob")
    assert all(a["id"] not in (e2, e4) for a in qc["added"])
    assert e2 not in qc["removed"] and e4 not in qc["removed"]
    # an event moved out of sight is gone for bob
    update(gs, "CalendarEvent", e1, {"calendarIds": {hidden: True}}, user="alice")
    _, ch = gs.c("CalendarEvent/changes", {"accountId": gs.a, "sinceState": st["state"]},
                 user="bob")
    assert e1 in ch["destroyed"]
    # a read-only sharee writes nothing: the account is read-only for bob
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "update": {e3: {"title": "x"}}},
                  user="bob")
    assert res["type"] == "accountReadOnly"
    set_share(gs, seen, None)


def test_read_free_busy_alone_is_not_a_calendar_calendars27_s4_1(gs):
    # (with no other calendar of the account readable it is no account of erin's at
    # all: test_sharing_freebusy_calendars27.py; here it is one calendar among others)
    seen = new_cal(gs, "fb seen", {gs.own("erin"): rights("mayReadItems")})
    fb = new_cal(gs, "fb", {gs.own("erin"): rights("mayReadFreeBusy")})
    e = created_id(new_event(gs, [fb], "busy"))
    assert fb not in {c["id"] for c in get(gs, "Calendar", user="erin")["list"]}
    assert get(gs, "CalendarEvent", [e], user="erin")["notFound"] == [e]
    _, q = gs.c("CalendarEvent/query", {"accountId": gs.a}, user="erin")
    assert e not in q["ids"]
    set_share(gs, fb, None)
    set_share(gs, seen, None)


def test_outsider_sees_nothing_rfc9670_s4(gs):
    _, res = gs.c("CalendarEvent/query", {"accountId": gs.a}, user="frank")
    assert res["type"] == "accountNotFound"


def test_write_all_calendars27_s4(gs):
    w = new_cal(gs, "w", {gs.own("bob"): rights("mayReadItems", "mayWriteAll")})
    r = new_cal(gs, "r", {gs.own("bob"): rights("mayReadItems")})
    assert get(gs, "Calendar", [w])["list"][0]["myRights"]["mayRSVP"] is True  # implied
    res = new_event(gs, [w], "by bob", user="bob")
    e = created_id(res)
    assert update(gs, "CalendarEvent", e, {"title": "renamed"})["updated"] is not None
    res = new_event(gs, [r], "not here", user="bob")
    assert res["notCreated"]["e"]["type"] == "forbidden"
    res = update(gs, "CalendarEvent", e, {"calendarIds": {r: True}})
    assert res["notUpdated"][e]["type"] == "forbidden"  # moving into r needs the right there
    er = created_id(new_event(gs, [r], "alice's"))
    assert update(gs, "CalendarEvent", er, {"title": "x"})["notUpdated"][er]["type"] == \
        "forbidden"
    # §4, an event in several calendars: other changes need the right in all of them;
    # removing it from one needs the right in that one
    wr = created_id(new_event(gs, [w, r], "in both"))
    assert update(gs, "CalendarEvent", wr, {"title": "x"})["notUpdated"][wr]["type"] == \
        "forbidden"
    assert update(gs, "CalendarEvent", wr, {"calendarIds": {w: True}})["notUpdated"][wr][
        "type"] == "forbidden"
    assert update(gs, "CalendarEvent", wr, {"calendarIds": {r: True}})["updated"] is not None
    assert get(gs, "CalendarEvent", [wr], user="alice")["list"][0]["calendarIds"] == {r: True}
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "destroy": [er, e]}, user="bob")
    assert res["notDestroyed"][er]["type"] == "forbidden" and res["destroyed"] == [e]
    # Calendar rights: no mayShare, no mayDelete
    assert set_share(gs, w, {gs.own("erin"): rights("mayReadItems")}, user="bob")[
        "notUpdated"][w]["type"] == "forbidden"
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "destroy": [w]}, user="bob")
    assert res["notDestroyed"][w]["type"] == "forbidden"
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "create": {"n": {"name": "mine"}}},
                  user="bob")
    assert res["notCreated"]["n"]["type"] == "forbidden"
    for c in (w, r):
        set_share(gs, c, None)


def owned(owner_addr):
    return {"participants": {"o": {"@type": "Participant", "calendarAddress": owner_addr,
                                   "roles": {"owner": True, "attendee": True}},
                             "b": {"@type": "Participant",
                                   "calendarAddress": "mailto:bob@localhost",
                                   "roles": {"attendee": True},
                                   "participationStatus": "needs-action"}}}


def test_write_own_calendars27_s4(gs):
    c = new_cal(gs, "own", {gs.own("bob"): rights("mayReadItems", "mayWriteOwn")})
    mine = created_id(new_event(gs, [c], "bob's", user="bob", **owned("mailto:bob@localhost")))
    unowned = created_id(new_event(gs, [c], "nobody's", user="bob"))
    theirs = created_id(new_event(gs, [c], "alice's", **owned("mailto:alice@localhost")))
    assert update(gs, "CalendarEvent", mine, {"title": "t"})["updated"] is not None
    assert update(gs, "CalendarEvent", unowned, {"title": "t"})["updated"] is not None
    assert update(gs, "CalendarEvent", theirs, {"title": "t"})["notUpdated"][theirs][
        "type"] == "forbidden"
    res = new_event(gs, [c], "as alice", user="bob", **owned("mailto:alice@localhost"))
    assert res["notCreated"]["e"]["type"] == "forbidden"
    set_share(gs, c, None)


def test_rsvp_alone_calendars27_s4(gs):
    c = new_cal(gs, "rsvp", {gs.own("bob"): rights("mayReadItems", "mayRSVP")})
    e = created_id(new_event(gs, [c], "meeting", **owned("mailto:alice@localhost")))
    res = update(gs, "CalendarEvent", e, {"participants/b/participationStatus": "accepted"})
    assert res["updated"] is not None, res
    got = get(gs, "CalendarEvent", [e], user="alice")["list"][0]
    assert got["participants"]["b"]["participationStatus"] == "accepted"
    res = update(gs, "CalendarEvent", e, {"participants/o/participationStatus": "declined"})
    assert res["notUpdated"][e]["type"] == "forbidden"  # not bob's participant
    res = update(gs, "CalendarEvent", e, {"title": "mine now"})
    assert res["notUpdated"][e]["type"] == "forbidden"
    set_share(gs, c, None)


def test_update_private_stores_per_user_calendars27_s5_4(gs):
    c = new_cal(gs, "pu", {gs.own("bob"): rights("mayReadItems", "mayUpdatePrivate"),
                           gs.own("erin"): rights("mayReadItems")})
    e = created_id(new_event(gs, [c], "shared", keywords={"alice": True}, color="red"))
    # §5.4: a sharee starts from the defaults, not the owner's values
    b = get(gs, "CalendarEvent", [e])["list"][0]
    assert "keywords" not in b or not b["keywords"]
    res = update(gs, "CalendarEvent", e, {"keywords": {"bob": True}, "color": "blue"})
    assert e in (res["updated"] or {}), res
    assert res["updated"][e] is None or "color" not in res["updated"][e]
    b = get(gs, "CalendarEvent", [e])["list"][0]
    assert b["keywords"] == {"bob": True} and b["color"] == "blue"
    a = get(gs, "CalendarEvent", [e], user="alice")["list"][0]
    assert a["keywords"] == {"alice": True} and a["color"] == "red"
    assert "color" not in get(gs, "CalendarEvent", [e], user="erin")["list"][0]
    res = update(gs, "CalendarEvent", e, {"title": "no"})
    assert res["notUpdated"][e]["type"] == "forbidden"
    set_share(gs, c, None)


def test_share_right_calendars27_s4_3(gs):
    c = new_cal(gs, "sh", {gs.own("bob"): rights("mayReadItems", "mayShare")})
    assert get(gs, "Calendar", [c])["list"][0]["shareWith"] is not None
    res = set_share(gs, c, {gs.own("bob"): rights("mayReadItems", "mayShare"),
                            gs.own("erin"): rights("mayReadItems")}, user="bob")
    assert c in (res["updated"] or {}), res
    assert c in {x["id"] for x in get(gs, "Calendar", user="erin")["list"]}
    # a right bob has not cannot be given
    res = set_share(gs, c, {gs.own("bob"): rights("mayReadItems", "mayShare"),
                            gs.own("erin"): rights("mayReadItems", "mayWriteAll")}, user="bob")
    assert res["notUpdated"][c]["type"] == "forbidden"
    # unknown principal, the owner, bad rights: invalidProperties
    for bad in ({"nobody": rights("mayReadItems")}, {gs.a: rights("mayReadItems")},
                {gs.own("erin"): {"mayFly": True}}):
        res = set_share(gs, c, bad)
        assert res["notUpdated"][c]["type"] == "invalidProperties", bad
    set_share(gs, c, None)


def test_delete_right_calendars27_s4(gs):
    c = new_cal(gs, "del", {gs.own("bob"): rights("mayReadItems", "mayDelete")})
    _, res = gs.c("Calendar/set", {"accountId": gs.a, "destroy": [c]}, user="bob")
    assert res["destroyed"] == [c], res


def test_group_rights_reach_members_rfc9670_s2(gs):
    c = new_cal(gs, "team cal", {gs.team: rights("mayReadItems")})
    e = created_id(new_event(gs, [c], "team event"))
    assert [x["id"] for x in get(gs, "CalendarEvent", [e], user="dan")["list"]] == [e]
    assert gs.a not in gs.session("erin")["accounts"]
    assert gs.cli("group", "member", "team", "--del", "dan").returncode == 0
    time.sleep(1.1)  # the CLI is another process: the server's 1 s credential cache
    _, res = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": [e]}, user="dan")
    assert res.get("type") == "accountNotFound"
    assert gs.cli("group", "member", "team", "--add", "dan").returncode == 0
    set_share(gs, c, None)


def test_privacy_private_and_secret_calendars27_s5_7(gs):
    c = new_cal(gs, "priv", {gs.own("bob"): rights("mayReadItems", "mayWriteAll")})
    p = created_id(new_event(gs, [c], "doctor", privacy="private", description="details",
                             locations={"l": {"@type": "Location", "name": "clinic"}}))
    s = created_id(new_event(gs, [c], "surprise", privacy="secret"))
    got = get(gs, "CalendarEvent", [p, s])
    assert got["notFound"] == [s]
    ev = got["list"][0]
    assert "title" not in ev and "description" not in ev and "locations" not in ev
    assert ev["start"] == "2026-03-01T10:00:00" and ev["calendarIds"] == {c: True}
    _, q = gs.c("CalendarEvent/query", {"accountId": gs.a, "filter": {"text": "surprise"}},
                user="bob")
    assert q["ids"] == []
    assert update(gs, "CalendarEvent", p, {"title": "x"})["notUpdated"][p]["type"] == \
        "forbidden"
    res = new_event(gs, [c], "mine", user="bob", privacy="private")
    assert res["notCreated"]["e"]["type"] == "invalidProperties"
    set_share(gs, c, None)


def test_calendar_per_user_properties_calendars27_s4(gs):
    c = new_cal(gs, "colours", {gs.own("bob"): rights("mayReadItems")})
    # bob can write nowhere: give him a write elsewhere so the account is writable
    w = new_cal(gs, "w2", {gs.own("bob"): rights("mayReadItems", "mayWriteOwn")})
    res = update(gs, "Calendar", c, {"color": "green", "name": "Alice's", "isVisible": False})
    assert c in (res["updated"] or {}), res
    mine = get(gs, "Calendar", [c])["list"][0]
    assert (mine["color"], mine["name"], mine["isVisible"]) == ("green", "Alice's", False)
    hers = get(gs, "Calendar", [c], user="alice")["list"][0]
    assert (hers["color"], hers["name"], hers["isVisible"]) == (None, "colours", True)
    assert update(gs, "Calendar", c, {"description": "x"})["notUpdated"][c]["type"] == \
        "forbidden"
    # RFC 9670 §1.4: unsubscribed from every shared calendar, the account leaves the session
    every = [x["id"] for x in get(gs, "Calendar")["list"]]
    assert c in every and w in every
    for cal in every:
        update(gs, "Calendar", cal, {"isSubscribed": False})
    assert gs.a not in gs.session("bob")["accounts"]
    assert get(gs, "Calendar", [c])["list"][0]["isSubscribed"] is False  # still reachable
    update(gs, "Calendar", c, {"isSubscribed": True})
    assert gs.a in gs.session("bob")["accounts"]
    for cal in every:
        update(gs, "Calendar", cal, {"isSubscribed": True})
    for cal in (c, w):
        set_share(gs, cal, None)


def test_copy_reads_only_what_the_sharee_sees_rfc8620_s5_4(gs):
    c = new_cal(gs, "copy", {gs.own("bob"): rights("mayReadItems")})
    hidden = new_cal(gs, "copy hidden")
    seen = created_id(new_event(gs, [c], "copy me", privacy="private", description="no"))
    unseen = created_id(new_event(gs, [hidden], "not me"))
    bob = gs.own("bob")
    _, bcal = gs.c("Calendar/get", {"accountId": bob}, user="bob")
    target = bcal["list"][0]["id"]
    _, res = gs.c("CalendarEvent/copy", {"fromAccountId": gs.a, "accountId": bob, "create": {
        "x": {"id": unseen, "calendarIds": {target: True}},
        "y": {"id": seen, "calendarIds": {target: True}}}}, user="bob")
    assert res["notCreated"]["x"]["type"] == "notFound"
    _, got = gs.c("CalendarEvent/get", {"accountId": bob, "ids": [res["created"]["y"]["id"]]},
                  user="bob")
    assert "description" not in got["list"][0]  # the private details stay home
    set_share(gs, c, None)


def test_edits_by_a_sharee_notify_the_others_calendars27_s7(gs):
    c = new_cal(gs, "team edits", {gs.own("bob"): rights("mayReadItems", "mayWriteAll"),
                                   gs.own("erin"): rights("mayReadItems")})
    hidden = new_cal(gs, "edits hidden")
    _, q0 = gs.c("CalendarEventNotification/query", {"accountId": gs.a}, user="alice")
    e = created_id(new_event(gs, [c], "by bob", user="bob"))
    update(gs, "CalendarEvent", e, {"title": "by bob, renamed"})
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "destroy": [e]}, user="bob")
    assert res["destroyed"] == [e]
    _, qc = gs.c("CalendarEventNotification/queryChanges", {
        "accountId": gs.a, "sinceQueryState": q0["queryState"]}, user="alice")
    _, got = gs.c("CalendarEventNotification/get", {
        "accountId": gs.a, "ids": [x["id"] for x in qc["added"]]}, user="alice")
    mine = [n for n in got["list"] if n["calendarEventId"] == e]
    assert sorted(n["type"] for n in mine) == ["created", "destroyed", "updated"]
    upd = [n for n in mine if n["type"] == "updated"][0]
    assert upd["changedBy"]["principalId"] == gs.own("bob")
    assert upd["eventPatch"]["title"] == "by bob, renamed" and upd["event"]["title"] == "by bob"
    # erin sees notifications of events she can see only; alice's own edits make none
    e2 = created_id(new_event(gs, [c], "visible to erin", user="bob"))
    eh = created_id(new_event(gs, [hidden], "alice alone"))
    _, en = gs.c("CalendarEventNotification/query", {"accountId": gs.a}, user="erin")
    _, eg = gs.c("CalendarEventNotification/get", {"accountId": gs.a, "ids": en["ids"]},
                 user="erin")
    assert e2 in {n["calendarEventId"] for n in eg["list"]}
    assert e not in {n["calendarEventId"] for n in eg["list"]}  # destroyed: gone for her
    assert eh not in {n["calendarEventId"] for n in eg["list"]}
    set_share(gs, c, None)


def test_shared_account_is_not_served_over_dav_yet_rfc4918(gs):
    # per-collection rights are enforced on JMAP only: the DAV tree does not list or
    # serve an account reached through shares (issue 14, until it checks them)
    c = new_cal(gs, "dav hidden", {gs.own("bob"): rights("mayReadItems")})
    hidden = new_cal(gs, "dav unshared")
    for path in (f"/dav/calendars/{gs.a}/", f"/dav/calendars/{gs.a}/{hidden}/",
                 f"/dav/calendars/{gs.a}/{c}/"):
        r = gs.http("bob").request("PROPFIND", gs.base + path, headers={"Depth": "1"})
        assert r.status_code == 404, (path, r.status_code)
    r = gs.http("bob").request("PROPFIND", gs.base + "/dav/calendars/", headers={"Depth": "1"})
    assert gs.a not in r.text
    set_share(gs, c, None)


def test_changes_never_reveal_what_the_sharee_could_not_see_rfc8620_s5_2(gs):
    """RFC 8620 §5.2 with RFC 9670 §4: a sharee's /changes reports as destroyed an event
    that left their view (moved out, made secret, destroyed) after their state, and
    nothing of an event they never could see, whatever happens to it."""
    bob = gs.own("bob")
    mine = new_cal(gs, "private-ch")
    shared = new_cal(gs, "shared-ch", {bob: rights("mayReadItems")})
    hidden = created_id(new_event(gs, [mine], "never seen"))
    gone = created_id(new_event(gs, [mine], "never seen either"))
    moved = created_id(new_event(gs, [shared], "moves away"))
    secret = created_id(new_event(gs, [shared], "becomes secret"))
    dropped = created_id(new_event(gs, [shared], "destroyed"))
    s0 = get(gs, "CalendarEvent", [])["state"]

    def changes(since):
        _, res = gs.c("CalendarEvent/changes", {"accountId": gs.a, "sinceState": since},
                      user="bob")
        return res

    update(gs, "CalendarEvent", hidden, {"title": "still private"}, user="alice")
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "destroy": [gone, dropped]})
    assert sorted(res["destroyed"]) == sorted([gone, dropped]), res
    update(gs, "CalendarEvent", moved, {"calendarIds": {mine: True}}, user="alice")
    update(gs, "CalendarEvent", secret, {"privacy": "secret"}, user="alice")
    res = changes(s0)
    assert sorted(res["destroyed"]) == sorted([moved, secret, dropped]), res
    assert res["created"] == [] and res["updated"] == [], res
    # later changes of what has left stay out of a newer state's changes
    s1 = res["newState"]
    update(gs, "CalendarEvent", moved, {"title": "elsewhere now"}, user="alice")
    assert changes(s1)["destroyed"] == []
    # and the move is still reported to a client at the older state
    assert moved in changes(s0)["destroyed"]
    set_share(gs, shared, None)


def test_in_calendar_naming_an_unreadable_calendar_matches_nothing_calendars27_s5_11_1(gs):
    """§5.11.1 inCalendar with RFC 9670 §4: a calendar the sharee cannot read does not
    exist for them, so naming it matches nothing, even events that are also in a
    calendar they read (else the filter would tell them which events are in it)."""
    bob = gs.own("bob")
    mine = new_cal(gs, "private-ic")
    shared = new_cal(gs, "shared-ic", {bob: rights("mayReadItems")})
    both = created_id(new_event(gs, [mine, shared], "in both"))
    only = created_id(new_event(gs, [shared], "shared only"))
    for expand in (False, True):
        args = {"accountId": gs.a, "filter": {"inCalendar": mine}}
        if expand:
            args.update(expandRecurrences=True,
                        filter={"inCalendar": mine, "after": "2026-01-01T00:00:00",
                                "before": "2027-01-01T00:00:00"})
        _, res = gs.c("CalendarEvent/query", args, user="bob")
        assert res["ids"] == [], res
        _, res = gs.c("CalendarEvent/query", args)  # the owner sees it
        assert both in res["ids"], res
    _, res = gs.c("CalendarEvent/query", {"accountId": gs.a, "filter": {"inCalendar": shared}},
                  user="bob")
    assert sorted(res["ids"]) == sorted([both, only]), res
    set_share(gs, shared, None)


def test_rsvp_me_is_any_participant_identity_calendars27_s3_s4(gs):
    """§4 mayRSVP applies to the user's own participant, and §3 the user's
    ParticipantIdentities say who that is: an identity's address beside the principal's
    counts; one naming another user's address does not."""
    bob = gs.own("bob")
    _, res = gs.c("ParticipantIdentity/set", {"accountId": bob, "create": {
        "alt": {"name": "Bob at work", "calendarAddress": "mailto:bob.work@example.com"},
        "fake": {"name": "not me", "calendarAddress": "mailto:alice@localhost"}}}, user="bob")
    assert set(res["created"]) == {"alt", "fake"}, res
    made = [v["id"] for v in res["created"].values()]
    c = new_cal(gs, "rsvp-id", {bob: rights("mayReadItems", "mayRSVP")})
    ev = owned("mailto:alice@localhost")
    ev["participants"]["w"] = {"@type": "Participant",
                               "calendarAddress": "mailto:bob.work@example.com",
                               "roles": {"attendee": True}, "participationStatus": "needs-action"}
    e = created_id(new_event(gs, [c], "via identity", **ev))
    res = update(gs, "CalendarEvent", e, {"participants/w/participationStatus": "tentative"})
    assert res["updated"] is not None, res
    got = get(gs, "CalendarEvent", [e], user="alice")["list"][0]
    assert got["participants"]["w"]["participationStatus"] == "tentative"
    res = update(gs, "CalendarEvent", e, {"participants/o/participationStatus": "declined"})
    assert res["notUpdated"][e]["type"] == "forbidden"  # alice's, whatever bob's identities say
    _, res = gs.c("ParticipantIdentity/set", {"accountId": bob, "destroy": made}, user="bob")
    assert sorted(res["destroyed"]) == sorted(made), res
    set_share(gs, c, None)


def test_group_members_get_share_notifications_rfc9670_s3(gs):
    """RFC 9670 §3: a ShareNotification "whenever the user's permissions change": a share
    to a group changes its members' rights, so each member is notified in their own
    account, with their own rights before and after."""
    dan = gs.own("dan")

    def notes_about(cid):
        _, q = gs.c("ShareNotification/query", {"accountId": dan}, user="dan")
        got = get(gs, "ShareNotification", q["ids"], user="dan", acct=dan)["list"]
        return [x for x in got if x["objectId"] == cid]

    cid = new_cal(gs, "for the team", {gs.team: rights("mayReadFreeBusy", "mayReadItems")})
    (n,) = notes_about(cid)
    assert n["oldRights"] is None and n["newRights"] == rights("mayReadFreeBusy", "mayReadItems")
    assert n["objectType"] == "Calendar" and n["objectAccountId"] == gs.a
    # dan also gets mayReadItems on his own: the group's revocation leaves it, so his
    # rights change from (both) to (his own)
    set_share(gs, cid, {gs.team: rights("mayReadFreeBusy", "mayReadItems"),
                        dan: rights("mayReadItems")})
    assert len(notes_about(cid)) == 1  # adding what he had through the group: no change
    set_share(gs, cid, {dan: rights("mayReadItems")})
    notes = notes_about(cid)
    assert len(notes) == 2
    (last,) = [x for x in notes if x["oldRights"] is not None]
    assert last["oldRights"] == rights("mayReadFreeBusy", "mayReadItems")
    assert last["newRights"] == rights("mayReadItems")
    set_share(gs, cid, None)


def test_per_user_properties_of_one_occurrence_calendars27_s5_4(gs):
    """§5.4: "If the user modifies any such properties on a per-occurrence basis for
    recurring events then again, these MUST also be stored per-user": a sharee with
    mayUpdatePrivate changes an occurrence's keywords and alerts for themselves."""
    bob, erin = gs.own("bob"), gs.own("erin")
    c = new_cal(gs, "occ", {bob: rights("mayReadItems", "mayUpdatePrivate"),
                            erin: rights("mayReadItems", "mayRSVP")})
    e = created_id(new_event(gs, [c], "daily", recurrenceRule={
        "@type": "RecurrenceRule", "frequency": "daily", "count": 3}))
    rid = "2026-03-02T10:00:00"
    inst = e + "_20260302T100000"
    res = update(gs, "CalendarEvent", inst, {"keywords": {"bob": True},
                                             "alerts": {"x": {"@type": "Alert", "trigger": {
                                                 "@type": "OffsetTrigger", "offset": "-PT5M"}}}})
    assert inst in (res["updated"] or {}), res
    b = get(gs, "CalendarEvent", [e])["list"][0]
    assert b["recurrenceOverrides"][rid]["keywords"] == {"bob": True}
    assert "x" in b["recurrenceOverrides"][rid]["alerts"]
    assert get(gs, "CalendarEvent", [inst])["list"][0]["keywords"] == {"bob": True}
    for other in ("alice", "erin"):
        got = get(gs, "CalendarEvent", [e], user=other)["list"][0]
        assert rid not in (got.get("recurrenceOverrides") or {}), (other, got)
    # the owner's own value of the occurrence stays hers, and is not shown to bob
    res = update(gs, "CalendarEvent", inst, {"keywords": {"alice": True}}, user="alice")
    assert inst in (res["updated"] or {}), res
    got = get(gs, "CalendarEvent", [e], user="alice")["list"][0]
    assert got["recurrenceOverrides"][rid]["keywords"] == {"alice": True}
    b = get(gs, "CalendarEvent", [e])["list"][0]
    assert b["recurrenceOverrides"][rid]["keywords"] == {"bob": True}
    # erin (mayRSVP, not mayUpdatePrivate) may not
    res = update(gs, "CalendarEvent", inst, {"keywords": {"erin": True}}, user="erin")
    assert (res.get("notUpdated") or {}).get(inst, {}).get("type") == "forbidden", res
    set_share(gs, c, None)


def test_expanded_query_shows_a_sharee_only_what_they_read_calendars27_s5_11(gs):
    """§5.11 expandRecurrences with §4 and §5.7: a sharee's expanded window query decides
    each event by the calendars it is in (rights per calendar) and its privacy, on the
    same index path as the owner's, also after the owner's query has cached the events
    (single events in a time zone are answered from the index, issue 21)."""
    bob = gs.own("bob")
    seen = new_cal(gs, "seen-x", {bob: rights("mayReadItems")})
    hidden = new_cal(gs, "hidden-x")
    weekly = {"start": "2031-05-05T10:00:00", "recurrenceRules": [
        {"@type": "RecurrenceRule", "frequency": "weekly", "count": 3}]}
    at = {"start": "2031-05-06T09:00:00"}  # a window no other test uses
    visible = {created_id(new_event(gs, [seen], "single seen", **at)),
               created_id(new_event(gs, [seen, hidden], "single both", **at))}
    series = created_id(new_event(gs, [seen], "series seen", **weekly))
    hidden_ids = {created_id(new_event(gs, [hidden], "single hidden", **at)),
                  created_id(new_event(gs, [hidden], "series hidden", **weekly)),
                  created_id(new_event(gs, [seen], "single secret", privacy="secret", **at)),
                  created_id(new_event(gs, [seen], "series secret", privacy="secret",
                                       **weekly))}
    args = {"accountId": gs.a, "expandRecurrences": True, "timeZone": "Europe/Paris",
            "filter": {"after": "2031-05-01T00:00:00", "before": "2031-06-01T00:00:00"}}
    _, own = gs.c("CalendarEvent/query", args)  # the owner first: the events are cached
    assert all(any(i.startswith(h) for i in own["ids"]) for h in hidden_ids), own
    for _ in range(2):  # cold, then warm
        _, res = gs.c("CalendarEvent/query", args, user="bob")
        bases = {i for i in res["ids"] if i in visible}
        assert bases == visible, res
        instances = [i for i in res["ids"] if i not in visible]
        assert len(instances) == 3 and all(i.startswith(series) for i in instances), res
        assert not any(i.startswith(h) for h in hidden_ids for i in res["ids"]), res
        got = get(gs, "CalendarEvent", instances)
        assert [e["title"] for e in got["list"]] == ["series seen"] * 3, got
    # queryChanges from that state: the hidden ones stay out of "added"
    new_event(gs, [hidden], "single hidden later", **at)
    later = created_id(new_event(gs, [seen], "single seen later", **at))
    _, qc = gs.c("CalendarEvent/queryChanges", {**args, "sinceQueryState": res["queryState"]},
                 user="bob")
    assert [a["id"] for a in qc["added"]] == [later], qc
    set_share(gs, seen, None)
    _, res = gs.c("CalendarEvent/query", args, user="bob")
    assert res.get("ids", []) == [] or res.get("type") == "accountNotFound", res


def test_sharee_page_from_the_index_calendars27_s4_s5_7_rfc8620_s5_5():
    """RFC 8620 §5.5 paging with calendars-27 §4 (rights per calendar) and §5.7 (secret):
    an unexpanded query sorted by start on an account large enough for the index path
    (issue 21: 1,000 events) gives a sharee, page by page, exactly the owner's results
    less those they cannot see: events only in a calendar they cannot read, secret
    events; floating events (no UTC start in the index) placed among the others; in
    both directions, with negative positions, totals and past the end (issue 14: the
    sharee's page walks the index instead of parsing the whole account, from the last
    mark an earlier walk left before the page)."""
    s = GroupServer()
    try:
        a, bob = s.own("alice"), s.own("bob")
        _, res = s.c("Calendar/set", {"accountId": a, "create": {
            "seen": {"name": "seen", "shareWith": {bob: rights("mayReadItems")}},
            "hidden": {"name": "hidden"}}})
        seen, hidden = res["created"]["seen"]["id"], res["created"]["hidden"]["id"]
        create = {}
        for i in range(1100):
            cals = [seen] if i % 3 == 0 else [hidden] if i % 3 == 1 else [seen, hidden]
            ev = {"calendarIds": {c: True for c in cals}, "title": f"e{i}",
                  "start": f"2030-{1 + i % 12:02d}-{1 + i % 28:02d}T{8 + i % 9:02d}:00:00",
                  "duration": "PT1H", "timeZone": "Europe/Paris"}
            if i % 17 == 0:
                ev["privacy"] = "secret"
            if i % 10 == 5:
                del ev["timeZone"]  # floating: unordered in the index
            create[f"e{i}"] = ev
        items = list(create.items())
        for part in (dict(items[k:k + 200]) for k in range(0, len(items), 200)):
            _, res = s.c("CalendarEvent/set", {"accountId": a, "create": part})
            assert len(res.get("created") or {}) == len(part), res
        ids = {}
        for desc in (False, True):
            sort = [{"property": "start", "isAscending": not desc}]
            _, own = s.c("CalendarEvent/query", {"accountId": a, "sort": sort})
            assert len(own["ids"]) == 1100, own
            by = {}
            for k in range(0, 1100, 200):
                _, got = s.c("CalendarEvent/get", {"accountId": a, "ids": own["ids"][k:k + 200],
                                                   "properties": ["calendarIds", "privacy"]})
                by.update({e["id"]: e for e in got["list"]})
            ids[desc] = [i for i in own["ids"] if seen in by[i]["calendarIds"]
                         and by[i].get("privacy") != "secret"]
        expect = ids[False]
        assert 600 < len(expect) < 733 and ids[True] != expect, len(expect)
        # twice (issue 14: the second time from the marks the first walks left), then
        # every page of a sweep in both directions
        cases = ((0, 50, False, False), (300, 100, False, True), (-30, 20, False, True),
                 (-2000, 5, True, False), (5, 40, True, False),
                 (len(expect) - 3, 10, False, False), (len(expect) + 5, 10, False, True))
        sweep = tuple((k, 37, desc, k % 2 == 0) for desc in (False, True)
                      for k in range(0, len(expect) + 37, 37))
        for pos, limit, desc, total in cases + cases + sweep:
            args = {"accountId": a, "position": pos, "limit": limit, "calculateTotal": total,
                    "sort": [{"property": "start", "isAscending": not desc}]}
            _, res = s.c("CalendarEvent/query", args, user="bob")
            want = ids[desc]
            start = max(0, len(want) + pos) if pos < 0 else pos
            assert res["position"] == start, (args, res)
            assert res["ids"] == want[start:start + limit], (args, res)
            assert res.get("total") == (len(want) if total else None), (args, res)
        _, res = s.c("CalendarEvent/query", {"accountId": a}, user="bob")  # no limit: all
        assert res["ids"] == expect, res
    finally:
        s.close()


def test_per_user_values_of_many_events_in_one_get_calendars27_s5_4(gs):
    """§5.4 per-user properties in a sharee's /get of many events at once (issue 14 reads
    the user's values of the call's events together after the first few): each event
    shows the sharee's own values where they set some and the defaults elsewhere; the
    owner's stay theirs; a change between two /get calls is seen by the second, also in
    the same request."""
    bob = gs.own("bob")
    c = new_cal(gs, "many pu", {bob: rights("mayReadItems", "mayUpdatePrivate")})
    ids = [created_id(new_event(gs, [c], f"pu {i}", color="red")) for i in range(10)]
    for i in range(0, 10, 3):
        res = update(gs, "CalendarEvent", ids[i], {"color": f"#00000{i}",
                                                    "keywords": {f"k{i}": True}})
        assert ids[i] in (res["updated"] or {}), res
    want = {ids[i]: (f"#00000{i}" if i % 3 == 0 else None) for i in range(10)}
    got = get(gs, "CalendarEvent", ids)["list"]
    assert {e["id"]: e.get("color") for e in got} == want
    assert {e["id"]: e.get("keywords") for e in got} == {
        ids[i]: ({f"k{i}": True} if i % 3 == 0 else None) for i in range(10)}
    own = get(gs, "CalendarEvent", ids, user="alice")["list"]
    assert {e.get("color") for e in own} == {"red"}
    # one request: a change, then a /get of them all (a call of its own: read afresh)
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "update": {
        ids[1]: {"color": "#111111"}}}, user="bob")
    assert ids[1] in (res["updated"] or {}), res
    r = gs.http("bob").post(gs.base + "/jmap/api/", json={
        "using": ["urn:ietf:params:jmap:core", CAL], "methodCalls": [
            ["CalendarEvent/set", {"accountId": gs.a, "update": {ids[2]: {"color": "#222222"}}},
             "0"],
            ["CalendarEvent/get", {"accountId": gs.a, "ids": ids, "properties": ["color"]},
             "1"]]})
    listed = {e["id"]: e.get("color") for e in r.json()["methodResponses"][1][1]["list"]}
    assert listed == {**want, ids[1]: "#111111", ids[2]: "#222222"}, listed


def test_sharee_view_as_stored_only_where_nothing_is_theirs_calendars27_s5_4_s5_7(gs):
    """§5.4 and §5.7 in a sharee's whole /get of many events (issue 14: an event with
    nothing to overlay or cut is written as the owner's view, without a copy): the plain
    events and their occurrences are exactly the owner's view; beside them, in the same
    call, an event in a calendar the sharee cannot read, a private event, one with the
    owner's per-user values (of the event and of one occurrence), one with the sharee's
    own values and one whose `updated` the owner moved by a per-user write each still
    get the sharee's view."""
    bob = gs.own("bob")
    c = new_cal(gs, "as stored", {bob: rights("mayReadItems", "mayUpdatePrivate")})
    hidden = new_cal(gs, "as stored hidden")
    weekly = {"recurrenceRules": [{"@type": "RecurrenceRule", "frequency": "weekly",
                                   "count": 3}]}
    plain = [created_id(new_event(gs, [c], f"plain {i}", **(weekly if i % 2 else {})))
             for i in range(6)]
    both = created_id(new_event(gs, [c, hidden], "both"))
    private = created_id(new_event(gs, [c], "private", privacy="private",
                                   description="details"))
    owners = created_id(new_event(gs, [c], "owner's", color="red", keywords={"a": True}))
    occ = created_id(new_event(gs, [c], "owner's occurrence", **weekly))
    res = update(gs, "CalendarEvent", occ + "_20260308T100000", {"keywords": {"a": True}},
                 user="alice")
    assert res.get("updated"), res
    bobs = created_id(new_event(gs, [c], "bob's"))
    assert update(gs, "CalendarEvent", bobs, {"color": "blue"}).get("updated")
    moved = created_id(new_event(gs, [c], "moved", keywords={"a": True}))
    shared_time = get(gs, "CalendarEvent", [moved], user="alice")["list"][0]["updated"]
    time.sleep(1.1)  # the owner's per-user write gets a later `updated` (§5.4)
    res = update(gs, "CalendarEvent", moved, {"keywords": None}, user="alice")
    assert res.get("updated"), res
    ids = plain + [both, private, owners, occ, bobs, moved]
    own = {e["id"]: e for e in get(gs, "CalendarEvent", ids, user="alice")["list"]}
    assert own[moved]["updated"] > shared_time
    for _ in range(2):  # cold, then with the owner's views cached
        got = get(gs, "CalendarEvent", ids)
        assert got["notFound"] == [], got
        seen = {e["id"]: e for e in got["list"]}
        for i in plain:
            assert seen[i] == own[i], (seen[i], own[i])
        assert seen[both]["calendarIds"] == {c: True}
        assert {**seen[both], "calendarIds": own[both]["calendarIds"]} == own[both]
        assert "title" not in seen[private] and "description" not in seen[private]
        assert "color" not in seen[owners] and "keywords" not in seen[owners]
        assert "2026-03-08T10:00:00" not in (seen[occ].get("recurrenceOverrides") or {})
        assert seen[bobs]["color"] == "blue" and "color" not in own[bobs]
        assert seen[moved]["updated"] == shared_time, (seen[moved], shared_time)
    # the occurrences of an expanded query: the owner's view of a plain series'
    args = {"accountId": gs.a, "expandRecurrences": True, "timeZone": "Europe/Paris",
            "filter": {"inCalendar": c, "after": "2026-03-01T00:00:00",
                       "before": "2026-04-01T00:00:00"}}
    _, q = gs.c("CalendarEvent/query", args, user="bob")
    inst = [i for i in q["ids"] if i.startswith(plain[1] + "_") or i.startswith(occ + "_")]
    assert len(inst) == 6, q
    own = {e["id"]: e for e in get(gs, "CalendarEvent", inst, user="alice")["list"]}
    seen = {e["id"]: e for e in get(gs, "CalendarEvent", inst)["list"]}
    for i in inst:
        if i.startswith(plain[1]):
            assert seen[i] == own[i], (seen[i], own[i])
    assert own[occ + "_20260308T100000"]["keywords"] == {"a": True}
    assert "keywords" not in seen[occ + "_20260308T100000"]
    set_share(gs, c, None)


def test_read_only_sharee_keeps_their_own_values_calendars27_s4_rfc9670_s1_4(gs):
    """§4: "Users can subscribe or unsubscribe to a calendar by setting the "isSubscribed"
    property", and the per-user properties "may be set by anyone who is subscribed to the
    calendar": erin, who may only read alice's one calendar shared with her (the account
    is read-only for her), sets her own color and unsubscribes; anything else of the
    calendar she may not change. RFC 9670 §1.4: unsubscribed, the account leaves her
    session, and she can subscribe again."""
    erin = gs.own("erin")
    c = new_cal(gs, "read only", {erin: rights("mayReadItems")})
    assert gs.session("erin")["accounts"][gs.a]["isReadOnly"] is True
    res = update(gs, "Calendar", c, {"color": "teal", "sortOrder": 4}, user="erin")
    assert c in (res.get("updated") or {}), res
    mine = get(gs, "Calendar", [c], user="erin")["list"][0]
    assert (mine["color"], mine["sortOrder"]) == ("teal", 4)
    hers = get(gs, "Calendar", [c], user="alice")["list"][0]
    assert (hers["color"], hers["sortOrder"]) == (None, 0)
    kind, res = gs.c("Calendar/set", {"accountId": gs.a, "update": {c: {"description": "x"}}},
                     user="erin")
    assert kind == "error" and res["type"] == "accountReadOnly", res
    assert get(gs, "Calendar", [c], user="alice")["list"][0]["description"] is None
    res = update(gs, "Calendar", c, {"isSubscribed": False}, user="erin")
    assert c in (res.get("updated") or {}), res
    assert gs.a not in gs.session("erin")["accounts"]
    res = update(gs, "Calendar", c, {"isSubscribed": True}, user="erin")
    assert c in (res.get("updated") or {}), res
    assert gs.a in gs.session("erin")["accounts"]
    set_share(gs, c, None)


def test_sharee_default_alerts_are_their_own_calendars27_s4_s6_1(gs):
    """§4: "defaultAlertsWithTime" and "defaultAlertsWithoutTime" are stored per user and
    "initially the default value for each user with whom the calendar is shared; they
    are not inherited from the owner"; §6.1 useDefaultAlerts (per user, §5.4) resolves
    to the user's own defaults. Bob (mayUpdatePrivate) starts with none, then sets his;
    his useDefaultAlerts is his even where it is the value alice has."""
    bob = gs.own("bob")
    c = new_cal(gs, "alerts", {bob: rights("mayReadItems", "mayUpdatePrivate")})
    alert = {"@type": "Alert", "trigger": {"@type": "OffsetTrigger", "offset": "-PT5M"}}
    res = update(gs, "Calendar", c, {"defaultAlertsWithTime": {"hers": alert}}, user="alice")
    assert c in (res.get("updated") or {}), res
    mine = get(gs, "Calendar", [c])["list"][0]
    assert mine["defaultAlertsWithTime"] is None, mine
    e = created_id(new_event(gs, [c], "with defaults", useDefaultAlerts=True))
    assert list(get(gs, "CalendarEvent", [e], user="alice")["list"][0]["alerts"]) == ["hers"]
    # his own value, though it is the same as hers (§5.4: stored for him)
    res = update(gs, "CalendarEvent", e, {"useDefaultAlerts": True})
    assert e in (res.get("updated") or {}), res
    ev = get(gs, "CalendarEvent", [e])["list"][0]
    assert ev.get("useDefaultAlerts") is True and not ev.get("alerts"), ev
    res = update(gs, "Calendar", c, {"defaultAlertsWithTime": {"his": alert}})
    assert c in (res.get("updated") or {}), res
    assert get(gs, "Calendar", [c])["list"][0]["defaultAlertsWithTime"] == {"his": alert}
    assert list(get(gs, "CalendarEvent", [e])["list"][0]["alerts"]) == ["his"]
    hers = get(gs, "Calendar", [c], user="alice")["list"][0]["defaultAlertsWithTime"]
    assert list(hers) == ["hers"]
    assert list(get(gs, "CalendarEvent", [e], user="alice")["list"][0]["alerts"]) == ["hers"]
    set_share(gs, c, None)


def test_hidden_attendees_show_the_sharee_themselves_calendars27_s5_7(gs):
    """§5.7: with hideAttendees, "when a non-owner fetches the event the server MUST only
    return participants with the "owner" role or corresponding to the user's participant
    identities": bob, a sharee invited to alice's event, sees alice (the owner) and
    himself, not the other attendee; reduceParticipants gives him the same; alice sees
    everyone."""
    bob = gs.own("bob")
    c = new_cal(gs, "hidden guests", {bob: rights("mayReadItems")})
    parts = {"a": {"@type": "Participant", "calendarAddress": "mailto:alice@localhost",
                   "roles": {"owner": True, "attendee": True}},
             "b": {"@type": "Participant", "calendarAddress": "mailto:bob@localhost",
                   "roles": {"attendee": True}},
             "x": {"@type": "Participant", "calendarAddress": "mailto:xavier@example.org",
                   "roles": {"attendee": True}}}
    e = created_id(new_event(gs, [c], "guests", participants=parts, hideAttendees=True))
    assert set(get(gs, "CalendarEvent", [e], user="alice")["list"][0]["participants"]) == \
        {"a", "b", "x"}
    assert set(get(gs, "CalendarEvent", [e])["list"][0]["participants"]) == {"a", "b"}
    _, res = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": [e],
                                        "properties": ["participants"]}, user="bob")
    assert set(res["list"][0]["participants"]) == {"a", "b"}, res
    _, res = gs.c("CalendarEvent/set", {"accountId": gs.a, "update": {e: {
        "hideAttendees": False}}})
    _, res = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": [e],
                                        "reduceParticipants": True}, user="bob")
    assert set(res["list"][0]["participants"]) == {"a", "b"}, res
    set_share(gs, c, None)


def test_result_references_reach_only_what_the_sharee_reads_rfc8620_s3_7_rfc9670_s4(gs):
    """RFC 8620 §3.7 with RFC 9670 §4 and calendars-27 §4 (issue 14: rights are checked
    on every path, result references too): a sharee's /get whose ids come from their
    /query, /changes or a Calendar/get shows what they read and no more; ids they name
    of events they cannot see are notFound, as ids of events that do not exist."""
    bob = gs.own("bob")
    seen = new_cal(gs, "ref seen", {bob: rights("mayReadItems")})
    hidden = new_cal(gs, "ref hidden")
    _, st = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": []}, user="bob")
    e1 = created_id(new_event(gs, [seen], "ref in seen"))
    e2 = created_id(new_event(gs, [hidden], "ref in hidden"))
    e3 = created_id(new_event(gs, [seen, hidden], "ref in both"))
    calls = [
        ["CalendarEvent/query", {"accountId": gs.a, "filter": {"title": "ref in"}}, "q"],
        ["CalendarEvent/get", {"accountId": gs.a, "#ids": {
            "resultOf": "q", "name": "CalendarEvent/query", "path": "/ids"}}, "g"],
        ["CalendarEvent/changes", {"accountId": gs.a, "sinceState": st["state"]}, "c"],
        ["CalendarEvent/get", {"accountId": gs.a, "#ids": {
            "resultOf": "c", "name": "CalendarEvent/changes", "path": "/created"}}, "gc"],
        ["Calendar/get", {"accountId": gs.a, "ids": None}, "cal"],
        ["Calendar/get", {"accountId": gs.a, "#ids": {
            "resultOf": "cal", "name": "Calendar/get", "path": "/list/*/id"}}, "cal2"]]
    res = {r[2]: r[1] for r in gs.api(calls, using=USING, user="bob")["methodResponses"]}
    assert sorted(res["q"]["ids"]) == sorted([e1, e3]), res["q"]
    for k in ("g", "gc"):
        got = {e["id"]: e for e in res[k]["list"]}
        assert sorted(got) == sorted([e1, e3]) and res[k]["notFound"] == [], res[k]
        assert got[e3]["calendarIds"] == {seen: True}  # the hidden calendar does not exist
    assert hidden not in [c["id"] for c in res["cal2"]["list"]]
    assert seen in [c["id"] for c in res["cal2"]["list"]]
    # naming them does not help: one they cannot see is notFound as a made-up id
    _, got = gs.c("CalendarEvent/get", {"accountId": gs.a, "ids": [e2, "enotthere"]},
                  user="bob")
    assert got["list"] == [] and sorted(got["notFound"]) == sorted([e2, "enotthere"])
    set_share(gs, seen, None)
