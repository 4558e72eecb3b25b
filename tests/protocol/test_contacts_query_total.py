"""Issue 21: the total of a name-sorted, unfiltered ContactCard/query (RFC 8620 §5.5
calculateTotal; RFC 9610 §3.3) over more cards than the small-book snapshot is the
store's count of the account's cards, kept on each write (SQLite: schema step 26's
table), not a walk of every sort key. The count must stay exact across creates,
destroys, moves between address books, cards in two books (counted once), an address
book destroyed with its contents (RFC 9610 §2.3), an import by `jmapd import`, another
account's writes and a restart."""
import os

import pytest

from conftest import run_cli
from test_contacts_util import account, book_set, card_set, cs, new_book, ok, person, unique

assert cs

SORT = [{"property": "name/surname"}, {"property": "name/given"}]  # a sort the store keys


def totals(s, acct):
    """The total of the store's sorted page at its start and from its end, and of the
    general path (a filter matching every card), which counts its own index."""
    first = ok(s, "ContactCard/query", {"accountId": acct, "sort": SORT, "limit": 3,
                                        "calculateTotal": True})
    last = ok(s, "ContactCard/query", {"accountId": acct, "sort": SORT, "position": -2,
                                       "calculateTotal": True})
    every = ok(s, "ContactCard/query", {"accountId": acct, "sort": SORT, "limit": 1,
                                        "calculateTotal": True,
                                        "filter": {"operator": "AND", "conditions": []}})
    assert last["position"] == last["total"] - 2 and len(last["ids"]) == 2, last
    assert last["ids"] == ok(s, "ContactCard/query", {
        "accountId": acct, "sort": SORT, "filter": {"operator": "AND", "conditions": []},
        "position": last["total"] - 2})["ids"]
    return first["total"], last["total"], every["total"]


def check(s, acct, live):
    assert totals(s, acct) == (len(live), len(live), len(live))


def vcards(n):
    return "".join(f"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:{unique('tot-')}\r\n"
                   f"FN:Imp {i}\r\nN:Imported{i:03d};Imp;;;\r\nEND:VCARD\r\n" for i in range(n))


def test_issue21_sorted_total_is_the_stored_count_rfc8620_s5_5(cs):
    acct = account(cs)
    a, b = new_book(cs, acct), new_book(cs, acct)
    live = set()
    # 1,400 cards: past the snapshot of a small book (1,000), and still after book a goes
    for books in [{a: True}, {b: True}, {a: True, b: True}, {b: True}, {a: True, b: True},
                  {b: True}, {b: True}]:
        batch = len(live) // 200
        out = card_set(cs, acct, create={f"c{i}": {"addressBookIds": books,
                                                   **person(f"G{i}", f"S{batch}-{i:03d}")}
                                         for i in range(200)})
        assert out["notCreated"] is None, out
        live |= {v["id"] for v in out["created"].values()}
    check(cs, acct, live)
    ids = sorted(live)
    # destroyed ones, and moves between the books (a card stays one card)
    out = card_set(cs, acct, destroy=ids[:7],
                   update={**{i: {"addressBookIds": {b: True}} for i in ids[7:27]},
                           **{i: {"addressBookIds": {a: True, b: True}} for i in ids[27:32]}})
    assert not out["notDestroyed"] and not out["notUpdated"], out
    live -= set(ids[:7])
    check(cs, acct, live)
    # another account's cards are not this one's
    bob = account(cs, "bob")
    bob_book = new_book(cs, bob, user="bob")
    out = card_set(cs, bob, user="bob", create={f"x{i}": {"addressBookIds": {bob_book: True},
                                                          **person("Bo", f"B{i}")}
                                                for i in range(3)})
    assert out["notCreated"] is None, out
    check(cs, acct, live)
    # an import into the default address book, seen by the running server
    path = os.path.join(cs.tmp.name, unique("total") + ".vcf")
    with open(path, "w", newline="") as f:
        f.write(vcards(12))
    r = run_cli(cs.data, "import", "--user", "alice", path)
    assert r.returncode == 0 and "12 imported" in r.stdout, (r.stdout, r.stderr)
    imported = ok(cs, "ContactCard/query", {"accountId": acct,
                                            "filter": {"name/surname": "Imported"}})["ids"]
    assert len(imported) == 12
    live |= set(imported)
    check(cs, acct, live)
    # RFC 9610 §2.3: a book destroyed with its contents takes the cards in it alone
    only_a = ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"operator": "AND",
                "conditions": [{"inAddressBook": a}, {"operator": "NOT", "conditions": [
                    {"inAddressBook": b}]}]}})["ids"]
    assert only_a
    out = book_set(cs, acct, destroy=[a], onDestroyRemoveContents=True)
    assert out["destroyed"] == [a], out
    live -= set(only_a)
    check(cs, acct, live)
    assert len(live) > 1000  # still past the snapshot: the count answered
    cs.stop()
    cs.start()
    check(cs, acct, live)


@pytest.mark.sqlite_only
def test_issue21_counts_made_again_by_schema_step_26(cs):
    """The counts of an older database (schema step 26 runs again, as on one older than
    it) are made from its rows, whatever the table held: every (account, type)'s live
    objects and side-index rows, and the sorted page's total is the account's cards."""
    import sqlite3
    acct = account(cs)
    book = new_book(cs, acct)
    out = card_set(cs, acct, create={f"o{i}": {"addressBookIds": {book: True},
                                               **person("O", f"Old{i}")} for i in range(5)})
    assert out["notCreated"] is None, out
    n = totals(cs, acct)[2]
    cs.stop()
    db = sqlite3.connect(os.path.join(cs.data, "jmapd.db"))
    recount = ("SELECT account_id, type, sum(live), sum(indexed) FROM (SELECT account_id, type, "
               "count(*) AS live, 0 AS indexed FROM objects WHERE destroyed = 0 GROUP BY 1, 2 "
               "UNION ALL SELECT account_id, type, 0, count(*) FROM object_index GROUP BY 1, 2) "
               "GROUP BY 1, 2 ORDER BY 1, 2")
    kept = ("SELECT account_id, type, live, indexed FROM object_counts WHERE live OR indexed "
            "ORDER BY 1, 2")
    assert db.execute(kept).fetchall() == db.execute(recount).fetchall()  # the writes' work
    db.execute("UPDATE object_counts SET live = live + 5, indexed = 0")
    db.execute("PRAGMA user_version=25")
    db.commit()
    cs.start()
    assert db.execute(kept).fetchall() == db.execute(recount).fetchall()
    db.close()
    assert totals(cs, acct) == (n, n, n)
