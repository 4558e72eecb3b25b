"""Issue 19 §3, §10, §13: the login throttle cannot be walked around, cannot be turned
against a user from another address, does not tell known names from unknown ones by
time, and the database of password hashes is private to its owner.

Failed logins are counted per client address and per (user, address) pair, each
auth_fail_limit a minute (README); a credential already verified keeps working. The
second client address is 127.0.0.2, bound as the source of a loopback connection (the
server trusts no X-Forwarded-For)."""
import base64
import hashlib
import http.client
import os
import stat
import statistics
import time

import pytest

from conftest import CONFIG, Server, run_cli


def basic(user, pw):
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


def get_session(s, user, pw, source="127.0.0.1", conn=None):
    """Status of GET /jmap/session from the given source address (or on conn)."""
    c = conn or http.client.HTTPConnection("127.0.0.1", s.port, timeout=30,
                                           source_address=(source, 0))
    c.request("GET", "/jmap/session", headers={"Authorization": basic(user, pw)})
    r = c.getresponse()
    r.read()
    if not conn:
        c.close()
    return r.status


def old_slot(key):
    """The slot the former 1,024-slot throttle gave a key (issue 19 §3)."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 1024


def colliding_name(target_key, prefix):
    for i in range(200000):
        name = f"{prefix}{i}"
        if old_slot("u:" + name) == old_slot(target_key):
            return name
    raise AssertionError("no colliding name found")


def test_colliding_names_do_not_reset_the_count():
    """§3: failures for names that shared the victim's and the address's slot used to
    overwrite those counters, so 75 guesses from one address never got a 429."""
    s = Server(users={"alice": "alice-pw"})
    try:
        x = colliding_name("u:alice", "x")       # overwrote alice's counter
        y = colliding_name("a:127.0.0.1", "y")   # overwrote the address's counter
        codes = []
        for i in range(10):
            for name in ("alice", x, y):
                codes.append(get_session(s, name, f"wrong{i}"))
        assert 429 in codes[:12], codes
        assert codes[-1] == 429, codes
        assert get_session(s, "alice", "alice-pw") == 429  # this address is locked out
    finally:
        s.close()


def test_stranger_cannot_lock_a_user_out_from_another_address():
    """§10: ten wrong passwords from 127.0.0.2 block 127.0.0.2, not alice elsewhere, and
    not a credential 127.0.0.2 itself had already verified."""
    s = Server(users={"alice": "alice-pw", "bob": "bob-pw"})
    try:
        if get_session(s, "bob", "bob-pw", source="127.0.0.2") != 200:
            pytest.skip("127.0.0.2 is not usable as a loopback source here")
        keep = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        assert get_session(s, "alice", "alice-pw", conn=keep) == 200  # open, verified
        codes = [get_session(s, "alice", f"bad{i}", source="127.0.0.2") for i in range(12)]
        assert codes[:10] == [401] * 10 and codes[-1] == 429, codes
        assert get_session(s, "alice", "alice-pw", source="127.0.0.2") == 429
        # another address: the right password works, fresh and on the open connection
        assert get_session(s, "alice", "alice-pw") == 200
        time.sleep(1.1)  # past the workers' one-second memory: auth.c decides again
        assert get_session(s, "alice", "alice-pw", conn=keep) == 200
        # bob verified from 127.0.0.2 before the attack: his remembered credential holds
        assert get_session(s, "bob", "bob-pw", source="127.0.0.2") == 200
        keep.close()
    finally:
        s.close()


def test_unknown_names_cost_the_same_as_known_ones():
    """§10: an unknown name is verified against a dummy argon2 hash, so its answer takes
    about as long as a wrong password for a known name (was 0.6 ms against 170 ms)."""
    s = Server(config=CONFIG + "auth_fail_limit = 1000\n", users={"alice": "alice-pw"})
    try:
        def timed(user):
            t0 = time.perf_counter()
            assert get_session(s, user, "not-the-password") == 401
            return time.perf_counter() - t0
        timed("nobody-warmup")
        known, unknown = [], []
        for i in range(5):
            known.append(timed("alice"))
            unknown.append(timed(f"nobody{i}"))
        k, u = statistics.median(known), statistics.median(unknown)
        assert u >= 0.3 * k, f"unknown {u * 1000:.1f} ms, known {k * 1000:.1f} ms"
    finally:
        s.close()


@pytest.mark.sqlite_only
def test_data_directory_and_database_are_private():
    """§13: the data directory is created 0700, jmapd.db and its -wal/-shm files 0600,
    whatever the umask, since they hold every password hash and every user's data."""
    old = os.umask(0o022)
    try:
        s = Server(users={"zed": "pw"})  # `jmapd user add` creates the directory
    finally:
        os.umask(old)
    try:
        assert stat.S_IMODE(os.stat(s.data).st_mode) == 0o700
        assert get_session(s, "zed", "pw") == 200  # the server has the -wal and -shm open
        names = sorted(n for n in os.listdir(s.data) if n.startswith("jmapd.db"))
        assert names == ["jmapd.db", "jmapd.db-shm", "jmapd.db-wal"], names
        for n in names:
            mode = stat.S_IMODE(os.stat(os.path.join(s.data, n)).st_mode)
            assert mode == 0o600, f"{n} is {oct(mode)}"
    finally:
        s.close()


@pytest.mark.sqlite_only
def test_existing_database_is_made_private(tmp_path):
    """§13: a database created before this fix (0644) is tightened to 0600 when jmapd
    next opens it."""
    data = str(tmp_path / "data")
    assert run_cli(data, "user", "add", "zed", "--password-stdin", stdin="pw\n").returncode == 0
    os.chmod(os.path.join(data, "jmapd.db"), 0o644)
    assert run_cli(data, "user", "list").returncode == 0
    assert stat.S_IMODE(os.stat(os.path.join(data, "jmapd.db")).st_mode) == 0o600
