"""jmapd side of bench_contacts.sh, against a server that has imported the generated cards.

usage: jmapd.py PORT CARDS.vcf QUERIES IMPORT_SECONDS OUT.json TERM...
Times ContactCard/query text searches over one keep-alive connection (each figure is one
request's round trip, client included), a sorted name search, then ContactCard/set of the
same cards again, 100 a call, into a new address book and ContactCard/get of them, 100 a
call. Prints the figures and writes them to OUT.json for the comparison with Cyrus."""
import base64
import http.client
import json
import random
import statistics
import sys
import time

import cards as cardfile

port, path, queries, import_s, out_path = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                           float(sys.argv[4]), sys.argv[5])
terms = sys.argv[6:]
generated = cardfile.read(path)
conn = http.client.HTTPConnection("127.0.0.1", port)
hdr = {"Authorization": "Basic " + base64.b64encode(b"bench:bench-pw").decode(),
       "Content-Type": "application/json"}
using = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:contacts"]


def call(name, args):
    body = json.dumps({"using": using, "methodCalls": [[name, args, "0"]]})
    t = time.perf_counter()
    conn.request("POST", "/jmap/api/", body, hdr)
    r = conn.getresponse()
    data = r.read()
    dt = (time.perf_counter() - t) * 1000
    assert r.status == 200, data
    out = json.loads(data)["methodResponses"][0]
    assert out[0] == name, out
    return out[1], dt


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


conn.request("GET", "/jmap/session", headers=hdr)
acct = json.loads(conn.getresponse().read())["primaryAccounts"][using[1]]
call("Core/echo", {})  # the credential is verified (argon2) once, before timing
total, first = call("ContactCard/query", {"accountId": acct, "filter": {"text": "warmup"},
                                          "calculateTotal": True})
count, _ = call("ContactCard/query", {"accountId": acct, "calculateTotal": True, "limit": 1})
assert count["total"] == len(generated), count
rnd = random.Random(1)  # bench/contacts/cyrus.py draws the same sequence
lat, sorted_lat, hits, by_term = [], [], [], {}
for i in range(queries):
    term = rnd.choice(terms)
    out, dt = call("ContactCard/query", {"accountId": acct, "filter": {"text": term},
                                         "limit": 50, "calculateTotal": True})
    lat.append(dt)
    hits.append(out["total"])
    by_term[term] = out["total"]
for i in range(queries // 3):
    out, dt = call("ContactCard/query", {"accountId": acct,
                                         "filter": {"name": rnd.choice(terms[:5])},
                                         "sort": [{"property": "name/surname"},
                                                  {"property": "name/given"}], "limit": 50})
    sorted_lat.append(dt)

# The same cards once more through ContactCard/set, then read back with ContactCard/get.
out, _ = call("AddressBook/set", {"accountId": acct, "create": {"b": {"name": "Set bench"}}})
book = out["created"]["b"]["id"]
set_lat, ids = [], []
for i in range(0, len(generated), 100):
    out, dt = call("ContactCard/set", {"accountId": acct, "create": {
        str(j): cardfile.jscontact(c, book) for j, c in enumerate(generated[i:i + 100], i)}})
    assert not out["notCreated"], out["notCreated"]
    set_lat.append(dt)
    ids += [c["id"] for c in out["created"].values()]
get_lat = []
for i in range(0, len(ids), 100):
    out, dt = call("ContactCard/get", {"accountId": acct, "ids": ids[i:i + 100]})
    assert len(out["list"]) == len(ids[i:i + 100])
    get_lat.append(dt)

print(f"cards: {len(generated)}; import: {import_s:.2f} s ({len(generated) / import_s:.0f} cards/s)")
print(f"first query (builds the index): {first:.1f} ms")
print(f"ContactCard/query text search ({queries} queries, {min(hits)}-{max(hits)} hits each):")
print(f"  p50 {pct(lat, 50):.2f} ms   p90 {pct(lat, 90):.2f} ms   p99 {pct(lat, 99):.2f} ms"
      f"   (target p50 <= 5 ms: {'met' if pct(lat, 50) <= 5 else 'MISSED'})")
print(f"name search sorted by surname, given: p50 {pct(sorted_lat, 50):.2f} ms"
      f"   p99 {pct(sorted_lat, 99):.2f} ms")
print(f"ContactCard/set, 100 new cards a call: p50 {pct(set_lat, 50):.2f} ms"
      f" ({100 / pct(set_lat, 50) * 1000:.0f} cards/s)")
print(f"ContactCard/get, 100 cards a call: p50 {pct(get_lat, 50):.2f} ms")
with open(out_path, "w") as f:
    json.dump({"query_p50": statistics.median(lat), "hits": by_term,
               "set_p50": statistics.median(set_lat), "get_p50": statistics.median(get_lat)},
              f, ensure_ascii=False)
