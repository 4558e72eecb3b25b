"""Issue 19 §5 on the iCalendar side: text from JSON never becomes iCalendar syntax.
RFC 5545 §3.1: a component, property or parameter name is iana-token / x-name,
1*(ALPHA / DIGIT / "-"). A name recorded in `iCalendar.convertedProperties`
(draft-ietf-calext-jscalendar-icalendar-25 §5.1.1) or in jCal properties that is not
one makes the object invalid; nothing of it reaches a content line."""
import json
import os
import subprocess

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
BIN = os.environ.get("JMAPD_BIN", os.path.join(ROOT, "build", "asan", "jmapd"))

BASE = {"@type": "Event", "uid": "u1", "start": "2024-01-01T10:00:00",
        "timeZone": "Europe/Berlin", "duration": "PT1H", "title": "x",
        "links": {"l1": {"@type": "Link", "href": "https://x.example/", "rel": "describedby"}}}


def to_ics(tmp_path, obj):
    p = tmp_path / "e.json"
    p.write_text(json.dumps(obj))
    return subprocess.run([BIN, "convert", str(p), "--to", "ics"], capture_output=True,
                          text=True, timeout=60)


def test_rfc5545_3_1_converted_property_name_is_checked(tmp_path):
    for name in ["VERSION:e;X", "URL;A=B", "X FOO", "", "Ü"]:
        ev = dict(BASE, iCalendar={"@type": "ICalComponent", "name": "vevent",
                                   "convertedProperties": {"links/l1": {"name": name}}})
        r = to_ics(tmp_path, ev)
        assert r.returncode != 0 and "convertedProperties" in r.stderr, (name, r.stdout)
        assert "VERSION:E" not in r.stdout


def test_rfc5545_3_1_parameter_names_are_checked(tmp_path):
    cp = {"links/l1": {"name": "URL", "parameters": {"a;b": "x"}}}
    r = to_ics(tmp_path, dict(BASE, iCalendar={"@type": "ICalComponent", "name": "vevent",
                                               "convertedProperties": cp}))
    assert r.returncode != 0 and "convertedProperties" in r.stderr
    props = [["x-foo", {"x-a:b": "c"}, "text", "v"]]
    r = to_ics(tmp_path, dict(BASE, iCalendar={"@type": "ICalComponent", "name": "vevent",
                                               "properties": props}))
    assert r.returncode != 0 and "iCalendar/properties/0" in r.stderr


def test_valid_names_still_convert(tmp_path):
    cp = {"links/l1": {"name": "X-LINK", "parameters": {"x-label": "a;b"}}}
    r = to_ics(tmp_path, dict(BASE, iCalendar={"@type": "ICalComponent", "name": "vevent",
                                               "convertedProperties": cp}))
    assert r.returncode == 0, r.stderr
    assert any(line.startswith("X-LINK;") for line in r.stdout.splitlines()), r.stdout
