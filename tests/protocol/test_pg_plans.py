"""Issue 15 §1 (PostgreSQL ≥ 0.5× SQLite; DESIGN.md §8: cost grows with the work a
request does, not with the account): the plans PostgreSQL chooses for jmapd's lookups
by id, on an account it has no statistics of (a new one; autovacuum off here, as it is
for the first minute of any import). A private cluster of this file's own logs every
plan with its actual row counts (auto_explain), so a lookup that reads the account's
rows to find the ones asked for shows as "Rows Removed by Filter". And a front end
that has created many objects of an account has PostgreSQL gather statistics of it
(postgres_stats.c). Runs in the PostgreSQL pass of the suite (JMAPD_TEST_STORE=pg)."""
import os
import re
import time

import pytest

import conftest
import pgharness
from conftest import CAL, Server

pytestmark = pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")


@pytest.fixture(scope="module")
def cluster():
    c = pgharness.Cluster()
    c.psql("jmapd", "ALTER SYSTEM SET autovacuum = off")
    c.psql("jmapd", "SELECT pg_reload_conf()")
    c.psql("jmapd", "ALTER DATABASE jmapd SET session_preload_libraries = 'auto_explain'")
    c.psql("jmapd", "ALTER DATABASE jmapd SET auto_explain.log_min_duration = 0")
    c.psql("jmapd", "ALTER DATABASE jmapd SET auto_explain.log_analyze = on")
    yield c
    c.stop()


@pytest.fixture
def server(cluster, monkeypatch):
    """A server on the cluster above; its schema's name as server.schema."""
    import tempfile
    tmp = tempfile.mkdtemp()
    schema = cluster.schema_for(tmp)
    monkeypatch.setenv("JMAPD_STORE", cluster.url(schema))
    s = Server()
    s.schema = schema
    yield s
    s.close()


def create_events(s, acct, n):
    cal = s.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    ids = []
    for first in range(0, n, 100):
        create = {f"e{i}": {"@type": "Event", "calendarIds": {cal: True}, "title": f"event {i}",
                            "start": f"2026-03-{1 + i % 28:02d}T{8 + i % 10:02d}:00:00",
                            "duration": "PT1H", "timeZone": "Europe/Paris"}
                  for i in range(first, min(n, first + 100))}
        out = s.call("CalendarEvent/set", {"accountId": acct, "create": create})[1]
        assert not out.get("notCreated"), out
        ids += [v["id"] for v in out["created"].values()]
    return ids


def plans_during(cluster, fn):
    """The plans PostgreSQL logged (auto_explain, with actual rows) while fn ran."""
    log = os.path.join(cluster.root, "log")
    time.sleep(0.2)  # what came before is in the log
    mark = os.path.getsize(log)
    fn()
    time.sleep(0.5)
    with open(log, errors="replace") as f:
        f.seek(mark)
        text = f.read()
    return re.findall(r"plan:\n(?:\t.*\n)+", text)


def rows_filtered(plans):
    """The most rows any plan read and threw away by a filter, with the plan."""
    worst = (0, "")
    for p in plans:
        for n in re.findall(r"Rows Removed by Filter: (\d+)", p):
            worst = max(worst, (int(n), p))
    return worst


def test_get_by_id_reads_only_the_rows_asked_for_rfc8620_5_1(cluster, server):
    """/get of 50 ids, and of one, in an account of 400 events PostgreSQL has no
    statistics of: each statement reads the rows asked for, not the account's (the
    prefetch as `id = ANY(...)` read all 400 through (account_id, type) and filtered;
    the single lookup took the change index and did the same)."""
    acct = server.account()
    ids = create_events(server, acct, 400)
    for want in (ids[100:150], ids[200:201]):
        out = {}
        plans = plans_during(cluster, lambda: out.update(server.call(
            "CalendarEvent/get", {"accountId": acct, "ids": want, "properties": ["title"]})[1]))
        assert len(out["list"]) == len(want)
        assert any("objects" in p for p in plans), "no plan logged: auto_explain is off?"
        n, plan = rows_filtered(plans)
        assert n < len(want), plan


def test_changes_scan_reads_only_the_changes_rfc8620_5_2(cluster, server):
    """/changes 3 back in the same kind of account: the change index, not a sort of
    the account, even after the statistics gathered at 512 creates
    (postgres_stats.c), which once left updated_modseq without any."""
    acct = server.account()
    ids = create_events(server, acct, 600)
    old = server.call("CalendarEvent/get", {"accountId": acct, "ids": []})[1]["state"]
    for i in range(3):
        out = server.call("CalendarEvent/set", {"accountId": acct,
                                                "update": {ids[i]: {"title": "moved"}}})[1]
        assert ids[i] in out["updated"], out
    out = {}
    plans = plans_during(cluster, lambda: out.update(server.call(
        "CalendarEvent/changes", {"accountId": acct, "sinceState": old})[1]))
    assert out["oldState"] == old and sorted(out["updated"]) == sorted(ids[:3]), out
    assert not any("Seq Scan on objects" in p for p in plans), plans
    n, plan = rows_filtered(plans)
    assert n < 50, plan


def test_growing_account_gets_planner_statistics(cluster, server):
    """600 events created through one front end: past 512 creates it has PostgreSQL
    gather statistics of the account's tables itself (ANALYZE: last_analyze is set;
    autovacuum, off here, would set last_autoanalyze), without waiting for a tenth of
    the table to change."""
    acct = server.account()
    create_events(server, acct, 600)
    sql = (f"SELECT relname FROM pg_stat_user_tables WHERE schemaname = '{server.schema}' "
           "AND last_analyze IS NOT NULL ORDER BY 1")
    deadline = time.time() + 15
    while time.time() < deadline:
        done = cluster.psql("jmapd", sql).split()
        if "objects" in done and "object_index" in done:
            break
        time.sleep(0.2)
    assert "objects" in done and "object_index" in done, done


def test_small_account_is_not_analyzed(cluster, server):
    """100 events: below the first threshold (512), no ANALYZE is sent."""
    acct = server.account()
    create_events(server, acct, 100)
    time.sleep(1)
    sql = (f"SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = '{server.schema}' "
           "AND last_analyze IS NOT NULL")
    assert cluster.psql("jmapd", sql).split()[2] == "0"


def test_schema_step_13_on_an_existing_database_rfc8620_5_2(cluster, server):
    """Schema 13 (the change index partial) on a database at schema 12 with objects in
    it: jmapd restarted on it rebuilds the index, and the clients' old states still
    give their changes (RFC 8620 §5.2), the objects their data."""
    acct = server.account()
    ids = create_events(server, acct, 30)
    old = server.call("CalendarEvent/get", {"accountId": acct, "ids": []})[1]["state"]
    server.call("CalendarEvent/set", {"accountId": acct, "update": {ids[0]: {"title": "A"}},
                                      "destroy": [ids[1]]})
    server.stop()
    on = f"SET search_path={server.schema}; "
    cluster.psql("jmapd", on + "DROP INDEX objects_changes; CREATE INDEX objects_changes ON "
                 "objects(account_id, type, updated_modseq) INCLUDE (id, created_modseq, "
                 "destroyed); UPDATE jmapd_schema SET version = 12")
    server.start()
    indexdef = cluster.psql("jmapd", on + "SELECT indexdef FROM pg_indexes WHERE "
                            f"schemaname = '{server.schema}' AND indexname = 'objects_changes'")
    assert "WHERE (updated_modseq > 0)" in indexdef, indexdef
    assert int(cluster.psql("jmapd", on + "SELECT version FROM jmapd_schema").split()[2]) > 12
    _, out = server.call("CalendarEvent/changes", {"accountId": acct, "sinceState": old})
    assert out["updated"] == [ids[0]] and out["destroyed"] == [ids[1]], out
    _, got = server.call("CalendarEvent/get", {"accountId": acct, "ids": ids[:3]})
    assert [e["title"] for e in got["list"]] == ["A", "event 2"] and got["notFound"] == [ids[1]]


def test_lookups_are_planned_once_per_connection_rfc8620_5_2(cluster, server):
    """A prepared statement is planned once per connection (pg_session_setup: generic
    plans, with $n for the values), not again for each of its first five runs there
    (PostgreSQL's default: most of a small /changes' cost, W5): the plans of a new
    server's first /changes carry parameters, not the values."""
    acct = server.account()
    create_events(server, acct, 3)
    plans = plans_during(cluster, lambda: server.call(
        "CalendarEvent/changes", {"accountId": acct, "sinceState": "1"}))
    scan = [p for p in plans if "updated_modseq>$3" in p]
    assert scan, plans
    assert all("(account_id = $1)" in p and acct not in p for p in scan), scan


def test_text_search_is_planned_for_its_words(cluster, server):
    """The one kind of statement built for a search (its own conditions) keeps a plan
    made for its words (pgq_exec_custom): a pattern or text query of unknown
    selectivity must not make the plan scan where the word's would use an index."""
    acct = server.account()
    create_events(server, acct, 3)
    plans = plans_during(cluster, lambda: server.call(
        "CalendarEvent/query", {"accountId": acct, "filter": {"title": "event"}}))
    search = [p for p in plans if "::tsquery" in p]
    assert search and all("''event'':*'::tsquery" in p for p in search), plans


def test_changes_without_metadata_changes_reads_no_metadata_rows_rfc8620_5_2(cluster, server):
    """A /changes whose state read shows that no metadata row (issue 18) changed since
    the state asked for does not scan them (one waited round trip less, W5): the
    metadata change scan's statement is not run at all."""
    acct = server.account()
    ids = create_events(server, acct, 3)
    old = server.call("CalendarEvent/get", {"accountId": acct, "ids": []})[1]["state"]
    server.call("CalendarEvent/set", {"accountId": acct, "update": {ids[0]: {"title": "B"}}})
    out = {}
    plans = plans_during(cluster, lambda: out.update(server.call(
        "CalendarEvent/changes", {"accountId": acct, "sinceState": old})[1]))
    assert out["updated"] == [ids[0]], out
    assert any("updated_modseq>$3" in p for p in plans), plans
    assert not any("FROM object_metadata m JOIN objects" in p for p in plans), plans


def test_cold_expanded_query_reads_its_events_at_once(cluster, server):
    """Issue 15 §3: an expanded query on a front end whose event cache holds none of
    the account's recurring events (just restarted) reads them from the database in
    one statement, not one statement (one round trip) per event."""
    acct = server.account()
    cal = server.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    create = {f"r{i}": {"@type": "Event", "calendarIds": {cal: True}, "title": f"weekly {i}",
                        "start": f"2026-03-{1 + i % 28:02d}T09:00:00", "duration": "PT1H",
                        "timeZone": "Europe/Paris",
                        "recurrenceRule": {"@type": "RecurrenceRule", "frequency": "weekly",
                                           "count": 8}}
              for i in range(30)}
    out = server.call("CalendarEvent/set", {"accountId": acct, "create": create})[1]
    assert len(out["created"]) == 30, out
    server.stop()
    server.start()  # nothing of the account cached
    query = {"accountId": acct, "expandRecurrences": True,
             "filter": {"after": "2026-03-01T00:00:00", "before": "2026-04-01T00:00:00"}}
    got = {}
    plans = plans_during(cluster, lambda: got.update(
        server.call("CalendarEvent/query", query)[1]))
    assert len(got["ids"]) > 30, got
    reads = [p for p in plans if " on objects" in p]
    assert 1 <= len(reads) <= 2, f"{len(reads)} statements read objects"
    # the same answer from the cache
    again = server.call("CalendarEvent/query", query)[1]
    assert again["ids"] == got["ids"]


def test_expanded_query_of_a_window_at_an_unchanged_state_scans_once_rfc8620_5_5(
        cluster, server):
    """Issue 15 §1 (W3): an expanded query of a window this front end answered at the
    same state answers from the rows of that span scan (postgres_index.c); a write of
    the type moves the state, and the next query scans again and sees it. The results
    are the same either way (RFC 8620 §5.5: the ids of the query at the state)."""
    acct = server.account()
    create_events(server, acct, 20)
    query = {"accountId": acct, "expandRecurrences": True,
             "filter": {"after": "2026-03-01T00:00:00", "before": "2026-04-01T00:00:00"}}

    def scans(fn):
        return [p for p in plans_during(cluster, fn) if "generate_series" in p]

    got = {}
    assert len(scans(lambda: got.update(server.call("CalendarEvent/query", query)[1])))
    assert len(got["ids"]) == 20
    again = {}
    assert scans(lambda: again.update(server.call("CalendarEvent/query", query)[1])) == []
    assert again == got
    new = create_events(server, acct, 1)
    after = {}
    assert len(scans(lambda: after.update(server.call("CalendarEvent/query", query)[1])))
    assert sorted(after["ids"]) == sorted(got["ids"] + new)
    assert after["queryState"] != got["queryState"]


def test_set_of_many_creates_reads_only_their_keys_and_uids(cluster, server):
    """Issue 15 §1 (W1 at scale; DESIGN.md §8, cost grows with the work): a /set creating
    many events checks their uids (draft-ietf-jmap-calendars §5: uid and recurrenceId
    identify an event) and unique keys against the rows of those keys only
    (store_keys_expect), not against every uid and key of the account, which it read
    before, a list as long as the account. A clash is still found."""
    acct = server.account()
    create_events(server, acct, 300)
    cal = server.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    old = server.call("CalendarEvent/set", {"accountId": acct, "create": {"o": {
        "@type": "Event", "calendarIds": {cal: True}, "uid": "taken@example.com",
        "title": "old", "start": "2026-04-01T10:00:00", "duration": "PT1H",
        "timeZone": "Europe/Paris"}}})[1]
    assert "o" in old["created"], old
    create = {f"n{i}": {"@type": "Event", "calendarIds": {cal: True},
                        "uid": "taken@example.com" if i == 0 else f"new{i}@example.com",
                        "title": f"new {i}", "start": "2026-04-02T10:00:00",
                        "duration": "PT1H", "timeZone": "Europe/Paris"} for i in range(20)}
    out = {}
    plans = plans_during(cluster, lambda: out.update(server.call(
        "CalendarEvent/set", {"accountId": acct, "create": create})[1]))
    assert sorted(out["notCreated"]) == ["n0"] and len(out["created"]) == 19, out
    lists = [p for p in plans if "IS NOT NULL ORDER BY" in p]
    assert lists == [], lists[0]
    assert any("unnest" in p and "ukey" in p for p in plans), "no probe of the keys"
