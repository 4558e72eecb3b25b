#!/usr/bin/python3
"""Writes N (default 10000) varied vCards to stdout for bench_vcard.sh: a mix of
vCard 4.0 and 3.0 in the shapes address books hold (names, several emails and
phones with types, addresses, labels in item groups, notes with escapes, dates,
categories). Deterministic: the same N gives the same file."""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
rnd = random.Random(9555)
given = ["Anna", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas",
         "Kwame", "Lena", "Mateo", "Noor", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tomás"]
family = ["Smith", "Müller", "García", "Nguyen", "Kowalski", "Okafor", "Rossi", "Tanaka",
          "Johansson", "O'Brien", "Dubois", "Silva", "Novak", "Khan", "Larsen"]
streets = ["Main Street", "Hauptstraße", "Rue de la Paix", "Elm Avenue", "Via Roma"]
cities = ["Springfield", "Berlin", "Paris", "Madrid", "Tokyo", "Oslo", "Lagos"]
out = sys.stdout
for i in range(n):
    g, f = rnd.choice(given), rnd.choice(family)
    v4 = i % 3 != 0
    L = ["BEGIN:VCARD", "VERSION:4.0" if v4 else "VERSION:3.0"]
    L.append(f"UID:urn:uuid:{i:08x}-0000-4000-8000-{rnd.getrandbits(48):012x}")
    L.append(f"FN:{g} {f}")
    L.append(f"N:{f};{g};;;" + (";;" if v4 else ""))
    L.append(f"ORG:Example {rnd.choice(cities)} Ltd.;Dept {i % 17}")
    L.append(f"TITLE:Engineer {i % 5}")
    for k in range(rnd.randint(1, 3)):
        t = rnd.choice(["home", "work"])
        L.append(f"EMAIL;TYPE={t}:{g.lower()}.{k}.{i}@example.com" if v4 else
                 f"EMAIL;TYPE=INTERNET;TYPE={t.upper()}:{g.lower()}.{k}.{i}@example.com")
    for k in range(rnd.randint(1, 3)):
        t = rnd.choice(["cell", "home", "work", "fax"])
        num = f"+1-555-{rnd.randint(100, 999)}-{rnd.randint(1000, 9999)}"
        L.append(f"TEL;VALUE=uri;TYPE={t}:tel:{num}" if v4 else f"TEL;TYPE={t.upper()}:{num}")
    L.append(f"item1.ADR;TYPE=home:;;{rnd.randint(1, 999)} {rnd.choice(streets)};"
             f"{rnd.choice(cities)};;{rnd.randint(10000, 99999)};Country {i % 9}")
    L.append("item1.X-ABLabel:_$!<Home>!$_")
    L.append(f"BDAY:{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}" if v4 else
             f"BDAY:{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}")
    L.append(f"NOTE:Met at conference {i}\\, room {i % 40}.\\nFollow up; maybe.")
    L.append(f"URL:https://www.example.com/people/{i}")
    L.append("CATEGORIES:" + ",".join(rnd.sample(["Friends", "Work", "VIP", "Family", "Gym"], 2)))
    L.append(f"REV:2024{1 + i % 12:02d}{1 + i % 28:02d}T120000Z")
    L.append("END:VCARD")
    out.write("\r\n".join(L) + "\r\n")
