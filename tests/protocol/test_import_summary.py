"""`jmapd import` for a new user (issue 12 §5.2): a long file shows its progress on a
terminal, and every import ends with a summary: imported (new, updated), repaired with
warnings, refused with reasons (issue 12 §3.5: real-world files are repaired, not refused)."""
import os
import pty
import subprocess

from conftest import JMAPD, run_cli

HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"


def event(uid, extra=""):
    return (f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T000000Z\r\n"
            f"DTSTART:20250301T090000Z\r\nSUMMARY:{uid}\r\n{extra}END:VEVENT\r\n")


def test_issue12_5_2_summary_counts_and_reasons(fresh_server, tmp_path):
    s = fresh_server
    f = tmp_path / "mixed.ics"
    f.write_text(HEAD + event("a") + event("b") + "END:VCALENDAR\r\n")
    r = run_cli(s.data, "import", "--user", "alice", str(f))
    assert r.returncode == 0, r.stderr
    assert "2 imported (2 new, 0 updated), 0 repaired with warnings, 0 refused" in r.stdout
    # again, with a repair (a TZID Outlook writes), a refused event and a task
    f.write_text(HEAD + event("a") + event("b", "PRIORITY:urgent\r\n")
                 + event("c").replace("DTSTART:20250301T090000Z", "DTSTART:soon")
                 + "BEGIN:VTODO\r\nUID:t\r\nDTSTAMP:20250101T000000Z\r\nEND:VTODO\r\n"
                 + event("d").replace("DTSTART:", "DTSTART;TZID=W. Europe Standard Time:")
                             .replace("090000Z", "090000")
                 + "END:VCALENDAR\r\n")
    r = run_cli(s.data, "import", "--user", "alice", str(f))
    assert r.returncode == 0, r.stderr
    # the task goes into the default task list (issue 16 §5, tasks-06 §4 role inbox)
    assert "4 imported (2 new, 2 updated), 2 repaired with warnings, 1 refused" in r.stdout
    err = r.stderr
    assert "warning: line" in err and "PRIORITY" in err and "W. Europe Standard Time" in err
    assert "refused: line" in err and "DTSTART" in err          # the reason, with the line
    ids = s.call("CalendarEvent/query", {"accountId": s.account()})[1]["ids"]
    assert len(ids) == 3
    tasks = "urn:ietf:params:jmap:tasks"
    out = s.call("Task/get", {"accountId": s.account(), "ids": None},
                 using=["urn:ietf:params:jmap:core", tasks])[1]
    assert [t["uid"] for t in out["list"]] == ["t"]


def test_issue12_5_2_progress_on_a_terminal(fresh_server, tmp_path):
    s = fresh_server
    f = tmp_path / "long.ics"
    f.write_text(HEAD + "".join(event(f"e{i}") for i in range(600)) + "END:VCALENDAR\r\n")
    # stderr on a pseudo-terminal: progress lines; stdout a pipe: the summary only
    master, slave = pty.openpty()
    p = subprocess.Popen([JMAPD, "import", "--user", "alice", str(f), "--data", s.data],
                         stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out, _ = p.communicate(timeout=120)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        tty += chunk
    os.close(master)
    assert p.returncode == 0
    assert b"600 imported" in out
    assert b"/600" in tty and b"600/600" in tty
    # not a terminal: no progress at all
    r = run_cli(s.data, "import", "--user", "alice", str(f))
    assert "/600" not in r.stderr and "600 imported (0 new, 600 updated)" in r.stdout


def test_issue21_long_import_commits_in_batches(fresh_server, tmp_path):
    """Issue 21: `jmapd import` commits every few thousand events rather than once per
    file; the result is the same: every event stored once, and an event repeated after a
    batch boundary updates the one an earlier batch committed (found by its uid)."""
    s = fresh_server
    f = tmp_path / "long.ics"
    evs = [event(f"b{i}") for i in range(4500)]
    evs[4321] = event("b7", "LOCATION:moved\r\n")  # b7 again, two batches later
    f.write_text(HEAD + "".join(evs) + "END:VCALENDAR\r\n")
    os.environ["JMAPD_IMPORT_BATCH"] = "1000"
    try:
        r = run_cli(s.data, "import", "--user", "alice", str(f))
    finally:
        del os.environ["JMAPD_IMPORT_BATCH"]
    assert r.returncode == 0, r.stderr
    assert "4500 imported (4499 new, 1 updated), 0 repaired with warnings, 0 refused" in r.stdout
    out = s.call("CalendarEvent/query", {"accountId": s.account(), "calculateTotal": True,
                                         "filter": {"uid": "b7"}})[1]
    assert out["total"] == 1
    ev = s.call("CalendarEvent/get", {"accountId": s.account(), "ids": out["ids"],
                                      "properties": ["locations"]})[1]["list"][0]
    assert [v["name"] for v in ev["locations"].values()] == ["moved"]
    total = s.call("CalendarEvent/query", {"accountId": s.account(), "calculateTotal": True,
                                           "limit": 1})[1]["total"]
    assert total == 4499


def test_issue21_long_file_stored_as_converted_same_summary(fresh_server, tmp_path):
    """Issue 21 §0: a file of 1,000 entries or more is stored entry by entry as the
    converter hands them over (not converted whole first: 100,000 events took 955 MB).
    The summary is the one the whole-file path gives: the same counts, the repairs and
    the refusal with their lines, the task in its list, progress on a terminal to
    the end."""
    s = fresh_server
    mixed = (event("a") + event("b", "PRIORITY:urgent\r\n")
             + event("c").replace("DTSTART:20250301T090000Z", "DTSTART:soon")
             + "BEGIN:VTODO\r\nUID:t\r\nDTSTAMP:20250101T000000Z\r\nEND:VTODO\r\n")
    f = tmp_path / "long.ics"
    f.write_text(HEAD + "".join(event(f"s{i}") for i in range(600)) + mixed
                 + "".join(event(f"s{i}") for i in range(600, 1200)) + "END:VCALENDAR\r\n")
    master, slave = pty.openpty()
    p = subprocess.Popen([JMAPD, "import", "--user", "alice", str(f), "--data", s.data],
                         stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out, _ = p.communicate(timeout=300)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        tty += chunk
    os.close(master)
    assert p.returncode == 0
    assert b"1203 imported (1203 new, 0 updated), 1 repaired with warnings, 1 refused" in out
    assert b"warning: line" in tty and b"PRIORITY" in tty
    assert b"refused: line" in tty and b"DTSTART" in tty
    assert b"/1204" in tty and b"1204/1204" in tty  # the components counted up front
    total = s.call("CalendarEvent/query", {"accountId": s.account(), "calculateTotal": True,
                                           "limit": 1})[1]["total"]
    assert total == 1202
    tasks = "urn:ietf:params:jmap:tasks"
    got = s.call("Task/get", {"accountId": s.account(), "ids": None},
                 using=["urn:ietf:params:jmap:core", tasks])[1]
    assert [t["uid"] for t in got["list"]] == ["t"]


def test_issue21_import_is_origin_from_the_identities_of_the_moment(fresh_server, tmp_path):
    """calendars-27 §5 isOrigin: an imported event is the account's own when its organizer
    is one of the account's ParticipantIdentity addresses (compared without case). Issue
    21: the import reads the identities once and keeps them while their state holds, so
    every event of a file is judged the same way, and an identity added between two
    imports counts for the second."""
    s = fresh_server
    acct = s.account()
    mine = s.call("ParticipantIdentity/get", {"accountId": acct, "ids": None})[1]["list"][0]
    addr = mine["calendarAddress"]

    def organized(uid, by):
        return event(uid, f"ORGANIZER:{by}\r\nATTENDEE:mailto:someone@example.net\r\n")

    f = tmp_path / "a.ics"
    f.write_text(HEAD + organized("o1", addr) + organized("o2", "mailto:new@example.com")
                 + organized("o3", addr.upper().replace("MAILTO:", "mailto:"))
                 + organized("o4", "mailto:new@example.com") + "END:VCALENDAR\r\n")
    r = run_cli(s.data, "import", "--user", "alice", str(f))
    assert r.returncode == 0, r.stderr
    out = s.call("ParticipantIdentity/set", {"accountId": acct, "create": {
        "i": {"calendarAddress": "mailto:new@example.com"}}})[1]
    assert "i" in out["created"], out
    f.write_text(HEAD + organized("n1", "mailto:new@example.com") + organized("n2", addr)
                 + organized("n3", "mailto:other@example.org") + "END:VCALENDAR\r\n")
    r = run_cli(s.data, "import", "--user", "alice", str(f))
    assert r.returncode == 0, r.stderr
    got = s.call("CalendarEvent/get", {"accountId": acct, "ids": None,
                                       "properties": ["uid", "isOrigin"]})[1]["list"]
    origin = {e["uid"]: e["isOrigin"] for e in got}
    assert origin == {"o1": True, "o2": False, "o3": True, "o4": False,
                      "n1": True, "n2": True, "n3": False}


def test_issue21_import_finds_the_uid_once_jscalendarbis_s5(fresh_server, tmp_path):
    """(uid, recurrenceId) names one event of an account: an imported event with the uid
    (and no recurrenceId) of a stored one updates it, its id kept; a lone instance of
    the same uid (a recurrenceId) is another event. Issue 21: the import looks the uid
    up once, not again in the event's check; the result is the same."""
    s = fresh_server
    f = tmp_path / "uids.ics"
    f.write_text(HEAD + event("u1", "RRULE:FREQ=WEEKLY;COUNT=3\r\n") + "END:VCALENDAR\r\n")
    r = run_cli(s.data, "import", "--user", "alice", str(f))
    assert "1 imported (1 new, 0 updated)" in r.stdout, r.stdout + r.stderr
    [first] = s.call("CalendarEvent/query", {"accountId": s.account()})[1]["ids"]
    f.write_text(HEAD + event("u1", "RRULE:FREQ=WEEKLY;COUNT=4\r\n") + "END:VCALENDAR\r\n")
    r = run_cli(s.data, "import", "--user", "alice", str(f))
    assert "1 imported (0 new, 1 updated)" in r.stdout, r.stdout + r.stderr
    f.write_text(HEAD + event("u1", "RECURRENCE-ID:20250308T090000Z\r\n").replace(
        "20250301T090000Z", "20250308T100000Z") + "END:VCALENDAR\r\n")
    r = run_cli(s.data, "import", "--user", "alice", str(f))
    assert r.returncode == 0, r.stderr
    ids = s.call("CalendarEvent/query", {"accountId": s.account()})[1]["ids"]
    got = s.call("CalendarEvent/get", {"accountId": s.account(), "ids": ids})[1]["list"]
    base = [e for e in got if e["id"] == first][0]
    assert base["recurrenceRule"]["count"] == 4
    assert all(e["uid"] == "u1" for e in got)
    # the lone instance: an event of its own, or an override of the base; never a clash
    assert "refused" not in r.stderr, r.stderr
