"""`jmapd convert` and `jmapd expand` from the outside: directions, stdin, Groups, and the
error contract (exit status 1 and a message naming the line or property)."""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("JMAPD_BIN", os.path.join(ROOT, "build", "asan", "jmapd"))

ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:cli-1\r\n"
       "DTSTAMP:20240101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20240102T100000\r\nDURATION:PT1H\r\n"
       "RRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def run(args, data=None):
    r = subprocess.run([BIN] + args, input=data, capture_output=True, timeout=60)
    assert b"Sanitizer" not in r.stderr, r.stderr
    return r


def test_convert_both_directions_and_stdin(tmp_path):
    f = tmp_path / "a.ics"
    f.write_text(ICS)
    r = run(["convert", str(f), "--bare"])
    assert r.returncode == 0
    ev = json.loads(r.stdout)
    assert ev["@type"] == "Event" and ev["timeZone"] == "Europe/Berlin"
    assert ev["start"] == "2024-01-02T10:00:00" and ev["recurrenceRule"]["count"] == 3
    j = tmp_path / "a.json"
    j.write_bytes(r.stdout)
    r2 = run(["convert", str(j)])
    assert r2.returncode == 0
    text = r2.stdout.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and "TZID:Europe/Berlin" in text
    r3 = run(["convert", "-", "--to", "json", "--bare"], ICS.encode())
    assert json.loads(r3.stdout) == ev
    r4 = run(["convert", "-", "--to", "ics"], r.stdout)
    assert r4.stdout == r2.stdout


def test_draft25_2_1_1_vcalendar_is_group_by_default(tmp_path):
    """draft-ietf-calext-jscalendar-icalendar-25 §2.1.1/§2.3.32: a VCALENDAR converts to a
    Group carrying prodId and the calendar-level properties; a bare Event only with --bare."""
    cal = ICS.replace("PRODID:-//t//t//EN\r\n", "PRODID:-//t//t//EN\r\nNAME:Team\r\n"
                      "UID:cal-1\r\nCOLOR:red\r\nSOURCE:https://example.com/c.ics\r\n")
    f = tmp_path / "a.ics"
    f.write_text(cal)
    g = json.loads(run(["convert", str(f)]).stdout)
    assert g["@type"] == "Group" and g["prodId"] == "-//t//t//EN"
    assert g["uid"] == "cal-1" and g["title"] == "Team" and g["color"] == "red"
    assert g["source"] == "https://example.com/c.ics"
    assert [e["@type"] for e in g["entries"]] == ["Event"]
    assert g["entries"][0]["prodId"] == "-//t//t//EN"
    # a lone event with only a PRODID: still a Group unless asked
    g = json.loads(run(["convert", "-", "--to", "json"], ICS.encode()).stdout)
    assert g["@type"] == "Group" and g["prodId"] == "-//t//t//EN"
    ev = json.loads(run(["convert", "-", "--to", "json", "--bare"], ICS.encode()).stdout)
    assert ev["@type"] == "Event" and ev["uid"] == "cli-1"
    # and back: the Group's prodId is the PRODID
    back = run(["convert", "-", "--to", "ics"], json.dumps(g).encode()).stdout.decode()
    assert "PRODID:-//t//t//EN\r\n" in back


def test_group_for_several(tmp_path):
    two = ICS.replace("END:VCALENDAR", "BEGIN:VTODO\r\nUID:cli-2\r\nDTSTAMP:20240101T000000Z\r\n"
                      "SUMMARY:todo\r\nEND:VTODO\r\nEND:VCALENDAR")
    r = run(["convert", "-", "--to", "json"], two.encode())
    g = json.loads(r.stdout)
    assert g["@type"] == "Group"
    assert [e["@type"] for e in g["entries"]] == ["Event", "Task"]


def test_errors(tmp_path):
    bad = tmp_path / "bad.ics"
    bad.write_text(ICS.replace("SUMMARY:Weekly", "this is not a content line"))
    r = run(["convert", str(bad)])
    # issue 12 §3.5: a malformed line is skipped with a warning naming it, not fatal
    assert r.returncode == 0 and b"warning: line 10" in r.stderr
    assert json.loads(r.stdout)["entries"][0]["uid"] == "cli-1"
    bad.write_text(ICS.replace("DTSTART;TZID=Europe/Berlin:20240102T100000", "DTSTART:tomorrow"))
    r = run(["convert", str(bad)])
    assert r.returncode == 1 and r.stderr == b"line 7: property DTSTART: invalid DATE or DATE-TIME value\n"
    r = run(["convert", "-", "--to", "ics"], b'{"@type":"Event","uid":"x","start":"tomorrow"}')
    assert r.returncode == 1 and b"start" in r.stderr
    r = run(["convert", "-", "--to", "ics"],
            b'{"@type":"Event","uid":"x","start":"2024-01-01T00:00:00","recurrenceRule":{}}')
    assert r.returncode == 1 and b"recurrenceRule/frequency" in r.stderr
    r = run(["convert", "-", "--to", "ics"], b'{"@type":"Event",')
    assert r.returncode == 1 and b"line 1" in r.stderr
    r = run(["expand", "-", "--from", "2024-01-01T00:00:00Z"], ICS.encode())
    assert r.returncode == 2


def test_expand_lines(tmp_path):
    f = tmp_path / "a.ics"
    f.write_text(ICS)
    r = run(["expand", str(f), "--from", "2024-01-01T00:00:00Z", "--to", "2024-02-01T00:00:00Z"])
    assert r.returncode == 0
    assert r.stdout.decode().splitlines() == [
        "2024-01-02T10:00:00 2024-01-02T09:00:00Z",
        "2024-01-09T10:00:00 2024-01-09T09:00:00Z",
        "2024-01-16T10:00:00 2024-01-16T09:00:00Z",
    ]


def test_jscalendarbis17_version_on_group_and_lone_objects():
    """jscalendarbis-17 "version" (issue 12 §2.4): a Group sets "2.0" and its entries do
    not; an Event or Task on its own sets it; an object with version 1.0 or 2.0 converts
    back, any other version is invalid."""
    g = json.loads(run(["convert", "-", "--to", "json"], ICS.encode()).stdout)
    assert g["version"] == "2.0" and "version" not in g["entries"][0]
    ev = json.loads(run(["convert", "-", "--to", "json", "--bare"], ICS.encode()).stdout)
    assert ev["version"] == "2.0"
    back = run(["convert", "-", "--to", "ics"], json.dumps(ev).encode())
    assert back.returncode == 0 and b"JSPROP" not in back.stdout
    ev["version"] = "3.7"
    r = run(["convert", "-", "--to", "ics"], json.dumps(ev).encode())
    assert r.returncode == 1 and b"version" in r.stderr
