"""Issue 15 §3-4: several jmapd front ends on one PostgreSQL database (DESIGN.md §3).
Two `jmapd serve` processes share one database: a write through A is read through B,
/changes and /queryChanges agree whichever answers, a commit on A reaches an
EventSource client of B (LISTEN/NOTIFY), and a password changed through A's side is
enforced by B. Runs in the PostgreSQL pass of the suite (JMAPD_TEST_STORE=pg)."""
import json
import os
import tempfile
import threading
import time

import pytest
import requests

import conftest
from conftest import CAL, Server, run_cli
from test_push import Stream, es_url

pytestmark = pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")


def front_end_beside(a, monkeypatch):
    """A second front end B (its own process, data dir and port; a's class) on a's
    database, started."""
    b = type(a).__new__(type(a))
    b.scheme, b.sessions = "http", {}
    b.tmp = tempfile.TemporaryDirectory()
    b.data = os.path.join(b.tmp.name, "data")
    b.config = a.config
    b.port = conftest.free_port()
    b.base = f"http://127.0.0.1:{b.port}"
    monkeypatch.setenv("JMAPD_STORE", conftest.PG_CLUSTER.url(
        conftest.PG_CLUSTER.schema_for(a.data)))
    b.start()
    monkeypatch.delenv("JMAPD_STORE")
    return b


@pytest.fixture
def pair(monkeypatch):
    """Front ends A and B (separate processes, data dirs and ports) on one database."""
    a = Server()
    b = front_end_beside(a, monkeypatch)
    yield a, b
    b.close()
    a.close()


def event(server, acct, title):
    cal = server.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    return {"@type": "Event", "calendarIds": {cal: True}, "title": title,
            "start": "2026-03-01T10:00:00", "duration": "PT1H", "timeZone": "Europe/Paris"}


def test_write_on_a_read_on_b(pair):
    a, b = pair
    acct = a.account()
    assert b.account() == acct
    _, before = b.call("CalendarEvent/get", {"accountId": acct, "ids": []})
    _, out = a.call("CalendarEvent/set", {"accountId": acct, "create": {"x": event(a, acct, "Shared")}})
    eid = out["created"]["x"]["id"]
    _, got = b.call("CalendarEvent/get", {"accountId": acct, "ids": [eid]})
    assert got["list"][0]["title"] == "Shared"
    assert got["state"] == out["newState"]
    # RFC 8620 §5.2 /changes from the same state gives the same answer on A and B
    args = {"accountId": acct, "sinceState": before["state"]}
    ca, cb = a.call("CalendarEvent/changes", args)[1], b.call("CalendarEvent/changes", args)[1]
    assert ca == cb and eid in cb["created"]


def test_query_changes_whichever_answers(pair):
    """RFC 8620 §5.6: a queryState from A is understood by B."""
    a, b = pair
    acct = a.account()
    q = {"accountId": acct, "filter": {"text": "agenda"}}
    _, first = a.call("CalendarEvent/query", q)
    _, out = b.call("CalendarEvent/set", {"accountId": acct,
                                          "create": {"x": event(b, acct, "Agenda review")}})
    eid = out["created"]["x"]["id"]
    name, qc = b.call("CalendarEvent/queryChanges", {**q, "sinceQueryState":
                                                     first["queryState"]})
    assert name == "CalendarEvent/queryChanges", qc
    assert [x["id"] for x in qc["added"]] == [eid]
    _, now = a.call("CalendarEvent/query", q)
    assert now["queryState"] == qc["newQueryState"] and now["ids"] == [eid]


def test_push_from_a_reaches_b(pair):
    """RFC 8620 §7.3: a StateChange for a commit on A on B's EventSource stream."""
    a, b = pair
    acct = a.account()
    s = Stream(b, es_url(b))
    assert s.r.status_code == 200
    try:
        time.sleep(0.3)  # the stream is subscribed before the write
        t0 = time.time()
        _, out = a.call("Calendar/set", {"accountId": acct, "create": {"p": {"name": "X"}}})
        name, data, _ = s.event()
        took = time.time() - t0
        assert name == "state"
        assert json.loads(data)["changed"][acct]["Calendar"] == out["newState"]
        assert took < 2, took
    finally:
        s.close()


def test_password_change_on_a_enforced_on_b(pair):
    a, b = pair
    assert b.http("alice").get(b.base + "/jmap/session").status_code == 200
    r = run_cli(a.data, "user", "passwd", "alice", "--password-stdin", stdin="changed-pw\n")
    assert r.returncode == 0, r.stderr
    time.sleep(1)  # issue 15 §3: within one second on every front end
    assert b.http("alice").get(b.base + "/jmap/session").status_code == 401
    ok = requests.get(b.base + "/jmap/session", auth=("alice", "changed-pw"))
    assert ok.status_code == 200


def test_health_reports_the_database(pair):
    """Issue 15 §7: /health answers 200 while the database answers."""
    a, b = pair
    assert requests.get(b.base + "/health").status_code == 200


def weekly_month_query(a, acct):
    """A weekly event of four occurrences created through a, and its month's expanded
    query run there: (the event's id, the query's arguments, its answer)."""
    ev = event(a, acct, "Weekly")
    ev["recurrenceRules"] = [{"@type": "RecurrenceRule", "frequency": "weekly", "count": 4}]
    _, out = a.call("CalendarEvent/set", {"accountId": acct, "create": {"w": ev}})
    wid = out["created"]["w"]["id"]
    q = {"accountId": acct, "expandRecurrences": True,
         "filter": {"after": "2026-03-01T00:00:00", "before": "2026-04-01T00:00:00"}}
    _, first = a.call("CalendarEvent/query", q)
    assert len(first["ids"]) == 4
    return wid, q, first


def test_query_changes_of_expanded_recurrences_whichever_answers(pair):
    """RFC 8620 §5.6 with draft-ietf-jmap-calendars §5.9 expandRecurrences: instance
    ids are not stored ids, so only the old results (a snapshot in the database)
    let B answer /queryChanges for a query A ran."""
    a, b = pair
    acct = a.account()
    wid, q, first = weekly_month_query(a, acct)
    _, out = b.call("CalendarEvent/set", {"accountId": acct, "update": {
        wid: {"start": "2026-03-02T10:00:00"}}})
    assert wid in (out["updated"] or {}), out["notUpdated"]
    name, qc = b.call("CalendarEvent/queryChanges", {**q, "sinceQueryState":
                                                     first["queryState"]})
    assert name == "CalendarEvent/queryChanges", qc
    _, now = b.call("CalendarEvent/query", q)
    assert len(now["ids"]) == 4 and set(now["ids"]).isdisjoint(first["ids"])
    assert qc["newQueryState"] == now["queryState"]
    assert set(qc["removed"]) >= set(first["ids"])
    assert sorted(x["id"] for x in qc["added"]) == sorted(now["ids"])
    # A's parsed-event cache (keyed by modseq) sees B's change
    _, on_a = a.call("CalendarEvent/query", q)
    assert on_a["ids"] == now["ids"] and on_a["queryState"] == now["queryState"]


def test_alert_fires_once_across_front_ends_calendars27_s6_4(monkeypatch):
    """calendars-27 §6.4 with issue 15: both front ends run the alert scheduler on one
    database; an alert fires once (one of them claims it) and its CalendarAlert reaches
    the user's event sources on both (LISTEN/NOTIFY)."""
    from alert_util import Alerts
    clock_dir = tempfile.TemporaryDirectory()
    clock = os.path.join(clock_dir.name, "clock")

    def set_time(t):
        with open(clock + ".tmp", "w") as f:
            f.write(t)
        os.chmod(clock + ".tmp", 0o600)
        os.replace(clock + ".tmp", clock)

    set_time("2026-03-01T08:00:00Z")
    monkeypatch.setenv("JMAPD_TEST_CLOCK", clock)
    a = Server()
    b = Server.__new__(Server)
    b.scheme, b.sessions = "http", {}
    b.tmp = tempfile.TemporaryDirectory()
    b.data = os.path.join(b.tmp.name, "data")
    b.config = a.config
    b.port = conftest.free_port()
    b.base = f"http://127.0.0.1:{b.port}"
    monkeypatch.setenv("JMAPD_STORE", conftest.PG_CLUSTER.url(
        conftest.PG_CLUSTER.schema_for(a.data)))
    b.start()
    monkeypatch.delenv("JMAPD_STORE")
    try:
        acct = a.account()
        wa, wb = Alerts(a, "alice"), Alerts(b, "alice")
        ev = event(a, acct, "Twice?")
        ev["alerts"] = {"al": {"@type": "Alert", "trigger": {"@type": "OffsetTrigger",
                                                             "offset": "-PT30M"}}}
        _, out = a.call("CalendarEvent/set", {"accountId": acct, "create": {"x": ev}})
        eid = out["created"]["x"]["id"]
        set_time("2026-03-01T08:30:00Z")  # 10:00 Paris is 09:00Z: due at 08:30Z
        for w in (wa, wb):
            got = w.next()
            assert got and got["calendarEventId"] == eid and got["alertId"] == "al"
            assert w.none_within(1.5)  # once, though two schedulers look
        wa.close()
        wb.close()
    finally:
        b.close()
        a.close()
        clock_dir.cleanup()


def _snapshot_in_flight(pair):
    """The set-up of the snapshot lock tests: on A an expanded /query (only its old
    results, instance ids, let /queryChanges answer at all) and a change after it; then
    A's snapshot rows go out of sight and a psql session plays A's read transaction
    whose COMMIT is not through yet: it holds the account's snapshot lock (shared) and
    has put the rows back uncommitted. Returns (query args, the first answer, the psql
    process, the rows' schema)."""
    import subprocess
    a, b = pair
    acct = a.account()
    wid, q, first = weekly_month_query(a, acct)
    _, out = a.call("CalendarEvent/set", {"accountId": acct, "update": {
        wid: {"start": "2026-03-02T10:00:00"}}})
    assert wid in (out["updated"] or {}), out["notUpdated"]
    b.call("CalendarEvent/get", {"accountId": acct, "ids": []})  # B's login is done
    cl = conftest.PG_CLUSTER
    schema = cl.schema_for(a.data)
    cl.psql(conftest.pgharness.DB,
            f"CREATE TABLE {schema}.kept AS SELECT * FROM {schema}.query_snapshots "
            f"WHERE account_id = '{acct}'; DELETE FROM {schema}.query_snapshots "
            f"WHERE account_id = '{acct}'")
    s = subprocess.Popen([os.path.join(conftest.pgharness.PGBIN, "psql"), "-X", "-q", "-A",
                          "-t", "-d", cl.url(schema)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    s.stdin.write("BEGIN;\nSELECT pg_advisory_xact_lock_shared(hashtext(current_schema()), "
                  f"hashtext('snapshot ' || '{acct}'));\n"
                  "INSERT INTO query_snapshots SELECT * FROM kept;\n\\echo held\n")
    s.stdin.flush()
    while s.stdout.readline().strip() != "held":
        pass
    return q, first, s, schema


def test_query_changes_on_b_waits_for_a_snapshot_still_committing(pair):
    """RFC 8620 §5.6, issue 15 §3 (store.h, query snapshots): A saves a /query's
    snapshot without waiting for it (its read transaction ends with a COMMIT it does
    not wait for), holding the account's snapshot lock until then. B, asked for
    /queryChanges from that queryState before the COMMIT is through, waits for the
    lock and finds the snapshot instead of answering cannotCalculateChanges. The slow
    COMMIT is played by a psql session holding the lock and the row."""
    a, b = pair
    q, first, s, _ = _snapshot_in_flight(pair)
    answer = {}

    def ask():
        answer["qc"] = b.call("CalendarEvent/queryChanges", {**q, "sinceQueryState":
                                                             first["queryState"]})
    t = threading.Thread(target=ask)
    t.start()
    time.sleep(1)
    waited = t.is_alive()  # B waits for the lock: it has not answered
    s.stdin.write("COMMIT;\n")
    s.stdin.close()
    s.wait(timeout=10)
    t.join(timeout=10)
    assert waited, answer
    name, qc = answer["qc"]
    assert name == "CalendarEvent/queryChanges", qc
    _, now = b.call("CalendarEvent/query", q)
    assert qc["newQueryState"] == now["queryState"]
    assert set(qc["removed"]) >= set(first["ids"])
    assert sorted(x["id"] for x in qc["added"]) == sorted(now["ids"])


def test_snapshot_lock_held_too_long_gives_cannot_calculate_changes_rfc8620_5_6(pair):
    """RFC 8620 §5.6, issue 15 §3 (postgres_shared.c: a lookup that missed waits for
    the account's snapshot lock at most five seconds): when another front end's
    transaction holds the lock longer, B's /queryChanges answers after about 5 s with
    cannotCalculateChanges (the old results are not known to it) and changes
    nothing: no snapshot row, no state. Once the lock is gone B answers the same
    call normally (its second connection is usable again)."""
    a, b = pair
    acct = a.account()
    q, first, s, schema = _snapshot_in_flight(pair)
    cl = conftest.PG_CLUSTER
    count = (f"SET search_path={schema}; SELECT count(*), coalesce(string_agg(key, ',' "
             f"ORDER BY key), '') FROM query_snapshots WHERE account_id = '{acct}'")
    rows_before = cl.psql(conftest.pgharness.DB, count)
    _, state_before = b.call("CalendarEvent/get", {"accountId": acct, "ids": []})
    args = {**q, "sinceQueryState": first["queryState"]}
    try:
        t0 = time.monotonic()
        name, out = b.call("CalendarEvent/queryChanges", args)
        waited = time.monotonic() - t0
        rows_during = cl.psql(conftest.pgharness.DB, count)
    finally:
        s.stdin.write("ROLLBACK;\n")  # the rows put back never commit
        s.stdin.close()
        s.wait(timeout=10)
    assert name == "error" and out["type"] == "cannotCalculateChanges", out
    assert 4.5 <= waited < 9, waited  # the lock_timeout of 5 s, not a hang
    assert rows_during == rows_before  # nothing saved by the failed call
    assert cl.psql(conftest.pgharness.DB, count) == rows_before
    _, state_after = b.call("CalendarEvent/get", {"accountId": acct, "ids": []})
    assert state_after["state"] == state_before["state"]
    # the rows come back (A's COMMIT, late): B answers at once
    cl.psql(conftest.pgharness.DB, f"INSERT INTO {schema}.query_snapshots SELECT * FROM "
                                    f"{schema}.kept")
    t0 = time.monotonic()
    name, qc = b.call("CalendarEvent/queryChanges", args)
    assert name == "CalendarEvent/queryChanges", qc
    assert time.monotonic() - t0 < 4
    assert set(qc["removed"]) >= set(first["ids"])


def test_same_query_at_same_state_saves_its_snapshot_once_rfc8620_5_6(pair):
    """Issue 15 §1 (postgres_share.c, the snapshots saved lately): a /query's snapshot
    names the query and the state, so asking the same query again at the same state
    (a calendar view shown again) does not write the same row again — its saved time
    stays that of the first answer — and B's /queryChanges from that state still
    finds it. After a change, the new state's snapshot is a new row."""
    a, b = pair
    acct = a.account()
    _, out = a.call("CalendarEvent/set", {"accountId": acct, "create": {
        "x": event(a, acct, "Once"), "y": event(a, acct, "Twice")}})
    q = {"accountId": acct, "filter": {"after": "2026-03-01T00:00:00",
                                       "before": "2026-04-01T00:00:00"}}
    cl = conftest.PG_CLUSTER
    rows = (f"SET search_path={cl.schema_for(a.data)}; SELECT key, created FROM "
            f"query_snapshots WHERE account_id = '{acct}' ORDER BY key")
    _, first = a.call("CalendarEvent/query", q)
    saved = cl.psql(conftest.pgharness.DB, rows)
    assert saved.count("\n") >= 3, saved  # header, rule, one row
    time.sleep(1.2)  # a row written again would have another `created` second
    _, again = a.call("CalendarEvent/query", q)
    assert again["queryState"] == first["queryState"] and again["ids"] == first["ids"]
    assert cl.psql(conftest.pgharness.DB, rows) == saved
    _, out = a.call("CalendarEvent/set", {"accountId": acct,
                                          "destroy": [out["created"]["x"]["id"]]})
    name, qc = b.call("CalendarEvent/queryChanges", {**q, "sinceQueryState":
                                                     first["queryState"]})
    assert name == "CalendarEvent/queryChanges", qc
    assert qc["removed"] == [out["destroyed"][0]] and qc["added"] == []
    _, now = a.call("CalendarEvent/query", q)
    assert now["queryState"] != first["queryState"]
    assert cl.psql(conftest.pgharness.DB, rows).count("\n") > saved.count("\n")


def test_expanded_query_on_a_sees_writes_through_b_rfc8620_5_5(pair):
    """Issue 15 §3 for the span scan's rows A keeps per window and state
    (postgres_index.c): a window A answered before, written through B (a create, an
    update that moves an event out, a destroy), gives on A what it gives on B, at B's
    state (RFC 8620 §5.5 queryState)."""
    a, b = pair
    acct = a.account()
    q = {"accountId": acct, "expandRecurrences": True,
         "filter": {"after": "2026-03-01T00:00:00", "before": "2026-03-02T00:00:00"}}
    first = a.call("CalendarEvent/query", q)[1]
    assert first["ids"] == []
    _, out = b.call("CalendarEvent/set", {"accountId": acct, "create": {
        "x": event(b, acct, "In"), "y": event(b, acct, "Also in")}})
    x, y = out["created"]["x"]["id"], out["created"]["y"]["id"]
    for change in ({"create": {}}, {"update": {x: {"start": "2026-05-01T10:00:00"}}},
                   {"destroy": [y]}):
        if change != {"create": {}}:
            b.call("CalendarEvent/set", {"accountId": acct, **change})
        on_b = b.call("CalendarEvent/query", q)[1]
        for _ in range(2):  # the second at the same state: A's kept rows
            on_a = a.call("CalendarEvent/query", q)[1]
            assert sorted(on_a["ids"]) == sorted(on_b["ids"])
            assert on_a["queryState"] == on_b["queryState"]
    assert on_a["ids"] == []


def test_token_revoked_on_a_refused_on_b_within_a_second_rfc6750_3_1(pair):
    """Issue 15 §3 (the credential cache): a bearer token B has verified and cached,
    revoked through A's side (`jmapd token revoke`), is refused by B within one
    second: invalid_token, 401 (RFC 6750 §3.1), by header and in an EventSource URL's
    access_token (§2.3)."""
    a, b = pair
    r = run_cli(a.data, "token", "create", "alice", "--label", "pair")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    h = {"Authorization": "Bearer " + token}
    for _ in range(3):  # verified, then answered from B's cache
        assert requests.get(b.base + "/jmap/session", headers=h).status_code == 200
    listed = run_cli(a.data, "token", "list", "alice").stdout
    tid = [line.split("\t")[0] for line in listed.splitlines() if line.endswith("\tpair")]
    assert len(tid) == 1, listed
    assert run_cli(a.data, "token", "revoke", tid[0]).returncode == 0
    time.sleep(1)  # issue 15 §3: within one second on every front end
    assert requests.get(b.base + "/jmap/session", headers=h).status_code == 401
    events = es_url(b, closeafter="state") + "&access_token=" + token
    assert requests.get(events, timeout=10).status_code == 401
    assert requests.get(a.base + "/jmap/session", headers=h).status_code == 401


def test_contact_changed_on_a_read_at_once_through_b_rfc9610_3_1(pair):
    """Issue 15 §3 (the contact caches, keyed by modseq): a card B has read (and
    cached), changed through A, reads as changed through B at once: its /get at A's
    new state (RFC 9610 §3.1, RFC 8620 §5.1), its /query by the new name, and after a
    destroy on A it is notFound on B."""
    from test_contacts_util import USING, account
    a, b = pair
    acct = account(a)

    def on(server, name, args):
        out_name, out = server.call(name, {"accountId": acct, **args}, using=USING)
        assert out_name == name, out
        return out

    book = on(a, "AddressBook/set", {"create": {"b": {"name": "Pair"}}})["created"]["b"]["id"]
    card = {"addressBookIds": {book: True}, "name": {"full": "Ann Early"}}
    cid = on(a, "ContactCard/set", {"create": {"c": card}})["created"]["c"]["id"]
    for _ in range(2):  # read, then read again from B's cache
        got = on(b, "ContactCard/get", {"ids": [cid]})
        assert got["list"][0]["name"]["full"] == "Ann Early"
    out = on(a, "ContactCard/set", {"update": {cid: {"name": {"full": "Ann Later"}}}})
    assert cid in out["updated"], out
    got = on(b, "ContactCard/get", {"ids": [cid]})
    assert got["list"][0]["name"]["full"] == "Ann Later"
    assert got["state"] == out["newState"]
    q = on(b, "ContactCard/query", {"filter": {"inAddressBook": book, "text": "later"}})
    assert q["ids"] == [cid]
    out = on(a, "ContactCard/set", {"destroy": [cid]})
    got = on(b, "ContactCard/get", {"ids": [cid]})
    assert got["list"] == [] and got["notFound"] == [cid]


def test_writes_on_the_same_rows_from_both_never_fail_rfc8620_5_3(pair):
    """Issue 15 §1 (serialization failures): writers on A and B at once change the same
    rows (one calendar's name, the account's Calendar state). Under SERIALIZABLE alone
    such transactions fail with serialization failures; here writers take turns (the
    writers' lock, README "Running on PostgreSQL"), so every /set succeeds as if alone:
    no serverFail, no notUpdated, each its own new state (RFC 8620 §5.3: oldState is
    the state before this change), the states form one chain, and the name that
    stays is the last write's. Nothing in either log names a serialization failure
    or a deadlock."""
    a, b = pair
    acct = a.account()
    _, out = a.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "n"}}})
    cid = out["created"]["c"]["id"]
    steps, errors, lock = [], [], threading.Lock()

    def writer(front, tag):
        http = requests.Session()
        http.auth = ("alice", "alice-pw")
        for i in range(25):
            body = {"using": [conftest.CORE, CAL], "methodCalls": [["Calendar/set", {
                "accountId": acct, "update": {cid: {"name": f"{tag}{i}"}}}, "0"]]}
            r = http.post(front.base + "/jmap/api/", data=json.dumps(body),
                          headers={"Content-Type": "application/json"}, timeout=30)
            res = r.json()["methodResponses"][0] if r.status_code == 200 else None
            with lock:
                if not res or res[0] != "Calendar/set" or cid not in (res[1]["updated"] or {}):
                    errors.append((tag, i, r.status_code, r.text[:300]))
                else:
                    steps.append((res[1]["oldState"], res[1]["newState"], f"{tag}{i}"))

    threads = [threading.Thread(target=writer, args=(f, t)) for f, t in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(steps) == 50
    new = {s[1]: s for s in steps}
    assert len(new) == 50  # no two changes got one state
    olds = {s[0] for s in steps}
    assert len(olds) == 50  # each state changed once: one chain
    last = (new.keys() - olds).pop()
    _, got = b.call("Calendar/get", {"accountId": acct, "ids": [cid]})
    assert got["state"] == last and got["list"][0]["name"] == new[last][2]
    for s in (a, b):
        log = s.read_log()
        assert "could not serialize" not in log and "deadlock" not in log


def test_expanded_snapshot_names_each_event_once_old_json_rows_read_rfc8620_5_6(pair):
    """Issue 15 §3, the query snapshots in the database (postgres_snapcode.c): the row
    of an expanded query (draft-ietf-jmap-calendars expandRecurrences: instance ids
    "<base>_<recurrence id>") is the compact text, naming each event's id once; B
    reads it back as A's ids for /queryChanges (RFC 8620 §5.6). A row written before
    (a JSON array) still reads."""
    a, b = pair
    acct = a.account()
    wid, q, first = weekly_month_query(a, acct)
    cl = conftest.PG_CLUSTER
    schema = cl.schema_for(a.data)
    rows = cl.psql(conftest.pgharness.DB, f"SET search_path={schema}; SELECT ids FROM "
                                          f"query_snapshots WHERE account_id = '{acct}'")
    row = [r.strip() for r in rows.splitlines() if wid in r]
    assert len(row) == 1 and row[0].startswith("~1 ") and row[0].count(wid) == 1, rows

    def changes_on_b(since):
        name, qc = b.call("CalendarEvent/queryChanges", {**q, "sinceQueryState": since})
        assert name == "CalendarEvent/queryChanges", qc
        return qc

    _, out = a.call("CalendarEvent/set", {"accountId": acct, "update": {
        wid: {"title": "Weekly, renamed"}}})
    qc = changes_on_b(first["queryState"])
    assert sorted(qc["removed"]) == sorted(first["ids"])  # the event changed: all of it
    assert sorted(x["id"] for x in qc["added"]) == sorted(first["ids"])
    # every row as JSON (the form written before): the same answer
    rows = cl.psql(conftest.pgharness.DB, f"SET search_path={schema}; SELECT key || ' ' || ids "
                                          f"FROM query_snapshots WHERE account_id = '{acct}'")
    for r in rows.splitlines():
        key, _, text = r.strip().partition(" ")
        if text.startswith("~1"):
            ids = json.dumps(compact_ids(text))
            cl.psql(conftest.pgharness.DB, f"UPDATE {schema}.query_snapshots SET ids = "
                                            f"'{ids}' WHERE key = '{key}'")
    assert changes_on_b(first["queryState"]) == qc


def compact_ids(text):
    """postgres_snapcode.c's compact text read back, as the documented form says."""
    ids, bases = [], []
    for tok in text.split(" ")[1:]:
        if "." not in tok:
            ids.append(tok)
            if len(tok) > 16 and tok[-16] == "_" and tok[-7] == "T":
                bases.append([tok[:-16], tok[-6:]])
            continue
        n, rest = tok.split(".")
        base = bases[int(n)]
        if len(rest) == 15:
            base[1] = rest[-6:]
        ids.append(f"{base[0]}_{rest[:8]}T{base[1]}")
    return ids


def test_same_snapshot_saved_by_both_at_once_rfc8620_5_6(pair):
    """Issue 15 §1 (serialization failures) where one can happen: A and B answer the
    same expanded /query at the same state at once, and each saves its snapshot in its
    read transaction (REPEATABLE READ), so one may find the other's row committed
    after its snapshot (a serialization failure). That save is lost without a sound,
    the other's row serves: every answer is right, no error is logged, and
    /queryChanges from that state answers on both (RFC 8620 §5.6). Rounds at new
    states, so each is a new row for both."""
    a, b = pair
    acct = a.account()
    ev = event(a, acct, "Daily")
    ev["recurrenceRules"] = [{"@type": "RecurrenceRule", "frequency": "daily", "count": 20}]
    _, out = a.call("CalendarEvent/set", {"accountId": acct, "create": {"d": ev}})
    did = out["created"]["d"]["id"]
    q = {"accountId": acct, "expandRecurrences": True,
         "filter": {"after": "2026-03-01T00:00:00", "before": "2026-04-01T00:00:00"}}
    for round_ in range(6):
        got = []

        def ask(front):  # a connection of its own
            body = {"using": [conftest.CORE, CAL], "methodCalls": [
                ["CalendarEvent/query", q, "0"]]}
            r = requests.post(front.base + "/jmap/api/", json=body, auth=("alice", "alice-pw"))
            got.append(r.json()["methodResponses"][0][1])
        threads = [threading.Thread(target=ask, args=(f,)) for f in (a, b, a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        answers = got
        assert len(answers) == 4 and all(x["ids"] == answers[0]["ids"] for x in answers), got
        assert all(x["queryState"] == answers[0]["queryState"] for x in answers)
        _, out = a.call("CalendarEvent/set", {"accountId": acct, "update": {
            did: {"title": f"Daily {round_}"}}})
        for front in (b, a):
            name, qc = front.call("CalendarEvent/queryChanges", {
                **q, "sinceQueryState": answers[0]["queryState"]})
            assert name == "CalendarEvent/queryChanges", qc
            assert sorted(qc["removed"]) == sorted(answers[0]["ids"])
    for s in (a, b):
        log = s.read_log()
        assert "could not serialize" not in log and "Z ERROR " not in log, log[-3000:]


def test_blob_collection_one_front_end_at_a_time_rfc8620_6(pair):
    """Issue 15 §3 (blob garbage collection, one front end at a time): the collection
    (SIGUSR1: now, README) is a write transaction, so on PostgreSQL it takes the
    writers' advisory lock. While another session holds that lock, A's and B's
    collections both wait on it (pg_locks) and nothing is deleted; once it is free
    they run one after the other: the upload older than blob_upload_ttl that nothing
    references is gone (RFC 8620 §6), a new one stays."""
    import signal
    from test_blob import upload
    a, b = pair
    acct = a.account()
    old = upload(a, acct, b"old and unreferenced").json()["blobId"]
    new = upload(b, acct, b"new and unreferenced").json()["blobId"]
    cl = conftest.PG_CLUSTER
    schema = cl.schema_for(a.data)
    db = conftest.pgharness.DB
    cl.psql(db, f"UPDATE {schema}.blob_uploads SET created = created - 7200 "
                f"WHERE blob_id = '{old}'")
    waiting = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = "
               "7428301 AND NOT granted")
    blobs = f"SELECT string_agg(id, ',' ORDER BY id) FROM {schema}.blobs"

    def collected(s):
        return s.read_log().count("unreferenced blobs collected")

    before = (collected(a), collected(b))
    held = conftest.hold_write_lock(a)
    try:
        a.proc.send_signal(signal.SIGUSR1)
        b.proc.send_signal(signal.SIGUSR1)
        deadline = time.time() + 8  # inside db_busy_timeout (10 s), the lock's wait
        while cl.psql(db, waiting).split()[2] != "2":
            assert time.time() < deadline, cl.psql(db, "SELECT * FROM pg_locks")
            time.sleep(0.1)
        assert old in cl.psql(db, blobs)  # nothing deleted while they wait
        assert (collected(a), collected(b)) == before
    finally:
        held.close()
    deadline = time.time() + 10
    while (collected(a), collected(b)) != (before[0] + 1, before[1] + 1):
        assert time.time() < deadline, (a.read_log()[-2000:], b.read_log()[-2000:])
        time.sleep(0.1)
    left = cl.psql(db, blobs)
    assert old not in left and new in left
