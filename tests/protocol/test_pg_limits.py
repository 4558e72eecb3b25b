"""Issue 15 §3: limits that hold across front ends. Two `jmapd serve` on one
PostgreSQL database count failed logins (issue 19 §3: auth_fail_limit a minute per
address) and uploads under way (RFC 8620 §2 maxConcurrentUpload) together, so a
client gains nothing by moving to the other front end; the uploads of a front end
killed with SIGKILL stop counting. Runs in the PostgreSQL pass."""
import base64
import signal
import socket
import time

import pytest
import requests

import conftest
from test_pg_frontends import pair  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")

LIMIT = 10  # auth_fail_limit's default
UPLOADS = 4  # max_concurrent_upload in conftest.CONFIG


def test_failed_logins_count_on_every_front_end(pair):  # noqa: F811
    a, b = pair
    for _ in range(LIMIT):
        r = requests.get(a.base + "/jmap/session", auth=("alice", "wrong"))
        assert r.status_code == 401
    assert requests.get(a.base + "/jmap/session", auth=("alice", "wrong")).status_code == 429
    # B has seen no failure itself: the count is the database's
    r = requests.get(b.base + "/jmap/session", auth=("alice", "wrong"))
    assert r.status_code == 429, r.text
    assert r.headers.get("Retry-After")


def hold_upload(server, acct):
    """An upload whose body is still coming: it holds a slot until the socket closes.
    An upload that just answered may hold its slot a moment longer (it is freed when
    the request ends): a refused one (an answer at once) is tried again."""
    auth = base64.b64encode(b"alice:alice-pw").decode()
    deadline = time.time() + 10
    while True:
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall((f"POST /jmap/upload/{acct}/ HTTP/1.1\r\nHost: x\r\n"
                   f"Authorization: Basic {auth}\r\nContent-Type: application/octet-stream\r\n"
                   "Content-Length: 100000\r\n\r\n").encode() + b"x" * 10)
        s.settimeout(0.5)
        try:
            answer = s.recv(100)
        except socket.timeout:
            return s  # no answer: the upload is under way
        s.close()
        assert b" 429 " in answer and time.time() < deadline, answer
        time.sleep(0.1)


def upload_status(server, acct):
    return server.http().post(f"{server.base}/jmap/upload/{acct}/", data=b"small",
                              headers={"Content-Type": "text/plain"}).status_code


def wait_status(server, acct, want, seconds=10):
    deadline = time.time() + seconds
    while (got := upload_status(server, acct)) != want:
        assert time.time() < deadline, f"upload answered {got}, not {want}"
        time.sleep(0.1)


def test_uploads_under_way_count_on_every_front_end(pair):  # noqa: F811
    a, b = pair
    acct = a.account()
    assert upload_status(b, acct) == 201
    held = [hold_upload(a, acct) for _ in range(UPLOADS)]
    try:
        wait_status(a, acct, 429)  # A's own count
        assert upload_status(b, acct) == 429  # B counts A's uploads
        held.pop().close()  # one ends: a slot is free on both
        wait_status(b, acct, 201)
        held.append(hold_upload(a, acct))
        wait_status(b, acct, 429)
        # A dies with its uploads under way: their slots go with its sessions
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(timeout=10)
        wait_status(b, acct, 201)
    finally:
        for s in held:
            s.close()
