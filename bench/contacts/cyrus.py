"""Cyrus side of bench_contacts.sh: the cards of the same generated vCard file loaded into
the Cyrus 3.6 peer (../shared/peers/cyrus) through its JMAP Contact/set, 100 a call (its
pre-RFC 9610 contacts API, the only one 3.6 has; CardDAV PUT takes about 70 ms a card
there), read back with Contact/get, 100 a call, then the same text searches through
Contact/query.

usage: cyrus.py CARDS.vcf QUERIES OUT.json TERM...
Cyrus matches a term as one substring of one field, jmapd as words anywhere in the card
(RFC 9610 §3.3.1), so the hit counts can differ for some terms; the timings compare one
request's round trip over a keep-alive connection on each side."""
import json
import os
import random
import statistics
import sys
import time

import requests

import cards as cardfile

env_path = os.environ.get("CYRUS_PEER_ENV", "/var/lib/cyrus-peer/peer.env")
if not os.path.exists(env_path):
    print("Cyrus peer not running (../shared/peers/cyrus/setup.sh): no ratios")
    sys.exit(0)
peer = dict(line.strip().split("=", 1) for line in open(env_path) if "=" in line)
http = requests.Session()
http.auth = (peer["CYRUS_PEER_USER"], peer["CYRUS_PEER_PASS"])
using = ["urn:ietf:params:jmap:core", "https://cyrusimap.org/ns/jmap/contacts"]
acct = peer["CYRUS_PEER_USER"]

path, queries, out_path, terms = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
generated = cardfile.read(path)


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
try:
    call("Contact/query", {"accountId": acct, "limit": 1})
except requests.RequestException as e:
    print(f"Cyrus peer not answering ({e.__class__.__name__}): no ratios")
    sys.exit(0)
while True:
    old, _ = call("Contact/query", {"accountId": acct, "limit": 500})
    if not old["ids"]:
        break
    call("Contact/set", {"accountId": acct, "destroy": old["ids"]})

set_lat, ids = [], []
for i in range(0, len(generated), 100):
    out, dt = call("Contact/set", {"accountId": acct, "create": {
        str(j): cardfile.cyrus(c) for j, c in enumerate(generated[i:i + 100], i)}})
    assert not out.get("notCreated"), out["notCreated"]
    set_lat.append(dt)
    ids += [c["id"] for c in out["created"].values()]
get_lat = []
for i in range(0, len(ids), 100):
    out, dt = call("Contact/get", {"accountId": acct, "ids": ids[i:i + 100]})
    assert len(out["list"]) == len(ids[i:i + 100])
    get_lat.append(dt)

rnd = random.Random(1)  # the same sequence of terms as the jmapd run (its first queries)
lat, hits = [], {}
for _ in range(queries):
    term = rnd.choice(terms)
    out, dt = call("Contact/query", {"accountId": acct, "filter": {"text": term},
                                     "limit": 50, "calculateTotal": True})
    lat.append(dt)
    hits[term] = out["total"]
with open(out_path, "w") as f:
    json.dump({"query_p50": statistics.median(lat), "hits": hits,
               "set_p50": statistics.median(set_lat), "get_p50": statistics.median(get_lat)},
              f, ensure_ascii=False)
