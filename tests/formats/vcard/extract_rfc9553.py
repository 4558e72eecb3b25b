#!/usr/bin/python3
"""Extracts the JSON figures of RFC 9553 (../shared/specs/rfc9553.md) into
tests/formats/vcard/rfc9553/NN-<section>-<slug>.json, one file per figure.

Figures are fragments of a Card ("key": value, ...) or whole Cards; the test driver
wraps fragments into a Card. Layout-only line breaks inside the example data: URI
are removed. The §2.6.2 figure lacks its final "}" (added). Figures that are not Card content (the Foo type of §1.3.1) are skipped
and listed on stderr.
"""
import json, os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rfc_figures import figures  # noqa: E402

SPEC = sys.argv[1] if len(sys.argv) > 1 else "../shared/specs/rfc9553.md"
OUT = os.path.join(os.path.dirname(__file__), "rfc9553")

figs = [(sec, title, body) for sec, title, lang, body in figures(SPEC) if lang in ("json", "")]

def parse(body):
    body = re.sub(r'(data:[^"]*?)\s*\n\s*', lambda m: m.group(1), body)  # folded data: URI
    # the §2.6.2 figure misses its closing brace
    for text in (body, "{" + body + "}", "{" + body + "}}"):
        try:
            return json.loads(text)
        except ValueError:
            pass
    # data: URI folded over several lines
    joined = re.sub(r'("uri": "data:[^"]*)', lambda m: re.sub(r"\s+", "", m.group(1)), body, flags=re.S)
    for text in (joined, "{" + joined + "}"):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return None

os.makedirs(OUT, exist_ok=True)
n = 0
for sec, title, body in figs:
    j = parse(body)
    if not isinstance(j, dict) or "baz" in j:
        print(f"skipped {sec} {title!r}", file=sys.stderr)
        continue
    if set(j) <= {"full", "components", "isOrdered", "sortAs", "defaultSeparator"}:
        j = {"name": j}  # a figure of a Name property (§2.2.1.1)
    n += 1
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "figure"
    with open(os.path.join(OUT, f"{n:02d}-{sec}-{slug}.json"), "w") as f:
        json.dump(j, f, indent=2, ensure_ascii=False)
        f.write("\n")
print(n, "figures")
