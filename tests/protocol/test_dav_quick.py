"""Quick DAV reads on the connection's own thread, and the API workers (issue 20).

A read whose kind has been cheap lately (RFC 4791 §7.9 calendar-multiget, RFC 6578 §3.8
sync-collection since a token, RFC 4918 §9.1 PROPFIND Depth 0 or 1, §9.4 GET of one
resource) is answered by the thread that read it, not handed to an API worker: so it is
answered even while the only worker waits (here on a write lock another process holds).
A write never runs there: with one HTTP thread, /health still answers while a PUT waits
for the lock. Many concurrent DAV and JMAP requests over two workers are all answered."""
import threading
import time
import uuid

import pytest
import requests

from conftest import CAL, CONFIG, CORE, PASSWORDS, PG, Server, hold_write_lock
from davutil import NSDECL, dav, ics, multistatus, new_calendar, put, sync_token

pytestmark = pytest.mark.skipif(PG, reason="quick reads only on the in-process store")


ONE_OF_EACH = CONFIG + "threads = 1\napi_threads = 1\n"


@pytest.fixture
def one_of_each():
    """One HTTP thread and one API worker; writes wait up to 20 s for the lock; a read
    is quick while its kind took under 100 ms lately (the default 1 ms is more than these
    reads take in a release build, not always under ASan on a loaded machine)."""
    s = Server(config=ONE_OF_EACH + "db_busy_timeout = 20000\nquick_read_us = 100000\n")
    yield s
    s.close()


def session(s):
    h = requests.Session()
    h.auth = ("alice", PASSWORDS["alice"])
    return h


def put_behind_the_lock(s, cal):
    """Takes the database's write lock (another process's) and starts a PUT of a new
    resource in cal on a thread, which then waits for the lock on the worker: (the lock,
    the thread, {"r": its answer once it ends}, the new href)."""
    db = hold_write_lock(s)
    done = {}
    late = f"{cal}{uuid.uuid4().hex}.ics"

    def write():
        done["r"] = session(s).put(s.base + late, data=ics(late.rsplit("/", 1)[1][:-4]).encode(),
                                   headers={"Content-Type": "text/calendar"}, timeout=60)

    t = threading.Thread(target=write)
    t.start()
    t.join(0.5)
    return db, t, done, late


def multiget_body(hrefs):
    hs = "".join(f"<d:href>{h}</d:href>" for h in hrefs)
    return (f'<?xml version="1.0"?><c:calendar-multiget {NSDECL}><d:prop><d:getetag/>'
            f'<c:calendar-data/></d:prop>{hs}</c:calendar-multiget>')


def sync_body(token=""):
    return (f'<?xml version="1.0"?><d:sync-collection {NSDECL}><d:sync-token>{token}'
            '</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop>'
            '</d:sync-collection>')


def reads(s, cal, hrefs, token):
    """The quick reads, each checked: name -> status."""
    out = {}
    r = dav(s, "REPORT", cal, multiget_body(hrefs), depth=1)
    assert r.status_code == 207 and r.text.count("BEGIN:VCALENDAR") == len(hrefs), r.text[:300]
    out["multiget"] = r.status_code
    r = dav(s, "REPORT", cal, sync_body(token), depth=1)
    assert r.status_code == 207 and sync_token(r), r.text[:300]
    out["sync"] = r.status_code
    r = dav(s, "PROPFIND", cal, f'<d:propfind {NSDECL}><d:prop><d:getetag/></d:prop></d:propfind>',
            depth=1)
    assert r.status_code == 207 and set(hrefs) <= set(multistatus(r)), r.text[:300]
    out["propfind"] = r.status_code
    r = s.http().get(s.base + hrefs[0])
    assert r.status_code == 200 and "BEGIN:VEVENT" in r.text
    out["get"] = r.status_code
    return out


def test_quick_dav_reads_pass_a_busy_worker_rfc4791_7_9_rfc6578_3_8(one_of_each):
    """RFC 4791 §7.9, RFC 6578 §3.8, RFC 4918 §9.1, §9.4: a multiget, an incremental
    sync-collection, a PROPFIND Depth 1 and a GET answered while the only API worker waits
    for the database's write lock with a PUT; the PUT completes after, and the next sync
    shows it."""
    s = one_of_each
    cal = new_calendar(s)
    hrefs = []
    for i in range(5):
        href = f"{cal}{uuid.uuid4().hex}.ics"
        assert put(s, href, ics(href.rsplit("/", 1)[1][:-4], f"e{i}")).status_code == 201
        hrefs.append(href)
    token = sync_token(dav(s, "REPORT", cal, sync_body(), depth=1))
    assert reads(s, cal, hrefs, token)  # on the worker: each kind's cost is known after
    db, t, done, late = put_behind_the_lock(s, cal)
    try:
        assert t.is_alive()  # the PUT waits for the lock on the only worker
        assert reads(s, cal, hrefs, token) == {"multiget": 207, "sync": 207, "propfind": 207,
                                               "get": 200}
        assert t.is_alive()  # still waiting: the reads did not queue behind it
    finally:
        db.execute("ROLLBACK")
        db.close()
    t.join(30)
    assert done["r"].status_code == 201
    r = dav(s, "REPORT", cal, sync_body(token), depth=1)
    assert late in multistatus(r)


def test_dav_write_never_on_the_connection_thread_rfc4918_9_7(one_of_each):
    """RFC 4918 §9.7: a PUT runs on a worker, never on the HTTP thread: with one HTTP
    thread, /health and a quick read still answer while the PUT waits for the lock."""
    s = one_of_each
    cal = new_calendar(s)
    first = f"{cal}{uuid.uuid4().hex}.ics"
    assert put(s, first, ics(first.rsplit("/", 1)[1][:-4])).status_code == 201
    assert s.http().get(s.base + first).status_code == 200  # GET's cost known
    db, t, done, late = put_behind_the_lock(s, cal)
    try:
        assert t.is_alive()
        assert requests.get(s.base + "/health", timeout=5).status_code == 200
        assert session(s).get(s.base + first, timeout=5).status_code == 200
        assert t.is_alive()
    finally:
        db.execute("ROLLBACK")
        db.close()
    t.join(30)
    assert done["r"].status_code == 201


def test_quick_read_us_0_sends_every_read_to_the_workers():
    """quick_read_us = 0 (README): no read runs on the HTTP thread; a GET (RFC 4918 §9.4)
    waits behind the PUT that holds the only worker until the PUT gave up on the lock."""
    s = Server(config=ONE_OF_EACH + "db_busy_timeout = 1500\nquick_read_us = 0\n")
    try:
        cal = new_calendar(s)
        first = f"{cal}{uuid.uuid4().hex}.ics"
        assert put(s, first, ics(first.rsplit("/", 1)[1][:-4])).status_code == 201
        for _ in range(3):
            assert s.http().get(s.base + first).status_code == 200
        db = hold_write_lock(s)
        ended = {}
        late = f"{cal}{uuid.uuid4().hex}.ics"

        def write():
            r = session(s).put(s.base + late, data=ics(late.rsplit("/", 1)[1][:-4]).encode(),
                               headers={"Content-Type": "text/calendar"}, timeout=60)
            ended["put"] = (time.monotonic(), r.status_code)

        t = threading.Thread(target=write)
        try:
            t.start()
            t.join(0.5)
            assert t.is_alive()
            asked = time.monotonic()
            r = session(s).get(s.base + first, timeout=30)
            ended["get"] = (time.monotonic(), r.status_code, time.monotonic() - asked)
        finally:
            db.execute("ROLLBACK")
            db.close()
        t.join(30)
        assert ended["get"][1] == 200 and ended["put"][1] >= 500  # the lock was not had
        # answered only once the PUT left the worker (it waits up to db_busy_timeout, 1.5 s,
        # from 0.5 s before the GET): the two answers' arrival times on the client's threads
        # are too close to order, the GET's wait is not
        assert ended["get"][2] >= 0.5, ended
    finally:
        s.close()


def test_concurrent_dav_and_jmap_requests_all_answered_rfc4918_9_1_rfc8620_3_3():
    """RFC 4918 §9.1, RFC 4791 §7.9, RFC 8620 §3.3: 8 clients at once, each 12 requests
    (PUT, multiget, PROPFIND Depth 1, sync-collection, JMAP CalendarEvent/get) over 2 API
    workers and 2 HTTP threads: every one answered with its status, every PUT stored."""
    s = Server(config=CONFIG + "threads = 2\napi_threads = 2\n")
    try:
        cal = new_calendar(s)
        acct = s.account()
        errors, made = [], []

        def client(n):
            h = session(s)
            try:
                for i in range(12):
                    href = f"{cal}c{n}-{i}.ics"
                    r = h.put(s.base + href, data=ics(f"c{n}-{i}", f"e{n}.{i}").encode(),
                              headers={"Content-Type": "text/calendar"}, timeout=60)
                    assert r.status_code == 201, r.text
                    made.append(href)
                    mine = [f"{cal}c{n}-{k}.ics" for k in range(i + 1)]
                    r = h.request("REPORT", s.base + cal, data=multiget_body(mine), timeout=60,
                                  headers={"Depth": "1", "Content-Type": "application/xml"})
                    assert r.status_code == 207 and r.text.count("BEGIN:VCALENDAR") == i + 1
                    r = h.request("PROPFIND", s.base + cal, timeout=60, headers={"Depth": "1"},
                                  data=f'<d:propfind {NSDECL}><d:prop><d:getetag/></d:prop>'
                                       '</d:propfind>')
                    assert r.status_code == 207 and set(mine) <= set(multistatus(r))
                    r = h.request("REPORT", s.base + cal, data=sync_body(), timeout=60,
                                  headers={"Depth": "1", "Content-Type": "application/xml"})
                    assert r.status_code == 207
                    r = h.post(s.base + "/jmap/api/", timeout=60, json={
                        "using": [CORE, CAL], "methodCalls": [
                            ["CalendarEvent/query", {"accountId": acct}, "q"]]})
                    assert r.status_code == 200
                    assert r.json()["methodResponses"][0][0] == "CalendarEvent/query"
            except AssertionError as e:  # pragma: no cover - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors[:3]
        assert len(made) == 96
        r = dav(s, "REPORT", cal, sync_body(), depth=1)
        assert set(made) <= set(multistatus(r))
    finally:
        s.close()
