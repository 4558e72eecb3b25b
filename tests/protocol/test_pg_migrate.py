"""Issue 15 §6: `jmapd migrate --to postgresql://…` copies a SQLite data directory
(users, tokens, objects, the change log with its states, blobs) into an empty
PostgreSQL database, verifies the counts and leaves the SQLite file as it was; a
client keeps syncing from the states it held (RFC 8620 §5.2). Runs in the PostgreSQL
pass of the suite (JMAPD_TEST_STORE=pg)."""
import hashlib
import os

import pytest
import requests

import conftest
from conftest import Server, run_cli
from test_blob import download_url, upload

pytestmark = pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_migrate_sqlite_to_postgresql(monkeypatch):
    monkeypatch.setenv("JMAPD_STORE", "sqlite")
    s = Server()
    acct = s.account()
    cal = s.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    _, start = s.call("CalendarEvent/get", {"accountId": acct, "ids": []})
    blob = upload(s, acct, b"attachment bytes", "text/plain").json()["blobId"]
    created = {}
    for i, title in enumerate(["Café meeting", "Planning", "Lunch"]):
        _, out = s.call("CalendarEvent/set", {"accountId": acct, "create": {"e": {
            "calendarIds": {cal: True}, "title": title, "start": f"2026-04-0{i + 1}T09:00:00",
            "duration": "PT1H", "timeZone": "Europe/Berlin"}}})
        created[out["created"]["e"]["id"]] = title
    _, mid = s.call("CalendarEvent/get", {"accountId": acct, "ids": []})
    gone = list(created)[-1]  # Lunch
    s.call("CalendarEvent/set", {"accountId": acct, "destroy": [gone]})
    _, before = s.call("CalendarEvent/get", {"accountId": acct})
    token = run_cli(s.data, "token", "create", "alice").stdout.split()[0]
    s.stop()
    db = os.path.join(s.data, "jmapd.db")
    was = digest(db)

    url = conftest.PG_CLUSTER.url(conftest.PG_CLUSTER.schema_for(s.data + "-pg"))
    r = run_cli(s.data, "migrate", "--to", url)
    assert r.returncode == 0, r.stderr
    assert "objects" in r.stdout and "blobs" in r.stdout
    assert digest(db) == was  # the SQLite data untouched
    again = run_cli(s.data, "migrate", "--to", url)
    assert again.returncode == 1 and "not empty" in again.stderr

    monkeypatch.setenv("JMAPD_STORE", url)
    s.start()
    try:
        _, after = s.call("CalendarEvent/get", {"accountId": acct})
        assert after["state"] == before["state"]
        assert sorted(e["id"] for e in after["list"]) == sorted(e["id"] for e in before["list"])
        # RFC 8620 §5.2: the old states still give their changes
        _, ch = s.call("CalendarEvent/changes", {"accountId": acct, "sinceState": mid["state"]})
        assert ch["destroyed"] == [gone] and ch["newState"] == before["state"]
        _, ch = s.call("CalendarEvent/changes", {"accountId": acct,
                                                 "sinceState": start["state"]})
        assert sorted(ch["created"]) == sorted(set(created) - {gone})
        # text search over the copied index: diacritics fold (cafe finds Café)
        _, q = s.call("CalendarEvent/query", {"accountId": acct, "filter": {"text": "cafe"}})
        assert [created[i] for i in q["ids"]] == ["Café meeting"]
        r = s.http().get(download_url(s, acct, blob, "a.txt", "text/plain"))
        assert r.status_code == 200 and r.content == b"attachment bytes"
        # the token and the password came along
        assert requests.get(s.base + "/jmap/session",
                            headers={"Authorization": "Bearer " + token}).status_code == 200
        assert requests.get(s.base + "/jmap/session", auth=("bob", "bob-pw")).status_code == 200
        # a new user gets a new id after the copied ones
        r = run_cli(s.data, "user", "add", "dave", "--password-stdin", stdin="dave-pw\n")
        assert r.returncode == 0, r.stderr
    finally:
        s.close()


def test_migrate_refuses_a_password_on_the_command_line(tmp_path):
    r = run_cli(str(tmp_path), "migrate", "--to", "postgresql://u:secret@localhost/db")
    assert r.returncode == 2 and "password" in r.stderr


def test_migrate_copies_dav_locks_rfc4918_6(monkeypatch):
    """Issue 20: the DAV write locks (RFC 4918 §6) come along: a lock granted on SQLite
    still binds writers on PostgreSQL (§7: 423 without its token), shows in lockdiscovery
    (§15.8) with its token, and its holder writes with it; a reservation (§9.10.4) too."""
    from davutil import D, dav, error_condition, ics, multistatus, new_calendar, propfind, put
    from test_dav_lock import lock, token_of
    import uuid
    monkeypatch.setenv("JMAPD_STORE", "sqlite")
    s = Server()
    try:
        cal = new_calendar(s)
        uid = str(uuid.uuid4())
        assert put(s, cal + "x.ics", ics(uid)).status_code == 201
        tok = token_of(lock(s, cal + "x.ics", timeout="Second-3600"))
        reserved = token_of(lock(s, cal + "r.ics", timeout="Second-3600"), 201)
        s.stop()
        url = conftest.PG_CLUSTER.url(conftest.PG_CLUSTER.schema_for(s.data + "-pg"))
        r = run_cli(s.data, "migrate", "--to", url)
        assert r.returncode == 0, r.stderr
        assert "dav_locks" in r.stdout
        monkeypatch.setenv("JMAPD_STORE", url)
        s.start()
        r = put(s, cal + "x.ics", ics(uid, "Bob"), user="bob")
        assert r.status_code == 423 and D + "lock-token-submitted" in error_condition(r)
        ms = multistatus(propfind(s, cal + "x.ics", "<d:lockdiscovery/>"))
        al = ms[cal + "x.ics"]["props"][D + "lockdiscovery"].find(D + "activelock")
        assert al.find(f"{D}locktoken/{D}href").text == tok
        r = put(s, cal + "x.ics", ics(uid, "Holder"), headers={"If": f"(<{tok}>)"})
        assert r.status_code in (200, 204), r.text
        assert put(s, cal + "r.ics", ics(str(uuid.uuid4())), user="bob").status_code == 423
        assert s.http().get(s.base + cal + "r.ics").status_code == 204
        for t, path in ((tok, "x.ics"), (reserved, "r.ics")):
            r = dav(s, "UNLOCK", cal + path, headers={"Lock-Token": f"<{t}>"})
            assert r.status_code == 204
    finally:
        s.close()


def test_migrate_copies_feeds_and_subscriptions_and_every_table(monkeypatch):
    """Issue 15 §6 ("… blobs, feeds"): a published feed (`jmapd feed create`: its secret
    URL, README "Publishing calendars") and a subscribed calendar (README "Subscribing
    to calendars published elsewhere": its url, what the last refresh kept) come along:
    after the move the secret URL serves the calendar without credentials and the
    subscription goes on following its feed (a new event there arrives on
    PostgreSQL). Every table of the SQLite file that holds rows, but those derived
    from others (text and search indexes, counts of rows), has its rows in the database."""
    import sqlite3
    from test_subscriptions import FEED_CONFIG, SUB, Feeds, subscribe, vevent, wait_for
    feeds = Feeds()
    monkeypatch.setenv("JMAPD_STORE", "sqlite")
    s = Server(config=FEED_CONFIG)
    try:
        acct = s.account()
        cal = s.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
        s.call("CalendarEvent/set", {"accountId": acct, "create": {"f": {
            "calendarIds": {cal: True}, "uid": "pub@example.com", "title": "Published",
            "start": "2026-04-01T10:00:00", "timeZone": "Europe/Berlin"}}})
        r = run_cli(s.data, "feed", "create", "--user", "alice", "--calendar", cal)
        assert r.returncode == 0, r.stderr
        url = r.stdout.strip()
        path = url[url.index("/feed/"):]
        feeds.put("/sub.ics", [vevent("one@feed", "One")])
        r = subscribe(s, "alice", feeds.url("/sub.ics"), "--name", "Followed")
        assert r.returncode == 0, r.stderr
        sub = r.stdout.strip().split()[-1]
        s.stop()
        db = sqlite3.connect(os.path.join(s.data, "jmapd.db"))
        tables = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        counts = {n: db.execute(f"SELECT count(*) FROM \"{n}\"").fetchone()[0] for n in tables}
        db.close()
        assert counts["feeds"] >= 1

        cl = conftest.PG_CLUSTER
        schema = cl.schema_for(s.data + "-pg")
        r = run_cli(s.data, "migrate", "--to", cl.url(schema))
        assert r.returncode == 0, r.stderr
        # derived: search and text indexes, and SQLite's counts of the rows (schema step
        # 26; PostgreSQL counts the rows themselves)
        derived = ("sqlite_", "object_fields", "object_text", "object_grams", "metadata_keys",
                   "object_counts")
        for name, n in counts.items():
            if n and not name.startswith(derived):
                got = cl.psql(conftest.pgharness.DB, f"SELECT count(*) FROM {schema}.{name}")
                assert got.split()[2] == str(n), (name, n, got)

        monkeypatch.setenv("JMAPD_STORE", cl.url(schema))
        s.start()
        got = requests.get(s.base + path)  # no credentials: the URL is the secret
        assert got.status_code == 200 and "UID:pub@example.com" in got.text
        _, out = s.call("Calendar/get", {"accountId": acct, "ids": [sub]})
        c = out["list"][0]
        assert c[SUB]["url"] == feeds.url("/sub.ics") and c[SUB]["lastRefresh"], c

        def titles():
            _, ev = s.call("CalendarEvent/get", {"accountId": acct, "properties":
                                                 ["title", "calendarIds"]})
            return sorted(e["title"] for e in ev["list"] if sub in e["calendarIds"])
        assert titles() == ["One"]
        feeds.put("/sub.ics", [vevent("one@feed", "One"), vevent("two@feed", "Two")])
        assert wait_for(lambda: titles() == ["One", "Two"]), titles()
    finally:
        s.close()
        feeds.close()
