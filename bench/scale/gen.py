"""Writes the accounts of bench_scale.sh: N events as one iCalendar file or N cards as
one vCard file, deterministic (seeded). Events spread over ten years, 15% recurring
(weekly, monthly, 0.2% unbounded), titles from a small word list so that a common
word ("walnut") is in about 4% of them; cards with names from small lists."""
import random
import sys

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Etc/UTC"]
WORDS = ("walnut planning review sync lunch dentist gym standup retro offsite party call "
         "interview demo workshop yoga dinner flight train meeting budget launch cedar "
         "maple birch").split()
RULES = ["FREQ=WEEKLY;COUNT=20", "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=30", "FREQ=MONTHLY;COUNT=12",
         "FREQ=DAILY;COUNT=10", "FREQ=WEEKLY;INTERVAL=2;COUNT=26", "FREQ=YEARLY;COUNT=5"]


def events(n, path):
    rnd = random.Random(2121)
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//jmapd//bench scale//EN"]
    for i in range(n):
        y, m, d = 2017 + rnd.randrange(10), rnd.randint(1, 12), rnd.randint(1, 28)
        h = rnd.randint(7, 18)
        zone = rnd.choice(ZONES)
        ev = ["BEGIN:VEVENT", f"UID:scale-{i}@jmapd.test", "DTSTAMP:20250101T000000Z",
              f"DTSTART;TZID={zone}:{y}{m:02d}{d:02d}T{h:02d}0000",
              f"DTEND;TZID={zone}:{y}{m:02d}{d:02d}T{h + 1:02d}0000",
              "SUMMARY:" + " ".join(rnd.sample(WORDS[1:], 2) if rnd.random() > 0.04
                                    else ["walnut", rnd.choice(WORDS[1:])]).capitalize()
              + f" {i}",
              "DESCRIPTION:" + " ".join(rnd.sample(WORDS[1:], 4)),
              f"LOCATION:Room {rnd.randint(100, 999)}"]
        for a in range(rnd.randint(0, 3)):
            ev.append(f"ATTENDEE;CN=Person {a};PARTSTAT=ACCEPTED:mailto:p{a}@example.com")
        r = rnd.random()
        if r < 0.15:
            ev.append("RRULE:" + rnd.choice(RULES))
        elif r < 0.152:  # a few that never end (birthdays)
            ev.append("RRULE:FREQ=YEARLY")
        ev.append("END:VEVENT")
        out += ev
    out.append("END:VCALENDAR")
    with open(path, "w", newline="") as f:
        f.write("\r\n".join(out) + "\r\n")


def cards(n, path):
    rnd = random.Random(9610)
    given = ["Anna", "Ben", "Chloé", "David", "Emma", "Felix", "Greta", "Hugo", "Ines", "Jonas",
             "Karin", "Lars", "Mia", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sven", "Tara"]
    family = [a + b for a in ["Berg", "Stein", "Wald", "Feld", "Brunn", "Hof", "Bach", "Mann",
                              "Holz", "Eich"]
              for b in ["er", "mann", "inger", "ow", "ski", "berg", "huber", "meier", "son", "ez"]]
    cities = ["Berlin", "Paris", "Madrid", "Roma", "Wien", "Oslo", "Lisboa", "Praha", "Dublin"]
    orgs = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka"]
    with open(path, "w", newline="") as f:
        for i in range(n):
            g, fam = rnd.choice(given), rnd.choice(family)
            f.write("\r\n".join([
                "BEGIN:VCARD", "VERSION:4.0", f"UID:urn:uuid:00000000-0000-4000-8000-{i:012d}",
                f"FN:{g} {fam}", f"N:{fam};{g};;;",
                f"EMAIL;TYPE=work:{g.lower()}.{fam.lower()}{i}@example.com",
                f"TEL;TYPE=cell:+49 30 {rnd.randrange(10**7):07d}", f"ORG:{rnd.choice(orgs)}",
                f"ADR;TYPE=home:;;{rnd.randrange(1, 200)} Main St;{rnd.choice(cities)};;"
                f"{rnd.randrange(10000, 99999)};",
                f"NOTE:Card number {i}", "END:VCARD", ""]))


if __name__ == "__main__":
    (events if sys.argv[1] == "events" else cards)(int(sys.argv[2]), sys.argv[3])
