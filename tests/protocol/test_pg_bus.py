"""Issue 15 §4: push across front ends (LISTEN/NOTIFY) survives the loss of a front
end's listening connection. A change committed while B's listener is away (its
NOTIFY goes to nobody) still reaches B's EventSource clients once the listener is
back (RFC 8620 §7.3: a StateChange for every change), because the new listener
compares the stored states with those it knew. Runs in the PostgreSQL pass."""
import json
import os
import subprocess
import time

import pytest

import conftest
import pgharness
from test_pg_frontends import pair  # noqa: F401 (a fixture)
from test_push import Stream, es_url

pytestmark = pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")


class Session:
    """A psql session of its own, opened now: it stays connected when new connections
    are refused."""

    def __init__(self, cl, db):
        self.p = subprocess.Popen([os.path.join(pgharness.PGBIN, "psql"), "-X", "-q", "-A",
                                   "-t", "-h", cl.root, "-p", str(cl.port), "-U",
                                   pgharness.USER, "-d", db], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.run("SELECT 1;")

    def run(self, sql):
        self.p.stdin.write(sql + "\n\\echo done\n")
        self.p.stdin.flush()
        out = []
        while (line := self.p.stdout.readline().strip()) != "done":
            out.append(line)
        return out

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


def test_change_while_listener_reconnects_is_pushed(pair):  # noqa: F811
    a, b = pair
    acct = a.account()
    cl = conftest.PG_CLUSTER
    schema = cl.schema_for(a.data)
    s = Stream(b, es_url(b))
    assert s.r.status_code == 200
    try:
        _, out = a.call("Calendar/set", {"accountId": acct, "create": {"p": {"name": "X"}}})
        name, data, _ = s.event()  # the listener works: A's commit reaches B
        assert json.loads(data)["changed"][acct]["Calendar"] == out["newState"]
        # no new connection is let in, the listeners are cut off, and a change is
        # committed meanwhile: its NOTIFY (here: none at all) cannot reach B
        inside = Session(cl, "jmapd")
        try:
            cl.psql("postgres", "ALTER DATABASE jmapd ALLOW_CONNECTIONS false")
            cl.psql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE application_name = 'jmapd listen'")
            time.sleep(0.3)
            state = inside.run(f"UPDATE {schema}.states SET modseq = modseq + 1 WHERE "
                               f"account_id = '{acct}' AND type = 'Calendar' RETURNING modseq;")[0]
        finally:
            cl.psql("postgres", "ALTER DATABASE jmapd ALLOW_CONNECTIONS true")
            inside.close()
        assert int(state) > int(out["newState"])
        t0 = time.time()
        name, data, _ = s.event()
        assert name == "state"
        assert json.loads(data)["changed"][acct]["Calendar"] == state
        assert time.time() - t0 < 5  # the listener comes back within about a second
    finally:
        s.close()
