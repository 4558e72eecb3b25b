"""The VTODOs of ../shared/corpora as Tasks (issue 16 §5 "VTODOs from ../shared/corpora
round-trip"; draft-ietf-calext-jscalendar-icalendar-25 §2 VTODO and Task;
draft-ietf-jmap-tasks-06 §5): `jmapd import` puts every VTODO of every corpus .ics file
into the default task list, none silently lost; each Task says what its VTODO says
(SUMMARY, PRIORITY, STATUS, PERCENT-COMPLETE, DTSTART and DUE as instants); the task
list exported and imported into another account gives the same Tasks.

The corpora are read in place (see their README). A uid that several VTODOs share (the
iTIP examples of RFC 2446 in libical's test data) is one Task: the last VTODO without a
RECURRENCE-ID imported wins, as an import replaces a task of the same uid."""
import datetime
import glob
import os
import re
import zoneinfo

import pytest

from conftest import CORE, run_cli
from test_calendar_event_more import CORPUS

TASKS = "urn:ietf:params:jmap:tasks"
USING = [CORE, TASKS]


def corpus_files():
    files = glob.glob(os.path.join(CORPUS, "**", "*.ics"), recursive=True)
    out = []
    for f in sorted(files):
        with open(f, encoding="utf-8", errors="replace") as fh:
            if "BEGIN:VTODO" in fh.read().upper():
                out.append(f)
    return out


def vtodos(path):
    """The VTODOs of a file: their top-level properties (name -> (params, value)),
    first value of each name; nested components (VALARM) left out."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = re.sub(r"\r?\n[ \t]", "", fh.read()).splitlines()
    out, cur, depth = [], None, 0
    for line in lines:
        up = line.upper()
        if up.startswith("BEGIN:VTODO"):
            cur, depth = {}, 0
        elif cur is None:
            continue
        elif up.startswith("BEGIN:"):
            depth += 1
        elif up.startswith("END:VTODO") and depth == 0:
            out.append(cur)
            cur = None
        elif up.startswith("END:"):
            depth -= 1
        elif depth == 0 and ":" in line:
            head, value = line.split(":", 1)
            name, _, params = head.partition(";")
            cur.setdefault(name.upper(), (params, value))
    return out


def text(v):
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), v)


def instant(prop):
    """A DATE-TIME (UTC, floating read in UTC, or with a TZID) as a UTCDateTime."""
    params, value = prop
    m = re.fullmatch(r"(\d{8})T(\d{6})(Z?)", value.strip())
    if not m:
        return None
    t = datetime.datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S")
    tzid = re.search(r"TZID=([^;:]+)", params, re.I)
    if not m.group(3) and tzid:
        t = t.replace(tzinfo=zoneinfo.ZoneInfo(tzid.group(1).strip('"'))).astimezone(
            datetime.timezone.utc).replace(tzinfo=None)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


PROGRESS = {"NEEDS-ACTION", "IN-PROCESS", "COMPLETED", "CANCELLED", "FAILED"}


def expected(todo):
    want = {"title": text(todo["SUMMARY"][1]) if "SUMMARY" in todo else None}
    if "PRIORITY" in todo:
        want["priority"] = int(todo["PRIORITY"][1])
    status = todo.get("STATUS", ("", ""))[1].upper()
    if status in PROGRESS:  # jscalendar-icalendar-25: STATUS is progress
        want["progress"] = status.lower()
    if "PERCENT-COMPLETE" in todo:
        want["percentComplete"] = int(todo["PERCENT-COMPLETE"][1])
    for prop, name in (("DTSTART", "utcStart"), ("DUE", "utcDue")):
        if prop in todo and instant(todo[prop]):
            want[name] = instant(todo[prop])
    return want


def tasks(server, user):
    acct = server.session(user)["primaryAccounts"][TASKS]
    ids = server.call("Task/query", {"accountId": acct}, user=user, using=USING)[1]["ids"]
    props = ["uid", "title", "priority", "progress", "percentComplete", "utcStart", "utcDue",
             "start", "due", "timeZone", "recurrenceRule", "recurrenceOverrides", "participants",
             "description", "keywords", "estimatedDuration", "showWithoutTime", "alerts"]
    got = server.call("Task/get", {"accountId": acct, "ids": ids, "properties": props},
                      user=user, using=USING)[1]["list"]
    for t in got:
        del t["id"]  # each account its own
    return acct, {t["uid"]: t for t in got}


FILES = corpus_files()


@pytest.mark.skipif(not FILES, reason="corpora not available")
def test_corpus_vtodos_become_tasks_jscalendar_icalendar25_s2(fresh_server, tmp_path):
    s = fresh_server
    last, anonymous = {}, []
    for f in FILES:
        r = run_cli(s.data, "import", "--user", "alice", f)
        assert r.returncode == 0, (f, r.stderr[-2000:])
        refused = [l for l in r.stderr.splitlines() if "refused" in l and "VTODO" in l]
        assert refused == [], refused  # none of the corpus VTODOs is refused
        for todo in vtodos(f):
            if "RECURRENCE-ID" in todo:
                continue
            if "UID" in todo:
                last[todo["UID"][1]] = todo
            else:
                anonymous.append(todo)  # the importer derives a uid from the content
    acct, got = tasks(s, "alice")
    assert len(got) == len(last) + len(anonymous) and len(last) >= 7, sorted(got)
    for uid, todo in last.items():
        assert uid in got, uid
        task = got[uid]
        for k, v in expected(todo).items():
            assert task.get(k) == v, (uid, k, task.get(k), v)
    for todo in anonymous:
        want = expected(todo)
        assert any(all(t.get(k) == v for k, v in want.items()) for t in got.values()), want

    # the default task list exported, and imported into bob's account: the same Tasks
    lists = s.call("TaskList/get", {"accountId": acct}, using=USING)[1]["list"]
    inbox = [x["id"] for x in lists if x.get("role") == "inbox"][0]
    out = run_cli(s.data, "export", "--user", "alice", "--tasklist", inbox)
    assert out.returncode == 0 and out.stdout.count("BEGIN:VTODO") >= len(got), out.stderr
    f = tmp_path / "tasks.ics"
    f.write_text(out.stdout)
    r = run_cli(s.data, "import", "--user", "bob", str(f))
    assert r.returncode == 0 and "0 refused" in r.stdout, r.stdout + r.stderr[-2000:]
    _, again = tasks(s, "bob")
    assert sorted(again) == sorted(got)
    for uid, task in got.items():
        assert again[uid] == task, uid


DURATION_VTODO = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VTODO\r
UID:dur-1\r
DTSTAMP:20260301T000000Z\r
DTSTART;TZID=Europe/Berlin:20260329T010000\r
DURATION:PT2H\r
SUMMARY:across the change to summer time\r
END:VTODO\r
BEGIN:VTODO\r
UID:dur-2\r
DTSTAMP:20260301T000000Z\r
DTSTART:20260301T100000\r
DURATION:P1DT1H\r
SUMMARY:floating\r
END:VTODO\r
END:VCALENDAR\r
"""


def test_vtodo_with_duration_is_due_at_its_end_rfc5545_s3_6_2(fresh_server, tmp_path):
    """RFC 5545 §3.6.2: a VTODO has DUE, or DTSTART and DURATION. A JSCalendar 2.0 Task
    has no `duration` (jscalendarbis-17 §5.2, where jscalendar-icalendar-25 §2.3.18 would
    put it): its effective due (ical-tasks-17 §5.3) becomes `due`, the hours counted in
    absolute time (jscalendarbis-17 §1.4.6): 01:00 CET + 2 h is 04:00 CEST."""
    s = fresh_server
    f = tmp_path / "duration.ics"
    f.write_text(DURATION_VTODO)
    r = run_cli(s.data, "import", "--user", "alice", str(f))
    assert r.returncode == 0 and "2 imported (2 new" in r.stdout, r.stdout + r.stderr
    acct, got = tasks(s, "alice")
    a, b = got["dur-1"], got["dur-2"]
    assert (a["start"], a["due"], a["timeZone"]) == ("2026-03-29T01:00:00",
                                                     "2026-03-29T04:00:00", "Europe/Berlin")
    assert a["utcDue"] == "2026-03-29T02:00:00Z"
    assert (b["start"], b["due"], b.get("timeZone")) == ("2026-03-01T10:00:00",
                                                     "2026-03-02T11:00:00", None)
    # a Task given a duration over JMAP is still refused (an Event-only property)
    res = s.call("Task/set", {"accountId": acct, "create": {"x": {
        "taskListId": a.get("taskListId") or s.call("TaskList/get", {"accountId": acct},
                                                     using=USING)[1]["list"][0]["id"],
        "title": "x", "start": "2026-03-01T10:00:00", "duration": "PT1H"}}}, using=USING)[1]
    assert res["notCreated"]["x"]["type"] == "invalidProperties", res
    assert "duration" in res["notCreated"]["x"]["properties"]
