"""vCard import and address book export (issue 5 item 5): `jmapd import` of .vcf
files (vCard 3.0 and 4.0) into the default address book, `jmapd export
--addressbook` (4.0, or 3.0 with --vcard3) and the authenticated HTTP export URL,
and the round trip between them."""
import base64
import os

import pytest
import requests

from conftest import run_cli
from test_contacts_util import PNG, USING, account, cs, ok, unique

assert cs

PHOTO = base64.b64encode(PNG).decode()


def vcf4(uid, given, family, email, extra=""):
    return (f"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:{uid}\r\nFN:{given} {family}\r\n"
            f"N:{family};{given};;;\r\nEMAIL;TYPE=work:{email}\r\n{extra}END:VCARD\r\n")


def vcf3(given, family, tel):
    return (f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{given} {family}\r\nN:{family};{given};;;\r\n"
            f"TEL;TYPE=CELL:{tel}\r\nEND:VCARD\r\n")


def write(cs, text):
    path = os.path.join(cs.tmp.name, unique("in") + ".vcf")
    with open(path, "w", newline="") as f:
        f.write(text)
    return path


def default_book(cs, user="alice"):
    lst = ok(cs, "AddressBook/get", {"accountId": account(cs, user)}, user=user)["list"]
    return [b["id"] for b in lst if b["isDefault"]][0]


def cards_by_uid(cs, uid, user="alice"):
    acct = account(cs, user)
    ids = ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"uid": uid}},
             user=user)["ids"]
    if not ids:
        return []
    return ok(cs, "ContactCard/get", {"accountId": acct, "ids": ids}, user=user)["list"]


def test_import_cli(cs):
    uid = "urn:uuid:" + unique("imp-")
    photo = f"PHOTO:data:image/png;base64,{PHOTO}\r\n"
    path = write(cs, vcf4(uid, "Ida", "Import", "ida@example.com", photo) +
                 vcf3("Old", "Three", "+1 555 0199"))
    r = run_cli(cs.data, "import", "--user", "alice", path)
    assert r.returncode == 0, r.stderr
    assert "2 imported" in r.stdout
    # the running server sees the new cards, in the default address book
    [card] = cards_by_uid(cs, uid)
    assert card["addressBookIds"] == {default_book(cs): True}
    parts = {c["kind"]: c["value"] for c in card["name"]["components"] if c["value"]}
    assert parts["given"] == "Ida" and parts["surname"] == "Import"
    assert [e["address"] for e in card["emails"].values()] == ["ida@example.com"]
    # §3: the photo's data: URI became a blob
    [media] = card["media"].values()
    assert "uri" not in media and media["mediaType"] == "image/png"
    acct = account(cs)
    resp = cs.api([["Blob/get", {"accountId": acct, "ids": [media["blobId"]],
                                 "properties": ["data:asBase64"]}, "0"]], using=USING)
    assert resp["methodResponses"][0][1]["list"][0]["data:asBase64"] == PHOTO
    # the 3.0 card without UID got one
    out = ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"phone": "555 0199"}})
    [old] = ok(cs, "ContactCard/get", {"accountId": acct, "ids": out["ids"]})["list"]
    assert old["uid"]
    # importing a card with the same uid again updates it in place
    r = run_cli(cs.data, "import", "--user", "alice",
                write(cs, vcf4(uid, "Ida", "Renamed", "ida@example.net")))
    assert r.returncode == 0, r.stderr
    [again] = cards_by_uid(cs, uid)
    assert again["id"] == card["id"]
    assert [e["address"] for e in again["emails"].values()] == ["ida@example.net"]


def test_rfc9982_import_without_uid_twice(cs):
    """Issue 12 §4.7: a vCard without UID converts to a 2.0 Card without uid (RFC 9982
    §3); the store gives it a uid derived from its content (RFC 9610 §3), so importing
    the same file again updates the card instead of adding a second one."""
    tel = "+1 555 86" + unique("").zfill(2)
    path = write(cs, vcf3("No", "Uid", tel))
    acct = account(cs)
    for _ in range(2):
        r = run_cli(cs.data, "import", "--user", "alice", path)
        assert r.returncode == 0, r.stderr
    out = ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"phone": tel}})
    [card] = ok(cs, "ContactCard/get", {"accountId": acct, "ids": out["ids"]})["list"]
    assert card["uid"].startswith("urn:uuid:") and card["version"] == "2.0"


def test_import_errors_change_nothing(cs):
    acct = account(cs)
    state = ok(cs, "ContactCard/get", {"accountId": acct, "ids": []})["state"]
    bad = write(cs, "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\n")  # no END:VCARD
    r = run_cli(cs.data, "import", "--user", "alice", bad)
    assert r.returncode != 0 and r.stderr
    r = run_cli(cs.data, "import", "--user", "nobody", write(cs, vcf3("a", "b", "1")))
    assert r.returncode != 0
    assert ok(cs, "ContactCard/get", {"accountId": acct, "ids": []})["state"] == state


def test_import_error_late_in_the_file(cs):
    """Issue 21: the file is read one vCard at a time (not all of its cards held at
    once); a bad vCard after good ones still stores nothing, and its error names the
    line of the file (here the 7th card's property line without a colon)."""
    acct = account(cs)
    state = ok(cs, "ContactCard/get", {"accountId": acct, "ids": []})["state"]
    good = "".join(vcf4("urn:uuid:" + unique("late-"), "G", f"F{i}", f"g{i}@example.com")
                   for i in range(6))
    assert good.count("\r\n") == 42
    text = good + "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bad\r\nNOCOLON\r\nEND:VCARD\r\n"
    r = run_cli(cs.data, "import", "--user", "alice", write(cs, text))
    assert r.returncode != 0
    assert "line 46" in r.stderr, r.stderr  # 42 lines of good cards, then the 4th
    assert ok(cs, "ContactCard/get", {"accountId": acct, "ids": []})["state"] == state


def test_import_nested_vcard_stays_in_its_card(cs):
    """A vCard 2.1 AGENT holding a vCard of its own: the BEGIN:VCARD inside is not the
    start of the next card (issue 21: the file is read card by card). The parser
    refuses a nested vCard: the import fails at that line of the file, as when the
    file was parsed whole, and stores nothing."""
    uid = "urn:uuid:" + unique("agent-")
    text = (vcf3("First", "One", "+1 555") +
            "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Boss;Bea\r\nFN:Bea Boss\r\n"
            f"UID:{uid}\r\nAGENT:\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nN:Aide;Al\r\n"
            "FN:Al Aide\r\nEND:VCARD\r\nEND:VCARD\r\n" + vcf3("Next", "One", "+1 556"))
    r = run_cli(cs.data, "import", "--user", "alice", write(cs, text))
    assert r.returncode != 0
    assert "line 13: nested BEGIN:VCARD" in r.stderr, r.stderr  # 6 lines, then the 7th
    assert cards_by_uid(cs, uid) == []


def export_http(cs, acct, book, query="", user="alice"):
    return cs.http(user).get(f"{cs.base}/export/addressbook/{acct}/{book}{query}")


def test_export_cli_and_http(cs):
    uid = "urn:uuid:" + unique("exp-")
    book = default_book(cs)
    acct = account(cs)
    photo = f"PHOTO:data:image/png;base64,{PHOTO}\r\n"
    r = run_cli(cs.data, "import", "--user", "alice",
                write(cs, vcf4(uid, "Eve", "Export", "eve@example.com", photo)))
    assert r.returncode == 0, r.stderr
    r = run_cli(cs.data, "export", "--user", "alice", "--addressbook", book)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert text.count("BEGIN:VCARD") == text.count("END:VCARD") >= 1
    assert "VERSION:4.0" in text and f"UID:{uid}" in text and "eve@example.com" in text
    assert "data:image/png;base64," in text.replace("\r\n ", "")  # the blob, inline again
    r3 = run_cli(cs.data, "export", "--user", "alice", "--addressbook", book, "--vcard3")
    assert r3.returncode == 0 and "VERSION:3.0" in r3.stdout and "VERSION:4.0" not in r3.stdout
    r = run_cli(cs.data, "export", "--user", "alice", "--addressbook", "bnothere")
    assert r.returncode != 0
    # HTTP: the same address book, for a user who may read the account
    h = export_http(cs, acct, book)
    assert h.status_code == 200 and h.headers["Content-Type"].startswith("text/vcard")
    assert f"UID:{uid}" in h.text and "VERSION:4.0" in h.text
    assert export_http(cs, acct, book + ".vcf").text == h.text
    h3 = export_http(cs, acct, book, "?vcard3")
    assert h3.status_code == 200 and "VERSION:3.0" in h3.text
    assert export_http(cs, acct, book, user="carol").status_code == 200
    assert export_http(cs, acct, "bnothere").status_code == 404
    assert requests.get(f"{cs.base}/export/addressbook/{acct}/{book}").status_code == 401
    # bob's own account is not alice's to read
    assert export_http(cs, account(cs, "bob"), default_book(cs, "bob")).status_code == 404


def test_round_trip_through_export(cs):
    """Export alice's book over HTTP, import the file for bob: the same cards."""
    alice_book = default_book(cs)
    uid = "urn:uuid:" + unique("rt-")
    acct = account(cs)
    out = ok(cs, "ContactCard/set", {"accountId": acct, "create": {"c": {
        "addressBookIds": {alice_book: True}, "uid": uid, "kind": "individual",
        "name": {"components": [{"kind": "given", "value": "Rita"},
                                {"kind": "surname", "value": "Round"}], "isOrdered": True},
        "emails": {"e1": {"address": "rita@example.com", "contexts": {"work": True}}},
        "phones": {"p1": {"number": "+44 20 7946 0000", "features": {"voice": True}}},
        "notes": {"n1": {"note": "line one\nline two, with; punctuation"}},
        "example.com:custom": "kept"}}})
    assert out["notCreated"] is None, out
    original = cards_by_uid(cs, uid)[0]
    text = export_http(cs, acct, alice_book).text
    path = write(cs, text)
    r = run_cli(cs.data, "import", "--user", "bob", path)
    assert r.returncode == 0, r.stderr
    [copy] = cards_by_uid(cs, uid, user="bob")
    assert copy["addressBookIds"] == {default_book(cs, "bob"): True}
    for prop in ("uid", "kind", "name", "emails", "phones", "notes", "example.com:custom",
                 "created", "updated"):
        assert copy.get(prop) == original.get(prop), prop


def test_issue21_import_of_a_known_uid_updates_that_card_rfc9610_s3(cs):
    """RFC 9610 §3 (one card per uid in an account): an imported vCard whose UID a card
    of the account has (made over JMAP, or earlier in the same file) updates that card,
    keeping its id. Issue 21: the import looks the uid up once, not again in the
    card's check; the result is the same."""
    acct = account(cs)
    uid = "urn:uuid:" + unique("known-")
    made = ok(cs, "ContactCard/set", {"accountId": acct, "create": {"k": {
        "@type": "Card", "version": "1.0", "uid": uid,
        "addressBookIds": {default_book(cs): True}, "name": {"full": "Made Here"}}}})
    kid = made["created"]["k"]["id"]
    other = "urn:uuid:" + unique("twice-")
    path = write(cs, vcf4(uid, "Ann", "Imported", "ann@example.com")
                 + vcf4(other, "Bo", "First", "bo1@example.com")
                 + vcf4(other, "Bo", "Second", "bo2@example.com"))
    r = run_cli(cs.data, "import", "--user", "alice", path)
    assert r.returncode == 0, r.stderr
    [card] = cards_by_uid(cs, uid)
    assert card["id"] == kid and card["name"]["components"][0]["value"] == "Imported"
    [card] = cards_by_uid(cs, other)
    assert card["emails"][next(iter(card["emails"]))]["address"] == "bo2@example.com"


@pytest.mark.sqlite_only
def test_issue21_import_merges_the_text_index_once_rfc9610_s3_3_1(cs):
    """Issue 21: `jmapd import` defers the full-text index's merges to its commit (FTS5
    automerge off while it writes, one merge pass before the commit) and leaves FTS5's
    settings at their defaults; a refused import leaves them as they were. What the
    cards' text conditions (RFC 9610 §3.3.1) find is the same: every imported card."""
    import sqlite3
    acct = account(cs)
    tag = unique("bulk")
    path = write(cs, "".join(vcf4(f"urn:uuid:{tag}-{i}", "Merge", f"{tag}x{i}",
                                   f"m{i}@{tag}.example") for i in range(400)))
    r = run_cli(cs.data, "import", "--user", "alice", path)
    assert r.returncode == 0, r.stderr
    out = ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"text": tag},
                                       "calculateTotal": True})
    assert out["total"] == 400
    bad = write(cs, vcf4(f"urn:uuid:{tag}-bad", "Never", "Stored", "n@example.com")
                + "BEGIN:VCARD\r\nVERSION:4.0\r\nBROKEN\r\n")
    assert run_cli(cs.data, "import", "--user", "alice", bad).returncode != 0
    db = sqlite3.connect(os.path.join(cs.data, "jmapd.db"))
    for t in ("object_grams", "object_fields"):
        conf = dict(db.execute(f"SELECT k, v FROM {t}_config WHERE k <> 'version'"))
        assert conf == {"automerge": 4, "crisismerge": 16, "usermerge": 4}, (t, conf)
        db.execute(f"INSERT INTO {t}({t}) VALUES('integrity-check')")
    db.close()
    assert ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"text": "never"}})[
        "ids"] == []
