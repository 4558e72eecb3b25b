"""Issue 21: ContactCard/query keeps the order of the last sort asked for (RFC 9610
§3.3.2) until the address book changes, so paging a sorted query does not sort every
card again. The kept order must follow every change: a rename, a new card, a destroyed
one, another sort, and filters applied to the kept order. The sorts by name the store
keeps keys of are read from the store's index, in the same order."""
import pytest

from test_contacts_util import account, card_set, cs, new_book, ok, person

assert cs

SORT = [{"property": "name/surname"}, {"property": "name/given"}]


def sorted_query(s, acct, sort=SORT, **kw):
    return ok(s, "ContactCard/query", {"accountId": acct, "sort": sort, **kw})["ids"]


def expected(cards, desc=False):
    """The ids by (surname, given) casemapped, ties by id (RFC 9610 §3.3.2)."""
    key = sorted(cards, key=lambda i: i)
    key = sorted(key, key=lambda i: (cards[i][0].casefold(), cards[i][1].casefold()),
                 reverse=desc)
    return key


def test_kept_order_follows_changes(cs):
    s = cs
    acct = account(s)
    book = new_book(s, acct)
    names = [("Zeta", "Amy"), ("alpha", "Bob"), ("Mid", "Cy"), ("alpha", "Al"), ("Beta", "Di")]
    out = card_set(s, acct, create={f"k{i}": {"addressBookIds": {book: True},
                                               **person(g, f)}
                                    for i, (f, g) in enumerate(names)})
    cards = {out["created"][f"k{i}"]["id"]: names[i] for i in range(len(names))}
    mine = {"inAddressBook": book}
    assert sorted_query(s, acct, filter=mine) == expected(cards)
    assert sorted_query(s, acct, filter=mine, position=1, limit=2) == expected(cards)[1:3]
    # a rename moves the card
    first = expected(cards)[0]
    out = card_set(s, acct, update={first: {"name": person(cards[first][1], "Zz")["name"]}})
    assert out["notUpdated"] is None, out
    cards[first] = ("Zz", cards[first][1])
    assert sorted_query(s, acct, filter=mine) == expected(cards)
    # a new card, a destroyed one
    out = card_set(s, acct, create={"n": {"addressBookIds": {book: True}, **person("Ed", "Aa")}},
                   destroy=[expected(cards)[2]])
    del cards[expected(cards)[2]]
    cards[out["created"]["n"]["id"]] = ("Aa", "Ed")
    assert sorted_query(s, acct, filter=mine) == expected(cards)
    # another sort, then the first again; a text filter over the kept order
    desc = [dict(c, isAscending=False) for c in SORT]
    assert sorted_query(s, acct, sort=desc, filter=mine) == expected(cards, desc=True)
    assert sorted_query(s, acct, filter=mine) == expected(cards)
    alphas = {i: v for i, v in cards.items() if v[0] == "alpha"}
    assert sorted_query(s, acct, filter={"operator": "AND", "conditions": [
        mine, {"name/surname": "alpha"}]}) == expected(alphas)


def all_names(s, acct):
    """Every card of the account: id -> (surname, given)."""
    out = ok(s, "ContactCard/get", {"accountId": acct, "properties": ["name"]})["list"]
    names = {}
    for c in out:
        comps = (c.get("name") or {}).get("components") or []
        given = [x["value"] for x in comps if x.get("kind") == "given"]
        surname = [x["value"] for x in comps if x.get("kind") == "surname"]
        names[c["id"]] = (surname[0] if surname else "", given[0] if given else "")
    return names


def test_unfiltered_kept_ids_follow_changes(cs):
    """Issue 21: a sorted query without a filter pages through the kept order's ids
    (made once after each change, copied per query). Every page, and the whole list,
    must follow a rename, a new card, a destroyed one and another sort (RFC 9610
    §3.3.2; RFC 8620 §5.5 position, limit, calculateTotal)."""
    s = cs
    acct = account(s)
    book = new_book(s, acct)
    names = [("Quill", "Ann"), ("brook", "Ben"), ("Quill", "Abe"), ("Ash", "Cid")]
    out = card_set(s, acct, create={f"u{i}": {"addressBookIds": {book: True}, **person(g, f)}
                                    for i, (f, g) in enumerate(names)})
    made = [out["created"][f"u{i}"]["id"] for i in range(len(names))]

    def check():
        want = expected(all_names(s, acct))
        assert sorted_query(s, acct) == want
        assert sorted_query(s, acct) == want  # the kept ids, a second time
        page = ok(s, "ContactCard/query", {"accountId": acct, "sort": SORT, "position": 1,
                                           "limit": 3, "calculateTotal": True})
        assert page["ids"] == want[1:4] and page["total"] == len(want)
        desc = [dict(c, isAscending=False) for c in SORT]
        assert sorted_query(s, acct, sort=desc) == expected(all_names(s, acct), desc=True)

    check()
    out = card_set(s, acct, update={made[0]: {"name": person("Ann", "Aardvark")["name"]}})
    assert out["notUpdated"] is None, out
    check()
    out = card_set(s, acct, create={"n": {"addressBookIds": {book: True}, **person("Eve", "Moss")}},
                   destroy=[made[1]])
    assert out["notCreated"] is None and out["notDestroyed"] is None, out
    check()


# ---- sort keys in the store (issue 21) ------------------------------------------------------

def casemap(s):
    """RFC 5051 i;unicode-casemap as the server keys it: case folded, NFKD, by octets."""
    import unicodedata
    return unicodedata.normalize("NFKD", s.casefold()).encode()


def components(s, acct):
    """Every card of the account: id -> {kind: first value} of its name components."""
    out = ok(s, "ContactCard/get", {"accountId": acct, "properties": ["name"]})["list"]
    cards = {}
    for c in out:
        first = {}
        for comp in (c.get("name") or {}).get("components") or []:
            first.setdefault(comp.get("kind"), comp.get("value"))
        cards[c["id"]] = first
    return cards


def model(cards, sort):
    """RFC 9610 §3.3.2 with the server's collation (i;unicode-casemap): each comparator
    in turn, a card without the component first (last when descending), ties by id."""
    ids = sorted(cards)
    for c in reversed(sort):
        kind = c["property"].split("/")[1]
        ids = sorted(ids, key=lambda i, kind=kind: (kind in cards[i],
                                                    casemap(cards[i].get(kind, ""))),
                     reverse=c.get("isAscending") is False)
    return ids


STORE_SORTS = [[{"property": "name/surname"}, {"property": "name/given"}],
               [{"property": "name/given"}, {"property": "name/surname"}],
               [{"property": "name/given", "collation": "i;unicode-casemap"},
                {"property": "name/surname", "isAscending": True}]]
WORDS = ["Émile", "emile", "EMILE", "Eve", "éve", "Zoë", "zoe", "ZOË", "Ångström", "anders",
         "Øre", "ore", "ÖZIL", "özil", "Straße", "strasse", "STRASSE", "ab", "Ab", "aB c",
         "İstanbul", "ﬁsh", "fish", "Ǆemal", "ǆemal", "ß"]


def check_store_sorts(s, acct):
    cards = components(s, acct)
    for sort in STORE_SORTS:
        want = model(cards, sort)
        got = ok(s, "ContactCard/query", {"accountId": acct, "sort": sort,
                                          "calculateTotal": True})
        assert got["ids"] == want and got["total"] == len(want), sort
        for window in [{"position": 7, "limit": 11}, {"position": -5}, {"position": -500,
                       "limit": 3}, {"position": len(want) + 3}, {"limit": 0}]:
            got = ok(s, "ContactCard/query", {"accountId": acct, "sort": sort,
                                              "calculateTotal": True, **window})
            p = window.get("position", 0)
            p = max(0, len(want) + p) if p < 0 else p
            assert got["ids"] == want[p:p + window.get("limit", len(want))], (sort, window)
            assert got["total"] == len(want)


def test_name_sorts_from_the_store_keys_rfc9610_s3_3_2(cs):
    """Issue 21: an unfiltered query sorted by surname then given name (or given then
    surname), ascending, reads its page from the sort keys the store keeps per card
    (the first such query after a start no longer sorts every card). The order is
    RFC 9610 §3.3.2's with i;unicode-casemap (RFC 5051: case folded, NFKD, octets):
    diacritics, case, ligatures and ß, a missing component first, ties by id; the
    same before and after a restart and after renames, new and destroyed cards."""
    import random
    rnd = random.Random(21)
    s = cs
    acct = account(s)
    book = new_book(s, acct)
    made = {}
    for i in range(90):
        comps = [{"kind": k, "value": rnd.choice(WORDS)} for k in ("given", "surname")
                 if rnd.random() < 0.85]
        made[f"d{i}"] = {"addressBookIds": {book: True},
                         "name": {"components": comps} if comps else {"full": "Nobody"}}
    out = card_set(s, acct, create=made)
    assert out["notCreated"] is None, out
    ids = [out["created"][k]["id"] for k in made]
    check_store_sorts(s, acct)
    s.stop()
    s.start()
    check_store_sorts(s, acct)  # the first sorted queries after a start
    out = card_set(s, acct, update={i: person(rnd.choice(WORDS), rnd.choice(WORDS))
                                    for i in ids[:10]},
                   destroy=ids[10:15],
                   create={"n": {"addressBookIds": {book: True}, **person("Ölaf", "éMILE")}})
    assert not out["notUpdated"] and not out["notDestroyed"] and not out["notCreated"], out
    check_store_sorts(s, acct)
    # a filtered query with the same sort (the index in memory) agrees, and after it
    # the unfiltered one still does
    every = {"operator": "NOT", "conditions": [{"uid": "no such uid"}]}
    sort = STORE_SORTS[0]
    assert ok(s, "ContactCard/query", {"accountId": acct, "sort": sort, "filter": every})[
        "ids"] == model(components(s, acct), sort)
    check_store_sorts(s, acct)


@pytest.mark.sqlite_only
def test_sort_keys_of_an_older_database_are_backfilled(cs):
    """Issue 21: cards stored before the store kept sort keys (SQLite schema step 23
    runs again, as on a database older than it) get their keys at the next start:
    the sorted pages are the same."""
    import os
    import sqlite3
    acct = account(cs)
    book = new_book(cs, acct)
    out = card_set(cs, acct, create={f"o{i}": {"addressBookIds": {book: True},
                                               **person(w, WORDS[-1 - i])}
                                     for i, w in enumerate(WORDS)})
    assert out["notCreated"] is None, out
    check_store_sorts(cs, acct)
    cs.stop()
    db = sqlite3.connect(os.path.join(cs.data, "jmapd.db"))
    db.execute("DELETE FROM object_grams_keys")
    db.execute("PRAGMA user_version=22")
    db.commit()
    cs.start()
    assert db.execute("SELECT count(*) FROM object_grams_keys WHERE k0 IS NOT NULL AND "
                      "k1 IS NOT NULL").fetchone()[0] == len(components(cs, acct))
    db.close()
    check_store_sorts(cs, acct)


def test_issue21_name_pages_mark_the_rows_they_walk_rfc8620_s5_5(cs):
    """Issue 21: a page of a sort the store keys (surname, given) walks only the rows
    before it that no earlier page walked (the marks of every 256th row are learned as
    pages ask, per state), and its total, asked for, is counted by the store. RFC 8620
    §5.5's windows over an address book of more than 1,000 cards (past the small-book
    snapshot) come out as the model's: pages beyond the marks, behind them, across a
    mark, at and past the end, from the end, with and without calculateTotal, after a
    start and again after a write."""
    import random
    rnd = random.Random(2105)
    acct = account(cs)
    book = new_book(cs, acct)
    # id -> its name components: the module's earlier cards, and those made here (more
    # than a /get of every card may return)
    cards = components(cs, acct)
    mine = []
    for b in range(6):
        made = {f"m{b}_{i}": (rnd.choice(WORDS), rnd.choice(WORDS)) for i in range(220)}
        out = card_set(cs, acct, create={k: {"addressBookIds": {book: True}, **person(*v)}
                                         for k, v in made.items()})
        assert out["notCreated"] is None, out
        cards.update({out["created"][k]["id"]: {"given": g, "surname": f}
                      for k, (g, f) in made.items()})
        mine += [out["created"][k]["id"] for k in made]
    sort = STORE_SORTS[0]

    def check(windows):
        want = model(cards, sort)
        n = len(want)
        for w in windows:
            got = ok(cs, "ContactCard/query", {"accountId": acct, "sort": sort, **w})
            p = w.get("position", 0)
            p = max(0, n + p) if p < 0 else p
            assert got["position"] == p, w
            assert got["ids"] == want[p:p + w.get("limit", n)], w
            assert got.get("total") == (n if w.get("calculateTotal") else None), w

    windows = [{"position": 700, "limit": 30}, {"position": 300, "limit": 20},
               {"position": 1100, "limit": 10, "calculateTotal": True},
               {"position": 250, "limit": 10}, {"position": 1290, "limit": 50},
               {"position": 1320, "limit": 5}, {"position": -7, "calculateTotal": True},
               {"position": 0, "limit": 3, "calculateTotal": True}, {"position": 511, "limit": 3},
               {"position": 1319, "limit": 1}, {"position": 1320, "calculateTotal": True}]
    cs.stop()
    cs.start()
    check(windows)  # the first pages after a start
    ids = sorted(mine)
    out = card_set(cs, acct, destroy=ids[:3], update={i: person("Aaron", "Aal") for i in ids[3:5]},
                   create={"z": {"addressBookIds": {book: True}, **person("Zed", "Zz")}})
    assert not out["notUpdated"] and not out["notDestroyed"] and not out["notCreated"], out
    for i in ids[:3]:
        del cards[i]
    cards.update({i: {"given": "Aaron", "surname": "Aal"} for i in ids[3:5]})
    cards[out["created"]["z"]["id"]] = {"given": "Zed", "surname": "Zz"}
    check([{"position": 1000, "limit": 20}] + windows)
