"""`jmapd convert` for contacts, black-box: vCard ⇄ JSContact on the producer
samples in tests/formats/vcard/samples (Apple, Google, Outlook; vCard 2.1, 3.0,
4.0), on the vCard files of the shared corpora, and on bad input.

Run: JMAPD_BIN=build/asan/jmapd /usr/bin/python3 -m pytest -q tests/formats
"""
import glob
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("JMAPD_BIN", os.path.join(ROOT, "build", "asan", "jmapd"))
SAMPLES = os.path.join(ROOT, "tests", "formats", "vcard", "samples")
CORPORA = os.path.join(ROOT, "..", "shared", "corpora")

# vCard 4.0 and RFC 9554 parameters that RFC 2426 does not know
V4_PARAMS = {"PREF", "ALTID", "PID", "MEDIATYPE", "CALSCALE", "SORT-AS", "GEO", "TZ", "LABEL",
             "INDEX", "LEVEL", "PROP-ID", "JSCOMPS", "DERIVED", "PHONETIC", "SCRIPT",
             "SERVICE-TYPE", "USERNAME", "AUTHOR", "AUTHOR-NAME", "CREATED", "CC", "JSPTR"}


def run(args, stdin=None):
    p = subprocess.run([BIN, "convert"] + args, input=stdin, capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def convert(args, stdin=None):
    rc, out, err = run(args, stdin)
    assert rc == 0, err
    return out


def to_json(path_or_bytes, tmp_path=None):
    if isinstance(path_or_bytes, bytes):
        p = tmp_path / "in.vcf"
        p.write_bytes(path_or_bytes)
        path_or_bytes = str(p)
    out = json.loads(convert([path_or_bytes]))
    return out if isinstance(out, list) else [out]


def cards_of(path):
    return to_json(path)


def unfold(text):
    return text.replace("\r\n ", "").replace("\r\n\t", "")


def content_lines(vcf):
    """(name, params-upper-set, value) per content line, unfolded."""
    out = []
    for line in unfold(vcf).split("\r\n"):
        if not line:
            continue
        head, _, value = line.partition(":")
        # parameter names only: split at ';' outside quotes
        parts, cur, q = [], "", False
        for ch in head:
            if ch == '"':
                q = not q
            if ch == ";" and not q:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        parts.append(cur)
        name = parts[0].split(".")[-1].upper()
        params = {p.split("=")[0].upper() for p in parts[1:]}
        out.append((name, params, value))
    return out


SAMPLE_FILES = sorted(glob.glob(os.path.join(SAMPLES, "*.vcf")))
CORPUS_FILES = sorted(glob.glob(os.path.join(CORPORA, "ical.js", "test", "parser", "*.vcf")))


def test_samples_exist():
    names = {os.path.basename(f) for f in SAMPLE_FILES}
    for producer in ("apple", "google", "outlook"):
        assert any(n.startswith(producer) and "3.0" in n for n in names), producer
        assert any(n.startswith(producer) and "4.0" in n for n in names), producer


@pytest.mark.parametrize("path", SAMPLE_FILES + CORPUS_FILES, ids=os.path.basename)
def test_round_trip_stable(path, tmp_path):
    """vcf → json → vcf → json: the two JSON documents are equal."""
    first = json.loads(convert([path]))
    j = tmp_path / "a.json"
    j.write_text(json.dumps(first))
    vcf = convert([str(j)])
    assert vcf.startswith(b"BEGIN:VCARD\r\nVERSION:4.0\r\n")
    v = tmp_path / "b.vcf"
    v.write_bytes(vcf)
    second = json.loads(convert([str(v)]))
    assert second == first
    # and the vCard itself is stable from then on
    j2 = tmp_path / "c.json"
    j2.write_text(json.dumps(second))
    assert convert([str(j2)]) == vcf


@pytest.mark.parametrize("path", SAMPLE_FILES + CORPUS_FILES, ids=os.path.basename)
def test_vcard3_output(path, tmp_path):
    """--vcard3 writes RFC 2426 without vCard 4 parameters, and it reads back."""
    first = json.loads(convert([path]))
    j = tmp_path / "a.json"
    j.write_text(json.dumps(first))
    v3 = convert([str(j), "--vcard3"]).decode("utf-8")
    assert v3.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n")
    for line in unfold(v3).split("\r\n"):
        assert len(line.encode()) <= 75 or True  # unfolded lines may be long
    for name, params, value in content_lines(v3):
        assert not (params & V4_PARAMS), (name, params & V4_PARAMS)
        assert name not in ("KIND", "MEMBER", "JSPROP", "GENDER", "LANG", "ANNIVERSARY")
    for line in v3.split("\r\n"):
        assert len(line.encode()) <= 75
    back = tmp_path / "b.vcf"
    back.write_text(v3)
    cards = to_json(str(back))
    assert len(cards) == (len(first) if isinstance(first, list) else 1)


def test_apple_3_0():
    [c] = cards_of(os.path.join(SAMPLES, "apple-3.0.vcf"))
    assert c["uid"] == "5A4C6B2E-1E4B-4B34-9C55-0C8B0B0F3A11"
    assert c["name"]["full"] == "Mr. Johnny Q. Appleseed Jr."
    kinds = [(x["kind"], x["value"]) for x in c["name"]["components"]]
    assert kinds == [("surname", "Appleseed"), ("given", "Johnny"), ("given2", "Q."),
                     ("title", "Mr."), ("credential", "Jr.")]
    emails = {e["address"]: e for e in c["emails"].values()}
    # TYPE=INTERNET is implied, TYPE=pref is pref 1, item1.X-ABLabel is the label
    assert emails["johnny@apple.example"] == {"address": "johnny@apple.example",
                                              "contexts": {"work": True}, "pref": 1}
    assert emails["jq@other.example"]["label"] == "_$!<Other>!$_"
    phones = {p["number"]: p for p in c["phones"].values()}
    assert phones["+1 (408) 555-0101"]["features"] == {"mobile": True, "voice": True}
    assert phones["+1 408 555 0102"]["vCardParams"] == {"type": "IPHONE"}
    assert phones["+1 408 555 0104"]["label"] == "Lab"
    [photo] = c["media"].values()
    assert photo["kind"] == "photo" and photo["uri"].startswith("data:image/jpeg;base64,/9j/")
    [bday] = c["anniversaries"].values()
    assert bday == {"kind": "birth", "date": {"month": 4, "day": 1}}  # X-APPLE-OMIT-YEAR
    social = [o for o in c["onlineServices"].values() if o.get("service") == "twitter"]
    assert social == [{"uri": "https://twitter.com/jappleseed", "user": "jappleseed",
                       "service": "twitter"}]
    assert c["notes"]
    [note] = c["notes"].values()
    assert note["note"] == "Met at WWDC, 2019.\nLikes apples; pears too."
    assert c["keywords"] == {"Friends": True, "Work": True}
    assert c["updated"] == "2024-03-14T09:26:53Z"
    # Apple-only properties are kept as jCard, with their group
    props = {p[0]: p for p in c["vCardProps"]}
    assert props["x-abadr"] == ["x-abadr", {"group": "item3"}, "unknown", "us"]
    # the address shares its group with X-ABADR, so the group is kept (RFC 9555 §2.3.9)
    [adr] = c["addresses"].values()
    assert adr["vCardParams"]["group"] == "item3"


def test_apple_group_3_0():
    [c] = cards_of(os.path.join(SAMPLES, "apple-group-3.0.vcf"))
    assert c["kind"] == "group"
    assert c["members"] == {"urn:uuid:5A4C6B2E-1E4B-4B34-9C55-0C8B0B0F3A11": True,
                            "urn:uuid:0B1F0C4E-7C88-4E0F-9D0A-1B2C3D4E5F60": True}


def test_apple_group_to_vcard3_and_4(tmp_path):
    [c] = cards_of(os.path.join(SAMPLES, "apple-group-3.0.vcf"))
    j = tmp_path / "g.json"
    j.write_text(json.dumps(c))
    v4 = unfold(convert([str(j)]).decode())
    assert "\r\nKIND:group\r\n" in v4 and v4.count("\r\nMEMBER:urn:uuid:") == 2
    v3 = unfold(convert([str(j), "--vcard3"]).decode())
    assert "\r\nX-ADDRESSBOOKSERVER-KIND:group\r\n" in v3
    assert v3.count("\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:") == 2


def test_apple_4_0():
    [c] = cards_of(os.path.join(SAMPLES, "apple-4.0.vcf"))
    [adr] = c["addresses"].values()
    assert adr["coordinates"] == "geo:37.3318,-122.0312" and adr["countryCode"] == "US"
    assert adr["contexts"] == {"private": True}
    langs = sorted((l["language"], l.get("pref")) for l in c["preferredLanguages"].values())
    assert langs == [("de", None), ("en-US", 1)]
    assert c["speakToAs"]["pronouns"]
    assert c["created"] == "2020-01-01T00:00:00Z"
    assert ["gender", {}, "unknown", "M"] in c["vCardProps"]
    # NOTE;LANGUAGE=en without a Card language keeps its language
    [note] = c["notes"].values()
    assert note["vCardParams"] == {"language": "en"}


def test_google_3_0():
    cards = cards_of(os.path.join(SAMPLES, "google-3.0.vcf"))
    assert len(cards) == 2
    c = cards[0]
    links = list(c["links"].values())
    assert links == [{"uri": "https://www.example.com/jane", "label": "PROFILE"}]  # https\: unescaped
    labels = sorted(a.get("label", "") for a in c["addresses"].values())
    assert labels == ["", "Holiday flat"]
    assert c["keywords"] == {"myContacts": True, "Friends": True}
    # no UID: a version "2.0" Card without uid (RFC 9982 §3 replaces RFC 9555 §2.1.1)
    assert "uid" not in cards[1] and cards[1]["version"] == "2.0"
    assert all(c["version"] == "2.0" and "uid" not in c for c in cards)


def test_google_4_0():
    [c] = cards_of(os.path.join(SAMPLES, "google-4.0.vcf"))
    [adr] = c["addresses"].values()
    assert adr["full"] == "10 Downing Street\nLondon SW1A 2AA\nUnited Kingdom"
    assert c["relatedTo"] == {"John Doe": {"relation": {"spouse": True}}}
    kinds = sorted(a["kind"] for a in c["anniversaries"].values())
    assert kinds == ["birth", "wedding"]
    [photo] = c["media"].values()
    assert photo["mediaType"] == "image/jpeg"


def test_outlook_2_1():
    [c] = cards_of(os.path.join(SAMPLES, "outlook-2.1.vcf"))
    assert c["name"]["full"] == "Jürgen Müller"  # CHARSET=Windows-1252
    [adr] = c["addresses"].values()
    values = [x["value"] for x in adr["components"]]
    assert values == ["Hauptstraße 1", "Berlin", "10115", "Deutschland"]  # QP soft breaks
    assert adr["full"] == "Hauptstraße 1\n10115 Berlin\nDeutschland"  # 2.1 LABEL
    assert adr["contexts"] == {"work": True} and adr["pref"] == 1
    phones = sorted((tuple(sorted(p.get("contexts", {}))), tuple(sorted(p.get("features", {}))))
                    for p in c["phones"].values())
    assert phones == [((), ("mobile", "voice")), (("work",), ("fax",)), (("work",), ("voice",))]
    [note] = c["notes"].values()
    assert note["note"] == "Erste Zeile\nZweite Zeile"
    [mail] = c["emails"].values()
    assert mail == {"address": "juergen.mueller@beispiel.example", "pref": 1}


def test_outlook_3_0():
    [c] = cards_of(os.path.join(SAMPLES, "outlook-3.0.vcf"))
    kinds = sorted(t["kind"] for t in c["titles"].values())
    assert kinds == ["role", "title"]
    work = [a for a in c["addresses"].values() if a.get("contexts") == {"work": True}]
    assert work[0]["full"].startswith("Building 4\n1 Microsoft Way")
    pager = [p for p in c["phones"].values() if p.get("features") == {"pager": True}]
    assert len(pager) == 1


def test_outlook_4_0_localizations():
    [c] = cards_of(os.path.join(SAMPLES, "outlook-4.0.vcf"))
    assert c["language"] == "en"
    assert c["name"]["full"] == "Anna Smith"
    de = c["localizations"]["de"]
    assert de["name/full"] == "Anna Schmidt"
    assert de["titles/t1/name"] == "Leitende Wissenschaftlerin"
    assert c["titles"]["t1"]["name"] == "Principal Scientist"
    assert "contoso" in c["organizations"]  # PROP-ID is the map key
    [tz] = [a for a in c["addresses"].values() if "timeZone" in a]
    assert tz["timeZone"] == "Etc/GMT+8"  # RFC 9555 §2.8.2
    [ex] = c["personalInfo"].values()
    assert ex == {"kind": "expertise", "value": "Spectroscopy", "level": "high"}


def test_json_to_vcard_jsprop_and_propid(tmp_path):
    card = {"@type": "Card", "version": "1.0", "uid": "urn:uuid:x",
            "name": {"components": [{"kind": "given", "value": "Jane"},
                                    {"kind": "surname", "value": "Doe"}], "isOrdered": True},
            "phones": {"phone1": {"number": "tel:+33-01-23-45-67",
                                  "example.com:foo/bar": "tux hux"}},
            "example.com:foo": {"bar": 1234}}
    j = tmp_path / "c.json"
    j.write_text(json.dumps(card))
    vcf = unfold(convert([str(j)]).decode())
    assert "\r\nFN;DERIVED=TRUE:Jane Doe\r\n" in vcf
    assert "N;JSCOMPS=\";1;0\":Doe;Jane;;;;;\r\n" in vcf
    assert "TEL;VALUE=uri;PROP-ID=phone1:tel:+33-01-23-45-67\r\n" in vcf
    assert 'JSPROP;JSPTR="phones/phone1/example.com:foo~1bar":"tux hux"\r\n' in vcf
    assert 'JSPROP;JSPTR="example.com:foo":{"bar":1234}\r\n' in vcf
    v = tmp_path / "c.vcf"
    v.write_text(vcf)
    [back] = to_json(str(v))
    assert back == dict(card, version="2.0")  # RFC 9982 §2: a 1.0 Card is a 2.0 Card


def test_rfc6350_3_3_json_value_never_becomes_a_name(tmp_path):
    """Issue 19 §5: the fuzz seed whose personalInfo kind is "VERSION:e" is written
    as JSPROP (RFC 9555 §3.2.1), never as a property name, and reads back the same."""
    seed = os.path.join(ROOT, "tests", "fuzz", "seeds", "fuzz_vcard",
                        "issue19-kind-becomes-property-name.json")
    with open(seed) as f:
        card = json.load(f)
    vcf = unfold(convert(["--to", "vcf", seed]).decode())
    names = [line.partition(":")[0].partition(";")[0] for line in vcf.split("\r\n") if line]
    assert names.count("VERSION") == 1
    assert all(n.replace("-", "").isalnum() for n in names), names
    v = tmp_path / "c.vcf"
    v.write_text(vcf)
    [back] = to_json(str(v))
    assert back == dict(card, version="2.0")  # RFC 9982 §2: a 1.0 Card is a 2.0 Card


def test_array_in_array_out(tmp_path):
    cards = cards_of(os.path.join(SAMPLES, "google-3.0.vcf"))
    j = tmp_path / "a.json"
    j.write_text(json.dumps(cards))
    vcf = convert([str(j)]).decode()
    assert vcf.count("BEGIN:VCARD\r\n") == 2 and vcf.count("END:VCARD\r\n") == 2


def test_stdin(tmp_path):
    with open(os.path.join(SAMPLES, "google-4.0.vcf"), "rb") as f:
        vcf = f.read()
    # vCard on stdin, vCard out (normalised 4.0)
    out = convert(["-", "--to", "vcf"], stdin=vcf)
    assert out.startswith(b"BEGIN:VCARD\r\nVERSION:4.0\r\n") and b"PROP-ID=" in out
    # JSON on stdin, vCard out
    [c] = to_json(os.path.join(SAMPLES, "google-4.0.vcf"))
    out = convert(["-", "--to", "vcf"], stdin=json.dumps(c).encode())
    assert out.startswith(b"BEGIN:VCARD\r\n")
    assert convert(["-", "--to", "vcf", "--vcard3"], stdin=json.dumps(c).encode()) \
        .startswith(b"BEGIN:VCARD\r\nVERSION:3.0\r\n")
    # without --to the content of stdin decides, as the suffix does for a file
    assert json.loads(convert(["-"], stdin=vcf))["@type"] == "Card"
    assert convert(["-"], stdin=json.dumps(c).encode()).startswith(b"BEGIN:VCARD\r\n")


def test_bad_vcard_names_line(tmp_path):
    p = tmp_path / "bad.vcf"
    p.write_bytes(b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nno colon here\r\nEND:VCARD\r\n")
    rc, out, err = run([str(p)])
    assert rc == 1 and out == b""
    assert "line 4" in err
    p.write_bytes(b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\n")
    rc, out, err = run([str(p)])
    assert rc == 1 and "missing END:VCARD" in err


def test_bad_card_names_property(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"@type": "Card", "version": "1.0", "uid": "x",
                             "emails": {"e1": {"address": 42}}}))
    rc, out, err = run([str(p)])
    assert rc == 1 and out == b""
    assert "emails/e1/address" in err
    p.write_text('{"@type": "Card",\n "uid": }')  # convert.c routes it here by "Card"
    rc, out, err = run([str(p)])
    assert rc == 1 and "line 2" in err and "invalid JSON" in err
    p.write_text(json.dumps([{"@type": "Card", "version": "1.0", "uid": "x"},
                             {"@type": "Card", "version": "1.0"}]))
    rc, out, err = run([str(p)])
    assert rc == 1 and "card 1" in err and "uid" in err


def test_usage_errors():
    rc, out, err = run(["x.vcf", "--to", "ics-or-what"])
    assert rc == 2
    rc, out, err = run(["/nonexistent/file.vcf"])
    assert rc == 1


def test_check_mode(tmp_path):
    """--check parses and converts without writing JSON: prints the count."""
    assert convert([os.path.join(SAMPLES, "google-3.0.vcf"), "--check"]) == b"2\n"
    p = tmp_path / "bad.vcf"
    p.write_bytes(b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\n"
                  b"FN;X=\"unterminated:B\r\nEND:VCARD\r\n")
    rc, out, err = run([str(p), "--check"])
    assert rc == 1 and "line 7" in err and out == b""


def test_large_file_two_threads(tmp_path):
    """A file large enough to be split in two converts in order, and an error in the
    second half still names its line in the whole file."""
    card = ("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:%d\r\nFN:Person %d\r\n"
            "EMAIL;TYPE=work:p%d@example.com\r\nNOTE:%s\r\nEND:VCARD\r\n")
    text = "".join(card % (i, i, i, "x" * 200) for i in range(600))
    p = tmp_path / "big.vcf"
    p.write_text(text)
    cards = to_json(str(p))
    assert [c["uid"] for c in cards] == ["urn:uuid:%d" % i for i in range(600)]
    lines = text.split("\r\n")
    lines[7 * 500 + 3] = "garbage line"
    p.write_text("\r\n".join(lines))
    rc, out, err = run([str(p)])
    assert rc == 1 and "line %d:" % (7 * 500 + 4) in err


def test_rfc9555_2_3_11_localized_name_without_language_issue12_4(tmp_path):
    """Issue 12 §4: a Card without language whose localizations change name/full converts
    to FN alternatives joined by ALTID, the localized one with LANGUAGE (RFC 9555 §2.3.11),
    without JSPROP, and reads back as the same Card."""
    card = {"@type": "Card", "version": "2.0", "uid": "urn:uuid:loc-1",
            "name": {"full": "Ivan Petrov"},
            "localizations": {"ru": {"name/full": "Иван Петров"},
                              "de": {"name/full": "Iwan Petrow"}}}
    src = tmp_path / "card.json"
    src.write_text(json.dumps(card, ensure_ascii=False))
    vcf = convert([str(src), "--to", "vcf"]).decode()
    assert "JSPROP" not in vcf and "\r\nLANGUAGE:" not in vcf, vcf
    assert "FN;ALTID=1:Ivan Petrov\r\n" in vcf
    assert "FN;ALTID=1;LANGUAGE=ru:Иван Петров\r\n" in vcf
    back = tmp_path / "card.vcf"
    back.write_text(vcf)
    again = json.loads(convert([str(back), "--to", "json"]))
    again = again[0] if isinstance(again, list) else again
    assert again == card
