"""Issue 15 §7: PostgreSQL going away under a running front end. While the database
is down, requests get errors at once (503 from /health and the API, or serverFail),
never a hang and never a crash; when it comes back, the front end reconnects without
a restart and nothing acknowledged before is lost. Runs in the PostgreSQL pass of the
suite (JMAPD_TEST_STORE=pg)."""
import time

import pytest
import requests

import conftest
from conftest import Server

pytestmark = pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")


def test_database_restart_gives_errors_then_recovers():
    s = Server()
    try:
        acct = s.account()
        _, out = s.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "Kept"}}})
        kept = out["created"]["c"]["id"]
        conftest.PG_CLUSTER.stop_server("fast")
        try:
            t0 = time.time()
            assert requests.get(s.base + "/health", timeout=10).status_code == 503
            r = s.post({"using": [conftest.CORE, conftest.CAL], "methodCalls": [
                ["Calendar/set", {"accountId": acct, "create": {"d": {"name": "Lost"}}}, "0"]]})
            if r.status_code == 200:  # authenticated from the cache: the call fails
                assert r.json()["methodResponses"][0][1]["type"] == "serverFail"
            else:
                assert r.status_code in (500, 503), r.text
            assert time.time() - t0 < 10  # errors, not hangs
        finally:
            conftest.PG_CLUSTER.start_server()
        deadline = time.time() + 10
        while requests.get(s.base + "/health").status_code != 200:
            assert time.time() < deadline, "no reconnect"
            time.sleep(0.1)
        _, got = s.call("Calendar/get", {"accountId": acct})
        names = {c["id"]: c["name"] for c in got["list"]}
        assert names.get(kept) == "Kept" and "Lost" not in names.values()
        _, out = s.call("Calendar/set", {"accountId": acct, "create": {"e": {"name": "After"}}})
        assert "e" in out["created"]
        assert s.proc.poll() is None
    finally:
        s.close()
