"""Writes tests/formats/ical/realworld/<producer>/*.ics: calendars in the shapes the major
producers really write (issue 12 §3.5), each file a different mix of that producer's habits,
deterministic (seeded). Run it again after changing it: `python3 gen_realworld.py`.

Habits reproduced, per producer (from their published exports and bug reports):
  outlook    Windows zone names and "(UTC+01:00) Amsterdam, ..." labels in TZID, VTIMEZONE
             with TZID "Canberra\\, Melbourne\\, Sydney", X-MICROSOFT-CDO-*, Windows-1252
             text without charset, bare VEVENT in mail bodies, CLASS, X-ALT-DESC HTML
  exchange   "(GMT+01:00) ..." labels (older servers), METHOD:REQUEST, ATTENDEE with CN
             holding commas, RECURRENCE-ID overrides with THISANDFUTURE-free instances
  google     UTC or Olson TZIDs with X-WR-TIMEZONE, RRULE with EXDATE and overrides,
             X-GOOGLE-CONFERENCE, long folded DESCRIPTION with escaped commas
  apple      X-WR-CALNAME, X-APPLE-STRUCTURED-LOCATION, VALARM with ACKNOWLEDGED and
             X-WR-ALARMUID, all-day VALUE=DATE events, RRULE with BYDAY lists
  thunderbird /mozilla.org/20070129_1/Europe/Berlin TZIDs, X-MOZ-GENERATION, X-MOZ-LASTACK,
             VTODO with PERCENT-COMPLETE, lower-case parameter values
  lotus      Lotus Notes zone names without " Standard Time" ("W. Europe", "Eastern"),
             X-LOTUS-*, DATE values with a TZID, missing DTSTAMP
  nextcloud  Sabre PRODID, X-NEXTCLOUD-*, RELATED-TO, CATEGORIES lists, COLOR, VTODO with DUE
  yahoo      GMT+0100 style TZIDs, repeated SUMMARY, lower-case property names
  khal       floating times, RDATE lists, DURATION instead of DTEND
  generator  web generators (event sites, booking mails): missing UID, missing final END,
             CRLF and LF mixed, malformed lines, bare VEVENT
  davx5      Android sync: X-ANDROID props, UNTIL in UTC with TZID start, EXDATE lists
  zimbra     X-ZIMBRA props, ATTENDEE with SENT-BY, VALARM EMAIL
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "realworld")

WORDS = ("Team sync Budget review Planning Standup Lunch Offsite Retro Demo Workshop "
         "Interview Board meeting Dentist Yoga Release party Training Webinar").split()
PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def fold(line):
    b = line.encode("utf-8")
    out, cur = [], b""
    for ch in line:
        e = ch.encode("utf-8")
        if len(cur) + len(e) > (75 if not out else 74):
            out.append(cur)
            cur = b""
        cur += e
    out.append(cur)
    return b"\r\n ".join(out).decode("utf-8") if b else ""


def esc(s):
    return s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


class Cal:
    def __init__(self, rnd, prodid, crlf=True):
        self.r = rnd
        self.lines = []
        self.prodid = prodid
        self.crlf = crlf

    def add(self, *lines):
        self.lines.extend(lines)

    def text(self, wrap=True, final_end=True):
        body = self.lines
        if wrap:
            body = ["BEGIN:VCALENDAR", f"PRODID:{self.prodid}", "VERSION:2.0"] + body
            if final_end:
                body = body + ["END:VCALENDAR"]
        nl = "\r\n" if self.crlf else "\n"
        return nl.join(fold(l) for l in body) + nl


def dt(r, year=None):
    y = year or r.choice([2023, 2024, 2025])
    return f"{y}{r.randint(1, 12):02d}{r.randint(1, 28):02d}T{r.randint(7, 19):02d}{r.choice(['00', '30'])}00"


def plus_hours(s, h):
    """s (YYYYMMDDTHHMMSS, hours 7..19) h hours later, the same day."""
    return f"{s[:9]}{int(s[9:11]) + h:02d}{s[11:]}"


def title(r):
    return " ".join(r.sample(WORDS, 2))


def rrule(r, s):
    """A rule DTSTART s is an instance of, as producers write them (RFC 5545 §3.8.5.3: the
    recurrence set of an unsynchronised DTSTART is undefined)."""
    import datetime
    d = datetime.date(int(s[:4]), int(s[4:6]), int(s[6:8]))
    wd = WEEKDAYS[d.weekday()]
    nth = (d.day - 1) // 7 + 1
    kind = r.randint(0, 5)
    if kind == 0:
        other = r.choice([w for w in WEEKDAYS[:5] if w != wd])
        days = sorted({wd, other}, key=WEEKDAYS.index)
        return f"FREQ=WEEKLY;COUNT={r.randint(3, 20)};BYDAY={','.join(days)}"
    if kind == 1:
        return f"FREQ=DAILY;INTERVAL={r.randint(1, 3)};COUNT={r.randint(2, 15)}"
    if kind == 2 and nth <= 4:
        return f"FREQ=MONTHLY;BYDAY={nth}{wd};COUNT={r.randint(3, 12)}"
    if kind == 3:
        return f"FREQ=YEARLY;COUNT={r.randint(2, 6)}"
    if kind == 4:
        return f"FREQ=WEEKLY;UNTIL={r.choice([2025, 2026])}0101T000000Z"
    return f"FREQ=MONTHLY;BYMONTHDAY={d.day};COUNT={r.randint(2, 10)}"


def attendees(r, n, cn_commas=False):
    out = []
    for p in r.sample(PEOPLE, n):
        cn = f'"{p.title()}, {p[0].upper()}."' if cn_commas else p.title()
        out.append(f"ATTENDEE;CN={cn};ROLE=REQ-PARTICIPANT;PARTSTAT={r.choice(['ACCEPTED', 'NEEDS-ACTION', 'TENTATIVE'])};RSVP=TRUE:mailto:{p}@example.com")
    return out


SYDNEY_VTZ = ["BEGIN:VTIMEZONE", "TZID:Canberra\\, Melbourne\\, Sydney", "BEGIN:STANDARD",
              "DTSTART:16010401T030000", "TZOFFSETFROM:+1100", "TZOFFSETTO:+1000",
              "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4", "END:STANDARD", "BEGIN:DAYLIGHT",
              "DTSTART:16011007T020000", "TZOFFSETFROM:+1000", "TZOFFSETTO:+1100",
              "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=10", "END:DAYLIGHT", "END:VTIMEZONE"]
WEU_VTZ = ["BEGIN:VTIMEZONE", "TZID:W. Europe Standard Time", "BEGIN:STANDARD",
           "DTSTART:16010101T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100",
           "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10", "END:STANDARD", "BEGIN:DAYLIGHT",
           "DTSTART:16010101T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200",
           "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT", "END:VTIMEZONE"]


def outlook(r, i):
    c = Cal(r, "-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN")
    c.add("METHOD:PUBLISH", "X-MS-OLK-FORCEINSPECTOROPEN:TRUE")
    tz = r.choice(["W. Europe Standard Time", '"(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"',
                   "Pacific Standard Time", "Eastern Standard Time", '"Canberra, Melbourne, Sydney"'])
    if "Canberra" in tz:
        c.add(*SYDNEY_VTZ)
    elif tz == "W. Europe Standard Time" and r.random() < 0.5:
        c.add(*WEU_VTZ)
    for k in range(r.randint(1, 4)):
        s = dt(r)
        ev = ["BEGIN:VEVENT", f"CLASS:{r.choice(['PUBLIC', 'PRIVATE'])}", "CREATED:20231201T101010Z",
              f"DESCRIPTION:{esc(title(r))} \\n\\nJoin: https://teams.example.com/l/{i}-{k}",
              f"DTEND;TZID={tz}:{s[:9]}{int(s[9:11]) + 1:02d}{s[11:]}", "DTSTAMP:20240102T080000Z",
              f"DTSTART;TZID={tz}:{s}", "PRIORITY:5", "SEQUENCE:0",
              f"SUMMARY;LANGUAGE=en-us:{title(r)}", "TRANSP:OPAQUE",
              f"UID:040000008200E00074C5B7101A82E0080000000{i:03d}{k}",
              "X-ALT-DESC;FMTTYPE=text/html:<html><body><p>Agenda</p></body></html>",
              "X-MICROSOFT-CDO-BUSYSTATUS:BUSY", "X-MICROSOFT-CDO-IMPORTANCE:1",
              "X-MICROSOFT-DISALLOW-COUNTER:FALSE"]
        if r.random() < 0.5:
            ev.insert(2, f"RRULE:{rrule(r, s)}")
        if r.random() < 0.4:
            ev += attendees(r, 2)
            ev.append("ORGANIZER;CN=Boss:mailto:boss@example.com")
        if r.random() < 0.3:
            ev += ["BEGIN:VALARM", "TRIGGER:-PT15M", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "END:VALARM"]
        ev.append("END:VEVENT")
        c.add(*ev)
    text = c.text(wrap=r.random() > 0.15)
    if r.random() < 0.3:  # Windows-1252 without a charset
        return text.replace("Agenda", "Agenda \u2013 caf\u00e9").encode("cp1252")
    return text.encode()


def exchange(r, i):
    c = Cal(r, r.choice(["Microsoft Exchange Server 2010", "Microsoft CDO for Microsoft Exchange"]))
    c.add("METHOD:REQUEST")
    tz = r.choice(['"(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"',
                   '"(GMT-05:00) Eastern Time (US & Canada)"', "GMT Standard Time", "Romance Standard Time"])
    s = dt(r)
    uid = f"exch-{i}@example.com"
    main = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20240110T120000Z", f"DTSTART;TZID={tz}:{s}",
            "DURATION:PT1H", f"RRULE:FREQ=WEEKLY;COUNT={r.randint(4, 9)}", f"SUMMARY:{title(r)}",
            "ORGANIZER;CN=\"Doe, Jane\":mailto:jane@example.com"] + attendees(r, 3, cn_commas=True) + [
            "X-MICROSOFT-CDO-APPT-SEQUENCE:0", "END:VEVENT"]
    c.add(*main)
    if r.random() < 0.6:
        rid = f"{s[:6]}{int(s[6:8]) + 7:02d}{s[8:]}" if int(s[6:8]) <= 21 else s
        c.add("BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20240110T120000Z", f"RECURRENCE-ID;TZID={tz}:{rid}",
              f"DTSTART;TZID={tz}:{rid[:9]}{int(rid[9:11]) + 1:02d}{rid[11:]}", "DURATION:PT1H",
              f"SUMMARY:{title(r)} (moved)", "END:VEVENT")
    return c.text().encode()


def google(r, i):
    c = Cal(r, "-//Google Inc//Google Calendar 70.9054//EN")
    tz = r.choice(["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"])
    c.add("CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{r.choice(PEOPLE)}@example.com",
          f"X-WR-TIMEZONE:{tz}")
    for k in range(r.randint(1, 5)):
        s = dt(r)
        uid = f"{r.getrandbits(64):016x}{k}@google.com"
        start = f"DTSTART:{s}Z" if tz == "UTC" or r.random() < 0.3 else f"DTSTART;TZID={tz}:{s}"
        ev = ["BEGIN:VEVENT", start, "DTEND" + start[7:].replace(s, plus_hours(s, 1)),
              "DTSTAMP:20240301T100000Z", f"UID:{uid}", "CREATED:20240101T000000Z",
              "DESCRIPTION:" + esc("Please join, bring notes; see https://docs.example.com/a?b=c,d " * 3),
              "LAST-MODIFIED:20240201T000000Z", "LOCATION:" + esc("Room 4, Building B"), "SEQUENCE:0",
              "STATUS:CONFIRMED", f"SUMMARY:{title(r)}", "TRANSP:OPAQUE"]
        rec = r.random() < 0.6
        if rec:
            ev.insert(3, f"RRULE:{rrule(r, s)}")
        if r.random() < 0.3:
            ev.append("X-GOOGLE-CONFERENCE:https://meet.google.com/abc-defg-hij")
        ev.append("END:VEVENT")
        c.add(*ev)
        if rec and r.random() < 0.5:  # the first instance an hour later
            c.add("BEGIN:VEVENT", start.replace(s, plus_hours(s, 1)),
                  "DTSTAMP:20240301T100000Z", f"UID:{uid}", "RECURRENCE-ID" + start[7:],
                  f"SUMMARY:{title(r)} (changed)", "END:VEVENT")
    return c.text().encode()


def apple(r, i):
    c = Cal(r, "-//Apple Inc.//macOS 14.2//EN")
    c.add("CALSCALE:GREGORIAN", f"X-WR-CALNAME:{r.choice(['Home', 'Work', 'Family'])}",
          "X-APPLE-CALENDAR-COLOR:#1BADF8")
    c.add("BEGIN:VTIMEZONE", "TZID:Europe/Paris", "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100",
          "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "DTSTART:19810329T020000", "TZNAME:CEST",
          "TZOFFSETTO:+0200", "END:DAYLIGHT", "BEGIN:STANDARD", "TZOFFSETFROM:+0200",
          "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "DTSTART:19961027T030000", "TZNAME:CET",
          "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE")
    for k in range(r.randint(1, 4)):
        s = dt(r)
        allday = r.random() < 0.4
        ev = ["BEGIN:VEVENT", "CREATED:20240105T101112Z", f"UID:{r.getrandbits(60):X}-{i}-{k}"]
        if allday:
            ev += [f"DTSTART;VALUE=DATE:{s[:8]}", f"DTEND;VALUE=DATE:{s[:6]}{int(s[6:8]) + 1:02d}"]
        else:
            ev += [f"DTSTART;TZID=Europe/Paris:{s}", f"DTEND;TZID=Europe/Paris:{s[:9]}{int(s[9:11]) + 2:02d}{s[11:]}"]
        if r.random() < 0.5:
            ev.append(f"RRULE:{rrule(r, s)}")
        ev += ["TRANSP:OPAQUE", "X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC", f"SUMMARY:{title(r)}",
               "LAST-MODIFIED:20240105T101300Z", "DTSTAMP:20240105T101300Z", "SEQUENCE:1",
               "LOCATION:Caf\u00e9 de Flore\\n172 Bd Saint-Germain",
               "X-APPLE-STRUCTURED-LOCATION;VALUE=URI;X-ADDRESS=172 Bd Saint-Germain;X-APPLE-RADIUS=70;"
               "X-TITLE=Caf\u00e9 de Flore:geo:48.854,2.333"]
        if r.random() < 0.6:
            ev += ["BEGIN:VALARM", f"X-WR-ALARMUID:{r.getrandbits(40):X}", f"UID:{r.getrandbits(40):X}",
                   "TRIGGER:-PT30M", "ATTACH;VALUE=URI:Chord", "ACTION:AUDIO",
                   "ACKNOWLEDGED:20240105T101300Z", "END:VALARM"]
        ev.append("END:VEVENT")
        c.add(*ev)
    return c.text().encode()


def thunderbird(r, i):
    c = Cal(r, "-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN")
    c.add("BEGIN:VTIMEZONE", "TZID:/mozilla.org/20070129_1/Europe/Berlin", "X-LIC-LOCATION:Europe/Berlin",
          "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST",
          "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT",
          "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET",
          "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10", "END:STANDARD",
          "END:VTIMEZONE")
    for k in range(r.randint(1, 3)):
        s = dt(r)
        tzid = r.choice(["/mozilla.org/20070129_1/Europe/Berlin", "/mozilla.org/20050126_1/Europe/Berlin"])
        if r.random() < 0.4:
            c.add("BEGIN:VTODO", f"UID:{r.getrandbits(64):x}", "DTSTAMP:20240101T000000Z",
                  f"SUMMARY:{title(r)}", f"DUE;TZID={tzid}:{s}", f"PERCENT-COMPLETE:{r.choice([0, 25, 50])}",
                  "STATUS:IN-PROCESS", "X-MOZ-GENERATION:2", "END:VTODO")
            continue
        c.add("BEGIN:VEVENT", "CREATED:20240101T000000Z", "LAST-MODIFIED:20240102T000000Z",
              "DTSTAMP:20240102T000000Z", f"UID:{r.getrandbits(64):x}-{k}", f"SUMMARY:{title(r)}",
              f"DTSTART;TZID={tzid}:{s}", f"DTEND;TZID={tzid}:{s[:9]}{int(s[9:11]) + 1:02d}{s[11:]}",
              *([f"RRULE:{rrule(r, s)}"] if r.random() < 0.5 else []),
              "X-MOZ-GENERATION:1", "X-MOZ-LASTACK:20240102T000000Z",
              "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER;VALUE=DURATION:-PT15M", "DESCRIPTION:Default Mozilla Description",
              "END:VALARM", "END:VEVENT")
    return c.text().encode()


def lotus(r, i):
    c = Cal(r, "-//Lotus Development Corporation//NONSGML Notes 9.0.1//EN_C")
    tz = r.choice(['"W. Europe"', "Eastern", "Pacific", '"Central Europe"', '"GMT"'])
    c.add("METHOD:PUBLISH", "X-LOTUS-CHILD_UID:" + f"{r.getrandbits(64):X}")
    s = dt(r)
    ev = ["BEGIN:VEVENT", f"DTSTART;TZID={tz}:{s}", f"DTEND;TZID={tz}:{s[:9]}{int(s[9:11]) + 1:02d}{s[11:]}",
          "TRANSP:OPAQUE", f"SUMMARY:{title(r)}", f"UID:{r.getrandbits(96):032X}",
          "X-LOTUS-BROADCAST:FALSE", "X-LOTUS-NOTESVERSION:2", "X-LOTUS-APPTTYPE:0"]
    if r.random() < 0.5:
        ev.append("DTSTAMP:20240101T000000Z")  # Notes often omits it
    if r.random() < 0.4:  # an all-day event written as DATE with a TZID
        ev[1] = f"DTSTART;VALUE=DATE;TZID={tz}:{s[:8]}"
        ev[2] = f"DTEND;VALUE=DATE;TZID={tz}:{s[:6]}{int(s[6:8]) + 1:02d}"
        ev[5] = "X-LOTUS-APPTTYPE:2"
    if r.random() < 0.4:
        ev.insert(3, f"RDATE;TZID={tz}:{s[:6]}{int(s[6:8]) % 27 + 1:02d}{s[8:]}")
    ev.append("END:VEVENT")
    c.add(*ev)
    return c.text().encode("cp1252" if r.random() < 0.3 else "utf-8")


def nextcloud(r, i):
    c = Cal(r, "-//Sabre//Sabre VObject 4.5.4//EN")
    c.add("CALSCALE:GREGORIAN", "X-WR-CALNAME:Personal", "X-APPLE-CALENDAR-COLOR:#0082c9")
    for k in range(r.randint(1, 4)):
        s = dt(r)
        if r.random() < 0.4:
            c.add("BEGIN:VTODO", f"UID:{r.getrandbits(64):x}", "CREATED:20240101T000000Z",
                  "DTSTAMP:20240101T000000Z", f"SUMMARY:{title(r)}", f"DUE;VALUE=DATE:{s[:8]}",
                  "PRIORITY:1", f"CATEGORIES:{','.join(r.sample(WORDS, 2))}",
                  *(["RELATED-TO;RELTYPE=PARENT:parent-" + str(i)] if r.random() < 0.5 else []),
                  "X-NEXTCLOUD-TASKS-PINNED:TRUE", "END:VTODO")
            continue
        c.add("BEGIN:VEVENT", f"UID:{r.getrandbits(64):x}-{k}", "DTSTAMP:20240101T000000Z",
              f"DTSTART;TZID=Europe/Vienna:{s}", f"DTEND;TZID=Europe/Vienna:{s[:9]}{int(s[9:11]) + 1:02d}{s[11:]}",
              f"SUMMARY:{title(r)}", "COLOR:tomato", f"CATEGORIES:{','.join(r.sample(WORDS, 3))}",
              *([f"RRULE:{rrule(r, s)}"] if r.random() < 0.5 else []), "END:VEVENT")
    c.add("BEGIN:VTIMEZONE", "TZID:Europe/Vienna", "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100",
          "TZOFFSETTO:+0200", "TZNAME:CEST", "DTSTART:19700329T020000",
          "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT", "BEGIN:STANDARD",
          "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "DTSTART:19701025T030000",
          "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD", "END:VTIMEZONE")
    return c.text().encode()


def yahoo(r, i):
    c = Cal(r, "-//Yahoo! Inc.//Yahoo! Calendar//EN")
    s = dt(r)
    tz = r.choice(["GMT+0100", "GMT-0500", '"GMT+05:30"', "GMT+0000"])
    lines = ["begin:vevent", f"uid:yahoo-{i}@example.com", "dtstamp:20240101T000000Z",
             f"dtstart;tzid={tz}:{s}", "duration:PT45M", f"summary:{title(r)}"]
    if r.random() < 0.5:
        lines.append(f"summary:{title(r)}")  # a second SUMMARY
    if r.random() < 0.4:
        lines.append(f"rrule:freq=weekly;count={r.randint(2, 8)}")
    lines.append("end:vevent")
    c.add(*lines)
    return c.text().encode()


def khal(r, i):
    c = Cal(r, "-//PIMUTILS.ORG//NONSGML khal / icalendar //EN")
    s = dt(r)
    dates = ",".join(f"{s[:6]}{d:02d}{s[8:]}" for d in sorted(r.sample(range(1, 29), 3)))
    c.add("BEGIN:VEVENT", f"SUMMARY:{title(r)}", f"DTSTART:{s}", f"DURATION:PT{r.randint(1, 3)}H",
          "DTSTAMP:20240101T000000Z", f"UID:{r.getrandbits(64):X}", f"RDATE:{dates}",
          *(["EXDATE:" + dates.split(",")[0]] if r.random() < 0.4 else []), "END:VEVENT")
    return c.text().encode()


def generator(r, i):
    c = Cal(r, r.choice(["-//Eventbrite//Eventbrite Calendar//EN", "-//Meetup//Meetup Events v1.0//EN",
                         "-//Booking Engine//Confirmation 2.1//EN", "-//www.example-tickets.com//iCal 1.0//DE"]),
            crlf=r.random() < 0.5)
    s = dt(r)
    ev = ["BEGIN:VEVENT", f"DTSTART:{s}Z", f"DTEND:{s[:9]}{int(s[9:11]) + 2:02d}{s[11:]}Z",
          f"SUMMARY:{title(r)}", "DESCRIPTION:Tickets: https://tickets.example.com/e/" + str(i),
          "URL:https://tickets.example.com/e/" + str(i), "LOCATION:Main hall"]
    if r.random() < 0.6:
        ev.insert(1, f"UID:gen-{i}@tickets.example.com")
    if r.random() < 0.5:
        ev.insert(2, "DTSTAMP:20240101T000000Z")
    if r.random() < 0.3:
        ev.insert(4, "Organizer: Events Ltd")  # a malformed line
    ev.append("END:VEVENT")
    c.add(*ev)
    wrap = r.random() > 0.25
    return c.text(wrap=wrap, final_end=r.random() > 0.3).encode()


def davx5(r, i):
    c = Cal(r, "DAVx5/4.3.10-ose ical4j/3.2.14")
    s = dt(r)
    dates = ",".join(f"{s[:6]}{d:02d}{s[8:]}" for d in sorted(r.sample(range(1, 29), 2)))
    c.add("BEGIN:VEVENT", "DTSTAMP:20240101T000000Z", f"UID:{r.getrandbits(128):032x}",
          f"SUMMARY:{title(r)}", f"DTSTART;TZID=Europe/Zurich:{s}",
          f"DTEND;TZID=Europe/Zurich:{s[:9]}{int(s[9:11]) + 1:02d}{s[11:]}",
          "RRULE:FREQ=DAILY;UNTIL=20251231T225959Z", f"EXDATE;TZID=Europe/Zurich:{dates}",
          "X-ANDROID-ALARM-TYPE:ALERT", "STATUS:CONFIRMED", "END:VEVENT")
    return c.text().encode()


def zimbra(r, i):
    c = Cal(r, "Zimbra-Calendar-Provider")
    s = dt(r)
    c.add("METHOD:REQUEST", "BEGIN:VEVENT", f"UID:{r.getrandbits(64):x}-zimbra", f"SUMMARY:{title(r)}",
          "ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;SENT-BY=\"mailto:assistant@example.com\":mailto:bob@example.com",
          "ORGANIZER;CN=Alice:mailto:alice@example.com", f"DTSTART;TZID=\"America/New_York\":{s}",
          f"DTEND;TZID=\"America/New_York\":{s[:9]}{int(s[9:11]) + 1:02d}{s[11:]}", "STATUS:CONFIRMED",
          "CLASS:PUBLIC", "X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY", "TRANSP:OPAQUE", "DTSTAMP:20240101T000000Z",
          "SEQUENCE:0", "X-ZIMBRA-CALNAME:Calendar", "BEGIN:VALARM", "ACTION:EMAIL", "TRIGGER;RELATED=START:-PT5M",
          "SUMMARY:Reminder", "DESCRIPTION:Reminder", "ATTENDEE:mailto:alice@example.com", "END:VALARM",
          "END:VEVENT")
    return c.text().encode()


PRODUCERS = {"outlook": (outlook, 40), "exchange": (exchange, 20), "google": (google, 30),
             "apple": (apple, 25), "thunderbird": (thunderbird, 20), "lotus": (lotus, 20),
             "nextcloud": (nextcloud, 20), "yahoo": (yahoo, 15), "khal": (khal, 12),
             "generator": (generator, 20), "davx5": (davx5, 12), "zimbra": (zimbra, 10)}


def main():
    for name, (fn, n) in PRODUCERS.items():
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        r = random.Random(f"{name}-2026")
        for i in range(n):
            with open(os.path.join(d, f"{name}-{i:03d}.ics"), "wb") as f:
                f.write(fn(r, i))


if __name__ == "__main__":
    main()
