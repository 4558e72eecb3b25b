#!/usr/bin/python3
"""gen_jsprops.py N_EVENTS OUT [--without]: events of 500 attendees, each with 64 JSPROPs
(draft-ietf-calext-jscalendar-icalendar-25 §4.1.2): vendor properties of the event and of
participants, a reference (mainLocationId) and plain properties. With --without the same
file without its JSPROP lines, the baseline of bench_convert.sh's JSPROP ratio (issue 12:
each JSPROP is checked to leave the event valid, and that check once cost a whole
validation and deep copy of the event per JSPROP)."""
import sys


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    without = "--without" in sys.argv[3:]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//jmapd bench//EN"]
    for e in range(n):
        lines += ["BEGIN:VEVENT", f"UID:jsprop-{e}", "DTSTAMP:20240101T000000Z",
                  "DTSTART:20240101T100000Z", "SUMMARY:s", "ORGANIZER:mailto:o@example.com",
                  "LOCATION;JSID=l1:Room"]
        lines += [f"ATTENDEE;JSID=p{a};PARTSTAT=ACCEPTED:mailto:a{a}@example.com"
                  for a in range(500)]
        if not without:
            for j in range(64):
                k = j % 4
                if k == 0:
                    lines.append(f'JSPROP;JSPTR="example.com:k{j}":"v{j}"')
                elif k == 1:
                    lines.append(f'JSPROP;JSPTR="participants/p{j}/example.com:x":{j}')
                elif k == 2:
                    lines.append(f'JSPROP;JSPTR=participants/p{j}/expectReply:true')
                elif j == 3:
                    lines.append('JSPROP;JSPTR=mainLocationId:"l1"')
                else:
                    lines.append(f'JSPROP;JSPTR="example.com:n{j}":{{"a":[1,2,{j}]}}')
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    with open(out, "w", newline="") as f:
        f.write("\r\n".join(lines) + "\r\n")


if __name__ == "__main__":
    main()
