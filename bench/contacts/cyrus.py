"""Side-by-side part of bench_contacts.sh: the cards of the same 10,000-card vCard file loaded
into the Cyrus 3.6 peer (../shared/peers/cyrus), then the same text searches through Cyrus's
JMAP Contact/query (its pre-RFC 9610 contacts API, the only one 3.6 has). The cards go in
through Contact/set, 100 a call, with the generator's fields mapped to Cyrus's Contact
properties: CardDAV PUT takes about 70 ms a card on Cyrus, 12 minutes for the file.

usage: cyrus.py CARDS.vcf QUERIES TERM...   (prints one line per figure)
Cyrus matches a term as one substring of one field, jmapd as words anywhere in the card
(RFC 9610 §3.3.1), so the hit counts are printed for both and can differ for some terms;
the timing compares one request's round trip over a keep-alive connection on each side."""
import json
import os
import random
import statistics
import sys
import time

import requests

env_path = os.environ.get("CYRUS_PEER_ENV", "/var/lib/cyrus-peer/peer.env")
if not os.path.exists(env_path):
    print("cyrus: peer not running (../shared/peers/cyrus/setup.sh): no ratios")
    sys.exit(0)
peer = dict(line.strip().split("=", 1) for line in open(env_path) if "=" in line)
http = requests.Session()
http.auth = (peer["CYRUS_PEER_USER"], peer["CYRUS_PEER_PASS"])
using = ["urn:ietf:params:jmap:core", "https://cyrusimap.org/ns/jmap/contacts"]

path, queries, terms = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
cards = [c + "END:VCARD\r\n" for c in open(path, encoding="utf-8", newline="").read().split("END:VCARD\r\n")
         if c.strip()]


def call(name, args):
    t = time.perf_counter()
    r = http.post(peer["CYRUS_PEER_API"], json={"using": using,
                                                "methodCalls": [[name, args, "0"]]})
    dt = (time.perf_counter() - t) * 1000
    r.raise_for_status()
    out = r.json()["methodResponses"][0]
    assert out[0] == name, out
    return out[1], dt


# Start from an empty address book, so that reruns measure the same thing.
while True:
    old, _ = call("Contact/query", {"accountId": peer["CYRUS_PEER_USER"], "limit": 500})
    if not old["ids"]:
        break
    call("Contact/set", {"accountId": peer["CYRUS_PEER_USER"], "destroy": old["ids"]})

def contact(card):
    """The generator's vCard (bench_contacts.sh) as a Cyrus Contact object."""
    p = {}
    for line in card.split("\r\n"):
        name, _, value = line.partition(":")
        p[name.split(";")[0]] = value
    last, first = p["N"].split(";")[:2]
    adr = p["ADR"].split(";")  # pobox;ext;street;locality;region;code;country
    street, city, code = adr[2], adr[3], adr[5]
    return {"uid": p["UID"], "firstName": first, "lastName": last, "company": p["ORG"],
            "emails": [{"type": "work", "value": p["EMAIL"]}],
            "phones": [{"type": "mobile", "value": p["TEL"]}],
            "addresses": [{"type": "home", "street": street, "locality": city, "postcode": code,
                           "region": "", "country": ""}],
            "notes": p["NOTE"]}


t0 = time.perf_counter()
for i in range(0, len(cards), 100):
    out, _ = call("Contact/set", {"accountId": peer["CYRUS_PEER_USER"],
                                  "create": {str(j): contact(c) for j, c in
                                             enumerate(cards[i:i + 100], i)}})
    assert not out.get("notCreated"), out["notCreated"]
load = time.perf_counter() - t0
total, _ = call("Contact/query", {"accountId": peer["CYRUS_PEER_USER"], "calculateTotal": True,
                                  "limit": 1})
assert total["total"] == len(cards), total
print(f"cyrus_load_s {load:.2f}")

rnd = random.Random(1)  # the same sequence of terms as the jmapd run (its first queries)
lat, hits = [], {}
for _ in range(queries):
    term = rnd.choice(terms)
    out, dt = call("Contact/query", {"accountId": peer["CYRUS_PEER_USER"], "filter": {"text": term},
                                     "limit": 50, "calculateTotal": True})
    lat.append(dt)
    hits[term] = out["total"]
print(f"cyrus_p50_ms {statistics.median(lat):.3f}")
print("cyrus_hits " + json.dumps(hits, ensure_ascii=False))
