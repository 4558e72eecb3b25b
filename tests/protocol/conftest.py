"""Protocol tests: start the real build/asan/jmapd on a free loopback port with a
temporary data directory and talk HTTP to it (DESIGN.md §7).

JMAPD_TEST_STORE=pg runs the same suite on PostgreSQL (issue 15): pgharness starts a
private PostgreSQL 15 for the session, and every jmapd this suite starts with
`--data DIR` gets JMAPD_STORE naming a schema of its own for DIR, so each data
directory is a database as empty as a fresh SQLite file."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

import pgharness

import pytest
import requests

JMAPD = os.environ.get("JMAPD_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "asan", "jmapd")
CORE = "urn:ietf:params:jmap:core"
CAL = "urn:ietf:params:jmap:calendars"
BLOB = "urn:ietf:params:jmap:blob"
USING = [CORE, CAL]
PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}

# Limits small enough to test, large enough for the suite (RFC 8620 §2 minimums).
CONFIG = """
# protocol-test configuration
max_size_upload = 2000000
max_size_request = 3000000
max_calls_in_request = 16
max_objects_in_get = 500
max_objects_in_set = 500
max_concurrent_upload = 4
log_level = debug
"""


PG = os.environ.get("JMAPD_TEST_STORE") == "pg"
PG_CLUSTER = None


def pytest_configure(config):
    global PG_CLUSTER
    config.addinivalue_line("markers", "sqlite_only: tests of the SQLite files themselves")
    if PG and PG_CLUSTER is None:
        PG_CLUSTER = pgharness.Cluster()
        PG_CLUSTER.route_jmapd(os.path.basename(JMAPD))


def pytest_unconfigure(config):
    global PG_CLUSTER
    if PG_CLUSTER is not None:
        PG_CLUSTER.stop()
        PG_CLUSTER = None


def pytest_collection_modifyitems(config, items):
    if not PG:
        return
    skip = pytest.mark.skip(reason="about the SQLite database files (JMAPD_TEST_STORE=pg)")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_cli(data, *args, stdin=None):
    return subprocess.run([JMAPD, *args, "--data", data], input=stdin, capture_output=True,
                          text=True, timeout=60)


class Server:
    """A running jmapd with users alice, bob and carol. Bob may write in alice's
    account; carol may only read it."""

    asan_options = ""  # appended to the suite's ASAN_OPTIONS (also for Server.__new__)

    def __init__(self, config=CONFIG, users=PASSWORDS, tls=False, user_args=None,
                 asan_options=""):
        self.asan_options = asan_options
        self.scheme = "https" if tls else "http"
        self.tmp = tempfile.TemporaryDirectory()
        self.data = os.path.join(self.tmp.name, "data")
        self.config = os.path.join(self.tmp.name, "jmapd.conf")
        with open(self.config, "w") as f:
            f.write(config)
        for name, pw in users.items():
            r = run_cli(self.data, "user", "add", name, "--password-stdin", "--config",
                        self.config, *(user_args or {}).get(name, []), stdin=pw + "\n")
            assert r.returncode == 0, r.stderr
        if "carol" in users:
            assert run_cli(self.data, "user", "share", "alice", "--with", "bob").returncode == 0
            assert run_cli(self.data, "user", "share", "alice", "--with", "carol",
                           "--read-only").returncode == 0
        self.port = free_port()
        self.base = f"{self.scheme}://127.0.0.1:{self.port}"
        self.sessions = {}
        self.start()

    def start(self):
        self.log = open(os.path.join(self.tmp.name, "server.log"), "ab")
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" + (
            ":" + self.asan_options if self.asan_options else ""),
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
        self.proc = subprocess.Popen(
            [JMAPD, "serve", "--data", self.data, "--config", self.config,
             "--listen", f"127.0.0.1:{self.port}"], stdout=self.log, stderr=self.log, env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if requests.get(self.base + "/health", timeout=1,
                                verify=False).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("jmapd did not start: " + self.read_log())

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=30)
        self.log.close()
        self.sessions = {}
        return rc

    def read_log(self):
        with open(os.path.join(self.tmp.name, "server.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def http(self, user="alice"):
        if user not in self.sessions:
            s = requests.Session()
            s.auth = (user, PASSWORDS[user])
            self.sessions[user] = s
        return self.sessions[user]

    def session(self, user="alice"):
        r = self.http(user).get(self.base + "/jmap/session")
        assert r.status_code == 200, r.text
        return r.json()

    def account(self, user="alice"):
        return self.session(user)["primaryAccounts"][CAL]

    def post(self, body, user="alice", raw=False, headers=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.http(user).post(self.base + "/jmap/api/", data=data, headers=h)

    def api(self, calls, using=None, user="alice", created_ids=None):
        body = {"using": using or [CORE, CAL, BLOB], "methodCalls": calls}
        if created_ids is not None:
            body["createdIds"] = created_ids
        r = self.post(body, user=user)
        assert r.status_code == 200, r.text
        return r.json()

    def call(self, name, args, user="alice", using=None):
        """One method call; returns (name, arguments) of the first response."""
        resp = self.api([[name, args, "c0"]], using=using, user=user)
        out = resp["methodResponses"][0]
        assert out[2] == "c0"
        return out[0], out[1]

    def close(self):
        if self.proc.poll() is None:
            self.stop()
        self.tmp.cleanup()


def hold_write_lock(s):
    """Another process takes the database's write lock and holds it until close():
    SQLite's lock on jmapd.db, or the writers' advisory lock on PostgreSQL."""
    if PG:
        return PG_CLUSTER.hold_write_lock(s.data)
    import sqlite3
    db = sqlite3.connect(os.path.join(s.data, "jmapd.db"), timeout=1, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    return db


@pytest.fixture(scope="session")
def server():
    s = Server()
    yield s
    rc = s.stop()
    log = s.read_log()
    s.tmp.cleanup()
    # A clean SIGTERM exit: 0, and no sanitizer report on the way out.
    assert rc == 0, log[-4000:]
    assert "ERROR: AddressSanitizer" not in log and "runtime error" not in log, log[-4000:]


@pytest.fixture
def fresh_server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def acct(server):
    return server.account()
