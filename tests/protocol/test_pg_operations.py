"""Issue 15 §2 and §7 (README "Running on PostgreSQL"): how an operator runs jmapd on
PostgreSQL. The password comes from `store_password_file` or libpq's environment
(PGPASSWORD), never from the command line, for `jmapd serve` and every command; a
database that refuses the connection at start stops `jmapd serve` with status 1 and
says why (the README's promise), not a server that answers nothing; `make run`'s
script works with `JMAPD_STORE` naming a database. Runs in the PostgreSQL pass of the
suite (JMAPD_TEST_STORE=pg)."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests

import conftest
import pgharness
from conftest import Server, run_cli

pytestmark = pytest.mark.skipif(not conftest.PG, reason="needs JMAPD_TEST_STORE=pg")

ROLE = "jmapd_pw"
SECRET = "pw-Sq7-never-on-argv"


@pytest.fixture(scope="module")
def password_role():
    """A role that must give its password (scram-sha-256 on the socket: a line before
    the cluster's `trust` ones, for this role only), with a schema of its own."""
    cl = conftest.PG_CLUSTER
    hba = os.path.join(cl.data, "pg_hba.conf")
    with open(hba) as f:
        was = f.read()
    with open(hba, "w") as f:
        f.write(f"local all {ROLE} scram-sha-256\n" + was)
    cl._run([os.path.join(pgharness.PGBIN, "pg_ctl"), "-D", cl.data, "reload"])
    cl.psql("postgres", f"DROP ROLE IF EXISTS {ROLE}; CREATE ROLE {ROLE} LOGIN PASSWORD "
                        f"'{SECRET}'")
    time.sleep(0.5)  # the reload is signalled, not waited for
    yield cl
    with open(hba, "w") as f:
        f.write(was)
    cl._run([os.path.join(pgharness.PGBIN, "pg_ctl"), "-D", cl.data, "reload"])


def role_url(cl, schema):
    cl.psql(pgharness.DB, f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {ROLE}")
    q = {"host": cl.root, "port": str(cl.port), "options": f"-csearch_path={schema},public"}
    return f"postgresql://{ROLE}@/{pgharness.DB}?" + urllib.parse.urlencode(q)


def no_secret_on_argv(s):
    """The serving process's command line, as every user of the host sees it in ps."""
    with open(f"/proc/{s.proc.pid}/cmdline", "rb") as f:
        argv = f.read()
    assert SECRET.encode() not in argv and b"--data" in argv


def serve_and_write(s):
    """The server answers from the database, its LISTEN connection included (a commit's
    push comes back through it), and never logs the password."""
    acct = s.account()
    _, out = s.call("Calendar/set", {"accountId": acct, "create": {"c": {"name": "Pw"}}})
    assert "c" in out["created"], out
    log = s.read_log()
    assert SECRET not in log
    assert "cannot connect" not in log and "authentication failed" not in log, log[-3000:]


def test_password_from_store_password_file(password_role, monkeypatch):
    """README §Running on PostgreSQL 2: `store_password_file` names a file holding the
    password alone; `jmapd serve` and the commands (`user add`, `user share`, `token
    create`) read it, and no command line holds it."""
    tmp = tempfile.TemporaryDirectory()
    pwfile = os.path.join(tmp.name, "db-password")
    with open(pwfile, "w") as f:
        f.write(SECRET + "\n")
    os.chmod(pwfile, 0o600)
    monkeypatch.setenv("JMAPD_STORE", role_url(password_role, "pw_file"))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    # alice alone: Server shares accounts by commands without --config
    s = Server(config=conftest.CONFIG + f"store_password_file = {pwfile}\n",
               users={"alice": conftest.PASSWORDS["alice"]})
    try:
        no_secret_on_argv(s)
        serve_and_write(s)
        r = run_cli(s.data, "token", "create", "alice", "--config", s.config)
        assert r.returncode == 0, r.stderr
        h = {"Authorization": "Bearer " + r.stdout.strip()}
        assert requests.get(s.base + "/jmap/session", headers=h).status_code == 200
    finally:
        s.close()
        tmp.cleanup()


def test_password_from_the_environment(password_role, monkeypatch):
    """README §Running on PostgreSQL 2: libpq's PGPASSWORD, for the server and the
    commands, with no `store_password_file`."""
    monkeypatch.setenv("JMAPD_STORE", role_url(password_role, "pw_env"))
    monkeypatch.setenv("PGPASSWORD", SECRET)
    s = Server()
    try:
        no_secret_on_argv(s)
        serve_and_write(s)
    finally:
        s.close()


def test_no_password_is_refused_and_not_shown(password_role, monkeypatch):
    """Without the password (none, or a file with a wrong one) every command fails with
    status 1 and says the database refused it; the message never repeats a password."""
    tmp = tempfile.TemporaryDirectory()
    monkeypatch.setenv("JMAPD_STORE", role_url(password_role, "pw_none"))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    data = os.path.join(tmp.name, "data")
    r = run_cli(data, "user", "list")
    assert r.returncode == 1 and "cannot connect to PostgreSQL" in r.stderr, r.stderr
    wrong = os.path.join(tmp.name, "wrong")
    with open(wrong, "w") as f:
        f.write("not-" + SECRET + "\n")
    conf = os.path.join(tmp.name, "jmapd.conf")
    with open(conf, "w") as f:
        f.write(f"store_password_file = {wrong}\n")
    r = run_cli(data, "user", "list", "--config", conf)
    assert r.returncode == 1 and "password authentication failed" in r.stderr, r.stderr
    assert SECRET not in r.stderr and SECRET not in r.stdout
    tmp.cleanup()


def test_refused_connection_at_start_exits_with_status_1():
    """README §Running on PostgreSQL 4: a front end that cannot reach the database when
    it starts stops at once with status 1 and the reason (a service manager starts it
    again), before it listens: never a server that answers nothing or hangs."""
    tmp = tempfile.TemporaryDirectory()
    port = conftest.free_port()  # nothing listens there: the connection is refused
    env = dict(os.environ, JMAPD_STORE=f"postgresql://jmapd@127.0.0.1:{port}/jmapd")
    listen = conftest.free_port()
    t0 = time.time()
    r = subprocess.run([conftest.JMAPD, "serve", "--data", os.path.join(tmp.name, "data"),
                        "--listen", f"127.0.0.1:{listen}"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert "cannot connect to PostgreSQL" in r.stderr and "refused" in r.stderr, r.stderr
    assert time.time() - t0 < 30
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{listen}/health", timeout=2)
    tmp.cleanup()


def test_make_run_on_postgresql():
    """README (`make run`) with JMAPD_STORE naming a database (issue 15 §2: `make run`
    works on either store): scripts/run.sh creates the demo user in the database, keeps
    its password in the data directory, prints it and serves; the printed credentials
    open the session."""
    tmp = tempfile.TemporaryDirectory()
    root = os.path.join(tmp.name, "tree")
    os.makedirs(os.path.join(root, "scripts"))
    os.makedirs(os.path.join(root, "build"))
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copy(os.path.join(here, "..", "..", "scripts", "run.sh"),
                os.path.join(root, "scripts", "run.sh"))
    os.symlink(os.path.abspath(conftest.JMAPD), os.path.join(root, "build", "jmapd"))
    data = os.path.join(tmp.name, "data")
    port = conftest.free_port()
    cl = conftest.PG_CLUSTER
    env = dict(os.environ, JMAPD_DATA=data, JMAPD_LISTEN=f"127.0.0.1:{port}",
               JMAPD_STORE=cl.url(cl.schema_for(data)))
    p = subprocess.Popen(["bash", os.path.join(root, "scripts", "run.sh")], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        user = pw = None
        out = []
        for line in p.stdout:
            out.append(line)
            if line.strip().startswith("user:"):
                user = line.split()[-1]
            if line.strip().startswith("password:"):
                pw = line.split()[-1]
                break
        assert user == "demo" and pw, "".join(out)
        with open(os.path.join(data, "demo-password")) as f:
            assert f.read().strip() == pw
        deadline = time.time() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.time() < deadline and p.poll() is None, "".join(out)
            time.sleep(0.1)
        r = requests.get(f"http://127.0.0.1:{port}/jmap/session", auth=(user, pw))
        assert r.status_code == 200 and r.json()["username"] == "demo"
        # the user is in the database, not in a SQLite file of the data directory
        assert not os.path.exists(os.path.join(data, "jmapd.db"))
        assert "demo" in cl.psql(pgharness.DB, f"SELECT name FROM {cl.schema_for(data)}.users")
    finally:
        p.send_signal(signal.SIGTERM)  # run.sh exec's jmapd: this is the server
        rc = p.wait(timeout=30)
        tmp.cleanup()
    assert rc == 0
