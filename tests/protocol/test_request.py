"""RFC 8620 §3: the Request object, request-level problem documents, method-level
errors, result references (§3.7), creation ids, Core/echo (§4) and limits."""
import json

import pytest

from conftest import BLOB, CAL, CORE


def problem(r, type_, status=400):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    p = r.json()
    assert p["type"] == "urn:ietf:params:jmap:error:" + type_
    assert p["status"] == status
    return p


def test_core_echo(server):
    args = {"hello": True, "high": 5, "nested": {"a": [1, "x", None]}}
    resp = server.api([["Core/echo", args, "b3ff"]], using=[CORE])
    assert resp["methodResponses"] == [["Core/echo", args, "b3ff"]]
    assert isinstance(resp["sessionState"], str)
    assert resp["sessionState"] == server.session()["state"]
    assert "createdIds" not in resp


def test_not_json(server):
    problem(server.post(b"{not json"), "notJSON")
    problem(server.post(b'{"using":[], "methodCalls": [}'), "notJSON")
    # invalid UTF-8 is not I-JSON
    problem(server.post(b'{"using":["\xff\xfe"],"methodCalls":[]}'), "notJSON")
    # and the problem document stays valid JSON when the error quotes such bytes
    p = problem(server.post(b'{"using":[], "methodCalls": [\x8d\x9e]}'), "notJSON")
    assert p["detail"].isascii()
    # duplicate member names are not I-JSON either
    problem(server.post(b'{"using":[],"using":[],"methodCalls":[]}'), "notJSON")
    # and the content type must be application/json
    body = json.dumps({"using": [CORE], "methodCalls": []})
    problem(server.post(body, headers={"Content-Type": "text/plain"}), "notJSON")


def test_not_request(server):
    for body in ([], b'"x"', 5, {}, {"using": [CORE]}, {"methodCalls": []},
                 {"using": "x", "methodCalls": []}, {"using": [1], "methodCalls": []},
                 {"using": [CORE], "methodCalls": {}},
                 {"using": [CORE], "methodCalls": [["Core/echo", {}]]},
                 {"using": [CORE], "methodCalls": [["Core/echo", [], "0"]]},
                 {"using": [CORE], "methodCalls": [[1, {}, "0"]]},
                 {"using": [CORE], "methodCalls": [], "createdIds": []}):
        problem(server.post(body), "notRequest")


def test_unknown_capability(server):
    p = problem(server.post({"using": [CORE, "urn:example:nope"], "methodCalls": []}),
                "unknownCapability")
    assert "urn:example:nope" in p["detail"]


def test_limit_max_calls_in_request(server):
    calls = [["Core/echo", {}, str(i)] for i in range(17)]
    p = problem(server.post({"using": [CORE], "methodCalls": calls}), "limit")
    assert p["limit"] == "maxCallsInRequest"
    calls = calls[:16]
    assert len(server.api(calls, using=[CORE])["methodResponses"]) == 16


def test_limit_max_size_request(server):
    body = json.dumps({"using": [CORE], "methodCalls": [["Core/echo", {"x": "a" * 3100000}, "0"]]})
    p = problem(server.post(body), "limit")
    assert p["limit"] == "maxSizeRequest"


def test_empty_method_calls(server):
    assert server.api([], using=[])["methodResponses"] == []


def test_unknown_method(server):
    resp = server.api([["Foo/bar", {}, "0"], ["Core/echo", {"ok": 1}, "1"]])
    assert resp["methodResponses"][0] == ["error", {"type": "unknownMethod",
                                                    "description": "unknown method 'Foo/bar'"}, "0"]
    # processing continues after a method error
    assert resp["methodResponses"][1] == ["Core/echo", {"ok": 1}, "1"]


def test_method_needs_its_capability_in_using(server, acct):
    name, args = server.call("Calendar/get", {"accountId": acct}, using=[CORE])
    assert name == "error" and args["type"] == "unknownMethod"


def test_calls_run_in_order_and_keep_call_ids(server):
    calls = [["Core/echo", {"i": i}, f"id-{i}"] for i in range(5)]
    resp = server.api(calls, using=[CORE])
    assert resp["methodResponses"] == [["Core/echo", {"i": i}, f"id-{i}"] for i in range(5)]


@pytest.mark.parametrize("args", [
    {},                                   # accountId missing
    {"accountId": 5},                     # wrong type
    {"accountId": "x", "ids": "nope"},    # ids not an array
    {"accountId": "x", "ids": [1]},       # ids of the wrong type
    {"accountId": "x", "properties": [3]},
    {"accountId": "x", "bogus": 1},       # unknown argument
])
def test_invalid_arguments(server, acct, args):
    args = {**args, "accountId": acct} if args.get("accountId") == "x" else args
    name, out = server.call("Calendar/get", args)
    assert name == "error" and out["type"] == "invalidArguments", out


def test_invalid_arguments_wrong_types_everywhere(server, acct):
    bad = [("Calendar/set", {"accountId": acct, "create": []}),
           ("Calendar/set", {"accountId": acct, "update": {"x": 1}}),
           ("Calendar/set", {"accountId": acct, "destroy": "x"}),
           ("Calendar/set", {"accountId": acct, "ifInState": 3}),
           ("Calendar/changes", {"accountId": acct}),
           ("Calendar/changes", {"accountId": acct, "sinceState": 1}),
           ("Calendar/changes", {"accountId": acct, "sinceState": "0", "maxChanges": 0}),
           ("Calendar/changes", {"accountId": acct, "sinceState": "0", "maxChanges": -1}),
           ("Calendar/changes", {"accountId": acct, "sinceState": "0", "maxChanges": "5"}),
           ("Calendar/get", {"accountId": acct, "properties": ["nope"]}),
           ("Blob/get", {"accountId": acct, "ids": ["x"], "properties": ["digest:md5"]}),
           ("Blob/copy", {"fromAccountId": acct, "accountId": acct}),
           ("Blob/upload", {"accountId": acct, "create": 1})]
    for name, args in bad:
        got, out = server.call(name, args)
        assert got == "error" and out["type"] == "invalidArguments", (name, args, out)


def test_account_not_found(server):
    name, out = server.call("Calendar/get", {"accountId": "nosuchaccount"})
    assert name == "error" and out["type"] == "accountNotFound"
    # another user's account is not found either
    bob = server.account("bob")
    name, out = server.call("Calendar/get", {"accountId": bob})
    assert out["type"] == "accountNotFound"


def test_account_read_only(server):
    alice = server.account("alice")
    name, out = server.call("Calendar/set", {"accountId": alice, "create": {
        "c": {"name": "carol's"}}}, user="carol")
    assert name == "error" and out["type"] == "accountReadOnly"
    # reading is fine
    name, out = server.call("Calendar/get", {"accountId": alice}, user="carol")
    assert name == "Calendar/get"
    assert out["list"][0]["myRights"]["mayWriteAll"] is False
    assert out["list"][0]["myRights"]["mayReadItems"] is True


def test_result_reference(server, acct):
    resp = server.api([
        ["Calendar/get", {"accountId": acct}, "g"],
        ["Calendar/get", {"accountId": acct, "#ids": {
            "resultOf": "g", "name": "Calendar/get", "path": "/list/*/id"}}, "h"],
        ["Core/echo", {"#names": {"resultOf": "g", "name": "Calendar/get",
                                  "path": "/list/*/name"}}, "e"],
        ["Core/echo", {"#first": {"resultOf": "g", "name": "Calendar/get",
                                  "path": "/list/0/id"}}, "f"],
    ])
    g, h, e, f = [m[1] for m in resp["methodResponses"]]
    assert [c["id"] for c in h["list"]] == [c["id"] for c in g["list"]]
    assert e["names"] == [c["name"] for c in g["list"]]
    assert f["first"] == g["list"][0]["id"]


def test_invalid_result_reference(server, acct):
    cases = [
        {"resultOf": "nope", "name": "Calendar/get", "path": "/list/*/id"},  # no such call
        {"resultOf": "g", "name": "Calendar/changes", "path": "/list/*/id"},  # wrong name
        {"resultOf": "g", "name": "Calendar/get", "path": "/nothing/here"},   # bad path
        {"resultOf": "g", "name": "Calendar/get"},                            # not a reference
    ]
    for ref in cases:
        resp = server.api([["Calendar/get", {"accountId": acct}, "g"],
                           ["Calendar/get", {"accountId": acct, "#ids": ref}, "h"]])
        name, out, cid = resp["methodResponses"][1]
        assert name == "error" and out["type"] == "invalidResultReference", ref
        assert cid == "h"
    # an error response cannot be referenced as a method response
    resp = server.api([["Calendar/get", {"accountId": "none"}, "g"],
                       ["Core/echo", {"#x": {"resultOf": "g", "name": "Calendar/get",
                                             "path": "/list"}}, "h"]])
    assert resp["methodResponses"][1][1]["type"] == "invalidResultReference"
    # both "#ids" and "ids" is invalidArguments
    resp = server.api([["Calendar/get", {"accountId": acct}, "g"],
                       ["Calendar/get", {"accountId": acct, "ids": [], "#ids": {
                           "resultOf": "g", "name": "Calendar/get", "path": "/list/*/id"}}, "h"]])
    assert resp["methodResponses"][1][1]["type"] == "invalidArguments"


def test_created_ids_in_and_out(server, acct):
    resp = server.api([["Calendar/set", {"accountId": acct, "create": {
        "k1": {"name": "Created ids"}}}, "0"],
        ["Calendar/get", {"accountId": acct, "ids": ["#k1", "#given"]}, "1"]],
        created_ids={"given": "cnonexistent0"})
    new_id = resp["methodResponses"][0][1]["created"]["k1"]["id"]
    assert resp["createdIds"] == {"given": "cnonexistent0", "k1": new_id}
    got = resp["methodResponses"][1][1]
    assert [c["id"] for c in got["list"]] == [new_id]
    assert got["notFound"] == ["#given"]
    # creation ids can key updates and destroys in later calls
    resp = server.api([["Calendar/set", {"accountId": acct, "create": {"k2": {"name": "x"}}}, "0"],
                       ["Calendar/set", {"accountId": acct, "update": {"#k2": {"name": "y"}}}, "1"],
                       ["Calendar/set", {"accountId": acct, "destroy": ["#k2", "#k1"]}, "2"]])
    k2 = resp["methodResponses"][0][1]["created"]["k2"]["id"]
    assert k2 in resp["methodResponses"][1][1]["updated"]
    # #k1 is unknown in this request (createdIds not passed): notFound
    third = resp["methodResponses"][2][1]
    assert third["destroyed"] == [k2]
    assert third["notDestroyed"]["#k1"]["type"] == "notFound"
    server.call("Calendar/set", {"accountId": acct, "destroy": [new_id]})


@pytest.mark.parametrize("body", [
    b'{"using":[],"methodCalls":[]' + b'}' * 0,
    b'[' * 100000,
    b'{"a":' * 5000 + b'1' + b'}' * 5000,
    b'{"using":[],"methodCalls":[],"x":1e999999}',
    b'\x00\x01\x02',
    b'',
])
def test_malformed_bodies_are_rejected(server, body):
    r = server.post(body)
    assert r.status_code == 400
    assert r.json()["type"] in ("urn:ietf:params:jmap:error:notJSON",
                                "urn:ietf:params:jmap:error:notRequest")


def test_deep_nesting_in_arguments_is_fine(server):
    deep = {}
    cur = deep
    for _ in range(200):
        cur["a"] = {}
        cur = cur["a"]
    resp = server.api([["Core/echo", deep, "0"]], using=[CORE])
    assert resp["methodResponses"][0][1] == deep
