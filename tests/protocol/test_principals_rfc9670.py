"""Principals (RFC 9670 §1.5, §2; draft-ietf-jmap-calendars-27 §2.1) and groups
(`jmapd group`), issue 14 point 1."""
import pytest

from conftest import CAL, CORE
from groupware_util import OWNER, PRINCIPALS, GroupServer


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    r = s.cli("group", "add", "team", "--description", "the team")
    assert r.returncode == 0, r.stderr
    s.team = r.stdout.split()[-1]
    assert s.cli("group", "member", "team", "--add", "bob").returncode == 0
    assert s.cli("group", "member", "team", "--add", "dan").returncode == 0
    yield s
    s.close()


def principals(gs, user="alice", **args):
    _, res = gs.c("Principal/get", dict({"accountId": gs.own(user)}, **args), user=user)
    return res


def test_session_capabilities_rfc9670_s1_5(gs):
    s = gs.session("bob")
    assert s["capabilities"][PRINCIPALS] == {}
    assert OWNER not in s["capabilities"]  # §1.5.2: only in accountCapabilities
    me = gs.own("bob")
    caps = s["accounts"][me]["accountCapabilities"]
    assert caps[PRINCIPALS] == {"currentUserPrincipalId": me}
    assert caps[OWNER] == {"accountIdForPrincipal": me, "principalId": me}
    assert s["primaryAccounts"][PRINCIPALS] == me


def test_owner_capability_is_not_usable_rfc9670_s1_5_2(gs):
    r = gs.post({"using": [CORE, OWNER], "methodCalls": []})
    assert r.status_code == 400 and "unknownCapability" in r.text


def test_principal_get_users_and_groups_rfc9670_s2_1(gs):
    res = principals(gs)
    by_name = {p["name"]: p for p in res["list"]}
    assert {"alice", "bob", "dan", "erin", "frank", "team"} <= set(by_name)
    alice, bob, team = by_name["alice"], by_name["bob"], by_name["team"]
    assert alice["id"] == gs.own("alice") and alice["type"] == "individual"
    assert alice["email"] == "alice@localhost"
    assert team["type"] == "group" and team["id"] == gs.team
    assert team["description"] == "the team" and team["accounts"] is None
    # calendars-27 §2.1: the calendars capability data of each principal
    cal = alice["capabilities"][CAL]
    assert cal["accountId"] == gs.own("alice")
    assert cal["calendarAddress"] == "mailto:alice@localhost"
    assert cal["mayShareWith"] is False  # the user's own principal is never a sharee
    assert isinstance(cal["mayGetAvailability"], bool)
    assert alice["accounts"][gs.own("alice")]["isPersonal"] is True
    # bob shares nothing with alice: she has no access to his account
    assert bob["capabilities"][CAL]["accountId"] is None and bob["accounts"] is None
    assert bob["capabilities"][CAL]["mayShareWith"] is True
    assert "calendarAddress" not in team["capabilities"][CAL]


def test_principal_get_by_ids_and_properties_rfc8620_s5_1(gs):
    res = principals(gs, ids=[gs.team, "nope"], properties=["name"])
    assert res["list"] == [{"id": gs.team, "name": "team"}]
    assert res["notFound"] == ["nope"]


def test_principal_methods_need_the_capability_rfc9670_s1_5_1(gs):
    _, res = gs.call("Principal/get", {"accountId": gs.own("alice")}, using=[CORE, CAL])
    assert res["type"] == "unknownMethod"


def test_principal_set_own_name_description_timezone_rfc9670_s2_3(gs):
    me = gs.own("erin")
    _, st = gs.c("Principal/get", {"accountId": me, "ids": []}, user="erin")
    _, res = gs.c("Principal/set", {"accountId": me, "update": {me: {
        "name": "Erin E", "description": "desk 4", "timeZone": "Europe/Paris"}}}, user="erin")
    assert res["updated"] == {me: None}, res
    got = principals(gs, "alice", ids=[me])["list"][0]
    assert (got["name"], got["description"], got["timeZone"]) == (
        "Erin E", "desk 4", "Europe/Paris")
    # §2.2 the change is in Principal/changes, for every user
    _, ch = gs.c("Principal/changes", {"accountId": gs.own("frank"),
                                       "sinceState": st["state"]}, user="frank")
    assert me in ch["updated"]


def test_principal_set_forbidden_changes_rfc9670_s2_3(gs):
    me, bob = gs.own("erin"), gs.own("bob")
    _, res = gs.c("Principal/set", {
        "accountId": me,
        "create": {"x": {"name": "new", "type": "individual"}},
        "update": {bob: {"name": "Not Bob"}},
        "destroy": [me]}, user="erin")
    assert res["notCreated"]["x"]["type"] == "forbidden"
    assert res["notUpdated"][bob]["type"] == "forbidden"
    assert res["notDestroyed"][me]["type"] == "forbidden"
    for patch in ({"email": "x@example.org"}, {"type": "group"}):
        _, res = gs.c("Principal/set", {"accountId": me, "update": {me: patch}}, user="erin")
        assert res["notUpdated"][me]["type"] == "forbidden", patch
    _, res = gs.c("Principal/set", {"accountId": me, "update": {me: {"capabilities": {}}}},
                  user="erin")
    assert res["notUpdated"][me]["type"] == "invalidProperties"
    _, res = gs.c("Principal/set", {"accountId": me, "update": {
        me: {"timeZone": "Mars/Olympus", "name": ""}}}, user="erin")
    err = res["notUpdated"][me]
    assert err["type"] == "invalidProperties"
    assert set(err["properties"]) == {"timeZone", "name"}
    assert principals(gs, "bob", ids=[bob])["list"][0]["name"] == "bob"


def test_principal_query_filters_rfc9670_s2_4_1(gs):
    me = gs.own("alice")

    def q(flt, **kw):
        _, res = gs.c("Principal/query", dict({"accountId": me, "filter": flt}, **kw))
        return res["ids"]

    assert q({"type": "group"}) == [gs.team]
    assert q({"name": "TEA"}) == [gs.team]  # substring
    assert q({"email": "dan@"}) == [gs.own("dan")]
    assert set(q({"text": "the team"})) == {gs.team}
    assert q({"accountIds": [me]}) == [me]
    assert q({"accountIds": [gs.own("bob")]}) == []  # alice cannot reach bob's account
    names = q(None, sort=[{"property": "name"}])
    assert len(names) >= 6
    _, res = gs.c("Principal/query", {"accountId": me, "filter": {"colour": "x"}})
    assert res["type"] == "unsupportedFilter"
    _, res = gs.c("Principal/query", {"accountId": me, "filter": {"type": 3}})
    assert res["type"] == "invalidArguments"


def test_principal_query_changes_rfc9670_s2_5(gs):
    me = gs.own("alice")
    _, q0 = gs.c("Principal/query", {"accountId": me, "filter": {"type": "group"}})
    r = gs.cli("group", "add", "second")
    assert r.returncode == 0, r.stderr
    gid = r.stdout.split()[-1]
    _, qc = gs.c("Principal/queryChanges", {"accountId": me, "filter": {"type": "group"},
                                            "sinceQueryState": q0["queryState"]})
    assert [a["id"] for a in qc["added"]] == [gid]
    assert gs.cli("group", "del", "second").returncode == 0
    _, ch = gs.c("Principal/changes", {"accountId": me, "sinceState": q0["queryState"]})
    assert ch["created"] == [] and gid not in ch["updated"]  # created and destroyed since
    assert principals(gs, ids=[gid])["notFound"] == [gid]


def test_group_cli_rfc9670_s2(gs):
    out = gs.cli("group", "list").stdout
    assert "team" in out and "bob" in out and "dan" in out
    assert gs.cli("group", "add", "team").returncode == 1  # the name is taken
    assert gs.cli("group", "member", "team", "--add", "nobody").returncode == 1
    assert gs.cli("group", "member", "team", "--del", "erin").returncode == 1  # not a member
    assert gs.cli("group", "member", "nosuch", "--add", "bob").returncode == 1
    assert gs.cli("group", "del", "nosuch").returncode == 1
    assert gs.cli("group", "frob", "x").returncode == 2


def test_principal_on_a_shared_account_is_not_supported_rfc9670_s1_5(gs):
    _, res = gs.c("Principal/get", {"accountId": gs.own("bob")})
    assert res["type"] == "accountNotFound"


@pytest.mark.sqlite_only  # it edits jmapd.db by hand to make an older database
def test_users_of_an_older_database_get_principals_rfc9670_s2():
    import sqlite3
    s = GroupServer()
    try:
        s.stop()
        db = sqlite3.connect(s.data + "/jmapd.db")
        db.execute("DELETE FROM objects WHERE type = 'Principal'")  # as before schema 6
        db.commit()
        db.close()
        s.start()
        _, res = s.c("Principal/get", {"accountId": s.own("bob")}, user="bob")
        got = {p["name"]: p for p in res["list"]}
        assert {"alice", "bob", "dan", "erin", "frank"} <= set(got)
        assert got["alice"]["email"] == "alice@localhost"
    finally:
        s.close()
