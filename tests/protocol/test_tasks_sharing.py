"""Sharing task lists (draft-ietf-jmap-tasks-06 §4 shareWith, myRights, TaskRights,
§4.3 per-user properties; RFC 9670 §3 ShareNotification), issue 16 point 2: owner
alice shares single lists with bob (each right alone), frank stays outside."""
import pytest

from groupware_util import CONTACTS, PRINCIPALS, GroupServer
from conftest import CORE

TASKS = "urn:ietf:params:jmap:tasks"
USING = [CORE, TASKS, PRINCIPALS, CONTACTS]
RIGHTS = ["mayReadItems", "mayWriteAll", "mayWriteOwn", "mayUpdatePrivate", "mayRSVP",
          "mayAdmin", "mayDelete"]


def rights(*names):
    return {r: r in names for r in RIGHTS}


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    s.a = s.own("alice")
    yield s
    s.close()


def call(gs, name, args, user="alice"):
    return gs.c(name, dict({"accountId": gs.a}, **args), user=user, using=USING)


def new_list(gs, name, share=None):
    _, res = call(gs, "TaskList/set", {"create": {"l": {"name": name, "shareWith": share}}})
    assert "l" in (res.get("created") or {}), res
    return res["created"]["l"]["id"]


def new_task(gs, lid, user="alice", **extra):
    t = {"taskListId": lid, "title": "t", "due": "2026-03-01T10:00:00",
         "timeZone": "Europe/Paris"}
    t.update(extra)
    _, res = call(gs, "Task/set", {"create": {"t": t}}, user=user)
    return res


def test_share_a_single_list_tasks06_s4_shareWith(gs):
    shared = new_list(gs, "shared", {gs.own("bob"): rights("mayReadItems")})
    hidden = new_list(gs, "hidden")
    t1 = new_task(gs, shared)["created"]["t"]["id"]
    t2 = new_task(gs, hidden)["created"]["t"]["id"]
    acc = gs.session("bob")["accounts"][gs.a]
    assert acc["isPersonal"] is False
    assert acc["accountCapabilities"][TASKS]["mayCreateTaskList"] is False
    _, res = call(gs, "TaskList/get", {"ids": None}, user="bob")
    assert [x["id"] for x in res["list"]] == [shared]
    assert res["list"][0]["myRights"] == rights("mayReadItems")
    assert res["list"][0]["shareWith"] is None  # only with mayAdmin
    _, res = call(gs, "Task/get", {"ids": [t1, t2]}, user="bob")
    assert [x["id"] for x in res["list"]] == [t1] and res["notFound"] == [t2]
    _, res = call(gs, "Task/query", {}, user="bob")
    assert res["ids"] == [t1]
    # the owner sees every right and the shareWith
    _, res = call(gs, "TaskList/get", {"ids": [shared]})
    assert res["list"][0]["myRights"] == rights(*RIGHTS)
    assert res["list"][0]["shareWith"] == {gs.own("bob"): rights("mayReadItems")}
    # frank reaches nothing
    assert gs.a not in gs.session("frank")["accounts"]
    # RFC 9670 §3: bob is told, with objectType TaskList
    _, notes = gs.c("ShareNotification/get", {"accountId": gs.own("bob"), "ids": None},
                    user="bob", using=USING)
    n = [x for x in notes["list"] if x["objectId"] == shared]
    assert len(n) == 1 and n[0]["objectType"] == "TaskList"
    assert n[0]["newRights"] == rights("mayReadItems")


def test_read_only_sharee_changes_nothing_tasks06_s4_myRights(gs):
    lid = new_list(gs, "ro", {gs.own("bob"): rights("mayReadItems")})
    tid = new_task(gs, lid)["created"]["t"]["id"]
    # read rights alone: the account is read-only for bob (RFC 8620 §5.3 accountReadOnly)
    assert gs.session("bob")["accounts"][gs.a]["isReadOnly"] is True
    kind, res = call(gs, "Task/set", {"update": {tid: {"title": "bob's"}}}, user="bob")
    assert kind == "error" and res["type"] == "accountReadOnly", res
    # with a writable list elsewhere in the account, this list still refuses each change
    new_list(gs, "bob writes", {gs.own("bob"): rights("mayReadItems", "mayWriteAll")})
    assert gs.session("bob")["accounts"][gs.a]["isReadOnly"] is False
    _, res = call(gs, "Task/set", {"update": {tid: {"title": "bob's"}}}, user="bob")
    assert res["notUpdated"][tid]["type"] == "forbidden", res
    _, res = call(gs, "Task/set", {"destroy": [tid]}, user="bob")
    assert res["notDestroyed"][tid]["type"] == "forbidden", res
    res = new_task(gs, lid, user="bob")
    assert res["notCreated"]["t"]["type"] == "forbidden", res
    _, res = call(gs, "TaskList/set", {"destroy": [lid]}, user="bob")
    assert res["notDestroyed"][lid]["type"] == "forbidden", res  # mayDelete
    _, res = call(gs, "TaskList/set", {"update": {lid: {"shareWith": None}}}, user="bob")
    assert res["notUpdated"][lid]["type"] == "forbidden", res  # mayAdmin
    _, res = call(gs, "TaskList/set", {"create": {"x": {"name": "mine"}}}, user="bob")
    assert res["notCreated"]["x"]["type"] == "forbidden", res
    _, got = call(gs, "Task/get", {"ids": [tid], "properties": ["title"]})
    assert got["list"][0]["title"] == "t"


def test_write_all_creates_and_changes_tasks06_s4_mayWriteAll(gs):
    lid = new_list(gs, "rw", {gs.own("bob"): rights("mayReadItems", "mayWriteAll")})
    res = new_task(gs, lid, user="bob")
    tid = res["created"]["t"]["id"]
    _, res = call(gs, "Task/set", {"update": {tid: {"title": "renamed"}}}, user="bob")
    assert tid in res["updated"], res
    _, got = call(gs, "Task/get", {"ids": [tid], "properties": ["title"]})
    assert got["list"][0]["title"] == "renamed"
    # mayWriteAll implies mayWriteOwn, mayUpdatePrivate and mayRSVP (§4 TaskRights)
    _, res = call(gs, "TaskList/get", {"ids": [lid]}, user="bob")
    assert res["list"][0]["myRights"] == rights("mayReadItems", "mayWriteAll", "mayWriteOwn",
                                                "mayUpdatePrivate", "mayRSVP")
    # moving it into a list bob cannot write is forbidden
    other = new_list(gs, "other", {gs.own("bob"): rights("mayReadItems")})
    _, res = call(gs, "Task/set", {"update": {tid: {"taskListId": other}}}, user="bob")
    assert res["notUpdated"][tid]["type"] == "forbidden", res
    _, res = call(gs, "Task/set", {"destroy": [tid]}, user="bob")
    assert res["destroyed"] == [tid], res


def test_write_own_needs_the_chair_role_tasks06_s4_owner(gs):
    lid = new_list(gs, "own", {gs.own("bob"): rights("mayReadItems", "mayWriteOwn")})
    bob_addr = "mailto:" + gs.call("Principal/get", {"accountId": gs.own("bob"),
                                                     "ids": [gs.own("bob")]},
                                   user="bob", using=[CORE, PRINCIPALS])[1]["list"][0]["email"]
    chair = {"p1": {"@type": "Participant", "calendarAddress": bob_addr,
                    "roles": {"chair": True}}}
    other = {"p1": {"@type": "Participant", "calendarAddress": "mailto:x@example.com",
                    "roles": {"chair": True}}}
    mine = new_task(gs, lid, user="bob", participants=chair,
                    organizerCalendarAddress=bob_addr)["created"]["t"]["id"]
    theirs = new_task(gs, lid, participants=other,
                      organizerCalendarAddress="mailto:x@example.com")["created"]["t"]["id"]
    unowned = new_task(gs, lid)["created"]["t"]["id"]
    _, res = call(gs, "Task/set", {"update": {mine: {"title": "a"}, unowned: {"title": "b"},
                                              theirs: {"title": "c"}}}, user="bob")
    assert set(res["updated"]) == {mine, unowned}, res
    assert res["notUpdated"][theirs]["type"] == "forbidden"


def test_per_user_properties_tasks06_s4_3(gs):
    lid = new_list(gs, "pu", {gs.own("bob"): rights("mayReadItems", "mayUpdatePrivate")})
    tid = new_task(gs, lid, keywords={"k": True})["created"]["t"]["id"]
    # TaskList: name and color are bob's own (§4.3 "stored per-user")
    _, res = call(gs, "TaskList/set", {"update": {lid: {"name": "bob's name",
                                                        "color": "red"}}}, user="bob")
    assert lid in res["updated"], res
    _, mine = call(gs, "TaskList/get", {"ids": [lid], "properties": ["name", "color"]},
                   user="bob")
    _, hers = call(gs, "TaskList/get", {"ids": [lid], "properties": ["name", "color"]})
    assert mine["list"][0]["name"] == "bob's name" and mine["list"][0]["color"] == "red"
    assert hers["list"][0]["name"] == "pu" and hers["list"][0]["color"] is None
    # a shared property is not bob's to change
    _, res = call(gs, "TaskList/set", {"update": {lid: {"description": "x"}}}, user="bob")
    assert res["notUpdated"][lid]["type"] == "forbidden", res
    # Task: keywords are per user with mayUpdatePrivate (calendars-27 §5.4 by analogy)
    # (bob starts from the default, no keywords: calendars-27 §5.4)
    _, res = call(gs, "Task/set", {"update": {tid: {"keywords": {"bobs": True}}}}, user="bob")
    assert tid in res["updated"], res
    _, b = call(gs, "Task/get", {"ids": [tid], "properties": ["keywords"]}, user="bob")
    _, a = call(gs, "Task/get", {"ids": [tid], "properties": ["keywords"]})
    assert a["list"][0]["keywords"] == {"k": True}
    assert b["list"][0]["keywords"] == {"bobs": True}
    # but not the title
    _, res = call(gs, "Task/set", {"update": {tid: {"title": "x"}}}, user="bob")
    assert res["notUpdated"][tid]["type"] == "forbidden", res


def test_admin_shares_on_only_rights_they_have_tasks06_s4_3(gs):
    lid = new_list(gs, "adm", {gs.own("bob"): rights("mayReadItems", "mayAdmin")})
    _, res = call(gs, "TaskList/get", {"ids": [lid]}, user="bob")
    assert res["list"][0]["shareWith"] == {gs.own("bob"): rights("mayReadItems", "mayAdmin")}
    share = {gs.own("bob"): rights("mayReadItems", "mayAdmin"),
             gs.own("dan"): rights("mayReadItems")}
    _, res = call(gs, "TaskList/set", {"update": {lid: {"shareWith": share}}}, user="bob")
    assert lid in res["updated"], res
    share[gs.own("dan")] = rights("mayReadItems", "mayWriteAll")
    _, res = call(gs, "TaskList/set", {"update": {lid: {"shareWith": share}}}, user="bob")
    assert res["notUpdated"][lid]["type"] == "forbidden", res
    # the owner in shareWith, or a rights object with an unknown right: invalid
    _, res = call(gs, "TaskList/set", {"update": {lid: {"shareWith": {
        gs.a: rights("mayReadItems")}}}})
    assert res["notUpdated"][lid]["type"] == "invalidProperties", res
    _, res = call(gs, "TaskList/set", {"update": {lid: {"shareWith": {
        gs.own("dan"): {"mayReadFreeBusy": True}}}}})
    assert res["notUpdated"][lid]["type"] == "invalidProperties", res


def test_private_and_secret_tasks_calendars27_s5_7(gs):
    lid = new_list(gs, "priv", {gs.own("bob"): rights("mayReadItems")})
    sec = new_task(gs, lid, privacy="secret", title="s")["created"]["t"]["id"]
    priv = new_task(gs, lid, privacy="private", title="p",
                    description="d")["created"]["t"]["id"]
    _, res = call(gs, "Task/get", {"ids": [sec, priv]}, user="bob")
    assert res["notFound"] == [sec]
    t = res["list"][0]
    assert t["id"] == priv and "title" not in t and "description" not in t
    assert t["due"] == "2026-03-01T10:00:00" and t["taskListId"] == lid


@pytest.mark.sqlite_only  # it edits jmapd.db by hand to make an older database
def test_accounts_of_an_older_database_get_their_task_list_tasks06_s4():
    """tasks-06 §4 role inbox, "the principal's default task list": an account made
    before tasks existed gets it when the server starts (issue 16)."""
    import sqlite3
    s = GroupServer()
    try:
        s.stop()
        db = sqlite3.connect(s.data + "/jmapd.db")
        db.execute("DELETE FROM objects WHERE type = 'TaskList'")
        db.commit()
        db.close()
        s.start()
        bob = s.own("bob")
        _, res = s.c("TaskList/get", {"accountId": bob}, user="bob", using=USING)
        assert [(x["name"], x["role"]) for x in res["list"]] == [("Tasks", "inbox")]
        s.stop()
        s.start()  # and only once
        _, res = s.c("TaskList/get", {"accountId": bob}, user="bob", using=USING)
        assert len(res["list"]) == 1
    finally:
        s.close()


def test_hide_attendees_shows_owners_and_me_tasks06_s5_4(gs):
    lid = new_list(gs, "hide", {gs.own("bob"): rights("mayReadItems")})
    parts = {"o": {"@type": "Participant", "calendarAddress": "mailto:alice@localhost",
                   "roles": {"chair": True}},
             "b": {"@type": "Participant", "calendarAddress": "mailto:bob@localhost",
                   "roles": {"assignee": True}},
             "c": {"@type": "Participant", "calendarAddress": "mailto:carol@example.com",
                   "roles": {"assignee": True}}}
    tid = new_task(gs, lid, participants=parts, hideAttendees=True,
                   organizerCalendarAddress="mailto:alice@localhost",
                   recurrenceRule={"@type": "RecurrenceRule", "frequency": "daily",
                                   "count": 3},
                   recurrenceOverrides={"2026-03-02T10:00:00": {
                       "participants/c/progress": "completed"}})["created"]["t"]["id"]
    _, res = call(gs, "Task/get", {"ids": [tid]}, user="bob")
    t = res["list"][0]
    assert set(t["participants"]) == {"o", "b"}
    assert t["recurrenceOverrides"]["2026-03-02T10:00:00"] == {}
    _, res = call(gs, "Task/get", {"ids": [tid]})  # the owner sees everyone
    assert set(res["list"][0]["participants"]) == {"o", "b", "c"}


def test_principal_tasks_capability_tasks06_s3_1(gs):
    _, res = gs.c("Principal/get", {"accountId": gs.own("bob"), "ids": [gs.a]}, user="bob",
                  using=USING)
    cap = res["list"][0]["capabilities"][TASKS]
    assert cap["accountId"] == gs.a  # bob reaches alice's account through her shares
    assert cap["mayShareWith"] is True
    assert cap["sendTo"] == {"imip": "mailto:alice@localhost"}
