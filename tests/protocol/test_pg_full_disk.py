"""Issue 15 ("a full disk ... gives errors, not corruption"), RFC 8620 §3.6.2, §5.3.
The database's files live on a small tmpfs that is filled up: SQLite's data directory
(jmapd.db, its WAL and the upload spool), or on PostgreSQL a tablespace holding the
schema's tables and indexes. While the disk is full

* a /set that needs room gets `serverFail` ("the method call made no changes to the
  server's state"), as a method error or as the SetError of every create, and none
  of its objects exist afterwards (the state did not move),
* an upload gets an error status, not 201, and its blob does not exist,
* reads go on being answered,

and once space returns the same writes succeed without a restart. Mounting needs
root (CAP_SYS_ADMIN): the test is skipped where it cannot mount."""
import base64
import os
import shutil
import subprocess
import tempfile
import uuid

import pytest

import conftest
from test_blob import download_url, upload

SIZE_MB = 24  # the tmpfs
MARGIN = 160 * 1024  # free bytes left on it: less than one write below needs
DESCRIPTION = 24 * 1024  # bytes of text per event
EVENTS = 40  # per /set: about 1 MB, several times MARGIN


def mount_small_fs(path):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m,mode=0755", "tmpfs",
                        path], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + r.stderr.strip())


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True)


def fill(path):
    """Leaves MARGIN bytes free on the file system of path; returns the filler."""
    filler = os.path.join(path, "filler")
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    with open(filler, "wb") as f:
        left = max(free - MARGIN, 0)
        block = b"\0" * (1 << 20)
        while left:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
    return filler


def pg_tablespace_for(s, where):
    """Moves the tables and indexes of s's schema to a new tablespace at where."""
    cl = conftest.PG_CLUSTER
    if cl.as_user:
        shutil.chown(where, "nobody", "nogroup")
    os.makedirs(os.path.join(where, "ts"))
    if cl.as_user:
        shutil.chown(os.path.join(where, "ts"), "nobody", "nogroup")
    name = "small_" + uuid.uuid4().hex[:8]
    cl.psql(conftest.pgharness.DB, f"CREATE TABLESPACE {name} LOCATION '{where}/ts'")
    schema = cl.schema_for(s.data)
    cl.psql(conftest.pgharness.DB, f"""DO $$ DECLARE r record; BEGIN
        FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n
                 ON n.oid = c.relnamespace WHERE n.nspname = '{schema}'
                 AND c.relkind IN ('r', 'i') LOOP
          EXECUTE format('ALTER %s {schema}.%I SET TABLESPACE {name}',
                         CASE WHEN r.relkind = 'r' THEN 'TABLE' ELSE 'INDEX' END, r.relname);
        END LOOP; END $$""")
    return name


def event(cal, i, n=DESCRIPTION):
    text = base64.b64encode(os.urandom(n))[:n].decode()  # random: PostgreSQL cannot compress it
    return {"@type": "Event", "calendarIds": {cal: True}, "title": f"full disk {i}",
            "description": text, "start": "2026-05-01T10:00:00",
            "duration": "PT1H", "timeZone": "Europe/Paris"}


def create_many(s, acct, cal, tag):
    return s.call("CalendarEvent/set", {"accountId": acct, "create": {
        f"{tag}{i}": event(cal, f"{tag}{i}") for i in range(EVENTS)}})


def titles(s, acct):
    ids = s.call("CalendarEvent/query", {"accountId": acct})[1]["ids"]
    got = s.call("CalendarEvent/get", {"accountId": acct, "ids": ids,
                                       "properties": ["title"]})[1]
    return got["state"], sorted(e["title"] for e in got["list"])


@pytest.fixture
def full_disk_server():
    mnt = tempfile.mkdtemp(prefix="jmapd-full-")
    os.chmod(mnt, 0o755)
    mount_small_fs(mnt)
    config = conftest.CONFIG.replace("max_size_upload = 2000000", "max_size_upload = 4000000")
    s = space = None
    try:
        s = conftest.Server(config=config)
        if conftest.PG:
            space = pg_tablespace_for(s, mnt)
        else:  # the data directory moves onto the small file system
            s.stop()
            shutil.copytree(s.data, os.path.join(mnt, "data"))
            shutil.rmtree(s.data)
            os.symlink(os.path.join(mnt, "data"), s.data)
            s.start()
        yield s, mnt
    finally:
        if s is not None:
            if s.proc.poll() is None:
                rc = s.stop()
                log = s.read_log()
                assert rc == 0, log[-3000:]
                assert "ERROR: AddressSanitizer" not in log, log[-3000:]
            s.tmp.cleanup()
        if space:  # nothing of the cluster may stay on the file system that goes
            db = conftest.pgharness.DB
            conftest.PG_CLUSTER.psql(db, f"DROP SCHEMA {conftest.PG_CLUSTER.schema_for(s.data)} "
                                         "CASCADE")
            conftest.PG_CLUSTER.psql(db, f"DROP TABLESPACE {space}")
        umount(mnt)
        shutil.rmtree(mnt, ignore_errors=True)


def test_full_disk_gives_errors_not_corruption_rfc8620_3_6_2(full_disk_server):
    s, mnt = full_disk_server
    acct = s.account()
    cal = s.call("Calendar/get", {"accountId": acct})[1]["list"][0]["id"]
    first = s.call("CalendarEvent/set", {"accountId": acct, "create": {"a": event(cal, "a")}})
    assert "a" in (first[1]["created"] or {}), first[1].get("notCreated")
    before = titles(s, acct)
    small = os.urandom(1000)
    kept = upload(s, acct, small).json()["blobId"]

    filler = fill(mnt)
    name, args = create_many(s, acct, cal, "x")
    if name == "error":
        assert args["type"] == "serverFail", args
    else:
        assert not args.get("created"), "a create was acknowledged on a full disk"
        assert {e["type"] for e in args["notCreated"].values()} == {"serverFail"}, args
    assert titles(s, acct) == before  # nothing half-written, the state did not move
    r = upload(s, acct, os.urandom(2 * 1000 * 1000))
    assert r.status_code >= 500, r.text  # RFC 8620 §6.1: the upload is refused
    # reads are answered meanwhile
    assert titles(s, acct) == before
    r = s.http().get(download_url(s, acct, kept, "k.bin", "application/octet-stream"))
    assert r.status_code == 200 and r.content == small
    assert s.proc.poll() is None

    os.unlink(filler)  # space returns: the same writes succeed, no restart
    name, args = create_many(s, acct, cal, "y")
    assert name == "CalendarEvent/set" and len(args["created"]) == EVENTS, args
    state, got = titles(s, acct)
    assert state != before[0]
    assert got == sorted(before[1] + [f"full disk y{i}" for i in range(EVENTS)])
    big = os.urandom(2 * 1000 * 1000)
    r = upload(s, acct, big)
    assert r.status_code == 201, r.text
    url = download_url(s, acct, r.json()["blobId"], "b.bin", "application/octet-stream")
    assert s.http().get(url).content == big
