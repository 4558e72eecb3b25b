"""Writes a deterministic iCalendar file of N events for the ical benchmark: a mix of
single and recurring events in several zones, with attendees, alarms, descriptions and
the odd override, roughly what a busy work calendar exported from a server looks like."""
import random
import sys

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Europe/London"]
RULES = ["FREQ=DAILY;COUNT=30", "FREQ=WEEKLY;BYDAY=MO,WE,FR", "FREQ=WEEKLY;INTERVAL=2;UNTIL=20271231T000000Z",
         "FREQ=MONTHLY;BYDAY=2TU", "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=24", "FREQ=YEARLY"]


def main(n, path):
    rnd = random.Random(42)
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//jmapd//bench//EN"]
    for i in range(n):
        zone = rnd.choice(ZONES)
        y, m, d = 2025, rnd.randint(1, 12), rnd.randint(1, 28)
        h = rnd.randint(7, 18)
        uid = f"bench-{i}@jmapd.test"
        ev = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T000000Z",
              f"DTSTART;TZID={zone}:{y}{m:02d}{d:02d}T{h:02d}0000",
              f"DTEND;TZID={zone}:{y}{m:02d}{d:02d}T{h + 1:02d}0000",
              f"SUMMARY:Meeting {i} about topic {rnd.randint(1, 500)}",
              "DESCRIPTION:Agenda:\\n1. status\\n2. plans\\, risks\\; next steps",
              f"LOCATION:Room {rnd.randint(100, 999)}",
              "ORGANIZER;CN=Org:mailto:org@example.com"]
        for a in range(rnd.randint(0, 4)):
            ev.append(f"ATTENDEE;CN=Person {a};PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT;RSVP=TRUE:"
                      f"mailto:p{a}@example.com")
        recurring = rnd.random() < 0.3
        if recurring:
            ev.append("RRULE:" + rnd.choice(RULES))
        if rnd.random() < 0.5:
            ev += ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "TRIGGER:-PT15M", "END:VALARM"]
        ev.append("END:VEVENT")
        out += ev
    out.append("END:VCALENDAR")
    with open(path, "w", newline="") as f:
        f.write("\r\n".join(out) + "\r\n")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
