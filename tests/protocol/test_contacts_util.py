"""Helpers shared by the JMAP Contacts protocol tests (RFC 9610); no tests here."""
import itertools

import pytest

from conftest import BLOB, CORE, Server

CONTACTS = "urn:ietf:params:jmap:contacts"
USING = [CORE, CONTACTS, BLOB]

# A 1x1 PNG (RFC 9610 §3.5: a photo must be a recognised image type).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082")

_names = itertools.count()


def unique(prefix):
    return f"{prefix}{next(_names)}"


@pytest.fixture(scope="module")
def cs():
    """A server of the module's own, so that queries see only this module's cards."""
    s = Server()
    yield s
    log = s.read_log()
    s.close()
    assert "ERROR: AddressSanitizer" not in log and "runtime error" not in log, log[-4000:]


def account(server, user="alice"):
    return server.session(user)["primaryAccounts"][CONTACTS]


def call(server, name, args, user="alice", using=None):
    out_name, out = server.call(name, args, user=user, using=using or USING)
    return out_name, out


def ok(server, name, args, user="alice"):
    out_name, out = call(server, name, args, user=user)
    assert out_name == name, out
    return out


def book_set(server, acct, user="alice", **kw):
    return ok(server, "AddressBook/set", {"accountId": acct, **kw}, user=user)


def card_set(server, acct, user="alice", **kw):
    return ok(server, "ContactCard/set", {"accountId": acct, **kw}, user=user)


def new_book(server, acct, name=None, user="alice"):
    out = book_set(server, acct, user=user, create={"b": {"name": name or unique("Book ")}})
    assert out["notCreated"] is None, out
    return out["created"]["b"]["id"]


def new_card(server, acct, book, user="alice", **props):
    card = {"addressBookIds": {book: True}, **props}
    out = card_set(server, acct, user=user, create={"c": card})
    assert out["notCreated"] is None, out
    return out["created"]["c"]["id"]


def get_card(server, acct, cid, user="alice"):
    out = ok(server, "ContactCard/get", {"accountId": acct, "ids": [cid]}, user=user)
    return out["list"][0] if out["list"] else None


def query_ids(server, acct, book, filt=None, sort=None, **kw):
    """ContactCard/query limited to one address book (AND with filt)."""
    cond = {"inAddressBook": book}
    f = cond if filt is None else {"operator": "AND", "conditions": [cond, filt]}
    args = {"accountId": acct, "filter": f, **kw}
    if sort is not None:
        args["sort"] = sort
    return ok(server, "ContactCard/query", args)["ids"]


def person(given, surname, **more):
    return {"name": {"components": [{"kind": "given", "value": given},
                                    {"kind": "surname", "value": surname}]}, **more}
