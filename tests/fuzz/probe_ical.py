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
with calendar-level properties in one file), mixed (several VCALENDARs whose series and
overrides are spread over them, with METHODs and VTIMEZONEs repeated or redefined),
participants (ORGANIZER, ATTENDEE and PARTICIPANT with many parameters, in series and
overrides), alarms (VALARMs of every trigger kind, acknowledged and snoozed, in series and
overrides), places (LOCATION, GEO, VLOCATION and DERIVED in series and overrides); and overrides that
change what their series has: alarm-overrides (VALARMs kept, changed, dropped or added, UID'd
or not, acknowledged), delegation (ATTENDEEs whose DELEGATED-TO/-FROM, MEMBER, RSVP, PARTSTAT
change), tasks (recurring VTODOs with DUE, COMPLETED, PERCENT-COMPLETE, STATUS,
ESTIMATED-DURATION, RELATED-TO), links (ATTACH, IMAGE, LINK, URL, RELATED-TO, CATEGORIES,
CONCEPT, STRUCTURED-DATA); mutate (lines of the seeds spliced, repeated, dropped, swapped,
escaped). Default: all. Exit status 1 if a file fails.
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


def series(first, override, kind="VEVENT", start="DTSTART"):
    """A daily series and the override of its second instance (moved by an hour); a VTODO
    may recur by its DUE instead."""
    return (HDR + comp(kind, "%s:20240101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\n%s"
                       % (start, first))
            + comp(kind, "RECURRENCE-ID:20240102T100000Z\r\n%s:20240102T110000Z\r\n%s"
                   % (start, override)) + TAIL)


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


def vtimezone(tzid, offset):
    return ("BEGIN:VTIMEZONE\r\nTZID:%s\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
            "TZOFFSETFROM:%s\r\nTZOFFSETTO:%s\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
            % (tzid, offset, offset))


def mixed(rnd, n=4000):
    """A series and its overrides spread over several VCALENDARs of one file, with
    calendar-level properties, METHODs and VTIMEZONEs repeated (the same or redefined)."""
    for _ in range(n):
        ncal = rnd.choice([2, 2, 3])
        cals = [[] for _ in range(ncal)]
        tz = rnd.choice(["Custom/Zone", "Europe/Berlin", None])
        for c in cals:
            c += [rnd.choice(CAL_PROPS) for _ in range(rnd.choice([0, 1, 2]))]
            if tz and rnd.random() < 0.6:
                c.append(vtimezone(tz, rnd.choice(["+0300", "+0300", "-0500"])).rstrip("\r\n"))
        start = ("DTSTART;TZID=%s:20240101T100000" % tz) if tz else "DTSTART:20240101T100000Z"
        rids = ["20240102T100000", "20240103T100000"]
        uids = ["u1", "u1", "u2"]
        for uid in uids[:rnd.choice([1, 2, 3])]:
            body = "%s\r\nRRULE:FREQ=DAILY;COUNT=4\r\n%s" % (start, rnd.choice(PROPS))
            rnd.choice(cals).append(comp("VEVENT", body).replace("UID:u1", "UID:" + uid)
                                    .rstrip("\r\n"))
            for rid in rnd.sample(rids, rnd.choice([0, 1, 2])):
                r = ("RECURRENCE-ID;TZID=%s:%s" % (tz, rid)) if tz else "RECURRENCE-ID:%sZ" % rid
                extra = "\r\n".join(rnd.choice(PROPS) for _ in range(rnd.choice([0, 1, 2])))
                rnd.choice(cals).append(comp("VEVENT", r + ("\r\n" + extra if extra else ""))
                                        .replace("UID:u1", "UID:" + uid).rstrip("\r\n"))
        yield "".join(HDR + "".join(x + "\r\n" for x in c) + TAIL for c in cals)


PARAMS = ["CN=A", "CN=\"B, C\"", "ROLE=CHAIR", "ROLE=OPT-PARTICIPANT", "ROLE=NON-PARTICIPANT",
          "ROLE=X-ODD", "PARTSTAT=ACCEPTED", "PARTSTAT=TENTATIVE", "PARTSTAT=DELEGATED",
          "PARTSTAT=X-ODD", "RSVP=TRUE", "RSVP=FALSE", "CUTYPE=GROUP", "CUTYPE=RESOURCE",
          "CUTYPE=ROOM", "CUTYPE=X-ODD", "MEMBER=\"mailto:g@x\"", "DELEGATED-TO=\"mailto:d@x\"",
          "DELEGATED-FROM=\"mailto:a@x\"", "SENT-BY=\"mailto:s@x\"", "DIR=\"http://d\"",
          "LANGUAGE=de", "SCHEDULE-AGENT=CLIENT", "SCHEDULE-AGENT=NONE",
          "SCHEDULE-STATUS=2.0", "SCHEDULE-FORCE-SEND=REQUEST", "EMAIL=e@x", "X-P=1", "JSID=p9"]
ADDRS = ["mailto:a@x", "mailto:A@x", "mailto:o@x", "mailto:O@X", "mailto:b@x", "urn:uuid:1",
         "mailto:g@x"]


def person(rnd, name):
    ps = rnd.sample(PARAMS, rnd.choice([0, 1, 2, 3]))
    return name + "".join(";" + p for p in ps) + ":" + rnd.choice(ADDRS)


def participants(rnd, n=5000):
    """ORGANIZER, ATTENDEE and PARTICIPANT components, with many parameters and addresses
    that differ in case, in series and overrides."""
    for _ in range(n):
        def people():
            out = [person(rnd, "ATTENDEE") for _ in range(rnd.choice([0, 1, 2, 3]))]
            if rnd.random() < 0.6:
                out.append(person(rnd, "ORGANIZER"))
            if rnd.random() < 0.2:
                out.append("BEGIN:PARTICIPANT\r\nUID:p%d\r\nPARTICIPANT-TYPE:%s\r\n"
                           "CALENDAR-ADDRESS:%s\r\nEND:PARTICIPANT"
                           % (rnd.randrange(3), rnd.choice(["ACTIVE", "CONTACT", "X-ODD"]),
                              rnd.choice(ADDRS)))
            rnd.shuffle(out)
            return "\r\n".join(out)
        if rnd.random() < 0.4:
            yield HDR + comp(rnd.choice(["VEVENT", "VTODO"]), rnd.choice(STARTS) + people()) + TAIL
        else:
            yield series(people(), people())


TRIGGERS = ["TRIGGER:-PT15M", "TRIGGER:PT0S", "TRIGGER;RELATED=END:PT5M", "TRIGGER:-P1D",
            "TRIGGER;VALUE=DATE-TIME:20240101T090000Z", "TRIGGER;RELATED=START:-PT1H",
            "TRIGGER:-PT15M\r\nDURATION:PT5M\r\nREPEAT:2", "TRIGGER;VALUE=DATE-TIME:20240101T090000"]
ALARM_PROPS = ["ACTION:DISPLAY\r\nDESCRIPTION:d", "ACTION:EMAIL\r\nSUMMARY:s\r\nDESCRIPTION:d"
               "\r\nATTENDEE:mailto:a@x", "ACTION:AUDIO", "ACTION:X-ODD", "ACTION:PROCEDURE",
               "ACKNOWLEDGED:20240101T080000Z", "UID:a1", "UID:a2", "RELATED-TO;RELTYPE=SNOOZE:a1",
               "RELATED-TO:a1", "X-WR-ALARMUID:w1", "PROXIMITY:ARRIVE", "X-APPLE-DEFAULT-ALARM:TRUE",
               "DESCRIPTION;LANGUAGE=de:d", "JSID=x"]


def alarm(rnd):
    body = [rnd.choice(TRIGGERS)] + rnd.sample(ALARM_PROPS, rnd.choice([1, 2, 3]))
    return "BEGIN:VALARM\r\n" + "\r\n".join(body) + "\r\nEND:VALARM"


def alarms(rnd, n=4000):
    """VALARMs of every trigger kind, acknowledged and snoozed, in series and overrides."""
    for _ in range(n):
        def some():
            return "\r\n".join(alarm(rnd) for _ in range(rnd.choice([0, 1, 2, 3])))
        if rnd.random() < 0.4:
            yield HDR + comp(rnd.choice(["VEVENT", "VTODO"]), rnd.choice(STARTS) + some()) + TAIL
        else:
            yield series(some(), some())


PLACES = ["LOCATION:Hall", "LOCATION:Room", "LOCATION;ALTREP=\"http://x\":Room", "LOCATION:",
          "LOCATION;DERIVED=TRUE:Room", "LOCATION;DERIVED=TRUE:Hall", "LOCATION;JSID=l1:Room",
          "LOCATION;LANGUAGE=de:Saal", "GEO:1.5;2.5", "GEO:3.5;4.5",
          "BEGIN:VLOCATION\r\nUID:l1\r\nNAME:Room\r\nEND:VLOCATION",
          "BEGIN:VLOCATION\r\nUID:l2\r\nNAME:Hall\r\nGEO:1.5;2.5\r\nEND:VLOCATION",
          "BEGIN:VLOCATION\r\nUID:l3\r\nNAME:Room\r\nLOCATION-TYPE:office\r\nEND:VLOCATION",
          "BEGIN:VLOCATION\r\nUID:l1\r\nEND:VLOCATION", "CONFERENCE;VALUE=URI:http://c",
          "CONFERENCE;VALUE=URI;FEATURE=AUDIO,VIDEO;LABEL=L:tel:1"]


def places(rnd, n=4000):
    """LOCATION, GEO, VLOCATION, DERIVED and CONFERENCE in series and overrides."""
    for _ in range(n):
        def some():
            return "\r\n".join(rnd.choice(PLACES) for _ in range(rnd.choice([0, 1, 2, 3, 4])))
        if rnd.random() < 0.4:
            yield HDR + comp(rnd.choice(["VEVENT", "VTODO"]), rnd.choice(STARTS) + some()) + TAIL
        else:
            yield series(some(), some())


# ---- series and overrides that change what the series has (session 11) ----------------

def evolve(rnd, items, pool, change):
    """The override's version of the series' items: each kept as it is, changed or dropped,
    and new ones from pool added, in any order."""
    out = []
    for it in items:
        r = rnd.random()
        if r < 0.4:
            out.append(it)
        elif r < 0.8:
            out.append(change(rnd, it))
    new = [p for p in pool if p not in items]
    out += rnd.sample(new, min(len(new), rnd.choice([0, 0, 1, 2])))
    rnd.shuffle(out)
    return out


def overridden(rnd, n, pool, change, kinds=("VEVENT", "VTODO"), starts=("DTSTART",)):
    """n files, each a series with some items of pool(rnd) (a list of property or component
    texts) and an override that evolves them; now and then the items in an entry alone, or
    an override that has none of them."""
    for _ in range(n):
        kind, start = rnd.choice(kinds), rnd.choice(starts)
        if kind == "VEVENT":
            start = "DTSTART"
        items = pool(rnd)
        first = rnd.sample(items, min(len(items), rnd.choice([0, 1, 2, 3, 4])))
        if rnd.random() < 0.15:
            yield HDR + comp(kind, "%s:20240101T100000Z\r\n%s" % (start, "\r\n".join(first))) + TAIL
            continue
        second = evolve(rnd, first, items, change) if rnd.random() < 0.9 else []
        yield series("\r\n".join(first), "\r\n".join(second), kind, start)


def prop_name(line):
    return line.split(":")[0].split(";")[0]


def replace_line(rnd, item, changes):
    """A property or component text with one line replaced by one of changes of the same
    name, or that line added (before END: in a component)."""
    ls = item.split("\r\n")
    new = rnd.choice(changes)
    same = [k for k, l in enumerate(ls) if prop_name(l) == prop_name(new)]
    if same:
        ls[same[0]] = new
    elif ls[-1].startswith("END:"):
        ls.insert(-1, new)
    else:
        ls.append(new)
    return "\r\n".join(ls)


# (a) alarms: the override keeps, changes, drops or adds the series' VALARMs, UID'd or not
ALARMS = [
    "BEGIN:VALARM\r\nUID:a1\r\nTRIGGER:-PT15M\r\nACTION:DISPLAY\r\nDESCRIPTION:d\r\nEND:VALARM",
    "BEGIN:VALARM\r\nUID:a2\r\nTRIGGER;RELATED=END:PT0S\r\nACTION:AUDIO\r\nEND:VALARM",
    "BEGIN:VALARM\r\nTRIGGER:-PT30M\r\nACTION:DISPLAY\r\nDESCRIPTION:d\r\nEND:VALARM",
    "BEGIN:VALARM\r\nTRIGGER;VALUE=DATE-TIME:20240102T090000Z\r\nACTION:DISPLAY\r\n"
    "DESCRIPTION:abs\r\nEND:VALARM",
    "BEGIN:VALARM\r\nUID:a3\r\nTRIGGER:-PT5M\r\nACTION:DISPLAY\r\nDESCRIPTION:s\r\n"
    "ACKNOWLEDGED:20240101T095500Z\r\nEND:VALARM",
    "BEGIN:VALARM\r\nUID:a4\r\nTRIGGER;VALUE=DATE-TIME:20240101T095000Z\r\nACTION:DISPLAY\r\n"
    "DESCRIPTION:z\r\nRELATED-TO;RELTYPE=SNOOZE:a1\r\nEND:VALARM",
    "BEGIN:VALARM\r\nTRIGGER:-P1D\r\nACTION:EMAIL\r\nSUMMARY:s\r\nDESCRIPTION:d\r\n"
    "ATTENDEE:mailto:a@x\r\nEND:VALARM",
    "BEGIN:VALARM\r\nX-WR-ALARMUID:w1\r\nTRIGGER:-PT10M\r\nACTION:DISPLAY\r\nDESCRIPTION:w\r\n"
    "END:VALARM"]
ALARM_CHANGES = ["TRIGGER:-PT45M", "TRIGGER;RELATED=END:-PT5M",
                 "TRIGGER;VALUE=DATE-TIME:20240102T100000Z", "ACTION:AUDIO", "DESCRIPTION:other",
                 "DESCRIPTION;LANGUAGE=de:d", "ACKNOWLEDGED:20240102T100500Z",
                 "RELATED-TO;RELTYPE=SNOOZE:a2", "UID:a9", "UID:a1", "X-P:1", "REPEAT:2",
                 "DURATION:PT5M"]


def change_alarm(rnd, item):
    if rnd.random() < 0.15:  # the same alarm without its UID
        return "\r\n".join(l for l in item.split("\r\n") if not l.startswith("UID:"))
    return replace_line(rnd, item, ALARM_CHANGES)


def alarm_overrides(rnd, n=4000):
    """Overrides whose VALARMs change, add or remove the series' alerts (events, and tasks
    recurring by DTSTART or DUE)."""
    return overridden(rnd, n, lambda r: ALARMS, change_alarm, starts=("DTSTART", "DUE"))


# (b) people whose delegation, membership, RSVP and PARTSTAT change between series and override
PEOPLE = ["mailto:a@x", "mailto:b@x", "mailto:c@x", "mailto:d@x", "mailto:g@x"]
PEOPLE_PARAMS = [
    "PARTSTAT=ACCEPTED", "PARTSTAT=DECLINED", "PARTSTAT=TENTATIVE", "PARTSTAT=DELEGATED",
    "PARTSTAT=NEEDS-ACTION", "PARTSTAT=COMPLETED", "PARTSTAT=IN-PROCESS", "PARTSTAT=FAILED",
    "RSVP=TRUE", "RSVP=FALSE", "ROLE=CHAIR", "ROLE=OPT-PARTICIPANT", "ROLE=NON-PARTICIPANT",
    "ROLE=OWNER", "CUTYPE=GROUP", "CUTYPE=INDIVIDUAL", "MEMBER=\"mailto:g@x\"",
    "MEMBER=\"mailto:g@x\",\"mailto:h@x\"", "DELEGATED-TO=\"mailto:d@x\"",
    "DELEGATED-TO=\"mailto:c@x\",\"mailto:d@x\"", "DELEGATED-FROM=\"mailto:a@x\"",
    "DELEGATED-FROM=\"mailto:b@x\"", "CN=N", "SCHEDULE-STATUS=1.2", "SENT-BY=\"mailto:s@x\""]


def people_pool(rnd):
    """This file's people: an ATTENDEE for some addresses, perhaps an ORGANIZER."""
    out = []
    for a in rnd.sample(PEOPLE, rnd.choice([1, 2, 3, 4])):
        ps = {p.split("=")[0]: p for p in rnd.sample(PEOPLE_PARAMS, rnd.choice([1, 2, 3]))}
        out.append("ATTENDEE" + "".join(";" + p for p in ps.values()) + ":" + a)
    if rnd.random() < 0.5:
        out.append("ORGANIZER" + rnd.choice(["", ";CN=O", ";SENT-BY=\"mailto:s@x\""]) + ":"
                   + rnd.choice(PEOPLE + ["mailto:o@x"]))
    return out


def change_person(rnd, item):
    """The same calendar user (now and then spelt in another case) with some parameters
    dropped, changed or added."""
    head, addr = item[:item.rindex(":mailto:")], item[item.rindex(":mailto:") + 1:]
    name, *ps = head.split(";")
    ps = [p for p in ps if rnd.random() < 0.6]
    if name == "ATTENDEE":
        for p in rnd.sample(PEOPLE_PARAMS, rnd.choice([0, 1, 2])):
            ps = [q for q in ps if q.split("=")[0] != p.split("=")[0]] + [p]
    if rnd.random() < 0.1:
        addr = addr.upper()
    return name + "".join(";" + p for p in ps) + ":" + addr


def delegation(rnd, n=5000):
    """ATTENDEEs (and an ORGANIZER) delegating, members of groups, asked to reply, whose
    answers change between the series and its overrides."""
    return overridden(rnd, n, people_pool, change_person)


# (c) VTODO: due, completion, progress, estimates, relations, in recurring tasks' overrides
TASK_PROPS = [
    "DUE:20240103T120000Z", "DUE;VALUE=DATE:20240104", "DURATION:PT2H", "COMPLETED:20240101T110000Z",
    "PERCENT-COMPLETE:0", "PERCENT-COMPLETE:40", "PERCENT-COMPLETE:100", "STATUS:NEEDS-ACTION",
    "STATUS:IN-PROCESS", "STATUS:COMPLETED", "STATUS:CANCELLED", "STATUS:X-ODD",
    "ESTIMATED-DURATION:PT3H", "ESTIMATED-DURATION:P1D", "RELATED-TO:t0",
    "RELATED-TO;RELTYPE=PARENT:t1", "RELATED-TO;RELTYPE=CHILD:t2", "RELATED-TO;RELTYPE=SIBLING:t3",
    "RELATED-TO;RELTYPE=DEPENDS-ON:t4", "RELATED-TO;RELTYPE=FINISHTOSTART;GAP=PT1H:t5",
    "RELATED-TO;RELTYPE=X-ODD:t6", "RELATED-TO;VALUE=URI:urn:uuid:7", "PRIORITY:1",
    "ATTENDEE;PARTSTAT=COMPLETED:mailto:a@x", "ATTENDEE;PARTSTAT=IN-PROCESS:mailto:b@x",
    "ORGANIZER:mailto:o@x", "SHOW-WITHOUT-TIME:TRUE"]
TASK_CHANGES = ["DUE:20240103T150000Z", "COMPLETED:20240102T120000Z", "PERCENT-COMPLETE:70",
                "STATUS:COMPLETED", "STATUS:IN-PROCESS", "ESTIMATED-DURATION:PT30M",
                "RELATED-TO;RELTYPE=CHILD:t1", "PRIORITY:9", "DURATION:PT1H",
                "ATTENDEE;PARTSTAT=FAILED:mailto:a@x", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:b@x"]


def tasks(rnd, n=4000):
    """Recurring VTODOs (by DTSTART or by DUE) with task properties that overrides change."""
    return overridden(rnd, n, lambda r: TASK_PROPS, lambda r, it: replace_line(r, it, TASK_CHANGES),
                      kinds=("VTODO",), starts=("DTSTART", "DUE", "DTSTART"))


# (d) links, relations, keywords, concepts and structured data in series and overrides
LINKS = [
    "ATTACH:http://x/a", "ATTACH;FMTTYPE=text/plain;SIZE=10;FILENAME=a.txt:http://x/a",
    "ATTACH;ENCODING=BASE64;VALUE=BINARY;FMTTYPE=text/plain:aGVsbG8=", "ATTACH;JSID=l1:http://x/b",
    "ATTACH;LABEL=L:http://x/c", "IMAGE;VALUE=URI;DISPLAY=BADGE:http://x/i",
    "IMAGE;VALUE=URI;DISPLAY=THUMBNAIL,FULLSIZE;FMTTYPE=image/png:http://x/j",
    "LINK;LINKREL=alternate;VALUE=URI:http://x/l", "LINK;LINKREL=\"http://r\";LABEL=M;VALUE=URI:http://x/m",
    "LINK;LINKREL=latest-version;VALUE=XML-REFERENCE:http://x/x#y", "LINK;LINKREL=related;VALUE=UID:u9",
    "URL:http://x/u", "URL;VALUE=URI:http://x/v", "RELATED-TO:r1", "RELATED-TO;RELTYPE=PARENT:r2",
    "RELATED-TO;RELTYPE=CHILD,X-ODD:r3", "RELATED-TO;VALUE=URI;RELTYPE=NEXT:http://x/n",
    "CATEGORIES:a,b", "CATEGORIES:c", "CATEGORIES;LANGUAGE=de:d", "CATEGORIES:a\\,b",
    "CONCEPT:http://x/c1", "CONCEPT;LABEL=C:http://x/c2",
    "STRUCTURED-DATA;VALUE=TEXT;FMTTYPE=application/ld+json;SCHEMA=\"https://schema.org/Event\":{}",
    "STRUCTURED-DATA;VALUE=URI;FMTTYPE=application/ld+json:http://x/s",
    "STRUCTURED-DATA;ENCODING=BASE64;VALUE=BINARY;FMTTYPE=application/octet-stream:aGk="]
LINK_CHANGES = ["ATTACH;FMTTYPE=text/html:http://x/a", "ATTACH;JSID=l1:http://x/z",
                "IMAGE;VALUE=URI;DISPLAY=FULLSIZE:http://x/i", "LINK;LINKREL=next;VALUE=URI:http://x/l",
                "URL:http://x/w", "RELATED-TO;RELTYPE=SIBLING:r1", "CATEGORIES:e,f",
                "CONCEPT:http://x/c3", "STRUCTURED-DATA;VALUE=TEXT;FMTTYPE=application/ld+json:[]"]


def links(rnd, n=4000):
    """ATTACH, IMAGE, LINK, URL, RELATED-TO, CATEGORIES, CONCEPT and STRUCTURED-DATA with
    their parameters, in series and overrides."""
    return overridden(rnd, n, lambda r: LINKS, lambda r, it: replace_line(r, it, LINK_CHANGES))


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
    gens = {"single": single, "combos": combos, "zones": zones, "calendars": calendars,
            "mixed": mixed, "participants": participants, "alarms": alarms, "places": places,
            "alarm-overrides": alarm_overrides, "delegation": delegation, "tasks": tasks,
            "links": links, "mutate": mutate}
    binary, kinds = argv[0], argv[1:] or list(gens)
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
