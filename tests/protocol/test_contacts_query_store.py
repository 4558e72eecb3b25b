"""Issue 21: ContactCard/query's text conditions (RFC 9610 §3.3.1) are answered by the
store's substring search (store.h "substring search"), and the query index is built
from the facets the store keeps beside the texts, not from the cards. The results are
those of the matching RFC 9610 describes and jmapd did in memory: a term matches
anywhere in a value (inside a word too), case-insensitively (i;unicode-casemap), terms
of one or two characters too; the same with and without a sort (the store alone
answers an unsorted text query); after a restart; and for cards stored before the
search rows existed (the backfill at start)."""
import os
import sqlite3

import pytest

import conftest
from conftest import Server, run_cli
from test_contacts_util import account, card_set, cs, new_book, ok, person, unique

assert cs

CARDS = {
    "wal": {**person("Walter", "Nussbaum"), "emails": {"e": {"address": "w.nuss@example.com"}},
            "notes": {"n": {"note": "Grows a walnut tree"}}, "created": "2020-01-01T00:00:00Z"},
    "chl": {**person("Chloé", "Ängström"), "phones": {"p": {"number": "+49 30 1234567"}},
            "titles": {"t": {"name": "Walnut Inspector"}}, "created": "2021-01-01T00:00:00Z"},
    "bob": {**person("Bob", "Al"), "organizations": {"o": {"name": "Globex", "units": [
        {"name": "Nutrition"}]}}, "keywords": {"vip": True}, "created": "2022-01-01T00:00:00Z"},
}

# (filter, cards it matches): RFC 9610 §3.3.1 String conditions as jmapd matches them
CASES = [
    ({"text": "alnu"}, ["chl", "wal"]),            # inside a word, in a note or a title
    ({"text": "WALNUT"}, ["chl", "wal"]),          # case-insensitive
    ({"note": "walnut"}, ["wal"]),                 # one field only
    ({"text": "nut"}, ["bob", "chl", "wal"]),      # an organization unit counts for text
    ({"organization": "nut"}, []),                 # ... not for organization
    ({"name": "al"}, ["bob", "wal"]),              # two characters: no trigram
    ({"name/surname": "al"}, ["bob"]),
    ({"email": "s@e"}, ["wal"]),
    ({"phone": "0 12"}, ["chl"]),                  # two short tokens
    ({"name": "ängst"}, ["chl"]),                  # case folded beyond ASCII
    ({"name": "CHLOÉ"}, ["chl"]),
    ({"text": "vip"}, ["bob"]),                    # keywords
    ({"text": "walnut grows"}, ["wal"]),           # every token
    ({"text": "\"walnut tree\""}, ["wal"]),        # a phrase
    ({"text": "\"tree walnut\""}, []),
    ({"text": "w x"}, ["wal"]),                    # "x" of example.com
    ({"text": "q z"}, []),
    ({"email": ""}, ["wal"]),                      # an empty search: a value there
    ({"email": "w_n"}, []),                        # _ and % are characters, not wildcards
    ({"text": "w%s"}, []),
    ({"email": "w.n"}, ["wal"]),
    ({"operator": "OR", "conditions": [{"name": "bob"}, {"note": "tree"}]}, ["bob", "wal"]),
    ({"operator": "NOT", "conditions": [{"text": "walnut"}]}, ["bob"]),
]


def make_cards(s):
    acct = account(s)
    book = new_book(s, acct)
    out = card_set(s, acct, create={k: {"addressBookIds": {book: True}, **v}
                                    for k, v in CARDS.items()})
    assert out["notCreated"] is None, out
    return acct, {out["created"][k]["id"]: k for k in CARDS}


def names(ids, result):
    return sorted(ids[i] for i in result if i in ids)


def check_cases(s, acct, ids):
    for filt, want in CASES:
        plain = ok(s, "ContactCard/query", {"accountId": acct, "filter": filt})["ids"]
        assert names(ids, plain) == want, filt
        # no sort: the server's order, stable between calls (RFC 8620 §5.5)
        assert ok(s, "ContactCard/query", {"accountId": acct, "filter": filt})["ids"] == plain
        # with a sort the in-memory index filters (its text conditions from the store)
        by = ok(s, "ContactCard/query", {"accountId": acct, "filter": filt,
                                         "sort": [{"property": "created"}]})["ids"]
        assert names(ids, by) == want, filt
        assert [ids[i] for i in by if i in ids] == [k for k in ("wal", "chl", "bob") if k in want]


def test_text_conditions_from_the_store(cs):
    acct, ids = make_cards(cs)
    check_cases(cs, acct, ids)
    # an update changes what matches; a destroyed card matches nothing
    wal = next(i for i, k in ids.items() if k == "wal")
    out = card_set(cs, acct, update={wal: {"notes": {"n": {"note": "Grows pears"}}}})
    assert out["notUpdated"] is None, out
    assert names(ids, ok(cs, "ContactCard/query", {"accountId": acct,
                                                   "filter": {"note": "walnut"}})["ids"]) == []
    card_set(cs, acct, destroy=[wal])
    assert names(ids, ok(cs, "ContactCard/query", {"accountId": acct,
                                                   "filter": {"name": "al"}})["ids"]) == ["bob"]


def sorted_ids(s, acct):
    return ok(s, "ContactCard/query", {"accountId": acct, "sort": [
        {"property": "name/surname"}, {"property": "name/given"}]})["ids"]


def test_same_results_after_a_restart(cs):
    acct, ids = make_cards(cs)
    before = sorted_ids(cs, acct)
    cs.stop()
    cs.start()
    check_cases(cs, acct, ids)  # the first query after the start: the store alone
    assert sorted_ids(cs, acct) == before


@pytest.mark.sqlite_only
def test_cards_of_an_older_database_are_backfilled(cs):
    """Cards stored before the search rows existed (as after the schema step that
    made the table) get theirs when the server starts."""
    acct, ids = make_cards(cs)
    before = sorted_ids(cs, acct)
    cs.stop()
    db = sqlite3.connect(os.path.join(cs.data, "jmapd.db"))
    db.execute("INSERT INTO object_grams(object_grams) VALUES('delete-all')")
    db.execute("DELETE FROM object_grams_src")
    db.execute("DELETE FROM object_grams_done")  # the step that made it leaves it empty
    db.commit()
    db.close()
    cs.start()
    check_cases(cs, acct, ids)
    assert sorted_ids(cs, acct) == before
    assert "indexed for search" in cs.read_log()


def drop_row(db, card_id):
    """A card's search row gone (its trigrams first: external content)."""
    cols = ", ".join(f"g{i}" for i in range(12))
    db.execute(f"INSERT INTO object_grams(object_grams, rowid, {cols}) SELECT 'delete', n, "
               f"{cols} FROM object_grams_src WHERE id=?", (card_id,))
    db.execute("DELETE FROM object_grams_src WHERE id=?", (card_id,))


@pytest.mark.sqlite_only
def test_backfill_check_is_remembered(cs):
    """Issue 21: the check for cards without search rows runs once per account, not at
    every start (it read every card: 0.25 s of CPU at 100,000): a start marks the
    account done, a later start trusts the mark, and only a database without it (as
    one older than the mark) is checked again."""
    acct, ids = make_cards(cs)
    wal = next(i for i, k in ids.items() if k == "wal")
    cs.stop()
    cs.start()  # the first start with cards: checked, then marked
    cs.stop()
    db = sqlite3.connect(os.path.join(cs.data, "jmapd.db"))
    assert (acct, "ContactCard") in db.execute(
        "SELECT account_id, type FROM object_grams_done").fetchall()
    drop_row(db, wal)
    db.commit()
    cs.start()  # marked: not checked, so the row stays missing
    query = {"accountId": acct, "filter": {"note": "walnut"}}
    assert names(ids, ok(cs, "ContactCard/query", query)["ids"]) == []
    cs.stop()
    db.execute("DELETE FROM object_grams_done")
    db.commit()
    cs.start()  # no mark: checked again, the row put back, the mark written
    assert names(ids, ok(cs, "ContactCard/query", query)["ids"]) == ["wal"]
    cs.stop()
    assert (acct, "ContactCard") in db.execute(
        "SELECT account_id, type FROM object_grams_done").fetchall()
    db.close()
    cs.start()


@pytest.mark.sqlite_only
def test_import_leaves_the_backfill_mark(cs):
    """Issue 21: `jmapd import` of a .vcf first makes the account's search rows complete
    (as a server's start does: a card without its row gets it) and then leaves the
    account's mark, which each card it writes keeps true: the next start does not read
    every card to check (0.8 G instructions at 100,000 cards)."""
    acct, ids = make_cards(cs)
    wal = next(i for i, k in ids.items() if k == "wal")
    db = sqlite3.connect(os.path.join(cs.data, "jmapd.db"))
    drop_row(db, wal)
    db.execute("DELETE FROM object_grams_done WHERE account_id=?", (acct,))
    db.commit()
    tag = unique("importtag")
    path = os.path.join(cs.tmp.name, tag + ".vcf")
    with open(path, "w", newline="") as f:
        f.write(f"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:{tag}\r\nFN:Imp Orted\r\n"
                f"NOTE:{tag}\r\nEND:VCARD\r\n")
    r = run_cli(cs.data, "import", "--user", "alice", path)
    assert r.returncode == 0, r.stderr
    assert (acct, "ContactCard") in db.execute(
        "SELECT account_id, type FROM object_grams_done").fetchall()
    db.close()
    query = {"accountId": acct, "filter": {"note": "walnut"}}
    assert names(ids, ok(cs, "ContactCard/query", query)["ids"]) == ["wal"]
    assert len(ok(cs, "ContactCard/query", {"accountId": acct, "filter": {"note": tag}})["ids"]) == 1


@pytest.mark.sqlite_only
def test_uid_check_reads_the_unique_key_of_older_cards(cs):
    """Issue 21: the uid check of RFC 9610 §3 asks the store's unique-key index, not
    an index of every card in memory (which an import brought up to date card by
    card). Cards written before there was that key (as before the schema step that
    made it) get it from a later, idempotent step: another card with such a card's
    uid is still refused, the card itself may keep it."""
    acct = account(cs)
    book = new_book(cs, acct)
    uid = "urn:uuid:" + unique("older-")
    out = card_set(cs, acct, create={"k": {"addressBookIds": {book: True}, "uid": uid,
                                           **person("Old", "Card")}})
    cid = out["created"]["k"]["id"]
    cs.stop()
    db = sqlite3.connect(os.path.join(cs.data, "jmapd.db"))
    db.execute("UPDATE objects SET ukey=NULL WHERE id=?", (cid,))
    db.execute("PRAGMA user_version=20")  # the steps after 20 run again
    db.commit()
    cs.start()
    assert db.execute("SELECT ukey FROM objects WHERE id=?", (cid,)).fetchone() == (uid,)
    db.close()
    out = card_set(cs, acct, create={"dup": {"addressBookIds": {book: True}, "uid": uid,
                                             **person("New", "Card")}})
    assert "dup" in (out["notCreated"] or {}), out
    assert out["notCreated"]["dup"]["type"] in ("alreadyExists", "invalidProperties")
    out = card_set(cs, acct, update={cid: {"name": person("Still", "Old")["name"]}})
    assert out["notUpdated"] is None and cid in out["updated"], out


def casemap(s):
    """i;unicode-casemap (RFC 5051) as the server keys it: case folded, NFKD."""
    import unicodedata
    return unicodedata.normalize("NFKD", s.casefold()).encode()


def test_sorts_match_the_comparators(cs):
    """RFC 9610 §3.3.2: every sort of name components and dates, ascending and
    descending, one or two comparators, cards without the component first (last
    when descending), ties by id: the order of the sort keys the index compares in
    one piece (issue 21) is the order of the comparators one by one."""
    import random
    rnd = random.Random(3)
    acct = account(cs)
    book = new_book(cs, acct)
    words = ["Ab", "abc", "ABD", "Äb", "b", "Zed", "zed", "é", "e", "Ab c"]
    made = {}
    for i in range(120):  # more than the merge sort's runs of 8, merged four times
        comps = []
        for kind in ("given", "surname"):
            if rnd.random() < 0.8:
                comps.append({"kind": kind, "value": rnd.choice(words)})
        name = {"components": comps} if comps else {"full": "No components"}
        made[f"k{i}"] = {"addressBookIds": {book: True}, "name": name,
                         "created": f"20{rnd.randrange(10, 13)}-01-0{rnd.randrange(1, 4)}T00:00:00Z"}
    out = card_set(cs, acct, create=made)
    assert out["notCreated"] is None, out
    cards = {out["created"][k]["id"]: v for k, v in made.items()}

    def comp(card, kind):
        for c in card["name"].get("components", []):
            if c["kind"] == kind:
                return c["value"]
        return None

    def model(sort):
        ids = sorted(cards)  # ties by id
        for c in reversed(sort):
            prop = c["property"]
            if prop == "created":
                key = lambda i: cards[i]["created"]  # noqa: E731
            else:
                kind = prop.split("/")[1]
                octet = c.get("collation") == "i;octet"
                key = lambda i, kind=kind, octet=octet: (  # noqa: E731
                    comp(cards[i], kind) is not None,
                    (comp(cards[i], kind) or "").encode() if octet
                    else casemap(comp(cards[i], kind) or ""))
            ids = sorted(ids, key=key, reverse=c.get("isAscending") is False)
        return ids

    sorts = [[{"property": "name/surname"}],
             [{"property": "name/surname", "isAscending": False}],
             [{"property": "name/surname"}, {"property": "name/given", "isAscending": False}],
             [{"property": "created", "isAscending": False}, {"property": "name/given"}],
             [{"property": "name/given", "collation": "i;octet"}]]
    def query(sort, filt=None):
        return ok(cs, "ContactCard/query", {"accountId": acct, "sort": sort,
                                            "filter": filt or {"inAddressBook": book}})["ids"]

    for sort in sorts:
        assert query(sort) == model(sort), sort
    # the kept order follows changes (issue 21: a card moves to its place): the same
    # sort asked again after renames, new cards and destroyed ones, with and without
    # a filter
    for round_ in range(4):
        sort = sorts[round_ % len(sorts)]
        assert query(sort) == model(sort)
        unfiltered = ok(cs, "ContactCard/query", {"accountId": acct, "sort": sort})["ids"]
        update, create, destroy = {}, {}, []
        for cid in rnd.sample(sorted(cards), 6):
            comps = [{"kind": "given", "value": rnd.choice(words)},
                     {"kind": "surname", "value": rnd.choice(words)}]
            cards[cid] = dict(cards[cid], name={"components": comps})
            update[cid] = {"name": cards[cid]["name"]}
        destroy = rnd.sample(sorted(set(cards) - set(update)), 2)
        for i in range(3):
            create[f"n{round_}{i}"] = {"addressBookIds": {book: True},
                                       "name": {"components": [
                                           {"kind": "surname", "value": rnd.choice(words)}]},
                                       "created": "2011-01-02T00:00:00Z"}
        out = card_set(cs, acct, update=update, destroy=destroy, create=create)
        assert not out["notUpdated"] and not out["notDestroyed"] and not out["notCreated"], out
        for cid in destroy:
            del cards[cid]
        for k, v in create.items():
            cards[out["created"][k]["id"]] = v
        assert query(sort) == model(sort), (round_, sort)
        now = ok(cs, "ContactCard/query", {"accountId": acct, "sort": sort})["ids"]
        assert [i for i in now if i in cards] == model(sort)
        assert len(now) == len(unfiltered) + 1  # three new, two destroyed


def test_sorted_pages_from_the_index(cs):
    """Issue 21: an unfiltered sorted /query takes its page from the order the index
    keeps (not from a list of every id); its window is RFC 8620 §5.5's, the same as
    the general path gives for a filter that every card matches: position (negative
    from the end, clamped), limit, calculateTotal, a position past the end; and
    /queryChanges after it still answers (§5.6)."""
    acct = account(cs)
    book = new_book(cs, acct)
    made = {f"p{i}": {"addressBookIds": {book: True}, **person(f"G{i % 7}", f"S{i % 5}")}
            for i in range(25)}
    out = card_set(cs, acct, create=made)
    assert out["notCreated"] is None, out
    sort = [{"property": "name/surname", "isAscending": False}, {"property": "name/given"}]
    every = {"operator": "NOT", "conditions": [{"uid": "no such uid"}]}  # the general path

    def both(**window):
        args = {"accountId": acct, "sort": sort, **window}
        page = ok(cs, "ContactCard/query", args)
        general = ok(cs, "ContactCard/query", {**args, "filter": every})
        for r in (page, general):
            r.pop("queryState")
        return page, general

    total = len(ok(cs, "ContactCard/query", {"accountId": acct, "filter": every})["ids"])
    for window in [{}, {"limit": 10}, {"position": 5, "limit": 7, "calculateTotal": True},
                   {"position": -3}, {"position": -1000, "limit": 2}, {"position": total - 2},
                   {"position": total + 5, "calculateTotal": True}, {"limit": 0},
                   {"position": 3, "limit": 100000}]:
        page, general = both(**window)
        assert page == general, window
    page, _ = both(position=4, limit=3, calculateTotal=True)
    assert page["total"] == total and page["position"] == 4 and len(page["ids"]) == 3
    # /queryChanges from the page's state after a write
    q = ok(cs, "ContactCard/query", {"accountId": acct, "sort": sort, "limit": 5})
    first = q["ids"][0]
    out = card_set(cs, acct, destroy=[first])
    assert out["notDestroyed"] is None, out
    ch = ok(cs, "ContactCard/queryChanges", {"accountId": acct, "sort": sort,
                                             "sinceQueryState": q["queryState"]})
    assert first in ch["removed"]
    page, general = both(limit=5)
    assert page == general and first not in page["ids"]


def test_text_pages_stop_at_the_page_rfc8620_s5_5(cs):
    """Issue 21: an unsorted query of text conditions reads the store's hits in its
    order and, without calculateTotal, stops after the page. Its windows are RFC 8620
    §5.5's over one stable list (the whole result, which calculateTotal or a position
    from the end reads): pages put together give it; the cards are those the general
    path (a condition the store does not answer) finds; /queryChanges after writes that
    move a card in the store's order (an update) replays to the new list (§5.6)."""
    acct = account(cs)
    book = new_book(cs, acct)
    tag = unique("pagetag")
    made = {f"c{i}": {"addressBookIds": {book: True}, **person(f"G{i % 7}", f"S{i % 5}"),
                      "notes": {"n": {"note": f"{tag} {i}" if i % 4 else "other"}}}
            for i in range(41)}
    out = card_set(cs, acct, create=made)
    assert out["notCreated"] is None, out
    filt = {"text": tag}
    base = {"accountId": acct, "filter": filt}
    whole = ok(cs, "ContactCard/query", {**base, "calculateTotal": True})
    ids, total = whole["ids"], whole["total"]
    assert total == len(ids) == 30 and len(set(ids)) == 30
    every = {"operator": "AND", "conditions": [filt, {"kind": "individual"}]}  # the index's
    assert sorted(ok(cs, "ContactCard/query", {"accountId": acct, "filter": every})["ids"]) == \
        sorted(ids)
    assert ok(cs, "ContactCard/query", base)["ids"] == ids  # stable between calls
    pages = []
    for p in range(0, total + 7, 7):
        r = ok(cs, "ContactCard/query", {**base, "position": p, "limit": 7})
        assert r["position"] == p and "total" not in r
        pages += r["ids"]
    assert pages == ids
    for window in [{"limit": 0}, {"position": -3}, {"position": -1000, "limit": 2},
                   {"position": total - 2, "limit": 5}, {"position": total + 5},
                   {"position": 3, "limit": 10, "calculateTotal": True},
                   {"position": 29, "limit": 1}, {"position": 30, "limit": 1}]:
        r = ok(cs, "ContactCard/query", {**base, **window})
        p = window.get("position", 0)
        p = max(0, total + p) if p < 0 else p
        assert r["position"] == p, window
        assert r["ids"] == ids[p:p + window.get("limit", total)], window
        assert r.get("total") == (total if window.get("calculateTotal") else None), window
    # writes: an update (which may move the card in the store's order), a new card, a
    # card that stops matching, a destroyed one
    state = ok(cs, "ContactCard/query", {**base, "limit": 5})["queryState"]
    mid, gone, unmatched = ids[10], ids[3], ids[20]
    out = card_set(cs, acct, create={"n": {"addressBookIds": {book: True},
                                           "notes": {"n": {"note": tag + " new"}}}},
                   update={mid: {"notes/n/note": tag + " updated"},
                           unmatched: {"notes/n/note": "no longer"}},
                   destroy=[gone])
    assert not out["notCreated"] and not out["notUpdated"] and not out["notDestroyed"], out
    now = ok(cs, "ContactCard/query", {**base, "calculateTotal": True})
    assert now["total"] == 29 and out["created"]["n"]["id"] in now["ids"]
    ch = ok(cs, "ContactCard/queryChanges", {**base, "sinceQueryState": state})
    replay = [i for i in ids if i not in ch["removed"]]
    for add in sorted(ch["added"], key=lambda a: a["index"]):
        replay.insert(add["index"], add["id"])
    assert replay == now["ids"]


def test_text_result_within_the_page_keeps_its_snapshot(cs):
    """Issue 21: a text query whose hits end within its page is known whole, so its
    /queryChanges is exact (RFC 8620 §5.6): a write to a card that never matched is
    not reported as a removal, as the change log alone would."""
    acct = account(cs)
    book = new_book(cs, acct)
    tag = unique("fewtag")
    made = {f"c{i}": {"addressBookIds": {book: True}, **person(f"G{i}", "S"),
                      "notes": {"n": {"note": tag if i < 3 else "none"}}} for i in range(5)}
    out = card_set(cs, acct, create=made)
    assert out["notCreated"] is None, out
    other = out["created"]["c4"]["id"]
    base = {"accountId": acct, "filter": {"text": tag}}
    q = ok(cs, "ContactCard/query", {**base, "limit": 50})
    assert len(q["ids"]) == 3
    card_set(cs, acct, update={other: {"notes/n/note": "still none"}})
    ch = ok(cs, "ContactCard/queryChanges", {**base, "sinceQueryState": q["queryState"]})
    assert ch["removed"] == [] and ch["added"] == []


@pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")
def test_cards_migrated_to_postgresql_are_backfilled(monkeypatch):
    """`jmapd migrate` copies the cards, not their search rows: the PostgreSQL server
    makes them at its start, and searches as the SQLite one did (issue 15 §6)."""
    monkeypatch.setenv("JMAPD_STORE", "sqlite")
    s = Server()
    try:
        acct, ids = make_cards(s)
        before = sorted_ids(s, acct)
        s.stop()
        url = conftest.PG_CLUSTER.url(conftest.PG_CLUSTER.schema_for(s.data + "-pg"))
        r = run_cli(s.data, "migrate", "--to", url)
        assert r.returncode == 0, r.stderr
        monkeypatch.setenv("JMAPD_STORE", url)
        s.start()
        check_cases(s, acct, ids)
        assert sorted_ids(s, acct) == before
        assert "indexed for search" in s.read_log()
    finally:
        s.close()


@pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")
def test_trigram_indexes_with_pg_trgm_in_another_schema():
    """Issue 21: pg_trgm installed by another jmapd in another schema of the database
    (not on this one's search path) still gives this one its trigram indexes (the
    operator class named in the extension's schema); without them every card search
    scanned the account's rows (40 ms of PostgreSQL's CPU per query at 100,000)."""
    import pgharness
    cluster = conftest.PG_CLUSTER
    cluster.psql(pgharness.DB, "CREATE SCHEMA IF NOT EXISTS trgm_elsewhere; "
                 "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA trgm_elsewhere")
    s = Server()
    try:
        schema = cluster.schema_for(s.data)
        where = cluster.psql(pgharness.DB, "SELECT n.nspname FROM pg_extension e JOIN "
                             "pg_namespace n ON n.oid = e.extnamespace WHERE extname = 'pg_trgm'")
        assert schema not in where and "public" not in where  # elsewhere
        out = cluster.psql(pgharness.DB, "SELECT indexname FROM pg_indexes WHERE schemaname = "
                           f"'{schema}' AND tablename = 'object_grams'")
        assert "object_grams_all" in out and "object_grams_trgm" in out, out
        acct, ids = make_cards(s)
        check_cases(s, acct, ids)
    finally:
        s.close()



def test_text_totals_counted_by_the_store_rfc8620_s5_5(cs):
    """Issue 21: an unsorted text query with calculateTotal reads its hits up to the
    page and has the store count the rest (store_grams_count_hits), no longer reading
    every hit: the total (RFC 8620 §5.5: all results of the filter) is the number of
    ids the whole query gives, for every kind of condition the store answers (terms of
    three characters or more, shorter ones, empty ones, phrases, one field or any),
    whatever the page."""
    acct, ids = make_cards(cs)
    for filt, _ in CASES:
        whole = ok(cs, "ContactCard/query", {"accountId": acct, "filter": filt})["ids"]
        for window in [{"limit": 0}, {"limit": 1}, {"position": 1, "limit": 1},
                       {"position": 5}]:
            r = ok(cs, "ContactCard/query", {"accountId": acct, "filter": filt,
                                             "calculateTotal": True, **window})
            assert r["total"] == len(whole), (filt, window)
            p = window.get("position", 0)
            assert r["ids"] == whole[p:p + window.get("limit", len(whole))], (filt, window)
