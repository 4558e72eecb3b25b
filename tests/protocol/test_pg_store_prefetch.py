"""Issue 15 §1: tests/unit/test_store_prefetch.c (reads a transaction announces before
the read it waits for: the change scan /changes makes after its state check, RFC 8620
§5.2, and an expanded /query's state read; store.h store_changes_prefetch and
store_state_prefetch) run against the suite's real PostgreSQL 15, in a schema of its
own: the answers as the plain reads give them, and the two reads in one round trip.
`make unit` runs the same binary on SQLite, which must give the same answers. Runs in
the PostgreSQL pass (JMAPD_TEST_STORE=pg) with the ASan build's unit binaries beside
build/asan/jmapd."""
import os
import subprocess
import tempfile

import pytest

import conftest

pytestmark = pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")

BINARY = os.path.join(os.path.dirname(conftest.JMAPD), "tests", "test_store_prefetch")


@pytest.mark.skipif(not os.path.exists(BINARY), reason="no unit binary beside JMAPD_BIN")
def test_reads_sent_ahead_answer_as_the_database_does_rfc8620_5_2():
    with tempfile.TemporaryDirectory() as tmp:
        url = conftest.PG_CLUSTER.url(conftest.PG_CLUSTER.schema_for(tmp))
        r = subprocess.run([BINARY], env=dict(os.environ, JMAPD_TEST_PG_URL=url),
                           capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "5 test(s) run" in r.stdout + r.stderr and "PASSED" in r.stdout + r.stderr
