"""Storage: an acknowledged write survives kill -9 (DESIGN.md §2); SIGTERM stops
cleanly with exit 0; bad input never changes data or kills the server."""
import json
import os
import random
import signal
import socket
import threading
import time

import requests

from conftest import CAL, CORE, Server


def test_acknowledged_writes_survive_kill_9(fresh_server):
    s = fresh_server
    acct = s.account()
    acked, stop = [], threading.Event()

    def writer():
        http = requests.Session()
        http.auth = ("alice", "alice-pw")
        i = 0
        while not stop.is_set() and i < 5000:
            body = {"using": [CORE, CAL], "methodCalls": [["Calendar/set", {
                "accountId": acct, "create": {f"c{j}": {"name": f"n{i}-{j}"}
                                              for j in range(3)}}, "0"]]}
            try:
                r = http.post(s.base + "/jmap/api/", data=json.dumps(body),
                              headers={"Content-Type": "application/json"}, timeout=10)
                created = r.json()["methodResponses"][0][1]["created"]
            except (requests.RequestException, ValueError):
                return
            acked.extend((v["id"], f"n{i}-{k[1:]}") for k, v in created.items())
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(2.5)
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()
    stop.set()
    t.join()
    s.log.close()
    assert len(acked) > 10
    s.start()
    ids = [a[0] for a in acked]
    got = {}
    for i in range(0, len(ids), 400):
        out = s.call("Calendar/get", {"accountId": acct, "ids": ids[i:i + 400],
                                      "properties": ["name"]})[1]
        assert out["notFound"] == []
        got.update({c["id"]: c["name"] for c in out["list"]})
    assert all(got[i] == n for i, n in acked)
    # the change log is intact too: every acknowledged id shows as created
    ch = s.call("Calendar/changes", {"accountId": acct, "sinceState": "1"})[1]  # after the default calendar
    created = set(ch["created"])
    while ch["hasMoreChanges"]:
        ch = s.call("Calendar/changes", {"accountId": acct, "sinceState": ch["newState"]})[1]
        created.update(ch["created"])
    assert set(ids) <= created


def test_sigterm_finishes_in_flight_requests(fresh_server):
    s = fresh_server
    acct = s.account()
    results = []

    def slow_client():
        # a request whose body arrives slowly is in flight when SIGTERM comes
        sock = socket.create_connection(("127.0.0.1", s.port))
        body = json.dumps({"using": [CORE], "methodCalls": [["Core/echo", {"x": 1}, "0"]]})
        head = (f"POST /jmap/api/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Authorization: Basic YWxpY2U6YWxpY2UtcHc=\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")
        sock.sendall(head.encode() + body[:10].encode())
        time.sleep(1.0)
        sock.sendall(body[10:].encode())
        data = b""
        while b"methodResponses" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        results.append(data)
        sock.close()

    s.account()  # warm the credential cache
    t = threading.Thread(target=slow_client)
    t.start()
    time.sleep(0.3)
    s.proc.send_signal(signal.SIGTERM)
    t.join()
    assert s.proc.wait(timeout=20) == 0
    assert results and b"200 OK" in results[0] and b'"x":1' in results[0]


def test_garbage_never_crashes_or_changes_data(server, acct):
    before = server.call("Calendar/get", {"accountId": acct})[1]
    rnd = random.Random(1234)
    pieces = [b'{"using":', b'["urn:ietf:params:jmap:core","urn:ietf:params:jmap:calendars"]',
              b',"methodCalls":[', b'["Calendar/set",', b'{"accountId":"' + acct.encode() + b'"',
              b',"destroy":', b'["', b'"]', b'null', b'{', b'}', b'[', b']', b',', b':',
              b'"\\ud800"', b'1e400', b'-0', b'"#x"', b'{"resultOf":"0"}', b'"update"',
              b'\xff', b'\x00', b'"create"', b'"Calendar/get"']
    for _ in range(300):
        body = b"".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 14)))
        r = server.post(body)
        assert r.status_code in (200, 400), body
    # and the wrong types for every argument of every method
    methods = ["Calendar/get", "Calendar/set", "Calendar/changes", "ParticipantIdentity/get",
               "ParticipantIdentity/set", "ParticipantIdentity/changes", "Blob/get",
               "Blob/upload", "Blob/lookup", "Blob/copy"]
    args = ["accountId", "ids", "properties", "create", "update", "destroy", "ifInState",
            "sinceState", "maxChanges", "onSuccessSetIsDefault", "onDestroyRemoveEvents",
            "typeNames", "offset", "length", "fromAccountId", "blobIds"]
    values = [None, True, 0, -1, 2 ** 60, 1.5, "", "x", [], [1], {}, {"a": 1}, [None]]
    for m in methods:
        for a in args:
            calls = [[m, {"accountId": acct, a: v}, str(i)] for i, v in enumerate(values)]
            resp = server.api(calls)
            for name, out, _ in resp["methodResponses"]:
                assert name == "error" or name == m
    after = server.call("Calendar/get", {"accountId": acct})[1]
    assert after["list"] == before["list"]


def test_raw_http_garbage(server):
    for raw in (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"a" * 100000 + b"\r\n\r\n",
                b"\x00\x01\x02\r\n\r\n", b"POST /jmap/api/ HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                b"GET /jmap/download/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
                b"POST /jmap/api/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(raw)
        sock.settimeout(5)
        try:
            sock.recv(4096)
        except OSError:
            pass
        sock.close()
    assert requests.get(server.base + "/health").status_code == 200


def test_server_fail_when_the_database_is_locked():
    """A write that cannot get the database (another process holds its lock past
    db_busy_timeout) gets serverFail and changes nothing; the server carries on."""
    from conftest import CONFIG, hold_write_lock
    s = Server(config=CONFIG + "db_busy_timeout = 300\n")
    try:
        acct = s.account()
        before = s.call("Calendar/get", {"accountId": acct})[1]
        db = hold_write_lock(s)
        name, out = s.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "x"}}})
        assert name == "error" and out["type"] == "serverFail"
        db.execute("ROLLBACK")
        db.close()
        after = s.call("Calendar/get", {"accountId": acct})[1]
        assert after["state"] == before["state"] and after["list"] == before["list"]
        name, out = s.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "x"}}})
        assert name == "Calendar/set" and "c" in out["created"]
    finally:
        s.close()
