"""Recurrence expansion cross-checked against an independent oracle (python-dateutil's
rrule with zoneinfo) on a generated corpus of 1,200 rules (two seeds): every FREQ, BYxxx combinations,
COUNT/UNTIL, DST-crossing zones and floating times, EXDATE, RDATE and RECURRENCE-ID
overrides (see ical/gen_rules.py). `jmapd expand` must print exactly the expected
occurrences (recurrence id and UTC start), in order."""
import os
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "ical"))
import gen_rules  # noqa: E402

BIN = os.environ.get("JMAPD_BIN", os.path.join(ROOT, "build", "asan", "jmapd"))

# Disagreements with the oracle where we are right, each with the section that says so.
PINNED = {}


def expand(case, path):
    args = [BIN, "expand", path, "--from", case["from"], "--to", case["to"]]
    if case["floating_zone"]:
        args += ["--tz", case["floating_zone"]]
    r = subprocess.run(args, capture_output=True, timeout=60)
    assert r.returncode == 0, (case["id"], r.stderr.decode(), case["ics"])
    return [tuple(line.split()[:2]) for line in r.stdout.decode().splitlines() if line]


def test_generated_rules_cover_the_space():
    cs = gen_rules.cases()
    assert len(cs) >= 500
    freqs = {c["rule"].split(";")[0] for c in cs}
    assert len(freqs) == 7
    assert any("COUNT=" in c["rule"] for c in cs) and any("UNTIL=" in c["rule"] for c in cs)
    assert any("EXDATE" in c["ics"] for c in cs) and any("RECURRENCE-ID" in c["ics"] for c in cs)
    assert any(c["zone"] is None for c in cs) and any(c["zone"] == "Australia/Sydney" for c in cs)


def test_expansion_matches_oracle():
    mismatches = []
    with tempfile.TemporaryDirectory() as d:
        for c in gen_rules.cases() + gen_rules.cases(600, seed=7):
            path = os.path.join(d, f"case{c['id']}.ics")
            with open(path, "w", newline="") as f:
                f.write(c["ics"])
            got = expand(c, path)
            want = [tuple(e) for e in c["expected"]]
            if got != want and c["id"] not in PINNED:
                mismatches.append((c["id"], c["rule"], c["zone"], c["floating_zone"],
                                   sorted(set(got) - set(want))[:3], sorted(set(want) - set(got))[:3]))
    assert not mismatches, f"{len(mismatches)} disagreements: " + "\n".join(map(str, mismatches))


def run_ics(tmp_path, body, frm, to, tz=None):
    path = tmp_path / "x.ics"
    path.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
                    "UID:pin@jmapd.test\r\nDTSTAMP:20240101T000000Z\r\n" + body +
                    "END:VEVENT\r\nEND:VCALENDAR\r\n")
    args = [BIN, "expand", str(path), "--from", frm, "--to", to] + (["--tz", tz] if tz else [])
    r = subprocess.run(args, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [tuple(l.split()[:2]) for l in r.stdout.decode().splitlines()]


def test_pinned_yearly_bymonthday_implies_bymonth(tmp_path):
    """jscalendarbis-08 §4.3.3.1 extra rule 3: a yearly rule with byMonthDay and no byMonth
    gets byMonth = the start's month (dateutil expands over every month instead)."""
    got = run_ics(tmp_path, "DTSTART:20240315T100000Z\r\nRRULE:FREQ=YEARLY;BYMONTHDAY=15;COUNT=3\r\n",
                  "2024-01-01T00:00:00Z", "2030-01-01T00:00:00Z")
    assert got == [("2024-03-15T10:00:00", "2024-03-15T10:00:00Z"),
                   ("2025-03-15T10:00:00", "2025-03-15T10:00:00Z"),
                   ("2026-03-15T10:00:00", "2026-03-15T10:00:00Z")]
    assert any(c["pinned"] for c in gen_rules.cases())


def test_dst_gap_and_repeat(tmp_path):
    """RFC 5545 §3.3.5 / jscalendarbis §1.4.5: a wall time in a gap uses the offset before
    the gap; a repeated wall time means its first occurrence."""
    got = run_ics(tmp_path, "DTSTART;TZID=America/New_York:20210313T023000\r\nRRULE:FREQ=DAILY;COUNT=3\r\n",
                  "2021-03-01T00:00:00Z", "2021-04-01T00:00:00Z")
    assert got == [("2021-03-13T02:30:00", "2021-03-13T07:30:00Z"),
                   ("2021-03-14T02:30:00", "2021-03-14T07:30:00Z"),  # gap: EST offset
                   ("2021-03-15T02:30:00", "2021-03-15T06:30:00Z")]
    got = run_ics(tmp_path, "DTSTART;TZID=America/New_York:20211106T013000\r\nRRULE:FREQ=DAILY;COUNT=2\r\n",
                  "2021-11-01T00:00:00Z", "2021-12-01T00:00:00Z")
    assert got[1] == ("2021-11-07T01:30:00", "2021-11-07T05:30:00Z")  # first of the two 01:30


def test_floating_resolved_in_given_zone(tmp_path):
    body = "DTSTART:20240601T090000\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\n"
    assert run_ics(tmp_path, body, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "Asia/Tokyo")[0] == \
        ("2024-06-01T09:00:00", "2024-06-01T00:00:00Z")
    assert run_ics(tmp_path, body, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z")[0] == \
        ("2024-06-01T09:00:00", "2024-06-01T09:00:00Z")


def test_work_bound_gives_clear_error(tmp_path):
    path = tmp_path / "x.ics"
    path.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:x\r\n"
                    "DTSTAMP:20240101T000000Z\r\nDTSTART:20000101T000000Z\r\nRRULE:FREQ=SECONDLY\r\n"
                    "END:VEVENT\r\nEND:VCALENDAR\r\n")
    r = subprocess.run([BIN, "expand", str(path), "--from", "2030-01-01T00:00:00Z", "--to",
                        "2030-01-02T00:00:00Z"], capture_output=True, timeout=120)
    assert r.returncode == 1 and b"limit" in r.stderr
