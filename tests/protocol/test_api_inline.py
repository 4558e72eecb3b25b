"""Quick API requests on the connection's own thread (issue 21 §3).

A request whose calls are all cheap and bounded (RFC 8620 §4 Core/echo; §5.2 Foo/changes
on the in-process SQLite store) is answered by the thread that read it, not handed to
an API worker: so it is answered even while every worker waits (here the only one, on
a write lock another process holds), and request-level problems (§3.6.1) still come
first. Anything else still goes to a worker and waits its turn."""
import threading
import time

import pytest

from conftest import CAL, CONFIG, CORE, PASSWORDS, PG, USING, Server, hold_write_lock


@pytest.fixture
def one_worker():
    s = Server(config=CONFIG + "api_threads = 1\ndb_busy_timeout = 20000\n")
    yield s
    s.close()


def create_behind_the_lock(s, acct):
    """Takes the database's write lock (another process's) and starts a Calendar/set
    create on a thread, which then waits for the lock on the only worker: (the lock, the
    thread, {"r": its response once it ends})."""
    db = hold_write_lock(s)
    done = {}

    def write():
        done["r"] = s.api([["Calendar/set", {"accountId": acct,
                                              "create": {"c": {"name": "late"}}}, "0"]])

    t = threading.Thread(target=write)
    t.start()
    return db, t, done


def create_done(t, done):
    """The held create, once the lock is let go: it completed (RFC 8620 §5.3)."""
    t.join(30)
    name, args, _ = done["r"]["methodResponses"][0]
    assert name == "Calendar/set" and "c" in args["created"]


def test_quick_requests_pass_a_busy_worker(one_worker):
    """RFC 8620 §4, §5.2: Core/echo (and /changes on SQLite) answered while the only
    API worker waits for the database's write lock; the waiting write completes after."""
    s = one_worker
    acct = s.account()
    state = s.call("Calendar/get", {"accountId": acct})[1]["state"]
    db, t, done = create_behind_the_lock(s, acct)
    try:
        # give the write time to reach the worker (before issue 21 §3 the echo then
        # queued behind it); the answers below do not depend on it
        time.sleep(0.5)
        echo = s.http().post(s.base + "/jmap/api/", timeout=10, headers={
            "Content-Type": "application/json"}, json={
            "using": [CORE], "methodCalls": [["Core/echo", {"hello": [1, "two"]}, "e"]]})
        assert echo.status_code == 200
        assert echo.json()["methodResponses"] == [["Core/echo", {"hello": [1, "two"]}, "e"]]
        if not PG:
            ch = s.http().post(s.base + "/jmap/api/", timeout=10, headers={
                "Content-Type": "application/json"}, json={
                "using": [CORE, CAL], "methodCalls": [
                    ["Calendar/changes", {"accountId": acct, "sinceState": state}, "c"]]})
            assert ch.status_code == 200
            name, args, _ = ch.json()["methodResponses"][0]
            assert name == "Calendar/changes" and args["created"] == []
        assert t.is_alive()  # the write still waits for the lock
    finally:
        db.execute("ROLLBACK")
        db.close()
    create_done(t, done)
    name, args = s.call("Calendar/changes", {"accountId": acct, "sinceState": state})
    assert args["created"] == [done["r"]["methodResponses"][0][1]["created"]["c"]["id"]]


@pytest.fixture
def one_worker_slow_reads_quick():
    # the bound a sanitizer build on a loaded machine keeps to (1 ms by default)
    s = Server(config=CONFIG + "api_threads = 1\ndb_busy_timeout = 20000\nquick_read_us = 200000\n")
    yield s
    s.close()


@pytest.mark.skipif(not PG, reason="PostgreSQL: /changes quick once its cost is known")
def test_cheap_changes_pass_a_busy_worker_on_postgresql_rfc8620_s5_2(one_worker_slow_reads_quick):
    """RFC 8620 §5.2 on PostgreSQL (issue 15 §1, W5): a /changes, one round trip, runs on
    the connection's thread once its late calls took under quick_read_us, the wait
    included: answered while the only API worker waits for the writers' lock. Before,
    every call on a store in another process went to a worker (this one waited)."""
    s = one_worker_slow_reads_quick
    acct = s.account()
    state = s.call("Calendar/get", {"accountId": acct})[1]["state"]
    for _ in range(40):  # its cost measured (the first ones by the worker), smoothed down
        s.call("Calendar/changes", {"accountId": acct, "sinceState": state})
    db, t, done = create_behind_the_lock(s, acct)
    try:
        time.sleep(0.5)  # the write reaches the worker and waits for the lock
        ch = s.http().post(s.base + "/jmap/api/", timeout=10, headers={
            "Content-Type": "application/json"}, json={
            "using": [CORE, CAL], "methodCalls": [
                ["Calendar/changes", {"accountId": acct, "sinceState": state}, "c"]]})
        assert ch.status_code == 200
        name, args, _ = ch.json()["methodResponses"][0]
        assert name == "Calendar/changes" and args["created"] == [] and args["newState"] == state
        assert t.is_alive()  # the write still waits for the lock
    finally:
        db.execute("ROLLBACK")
        db.close()
    create_done(t, done)


def test_problems_and_limits_on_the_connection_thread(server):
    """RFC 8620 §3.6.1: request-level problems are the same whichever thread parses the
    body (one naming Core/echo is parsed where it is read: notJSON, notRequest,
    unknownCapability, maxCallsInRequest), and a request of more calls than run there
    still runs in full."""
    def post(body):
        return server.http().post(server.base + "/jmap/api/", data=body,
                                  headers={"Content-Type": "application/json"})
    for tail in ('', ' "Core/echo"'):  # parsed by a worker; where it is read
        r = post('{"using": [' + tail)
        assert r.status_code == 400 and r.json()["type"] == "urn:ietf:params:jmap:error:notJSON"
        r = post('{"using": [], "x": "%s"}' % tail.strip(' "'))
        assert r.status_code == 400
        assert r.json()["type"] == "urn:ietf:params:jmap:error:notRequest"
        r = post('{"using": ["urn:example:nope"], "methodCalls": [["%s", {}, "0"]]}'
                 % (tail.strip(' "') or "Calendar/get"))
        assert r.json()["type"] == "urn:ietf:params:jmap:error:unknownCapability"
    calls = [["Core/echo", {"i": i}, str(i)] for i in range(17)]  # the suite's limit: 16
    r = server.post({"using": [CORE], "methodCalls": calls})
    assert r.status_code == 400 and r.json()["limit"] == "maxCallsInRequest"
    calls = [["Core/echo", {"i": i}, str(i)] for i in range(6)]  # more than run inline
    r = server.api(calls, using=[CORE])
    assert [m[1]["i"] for m in r["methodResponses"]] == list(range(6))


def test_answered_request_frees_its_slot_rfc8620_s2():
    """RFC 8620 §2 maxConcurrentRequests: a request whose response is queued is no longer
    being processed and holds no slot, also before its connection's thread has finished
    sending it (issue 21 §1: the slot went with the connection's completion, so a client
    that read an answer and sent its next request at once, on a new connection, could be
    refused while the server's other thread had not yet got to it; two readers' queries
    got faster and a test of six saw it). Each request on a new connection, the limit 1,
    quick ones (on the connection's thread) and a worker's alike: none is refused."""
    import requests
    s = Server(config=CONFIG + "max_concurrent_requests = 1\n")
    try:
        acct = s.account()
        calls = [[["Core/echo", {"n": 1}, "e"]],
                 [["Calendar/get", {"accountId": acct}, "g"]],
                 [["CalendarEvent/query", {"accountId": acct, "filter": {
                     "after": "2026-01-01T00:00:00", "before": "2026-02-01T00:00:00"},
                     "expandRecurrences": True}, "q"]]]
        for i in range(150):
            r = requests.post(s.base + "/jmap/api/", auth=("alice", PASSWORDS["alice"]),
                              headers={"Connection": "close"},
                              json={"using": USING, "methodCalls": calls[i % 3]})
            assert r.status_code == 200, (i, r.text)
            assert r.json()["methodResponses"][0][0] != "error", r.text
    finally:
        s.close()
