"""Prints bench_contacts.sh's jmapd/Cyrus ratios from the two sides' JSON figures.
usage: compare.py JMAPD.json CYRUS.json"""
import json
import sys

ours, theirs = (json.load(open(p)) for p in sys.argv[1:3])
print("Cyrus 3.6, same cards and searches (Contact/set, Contact/get, Contact/query text):")
for key, what in [("set_p50", "create, 100 cards a call"), ("get_p50", "get, 100 cards a call"),
                  ("query_p50", "text search")]:
    print(f"  {what:26} p50 Cyrus {theirs[key]:8.2f} ms, jmapd {ours[key]:7.2f} ms:"
          f" jmapd {theirs[key] / ours[key]:6.1f}x faster")
print("  hits per term, jmapd: " + json.dumps(ours["hits"], ensure_ascii=False))
print("  hits per term, Cyrus: " + json.dumps(theirs["hits"], ensure_ascii=False))
