"""CalendarEvent beyond the method tests: real-world files imported and exported
again, the read-only feed URL, and kill -9 during event writes."""
import datetime
import glob
import json
import os
import random
import signal
import threading
import time

import requests

from conftest import CAL, CORE, Server, run_cli

# ../shared/corpora from the main checkout, ../../shared/corpora from a worktree
CORPUS = next((p for p in (os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "corpora"),
                           os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared",
                                        "corpora")) if os.path.isdir(p)),
              os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "corpora"))


def corpus_files():
    files = sorted(glob.glob(os.path.join(CORPUS, "python-icalendar", "calendars", "*.ics")))
    return [f for f in files if os.path.getsize(f) < 200000]


def test_import_real_world_files(fresh_server, tmp_path):
    """Google, Apple and Outlook exports (python-icalendar's corpus): every file
    that parses imports, and its events come back out with their UIDs."""
    s = fresh_server
    imported = 0
    for f in corpus_files():
        r = run_cli(s.data, "import", "--user", "alice", f)
        if r.returncode != 0:
            assert r.stderr.strip(), f  # refused with a reason, never silently
            continue
        imported += int(r.stdout.split(":")[-1].split()[0])
    assert imported >= 20
    acct = s.account()
    cal = s.call("Calendar/get", {"accountId": acct})[1]["list"]
    default = [c["id"] for c in cal if c["isDefault"]][0]
    out = run_cli(s.data, "export", "--user", "alice", "--calendar", default)
    assert out.returncode == 0
    q = s.call("CalendarEvent/query", {"accountId": acct})[1]
    evs = s.call("CalendarEvent/get", {"accountId": acct, "ids": q["ids"][:500],
                                       "properties": ["uid"]})[1]["list"]
    missing = [e["uid"] for e in evs if ("UID:" + e["uid"][:40]) not in out.stdout.replace(
        "\r\n ", "")]
    assert missing == []
    # and the export imports again into another account unchanged in number
    f = tmp_path / "again.ics"
    f.write_text(out.stdout)
    r = run_cli(s.data, "import", "--user", "bob", str(f))
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split(":")[-1].split()[0]) == len(q["ids"])


def test_feed_url(server, acct):
    cal = server.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    out = server.call("CalendarEvent/set", {"accountId": acct, "create": {"f": {
        "calendarIds": {cal: True}, "uid": "feed@example.com", "title": "In the feed",
        "start": "2025-04-01T10:00:00", "timeZone": "Europe/Berlin"}}})[1]
    r = run_cli(server.data, "feed", "create", "--user", "alice", "--calendar", cal)
    assert r.returncode == 0, r.stderr
    url = r.stdout.strip()
    path = url[url.index("/feed/"):]
    got = requests.get(server.base + path)  # no credentials: the URL is the secret
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("text/calendar")
    assert "UID:feed@example.com" in got.text
    assert requests.get(server.base + "/feed/wrongsecret.ics").status_code == 404
    fid = r.stderr.split("feed id ")[1].split()[0]
    assert run_cli(server.data, "feed", "revoke", fid).returncode == 0
    assert requests.get(server.base + path).status_code == 404
    server.call("CalendarEvent/set", {"accountId": acct,
                                      "destroy": [out["created"]["f"]["id"]]})


def test_acknowledged_events_survive_kill_9(fresh_server):
    s = fresh_server
    acct = s.account()
    cal = s.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    acked, stop = [], threading.Event()

    def writer():
        http = requests.Session()
        http.auth = ("alice", "alice-pw")
        i = 0
        while not stop.is_set() and i < 3000:
            body = {"using": [CORE, CAL], "methodCalls": [["CalendarEvent/set", {
                "accountId": acct, "create": {f"e{j}": {
                    "calendarIds": {cal: True}, "uid": f"k9-{i}-{j}@example.com",
                    "start": "2025-01-01T10:00:00", "title": f"e{i}-{j}",
                    "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "daily",
                                       "count": 3}} for j in range(5)}}, "0"]]}
            try:
                r = http.post(s.base + "/jmap/api/", data=json.dumps(body), timeout=10,
                              headers={"Content-Type": "application/json"})
                created = r.json()["methodResponses"][0][1]["created"]
            except (requests.RequestException, ValueError, KeyError, TypeError):
                return
            acked.extend((v["id"], f"k9-{i}-{k[1:]}@example.com") for k, v in created.items())
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(2.0)
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()
    stop.set()
    t.join()
    s.log.close()
    assert len(acked) > 10
    s.start()
    ids = [a[0] for a in acked]
    for i in range(0, len(ids), 400):
        out = s.call("CalendarEvent/get", {"accountId": acct, "ids": ids[i:i + 400],
                                           "properties": ["uid"]})[1]
        assert out["notFound"] == []
        uids = {e["id"]: e["uid"] for e in out["list"]}
        assert all(uids[i_] == u for i_, u in acked[i:i + 400])
    # the index survived too: each event is found by its uid
    uid = acked[-1][1]
    q = s.call("CalendarEvent/query", {"accountId": acct, "filter": {"uid": uid}})[1]
    assert q["ids"] == [acked[-1][0]]


SAMPLES = os.path.join(os.path.dirname(__file__), "samples")


def events_of(s, user):
    acct = s.account(user)
    q = s.call("CalendarEvent/query", {"accountId": acct}, user=user)[1]
    evs = s.call("CalendarEvent/get", {"accountId": acct, "ids": q["ids"]}, user=user)[1]["list"]
    out = {}
    for e in evs:
        # server-set, per account; prodId names the product that last wrote the
        # object, which for an export is jmapd (one PRODID per VCALENDAR)
        for k in ("id", "calendarIds", "created", "updated", "isOrigin", "sequence", "prodId"):
            e.pop(k, None)
        out[(e["uid"], e.get("recurrenceId"))] = e
    return out


def test_producer_samples_round_trip(fresh_server, tmp_path):
    """Files in the shapes Google, Apple and Outlook write: import, export, import
    the export elsewhere: the events are the same."""
    s = fresh_server
    for name in ("google.ics", "apple.ics", "outlook.ics"):
        r = run_cli(s.data, "import", "--user", "alice", os.path.join(SAMPLES, name))
        assert r.returncode == 0, (name, r.stderr)
    first = events_of(s, "alice")
    assert len(first) == 5
    planning = first[("7kukuqrfedlm2f9t2v6f4u5ics@google.com", None)]
    assert planning["recurrenceRule"]["frequency"] == "weekly"
    assert planning["recurrenceOverrides"]["2025-01-20T10:00:00"] == {"excluded": True}
    assert planning["recurrenceOverrides"]["2025-01-13T10:00:00"]["title"] == \
        "Team planning (moved)"
    outlook = [e for k, e in first.items() if k[0].startswith("0400000082")][0]
    assert outlook["timeZone"] == "Europe/Berlin"  # the Windows zone name, mapped
    cal = s.call("Calendar/get", {"accountId": s.account()})[1]["list"]
    default = [c["id"] for c in cal if c["isDefault"]][0]
    out = run_cli(s.data, "export", "--user", "alice", "--calendar", default)
    assert out.returncode == 0
    f = tmp_path / "exported.ics"
    f.write_text(out.stdout)
    r = run_cli(s.data, "import", "--user", "bob", str(f))
    assert r.returncode == 0, r.stderr
    again = events_of(s, "bob")
    assert again == first
