"""Issue 15 §1: every write transaction at the isolation store.h requires, "with
serialization failures retried transparently". The writers' lock makes PostgreSQL's
write transactions take turns, so it has no reason of its own to refuse one
(test_pg_frontends.py: 50 concurrent writes of one row); a trigger, an administrator's
lock or a stricter isolation still may, with serialization_failure (SQLSTATE 40001) or
deadlock_detected (40P01). Here a trigger the test installs refuses the first N writes
of an object row of one type: the call is run again from its start (engine.c
jmap_call_run), up to 3 times, and answers as if nothing had been refused, with one new
state and no object twice (RFC 8620 §5.3); refused more often, it is serverFail and
nothing changed. The trigger counts with a sequence: nextval is not rolled back with
the refused transaction, as a row of a table would be. Runs in the PostgreSQL pass of
the suite (JMAPD_TEST_STORE=pg)."""
import pytest

import conftest
from conftest import CAL, CORE, Server
from davutil import ics, new_calendar, put

pytestmark = pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")

RETRIES = 3  # engine.c CALL_RETRIES


@pytest.fixture
def srv():
    s = Server()
    yield s
    s.close()


def sql(server, text):
    cl = conftest.PG_CLUSTER
    return cl.psql(conftest.pgharness.DB, f"SET search_path={cl.schema_for(server.data)}; {text}")


def number(server, query):
    """The one number query answers (psql's table: a header, a rule, the value)."""
    lines = sql(server, query).splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("-"))
    return int(lines[rule + 1])


def refuse_rows(server, table, code, times, when="true", ops="INSERT OR UPDATE"):
    """The first `times` writes (ops) of a row of table for which when holds (on NEW, or
    OLD for a DELETE) fail with SQLSTATE code."""
    sql(server, f"""
CREATE SEQUENCE refusals;
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF nextval('refusals') <= {times} THEN
    RAISE EXCEPTION 'refused by the test' USING ERRCODE = '{code}';
  END IF;
  RETURN COALESCE(NEW, OLD);
END $$;
CREATE TRIGGER refuse BEFORE {ops} ON {table} FOR EACH ROW
  WHEN ({when}) EXECUTE FUNCTION refuse();""")


def refuse(server, type_name, code, times, when="true"):
    """The first `times` writes (INSERT or UPDATE) of an object row of type_name (and
    the condition when on NEW) fail with SQLSTATE code."""
    refuse_rows(server, "objects", code, times, f"NEW.type = '{type_name}' AND {when}")


def refusals(server):
    """How many writes the trigger saw (each attempt's first write is refused, and the
    rest of its transaction is not run)."""
    return number(server, "SELECT last_value FROM refusals")


def set_create_and_update(server, acct, cal):
    body = {"using": [CORE, CAL], "methodCalls": [["Calendar/set", {
        "accountId": acct, "create": {"c": {"name": "Created once"}},
        "update": {cal: {"name": "Renamed"}}}, "0"]]}
    r = server.post(body)
    assert r.status_code == 200, r.text
    return r.json()["methodResponses"]


@pytest.mark.parametrize("code", ["40001", "40P01"], ids=["serialization_failure",
                                                          "deadlock_detected"])
def test_refused_set_is_run_again_and_succeeds_once_rfc8620_5_3(srv, code):
    """A Calendar/set of a create and an update refused twice (40001 or 40P01) succeeds
    at its third run: one response, created and updated, newState one state after
    oldState's changes (/changes names exactly the two), one calendar of the new name."""
    acct = srv.account()
    _, got = srv.call("Calendar/get", {"accountId": acct})
    cal, before = got["list"][0]["id"], got["state"]
    refuse(srv, "Calendar", code, 2)
    responses = set_create_and_update(srv, acct, cal)
    assert len(responses) == 1, responses  # the refused attempts' answers are gone
    name, out = responses[0][:2]
    assert name == "Calendar/set", out
    assert out["oldState"] == before
    assert "c" in (out["created"] or {}) and cal in (out["updated"] or {}), out
    assert not out["notCreated"] and not out["notUpdated"], out
    new_id = out["created"]["c"]["id"]
    assert refusals(srv) == 2 + 2  # two refused runs, then the create and the update
    _, ch = srv.call("Calendar/changes", {"accountId": acct, "sinceState": before})
    assert ch["newState"] == out["newState"]
    assert ch["created"] == [new_id] and ch["updated"] == [cal] and ch["destroyed"] == []
    _, now = srv.call("Calendar/get", {"accountId": acct})
    assert now["state"] == out["newState"]
    names = [c["name"] for c in now["list"]]
    assert names.count("Created once") == 1 and names.count("Renamed") == 1, names
    assert len(now["list"]) == len(got["list"]) + 1
    assert number(srv, "SELECT count(*) FROM objects WHERE type = 'Calendar' "
                       "AND data LIKE '%Created once%'") == 1
    assert "run again (2 of 3)" in srv.read_log()


@pytest.mark.parametrize("code", ["40001", "40P01"], ids=["serialization_failure",
                                                          "deadlock_detected"])
def test_refused_more_often_than_retried_is_server_fail_nothing_changed_rfc8620_3_6_2(srv, code):
    """Refused at every run: the call runs 1 + 3 times, then answers serverFail (RFC 8620
    §3.6.2) once, and nothing changed: the same state, calendars and names."""
    acct = srv.account()
    _, got = srv.call("Calendar/get", {"accountId": acct})
    cal, before = got["list"][0]["id"], got["state"]
    refuse(srv, "Calendar", code, 100)
    responses = set_create_and_update(srv, acct, cal)
    assert len(responses) == 1, responses
    assert responses[0][0] == "error" and responses[0][1]["type"] == "serverFail", responses
    assert refusals(srv) == 1 + RETRIES
    _, now = srv.call("Calendar/get", {"accountId": acct})
    assert now["state"] == before and now["list"] == got["list"]
    _, ch = srv.call("Calendar/changes", {"accountId": acct, "sinceState": before})
    assert ch["created"] == [] and ch["updated"] == [] and ch["newState"] == before


def test_refused_dav_put_is_run_again_rfc4791_5_3_2(srv):
    """A CalDAV PUT is a CalendarEvent/set inside (dav_object.c): refused twice, it is run
    again as a JMAP call is, and the resource is created once (RFC 4791 §5.3.2)."""
    acct = srv.account()
    _, got = srv.call("CalendarEvent/get", {"accountId": acct, "ids": None})
    path = new_calendar(srv) + "retried.ics"
    refuse(srv, "CalendarEvent", "40001", 2)
    r = put(srv, path, ics("retried-uid", summary="Put once"))
    assert r.status_code == 201, r.text
    assert refusals(srv) == 3
    _, now = srv.call("CalendarEvent/get", {"accountId": acct, "ids": None})
    titles = [e["title"] for e in now["list"]]
    assert titles.count("Put once") == 1 and len(now["list"]) == len(got["list"]) + 1
    assert srv.http().get(srv.base + path).status_code == 200


def test_refused_after_the_call_committed_is_not_run_again_rfc8620_5_4(srv):
    """RFC 8620 §5.4: a /copy with onSuccessDestroyOriginal commits the copies, then
    destroys the originals in an implicit /set. Refused there, the call is not run
    again (store_retryable: a write of the call committed; a second run would copy
    twice): the implicit /set answers serverFail, and the one copy stands."""
    alice, bob = srv.account("alice"), srv.account("bob")
    acal = srv.call("Calendar/get", {"accountId": alice}, user="bob")[1]["list"][0]["id"]
    bcal = srv.call("Calendar/get", {"accountId": bob}, user="bob")[1]["list"][0]["id"]
    _, out = srv.call("CalendarEvent/set", {"accountId": alice, "create": {"e": {
        "calendarIds": {acal: True}, "title": "Copied once", "start": "2026-05-01T10:00:00"}}})
    eid = out["created"]["e"]["id"]
    refuse(srv, "CalendarEvent", "40001", 100, when="NEW.destroyed")
    body = {"using": [CORE, CAL], "methodCalls": [["CalendarEvent/copy", {
        "fromAccountId": alice, "accountId": bob, "onSuccessDestroyOriginal": True,
        "create": {"k": {"id": eid, "calendarIds": {bcal: True}}}}, "0"]]}
    r = srv.post(body, user="bob")
    assert r.status_code == 200, r.text
    responses = r.json()["methodResponses"]
    assert [x[0] for x in responses] == ["CalendarEvent/copy", "error"], responses
    assert responses[1][1]["type"] == "serverFail"
    assert refusals(srv) == 1
    _, got = srv.call("CalendarEvent/get", {"accountId": bob, "ids": None}, user="bob")
    assert [e["title"] for e in got["list"]].count("Copied once") == 1
    _, orig = srv.call("CalendarEvent/get", {"accountId": alice, "ids": [eid]})
    assert orig["list"][0]["title"] == "Copied once"  # the destroy changed nothing
