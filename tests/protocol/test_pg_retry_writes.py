"""Issue 15 §1 beyond JMAP method calls: every write transaction is run again when
PostgreSQL refuses it for another's sake (serialization_failure 40001,
deadlock_detected 40P01), not only a method call's (test_pg_retry.py). Each write
outside a call runs through store_write (store.c), which rolls the refused attempt
back and runs it again from its start, up to 3 times: an upload (RFC 8620 §6.1), a DAV
LOCK (RFC 4918 §9.10), a CLI command (`jmapd user add`), the alert runner's batch
(draft-ietf-jmap-calendars-27 §6.4), Web Push's removal of a gone subscription (RFC 8030
§7.3). Refused once, each succeeds once, with no row
twice; refused more often than it is run again, it fails the way its protocol says
(503, a CLI exit status) and changes nothing. A trigger the test installs refuses the
first N writes of a table (test_pg_retry.refuse_rows). Runs in the PostgreSQL pass of
the suite (JMAPD_TEST_STORE=pg)."""
import hashlib
import uuid

import pytest
import requests

import conftest
from alert_util import Alerts, cs, offset_alert, wait_until  # noqa: F401 (cs: a fixture)
from conftest import run_cli
from davutil import ics, new_calendar, put
from test_alerts_calendars27 import create_event
from test_blob import download_url, upload
from test_dav_lock import lock, token_of
from test_pg_retry import RETRIES, number, refusals, refuse_rows, srv  # noqa: F401 (srv)
from test_push_subscription_rfc8620 import env, make_change, ps_call, verify  # noqa: F401 (env)

pytestmark = pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")

CODES = pytest.mark.parametrize("code", ["40001", "40P01"],
                                ids=["serialization_failure", "deadlock_detected"])


def ran_again(log, what, n):
    return f"{what}: the database refused the transaction for another's sake; " \
           f"run again ({n} of {RETRIES})" in log


# ---- upload (RFC 8620 §6.1) ------------------------------------------------------------

@CODES
def test_refused_upload_is_stored_once_rfc8620_6_1(srv, code):
    """An upload whose transaction is refused once is stored at its second run (from
    the bytes kept in the upload's temporary file): 201, one blob, one upload row, and
    the blob downloads whole."""
    acct = srv.account()
    refuse_rows(srv, "blob_uploads", code, 1)
    r = upload(srv, acct, b"uploaded once", "text/plain")
    assert r.status_code == 201, r.text
    blob = r.json()["blobId"]
    assert refusals(srv) == 2
    assert number(srv, f"SELECT count(*) FROM blobs WHERE id = '{blob}'") == 1
    assert number(srv, f"SELECT count(*) FROM blob_uploads WHERE blob_id = '{blob}'") == 1
    got = srv.http().get(download_url(srv, acct, blob, "b.txt", "text/plain"))
    assert got.status_code == 200 and got.content == b"uploaded once"
    assert ran_again(srv.read_log(), "upload", 1)


def test_upload_refused_more_often_than_retried_is_503_nothing_stored_rfc8620_6_1(srv):
    """Refused at every run: 1 + 3 runs, then 503 (RFC 9110 §15.6.4), and no blob."""
    acct = srv.account()
    data = b"never stored"
    blob = "G" + hashlib.sha256(data).hexdigest()
    refuse_rows(srv, "blob_uploads", "40001", 100)
    r = upload(srv, acct, data, "text/plain")
    assert r.status_code == 503, r.text
    assert refusals(srv) == 1 + RETRIES
    for table, col in [("blobs", "id"), ("blob_chunks", "blob_id"), ("blob_uploads", "blob_id")]:
        assert number(srv, f"SELECT count(*) FROM {table} WHERE {col} = '{blob}'") == 0, table
    got = srv.http().get(download_url(srv, acct, blob, "b.txt", "text/plain"))
    assert got.status_code == 404


# ---- a DAV lock (RFC 4918 §9.10) -----------------------------------------------------------

def locked_resource(server):
    path, uid = new_calendar(server) + "l.ics", str(uuid.uuid4())
    assert put(server, path, ics(uid, "Locked")).status_code == 201
    return path, uid


@CODES
def test_refused_lock_is_taken_once_rfc4918_9_10(srv, code):
    """A LOCK whose transaction is refused once is taken at its second run: 200 with
    the token of the one lock row, and the lock holds (§9.10.6: a PUT without its token
    is 423, even from the holder)."""
    path, uid = locked_resource(srv)
    refuse_rows(srv, "dav_locks", code, 1, ops="INSERT")
    tok = token_of(lock(srv, path))
    assert refusals(srv) == 2
    assert number(srv, "SELECT count(*) FROM dav_locks") == 1
    assert number(srv, f"SELECT count(*) FROM dav_locks WHERE token = '{tok}'") == 1
    assert put(srv, path, ics(uid, "Other")).status_code == 423
    assert ran_again(srv.read_log(), "dav lock", 1)


def test_lock_refused_more_often_than_retried_is_503_no_lock_rfc4918_9_10(srv):
    """Refused at every run: 503 and no lock row; the resource stays writable."""
    path, uid = locked_resource(srv)
    refuse_rows(srv, "dav_locks", "40001", 100, ops="INSERT")
    r = lock(srv, path)
    assert r.status_code == 503, r.text
    assert "Lock-Token" not in r.headers
    assert refusals(srv) == 1 + RETRIES
    assert number(srv, "SELECT count(*) FROM dav_locks") == 0
    assert put(srv, path, ics(uid, "Still writable")).status_code in (200, 204)


# ---- a CLI command (`jmapd user add`) --------------------------------------------------------

def user_add(server, name):
    return run_cli(server.data, "user", "add", name, "--password-stdin", "--config",
                   server.config, stdin=name + "-pw\n")


@CODES
def test_refused_user_add_adds_the_user_once_rfc8620_2(srv, code):
    """`jmapd user add` refused once adds the user at its second run: exit 0, one user
    row, one account with its default calendar, and the user's session (RFC 8620 §2)
    names it."""
    objects = number(srv, "SELECT count(*) FROM objects")
    refuse_rows(srv, "users", code, 1, ops="INSERT")
    r = user_add(srv, "dave")
    assert r.returncode == 0, r.stderr
    assert ran_again(r.stderr, "user add", 1)
    assert refusals(srv) == 2
    assert number(srv, "SELECT count(*) FROM users WHERE name = 'dave'") == 1
    assert number(srv, "SELECT count(*) FROM objects") > objects
    got = requests.get(srv.base + "/jmap/session", auth=("dave", "dave-pw"))
    assert got.status_code == 200, got.text
    acct = got.json()["primaryAccounts"][conftest.CAL]
    assert number(srv, f"SELECT count(*) FROM objects WHERE account_id = '{acct}' "
                       "AND type = 'Calendar'") == 1


def test_user_add_refused_more_often_than_retried_fails_nothing_changed(srv):
    """Refused at every run: exit status 1 with the reason, and nothing changed (no
    user, no account objects)."""
    users = number(srv, "SELECT count(*) FROM users")
    objects = number(srv, "SELECT count(*) FROM objects")
    refuse_rows(srv, "users", "40001", 100, ops="INSERT")
    r = user_add(srv, "erin")
    assert r.returncode == 1
    assert "refused the change each time" in r.stderr, r.stderr
    assert refusals(srv) == 1 + RETRIES
    assert number(srv, "SELECT count(*) FROM users") == users
    assert number(srv, "SELECT count(*) FROM objects") == objects


# ---- the alert runner (draft-ietf-jmap-calendars-27 §6.4) -------------------------------------

def standup(s):
    return create_event(s, {"title": "standup", "uid": "u-retry", "start": "2026-03-01T10:00:00",
                            "timeZone": "Europe/Berlin", "alerts": {"a1": offset_alert("-PT15M")}})


@CODES
def test_refused_alert_batch_fires_once_calendars27_s6_4(cs, code):
    """The alert runner's batch refused once (its claim of the row) runs again: the
    CalendarAlert is pushed once, not once per run."""
    w = Alerts(cs, "alice")
    e = standup(cs)
    refuse_rows(cs, "alert_queue", code, 1, ops="UPDATE OR DELETE")
    cs.set_time("2026-03-01T08:45:00Z")
    got = w.next()
    assert got and got["calendarEventId"] == e and got["alertId"] == "a1", got
    assert w.none_within(1.5)  # once only
    assert refusals(cs) >= 2
    assert ran_again(cs.read_log(), "alerts", 1)
    w.close()


def test_alert_batch_refused_more_often_than_retried_fires_later_once_calendars27_s6_4(cs):
    """Refused at all 1 + 3 runs of a batch: that batch fires nothing and claims
    nothing, so the alert is not lost: a later batch fires it, once."""
    w = Alerts(cs, "alice")
    e = standup(cs)
    refuse_rows(cs, "alert_queue", "40001", 1 + RETRIES, ops="UPDATE OR DELETE")
    cs.set_time("2026-03-01T08:45:00Z")
    got = w.next()
    assert got and got["calendarEventId"] == e and got["alertId"] == "a1", got
    assert w.none_within(1.5)
    assert refusals(cs) >= 1 + RETRIES + 1
    log = cs.read_log()
    assert ran_again(log, "alerts", RETRIES)
    assert log.count("alerts: a1 of") == 1  # fired (alerts: ... fired for alice) once
    w.close()


# ---- Web Push: a subscription the push service says is gone (RFC 8030 §7.3) ------------------

@CODES
def test_refused_removal_of_a_gone_push_subscription_runs_again_rfc8030_7_3(env, code):
    """The push service answers 410 Gone: the subscription's removal, refused once, runs
    again, and the subscription is gone (RFC 8620 §7.2: /get no longer finds it)."""
    s, svc = env
    c, _, _, vcode = verify(s, svc, "gone")
    ps_call(s, "PushSubscription/set", {"update": {c["id"]: {"verificationCode": vcode}}})
    refuse_rows(s, "push_subscriptions", code, 1, when="OLD.id = '" + c["id"] + "'",
                ops="DELETE")
    svc.answers = [(410, {})]
    make_change(s, "to a gone service")
    svc.next()
    assert wait_until(lambda: ps_call(s, "PushSubscription/get", {"ids": [c["id"]]})[1]
                      ["notFound"] == [c["id"]])
    assert refusals(s) == 2
    assert number(s, f"SELECT count(*) FROM push_subscriptions WHERE id = '{c['id']}'") == 0
    assert ran_again(s.read_log(), "webpush", 1)
