"""RFC 9610 §3.3 ContactCard/query: every FilterCondition property of §3.3.1, the
text-matching rules, operators, every sort of §3.3.2, the standard /query
arguments of RFC 8620 §5.5, and ContactCard/queryChanges (§3.4, RFC 8620 §5.6)."""
import pytest

from test_contacts_util import (account, call, card_set, cs, new_book, ok, person, query_ids,
                                unique)

assert cs


@pytest.fixture(scope="module")
def data(cs):
    """One address book of cards with known values; returns (acct, book, ids by name)."""
    acct = account(cs)
    book = new_book(cs, acct, "Query book")
    cards = {
        "joe": {**person("Joe", "Bloggs"), "created": "2020-01-01T00:00:00Z",
                "updated": "2021-06-01T00:00:00Z",
                "nicknames": {"n": {"name": "Joey"}},
                "organizations": {"o": {"name": "Acme Widgets"}},
                "emails": {"e": {"address": "joe@example.com", "label": "office"}},
                "phones": {"p": {"number": "+1 555 0100", "label": "desk"}},
                "onlineServices": {"s": {"service": "Mastodon", "user": "@joe@social.example",
                                         "uri": "https://social.example/@joe"}},
                "addresses": {"a": {"components": [{"kind": "locality", "value": "Springfield"},
                                                   {"kind": "postcode", "value": "12345"}]}},
                "notes": {"x": {"note": "Met at the Quick Brown Fox conference"}},
                "uid": "urn:uuid:" + unique("joe-")},
        "ann": {"name": {"components": [{"kind": "given", "value": "ann"},
                                        {"kind": "surname", "value": "Ärzte"},
                                        {"kind": "surname2", "value": "Zed"}]},
                "created": "2022-01-01T00:00:00Z", "updated": "2022-01-01T00:00:00Z",
                "emails": {"e": {"address": "ann@example.org"}},
                "addresses": {"a": {"full": "1 Main Street, Shelbyville"}},
                "notes": {"x": {"note": "brown \"quoted\" fox"}}},
        "bob": {"name": {"components": [{"kind": "given", "value": "Bob"},
                                        {"kind": "surname", "value": "Baker"},
                                        {"kind": "surname2", "value": "Able"}]},
                "created": "2021-01-01T00:00:00Z", "updated": "2023-01-01T00:00:00.5Z",
                "kind": "individual",
                "titles": {"t": {"name": "Chief Baker"}}},
        "acme": {"kind": "org", "name": {"full": "Acme Corporation"},
                 "created": "2019-05-05T00:00:00Z", "updated": "2019-05-05T00:00:00Z",
                 "organizations": {"o": {"name": "Acme Corporation"}}},
    }
    out = card_set(cs, acct, create={k: {"addressBookIds": {book: True}, **v}
                                     for k, v in cards.items()})
    assert out["notCreated"] is None, out
    ids = {k: v["id"] for k, v in out["created"].items()}
    uid = {k: (cards[k].get("uid") or out["created"][k]["uid"]) for k in cards}
    group = card_set(cs, acct, create={"g": {"addressBookIds": {book: True}, "kind": "group",
                                             "name": {"full": "Team"},
                                             "created": "2018-01-01T00:00:00Z",
                                             "updated": "2018-01-01T00:00:00Z",
                                             "members": {uid["joe"]: True, uid["bob"]: True}}})
    ids["group"] = group["created"]["g"]["id"]
    return acct, book, ids, uid


def names(ids, result):
    rev = {v: k for k, v in ids.items()}
    return sorted(rev[i] for i in result)


@pytest.mark.parametrize("filt,expect", [
    ({"kind": "org"}, ["acme"]),
    ({"kind": "group"}, ["group"]),
    ({"kind": "individual"}, ["ann", "bob", "joe"]),  # RFC 9553 §2.1.4 default
    ({"createdBefore": "2021-01-01T00:00:00Z"}, ["acme", "group", "joe"]),
    ({"createdAfter": "2021-01-01T00:00:00Z"}, ["ann", "bob"]),  # "same or after"
    ({"updatedBefore": "2022-01-01T00:00:00Z"}, ["acme", "group", "joe"]),
    ({"updatedAfter": "2022-01-01T00:00:00Z"}, ["ann", "bob"]),
    ({"updatedAfter": "2023-01-01T00:00:00.400Z"}, ["bob"]),
    ({"updatedBefore": "2023-01-01T00:00:00.400Z"}, ["acme", "ann", "group", "joe"]),
    ({"text": "springfield"}, ["joe"]),
    ({"text": "BAKER"}, ["bob"]),
    ({"text": "acme"}, ["acme", "joe"]),
    ({"text": "joe 12345"}, ["joe"]),           # all tokens must be present
    ({"text": "joe shelbyville"}, []),
    ({"text": "\"quick brown\""}, ["joe"]),     # a phrase
    ({"text": "'brown fox'"}, ["joe"]),
    ({"text": "brown fox"}, ["ann", "joe"]),    # separate tokens
    ({"text": "\"brown \\\"quoted\\\" fox\""}, ["ann"]),  # \" inside a phrase
    ({"name": "joe bloggs"}, ["joe"]),
    ({"name": "acme corporation"}, ["acme"]),   # name/full
    ({"name": "ärzte"}, ["ann"]),               # case-insensitive beyond ASCII
    ({"name/given": "ANN"}, ["ann"]),
    ({"name/given": "bloggs"}, []),
    ({"name/surname": "baker"}, ["bob"]),
    ({"name/surname2": "zed"}, ["ann"]),
    ({"name/surname2": "baker"}, []),
    ({"nickname": "joey"}, ["joe"]),
    ({"organization": "widgets"}, ["joe"]),
    ({"email": "example.org"}, ["ann"]),
    ({"email": "office"}, ["joe"]),              # the label too
    ({"phone": "555 0100"}, ["joe"]),
    ({"phone": "desk"}, ["joe"]),
    ({"onlineService": "mastodon"}, ["joe"]),
    ({"onlineService": "social.example/@joe"}, ["joe"]),
    ({"address": "springfield"}, ["joe"]),
    ({"address": "main street"}, ["ann"]),       # address full
    ({"note": "conference"}, ["joe"]),
    ({"note": "springfield"}, []),
    ({}, ["acme", "ann", "bob", "group", "joe"]),  # zero properties: always true
    ({"kind": "individual", "name/given": "bob"}, ["bob"]),  # all properties must apply
])
def test_filter_conditions(cs, data, filt, expect):
    acct, book, ids, _ = data
    assert names(ids, query_ids(cs, acct, book, filt)) == expect


def test_filter_in_address_book_uid_has_member(cs, data):
    acct, book, ids, uid = data
    other = new_book(cs, acct)
    out = ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"inAddressBook": book}})
    assert sorted(out["ids"]) == sorted(ids.values())
    out = ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"inAddressBook": other}})
    assert out["ids"] == []
    out = ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"uid": uid["joe"]}})
    assert out["ids"] == [ids["joe"]]
    # uid must match exactly
    out = ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"uid": uid["joe"].upper()}})
    assert out["ids"] == []
    out = ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"hasMember": uid["bob"]}})
    assert out["ids"] == [ids["group"]]
    out = ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"hasMember": uid["ann"]}})
    assert out["ids"] == []


def test_filter_operators(cs, data):
    acct, book, ids, _ = data
    f = {"operator": "OR", "conditions": [{"kind": "org"}, {"name/given": "ann"}]}
    assert names(ids, query_ids(cs, acct, book, f)) == ["acme", "ann"]
    f = {"operator": "NOT", "conditions": [{"kind": "individual"}]}
    assert names(ids, query_ids(cs, acct, book, f)) == ["acme", "group"]
    f = {"operator": "AND", "conditions": [{"text": "acme"}, {"kind": "org"}]}
    assert names(ids, query_ids(cs, acct, book, f)) == ["acme"]
    f = {"operator": "NOT", "conditions": [{"operator": "OR", "conditions": [
        {"kind": "org"}, {"kind": "group"}]}]}
    assert names(ids, query_ids(cs, acct, book, f)) == ["ann", "bob", "joe"]


@pytest.mark.parametrize("filt,err", [
    ({"nope": "x"}, "unsupportedFilter"),
    ({"operator": "XOR", "conditions": []}, "invalidArguments"),
    ({"text": 5}, "invalidArguments"),
    ({"createdBefore": "yesterday"}, "invalidArguments"),
    ({"updatedAfter": "2020-01-01T00:00:00"}, "invalidArguments"),  # UTCDate needs Z
    ({"inAddressBook": None}, "invalidArguments"),
])
def test_filter_errors(cs, data, filt, err):
    acct = data[0]
    name, out = call(cs, "ContactCard/query", {"accountId": acct, "filter": filt})
    assert name == "error" and out["type"] == err


def order(cs, data, sort, filt=None):
    acct, book, ids, _ = data
    f = filt or {"operator": "NOT", "conditions": [{"kind": "group"}]}
    rev = {v: k for k, v in ids.items()}
    return [rev[i] for i in query_ids(cs, acct, book, f, sort=sort)]


def test_sort_created_updated(cs, data):
    # §3.3.2: "created" and "updated" MUST be supported
    assert order(cs, data, [{"property": "created"}]) == ["acme", "joe", "bob", "ann"]
    assert order(cs, data, [{"property": "created", "isAscending": False}]) == \
        ["ann", "bob", "joe", "acme"]
    assert order(cs, data, [{"property": "updated"}]) == ["acme", "joe", "ann", "bob"]
    assert order(cs, data, [{"property": "updated", "isAscending": False}]) == \
        ["bob", "ann", "joe", "acme"]


def test_sort_name_components(cs, data):
    indiv = {"kind": "individual"}
    # i;unicode-casemap by default: "ann" before "Bob" before "Joe"
    assert order(cs, data, [{"property": "name/given"}], indiv) == ["ann", "bob", "joe"]
    assert order(cs, data, [{"property": "name/given", "isAscending": False}], indiv) == \
        ["joe", "bob", "ann"]
    # i;octet: upper case sorts before lower case
    assert order(cs, data, [{"property": "name/given", "collation": "i;octet"}], indiv) == \
        ["bob", "joe", "ann"]
    # Ä folds to a + combining mark, so Ärzte sorts with the a's
    assert order(cs, data, [{"property": "name/surname"}], indiv) == ["ann", "bob", "joe"]
    got = order(cs, data, [{"property": "name/surname2"}], indiv)
    assert got[1:] == ["bob", "ann"]  # the card without a surname2 sorts first
    # a second comparator breaks ties
    got = order(cs, data, [{"property": "name/surname2"}, {"property": "created"}])
    assert got == ["acme", "joe", "bob", "ann"]


@pytest.mark.parametrize("sort", [
    [{"property": "name"}], [{"property": "uidx"}],
    [{"property": "created", "collation": "i;nope"}],
])
def test_sort_errors(cs, data, sort):
    acct = data[0]
    name, out = call(cs, "ContactCard/query", {"accountId": acct, "sort": sort})
    assert name == "error" and out["type"] == "unsupportedSort"


def test_query_paging(cs, data):
    acct, book, ids, _ = data
    base = {"accountId": acct, "filter": {"inAddressBook": book},
            "sort": [{"property": "created"}]}
    full = ok(cs, "ContactCard/query", {**base, "calculateTotal": True})
    assert full["total"] == 5 and full["position"] == 0 and full["canCalculateChanges"] is True
    every = full["ids"]
    out = ok(cs, "ContactCard/query", {**base, "position": 1, "limit": 2})
    assert out["ids"] == every[1:3] and out["position"] == 1
    out = ok(cs, "ContactCard/query", {**base, "position": -2})
    assert out["ids"] == every[-2:] and out["position"] == 3
    out = ok(cs, "ContactCard/query", {**base, "anchor": every[2], "anchorOffset": -1,
                                       "limit": 2})
    assert out["ids"] == every[1:3] and out["position"] == 1
    name, out = call(cs, "ContactCard/query", {**base, "anchor": "knope"})
    assert name == "error" and out["type"] == "anchorNotFound"
    name, out = call(cs, "ContactCard/query", {**base, "limit": -1})
    assert name == "error" and out["type"] == "invalidArguments"
    out = ok(cs, "ContactCard/query", {**base, "position": 99})
    assert out["ids"] == []


def test_query_changes(cs):
    acct = account(cs)
    book = new_book(cs, acct)
    args = {"accountId": acct, "filter": {"inAddressBook": book, "name/given": "q"},
            "sort": [{"property": "name/given"}]}
    a = card_set(cs, acct, create={"a": {"addressBookIds": {book: True}, **person("qa", "x")}})
    a = a["created"]["a"]["id"]
    first = ok(cs, "ContactCard/query", args)
    assert first["ids"] == [a]
    state = first["queryState"]
    out = card_set(cs, acct, create={
        "b": {"addressBookIds": {book: True}, **person("qb", "x")},
        "z": {"addressBookIds": {book: True}, **person("zz", "x")}})
    b = out["created"]["b"]["id"]
    card_set(cs, acct, update={a: {"name": {"full": "no longer matching"}}})
    out = ok(cs, "ContactCard/queryChanges", {**args, "sinceQueryState": state,
                                              "calculateTotal": True})
    assert out["oldQueryState"] == state
    assert out["newQueryState"] == ok(cs, "ContactCard/query", args)["queryState"]
    assert a in out["removed"]
    assert out["added"] == [{"id": b, "index": 0}]
    assert out["total"] == 1
    # replaying: apply removed then added to the old ids gives the new ids
    ids = [i for i in first["ids"] if i not in out["removed"]]
    for add in out["added"]:
        ids.insert(add["index"], add["id"])
    assert ids == ok(cs, "ContactCard/query", args)["ids"]
    name, err = call(cs, "ContactCard/queryChanges", {**args, "sinceQueryState": state,
                                                      "maxChanges": 1})
    assert name == "error" and err["type"] == "tooManyChanges"
    name, err = call(cs, "ContactCard/queryChanges", {**args, "sinceQueryState": "nope"})
    assert name == "error" and err["type"] == "cannotCalculateChanges"
    # nothing changed since the current state
    now = ok(cs, "ContactCard/query", args)["queryState"]
    out = ok(cs, "ContactCard/queryChanges", {**args, "sinceQueryState": now})
    assert out["removed"] == [] and out["added"] == []


def test_query_sees_destroys_and_other_writers(cs):
    acct = account(cs)
    book = new_book(cs, acct)
    tag = unique("zyxw")
    cid = card_set(cs, acct, create={"a": {"addressBookIds": {book: True},
                                           "notes": {"n": {"note": tag}}}})["created"]["a"]["id"]
    assert query_ids(cs, acct, book, {"note": tag}) == [cid]
    # bob writes in alice's account: alice's queries see it
    card_set(cs, acct, user="bob", update={cid: {"notes/n/note": tag + " changed"}})
    assert query_ids(cs, acct, book, {"note": tag + " changed"}) == [cid]
    card_set(cs, acct, destroy=[cid])
    assert query_ids(cs, acct, book, {"note": tag}) == []
    # carol (read-only) may query
    out = ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"inAddressBook": book}},
             user="carol")
    assert out["ids"] == []


def test_query_empty_account(cs):
    """An account without cards: every query is empty (bob's own account here)."""
    bob = account(cs, "bob")
    for args in ({}, {"filter": {"text": "x"}}, {"sort": [{"property": "created"}]}):
        out = ok(cs, "ContactCard/query", {"accountId": bob, "calculateTotal": True, **args},
                 user="bob")
        assert out["ids"] == [] and out["total"] == 0
