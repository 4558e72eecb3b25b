"""The cards of bench_contacts.sh's generated vCard file, for loading them through JMAP:
as JSContact for jmapd's ContactCard/set and as Cyrus 3.6 Contact objects."""


def read(path):
    """The file's cards, each as a dict of its vCard property values by name."""
    text = open(path, encoding="utf-8", newline="").read()
    cards = []
    for block in text.split("END:VCARD\r\n"):
        if not block.strip():
            continue
        p = {}
        for line in block.split("\r\n"):
            name, _, value = line.partition(":")
            p[name.split(";")[0]] = value
        cards.append(p)
    return cards


def _adr(p):
    adr = p["ADR"].split(";")  # pobox;ext;street;locality;region;code;country
    return adr[2], adr[3], adr[5]


def jscontact(p, book):
    """As an RFC 9553 Card in address book `book`, with a uid of its own (the file's
    cards are imported into the same account too)."""
    last, first = p["N"].split(";")[:2]
    street, city, code = _adr(p)
    return {"addressBookIds": {book: True}, "uid": p["UID"] + "-set",
            "name": {"components": [{"kind": "given", "value": first},
                                    {"kind": "surname", "value": last}], "full": p["FN"]},
            "emails": {"e": {"address": p["EMAIL"], "contexts": {"work": True}}},
            "phones": {"p": {"number": p["TEL"], "features": {"mobile": True}}},
            "organizations": {"o": {"name": p["ORG"]}},
            "addresses": {"a": {"components": [{"kind": "name", "value": street},
                                               {"kind": "locality", "value": city},
                                               {"kind": "postcode", "value": code}],
                                "contexts": {"private": True}}},
            "notes": {"n": {"note": p["NOTE"]}}}


def cyrus(p):
    """As a Cyrus 3.6 Contact (its pre-RFC 9610 JMAP contacts model)."""
    last, first = p["N"].split(";")[:2]
    street, city, code = _adr(p)
    return {"uid": p["UID"], "firstName": first, "lastName": last, "company": p["ORG"],
            "emails": [{"type": "work", "value": p["EMAIL"]}],
            "phones": [{"type": "mobile", "value": p["TEL"]}],
            "addresses": [{"type": "home", "street": street, "locality": city, "postcode": code,
                           "region": "", "country": ""}],
            "notes": p["NOTE"]}
