"""HTTP hardening (issue 19 §2, §6, §7, §11, §12; issue 12 §1.6): bodies are judged on
their headers before they are read, uploads stream, ambiguous framing is refused
(RFC 9112 §6.3), a long request never holds up /health, responses and parsed requests
have bounds (RFC 8620 §8.5), the access log cannot be forged (CWE-117) and a URL that
is too long gets 414 (RFC 9110 §15.5.15)."""
import base64
import hashlib
import json
import os
import socket
import conftest
import threading
import time

import pytest
import requests

from conftest import CAL, CONFIG, CORE, Server

AUTH = b"Authorization: Basic " + base64.b64encode(b"alice:alice-pw") + b"\r\n"


def rss_kb(server):
    with open(f"/proc/{server.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def connect(server, timeout=5.0):
    c = socket.create_connection(("127.0.0.1", server.port))
    c.settimeout(timeout)
    return c


def read_answer(c, limit=5.0):
    """Reads until the server closes; returns (bytes, closed). Bounded by `limit` s."""
    out, deadline = b"", time.time() + limit
    while time.time() < deadline:
        try:
            d = c.recv(65536)
        except socket.timeout:
            return out, False
        except ConnectionResetError:
            return out, True
        if not d:
            return out, True
        out += d
    return out, False


def status_of(raw):
    assert raw.startswith(b"HTTP/1.1 "), raw[:200]
    return int(raw.split(b" ", 2)[1])


def headers_only(server, path, length, extra=b""):
    """Sends a POST's headers announcing `length` body octets, and no body."""
    c = connect(server)
    c.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + extra +
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length)
    return c


# ---- §2: refuse on the headers, before the body ------------------------------------------

@pytest.mark.parametrize("path", ["/jmap/upload/x/", "/jmap/api/"])
def test_unauthenticated_45mb_post_answered_401_before_body(server, path):
    """issue 19 §2: the answer arrives although not one body octet was sent, and the
    connection is closed (the body is never read)."""
    c = headers_only(server, path, 45000000)
    raw, closed = read_answer(c)
    c.close()
    assert status_of(raw) == 401 and closed, raw[:300]
    assert b"WWW-Authenticate: Basic" in raw


def test_unauthenticated_bodies_do_not_grow_memory(server):
    """issue 19 §2: eight 45 MB unauthenticated uploads took RSS from 36 to 395 MB. Each
    now pushes up to 4 MB before its answer; the server keeps none of it."""
    before = rss_kb(server)
    conns = [headers_only(server, "/jmap/upload/x/", 45000000) for _ in range(8)]
    chunk = b"x" * 65536
    for c in conns:
        c.settimeout(0.5)
        try:
            for _ in range(64):
                c.sendall(chunk)
        except OSError:
            pass  # the server answered and closed: what we want
    for c in conns:
        c.settimeout(5)
        raw, _ = read_answer(c)
        assert status_of(raw) == 401
        c.close()
    assert rss_kb(server) - before < 40000


def test_declared_size_over_limit_refused_before_body(server, acct):
    """issue 19 §2: Content-Length against the endpoint's limit, before reading."""
    c = headers_only(server, f"/jmap/upload/{acct}/", 2000001, AUTH)
    raw, closed = read_answer(c)
    c.close()
    assert status_of(raw) == 413 and closed and b'"maxSizeUpload"' in raw
    c = headers_only(server, "/jmap/api/", 3000001, AUTH)
    raw, closed = read_answer(c)
    c.close()
    assert status_of(raw) == 400 and closed and b'"maxSizeRequest"' in raw


def test_max_concurrent_upload_checked_before_body(server, acct):
    """issue 19 §2: with max_concurrent_upload (4) uploads in progress, the next is
    refused on its headers; when one ends, a new upload succeeds."""
    busy = [headers_only(server, f"/jmap/upload/{acct}/", 1000, AUTH) for _ in range(4)]
    for c in busy:
        c.sendall(b"y" * 10)  # started, not finished
    time.sleep(0.3)
    c = headers_only(server, f"/jmap/upload/{acct}/", 1000, AUTH)
    raw, closed = read_answer(c)
    c.close()
    assert status_of(raw) == 429 and closed and b'"maxConcurrentUpload"' in raw
    busy[0].sendall(b"y" * 990)
    raw, _ = read_answer(busy[0], 2.0)
    assert status_of(raw) == 201
    for b in busy:
        b.close()
    time.sleep(0.3)  # the server notices the closed uploads and frees their slots
    r = server.http().post(f"{server.base}/jmap/upload/{acct}/", data=b"z" * 1000)
    assert r.status_code == 201


def test_large_upload_streams_and_round_trips():
    """issue 19 §2: a 45 MB upload streams to a file while it is hashed; the blob id is
    the SHA-256 of the content and the download returns the same octets."""
    s = Server(CONFIG.replace("max_size_upload = 2000000", "max_size_upload = 50000000"))
    try:
        acct = s.account()
        data = os.urandom(1 << 20) * 45
        r = s.http().post(f"{s.base}/jmap/upload/{acct}/", data=data)
        assert r.status_code == 201, r.text
        j = r.json()
        assert j["size"] == len(data) and j["blobId"] == "G" + hashlib.sha256(data).hexdigest()
        r = s.http().get(f"{s.base}/jmap/download/{acct}/{j['blobId']}/x.bin")
        assert r.status_code == 200 and r.content == data
        # nothing is left behind in the data directory
        assert not [f for f in os.listdir(s.data) if f.startswith(".upload-")]
    finally:
        s.close()


def test_chunked_upload_over_limit_is_413(server, acct):
    """A body without a declared length is counted as it arrives."""
    c = connect(server)
    c.sendall(b"POST /jmap/upload/" + acct.encode() + b"/ HTTP/1.1\r\nHost: x\r\n" + AUTH +
              b"Transfer-Encoding: chunked\r\n\r\n")
    piece = b"x" * 500000
    for _ in range(5):
        c.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
    c.sendall(b"0\r\n\r\n")
    raw, _ = read_answer(c)
    c.close()
    assert status_of(raw) == 413


# ---- §11: framing (RFC 9112 §6.3) ----------------------------------------------------------

BODY = b'{"using":["urn:ietf:params:jmap:core"],"methodCalls":[["Core/echo",{},"a"]]}'


def post_raw(server, framing, body):
    c = connect(server)
    c.sendall(b"POST /jmap/api/ HTTP/1.1\r\nHost: x\r\n" + AUTH +
              b"Content-Type: application/json\r\n" + framing + b"\r\n" + body)
    t = time.time()
    raw, closed = read_answer(c)
    c.close()
    return raw, closed, time.time() - t


@pytest.mark.parametrize("framing,body,status", [
    (b"Content-Length: %d\r\nContent-Length: 5\r\n" % len(BODY), BODY, 400),
    (b"Content-Length: 50,5\r\n", BODY, 400),
    (b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(BODY),
     b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n", 400),
    (b"Transfer-Encoding: gzip\r\n", BODY, 400),
    (b"Transfer-Encoding: chunked, gzip\r\n", BODY, 400),
    (b"Transfer-Encoding: gzip, chunked\r\n", b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n",
     501),
    # RFC 9112 §5.1: whitespace before the colon (a proxy may honour the length)
    (b"Content-Length : %d\r\n" % len(BODY), BODY, 400),
    # RFC 9112 §5.2: obs-fold (a continuation line) is refused, never guessed at
    (b"X-A: 1\r\n Content-Length: %d\r\n" % len(BODY), BODY, 400),
], ids=["conflicting-content-length", "content-length-list", "content-length-and-te",
        "unknown-te", "chunked-not-final", "unsupported-coding", "space-before-colon",
        "obs-fold"])
def test_ambiguous_framing_400_and_close(server, framing, body, status):
    """RFC 9112 §6.3: the server MUST answer 400 and close (§6.1: 501 for a coding
    it does not implement), promptly, and never run the request."""
    raw, closed, took = post_raw(server, framing, body)
    assert status_of(raw) == status, raw[:300]
    assert closed and took < 5
    assert b'"methodResponses"' not in raw


@pytest.mark.parametrize("hosts", [b"", b"Host: a\r\nHost: b\r\n"], ids=["none", "two"])
def test_http11_needs_exactly_one_host(server, hosts):
    """RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host or with two."""
    c = connect(server)
    c.sendall(b"GET /health HTTP/1.1\r\n" + hosts + b"\r\n")
    raw, closed = read_answer(c)
    c.close()
    assert status_of(raw) == 400 and closed


def test_chunked_request_still_works(server):
    raw, _, _ = post_raw(server, b"Transfer-Encoding: chunked\r\nConnection: close\r\n",
                         b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n")
    assert status_of(raw) == 200 and b'"methodResponses"' in raw


# ---- issue 12 §1.6: URL too long ---------------------------------------------------------

@pytest.mark.parametrize("n", [20000, 100000, 1000000])
def test_long_url_gets_414(server, acct, n):
    """issue 12 §1.6, RFC 9110 §15.5.15: a 100 kB download name gets 414, not a dropped
    connection."""
    r = server.http().get(f"{server.base}/jmap/download/{acct}/G{'0' * 64}/{'a' * n}")
    assert r.status_code == 414


# ---- §12: the access log (CWE-117) -------------------------------------------------------

def test_access_log_escapes_control_characters(server):
    forged = "2026-01-01T00:00:00Z INFO access 10.0.0.1 \"GET /admin\" 200 0.01ms"
    c = connect(server)
    c.sendall(b"GET /x%0a" + forged.replace(" ", "%20").replace('"', "%22").encode() +
              b"%0d%1b[31m%ff%c3%a9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    raw, _ = read_answer(c)
    c.close()
    assert status_of(raw) == 404
    time.sleep(0.2)
    log = server.read_log()
    assert not any(line.startswith(forged) for line in log.splitlines())
    assert "\"GET /x\\x0a2026-01-01T00:00:00Z INFO access 10.0.0.1 \\x22GET" in log
    assert "\\x0d\\x1b[31m\\xffé\"" in log  # CR, ESC and a stray byte escaped; UTF-8 kept


# ---- §6: long requests do not hold up cheap ones -----------------------------------------

def locked_server(extra):
    """A server with 2 HTTP threads whose database another process can lock."""
    return Server(CONFIG + "threads = 2\n" + extra)


def hold_write_lock(s):
    return conftest.hold_write_lock(s)  # SQLite's lock, or PostgreSQL's (issue 15)


def test_health_answers_while_long_requests_run():
    """issue 19 §6: four API requests wait for a write lock held by another process (up
    to db_busy_timeout, 8 s each); /health, the session and a Core/echo still answer
    within 5 s."""
    s = locked_server("db_busy_timeout = 8000\n")
    try:
        acct = s.account()
        s.api([["Core/echo", {}, "0"]])  # the credential is verified and remembered
        db = hold_write_lock(s)
        results = []

        def long_write(i):
            h = requests.Session()
            h.auth = ("alice", "alice-pw")
            body = {"using": [CORE, CAL], "methodCalls": [
                ["Calendar/set", {"accountId": acct, "create": {"c": {"name": f"n{i}"}}}, "0"]]}
            results.append(h.post(s.base + "/jmap/api/", json=body, timeout=60).status_code)

        threads = [threading.Thread(target=long_write, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
            time.sleep(0.2)  # one at a time: each HTTP thread accepts one of them
        time.sleep(0.5)
        assert len(results) == 0  # they are waiting
        assert requests.get(s.base + "/health", timeout=5).status_code == 200
        assert s.http().get(s.base + "/jmap/session", timeout=5).status_code == 200
        h = requests.Session()
        h.auth = ("alice", "alice-pw")
        r = h.post(s.base + "/jmap/api/", json={"using": [CORE], "methodCalls": [
            ["Core/echo", {"ok": 1}, "0"]]}, timeout=5)
        assert r.json()["methodResponses"][0][1] == {"ok": 1}
        assert len(results) == 0
        db.execute("ROLLBACK")
        db.close()
        for t in threads:
            t.join(60)
        assert results == [200] * 4
    finally:
        s.close()


def test_request_timeout_stops_later_calls():
    """issue 19 §6: past request_timeout, the calls not yet run get serverFail; the
    request still answers."""
    s = locked_server("db_busy_timeout = 3000\nrequest_timeout = 1000\n")
    try:
        acct = s.account()
        db = hold_write_lock(s)
        resp = s.api([
            ["Calendar/set", {"accountId": acct, "create": {"c": {"name": "x"}}}, "0"],
            ["Core/echo", {"ok": 1}, "1"]], using=[CORE, CAL])
        db.execute("ROLLBACK")
        db.close()
        last = resp["methodResponses"][-1]
        assert last[0] == "error" and last[2] == "1"
        assert last[1]["type"] == "serverFail" and "time limit" in last[1]["description"]
        # with time to spare the same request runs fully
        resp = s.api([["Core/echo", {"ok": 1}, "1"]], using=[CORE])
        assert resp["methodResponses"][0] == ["Core/echo", {"ok": 1}, "1"]
    finally:
        s.close()


# ---- §7: bounded responses and request memory (RFC 8620 §8.5) ---------------------------

def test_response_size_limit_gives_method_error():
    """A call whose response would pass max_size_response gets serverFail; the calls
    before and after it answer normally and the whole response stays bounded."""
    s = Server(CONFIG + "max_size_response = 65536\n")
    try:
        big = "x" * 30000
        r = s.post({"using": [CORE], "methodCalls": [
            ["Core/echo", {"s": big}, "a"],
            ["Core/echo", {"#s": {"resultOf": "a", "name": "Core/echo", "path": "/s"}}, "b"],
            ["Core/echo", {"#s": {"resultOf": "a", "name": "Core/echo", "path": "/s"}}, "c"],
            ["Core/echo", {"ok": 1}, "d"]]})
        assert r.status_code == 200
        assert len(r.content) < 65536 + 1024
        out = r.json()["methodResponses"]
        assert [o[2] for o in out] == ["a", "b", "c", "d"]
        assert out[0][1] == {"s": big} and out[1][1] == {"s": big}
        assert out[2][0] == "error" and out[2][1]["type"] == "serverFail"
        assert "max_size_response" in out[2][1]["description"]
        assert out[3] == ["Core/echo", {"ok": 1}, "d"]
    finally:
        s.close()


def test_request_of_many_values_refused_without_memory(server):
    """issue 19 §7: Core/echo of 700,000 {} (2.1 MB) would take ~200 MB parsed; it gets
    the limit problem and memory does not grow. A request of 50,000 {} still runs."""
    before = rss_kb(server)
    r = server.post('{"using":["%s"],"methodCalls":[["Core/echo",{"a":[%s]},"0"]]}'
                    % (CORE, ",".join(["{}"] * 700000)))
    assert r.status_code == 400 and r.json()["limit"] == "maxSizeRequest", r.text[:300]
    assert rss_kb(server) - before < 40000
    resp = server.api([["Core/echo", {"a": [{}] * 50000}, "0"]], using=[CORE])
    assert resp["methodResponses"][0][1] == {"a": [{}] * 50000}


def test_sigterm_while_a_worker_runs_a_request():
    """The worker pool drains on SIGTERM: the request a worker holds is answered and
    the server exits 0 without a sanitizer report."""
    s = locked_server("db_busy_timeout = 3000\n")
    try:
        acct = s.account()
        db = hold_write_lock(s)
        out = []

        def write():
            out.append(s.http().post(s.base + "/jmap/api/", json={
                "using": [CORE, CAL], "methodCalls": [
                    ["Calendar/set", {"accountId": acct, "create": {"c": {"name": "x"}}}, "0"]]},
                timeout=30))

        t = threading.Thread(target=write)
        t.start()
        time.sleep(0.5)
        rc = s.stop()
        t.join(30)
        db.execute("ROLLBACK")
        db.close()
        assert rc == 0
        assert out and out[0].status_code == 200
        log = s.read_log()
        assert "AddressSanitizer" not in log and "runtime error" not in log, log[-3000:]
    finally:
        s.tmp.cleanup()
