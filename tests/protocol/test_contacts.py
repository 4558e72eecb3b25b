"""RFC 9610 JMAP Contacts: the capability (§1.4.1), AddressBook /get /changes /set
(§2), ContactCard /get /changes /set /copy (§3) with their arguments and errors."""
import re

from conftest import CAL, CORE
from test_contacts_util import (CONTACTS, PNG, USING, account, book_set, call, card_set, cs,
                                get_card, new_book, new_card, ok, person, unique)

assert cs  # the module-scoped server fixture


# ---- §1.4.1 the capability --------------------------------------------------------------

def test_capability(cs):
    s = cs.session()
    assert s["capabilities"][CONTACTS] == {}
    acct = s["primaryAccounts"][CONTACTS]
    value = s["accounts"][acct]["accountCapabilities"][CONTACTS]
    n = value["maxAddressBooksPerCard"]
    assert n is None or (isinstance(n, int) and n >= 1)
    assert value["mayCreateAddressBook"] is True
    # carol may only read alice's account: she may not create address books there
    carol = cs.session("carol")
    assert carol["accounts"][acct]["accountCapabilities"][CONTACTS]["mayCreateAddressBook"] is False


def test_methods_need_the_capability(cs):
    acct = account(cs)
    name, out = cs.call("AddressBook/get", {"accountId": acct}, using=[CORE, CAL])
    assert name == "error" and out["type"] == "unknownMethod"
    name, out = cs.call("ContactCard/query", {"accountId": acct}, using=[CORE, CAL])
    assert name == "error" and out["type"] == "unknownMethod"


# ---- §2 AddressBook ---------------------------------------------------------------------

def test_default_address_book(cs):
    acct = account(cs)
    out = ok(cs, "AddressBook/get", {"accountId": acct, "ids": None})
    defaults = [b for b in out["list"] if b["isDefault"]]
    assert len(defaults) == 1
    b = defaults[0]
    assert b["name"] and isinstance(b["id"], str)
    assert b["description"] is None and b["sortOrder"] == 0
    assert b["isSubscribed"] is True and b["shareWith"] is None
    assert b["myRights"] == {"mayRead": True, "mayWrite": True, "mayShare": True,
                             "mayDelete": True}
    assert isinstance(out["state"], str) and out["notFound"] == []
    # every user gets their own
    bob = ok(cs, "AddressBook/get", {"accountId": account(cs, "bob")}, user="bob")
    assert [x["isDefault"] for x in bob["list"]] == [True]


def test_address_book_get_properties_and_not_found(cs):
    acct = account(cs)
    bid = new_book(cs, acct, "Props")
    out = ok(cs, "AddressBook/get", {"accountId": acct, "ids": [bid, "bnope"],
                                     "properties": ["name"]})
    assert out["list"] == [{"id": bid, "name": "Props"}]
    assert out["notFound"] == ["bnope"]
    name, out = call(cs, "AddressBook/get", {"accountId": acct, "properties": ["nope"]})
    assert name == "error" and out["type"] == "invalidArguments"


def test_address_book_create_defaults(cs):
    acct = account(cs)
    out = book_set(cs, acct, create={"n": {"name": "Work"}})
    created = out["created"]["n"]
    assert created["isDefault"] is False
    assert created["sortOrder"] == 0 and created["description"] is None
    assert created["isSubscribed"] is True and created["shareWith"] is None
    assert created["myRights"]["mayWrite"] is True
    got = ok(cs, "AddressBook/get", {"accountId": acct, "ids": [created["id"]]})["list"][0]
    assert got["name"] == "Work" and got["isDefault"] is False


def test_address_book_invalid_properties(cs):
    acct = account(cs)
    cases = {
        "empty": ({"name": ""}, "name"),
        "long": ({"name": "x" * 256}, "name"),
        "noname": ({}, "name"),
        "neg": ({"name": "a", "sortOrder": -1}, "sortOrder"),
        "big": ({"name": "a", "sortOrder": 2 ** 31}, "sortOrder"),
        "desc": ({"name": "a", "description": 5}, "description"),
        "sub": ({"name": "a", "isSubscribed": "yes"}, "isSubscribed"),
        "default": ({"name": "a", "isDefault": True}, "isDefault"),
        "rights": ({"name": "a", "myRights": {}}, "myRights"),
        "id": ({"name": "a", "id": "bx"}, "id"),
        "unknown": ({"name": "a", "colour": "red"}, "colour"),
    }
    before = ok(cs, "AddressBook/get", {"accountId": acct})
    out = book_set(cs, acct, create={k: v for k, (v, _) in cases.items()})
    assert out["created"] is None
    for k, (_, prop) in cases.items():
        err = out["notCreated"][k]
        assert err["type"] == "invalidProperties", k
        assert prop in err["properties"], (k, err)
    after = ok(cs, "AddressBook/get", {"accountId": acct})
    assert after["state"] == before["state"] and len(after["list"]) == len(before["list"])
    # a 255-octet name is fine (the limit is on octets, not characters)
    out = book_set(cs, acct, create={"ok": {"name": "é" * 127 + "x"}})
    assert out["notCreated"] is None


def test_address_book_update(cs):
    acct = account(cs)
    bid = new_book(cs, acct)
    out = book_set(cs, acct, update={bid: {"name": "Renamed", "sortOrder": 5,
                                           "description": "d", "isSubscribed": False}})
    assert bid in out["updated"]
    got = ok(cs, "AddressBook/get", {"accountId": acct, "ids": [bid]})["list"][0]
    assert (got["name"], got["sortOrder"], got["description"], got["isSubscribed"]) == \
        ("Renamed", 5, "d", False)
    out = book_set(cs, acct, update={bid: {"isDefault": True}})
    assert out["notUpdated"][bid]["type"] == "invalidProperties"
    assert out["notUpdated"][bid]["properties"] == ["isDefault"]
    out = book_set(cs, acct, update={bid: {"name": ""}, "bnone": {"name": "x"}})
    assert out["notUpdated"][bid]["properties"] == ["name"]
    assert out["notUpdated"]["bnone"]["type"] == "notFound"
    # §2: no Principals here, so no share can be granted
    out = book_set(cs, acct, update={bid: {"shareWith": {"someone": {"mayRead": True}}}})
    assert out["notUpdated"][bid]["type"] in ("invalidProperties", "forbidden")


def test_on_success_set_is_default(cs):
    acct = account(cs)

    def default_id():
        lst = ok(cs, "AddressBook/get", {"accountId": acct})["list"]
        d = [b["id"] for b in lst if b["isDefault"]]
        assert len(d) == 1  # §2: MUST NOT be true for more than one
        return d[0]

    old = default_id()
    other = new_book(cs, acct)
    # §4.2 example: only onSuccessSetIsDefault; both changes reported as updated
    out = book_set(cs, acct, onSuccessSetIsDefault=other)
    assert out["updated"] == {other: {"isDefault": True}, old: {"isDefault": False}}
    assert default_id() == other
    # a creation reference; the server value shows in created
    out = book_set(cs, acct, create={"nb": {"name": "New default"}}, onSuccessSetIsDefault="#nb")
    nb = out["created"]["nb"]["id"]
    assert out["created"]["nb"]["isDefault"] is True
    assert out["updated"][other] == {"isDefault": False}
    assert default_id() == nb
    # an unknown id is ignored without error
    out = book_set(cs, acct, onSuccessSetIsDefault="bnotthere")
    assert out["updated"] is None and default_id() == nb
    # not applied when anything failed
    out = book_set(cs, acct, create={"bad": {"name": ""}}, onSuccessSetIsDefault=old)
    assert out["notCreated"]["bad"]["type"] == "invalidProperties"
    assert default_id() == nb
    book_set(cs, acct, onSuccessSetIsDefault=old)
    assert default_id() == old


def test_destroy_address_book_with_contents(cs):
    acct = account(cs)
    b1, b2 = new_book(cs, acct), new_book(cs, acct)
    only = new_card(cs, acct, b1, **person("Only", "One"))
    both = card_set(cs, acct, create={"x": {"addressBookIds": {b1: True, b2: True}}})
    both = both["created"]["x"]["id"]
    card_state = ok(cs, "ContactCard/get", {"accountId": acct, "ids": []})["state"]
    out = book_set(cs, acct, destroy=[b1])
    assert out["notDestroyed"][b1]["type"] == "addressBookHasContents"
    assert out["destroyed"] is None
    out = book_set(cs, acct, destroy=[b1], onDestroyRemoveContents=False)
    assert out["notDestroyed"][b1]["type"] == "addressBookHasContents"
    out = book_set(cs, acct, destroy=[b1], onDestroyRemoveContents=True)
    assert out["destroyed"] == [b1]
    # §2.3: a card in no other book is destroyed, the others lose the book
    assert get_card(cs, acct, only) is None
    assert get_card(cs, acct, both)["addressBookIds"] == {b2: True}
    ch = ok(cs, "ContactCard/changes", {"accountId": acct, "sinceState": card_state})
    assert only in ch["destroyed"] and both in ch["updated"]
    # an empty book goes without the argument
    b3 = new_book(cs, acct)
    assert book_set(cs, acct, destroy=[b3])["destroyed"] == [b3]
    assert book_set(cs, acct, destroy=[b3])["notDestroyed"][b3]["type"] == "notFound"


def test_address_book_changes(cs):
    acct = account(cs)
    s0 = ok(cs, "AddressBook/get", {"accountId": acct, "ids": []})["state"]
    b1, b2 = new_book(cs, acct), new_book(cs, acct)
    s1 = ok(cs, "AddressBook/get", {"accountId": acct, "ids": []})["state"]
    book_set(cs, acct, update={b1: {"name": "changed"}}, destroy=[b2])
    out = ok(cs, "AddressBook/changes", {"accountId": acct, "sinceState": s0})
    assert out["oldState"] == s0 and out["hasMoreChanges"] is False
    assert out["created"] == [b1] and out["destroyed"] == [] and out["updated"] == []
    out = ok(cs, "AddressBook/changes", {"accountId": acct, "sinceState": s1})
    assert out["updated"] == [b1] and out["destroyed"] == [b2] and out["created"] == []
    out = ok(cs, "AddressBook/changes", {"accountId": acct, "sinceState": s0, "maxChanges": 1})
    assert out["hasMoreChanges"] is True and len(out["created"] + out["updated"]) == 1
    name, out = call(cs, "AddressBook/changes", {"accountId": acct, "sinceState": "bogus"})
    assert name == "error" and out["type"] == "cannotCalculateChanges"


def test_address_book_if_in_state(cs):
    acct = account(cs)
    name, out = call(cs, "AddressBook/set", {"accountId": acct, "ifInState": "999999",
                                             "create": {"a": {"name": "x"}}})
    assert name == "error" and out["type"] == "stateMismatch"


def test_address_book_rights_of_sharees(cs):
    acct = account(cs)
    bid = new_book(cs, acct)
    carol = ok(cs, "AddressBook/get", {"accountId": acct, "ids": [bid]}, user="carol")
    assert carol["list"][0]["myRights"] == {"mayRead": True, "mayWrite": False,
                                            "mayShare": False, "mayDelete": False}
    name, out = call(cs, "AddressBook/set", {"accountId": acct, "create": {"a": {"name": "x"}}},
                     user="carol")
    assert name == "error" and out["type"] == "accountReadOnly"
    bob = ok(cs, "AddressBook/get", {"accountId": acct, "ids": [bid]}, user="bob")
    assert bob["list"][0]["myRights"]["mayWrite"] is True
    assert bob["list"][0]["myRights"]["mayDelete"] is False
    out = book_set(cs, acct, user="bob", destroy=[bid])
    assert out["notDestroyed"][bid]["type"] == "forbidden"
    out = book_set(cs, acct, user="bob", update={bid: {"shareWith": {"p": {"mayRead": True}}}})
    assert out["notUpdated"][bid]["type"] == "forbidden"


# ---- §3 ContactCard /set ------------------------------------------------------------------

def test_card_create_and_get(cs):
    acct = account(cs)
    book = new_book(cs, acct)
    card = person("Joe", "Bloggs", emails={"0": {"contexts": {"private": True},
                                                 "address": "joe.bloggs@example.com"}})
    out = card_set(cs, acct, create={"k": {"addressBookIds": {book: True}, **card}})
    created = out["created"]["k"]
    cid = created["id"]
    # server-set and generated properties come back in created
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", created["uid"])
    assert created["@type"] == "Card" and created["version"] in ("1.0", "2.0")
    assert "created" in created and "updated" in created
    got = get_card(cs, acct, cid)
    assert got["id"] == cid and got["addressBookIds"] == {book: True}
    assert got["name"] == card["name"] and got["emails"] == card["emails"]
    assert got["uid"] == created["uid"]
    out = ok(cs, "ContactCard/get", {"accountId": acct, "ids": [cid, "knope"],
                                     "properties": ["uid", "addressBookIds"]})
    assert out["list"] == [{"id": cid, "uid": got["uid"], "addressBookIds": {book: True}}]
    assert out["notFound"] == ["knope"]
    # a client-given uid and JSContact 1.0 Card as RFC 9553 writes it
    uid = "urn:uuid:" + unique("f81d4fae-7dec-11d0-a765-")
    out = card_set(cs, acct, create={"k": {"addressBookIds": {book: True}, "@type": "Card",
                                           "version": "1.0", "uid": uid, "kind": "individual",
                                           "created": "2020-01-02T03:04:05Z"}})
    assert "uid" not in out["created"]["k"] and "created" not in out["created"]["k"]
    got = get_card(cs, acct, out["created"]["k"]["id"])
    assert got["uid"] == uid and got["created"] == "2020-01-02T03:04:05Z"


def test_rfc9982_card_set_version_2_0(cs):
    """Issue 12 §4.7: RFC 9982 §2 (new data is JSContact "2.0", uid optional) together
    with RFC 9610 §3 (one card per uid; members refer to uids): a Card without version
    is stored as "2.0"; a 2.0 Card without uid is accepted (never refused), and the
    server gives it a uid, reported in created; a 1.0 Card keeps its version."""
    acct = account(cs)
    book = new_book(cs, acct)
    out = card_set(cs, acct, create={
        "a": {"addressBookIds": {book: True}, "name": {"full": "No Version"}},
        "b": {"addressBookIds": {book: True}, "@type": "Card", "version": "2.0",
              "name": {"full": "No Uid"}}})
    assert set(out["created"]) == {"a", "b"}, out
    assert out["created"]["a"]["version"] == "2.0"
    assert "version" not in out["created"]["b"]
    for k in ("a", "b"):
        assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", out["created"][k]["uid"])
        got = get_card(cs, acct, out["created"][k]["id"])
        assert got["version"] == "2.0" and got["uid"] == out["created"][k]["uid"]
    uid = "urn:uuid:" + unique("f81d4fae-7dec-11d0-a765-")
    out = card_set(cs, acct, create={"c": {"addressBookIds": {book: True}, "@type": "Card",
                                           "version": "1.0", "uid": uid}})
    assert get_card(cs, acct, out["created"]["c"]["id"])["version"] == "1.0"


def test_card_address_book_ids(cs):
    acct = account(cs)
    book = new_book(cs, acct)
    maxn = cs.session()["accounts"][acct]["accountCapabilities"][CONTACTS]["maxAddressBooksPerCard"]
    out = card_set(cs, acct, create={
        "none": {"kind": "individual"},
        "empty": {"addressBookIds": {}},
        "false": {"addressBookIds": {book: False}},
        "unknown": {"addressBookIds": {"bnothere": True}},
        "type": {"addressBookIds": [book]},
    })
    assert out["created"] is None
    for k in ("none", "empty", "false", "type"):
        assert out["notCreated"][k]["type"] == "invalidProperties", k
        assert out["notCreated"][k]["properties"][0].startswith("addressBookIds"), k
    assert out["notCreated"]["unknown"]["properties"] == ["addressBookIds/bnothere"]
    if maxn is not None:
        ids = {new_book(cs, acct): True for _ in range(maxn + 1)}
        out = card_set(cs, acct, create={"many": {"addressBookIds": ids}})
        assert out["notCreated"]["many"]["type"] == "invalidProperties"
    # a book created in the same request, by creation reference
    out = ok(cs, "AddressBook/set", {"accountId": acct, "create": {"nb": {"name": "same req"}}})
    resp = cs.api([["AddressBook/set", {"accountId": acct, "create": {"nb": {"name": "r"}}}, "0"],
                   ["ContactCard/set", {"accountId": acct, "create": {
                       "k": {"addressBookIds": {"#nb": True}}}}, "1"]], using=USING)
    nb = resp["methodResponses"][0][1]["created"]["nb"]["id"]
    k = resp["methodResponses"][1][1]["created"]["k"]["id"]
    assert get_card(cs, acct, k)["addressBookIds"] == {nb: True}
    # moving: a card must keep at least one book (§3)
    out = card_set(cs, acct, update={k: {"addressBookIds": {}}})
    assert out["notUpdated"][k]["type"] == "invalidProperties"
    out = card_set(cs, acct, update={k: {f"addressBookIds/{book}": True,
                                         f"addressBookIds/{nb}": None}})
    assert k in out["updated"]
    assert get_card(cs, acct, k)["addressBookIds"] == {book: True}


def test_card_jscontact_validation_paths(cs):
    acct = account(cs)
    book = new_book(cs, acct)
    ab = {"addressBookIds": {book: True}}
    cases = {
        "kind": ({"kind": 5}, "kind"),
        "email": ({"emails": {"e1": {"address": 5}}}, "emails/e1/address"),
        "emailmissing": ({"emails": {"e1": {"label": "x"}}}, "emails/e1/address"),
        "comp": ({"name": {"components": [{"kind": "nope", "value": "x"}]}},
                 "name/components/0/kind"),
        "phone": ({"phones": {"p": {"number": "1", "features": {"mobile": False}}}},
                  "phones/p/features/mobile"),
        "type": ({"@type": "Event"}, "@type"),
        "version": ({"version": "0.9"}, "version"),
        "members": ({"members": {"urn:uuid:x": True}}, "members"),
        "updated": ({"updated": "yesterday"}, "updated"),
        "id": ({"id": "kmine"}, "id"),
        "uid": ({"uid": 7}, "uid"),
    }
    before = ok(cs, "ContactCard/get", {"accountId": acct, "ids": []})["state"]
    out = card_set(cs, acct, create={k: {**ab, **v} for k, (v, _) in cases.items()})
    assert out["created"] is None
    for k, (_, path) in cases.items():
        err = out["notCreated"][k]
        assert err["type"] == "invalidProperties", (k, err)
        assert path in err["properties"], (k, err)
    assert ok(cs, "ContactCard/get", {"accountId": acct, "ids": []})["state"] == before
    # vendor-specific properties are part of the Card (RFC 9553 §1.8)
    out = card_set(cs, acct, create={"v": {**ab, "example.com:foo": {"bar": 1}}})
    cid = out["created"]["v"]["id"]
    assert get_card(cs, acct, cid)["example.com:foo"] == {"bar": 1}
    # a bad patch path
    out = card_set(cs, acct, update={cid: {"emails/e1/address": "a@b"}})
    assert out["notUpdated"][cid]["type"] == "invalidPatch"
    out = card_set(cs, acct, update={cid: {"emails": {"e1": {"address": 5}}}})
    assert out["notUpdated"][cid]["properties"] == ["emails/e1/address"]


def test_card_uid_unique(cs):
    acct = account(cs)
    book = new_book(cs, acct)
    uid = "urn:uuid:" + unique("dup-")
    first = new_card(cs, acct, book, uid=uid)
    out = card_set(cs, acct, create={"again": {"addressBookIds": {book: True}, "uid": uid}})
    err = out["notCreated"]["again"]
    assert err["type"] == "invalidProperties" and err["properties"] == ["uid"]
    # two in one request
    uid2 = "urn:uuid:" + unique("dup-")
    out = card_set(cs, acct, create={"a": {"addressBookIds": {book: True}, "uid": uid2},
                                     "b": {"addressBookIds": {book: True}, "uid": uid2}})
    assert len(out["created"]) == 1 and len(out["notCreated"]) == 1
    # changing a uid into one in use
    other = new_card(cs, acct, book)
    out = card_set(cs, acct, update={other: {"uid": uid}})
    assert out["notUpdated"][other]["type"] == "invalidProperties"
    assert out["notUpdated"][other]["properties"] == ["uid"]
    # a card keeps its own uid on update; a destroyed card frees it
    assert other in card_set(cs, acct, update={other: {"kind": "org"}})["updated"]
    card_set(cs, acct, destroy=[first])
    assert card_set(cs, acct, update={other: {"uid": uid}})["updated"] is not None
    # another account may hold the same uid
    bob = account(cs, "bob")
    bbook = ok(cs, "AddressBook/get", {"accountId": bob}, user="bob")["list"][0]["id"]
    out = card_set(cs, bob, user="bob", create={"x": {"addressBookIds": {bbook: True}, "uid": uid}})
    assert out["notCreated"] is None


def test_card_update_created_updated(cs):
    acct = account(cs)
    book = new_book(cs, acct)
    out = card_set(cs, acct, create={"c": {"addressBookIds": {book: True},
                                           "updated": "2001-01-01T00:00:00Z",
                                           **person("Ann", "Lee")}})
    cid = out["created"]["c"]["id"]
    created = out["created"]["c"]["created"]
    assert get_card(cs, acct, cid)["updated"] == "2001-01-01T00:00:00Z"
    # RFC 8620 §5.3: a patch MUST NOT point inside an array
    out = card_set(cs, acct, update={cid: {"name/components/0/value": "Anna"}})
    assert out["notUpdated"][cid]["type"] == "invalidPatch"
    out = card_set(cs, acct, update={cid: {"name/components": [
        {"kind": "given", "value": "Anna"}, {"kind": "surname", "value": "Lee"}]}})
    # the server's new updated is reported (RFC 8620 §5.3)
    assert out["updated"][cid]["updated"] > "2001-01-01T00:00:00Z"
    got = get_card(cs, acct, cid)
    assert got["name"]["components"][0]["value"] == "Anna" and got["created"] == created
    # a client-set updated is kept
    out = card_set(cs, acct, update={cid: {"updated": "2030-01-01T00:00:00Z", "kind": "org"}})
    assert get_card(cs, acct, cid)["updated"] == "2030-01-01T00:00:00Z"
    # id is immutable and server-set
    out = card_set(cs, acct, update={cid: {"id": "kother"}})
    assert out["notUpdated"][cid]["properties"] == ["id"]


def test_card_destroy_and_changes(cs):
    acct = account(cs)
    book = new_book(cs, acct)
    s0 = ok(cs, "ContactCard/get", {"accountId": acct, "ids": []})["state"]
    a, b = new_card(cs, acct, book), new_card(cs, acct, book)
    s1 = ok(cs, "ContactCard/get", {"accountId": acct, "ids": []})["state"]
    out = card_set(cs, acct, update={a: {"kind": "org"}}, destroy=[b, "knope"])
    assert out["destroyed"] == [b] and out["notDestroyed"]["knope"]["type"] == "notFound"
    ch = ok(cs, "ContactCard/changes", {"accountId": acct, "sinceState": s0})
    assert ch["created"] == [a] and ch["destroyed"] == [] and ch["updated"] == []
    ch = ok(cs, "ContactCard/changes", {"accountId": acct, "sinceState": s1})
    assert ch["updated"] == [a] and ch["destroyed"] == [b]
    assert get_card(cs, acct, b) is None
    name, out = call(cs, "ContactCard/changes", {"accountId": acct, "sinceState": "x"})
    assert name == "error" and out["type"] == "cannotCalculateChanges"


def test_card_read_only_sharee(cs):
    acct = account(cs)
    book = new_book(cs, acct)
    cid = new_card(cs, acct, book, **person("Read", "Only"))
    assert get_card(cs, acct, cid, user="carol")["id"] == cid
    name, out = call(cs, "ContactCard/set", {"accountId": acct, "destroy": [cid]}, user="carol")
    assert name == "error" and out["type"] == "accountReadOnly"
    # bob may write
    out = card_set(cs, acct, user="bob", update={cid: {"kind": "org"}})
    assert cid in out["updated"]


def test_group_members_by_uid(cs):
    acct = account(cs)
    book = new_book(cs, acct)
    m1, m2 = "urn:uuid:" + unique("member-a-"), "urn:uuid:" + unique("member-b-")
    new_card(cs, acct, book, uid=m1)
    out = card_set(cs, acct, create={"g": {"addressBookIds": {book: True}, "kind": "group",
                                           "name": {"full": "Friends"},
                                           "members": {m1: True, m2: True}}})
    gid = out["created"]["g"]["id"]
    # §3: a uid that cannot be found is preserved
    assert get_card(cs, acct, gid)["members"] == {m1: True, m2: True}
    ids = ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"hasMember": m2}})["ids"]
    assert ids == [gid]


# ---- §3 media and blobs ---------------------------------------------------------------------

def upload(server, acct, data, ctype):
    r = server.http().post(f"{server.base}/jmap/upload/{acct}/", data=data,
                           headers={"Content-Type": ctype})
    assert r.status_code == 201, r.text
    return r.json()["blobId"]


def download(server, acct, blob, user="alice"):
    tmpl = server.session(user)["downloadUrl"]
    url = (tmpl.replace("{accountId}", acct).replace("{blobId}", blob)
           .replace("{name}", "x").replace("{type}", "application%2Foctet-stream"))
    r = server.http(user).get(url)
    assert r.status_code == 200
    return r.content


def test_media_data_uri_becomes_blob(cs):
    import base64
    acct = account(cs)
    book = new_book(cs, acct)
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    out = card_set(cs, acct, create={"c": {"addressBookIds": {book: True},
                                           "media": {"p": {"kind": "photo", "uri": uri}}}})
    cid = out["created"]["c"]["id"]
    media = out["created"]["c"]["media"]["p"]  # changed by the server: reported
    assert "uri" not in media and media["mediaType"] == "image/png"
    got = get_card(cs, acct, cid)["media"]["p"]
    assert got == {"kind": "photo", "blobId": media["blobId"], "mediaType": "image/png"}
    assert download(cs, acct, media["blobId"]) == PNG
    resp = cs.api([["Blob/lookup", {"accountId": acct, "typeNames": ["ContactCard"],
                                    "ids": [media["blobId"]]}, "0"]], using=USING)
    assert resp["methodResponses"][0][1]["list"][0]["matchedIds"]["ContactCard"] == [cid]
    # a percent-encoded (non-base64) data: URI for a non-photo medium
    out = card_set(cs, acct, update={cid: {"media/s": {"kind": "sound",
                                                       "uri": "data:audio/basic,hi%21"}}})
    s = get_card(cs, acct, cid)["media"]["s"]
    assert "uri" not in s and s["mediaType"] == "audio/basic"
    assert download(cs, acct, s["blobId"]) == b"hi!"
    # an ordinary URI stays a URI
    out = card_set(cs, acct, update={cid: {"media/l": {"kind": "logo",
                                                       "uri": "https://example.com/l.png"}}})
    assert get_card(cs, acct, cid)["media"]["l"]["uri"] == "https://example.com/l.png"


def test_media_blob_id_and_photo_type(cs):
    acct = account(cs)
    book = new_book(cs, acct)
    png = upload(cs, acct, PNG, "image/png")
    text = upload(cs, acct, b"not a picture", "text/plain")
    ab = {"addressBookIds": {book: True}}
    out = card_set(cs, acct, create={
        "ok": {**ab, "media": {"p": {"kind": "photo", "blobId": png, "mediaType": "image/png"}}},
        "notype": {**ab, "media": {"p": {"kind": "photo", "blobId": png}}},
        "text": {**ab, "media": {"p": {"kind": "photo", "blobId": text}}},
        "datatext": {**ab, "media": {"p": {"kind": "photo", "uri": "data:text/plain,hello"}}},
        "missing": {**ab, "media": {"p": {"kind": "photo", "blobId": "G" + "0" * 64}}},
        "baddata": {**ab, "media": {"p": {"kind": "photo", "uri": "data:image/png;base64"}}},
    })
    assert set(out["created"]) == {"ok", "notype"}
    assert out["created"]["notype"]["media"]["p"]["mediaType"] == "image/png"
    # §3.5: a photo MUST be a recognised image type
    assert out["notCreated"]["text"]["properties"] == ["media/p/blobId"]
    assert out["notCreated"]["datatext"]["properties"] == ["media/p/uri"]
    assert out["notCreated"]["missing"]["properties"] == ["media/p/blobId"]
    assert out["notCreated"]["baddata"]["properties"] == ["media/p/uri"]


# ---- §3.6 ContactCard/copy -------------------------------------------------------------------

def test_card_copy(cs):
    import base64
    acct, bob = account(cs), account(cs, "bob")
    book = new_book(cs, acct)
    bbook = ok(cs, "AddressBook/get", {"accountId": bob}, user="bob")["list"][0]["id"]
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    src = new_card(cs, acct, book, **person("Copy", "Me"),
                   media={"p": {"kind": "photo", "uri": uri}})
    orig = get_card(cs, acct, src)
    out = ok(cs, "ContactCard/copy", {"fromAccountId": acct, "accountId": bob, "create": {
        "c": {"id": src, "addressBookIds": {bbook: True}}}}, user="bob")
    assert out["fromAccountId"] == acct and out["accountId"] == bob
    new = out["created"]["c"]["id"]
    got = get_card(cs, bob, new, user="bob")
    assert got["name"] == orig["name"] and got["uid"] == orig["uid"]
    assert got["addressBookIds"] == {bbook: True}
    blob = got["media"]["p"]["blobId"]
    assert download(cs, bob, blob, user="bob") == PNG
    # the blob is now referenced from bob's account too
    resp = cs.api([["Blob/lookup", {"accountId": bob, "typeNames": ["ContactCard"],
                                    "ids": [blob]}, "0"]], using=USING, user="bob")
    assert resp["methodResponses"][0][1]["list"][0]["matchedIds"]["ContactCard"] == [new]
    # the same uid again in the target account: alreadyExists
    out = ok(cs, "ContactCard/copy", {"fromAccountId": acct, "accountId": bob, "create": {
        "c": {"id": src, "addressBookIds": {bbook: True}}}}, user="bob")
    assert out["notCreated"]["c"]["type"] == "alreadyExists"
    assert out["notCreated"]["c"]["existingId"] == new
    # not found, and addressBookIds that do not exist in the target
    out = ok(cs, "ContactCard/copy", {"fromAccountId": acct, "accountId": bob, "create": {
        "n": {"id": "knope", "addressBookIds": {bbook: True}},
        "b": {"id": src, "uid": "urn:uuid:" + unique("c-")}}}, user="bob")
    assert out["notCreated"]["n"]["type"] == "notFound"
    assert out["notCreated"]["b"]["type"] == "invalidProperties"
    # onSuccessDestroyOriginal: the implicit ContactCard/set follows
    resp = cs.api([["ContactCard/copy", {"fromAccountId": acct, "accountId": bob,
                                         "onSuccessDestroyOriginal": True, "create": {
                                             "m": {"id": src, "uid": "urn:uuid:" + unique("m-"),
                                                   "addressBookIds": {bbook: True}}}}, "0"]],
                  using=USING, user="bob")
    names = [r[0] for r in resp["methodResponses"]]
    assert names == ["ContactCard/copy", "ContactCard/set"]
    assert resp["methodResponses"][1][1]["destroyed"] == [src]
    assert get_card(cs, acct, src) is None


def test_not_json_quoting_invalid_utf8(cs):
    """RFC 8620 §3.6.1 notJSON, also when the parse error is next to bytes that are
    not UTF-8 (found by fuzz_request: the problem document must stay JSON)."""
    body = b'{"using":["' + CONTACTS.encode() + b'"],"methodCalls":[["x",{"a":"\\\xde\x9e"}]]}'
    r = cs.post(body)
    assert r.status_code == 400
    problem = r.json()
    assert problem["type"] == "urn:ietf:params:jmap:error:notJSON"
