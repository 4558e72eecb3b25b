"""Sharing address books (RFC 9610 §2 AddressBookRights, shareWith; RFC 9670 §4),
issue 14 point 2: each right alone, a group member, an outsider."""
import pytest

from groupware_util import GroupServer

RIGHTS = ["mayRead", "mayWrite", "mayShare", "mayDelete"]


def rights(*names):
    return {r: r in names for r in RIGHTS}


@pytest.fixture(scope="module")
def gs():
    s = GroupServer()
    r = s.cli("group", "add", "crew")
    assert r.returncode == 0, r.stderr
    s.crew = r.stdout.split()[-1]
    assert s.cli("group", "member", "crew", "--add", "dan").returncode == 0
    s.a = s.own("alice")
    yield s
    s.close()


def book(gs, name, share=None, user="alice"):
    _, res = gs.c("AddressBook/set", {"accountId": gs.a, "create": {"b": {
        "name": name, "shareWith": share}}}, user=user)
    assert res.get("created"), res
    return res["created"]["b"]["id"]


def card(gs, books, name, user="alice"):
    _, res = gs.c("ContactCard/set", {"accountId": gs.a, "create": {"k": {
        "@type": "Card", "version": "1.0", "addressBookIds": {b: True for b in books},
        "name": {"full": name}}}}, user=user)
    return res


def cid(res):
    assert res.get("created") and "k" in res["created"], res
    return res["created"]["k"]["id"]


def share(gs, bid, sw, user="alice"):
    _, res = gs.c("AddressBook/set", {"accountId": gs.a, "update": {bid: {"shareWith": sw}}},
                  user=user)
    return res


def test_read_alone_rfc9610_s2(gs):
    seen = book(gs, "seen", {gs.own("bob"): rights("mayRead")})
    hidden = book(gs, "hidden")
    k1 = cid(card(gs, [seen], "Visible Person"))
    k2 = cid(card(gs, [hidden], "Hidden Person"))
    k3 = cid(card(gs, [seen, hidden], "Both Person"))
    _, books = gs.c("AddressBook/get", {"accountId": gs.a}, user="bob")
    assert [b["id"] for b in books["list"]] == [seen]
    assert books["list"][0]["myRights"] == rights("mayRead")
    assert books["list"][0]["shareWith"] is None
    _, got = gs.c("ContactCard/get", {"accountId": gs.a, "ids": [k1, k2, k3]}, user="bob")
    assert {c["id"] for c in got["list"]} == {k1, k3} and got["notFound"] == [k2]
    assert [c for c in got["list"] if c["id"] == k3][0]["addressBookIds"] == {seen: True}
    _, q = gs.c("ContactCard/query", {"accountId": gs.a, "filter": {"text": "Person"}},
                user="bob")
    assert set(q["ids"]) == {k1, k3}
    _, res = gs.c("ContactCard/set", {"accountId": gs.a, "destroy": [k1]}, user="bob")
    assert res["type"] == "accountReadOnly"  # nothing shared with bob is writable
    share(gs, seen, None)


def test_write_rfc9610_s2(gs):
    w = book(gs, "w", {gs.own("erin"): rights("mayRead", "mayWrite")})
    r = book(gs, "r", {gs.own("erin"): rights("mayRead")})
    k = cid(card(gs, [w], "Written By Erin", user="erin"))
    res = card(gs, [r], "Not Here", user="erin")
    assert res["notCreated"]["k"]["type"] == "forbidden"
    kr = cid(card(gs, [r], "Alice Only"))
    _, res = gs.c("ContactCard/set", {"accountId": gs.a, "update": {
        kr: {"name": {"full": "x"}}, k: {"name": {"full": "Renamed"}}}, "destroy": []},
        user="erin")
    assert res["notUpdated"][kr]["type"] == "forbidden" and k in res["updated"]
    # neither mayShare nor mayDelete
    res = share(gs, w, {gs.own("erin"): rights("mayRead", "mayWrite"),
                        gs.own("frank"): rights("mayRead")}, user="erin")
    assert res["notUpdated"][w]["type"] == "forbidden"
    _, res = gs.c("AddressBook/set", {"accountId": gs.a, "destroy": [w]}, user="erin")
    assert res["notDestroyed"][w]["type"] == "forbidden"
    share(gs, w, None)
    share(gs, r, None)


def test_share_and_delete_rights_rfc9610_s2_3(gs):
    b = book(gs, "adm", {gs.own("erin"): rights("mayRead", "mayShare", "mayDelete")})
    res = share(gs, b, {gs.own("erin"): rights("mayRead", "mayShare", "mayDelete"),
                        gs.own("frank"): rights("mayRead")}, user="erin")
    assert b in (res["updated"] or {}), res
    _, fb = gs.c("AddressBook/get", {"accountId": gs.a}, user="frank")
    assert b in [x["id"] for x in fb["list"]]
    res = share(gs, b, {gs.own("erin"): rights("mayRead", "mayShare", "mayDelete"),
                        gs.own("frank"): rights("mayRead", "mayWrite")}, user="erin")
    assert res["notUpdated"][b]["type"] == "forbidden"  # erin has no mayWrite to give
    _, res = gs.c("AddressBook/set", {"accountId": gs.a, "destroy": [b]}, user="erin")
    assert res["destroyed"] == [b], res


def test_group_and_outsider_rfc9670_s4(gs):
    b = book(gs, "crew book", {gs.crew: rights("mayRead")})
    k = cid(card(gs, [b], "Crew Member"))
    _, got = gs.c("ContactCard/get", {"accountId": gs.a, "ids": [k]}, user="dan")
    assert [c["id"] for c in got["list"]] == [k]
    _, res = gs.c("ContactCard/get", {"accountId": gs.a, "ids": [k]}, user="frank")
    assert res["type"] == "accountNotFound"
    share(gs, b, None)


def test_card_changes_never_reveal_what_the_sharee_could_not_see_rfc8620_s5_2(gs):
    """RFC 8620 §5.2 with RFC 9610 §2 and RFC 9670 §4: a sharee's ContactCard/changes
    reports as destroyed a card that left their address books (moved out, destroyed)
    after their state, and nothing of a card in a book they cannot read, whatever
    happens to it."""
    bob = gs.own("bob")
    mine = book(gs, "private-ch")
    shared = book(gs, "shared-ch", {bob: rights("mayRead")})
    hidden = cid(card(gs, [mine], "Never Seen"))
    gone = cid(card(gs, [mine], "Never Seen Either"))
    moved = cid(card(gs, [shared], "Moves Away"))
    dropped = cid(card(gs, [shared], "Destroyed Later"))
    _, st = gs.c("ContactCard/get", {"accountId": gs.a, "ids": []}, user="bob")
    s0 = st["state"]

    def changes(since):
        _, res = gs.c("ContactCard/changes", {"accountId": gs.a, "sinceState": since},
                      user="bob")
        return res

    _, res = gs.c("ContactCard/set", {"accountId": gs.a, "update": {
        hidden: {"name": {"full": "Still Private"}},
        moved: {"addressBookIds": {mine: True}}}, "destroy": [gone, dropped]})
    assert sorted(res["destroyed"]) == sorted([gone, dropped]), res
    res = changes(s0)
    assert sorted(res["destroyed"]) == sorted([moved, dropped]), res
    assert res["created"] == [] and res["updated"] == [], res
    s1 = res["newState"]
    gs.c("ContactCard/set", {"accountId": gs.a, "update": {moved: {
        "name": {"full": "Elsewhere Now"}}}})
    assert changes(s1)["destroyed"] == []
    assert moved in changes(s0)["destroyed"]
    share(gs, shared, None)


def test_read_only_sharee_subscribes_rfc9610_s2_rfc9670_s4(gs):
    """RFC 9670 §4 isSubscribed ("the user wishes to subscribe to see this data") is the
    user's own: erin, who may only read alice's one address book shared with her, changes
    it though the account is read-only for her; nothing shared."""
    erin = gs.own("erin")
    b = book(gs, "read only book", {erin: rights("mayRead")})
    _, res = gs.c("AddressBook/set", {"accountId": gs.a, "update": {b: {"isSubscribed": False}}},
                  user="erin")
    assert b in (res.get("updated") or {}), res
    _, got = gs.c("AddressBook/get", {"accountId": gs.a, "ids": [b]}, user="erin")
    assert got["list"][0]["isSubscribed"] is False
    _, got = gs.c("AddressBook/get", {"accountId": gs.a, "ids": [b]})
    assert got["list"][0]["isSubscribed"] is True  # alice's own
    kind, res = gs.c("AddressBook/set", {"accountId": gs.a, "update": {b: {"name": "x"}}},
                     user="erin")
    assert kind == "error" and res["type"] == "accountReadOnly", res
    share(gs, b, None)


def test_card_copy_and_query_changes_see_only_what_the_sharee_reads_rfc8620_s5_4_s5_6(gs):
    """RFC 8620 §5.4 (/copy) and §5.6 (/queryChanges) with RFC 9610 §2 and RFC 9670 §4
    (issue 14: every AddressBookRights right on every method): a sharee copies into their
    own account only cards they may read (one they cannot is notFound), the copy keeps
    only the books of their target; their queryChanges never names a card they cannot
    read."""
    bob = gs.own("bob")
    seen = book(gs, "copy seen", {bob: rights("mayRead")})
    hidden = book(gs, "copy hidden")
    k1 = cid(card(gs, [seen], "Copyable Person"))
    k2 = cid(card(gs, [hidden], "Uncopyable Person"))
    _, mine = gs.c("AddressBook/get", {"accountId": bob}, user="bob")
    target = mine["list"][0]["id"]
    _, res = gs.c("ContactCard/copy", {"fromAccountId": gs.a, "accountId": bob, "create": {
        "x": {"id": k2, "addressBookIds": {target: True}},
        "y": {"id": k1, "addressBookIds": {target: True}}}}, user="bob")
    assert res["notCreated"]["x"]["type"] == "notFound", res
    _, got = gs.c("ContactCard/get", {"accountId": bob, "ids": [res["created"]["y"]["id"]]},
                  user="bob")
    assert got["list"][0]["name"]["full"] == "Copyable Person"
    assert got["list"][0]["addressBookIds"] == {target: True}
    # queryChanges: a card added to the hidden book only, and one moved out of sight
    args = {"accountId": gs.a, "filter": {"text": "Person"}}
    _, q = gs.c("ContactCard/query", args, user="bob")
    assert k1 in q["ids"] and k2 not in q["ids"]
    k3 = cid(card(gs, [hidden], "Later Hidden Person"))
    _, res = gs.c("ContactCard/set", {"accountId": gs.a, "update": {
        k1: {"addressBookIds": {hidden: True}}}})
    assert k1 in (res.get("updated") or {}), res
    _, qc = gs.c("ContactCard/queryChanges", dict(args, sinceQueryState=q["queryState"]),
                 user="bob")
    assert all(a["id"] not in (k2, k3) for a in qc["added"]) and k3 not in qc["removed"]
    assert k1 in qc["removed"], qc
    share(gs, seen, None)
