#!/usr/bin/python3
"""probe_ical.py — generated iCalendar for fuzz_ical's first-round check (issue 12 §3.4).

The fuzzer finds a first-round cause every so many minutes; files written to exercise the
reader property by property find them in seconds. This writes such files and runs each
through a fuzz_ical binary with JMAPD_FUZZ_FIRST_ROUND=1, printing the ones that fail:

    make build/fuzz/fuzz_ical
    /usr/bin/python3 tests/fuzz/probe_ical.py build/fuzz/fuzz_ical [KIND ...] [--seed N]

KIND is one of: single (each property with odd parameters and escaped values, in five kinds
of start and in overrides), combos (random combinations of properties), zones (starts,
ends, RECURRENCE-IDs in IANA, Windows, custom and unknown zones), calendars (several VCALENDARs
with calendar-level properties in one file), mutate (lines of the seeds
spliced, repeated, dropped, swapped, escaped). Default: all. Exit status 1 if a file fails.
--keep DIR copies each failing file into DIR (the temporary files are removed at the end).
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

HDR = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
TAIL = "END:VCALENDAR\r\n"
PROPS = """SUMMARY:s|SUMMARY;LANGUAGE=de:s|SUMMARY;LANGUAGE=de:|SUMMARY;VALUE=TEXT;JSID=k:
DESCRIPTION:d|DESCRIPTION;LANGUAGE=fr:d|DESCRIPTION;ALTREP="cid:x":d
STYLED-DESCRIPTION;FMTTYPE=text/html:<b>x</b>|STYLED-DESCRIPTION:x|STYLED-DESCRIPTION;VALUE=URI:http://x
LOCATION:Room|LOCATION;DERIVED=TRUE:Room|LOCATION;ALTREP="http://x":Room|GEO:1.5;2.5|GEO:45.5;5E977943
CLASS:PRIVATE|CLASS:X-ODD|TRANSP:TRANSPARENT|STATUS:CANCELLED|STATUS:NEEDS-ACTION|PRIORITY:5|PRIORITY:10
SEQUENCE:3|COLOR:red|URL:http://x|ATTACH:http://x|ATTACH;ENCODING=BASE64;VALUE=BINARY:aGVsbG8=
IMAGE;VALUE=URI;DISPLAY=BADGE:http://x|LINK;LINKREL=alternate;VALUE=URI:http://x|LINK;VALUE=URI:http://x
CONCEPT:http://x|CATEGORIES:a,b|CATEGORIES:a\\,b|RESOURCES:r1|COMMENT:c|CONTACT:c
RELATED-TO:abc|RELATED-TO;RELTYPE=PARENT:abc|REQUEST-STATUS:2.0;ok|CREATED:20240101T000000Z
LAST-MODIFIED:20240101|ESTIMATED-DURATION:PT1H|SHOW-WITHOUT-TIME:TRUE|PERCENT-COMPLETE:50
DUE:20240102T000000Z|RRULE:FREQ=DAILY;COUNT=3|RRULE:FREQ=MONTHLY;BYMONTHDAY=31;SKIP=FORWARD
RRULE:FREQ=YEARLY;RSCALE=GREGORIAN;SKIP=BACKWARD|RDATE;VALUE=PERIOD:20240301T100000Z/PT1H
RDATE;VALUE=DATE:20240301|EXDATE:20240102T100000Z|DURATION:PT1H|DURATION:P1D|DTEND:20240101T110000Z
DTEND;VALUE=DATE:20240102|ORGANIZER:mailto:o@x|ORGANIZER;CN=O;SENT-BY="mailto:s@x":mailto:o@x
ATTENDEE:mailto:o@x|ATTENDEE;ROLE=CHAIR:mailto:a@x|ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO="mailto:b@x":mailto:a@x
ATTENDEE;EMAIL=b@x:mailto:a@x|ATTENDEE:mailto:A@x|JSPROP;JSPTR=x-foo:1|JSPROP;JSPTR=title:1
JSPROP;JSPTR=locale:"en"|X-ALT-DESC;FMTTYPE=text/html:<b>x</b>|X-FOO;X-P=1:bar
BEGIN:VALARM\r\nTRIGGER:-PT30M\r\nACTION:\\DISPLAY\r\nDESCRIPTION:d\r\nEND:VALARM
BEGIN:VALARM\r\nUID:a1\r\nTRIGGER;RELATED=END:-PT30M\r\nACTION:EMAIL\r\nSUMMARY:s\r\nDESCRIPTION:d\r\nATTENDEE:mailto:a@x\r\nEND:VALARM
BEGIN:VLOCATION\r\nUID:l1\r\nNAME:Room\r\nGEO:1.5;2.5\r\nEND:VLOCATION
BEGIN:PARTICIPANT\r\nUID:p1\r\nPARTICIPANT-TYPE:ACTIVE\r\nCALENDAR-ADDRESS:mailto:a@x\r\nSTYLED-DESCRIPTION:x\r\nEND:PARTICIPANT
""".replace("\n", "|").strip("|").split("|")
STARTS = ["DTSTART:20240101T100000Z\r\n", "DTSTART;TZID=Europe/Berlin:20240101T100000\r\n",
          "DTSTART;VALUE=DATE:20240101\r\n", "DTSTART:20240101T100000\r\n", ""]
CUSTOM = ("BEGIN:VTIMEZONE\r\nTZID:Custom/Zone\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
          "TZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")
ZONES = [None, "UTC", "Europe/Berlin", "America/New_York", "Custom/Zone", "Nowhere/Zone",
         "/mozilla.org/20050126_1/Europe/Berlin", "W. Europe Standard Time"]


def comp(kind, body):
    return "BEGIN:%s\r\nUID:u1\r\nDTSTAMP:20240101T000000Z\r\n%s\r\nEND:%s\r\n" % (kind, body, kind)


def series(first, override):
    return (HDR + comp("VEVENT", "DTSTART:20240101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\n" + first)
            + comp("VEVENT", "RECURRENCE-ID:20240102T100000Z\r\nDTSTART:20240102T110000Z\r\n"
                   + override) + TAIL)


def single(rnd):
    for p in PROPS:
        for kind in ("VEVENT", "VTODO"):
            for st in STARTS:
                yield HDR + comp(kind, st + p) + TAIL
        yield series(p, "")
        yield series("", p)
        if ":" in p and "\r\n" not in p:
            name, val = p.split(":", 1)
            yield HDR + comp("VEVENT", STARTS[0] + name + ":\\" + val) + TAIL


def combos(rnd, n=6000):
    for _ in range(n):
        body = "\r\n".join(rnd.choice(PROPS) for _ in range(rnd.choice([2, 3, 4])))
        kind = rnd.choice(["VEVENT", "VEVENT", "VTODO"])
        if rnd.random() < 0.6:
            yield HDR + comp(kind, rnd.choice(STARTS) + body) + TAIL
        else:
            yield series(body, "\r\n".join(rnd.choice(PROPS) for _ in range(rnd.choice([0, 1, 2]))))


# calendar-level properties (RFC 7986 §5, draft-25 §2.1.1), each with odd parameters too
CAL_PROPS = """NAME:Cal|NAME;LANGUAGE=de:Kal|NAME:|DESCRIPTION:d|DESCRIPTION;LANGUAGE=fr:d
URL:http://x|URL:|URL:http://y|URL;VALUE=URI:http://z|COLOR:red|COLOR:
REFRESH-INTERVAL;VALUE=DURATION:P1W|SOURCE;VALUE=URI:http://s|IMAGE;VALUE=URI:http://i
CATEGORIES:a,b|LAST-MODIFIED:20240101T000000Z|UID:c1|METHOD:PUBLISH|METHOD:REQUEST
X-WR-CALNAME:w|X-WR-TIMEZONE:Europe/Berlin|CALSCALE:GREGORIAN|PRODID:-//o//o//EN
LINK;LINKREL=describedby;VALUE=URI:http://l|CONCEPT:http://c|GEO:1.5;2.5""".replace("\n", "|").split("|")


def calendars(rnd, n=4000):
    """Several VCALENDARs in one file (one Group), each with calendar-level properties and
    perhaps an entry: their properties meet in the Group (session 9: the URLs of later
    calendars)."""
    for _ in range(n):
        out = ""
        for _ in range(rnd.choice([1, 2, 2, 3])):
            body = "".join(rnd.choice(CAL_PROPS) + "\r\n" for _ in range(rnd.choice([1, 2, 3])))
            entry = ""
            if rnd.random() < 0.5:
                entry = comp(rnd.choice(["VEVENT", "VTODO"]), rnd.choice(STARTS) + rnd.choice(PROPS))
            out += HDR + body + entry + TAIL
        yield out


def when(rnd, name, date):
    z = rnd.choice(ZONES)
    if rnd.random() < 0.15:
        return "%s;VALUE=DATE:%s" % (name, date[:8])
    if z is None:
        return "%s:%s" % (name, date)
    if z == "UTC":
        return "%s:%sZ" % (name, date)
    return "%s;TZID=%s:%s" % (name, z, date)


def zones(rnd, n=4000):
    dates = ["20240101T100000", "20240331T023000", "20241027T023000", "20240229T000000"]
    for _ in range(n):
        kind = rnd.choice(["VEVENT", "VEVENT", "VTODO"])
        props = [when(rnd, "DTSTART", rnd.choice(dates))] if rnd.random() < 0.85 else []
        if rnd.random() < 0.4:
            props.append(when(rnd, "DTEND" if kind == "VEVENT" else "DUE", "20240102T100000"))
        props += rnd.sample(["RRULE:FREQ=DAILY;COUNT=5", "SHOW-WITHOUT-TIME:TRUE", "DURATION:P1D",
                             "RDATE:20240110T100000Z", "EXDATE;VALUE=DATE:20240102"],
                            rnd.choice([0, 1, 2]))
        cal = comp(kind, "\r\n".join(props))
        for _ in range(rnd.choice([0, 0, 1, 2])):
            rid = when(rnd, "RECURRENCE-ID", rnd.choice(["20240102T100000", "20240103T100000"]))
            cal += comp(kind, rid + ("\r\nDTSTART:20240102T120000Z" if rnd.random() < 0.6 else ""))
        yield HDR + (CUSTOM if rnd.random() < 0.5 else "") + cal + TAIL


def mutate(rnd, n=8000):
    seeds = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "fuzz_ical")
    docs = []
    for f in sorted(os.listdir(seeds)):
        with open(os.path.join(seeds, f), "rb") as fh:
            docs.append(fh.read().decode("utf-8", "replace").replace("\r\n", "\n").split("\n"))
    docs += [d.split("\r\n") for d in list(combos(rnd, 500)) + list(zones(rnd, 500))]
    fixed = ("BEGIN:VCALENDAR", "END:VCALENDAR", "VERSION", "PRODID")
    for _ in range(n):
        a, b = rnd.choice(docs)[:], rnd.choice(docs)
        lines = [l for l in b if l and not l.startswith(fixed)]
        for _ in range(rnd.choice([1, 2, 3])):
            idx = [k for k, l in enumerate(a) if l and not l.startswith(fixed)]
            if not idx:
                break
            k, op = rnd.choice(idx), rnd.random()
            if op < 0.45 and lines:
                a.insert(k, rnd.choice(lines))
            elif op < 0.6:
                a.insert(k, a[k])
            elif op < 0.75 and not a[k].startswith(("BEGIN", "END")):
                del a[k]
            elif op < 0.9 and k + 1 < len(a):
                a[k], a[k + 1] = a[k + 1], a[k]
            else:
                a[k] = a[k].replace(":", ":\\", 1)
        yield "\r\n".join(a)


def screen(binary, paths):
    """The files that fail, running the binary over the rest after each failure."""
    env = dict(os.environ, JMAPD_FUZZ_FIRST_ROUND="1")
    todo, failed = list(paths), []
    while todo:
        out = subprocess.run([binary, "-runs=1"] + todo, env=env, capture_output=True)
        if out.returncode == 0:
            break
        ran = [l[9:] for l in out.stderr.decode("utf-8", "replace").splitlines()
               if l.startswith("Running: ")]
        if not ran:
            sys.exit("no Running line:\n" + out.stderr.decode("utf-8", "replace")[-2000:])
        failed.append(ran[-1])
        todo = todo[todo.index(ran[-1]) + 1:]
    return failed


def main():
    argv = sys.argv[1:]
    seed = 8
    if "--seed" in argv:
        i = argv.index("--seed")
        seed = int(argv[i + 1])
        del argv[i:i + 2]
    keep = None
    if "--keep" in argv:
        i = argv.index("--keep")
        keep = argv[i + 1]
        del argv[i:i + 2]
    if not argv:
        sys.exit(__doc__)
    binary, kinds = argv[0], argv[1:] or ["single", "combos", "zones", "calendars", "mutate"]
    gens = {"single": single, "combos": combos, "zones": zones, "calendars": calendars,
            "mutate": mutate}
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            rnd = random.Random(seed)
            paths = []
            for i, text in enumerate(gens[kind](rnd)):
                path = os.path.join(tmp, "%s-%05d.ics" % (kind, i))
                with open(path, "w", newline="") as fh:
                    fh.write(text)
                paths.append(path)
            failed = screen(binary, paths)
            print("%s: %d files, %d failing" % (kind, len(paths), len(failed)))
            for f in failed:
                with open(f, "rb") as fh:
                    text = fh.read().decode("utf-8", "replace")
                print("  %s\n    %s" % (f, text.replace("\r\n", "\n    ")[:3000]))
                if keep:
                    os.makedirs(keep, exist_ok=True)
                    shutil.copy(f, keep)
            bad += len(failed)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
