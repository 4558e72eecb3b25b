"""Issue 21: ContactCard/query keeps the order of the last sort asked for (RFC 9610
§3.3.2) until the address book changes, so paging a sorted query does not sort every
card again. The kept order must follow every change: a rename, a new card, a destroyed
one, another sort, and filters applied to the kept order."""
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
