"""PushSubscription (RFC 8620 §7.2) and its delivery: WebPush POSTs (RFC 8030) to an
HTTPS push service on loopback, encrypted as RFC 8291 says when the client gives keys,
signed with VAPID (RFC 8292, advertised as RFC 9749 says). The push service here is a
real TLS server started by the test; its certificate is the server's push_ca_file.
Decryption and signature checks are written from the RFCs with python3-cryptography,
independently of the server's code."""
import base64
import http.server
import json
import os
import queue
import ssl
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from conftest import CONFIG, CORE, CAL, JMAPD, Server, run_cli


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class PushService:
    """An HTTPS push service: records every POST; answers with the statuses queued in
    `answers` (201 when none is queued)."""

    def __init__(self, tmp, delay=0, same_cert_as=None):
        if same_cert_as:  # one certificate the server trusts (push_ca_file)
            self.key, self.cert = same_cert_as.key, same_cert_as.cert
        else:
            self.key = os.path.join(tmp, "push-key.pem")
            self.cert = os.path.join(tmp, "push-cert.pem")
            r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                                "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                                "-keyout", self.key, "-out", self.cert], capture_output=True)
            assert r.returncode == 0, r.stderr
        self.posts = queue.Queue()
        self.answers = []
        svc = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                # the answer is chosen before the test can see the POST (and queue another)
                status, extra = svc.answers.pop(0) if svc.answers else (201, {})
                svc.posts.put((self.path, dict(self.headers), body))
                time.sleep(delay)  # a slow push service
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def next(self, timeout=20):
        return self.posts.get(timeout=timeout)

    def none_within(self, seconds):
        try:
            got = self.posts.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected push: {got[0]} {got[2][:200]!r}")

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def env(tmp_path_factory):
    """A server and a push service of its own for each test (a POST one test caused
    cannot reach the next)."""
    tmp = str(tmp_path_factory.mktemp("push"))
    svc = PushService(tmp)
    s = Server(config=CONFIG + f"push_ca_file = {svc.cert}\npush_allow = 127.0.0.0/8\n")
    yield s, svc
    svc.close()
    rc = s.stop()
    log = s.read_log()
    s.tmp.cleanup()
    # a clean exit with deliveries, retries and verifications behind it
    assert rc == 0, log[-4000:]
    assert "ERROR: AddressSanitizer" not in log and "runtime error" not in log, log[-4000:]


def ps_call(s, name, args, user="alice", auth=None):
    body = {"using": [CORE, CAL], "methodCalls": [[name, args, "p"]]}
    http = s.http(user)
    kw = {"headers": {"Content-Type": "application/json"}}
    if auth:
        kw["headers"]["Authorization"] = auth
        import requests
        http = requests.Session()
    r = http.post(s.base + "/jmap/api/", data=json.dumps(body), **kw)
    assert r.status_code == 200, r.text
    name, args, _ = r.json()["methodResponses"][0]
    return name, args


def create(s, svc, path, **extra):
    spec = {"deviceClientId": "dev-" + path, "url": svc.url + "/" + path}
    spec.update(extra)
    name, res = ps_call(s, "PushSubscription/set", {"create": {"k": spec}})
    assert name == "PushSubscription/set", res
    assert "k" in (res.get("created") or {}), res
    return res["created"]["k"]


def verification(svc, path):
    p, headers, body = svc.next()
    assert p == "/" + path
    return headers, body


def make_change(s, title="push me"):
    acct = s.account()
    name, res = ps_call(s, "CalendarEvent/set", {"accountId": acct, "create": {"e": {
        "@type": "Event", "title": title, "start": "2026-01-01T10:00:00", "timeZone": "Etc/UTC",
        "calendarIds": {calendar_id(s): True}}}})
    assert "e" in (res.get("created") or {}), res
    return acct, res["newState"]


def calendar_id(s):
    _, res = ps_call(s, "Calendar/get", {"accountId": s.account(), "ids": None})
    return res["list"][0]["id"]


def verify(s, svc, path, **extra):
    c = create(s, svc, path, **extra)
    headers, body = verification(svc, path)
    code = json.loads(body)["verificationCode"] if "keys" not in extra else None
    return c, headers, body, code


def test_create_sends_verification_and_get_hides_url_and_keys_rfc8620_s7_2(env):
    s, svc = env
    c = create(s, svc, "a")
    # §5.3: the server-set and defaulted properties come back in `created`
    assert c["keys"] is None and c["types"] is None and c["verificationCode"] is None
    exp = datetime.strptime(c["expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert exp <= datetime.now(timezone.utc) + timedelta(days=7, minutes=1)
    assert exp >= datetime.now(timezone.utc) + timedelta(hours=47)  # §7.2: at least 48 h
    headers, body = verification(svc, "a")
    msg = json.loads(body)
    assert msg["@type"] == "PushVerification" and msg["pushSubscriptionId"] == c["id"]
    assert len(msg["verificationCode"]) >= 16
    assert headers["Content-Type"] == "application/json" and "TTL" in headers
    # §7.2.1: no accountId, no state; url and keys never returned
    name, res = ps_call(s, "PushSubscription/get", {"ids": None})
    assert name == "PushSubscription/get" and "state" not in res and "accountId" not in res
    mine = [x for x in res["list"] if x["id"] == c["id"]][0]
    assert "url" not in mine and "keys" not in mine
    assert mine["deviceClientId"] == "dev-a" and mine["verificationCode"] is None
    name, res = ps_call(s, "PushSubscription/get", {"ids": [c["id"]], "properties": ["url"]})
    assert name == "error" and res["type"] == "forbidden"
    name, res = ps_call(s, "PushSubscription/get", {"ids": [c["id"]], "properties": ["keys"]})
    assert name == "error" and res["type"] == "forbidden"
    name, res = ps_call(s, "PushSubscription/get", {"ids": [c["id"], "nope"],
                                                    "properties": ["types"]})
    assert res["list"] == [{"id": c["id"], "types": None}] and res["notFound"] == ["nope"]


def test_nothing_pushed_until_verified_then_state_changes_rfc8620_s7_2_2(env):
    s, svc = env
    c, _, body, code = verify(s, svc, "b")
    make_change(s)
    svc.none_within(1.5)  # "MUST NOT make any further requests ... until" verified
    name, res = ps_call(s, "PushSubscription/set", {"update": {c["id"]: {
        "verificationCode": "0" * 32}}})
    assert res["notUpdated"][c["id"]]["type"] == "invalidProperties"
    assert res["notUpdated"][c["id"]]["properties"] == ["verificationCode"]
    name, res = ps_call(s, "PushSubscription/set", {"update": {c["id"]: {
        "verificationCode": code}}})
    assert c["id"] in res["updated"], res
    acct, state = make_change(s, "after verification")
    path, headers, body = svc.next()
    assert path == "/b"
    assert headers["Content-Type"] == "application/json" and int(headers["TTL"]) >= 0
    msg = json.loads(body)
    assert msg["@type"] == "StateChange"
    assert msg["changed"][acct]["CalendarEvent"] == state
    _, res = ps_call(s, "PushSubscription/get", {"ids": [c["id"]]})
    assert res["list"][0]["verificationCode"] == code
    ps_call(s, "PushSubscription/set", {"destroy": [c["id"]]})


def test_types_filter_rfc8620_s7_2(env):
    s, svc = env
    c, _, _, code = verify(s, svc, "t", types=["Calendar"])
    ps_call(s, "PushSubscription/set", {"update": {c["id"]: {"verificationCode": code}}})
    make_change(s)  # CalendarEvent only: not one of the types
    svc.none_within(1.5)
    _, res = ps_call(s, "Calendar/set", {"accountId": s.account(), "create": {"c": {
        "name": "pushed"}}})
    assert "c" in res["created"], res
    _, headers, body = svc.next()
    changed = json.loads(body)["changed"]
    assert all(set(t) == {"Calendar"} for t in changed.values()), changed
    ps_call(s, "PushSubscription/set", {"destroy": [c["id"]]})


def rfc8291_decrypt(body, ua_private, auth_secret):
    """RFC 8291 §3.4 and RFC 8188 §2, from the receiver's side."""
    salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    as_public = body[21:21 + idlen]
    ciphertext = body[21 + idlen:]
    assert idlen == 65 and len(ciphertext) + 1 <= rs  # §4: one record, rs above its size
    ua_public = ua_private.public_key().public_bytes(serialization.Encoding.X962,
                                                     serialization.PublicFormat.UncompressedPoint)
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
    secret = ua_private.exchange(ec.ECDH(), peer)
    ikm = HKDF(hashes.SHA256(), 32, auth_secret,
               b"WebPush: info\x00" + ua_public + as_public).derive(secret)
    cek = HKDF(hashes.SHA256(), 16, salt, b"Content-Encoding: aes128gcm\x00").derive(ikm)
    nonce = HKDF(hashes.SHA256(), 12, salt, b"Content-Encoding: nonce\x00").derive(ikm)
    plain = AESGCM(cek).decrypt(nonce, ciphertext, None)
    assert plain.endswith(b"\x02")  # the last record's delimiter, no padding
    return json.loads(plain[:-1])


def test_encrypted_with_the_client_keys_rfc8291(env):
    s, svc = env
    ua = ec.generate_private_key(ec.SECP256R1())
    pub = ua.public_key().public_bytes(serialization.Encoding.X962,
                                       serialization.PublicFormat.UncompressedPoint)
    auth = os.urandom(16)
    keys = {"p256dh": b64u(pub), "auth": b64u(auth)}
    c, headers, body, _ = verify(s, svc, "enc", keys=keys)
    assert headers["Content-Encoding"] == "aes128gcm"
    assert b"PushVerification" not in body
    msg = rfc8291_decrypt(body, ua, auth)
    assert msg["@type"] == "PushVerification" and msg["pushSubscriptionId"] == c["id"]
    ps_call(s, "PushSubscription/set", {"update": {c["id"]: {
        "verificationCode": msg["verificationCode"]}}})
    acct, state = make_change(s, "encrypted")
    _, headers, body = svc.next()
    assert rfc8291_decrypt(body, ua, auth)["changed"][acct]["CalendarEvent"] == state
    ps_call(s, "PushSubscription/set", {"destroy": [c["id"]]})


def test_vapid_key_advertised_and_pushes_signed_rfc9749_rfc8292(env):
    s, svc = env
    key = s.session()["capabilities"]["urn:ietf:params:jmap:webpush-vapid"]["applicationServerKey"]
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64u(key))
    create(s, svc, "vapid")
    headers, _ = verification(svc, "vapid")
    scheme, _, params = headers["Authorization"].partition(" ")
    assert scheme == "vapid"  # RFC 8292 §3
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    assert fields["k"] == key
    h64, c64, s64 = fields["t"].split(".")
    assert json.loads(unb64u(h64))["alg"] == "ES256"
    claims = json.loads(unb64u(c64))
    assert claims["aud"] == svc.url  # §2: the push resource's origin
    assert claims["exp"] > time.time() and claims["exp"] <= time.time() + 86400  # §2
    assert claims["sub"].startswith(("mailto:", "https:"))
    sig = unb64u(s64)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public.verify(der, f"{h64}.{c64}".encode(), ec.ECDSA(hashes.SHA256()))


def test_vapid_key_kept_across_restarts_and_follows_a_new_key_rfc9749_s2(env):
    """RFC 9749 §2 / RFC 8292 §3.2: the applicationServerKey a browser subscribed with
    stays the server's key across restarts (its public half read from the copy kept
    beside the key file, before any push sets OpenSSL up); a key file replaced by the
    operator is what the session then shows, and what signs."""
    s, svc = env
    cap = "urn:ietf:params:jmap:webpush-vapid"
    key = s.session()["capabilities"][cap]["applicationServerKey"]
    pem = os.path.join(s.data, "webpush-vapid.pem")
    with open(pem + ".pub") as f:
        assert f.read().strip() == key
    assert s.stop() == 0
    s.start()
    assert s.session()["capabilities"][cap]["applicationServerKey"] == key
    assert s.stop() == 0
    new = ec.generate_private_key(ec.SECP256R1())
    with open(pem, "wb") as f:
        f.write(new.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    later = os.stat(pem + ".pub").st_mtime + 2
    os.utime(pem, (later, later))  # newer than the kept copy
    s.start()
    point = new.public_key().public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.UncompressedPoint)
    assert s.session()["capabilities"][cap]["applicationServerKey"] == b64u(point)
    create(s, svc, "newkey")
    headers, _ = verification(svc, "newkey")
    fields = dict(p.strip().split("=", 1) for p in headers["Authorization"][6:].split(","))
    assert fields["k"] == b64u(point)


def test_first_start_key_made_apart_and_push_key_command_rfc9749_s2(env, tmp_path):
    """RFC 9749 §2 / RFC 8292 §3.2: the key the first start made (by `jmapd push-key` in a
    process of its own, so the server loads no key until a push: issue 21 §3) is the
    owner's alone (0600) and the one the session shows; `jmapd push-key PATH` prints the
    public key of the key at PATH, making one there if there is none, and refuses a file
    that holds no P-256 key."""
    s, svc = env
    cap = "urn:ietf:params:jmap:webpush-vapid"
    key = s.session()["capabilities"][cap]["applicationServerKey"]
    pem = os.path.join(s.data, "webpush-vapid.pem")
    assert os.stat(pem).st_mode & 0o777 == 0o600
    r = subprocess.run([JMAPD, "push-key", pem], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == key
    new = str(tmp_path / "other.pem")
    r = subprocess.run([JMAPD, "push-key", new], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and os.stat(new).st_mode & 0o777 == 0o600
    made = serialization.load_pem_private_key(open(new, "rb").read(), None)
    point = made.public_key().public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)
    assert r.stdout.strip() == b64u(point) != key
    with open(new + ".pub") as f:
        assert f.read().strip() == b64u(point)
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key\n")
    r = subprocess.run([JMAPD, "push-key", str(bad)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and r.stdout == "" and "P-256" in r.stderr
    r = subprocess.run([JMAPD, "push-key"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2


def test_invalid_creates_and_arguments_rfc8620_s7_2(env):
    s, svc = env
    bad = {
        "url": {"deviceClientId": "d", "url": "http://127.0.0.1/x"},  # MUST begin https://
        "verificationCode": {"deviceClientId": "d", "url": svc.url + "/x",
                             "verificationCode": "abc"},  # MUST be null on create
        "keys": {"deviceClientId": "d", "url": svc.url + "/x",
                 "keys": {"p256dh": b64u(b"\x04" + b"\x01" * 64), "auth": b64u(b"a" * 16)}},
        "deviceClientId": {"url": svc.url + "/x"},
        "id": {"id": "P1", "deviceClientId": "d", "url": svc.url + "/x"},
        "expires": {"deviceClientId": "d", "url": svc.url + "/x",
                    "expires": "2001-01-01T00:00:00Z"},
    }
    for prop, spec in bad.items():
        _, res = ps_call(s, "PushSubscription/set", {"create": {"x": spec}})
        err = res["notCreated"]["x"]
        assert err["type"] == "invalidProperties" and prop in err["properties"], (prop, err)
    # §7.2.1, §7.2.2: no accountId, no ifInState
    name, res = ps_call(s, "PushSubscription/get", {"accountId": s.account(), "ids": None})
    assert name == "error" and res["type"] == "invalidArguments"
    name, res = ps_call(s, "PushSubscription/set", {"ifInState": "1", "create": {}})
    assert name == "error" and res["type"] == "invalidArguments"
    svc.none_within(0.5)  # nothing was created, nothing verified


def test_expiry_bounded_and_immutable_properties_rfc8620_s7_2_3(env):
    s, svc = env
    far = (datetime.now(timezone.utc) + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    c, _, _, _ = verify(s, svc, "exp", expires=far)
    assert c["expires"] < far
    soon = (datetime.now(timezone.utc) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _, res = ps_call(s, "PushSubscription/set", {"update": {c["id"]: {"expires": soon}}})
    assert res["updated"][c["id"]] is None  # taken as asked: nothing to report
    _, res = ps_call(s, "PushSubscription/set", {"update": {c["id"]: {"expires": far}}})
    assert res["updated"][c["id"]]["expires"] < far  # bounded again, and said so
    for prop, value in (("url", svc.url + "/y"), ("keys", None), ("deviceClientId", "z")):
        _, res = ps_call(s, "PushSubscription/set", {"update": {c["id"]: {prop: value}}})
        assert res["notUpdated"][c["id"]]["type"] == "invalidProperties", prop
    _, res = ps_call(s, "PushSubscription/set", {"destroy": [c["id"], "missing"]})
    assert res["destroyed"] == [c["id"]] and res["notDestroyed"]["missing"]["type"] == "notFound"


def test_other_credentials_do_not_see_it_and_revocation_destroys_it_rfc8620_s7_2(env):
    s, svc = env
    token = run_cli(s.data, "token", "create", "alice", "--label", "push").stdout.strip()
    bearer = "Bearer " + token
    _, res = ps_call(s, "PushSubscription/set", {"create": {"k": {
        "deviceClientId": "tok", "url": svc.url + "/tok"}}}, auth=bearer)
    sid = res["created"]["k"]["id"]
    code = json.loads(verification(svc, "tok")[1])["verificationCode"]
    # Basic auth, the same user: another credential (§7.2: "Only subscriptions created by
    # these credentials are returned")
    _, res = ps_call(s, "PushSubscription/get", {"ids": [sid]})
    assert res["notFound"] == [sid]
    _, res = ps_call(s, "PushSubscription/set", {"destroy": [sid]})
    assert res["notDestroyed"][sid]["type"] == "notFound"
    _, res = ps_call(s, "PushSubscription/set", {"update": {sid: {"verificationCode": code}}},
                     auth=bearer)
    assert sid in res["updated"]
    make_change(s, "for the token")
    assert json.loads(svc.next()[2])["@type"] == "StateChange"
    tid = [line.split()[0] for line in
           run_cli(s.data, "token", "list", "alice").stdout.splitlines() if "push" in line][0]
    assert run_cli(s.data, "token", "revoke", tid).returncode == 0
    time.sleep(2.5)  # the credential is checked every second
    make_change(s, "after revocation")
    svc.none_within(1.5)
    assert f"subscription {sid} destroyed" in s.read_log()


def test_gone_ends_and_429_backs_off_with_coalesced_state_rfc8030_rfc8620_s7_2(env):
    s, svc = env
    c, _, _, code = verify(s, svc, "busy")
    ps_call(s, "PushSubscription/set", {"update": {c["id"]: {"verificationCode": code}}})
    svc.answers = [(429, {"Retry-After": "2"})]
    make_change(s, "first")
    t0 = time.time()
    assert json.loads(svc.next()[2])["@type"] == "StateChange"  # answered 429
    acct, state = make_change(s, "second")
    _, _, body = svc.next()
    assert time.time() - t0 >= 1.8  # "MUST cause the JMAP server to reduce the frequency"
    assert json.loads(body)["changed"][acct]["CalendarEvent"] == state  # the newest state
    svc.answers = [(410, {})]
    make_change(s, "third")
    svc.next()  # answered 410: the subscription is gone (RFC 8030 §7.3)
    time.sleep(0.5)
    _, res = ps_call(s, "PushSubscription/get", {"ids": [c["id"]]})
    assert res["notFound"] == [c["id"]]
    make_change(s, "fourth")
    svc.none_within(1.0)


def test_a_slow_push_service_delays_nobody_else_rfc8620_s8_6(env, tmp_path):
    """One subscription's push service that takes 20 s to answer holds up neither the
    other subscriptions' pushes nor the API (deliveries run side by side)."""
    s, svc = env
    slow = PushService(str(tmp_path), delay=20, same_cert_as=svc)
    try:
        _, res = ps_call(s, "PushSubscription/set", {"create": {"k": {
            "deviceClientId": "slow", "url": slow.url + "/slow"}}})
        sid = res["created"]["k"]["id"]
        slow_code = json.loads(slow.next()[2])["verificationCode"]
        ps_call(s, "PushSubscription/set", {"update": {sid: {"verificationCode": slow_code}}})
        c, _, _, code = verify(s, svc, "quick")
        ps_call(s, "PushSubscription/set", {"update": {c["id"]: {"verificationCode": code}}})
        t0 = time.time()
        acct, state = make_change(s, "while one service stalls")
        _, _, body = svc.next(timeout=5)
        assert time.time() - t0 < 5
        assert json.loads(body)["changed"][acct]["CalendarEvent"] == state
        ps_call(s, "PushSubscription/set", {"destroy": [sid, c["id"]]})
    finally:
        slow.close()


def test_calendar_alert_pushed_calendars27_s6_4(tmp_path):
    """A CalendarAlert (calendars-27 §6.4) goes to a push subscription that asked for
    it, urgently (RFC 8030 §5.3), when the server's clock reaches it."""
    from alert_util import ClockServer
    from test_alerts_calendars27 import create_event, offset_alert
    svc = PushService(str(tmp_path))
    cs = ClockServer(config=CONFIG + f"push_ca_file = {svc.cert}\npush_allow = 127.0.0.0/8\n")
    try:
        cs.a = cs.own("alice")
        c, _, _, code = verify(cs, svc, "alerts", types=["CalendarAlert"])
        ps_call(cs, "PushSubscription/set", {"update": {c["id"]: {"verificationCode": code}}})
        e = create_event(cs, {"title": "standup", "uid": "u-push", "start": "2026-03-01T10:00:00",
                              "timeZone": "Europe/Berlin", "alerts": {"a1": offset_alert("-PT15M")}})
        svc.none_within(1.0)  # only CalendarAlert was asked for: no StateChange
        cs.set_time("2026-03-01T08:45:00Z")
        _, headers, body = svc.next()
        assert json.loads(body) == {"@type": "CalendarAlert", "accountId": cs.a,
                                    "calendarEventId": e, "uid": "u-push", "recurrenceId": None,
                                    "alertId": "a1"}
        assert headers["Urgency"] == "high"
    finally:
        svc.close()
        cs.close()
