"""Issue 15 §5, DESIGN.md §8 ("large responses (export, download) stream"): a download
(RFC 8620 §6.2), whole or an HTTP Range (RFC 9110 §14), is sent a store chunk at a
time, never loaded whole. Measured as the growth of the server's resident memory
(the kernel's high-water mark, VmHWM, reset before the download) while a 50 MB blob
is downloaded: bounded far below the blob's size. Runs on both stores.

The server runs with a small AddressSanitizer quarantine: by default ASan keeps up to
256 MB of freed memory resident, which would count every chunk read and freed."""
import hashlib
import os

import pytest

import conftest
from test_blob import download_url, upload

SIZE = 50 * 1000 * 1000
BOUND = 16 * 1024 * 1024  # far below SIZE, well above a chunk and the server's buffers
CONFIG = conftest.CONFIG.replace("max_size_upload = 2000000", "max_size_upload = 60000000")


def kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(field)


def peak_growth(s, url, headers):
    """Downloads url; returns (sha256 of the body, status, peak RSS growth)."""
    pid = s.proc.pid
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS (proc(5))
    before = kib(pid, "VmRSS")
    h = hashlib.sha256()
    with s.http().get(url, headers=headers, stream=True) as r:
        for part in r.iter_content(64 * 1024):
            h.update(part)
        status = r.status_code
    growth = kib(pid, "VmHWM") - before
    print(f"download {headers}: peak RSS growth {growth / 1048576:.1f} MiB")
    return h.hexdigest(), status, growth


def test_download_of_50mb_blob_streams_rfc8620_6_2():
    s = conftest.Server(config=CONFIG, asan_options="quarantine_size_mb=1")
    try:
        acct = s.account()
        data = os.urandom(SIZE)
        r = upload(s, acct, data)
        assert r.status_code == 201, r.text
        url = download_url(s, acct, r.json()["blobId"], "big.bin", "application/octet-stream")
        want = hashlib.sha256(data).hexdigest()
        got, status, growth = peak_growth(s, url, {})
        assert status == 200 and got == want
        assert growth < BOUND, f"RSS grew by {growth} bytes for a {SIZE}-byte download"
        # a Range covering nearly all of it streams the same way (RFC 9110 §14.2)
        first = 12345
        got, status, growth = peak_growth(s, url, {"Range": f"bytes={first}-"})
        assert status == 206 and got == hashlib.sha256(data[first:]).hexdigest()
        assert growth < BOUND, f"RSS grew by {growth} bytes for a range download"
    finally:
        s.close()


@pytest.mark.sqlite_only
def test_blobs_of_an_older_sqlite_file_move_to_chunks():
    """SQLite schema step 14 moves the bytes of existing blobs (one column) into
    chunks of 256 KiB: a data directory written before it reads back the same."""
    import sqlite3
    chunk = 256 * 1024
    s = conftest.Server(config=CONFIG)
    try:
        acct = s.account()
        blobs = {}
        for n in (0, 1, chunk, 2 * chunk + 5):
            data = os.urandom(n)
            r = upload(s, acct, data)
            assert r.status_code == 201, r.text
            blobs[r.json()["blobId"]] = data
        s.stop()
        # back to the layout before the chunk step (SQLite's step 19; the later steps are
        # idempotent and run again): the bytes in blobs.data
        db = sqlite3.connect(os.path.join(s.data, "jmapd.db"), isolation_level=None)
        version = 19
        db.execute("BEGIN")
        db.execute("ALTER TABLE blobs ADD COLUMN data BLOB")
        for blob, data in blobs.items():
            db.execute("UPDATE blobs SET data = ? WHERE id = ?", (data, blob))
        db.execute("DROP TABLE blob_chunks")
        db.execute(f"PRAGMA user_version = {version - 1}")
        db.execute("COMMIT")
        db.close()
        s.start()
        for blob, data in blobs.items():
            url = download_url(s, acct, blob, "b.bin", "application/octet-stream")
            r = s.http().get(url)
            assert r.status_code == 200 and r.content == data, len(data)
            if len(data) > chunk:
                r = s.http().get(url, headers={"Range": f"bytes={chunk - 2}-{chunk + 1}"})
                assert r.status_code == 206 and r.content == data[chunk - 2:chunk + 2]
    finally:
        s.close()
