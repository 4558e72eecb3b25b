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


def test_invalid_properties_say_which_and_why_rfc8620_5_3(server, acct):
    """§5.3 invalidProperties: the SetError lists the properties, and its
    description names each one with the reason (issue 12 §1.8)."""
    out = server.call("Calendar/set", {"accountId": acct, "create": {
        "a": {"name": "", "color": "no-such-colour", "myRights": {}, "bogus": 1}}})[1]
    err = out["notCreated"]["a"]
    assert err["type"] == "invalidProperties"
    assert set(err["properties"]) == {"myRights", "bogus"}  # the engine's checks come first
    d = err["description"]
    assert "myRights: server-set" in d and "bogus: not a property of Calendar" in d
    out = server.call("Calendar/set", {"accountId": acct, "create": {
        "a": {"name": "", "color": "no-such-colour"}}})[1]
    err = out["notCreated"]["a"]
    assert set(err["properties"]) == {"name", "color"}
    d = err["description"]
    assert "name: must be a non-empty String" in d and "color: not a CSS color" in d
    # updates: an immutable property, and the type's own checks
    ident = server.call("ParticipantIdentity/get", {"accountId": acct})[1]["list"][0]["id"]
    out = server.call("ParticipantIdentity/set", {"accountId": acct, "update": {
        ident: {"id": "other"}}})[1]
    assert "id: server-set" in out["notUpdated"][ident]["description"]
    out = server.call("ParticipantIdentity/set", {"accountId": acct, "update": {
        ident: {"calendarAddress": "not a uri"}}})[1]
    assert "calendarAddress: must be a URI" in out["notUpdated"][ident]["description"]
    # CalendarEvent: the JSCalendar validator's paths say so
    cal = server.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    out = server.call("CalendarEvent/set", {"accountId": acct, "create": {"e": {
        "calendarIds": {cal: True}, "title": "x", "start": "2024-01-01T10:00:00",
        "duration": "one hour", "@type": "Task"}}})[1]
    err = out["notCreated"]["e"]
    assert "@type" in err["properties"] and '@type: must be "Event"' in err["description"]

    # ContactCard (RFC 9610 §3): address books and the JSContact validator's paths
    contacts = [CORE, "urn:ietf:params:jmap:contacts"]
    out = server.call("ContactCard/set", {"accountId": acct, "create": {"k": {
        "addressBookIds": {"nosuchbook": True}, "kind": 5}}}, using=contacts)[1]
    d = out["notCreated"]["k"]["description"]
    assert "addressBookIds/nosuchbook: not an address book" in d, d
    assert "kind: must be a String" in d, d  # the validator's reason (issue 12 §1.8)
