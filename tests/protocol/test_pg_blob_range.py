"""Issue 15 §5: a blob is read for an HTTP Range request (RFC 9110 §14) by the bytes of
the range, not loaded whole. On PostgreSQL a blob is bytea in chunks of 256 KiB; the
ranges here cross chunk boundaries. The first test runs on both stores; the second
proves on PostgreSQL that a range reads only its chunks: a chunk outside the range is
taken away and the range is still served, while a whole download fails."""
import os

import pytest

import conftest
from test_blob import download_url, upload

CHUNK = 256 * 1024


def test_range_across_chunks_rfc9110_14(server, acct):
    data = os.urandom(3 * CHUNK + 1234)
    blob = upload(server, acct, data).json()["blobId"]
    url = download_url(server, acct, blob, "big.bin", "application/octet-stream")
    h = server.http()
    for first, last in ((CHUNK - 5, CHUNK + 4), (0, CHUNK - 1), (CHUNK, 2 * CHUNK - 1),
                        (10, 3 * CHUNK + 100), (3 * CHUNK, len(data) - 1), (7, 7)):
        r = h.get(url, headers={"Range": f"bytes={first}-{last}"})
        assert r.status_code == 206, (first, last)
        assert r.content == data[first:last + 1], (first, last)
        assert r.headers["Content-Range"] == f"bytes {first}-{last}/{len(data)}"
    r = h.get(url, headers={"Range": f"bytes={2 * CHUNK + 3}-"})
    assert r.status_code == 206 and r.content == data[2 * CHUNK + 3:]
    r = h.get(url, headers={"Range": "bytes=-300000"})
    assert r.status_code == 206 and r.content == data[-300000:]
    r = h.get(url, headers={"Range": f"bytes={len(data) - 1}-{len(data) + 50}"})
    assert r.status_code == 206 and r.content == data[-1:]
    r = h.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(data)}"
    r = h.get(url)
    assert r.status_code == 200 and r.content == data


@pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")
def test_range_reads_only_its_chunks():
    s = conftest.Server()
    try:
        acct = s.account()
        data = os.urandom(4 * CHUNK)
        blob = upload(s, acct, data).json()["blobId"]
        url = download_url(s, acct, blob, "big.bin", "application/octet-stream")
        # the first chunk goes: a read of the whole blob can no longer succeed
        cl = conftest.PG_CLUSTER
        cl.psql("jmapd", f"DELETE FROM {cl.schema_for(s.data)}.blob_chunks "
                         f"WHERE blob_id = '{blob}' AND seq = 0")
        h = s.http()
        assert h.get(url).status_code != 200
        r = h.get(url, headers={"Range": f"bytes={2 * CHUNK - 10}-{2 * CHUNK + 9}"})
        assert r.status_code == 206 and r.content == data[2 * CHUNK - 10:2 * CHUNK + 10]
        r = h.get(url, headers={"Range": "bytes=-100"})
        assert r.status_code == 206 and r.content == data[-100:]
    finally:
        s.close()
