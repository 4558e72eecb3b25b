"""Issue 21 target 1: ContactCard/queries of one account run side by side on its query
index (src/types/contact_index.c: a read-write lock; a refresh after a write, a new
kept sort order or a uid check take it alone). Concurrent queries of every path —
sorted pages from the kept order with different sorts (each asking for a new kept
order), filters with and without a sort, text conditions from the store and mixed
with the index's — give exactly the results they give one at a time (RFC 9610 §3.3,
RFC 8620 §5.5), also while another client writes cards the queries do not match, so
that the index is brought up to date under them. No timing is asserted."""
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import PASSWORDS
from test_contacts_util import USING, account, card_set, cs, new_book, ok, person, unique

assert cs

GIVEN = ["Anna", "Ben", "Chloé", "David", "Emma", "Felix", "Greta", "Hanne"]
FAMILY = ["Berg", "Bergmann", "Stein", "Annaberg", "Wald", "Hof", "Bach", "Eich"]


def cards_for(book, n, rnd, tag):
    return {f"{tag}{i}": {"addressBookIds": {book: True},
                          **person(rnd.choice(GIVEN), rnd.choice(FAMILY)),
                          "created": f"20{rnd.randrange(10, 20)}-0{rnd.randrange(1, 10)}-01T00:00:00Z"}
            for i in range(n)}


def queries(acct, book):
    """Every path of ContactCard/query: (arguments, whether cards of other books
    change its results)."""
    in_book = {"inAddressBook": book}
    sort_sg = [{"property": "name/surname"}, {"property": "name/given"}]
    return [
        ({"sort": sort_sg, "position": 20, "limit": 50, "calculateTotal": True}, True),
        ({"sort": [{"property": "name/given", "isAscending": False}], "limit": 30}, True),
        ({"sort": [{"property": "created"}, {"property": "name/surname"}], "position": -10}, True),
        ({"filter": in_book, "sort": [{"property": "created", "isAscending": False}]}, False),
        ({"filter": in_book}, False),
        ({"filter": {"operator": "AND", "conditions": [{"name": "berg"}, in_book]},
          "sort": sort_sg}, False),
        ({"filter": {"operator": "AND", "conditions": [{"text": "ann"}, in_book]}}, False),
        ({"filter": {"operator": "OR", "conditions": [{"name/given": "emma"},
                                                      {"name/surname": "eich"}]},
          "sort": [{"property": "name/surname", "isAscending": False}]}, True),
        ({"filter": {"text": "bergmann"}, "limit": 7}, True),
        ({"filter": {"text": "chlo"}, "calculateTotal": True}, True),
    ]


def answer(out):
    return out["ids"], out.get("total"), out["position"]


def run(server, acct, args):
    with requests.Session() as s:
        s.auth = ("alice", PASSWORDS["alice"])
        r = s.post(server.base + "/jmap/api/", json={"using": USING, "methodCalls": [
            ["ContactCard/query", {"accountId": acct, **args}, "q"]]})
        assert r.status_code == 200, r.text
        name, out, _ = r.json()["methodResponses"][0]
        assert name == "ContactCard/query", out
        return answer(out)


def check_side_by_side(server, acct, qs, want, rounds, seed):
    def reader(k):
        rnd = random.Random(seed * 100 + k)
        for _ in range(rounds):
            i = rnd.randrange(len(qs))
            assert run(server, acct, qs[i]) == want[i], qs[i]
    with ThreadPoolExecutor(6) as pool:
        for f in [pool.submit(reader, k) for k in range(6)]:
            f.result()


def test_concurrent_queries_give_the_one_at_a_time_results(cs):
    rnd = random.Random(21)
    acct = account(cs)
    mine, other = new_book(cs, acct, unique("Mine ")), new_book(cs, acct, unique("Other "))
    out = card_set(cs, acct, create={**cards_for(mine, 200, rnd, "m"),
                                     **cards_for(other, 100, rnd, "o")})
    assert out["notCreated"] is None, out
    others = [out["created"][k]["id"] for k in out["created"] if k.startswith("o")]
    qs = queries(acct, mine)
    want = [answer(ok(cs, "ContactCard/query", {"accountId": acct, **q})) for q, _ in qs]
    assert all(w[0] for w in want), want  # every query has results
    # readers alone: every sort asked for in turn, each a new kept order
    check_side_by_side(cs, acct, [q for q, _ in qs], want, 30, 1)
    # while cards of the other book are written: the index is brought up to date (and
    # its kept order moves them) under the readers of the queries they do not change
    stop = threading.Event()

    def writer():
        wrnd, n = random.Random(7), 0
        while not stop.is_set():
            victim = wrnd.choice(others)
            card_set(cs, acct, update={victim: {"name": person(wrnd.choice(GIVEN),
                                                               wrnd.choice(FAMILY))["name"]}},
                     create={"n": cards_for(other, 1, wrnd, "n")["n0"]})
            n += 1
        return n
    with ThreadPoolExecutor(1) as pool:
        w = pool.submit(writer)
        try:
            stable = [i for i, (_, changes) in enumerate(qs) if not changes]
            check_side_by_side(cs, acct, [qs[i][0] for i in stable], [want[i] for i in stable],
                               30, 2)
        finally:
            stop.set()
        assert w.result() > 0
    # and afterwards, one at a time, the same again
    for (q, changes), w in zip(qs, want):
        if not changes:
            assert answer(ok(cs, "ContactCard/query", {"accountId": acct, **q})) == w, q
