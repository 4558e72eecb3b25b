"""RFC 8620 conformance points found by outside clients (issue 12 §1): server-set
properties in /set created, fromAccountNotFound, /get with repeated ids, U+0000 in
strings, method names and call ids, and Int bounds."""
from conftest import BLOB, CAL, CORE


def test_set_created_carries_myrights_rfc8620_5_3(server, acct):
    """§5.3: created holds every server-set property the client did not send,
    myRights included (calendars §4.1), done once in the engine for every type."""
    out = server.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "Rights"}}})[1]
    created = out["created"]["c"]
    assert created["myRights"]["mayDelete"] is True
    got = server.call("Calendar/get", {"accountId": acct, "ids": [created["id"]]})[1]["list"][0]
    assert created["myRights"] == got["myRights"]
    server.call("Calendar/set", {"accountId": acct, "destroy": [created["id"]]})


def test_copy_from_unknown_account_rfc8620_5_4_and_6_3(server, acct):
    """§5.4 /copy and §6.3 Blob/copy: a fromAccountId the user cannot use is
    fromAccountNotFound, not accountNotFound."""
    name, args = server.call("CalendarEvent/copy", {"fromAccountId": "nosuchaccount",
                                                   "accountId": acct, "create": {}})
    assert name == "error" and args["type"] == "fromAccountNotFound"
    name, args = server.call("Blob/copy", {"fromAccountId": "nosuchaccount", "accountId": acct,
                                          "blobIds": []})
    assert name == "error" and args["type"] == "fromAccountNotFound"
    # the destination account keeps its own error
    name, args = server.call("Blob/copy", {"fromAccountId": acct, "accountId": "nosuchaccount",
                                          "blobIds": []})
    assert name == "error" and args["type"] == "accountNotFound"


def test_get_repeated_ids_once_rfc8620_5_1(server, acct):
    """§5.1: an id asked for twice appears once, in list or in notFound."""
    cal = server.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    out = server.call("Calendar/get", {"accountId": acct,
                                       "ids": [cal, "missing1", cal, "missing1"]})[1]
    assert [c["id"] for c in out["list"]] == [cal]
    assert out["notFound"] == ["missing1"]


def test_nul_in_strings_rfc8620_3_3_and_4(server):
    """§3.3/§4 with RFC 8259 §7: escaped control characters, U+0000 included, are
    valid I-JSON; Core/echo returns them unchanged, a method name holding one is
    unknownMethod, and a call id holding one comes back exactly."""
    args = {"s": "a\u0000b", "t": "\u0001\u001f"}
    resp = server.api([["Core/echo", args, "c\u0000d"]], using=[CORE])
    assert resp["methodResponses"] == [["Core/echo", args, "c\u0000d"]]
    resp = server.api([["Core/echo\u0000x", {}, "c1"]], using=[CORE])
    name, out, cid = resp["methodResponses"][0]
    assert name == "error" and out["type"] == "unknownMethod" and cid == "c1"


def test_int_bounds_rfc8620_1_3(server, acct):
    """§1.3: Int and UnsignedInt are within ±(2^53-1); beyond is invalidArguments,
    never a refused request."""
    for big in (18446744073709551616, 2 ** 53, -(2 ** 70)):
        name, out = server.call("Calendar/changes", {"accountId": acct, "sinceState": "0",
                                                     "maxChanges": big})
        assert name == "error" and out["type"] == "invalidArguments", big
    name, out = server.call("Calendar/changes", {"accountId": acct, "sinceState": "0",
                                                 "maxChanges": 2 ** 53 - 1})
    assert name != "error" or out["type"] != "invalidArguments"
    # valid JSON either way: a big integer outside the arguments refuses nothing
    r = server.post(b'{"using":[],"methodCalls":[],"x":123456789012345678901234567890}')
    assert r.status_code == 200 and r.json()["methodResponses"] == []
