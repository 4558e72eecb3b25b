#!/usr/bin/python3
"""Extracts the vCard/JSON example pairs of RFC 9555 (../shared/specs/rfc9555.md)
into tests/formats/vcard/rfc9555/NN-<section>-<slug>.{vcf,json}, one pair per figure.

The figures are fragments: the test driver wraps them into a full vCard and Card.
Continuation lines of the vCard figures are indented for layout only, so they are
joined with their leading white space removed. Known errata are fixed here, each
with a note (see ERRATA); run once, then the files are checked in and read-only.
"""
import os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rfc_figures import figures  # noqa: E402

SPEC = sys.argv[1] if len(sys.argv) > 1 else "../shared/specs/rfc9555.md"
OUT = os.path.join(os.path.dirname(__file__), "rfc9555")

# (section, substring, replacement, why)
ERRATA = [
    ("2.5.1", '"month": 4,\n      "year": 15', '"month": 4,\n      "day": 15',
     "DEATHDATE:19960415 has day 15; the figure repeats \"year\""),
    ("2.3.15", "LANGUAGE=zh-Hant\nN;", "LANGUAGE:zh-Hant\nN;",
     "the LANGUAGE property (RFC 9554 §3.3) is written with ':'"),
    ("3.2.1", "TEL:tel:+33-01-23-45-67\nJSPROP", "TEL;PROP-ID=phone1:tel:+33-01-23-45-67\nJSPROP",
     "§3.1: the converted TEL MUST carry PROP-ID=phone1, else the JSPTR parent "
     "\"phones/phone1\" does not exist and the patch is invalid (§1.4.3 rule 2)"),
    ("3.3.1", 'ADR;JSCOMPS="s,\\, ;11;s, ;10;3":;;54321 Oak St;Reston;;;;;;;Oak St;54321;;;;;;',
     'ADR;JSCOMPS="s,\\, ;10;s, ;11;3":;;54321 Oak St;Reston;;;;;;;54321;Oak St;;;;;;',
     "RFC 9554 §2.1 puts the street number at 10 and the street name at 11; the figure "
     "swaps both the values and the JSCOMPS positions"),
]

blocks = figures(SPEC)  # (section, title, lang, body)

def is_vcard(b):
    return b[2] == "vcard" or (b[2] == "" and re.match(r"^[A-Za-z0-9.-]+[;:]", b[3]))

pairs = []
for a, b in zip(blocks, blocks[1:]):
    if a[0] != b[0] or a[1] != b[1]:
        continue
    if is_vcard(a) and b[2] == "json":
        pairs.append((a[0], a[1], a[3], b[3], "v2j"))
    elif a[2] == "json" and is_vcard(b):
        pairs.append((a[0], a[1], b[3], a[3], "j2v"))

def unfold(v):
    out = []
    for l in v.split("\n"):
        if l[:1] in (" ", "\t") and out:
            out[-1] += l.lstrip()
        elif l.strip():
            out.append(l)
    return "\n".join(out) + "\n"

def clean_json(j):
    j = re.sub(r"^\s*\.\.\.\s*$\n", "", j, flags=re.M)   # "..." elisions
    j = re.sub(r",(\s*[}\]])", r"\1", j)                  # trailing commas
    return j

os.makedirs(OUT, exist_ok=True)
seen = {}
for n, (sec, title, vc, js, direction) in enumerate(pairs, 1):
    for esec, old, new, why in ERRATA:
        if esec == sec and old in vc + js:
            vc, js = vc.replace(old, new), js.replace(old, new)
            print(f"erratum {sec}: {why}", file=sys.stderr)
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40]
    base = f"{n:02d}-{sec}-{slug}"
    open(os.path.join(OUT, base + ".vcf"), "w").write(unfold(vc))
    open(os.path.join(OUT, base + ".json"), "w").write(clean_json(js).strip() + "\n")
    if direction == "j2v":
        open(os.path.join(OUT, base + ".j2v"), "w").write("JSON to vCard figure\n")
    print(base)
