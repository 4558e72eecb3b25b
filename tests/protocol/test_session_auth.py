"""RFC 8620 §2 (session, .well-known), HTTP authentication, bearer tokens,
throttling of failed logins."""
import subprocess
import time

import requests

from conftest import BLOB, CAL, CORE, JMAPD, PASSWORDS, Server, run_cli


def test_well_known_redirects_to_session(server):
    r = requests.get(server.base + "/.well-known/jmap", allow_redirects=False)
    assert r.status_code in (301, 302, 307, 308)
    assert r.headers["Location"] == server.base + "/jmap/session"
    # following it, with credentials, gives the session
    r = server.http().get(server.base + "/.well-known/jmap")
    assert r.status_code == 200 and "capabilities" in r.json()


def test_session_object(server):
    s = server.session()
    core = s["capabilities"][CORE]
    for k in ("maxSizeUpload", "maxConcurrentUpload", "maxSizeRequest", "maxConcurrentRequests",
              "maxCallsInRequest", "maxObjectsInGet", "maxObjectsInSet"):
        assert isinstance(core[k], int) and core[k] > 0
    assert "i;unicode-casemap" in core["collationAlgorithms"]
    assert core["maxCallsInRequest"] == 16 and core["maxObjectsInGet"] == 500
    assert s["capabilities"][CAL] == {} and s["capabilities"][BLOB] == {}
    assert s["username"] == "alice"
    own = s["primaryAccounts"][CAL]
    a = s["accounts"][own]
    assert a["isPersonal"] is True and a["isReadOnly"] is False and a["name"] == "alice"
    cal = a["accountCapabilities"][CAL]
    assert cal["maxCalendarsPerEvent"] >= 1 and cal["mayCreateCalendar"] is True
    for k in ("minDateTime", "maxDateTime", "maxExpandedQueryDuration"):
        assert isinstance(cal[k], str)
    b = a["accountCapabilities"][BLOB]
    assert b["maxDataSources"] >= 64 and "sha-256" in b["supportedDigestAlgorithms"]
    # absolute URLs from the base URL, with the RFC's template variables
    assert s["apiUrl"] == server.base + "/jmap/api/"
    for var in ("{accountId}", "{blobId}", "{type}", "{name}"):
        assert var in s["downloadUrl"]
    assert "{accountId}" in s["uploadUrl"]
    for var in ("{types}", "{closeafter}", "{ping}"):
        assert var in s["eventSourceUrl"]
    assert s["downloadUrl"].startswith("http://") and s["uploadUrl"].startswith("http://")
    assert isinstance(s["state"], str) and s["state"]


def test_shared_accounts_in_session(server):
    s = server.session("carol")
    alice = server.account("alice")
    assert alice in s["accounts"]
    assert s["accounts"][alice]["isReadOnly"] is True
    assert s["accounts"][alice]["isPersonal"] is False
    assert s["accounts"][alice]["accountCapabilities"][CAL]["mayCreateCalendar"] is False
    assert s["primaryAccounts"][CAL] != alice
    assert server.session("bob")["accounts"][alice]["isReadOnly"] is False


def test_missing_credentials_get_401_with_challenge(server):
    for path in ("/jmap/session", "/jmap/api/", "/jmap/eventsource/"):
        r = requests.get(server.base + path) if path != "/jmap/api/" else \
            requests.post(server.base + path, json={"using": [], "methodCalls": []})
        assert r.status_code == 401, path
        assert "Basic" in r.headers.get("WWW-Authenticate", "")


def test_wrong_password_401(server):
    r = requests.get(server.base + "/jmap/session", auth=("alice", "nope"))
    assert r.status_code == 401
    r = requests.get(server.base + "/jmap/session", auth=("nobody", "x"))
    assert r.status_code == 401
    r = requests.get(server.base + "/jmap/session", headers={"Authorization": "Basic !!!"})
    assert r.status_code == 401


def test_bearer_token_create_use_revoke(server):
    r = run_cli(server.data, "token", "create", "alice", "--label", "test")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    h = {"Authorization": "Bearer " + token}
    assert requests.get(server.base + "/jmap/session", headers=h).json()["username"] == "alice"
    listed = run_cli(server.data, "token", "list", "alice").stdout
    mine = [line.split("\t") for line in listed.splitlines() if line.endswith("\ttest")]
    assert len(mine) == 1
    tid = mine[0][0]
    assert run_cli(server.data, "token", "revoke", tid).returncode == 0
    time.sleep(1.1)  # revocation reaches every worker within a second
    assert requests.get(server.base + "/jmap/session", headers=h).status_code == 401
    assert requests.get(server.base + "/jmap/session",
                        headers={"Authorization": "Bearer jmapd_bogus"}).status_code == 401


def test_password_change_takes_effect(fresh_server):
    s = fresh_server
    assert s.session("alice")["username"] == "alice"  # cached now
    r = run_cli(s.data, "user", "passwd", "alice", "--password-stdin", stdin="new-pw\n")
    assert r.returncode == 0
    time.sleep(1.1)  # a worker rechecks a credential it has seen at most every second
    assert requests.get(s.base + "/jmap/session", auth=("alice", "alice-pw")).status_code == 401
    assert requests.get(s.base + "/jmap/session", auth=("alice", "new-pw")).status_code == 200


def test_failed_logins_are_throttled():
    s = Server(users={"alice": "alice-pw"})
    try:
        codes = [requests.get(s.base + "/jmap/session", auth=("alice", f"bad{i}")).status_code
                 for i in range(12)]
        assert codes[0] == 401
        assert codes[-1] == 429
        r = requests.get(s.base + "/jmap/session", auth=("alice", "alice-pw"))
        assert r.status_code == 429 and r.headers.get("Retry-After")
    finally:
        s.close()


def test_cli_user_management(tmp_path):
    data = str(tmp_path / "d")
    assert run_cli(data, "user", "add", "zed", "--password-stdin", stdin="pw\n").returncode == 0
    assert run_cli(data, "user", "add", "zed", "--password-stdin", stdin="pw\n").returncode == 1
    assert run_cli(data, "user", "add", "bad name", "--password-stdin",
                   stdin="pw\n").returncode == 1
    gen = run_cli(data, "user", "add", "yan")
    assert gen.returncode == 0 and gen.stdout.startswith("password: ")
    assert run_cli(data, "user", "list").stdout.split() == ["yan", "zed"]
    assert run_cli(data, "user", "del", "zed").returncode == 0
    assert run_cli(data, "user", "del", "zed").returncode == 1
    assert run_cli(data, "user", "list").stdout.split() == ["yan"]
    assert subprocess.run([JMAPD, "nope"], capture_output=True).returncode == 2


def test_unknown_path_404_and_wrong_method_405(server):
    h = server.http()
    assert h.get(server.base + "/nothing/here").status_code == 404
    assert h.get(server.base + "/jmap/api/").status_code == 405
    assert h.post(server.base + "/jmap/session").status_code == 405


def test_cors(server):
    r = requests.options(server.base + "/jmap/api/", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
    r = server.http().get(server.base + "/jmap/session", headers={"Origin": "https://app.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert requests.get(server.base + "/jmap/session").headers["Access-Control-Allow-Origin"] == "*"


def test_tls(tmp_path):
    """tls_cert/tls_key: the server speaks HTTPS and the session's URLs say so."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    from conftest import CONFIG
    s = Server(config=CONFIG + f"tls_cert = {cert}\ntls_key = {key}\n",
               users={"alice": "alice-pw"}, tls=True)
    try:
        base = s.base
        assert base.startswith("https://")
        sess = requests.get(base + "/jmap/session", auth=("alice", "alice-pw"), verify=False)
        assert sess.status_code == 200
        assert sess.json()["apiUrl"].startswith("https://")
        # plain HTTP on the TLS port gets no JMAP answer
        try:
            plain = requests.get(f"http://127.0.0.1:{s.port}/health", timeout=2)
            assert plain.status_code != 200
        except requests.RequestException:
            pass
    finally:
        s.close()
